"""Groups, the backward pass of conv and pool, against naive loops, central finite
differences and a stored PyTorch fixture."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive import (
    naive_conv2d_grads,
    naive_grouped_conv2d,
    naive_pad,
    naive_pool_grad,
)

from cnnrnn_cli import api, budget
from cnnrnn_cli.core import conv, conv_grad, depthwise, parallel, pool
from cnnrnn_cli.core.conv import conv2d
from cnnrnn_cli.core.conv_grad import conv2d_backward
from cnnrnn_cli.core.pool import pool2d
from cnnrnn_cli.errors import CnnrnnError

FIXTURES = Path(__file__).parent / "fixtures"
PAD_MODES = ["zeros", "reflect", "replicate", "circular"]
NOTES_IMAGE = np.array(
    [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float
)
NOTES_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def backward(x, w, g, **options):
    res = conv2d(x, w, **options)
    conv2d_backward(res, g)
    return res


def central_differences(loss, array, h=1.0):
    """∂loss/∂array, one entry at a time: (loss(a + h) − loss(a − h)) / 2h. The conv is
    linear in each of its inputs, so any h is exact up to rounding."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + h
        up = loss()
        array[index] = old - h
        down = loss()
        array[index] = old
        grad[index] = (up - down) / (2 * h)
    return grad


# --- groups: the forward pass ---------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    groups=st.integers(1, 3),
    cg=st.integers(1, 2),
    kg=st.integers(1, 2),
    h=st.integers(3, 7),
    w=st.integers(3, 7),
    f=st.integers(1, 3),
    s=st.integers(1, 2),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    mode=st.sampled_from(PAD_MODES),
)
def test_grouped_conv_matches_the_naive_loop(seed, groups, cg, kg, h, w, f, s, p, d, mode):
    if d * (f - 1) + 1 > min(h, w) + 2 * p or (mode == "reflect" and p >= min(h, w)):
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((groups * cg, h, w))
    weights = rng.standard_normal((groups * kg, cg, f, f))
    b = rng.standard_normal(groups * kg)
    res = conv2d(x, weights, s, p, d, b, mode, groups=groups)
    expected = naive_grouped_conv2d(x, weights, b, (s, s), ((p, p), (p, p)), (d, d), groups, mode)
    close(res.output, expected)
    assert res.mode == ("grouped" if groups > 1 else "filters")
    # each filter sees its group's channels: the window holds exactly those
    k = groups * kg - 1
    assert list(res.channels_of(k)) == list(range((groups - 1) * cg, groups * cg))
    wk, xk = res.window(k, 0, 0)
    assert np.sum(wk * xk) + b[k] == pytest.approx(res.output[k, 0, 0], abs=1e-12)


