"""2-D convolution as deep-learning frameworks define it (cross-correlation).

    out[k, i, j] = b[k] + Σ_c Σ_u Σ_v  w[k, c, u, v] · x_pad[c, i·S + u·d, j·S + v·d]

Vectorised: the only Python loops run over the Fh·Fw kernel taps and over
memory-bounded chunks of output rows.
- one kernel on every channel: shift-and-add, Σ_taps w[u, v] · shifted x;
- several channels or filters at stride 1: an "implicit GEMM", one (K × C) · (C × n)
  product per tap reading a flat slice of the padded input in place (no gather);
- otherwise: im2col per chunk of output rows, (K × C·Fh·Fw) · (C·Fh·Fw × rows·W'),
  never a whole 9× copy of the input.

Groups (PyTorch's rule): the C input channels and K filters are cut into G groups, filter
k sees only the C/G channels of its group, weights (K, C/G, Fh, Fw). The GEMM paths then
run one batched product over the groups; depthwise (C/G = 1) has its own kernels in
`core/depthwise.py` (a block Toeplitz product, or shift-and-add).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli.core.depthwise import depthwise
from cnnrnn_cli.core.parallel import parallel_map
from cnnrnn_cli.core.sizes import Dim, conv_dim, pair, size_warnings
from cnnrnn_cli.errors import InputError, ShapeError, shape_str
from cnnrnn_cli.vocabulary import PAD_MODES

_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
CHUNK_ELEMENTS = 1 << 20  # bound on one chunk's gathered columns (8 MB in float64)


@dataclass
class ConvResult:
    """`output`: (H', W') for one filter, (K, H', W') for K filters or depthwise.

    `padded`: (C, Hp, Wp), the input after padding; `weights`: (K, C, Fh, Fw) as applied
    (flipped when `flip`), (K, C/G, Fh, Fw) with groups; `mode`: 'single', 'channels'
    (C×F×F summed over C), 'filters' (K filters), 'depthwise' (one F×F on each of C
    channels) or 'grouped' (G > 1 groups: filter k sees the channels `channels_of(k)`).
    """

    output: np.ndarray
    image: np.ndarray
    kernel: np.ndarray
    padded: np.ndarray
    weights: np.ndarray
    bias: np.ndarray | None
    mode: str
    stride: tuple
    dilation: tuple
    dims: list[Dim]
    pad_mode: str = "zeros"
    flip: bool = False
    warnings: list[str] = field(default_factory=list)
    groups: int = 1
    # The backward pass (conv_grad.conv2d_backward), when an upstream gradient was given:
    grad: np.ndarray | None = None  # G, the output's shape
    grad_input: np.ndarray | None = None  # ∂L/∂x, the image's shape
    grad_kernel: np.ndarray | None = None  # ∂L/∂W, the kernel's shape
    grad_bias: np.ndarray | None = None  # ∂L/∂b, one per filter (per channel: depthwise)
    grad_padded: np.ndarray | None = None  # ∂L/∂x_pad, before the padding is folded back

    def channels_of(self, k: int) -> range:
        """The input channels (0-based) that filter k sees: its group's C/G channels."""
        if self.mode == "depthwise":
            return range(k, k + 1)
        per_group = self.weights.shape[1]
        group = k // (self.weights.shape[0] // self.groups)
        return range(group * per_group, (group + 1) * per_group)

    def window(self, k: int, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(weights (C, Fh, Fw), the padded input under them (C, Fh, Fw)) for output
        cell (i, j) of filter k (0-based). For depthwise, k is the channel."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        fh, fw = self.weights.shape[-2:]
        rows = i * sh + dh * np.arange(fh)
        cols = j * sw + dw * np.arange(fw)
        if self.mode == "depthwise":
            return self.weights[0], self.padded[k : k + 1][:, rows][:, :, cols]
        chans = self.channels_of(k)
        return self.weights[k], self.padded[chans.start : chans.stop][:, rows][:, :, cols]


def _as_weights(
    image: np.ndarray, kernel: np.ndarray, groups: int = 1
) -> tuple[np.ndarray, np.ndarray, str]:
    """Normalise to x (C, H, W) and w (K, C/G, Fh, Fw) (depthwise: w (1, 1, Fh, Fw))."""
    x = image[None] if image.ndim == 2 else image
    c = x.shape[0]
    if image.ndim not in (2, 3):
        raise ShapeError("image", f"expected H×W or C×H×W, got {shape_str(image.shape)}")
    if groups != 1:
        check_groups(groups, c, c, channels="image channels", filters="image channels")
        return _grouped_weights(x, kernel, groups, "image", "filters")
    if kernel.ndim == 2:
        mode = "single" if image.ndim == 2 else "depthwise"
        return x, kernel[None, None], mode
    if kernel.ndim == 3:
        if image.ndim == 2:
            return x, kernel[:, None], "filters"  # K one-channel filters
        if kernel.shape[0] != c:
            raise ShapeError(
                "kernel",
                f"a C×F×F kernel {shape_str(kernel.shape)} has "
                f"{kernel.shape[0]} channels but the image "
                f"{shape_str(image.shape)} has {c}",
            )
        return x, kernel[None], "channels"
    if kernel.ndim == 4:
        if kernel.shape[1] != c:
            raise ShapeError(
                "kernel",
                f"K×C×F×F kernel {shape_str(kernel.shape)} expects "
                f"{kernel.shape[1]} input channels but the image "
                f"{shape_str(image.shape)} has {c}",
            )
        return x, kernel, "filters"
    raise ShapeError("kernel", f"expected F×F, C×F×F or K×C×F×F, got {shape_str(kernel.shape)}")


def check_groups(groups, c: int, k: int, *, channels: str, filters: str) -> int:
    """groups as an int dividing both channel counts, or an InputError naming them."""
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise InputError("groups", f"must be a whole number, 1 or more, got {groups!r}")
    for count, what in ((c, channels), (k, filters)):
        if count % groups:
            raise ShapeError("groups", f"{groups} groups do not divide the {count} {what}")
    return int(groups)


def _grouped_weights(x, kernel, groups, image_name, out_name):
    """x (C, H, W) with a kernel for G groups: (x, w (K, C/G, Fh, Fw), 'grouped'), or
    'depthwise' for one F×F kernel with G = C (the same kernel on every channel).

    A kernel is K×(C/G)×F×F, or K×F×F when C/G = 1 (the literal grammar stops at three
    dimensions), or F×F with G = C.
    """
    c = x.shape[0]
    if kernel.ndim == 2:
        if groups != c:
            raise ShapeError(
                "groups",
                f"an F×F kernel is applied to each of the {c} channels (G = {c}); "
                f"with {groups} groups give a K×(C/G)×F×F kernel",
            )
        return x, kernel[None, None], "depthwise"
    if kernel.ndim == 3:
        if c != groups:
            raise ShapeError(
                "kernel",
                f"a 3-D kernel {shape_str(kernel.shape)} with {groups} groups is K×F×F, "
                f"which needs C/G = 1, but the {image_name} has {c} channels; "
                f"give a K×(C/G)×F×F kernel",
            )
        kernel = kernel[:, None]
    elif kernel.ndim != 4:
        raise ShapeError(
            "kernel", f"expected K×(C/G)×F×F with groups, got {shape_str(kernel.shape)}"
        )
    k = kernel.shape[0]
    check_groups(groups, c, k, channels=f"{image_name} channels", filters=out_name)
    if kernel.shape[1] != c // groups:
        raise ShapeError(
            "kernel",
            f"{shape_str(kernel.shape)} has {kernel.shape[1]} channels per filter, but "
            f"{groups} groups of the {c} {image_name} channels need C/G = {c // groups}",
        )
    return x, kernel, "grouped"


def pad_input(
    x: np.ndarray, pads: list[tuple[int, int]], mode: str, value: float = 0.0
) -> np.ndarray:
    """(C, H, W) padded by pads = [(top, bottom), (left, right)] with a PyTorch pad mode."""
    if not any(lo or hi for lo, hi in pads):
        return x
    widths = [(0, 0), *pads]
    if mode == "zeros":
        return _pad_constant(x, pads, value)
    for axis, (lo, hi) in enumerate(pads, start=1):
        n = x.shape[axis]
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and max(lo, hi) > limit:
            raise ShapeError(
                "padding",
                f"{max(lo, hi)} is too large for {mode} padding of "
                f"a size-{n} dimension (at most {limit})",
            )
    return np.pad(x, widths, mode=_NP_PAD_MODE[mode])


def _pad_constant(x: np.ndarray, pads, value: float) -> np.ndarray:
    """(C, H, W) in a frame of `value` (pads [(top, bottom), (left, right)], each ≥ 0),
    filled a chunk of channels at a time over the cores (a copy bound by memory)."""
    (top, bottom), (left, right) = pads
    c, h, w = x.shape
    out = np.empty((c, h + top + bottom, w + left + right), dtype=x.dtype)
    per_chunk = max(1, CACHE_ELEMENTS // max(1, out[0].size))

    def fill(first: int) -> None:
        chunk = out[first : first + per_chunk]
        chunk[:, :top] = value
        chunk[:, top + h :] = value
        chunk[:, top : top + h, :left] = value
        chunk[:, top : top + h, left + w :] = value
        chunk[:, top : top + h, left : left + w] = x[first : first + per_chunk]

    parallel_map(fill, range(0, c, per_chunk), work=out.size)
    return out


def conv2d(
    image,
    kernel,
    stride=1,
    padding=0,
    dilation=1,
    bias=None,
    pad_mode="zeros",
    flip=False,
    max_elements=None,
    groups=1,
) -> ConvResult:
    """Cross-correlate `image` (H, W) or (C, H, W) with `kernel` (F, F), (C, F, F), (K, F, F)
    or (K, C, F, F); with `groups` G, (K, C/G, F, F) (or (K, F, F) when C/G = 1).

    stride, dilation: S or (Sh, Sw); padding: P, (Ph, Pw), 'same', 'valid' or 'full';
    bias: a scalar or one value per filter (per channel for depthwise); flip: rotate the
    kernel by 180° first (true convolution); max_elements: refuse a larger output.
    The backward pass is `conv_grad.conv2d_backward(result, G)`.
    """
    image = np.asarray(image, dtype=np.result_type(np.asarray(image).dtype, np.float32))
    kernel = np.asarray(kernel, dtype=image.dtype)
    if pad_mode not in PAD_MODES:
        raise InputError("pad-mode", f"expected one of {', '.join(PAD_MODES)}, got {pad_mode!r}")
    x, w, mode = _as_weights(image, kernel, groups)
    groups = {"grouped": int(groups), "depthwise": x.shape[0]}.get(mode, 1)
    if flip:
        w = w[..., ::-1, ::-1]
    stride, dilation = pair(stride, 2, "stride"), pair(dilation, 2, "dilation")
    pads = pair(padding, 2, "padding")
    dims = [
        conv_dim(
            x.shape[1 + a],
            w.shape[2 + a],
            stride[a],
            pads[a],
            dilation[a],
            axis=("height", "width")[a],
        )
        for a in range(2)
    ]
    out_h, out_w = dims[0].out, dims[1].out
    check_result_size(w.shape[0] if mode != "depthwise" else x.shape[0], out_h, out_w, max_elements)
    pads = [(d.p_lo, d.p_hi) for d in dims]
    check_padded_size(x.shape, pads, max_elements)
    padded = pad_input(x, pads, pad_mode)
    b = _bias(bias, mode, w.shape[0] if mode != "depthwise" else x.shape[0], image.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is the caller's to report
        if mode == "depthwise" or mode == "single":
            out = _shift_and_add(padded, w[0, 0], (out_h, out_w), stride, dilation)
        else:
            out = correlate(padded, w, (out_h, out_w), stride, dilation, groups)
        if b is not None:
            out += b[:, None, None]
    output = out[0] if mode in ("single", "channels") else out
    result = ConvResult(
        output,
        image,
        kernel,
        padded,
        w,
        b,
        mode,
        stride,
        dilation,
        dims,
        pad_mode,
        flip,
        size_warnings(dims, 2),
        groups,
    )
    return result


def correlate(padded, w, out_hw, stride, dilation, groups=1) -> np.ndarray:
    """(K, H', W'): padded (C, Hp, Wp) cross-correlated with w (K, C/G, Fh, Fw) in G groups.

    Depthwise (C/G = 1): per-channel shift-and-add; otherwise the implicit GEMM at stride
    1, im2col else, both one (batched over the groups) product per tap or chunk.
    """
    if w.shape[1] == 1 and groups > 1:
        return depthwise(padded, w, out_hw, stride, dilation)
    if stride == (1, 1):
        return _implicit_gemm(padded, w, out_hw, dilation, groups)
    return _im2col_gemm(padded, w, out_hw, stride, dilation, groups)


def check_result_size(*dims_and_limit) -> None:
    from cnnrnn_cli import budget

    *dims, limit = dims_and_limit
    with budget.limited(limit):
        budget.check_shape(dims, "result", "the result")


def check_padded_size(shape, pads, max_elements=None) -> None:
    """Refuse a padded input (C, H + pads, W + pads) over the budget, before padding."""
    from cnnrnn_cli import budget

    c, h, w = shape
    (top, bottom), (left, right) = pads
    padded = (h + top + bottom, w + left + right)
    with budget.limited(max_elements):
        budget.check_shape((c, *padded) if c > 1 else padded, "padding", "the padded input")


def tap_view(padded, u, v, out_hw, stride, dilation, rows=slice(None)):
    """The padded input under kernel tap (u, v) for every output cell: (C, H', W')."""
    (sh, sw), (dh, dw) = stride, dilation
    r0, c0 = u * dh, v * dw
    view = padded[
        :, r0 : r0 + sh * (out_hw[0] - 1) + 1 : sh, c0 : c0 + sw * (out_hw[1] - 1) + 1 : sw
    ]
    return view[:, rows]


CACHE_ELEMENTS = 1 << 17  # a chunk of output (1 MB in float64) that stays in L2
GEMM_CHUNK_ELEMENTS = 1 << 18  # output chunk of the per-tap GEMMs (measured best here)


def _shift_and_add(padded, w2, out_hw, stride, dilation) -> np.ndarray:
    """One F×F kernel over every channel: Σ_taps w[u, v] · shifted input. (C, H', W').

    At stride 1 each tap is a contiguous slice of the flattened input: the output is
    computed over the padded width Wp and returned as a view without the Wp − W'
    extra columns. Chunks of output rows sized for L2 are spread over the cores
    (NumPy releases the GIL in its loops).
    """
    c = padded.shape[0]
    out_h, out_w = out_hw
    hp, wp = padded.shape[1:]
    flat_ok = stride == (1, 1)
    width = wp if flat_ok else out_w
    out = np.empty((c, out_h, width), dtype=padded.dtype)
    flat = np.ascontiguousarray(padded).reshape(c, hp * wp) if flat_ok else None
    wide = out.reshape(c, out_h * wp) if flat_ok else None
    taps = [
        (u, v, w2[u, v]) for u in range(w2.shape[0]) for v in range(w2.shape[1]) if w2[u, v] != 0
    ]
    rows_per_chunk = max(1, CACHE_ELEMENTS // max(1, c * width))

    def chunk(start: int) -> None:
        n_rows = min(out_h, start + rows_per_chunk) - start
        if flat_ok:
            n = (n_rows - 1) * wp + out_w  # up to the last real output column
            target = wide[:, start * wp : start * wp + n]
            views = (
                flat[:, (start + u * dilation[0]) * wp + v * dilation[1] :][:, :n]
                for u, v, _ in taps
            )
        else:
            rows = slice(start, start + n_rows)
            target = out[:, rows]
            views = (tap_view(padded, u, v, out_hw, stride, dilation, rows) for u, v, _ in taps)
        if not taps:
            target.fill(0)
        scratch = None
        for t, ((_, _, weight), view) in enumerate(zip(taps, views, strict=False)):
            if t == 0:
                np.multiply(view, weight, out=target)
            elif weight == 1:
                target += view
            else:
                if scratch is None:
                    scratch = np.empty_like(target)
                np.multiply(view, weight, out=scratch)
                target += scratch

    parallel_map(chunk, range(0, out_h, rows_per_chunk), work=out.size * max(1, len(taps)))
    return out[:, :, :out_w]


def _im2col_gemm(padded, w, out_hw, stride, dilation, groups=1) -> np.ndarray:
    """W (K, C/G·Fh·Fw) @ columns (C/G·Fh·Fw, n) in each group, the columns gathered for
    a chunk of output rows at a time so that their size stays bounded (CHUNK_ELEMENTS)."""
    k, cg, fh, fw = w.shape
    c = padded.shape[0]
    out_h, out_w = out_hw
    out = np.empty((k, out_h, out_w), dtype=padded.dtype)
    weights = w.reshape(groups, k // groups, cg * fh * fw)
    rows_per_chunk = max(1, CHUNK_ELEMENTS // max(1, c * fh * fw * out_w))
    columns = np.empty((c, fh, fw, min(rows_per_chunk, out_h), out_w), dtype=padded.dtype)
    for start in range(0, out_h, rows_per_chunk):
        rows = slice(start, min(out_h, start + rows_per_chunk))
        n_rows = rows.stop - rows.start
        cols = columns[:, :, :, :n_rows]
        for u in range(fh):
            for v in range(fw):
                cols[:, u, v] = tap_view(padded, u, v, out_hw, stride, dilation, rows)
        product = _matmul(weights, cols.reshape(groups, cg * fh * fw, n_rows * out_w))
        out[:, rows] = product.reshape(k, n_rows, out_w)
    return out


def _matmul(a, b, out=None):
    """a (G, m, k) @ b (G, k, n): one 2-D product when G = 1 (BLAS reads strided slices
    in place), a batched one otherwise."""
    if a.shape[0] == 1:
        result = np.matmul(a[0], b[0], out=None if out is None else out[0])
        return result[None]
    return np.matmul(a, b, out=out)


def _implicit_gemm(padded, w, out_hw, dilation, groups=1) -> np.ndarray:
    """Stride 1 without gathering: Σ_taps W[:, :, u, v] @ (a flat slice of the input).

    Each output row is computed over the padded width Wp; in the flattened (C, Hp·Wp)
    input, tap (u, v) is then one contiguous slice per channel, which BLAS reads in
    place. The Wp − W' extra columns per row are dropped at the end.
    """
    k, cg, fh, fw = w.shape
    out_h, out_w = out_hw
    hp, wp = padded.shape[1:]
    flat = np.ascontiguousarray(padded).reshape(groups, cg, hp * wp)
    taps = np.ascontiguousarray(
        w.reshape(groups, k // groups, cg, fh, fw).transpose(3, 4, 0, 1, 2)
    )  # (Fh, Fw, G, K/G, C/G)
    out = np.empty((k, out_h, out_w), dtype=padded.dtype)
    rows_per_chunk = max(1, GEMM_CHUNK_ELEMENTS // max(1, k * wp))
    wide = np.empty((groups, k // groups, min(rows_per_chunk, out_h) * wp), dtype=padded.dtype)
    tmp = np.empty_like(wide)
    dh, dw = dilation
    for start in range(0, out_h, rows_per_chunk):
        n_rows = min(out_h, start + rows_per_chunk) - start
        n = (n_rows - 1) * wp + out_w  # up to the last real output column
        acc, scratch = wide[:, :, :n], tmp[:, :, :n]
        for t, (u, v) in enumerate((u, v) for u in range(fh) for v in range(fw)):
            offset = (start + u * dh) * wp + v * dw
            if t == 0:
                _matmul(taps[u, v], flat[:, :, offset : offset + n], out=acc)
            else:
                _matmul(taps[u, v], flat[:, :, offset : offset + n], out=scratch)
                acc += scratch
        block = wide[:, :, : n_rows * wp].reshape(k, n_rows, wp)
        out[:, start : start + n_rows] = block[:, :, :out_w]
    return out


def _bias(bias, mode: str, count: int, dtype) -> np.ndarray | None:
    if bias is None:
        return None
    b = np.asarray(bias, dtype=dtype).reshape(-1)
    if b.size == 1:
        return np.full(count, b[0], dtype=dtype)
    if b.size != count:
        what = "channels" if mode == "depthwise" else "filters"
        raise ShapeError(
            "bias",
            f"{b.size} values for {count} {what} (give one per {what[:-1]} or a single value)",
        )
    return b
