"""The gallery's listing (rich, LaTeX) and its index.html, from each picture's trace."""

from __future__ import annotations

import html

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from cnnrnn_cli.explain.common import heading, latex_text
from cnnrnn_cli.explain.outsize import formula as size_formula


def entry(stem: str, what: str, command: str, trace) -> dict:
    """One picture: its file, what it shows, its sizes and size formula, its command."""
    transposed = bool(getattr(trace, "transposed", False))
    image = trace.image if hasattr(trace, "image") else trace.input
    kind = (
        "transposed convolution"
        if transposed
        else "pooling"
        if hasattr(trace, "size")
        else "convolution"
    )
    return {
        "file": f"{stem}.svg",
        "what": what,
        "kind": kind,
        "input": list(image.shape[-2:]),
        "output": list(trace.output.shape[-2:]),
        "formula": formula(trace.dims, transposed),
        "command": command,
    }


def formula(dims, transposed: bool) -> str:
    """The output size with the numbers in it (outsize's own), once if both axes agree."""
    parts = [size_formula(d)[1] for d in dims]
    return parts[0] if parts[0] == parts[1] else f"height {parts[0]}; width {parts[1]}"


def _sizes(e: dict) -> str:
    return f"{e['input'][0]}×{e['input'][1]} → {e['output'][0]}×{e['output'][1]}"


def rich(trace, style):
    entries, folder = trace["entries"], trace["folder"]
    where = (
        f"written to {folder}: open {folder.rstrip('/')}/index.html"
        if folder
        else "a listing: give a folder (cnnrnn gallery DIR) to write the pictures"
    )
    parts = [heading(f"Gallery: {len(entries)} pictures"), Text(where, style="dim")]
    for e in entries:
        parts.append(Text.assemble((e["file"], "bold"), f"  {e['what']}"))
        parts.append(Padding(Text(f"{e['kind']}, {_sizes(e)}: {e['formula']}"), (0, 0, 0, 2)))
        parts.append(Padding(Text(f"$ {e['command']}", style="green"), (0, 0, 0, 2)))
    return Group(*parts)


def latex(trace, style) -> str:
    """One paragraph a picture: its file and what it shows, the size formula, the command."""
    entries, paragraphs = trace["entries"], []
    for e in entries:
        maths = (
            e["formula"]
            .replace("⌊", "\\lfloor ")
            .replace("⌋", "\\rfloor ")
            .replace("·", " \\cdot ")
            .replace("−", "-")
        )
        (h, w), (oh, ow) = e["input"], e["output"]
        sizes = f"{h} \\times {w} \\to {oh} \\times {ow}"
        paragraphs.append(
            f"\\noindent\\texttt{{{latex_text(e['file'])}}}: {latex_text(e['what'])}, "
            f"${sizes}$: ${maths}$\n\n\\noindent\\texttt{{{latex_text(e['command'])}}}"
        )
    return "\n\n".join(paragraphs)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cnnrnn gallery</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #1f2328; }}
main {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 2em; }}
figure {{ margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 1em; }}
img {{ max-width: 100%; height: auto; }}
code {{ font-size: 0.85em; white-space: pre-wrap; overflow-wrap: normal; }}
</style>
</head>
<body>
<h1>cnnrnn gallery</h1>
<p>{count} pictures: conv_arithmetic's configurations, each transposed counterpart and
max pooling, drawn with their numbers. Each caption gives the output size formula with the
numbers in it and the command that draws the picture.</p>
<main>
{figures}
</main>
</body>
</html>
"""

FIGURE = """<figure id="{stem}">
<img src="{file}" alt="{what}">
<figcaption><strong>{what}</strong> ({kind}), {sizes}<br>
output size: <code>{formula}</code><br>
<code>{command}</code></figcaption>
</figure>"""


def index_html(entries) -> str:
    """A page that shows every picture with its parameters, formula and command."""
    figures = "\n".join(
        FIGURE.format(
            stem=html.escape(e["file"][:-4]),
            file=html.escape(e["file"]),
            what=html.escape(e["what"]),
            kind=html.escape(e["kind"]),
            sizes=html.escape(_sizes(e)),
            formula=html.escape(e["formula"]),
            command=html.escape(e["command"]),
        )
        for e in entries
    )
    return PAGE.format(count=len(entries), figures=figures)
