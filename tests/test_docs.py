"""The README is true: every command is documented with help text, and every console
example in it prints what the README says it prints."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from cnnrnn_cli.cli.main import COMMANDS, cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def console_examples():
    """(command, expected output) pairs from ```console blocks."""
    pairs = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        current, lines = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if current:
                    pairs.append((current, lines))
                current, lines = line[2:], []
            else:
                lines.append(line)
        if current:
            pairs.append((current, lines))
    return pairs


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_in_the_readme_with_help(name):
    assert f"`cnnrnn {name}" in README, name
    command = cli.get_command(None, name)
    assert command.help and len(command.help.split()) > 8


EXAMPLES = console_examples()


@pytest.mark.parametrize("command, expected", EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_console_examples(command, expected):
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    out = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120
    )
    shown = out.stdout + out.stderr
    if not expected:  # an example shown without its (long) output: it must run
        assert out.returncode == 0, shown
        return
    # Rich pads lines to the width; the README does not.
    assert [line.rstrip() for line in shown.rstrip("\n").splitlines()] == [
        line.rstrip() for line in expected
    ], command