def test_depthwise_forms_agree():
    """G = C: a C×1×F×F kernel, a C×F×F one (the literal grammar's), and one F×F shared."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 6, 5)), rng.standard_normal((3, 1, 3, 3))
    four = conv2d(x, w, padding=1, groups=3)
    three = conv2d(x, w[:, 0], padding=1, groups=3)
    close(four.output, three.output)
    shared = conv2d(x, w[0, 0], padding=1, groups=3)
    assert shared.mode == "depthwise" and shared.groups == 3
    close(shared.output, conv2d(x, w[0, 0], padding=1).output)
    # a channel multiplier (K = 2C): each channel feeds two filters
    w2 = rng.standard_normal((6, 1, 2, 2))
    close(
        conv2d(x, w2, stride=2, groups=3).output,
        naive_grouped_conv2d(x, w2, stride=(2, 2), groups=3),
    )


@pytest.mark.parametrize(
    "shape, kernel, groups, message",
    [
        ((4, 5, 5), (4, 2, 3, 3), 3, "3 groups do not divide the 4 image channels"),
        ((4, 5, 5), (3, 2, 3, 3), 2, "2 groups do not divide the 3 filters"),
        ((4, 5, 5), (4, 1, 3, 3), 2, "need C/G = 2"),
        ((4, 5, 5), (4, 3, 3), 2, "needs C/G = 1"),
        ((4, 5, 5), (3, 3), 2, "give a K×\\(C/G\\)×F×F kernel"),
        ((4, 5, 5), (4, 2, 3, 3), 0, "must be a whole number, 1 or more"),
        ((5, 5), (2, 1, 3, 3), 2, "2 groups do not divide the 1 image channels"),
    ],
)
def test_group_errors(shape, kernel, groups, message):
    with pytest.raises(CnnrnnError, match=message):
        conv2d(np.ones(shape), np.ones(kernel), groups=groups)


# --- the backward pass ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    groups=st.integers(1, 2),
    cg=st.integers(1, 2),
    kg=st.integers(1, 2),
    h=st.integers(2, 6),
    w=st.integers(2, 6),
    f=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    mode=st.sampled_from(PAD_MODES),
)
def test_conv_grads_match_the_naive_chain_rule(seed, groups, cg, kg, h, w, f, s, p, d, mode):
    if d * (f - 1) + 1 > min(h, w) + 2 * p or (mode == "reflect" and p >= min(h, w)):
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((groups * cg, h, w))
    weights = rng.standard_normal((groups * kg, cg, f, f))
    res = conv2d(x, weights, s, p, d, None, mode, groups=groups)
    g = rng.standard_normal(res.output.shape)
    conv2d_backward(res, g)
    gx, gw, gb = naive_conv2d_grads(x, weights, g, (s, s), ((p, p), (p, p)), (d, d), groups, mode)
    close(res.grad_input, gx)
    close(res.grad_kernel, gw)
    close(res.grad_bias, gb)
    assert res.grad_input.shape == x.shape and res.grad_kernel.shape == weights.shape


# Every option of conv, each case small enough for finite differences over every entry.
FD_CASES = [
    dict(shape=(5, 5), kernel=(3, 3)),  # the notes' single channel
    dict(shape=(2, 5, 6), kernel=(2, 3, 3), padding=1),  # C×F×F summed over C
    dict(shape=(2, 5, 6), kernel=(3, 3), padding=1, stride=2),  # one F×F on each channel
    dict(shape=(5, 6), kernel=(3, 2, 2), stride=(2, 1)),  # K one-channel filters
    dict(shape=(2, 6, 5), kernel=(3, 2, 3, 3), stride=2, padding=2, dilation=2),
    dict(shape=(4, 6, 6), kernel=(4, 2, 3, 3), groups=2, padding=1, bias=True),
    dict(shape=(3, 7, 6), kernel=(3, 1, 3, 3), groups=3, stride=2, padding="same"),
    dict(shape=(2, 6, 6), kernel=(2, 2, 3, 3), padding=2, pad_mode="reflect"),
    dict(shape=(2, 5, 6), kernel=(2, 2, 3, 3), padding=3, pad_mode="replicate", stride=2),
    dict(shape=(2, 5, 6), kernel=(2, 2, 3, 3), padding=(2, 1), pad_mode="circular", dilation=2),
    dict(shape=(2, 6, 7), kernel=(2, 2, 2, 2), padding="same", pad_mode="reflect"),
    dict(shape=(2, 6, 7), kernel=(2, 2, 3, 3), padding="full", flip=True, bias=True),
    dict(shape=(5, 5), kernel=(3, 3), padding="valid", stride=3),  # rows no window reaches
]


@pytest.mark.parametrize("case", FD_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_conv_grads_against_central_differences(case):
    case = dict(case)
    rng = np.random.default_rng(len(str(case)))
    x = rng.standard_normal(case.pop("shape"))
    w = rng.standard_normal(case.pop("kernel"))
    b = rng.standard_normal(w.shape[0] if w.ndim == 4 else 1) if case.pop("bias", False) else None
    res = conv2d(x, w, bias=b, **case)
    g = rng.standard_normal(res.output.shape)
    conv2d_backward(res, g)

    def loss():
        return float(np.sum(conv2d(x, w, bias=b, **case).output * g))

    close(res.grad_input, central_differences(loss, x), 1e-10)
    close(res.grad_kernel, central_differences(loss, w), 1e-10)
    if b is not None:
        close(res.grad_bias, central_differences(loss, b), 1e-10)
    close(res.grad_bias.sum(), g.sum(), 1e-10)


def test_pad_modes_fold_the_gradient_back_into_the_input():
    """With reflect padding the border rows' gradient lands on rows 1..P, not the edge;
    replicate piles it on the edge; circular on the far side."""
    x = np.zeros((4, 4))
    top = np.zeros((6, 6))
    top[0, 1:5] = 1  # G is 1 on the padded top row (not its corners) only
    for mode, row in (("reflect", 1), ("replicate", 0), ("circular", 3)):
        res = backward(x, np.ones((1, 1)), top, padding=1, pad_mode=mode)
        # its gradient goes to the row that the padded top row copies
        assert res.grad_input[row].tolist() == [1, 1, 1, 1] and res.grad_input.sum() == 4
    zeros = backward(x, np.ones((1, 1)), np.ones((6, 6)), padding=1)
    assert zeros.grad_input.tolist() == np.ones((4, 4)).tolist()  # the border is cropped


def test_fold_padding_is_the_adjoint_of_padding():
    """⟨pad(x), y⟩ = ⟨x, fold(y)⟩ for every mode, uneven pads included."""
    rng = np.random.default_rng(3)
    for mode in PAD_MODES:
        for pads in (((1, 2), (3, 0)), ((2, 2), (1, 1)), ((0, 3), (2, 3))):
            x = rng.standard_normal((2, 4, 5))
            padded = naive_pad(x, pads, mode)
            y = rng.standard_normal(padded.shape)
            folded = conv_grad.fold_padding(y, pads, mode, x.shape[1:])
            assert np.sum(padded * y) == pytest.approx(np.sum(x * folded), rel=1e-12)


def test_notes_example_backward_is_the_hand_calculation():
    """G all ones: ∂L/∂W is the sum of the nine 3×3 windows; ∂L/∂x counts, for each
    pixel, the kernel's ones over the windows that cover it; ∂L/∂b = 9."""
    res = api.convolution(NOTES_IMAGE, NOTES_KERNEL, grad=np.ones((3, 3)))
    windows = sum(NOTES_IMAGE[i : i + 3, j : j + 3] for i in range(3) for j in range(3))
    assert res.grad_kernel.tolist() == windows.tolist() == [[6, 7, 6], [4, 7, 7], [4, 6, 6]]
    assert res.grad_bias.tolist() == [9]
    assert res.grad_input.tolist() == [
        [1, 1, 2, 1, 1],
        [1, 2, 3, 2, 1],
        [2, 3, 5, 3, 2],
        [1, 2, 3, 2, 1],
        [1, 1, 2, 1, 1],
    ]


