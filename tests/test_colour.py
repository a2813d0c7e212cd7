"""Highlights survive without colour, and --svg is a colour picture at a fixed width.

The rich view brackets its highlights whenever it is printed without colour: a pipe or a
file (CliRunner's output is neither a terminal), NO_COLOR, TERM=dumb, --no-color. Rich
colours a non-terminal only when FORCE_COLOR asks, and then the brackets go.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import cli

CONV = ["conv", "1 2 3; 4 5 6; 7 8 9", "-k", "1 0; 0 1", "-f", "rich"]
POOL = ["pool", "1 5 2; 3 4 9; 0 8 7", "--kernel", "2", "-f", "rich"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOURLESS = [{}, {"NO_COLOR": "1"}, {"TERM": "dumb"}]


def run(args, env=None):
    base = {"FORCE_COLOR": None, "NO_COLOR": None, "TERM": "xterm-256color", "COLUMNS": "80"}
    result = CliRunner().invoke(cli, args, env={**base, **(env or {})})
    assert result.exit_code == 0, result.output
    return result.output


def conv_windows(text: str) -> list[str]:
    """The window grids of conv's walkthrough, one string per written-out cell."""
    body = text.split("Window by window", 1)[1]
    return [part for part in re.split(r"cell \(\d+,\d+\)[^\n]*\n", body) if "│" in part]


@pytest.mark.parametrize("env", COLOURLESS, ids=["pipe", "NO_COLOR", "TERM=dumb"])
def test_conv_windows_are_bracketed_without_colour(env):
    text = run(CONV, env)
    assert not ANSI.search(text)
    windows = conv_windows(text)
    assert len(windows) == 4  # the four windows of a 2×2 kernel on a 3×3 image
    # Each window brackets its own four cells, so no two written-out windows look alike.
    assert len(set(windows)) == 4
    assert all(window.count("[") == 4 for window in windows)
    first = windows[0]
    for value in ("[1]", "[2]", "[4]", "[5]"):
        assert value in first


def test_no_color_flag_brackets_too():
    text = run([*CONV, "--no-color"])
    assert not ANSI.search(text) and "[5]" in text


def test_pool_winners_are_bracketed_in_a_pipe():
    text = run(POOL)
    assert not ANSI.search(text)
    # max pooling, 2×2 stride 2 on 3×3: one window, the winner 5 is marked
    assert re.search(r"[\[«]5[\]»]", text), text


def test_forced_colour_uses_colour_not_brackets():
    text = run(CONV, {"FORCE_COLOR": "1"})
    assert ANSI.search(text)
    assert "[5]" not in ANSI.sub("", text)


def test_a_real_pipe_gets_brackets():
    out = subprocess.run(
        [sys.executable, "-m", "cnnrnn_cli", *CONV],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "COLUMNS": "80"},
        check=True,
    ).stdout
    assert not ANSI.search(out) and len(set(conv_windows(out))) == 4


def svg_of(tmp_path, *extra, env=None):
    path = tmp_path / "out.svg"
    run([*CONV, "--svg", str(path), *extra], env)
    return path.read_text()


def svg_width(svg: str) -> float:
    return float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))


def test_svg_keeps_colour_from_a_pipe(tmp_path):
    svg = svg_of(tmp_path)
    fills = set(re.findall(r"fill: (#[0-9a-f]{6})", svg))
    assert len(fills) >= 3  # text, highlights, frame: not one colour for everything


def test_svg_with_no_color_brackets(tmp_path):
    assert "[5]" in svg_of(tmp_path, "--no-color")


def test_svg_is_100_columns_whatever_the_terminal(tmp_path):
    narrow = svg_of(tmp_path, env={"COLUMNS": "60"})
    wide = svg_of(tmp_path, env={"COLUMNS": "200"})
    assert svg_width(narrow) == svg_width(wide)
    at_60 = svg_of(tmp_path, "--svg-width", "60")
    at_140 = svg_of(tmp_path, "--svg-width", "140")
    # Rich's SVG is as wide as its console: width grows linearly with the columns.
    w60, w100, w140 = svg_width(at_60), svg_width(narrow), svg_width(at_140)
    assert w60 < w100 < w140
    assert (w140 - w100) == pytest.approx(w100 - w60, rel=0.02)


@pytest.mark.parametrize("bad", ["0", "39", "1001", "abc"])
def test_svg_width_out_of_range_is_one_error(bad):
    result = CliRunner().invoke(cli, [*CONV, "--svg", "x.svg", "--svg-width", bad])
    assert result.exit_code == 2
    assert result.output.startswith("Error: svg-width") and result.output.count("\n") == 1


def test_a_colourless_view_has_no_trailing_spaces():
    text = run(["conv", "--example", "-f", "rich", "--steps", "2"])
    assert text.endswith("\n")
    assert [line for line in text.splitlines() if line != line.rstrip()] == []
