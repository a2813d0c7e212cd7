"""BPTT through rnn, gru and lstm cells (core/gated_bptt.py), against an independent NumPy
forward pass written here (central finite differences of it), PyTorch float64 autograd
fixtures (tests/fixtures/make_gated_bptt_fixture.py), and the definitions of truncation
and clipping."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from cnnrnn_cli.core import gated_bptt as gb
from cnnrnn_cli.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
T, D, H, O = 5, 3, 4, 2  # noqa: E741


def sig(a):
    return 1 / (1 + np.exp(-a))


ACT = {
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0),
    "sigmoid": sig,
    "identity": lambda a: a,
}


def step(cell, w, x, h, c, act="tanh", reset_after=True, z_keeps="old"):
    """One step of each cell, written from the notes' formulas (no code shared)."""
    if cell == "rnn":
        return ACT[act](w["wx"] @ x + w["wh"] @ h + w["b"]), None
    if cell == "gru":
        z = sig(w["wxz"] @ x + w["whz"] @ h + w["bz"])
        r = sig(w["wxr"] @ x + w["whr"] @ h + w["br"])
        if reset_after:
            n = np.tanh(w["wxh"] @ x + r * (w["whh"] @ h + w["bhh"]) + w["bh"])
        else:
            n = np.tanh(w["wxh"] @ x + w["whh"] @ (r * h) + w["bhh"] + w["bh"])
        return (z * h + (1 - z) * n if z_keeps == "old" else (1 - z) * h + z * n), None
    i, f, o = (sig(w[f"wx{k}"] @ x + w[f"wh{k}"] @ h + w[f"b{k}"]) for k in "ifo")
    g = np.tanh(w["wxg"] @ x + w["whg"] @ h + w["bg"])
    c = f * c + i * g
    return o * np.tanh(c), c


def run(cell, w, xs, h, c, **kw):
    hs, cs = [], []
    for x in xs:
        h, c = step(cell, w, x, h, c, **kw)
        hs.append(h)
        cs.append(c)
    return hs, cs


def loss(cell, a, xs, targets, many, kw, truncate=None, base=None):
    """Σ ½‖ŷ − y‖²; with truncate K, each L_s run over its last K steps from the (constant)
    state `base` gives it at s − K."""
    w = {k: v for k, v in a.items() if k not in ("wy", "by", "h0", "c0")}
    ends = range(len(xs)) if many else [len(xs) - 1]
    total = 0.0
    for s in ends:
        start = 0 if truncate is None else max(0, s - truncate + 1)
        h, c = (a["h0"], a.get("c0")) if start == 0 else base[start - 1]
        hs, _ = run(cell, w, xs[start : s + 1], h, c, **kw)
        y = hs[-1] if "wy" not in a else a["wy"] @ hs[-1] + a["by"]
        total += 0.5 * np.sum((y - (targets[s] if many else targets)) ** 2)
    return total


def numeric_grads(cell, a, xs, targets, many, kw, truncate=None, eps=1e-6):
    w = {k: v for k, v in a.items() if k not in ("wy", "by", "h0", "c0")}
    hs, cs = run(cell, w, xs, a["h0"], a.get("c0"), **kw)
    base = list(zip(hs, cs, strict=True))
    out = {}
    for key, value in a.items():
        g = np.zeros_like(value)
        flat, gflat = value.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            up = loss(cell, a, xs, targets, many, kw, truncate, base)
            flat[i] = saved - eps
            down = loss(cell, a, xs, targets, many, kw, truncate, base)
            flat[i] = saved
            gflat[i] = (up - down) / (2 * eps)
        out[key] = g
    return out


def case(cell, seed=0, readout=False, many=False):
    rng = np.random.default_rng(seed)
    w = gb.random_cell(cell, T, D, H, seed, scale=0.9)
    xs, y = w.pop("xs"), w.pop("y")
    a = {k: np.array(w[k]) for k in gb.PARAMS[cell]}
    if cell == "rnn":
        a["b"] = rng.standard_normal(H) * 0.3
    if readout:
        a["wy"], a["by"] = rng.standard_normal((O, H)), rng.standard_normal(O)
    a["h0"] = rng.standard_normal(H) * 0.5
    if cell == "lstm":
        a["c0"] = rng.standard_normal(H)
    out = O if readout else H
    targets = rng.standard_normal((T, out)) if many else rng.standard_normal(out)
    return xs, y, a, targets


def compute(cell, xs, a, targets, many, **kw):
    return gb.bptt(
        cell,
        xs,
        **{("targets" if many else "y"): targets},
        **{k: v.copy() for k, v in a.items()},
        **kw,
    )


