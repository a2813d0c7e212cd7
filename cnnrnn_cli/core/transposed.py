"""The transposed convolution (PyTorch's ConvTranspose2d), computed, and its two views.

Weights W (C, K/G, Fh, Fw): C input channels, K output channels, G groups. With the
"full" grid of (H − 1)S + d(F − 1) + 1 rows (and likewise columns):

    full[k, iS + ud, jS + vd] += x[c, i, j] · W[c, k, u, v]     (the scatter view: every
                                                                  input pixel stamps x·W)
    out[k, y, x] = b[k] + full[k, y + P, x + P]                  (P cropped on each side,
                                                                  op more rows at the bottom)

so out is (K, H_out, W_out) with H_out = (H − 1)S − 2P + d(F − 1) + op + 1. The same
numbers come from a direct convolution (conv_arithmetic's view): S − 1 zeros inserted
between the input pixels, d(F − 1) − P of padding on each side (a negative value crops)
plus op more on the bottom/right, then a stride-1 correlation with the dilated kernel
flipped by 180° and its in/out channels swapped. `zero_insertion()` computes that view
and says whether it agrees.

Computed without a per-pixel scatter, by phases (`conv_grad.scatter_taps`, the adjoint
of the forward convolution): the output rows y + P ≡ r (mod S) receive only the taps
with u·d ≡ r, so each of the S² phases is a stride-1 correlation (the implicit GEMM)
written once into its strided slice of the output; the cropped rows are never made.

The backward pass, for G = ∂L/∂out laid back on the full grid (zero where cropped):
∂L/∂x is the forward (strided) convolution of G with W, ∂L/∂W[c, k, u, v] =
Σ_{i,j} x[c, i, j] · G_full[k, iS + ud, jS + vd], ∂L/∂b[k] = Σ G[k].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli import budget
from cnnrnn_cli.core import conv as _conv
from cnnrnn_cli.core.conv_grad import as_grad, scatter_taps, swap_channels, weight_grad
from cnnrnn_cli.core.sizes import Dim, pair, transposed_dim
from cnnrnn_cli.errors import InputError, ShapeError, shape_str


@dataclass
class Contribution:
    """One term of an output cell in the scatter view: input pixel x[channel, row, col]
    times weight W[channel, k (within its group), u, v]; positions 0-based."""

    channel: int
    row: int
    col: int
    u: int
    v: int
    x: float
    w: float

    @property
    def product(self) -> float:
        return self.x * self.w


@dataclass
class ZeroInsertion:
    """conv_arithmetic's view of a transposed convolution as a direct one.

    upsampled: (C, (H−1)S + 1, (W−1)S + 1), S − 1 zeros between the pixels;
    pads: [(top, bottom), (left, right)] = d(F−1) − P each side, + op bottom/right
    (negative: that many rows or columns cropped); padded: upsampled after the pads;
    kernel: (K, C/G, Fh, Fw), the weights flipped by 180° with in/out channels swapped,
    applied at dilation d, stride 1, in G groups; output: the correlation (+ bias);
    agrees: it equals the scatter view's output (to rounding); max_difference.
    """

    upsampled: np.ndarray
    pads: list
    padded: np.ndarray
    kernel: np.ndarray
    dilation: tuple
    groups: int
    output: np.ndarray
    agrees: bool
    max_difference: float


@dataclass
class TransposedResult:
    """`output`: (K, H_out, W_out), or (H_out, W_out) for one output channel (an F×F
    kernel on an H×W image, or a C×F×F kernel summed into one output).

    `weights`: (C, K/G, Fh, Fw) as applied (flipped when `flip`; the shared F×F of
    'depthwise' once per channel); `mode`: 'single', 'channels' (C×F×F, one output),
    'filters' (C×K×F×F, or K×F×F on an H×W image), 'depthwise' (one F×F on each
    channel) or 'grouped'; `dims`: the transposed Dim of each axis (p_lo = P, op);
    `full_shape`: (K, Hf, Wf), the uncropped grid (H − 1)S + d(F − 1) + 1.
    With a gradient: grad, grad_input, grad_kernel, grad_bias (as ConvResult).
    """

    output: np.ndarray
    image: np.ndarray
    kernel: np.ndarray
    weights: np.ndarray
    bias: np.ndarray | None
    mode: str
    stride: tuple
    dilation: tuple
    dims: list[Dim]
    groups: int = 1
    flip: bool = False
    transposed: bool = True
    pad_mode: str = "zeros"
    full_shape: tuple = ()
    warnings: list[str] = field(default_factory=list)
    grad: np.ndarray | None = None
    grad_input: np.ndarray | None = None
    grad_kernel: np.ndarray | None = None
    grad_bias: np.ndarray | None = None

    @property
    def padding(self) -> tuple:
        return tuple(d.p_lo for d in self.dims)

    @property
    def output_padding(self) -> tuple:
        return tuple(d.op for d in self.dims)

    @property
    def x3(self) -> np.ndarray:
        return self.image if self.image.ndim == 3 else self.image[None]

    def outputs_of(self, c: int) -> range:
        """The output channels (0-based) that input channel c stamps into (its group's)."""
        kg = self.weights.shape[1]
        group = c // (self.weights.shape[0] // self.groups)
        return range(group * kg, (group + 1) * kg)

    def inputs_of(self, k: int) -> range:
        """The input channels (0-based) whose stamps reach output channel k."""
        cg = self.weights.shape[0] // self.groups
        group = k // self.weights.shape[1]
        return range(group * cg, (group + 1) * cg)

    def contributions(self, k: int, y: int, x: int) -> list[Contribution]:
        """Every x[c, i, j] · W[c, k, u, v] that lands on output cell (k, y, x) (0-based):
        iS + ud = y + P and jS + vd = x + P. Their sum plus the bias is the output."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        fh, fw = self.weights.shape[2:]
        xs = self.x3
        k_in = k % self.weights.shape[1]
        terms = []
        rows = _hits(y + self.dims[0].p_lo, fh, sh, dh, xs.shape[1])
        cols = _hits(x + self.dims[1].p_lo, fw, sw, dw, xs.shape[2])
        for c in self.inputs_of(k):
            for u, i in rows:
                for v, j in cols:
                    w = float(self.weights[c, k_in, u, v])
                    terms.append(Contribution(c, i, j, u, v, float(xs[c, i, j]), w))
        return terms

    def zero_insertion(self) -> ZeroInsertion:
        """The direct-convolution view, computed, and whether it gives the same numbers."""
        return zero_insertion(self)


def _hits(target: int, f: int, s: int, d: int, n: int) -> list[tuple[int, int]]:
    """(tap u, input i) with i·s + u·d = target, 0 ≤ i < n: at most F of them."""
    return [
        (u, (target - u * d) // s)
        for u in range(f)
        if (target - u * d) % s == 0 and 0 <= (target - u * d) // s < n
    ]


def _as_transposed_weights(image, kernel, groups):
    """x (C, H, W), w (C, K/G, Fh, Fw), the groups used and the mode."""
    if image.ndim not in (2, 3):
        raise ShapeError("image", f"expected H×W or C×H×W, got {shape_str(image.shape)}")
    x = image[None] if image.ndim == 2 else image
    c = x.shape[0]
    _conv.check_groups(groups, c, c, channels="image channels", filters="image channels")
    if kernel.ndim == 2:
        if groups not in (1, c):
            raise ShapeError(
                "groups",
                f"an F×F kernel is applied to each of the {c} channels (G = {c}); "
                f"with {groups} groups give a C×(K/G)×F×F kernel",
            )
        if c == 1:
            return x, kernel[None, None], 1, "single"
        return x, np.broadcast_to(kernel, (c, 1, *kernel.shape)), c, "depthwise"
    if kernel.ndim == 3:
        if image.ndim == 2 and groups == 1:
            return x, kernel[None], 1, "filters"  # K×F×F: one channel in, K out
        if kernel.shape[0] != c:
            raise ShapeError(
                "kernel",
                f"a C×F×F kernel {shape_str(kernel.shape)} has {kernel.shape[0]} channels "
                f"but the image {shape_str(image.shape)} has {c}",
            )
        return x, kernel[:, None], groups, "channels" if groups == 1 else "grouped"
    if kernel.ndim != 4:
        raise ShapeError(
            "kernel", f"expected F×F, C×F×F or C×(K/G)×F×F, got {shape_str(kernel.shape)}"
        )
    if kernel.shape[0] != c:
        raise ShapeError(
            "kernel",
            f"C×(K/G)×F×F kernel {shape_str(kernel.shape)} expects {kernel.shape[0]} "
            f"input channels but the image {shape_str(image.shape)} has {c}",
        )
    return x, kernel, groups, "filters" if groups == 1 else "grouped"


def conv_transpose2d(
    image,
    kernel,
    stride=1,
    padding=0,
    output_padding=0,
    dilation=1,
    groups=1,
    bias=None,
    pad_mode="zeros",
    flip=False,
    grad=None,
    max_elements=None,
) -> TransposedResult:
    """Transposed convolution of `image` (H, W) or (C, H, W) with `kernel` (F, F),
    (K, F, F) on an H×W image, (C, F, F) or (C, K/G, F, F), as ConvTranspose2d.

    stride, padding, output_padding, dilation: a number or (h, w) ('valid' is 0);
    bias: a scalar or one per output channel; grad: G shaped like the output, for the
    backward pass (`.grad_input`, `.grad_kernel`, `.grad_bias`).
    """
    image = np.asarray(image, dtype=np.result_type(np.asarray(image).dtype, np.float32))
    kernel = np.asarray(kernel, dtype=image.dtype)
    if pad_mode != "zeros":
        raise InputError(
            "pad-mode",
            f"a transposed convolution pads only with zeros (as PyTorch's ConvTranspose2d), "
            f"not {pad_mode!r}",
        )
    x, w, groups, mode = _as_transposed_weights(image, kernel, groups)
    if flip:
        w = w[..., ::-1, ::-1]
    stride, dilation = pair(stride, 2, "stride"), pair(dilation, 2, "dilation")
    pads, ops = pair(padding, 2, "padding"), pair(output_padding, 2, "output-padding")
    dims = [
        transposed_dim(
            x.shape[1 + a], w.shape[2 + a], stride[a], pads[a], dilation[a], ops[a], axis=axis
        )
        for a, axis in enumerate(("height", "width"))
    ]
    k = w.shape[1] * groups
    full = [(d.n - 1) * d.s + d.d * (d.f - 1) + 1 for d in dims]
    grid = [max(f, d.p_lo + d.out) for f, d in zip(full, dims, strict=True)]
    with budget.limited(max_elements):
        budget.check_shape((k, dims[0].out, dims[1].out), "result", "the result")
    b = _conv._bias(bias, "depthwise" if mode == "depthwise" else "filters", k, image.dtype)
    with np.errstate(over="ignore", invalid="ignore"), budget.limited(max_elements):
        origin, out_hw = tuple(d.p_lo for d in dims), tuple(d.out for d in dims)
        name = ("image", "the input padded for its phases")  # budgeted before it is made
        out = scatter_taps(x, w, tuple(grid), stride, dilation, groups, name, origin, out_hw)
        if b is not None:
            out += b[:, None, None]
    result = TransposedResult(
        out[0] if mode in ("single", "channels") else out,
        image,
        kernel,
        w,
        b,
        mode,
        stride,
        dilation,
        dims,
        groups,
        flip,
        full_shape=(k, *full),
    )
    if grad is not None:
        with budget.limited(max_elements):
            transposed_backward(result, grad)
    return result


def _full_grad(res: TransposedResult, g3: np.ndarray) -> np.ndarray:
    """G laid back on the full grid (K, Hf, Wf): zero where the padding cropped."""
    k, hf, wf = res.full_shape
    budget.check_shape((k, hf, wf), "grad", "the gradient on the full grid")
    (top, left), (oh, ow) = res.padding, (d.out for d in res.dims)
    full = np.zeros((k, hf, wf), dtype=g3.dtype)
    rows, cols = min(oh, hf - top), min(ow, wf - left)  # op may reach past the grid
    full[:, top : top + rows, left : left + cols] = g3[:, :rows, :cols]
    return full


def transposed_backward(res: TransposedResult, grad):
    """Fill res.grad, .grad_input, .grad_kernel and .grad_bias for G = ∂L/∂out."""
    out = np.asarray(res.output)
    g = as_grad(grad, out.shape, res.weights.dtype)
    g3 = g.reshape((-1, *out.shape[-2:]))
    x = res.x3
    with np.errstate(over="ignore", invalid="ignore"):
        full = _full_grad(res, g3)
        # ∂L/∂x: the forward convolution of G_full with W (C filters over the K channels)
        grad_x = _conv.correlate(
            full,
            np.ascontiguousarray(res.weights),
            x.shape[1:],
            res.stride,
            res.dilation,
            res.groups,
        )
        gw = weight_grad(full, x, res.weights.shape[2:], res.stride, res.dilation, res.groups)
        grad_b = g3.sum(axis=(1, 2))
    if res.mode == "depthwise":
        gw = gw.sum(axis=0, keepdims=True)
    if res.flip:
        gw = gw[..., ::-1, ::-1]
    res.grad = g
    res.grad_input = grad_x.reshape(res.image.shape)
    res.grad_kernel = np.ascontiguousarray(gw).reshape(res.kernel.shape)
    res.grad_bias = grad_b
    return res


def zero_insertion(res: TransposedResult) -> ZeroInsertion:
    """Insert S − 1 zeros, pad d(F−1) − P (+ op bottom/right; negative crops), correlate
    at stride 1 with the flipped, channel-swapped kernel; compare with res.output."""
    x = res.x3
    c, h, w = x.shape
    (sh, sw) = res.stride
    up_shape = (c, (h - 1) * sh + 1, (w - 1) * sw + 1)
    budget.check_shape(up_shape, "image", "the input with zeros inserted")
    upsampled = np.zeros(up_shape, dtype=x.dtype)
    upsampled[:, ::sh, ::sw] = x
    pads = [(d.d * (d.f - 1) - d.p_lo, d.d * (d.f - 1) - d.p_lo + d.op) for d in res.dims]
    grown = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    _conv.check_padded_size(up_shape, grown)
    padded = np.pad(upsampled, [(0, 0), *grown])
    crop = tuple(
        slice(-min(lo, 0), padded.shape[1 + a] + min(hi, 0)) for a, (lo, hi) in enumerate(pads)
    )
    padded = padded[(slice(None), *crop)]
    kernel = np.ascontiguousarray(
        swap_channels(np.asarray(res.weights), res.groups)[..., ::-1, ::-1]
    )
    out_hw = tuple(d.out for d in res.dims)
    output = _conv.correlate(padded, kernel, out_hw, (1, 1), res.dilation, res.groups)
    if res.bias is not None:
        output = output + res.bias[:, None, None]
    output = output.reshape(np.shape(res.output))
    diff = float(np.max(np.abs(output - res.output))) if output.size else 0.0
    scale = float(np.max(np.abs(res.output))) if output.size else 0.0
    return ZeroInsertion(
        upsampled,
        pads,
        padded,
        kernel,
        res.dilation,
        res.groups,
        output,
        diff <= 1e-9 * max(1.0, scale),
        diff,
    )


@dataclass
class GradAsTransposed:
    """∂L/∂x of a convolution as the transposed convolution of G with the same weights,
    stride, dilation and groups: `result` (a TransposedResult) with padding P and
    output_padding op (the rows the forward's floor never reached, less the extra
    bottom/right pixel of an uneven 'same'). Its output is ∂L/∂x_pad without the padding
    rows and columns: ∂L/∂x itself for zero padding; reflect, replicate and circular
    padding also fold the border's gradient back in (`folded`). `agrees`: the numbers
    match the backward pass's."""

    result: TransposedResult
    padding: tuple
    output_padding: tuple
    folded: bool
    agrees: bool


def grad_as_transposed(res) -> GradAsTransposed | None:
    """For a conv result with a gradient: ∂L/∂x = conv_transpose2d(G, W, S, P, op, d, G).
    None when the padding is uneven in a way no output_padding expresses."""
    if res.grad is None:
        return None
    pads, ops = [], []
    for dim in res.dims:
        unused = dim.n + dim.p_lo + dim.p_hi - ((dim.out - 1) * dim.s + dim.span)
        op = unused - (dim.p_hi - dim.p_lo)
        if not 0 <= op < max(dim.s, dim.d):
            return None
        pads.append(dim.p_lo)
        ops.append(op)
    w, groups = res.weights, res.groups
    if res.mode == "depthwise":
        c = res.padded.shape[0]
        w = np.broadcast_to(w, (c, *w.shape[1:]))
    g = np.asarray(res.grad).reshape((-1, *np.shape(res.output)[-2:]))
    result = conv_transpose2d(
        g, np.asarray(w), res.stride, tuple(pads), tuple(ops), res.dilation, groups
    )
    interior = res.grad_padded[
        :, pads[0] : pads[0] + res.dims[0].n, pads[1] : pads[1] + res.dims[1].n
    ]
    agrees = bool(
        np.allclose(result.output.reshape(interior.shape), interior, rtol=1e-9, atol=1e-12)
    )
    folded = res.pad_mode != "zeros" and any(d.p_lo or d.p_hi for d in res.dims)
    return GradAsTransposed(result, tuple(pads), tuple(ops), folded, agrees)


def weight_terms(res: TransposedResult, c: int, k: int, u: int, v: int):
    """∂L/∂W[c, k, u, v] of a transposed convolution as a sum over its windows:
    Σ_{i,j} x[c, i, j] · G_full[k', iS + ud, jS + vd], k' = the output channel (k of
    input c's group), G_full the gradient laid back on the uncropped grid. Returns
    conv_grad.WeightTerms with `windows` = G_full under tap (u, v) at every input pixel
    (H, W) and `grad` = x[c] (the roles of the forward conv's two factors swap)."""
    from cnnrnn_cli.core.conv_grad import WeightTerms

    g3 = np.asarray(res.grad).reshape((-1, *np.shape(res.output)[-2:]))
    full = _full_grad(res, g3)
    out_channel = res.outputs_of(c).start + k
    x = res.x3
    windows = _conv.tap_view(
        full[out_channel : out_channel + 1], u, v, x.shape[1:], res.stride, res.dilation
    )[0]
    return WeightTerms(windows, x[c], float(np.sum(windows * x[c])))
