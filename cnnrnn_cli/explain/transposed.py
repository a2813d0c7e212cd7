"""The working of `conv --transposed`, two ways that give the same numbers:

(a) the scatter view: every input pixel stamps x·W into the output at stride offsets,
    overlapping stamps summed (one output cell's contributions written out);
(b) the zero-insertion view (conv_arithmetic's): S − 1 zeros between the pixels,
    d(F − 1) − P of padding each side (negative: a crop) and op more on the bottom/right,
    then a stride-1 correlation with the dilated kernel flipped.
"""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from cnnrnn_cli.explain.common import (
    Equation,
    Formula,
    Words,
    grids,
    heading,
    latex_num,
    latex_par,
    latex_tensor,
    latex_text,
    num,
)
from cnnrnn_cli.explain.outsize import formula


def chosen_cell(res, at) -> tuple:
    """(k, y, x): `at`, else the first output cell (of the top-left 8×8, channel 1) with
    the most contributions: the one that shows overlapping stamps best."""
    if at is not None:
        return tuple(at)
    oh, ow = _out3(res).shape[1:]
    cells = [(0, y, x) for y in range(min(oh, 8)) for x in range(min(ow, 8))]
    return max(cells, key=lambda cell: len(res.contributions(*cell)))


def latex_slices(weights, p: int) -> str:
    """Weights of any rank as LaTeX grids: a 4-D tensor as its F×F slices in order."""
    import numpy as np

    w = np.asarray(weights)
    return latex_tensor(squeeze(w.reshape(-1, *w.shape[-2:])) if w.ndim > 3 else w, p)


def squeeze(tensor):
    """A one-channel C×H×W as H×W (drawn without a channel number)."""
    return tensor[0] if tensor.ndim == 3 and tensor.shape[0] == 1 else tensor


def _out3(res):
    out = res.output
    return out if out.ndim == 3 else out[None]


def _where(res, k: int, y: int, x: int) -> str:
    return f"[{k + 1},{y + 1},{x + 1}]" if _out3(res).shape[0] > 1 else f"[{y + 1},{x + 1}]"


def scatter_terms(res, cell, p: int) -> tuple[str, str]:
    """(which pixels and taps land on the cell, the sum with its numbers)."""
    k, y, x = cell
    terms = res.contributions(k, y, x)
    bias = 0.0 if res.bias is None else float(res.bias[k])
    value = float(_out3(res)[k, y, x])
    if not terms:
        rhs = num(bias, p) if res.bias is not None else "0 (no stamp reaches this cell)"
        return "", f"out{_where(res, k, y, x)} = {rhs}"
    several = res.x3.shape[0] > 1
    products = " + ".join(f"{num(t.x, p)}·{num(t.w, p)}" for t in terms)
    if res.bias is not None:
        products += f" + {num(bias, p)}"
    which = ", ".join(
        (
            f"x[{t.channel + 1},{t.row + 1},{t.col + 1}]"
            if several
            else f"x[{t.row + 1},{t.col + 1}]"
        )
        + f"·W[{t.u + 1},{t.v + 1}]"
        for t in terms
    )
    return which, f"out{_where(res, k, y, x)} = {products} = {num(value, p)}"


def _pads_text(z) -> str:
    parts = []
    for name, (lo, hi) in zip(("rows", "columns"), z.pads, strict=True):
        if lo == hi:
            parts.append(f"{name}: {_signed(lo)} each side")
        else:
            parts.append(f"{name}: {_signed(lo)} top/left, {_signed(hi)} bottom/right")
    return "; ".join(parts)


def _signed(n: int) -> str:
    return f"pad {n}" if n >= 0 else f"crop {-n}"


