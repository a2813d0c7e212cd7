"""resblock: values and Jacobians against finite differences, the identity path, errors.
inception: counts against an independent sum, presets, --compute shapes, errors."""

import numpy as np
import pytest

from cnnrnn_cli.core.activations import activation
from cnnrnn_cli.core.inception import PRESETS, compute, inception
from cnnrnn_cli.core.resblock import random_case, resblock
from cnnrnn_cli.errors import InputError, ShapeError
from conftest import assert_error, stable_seed

ACTIVATIONS = ["relu", "tanh", "sigmoid", "identity"]


def forward(arrays, name, skip):
    f = activation(name)[0]
    a1 = f(arrays["w1"] @ arrays["a0"] + arrays["b1"])
    z2 = arrays["w2"] @ a1 + arrays["b2"]
    return f(z2 + arrays["a0"]) if skip else f(z2)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("skip", [True, False])
def test_values_and_jacobians_against_finite_differences(name, skip):
    arrays = random_case(5, seed=stable_seed(name, modulo=100))
    res = resblock(activation=name, **arrays)
    run = res.skip if skip else res.plain
    np.testing.assert_allclose(run.a2, forward(arrays, name, skip), rtol=1e-14)
    eps = 1e-6
    numeric = np.zeros((5, 5))
    for j in range(5):
        up, down = dict(arrays), dict(arrays)
        up["a0"] = arrays["a0"] + eps * np.eye(5)[j]
        down["a0"] = arrays["a0"] - eps * np.eye(5)[j]
        numeric[:, j] = (forward(up, name, skip) - forward(down, name, skip)) / (2 * eps)
    np.testing.assert_allclose(run.jacobian, numeric, atol=1e-6)


def test_identity_path_is_exactly_the_identity():
    arrays = random_case(4, seed=0)
    arrays["w2"] = np.zeros((4, 4))
    res = resblock(activation="identity", **arrays)
    assert np.array_equal(res.skip.jacobian, np.eye(4))
    assert np.array_equal(res.plain.jacobian, np.zeros((4, 4)))


def test_relu_kink_takes_pytorch_value():
    res = resblock(a0=[1.0], w1=[[1.0]], b1=[-1.0], w2=[[1.0]], b2=[0.0])
    assert res.plain.z1[0] == 0 and res.plain.jacobian[0, 0] == 0  # relu'(0) = 0


def test_projection_shortcut():
    rng = np.random.default_rng(1)
    a0, w1, w2, ws = (rng.standard_normal(s) for s in [(3,), (4, 3), (2, 4), (2, 3)])
    res = resblock(a0=a0, w1=w1, w2=w2, shortcut=ws, activation="tanh")
    expected = np.tanh(w2 @ np.tanh(w1 @ a0) + ws @ a0)
    np.testing.assert_allclose(res.skip.a2, expected, rtol=1e-14)
    assert res.skip.jacobian.shape == (2, 3)


def test_depth_norms_match_explicit_products():
    arrays = random_case(3, seed=2)
    res = resblock(activation="tanh", depth=4, **arrays)
    f, fp, _ = activation("tanh")
    for name, skip in (("skip", True), ("plain", False)):
        a, jac = arrays["a0"], np.eye(3)
        for depth in range(4):
            z1 = arrays["w1"] @ a + arrays["b1"]
            a1 = f(z1)
            pre = arrays["w2"] @ a1 + arrays["b2"] + (a if skip else 0)
            block = (1 - np.tanh(pre) ** 2)[:, None] * (
                arrays["w2"] @ ((1 - a1**2)[:, None] * arrays["w1"]) + (np.eye(3) if skip else 0)
            )
            jac = block @ jac
            a = np.tanh(pre)
            assert res.grad_norms[name][depth] == pytest.approx(np.linalg.norm(jac, 2), rel=1e-12)


