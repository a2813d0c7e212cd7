"""Output sizes of convolution and pooling layers: pure integer arithmetic, no NumPy.

For one spatial dimension of size N, kernel F, stride S, padding P (P_lo + P_hi
in total), dilation d:

    out = floor((N + P_lo + P_hi − d(F−1) − 1) / S) + 1        (the notes: (N + 2P − F)/S + 1)

ceil mode rounds up instead, but (PyTorch's rule) drops a last window that would
start in the right padding. Transposed: out = (N − 1)S − 2P + d(F−1) + op + 1.
"""

from __future__ import annotations

import operator

from cnnrnn_cli.errors import InputError, ShapeError

# Plain classes rather than dataclasses: creating a dataclass costs about a millisecond
# of start-up each, and `outsize` is pure arithmetic that must start fast.
from cnnrnn_cli.vocabulary import PADDING_WORDS  # noqa: F401  (re-exported)

AXES = ("height", "width")


class Dim:
    """The working of one spatial dimension."""

    __slots__ = (
        "n",
        "f",
        "s",
        "d",
        "p_lo",
        "p_hi",
        "out",
        "ceil",
        "transposed",
        "op",
        "remainder",
        "ceil_dropped",
        "same_note",
        "padding_word",
    )

    def __init__(
        self,
        n: int,
        f: int,
        s: int,
        d: int,
        p_lo: int,
        p_hi: int,
        out: int,
        *,
        ceil: bool = False,
        transposed: bool = False,
        op: int = 0,
        remainder: int = 0,
        ceil_dropped: bool = False,
        same_note: str = "",
        padding_word: str = "",
    ):
        self.n, self.f, self.s, self.d = n, f, s, d
        self.p_lo, self.p_hi, self.out = p_lo, p_hi, out
        self.ceil, self.transposed, self.op = ceil, transposed, op
        self.remainder = remainder  # (N + P_lo + P_hi − d(F−1) − 1) mod S
        self.ceil_dropped = ceil_dropped  # ceil mode removed a window starting in padding
        self.same_note = same_note
        self.padding_word = padding_word  # 'same', 'valid' or 'full' when given as a word

    def _key(self) -> tuple:
        return _DIM_FIELDS(self)

    def __eq__(self, other) -> bool:
        return isinstance(other, Dim) and self._key() == other._key()

    __hash__ = None

    def __repr__(self) -> str:
        return "Dim(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    @property
    def exact(self) -> bool:
        return self.transposed or self.remainder == 0

    @property
    def span(self) -> int:
        """The dilated kernel size d(F−1) + 1."""
        return self.d * (self.f - 1) + 1

    @property
    def numerator(self) -> int:
        return self.n + self.p_lo + self.p_hi - self.span

    @property
    def dropped_image(self) -> int:
        """Rows (or columns) of the image itself that no window covers (floor mode)."""
        if self.ceil or self.transposed:
            return 0
        return min(self.n, max(0, self.remainder - self.p_hi))


_DIM_FIELDS = operator.attrgetter(*Dim.__slots__)  # every field, in one C call


