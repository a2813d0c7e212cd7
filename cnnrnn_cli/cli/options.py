"""Options every command shares, and the hand-off of a Report to the chosen format."""

from __future__ import annotations

import functools
import importlib
import io
import os
import sys
from typing import TYPE_CHECKING

import click

from cnnrnn_cli.cli.params import ElementCount, IntParam, PathToWrite
from cnnrnn_cli.io import DEFAULT_MAX_ELEMENTS

if TYPE_CHECKING:  # loaded where a view is drawn: plain, json and csv need none
    from cnnrnn_cli.explain.style import Style

FORMATS = ("rich", "plain", "json", "csv", "latex")


def _parse_at(ctx, param, value):
    """--at R,C (or K,R,C): 1-based on the command line, 0-based inside."""
    if value is None:
        return None
    from cnnrnn_cli.errors import CnnrnnError
    from cnnrnn_cli.io.spec import parse_ints

    form = "R,C (1-based; K,R,C for a filter or channel)"
    try:
        return tuple(n - 1 for n in parse_ints(value, "at", (2, 3), form=form))
    except CnnrnnError as err:
        raise click.BadParameter(err.message) from None


def stack(decorators: list, fn):
    """Apply `decorators` as if written above `fn` in this order (the first outermost)."""
    return functools.reduce(lambda f, d: d(f), reversed(decorators), fn)


def walkthrough_options(fn):
    """--at R,C, --steps N and --interactive: which cells the explanation writes out."""
    decorators = [
        click.option(
            "--at",
            callback=_parse_at,
            metavar="R,C",
            help="Explain one output cell (1-based; K,R,C picks the filter).",
        ),
        click.option(
            "--steps",
            type=IntParam(minimum=0),
            default=9,
            show_default=True,
            help="How many cells to write out in full.",
        ),
        click.option(
            "--interactive",
            is_flag=True,
            help="On a terminal, walk through the cells one key press at a time.",
        ),
    ]
    return stack(decorators, fn)


def animation_options(fn):
    """--animate FILE.svg, --frames DIR, --fps: the working as a picture that moves."""
    decorators = [
        click.option(
            "--animate",
            type=PathToWrite(),
            callback=_check_file_name,
            metavar="FILE.svg",
            help="Also save an animated SVG: the window moving over the padded input, "
            "each output cell filling in with its sum; one frame per output cell "
            "(an explicit --steps N caps them); it loops.",
        ),
        click.option(
            "--frames",
            type=PathToWrite(folder=True),
            callback=_check_file_name,
            metavar="DIR",
            help="Also save the same frames as numbered still SVGs in DIR (a new or "
            "empty folder, or one holding only earlier frames).",
        ),
        click.option(
            "--fps",
            type=click.FloatRange(0.05, 60),
            default=1.0,
            show_default=True,
            help="Frames per second of --animate.",
        ),
    ]
    return stack(decorators, fn)


def _check_file_name(ctx, param, value):
    """--svg '' and --svg - are refused before any work (neither is a file to write)."""
    if value is not None:
        from cnnrnn_cli.io.files import check_name

        check_name(value, param.name)
    return value


def _store_max_elements(ctx, param, value):
    """--max-elements sets the one budget (cnnrnn_cli.budget) for this command's run."""
    from click.core import ParameterSource

    from cnnrnn_cli import budget

    # Only a value given sets it: parsing --example's own line must not undo the user's.
    if ctx.get_parameter_source(param.name) != ParameterSource.DEFAULT:
        budget.set_limit(value)  # main.run_guarded runs each command in a context of its own
    return value


