"""The working of `gru-step`: what was given, each gate of one unit with its numbers, the
gates and states unit by unit, and the notes' three cases named where they occur."""

from __future__ import annotations

import numpy as np
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.gru import GRUResult
from cnnrnn_cli.explain.bptt import (
    Fit,
    TimeTable,
    column,
    grids,
    plus,
    sentence,
    signed,
    terms,
    wrap,
)
from cnnrnn_cli.explain.common import (
    ACCENT,
    heading,
    latex_num,
    latex_par,
    latex_row,
    latex_vector,
    time_rows,
)

SHADES = "·░▒▓█"
NAMES = {
    "wxz": "W_xz",
    "whz": "W_hz",
    "bz": "b_z",
    "wxr": "W_xr",
    "whr": "W_hr",
    "br": "b_r",
    "wxh": "W_xh",
    "whh": "W_hh",
    "bh": "b_h",
    "bhh": "b_hh",
}


def candidate_without_past(reset_after: bool) -> str:
    """h̃ when r ≈ 0: reset after W_hh drops b_hh with W_hh h (r ⊙ (W_hh h + b_hh)); reset
    before keeps it (W_hh (r ⊙ h) + b_hh: only h is reset)."""
    return "tanh(W_xh x_t + b_h)" if reset_after else "tanh(W_xh x_t + b_hh + b_h)"


def case_text(name: str, reset_after: bool) -> str:
    return {
        "takes_over": "the candidate takes over: h_t ≈ h̃_t (the notes' case 1, "
        "'only short-term memory')",
        "ignores_past": "the candidate ignores the past: h̃_t ≈ "
        f"{candidate_without_past(reset_after)} (the notes' case 2, 'only long-term memory')",
        "carried_over": "the state is carried over unchanged: h_t ≈ h_{t−1} (the notes' "
        "case 3 calls this 'no memory'; it keeps the old state entirely)",
    }[name]


CASES = ("takes_over", "ignores_past", "carried_over")
LABELS = {"takes_over": "z ≈ 0", "ignores_past": "r ≈ 0", "carried_over": "z ≈ 1"}


def _label(name: str, z_keeps: str) -> str:
    """'z ≈ 0' etc.; with --z-keeps new the z cases swap ends."""
    if z_keeps == "new" and name != "ignores_past":
        return {"takes_over": "z ≈ 1", "carried_over": "z ≈ 0"}[name]
    return LABELS[name]


def _formulas(res: GRUResult) -> list:
    cand = (
        "tanh(W_xh x_t + r_t ⊙ (W_hh h_{t−1} + b_hh) + b_h)"
        if res.reset_after
        else "tanh(W_xh x_t + W_hh (r_t ⊙ h_{t−1}) + b_hh + b_h)"
    )
    update = (
        "z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t"
        if res.z_keeps == "old"
        else "(1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t"
    )
    return [
        sentence("z_t = σ(W_xz x_t + W_hz h_{t−1} + b_z),  r_t = σ(W_xr x_t + W_hr h_{t−1} + b_r)"),
        sentence(
            f"h̃_t = {cand}"
            + (
                "   (reset after W_hh: PyTorch, Keras)"
                if res.reset_after
                else "   (reset before W_hh: the paper, d2l)"
            )
        ),
        sentence(
            f"h_t = {update}"
            + (
                "   (z keeps the old state: the notes, PyTorch)"
                if res.z_keeps == "old"
                else "   (--z-keeps new)"
            )
        ),
        sentence(
            "each gate has its own W_x and b (the notes write the same w_x and b for z and r)",
            style="dim",
        ),
    ]


def _given(res: GRUResult, p: int):
    if res.sequence:
        xs = res.x.T if res.x.shape[1] == 1 else res.x
        items = [("x_1 … x_T" if res.x.shape[1] == 1 else "xs (row t is x_t)", xs)]
        items.append(("h_0", res.h_prev[0]))
    else:
        items = [("x", res.x[0]), ("h_{t−1}", res.h_prev[0])]
    items += [(NAMES[k], v) for k, v in res.weights.items()]
    title = (
        "Given"
        if res.seed is None
        else f"Given: a random case, seed {res.seed}: repeat it with --seed {res.seed}"
    )
    return Group(heading(title), Fit(lambda width: grids(items, p, width)))


