"""bptt and gru-step explanations teach (issue 12): every given value shown, the seed of a
random case, each formula once with its numbers (checked by evaluating what is printed),
every verdict claim checked against independently computed numbers, log-space norms,
one notation per column, grids for matrices, one notation for h_{t−1}, 1-based --check,
the GRU's case 2 under both reset variants, the README's Keras and d2l mappings, and the
rich view at 60, 80, 100 and 140 columns."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

import cnnrnn_cli as cr
from cnnrnn_cli.explain import bptt as explain_bptt
from cnnrnn_cli.explain import gru as explain_gru
from cnnrnn_cli.explain.style import Style

WIDTHS = (60, 80, 100, 140)


def rendered(module, res, width=100, at=None) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(module.rich(res, Style(precision=4, color=False, at=at)))
    return console.file.getvalue()


def rich_cli(run, *args, width=100) -> str:
    from click.testing import CliRunner

    from cnnrnn_cli.cli.main import cli

    result = CliRunner().invoke(
        cli, [*args, "-f", "rich"], env={"COLUMNS": str(width)}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def evaluate(expression: str) -> float:
    """A printed sum of products ('0.5·1 + 0.8·(−0.5) − 6') as a number."""
    text = expression.replace("−", "-").replace("·", "*")
    assert re.fullmatch(r"[-+*() 0-9.e]+", text), text
    return float(eval(text))  # only digits and + - * ( ) survive the check above


# --- every given value, and the seed ------------------------------------------------------


def test_bptt_shows_every_given_value(run):
    out = rich_cli(
        run,
        "bptt",
        "--xs",
        "1 0.5 -0.5 1",
        "--wx",
        "0.5",
        "--wh",
        "0.8",
        "--b",
        "0.25",
        "--h0",
        "0.125",
        "--y",
        "0.75",
    )
    given = out.split("Forward pass")[0]
    for value in ("0.5", "-0.5", "0.8", "0.25", "0.125", "0.75"):
        assert f"│ {value} │" in given, value
    out = rich_cli(
        run,
        "bptt",
        "--random",
        "3,2,2",
        "--seed",
        "5",
        "--wy",
        "1.5 -2.5",
        "--by",
        "3.5",
        "--y",
        "4.5",
    )
    given = out.split("Forward pass")[0]
    for name in ("W_x", "W_h", "b", "h_0", "W_y", "b_y", "y", "xs"):
        assert re.search(rf"(^|\s){re.escape(name)}(\s|$)", given, re.M), name
    assert "│ 1.5 │ -2.5 │" in given and "│ 3.5 │" in given and "│ 4.5 │" in given


@pytest.mark.parametrize("command, size", [("bptt", "4,2,3"), ("gru-step", "2,3")])
def test_a_random_case_chooses_prints_and_keeps_its_seed(run, run_json, command, size):
    doc = run_json(command, "--random", size)
    seed = doc["params"]["seed"]
    assert isinstance(seed, int)
    again = run_json(command, "--random", size, "--seed", str(seed))
    assert again["result"]["h"] == doc["result"]["h"]
    out = rich_cli(run, command, "--random", size, "--seed", str(seed))
    assert f"seed {seed}: repeat it with --seed {seed}" in out
    assert run_json(command, "--example")["params"].get("seed") is None
    library = cr.bptt(random=(4, 2, 3)) if command == "bptt" else cr.gru_step(random=(2, 3))
    assert isinstance(library.seed, int)


def test_gru_shows_every_gate_array(run):
    out = rich_cli(run, "gru-step", "--example")
    given = out.split("z_t = σ")[0]
    for name in ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h", "b_hh"):
        assert re.search(rf"(^|\s){name}(\s|$)", given, re.M), name
    assert "│ -6 │ 0 │ 6 │" in given and "│ 0.5 │ -0.5 │ 0.8 │" in given


# --- each formula once, with its numbers ----------------------------------------------------


def test_bptt_example_formulas_have_the_notes_numbers(run):
    out = rich_cli(run, "bptt", "--example", width=140)
    assert "h_1 = tanh(0.5·1 + 0.8·0 + 0) = tanh(0.5) = 0.4621" in out
    assert "∂L_4/∂h_4 = ŷ − y = 0.5722 − 0.5 = 0.0722" in out
    assert "f'(0.6508) = 1 − tanh²(0.6508) = 1 − 0.5722² = 0.6726" in out
    assert "∂L/∂a_4 = ∂L/∂h_4 · f'(a_4) = 0.0722 · 0.6726 = 0.0486" in out
    # 0.8·0.0486 = 0.03888 by hand: the line says ≈ where only the rounding differs
    assert "∂L/∂h_3 = (W_hᵀ ∂L/∂a_4) = 0.8·0.0486 ≈ 0.0388" in out
    assert "∂L/∂a_4 · h_3 = 0.0486 · 0.1885 ≈ 0.0091" in out
    assert "∂L/∂W_h = Σ_t ∂L/∂a_t · h_{t−1} = 0 + 0.0096 + 0.0206 + 0.0091 ≈ 0.0394" in out
    at = rich_cli(run, "bptt", "--example", "--at", "2", width=140)
    assert "h_2 = tanh(0.5·0.5 + 0.8·0.4621 + 0) = tanh(0.6197) = 0.5509" in at
    assert "∂L/∂a_2 = ∂L/∂h_2 · f'(a_2) = 0.03 · 0.6965 = 0.0209" in at


@pytest.mark.parametrize("name", ["tanh", "relu", "sigmoid", "identity"])
def test_bptt_formulas_add_up_for_a_matrix_case(name):
    res = cr.bptt(random=(3, 2, 3), seed=7, activation=name)
    out = rendered(explain_bptt, res, width=300)
    forward = re.search(r"h_1\[1\] = \w+\((.*?)\) = \w+\(([−\d.e-]+)\) = ([−\d.e-]+)", out)
    assert forward, out
    assert evaluate(forward.group(1)) == pytest.approx(res.pre[0, 0], abs=3e-4)
    assert float(forward.group(3).replace("−", "-")) == pytest.approx(res.h[0, 0], abs=1e-4)
    back = re.search(r"∂L/∂h_2\[1\] = \(W_hᵀ ∂L/∂a_3\)\[1\] = (.*?) [=≈] ([−\d.e-]+)\n", out)
    assert back, out
    assert evaluate(back.group(1)) == pytest.approx(res.dh[1, 0], abs=3e-4)
    da = re.search(r"∂L/∂a_3\[1\] = ∂L/∂h_3\[1\] · f'\(a_3\[1\]\) = (.*?) [=≈] ([−\d.e-]+)\n", out)
    assert evaluate(da.group(1)) == pytest.approx(res.da[2, 0], abs=3e-4)


def _gru_lines(out: str) -> dict:
    lines = {}
    for key in ("z[1]", "r[1]", "h̃[1]", "h_t[1]"):
        match = re.search(rf"^{re.escape(key)} = .*?\) = (.*?) = ([−\d.e-]+)$", out, re.M)
        lines[key] = match
    return lines


def test_gru_example_formulas():
    out = rendered(explain_gru, cr.gru_step(**_example()), width=200)
    assert "z[1] = σ(W_xz[1,:]·x_t + W_hz[1,:]·h_{t−1} + b_z[1]) = σ(0·1 + 0·0.5 + " in out
    assert "= σ(−6) = 0.0025" in out
    assert "h_t[1] = z[1]·h_{t−1}[1] + (1 − z[1])·h̃[1] = 0.0025·0.5 + 0.9975·0.8093 = 0.8085" in out
    assert "(W_hh h_{t−1} + b_hh)[1] = 0.5·0.5 + 0·(−0.5) + 0·0.8 + 0 = 0.25" in out
    assert "= tanh(1·1 + 0.5·0.25 + 0) = tanh(1.125) = 0.8093" in out


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("z_keeps", ["old", "new"])
def test_gru_formulas_add_up(reset_after, z_keeps):
    res = cr.gru_step(random=(3, 3), seed=11, reset_after=reset_after, z_keeps=z_keeps)
    out = rendered(explain_gru, res, width=400)
    z = re.search(r"^z\[1\] = σ\(.*?\) = σ\((.*?)\) = σ\(([−\d.e-]+)\) = ([−\d.e-]+)$", out, re.M)
    assert evaluate(z.group(1)) == pytest.approx(res.a_z[0, 0], abs=3e-4)
    gh = re.search(r"^\(W_hh .*?\)\[1\] = (.*?) = ([−\d.e-]+)$", out, re.M)
    assert evaluate(gh.group(1)) == pytest.approx(res.gh[0, 0], abs=3e-4)
    assert ("r ⊙ h_{t−1}" in gh.group(0)) != reset_after
    ht = re.search(r"^h̃\[1\] = .*? = tanh\((.*?)\) = tanh\(([−\d.e-]+)\) = ([−\d.e-]+)$", out, re.M)
    assert evaluate(ht.group(1)) == pytest.approx(res.a_h[0, 0], abs=3e-4)
    h = re.search(r"^h_t\[1\] = (.*?) = (.*?) = ([−\d.e-]+)$", out, re.M)
    assert evaluate(h.group(2)) == pytest.approx(res.h[0], abs=3e-4)
    old_first = h.group(1).startswith("z[1]·h_{t−1}")
    assert old_first == (z_keeps == "old")


def _example():
    return dict(
        x=[1.0],
        h=[0.5, -0.5, 0.8],
        wxz=np.zeros((3, 1)),
        whz=np.zeros((3, 3)),
        bz=[-6, 0, 6],
        wxr=np.zeros((3, 1)),
        whr=np.zeros((3, 3)),
        br=[0, -6, 0],
        wxh=[[1], [0.5], [-1]],
        whh=np.diag([0.5, 0.5, 0.5]),
    )


# --- GRU case 2: the notes' label, and the maths of each reset variant ---------------------


@pytest.mark.parametrize("reset_after", [True, False])
def test_case_two_quotes_the_notes_and_follows_the_variant(reset_after):
    rng = np.random.default_rng(3)
    D, H = 2, 3
    arrays = dict(
        x=rng.standard_normal(D),
        h=rng.standard_normal(H),
        wxz=rng.standard_normal((H, D)),
        whz=rng.standard_normal((H, H)),
        wxr=rng.standard_normal((H, D)),
        whr=np.zeros((H, H)),
        br=np.full(H, -2000.0),  # σ(−2000) = 0 exactly: r = 0
        wxh=rng.standard_normal((H, D)),
        whh=rng.standard_normal((H, H)),
        bh=rng.standard_normal(H),
        bhh=rng.standard_normal(H),
    )
    arrays["wxr"] = np.zeros((H, D))
    res = cr.gru_step(reset_after=reset_after, **arrays)
    assert np.all(res.r == 0)
    base = arrays["wxh"] @ arrays["x"] + arrays["bh"]
    expected = np.tanh(base if reset_after else base + arrays["bhh"])
    np.testing.assert_allclose(res.h_tilde, expected, rtol=1e-14)
    out = rendered(explain_gru, res, width=200)
    said = "tanh(W_xh x_t + b_h)" if reset_after else "tanh(W_xh x_t + b_hh + b_h)"
    line = next(line for line in out.splitlines() if line.startswith("r ≈ 0"))
    assert said in line and "'only long-term memory'" in line and "case 2" in line


def test_the_three_cases_quote_the_notes(run):
    out = rich_cli(run, "gru-step", "--example", width=200)
    assert "case 1, 'only short-term memory'" in out
    assert "case 2, 'only long-term memory'" in out
    assert "'no memory'" in out


# --- the verdict: every claim against the numbers -------------------------------------------


def explicit_norms(res) -> np.ndarray:
    """‖∂h_T/∂h_t‖₂ by multiplying the factors out (small cases)."""
    T, H = res.h.shape
    out = []
    for t in range(T):
        product = np.eye(H)
        for k in range(t, T - 1):
            product = (res.fprime[k + 1][:, None] * res.rnn.wh) @ product
        out.append(np.linalg.norm(product, 2))
    return np.array(out)


VERDICT_CASES = [
    (name, scale, T, seed)
    for name in ("tanh", "relu", "sigmoid", "identity")
    for scale in (0.5, 1.0, 1.5, 4.0)
    for T in (1, 3, 25)
    for seed in (0, 1)
]


@pytest.mark.parametrize("name, scale, T, seed", VERDICT_CASES)
def test_every_verdict_claim_holds(name, scale, T, seed):
    res = cr.bptt(random=(T, 2, 4), seed=seed, scale=scale, activation=name)
    rho = float(np.abs(np.linalg.eigvals(res.rnn.wh)).max())
    sigma = float(np.linalg.norm(res.rnn.wh, 2))
    gamma = {"sigmoid": 0.25}.get(name, 1.0)
    rate = gamma * sigma
    norms = explicit_norms(res)
    steps = np.arange(T - 1, -1, -1)
    claims = explain_bptt.verdict_claims(res)
    text = rendered(explain_bptt, res, width=300)
    for sentence in explain_bptt.verdict_sentences(res):
        assert sentence in text  # each claim is said, and said once
        assert text.count(sentence) == 1
    regime = "neutral" if abs(rho - 1) <= 1e-9 else "vanishing" if rho < 1 else "exploding"
    assert claims[0] == "notes" and res.regime == regime
    assert ("linear" in claims) == (name == "identity")
    if "linear" in claims:
        powers = [np.linalg.norm(np.linalg.matrix_power(res.rnn.wh, int(k)), 2) for k in steps]
        np.testing.assert_allclose(norms, powers, rtol=1e-9)
    if "may_explode" in claims:
        assert rho > 1 and name != "identity"
    if "rho_not_enough" in claims:
        assert rho < 1 and rate > 1 and name != "identity"
    if "guaranteed" in claims:
        assert rate < 1
        assert np.all(norms <= rate**steps * (1 + 1e-9))
        if T > 1:
            assert res.measured_regime != "exploding"
    if "necessary" in claims:
        assert rate > 1
        assert res.measured_regime != "exploding" or rate > 1  # growth needs it
    if "bounded_one" in claims:
        assert abs(rate - 1) <= 1e-9 and np.all(norms <= 1 + 1e-8)
    if T == 1:
        assert claims[-1] == "no_product" and res.measured_regime is None
        return
    g = norms[0] ** (1 / (T - 1))
    band = max(res.tol, 1e-3)
    measured = "neutral" if abs(g - 1) <= band else "vanishing" if g < 1 else "exploding"
    assert res.measured_regime == measured
    assert "measured" in claims
    if "agree" in claims:
        assert measured == regime
    else:
        assert measured != regime
    if "disagree_fprime" in claims:
        assert measured == "vanishing" and name != "identity"
        assert np.mean(res.fprime[1:]) < gamma
        said = explain_bptt.verdict_sentences(res)[-1]
        if "saturated" in said:
            assert name in ("tanh", "sigmoid") and (res.fprime[1:] < 0.1).any()
        if "dead relu" in said:
            assert name == "relu" and (res.fprime[1:] == 0).any()
    if "disagree_transient" in claims:
        assert measured == "exploding" and sigma > 1


def test_the_suite_reaches_every_claim():
    seen = set()
    for name, scale, T, seed in VERDICT_CASES:
        res = cr.bptt(random=(T, 2, 4), seed=seed, scale=scale, activation=name)
        seen.update(explain_bptt.verdict_claims(res))
    wanted = {
        "notes",
        "linear",
        "nonlinear",
        "may_explode",
        "bound",
        "guaranteed",
        "necessary",
        "bounded_one",
        "measured",
        "agree",
        "disagree_fprime",
        "no_product",
    }
    assert wanted <= seen, wanted - seen


def test_saturated_tanh_may_explode_but_vanishes():
    res = cr.bptt(xs=[5, -5, 5, -5, 5, -5], wx=4, wh=1.5, y=0)
    claims = explain_bptt.verdict_claims(res)
    assert res.regime == "exploding" and res.measured_regime == "vanishing"
    assert "may_explode" in claims and "disagree_fprime" in claims
    assert "exploding gradient" in rendered(explain_bptt, res)  # the notes' verdict kept
    assert "may explode" in rendered(explain_bptt, res)


def test_json_regime_and_measured_regime(run_json):
    doc = run_json("bptt", "--xs", "5 -5 5 -5 5 -5", "--wx", "4", "--wh", "1.5", "--y", "0")
    assert doc["result"]["regime"] == "exploding"
    assert doc["result"]["measured_regime"] == "vanishing"
    one = run_json("bptt", "--xs", "1", "--wx", "1", "--wh", "2")
    assert one["result"]["measured_regime"] is None


# --- log space ------------------------------------------------------------------------------


def test_norms_below_float64_are_never_a_fake_zero(run, run_json):
    args = (
        "bptt",
        "--random",
        "1000,1,1",
        "--seed",
        "0",
        "--scale",
        "0.3",
        "--activation",
        "identity",
    )
    doc = run_json(*args)
    norms, logs = doc["result"]["jacobian_norms"], doc["result"]["jacobian_norms_log10"]
    assert 0 not in norms and 0.0 not in norms
    assert norms[0] is None and logs[0] == pytest.approx(999 * math.log10(0.3), rel=1e-12)
    assert doc["result"]["bound"][0] is None
    assert doc["result"]["bound_log10"][0] == pytest.approx(999 * math.log10(0.3), rel=1e-9)
    for value, log in zip(norms, logs, strict=True):
        assert value is None or value == pytest.approx(10**log, rel=1e-9)
    out = rich_cli(run, *args)
    assert "e-523" in out and "-323" not in out and "−323" not in out
    from cnnrnn_cli.cli.bptt import in_range, log10_list

    big = 1199 * math.log10(2)  # 2^1199: beyond float64, which would clip it to 1.8e308
    assert in_range(np.array([np.finfo(float).max, 4.0]), np.array([big, math.log10(4)])) == [
        None,
        4.0,
    ]
    assert log10_list(np.array([-math.inf, big])) == [None, big]


def test_an_exact_zero_stays_zero(run_json):
    doc = run_json("bptt", "--xs", "-1 -1 -1", "--wx", "1", "--wh", "1", "--activation", "relu")
    assert doc["result"]["jacobian_norms"][:2] == [0, 0]
    assert doc["result"]["jacobian_norms_log10"][:2] == [None, None]


def test_the_large_case_of_the_issue(run, run_json):
    doc = run_json("bptt", "--random", "2000,16,64", "--seed", "0")
    assert 0.0 not in doc["result"]["jacobian_norms"]
    assert doc["result"]["jacobian_norms_log10"][0] < -400
    out = rich_cli(run, "bptt", "--random", "2000,16,64", "--seed", "0", width=80)
    assert "-323" not in out and "e-406" in out


# --- one notation per column; grids; notation; --check ---------------------------------------


def test_a_column_has_one_notation():
    mixed = [5.629e14, 562949953421312.0, 3.0, 0.5]
    texts = explain_bptt.column(mixed, 4)
    assert all("e" in t for t in texts)
    assert explain_bptt.column([0.5, 0.25, 1.0], 4) == ["0.5", "0.25", "1"]
    logs = explain_bptt.log_column([49 * math.log10(2), 10 * math.log10(2), 0.0], 4)
    assert logs == ["5.629e+14", "1.024e+03", "1.000e+00"]


def _table_columns(out: str, header: str) -> list[list[str]]:
    """The cells of a rendered table under the header line that contains `header`."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if header in line)
    rows = []
    for line in lines[start + 1 :]:
        cells = line.split()
        if not cells or not (cells[0].isdigit() or cells[0] == "⋮"):
            if rows:
                break
            continue
        if cells[0] != "⋮":
            rows.append(cells)
    return [list(col) for col in zip(*rows, strict=False)]


