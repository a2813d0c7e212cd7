"""2-D pooling: max, avg, min, sum and l2 windows, with PyTorch's padding and ceil rules.

    max/min: out[c, i, j] = max/min over the window (padding is −∞/+∞, never 0)
    avg:     out = Σ window / divisor   (divisor: the window clipped to the padded edge,
                                          or only its image pixels with count_include_pad off)
    sum:     Σ window;   l2: sqrt(Σ window²)

A tie goes to the first maximum in row-major order, as in PyTorch; the gradient of
max pooling routes each upstream value to that winner. The other gradients spread each
upstream value G over its whole window:

    sum: ∂L/∂x += G;   avg: ∂L/∂x += G / divisor;   l2: ∂L/∂x += G · x / out
    (l2 at out = 0, a window of zeros: 0, the subgradient; PyTorch's LPPool gives NaN)

Loops run over the F² taps only (the spreading over Fh + Fw, separably).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli.core.conv import (
    CACHE_ELEMENTS,
    check_padded_size,
    check_result_size,
    pad_input,
    tap_view,
)
from cnnrnn_cli.core.parallel import parallel_map
from cnnrnn_cli.core.sizes import Dim, conv_dim, pair, size_warnings
from cnnrnn_cli.errors import InputError, ShapeError, shape_str
from cnnrnn_cli.vocabulary import POOL_MODES


@dataclass
class PoolResult:
    """`output`: (H', W') or (C, H', W') like the input; a number or (C,) with global pooling.

    `padded`: (C, Hp, Wp) with the mode's neutral padding (and the ceil-mode overhang);
    `winners`: (C, H', W') flat index into the padded (Hp, Wp) plane (max/min);
    `divisor`: (H', W') for avg; `grad_input`: like the input, when a gradient was given.
    """

    output: np.ndarray
    input: np.ndarray
    padded: np.ndarray
    mode: str
    size: tuple
    stride: tuple
    dims: list[Dim]
    divisor: np.ndarray | None = None
    grad: np.ndarray | None = None
    grad_input: np.ndarray | None = None
    global_pool: bool = False
    count_include_pad: bool = True
    warnings: list[str] = field(default_factory=list)
    _winners: np.ndarray | None = field(default=None, repr=False)

    @property
    def winners(self) -> np.ndarray | None:
        """(C, H', W'): flat index into the padded (Hp, Wp) plane of each window's winner,
        the first extreme in row-major order (max/min only; computed when first asked)."""
        if self.mode not in ("max", "min"):
            return None
        if self._winners is None:
            self._winners = _first_winners(self)
        return self._winners

    def window(self, c: int, i: int, j: int) -> np.ndarray:
        """The padded input under output cell (i, j) of channel c: (Fh, Fw)."""
        (fh, fw), (sh, sw) = self.size, self.stride
        return self.padded[c, i * sh : i * sh + fh, j * sw : j * sw + fw]


def _neutral(mode: str) -> float:
    return {"max": -np.inf, "min": np.inf}.get(mode, 0.0)


def pool2d(
    x,
    size=2,
    stride=None,
    padding=0,
    mode="max",
    ceil=False,
    count_include_pad=True,
    global_pool=False,
    grad=None,
    max_elements=None,
) -> PoolResult:
    """Pool `x` (H, W) or (C, H, W) with windows `size` (F or (Fh, Fw)) moved by `stride`
    (default: the size). `grad`: an upstream gradient shaped like the output."""
    x = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))
    if mode not in POOL_MODES:
        raise InputError("mode", f"expected one of {', '.join(POOL_MODES)}, got {mode!r}")
    if x.ndim not in (2, 3):
        raise ShapeError("input", f"expected H×W or C×H×W, got {shape_str(x.shape)}")
    x3 = x[None] if x.ndim == 2 else x
    if global_pool:
        size, stride, padding, ceil = x3.shape[1:], x3.shape[1:], 0, False
    size = pair(size, 2, "size")
    stride = size if stride is None else pair(stride, 2, "stride")
    pads = pair(padding, 2, "padding")
    dims = [
        conv_dim(
            x3.shape[1 + a], size[a], stride[a], pads[a], ceil=ceil, axis=("height", "width")[a]
        )
        for a in range(2)
    ]
    for a, dim in enumerate(dims):
        if max(dim.p_lo, dim.p_hi) > size[a] // 2:
            raise InputError(
                "padding",
                f"{max(dim.p_lo, dim.p_hi)} is more than half the "
                f"window ({size[a] // 2} at most, as PyTorch requires)",
            )
    out_hw = (dims[0].out, dims[1].out)
    check_result_size(x3.shape[0], *out_hw, max_elements)
    # Ceil mode lets the last window hang past the padded edge: pad that overhang too.
    extra = [
        max(
            0,
            (dims[a].out - 1) * stride[a]
            + size[a]
            - (x3.shape[1 + a] + dims[a].p_lo + dims[a].p_hi),
        )
        for a in range(2)
    ]
    pads2 = [(dims[a].p_lo, dims[a].p_hi + extra[a]) for a in range(2)]
    check_padded_size(x3.shape, pads2, max_elements)
    padded = pad_input(x3, pads2, "zeros", _neutral(mode))
    result = PoolResult(
        np.empty(0),
        x,
        padded,
        mode,
        size,
        stride,
        dims,
        global_pool=global_pool,
        count_include_pad=count_include_pad,
        warnings=size_warnings(dims, 2),
    )
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is the caller's to report
        out = _reduce(result, out_hw, count_include_pad)
    result.output = _like_input(out, x, global_pool)
    if grad is not None:
        result.grad = np.asarray(grad, dtype=x.dtype)
        result.grad_input = _route_gradient(result, x3, out.shape)
    return result


def _reduce(result: PoolResult, out_hw, count_include_pad) -> np.ndarray:
    """(C, H', W'): the pooled windows, separably: along the width, then the height
    ((Fw − 1) + (Fh − 1) passes), chunks of channels spread over the cores."""
    mode, (fh, fw), (sh, sw) = result.mode, result.size, result.stride
    padded = result.padded
    scale = None
    if mode == "l2":
        # Squares of 1e200 overflow and of 1e-300 underflow, though the norms fit: each
        # channel is scaled by a power of two near its largest |x| first (exact, so a
        # norm of ordinary numbers is bit for bit the unscaled one), and back after.
        scale = _power_of_two_scale(padded)
        padded = padded / scale  # the one copy the squares need anyway
        padded *= padded
    combine = {"max": np.maximum, "min": np.minimum}.get(mode, np.add)
    c, hp, _ = padded.shape
    out = np.empty((c, *out_hw), dtype=padded.dtype)
    per_chunk = max(1, CACHE_ELEMENTS // max(1, padded[0].size))

    def chunk(start: int) -> None:
        block = padded[start : start + per_chunk]
        across = _fold(block, fw, sw, out_hw[1], axis=2, combine=combine)
        out[start : start + per_chunk] = _fold(across, fh, sh, out_hw[0], axis=1, combine=combine)

    parallel_map(chunk, range(0, c, per_chunk), work=padded.size * (fh + fw))
    if mode == "l2":
        np.sqrt(out, out=out)
        out *= scale
    elif mode == "avg":
        result.divisor = _divisor(result.dims, result.size, result.stride, count_include_pad)
        out /= result.divisor
    return out


def _power_of_two_scale(padded: np.ndarray) -> np.ndarray:
    """(C, 1, 1): 2^k with 2^k ≤ max|x| of each channel (1 where the channel is all
    zeros or infinite), so that x / 2^k squares without overflow or underflow."""
    with np.errstate(invalid="ignore", over="ignore"):
        peak = np.max(np.abs(padded), axis=(1, 2), keepdims=True)
    ok = np.isfinite(peak) & (peak > 0)
    exponent = np.frexp(np.where(ok, peak, 1.0))[1] - 1
    return np.ldexp(1.0, exponent).astype(padded.dtype)


def _fold(block: np.ndarray, f: int, s: int, n_out: int, axis: int, combine) -> np.ndarray:
    """Combine f taps spaced 1 apart, at n_out positions spaced s apart, along `axis`."""

    def taps(u):
        index = [slice(None)] * block.ndim
        index[axis] = slice(u, u + s * (n_out - 1) + 1, s)
        return block[tuple(index)]

    acc = taps(0).copy()
    for u in range(1, f):
        combine(acc, taps(u), out=acc)
    return acc


def _first_winners(result: PoolResult) -> np.ndarray:
    """Index of each window's first extreme: the taps in reverse row-major order, each
    claiming the windows where it equals the pooled value (so the first one wins)."""
    out = np.asarray(result.output).reshape(
        result.padded.shape[0], result.dims[0].out, result.dims[1].out
    )
    (fh, fw), stride = result.size, result.stride
    arg = np.zeros(out.shape, dtype=np.intp)
    for t in reversed(range(fh * fw)):
        u, v = divmod(t, fw)
        np.copyto(arg, t, where=tap_view(result.padded, u, v, out.shape[1:], stride, (1, 1)) == out)
    rows = np.arange(out.shape[1])[:, None] * stride[0] + arg // fw
    cols = np.arange(out.shape[2])[None, :] * stride[1] + arg % fw
    return rows * result.padded.shape[2] + cols


def _divisor(dims: list[Dim], size, stride, include_pad: bool) -> np.ndarray:
    """(H', W'): PyTorch's avg divisor, the window clipped to the padded edge (or to the
    image when padding is not counted)."""
    lengths = []
    for a, dim in enumerate(dims):
        start = np.arange(dim.out) * stride[a] - dim.p_lo
        end = np.minimum(start + size[a], dim.n + dim.p_hi)
        if not include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, dim.n)
        lengths.append(end - start)
    return np.outer(lengths[0], lengths[1]).astype(float)


def _like_input(out: np.ndarray, x: np.ndarray, global_pool: bool):
    if global_pool:
        flat = out.reshape(out.shape[0])
        return flat[0] if x.ndim == 2 else flat
    return out[0] if x.ndim == 2 else out


def _route_gradient(result: PoolResult, x3: np.ndarray, out_shape) -> np.ndarray:
    """∂L/∂x: each upstream value added at its window's winner (max/min pooling), or
    spread over its window (sum, avg, l2)."""
    g = result.grad
    expected = tuple(np.shape(result.output))
    if g.size != int(np.prod(out_shape)):
        raise ShapeError(
            "grad", f"{shape_str(g.shape)} does not match the output {shape_str(expected)}"
        )
    if result.winners is None:
        return _spread_gradient(result, x3, out_shape)
    c, hp, wp = result.padded.shape
    index = result.winners + (np.arange(c) * hp * wp)[:, None, None]
    flat = np.bincount(index.reshape(-1), weights=g.reshape(-1), minlength=c * hp * wp)
    plane = flat.reshape(c, hp, wp)
    top, left = result.dims[0].p_lo, result.dims[1].p_lo
    grad_input = plane[:, top : top + x3.shape[1], left : left + x3.shape[2]]
    grad_input = grad_input.astype(x3.dtype, copy=False)
    return grad_input[0] if result.input.ndim == 2 else grad_input


def _spread_gradient(result: PoolResult, x3: np.ndarray, out_shape) -> np.ndarray:
    """∂L/∂x for sum, avg and l2: each window's G (÷ divisor for avg, × x / out for l2)
    added over the whole window, across the columns then down the rows, on the padded
    grid; the padding (and a ceil-mode overhang) is then cropped."""
    g = result.grad.reshape(out_shape)
    if result.mode == "avg":
        g = g / result.divisor
    elif result.mode == "l2":
        out = np.asarray(result.output, dtype=x3.dtype).reshape(out_shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(out > 0, g / out, 0.0)
    (fh, fw), (sh, sw) = result.size, result.stride
    c, hp, wp = result.padded.shape
    oh, ow = out_shape[1:]
    across = np.zeros((c, oh, wp), dtype=x3.dtype)
    for v in range(fw):
        across[:, :, v : v + sw * (ow - 1) + 1 : sw] += g
    grid = np.zeros((c, hp, wp), dtype=x3.dtype)
    for u in range(fh):
        grid[:, u : u + sh * (oh - 1) + 1 : sh] += across
    if result.mode == "l2":
        grid *= result.padded
    top, left = result.dims[0].p_lo, result.dims[1].p_lo
    grad_input = np.ascontiguousarray(grid[:, top : top + x3.shape[1], left : left + x3.shape[2]])
    return grad_input[0] if result.input.ndim == 2 else grad_input