def output_options(fn):
    """-f/--format, --precision, --no-color, --svg, --svg-width, --only, --max-elements,
    --example."""
    decorators = [
        click.option(
            "-f",
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            help="Output format. Default: rich on a terminal, plain otherwise.",
        ),
        click.option(
            "--precision",
            type=IntParam(minimum=0, maximum=17),
            default=4,
            show_default=True,
            help="Digits shown in rich/latex (plain, json and csv keep full precision).",
        ),
        click.option("--no-color", is_flag=True, help="No colours (NO_COLOR is honoured too)."),
        click.option(
            "--svg",
            type=PathToWrite(writable=True),
            callback=_check_file_name,
            help="Also save the rich rendering as an SVG picture to FILE (written "
            "whole, once the command has succeeded), in colour, at 100 columns.",
        ),
        click.option(
            "--svg-width",
            type=IntParam(minimum=40, maximum=1000),
            metavar="N",
            help="Columns of the --svg picture (default 100, whatever the terminal).",
        ),
        click.option(
            "--only",
            metavar="NAME",
            help="Print one result field alone (a dotted name such as grads.wh).",
        ),
        click.option(
            "--max-elements",
            type=ElementCount(),
            default=DEFAULT_MAX_ELEMENTS,
            show_default=True,
            is_eager=True,
            expose_value=False,
            callback=_store_max_elements,
            help="Refuse any array (input, padded input, weights, result) with more "
            "elements than this (1e8 style accepted).",
        ),
        click.option(
            "--example", is_flag=True, help="Run the lecture notes' own example for this command."
        ),
    ]
    return stack(decorators, fn)


def default_format() -> str:
    return "rich" if sys.stdout.isatty() else "plain"


SVG_WIDTH = 100  # columns of an --svg picture unless --svg-width says otherwise


def emit(
    report,
    *,
    fmt,
    precision,
    no_color,
    svg,
    only,
    svg_width=None,
    steps=None,
    at=None,
    interactive=False,
    animate=None,
    frames=None,
    fps=1.0,
    frame_cap=None,
) -> None:
    """Print `report` in `fmt` (stdout), its warnings (stderr) and the SVG if asked.

    Every check comes first; the SVG (and `--animate`, `--frames`, the files a command
    staged in `report.files`) is rendered and staged beside its target, then stdout is
    written and flushed, and only then is each file put in place: a command that fails,
    at any point, leaves no file written and no file damaged. `frame_cap`: an explicit
    --steps, which caps the frames of an animation.

    Colour: asked for unless --no-color or NO_COLOR; the rich view on stdout has it only
    where Rich can show it (a terminal, not TERM=dumb), and otherwise brackets its
    highlights. The SVG is a picture: it keeps the colours asked for, from a pipe too.
    """
    pending = list(report.files)
    try:
        fmt = fmt or default_format()
        _check_finite(report, report.blocks() if fmt in ("plain", "csv") and only is None else None)
        from cnnrnn_cli.io.streams import echo_err

        for line in report.warnings:
            echo_err(f"Warning: {line}")
        wanted = not (no_color or os.environ.get("NO_COLOR"))
        # Only the rich view asks Rich about the terminal: plain, json, csv import no Rich.
        color = wanted and fmt == "rich" and only is None and stdout_has_color()
        style = _style(precision, color, steps, at) if fmt in ("rich", "latex") else None
        value = _only_field(report, only) if only is not None else None
        _distinct_outputs(svg=svg, animate=animate, frames=frames)
        if svg is not None:
            svg_style = _style(precision, wanted, steps, at)
            pending.append(_stage_svg(report, svg_style, svg, svg_width or SVG_WIDTH))
        if animate is not None or frames is not None:
            pending += _stage_animation(report, precision, animate, frames, fps, frame_cap)
        _print(report, fmt, style, only, value, interactive)
        if sys.stdout is not None:
            sys.stdout.flush()
        for picture in pending:
            picture.commit()
    finally:
        for picture in pending:
            picture.discard()
    if frames is not None:
        _frames_hint(frames, report, frame_cap, fps)


def _style(precision: int, color: bool, steps, at) -> Style:
    from cnnrnn_cli.explain.style import Style

    return Style(precision=precision, color=color, steps=steps, at=at)


def stdout_has_color() -> bool:
    """Whether Rich shows colour on stdout: a terminal that is not TERM=dumb (FORCE_COLOR
    honoured). Elsewhere (a pipe, a file) the rich view brackets its highlights."""
    from rich.console import Console

    return sys.stdout is not None and Console(file=sys.stdout).color_system is not None