@pytest.mark.parametrize(
    "args",
    [
        (
            "bptt",
            "--xs",
            " ".join(["1"] * 50),
            "--wx",
            "1",
            "--wh",
            "2",
            "--activation",
            "identity",
        ),
        ("bptt", "--random", "30,3,5", "--seed", "2", "--scale", "1.3"),
        ("bptt", "--random", "20,4,8", "--seed", "0"),
    ],
)
def test_every_column_keeps_one_notation(run, args):
    out = rich_cli(run, *args, width=140)
    for header in ("t  ‖∂h_T/∂h_t‖", "∂L/∂h_t", "x_t"):
        for col in _table_columns(out, header)[1:]:
            numbers = [c for c in col if re.fullmatch(r"-?[\d.]+(e[+-]\d+)?", c) and c != "0"]
            assert len({("e" in c) for c in numbers}) <= 1, (header, col)


def test_matrix_gradients_are_grids(run):
    out = rich_cli(run, "bptt", "--random", "20,4,8", "--seed", "0", "--lr", "0.1", width=100)
    assert "∂L/∂W_h = [" not in out and "[0.4418, " not in out
    grad = out.split("∂L/∂W_h", 1)[0]
    assert grad
    block = out[out.index("The gradients") :]
    assert "┌" in block and re.search(r"│ +0\.4418 │", block)  # ∂L/∂W_h[1,1] in a cell


