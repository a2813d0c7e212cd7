"""The working of `resblock`: the block with and without the skip, side by side, the two
Jacobians, and through a stack, the gradient norms."""

from __future__ import annotations

import math

import numpy as np
from rich.columns import Columns
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.resblock import ResBlockResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    grid,
    heading,
    latex_num,
    latex_par,
    latex_vector,
    num,
    vec,
)

BAR_WIDTH = 30


def _side_by_side(res: ResBlockResult, p: int) -> Table:
    f = res.activation
    s = "a0" if res.weights["shortcut"] is None else "WS a0"
    table = Table(header_style="bold", title="Skip connection in ResNet", title_justify="left")
    table.add_column("")
    table.add_column("w/out skip", justify="right")
    table.add_column("w/ skip", justify="right")
    plain, skip = res.plain, res.skip
    table.add_row("z1 = W1 a0 + b1", vec(plain.z1, p, 6), vec(skip.z1, p, 6))
    table.add_row(f"a1 = {f}(z1)", vec(plain.a1, p, 6), vec(skip.a1, p, 6))
    table.add_row("z2 = W2 a1 + b2", vec(plain.z2, p, 6), vec(skip.z2, p, 6))
    table.add_row(Text.assemble(("a2", "bold"), f" = {f}(z2)  |  {f}(z2 + {s})"),
                  Text(vec(plain.a2, p, 6), style=ACCENT), Text(vec(skip.a2, p, 6),
                                                                 style=ACCENT))
    return table


def _jacobians(res: ResBlockResult, p: int):
    s = "I" if res.weights["shortcut"] is None else "WS"
    plain = grid(res.plain.jacobian, p, title="w/out skip")
    skip = grid(res.skip.jacobian, p, title="w/ skip")
    lines = [heading("∂a2/∂a0 (rows are outputs)"),
             Text("w/out skip: diag(f'(z2)) W2 diag(f'(z1)) W1"),
             Text(f"w/ skip:    diag(f'(z2 + a0)) (W2 diag(f'(z1)) W1 + {s})"),
             Columns([plain, skip], padding=(0, 4))]
    lines.append(Text(f"the skip adds the identity path: + {s} inside the bracket, so the "
                      "gradient reaches a0 even when W2 diag(f'(z1)) W1 is small",
                      style="dim"))
    if res.activation == "relu":
        lines.append(Text("relu'(0) = 0 at the kink, as PyTorch", style="dim"))
    return Group(*lines)


def _depth(res: ResBlockResult, p: int):
    norms = res.grad_norms
    values = np.array(norms["skip"] + norms["plain"])
    positive = values[values > 0]
    lo = math.log10(positive.min()) if positive.size else 0.0
    hi = math.log10(positive.max()) if positive.size else 0.0
    table = Table(title=f"‖∂a_l/∂a_0‖ through {len(norms['skip'])} "
                        f"{'random' if res.depth_random else 'repeated'} blocks (log scale)",
                  title_justify="left", box=None, header_style="bold")
    for col in ("l", "w/ skip", "", "w/out skip", ""):
        table.add_column(col, justify="right" if col not in ("",) else "left", no_wrap=True)

    def bar(v, colour):
        if v <= 0:
            return Text("")
        length = BAR_WIDTH if hi == lo else 1 + round((math.log10(v) - lo) / (hi - lo)
                                                         * (BAR_WIDTH - 1))
        return Text("█" * length, style=colour)

    count = len(norms["skip"])
    shown = range(count) if count <= 24 else list(range(12)) + [None] + \
        list(range(count - 11, count))
    for i in shown:
        if i is None:
            table.add_row("⋮", "", "", "", "")
            continue
        table.add_row(str(i + 1), _num(norms["skip"][i], p), bar(norms["skip"][i], "green"),
                      _num(norms["plain"][i], p), bar(norms["plain"][i], "red"))
    return Group(table, Text("with skips the identity path keeps the gradient alive; "
                             "without them the product of the blocks' Jacobians shrinks or "
                             "grows geometrically", style="dim"))


def _num(x, p: int) -> str:
    return num(x, p)


def rich(res: ResBlockResult, style):
    p = style.precision
    f = res.activation
    parts = [_side_by_side(res, p),
             Text(f"⇒ w/ skip: a2 = {f}(W2 a1 + b2 + a0)", style="bold"),
             Text("(the notes call the block's output a_3; it is the block's second "
                  "activation, a2)", style="dim"),
             _jacobians(res, p)]
    if res.grad_norms is not None:
        parts.append(_depth(res, p))
    return Group(*parts)


def _lmat(m, p: int) -> str:
    rows = [" & ".join(latex_num(x, p) for x in row) for row in np.atleast_2d(m)]
    return "\\begin{pmatrix} " + " \\\\ ".join(rows) + " \\end{pmatrix}"


