"""Library results that show their working in Jupyter, through the renderer of `-f rich`.

    import cnnrnn_cli as cr
    cr.conv2d(image, kernel)      # as a cell's last line: the grids and the sums

Above core/ (core never imports the renderers): the library gives each result object a
subclass of its own class that adds `__rich__` (for Rich's console) and `_repr_html_`
(for Jupyter). Nothing is rendered, or imported, until a result is displayed.
"""

from __future__ import annotations

import functools
import importlib

_SUBCLASSES: dict = {}


class Shown:
    """The display hooks; `_explainer` names the module with rich(trace, style)."""

    _explainer = ""

    def __rich__(self):
        from cnnrnn_cli.explain.style import Style

        return importlib.import_module(self._explainer).rich(self, Style(steps=9))

    def _repr_html_(self) -> str:
        import io

        from cnnrnn_cli.explain.style import Style, make_console

        console = make_console(Style(), file=io.StringIO(), record=True, width=100)
        console.print(self.__rich__())
        return console.export_html(inline_styles=True, code_format="<pre>{code}</pre>")


def shown(result, explainer: str):
    """`result`, its class swapped for a subclass with the display hooks."""
    cls = type(result)
    if isinstance(result, Shown) or getattr(cls, "__slots__", None) is not None:
        return result
    key = (cls, explainer)
    if key not in _SUBCLASSES:
        _SUBCLASSES[key] = type(
            cls.__name__,
            (cls, Shown),
            {
                "_explainer": explainer,
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
            },
        )
    result.__class__ = _SUBCLASSES[key]
    return result


def shows(explainer: str):
    """Decorate a library function so that its result displays with `explainer`."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return shown(fn(*args, **kwargs), explainer)

        return wrapper

    return decorate