def _unit_formulas(res: GRUResult, t: int, u: int, p: int, width: int):
    """Every gate of unit u at step t with its numbers."""
    w, x, h = res.weights, res.x[t], res.h_prev[t]
    z, r = np.atleast_2d(res.z)[t], np.atleast_2d(res.r)[t]
    ht, hn = np.atleast_2d(res.h_tilde)[t], np.atleast_2d(res.h)[t]
    i = f"[{u + 1}]"
    row = f"[{u + 1},:]"
    head = f"Step {t + 1}, unit {u + 1}" if res.sequence else f"Unit {u + 1}"
    lines = [Text(f"{head}, with the numbers:", style="bold")]

    def gate(name, wx, wh, b, a, value):
        lines.append(
            wrap(
                [
                    f"{name}{i} = σ(W_x{name}{row}·x_t + W_h{name}{row}·h_{{t−1}} + b_{name}{i})",
                    "= σ(" + terms(w[wx][u], x, p)[0],
                    *terms(w[wx][u], x, p)[1:],
                    *terms(w[wh][u], h, p, first=False),
                    plus(w[b][u], p) + ")",
                    f"= σ({signed(res_a(a), p)})",
                    f"= {signed(value, p)}",
                ],
                width,
            )
        )

    def res_a(a):
        return np.atleast_2d(a)[t, u] if a.ndim == 2 else a[u]

    gate("z", "wxz", "whz", "bz", res.a_z, z[u])
    gate("r", "wxr", "whr", "br", res.a_r, r[u])
    gh = res.gh[t, u]
    if res.reset_after:
        lines.append(
            wrap(
                [
                    f"(W_hh h_{{t−1}} + b_hh){i}",
                    "= " + terms(w["whh"][u], h, p)[0],
                    *terms(w["whh"][u], h, p)[1:],
                    plus(w["bhh"][u], p),
                    f"= {signed(gh, p)}",
                ],
                width,
            )
        )
        inner = [f"+ {signed(r[u], p)}·{_paren(gh, p)}"]
        symbolic = f"h̃{i} = tanh(W_xh{row}·x_t + r{i}·(W_hh h_{{t−1}} + b_hh){i} + b_h{i})"
    else:
        rh = r * h
        products = [
            f"{'−' if wv < 0 else '+'} {signed(abs(wv), p)}·({signed(rv, p)}·{_paren(hv, p)})"
            for wv, rv, hv in zip(w["whh"][u][:4], r[:4], h[:4], strict=False)
        ]
        products[0] = products[0][2:] if products[0].startswith("+") else "−" + products[0][2:]
        if len(rh) > 4:
            products.append(f"+ … ({len(rh) - 4} more)")
        lines.append(
            wrap(
                [
                    f"(W_hh (r ⊙ h_{{t−1}}) + b_hh){i}",
                    "= " + products[0],
                    *products[1:],
                    plus(w["bhh"][u], p),
                    f"= {signed(gh, p)}",
                ],
                width,
            )
        )
        inner = [plus(gh, p)]
        symbolic = f"h̃{i} = tanh(W_xh{row}·x_t + (W_hh (r ⊙ h_{{t−1}}) + b_hh){i} + b_h{i})"
    xh = terms(w["wxh"][u], x, p)
    lines.append(
        wrap(
            [
                symbolic,
                "= tanh(" + xh[0],
                *xh[1:],
                *inner,
                plus(w["bh"][u], p) + ")",
                f"= tanh({signed(res.a_h[t, u], p)})",
                f"= {signed(ht[u], p)}",
            ],
            width,
        )
    )
    if res.z_keeps == "old":
        symbolic = f"h_t{i} = z{i}·h_{{t−1}}{i} + (1 − z{i})·h̃{i}"
        keep, take = z[u], 1 - z[u]
    else:
        symbolic = f"h_t{i} = (1 − z{i})·h_{{t−1}}{i} + z{i}·h̃{i}"
        keep, take = 1 - z[u], z[u]
    lines.append(
        wrap(
            [
                symbolic,
                f"= {signed(keep, p)}·{_paren(h[u], p)}",
                f"+ {signed(take, p)}·{_paren(ht[u], p)}",
                f"= {signed(hn[u], p)}",
            ],
            width,
        )
    )
    return Group(*lines)


def _paren(x: float, p: int) -> str:
    text = signed(x, p)
    return f"({text})" if text.startswith("−") else text