def _lnorms(res: ResBlockResult, p: int) -> list[str]:
    """The depth table, ‖∂a_l/∂a_0‖ with and without skips, and what the numbers did."""
    norms = res.grad_norms
    count = len(norms["skip"])
    rows = []
    for i in (range(count) if count <= 24 else [*range(12), None, *range(count - 11, count)]):
        rows.append("\\vdots & \\vdots & \\vdots" if i is None else
                    f"{i + 1} & {latex_num(norms['skip'][i], p)} & "
                    f"{latex_num(norms['plain'][i], p)}")
    kind = "random" if res.depth_random else "repeated"
    lines = [latex_par(f"Through {count} {kind} blocks, the gradient norm "
                       "$\\lVert \\partial a_l / \\partial a_0 \\rVert$ for $l = 1, \\dots, "
                       f"{count}$:"),
             "$$\\begin{array}{|r|r|r|} \\hline l & \\text{w/ skip} & \\text{w/out skip} "
             "\\\\ \\hline " + " \\\\ ".join(rows) + " \\\\ \\hline \\end{array}$$"]
    facts = []
    for name, label in (("skip", "with skips"), ("plain", "without skips")):
        values = norms[name]
        first, last, peak = values[0], values[-1], max(values)
        trend = "grows" if last > first else "falls" if last < first else "stays"
        facts.append(f"{label} it {trend} from ${latex_num(first, p)}$ to "
                     f"${latex_num(last, p)}$" + ("" if peak in (first, last) else
                     f" (largest ${latex_num(peak, p)}$, at block {values.index(peak) + 1})"))
    lines.append(latex_par("Block 1 to block " + str(count) + ": " + "; ".join(facts) + "."))
    return lines


def _dead_rows(jacobian) -> list[int]:
    return [i + 1 for i, row in enumerate(np.atleast_2d(jacobian)) if not row.any()]


def latex(res: ResBlockResult, style) -> str:
    p = style.precision
    f = "f" if res.activation == "relu" else f"\\{res.activation}" \
        if res.activation in ("tanh",) else f"\\text{{{res.activation}}}"
    plain, skip = res.plain, res.skip
    s, eye = ("a_0", "I") if res.weights["shortcut"] is None else ("W_S a_0", "W_S")
    fp = "f'" if res.activation == "relu" else f"{f}'"
    lines = [
        latex_par("w/out skip" + (", with $f = \\text{relu}$" if f == "f" else "")),
        f"$$z_1 = w_1 a_0 + b_1 = {latex_vector(plain.z1, p)}$$",
        f"$$a_1 = {f}(z_1) = {latex_vector(plain.a1, p)}$$",
        f"$$z_2 = w_2 a_1 + b_2 = {latex_vector(plain.z2, p)}$$",
        f"$$a_2 = {f}(z_2) = {latex_vector(plain.a2, p)}$$",
        latex_par("w/ skip: $z_1$, $a_1$ and $z_2$ are as above"
                  + ("" if s == "a_0" else "; a projection $W_S$ brings $a_0$ to the size of "
                     "$z_2$")),
        f"$$a_2 = {f}(z_2 + {s}) = {f}(w_2 a_1 + b_2 + {s}) = {latex_vector(skip.a2, p)}$$",
        latex_par("The notes call the block's output $a_3$; it is the block's second "
                  "activation, $a_2$."),
        latex_par("The Jacobians (rows are outputs):"),
        f"$$\\frac{{\\partial a_2}}{{\\partial a_0}}\\Big|_{{\\text{{w/out}}}} = "
        f"\\text{{diag}}({fp}(z_2))\\, w_2\\, \\text{{diag}}({fp}(z_1))\\, w_1 = "
        f"{_lmat(plain.jacobian, p)}$$",
        f"$$\\frac{{\\partial a_2}}{{\\partial a_0}}\\Big|_{{\\text{{w/}}}} = "
        f"\\text{{diag}}({fp}(z_2 + {s})) \\left(w_2\\, \\text{{diag}}({fp}(z_1))\\, w_1 + "
        f"{eye}\\right) = {_lmat(skip.jacobian, p)}$$",
    ]
    facts = []
    for name, jac in (("with", skip.jacobian), ("without", plain.jacobian)):
        dead = _dead_rows(jac)
        if dead:
            rows = ", ".join(map(str, dead))
            facts.append(f"{name} the skip, row{'s' if len(dead) > 1 else ''} {rows} "
                         f"{'are' if len(dead) > 1 else 'is'} zero: $a_2$'s unit"
                         f"{'s' if len(dead) > 1 else ''} {rows} pass"
                         f"{'' if len(dead) > 1 else 'es'} no gradient back to $a_0$")
    if facts:
        text = "; ".join(facts)
        lines.append(latex_par(text[0].upper() + text[1:] + "."))
    if res.activation == "relu":
        lines.append(latex_par("$\\text{relu}'(0) = 0$ at the kink, as PyTorch."))
    if res.grad_norms is not None:
        lines += _lnorms(res, p)
    return "\n".join(lines).lstrip("\n")
