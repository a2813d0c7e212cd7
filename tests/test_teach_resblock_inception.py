"""Issue 12 for resblock, inception and the tour: `--random N`, one number printed one
way, layouts that hold at 60-140 columns (nothing cropped at the edge), inception's
channels and sums, articles ("an 8×8"), and the group help."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

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


# --- layout: 60 to 140 columns, nothing cut, nothing cropped --------------------------------

OPERATOR_AT_END = re.compile(r"(^|\s)[=+−·×≤≥<>→]\s*$")


def cropped(line: str) -> bool:
    """A boxed grid whose right edge the terminal cut off: more left corners than right."""
    left = sum(line.count(c) for c in "┌├└")
    return left != sum(line.count(c) for c in "┐┤┘")


def check_screen(text: str, width: int) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= width, f"over {width}: {line!r}"
        assert not re.search(r"[\d.]…|…[\d.]", line), f"a number cut: {line!r}"
        assert not cropped(line), f"a grid cropped at {width}: {line!r}"
        assert not OPERATOR_AT_END.search(line), f"an operator left at the end: {line!r}"


LAYOUT_CASES = [
    ["resblock", "--example"],
    ["resblock", "--random", "8", "--depth", "20", "--seed", "0"],
    ["resblock", "--random", "30", "--depth", "100", "--seed", "1"],
    ["resblock", "--a0", "1 2 3", "--w1", "1 0 0; 0 1 0", "--w2", "1 2; 3 4"]
    + ["--shortcut", "1 0 0; 0 1 0"],
    ["inception", "--example"],
    ["inception", "--example", "--compute", "--seed", "1"],
    ["inception", "--preset", "3a"],
    ["inception", "--preset", "5b"],
    ["inception", "--preset", "4e", "--compute", "--seed", "0"],
]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", LAYOUT_CASES, ids=" ".join)
def test_layout_holds(args, width):
    check_screen(render(args, width), width)


def test_the_layout_check_finds_a_crop_and_a_dangling_operator():
    with pytest.raises(AssertionError):
        check_screen("┌───┬───┬──", 80)
    with pytest.raises(AssertionError):
        check_screen("a2[7] = relu(−0.6392 +", 80)
    check_screen("┌───┐   ┌───┐\n  + 1.304) = 0.6648", 80)


def test_resblock_at_80_columns_keeps_every_value_of_an_8_unit_case(run_json):
    """`--random 8` at 80 columns: every value of a0, b1, b2, z1, a1, z2 + a0 and a2 in
    full (the matrices W1, W2 and the Jacobians may elide middle columns, marked ⋯), the
    depth table's columns in the order of the tables above it."""
    args = ["resblock", "--random", "8", "--depth", "20", "--seed", "0"]
    text = render(args, 80).replace("−", "-")
    doc = run_json(*args)
    given = doc["result"]
    for key in ("z1", "a1", "z2", "a2"):
        for value in given["plain"][key] + given["skip"]["a2"]:
            assert format_fixed(value, 4) in text, (key, value)
    table = text[text.index("through 20 random blocks") :]
    header = table.splitlines()[1]
    assert header.index("w/out skip") < header.index("w/ skip")
    for l_row in ("10 ", "20 "):  # row labels ≥ 10 whole
        assert any(line.lstrip().startswith(l_row) for line in table.splitlines())
    first = table.splitlines()[2].split()
    assert first[0] == "1" and float(first[1]) == pytest.approx(
        doc["result"]["grad_norms"]["plain"][0], rel=1e-3
    )
    assert float(first[3]) == pytest.approx(doc["result"]["grad_norms"]["skip"][0], rel=1e-3)


def test_svg_of_a_random_case_cuts_no_number(tmp_path):
    svg = tmp_path / "r.svg"
    args = ["resblock", "--random", "8", "--depth", "20", "--seed", "0", "--svg", str(svg)]
    result = CliRunner().invoke(cli, [*args, "-f", "plain"])
    assert result.exit_code == 0
    text = svg.read_text()
    assert not re.search(r"[\d.]…|…[\d.]", text.replace("&#160;", " "))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_tour_holds(width):
    check_screen(render(["tour"], width), width)


