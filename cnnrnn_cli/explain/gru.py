"""The working of `gru-step`: each gate unit by unit, the candidate, the new state, and the
notes' three cases named where they occur."""

from __future__ import annotations

import numpy as np
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.gru import GRUResult
from cnnrnn_cli.explain.bptt import TABLE_VALUES, time_table
from cnnrnn_cli.explain.common import (
    ACCENT,
    heading,
    latex_num,
    latex_par,
    latex_row,
    latex_vector,
    num,
    time_rows,
    vec,
)

SHADES = "·░▒▓█"
CASE_TEXT = {
    "takes_over": (
        "z ≈ 0",
        "the candidate takes over: h_t ≈ h̃ (the notes' case 1, 'only short-term memory')",
    ),
    "ignores_past": (
        "r ≈ 0",
        "the candidate ignores the past: h̃ ≈ tanh(W_xh x + b_h) (the notes' case 2)",
    ),
    "carried_over": (
        "z ≈ 1",
        "the state is carried over unchanged: h_t ≈ h_(t−1) (the notes' "
        "case 3 calls this 'no memory'; it keeps the old state entirely)",
    ),
}


def _label(name: str, z_keeps: str) -> str:
    """'z ≈ 0' etc.; with --z-keeps new the z cases swap ends."""
    if z_keeps == "new" and name != "ignores_past":
        return {"takes_over": "z ≈ 1", "carried_over": "z ≈ 0"}[name]
    return CASE_TEXT[name][0]


def _formulas(res: GRUResult) -> list[Text]:
    cand = (
        "tanh(W_xh x + r ⊙ (W_hh h + b_hh) + b_h)"
        if res.reset_after
        else "tanh(W_xh x + W_hh (r ⊙ h) + b_hh + b_h)"
    )
    update = "z ⊙ h_(t−1) + (1 − z) ⊙ h̃" if res.z_keeps == "old" else "(1 − z) ⊙ h_(t−1) + z ⊙ h̃"
    return [
        Text("z = σ(W_xz x + W_hz h + b_z)    r = σ(W_xr x + W_hr h + b_r)"),
        Text(
            f"h̃ = {cand}"
            + (
                "   (reset after W_hh: PyTorch, Keras)"
                if res.reset_after
                else "   (reset before W_hh: the paper, d2l)"
            )
        ),
        Text(
            f"h_t = {update}"
            + (
                "   (z keeps the old state: the notes, PyTorch)"
                if res.z_keeps == "old"
                else "   (--z-keeps new)"
            )
        ),
        Text(
            "each gate has its own W_x and b (the notes write the same w_x and b for z and r)",
            style="dim",
        ),
    ]


def _units(res: GRUResult, t: int, p: int) -> Table:
    table = Table(
        title=f"Step {t + 1}, unit by unit" if res.sequence else "Unit by unit",
        header_style="bold",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
    )
    table.caption = "a_z, a_r: the gates' pre-activations, inside σ(·)"
    for col in ("unit", "h_(t−1)", "a_z", "z", "a_r", "r", "h̃", "h_t", "case"):
        table.add_column(
            col,
            justify="right" if col != "case" else "left",
            no_wrap=col != "case",
            min_width=7 if col == "case" else None,
        )
    hidden = res.h_prev.shape[1]
    unit_case = {}
    for name, units in res.cases[t].items():
        for u in units:
            unit_case.setdefault(u, []).append(_label(name, res.z_keeps))
    z, r, ht, h = (np.atleast_2d(a)[t] for a in (res.z, res.r, res.h_tilde, res.h))
    shown = (
        range(hidden) if hidden <= 16 else list(range(8)) + [None] + list(range(hidden - 8, hidden))
    )
    for u in shown:
        if u is None:
            table.add_row(*["⋮"] * 8, "")
            continue
        values = (res.h_prev[t, u], res.a_z[t, u], z[u], res.a_r[t, u], r[u], ht[u])
        table.add_row(
            str(u + 1),
            *(num(v, p) for v in values),
            Text(num(h[u], p), style=ACCENT),
            ", ".join(unit_case.get(u, [])),
        )
    return table


def _cases(res: GRUResult, t: int) -> list[Text]:
    lines = []
    for name, units in res.cases[t].items():
        if units:
            label, text = _label(name, res.z_keeps), CASE_TEXT[name][1]
            shown = ", ".join(str(u + 1) for u in units[:12]) + (" …" if len(units) > 12 else "")
            lines.append(Text.assemble((f"{label} (unit {shown}): ", "bold"), text))
    if not lines:
        lines.append(
            Text(
                f"none of the notes' three cases occurs (no gate within "
                f"{res.tol} of 0 or 1; --tol sets 'near')",
                style="dim",
            )
        )
    return lines


