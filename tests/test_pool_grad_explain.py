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
