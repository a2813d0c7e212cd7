"""pool --grad for every mode: the rule said is the mode's, and its numbers are the ones
the first window's gradient shows in ∂L/∂input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import cli

X = "1 2 3; 4 5 6; 7 8 9"


def run(*args, fmt="rich"):
    result = CliRunner().invoke(
        cli, ["pool", X, "-k", "2", "-s", "2", *args, "-f", fmt], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    "mode, arrow, line",
    [
        ("max", "routed to the winners", "g = 3 goes to its winner 5 (row 2, column 2)"),
        ("avg", "spread over each window", "g/divisor = 3/4 = 0.75 to each of its pixels"),
        ("sum", "copied to each window's pixels", "g = 3 to each of its 4 pixels"),
        ("l2", "weighted by x/out", "g·x/out = 3·1/6.7823 = 0.4423"),
    ],
)
def test_each_mode_says_its_own_rule(mode, arrow, line):
    out = run("--mode", mode, "--grad", "3")
    assert arrow in out and line in " ".join(out.split())
    other = {"max": "spread", "avg": "winner", "sum": "winner", "l2": "winner"}[mode]
    assert other not in out.split("Gradient", 1)[1]
    grad = np.array(json.loads(run("--mode", mode, "--grad", "3", fmt="json"))["grad_input"])
    window = np.array([[1.0, 2.0], [4.0, 5.0]])
    expected = {
        "max": np.array([[0, 0], [0, 3.0]]),
        "avg": np.full((2, 2), 0.75),
        "sum": np.full((2, 2), 3.0),
        "l2": 3 * window / np.sqrt((window**2).sum()),
    }[mode]
    np.testing.assert_allclose(grad[:2, :2], expected)
    if mode in ("avg", "l2"):  # the number written is the first pixel's gradient
        assert float(line.split(" = ")[-1].split()[0]) == pytest.approx(grad[0, 0], abs=5e-5)


@pytest.mark.parametrize("size", [1e-300, 1e-160, 1e200, 1e300])
def test_l2_norms_that_fit_are_computed_whatever_the_squares(size):
    from cnnrnn_cli import api

    x = np.array([[3.0, 4.0, 0.0], [0.0, 12.0, 5.0], [1.0, 1.0, 1.0]]) * size
    res = api.pool2d(x, 2, 1, 0, "l2")
    expected = np.sqrt(np.array([[169.0, 185.0], [146.0, 171.0]])) * size
    np.testing.assert_allclose(res.output, expected, rtol=1e-14)
    ordinary = api.pool2d(x / size, 2, 1, 0, "l2").output
    assert np.array_equal(ordinary, np.sqrt(api.pool2d((x / size) ** 2, 2, 1, 0, "sum").output))


def test_a_ceil_window_past_the_edge_sums_only_what_it_covers():
    image = "; ".join(" ".join(str(5 * r + c + 1) for c in range(5)) for r in range(5))
    for fmt, expected in (("rich", "window (3,3): (25) / 1 = 25"), ("latex", "\\frac{25}{1}")):
        result = CliRunner().invoke(
            cli, ["pool", image, "--mode", "avg", "-k", "2", "--ceil", "--at", "3,3", "-f", fmt]
        )
        assert result.exit_code == 0 and expected in result.stdout, result.stdout[-400:]