GRU_KW = [
    dict(reset_after=ra, z_keeps=zk) for ra, zk in itertools.product((True, False), ("old", "new"))
]
CASES = (
    [("rnn", dict(activation=act), {"act": act}) for act in ACT]
    + [("gru", kw, kw) for kw in GRU_KW]
    + [("lstm", {}, {})]
)


@pytest.mark.parametrize(
    "readout, many", [(False, False), (True, False), (True, True), (False, True)]
)
@pytest.mark.parametrize("cell, options, naive", CASES)
def test_gradients_equal_finite_differences(cell, options, naive, readout, many):
    xs, _, a, targets = case(cell, 3, readout, many)
    res = compute(cell, xs, a, targets, many, **options)
    numeric = numeric_grads(cell, a, xs, targets, many, naive)
    assert list(res.grads) == list(a) or set(res.grads) == set(a)
    for key in a:
        np.testing.assert_allclose(res.grads[key], numeric[key], rtol=1e-6, atol=1e-8, err_msg=key)
    assert res.loss == pytest.approx(loss(cell, a, xs, targets, many, naive), rel=1e-12)


@pytest.mark.parametrize("cell, options, naive", CASES[:1] + CASES[4:])
@pytest.mark.parametrize("truncate", [1, 2, 4])
@pytest.mark.parametrize("many", [False, True])
def test_truncation_is_the_windowed_loss_gradient(cell, options, naive, truncate, many):
    """Each L_s reaches back K steps: the gradient of Σ_s L_s(window s−K+1..s, from the
    constant state at s − K)."""
    xs, _, a, targets = case(cell, 5, True, many)
    res = compute(cell, xs, a, targets, many, truncate=truncate, **options)
    numeric = numeric_grads(cell, a, xs, targets, many, naive, truncate)
    for key in a:
        np.testing.assert_allclose(res.grads[key], numeric[key], rtol=1e-6, atol=1e-8, err_msg=key)
    full = compute(cell, xs, a, targets, many, **options)
    if not many and truncate < T:  # many-to-one: nothing before the window
        assert not res.grads["h0"].any()
        assert not res.grad_norms[: T - truncate].any()  # h_{T−K} is a constant: none
        np.testing.assert_allclose(res.grad_norms[T - truncate :], full.grad_norms[T - truncate :])
    assert res.loss == full.loss


def test_truncation_of_k_at_least_t_is_full_bptt():
    xs, _, a, targets = case("lstm", 1, True, True)
    full = compute("lstm", xs, a, targets, True)
    for k in (T, T + 3):
        res = compute("lstm", xs, a, targets, True, truncate=k)
        for key in full.grads:
            np.testing.assert_array_equal(res.grads[key], full.grads[key])


@pytest.mark.parametrize("cell", gb.CELLS)
@pytest.mark.parametrize("theta", [1e-3, 0.5, 1e6])
def test_clipping_follows_its_definition(cell, theta):
    xs, _, a, targets = case(cell, 2, True, True)
    res = compute(cell, xs, a, targets, True, clip=theta, lr=0.1)
    params = [k for k in res.grads if k not in ("h0", "c0")]
    norm = np.sqrt(sum(np.sum(res.grads[k] ** 2) for k in params))
    assert res.grad_norm == pytest.approx(norm, rel=1e-13)
    factor = min(1.0, theta / norm)
    assert res.clip_factor == pytest.approx(factor, rel=1e-13)
    for key in res.grads:
        np.testing.assert_allclose(res.clipped[key], factor * res.grads[key], rtol=1e-13)
        np.testing.assert_allclose(res.updated[key], a[key] - 0.1 * res.clipped[key], rtol=1e-13)
    assert (theta < norm) == (factor < 1)