def test_eigen_title_stays_on_one_line(run):
    for width in (60, 80):
        out = rich_cli(run, "bptt", "--random", "20,4,8", "--seed", "0", width=width)
        assert "W_h = T Σ T⁻¹, so W_h^α = T Σ^α T⁻¹: the eigenvalues decide\n" in out


@pytest.mark.parametrize("command", ["bptt", "gru-step"])
def test_one_notation_for_h_t_minus_one(run, command):
    help_text = run(command, "--help", fmt=None).stdout
    out = rich_cli(run, command, "--example", width=100)
    for text in (help_text, out):
        assert "h_(t" not in text and "_(k" not in text
    assert "h_{t−1}" in help_text and "h_{t−1}" in out


def test_check_positions_are_one_based(run):
    res = cr.bptt(random=(4, 2, 3), seed=1, check=True)
    name, index = re.fullmatch(r"(\w+)\[([\d,]+)\]", res.check_worst).groups()
    shape = res.rnn.arrays()[name].shape
    position = [int(i) for i in index.split(",")]
    assert len(position) == len(shape)
    assert all(1 <= i <= n for i, n in zip(position, shape, strict=True))
    out = rich_cli(run, "bptt", "--example", "--check", width=140)
    assert "at wh[1,1] (positions count from 1" in out and "[0]" not in out