def resolve_padding(
    n: int, f: int, s: int, d: int, padding, *, name: str = "padding", axis: str = "height"
) -> tuple[int, int, str]:
    """(P_lo, P_hi, note) for a number or one of 'same', 'valid', 'full'.

    'same' pads d(F−1) in total at stride 1, the odd pixel on the bottom/right; at
    stride S it is TensorFlow's SAME: total max((⌈N/S⌉−1)S + d(F−1) + 1 − N, 0).
    """
    if isinstance(padding, int):
        if padding < 0:
            raise InputError(name, f"must be 0 or more, got {padding}")
        return padding, padding, ""
    if padding == "valid":
        return 0, 0, ""
    if padding == "full":
        return d * (f - 1), d * (f - 1), ""
    if padding == "same":
        span = d * (f - 1) + 1
        total = max((-(-n // s) - 1) * s + span - n, 0)
        lo, hi = total // 2, total - total // 2
        side = "bottom" if axis == "height" else "right"
        note = (
            f"'same' padding needs one more pixel on the {side} ({lo} + {hi})" if lo != hi else ""
        )
        return lo, hi, note
    raise InputError(name, f"expected a number, HxW, same, valid or full; got {padding!r}")


def conv_dim(
    n: int, f: int, s: int = 1, padding=0, d: int = 1, *, ceil: bool = False, axis: str = "height"
) -> Dim:
    """Output length of a convolution or pooling window sliding over n positions."""
    if min(n, f, s, d) < 1:
        _check_positive(n=("input", n), f=("kernel", f), s=("stride", s), d=("dilation", d))
    lo, hi, note = resolve_padding(n, f, s, d, padding, axis=axis)
    span = d * (f - 1) + 1
    if span > n + lo + hi:
        what = f"dilated size d(F−1)+1 = {span}" if d > 1 else f"size {f}"
        padded = f"N + 2P = {n} + 2·{lo}" if lo == hi else f"N + P_lo + P_hi = {n} + {lo} + {hi}"
        raise ShapeError(
            "kernel", f"{what} exceeds the padded input {padded} = {n + lo + hi}{_paren(axis)}"
        )
    numerator = n + lo + hi - span
    out = numerator // s + 1
    remainder = numerator % s
    dropped = False
    if ceil and remainder:
        out += 1
        if (out - 1) * s >= n + lo:  # PyTorch: the last window would start in the padding
            out -= 1
            dropped = True
    return Dim(
        n,
        f,
        s,
        d,
        lo,
        hi,
        out,
        ceil=ceil,
        remainder=remainder,
        ceil_dropped=dropped,
        same_note=note,
        padding_word=padding if isinstance(padding, str) else "",
    )


def transposed_dim(
    n: int, f: int, s: int = 1, padding=0, d: int = 1, op: int = 0, *, axis: str = "height"
) -> Dim:
    """Output length of a transposed convolution: (N − 1)S − 2P + d(F−1) + op + 1."""
    if min(n, f, s, d) < 1:
        _check_positive(n=("input", n), f=("kernel", f), s=("stride", s), d=("dilation", d))
    if padding in ("same", "full"):
        raise InputError("padding", f"'{padding}' is not defined for a transposed convolution")
    lo, hi, _ = resolve_padding(n, f, s, d, padding, axis=axis)
    if not 0 <= op < max(s, d):
        raise InputError(
            "output-padding", f"must satisfy 0 ≤ op < max(stride, dilation) = {max(s, d)}, got {op}"
        )
    out = (n - 1) * s - lo - hi + d * (f - 1) + op + 1
    if out <= 0:
        raise ShapeError(
            "padding",
            f"{lo} on each side leaves no output for input {n}, "
            f"kernel {f}, stride {s}{_paren(axis)}",
        )
    return Dim(n, f, s, d, lo, hi, out, transposed=True, op=op)


def _paren(axis: str) -> str:
    return f" ({axis})" if axis else ""


def _label(axis: str) -> str:
    return f"{axis}: " if axis else ""


def _check_positive(**named) -> None:
    for source, value in named.values():
        if value < 1:
            raise InputError(source, f"must be 1 or more, got {value}")


class OutsizeResult:
    """`output`: int for a 1-D input, [H, W] or [C, H, W]; `dims`: each axis's working."""

    def __init__(
        self,
        input: list[int],
        output,
        exact: bool,
        dims: list[Dim],
        channels: int | None = None,
        warnings: list[str] | None = None,
    ):
        self.input, self.output, self.exact, self.dims = input, output, exact, dims
        self.channels = channels
        self.warnings = warnings or []

    @property
    def padding(self) -> list[list[int]]:
        return [[dim.p_lo, dim.p_hi] for dim in self.dims]


def pair(value, rank: int, name: str) -> tuple:
    """A scalar or a (h, w) pair, as one value per spatial dimension; NumPy integers
    become Python ints, words ('same') stay words."""
    if type(value) is int:  # the common case, a spec's k=3
        return (value,) * rank
    if hasattr(value, "tolist") and not isinstance(value, (int, str)):
        value = value.tolist()  # np.int64(1), np.array([1, 2])
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return (_whole(value[0], name),) * rank
        if len(value) != rank:
            raise InputError(name, f"{len(value)} values for a {rank}-D input")
        return tuple(_whole(v, name) for v in value)
    return (_whole(value, name),) * rank


def _whole(value, name: str):
    """An integer-like value as an int (np.int64 included); a word is left for the caller."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise InputError(name, f"expected a whole number, got {value}")
    try:
        return operator.index(value)
    except TypeError:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise InputError(name, f"expected a whole number, got {value!r}") from None


def output_size(
    input,
    kernel=None,
    stride=1,
    padding=0,
    dilation=1,
    channels=None,
    ceil=False,
    transposed=False,
    output_padding=0,
) -> OutsizeResult:
    """Output shape of one conv/pool layer for input N, (H, W) or (C, H, W).

    `kernel`, `stride`, `padding`, `dilation`, `output_padding`: a number or an (h, w)
    pair; `padding` may also be 'same', 'valid' or 'full'. `channels`: output channels.
    """
    if hasattr(input, "tolist"):
        input = input.tolist()
    shape = [_whole(v, "input") for v in (input if isinstance(input, (list, tuple)) else [input])]
    if kernel is None:
        raise InputError("kernel", "a kernel size is needed (-k F)")
    if len(shape) > 3:
        raise InputError("input", f"expected N, HxW or CxHxW, got {len(shape)} dimensions")
    in_channels = shape[0] if len(shape) == 3 else None
    spatial = shape[-2:] if len(shape) >= 2 else shape
    rank = len(spatial)
    ks, ss, ds = (
        pair(kernel, rank, "kernel"),
        pair(stride, rank, "stride"),
        pair(dilation, rank, "dilation"),
    )
    ps, ops = pair(padding, rank, "padding"), pair(output_padding, rank, "output-padding")
    if channels is not None and channels < 1:
        raise InputError("channels", f"must be 1 or more, got {channels}")
    dims = []
    for i, n in enumerate(spatial):
        axis = AXES[i] if rank == 2 else ""
        if transposed:
            dims.append(transposed_dim(n, ks[i], ss[i], ps[i], ds[i], ops[i], axis=axis))
        else:
            dims.append(conv_dim(n, ks[i], ss[i], ps[i], ds[i], ceil=ceil, axis=axis))
    if not transposed and ops != (0,) * rank:
        raise InputError("output-padding", "only applies with --transposed")
    out_channels = channels if channels is not None else in_channels
    spatial_out = [dim.out for dim in dims]
    if out_channels is not None:
        output: int | list[int] = [out_channels, *spatial_out]
    else:
        output = spatial_out[0] if rank == 1 else spatial_out
    result = OutsizeResult(list(shape), output, all(d.exact for d in dims), dims, out_channels)
    result.warnings = size_warnings(dims, rank)
    return result


def size_warnings(dims: list[Dim], rank: int) -> list[str]:
    """Why a size is surprising: an inexact division, a ceil-mode window, 'same' asymmetry."""
    if all(dim.remainder == 0 and not dim.same_note for dim in dims):
        return []  # nothing to say (the usual layer)
    notes = []
    for i, dim in enumerate(dims):
        axis = AXES[i] if rank == 2 else ""
        unit = ("rows", "row") if axis == "height" else ("columns", "column")
        if rank == 1:
            unit = ("rows/columns", "row/column")
        if dim.same_note:
            notes.append(f"{_label(axis)}{dim.same_note}")
        if dim.exact:
            continue
        what = (
            f"({dim.n} + {dim.p_lo + dim.p_hi} − {dim.span}) = {dim.numerator} is not "
            f"divisible by stride {dim.s}"
        )
        if dim.ceil and not dim.ceil_dropped:
            notes.append(
                f"{_label(axis)}{what}; ceil mode keeps a last window that hangs "
                f"{dim.s - dim.remainder} past the padded edge"
            )
        elif dim.ceil:
            notes.append(
                f"{_label(axis)}{what}; ceil mode would add a window starting in the "
                "padding, which PyTorch drops"
            )
        elif dim.dropped_image:
            # Only padding lost (the common 224 -k 7 -s 2 -p 3) is not worth a warning.
            image = dim.dropped_image
            lost = (
                f"the last {image} {unit[0]} of the image are"
                if image > 1
                else f"the last {unit[1]} of the image is"
            )
            if image == dim.n:
                lost = (
                    f"no window reaches the image: all its {unit[0]} are"
                    if image > 1
                    else f"no window reaches the image: its only {unit[1]} is"
                )
            notes.append(f"{_label(axis)}{what}: {lost} dropped (PyTorch floors)")
    return notes


# --- limits the network summary (core/network.py) shares ----------------------------

# No framework indexes past int64; past it a size is a typo, and printing it could cost
# more digits than Python converts (4300).
VALUE_MAX = 2**63 - 1


def _check_pool_padding(k, p, d, kind: str) -> None:
    """PyTorch refuses pool padding above half the (dilated) window."""
    for i, pad in enumerate(p):
        if isinstance(pad, int):
            limit = (d[i] * (k[i] - 1) + 1) // 2 if kind == "maxpool" else k[i] // 2
            if pad > limit:
                raise InputError(
                    "padding",
                    f"{pad} is more than half the window ({limit} at most, as PyTorch requires)",
                )