def _units(res: GRUResult, t: int, p: int, width: int):
    hidden = res.h_prev.shape[1]
    unit_case = {}
    for name, units in res.cases[t].items():
        for u in units:
            unit_case.setdefault(u, []).append(_label(name, res.z_keeps))
    z, r, ht, h = (np.atleast_2d(a)[t] for a in (res.z, res.r, res.h_tilde, res.h))
    shown = list(range(hidden)) if hidden <= 16 else [*range(8), None, *range(hidden - 8, hidden)]
    kept = [u for u in shown if u is not None]
    columns = [
        ("h_{t−1}", res.h_prev[t]),
        ("a_z", res.a_z[t]),
        ("z", z),
        ("a_r", res.a_r[t]),
        ("r", r),
        ("h̃", ht),
        ("h_t", h),
    ]
    texts = [(name, column(values[kept], p)) for name, values in columns]
    cases = [", ".join(unit_case.get(u, [])) for u in kept]

    def total(texts):
        widths = [max(len(n), *map(len, c)) for n, c in texts]
        return sum(w + 3 for w in widths) + len(str(hidden)) + 4 + max(4, *map(len, cases)) + 3

    dropped = []
    for name in ("a_r", "a_z", "h_{t−1}"):
        if total(texts) <= width:
            break
        texts = [(n, c) for n, c in texts if n != name]
        dropped.append(name)
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    table.add_column("unit", justify="right", no_wrap=True)
    for name, _ in texts:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("case", no_wrap=True)
    n = 0
    for u in shown:
        if u is None:
            table.add_row("⋮", *["⋮"] * len(texts), "")
            continue
        cells = [c[n] for _, c in texts]
        cells[-1] = Text(cells[-1], style=ACCENT)
        table.add_row(str(u + 1), *cells, cases[n])
        n += 1
    title = f"Step {t + 1}, unit by unit" if res.sequence else "Unit by unit"
    notes = [] if {"a_z", "a_r"} <= set(dropped) else ["a_z, a_r: the gates' pre-activations"]
    if dropped:
        notes.append(f"({', '.join(dropped)} left out to fit the width; -f json has z, r, h̃, h)")
    return Group(Text(title, style="bold"), table, *[Text(note, style="dim") for note in notes])