def rich(res, style):
    p = style.precision
    z = res.zero_insertion()
    cell = chosen_cell(res, style.at)
    parts = [
        heading("Transposed convolution"),
        Text(
            "as PyTorch's ConvTranspose2d: weights C×K×F×F, every input pixel stamps "
            "x·W into the output at stride offsets",
            style="italic",
        ),
        Equation(
            grids(res.image, p, title="input", fit=True),
            "⊛ᵀ",
            grids(res.kernel, p, title="kernel W", fit=True),
            "→",
            grids(res.output, p, title="output", fit=True),
        ),
        heading("Output size"),
    ]
    dims = res.dims if res.dims[0] != res.dims[1] else res.dims[:1]
    names = ["height", "width"] if len(dims) == 2 else ["height and width"]
    for name, dim in zip(names, dims, strict=True):
        parts.append(Formula((f"{name}: ", "bold"), formula(dim)[1]))
    parts.append(heading("(a) Scatter: each pixel stamps x·W, overlaps add up"))
    parts.append(
        Words(
            "out[r, c] sums x[i, j]·W[u, v] over every pixel and tap with "
            "(i − 1)·S + (u − 1)·d = (r − 1) + P and (j − 1)·S + (v − 1)·d = (c − 1) + P "
            "(positions from 1)"
        )
    )
    which, line = scatter_terms(res, cell, p)
    if which:
        parts.append(Padding(Words((f"here: {which}", "dim")), (0, 0, 0, 2)))
    parts.append(Padding(Formula(line), (0, 0, 0, 2)))
    parts.append(heading("(b) The same as a direct convolution (zero insertion)"))
    (sh, sw) = res.stride
    zeros = sh - 1 if sh == sw else f"{sh - 1}×{sw - 1}"
    dim_h = res.dims[0]
    parts.append(
        Words(
            f"{zeros} zero{'s' * (sh != 2)} between pixels (S − 1), then d(F − 1) − P "
            f"= {dim_h.d}·({dim_h.f} − 1) − {dim_h.p_lo} = {dim_h.d * (dim_h.f - 1) - dim_h.p_lo} "
            f"of padding (negative crops) and op = {dim_h.op} more on the bottom/right: "
            + _pads_text(z)
        )
    )
    parts.append(
        Equation(
            grids(squeeze(z.padded), p, title="zeros inserted, padded", fit=True),
            "⋆",
            grids(squeeze(z.kernel[:, 0]), p, title="W flipped 180°", fit=True),
        )
    )
    verdict = (
        f"stride-1 correlation: the same output (largest difference {z.max_difference:.1e})"
        if z.agrees
        else f"the two views differ by {z.max_difference:.3e}: please report this"
    )
    parts.append(Words((verdict, "bold" if z.agrees else "bold red")))
    return Group(*parts)


def latex(res, style) -> str:
    p = style.precision
    z = res.zero_insertion()
    cell = chosen_cell(res, style.at)
    out = [
        latex_par(
            latex_text(
                "Transposed convolution (PyTorch's ConvTranspose2d): every input pixel "
                "stamps x·W into the output at stride offsets."
            )
        )
    ]
    out.append(
        f"$$ {latex_tensor(res.image, p)} \\circledast^{{\\top}} {latex_slices(res.kernel, p)}"
        f" = {latex_tensor(res.output, p)} $$"
    )
    for name, dim in zip(("height", "width"), res.dims, strict=True):
        sym, sub = formula(dim, latex=True)
        out.append(f"{latex_text(name)}: $${sym} = {sub}$$")
    _, line = scatter_terms(res, cell, p)
    lhs, rhs = line.split(" = ", 1)
    rhs = rhs.replace("·", " \\cdot ").replace("−", "-")
    idx = lhs[3:].strip("[]").replace(",", ", ")
    out.append(latex_text("(a) Scatter: the contributions to one output cell:"))
    out.append(f"$$ \\mathrm{{out}}[{idx}] = {rhs} $$")
    out.append(
        latex_text(
            "(b) Zero insertion: S − 1 zeros between pixels, d(F − 1) − P of padding "
            f"(negative crops), op more on the bottom/right ({_pads_text(z)}), then a "
            "stride-1 correlation with the kernel flipped by 180°:"
        )
    )
    out.append(
        f"$$ {latex_tensor(squeeze(z.padded), p)} \\star {latex_slices(z.kernel, p)} "
        f"= {latex_tensor(z.output, p)} $$"
    )
    agree = "the same output" if z.agrees else "a different output (please report this)"
    out.append(
        latex_text(f"Both views give {agree}: largest difference ")
        + f"${latex_num(z.max_difference, 3)}$."
    )
    return "\n\n".join(out)
