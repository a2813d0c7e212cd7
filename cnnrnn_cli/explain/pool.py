"""The working of `pool`: input → pooled, the notes' size check, each window's winner or sum."""

from __future__ import annotations

import numpy as np
from rich.columns import Columns
from rich.console import Group
from rich.text import Text

from cnnrnn_cli.core.pool import PoolResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    HIGHLIGHT,
    WIN,
    chosen_cells,
    grid,
    grids,
    heading,
    latex_num,
    latex_tensor,
    num,
    operator,
)
from cnnrnn_cli.explain.outsize import formula

SMALL = 12
NAMES = {"max": "max pooling", "avg": "average pooling", "min": "min pooling",
         "sum": "sum pooling", "l2": "L2 pooling"}


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
    values = window.reshape(-1)
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


def _styles(res: PoolResult, cell) -> dict:
    c, i, j = cell
    (fh, fw), (sh, sw) = res.size, res.stride
    styles = {(i * sh + u, j * sw + v): HIGHLIGHT for u in range(fh) for v in range(fw)}
    if res.winners is not None:
        win = int(np.reshape(res.winners, (res.winners.shape[0], -1))[c, i * _shape3(res)[2]
                                                                       + j])
        styles[divmod(win, res.padded.shape[2])] = WIN
    return styles


def _cell(res: PoolResult, cell, p: int, marks: bool = False):
    c, i, j = cell
    where = f"({i + 1},{j + 1})" if _shape3(res)[0] == 1 else f"[{c + 1}]({i + 1},{j + 1})"
    line = Text.assemble((f"window {where}: ", "bold"), (_window_text(res, cell, p), ACCENT))
    plane = res.padded[c]
    if max(plane.shape) <= SMALL:
        return Group(grid(plane, p, styles=_styles(res, cell), marks=marks), line)
    return line


def cells(res: PoolResult, style) -> list:
    chosen, _ = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    return [_cell(res, cell, style.precision, not style.color) for cell in chosen]


def rich(res: PoolResult, style):
    p = style.precision
    fh, fw = res.size
    label = "global " + NAMES[res.mode] if res.global_pool else \
        f"{fh}x{fw} filter, {NAMES[res.mode]}, stride {res.stride[0]}" + \
        (f"x{res.stride[1]}" if res.stride[0] != res.stride[1] else "")
    out = np.asarray(res.output)
    out_shown = out.reshape(-1, 1) if res.global_pool else out
    row = Columns([*grids(res.input, p, title="input"),
                   operator(f"→ {label} →", res.input.shape[-2]),
                   *grids(out_shown, p, title="pooled")])
    parts = [heading(NAMES[res.mode].capitalize()), row]
    if res.mode in ("max", "min"):
        parts.append(Text(f"padding holds {'−∞' if res.mode == 'max' else '+∞'}, never 0; "
                          "a tie goes to the first in row-major order (PyTorch)", style="dim"))
    if res.mode == "avg":
        parts.append(Text("divisor: the window clipped to the padded edge" +
                          ("" if res.count_include_pad else ", counting image pixels only"),
                          style="dim"))
    if not res.global_pool:
        dims = res.dims if res.dims[0] != res.dims[1] else res.dims[:1]
        for dim in dims:
            d = dim
            check = "✓" if d.exact else "✗ not exact"
            parts.append(Text.assemble(
                f"N={d.n}, P={d.p_lo}, F={d.f}, stride = {d.s}:  output = ",
                (formula(d)[1], ACCENT), f"  {check}"))
    chosen, left = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    if chosen:
        parts.append(heading("Window by window"))
        parts += [_cell(res, cell, p, not style.color) for cell in chosen]
    if left and style.steps != 0:  # --steps 0 (and --interactive's header) asks for none
        parts.append(Text(f"… {left} more windows (use --steps N, or --at R,C)", style="dim"))
    if res.grad_input is not None:
        row = Columns([*grids(np.reshape(res.grad, out_shown.shape), p,
                              title="upstream ∂L/∂out"),
                       operator("→ routed to the winners →", out_shown.shape[-2]),
                       *grids(res.grad_input, p, title="∂L/∂input")])
        parts += [heading("Gradient"), row]
    return Group(*parts)


def latex(res: PoolResult, style) -> str:
    p = style.precision
    out = np.asarray(res.output)
    out_shown = out.reshape(-1, 1) if res.global_pool else out
    fh, fw = res.size
    arrows = (f"\\xrightarrow{{\\text{{{fh}x{fw} filter}}}} "
              f"\\xrightarrow{{\\text{{{NAMES[res.mode]}}}}}")
    text = f"$${latex_tensor(res.input, p)} {arrows} {latex_tensor(out_shown, p)}"
    if not res.global_pool:
        d = res.dims[0]
        text += (f" \\xrightarrow{{\\text{{N={d.n}, P={d.p_lo}, F={d.f}, stride = {d.s}}}}} "
                 f"\\text{{output}} = {formula(d, latex=True)[1]}"
                 + (" \\quad \\checkmark" if d.exact else ""))
    lines = [text + "$$"]
    if res.grad_input is not None:
        lines.append(f"$$\\frac{{\\partial L}}{{\\partial x}} = "
                     f"{latex_tensor(res.grad_input, p)}$$")
    chosen, _ = chosen_cells(_shape3(res), style.at, None if style.at else style.steps)
    if res.mode == "avg" and chosen:
        sums = []
        for cell in chosen:
            c, i, j = cell
            vals = " + ".join(latex_num(v, p) for v in res.window(c, i, j).reshape(-1)[:27])
            sums.append(f"{latex_num(_value(res, c, i, j), p)} &= \\frac{{{vals}}}"
                        f"{{{latex_num(res.divisor[i, j], p)}}}")
        lines.append("\\begin{align*}\n" + " \\\\\n".join(sums) + "\n\\end{align*}")
    return "\n".join(lines)