def _cases(res: GRUResult, t: int) -> list:
    lines = []
    for name, units in res.cases[t].items():
        if units:
            label, text = _label(name, res.z_keeps), case_text(name, res.reset_after)
            shown = ", ".join(str(u + 1) for u in units[:12]) + (
                f" and {len(units) - 12} more" if len(units) > 12 else ""
            )
            plural = "s" if len(units) > 1 else ""
            lines.append(sentence(f"{label} (unit{plural} {shown}): {text}"))
    if not lines:
        lines.append(
            sentence(
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


def _heatmap(res: GRUResult, width: int):
    T, hidden = res.z.shape
    room = max(4, min(60, (width - 10) // 2))
    cols = slice(0, min(T, room))
    heat = Table(box=None, header_style="bold", pad_edge=False)
    heat.add_column("unit", justify="right", no_wrap=True)
    heat.add_column("z", no_wrap=True)
    heat.add_column("r", no_wrap=True)
    for u in range(min(hidden, 16)):
        heat.add_row(str(u + 1), _heat(res.z[cols, u]), _heat(res.r[cols, u]))
    notes = []
    if T > room or hidden > 16:
        notes.append(
            Text(
                f"(first {min(T, room)} of {T} steps, first {min(hidden, 16)} of {hidden} units)",
                style="dim",
            )
        )
    return Group(heat, *notes)


def _sequence(res: GRUResult, p: int, steps: int):
    table = TimeTable(
        "Step by step",
        [("x_t", res.x), ("z_t", res.z), ("r_t", res.r), ("h_t", res.h)],
        res.h.shape[0],
        steps,
    )
    table.p = p
    heat_title = sentence(
        "Gates over time (· near 0 … █ near 1), one row a unit, one column a step", style="bold"
    )
    return Group(table, heat_title, Fit(lambda width: _heatmap(res, width)))


def chosen(res: GRUResult, style) -> tuple[int, int]:
    """(step, unit), 0-based, whose gates are written with their numbers: --at t and
    --unit u (the command checked them), else step 1, unit 1."""
    at = style.at or (None, 0)
    return (0 if at[0] is None else at[0]), at[1]


def rich(res: GRUResult, style):
    p = style.precision
    step, unit = chosen(res, style)
    parts = [heading("Gated recurrent unit"), _given(res, p), *_formulas(res)]
    parts.append(Fit(lambda width: _unit_formulas(res, step, unit, p, width)))
    if res.sequence:
        T = res.h.shape[0]
        shown = T - 1 if style.at is None or style.at[0] is None else step
        parts.append(_sequence(res, p, style.steps or 12))
        parts.append(Fit(lambda width: _units(res, shown, p, width)))
        parts += _cases(res, shown)
        counts = {k: sum(bool(step[k]) for step in res.cases) for k in CASES}
        parts.append(
            sentence(
                "steps with each case: "
                + ", ".join(f"{_label(k, res.z_keeps)}: {v}" for k, v in counts.items()),
                style="dim",
            )
        )
    else:
        parts.append(Fit(lambda width: _units(res, 0, p, width)))
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


def _lsigned(x: float, p: int) -> str:
    """'+ 0.5' or '- 0.5' for a term after others."""
    text = latex_num(abs(x), p)
    return f"- {text}" if x < 0 else f"+ {text}"


def _lparen(x: float, p: int) -> str:
    text = latex_num(x, p)
    return f"({text})" if x < 0 else text


def _lunit_formulas(res: GRUResult, t: int, u: int, p: int) -> list[str]:
    """Every gate of unit u at step t with its numbers, as the rich view writes them."""
    from cnnrnn_cli.explain.bptt import _lterms

    w, x, h = res.weights, res.x[t], res.h_prev[t]
    z, r = np.atleast_2d(res.z)[t], np.atleast_2d(res.r)[t]
    ht, hn = np.atleast_2d(res.h_tilde)[t], np.atleast_2d(res.h)[t]
    i = f"[{u + 1}]"
    lines = [
        latex_par(
            (f"Step {t + 1}, unit" if res.sequence else "Unit") + f" {u + 1}, with the numbers:"
        )
    ]
    for gate, a, value in (("z", res.a_z, z[u]), ("r", res.a_r, r[u])):
        body = (
            _lterms(w[f"wx{gate}"][u], x, p)
            + " "
            + _lterms(w[f"wh{gate}"][u], h, p, first=False)
            + " "
            + _lsigned(w[f"b{gate}"][u], p)
        )
        lines.append(
            f"$${gate}_t{i} = \\sigma({body}) = \\sigma({latex_num(a[t, u], p)}) = "
            f"{latex_num(value, p)}$$"
        )
    gh = res.gh[t, u]
    if res.reset_after:
        lines.append(
            f"$$(W_{{hh}} h_{{t-1}} + b_{{hh}}){i} = {_lterms(w['whh'][u], h, p)} "
            f"{_lsigned(w['bhh'][u], p)} = {latex_num(gh, p)}$$"
        )
        inner = f"+ {latex_num(r[u], p)} \\cdot {_lparen(gh, p)}"
    else:
        lines.append(
            f"$$(W_{{hh}} (r_t \\odot h_{{t-1}}) + b_{{hh}}){i} = "
            f"{_lterms(w['whh'][u], r * h, p)} {_lsigned(w['bhh'][u], p)} = {latex_num(gh, p)}$$"
        )
        inner = _lsigned(gh, p)
    lines.append(
        f"$$\\tilde h_t{i} = \\tanh({_lterms(w['wxh'][u], x, p)} {inner} "
        f"{_lsigned(w['bh'][u], p)}) = \\tanh({latex_num(res.a_h[t, u], p)}) = "
        f"{latex_num(ht[u], p)}$$"
    )
    keep, take = (z[u], 1 - z[u]) if res.z_keeps == "old" else (1 - z[u], z[u])
    lines.append(
        f"$$h_t{i} = {latex_num(keep, p)} \\cdot {_lparen(h[u], p)} + {latex_num(take, p)} "
        f"\\cdot {_lparen(ht[u], p)} = {latex_num(hn[u], p)}$$"
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
        *_lunit_formulas(res, *chosen(res, style), p),
        _lunits(res, t, p),
        latex_par("$a_z, a_r$: the gates' pre-activations, inside $\\sigma(\\cdot)$."),
        *_lcases(res, t),
    ]
    if res.sequence:
        counts = {k: sum(bool(step[k]) for step in res.cases) for k in CASES}
        lines.append(
            latex_par(
                "Steps with each case: "
                + ", ".join(f"{_llabel(k, res.z_keeps)}: {v}" for k, v in counts.items())
                + "."
            )
        )
    return "\n".join(lines).lstrip("\n")
