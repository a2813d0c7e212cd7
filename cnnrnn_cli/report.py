"""What every command hands to the output layer: the result fields and the trace."""

from __future__ import annotations

from typing import Any


class Report:
    """A command's outcome, format-independent.

    command: the subcommand name (`"conv"`).
    params:  the options as given, for JSON's `params`.
    result:  JSON's `result`: a bare value (array, number) or a dict of named fields; or a
             function of no arguments that makes it when first asked for (a network's
             JSON records are not made for `-f plain`).
    extra:   further top-level JSON keys (`grad_input` for `pool --grad`).
    plain:   the (name, value) blocks that `plain` and `csv` print; by default the result's
             leaves (one unnamed block for a bare result).
    trace:   the intermediate values the explanation draws.
    explainer: module with `rich(trace, style)` and `latex(trace, style)`.
    warnings: `Warning:` lines for stderr.
    at:      the cell or step the explanation writes out (0-based), validated by the command.
    files:   files staged by the command (io.files PendingFile/PendingFolder), put in place
             once the output has been written (`gallery DIR`), discarded otherwise.
    """

    def __init__(
        self,
        command: str,
        params: dict,
        result: Any,
        *,
        extra: dict | None = None,
        plain: list[tuple[str, Any]] | None = None,
        trace: Any = None,
        explainer: str | None = None,
        warnings: list[str] | None = None,
        at: tuple | None = None,
        files: list | None = None,
    ):
        # A plain class, not a dataclass: it is on every command's start-up path.
        self.command, self.params = command, params
        self._result, self._make_result = (None, result) if callable(result) else (result, None)
        self.extra = extra or {}
        self.plain, self.trace, self.explainer = plain, trace, explainer
        self.warnings = list(warnings or [])
        self.at = at
        self.files = list(files or [])

    @property
    def result(self) -> Any:
        if self._make_result is not None:
            self._result, self._make_result = self._make_result(), None
        return self._result

    @result.setter
    def result(self, value: Any) -> None:
        self._result, self._make_result = value, None

    def blocks(self) -> list[tuple[str, Any]]:
        if self.plain is not None:
            return self.plain
        if isinstance(self.result, dict):
            blocks = list(flatten(self.result))
        else:
            blocks = [("result", self.result)]
        blocks += list(flatten(self.extra))
        return blocks

    def field(self, path: str):
        """The value at a dotted path (`grads.wh`) in result, or in the extra keys. A bare
        result is `result`, or `output` as the library's results call it (`conv2d().output`)."""
        if path == "result" or (path == "output" and not isinstance(self.result, dict)):
            return self.result
        for root in (self.result, self.extra):
            node = root
            for part in path.split("."):
                if isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    break
            else:
                return node
        raise KeyError(path)

    def field_names(self) -> list[str]:
        names = (
            [name for name, _ in flatten(self.result)]
            if isinstance(self.result, dict)
            else ["result"]
        )
        return names + [name for name, _ in flatten(self.extra)]


def flatten(tree: dict, prefix: str = ""):
    """Leaves of nested dicts as (dotted name, value)."""
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten(value, name + ".")
        else:
            yield name, value
