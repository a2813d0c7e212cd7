"""bptt: gradients against finite differences, Jacobian norms against explicit products,
the verdict, the update, the defective W_h, shape errors and the CLI."""

import json

import numpy as np
import pytest

from cnnrnn_cli.core.activations import activation, sigmoid
from cnnrnn_cli.core.bptt import bptt, jacobian_norms, loss_of, make_rnn, random_case
from cnnrnn_cli.errors import InputError, ShapeError
from conftest import assert_error, stable_seed

ACTIVATIONS = ["tanh", "relu", "sigmoid", "identity"]


def case(seed, T=5, D=3, H=4, out_dim=2, readout=True, many=False):
    rng = np.random.default_rng(seed)
    arrays = dict(
        xs=rng.standard_normal((T, D)),
        wx=rng.standard_normal((H, D)),
        wh=0.6 * rng.standard_normal((H, H)),
        b=rng.standard_normal(H),
        h0=rng.standard_normal(H),
    )
    out = H
    if readout:
        arrays.update(wy=rng.standard_normal((out_dim, H)), by=rng.standard_normal(out_dim))
        out = out_dim
    if many:
        arrays["targets"] = rng.standard_normal((T, out))
    else:
        arrays["y"] = rng.standard_normal(out)
    return arrays


def numeric_grads(arrays, name, eps=1e-6):
    """Central differences of the loss for every entry of every parameter."""
    rnn = make_rnn(**{k: arrays.get(k) for k in ("xs", "wx", "wh", "b", "h0", "wy", "by")})
    many = "targets" in arrays
    targets = np.asarray(arrays["targets"] if many else arrays["y"], dtype=float)
    f = activation(name)[0]
    grads = {}
    for key, param in rnn.arrays().items():
        g = np.zeros(param.size)
        flat = param.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            up = loss_of(rnn, targets, f, many)
            flat[i] = saved - eps
            down = loss_of(rnn, targets, f, many)
            flat[i] = saved
            g[i] = (up - down) / (2 * eps)
        grads[key] = g.reshape(param.shape)
    return grads


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize(
    "readout, many", [(True, False), (False, False), (True, True), (False, True)]
)
def test_gradients_against_finite_differences(name, readout, many):
    arrays = case(stable_seed(name, readout, many), readout=readout, many=many)
    res = bptt(activation=name, **arrays)
    numeric = numeric_grads(arrays, name)
    assert set(res.grads) == set(numeric)
    for key in numeric:
        np.testing.assert_allclose(res.grads[key], numeric[key], rtol=1e-5, atol=1e-7, err_msg=key)


def test_built_in_check_reports_a_small_error():
    res = bptt(check=True, **case(3))
    assert res.check_error < 1e-5 and res.check_worst


def explicit_products(res):
    """‖∂h_T/∂h_t‖ by multiplying the Jacobians out, t = 1..T."""
    T, H = res.h.shape
    out = []
    for t in range(T):
        product = np.eye(H)
        for k in range(t, T - 1):
            product = (res.fprime[k + 1][:, None] * res.rnn.wh) @ product
        out.append(np.linalg.norm(product, 2))
    return np.array(out)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_jacobian_norms_against_explicit_products(name):
    res = bptt(activation=name, **case(7, T=8))
    np.testing.assert_allclose(res.jacobian_norms, explicit_products(res), rtol=1e-10)
    assert res.jacobian_norms[-1] == 1


def test_jacobians_by_finite_differences_of_the_forward_pass():
    """∂h_T/∂h_1 from perturbing h_1 and running the remaining steps."""
    arrays = case(11, T=4, readout=False)
    res = bptt(**arrays)
    f = np.tanh
    rnn = res.rnn

    def h_T_from(h1):
        h = h1
        for t in range(1, 4):
            h = f(rnn.wx @ rnn.xs[t] + rnn.wh @ h + rnn.b)
        return h

    eps = 1e-6
    jac = np.column_stack(
        [
            (h_T_from(res.h[0] + eps * e) - h_T_from(res.h[0] - eps * e)) / (2 * eps)
            for e in np.eye(4)
        ]
    )
    assert abs(np.linalg.norm(jac, 2) - res.jacobian_norms[0]) < 1e-7


def test_power_iteration_path_agrees_with_svd(monkeypatch):
    import cnnrnn_cli.core.bptt as module

    res = bptt(**case(5, T=12, H=6))
    monkeypatch.setattr(module, "EXACT_NORM_WORK", 0)
    estimated, exact = jacobian_norms(res.fprime, res.rnn.wh)
    assert not exact
    np.testing.assert_allclose(estimated, res.jacobian_norms, rtol=1e-8)