def test_the_tour_computes_a_module_with_a_dead_channel_the_same_every_time(run):
    first = run("tour", "--section", "inception", "--no-color", fmt="rich").stdout
    assert "$ cnnrnn inception --example --compute --seed 1" in first
    assert "output channels: 1–2 ← 1x1, 3–4 ← 3x3, 5 ← 5x5, 6 ← pool" in first
    assert "channel 6 (pool) is all zeros: a dead ReLU" in first
    assert run("tour", "--section", "inception", "--no-color", fmt="rich").stdout == first


# --- articles: "an 8×8", never "a 8×8" -------------------------------------------------------

WRONG_ARTICLE = re.compile(r"\b[Aa] (8\d*|1[18](\d{3})*)(?![\d,.])")


@pytest.mark.parametrize(
    "word, expected",
    [
        ("8×8", "an 8×8"),
        ("3×3", "a 3×3"),
        ("11-channel", "an 11-channel"),
        ("18×18", "an 18×18"),
        ("80×80", "an 80×80"),
        ("110×110", "a 110×110"),
        ("11000", "an 11000"),
        ("1100", "a 1100"),
        ("F×F", "an F×F"),
        ("C×F×F", "a C×F×F"),
        ("avgpool", "an avgpool"),
        ("maxpool", "a maxpool"),
        ("unit", "a unit"),
    ],
)
def test_with_article(word, expected):
    from cnnrnn_cli.explain.common import with_article

    assert with_article(word) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["conv", "1 2; 3 4 | " * 7 + "1 2; 3 4", "-k", "1 0; 0 1"],
        ["inception", "8x8x8", "--n1x1", "1", "--n3x3red", "1", "--n3x3", "1"]
        + ["--n5x5red", "1", "--n5x5", "1", "--pool-proj", "1"],
        ["inception", "11x18x18", "--n1x1", "8", "--n3x3red", "8", "--n3x3", "8"]
        + ["--n5x5red", "8", "--n5x5", "8", "--pool-proj", "8"],
        ["resblock", "--random", "8", "--seed", "0"],
        ["resblock", "--random", "11", "--seed", "0", "--depth", "18"],
        ["outsize", "8", "-k", "1"],
        ["outsize", "20", "-k", "3", "-p", "0"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
@pytest.mark.parametrize("fmt", ["rich", "latex"])
def test_no_wrong_article(run, args, fmt):
    result = run(*args, fmt=fmt)
    assert result.exit_code == 0, result.stderr
    wrong = WRONG_ARTICLE.findall(result.stdout)
    assert not wrong, wrong
    if args[0] == "conv" and fmt == "rich":
        assert "an 8-channel image" in result.stdout
    if args[:2] == ["outsize", "8"] and fmt == "rich":
        assert "an 8×8 output for an 8×8 input" in result.stdout
    if args[1] == "8x8x8" and fmt == "latex":
        assert "on an 8$\\times$8$\\times$8 input" in result.stdout


def test_the_article_check_can_fail():
    assert WRONG_ARTICLE.search("a 8×8 output") and WRONG_ARTICLE.search("for a 11-channel")
    assert not WRONG_ARTICLE.search("a 3×3, an 8×8, a 1.5, a 110×110")


# --- cnnrnn --help --------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_group_help_summarises_every_command_whole_and_points_to_the_tour(width):
    import os
    import subprocess

    from cnnrnn_cli.cli.main import COMMANDS

    # A real terminal width (Click's test runner forces 80 columns).
    env = {**os.environ, "COLUMNS": str(width)}
    result = subprocess.run(["cnnrnn", "--help"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "cnnrnn tour" in result.stdout
    listing = result.stdout[result.stdout.index("Commands:") :].splitlines()[1:]
    assert not any("..." in line for line in listing)
    names = [line.split()[0] for line in listing if line.strip()]
    assert names == list(COMMANDS)  # one line a command: nothing wrapped, nothing cut
    assert all(cell_len(line) <= width for line in result.stdout.splitlines())


# --- GoogLeNet: our counts, torchvision's blocks and the paper's Table 1 ---------------------

# Table 1 of Szegedy et al. 2014: params (K = 1024 weights, no biases) and ops (M MACs).
PAPER = {
    "3a": (159, 128),
    "3b": (380, 304),
    "4a": (364, 73),
    "4b": (437, 88),
    "4c": (463, 100),
    "4d": (580, 119),
    "4e": (840, 170),
    "5a": (1072, 54),
    "5b": (1388, 71),
}


def test_counts_equal_torchvision_blocks_with_the_papers_5x5():
    """The stored fixture (tests/fixtures/make_googlenet_fixture.py) counts torchvision's
    Inception blocks, the third branch given its 5×5, in torch."""
    from pathlib import Path

    import cnnrnn_cli as cr

    fixture = json.loads(
        (Path(__file__).parent / "fixtures" / "googlenet_torchvision.json").read_text()
    )
    assert set(fixture) == set(PAPER)
    for name, torch_counts in fixture.items():
        res = cr.inception(preset=name, no_bias=True)
        assert list(res.input_shape) == torch_counts["input"], name
        assert res.params == torch_counts["weights"], name
        assert res.macs == torch_counts["macs"], name
        assert list(res.output_shape) == torch_counts["output_shape"], name


def test_the_papers_table_disagrees_with_its_own_columns_where_the_readme_says():
    import cnnrnn_cli as cr

    off = []
    for name, (kparams, mops) in PAPER.items():
        res = cr.inception(preset=name, no_bias=True)
        if abs(res.params / 1024 - kparams) > 1.5 or abs(res.macs / 1e6 - mops) > 1:
            off.append(name)
    assert off == ["4a", "4c", "4d", "4e", "5a", "5b"]
    five_a = cr.inception(preset="5a", no_bias=True)
    assert f"{five_a.macs / 1e6:.1f}" == "51.1"  # the paper: 54M


# --- resblock: one row of each Jacobian with its numbers -------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "identity"])
@pytest.mark.parametrize("n", [2, 3, 6])
def test_the_jacobian_row_written_out_is_the_row_shown(activation, n):
    import io

    import numpy as np
    from rich.console import Console

    import cnnrnn_cli as cr
    from cnnrnn_cli.explain import resblock as explain
    from cnnrnn_cli.explain.style import Style

    res = cr.resblock(random=True, size=n, seed=n, activation=activation)
    # ∂z2/∂a0 by central differences, against the path the working starts from
    w = res.weights
    f = {"relu": lambda x: np.maximum(x, 0), "tanh": np.tanh, "identity": lambda x: x}.get(
        activation, lambda x: 1 / (1 + np.exp(-x))
    )
    eps, fd = 1e-6, np.empty((n, n))
    for j in range(n):
        step = np.eye(n)[j] * eps
        up = w["w2"] @ f(w["w1"] @ (res.a0 + step) + w["b1"])
        down = w["w2"] @ f(w["w1"] @ (res.a0 - step) + w["b1"])
        fd[:, j] = (up - down) / (2 * eps)
    np.testing.assert_allclose(res.plain.through, fd, atol=1e-6)
    console = Console(file=io.StringIO(), width=400, color_system=None)
    console.print(explain.rich(res, Style(precision=4, color=False)))
    text = console.file.getvalue()
    _, u = explain._chosen(res)
    lines = {line.split(":")[0].strip(): line for line in text.splitlines() if "∂a2/∂a0[" in line}
    for label, run in (("w/out skip", res.plain), ("w/ skip", res.skip)):
        value = run.jacobian[u] if n <= 4 else run.jacobian[u, u]
        shown = explain._row(value, 4) if n <= 4 else explain._n(value, 4)
        assert lines[label].rstrip().endswith(f"= {shown}"), (label, lines[label])
