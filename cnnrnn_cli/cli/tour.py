"""`cnnrnn tour`: every worked example of the lecture notes, in order, through the real
commands."""

from __future__ import annotations

import os
import shlex
import sys

import click

from cnnrnn_cli.cli.main import CnnrnnCommand
from cnnrnn_cli.cli.options import output_options
from cnnrnn_cli.report import Report

# (section, title, what the notes say, the command lines that reproduce it)
TOUR = [
    (
        "conv",
        "Convolution",
        "filter / kernel · image → convolved feature, and its size",
        ["conv --example --steps 3", "outsize 5 -k 3"],
    ),
    (
        "pool",
        "Max pooling",
        "the convolved feature, 2×2 filter, max pooling, stride 1 → (3 + 2(0) − 2)/1 + 1 = 2",
        ["pool --example"],
    ),
    (
        "padding",
        "Output size with padding",
        "a 3×3 input, 1 row/column padding, a 2×2 kernel, stride 1 ⇒ a 4×4 output",
        ["outsize 3 -k 2 -p 1"],
    ),
    (
        "inception",
        "Inception module",
        "four parallel branches concatenated; the 1×1 reductions keep it affordable",
        ["inception --preset 3a", "inception --example --compute --seed 1"],
    ),
    (
        "resblock",
        "Skip connection in ResNet",
        "w/out skip a_3 = f(z_2), w/ skip a_3 = f(z_2 + a_0)",
        ["resblock --example"],
    ),
    (
        "rnn",
        "Recurrent neural networks",
        "forward pass, backpropagation through time, "
        "W_h := W_h − α ∂L/∂W_h, and why gradients vanish or explode",
        [
            "bptt --example --lr 0.1",
            "bptt --random 30,2,4 --seed 0 --scale 0.5 --activation identity --steps 6",
            "bptt --random 30,2,4 --seed 0 --scale 1.5 --activation identity --steps 6",
        ],
    ),
    (
        "gru",
        "Gated recurrent unit",
        "update and reset gates, and the three cases",
        ["gru-step --example"],
    ),
]
SECTIONS = [name for name, *_ in TOUR]


@click.command(cls=CnnrnnCommand)
@click.option("--section", type=click.Choice(SECTIONS), help="Jump to one part of the notes.")
@click.option("--interactive", is_flag=True, help="On a terminal, pause between sections.")
@output_options
def tour(section, interactive, fmt, precision, no_color, svg, svg_width, only, example):
    """Walk through every worked example of the lecture notes, in order.

    Each step names the command that reproduces it, so you can go on alone.
    -f latex emits the whole tour as one LaTeX document body.

    \b
    Examples:
      cnnrnn tour
      cnnrnn tour --section rnn
      cnnrnn tour -f latex > tour.tex
    """
    from cnnrnn_cli.cli.main import cli
    from cnnrnn_cli.cli.options import default_format, emit
    from cnnrnn_cli.explain.style import Style

    ctx = click.get_current_context()
    color = not (no_color or os.environ.get("NO_COLOR"))
    steps = []
    for name, title, note, lines in TOUR:
        if section and name != section:
            continue
        for line in lines:
            argv = shlex.split(line)
            report, shown = cli.get_command(ctx, argv[0]).report_for(argv[1:], parent=ctx)
            style = Style(precision, color, steps=shown.get("steps"), at=report.at)
            steps.append(
                {
                    "section": name,
                    "title": title,
                    "note": note,
                    "command": f"cnnrnn {line}",
                    "report": report,
                    "style": style,
                }
            )
    fmt = fmt or default_format()
    result = {}
    for step in steps:
        key = step["section"]
        entry = {"command": step["command"], "result": step["report"].result}
        if key in result:
            result[key] = result[key] if isinstance(result[key], list) else [result[key]]
            result[key].append(entry)
        else:
            result[key] = entry
    report = Report(
        "tour",
        {"section": section},
        result,
        trace=steps,
        explainer="cnnrnn_cli.explain.tour",
        plain=[block for s in steps for block in _blocks(s)],
    )
    if interactive and fmt == "rich" and sys.stdin.isatty() and sys.stdout.isatty():
        from cnnrnn_cli.explain.tour import pause_between

        pause_between(steps, Style(precision, color), click.getchar)
        return
    emit(
        report,
        fmt=fmt,
        precision=precision,
        no_color=no_color,
        svg=svg,
        svg_width=svg_width,
        only=only,
    )


def _blocks(step) -> list:
    """A step's plain blocks, each headed by the section and the command that made it."""
    head = f"{step['section']}: {step['command']}"
    blocks = step["report"].blocks()
    if len(blocks) == 1:
        return [(head, blocks[0][1])]
    return [(f"{head} | {name}", value) for name, value in blocks]