def _only_field(report, only: str):
    from cnnrnn_cli.errors import InputError

    try:
        return report.field(only)
    except KeyError:
        shown = only if len(only) <= 40 else only[:40] + "…"
        raise InputError(
            "only", f"no field {shown!r}; the fields are {', '.join(report.field_names())}"
        ) from None


def _print(report, fmt: str, style: Style | None, only, value, interactive: bool) -> None:
    if only is not None:
        _write_only(only, value, fmt)
    elif fmt in ("plain", "csv"):
        from cnnrnn_cli.io.emit import iter_blocks

        _write_lines(iter_blocks(report.blocks(), " " if fmt == "plain" else ","))
    elif fmt == "json":
        from cnnrnn_cli.io.emit import iter_json

        _write_pieces(iter_json(report))  # streamed: a 10⁸-element result costs no copy
    elif fmt == "latex":
        _write(_explainer(report).latex(report.trace, style) + "\n")
    elif interactive and _isatty(sys.stdin) and _isatty(sys.stdout):
        _walk(report, style)
    else:
        from cnnrnn_cli.explain.style import make_console

        console = make_console(style)
        view = _explainer(report).rich(report.trace, style)
        if style.color:
            console.print(view)
            return
        # Without colour (a pipe, a file): the same text, without the spaces Rich pads
        # every line with up to the width.
        with console.capture() as capture:
            console.print(view)
        _write("\n".join(line.rstrip() for line in capture.get().split("\n")))


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _walk(report, style: Style) -> None:
    """The explanation one cell at a time: any key goes on, q stops."""
    from cnnrnn_cli.explain.style import Style, make_console

    console = make_console(style)
    explainer = _explainer(report)
    console.print(explainer.rich(report.trace, Style(style.precision, style.color, steps=0)))
    cells = explainer.cells(report.trace, style)
    for number, cell in enumerate(cells, start=1):
        console.print(cell)
        if number == len(cells):
            break
        console.print(f"[dim]{number}/{len(cells)} — any key for the next, q to stop[/]", end="")
        key = click.getchar()
        console.print()
        if key in ("q", "Q", "\x1b"):
            break


def _write_only(name: str, value, fmt: str) -> None:
    from cnnrnn_cli.io import emit as text

    if fmt == "json":
        _write_pieces(text.iter_json_value(value))
    else:
        from cnnrnn_cli.report import flatten

        # A group of fields (--only grads) prints as blocks, one per leaf.
        blocks = list(flatten(value, name + ".")) if isinstance(value, dict) else [(name, value)]
        _write_lines(text.iter_blocks(blocks, "," if fmt == "csv" else " "))


def _write_pieces(pieces) -> None:
    """Write text as it is made: a closed pipe stops the work early."""
    out = sys.stdout
    for piece in pieces:
        out.write(piece)
    out.flush()


def _write_lines(lines) -> None:
    """Write line by line (in batches): a closed pipe stops the work early."""
    out = sys.stdout
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) >= 64:
            out.write("\n".join(batch) + "\n")
            batch = []
    if batch:
        out.write("\n".join(batch) + "\n")
    out.flush()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _explainer(report):
    return importlib.import_module(report.explainer)


def _stage_svg(report, style: Style, path: str, width: int):
    """The rich rendering as SVG, written beside `path` and ready to be put in place.

    The path is checked first: it may not be one of the command's inputs (`@PATH` or a
    stdin redirected from that file), nor its standard output's file.
    """
    from cnnrnn_cli.explain.style import make_console
    from cnnrnn_cli.io.files import PendingFile

    ctx = click.get_current_context(silent=True)
    inputs = ctx.meta.get("input_paths", ()) if ctx is not None else ()
    pending = PendingFile(path, "svg", inputs=inputs)
    console = make_console(style, file=io.StringIO(), record=True, width=width)
    console.print(_explainer(report).rich(report.trace, style))
    pending.stage(console.export_svg(title=f"cnnrnn {report.command}").encode("utf-8"))
    return pending