def _heat(values: np.ndarray) -> str:
    """Gate values in [0, 1] as shades, one character a time step."""
    index = np.clip((values * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
    return "".join(SHADES[i] for i in index)


def _sequence(res: GRUResult, p: int, steps: int):
    title, table = time_table("Step by step", ("t", "x_t", "z", "r", "h_t"))
    for t in time_rows(res.h.shape[0], steps):
        if t is None:
            table.add_row(*["⋮"] * 5)
            continue
        table.add_row(
            str(t + 1),
            vec(res.x[t], p, TABLE_VALUES),
            vec(res.z[t], p, TABLE_VALUES),
            vec(res.r[t], p, TABLE_VALUES),
            vec(res.h[t], p, TABLE_VALUES),
        )
    heat_title = Text(
        "Gates over time (· near 0 … █ near 1), one row a unit, one column a step", style="bold"
    )
    heat = Table(box=None, header_style="bold")
    heat.add_column("unit", justify="right")
    heat.add_column("z", no_wrap=True)
    heat.add_column("r", no_wrap=True)
    T, hidden = res.z.shape
    cols = slice(0, min(T, 60))
    for u in range(min(hidden, 16)):
        heat.add_row(str(u + 1), _heat(res.z[cols, u]), _heat(res.r[cols, u]))
    notes = (
        [
            Text(
                f"(first {min(T, 60)} of {T} steps, first {min(hidden, 16)} of {hidden} units)",
                style="dim",
            )
        ]
        if T > 60 or hidden > 16
        else []
    )
    return Group(title, table, heat_title, heat, *notes)


def rich(res: GRUResult, style):
    p = style.precision
    parts = [heading("Gated recurrent unit"), *_formulas(res)]
    if res.sequence:
        T = res.h.shape[0]
        parts.append(_sequence(res, p, style.steps or 12))
        parts.append(_units(res, T - 1, p))
        parts += _cases(res, T - 1)
        counts = {k: sum(bool(step[k]) for step in res.cases) for k in CASE_TEXT}
        parts.append(
            Text(
                "steps with each case: "
                + ", ".join(f"{_label(k, res.z_keeps)}: {v}" for k, v in counts.items()),
                style="dim",
            )
        )
    else:
        parts.append(_units(res, 0, p))
        parts += _cases(res, 0)
    return Group(*parts)


# The notes' three cases in LaTeX: what the numbers show, then the notes' own label.
LATEX_CASES = {
    "takes_over": "the candidate takes over, $h_t \\approx \\tilde h_t$ (the notes' case 1, "
    "``only short-term memory'')",
    "ignores_past": "the candidate ignores the past, $\\tilde h_t \\approx {cand}$ (the notes' "
    "case 2, ``only long-term memory'')",
    "carried_over": "the state is carried over unchanged, $h_t \\approx h_{t-1}$ (the notes' "
    "case 3 calls this ``no memory''; it keeps the old state entirely)",
}


def _llabel(name: str, z_keeps: str) -> str:
    """'$z_t \\approx 0$' for a case."""
    gate, value = _label(name, z_keeps).split(" ≈ ")
    return f"${gate}_t \\approx {value}$"


def _lunits(res: GRUResult, t: int, p: int) -> str:
    """The unit-by-unit table as an array (first and last 8 units past 16)."""
    z, r, ht, h = (np.atleast_2d(a)[t] for a in (res.z, res.r, res.h_tilde, res.h))
    unit_case = {}
    for name, units in res.cases[t].items():
        for u in units:
            unit_case.setdefault(u, []).append(_llabel(name, res.z_keeps).strip("$"))
    hidden = res.h_prev.shape[1]
    rows = []
    for u in range(hidden) if hidden <= 16 else [*range(8), None, *range(hidden - 8, hidden)]:
        if u is None:
            rows.append(" & ".join(["\\vdots"] * 8) + " &")
            continue
        values = (res.h_prev[t, u], res.a_z[t, u], z[u], res.a_r[t, u], r[u], ht[u], h[u])
        rows.append(
            f"{u + 1} & "
            + " & ".join(latex_num(v, p) for v in values)
            + " & "
            + ", ".join(unit_case.get(u, []))
        )
    head = "\\text{unit} & h_{t-1} & a_z & z_t & a_r & r_t & \\tilde h_t & h_t & \\text{case}"
    return (
        "$$\\begin{array}{|r|r|r|r|r|r|r|r|l|} \\hline "
        + head
        + " \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )


def _lcases(res: GRUResult, t: int) -> list[str]:
    cand = "\\tanh(W_{xh} x_t + b_h)" if res.reset_after else "\\tanh(W_{xh} x_t + b_{hh} + b_h)"
    lines = []
    for name, units in res.cases[t].items():
        if units:
            shown = ", ".join(str(u + 1) for u in units[:12]) + (
                f" and {len(units) - 12} more" if len(units) > 12 else ""
            )
            text = LATEX_CASES[name].replace("{cand}", cand)
            lines.append(
                latex_par(
                    f"\\textbf{{{_llabel(name, res.z_keeps)}}} "
                    f"(unit{'s' if len(units) > 1 else ''} {shown}): {text}."
                )
            )
    if not lines:
        lines.append(
            latex_par(
                f"None of the notes' three cases occurs (no gate within "
                f"{res.tol:g} of 0 or 1; \\texttt{{--tol}} sets ``near'')."
            )
        )
    return lines


def latex(res: GRUResult, style) -> str:
    p = style.precision
    T = res.h.shape[0] if res.sequence else 1
    t = T - 1
    z, r, ht, h = (np.atleast_2d(a)[t] for a in (res.z, res.r, res.h_tilde, res.h))
    cand = (
        "r_t \\odot (W_{hh} h_{t-1} + b_{hh})"
        if res.reset_after
        else "W_{hh} (r_t \\odot h_{t-1}) + b_{hh}"
    )
    keep = (
        "z_t \\odot h_{t-1} + (1 - z_t) \\odot \\tilde h_t"
        if res.z_keeps == "old"
        else "(1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t"
    )
    lines = []
    if res.sequence:
        rows = []
        for s in time_rows(T, style.steps or 12):
            rows.append(
                "\\vdots & \\vdots & \\vdots & \\vdots & \\vdots"
                if s is None
                else f"{s + 1} & "
                + " & ".join(latex_row(a[s], p, 3) for a in (res.x, res.z, res.r, res.h))
            )
        lines += [
            latex_par(f"A sequence of {T} steps; $h_t$ step by step:"),
            "$$\\begin{array}{|r|c|c|c|c|} \\hline t & x_t & z_t & r_t & h_t \\\\ "
            "\\hline " + " \\\\ ".join(rows) + " \\\\ \\hline \\end{array}$$",
            latex_par(f"Step {T}, unit by unit:"),
        ]
    lines += [
        f"$$x_t = {latex_vector(res.x[t], p, 8)}, \\quad "
        f"h_{{t-1}} = {latex_vector(res.h_prev[t], p, 8)}$$",
        f"$$z_t = \\sigma(W_{{xz}} x_t + W_{{hz}} h_{{t-1}} + b_z) = {latex_vector(z, p, 8)}$$",
        f"$$r_t = \\sigma(W_{{xr}} x_t + W_{{hr}} h_{{t-1}} + b_r) = {latex_vector(r, p, 8)}$$",
        f"$$\\tilde h_t = \\tanh(W_{{xh}} x_t + {cand} + b_h) = {latex_vector(ht, p, 8)}$$",
        f"$$h_t = {keep} = {latex_vector(h, p, 8)}$$",
        latex_par(
            "The reset gate acts "
            + (
                "after $W_{hh}$ (PyTorch, Keras)"
                if res.reset_after
                else "before $W_{hh}$ (the paper, d2l)"
            )
            + "; "
            + (
                "$z_t = 1$ keeps the old state (the notes, PyTorch)."
                if res.z_keeps == "old"
                else "$z_t = 1$ takes the candidate (\\texttt{--z-keeps new})."
            )
            + " Each gate has its own input weights and bias ($W_{xz}, b_z$ for $z_t$; "
            "$W_{xr}, b_r$ for $r_t$; $W_{xh}, b_h$ for $\\tilde h_t$): the notes write the "
            "same $w_x$ and $b$ for $z_t$ and $r_t$."
        ),
        _lunits(res, t, p),
        latex_par("$a_z, a_r$: the gates' pre-activations, inside $\\sigma(\\cdot)$."),
        *_lcases(res, t),
    ]
    if res.sequence:
        counts = {k: sum(bool(step[k]) for step in res.cases) for k in CASE_TEXT}
        lines.append(
            latex_par(
                "Steps with each case: "
                + ", ".join(f"{_llabel(k, res.z_keeps)}: {v}" for k, v in counts.items())
                + "."
            )
        )
    return "\n".join(lines).lstrip("\n")