@pytest.mark.parametrize("case", FD_CASES[:11], ids=str)
def test_backward_facts_agree_with_the_gradients(case):
    case = dict(case)
    rng = np.random.default_rng(7)
    x = rng.standard_normal(case.pop("shape"))
    w = rng.standard_normal(case.pop("kernel"))
    case.pop("bias", None)
    res = api.convolution(x, w, **case)
    res = api.convolution(x, w, grad=rng.standard_normal(np.shape(res.output)), **case)
    facts = api.conv_backward_facts(res, k=0, c=0, u=0, v=0)
    # one weight's gradient is its sum over windows
    first = res.grad_kernel.reshape(-1)[0]
    assert facts.weight.value == pytest.approx(first, abs=1e-12)
    assert facts.weight.windows.shape[-2:] == np.shape(res.output)[-2:]
    # ∂L/∂x as the transposed convolution of G (cropped to the image's rows)
    if facts.as_transposed is not None:
        assert facts.as_transposed.agrees
        if not facts.as_transposed.folded:
            close(facts.as_transposed.result.output.reshape(x.shape), res.grad_input)
    else:  # only an uneven 'same' pad with nothing unused has no output_padding
        assert case.get("padding") == "same"
    # at stride 1, the full convolution with the flipped kernel
    if case.get("stride", 1) == 1:
        assert facts.full.agrees
        close(facts.full.output, res.grad_padded)
    else:
        assert facts.full is None


def test_grad_errors():
    res = conv2d(np.ones((4, 4)), np.ones((3, 3)))
    with pytest.raises(CnnrnnError, match=r"grad: 3×2 does not match the output 2×2"):
        conv2d_backward(res, np.ones((3, 2)))
    with pytest.raises(CnnrnnError, match="applies to a transposed convolution only"):
        api.convolution(np.ones((4, 4)), np.ones((3, 3)), output_padding=1)
    with pytest.raises(CnnrnnError, match="give an upstream gradient"):
        api.conv_backward_facts(res)
    # the padded gradient is budgeted like the padded input
    res = conv2d(np.ones((2, 20, 20)), np.ones((2, 3, 3)))
    with budget.limited(500), pytest.raises(CnnrnnError, match="over --max-elements 500"):
        conv2d_backward(res, np.ones((18, 18)))


def test_single_axis_grad_shapes_are_accepted():
    """A 1×H'×W' gradient for an H'×W' output (and the reverse) is the same gradient."""
    x, w = np.arange(16.0).reshape(4, 4), np.ones((1, 3, 3))
    a = api.convolution(x, w, grad=np.ones((1, 2, 2)))
    b = api.convolution(x, w[0], grad=np.ones((2, 2)))
    close(a.grad_input, b.grad_input)


# --- the torch fixture ----------------------------------------------------------------


def fixture_cases():
    data = np.load(FIXTURES / "conv_grad_torch.npz")
    names = sorted({key.split("/")[0] for key in data.files})
    return [
        (name, {k.split("/")[1]: data[k] for k in data.files if k.startswith(name + "/")})
        for name in names
    ]


