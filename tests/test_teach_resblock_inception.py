"""Issue 12 for resblock, inception and the tour: `--random N`, one number printed one
way, layouts that hold at 60-140 columns (nothing cropped at the edge), inception's
channels and sums, articles ("an 8×8"), and the group help."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import cli
from cnnrnn_cli.io.numbers import format_fixed
from conftest import assert_error

WIDTHS = (60, 80, 100, 140)


def render(args, width: int) -> str:
    result = CliRunner().invoke(
        cli, [*args, "-f", "rich"], env={"COLUMNS": str(width), "NO_COLOR": None}
    )
    assert result.exit_code == 0, result.output
    return result.output


# --- resblock --random N ------------------------------------------------------------------


def test_random_n_is_random_with_size_n(run_json):
    new = run_json("resblock", "--random", "3", "--seed", "5", "--depth", "4")
    old = run_json("resblock", "--random", "--size", "3", "--seed", "5", "--depth", "4")
    assert new == old
    assert new["params"]["n"] == 3 and new["params"]["seed"] == 5 and new["params"]["random"]
    assert len(new["result"]["skip"]["a2"]) == 3
    alone = run_json("resblock", "--random", "--seed", "5")  # the old default size
    assert alone["params"]["n"] == 4
    assert run_json("resblock", "--random", "6", "--size", "6", "--seed", "1")["params"]["n"] == 6


def test_random_n_keeps_its_seed_on_screen(run, run_json):
    doc = run_json("resblock", "--random", "5")
    seed = doc["params"]["seed"]
    assert isinstance(seed, int)
    again = run_json("resblock", "--random", "5", "--seed", str(seed))
    assert again["result"] == doc["result"]
    rich = run("resblock", "--random", "5", "--seed", "17", fmt="rich").stdout
    assert "seed 17" in rich and "--seed 17" in rich


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--random", "3", "--size", "5"], ["--random 3", "--size 5", "disagree"]),
        (["--example", "--size", "3"], ["--size goes with --random"]),
        (["--random", "0"], ["random", "must be"]),
        (["--random", "x"], ["random", "not a whole number"]),
        (["--random", "100000"], ["random", "over --max-elements"]),
        (["--example", "--seed", "3"], ["--seed goes with --random"]),
    ],
)
def test_random_n_errors(run, args, fragments):
    assert_error(run("resblock", *args), *fragments)


def test_example_with_random_n_replaces_the_example(run_json):
    doc = run_json("resblock", "--example", "--random", "3", "--seed", "2")
    assert doc == run_json("resblock", "--random", "3", "--seed", "2")


# --- one number, one way -------------------------------------------------------------------


def test_rounding_noise_is_not_a_digit():
    # 1.5⁵ = 7.59375 exactly; an eigenvalue's |λ| = 1.4999999999999998 gives 7.593749999999998
    assert format_fixed(7.593749999999998, 4) == format_fixed(7.59375, 4) == "7.5938"
    assert format_fixed(1.4999999999999998, 4) == "1.5"
    assert format_fixed(0.12344, 4) == "0.1234" and format_fixed(0.12346, 4) == "0.1235"
    # digits that are shown are never snapped away
    assert format_fixed(0.123456789123, 12) == "0.123456789123"
    assert format_fixed(123456.78901, 4) == "123456.789"
    assert format_fixed(1234567.5, 10) == "1234567.5"


def test_the_tour_prints_one_power_one_way(run):
    out = run("tour", "--section", "rnn", "--no-color", fmt="rich").stdout
    assert "7.5938" in out and "7.5937" not in out