# --- the README's mappings, checked against the frameworks' formulas ------------------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_keras_reset_after_mapping_of_the_readme():
    """Keras GRUCell(reset_after=True), written out as Keras computes it."""
    rng = np.random.default_rng(4)
    D, H = 3, 4
    kernel, recurrent = rng.standard_normal((D, 3 * H)), rng.standard_normal((H, 3 * H))
    bias = rng.standard_normal((2, 3 * H))
    x, h = rng.standard_normal(D), rng.standard_normal(H)
    b0, b1 = bias
    z_, r_, h_ = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)
    z = sigmoid(x @ kernel[:, z_] + b0[z_] + h @ recurrent[:, z_] + b1[z_])
    r = sigmoid(x @ kernel[:, r_] + b0[r_] + h @ recurrent[:, r_] + b1[r_])
    hh = np.tanh(x @ kernel[:, h_] + b0[h_] + r * (h @ recurrent[:, h_] + b1[h_]))
    keras = z * h + (1 - z) * hh
    res = cr.gru_step(
        x=x,
        h=h,
        wxz=kernel[:, z_].T,
        wxr=kernel[:, r_].T,
        wxh=kernel[:, h_].T,
        whz=recurrent[:, z_].T,
        whr=recurrent[:, r_].T,
        whh=recurrent[:, h_].T,
        bz=b0[z_] + b1[z_],
        br=b0[r_] + b1[r_],
        bh=b0[h_],
        bhh=b1[h_],
    )
    np.testing.assert_allclose(res.h, keras, rtol=1e-12)


