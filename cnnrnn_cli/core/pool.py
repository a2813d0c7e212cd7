"""2-D pooling: max, avg, min, sum and l2 windows, with PyTorch's padding and ceil rules.

    max/min: out[c, i, j] = max/min over the window (padding is −∞/+∞, never 0)
    avg:     out = Σ window / divisor   (divisor: the window clipped to the padded edge,
                                          or only its image pixels with count_include_pad off)
    sum:     Σ window;   l2: sqrt(Σ window²)

A tie goes to the first maximum in row-major order, as in PyTorch; the gradient of
max pooling routes each upstream value to that winner. Loops run over the F² taps only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli.core.conv import check_result_size, pad_input, tap_view
from cnnrnn_cli.core.sizes import Dim, conv_dim, pair, size_warnings
from cnnrnn_cli.errors import InputError, ShapeError, shape_str

POOL_MODES = ("max", "avg", "min", "sum", "l2")


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
    winners: np.ndarray | None = None
    divisor: np.ndarray | None = None
    grad: np.ndarray | None = None
    grad_input: np.ndarray | None = None
    global_pool: bool = False
    count_include_pad: bool = True
    warnings: list[str] = field(default_factory=list)

    def window(self, c: int, i: int, j: int) -> np.ndarray:
        """The padded input under output cell (i, j) of channel c: (Fh, Fw)."""
        (fh, fw), (sh, sw) = self.size, self.stride
        return self.padded[c, i * sh:i * sh + fh, j * sw:j * sw + fw]


def _neutral(mode: str) -> float:
    return {"max": -np.inf, "min": np.inf}.get(mode, 0.0)


def pool2d(x, size=2, stride=None, padding=0, mode="max", ceil=False,
           count_include_pad=True, global_pool=False, grad=None,
           max_elements=None) -> PoolResult:
    """Pool `x` (H, W) or (C, H, W) with windows `size` (F or (Fh, Fw)) moved by `stride`
    (default: the size). `grad`: an upstream gradient shaped like the output (max/min)."""
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
    dims = [conv_dim(x3.shape[1 + a], size[a], stride[a], pads[a], ceil=ceil,
                     axis=("height", "width")[a]) for a in range(2)]
    for a, dim in enumerate(dims):
        if max(dim.p_lo, dim.p_hi) > size[a] // 2:
            raise InputError("padding", f"{max(dim.p_lo, dim.p_hi)} is more than half the "
                                        f"window ({size[a] // 2} at most, as PyTorch requires)")
    out_hw = (dims[0].out, dims[1].out)
    check_result_size(x3.shape[0], *out_hw, max_elements)
    # Ceil mode lets the last window hang past the padded edge: pad that overhang too.
    extra = [max(0, (dims[a].out - 1) * stride[a] + size[a] - (x3.shape[1 + a] + dims[a].p_lo
                                                                + dims[a].p_hi))
             for a in range(2)]
    pads2 = [(dims[a].p_lo, dims[a].p_hi + extra[a]) for a in range(2)]
    padded = pad_input(x3, pads2, "zeros", _neutral(mode))
    result = PoolResult(np.empty(0), x, padded, mode, size, stride, dims,
                        global_pool=global_pool, count_include_pad=count_include_pad,
                        warnings=size_warnings(dims, 2))
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is the caller's to report
        out = _reduce(result, out_hw, count_include_pad)
    result.output = _like_input(out, x, global_pool)
    if grad is not None:
        result.grad = np.asarray(grad, dtype=x.dtype)
        result.grad_input = _route_gradient(result, x3, out.shape)
    return result


def _reduce(result: PoolResult, out_hw, count_include_pad) -> np.ndarray:
    """(C, H', W'): the pooled windows, one pass over the taps in row-major order
    (winners recorded for max/min, the divisor for avg)."""
    mode, size, stride, padded = result.mode, result.size, result.stride, result.padded
    taps = [(u, v) for u in range(size[0]) for v in range(size[1])]

    def tap(u, v):
        return tap_view(padded, u, v, out_hw, stride, (1, 1))

    if mode in ("max", "min"):
        better = np.greater if mode == "max" else np.less
        best = tap(0, 0).copy()
        arg = np.zeros(best.shape, dtype=np.intp)  # tap index of the winner
        wins = np.empty(best.shape, dtype=bool)
        for t, (u, v) in enumerate(taps[1:], start=1):
            view = tap(u, v)
            better(view, best, out=wins)  # strict: the first extreme in row-major order stays
            np.copyto(best, view, where=wins)
            np.copyto(arg, t, where=wins)
        out = best
        rows = np.arange(out_hw[0])[:, None] * stride[0] + arg // size[1]
        cols = np.arange(out_hw[1])[None, :] * stride[1] + arg % size[1]
        result.winners = rows * padded.shape[2] + cols
    else:
        square = mode == "l2"
        out = np.zeros((padded.shape[0], *out_hw), dtype=padded.dtype)
        for u, v in taps:
            view = tap(u, v)
            out += view * view if square else view
        if mode == "l2":
            np.sqrt(out, out=out)
        elif mode == "avg":
            result.divisor = _divisor(result.dims, size, stride, count_include_pad)
            out /= result.divisor
    return out


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
    """∂L/∂x: each upstream value added at its window's winner (max/min pooling)."""
    if result.winners is None:
        raise InputError("grad", f"--grad routes through max or min pooling, not "
                                 f"{result.mode}")
    g = result.grad
    expected = tuple(np.shape(result.output))
    if g.size != int(np.prod(out_shape)):
        raise ShapeError("grad", f"{shape_str(g.shape)} does not match the output "
                                 f"{shape_str(expected)}")
    c, hp, wp = result.padded.shape
    index = result.winners + (np.arange(c) * hp * wp)[:, None, None]
    flat = np.bincount(index.reshape(-1), weights=g.reshape(-1), minlength=c * hp * wp)
    plane = flat.reshape(c, hp, wp)
    top, left = result.dims[0].p_lo, result.dims[1].p_lo
    grad_input = plane[:, top:top + x3.shape[1], left:left + x3.shape[2]]
    grad_input = grad_input.astype(x3.dtype, copy=False)
    return grad_input[0] if result.input.ndim == 2 else grad_input