@pytest.mark.parametrize("cell, options, naive", CASES[:1] + CASES[4:])
def test_state_and_input_gradient_norms_equal_finite_differences(cell, options, naive):
    """‖∂L/∂x_t‖ by perturbing x_t; ‖∂L/∂h_t‖ by perturbing h_t (the run resumed from it)."""
    xs, _, a, targets = case(cell, 4, True, True)
    res = compute(cell, xs, a, targets, True, **options)
    w = {k: v for k, v in a.items() if k not in ("wy", "by", "h0", "c0")}
    hs, cs = run(cell, w, xs, a["h0"], a.get("c0"), **naive)
    eps = 1e-6

    def tail_loss(t, h, c):  # L_t.. from state (h, c) after step t (0-based)
        rest, _ = run(cell, w, xs[t + 1 :], h, c, **naive)
        states = [h, *rest]
        return sum(
            0.5 * np.sum((a["wy"] @ s + a["by"] - targets[t + k]) ** 2)
            for k, s in enumerate(states)
        )

    for t in range(T):
        g = np.array(
            [
                (tail_loss(t, hs[t] + eps * e, cs[t]) - tail_loss(t, hs[t] - eps * e, cs[t]))
                / (2 * eps)
                for e in np.eye(H)
            ]
        )
        assert res.grad_norms[t] == pytest.approx(np.linalg.norm(g), rel=1e-6)
        if cell == "lstm":
            gc = np.array(
                [
                    (tail_loss(t, hs[t], cs[t] + eps * e) - tail_loss(t, hs[t], cs[t] - eps * e))
                    / (2 * eps)
                    for e in np.eye(H)
                ]
            )
            # ∂L/∂c_t in total: through h_t = o_t ⊙ tanh(c_t) too (h_t made from c_t)
            o = res.forward.gate("o")[t]
            gc_total = gc + g * o * (1 - np.tanh(cs[t]) ** 2)
            assert res.cell_grad_norms[t] == pytest.approx(np.linalg.norm(gc_total), rel=1e-6)
    for t in range(T):
        g = []
        for e in np.eye(D):
            up, down = xs.copy(), xs.copy()
            up[t] += eps * e
            down[t] -= eps * e
            g.append(
                (
                    loss(cell, a, up, targets, True, naive)
                    - loss(cell, a, down, targets, True, naive)
                )
                / (2 * eps)
            )
        assert res.input_grad_norms[t] == pytest.approx(np.linalg.norm(g), rel=1e-6)


def fd_jacobian(fn, v, eps=1e-6):
    return np.column_stack(
        [(fn(v + eps * e) - fn(v - eps * e)) / (2 * eps) for e in np.eye(v.size)]
    )


@pytest.mark.parametrize("kw", GRU_KW)
def test_gru_jacobian_equals_finite_differences_and_their_product(kw):
    xs, _, a, targets = case("gru", 6, False, False)
    res = compute("gru", xs, a, targets, False, **kw)
    w = {k: a[k] for k in gb.PARAMS["gru"]}
    hs, _ = run("gru", w, xs, a["h0"], None, **kw)
    prevs = [a["h0"], *hs[:-1]]
    product = np.eye(H)
    for t in range(T):
        jac = res.gru_jacobian(t)
        fd = fd_jacobian(lambda h, t=t: step("gru", w, xs[t], h, None, **kw)[0], prevs[t])
        np.testing.assert_allclose(jac.matrix, fd, atol=1e-9)
        # the backward step applied to I is the same matrix
        np.testing.assert_allclose(res._cell.jacobian(t), jac.matrix, atol=1e-14)
        np.testing.assert_allclose(
            jac.matrix, np.diag(jac.keep_term) + jac.gate_term + jac.candidate_term, atol=1e-15
        )
        product = jac.matrix @ product
    whole = fd_jacobian(lambda h: run("gru", w, xs, h, None, **kw)[0][-1], a["h0"])
    np.testing.assert_allclose(product, whole, atol=1e-9)


def test_gru_jacobian_names_the_near_identity_and_near_zero_cases():
    rng = np.random.default_rng(0)
    w = {
        k: rng.uniform(
            -0.5, 0.5, (H, H) if k.startswith("wh") else ((H, 1) if k.startswith("wx") else H)
        )
        for k in gb.PARAMS["gru"]
    }
    w["bz"] = np.array([8.0, 8.0, -8.0, 0.0])  # z ≈ 1, 1, 0, ½
    w["br"] = np.array([0.0, 0.0, -8.0, 0.0])  # r ≈ 0 for unit 3
    res = gb.bptt("gru", np.ones((3, 1)), tol=0.01, **w)
    jac = res.gru_jacobian(1)
    assert jac.carried == [0, 1] and jac.closed == [2]
    assert jac.row_identity_gap[:2].max() < 0.01
    assert jac.row_norms[2] < 0.01
    assert jac.row_norms[3] > 0.05 and jac.row_identity_gap[3] > 0.05
    new = gb.bptt("gru", np.ones((3, 1)), tol=0.01, z_keeps="new", **w).gru_jacobian(1)
    assert new.carried == [2] and new.closed == []


def test_lstm_cell_jacobian():
    xs, _, a, targets = case("lstm", 7, False, False)
    res = compute("lstm", xs, a, targets, False)
    w = {k: a[k] for k in gb.PARAMS["lstm"]}
    hs, cs = run("lstm", w, xs, a["h0"], a["c0"])
    for t in range(1, T):
        jac = res.lstm_jacobian(t)
        f = res.forward.gate("f")[t]
        np.testing.assert_array_equal(jac.f, f)
        direct = fd_jacobian(lambda c, t=t: step("lstm", w, xs[t], hs[t - 1], c)[1], cs[t - 1])
        np.testing.assert_allclose(direct, np.diag(f), atol=1e-9)
        via_h = fd_jacobian(lambda h, t=t: step("lstm", w, xs[t], h, cs[t - 1])[1], hs[t - 1])
        np.testing.assert_allclose(jac.c_from_h, via_h, atol=1e-9)
        # c_{t−1} → (h_{t−1}, c_{t−1}) → c_t, with h_{t−1} = o_{t−1} ⊙ tanh(c_{t−1})
        o_prev = res.forward.gate("o")[t - 1]

        def both(c, t=t, o_prev=o_prev):
            return step("lstm", w, xs[t], o_prev * np.tanh(c), c)[1]

        np.testing.assert_allclose(jac.total, fd_jacobian(both, cs[t - 1]), atol=1e-9)
    assert res.lstm_jacobian(0).through_h is None