def test_d2l_from_scratch_mapping_of_the_readme():
    """d2l's gru(): Z = σ(X W_xz + H W_hz + b_z), H̃ = tanh(X W_xh + (R ⊙ H) W_hh + b_h)."""
    rng = np.random.default_rng(5)
    D, H = 2, 3
    W = {
        k: rng.standard_normal((D if k[1] == "x" else H, H))
        for k in ("Wxz", "Whz", "Wxr", "Whr", "Wxh", "Whh")
    }
    b = {k: rng.standard_normal(H) for k in ("bz", "br", "bh")}
    x, h = rng.standard_normal(D), rng.standard_normal(H)
    Z = sigmoid(x @ W["Wxz"] + h @ W["Whz"] + b["bz"])
    R = sigmoid(x @ W["Wxr"] + h @ W["Whr"] + b["br"])
    Ht = np.tanh(x @ W["Wxh"] + (R * h) @ W["Whh"] + b["bh"])
    d2l = Z * h + (1 - Z) * Ht
    res = cr.gru_step(
        x=x,
        h=h,
        reset_after=False,
        **{k.lower(): v.T for k, v in W.items()},
        **b,
    )
    np.testing.assert_allclose(res.h, d2l, rtol=1e-12)


def test_readme_spells_out_the_mappings():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for fragment in (
        "`--bz = b0_z + b1_z`",
        "`--br = b0_r + b1_r`",
        "`--bh = b0_h`",
        "`--bhh = b1_h`",
        "`--torch-weights`",
        "D×H",
    ):
        assert fragment in text, fragment


