"""The working of `pool`: input → pooled, the notes' size check, each window's winner or sum."""

from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from cnnrnn_cli.core.pool import PoolResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    HIGHLIGHT,
    WIN,
    Equation,
    Fitted,
    Formula,
    Words,
    chosen_cells,
    grids,
    heading,
    latex_num,
    latex_par,
    latex_tensor,
    latex_text,
    num,
)
from cnnrnn_cli.explain.outsize import formula

SMALL = 12
NAMES = {
    "max": "max pooling",
    "avg": "average pooling",
    "min": "min pooling",
    "sum": "sum pooling",
    "l2": "L2 pooling",
}


def _shape3(res: PoolResult) -> tuple:
    out = np.asarray(res.output)
    if out.ndim == 0:
        return (1, 1, 1)
    if res.global_pool:
        return (out.shape[0], 1, 1)
    return (1, *out.shape) if out.ndim == 2 else out.shape


def _value(res: PoolResult, c: int, i: int, j: int) -> float:
    out = np.asarray(res.output)
    if res.global_pool:
        return float(out) if out.ndim == 0 else out[c]
    return out[i, j] if out.ndim == 2 else out[c, i, j]


def _window_text(res: PoolResult, cell, p: int) -> str:
    c, i, j = cell
    window = res.window(c, i, j)
    values = window[_inside(res, i, j)].reshape(-1)
    result = num(_value(res, c, i, j), p)
    shown = [num(v, p) if np.isfinite(v) else ("−∞" if v < 0 else "+∞") for v in values[:27]]
    more = f", … {values.size - 27} more" if values.size > 27 else ""
    if res.mode in ("max", "min"):
        return f"{res.mode}({', '.join(shown)}{more}) = {result}"
    if res.mode == "sum":
        return f"{' + '.join(shown)}{more} = {result}"
    if res.mode == "l2":
        return f"√({' + '.join(s + '²' for s in shown)}{more}) = {result}"
    i_div = res.divisor[i, j]
    return f"({' + '.join(shown)}{more}) / {num(i_div, p)} = {result}"


def _inside(res: PoolResult, i: int, j: int):
    """(Fh, Fw) mask: the window's cells within the padded input. A ceil-mode window may
    hang past it; those cells are neither input nor padding, and are left out of the sum
    (as of avg's divisor)."""
    (fh, fw), (sh, sw) = res.size, res.stride
    if res.global_pool:
        return np.ones(res.window(0, i, j).shape, dtype=bool)
    edge = [d.p_lo + d.n + d.p_hi for d in res.dims]
    rows = i * sh + np.arange(fh) < edge[0]
    cols = j * sw + np.arange(fw) < edge[1]
    return rows[:, None] & cols[None, :]


def _styles(res: PoolResult, cell) -> dict:
    c, i, j = cell
    (fh, fw), (sh, sw) = res.size, res.stride
    styles = {(i * sh + u, j * sw + v): HIGHLIGHT for u in range(fh) for v in range(fw)}
    if res.winners is not None:
        win = int(np.reshape(res.winners, (res.winners.shape[0], -1))[c, i * _shape3(res)[2] + j])
        styles[divmod(win, res.padded.shape[2])] = WIN
    return styles


def _cell(res: PoolResult, cell, p: int, marks: bool = False):
    c, i, j = cell
    where = f"({i + 1},{j + 1})" if _shape3(res)[0] == 1 else f"[{c + 1}]({i + 1},{j + 1})"
    line = Formula((f"window {where}: ", "bold"), (_window_text(res, cell, p), ACCENT))
    plane = res.padded[c]
    if max(plane.shape) <= SMALL:
        return Group(Fitted(plane, p, styles=_styles(res, cell), marks=marks), line)
    return line


def cells(res: PoolResult, style) -> list:
    chosen, _ = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    return [_cell(res, cell, style.precision, not style.color) for cell in chosen]


def _padded(res: PoolResult) -> bool:
    """Whether the windows reach past the input: padding, or ceil mode's overhang."""
    return not res.global_pool and res.padded.shape[1:] != res.input.shape[-2:]


def _notes(res: PoolResult) -> list[tuple[str, str]]:
    """The sentences that apply, as (rich, LaTeX): what the padding holds (only when there
    is some), how a tie is broken (only when a window has one), what avg divides by."""
    notes = []
    extreme = res.mode in ("max", "min")
    if extreme and _padded(res):
        sign = "−" if res.mode == "max" else "+"
        notes.append(
            (
                f"padding holds {sign}∞, never 0",
                f"The padding holds ${sign.replace('−', '-')}\\infty$, never 0.",
            )
        )
    if extreme and _any_tie(res):
        notes.append(
            (
                "a tie goes to the first in row-major order (PyTorch)",
                "A tie goes to the first in row-major order (PyTorch).",
            )
        )
    if res.mode == "avg" and _padded(res):
        full = res.size[0] * res.size[1]
        if bool((np.asarray(res.divisor) != full).any()):
            words = "the window clipped to the padded edge" + (
                "" if res.count_include_pad else ", counting image pixels only"
            )
            notes.append((f"divisor: {words}", f"The divisor is {words}."))
        else:
            words = f"the padding holds 0 and counts in the divisor {res.size[0]}·{res.size[1]}"
            notes.append((words, latex_text(words[0].upper() + words[1:]) + "."))
    return notes


