"""Layouts that follow the console's width: the first of several that fits, a formula that
breaks only between its terms, and gate values as shades."""

from __future__ import annotations

from rich.measure import Measurement
from rich.text import Text

SHADES = "·░▒▓█"


def heat(values) -> str:
    """Gate values in [0, 1] as shades, one character each (· near 0 … █ near 1)."""
    import numpy as np

    index = np.clip((np.asarray(values) * (len(SHADES) - 1)).round().astype(int), 0, 4)
    return "".join(SHADES[i] for i in index)


def fits(console, options, renderable) -> bool:
    """Whether `renderable` at its natural width fits the width the console offers (it is
    measured with room to spare: a measurement never exceeds the width it is given)."""
    roomy = options.update_width(max(options.max_width, 10_000))
    return Measurement.get(console, roomy, renderable).maximum <= options.max_width


class FirstFit:
    """The first layout that fits the width, else the last: `build(width)` returns the
    candidates, widest first (tables with more columns, then fewer, then stacked)."""

    def __init__(self, build):
        self.build = build

    def __rich_console__(self, console, options):
        candidates = self.build(options.max_width)
        for candidate in candidates[:-1]:
            if fits(console, options, candidate):
                yield candidate
                return
        yield candidates[-1]


class Terms:
    """A line of atoms (`"σ(0·1"`, `"+ 0·0.5"`, `"="`) joined by spaces, broken only
    between atoms, continuation lines indented: an operator never leaves its operand."""

    def __init__(self, atoms, indent: int = 4, style: str = ""):
        self.atoms, self.indent, self.style = list(atoms), indent, style

    def __rich_console__(self, console, options):
        width = options.max_width
        line = Text(style=self.style)
        for atom in self.atoms:
            piece = atom if isinstance(atom, Text) else Text(atom)
            if line.cell_len and line.cell_len + 1 + piece.cell_len > width:
                yield line
                line = Text(" " * self.indent, style=self.style)
            elif line.cell_len and line.plain.strip():
                line.append(" ")
            line.append(piece)
        if line.plain.strip():
            yield line
