"""The transposed convolution: against the direct scatter definition (a naive loop), the
zero-insertion identity, the adjoint of conv, and its backward pass by central
differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_conv_transpose2d, naive_grouped_conv2d

from cnnrnn_cli import api, budget
from cnnrnn_cli.core.conv import conv2d
from cnnrnn_cli.core.transposed import conv_transpose2d
from cnnrnn_cli.errors import CnnrnnError


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def naive_zero_insertion(x, w, stride, padding, output_padding, dilation, groups):
    """conv_arithmetic's recipe, written out: zeros between the pixels, d(F−1) − P of
    padding (negative crops) plus op bottom/right, then the flipped, channel-swapped
    kernel at stride 1."""
    c, h, wd = x.shape
    _, kg, fh, fw = w.shape
    up = np.zeros((c, (h - 1) * stride[0] + 1, (wd - 1) * stride[1] + 1))
    for i in range(h):
        for j in range(wd):
            up[:, i * stride[0], j * stride[1]] = x[:, i, j]
    lo = [dilation[a] * (f - 1) - padding[a] for a, f in enumerate((fh, fw))]
    hi = [lo[a] + output_padding[a] for a in range(2)]
    big = np.zeros(
        (
            c,
            up.shape[1] + 2 * max(lo[0], 0) + max(hi[0], 0) + 2 * max(-lo[0], 0) + 9,
            up.shape[2] + 2 * max(lo[1], 0) + max(hi[1], 0) + 2 * max(-lo[1], 0) + 9,
        )
    )
    # place `up` so that it starts lo rows in (a negative lo starts it above: cropped)
    off = [max(lo[a], 0) + max(-lo[a], 0) for a in range(2)]
    big[:, off[0] : off[0] + up.shape[1], off[1] : off[1] + up.shape[2]] = up
    start = [off[a] - lo[a] for a in range(2)]
    rows = up.shape[1] + lo[0] + hi[0]
    cols = up.shape[2] + lo[1] + hi[1]
    padded = big[:, start[0] : start[0] + rows, start[1] : start[1] + cols]
    cg = c // groups
    swapped = np.zeros((kg * groups, cg, fh, fw))
    for ch in range(c):
        for kk in range(kg):
            swapped[(ch // cg) * kg + kk, ch % cg] = w[ch, kk, ::-1, ::-1]
    return naive_grouped_conv2d(padded, swapped, dilation=dilation, groups=groups)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    groups=st.integers(1, 2),
    cg=st.integers(1, 2),
    kg=st.integers(1, 2),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    f=st.integers(1, 4),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    op=st.integers(0, 2),
)
def test_transposed_matches_the_scatter_and_zero_insertion(
    seed, groups, cg, kg, h, w, f, s, p, d, op
):
    if op >= max(s, d) or (h - 1) * s - 2 * p + d * (f - 1) + op + 1 <= 0:
        return
    if (w - 1) * s - 2 * p + d * (f - 1) + op + 1 <= 0:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((groups * cg, h, w))
    weights = rng.standard_normal((groups * cg, kg, f, f))
    b = rng.standard_normal(groups * kg)
    res = conv_transpose2d(x, weights, s, p, op, d, groups, b)
    scatter = naive_conv_transpose2d(x, weights, b, (s, s), (p, p), (op, op), (d, d), groups)
    close(res.output, scatter)
    zero = naive_zero_insertion(x, weights, (s, s), (p, p), (op, op), (d, d), groups)
    close(res.output, zero + b[:, None, None])
    view = res.zero_insertion()
    assert view.agrees and view.max_difference < 1e-12
    close(view.output, res.output)
    lo = d * (f - 1) - p
    assert view.pads == [(lo, lo + op), (lo, lo + op)]
    assert view.upsampled.shape == (groups * cg, (h - 1) * s + 1, (w - 1) * s + 1)
    # the scatter view of a cell: its contributions and the bias make the output
    k, y, q = (int(rng.integers(0, n)) for n in res.output.shape)
    terms = res.contributions(k, y, q)
    assert sum(t.product for t in terms) + b[k] == pytest.approx(res.output[k, y, q], abs=1e-12)
    for t in terms:
        assert t.row * s + t.u * d == y + p and t.col * s + t.v * d == q + p
        assert t.channel in res.inputs_of(k) and k in res.outputs_of(t.channel)


def test_the_issue_example_and_the_notes_kernel():
    res = api.convolution([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2, transposed=True)
    assert res.output.tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
    (c,) = res.contributions(0, 1, 1)  # out[2,2] (1-based) = x[1,1] · W[2,2]
    assert (c.row, c.col, c.u, c.v, c.product) == (0, 0, 1, 1, 1)
    view = res.zero_insertion()
    assert view.upsampled[0].tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert view.pads == [(1, 1), (1, 1)] and view.agrees
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
    notes = api.convolution([[1, 2], [3, 4]], kernel, stride=2, transposed=True)
    assert notes.output.shape == (5, 5)
    # the middle row: x's two rows stamp the kernel's last and first rows, which overlap
    assert notes.output[2].tolist() == [1 + 3, 0, 2 + 1 + 3 + 4, 0, 2 + 4]


def test_transposed_is_the_adjoint_of_conv():
    """⟨conv(x), y⟩ = ⟨x, convT(y)⟩ with the same weights, stride, padding, dilation,
    groups (output_padding restores the rows the conv's floor dropped)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 9, 8))
    w = rng.standard_normal((6, 2, 3, 3))
    fwd = conv2d(x, w, stride=2, padding=1, dilation=2, groups=2)
    y = rng.standard_normal(fwd.output.shape)
    op = [d.n + 2 * d.p_lo - ((d.out - 1) * d.s + d.span) for d in fwd.dims]
    back = conv_transpose2d(y, w, 2, 1, op, 2, 2)
    assert back.output.shape == x.shape
    assert np.sum(fwd.output * y) == pytest.approx(np.sum(x * back.output), rel=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        dict(stride=2),
        dict(stride=2, padding=1, output_padding=1),
        dict(stride=3, padding=2, dilation=2, output_padding=2, groups=2, bias=True),
        dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1), output_padding=(1, 0)),
        dict(stride=2, flip=True),
    ],
    ids=str,
)
def test_transposed_grads_against_central_differences(options):
    options = dict(options)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((2, 3 if options.get("groups", 1) == 1 else 1, 3, 3))
    groups = options.get("groups", 1)
    b = rng.standard_normal(w.shape[1] * groups) if options.pop("bias", False) else None
    res = api.convolution(x, w, bias=b, transposed=True, **options)
    g = rng.standard_normal(res.output.shape)
    res = api.convolution(x, w, bias=b, transposed=True, grad=g, **options)

    def loss():
        return float(np.sum(api.convolution(x, w, bias=b, transposed=True, **options).output * g))

    def central(array):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            old = array[index]
            array[index] = old + 1
            up = loss()
            array[index] = old - 1
            down = loss()
            array[index] = old
            grad[index] = (up - down) / 2
        return grad

    close(res.grad_input, central(x), 1e-10)
    close(res.grad_kernel, central(w), 1e-10)
    if b is not None:
        close(res.grad_bias, central(b), 1e-10)


