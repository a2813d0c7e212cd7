"""lstm-step: an independent NumPy reference written from the formulas, PyTorch's stored
numbers, the three named cases against the numbers, the CLI, widths and the errors."""

import json
import os
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cnnrnn_cli.cli.lstm import EXAMPLE
from cnnrnn_cli.core.lstm import GATES, from_torch, lstm_step, random_weights
from cnnrnn_cli.errors import InputError, ShapeError
from conftest import assert_error, stable_seed

FIXTURES = Path(__file__).parent / "fixtures"


def reference(x, h, c, w):
    """One step straight from the formulas, gate by gate, with the plain logistic 1/(1+e⁻ᵃ)
    (the code uses ½(1 + tanh(a/2)))."""

    def sig(a):
        return 1 / (1 + np.exp(-a))

    i = sig(w["wxi"] @ x + w["whi"] @ h + w["bi"])
    f = sig(w["wxf"] @ x + w["whf"] @ h + w["bf"])
    g = np.tanh(w["wxg"] @ x + w["whg"] @ h + w["bg"])
    o = sig(w["wxo"] @ x + w["who"] @ h + w["bo"])
    c_new = f * c + i * g
    return i, f, g, o, c_new, o * np.tanh(c_new)


def torch_reference(x, h, c, arrays):
    """PyTorch's LSTMCell from its stacked arrays (rows i, f, g, o), written in NumPy:
    gates = W_ih x + b_ih + W_hh h + b_hh, an independent check of `from_torch`."""
    gates = arrays["weight_ih"] @ x + arrays["bias_ih"] + arrays["weight_hh"] @ h
    gates = gates + arrays["bias_hh"]
    i, f, g, o = np.split(gates, 4)
    i, f, o = (1 / (1 + np.exp(-a)) for a in (i, f, o))
    c_new = f * c + i * np.tanh(g)
    return o * np.tanh(c_new), c_new


def _case(dim, hidden, seed):
    arrays = random_weights(dim, hidden, seed)
    return arrays.pop("x"), arrays.pop("h"), arrays.pop("c"), arrays


