"""gru-step: an independent reference from the formulas, the notes' three cases, PyTorch's
stored numbers, and the errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from cnnrnn_cli.core.gru import GATES, from_torch, gru_step, random_weights
from cnnrnn_cli.errors import InputError, ShapeError
from conftest import assert_error

FIXTURES = Path(__file__).parent / "fixtures"


def reference(x, h, w, reset_after, z_keeps):
    """One step straight from the formulas, gate by gate, with a plain logistic."""

    def sig(a):
        return 1 / (1 + np.exp(-a))

    z = sig(w["wxz"] @ x + w["whz"] @ h + w["bz"])
    r = sig(w["wxr"] @ x + w["whr"] @ h + w["br"])
    if reset_after:
        cand = np.tanh(w["wxh"] @ x + r * (w["whh"] @ h + w["bhh"]) + w["bh"])
    else:
        cand = np.tanh(w["wxh"] @ x + w["whh"] @ (r * h) + w["bhh"] + w["bh"])
    new = z * h + (1 - z) * cand if z_keeps == "old" else (1 - z) * h + z * cand
    return z, r, cand, new


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("z_keeps", ["old", "new"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_step_against_reference(reset_after, z_keeps, seed):
    arrays = random_weights(3, 5, seed)
    x, h = arrays.pop("x"), arrays.pop("h")
    res = gru_step(x, h, reset_after=reset_after, z_keeps=z_keeps, **arrays)
    for ours, ref in zip(
        (res.z, res.r, res.h_tilde, res.h),
        reference(x, h, arrays, reset_after, z_keeps),
        strict=True,
    ):
        np.testing.assert_allclose(ours, ref, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("reset_after", [True, False])
def test_sequence_is_repeated_steps(reset_after):
    arrays = random_weights(2, 4, 7)
    arrays.pop("x")
    h = arrays.pop("h")
    xs = np.random.default_rng(7).standard_normal((6, 2))
    seq = gru_step(xs=xs, h=h, reset_after=reset_after, **arrays)
    assert seq.h.shape == (6, 4) and seq.z.shape == (6, 4)
    state = h
    for t in range(6):
        state = reference(xs[t], state, arrays, reset_after, "old")[3]
        np.testing.assert_allclose(seq.h[t], state, rtol=1e-13, atol=1e-15)


def test_the_notes_three_cases_each_occur():
    w = {
        name: np.zeros((3, 1))
        if name.startswith("wx")
        else (np.zeros((3, 3)) if name.startswith("wh") else np.zeros(3))
        for name in GATES
    }
    w["bz"] = np.array([-8.0, 0.0, 8.0])
    w["br"] = np.array([0.0, -8.0, 0.0])
    w["wxh"] = np.array([[1.0], [1.0], [1.0]])
    w["whh"] = np.eye(3)
    h = np.array([0.5, -0.5, 0.8])
    res = gru_step(np.array([1.0]), h, **w)
    assert res.cases[0] == {"takes_over": [0], "ignores_past": [1], "carried_over": [2]}
    assert abs(res.h[0] - res.h_tilde[0]) < 1e-3  # z ≈ 0: the candidate takes over
    assert abs(res.h_tilde[1] - np.tanh(1.0)) < 1e-3  # r ≈ 0: the past is ignored
    assert abs(res.h[2] - h[2]) < 1e-3  # z ≈ 1: carried over unchanged
    flipped = gru_step(np.array([1.0]), h, z_keeps="new", **w)
    assert flipped.cases[0]["takes_over"] == [2] and flipped.cases[0]["carried_over"] == [0]


def test_equals_pytorch_grucell_from_stored_numbers():
    cell = dict(np.load(FIXTURES / "gru_torch_cell.npz"))
    expected = np.load(FIXTURES / "gru_torch_expected.npz")
    step = gru_step(expected["x"], expected["h"], **from_torch(cell))
    np.testing.assert_allclose(step.h, expected["h_next"], rtol=0, atol=1e-12)
    seq = gru_step(xs=expected["xs"], h=expected["h"], **from_torch(cell))
    np.testing.assert_allclose(seq.h, expected["h_seq"], rtol=0, atol=1e-12)


def test_stable_for_huge_pre_activations():
    arrays = random_weights(1, 2, 0)
    arrays.pop("x"), arrays.pop("h")
    res = gru_step(np.array([1e6]), np.zeros(2), **arrays)
    assert np.isfinite(res.h).all()


@pytest.mark.parametrize(
    "change, exc, message",
    [
        (dict(wxz=np.ones((4, 4))), ShapeError, "wxz: is 4×4 but must be 4×3"),
        (dict(whr=np.ones((4, 3))), ShapeError, "whr: is 4×3 but must be 4×4"),
        (dict(bz=np.ones(3)), ShapeError, "bz: is 3 but must be 4"),
        (dict(wxh=None), InputError, "wxh: missing"),
        (dict(wq=np.ones(2)), InputError, "unknown array(s) wq"),
    ],
)
def test_weight_shape_errors(change, exc, message):
    arrays = random_weights(3, 4, 0)
    x, h = arrays.pop("x"), arrays.pop("h")
    arrays.update(change)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    with pytest.raises(exc, match=message.replace("(", r"\(").replace(")", r"\)")):
        gru_step(x, h, **arrays)


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(weight_hh=np.ones((12, 4))), "missing array 'weight_ih'"),
        (dict(weight_ih=np.ones((12, 3)), weight_hh=np.ones((12, 5))), "weight_hh is 12×5"),
        (dict(weight_ih=np.ones((9, 3)), weight_hh=np.ones((12, 4))), "weight_ih is 9×3"),
        (
            dict(weight_ih=np.ones((12, 3)), weight_hh=np.ones((12, 4)), bias_ih=np.ones(12)),
            "both bias_ih and bias_hh",
        ),
        (
            dict(
                weight_ih=np.ones((12, 3)),
                weight_hh=np.ones((12, 4)),
                bias_ih=np.ones(11),
                bias_hh=np.ones(12),
            ),
            "bias_ih has 11 values",
        ),
    ],
)
def test_torch_weights_errors(arrays, message):
    with pytest.raises((InputError, ShapeError), match=message):
        from_torch(arrays)


# --- CLI ------------------------------------------------------------------------------


def test_cli_example_names_all_three_cases(run, run_json):
    out = run("gru-step", "--example", "--no-color", fmt="rich").stdout
    for fragment in (
        "z ≈ 0 (unit 1)",
        "r ≈ 0 (unit 2)",
        "z ≈ 1 (unit 3)",
        "no memory",
        "own W_x and b",
    ):
        assert fragment in out, fragment
    doc = run_json("gru-step", "--example")
    assert set(doc["result"]) == {"z", "r", "h_tilde", "h"}
    assert doc["cases"] == {"takes_over": [1], "ignores_past": [2], "carried_over": [3]}


def test_cli_torch_weights(run_json):
    expected = np.load(FIXTURES / "gru_torch_expected.npz")
    x = " ".join(repr(float(v)) for v in expected["x"])
    h = " ".join(repr(float(v)) for v in expected["h"])
    doc = run_json(
        "gru-step", "--torch-weights", f"@{FIXTURES / 'gru_torch_cell.npz'}", "--x", x, "--h", h
    )
    np.testing.assert_allclose(doc["result"]["h"], expected["h_next"], rtol=0, atol=1e-12)


def test_cli_sequence_and_plain(run, tmp_path):
    arrays = random_weights(2, 3, 1)
    (tmp_path / "w.json").write_text(json.dumps({k: v.tolist() for k, v in arrays.items()}))
    out = run(
        "gru-step", "--weights", f"@{tmp_path / 'w.json'}", "--xs", "1 2; 3 4; 5 6", "--only", "h"
    ).stdout
    assert len(out.strip().splitlines()) == 3
    rich = run(
        "gru-step", "--weights", f"@{tmp_path / 'w.json'}", "--xs", "1 2; 3 4; 5 6", fmt="rich"
    ).stdout
    assert "Gates over time" in rich and "Step by step" in rich
    latex = run("gru-step", "--example", "-f", "latex", fmt=None).stdout
    assert r"\odot" in latex and r"\tilde h_t" in latex


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["gru-step", "--x", "1", "--h", "0 0"], ["wxz", "missing"]),
        (["gru-step", "--random", "2,3", "--wxz", "1 2 3"], ["wxz", "must be 3×2"]),
        (["gru-step", "--torch-weights", "@/nope.npz", "--x", "1"], ["file not found"]),
        (
            [
                "gru-step",
                "--random",
                "2,3",
                "--reset-before",
                "--torch-weights",
                f"@{FIXTURES / 'gru_torch_cell.npz'}",
            ],
            ["--torch-weights"],
        ),
        (["gru-step", "--random", "2,3", "--seed", "1", "--xs", "1 2", "--x", "1 2"], ["not both"]),
        (["gru-step", "--random", "2"], ["random", "2 whole numbers"]),
    ],
)
def test_cli_errors(run, args, fragments):
    assert_error(run(*args), *fragments)