# --- the width: 60, 80, 100, 140 columns ------------------------------------------------------

WIDTH_CASES = [
    (("bptt", "--example"), ["0.4621", "0.5509", "0.1885", "0.5722", "0.0026", "0.0394"]),
    (("bptt", "--example", "--lr", "0.1", "--check"), ["0.7961", "0.4621"]),
    (("bptt", "--random", "20,4,8", "--seed", "0"), ["4.0596", "-0.7757"]),
    (("bptt", "--random", "60,3,40", "--seed", "3", "--scale", "1.2", "--activation", "relu"), []),
    (
        (
            "bptt",
            "--random",
            "10,2,3",
            "--seed",
            "1",
            "--wy",
            "1 2 3",
            "--by",
            "1",
            "--targets",
            " ; ".join(["1"] * 10),
        ),
        [],
    ),
    (("gru-step", "--example"), ["0.8085", "-0.0192", "0.7964", "0.0025", "0.8093"]),
    (("gru-step", "--example", "--reset-before", "--z-keeps", "new"), ["0.5008"]),
    (("gru-step", "--random", "16,64", "--seed", "0"), []),
    (("gru-step", "--random", "3,20", "--seed", "1", "--xs", "1 2 3; 4 5 6; 0 0 1"), []),
]
OPERATOR_ENDS = (" +", " −", " =", "·", " ⇒", " ≤", " ≈", "(")