def test_norms_do_not_overflow_on_long_exploding_chains():
    norms, _ = jacobian_norms(np.ones((1200, 2)), 2.0 * np.eye(2))
    assert np.isfinite(norms).all() and norms[0] == np.finfo(float).max
    assert norms[-2] == 2 and norms[-11] == 2**10


@pytest.mark.parametrize(
    "scale, regime", [(0.5, "vanishing"), (2.0, "exploding"), (1.0, "neutral")]
)
def test_regime_follows_the_spectral_radius(scale, regime):
    arrays = random_case(20, 3, 5, seed=1, scale=scale)
    res = bptt(activation="identity", **arrays)
    assert abs(res.spectral_radius - scale) < 1e-12  # W_h = σ·Q: ρ = σ exactly
    assert res.regime == regime
    if regime != "neutral":
        assert res.measured_regime == regime  # identity: the norms follow ρ


def test_saturated_tanh_vanishes_although_rho_exceeds_one():
    res = bptt(xs=np.full((30, 1), 5.0), wx=[[3.0]], wh=[[1.5]], activation="tanh", y=[0])
    assert res.regime == "exploding" and res.measured_regime == "vanishing"


def test_bound_always_holds():
    for seed in range(5):
        arrays = random_case(15, 2, 4, seed=seed, scale=1.7)
        res = bptt(activation="sigmoid", **arrays)
        assert res.gamma == 0.25
        assert (res.jacobian_norms <= res.bound * (1 + 1e-9)).all()


def test_update_is_one_sgd_step():
    arrays = case(2)
    res = bptt(lr=0.05, **arrays)
    for key, new in res.updated.items():
        np.testing.assert_array_equal(new, res.rnn.arrays()[key] - 0.05 * res.grads[key])


def test_defective_wh_is_reported_not_crashed():
    res = bptt(xs=np.ones((4, 1)), wx=[[1.0], [0.0]], wh=[[1.0, 1.0], [0.0, 1.0]], y=[0, 0])
    assert res.diagonalizable is False and res.spectral_radius == 1
    assert res.regime == "neutral"


def test_scalars_just_work():
    res = bptt(xs=[1, 0.5, -0.5, 1], wx=0.5, wh=0.8, y=0.5)
    assert res.h.shape == (4, 1) and res.eigenvalues == [[0.8, 0.0]]
    h1 = np.tanh(0.5)
    assert res.h[0, 0] == pytest.approx(h1, abs=1e-15)