@pytest.mark.parametrize("name, case", fixture_cases(), ids=[n for n, _ in fixture_cases()])
def test_against_torch_fixture(name, case):
    s, p, d, g, op, transposed, mode = (int(v) for v in case["options"])
    res = api.convolution(
        case["x"],
        case["w"],
        stride=s,
        padding=p,
        dilation=d,
        bias=case["b"],
        pad_mode=PAD_MODES[mode],
        groups=g,
        transposed=bool(transposed),
        output_padding=op,
        grad=case["g"],
    )
    close(res.output, case["out"])
    close(res.grad_input, case["grad_input"])
    close(res.grad_kernel, case["grad_kernel"])
    close(res.grad_bias, case["grad_bias"])


# --- the chunked and threaded paths ------------------------------------------------------


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_WORK", 0)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    for name in ("CHUNK_ELEMENTS", "CACHE_ELEMENTS", "GEMM_CHUNK_ELEMENTS"):
        monkeypatch.setattr(conv, name, 5)
    for name in ("PLANE_CHUNK_ELEMENTS", "PIECE_ELEMENTS"):
        monkeypatch.setattr(depthwise, name, 5)
    monkeypatch.setattr(depthwise, "ITEMS", 3)
    monkeypatch.setattr(conv_grad, "WEIGHT_CHUNK_ELEMENTS", 5)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**16),
    groups=st.sampled_from([1, 2, 4]),
    kg=st.integers(1, 2),
    s=st.integers(1, 2),
    d=st.integers(1, 2),
)
def test_chunked_paths_match_the_naive_loops(tiny_chunks, seed, groups, kg, s, d):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 7, 6))
    w = rng.standard_normal((groups * kg, 4 // groups, 3, 3))
    res = conv2d(x, w, s, 1, d, groups=groups)
    close(res.output, naive_grouped_conv2d(x, w, None, (s, s), ((1, 1), (1, 1)), (d, d), groups))
    g = rng.standard_normal(res.output.shape)
    conv2d_backward(res, g)
    gx, gw, _ = naive_conv2d_grads(x, w, g, (s, s), ((1, 1), (1, 1)), (d, d), groups)
    close(res.grad_input, gx)
    close(res.grad_kernel, gw)


# --- pool backward: avg, sum, l2 ---------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    c=st.integers(1, 2),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    f=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 1),
    ceil=st.booleans(),
    include=st.booleans(),
    mode=st.sampled_from(["avg", "sum", "l2"]),
)
def test_pool_grads_match_the_naive_loop(seed, c, h, w, f, s, p, ceil, include, mode):
    if f > min(h, w) + 2 * p or p > f // 2:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, h, w))
    res = pool2d(x, f, s, p, mode, ceil, include)
    g = rng.standard_normal(res.output.shape)
    res = pool2d(x, f, s, p, mode, ceil, include, grad=g)
    expected = naive_pool_grad(x, g, (f, f), (s, s), (p, p), mode, ceil, include)
    close(res.grad_input, expected)


@pytest.mark.parametrize("mode", ["avg", "sum", "l2"])
@pytest.mark.parametrize(
    "options",
    [dict(size=2, stride=1), dict(size=3, stride=2, padding=1, ceil=True), dict(global_pool=True)],
    ids=["k2s1", "k3s2p1ceil", "global"],
)
def test_pool_grads_against_central_differences(mode, options):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 5, 6))
    res = pool2d(x, mode=mode, count_include_pad=False, **options)
    g = rng.standard_normal(np.shape(res.output))
    res = pool2d(x, mode=mode, count_include_pad=False, grad=g, **options)

    def loss():
        return float(np.sum(pool2d(x, mode=mode, count_include_pad=False, **options).output * g))

    h = 1.0 if mode != "l2" else 1e-6  # l2 is not linear
    close(res.grad_input, central_differences(loss, x, h), 1e-10 if mode != "l2" else 1e-6)


def test_l2_gradient_of_a_window_of_zeros_is_zero():
    res = pool2d(np.zeros((2, 2)), 2, mode="l2", grad=[[1.0]])
    assert res.grad_input.tolist() == [[0, 0], [0, 0]]


def test_avg_gradient_spreads_over_the_window_and_the_divisor():
    """count_include_pad off: a corner window of one pixel sends all of G to it."""
    x = np.arange(9.0).reshape(3, 3)
    res = pool2d(x, 2, 2, 1, "avg", count_include_pad=False, grad=np.ones((2, 2)))
    assert res.grad_input.tolist() == [[1, 0.5, 0.5], [0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]
    assert pool.pool2d(x, 2, 1, mode="sum", grad=np.ones((2, 2))).grad_input.tolist() == [
        [1, 2, 1],
        [2, 4, 2],
        [1, 2, 1],
    ]