# --- PyTorch float64 autograd fixtures ---------------------------------------------------


def torch_case(kind, prefix):
    data = np.load(FIXTURES / f"{kind}_bptt_torch.npz")
    d = {k[len(prefix) + 1 :]: data[k] for k in data.files if k.startswith(prefix + "_")}
    arrays = {k[2:]: d[k] for k in d if k.startswith("w_")}
    if kind == "gru":
        from cnnrnn_cli.core.gru import from_torch
    else:
        from cnnrnn_cli.core.lstm import from_torch
    return d, from_torch(arrays)


def torch_grads(kind, d):
    """The torch gradients under the option names (biases that add have one gradient)."""
    n = d["g_weight_hh"].shape[1]
    blocks = {
        k: [d[f"g_{k}"][j * n : (j + 1) * n] for j in range(d[f"g_{k}"].shape[0] // n)]
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    }
    out = {}
    if kind == "gru":
        for j, gate in enumerate("rz"):
            out[f"wx{gate}"], out[f"wh{gate}"] = blocks["weight_ih"][j], blocks["weight_hh"][j]
            out[f"b{gate}"] = blocks["bias_ih"][j]
        out["wxh"], out["whh"] = blocks["weight_ih"][2], blocks["weight_hh"][2]
        out["bh"], out["bhh"] = blocks["bias_ih"][2], blocks["bias_hh"][2]
    else:
        for j, gate in enumerate("ifgo"):
            out[f"wx{gate}"], out[f"wh{gate}"] = blocks["weight_ih"][j], blocks["weight_hh"][j]
            out[f"b{gate}"] = blocks["bias_ih"][j]
    return out


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("prefix", ["one", "many", "trunc"])
def test_equals_pytorch_autograd(kind, prefix):
    d, w = torch_case(kind, prefix)
    many = prefix == "many"
    states = {"h0": d["h0"]} | ({"c0": d["c0"]} if kind == "lstm" else {})
    res = gb.bptt(
        kind,
        d["xs"],
        wy=d["wy"],
        by=d["by"],
        **({"targets": d["y"]} if many else {"y": d["y"]}),
        truncate=3 if prefix == "trunc" else None,
        **states,
        **w,
    )
    assert res.loss == pytest.approx(float(d["loss"]), rel=1e-12)
    np.testing.assert_allclose(res.h, d["h"], rtol=1e-12, atol=1e-14)
    expected = torch_grads(kind, d) | {"wy": d["g_wy"], "by": d["g_by"], "h0": d["g_h0"]}
    if kind == "lstm":
        expected["c0"] = d["g_c0"]
    assert set(res.grads) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(res.grads[key], value, rtol=1e-10, atol=1e-13, err_msg=key)
    np.testing.assert_allclose(
        res.grad_norms, np.linalg.norm(d["g_h"], axis=1), rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(
        res.input_grad_norms, np.linalg.norm(d["g_xs"], axis=1), rtol=1e-10, atol=1e-14
    )
    if kind == "lstm" and prefix != "trunc":
        np.testing.assert_allclose(
            res.cell_grad_norms, np.linalg.norm(d["g_c"], axis=1), rtol=1e-10
        )


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(truncate=0), "truncate"),
        (dict(clip=0.0), "clip"),
        (dict(clip=float("nan")), "clip"),
        (dict(lr=float("inf")), "lr"),
        (dict(c0=[1, 2, 3, 4]), "c0"),
        (dict(wxi=np.ones((H, D))), "weights"),
    ],
)
def test_refusals_name_the_input(kw, name):
    xs, _, a, targets = case("gru", 0)
    with pytest.raises(InputError) as err:
        gb.bptt("gru", xs, y=targets, **{k: v for k, v in a.items() if k not in ("h0",)}, **kw)
    assert err.value.source == name


def test_budget_is_checked_before_the_traces():
    from cnnrnn_cli import budget

    xs, _, a, targets = case("lstm", 0)
    with budget.limited(20), pytest.raises(InputError):
        compute("lstm", xs, a, targets, False)
