"""How a person wants to see the working, and the console that shows it.

Beside the renderers: the rich and LaTeX explainers read a Style; the command line only
fills one in from its options.
"""

from __future__ import annotations


class Style:
    """precision: digits shown; color: colours (else brackets mark highlights);
    steps: how many cells (windows, time steps) to write out; at: one cell, 0-based."""

    def __init__(
        self,
        precision: int = 4,
        color: bool = True,
        steps: int | None = None,
        at: tuple | None = None,
    ):
        self.precision, self.color, self.steps, self.at = precision, color, steps, at


def make_console(style: Style, *, file=None, record: bool = False, width: int | None = None):
    """A Rich console for `style` (no colour system at all when colour is off)."""
    from rich.console import Console

    return Console(
        file=file,
        no_color=not style.color,
        highlight=False,
        record=record,
        color_system="auto" if style.color else None,
        width=width,
    )