@pytest.mark.parametrize("dim, hidden", [(1, 1), (3, 5), (4, 2), (7, 16)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_step_against_reference(dim, hidden, seed):
    x, h, c, arrays = _case(dim, hidden, seed)
    res = lstm_step(x, h, c, **arrays)
    for ours, ref in zip(
        (res.i, res.f, res.g, res.o, res.c, res.h), reference(x, h, c, arrays), strict=True
    ):
        assert ours.shape == (hidden,)
        np.testing.assert_allclose(ours, ref, rtol=1e-14, atol=1e-15)


def test_sequence_is_repeated_steps():
    _, h, c, arrays = _case(2, 4, 7)
    xs = np.random.default_rng(7).standard_normal((6, 2))
    seq = lstm_step(xs=xs, h=h, c=c, **arrays)
    assert seq.h.shape == (6, 4) and seq.c.shape == (6, 4) and seq.i.shape == (6, 4)
    state, cell = h, c
    for t in range(6):
        i, f, g, o, cell, state = reference(xs[t], state, cell, arrays)
        for ours, ref in zip(
            (seq.i[t], seq.f[t], seq.g[t], seq.o[t], seq.c[t], seq.h[t]),
            (i, f, g, o, cell, state),
            strict=True,
        ):
            np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(seq.h_prev[t + 1] if t < 5 else seq.h[t], seq.h[t])


def test_defaults_are_zero_states_and_zero_biases():
    x, _, _, arrays = _case(3, 4, 3)
    for name in ("bi", "bf", "bg", "bo"):
        arrays.pop(name)
    res = lstm_step(x, **arrays)
    zero = {k: np.zeros(4) for k in ("bi", "bf", "bg", "bo")}
    expected = reference(x, np.zeros(4), np.zeros(4), {**arrays, **zero})
    np.testing.assert_allclose(res.h, expected[5], rtol=1e-14)


def test_equals_pytorch_lstmcell_from_stored_numbers():
    cell = dict(np.load(FIXTURES / "lstm_torch_cell.npz"))
    expected = np.load(FIXTURES / "lstm_torch_expected.npz")
    step = lstm_step(expected["x"], expected["h"], expected["c"], **from_torch(cell))
    np.testing.assert_allclose(step.h, expected["h_next"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(step.c, expected["c_next"], rtol=0, atol=1e-12)
    seq = lstm_step(xs=expected["xs"], h=expected["h"], c=expected["c"], **from_torch(cell))
    np.testing.assert_allclose(seq.h, expected["h_seq"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(seq.c, expected["c_seq"], rtol=0, atol=1e-12)
    # the NumPy model of PyTorch's stacked layout agrees with the stored numbers as well
    h, c = torch_reference(expected["x"], expected["h"], expected["c"], cell)
    np.testing.assert_allclose(h, expected["h_next"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, expected["c_next"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_from_torch_maps_the_stacked_gates(seed):
    rng = np.random.default_rng(seed)
    D, H = 3, 5
    arrays = {
        "weight_ih": rng.standard_normal((4 * H, D)),
        "weight_hh": rng.standard_normal((4 * H, H)),
        "bias_ih": rng.standard_normal(4 * H),
        "bias_hh": rng.standard_normal(4 * H),
    }
    x, h, c = rng.standard_normal(D), rng.standard_normal(H), rng.standard_normal(H)
    res = lstm_step(x, h, c, **from_torch(arrays))
    h_ref, c_ref = torch_reference(x, h, c, arrays)
    np.testing.assert_allclose(res.h, h_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(res.c, c_ref, rtol=1e-13, atol=1e-15)
    no_bias = {k: arrays[k] for k in ("weight_ih", "weight_hh")}
    plain = lstm_step(x, h, c, **from_torch(no_bias))
    zeros = {**no_bias, "bias_ih": np.zeros(4 * H), "bias_hh": np.zeros(4 * H)}
    np.testing.assert_allclose(plain.h, torch_reference(x, h, c, zeros)[0], rtol=1e-13)


def test_stable_for_huge_pre_activations():
    x, h, c, arrays = _case(1, 2, 0)
    res = lstm_step(np.array([1e6]), h, c, **arrays)
    assert np.isfinite(res.h).all() and np.isfinite(res.c).all()
    assert set(np.round(res.i, 12)) <= {0.0, 1.0}


# --- the named cases against the numbers ------------------------------------------------


def test_the_three_cases_each_occur():
    w = {
        name: np.zeros((3, 1))
        if name.startswith("wx")
        else (np.zeros((3, 3)) if name.startswith("wh") else np.zeros(3))
        for name in GATES
    }
    w["bi"] = np.array([-8.0, 0.0, 0.0])
    w["bf"] = np.array([8.0, -8.0, 0.0])
    w["bo"] = np.array([0.0, 0.0, -8.0])
    w["wxg"] = np.ones((3, 1))
    c = np.array([0.8, -0.6, 0.5])
    res = lstm_step(np.array([1.0]), np.zeros(3), c, **w)
    assert res.cases[0] == {"carried_over": [0], "forgets": [1], "hidden": [2]}
    assert abs(res.c[0] - c[0]) < 1e-3  # carried over unchanged
    assert abs(res.c[1] - res.i[1] * res.g[1]) < 1e-3  # the old cell is forgotten
    assert abs(res.h[2]) < 1e-3 and abs(res.c[2]) > 0.5  # kept, but hidden


@pytest.mark.parametrize("tol", [0.01, 0.05, 0.2, 0.45])
@pytest.mark.parametrize("seed", range(6))
def test_cases_match_their_definition_on_random_cases(tol, seed):
    """Large random weights saturate the gates, so every case occurs somewhere; each named
    unit satisfies its definition, every unit that satisfies it is named, and what the
    sentence claims holds within the bound the definition gives."""
    rng = np.random.default_rng(stable_seed(tol, seed))
    D, H, T = 3, 8, 12
    arrays = {
        k: rng.standard_normal((H,) if k.startswith("b") else (H, D if "x" in k else H)) * 4
        for k in GATES
    }
    xs = rng.standard_normal((T, D))
    res = lstm_step(xs=xs, c=rng.standard_normal(H), tol=tol, **arrays)
    seen = set()
    for t, cases in enumerate(res.cases):
        i, f, o = res.i[t], res.f[t], res.o[t]
        assert cases["carried_over"] == [u for u in range(H) if f[u] >= 1 - tol and i[u] <= tol]
        assert cases["forgets"] == [u for u in range(H) if f[u] <= tol]
        assert cases["hidden"] == [u for u in range(H) if o[u] <= tol]
        for u in cases["carried_over"]:
            assert abs(res.c[t, u] - res.c_prev[t, u]) <= tol * (abs(res.c_prev[t, u]) + 1)
        for u in cases["forgets"]:
            assert abs(res.c[t, u] - i[u] * res.g[t, u]) <= tol * abs(res.c_prev[t, u])
        for u in cases["hidden"]:
            assert abs(res.h[t, u]) <= tol
        seen |= {k for k, v in cases.items() if v}
    if tol >= 0.2:
        assert seen == {"carried_over", "forgets", "hidden"}


# --- errors in the library ----------------------------------------------------------------


@pytest.mark.parametrize(
    "change, exc, message",
    [
        (dict(wxi=np.ones((4, 4))), ShapeError, "wxi: is 4×4 but must be 4×3"),
        (dict(whf=np.ones((4, 3))), ShapeError, "whf: is 4×3 but must be 4×4"),
        (dict(bo=np.ones(3)), ShapeError, "bo: is 3 but must be 4"),
        (dict(wxg=None), InputError, "wxg: missing"),
        (dict(wq=np.ones(2)), InputError, "unknown array(s) wq"),
        (dict(c=np.ones(5)), ShapeError, "c: is 5 but must be 4"),
        (dict(x=np.array([np.nan, 0, 0])), InputError, "x: holds NaN"),
        (dict(whi=np.full((4, 4), np.inf)), InputError, "whi: holds NaN or infinity"),
        (dict(tol=0.5), InputError, "tol: must be in [0, 0.5)"),
    ],
)
def test_library_errors(change, exc, message):
    x, h, c, arrays = _case(3, 4, 0)
    arrays.update(x=x, h=h, c=c)
    arrays.update(change)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    escaped = "".join("\\" + ch if ch in "()[]." else ch for ch in message)
    with pytest.raises(exc, match=escaped):
        lstm_step(**arrays)


def test_inf_minus_inf_is_named_not_returned_as_nan():
    x, h, c, arrays = _case(1, 2, 0)
    arrays["wxf"] = np.array([[1e308], [0.0]])
    arrays["whf"] = np.array([[-1e308, 0.0], [0.0, 0.0]])
    with pytest.raises(InputError, match="step 1, unit 1: gate f's pre-activation overflows"):
        lstm_step(np.array([10.0]), np.array([10.0, 0.0]), c, **arrays)


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(weight_hh=np.ones((16, 4))), "missing array 'weight_ih'"),
        (dict(weight_ih=np.ones((16, 3)), weight_hh=np.ones((16, 5))), "weight_hh is 16×5"),
        (dict(weight_ih=np.ones((12, 3)), weight_hh=np.ones((12, 4))), "weight_hh is 12×4"),
        (dict(weight_ih=np.ones((12, 3)), weight_hh=np.ones((16, 4))), "weight_ih is 12×3"),
        (
            dict(weight_ih=np.ones((16, 3)), weight_hh=np.ones((16, 4)), bias_ih=np.ones(16)),
            "both bias_ih and bias_hh",
        ),
        (
            dict(
                weight_ih=np.ones((16, 3)),
                weight_hh=np.ones((16, 4)),
                bias_ih=np.ones(15),
                bias_hh=np.ones(16),
            ),
            "bias_ih has 15 values",
        ),
        (dict(weight_ih=np.ones((16, 3)), weight_hh=np.ones((16, 4)), w=1), "unknown array"),
    ],
)
def test_torch_weights_errors(arrays, message):
    with pytest.raises((InputError, ShapeError), match=message):
        from_torch(arrays)


# --- CLI ------------------------------------------------------------------------------


def test_cli_example_names_all_three_cases(run, run_json):
    out = run("lstm-step", "--example", "--no-color", fmt="rich").stdout
    for fragment in (
        "f ≈ 1, i ≈ 0 (unit 1): the cell state is carried over unchanged",
        "f ≈ 0 (unit 2): the cell forgets",
        "o ≈ 0 (unit 3): the state is kept but hidden",
        "i[1] = σ(0·1 + 0·0.5 + 0·(−0.5) + 0·1 − 6) = σ(−6) = 0.0025",
        "c_t[1] = f·c_{t−1} + i·g = 0.9975·0.8 + 0.0025·0.8483 = 0.8001",
        "h_t[1] = o·tanh(c_t) = 0.5·tanh(0.8001) = 0.5·0.6641 = 0.3321",
    ):
        assert fragment in out, fragment
    doc = run_json("lstm-step", "--example")
    assert set(doc["result"]) == {"i", "f", "g", "o", "c", "h"}
    assert doc["cases"] == {"carried_over": [1], "forgets": [2], "hidden": [3]}
    x, h, c = np.array([1.0]), np.array([0.5, -0.5, 1]), np.array([0.8, -0.6, 0.5])
    w = {k: np.zeros((3, 1)) if "x" in k else np.zeros((3, 3)) for k in GATES if k[0] == "w"}
    w.update(bi=np.array([-6.0, 0, 0]), bf=np.array([6.0, -6, 0]), bo=np.array([0, 0, -6.0]))
    w.update(bg=np.zeros(3), wxg=np.ones((3, 1)), whg=0.5 * np.eye(3))
    for name, ref in zip("ifgoch", reference(x, h, c, w), strict=True):
        np.testing.assert_allclose(doc["result"][name], ref, rtol=1e-14)


def test_cli_unit_and_at_choose_what_is_written_out(run):
    out = run("lstm-step", "--example", "--unit", "3", "--no-color", fmt="rich").stdout
    assert "o[3] = σ(0·1 + 0·0.5 + 0·(−0.5) + 0·1 − 6) = σ(−6) = 0.0025" in out
    seq = run(
        "lstm-step", "--example", "--xs", "1; 0; -1", "--at", "2", "--no-color", fmt="rich"
    ).stdout
    assert "Unit 1 written out (step 2)" in seq and "Step 2, unit by unit" in seq
    assert_error(run("lstm-step", "--example", "--unit", "4"), "unit", "beyond H = 3")
    assert_error(run("lstm-step", "--example", "--at", "2"), "at", "beyond T = 1")


def test_cli_torch_weights(run_json):
    expected = np.load(FIXTURES / "lstm_torch_expected.npz")

    def text(v):
        return " ".join(repr(float(a)) for a in v)

    doc = run_json(
        "lstm-step",
        "--torch-weights",
        f"@{FIXTURES / 'lstm_torch_cell.npz'}",
        "--x",
        text(expected["x"]),
        "--h",
        text(expected["h"]),
        "--c",
        text(expected["c"]),
    )
    np.testing.assert_allclose(doc["result"]["h"], expected["h_next"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(doc["result"]["c"], expected["c_next"], rtol=0, atol=1e-12)
    assert doc["params"]["torch_weights"] is True


def test_cli_sequence_plain_csv_and_latex(run, tmp_path):
    x, h, c, arrays = _case(2, 3, 1)
    (tmp_path / "w.json").write_text(json.dumps({k: v.tolist() for k, v in arrays.items()}))
    weights = ("--weights", f"@{tmp_path / 'w.json'}")
    out = run("lstm-step", *weights, "--xs", "1 2; 3 4; 5 6", "--only", "c").stdout
    rows = np.array([[float(v) for v in line.split()] for line in out.strip().splitlines()])
    ref = lstm_step(xs=np.array([[1, 2], [3, 4], [5, 6]]), **arrays)
    np.testing.assert_allclose(rows, ref.c, rtol=1e-15)
    csv = run("lstm-step", *weights, "--x", "1 2", fmt="csv").stdout
    assert "# h" in csv and len(csv.split("# h")[1].strip().split(",")) == 3
    rich = run("lstm-step", *weights, "--xs", "1 2; 3 4; 5 6", "--no-color", fmt="rich").stdout
    assert "The gates over time" in rich and "Step by step (3 steps)" in rich
    latex = run("lstm-step", "--example", "-f", "latex", fmt=None).stdout
    assert r"\odot" in latex and r"c_t[1] &= f_t c_{t-1} + i_t g_t" in latex


def test_cli_random_case_shows_and_records_its_seed(run, run_json):
    doc = run_json("lstm-step", "--random", "2,3")
    seed = doc["params"]["seed"]
    assert isinstance(seed, int) and doc["params"]["random"] is True
    again = run_json("lstm-step", "--random", "2,3", "--seed", str(seed))
    assert again["result"] == doc["result"]
    out = run("lstm-step", "--random", "2,3", "--seed", "5", "--no-color", fmt="rich").stdout
    assert "seed 5 (repeat it with --seed 5)" in out
    assert run_json("lstm-step", "--example")["params"]["seed"] is None


def test_a_cell_that_keeps_and_adds_is_said_so_from_its_numbers(run):
    out = run("lstm-step", "--example", "--bi", "0 0 0", "--no-color", fmt="rich").stdout
    # unit 1: f = σ(6) ≈ 1 but i = σ(0) = 0.5: not carried over, the cell grows by i·g
    assert "f ≈ 1, i ≈ 0 (unit" not in out
    assert "f ≈ 1 with i not ≈ 0 (unit 1): the cell keeps c_{t−1} and adds i·g" in out
    assert "i·g = 0.4241, c_t = 1.2222" in out  # 0.5·tanh(1.25), 0.9975·0.8 + 0.4241
    none = run("lstm-step", "--example", "--tol", "0.001", "--no-color", fmt="rich").stdout
    assert "None of the three cases occurs (f ≈ 1 with i ≈ 0; f ≈ 0; o ≈ 0" in none
    assert "adds i·g" not in none


def test_cli_tol_sets_near(run_json):
    near = run_json("lstm-step", "--example", "--tol", "0.001")
    assert near["cases"] == {"carried_over": [], "forgets": [], "hidden": []}
    wide = run_json("lstm-step", "--example", "--tol", "0.49")
    assert wide["cases"]["hidden"] == [3]


def test_cli_example_overrides(run_json):
    doc = run_json("lstm-step", "--example", "--xs", "1; 1")
    one = run_json("lstm-step", "--example")
    assert len(doc["result"]["h"]) == 2 and doc["result"]["h"][0] == one["result"]["h"]
    changed = run_json("lstm-step", "--example", "--bf", "0 0 0")
    assert changed["cases"]["carried_over"] == [] and changed["result"]["f"] == [0.5] * 3


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["lstm-step", "--x", "1", "--h", "0 0"], ["wxi", "missing"]),
        (["lstm-step", "--random", "2,3", "--wxi", "1 2 3"], ["wxi", "must be 3×2"]),
        (["lstm-step", "--random", "2,3", "--c", "1 2"], ["c: is 2 but must be 3"]),
        (["lstm-step", "--example", "--x", "nan"], ["x", "not a finite number"]),
        (["lstm-step", "--example", "--c", "1 inf 2"], ["c", "not a finite number"]),
        (["lstm-step", "--torch-weights", "@/nope.npz", "--x", "1"], ["file not found"]),
        (
            [
                "lstm-step",
                "--torch-weights",
                f"@{FIXTURES / 'lstm_torch_cell.npz'}",
                "--x",
                "1 2 3",
                "--wxi",
                "1",
            ],
            ["--torch-weights", "--wxi"],
        ),
        (
            ["lstm-step", "--torch-weights", f"@{FIXTURES / 'gru_torch_cell.npz'}", "--x", "1"],
            ["torch-weights", "weight_hh is 12×4, expected 4H×H"],
        ),
        (["lstm-step", "--random", "2,3", "--xs", "1 2", "--x", "1 2"], ["not both"]),
        (["lstm-step", "--random", "2"], ["random", "2 whole numbers"]),
        (["lstm-step", "--example", "--seed", "1"], ["--seed goes with --random"]),
        (["lstm-step", "--example", "--tol", "0.7"], ["tol", "[0, 0.5)"]),
        (["lstm-step", "--random", "2,3", "--max-elements", "10"], ["over --max-elements 10"]),
    ],
)
def test_cli_errors(run, args, fragments):
    assert_error(run(*args), *fragments)


# --- widths -----------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [60, 80, 100, 140])
@pytest.mark.parametrize(
    "args",
    [
        "--example",
        '--random 3,20 --seed 1 --xs "1 2 3; 4 5 6; -1 0 1; 2 2 2"',
        "--random 2,3 --seed 0 --xs " + shlex.quote("; ".join(["0.5 -1"] * 70)),
    ],
)
def test_rich_view_holds_at_every_width(columns, args):
    """Through a pipe at 60–140 columns: no line wider than the terminal, no number cut
    with '…' (a vector summarised as '[a, b, …]' is not a cut number)."""
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    out = subprocess.run(
        f"cnnrnn lstm-step {args} -f rich | cat",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for line in out.stdout.splitlines():
        assert len(line.rstrip()) <= columns, line
        # the summaries we write ourselves: '[a, b, …]', '+ … (n more terms)', the key
        stripped = line.replace(", …]", "").replace("+ … (", "").replace("0 … █", "")
        assert "…" not in stripped, line
    assert "written out" in out.stdout


def test_example_is_the_documented_line():
    assert "--bf" in EXAMPLE and "--bo" in EXAMPLE


def test_the_library_takes_the_commands_keywords():
    import cnnrnn_cli as cr

    cell = dict(np.load(FIXTURES / "lstm_torch_cell.npz"))
    expected = np.load(FIXTURES / "lstm_torch_expected.npz")
    step = cr.lstm_step(expected["x"], expected["h"], expected["c"], torch_weights=cell)
    np.testing.assert_allclose(step.h, expected["h_next"], rtol=0, atol=1e-12)
    seq = cr.lstm_step(xs=np.ones((4, 2)), random=(2, 3))
    assert seq.h.shape == (4, 3) and isinstance(seq.seed, int)
    again = cr.lstm_step(xs=np.ones((4, 2)), random="2,3", seed=seq.seed)
    np.testing.assert_array_equal(again.h, seq.h)
    # arrays given directly win over `weights`, which win over the random case
    forced = cr.lstm_step(xs=np.ones((4, 2)), random=(2, 3), seed=0, bf=np.full(3, -50.0))
    assert forced.cases[0]["forgets"] == [0, 1, 2]
    assert "lstm_step" in dir(cr)