def rich(res: PoolResult, style):
    p = style.precision
    fh, fw = res.size
    label = (
        "global " + NAMES[res.mode]
        if res.global_pool
        else f"{fh}x{fw} filter, {NAMES[res.mode]}, stride {res.stride[0]}"
        + (f"x{res.stride[1]}" if res.stride[0] != res.stride[1] else "")
    )
    out = np.asarray(res.output)
    out_shown = out.reshape(-1, 1) if res.global_pool else out
    row = Equation(
        grids(res.input, p, title="input", fit=True),
        f"→ {label} →",
        grids(out_shown, p, title="pooled", fit=True),
    )
    parts = [heading(NAMES[res.mode].capitalize()), row]
    chosen, left = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    notes = _notes(res)
    if notes:
        parts.append(Text("; ".join(rich for rich, _ in notes), style="dim"))
    if not res.global_pool:
        dims = res.dims if res.dims[0] != res.dims[1] else res.dims[:1]
        for dim in dims:
            d = dim
            check = "✓" if d.exact else "✗ not exact"
            pad = str(d.p_lo) if d.p_lo == d.p_hi else f"{d.p_lo}+{d.p_hi}"
            parts.append(
                Formula(
                    f"N={d.n}, P={pad}, F={d.f}, stride = {d.s}:  output = ",
                    (formula(d)[1], ACCENT),
                    f"  {check}",
                )
            )
    if chosen:
        parts.append(heading("Window by window"))
        parts += [_cell(res, cell, p, not style.color) for cell in chosen]
    if left and style.steps != 0:  # --steps 0 (and --interactive's header) asks for none
        parts.append(
            Text(
                f"… {left} more window{'s' * (left > 1)} (use --steps N, or --at R,C)", style="dim"
            )
        )
    if res.grad_input is not None:
        row = Equation(
            grids(np.reshape(res.grad, out_shown.shape), p, title="upstream ∂L/∂out", fit=True),
            f"→ {GRAD_RULES[res.mode][0]} →",
            grids(res.grad_input, p, title="∂L/∂input", fit=True),
        )
        parts += [heading("Gradient"), Words(GRAD_RULES[res.mode][1]), row]
        parts.append(Padding(Formula(_first_window_grad(res, p)), (0, 0, 0, 2)))
    return Group(*parts)


# How each mode sends a window's upstream gradient g back: (short, the rule in words).
GRAD_RULES = {
    "max": (
        "routed to the winners",
        "each window's g goes to its winner alone (the first maximum); a pixel that wins "
        "several windows adds up their g",
    ),
    "min": (
        "routed to the winners",
        "each window's g goes to its winner alone (the first minimum); a pixel that wins "
        "several windows adds up their g",
    ),
    "avg": (
        "spread over each window",
        "each window's g is shared out evenly, g/divisor to every pixel of the window; "
        "overlapping windows add up",
    ),
    "sum": (
        "copied to each window's pixels",
        "each window's g goes whole to every pixel of the window; overlapping windows add up",
    ),
    "l2": (
        "weighted by x/out",
        "out = √(Σx²), so ∂out/∂x = x/out: each pixel gets g·x/out (0 for an all-zero "
        "window, where PyTorch gives NaN); overlapping windows add up",
    ),
}


def _first_window_grad(res: PoolResult, p: int) -> str:
    """The rule with the numbers of the first window (channel 1, cell (1,1))."""
    g = float(np.reshape(res.grad, (-1,))[0])
    out = float(np.reshape(res.output, (-1,))[0])
    values = res.window(0, 0, 0).reshape(-1)
    if res.mode in ("max", "min"):
        r, q = divmod(int(np.reshape(res.winners, (-1,))[0]), res.padded.shape[-1])
        winner = values.max() if res.mode == "max" else values.min()
        padded = res.padded.shape[-2:] != np.shape(res.input)[-2:]
        where = f"{'padded ' if padded else ''}row {r + 1}, column {q + 1}"
        return f"window (1,1): g = {num(g, p)} goes to its winner {num(winner, p)} ({where})"
    if res.mode == "avg":
        divisor = float(res.divisor[0, 0]) if res.divisor is not None else float(values.size)
        return (
            f"window (1,1): g/divisor = {num(g, p)}/{num(divisor, p)} = "
            f"{num(g / divisor, p)} to each of its pixels"
        )
    if res.mode == "sum":
        return f"window (1,1): g = {num(g, p)} to each of its {values.size} pixels"
    x = float(values[0])
    share = 0.0 if out == 0 else g * x / out
    return (
        f"window (1,1), its first pixel: g·x/out = {num(g, p)}·{num(x, p)}/{num(out, p)} "
        f"= {num(share, p)}"
    )