def test_random_depth_keeps_skip_gradients_alive():
    res = resblock(
        activation="relu", depth=30, random_depth=True, seed=0, **random_case(16, seed=0)
    )
    assert res.grad_norms["skip"][-1] > 1e-2
    assert res.grad_norms["plain"][-1] < res.grad_norms["skip"][-1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(a0=np.ones(3), w1=np.ones((2, 4)), w2=np.ones((3, 2))), "W1 is 2×4 but a0 has 3"),
        (dict(a0=np.ones(3), w1=np.ones((2, 3)), w2=np.ones((3, 4))), "W2 is 3×4 but W1 2×3"),
        (
            dict(a0=np.ones(3), w1=np.ones((2, 3)), b1=np.ones(3), w2=np.ones((3, 2))),
            "b1: has 3 values but must have 2 to fit W1 2×3",
        ),
        (
            dict(a0=np.ones(3), w1=np.ones((2, 3)), w2=np.ones((3, 2)), b2=np.ones(2)),
            "b2: has 2 values but must have 3 to fit W2 3×2",
        ),
        (dict(a0=np.ones(3), w1=np.ones((2, 3)), w2=np.ones((4, 2))), "needs a projection"),
        (
            dict(a0=np.ones(3), w1=np.ones((2, 3)), w2=np.ones((4, 2)), shortcut=np.ones((4, 2))),
            "WS is 4×2 but must be 4×3",
        ),
    ],
)
def test_resblock_shape_errors(kwargs, message):
    with pytest.raises(ShapeError, match=message):
        resblock(**kwargs)


# --- inception ------------------------------------------------------------------------


def independent_count(c, h, w, n1, r3, n3, r5, n5, pp, bias=True):
    """The module's parameters and MACs, summed by hand from the paper's table columns."""
    weights = c * n1 + c * r3 + r3 * 9 * n3 + c * r5 + r5 * 25 * n5 + c * pp
    biases = n1 + r3 + n3 + r5 + n5 + pp
    return weights + (biases if bias else 0), weights * h * w


@pytest.mark.parametrize("name", ["3a", "4c", "5b", "4e"])
@pytest.mark.parametrize("bias", [True, False])
def test_counts_against_an_independent_sum(name, bias):
    (c, h, w), counts = PRESETS[name]
    res = inception(preset=name, bias=bias)
    assert (res.params, res.macs) == independent_count(c, h, w, *counts, bias=bias)


def test_paper_numbers_for_3a():
    res = inception(preset="3a", bias=False)
    assert res.params // 1024 == 159 and round(res.macs / 1e6) == 128  # Table 1: 159K, 128M


def test_output_depths_of_all_nine_presets():
    depths = [inception(preset=name).output_shape[0] for name in PRESETS]
    assert depths == [256, 480, 512, 512, 512, 528, 832, 832, 1024]


def test_naive_module():
    res = inception(
        [192, 28, 28], n1x1=64, n3x3red=96, n3x3=128, n5x5red=16, n5x5=32, pool_proj=32, bias=False
    )
    assert res.naive["output_shape"] == [64 + 128 + 32 + 192, 28, 28]
    assert res.naive["params"] == 192 * (64 + 128 * 9 + 32 * 25)
    assert res.naive["macs"] == res.naive["params"] * 28 * 28


def test_compute_shapes_agree_with_the_arithmetic():
    res = inception([3, 6, 5], n1x1=2, n3x3red=2, n3x3=3, n5x5red=1, n5x5=2, pool_proj=1)
    x = np.random.default_rng(0).standard_normal((3, 6, 5))
    out, branches, used = compute(res, x, seed=0)
    assert list(out.shape) == res.output_shape == [8, 6, 5]
    assert [list(b.shape) for b in branches] == [br.output_shape for br in res.branches]
    assert (out >= 0).all()  # ReLU after every conv
    again, _, _ = compute(res, x, weights=used)
    np.testing.assert_array_equal(out, again)


