"""The tour: each step's heading, the notes' words, the command line, and the command's
own explanation."""

from __future__ import annotations

import importlib

from rich.console import Group
from rich.rule import Rule

from cnnrnn_cli.explain.common import Words, latex_text
from cnnrnn_cli.explain.style import Style, make_console


class Command:
    r"""A command line as a shell reads it: broken only between words, each line but the
    last ending in ` \`, so that what is copied from the screen still runs."""

    def __init__(self, line: str):
        import re

        self.words = re.findall(r"""(?:"[^"]*"|'[^']*'|[^\s"'])+""", line)

    def lines(self, width: int) -> list[str]:
        lines, line = [], "$"
        for word in self.words:
            if len(line) + 1 + len(word) + 2 > width and line not in ("$", "   "):
                lines.append(line + " \\")
                line = "   "
            line += " " + word
        return [*lines, line]

    def __rich_console__(self, console, options):
        from rich.text import Text

        for line in self.lines(options.max_width):
            yield Text(line, style="bold green", no_wrap=True, overflow="ignore")


def _step(step, first: bool, color: bool):
    """One command of the tour, in its own precision/steps and the tour's colour."""
    report, own = step["report"], step["style"]
    style = Style(own.precision, color, steps=own.steps, at=own.at)
    parts = []
    if first:
        parts.append(Rule(step["title"], style="bold cyan"))
        parts.append(Words((f"the notes: {step['note']}", "italic")))
    parts.append(Command(step["command"]))
    parts.append(importlib.import_module(report.explainer).rich(report.trace, style))
    return Group(*parts)


def rich(steps, style):
    parts, seen = [], set()
    for step in steps:
        parts.append(_step(step, step["section"] not in seen, style.color))
        seen.add(step["section"])
    parts.append(
        Words(
            (
                "That is every worked example of the notes. Each command above runs "
                "on its own; add -f latex, -f json or --help.",
                "dim",
            )
        )
    )
    return Group(*parts)


def latex(steps, style) -> str:
    out, seen = [], set()
    for step in steps:
        if step["section"] not in seen:
            out.append(f"\\section*{{{latex_text(step['title'])}}}")
            out.append(f"\\emph{{{latex_text(step['note'])}}}")
            seen.add(step["section"])
        report = step["report"]
        # A display right after the command line belongs to its paragraph (a blank line
        # before $$ would leave an empty line); words start a paragraph of their own.
        body = importlib.import_module(report.explainer).latex(report.trace, step["style"])
        gap = "\n" if body.startswith("$$") else "\n\n"
        out.append(f"\\noindent\\texttt{{{latex_text(step['command'])}}}{gap}{body}")
    out.append(
        "That is every worked example of the notes. Each command above runs on its own; "
        "add \\texttt{-f latex}, \\texttt{-f json} or \\texttt{--help}."
    )
    return "\n\n".join(out)


def pause_between(steps, style: Style, getchar) -> None:
    """Print the tour section by section, waiting for a key (`getchar()`) between them;
    q stops."""
    console = make_console(style)
    seen = set()
    for step in steps:
        first = step["section"] not in seen
        if first and seen:
            console.print("[dim]— any key for the next section, q to stop —[/]", end="")
            key = getchar()
            console.print()
            if key in ("q", "Q"):
                return
        seen.add(step["section"])
        console.print(_step(step, first, style.color))