def _lwindow(res: PoolResult, cell, p: int) -> str:
    """One window as an aligned row: 'max(4, 3, 2, 4) = 4', the sum, the mean, the norm."""
    c, i, j = cell
    values = res.window(c, i, j)[_inside(res, i, j)].reshape(-1)
    shown = [
        latex_num(v, p) if np.isfinite(v) else ("-\\infty" if v < 0 else "+\\infty")
        for v in values[:27]
    ]
    more = f", \\dots\\ \\text{{({values.size - 27} more)}}" if values.size > 27 else ""
    plus_more = more.replace(",", " +", 1)
    if res.mode in ("max", "min"):
        rhs = f"\\{res.mode}({', '.join(shown)}{more})"
    elif res.mode == "sum":
        rhs = " + ".join(shown) + plus_more
    elif res.mode == "l2":
        rhs = (
            "\\sqrt{"
            + " + ".join(
                f"({v})^2" if v.startswith(("-", "+")) or "^" in v else f"{v}^2" for v in shown
            )
            + plus_more
            + "}"
        )
    else:
        rhs = f"\\frac{{{' + '.join(shown)}{plus_more}}}{{{latex_num(res.divisor[i, j], p)}}}"
    where = f"({i + 1},{j + 1})" if _shape3(res)[0] == 1 else f"[{c + 1}]({i + 1},{j + 1})"
    return f"\\text{{window }}{where}\\colon\\ {latex_num(_value(res, c, i, j), p)} &= {rhs}"


def _ties(res: PoolResult, chosen) -> bool:
    """Whether a written-out max/min window has more than one winner."""
    for cell in chosen:
        values = res.window(*cell).reshape(-1)
        best = values.max() if res.mode == "max" else values.min()
        if np.count_nonzero(values == best) > 1:
            return True
    return False


def _any_tie(res: PoolResult) -> bool:
    """Whether any window has more than one winner (the first wins, and takes the
    gradient): a loop over the window's taps, each compared with the pooled values at once."""
    if res.global_pool:
        return _ties(res, chosen_cells(_shape3(res), None, None)[0])
    out = np.asarray(res.output).reshape(res.padded.shape[0], *_shape3(res)[1:])
    (fh, fw), (sh, sw) = res.size, res.stride
    rows, cols = out.shape[1:]
    seen = np.zeros(out.shape, dtype=bool)
    for u in range(fh):
        for v in range(fw):
            hit = res.padded[:, u : u + sh * (rows - 1) + 1 : sh, v : v + sw * (cols - 1) + 1 : sw]
            hit = hit == out
            if (hit & seen).any():
                return True
            seen |= hit
    return False


def latex(res: PoolResult, style) -> str:
    p = style.precision
    out = np.asarray(res.output)
    out_shown = out.reshape(-1, 1) if res.global_pool else out
    fh, fw = res.size
    window = "global" if res.global_pool else f"{fh}x{fw} filter"
    arrows = f"\\xrightarrow{{\\text{{{window}}}}} \\xrightarrow{{\\text{{{NAMES[res.mode]}}}}}"
    text = f"$${latex_tensor(res.input, p)} {arrows} {latex_tensor(out_shown, p)}"
    dims = [] if res.global_pool else (res.dims if res.dims[0] != res.dims[1] else res.dims[:1])
    for n, d in enumerate(dims):
        pad = str(d.p_lo) if d.p_lo == d.p_hi else f"{d.p_lo}+{d.p_hi}"
        axis = "" if len(dims) == 1 else ("height: " if n == 0 else "width: ")
        text += (
            (" \\xrightarrow" if n == 0 else " \\quad ")
            + f"{{\\text{{{axis}N={d.n}, P={pad}, F={d.f}, stride = {d.s}}}}} "
            f"\\text{{output}} = {formula(d, latex=True)[1]}"
            + (" \\quad \\checkmark" if d.exact else " \\quad \\text{(not exact)}")
        )
    lines = [text + "$$"]
    chosen, left = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    notes = [latex for _, latex in _notes(res)]
    if notes:
        lines.append(latex_par(" ".join(notes)))
    if chosen:
        lines.append(latex_par("Window by window:"))
        lines.append(
            "$$\\begin{aligned}\n"
            + " \\\\\n".join(_lwindow(res, cell, p) for cell in chosen)
            + "\n\\end{aligned}$$"
        )
    if left and style.steps != 0:  # --steps 0 (and --interactive's header) asks for none
        lines.append(
            latex_par(
                f"{left} more windows are not written out "
                "(\\texttt{--steps N}, or \\texttt{--at R,C})."
            )
        )
    if res.grad_input is not None:
        lines.append(latex_par(latex_text(f"The gradient: {GRAD_RULES[res.mode][1]}.")))
        lines.append(
            f"$$\\frac{{\\partial L}}{{\\partial \\text{{out}}}} = "
            f"{latex_tensor(np.reshape(res.grad, out_shown.shape), p)} "
            f"\\rightarrow \\frac{{\\partial L}}{{\\partial x}} = "
            f"{latex_tensor(res.grad_input, p)}$$"
        )
    return "\n".join(lines)
