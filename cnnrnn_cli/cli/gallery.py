"""`cnnrnn gallery [DIR]`: conv_arithmetic's pictures, with their numbers, for a folder.

Each picture is drawn by the real command line it lists (`conv`, `conv --transposed`,
`pool`), run here as the tour runs its steps; the folder gets one animated SVG each and
an index.html, written whole once the listing has been printed.
"""

from __future__ import annotations

import re
import shlex

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.report import Report


def _grid(rows: int, cols: int, seed: int) -> str:
    """A small integer image, the same every time: values 0..3."""
    import random

    draw = random.Random(seed)
    return "; ".join(" ".join(str(draw.randrange(4)) for _ in range(cols)) for _ in range(rows))


K3 = "0 1 2; 2 2 0; 0 1 2"  # conv_arithmetic's numerical example's kernel
K4 = "0 1 2 1; 2 2 0 1; 0 1 2 0; 1 0 1 2"

# (file stem, what it shows, the command line that draws it): conv_arithmetic's
# configurations, each transposed counterpart, and max pooling at stride 1 and 2.
PICTURES = [
    ("no_padding_no_strides", "no padding, no strides", f'conv "{_grid(4, 4, 1)}" -k "{K3}"'),
    (
        "arbitrary_padding_no_strides",
        "arbitrary padding, no strides",
        f'conv "{_grid(5, 5, 2)}" -k "{K4}" -p 2',
    ),
    ("same_padding_no_strides", "half (same) padding", f'conv "{_grid(5, 5, 3)}" -k "{K3}" -p 1'),
    ("full_padding_no_strides", "full padding", f'conv "{_grid(5, 5, 1)}" -k "{K3}" -p 2'),
    ("no_padding_strides", "no padding, strides", f'conv "{_grid(5, 5, 2)}" -k "{K3}" -s 2'),
    (
        "padding_strides",
        "padding, strides",
        f'conv "{_grid(5, 5, 3)}" -k "{K3}" -s 2 -p 1',
    ),
    (
        "padding_strides_odd",
        "padding, strides (odd)",
        f'conv "{_grid(6, 6, 1)}" -k "{K3}" -s 2 -p 1',
    ),
    ("dilation", "dilation", f'conv "{_grid(7, 7, 2)}" -k "{K3}" -d 2'),
    (
        "no_padding_no_strides_transposed",
        "transposed: no padding, no strides",
        f'conv "{_grid(2, 2, 1)}" -k "{K3}" --transposed',
    ),
    (
        "arbitrary_padding_no_strides_transposed",
        "transposed: arbitrary padding, no strides",
        f'conv "{_grid(6, 6, 2)}" -k "{K4}" -p 2 --transposed',
    ),
    (
        "same_padding_no_strides_transposed",
        "transposed: half (same) padding",
        f'conv "{_grid(5, 5, 3)}" -k "{K3}" -p 1 --transposed',
    ),
    (
        "full_padding_no_strides_transposed",
        "transposed: full padding",
        f'conv "{_grid(7, 7, 1)}" -k "{K3}" -p 2 --transposed',
    ),
    (
        "no_padding_strides_transposed",
        "transposed: no padding, strides",
        f'conv "{_grid(2, 2, 2)}" -k "{K3}" -s 2 --transposed',
    ),
    (
        "padding_strides_transposed",
        "transposed: padding, strides",
        f'conv "{_grid(3, 3, 3)}" -k "{K3}" -s 2 -p 1 --transposed',
    ),
    (
        "padding_strides_odd_transposed",
        "transposed: padding, strides (odd)",
        f'conv "{_grid(3, 3, 1)}" -k "{K3}" -s 2 -p 1 --output-padding 1 --transposed',
    ),
    (
        "max_pooling_stride_1",
        "max pooling, stride 1",
        f'pool "{_grid(5, 5, 2)}" --kernel 3 -s 1',
    ),
    (
        "max_pooling_stride_2",
        "max pooling, stride 2",
        f'pool "{_grid(4, 4, 3)}" --kernel 2 -s 2',
    ),
]
# Files of an earlier gallery, which a new one may replace.
OURS = re.compile(r"(index\.html|[a-z0-9_]+\.svg)\Z")


@report_command(example="--fps 1")
@click.argument("folder", required=False, metavar="[DIR]")
@click.option(
    "--fps",
    "speed",  # not the display options' --fps (that one belongs to --animate)
    type=click.FloatRange(0.05, 60),
    default=1.0,
    show_default=True,
    help="Frames per second of the pictures.",
)
def gallery(folder, speed) -> Report:
    """conv_arithmetic's animations for any folder: every padding and stride, dilation,
    each transposed counterpart, and max pooling, with their numbers.

    Without DIR, lists the pictures, each with its size formula and the command that
    draws it. With DIR, writes one animated SVG a picture and an index.html that shows
    them (no script); DIR is made, or must be empty or hold an earlier gallery.

    \b
    Examples:
      cnnrnn gallery
      cnnrnn gallery pictures/ && xdg-open pictures/index.html
    """
    from cnnrnn_cli.cli.main import cli
    from cnnrnn_cli.explain import animate
    from cnnrnn_cli.explain import gallery as page

    ctx = click.get_current_context()
    target = None
    if folder is not None:
        from cnnrnn_cli.io.files import PendingFolder

        target = PendingFolder(folder, "folder", ours=OURS)  # refused before any work
    entries, files = [], {}
    for stem, what, line in PICTURES:
        argv = shlex.split(line)
        report, _ = cli.get_command(ctx, argv[0]).report_for(argv[1:], parent=ctx)
        entry = page.entry(stem, what, f"cnnrnn {line} --animate {stem}.svg", report.trace)
        entries.append(entry)
        if target is not None:
            svg = animate.animated(animate.scene(report.trace), speed)
            files[entry["file"]] = svg.encode("utf-8")
    if target is not None:
        files["index.html"] = page.index_html(entries).encode("utf-8")
        target.stage(files)
    return Report(
        "gallery",
        {"folder": folder, "fps": speed},
        entries,
        plain=[(e["file"], e["command"]) for e in entries],
        trace={"entries": entries, "folder": folder},
        explainer="cnnrnn_cli.explain.gallery",
        files=[target] if target is not None else None,
    )
