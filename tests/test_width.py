"""The rich view holds at 60, 80, 100 and 140 columns.

For every command's --example and a seeded large case of each: no line is wider than the
terminal, no `…` stands where a digit was cut, and (for the examples, whose results are
small enough to be shown whole) every value of the result appears in full at the default
precision, so a student can check each number by hand from the screen.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from cnnrnn_cli.cli.main import COMMANDS, cli
from cnnrnn_cli.io.numbers import format_fixed
from cnnrnn_cli.report import flatten

WIDTHS = (60, 80, 100, 140)

# Result fields each example's view must show in full ("" is a result that is one array).
SHOWN = {
    "outsize": ["output"],
    "conv": [""],
    "pool": [""],
    "resblock": ["skip.z1", "skip.a1", "skip.z2", "skip.a2", "skip.jacobian"]
    + ["plain.z1", "plain.a1", "plain.z2", "plain.a2", "plain.jacobian"],
    "inception": ["params", "macs", "naive.params", "naive.macs"],
    "bptt": ["h", "y_hat", "loss", "grads.wx", "grads.wh", "grads.b", "grads.h0"]
    + ["jacobian_norms", "spectral_radius"],
    "gru-step": ["z", "r", "h_tilde", "h"],
    "lstm-step": ["i", "f", "g", "o", "c", "h"],
}

EXAMPLES = [[name, "--example"] for name in SHOWN if name in COMMANDS]


def large_cases(folder) -> list[list[str]]:
    """One seeded large case per command (arrays written to `folder`)."""
    rng = np.random.default_rng(0)
    image = folder / "img200.npy"
    np.save(image, rng.standard_normal((200, 200)))
    channels = folder / "img3.npy"
    np.save(channels, rng.integers(-9, 10, (3, 12, 12)).astype(float))
    sobel = "1 0 -1; 2 0 -2; 1 0 -1"
    cases = [
        ["outsize", "3x224x224", "--layers", "conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1"],
        ["conv", f"@{image}", "-k", sobel],
        ["conv", f"@{channels}", "-k", f"{sobel} | {sobel} | {sobel}", "-p", "same"],
        ["conv", "1 2; 3 4 | 5 6; 7 8", "-k", "1 0; 0 1 | 0 1; 1 0"],
        ["pool", f"@{image}", "--kernel", "3", "-s", "2"],
        ["resblock", "--random", "--size", "8", "--depth", "20", "--seed", "0"],
        ["inception", "--preset", "3a"],
        ["inception", "--example", "--compute"],
        ["bptt", "--random", "20,4,8", "--seed", "0"],
        ["bptt", "--random", "2000,16,64", "--seed", "0"],
        ["gru-step", "--random", "4,8", "--seed", "0"],
    ]
    if "lstm-step" in COMMANDS:
        cases.append(["lstm-step", "--random", "4,8", "--seed", "0"])
    return cases


LARGE = 11 + ("lstm-step" in COMMANDS)


def render(args, width: int, *extra) -> str:
    result = CliRunner().invoke(
        cli, [*args, "-f", "rich", *extra], env={"COLUMNS": str(width), "NO_COLOR": None}
    )
    assert result.exit_code == 0, result.output
    return result.stdout  # the rich view; warnings go to stderr, unwrapped


def too_wide(text: str, width: int) -> list[str]:
    return [line for line in text.splitlines() if cell_len(line) > width]


CUT_DIGIT = re.compile(r"[\d.]…|…[\d.]")


def check_layout(text: str, width: int) -> None:
    wide = too_wide(text, width)
    assert not wide, f"{len(wide)} lines over {width} columns, e.g.\n" + "\n".join(wide[:3])
    cut = [line for line in text.splitlines() if CUT_DIGIT.search(line)]
    assert not cut, "a number cut with …:\n" + "\n".join(cut[:3])


def shown_values(name: str) -> list[tuple[str, str]]:
    """(field, value as the view prints it) for the fields the example must show."""
    result = CliRunner().invoke(cli, [name, "--example", "-f", "json"])
    import json

    data = json.loads(result.output)["result"]
    leaves = dict(flatten(data)) if isinstance(data, dict) else {"": data}
    out = []
    for field in SHOWN[name]:
        for value in np.ravel(np.asarray(leaves[field], dtype=float)):
            out.append((field, format_fixed(float(value), 4)))
    return out


def on_screen(value: str, text: str) -> bool:
    """`value` in the text, a whole number also with thousands separators (1,975)."""
    if value in text:
        return True
    return value.lstrip("-").isdigit() and f"{int(value):,}" in text


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", EXAMPLES, ids=lambda a: a[0])
def test_example_fits_and_shows_every_number(args, width):
    text = render(args, width)
    check_layout(text, width)
    plain = text.replace("−", "-")
    missing = [(f, v) for f, v in shown_values(args[0]) if not on_screen(v, plain)]
    assert not missing, f"not on the screen at {width} columns: {missing[:6]}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", range(LARGE))
def test_large_cases_fit(tmp_path, case, width):
    check_layout(render(large_cases(tmp_path)[case], width), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_tour_fits(width):
    check_layout(render(["tour"], width), width)


def test_the_check_finds_a_cut_number_and_a_wide_line():
    with pytest.raises(AssertionError):
        check_layout("a 1.93… b", 80)
    with pytest.raises(AssertionError):
        check_layout("x" * 81, 80)
    check_layout("Σ_c (…) ⋯ fine", 80)