def test_compute_1x1_branch_is_a_matrix_product():
    res = inception([3, 4, 4], n1x1=2, n3x3red=1, n3x3=1, n5x5red=1, n5x5=1, pool_proj=1)
    x = np.random.default_rng(1).standard_normal((3, 4, 4))
    w = np.random.default_rng(2).standard_normal((2, 3, 1, 1))
    out, branches, _ = compute(res, x, weights={"b1_w": w, "b1_b": np.zeros(2)}, seed=0)
    expected = np.maximum(np.einsum("kc,chw->khw", w[:, :, 0, 0], x), 0)
    np.testing.assert_allclose(branches[0], expected, rtol=1e-13)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(shape=[3, 8, 8], n1x1=1), "n3x3red: missing"),
        (dict(shape=[3, 8], n1x1=1), "expected C×H×W"),
        (dict(preset="6a"), "expected one of"),
        (dict(shape=None), "shape: missing"),
    ],
)
def test_inception_errors(kwargs, message):
    with pytest.raises((InputError, ShapeError), match=message):
        inception(**kwargs)


# --- CLI ------------------------------------------------------------------------------


def test_cli_resblock(run, run_json):
    doc = run_json("resblock", "--example")
    assert set(doc["result"]) == {"skip", "plain"}
    assert set(doc["result"]["skip"]) == {"z1", "a1", "z2", "a2", "jacobian"}
    assert doc["result"]["skip"]["a2"] == [2.0, 1.0] and doc["result"]["plain"]["a2"] == [1.0, 0.0]
    rich = run("resblock", "--example", fmt="rich").stdout
    assert "a_3" in rich and "w/out skip" in rich
    assert "unit 2 of a2 is dead without the skip" in rich  # the skip rescues row 2
    deep = run_json("resblock", "--random", "--size", "6", "--depth", "5", "--seed", "1")
    assert len(deep["result"]["grad_norms"]["skip"]) == 5
    latex = run("resblock", "--example", "-f", "latex", fmt=None).stdout
    assert "a_2 = f(z_2 + a_0)" in latex


def test_cli_inception(run, run_json):
    doc = run_json("inception", "--preset", "3a", "--no-bias")
    res = doc["result"]
    assert res["output_shape"] == [256, 28, 28] and res["params"] == 163328
    assert [b["name"] for b in res["branches"]] == ["1x1", "3x3", "5x5", "pool"]
    assert res["naive"]["output_shape"] == [416, 28, 28]
    computed = run_json("inception", "--example", "--compute", "--seed", "0")
    assert np.array(computed["result"]["output"]).shape == (6, 5, 5)
    rich = run("inception", "--preset", "4a", fmt="rich").stdout
    flat = " ".join(rich.split())
    assert "with its 1×1 reductions: the naive module needs" in flat
    assert run("inception", "--preset", "5b", "--only", "output_shape").stdout == "1024 7 7\n"
    # One channel each: the reductions add a layer and save nothing; the words say so.
    tiny = ["1x1x1", "--n1x1", "1", "--n3x3red", "1", "--n3x3", "1", "--n5x5red", "1"]
    flat = " ".join(
        run("inception", *tiny, "--n5x5", "1", "--pool-proj", "1", fmt="rich").stdout.split()
    )
    assert "this module needs 1.16× the naive module's parameters (44 against 38)" in flat
    assert "needs 1.09× the naive module's multiply-adds (38 against 35)" in flat


@pytest.mark.parametrize(
    "args, fragments",
    [
        (
            ["resblock", "--a0", "1 2 3", "--w1", "1 2; 3 4", "--w2", "1 0; 0 1"],
            ["w1", "W1 is 2×2 but a0 has 3"],
        ),
        (["resblock", "--a0", "1 2"], ["w1", "missing"]),
        (["resblock", "--example", "--a0", "1"], ["w1", "a0 has 1 values"]),
        (["inception", "3x8x8", "--n1x1", "2"], ["n3x3red", "missing"]),
        (["inception", "3x8x8", "--n1x1", "0"], ["n1x1"]),
        (["inception", "--preset", "3a", "--tensor", "1 2"], ["--compute"]),
        (["inception", "--example", "--compute", "--tensor", "1 2; 3 4"], ["tensor", "is 2×2"]),
    ],
)
def test_cli_errors(run, args, fragments):
    assert_error(run(*args), *fragments)