@pytest.mark.parametrize("args, numbers", WIDTH_CASES)
@pytest.mark.parametrize("width", WIDTHS)
def test_the_rich_view_holds_at_every_width(run, args, numbers, width):
    out = rich_cli(run, *args, width=width)
    for line in out.splitlines():
        assert cell_len(line) <= width, line
        assert not re.search(r"\d…", line), line  # no number cut short
        assert not line.rstrip().endswith(OPERATOR_ENDS), line  # operators beside operands
    for number in numbers:
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", out), number


def test_latex_writes_the_same_formulas(run):
    gru = run("gru-step", "--example", fmt="latex").stdout
    assert r"z_t[1] = \sigma(0 \cdot 1 + 0 \cdot 0.5 + 0 \cdot (-0.5) + 0 \cdot 0.8 - 6)" in gru
    assert r"h_t[1] = 0.0025 \cdot 0.5 + 0.9975 \cdot 0.8093 = 0.8085" in gru
    before = run("gru-step", "--example", "--reset-before", fmt="latex").stdout
    assert r"(W_{hh} (r_t \odot h_{t-1}) + b_{hh})[1] = 0.5 \cdot 0.25" in before
    assert r"\tanh(W_{xh} x_t + b_{hh} + b_h)" in before  # case 2 keeps b_hh
    bptt = run("bptt", "--example", fmt="latex").stdout
    assert r"= 0.0722 \cdot 0.6726 = 0.0486" in bptt
    assert r"= 0.8 \cdot 0.0486 = 0.0388" in bptt
    assert "may explode" in run("bptt", "--example", "--wh", "1.2", fmt="latex").stdout