def test_stable_sigmoid():
    assert sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (
            dict(xs=np.ones((3, 2)), wx=np.ones((2, 3)), wh=np.eye(2)),
            ShapeError,
            "W_x is 2×3 but must be H×D = 2×2",
        ),
        (
            dict(xs=np.ones((3, 2)), wx=np.ones((2, 2)), wh=np.ones((2, 3))),
            ShapeError,
            "must be square",
        ),
        (
            dict(xs=np.ones((3, 2)), wx=np.ones((2, 2)), wh=np.eye(2), b=[1, 2, 3]),
            ShapeError,
            "b: has 3 values but must have 2",
        ),
        (
            dict(xs=np.ones((3, 2)), wx=np.ones((2, 2)), wh=np.eye(2), wy=np.ones((1, 3))),
            ShapeError,
            "W_y is 1×3",
        ),
        (
            dict(xs=np.ones((3, 2)), wx=np.ones((2, 2)), wh=np.eye(2), y=[1, 2, 3]),
            ShapeError,
            "y: has 3 values but must have 2",
        ),
        (
            dict(xs=np.ones((3, 2)), wx=np.ones((2, 2)), wh=np.eye(2), targets=np.ones((2, 2))),
            ShapeError,
            "must be T×O = 3×2",
        ),
        (
            dict(
                xs=np.ones((3, 2)),
                wx=np.ones((2, 2)),
                wh=np.eye(2),
                y=[1, 2],
                targets=np.ones((3, 2)),
            ),
            InputError,
            "not both",
        ),
        (
            dict(xs=np.ones((3, 2)), wx=np.ones((2, 2)), wh=np.eye(2), activation="gelu"),
            InputError,
            "expected one of",
        ),
    ],
)
def test_shape_errors_name_both_shapes(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        bptt(**kwargs)


# --- CLI ------------------------------------------------------------------------------


def test_cli_example_json(run_json):
    doc = run_json("bptt", "--example")
    res = doc["result"]
    assert doc["command"] == "bptt"
    assert len(res["h"]) == 4 and res["regime"] == "vanishing"
    assert res["eigenvalues"] == [[0.8, 0.0]] and res["spectral_radius"] == 0.8
    assert set(res["grads"]) == {"wx", "wh", "b", "h0"}
    assert res["jacobian_norms"][-1] == 1 and res["diagonalizable"] is True


def test_cli_only_and_plain_blocks(run):
    out = run("bptt", "--example", "--only", "grads.wh").stdout
    assert float(out) == pytest.approx(
        bptt(xs=[1, 0.5, -0.5, 1], wx=0.5, wh=0.8, y=0.5).grads["wh"][0, 0], rel=0, abs=0
    )
    plain = run("bptt", "--example").stdout
    assert "# grads.wh\n" in plain and "# regime\nvanishing" in plain


def test_cli_rich_follows_the_notes(run):
    out = run("bptt", "--example", "--lr", "0.1", "--check", "--no-color", fmt="rich").stdout
    for fragment in (
        "Forward pass",
        "L = ½‖ŷ − y‖²",
        "∂L/∂W_h = Σ_t",
        "1 − tanh²",
        "W_h = T Σ T⁻¹",
        "vanishing gradient",
        "(γ·σ_max)^(T−t)",
        "w_h^α = 0.8^α",
        "W_h := W_h − α ∂L/∂W_h = 0.8 − 0.1·0.0394 = 0.7961",
        "Gradient check: largest relative error against central differences",
        "learning rate",
    ):
        assert fragment in out, fragment
    assert "the gradients agree." in " ".join(out.split())  # wrapped at the width


def test_cli_weights_file_and_random(run_json, tmp_path):
    arrays = case(4, readout=True)
    np.savez(tmp_path / "w.npz", **arrays)
    doc = run_json("bptt", "--weights", f"@{tmp_path / 'w.npz'}")
    res = bptt(**arrays)
    assert doc["result"]["loss"] == res.loss
    np.testing.assert_array_equal(doc["result"]["grads"]["wy"], res.grads["wy"])
    (tmp_path / "w.json").write_text(json.dumps({k: v.tolist() for k, v in arrays.items()}))
    assert run_json("bptt", "--weights", f"@{tmp_path / 'w.json'}")["result"]["loss"] == res.loss
    rnd = run_json("bptt", "--random", "10,2,3", "--seed", "0", "--scale", "0.5")
    assert abs(rnd["result"]["spectral_radius"] - 0.5) < 1e-12
    assert rnd["result"]["regime"] == "vanishing"


def test_cli_lr_and_many_to_many(run_json):
    doc = run_json(
        "bptt",
        "--xs",
        "1; 2; 3",
        "--wx",
        "0.5",
        "--wh",
        "0.9",
        "--targets",
        "0.1; 0.2; 0.3",
        "--lr",
        "0.1",
    )
    res = doc["result"]
    assert res["updated"]["wh"][0][0] == pytest.approx(0.9 - 0.1 * res["grads"]["wh"][0][0], abs=0)
    assert len(res["y_hat"]) == 3


@pytest.mark.parametrize(
    "args, fragments",
    [
        (
            ["bptt", "--xs", "1 2", "--wx", "1 2; 3 4", "--wh", "1 0 0; 0 1 0; 0 0 1"],
            ["wx", "W_x is 2×2", "W_h 3×3"],
        ),
        (["bptt", "--xs", "1 2"], ["wx", "missing"]),
        (["bptt", "--random", "3,1"], ["random", "3 whole numbers"]),
        (["bptt", "--weights", "@nope.npz"], ["weights", "file not found"]),
        (["bptt", "--example", "--at", "9"], ["at", "beyond T = 4"]),
        (["bptt", "--xs", "1", "--wx", "1", "--wh", "1", "--seed", "3"], ["--seed"]),
    ],
)
def test_cli_errors(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_cli_weights_with_unknown_names(run, tmp_path):
    np.savez(tmp_path / "w.npz", wq=np.ones(2))
    assert_error(run("bptt", "--weights", f"@{tmp_path / 'w.npz'}"), "unknown array name(s) wq")


def test_chain_and_step_terms_agree_with_the_results():
    res = bptt(**case(9, T=6))
    for t in range(6):
        assert np.linalg.norm(res.chain(t), 2) == pytest.approx(res.jacobian_norms[t], rel=1e-10)
    np.testing.assert_allclose(sum(res.step_term(t) for t in range(6)), res.grads["wh"], rtol=1e-12)
    scalar = bptt(xs=[1, 0.5, -0.5, 1], wx=0.5, wh=0.8, y=0.5)
    expected = np.prod([scalar.fprime[k + 1, 0] * 0.8 for k in range(3)])
    assert scalar.chain(0)[0, 0] == pytest.approx(expected, rel=1e-14)