def test_kernel_forms():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 3, 4))
    one = rng.standard_normal((3, 3))
    # an F×F kernel on C channels: each channel on its own (G = C), like conv's
    res = conv_transpose2d(x, one, 2)
    assert res.mode == "depthwise" and res.output.shape == (3, 7, 9)
    close(res.output[1], conv_transpose2d(x[1], one, 2).output)
    # C×F×F: summed into one output channel
    cff = rng.standard_normal((3, 2, 2))
    res = conv_transpose2d(x, cff, 1)
    assert res.mode == "channels" and res.output.shape == (4, 5)
    close(res.output, naive_conv_transpose2d(x, cff[:, None])[0])
    # K×F×F on an H×W image: K output channels
    res = conv_transpose2d(x[0], rng.standard_normal((2, 2, 2)), 2)
    assert res.mode == "filters" and res.output.shape == (2, 6, 8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(pad_mode="reflect"), "pads only with zeros"),
        (dict(output_padding=2, stride=2), "op < max\\(stride, dilation\\) = 2, got 2"),
        (dict(padding="same"), "'same' is not defined for a transposed convolution"),
        (dict(padding=5), "leaves no output"),
        (dict(groups=3), "3 groups do not divide the 2 image channels"),
    ],
)
def test_transposed_errors(kwargs, message):
    with pytest.raises(CnnrnnError, match=message):
        conv_transpose2d(np.ones((2, 3, 3)), np.ones((2, 2, 3, 3)), **kwargs)


def test_transposed_kernel_channel_errors():
    with pytest.raises(CnnrnnError, match="expects 3 input channels but the image 2×3×3 has 2"):
        conv_transpose2d(np.ones((2, 3, 3)), np.ones((3, 2, 3, 3)))
    with pytest.raises(CnnrnnError, match="grad: 2×2 does not match the output"):
        conv_transpose2d(np.ones((3, 3)), np.ones((2, 2)), grad=np.ones((2, 2)))


def test_transposed_budget():
    with budget.limited(1000), pytest.raises(CnnrnnError, match="over --max-elements 1000"):
        conv_transpose2d(np.ones((10, 10)), np.ones((4, 4)), stride=4)
    # the input padded for the phases (S² stride-1 correlations) is budgeted too
    with pytest.raises(CnnrnnError, match="image: the input padded for its phases would be"):
        conv_transpose2d(np.ones((6, 6)), np.ones((9, 9)), stride=3, padding=8, max_elements=70)


def test_transposed_weight_gradient_as_a_sum_over_windows():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 3, 4))
    w = rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal((6, 5, 7))
    res = api.convolution(x, w, stride=2, padding=1, groups=2, transposed=True, grad=g)
    assert res.grad_kernel.shape == w.shape and res.output.shape == g.shape
    for c, k, u, v in ((0, 0, 0, 0), (3, 2, 1, 2), (2, 1, 2, 0)):
        facts = api.conv_backward_facts(res, k=k, c=c, u=u, v=v)
        assert facts.weight.value == pytest.approx(res.grad_kernel[c, k, u, v], abs=1e-12)
        assert facts.weight.windows.shape == (3, 4) and facts.as_transposed is None
