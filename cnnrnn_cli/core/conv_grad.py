"""The backward pass of a convolution: ∂L/∂x, ∂L/∂W and ∂L/∂b from G = ∂L/∂out.

    out[k, i, j] = b[k] + Σ_{c ∈ group(k)} Σ_{u,v} W[k, c, u, v] · x_pad[c, iS + ud, jS + vd]

    ∂L/∂b[k]           = Σ_{i,j} G[k, i, j]
    ∂L/∂W[k, c, u, v]  = Σ_{i,j} G[k, i, j] · x_pad[c, iS + ud, jS + vd]   (a sum over windows)
    ∂L/∂x_pad[c, y, x] = Σ_{k,u,v,i,j: iS + ud = y, jS + vd = x} W[k, c, u, v] · G[k, i, j]

The last is the transposed convolution of G (each G[k, i, j] stamps G·W[k] into the
padded grid at (iS, jS)); at stride 1 it is also the full convolution of G with the
kernel flipped and its channels swapped. ∂L/∂x is ∂L/∂x_pad with the padding folded
back: cropped for zero padding, and for reflect, replicate and circular padding each
padded cell's gradient added onto the pixel it copies.

Vectorised: the Python loops run over the Fh·Fw taps, the S² phases and chunks of rows;
the sums are BLAS products (batched over the groups), nothing is scattered per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnrnn_cli import budget
from cnnrnn_cli.core import conv as _conv
from cnnrnn_cli.core.conv import _matmul, tap_view
from cnnrnn_cli.errors import ShapeError, shape_str

WEIGHT_CHUNK_ELEMENTS = 1 << 21  # bound on weight_grad's chunk of G or gathered input


def scatter_taps(
    g,
    w,
    grid_hw,
    stride,
    dilation,
    groups=1,
    name=("grad", "the gradient padded for its phases"),
    origin=(0, 0),
    out_hw=None,
) -> np.ndarray:
    """(C, Hg, Wg): Σ the stamps W[k, :, u, v]ᵀ · G[k, i, j] at (iS + ud, jS + vd).

    g (K, H', W'); w (K, C/G, Fh, Fw) as a forward convolution's weights; the grid
    (Hg, Wg) holds every stamp (at least (H'−1)S + d(F−1) + 1 each way). This is the
    adjoint of `conv.correlate`: ∂L/∂x_pad of a convolution, and the transposed
    convolution itself (uncropped). With `origin` (top, left) and `out_hw`, only the
    window grid[top : top + h, left : left + w] is computed and returned (the transposed
    convolution's cropping, at no cost).

    Computed without scattering, phase by phase (the sub-pixel view): the grid rows
    y ≡ r (mod S) receive only the taps with u·d ≡ r, and on them the stamps add up to a
    stride-1 correlation of G (zero-padded) with those taps flipped and their channels
    swapped, at dilation d / gcd(S, d). So S_h·S_w stride-1 correlations (the implicit
    GEMM: BLAS does the sums), each phase written once into its strided slice of the
    grid. At stride 1 there is one phase: the full convolution with the flipped kernel.
    """
    k, cg, fh, fw = w.shape
    c = cg * groups
    _, oh, ow = g.shape
    out_hw = (
        tuple(n - o for n, o in zip(grid_hw, origin, strict=True)) if out_hw is None else out_hw
    )
    sizes = zip((fh, fw), stride, dilation, grid_hw, strict=True)
    axes = [_phases(f, s, d, n) for f, s, d, n in sizes]
    top, left = (max((q for _, qs, _ in phases for q in qs), default=0) for phases in axes)
    t_h, t_w = (max(count for *_, count in phases) for phases in axes)
    budget.check_shape((k, t_h + top, t_w + left), *name)  # (input name, what it is)
    dtype = np.result_type(g.dtype, w.dtype)
    gpad = np.zeros((k, t_h + top, t_w + left), dtype=dtype)
    rows, cols = min(oh, t_h), min(ow, t_w)  # G rows past the grid stamp nothing there
    gpad[:, top : top + rows, left : left + cols] = g[:, :rows, :cols]
    out = np.empty((c, *out_hw), dtype=dtype)
    for r, (us, qus, _) in enumerate(axes[0]):
        y0, t0, n_rows = _window(r, stride[0], origin[0], out_hw[0])
        for q, (vs, qvs, _) in enumerate(axes[1]):
            x0, s0, n_cols = _window(q, stride[1], origin[1], out_hw[1])
            if n_rows <= 0 or n_cols <= 0:
                continue
            target = out[:, y0 :: stride[0], x0 :: stride[1]]
            if not us or not vs:
                target.fill(0)
                continue
            sub = w[:, :, us][:, :, :, vs]
            kernel = np.ascontiguousarray(swap_channels(sub, groups)[..., ::-1, ::-1])
            dil = (qus[1] - qus[0] if len(us) > 1 else 1, qvs[1] - qvs[0] if len(vs) > 1 else 1)
            r0, c0 = top - qus[-1] + t0, left - qvs[-1] + s0
            span_h, span_w = qus[-1] - qus[0], qvs[-1] - qvs[0]
            view = gpad[:, r0 : r0 + n_rows + span_h, c0 : c0 + n_cols + span_w]
            target[...] = _conv.correlate(view, kernel, (n_rows, n_cols), (1, 1), dil, groups)
    return out


def _window(r: int, s: int, origin: int, n_out: int) -> tuple[int, int, int]:
    """Phase r's part of the window [origin, origin + n_out) of grid positions r + s·t:
    (its first output index, its first t, how many)."""
    t0 = max(0, -(-(origin - r) // s))
    t1 = -(-(origin + n_out - r) // s)
    return r + s * t0 - origin, t0, t1 - t0


def _phases(f: int, s: int, d: int, n: int) -> list[tuple[list, list, int]]:
    """For each residue r < s of the grid positions y = i·s + u·d (n of them): the taps u
    with u·d ≡ r (mod s), their shifts q = (u·d − r) / s, and how many y ≡ r there are."""
    phases = []
    for r in range(s):
        taps = [u for u in range(f) if (u * d) % s == r]
        phases.append((taps, [(u * d - r) // s for u in taps], len(range(r, n, s))))
    return phases


def weight_grad(padded, g, f_hw, stride, dilation, groups=1) -> np.ndarray:
    """(K, C/G, Fh, Fw): ∂L/∂W[k, c, u, v] = Σ_{i,j} G[k, i, j] · x_pad[c, iS + ud, jS + vd].

    padded (C, Hp, Wp); g (K, H', W'). Per tap one (K/G × n) · (n × C/G) product in each
    group. At stride 1 the tap is a flat slice of the padded input read in place, with G
    laid over the padded width (its extra columns zero); otherwise the tap is gathered,
    a chunk of rows at a time.
    """
    k, oh, ow = g.shape
    c, hp, wp = padded.shape
    fh, fw = f_hw
    cg, kg = c // groups, k // groups
    (dh, dw) = dilation
    dtype = np.result_type(g.dtype, padded.dtype)
    acc = np.zeros((fh, fw, groups, kg, cg), dtype=dtype)
    elementwise = cg == 1 and kg == 1
    flat_ok = stride == (1, 1)
    width = wp if flat_ok else ow
    # Few, large products: each is a sync point of BLAS's threads, and the chunk (G over
    # the padded width, or one tap's gathered input) is the only memory it needs.
    rows_per_chunk = max(1, WEIGHT_CHUNK_ELEMENTS // max(1, max(c, k) * width))
    chunk_rows = min(rows_per_chunk, oh)
    if flat_ok:
        flat = np.ascontiguousarray(padded).reshape(groups, cg, hp * wp)
        wide = np.zeros((groups, kg, chunk_rows, wp), dtype=dtype)  # extra columns stay 0
    for start in range(0, oh, rows_per_chunk):
        n_rows = min(oh, start + rows_per_chunk) - start
        rows = g[:, start : start + n_rows]
        if flat_ok:
            wide[:, :, :n_rows, :ow] = rows.reshape(groups, kg, n_rows, ow)
            n = (n_rows - 1) * wp + ow
            a = wide.reshape(groups, kg, chunk_rows * wp)[:, :, :n]
        else:
            n = n_rows * ow
            a = np.ascontiguousarray(rows).reshape(groups, kg, n)
        for u in range(fh):
            for v in range(fw):
                if flat_ok:
                    offset = (start + u * dh) * wp + v * dw
                    b = flat[:, :, offset : offset + n]
                else:
                    view = tap_view(
                        padded, u, v, (oh, ow), stride, dilation, slice(start, start + n_rows)
                    )
                    b = np.ascontiguousarray(view).reshape(groups, cg, n)
                if elementwise:
                    acc[u, v, :, 0, 0] += np.einsum("gn,gn->g", a[:, 0], b[:, 0])
                else:
                    acc[u, v] += _matmul(a, b.transpose(0, 2, 1))
    return np.ascontiguousarray(acc.transpose(2, 3, 4, 0, 1)).reshape(k, cg, fh, fw)


def fold_padding(grad_padded, pads, mode: str, hw) -> np.ndarray:
    """(C, H, W): ∂L/∂x from ∂L/∂x_pad (C, Hp, Wp), the adjoint of `conv.pad_input`.

    zeros: the padding is cropped. reflect, replicate, circular: each padded row (then
    column) copies one pixel, so its gradient is added onto that pixel: reflect onto the
    mirrored rows 1..P (not the edge), replicate onto the edge row, circular onto the
    rows at the far side.
    """
    out = grad_padded
    for axis, ((lo, hi), n) in enumerate(zip(pads, hw, strict=True), start=1):
        out = _fold_axis(out, lo, hi, n, mode, axis)
    return out


def _fold_axis(g, lo: int, hi: int, n: int, mode: str, axis: int) -> np.ndarray:
    def part(start, stop, step=1):
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, stop, step)
        return tuple(index)

    core = g[part(lo, lo + n)].copy()
    if mode == "zeros" or not (lo or hi):
        return core
    top, bottom = g[part(0, lo)], g[part(lo + n, lo + n + hi)]
    if mode == "reflect":  # padded row p < lo copies row lo − p; row n + q copies n − 2 − q
        if lo:
            core[part(1, lo + 1)] += np.flip(top, axis)
        if hi:
            core[part(n - 1 - hi, n - 1)] += np.flip(bottom, axis)
    elif mode == "replicate":
        core[part(0, 1)] += top.sum(axis=axis, keepdims=True)
        core[part(n - 1, n)] += bottom.sum(axis=axis, keepdims=True)
    else:  # circular: row p < lo copies row n − lo + p; row n + q copies row q
        if lo:
            core[part(n - lo, n)] += top
        if hi:
            core[part(0, hi)] += bottom
    return core


def as_grad(grad, output_shape, dtype) -> np.ndarray:
    """G as an array of the output's shape (singleton axes may differ), or a ShapeError."""
    g = np.asarray(grad, dtype=dtype)
    squeeze = [n for n in g.shape if n != 1]
    if squeeze != [n for n in output_shape if n != 1] or g.size != int(np.prod(output_shape)):
        raise ShapeError(
            "grad",
            f"{shape_str(g.shape)} does not match the output {shape_str(tuple(output_shape))} "
            "(the gradient has the output's shape)",
        )
    return g.reshape(output_shape)


@dataclass
class Backward:
    """The gradients of a convolution (also filled in on its result).

    grad: G (the output's shape); grad_input: ∂L/∂x (the image's shape); grad_kernel:
    ∂L/∂W (the kernel's shape, as given); grad_bias: ∂L/∂b, one per filter (per channel
    for depthwise); grad_padded: ∂L/∂x_pad (C, Hp, Wp), before the padding is folded.
    """

    grad: np.ndarray
    grad_input: np.ndarray
    grad_kernel: np.ndarray
    grad_bias: np.ndarray
    grad_padded: np.ndarray


def _applied(res) -> tuple[np.ndarray, int]:
    """The weights as applied, (K, C/G, Fh, Fw), and G; the shared F×F of 'depthwise' is
    one copy per channel (G = C)."""
    if res.mode == "depthwise":
        c = res.padded.shape[0]
        return np.broadcast_to(res.weights, (c, *res.weights.shape[1:])), c
    return res.weights, res.groups


def _to_kernel_shape(gw: np.ndarray, res) -> np.ndarray:
    """∂L/∂(applied weights) as ∂L/∂(the kernel given): summed over the channels that
    share one F×F, unflipped, in the kernel's own shape."""
    if res.mode == "depthwise":
        gw = gw.sum(axis=0, keepdims=True)
    if res.flip:
        gw = gw[..., ::-1, ::-1]
    return np.ascontiguousarray(gw).reshape(res.kernel.shape)


def conv2d_backward(res, grad) -> Backward:
    """The backward pass of a `conv.conv2d` result for the upstream gradient `grad`;
    fills res.grad, .grad_input, .grad_kernel, .grad_bias (and returns them)."""
    out = np.asarray(res.output)
    k3 = out.reshape((-1, *out.shape[-2:]))
    g = as_grad(grad, out.shape, res.padded.dtype)
    g3 = g.reshape(k3.shape)
    w, groups = _applied(res)
    c, hp, wp = res.padded.shape
    budget.check_shape((c, hp, wp), "grad", "the gradient of the padded input")
    with np.errstate(over="ignore", invalid="ignore"):
        grad_padded = scatter_taps(g3, w, (hp, wp), res.stride, res.dilation, groups)
        pads = [(d.p_lo, d.p_hi) for d in res.dims]
        x3 = res.image if res.image.ndim == 3 else res.image[None]
        grad_x = fold_padding(grad_padded, pads, res.pad_mode, x3.shape[1:])
        gw = weight_grad(res.padded, g3, w.shape[2:], res.stride, res.dilation, groups)
        grad_b = g3.sum(axis=(1, 2))
    back = Backward(
        g,
        grad_x.reshape(res.image.shape),
        _to_kernel_shape(gw, res),
        grad_b,
        grad_padded,
    )
    res.grad, res.grad_input = back.grad, back.grad_input
    res.grad_kernel, res.grad_bias = back.grad_kernel, back.grad_bias
    res.grad_padded = back.grad_padded
    return back


# --- Facts for the explanation ------------------------------------------------------------


@dataclass
class WeightTerms:
    """∂L/∂W[k, c, u, v] = Σ_{i,j} windows[i, j] · grad[i, j]: `windows` (H', W') holds
    x_pad[c, iS + ud, jS + vd], the pixel under tap (u, v) in every window. For the one
    F×F shared by every channel ('depthwise'), both are (C, H', W') and the sum runs over
    the channels too."""

    windows: np.ndarray
    grad: np.ndarray
    value: float


def weight_terms(res, k: int, c: int, u: int, v: int) -> WeightTerms:
    """The sum over windows of one weight's gradient (0-based filter k, channel c of its
    group, tap (u, v) of the weights as applied). Needs res.grad."""
    out_hw = np.shape(res.output)[-2:]
    g3 = np.asarray(res.grad).reshape((-1, *out_hw))
    if res.mode == "depthwise":
        windows = tap_view(res.padded, u, v, out_hw, res.stride, res.dilation)
        return WeightTerms(windows, g3, float(np.sum(windows * g3)))
    channel = res.channels_of(k).start + c
    windows = tap_view(res.padded[channel : channel + 1], u, v, out_hw, res.stride, res.dilation)[0]
    return WeightTerms(windows, g3[k], float(np.sum(windows * g3[k])))


@dataclass
class FullConvolution:
    """∂L/∂x_pad at stride 1 as a full convolution: G padded by d(F−1) on every side
    (`padded_grad`), correlated with `kernel` (the weights flipped by 180° and their
    in/out channels swapped, (C, K/G, Fh, Fw)) at dilation d, in G groups."""

    padded_grad: np.ndarray
    kernel: np.ndarray
    output: np.ndarray
    agrees: bool


def swap_channels(w: np.ndarray, groups: int) -> np.ndarray:
    """(A, B/G, Fh, Fw) → (B, A/G, Fh, Fw): in and out channels swapped within each group."""
    a, bg, fh, fw = w.shape
    ag = a // groups
    return (
        w.reshape(groups, ag, bg, fh, fw).transpose(0, 2, 1, 3, 4).reshape(groups * bg, ag, fh, fw)
    )


def full_convolution(res) -> FullConvolution | None:
    """The stride-1 fact: ∂L/∂x_pad = full convolution of G with the flipped kernel.
    None at stride > 1 (there it is the transposed convolution, zeros between the G's)."""
    if tuple(res.stride) != (1, 1) or res.grad is None:
        return None
    w, groups = _applied(res)
    g3 = np.asarray(res.grad).reshape((-1, *np.shape(res.output)[-2:]))
    (dh, dw), (fh, fw) = res.dilation, w.shape[2:]
    ph, pw = dh * (fh - 1), dw * (fw - 1)
    budget.check_shape(
        (g3.shape[0], g3.shape[1] + 2 * ph, g3.shape[2] + 2 * pw), "grad", "the padded gradient"
    )
    padded_grad = np.pad(g3, [(0, 0), (ph, ph), (pw, pw)])
    kernel = swap_channels(np.asarray(w), groups)[..., ::-1, ::-1]
    output = _conv.correlate(  # at stride 1, H' + d(F−1) = Hp: the whole padded grid
        padded_grad,
        np.ascontiguousarray(kernel),
        (g3.shape[1] + ph, g3.shape[2] + pw),
        (1, 1),
        res.dilation,
        groups,
    )
    agrees = bool(np.allclose(output, res.grad_padded, rtol=1e-9, atol=1e-12))
    return FullConvolution(padded_grad, kernel, output, agrees)