def _distinct_outputs(**paths) -> None:
    """--svg, --animate and --frames may not name the same place: one would overwrite
    the other after the command had been told it succeeded."""
    import os

    from cnnrnn_cli.errors import InputError

    seen = {}
    for option, path in paths.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise InputError(option, f"{path} is also the --{seen[real]} file; give another name")
        seen[real] = option


def _stage_animation(report, precision, animate, frames, fps, cap) -> list:
    """The animated SVG and/or the folder of stills, staged beside their targets. Every
    name is checked, and the work budgeted, before anything is drawn or written."""

    from cnnrnn_cli import budget
    from cnnrnn_cli.errors import InputError
    from cnnrnn_cli.explain import animate as movie
    from cnnrnn_cli.io.files import PendingFile, PendingFolder

    if cap == 0:
        raise InputError("steps", "--steps 0 leaves no frame to draw; give 1 or more")
    if animate is not None and not animate.lower().endswith(".svg"):
        from cnnrnn_cli.io.streams import echo_err

        echo_err(f"Warning: --animate writes an SVG picture; {animate} will hold SVG")
    ctx = click.get_current_context(silent=True)
    inputs = ctx.meta.get("input_paths", ()) if ctx is not None else ()
    picture = PendingFile(animate, "animate", inputs=inputs) if animate is not None else None
    folder = PendingFolder(frames, "frames") if frames is not None else None
    scene = movie.scene(report.trace, precision, cap)
    if folder is not None:
        size = movie.stills_size(scene)
        budget.check(
            size // 8,
            "frames",
            f"the {len(scene.frames)} still frames (about {size / 1e6:.0f} MB of SVG, "
            "counted as 8 bytes an element; --steps N draws fewer)",
        )
    staged = []
    try:
        if picture is not None:
            picture.stage(movie.animated(scene, fps).encode("utf-8"))
            staged.append(picture)
        if folder is not None:
            names = movie.frame_names(len(scene.frames))
            svgs = (svg.encode("utf-8") for svg in movie.stills(scene))
            folder.stage(zip(names, svgs, strict=True))
            staged.append(folder)
    except BaseException:
        for target in staged:
            target.discard()
        raise
    return staged


def _frames_hint(folder: str, report, cap, fps) -> None:
    from cnnrnn_cli.explain.animate import count, frame_names
    from cnnrnn_cli.io.streams import echo_err

    names = frame_names(count(report.trace, cap))
    first, last = names[0][6:-4], names[-1][6:-4]
    echo_err(
        f"Hint: {len(names)} frames in {folder}/; for LaTeX's animate package, convert "
        f"them to PDF (rsvg-convert -f pdf) and write "
        f"\\animategraphics[loop,autoplay]{{{fps:g}}}{{{folder}/frame-}}{{{first}}}{{{last}}}"
    )


def _check_finite(report, printed=None) -> None:
    """A result that overflowed float64 is an error, not a row of 'inf' (or invalid JSON).
    `printed`: the blocks that plain and csv write, checked instead of the whole result."""
    from cnnrnn_cli.errors import InputError
    from cnnrnn_cli.report import flatten

    if printed is not None:
        leaves = list(printed)
    elif isinstance(report.result, dict):
        leaves = list(flatten(report.result)) + list(flatten(report.extra))
    else:
        leaves = [("result", report.result), *flatten(report.extra)]
    for name, value in leaves:
        if not _finite(value):
            raise InputError(
                name, "the result overflows float64 (infinite values); scale the inputs down"
            )


# Never infinite: the common leaves, checked first.
_EXACT_TYPES = frozenset((int, bool, str, type(None)))


def _finite(value) -> bool:
    if type(value) in _EXACT_TYPES:
        return True
    if hasattr(value, "dtype"):
        import numpy as np

        return value.dtype.kind != "f" or bool(np.isfinite(value).all())
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return True
    # Only the values that could be infinite are looked into: in a network summary's
    # records (ints, words, lists of ints) that leaves the lists, each checked at C speed.
    rest = [v for v in value if type(v) not in _EXACT_TYPES]
    return not rest or all(map(_finite, rest))
