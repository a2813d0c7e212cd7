"""The tour's command lines can be copied from the screen at any width: broken only
between words, with a shell continuation (` \\`), never inside a word or a quote."""

from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import cli
from cnnrnn_cli.cli.tour import TOUR
from cnnrnn_cli.explain.tour import Command


def commands_on_screen(text: str) -> list[str]:
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if lines[i].startswith("$ cnnrnn"):
            line = lines[i]
            while line.endswith(" \\"):
                i += 1
                line = line[:-2] + " " + lines[i].strip()
            out.append(line[2:])
        i += 1
    return out


@pytest.mark.parametrize("width", [60, 80])
def test_every_command_reads_back_whole(width):
    result = CliRunner().invoke(cli, ["tour", "-f", "rich"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    expected = [f"cnnrnn {line}" for *_, lines in TOUR for line in lines]
    shown = commands_on_screen(result.stdout)
    assert [shlex.split(c) for c in shown] == [shlex.split(c) for c in expected]
    assert all(len(line) <= width for line in result.stdout.splitlines() if line.startswith("$"))


def test_a_quoted_word_is_never_broken():
    line = 'cnnrnn conv "1 2 3; 4 5 6; 7 8 9" -k "1 0; 0 1" --at 2,2 --steps 1'
    lines = Command(line).lines(30)
    assert all(line.endswith(" \\") for line in lines[:-1])
    joined = " ".join(part.removesuffix(" \\").strip() for part in lines)
    assert shlex.split(joined.removeprefix("$ ")) == shlex.split(line)
