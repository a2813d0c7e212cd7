"""Options every command shares, and the hand-off of a Report to the chosen format."""

from __future__ import annotations

import functools
import importlib
import io
import os
import sys
from dataclasses import dataclass

import click

from cnnrnn_cli.io import DEFAULT_MAX_ELEMENTS

FORMATS = ("rich", "plain", "json", "csv", "latex")


@dataclass
class Style:
    """How a person wants to see numbers: for the rich and latex renderers."""

    precision: int = 4
    color: bool = True
    steps: int | None = None
    at: tuple | None = None


def _store_max_elements(ctx, param, value):
    ctx.meta["max_elements"] = value
    return value


def output_options(fn):
    """-f/--format, --precision, --no-color, --svg, --only, --max-elements, --example."""
    decorators = [
        click.option("-f", "--format", "fmt", type=click.Choice(FORMATS),
                     help="Output format. Default: rich on a terminal, plain otherwise."),
        click.option("--precision", type=click.IntRange(0, 17), default=4, show_default=True,
                     help="Digits shown in rich/latex (plain, json and csv keep full precision)."),
        click.option("--no-color", is_flag=True, help="No colours (NO_COLOR is honoured too)."),
        click.option("--svg", type=click.Path(dir_okay=False, writable=True),
                     help="Also save the rich rendering as an SVG picture to FILE."),
        click.option("--only", metavar="NAME",
                     help="Print one result field alone (a dotted name such as grads.wh)."),
        click.option("--max-elements", type=click.IntRange(1), default=DEFAULT_MAX_ELEMENTS,
                     show_default=True, is_eager=True, expose_value=False,
                     callback=_store_max_elements,
                     help="Refuse inputs or results with more elements than this."),
        click.option("--example", is_flag=True,
                     help="Run the lecture notes' own example for this command."),
    ]
    return functools.reduce(lambda f, d: d(f), reversed(decorators), fn)


def default_format() -> str:
    return "rich" if sys.stdout.isatty() else "plain"


def emit(report, *, fmt, precision, no_color, svg, only, steps=None, at=None) -> None:
    """Print `report` in `fmt` (stdout), its warnings (stderr) and the SVG if asked."""
    from cnnrnn_cli.errors import InputError

    fmt = fmt or default_format()
    _check_finite(report)
    for line in report.warnings:
        click.echo(f"Warning: {line}", err=True)
    style = Style(precision=precision, color=not (no_color or os.environ.get("NO_COLOR")),
                  steps=steps, at=at)
    if svg:
        _save_svg(report, style, svg)
    if only is not None:
        try:
            value = report.field(only)
        except KeyError:
            raise InputError("only", f"no field {only!r}; the fields are "
                                     f"{', '.join(report.field_names())}") from None
        _write_only(only, value, fmt)
        return
    if fmt in ("plain", "json", "csv"):
        from cnnrnn_cli.io import emit as text

        writer = {"plain": text.plain_text, "json": text.json_text, "csv": text.csv_text}[fmt]
        _write(writer(report))
    elif fmt == "latex":
        _write(_explainer(report).latex(report.trace, style) + "\n")
    else:
        console = make_console(style)
        console.print(_explainer(report).rich(report.trace, style))


def _write_only(name: str, value, fmt: str) -> None:
    from cnnrnn_cli.io import emit as text

    if fmt == "json":
        import json

        _write(json.dumps(text.to_builtin(value), allow_nan=False) + "\n")
    else:
        _write(text.blocks_text([(name, value)], "," if fmt == "csv" else " "))


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _explainer(report):
    return importlib.import_module(report.explainer)


def make_console(style: Style, *, file=None, record: bool = False):
    from rich.console import Console

    return Console(file=file, no_color=not style.color, highlight=False, record=record,
                   color_system="auto" if style.color else None)


def _save_svg(report, style: Style, path: str) -> None:
    from cnnrnn_cli.errors import InputError

    console = make_console(style, file=io.StringIO(), record=True)
    console.print(_explainer(report).rich(report.trace, style))
    try:
        console.save_svg(path, title=f"cnnrnn {report.command}")
    except OSError as err:
        raise InputError("svg", f"cannot write {path}: {err.strerror}") from None


def _check_finite(report) -> None:
    """A result that overflowed float64 is an error, not a row of 'inf'."""
    from cnnrnn_cli.errors import InputError
    from cnnrnn_cli.report import flatten

    leaves = list(flatten(report.result)) if isinstance(report.result, dict) \
        else [("result", report.result)]
    for name, value in leaves + list(flatten(report.extra)):
        if hasattr(value, "dtype"):
            import numpy as np

            if value.dtype.kind == "f" and not np.isfinite(value).all():
                raise InputError(name, "the result overflows float64 (infinite values); "
                                       "scale the inputs down")