def test_gru_step_writes_the_chosen_unit_and_step():
    from click.testing import CliRunner

    from cnnrnn_cli.cli.main import cli

    def out(*args):
        result = CliRunner().invoke(cli, ["gru-step", *args], env={"COLUMNS": "100"})
        return result

    rich = " ".join(out("--example", "--unit", "3", "-f", "rich").stdout.split())
    assert "Unit 3, with the numbers:" in rich and "= σ(6) = 0.9975" in rich
    doc = out("--random", "2,3", "--seed", "0", "--xs", "1 2; 3 4; 5 6", "-f", "json").stdout
    import json

    h = json.loads(doc)["result"]["h"]
    seq = out(
        *("--random", "2,3", "--seed", "0", "--xs", "1 2; 3 4; 5 6", "--at", "2", "--unit", "2"),
        "-f",
        "rich",
    ).stdout
    assert "Step 2, unit 2, with the numbers:" in seq
    flat = " ".join(seq.split())
    formula = flat.split("h_t[2] = ", 1)[1].split(" Step", 1)[0]
    assert formula.endswith(f"= {float(f'{h[1][1]:.4f}'):g}".replace("-", "−"))
    latex = out("--example", "--unit", "2", "-f", "latex").stdout
    assert "Unit 2" in latex
    for args, name in ((("--unit", "4"), "unit"), (("--at", "2"), "at")):
        bad = out("--example", *args)
        assert bad.exit_code == 2 and bad.output.startswith(f"Error: {name}:")


@pytest.mark.parametrize("fmt", ["rich", "json", "plain", "latex"])
def test_a_pre_activation_beyond_float64_is_one_error(fmt):
    from click.testing import CliRunner

    from cnnrnn_cli.cli.main import cli

    args = ["bptt", "--xs", "1e300 1", "--wx", "1e10", "--wh", "1", "--y", "0", "-f", fmt]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.output == (
        "Error: weights: step 1, unit 1: the pre-activation a_1 overflows float64 (inf); "
        "scale the inputs or weights down\n"
    )


def test_latex_measured_norm_is_maths():
    from click.testing import CliRunner

    from cnnrnn_cli.cli.main import cli

    out = CliRunner().invoke(cli, ["bptt", "--example", "-f", "latex"]).stdout
    assert "Measured: $\\lVert \\partial h_T / \\partial h_1 \\rVert$ = 0.2313" in out
    assert "h\\_T" not in out
