"""The working of `lstm-step`: the four gates unit by unit, the cell and the state, one
unit's formulas with its numbers, and the three named cases where they occur."""

from __future__ import annotations

import numpy as np
from rich import box
from rich.columns import Columns
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.lstm import GATE_ORDER, LSTMResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    elide,
    grid,
    heading,
    latex_matrix,
    latex_num,
    latex_par,
    latex_row,
    latex_vector,
    num,
    time_rows,
    vec,
)
from cnnrnn_cli.explain.layout import FirstFit, Terms, heat

ACT = {"i": "σ", "f": "σ", "g": "tanh", "o": "σ"}
LATEX_ACT = {"i": "\\sigma", "f": "\\sigma", "g": "\\tanh", "o": "\\sigma"}
ROLE = {
    "i": "input gate",
    "f": "forget gate",
    "g": "candidate",
    "o": "output gate",
}
LABEL = {"carried_over": "f ≈ 1, i ≈ 0", "forgets": "f ≈ 0", "hidden": "o ≈ 0"}
LABEL_NB = {k: v.replace(" ≈ ", "\u00a0≈\u00a0") for k, v in LABEL.items()}
WORD = {"carried_over": "carried", "forgets": "forgets", "hidden": "hidden"}
TERMS = 8  # terms of a dot product written out before '…'


# --- Facts ------------------------------------------------------------------------------


def _where(res: LSTMResult, style) -> tuple[int, int]:
    """(step, unit) written out, 0-based: the command's --at and --unit, else the last step
    and the first unit."""
    at = getattr(style, "at", None)
    if at is not None and len(at) == 2:
        return at[0], at[1]
    return res.T - 1, 0


def _unit_values(res: LSTMResult, t: int, u: int) -> dict:
    """Everything one unit's formulas need at step t."""
    values = {k: res.gate(k)[t, u] for k in GATE_ORDER}
    values.update({f"a_{k}": res.pre(k)[t, u] for k in GATE_ORDER})
    values.update(c_prev=res.c_prev[t, u], c=res.cells[t, u], h=res.states[t, u])
    values["tanh_c"] = np.tanh(values["c"])
    return values


NB = "\u00a0"  # joins what a line must not split: 'c_t = 0.8' (LaTeX reads it as ~)


def _case_facts(res: LSTMResult, t: int) -> list[tuple[str, list[int], str, dict]]:
    """(case, units, variant, the first unit's numbers) for each case that occurs at step
    t. The variant is what those numbers show: 'carried'; 'forgets' (c_t ≈ i·g), or
    'forgets_all' when i ≈ 0 too (c_t ≈ 0); 'hidden' (the cell holds a value that h does not
    show), or 'hidden_empty' when the cell itself is ≈ 0."""
    out = []
    for name, units in res.cases[t].items():
        if not units:
            continue
        v = _unit_values(res, t, units[0])
        v["ig"] = v["i"] * v["g"]
        if name == "carried_over":
            variant = "carried"
        elif name == "forgets":
            variant = "forgets" if v["i"] > res.tol else "forgets_all"
        else:
            variant = "hidden" if abs(v["c"]) > res.tol else "hidden_empty"
        out.append((name, units, variant, v))
    return out


def _accumulating(res: LSTMResult, t: int) -> tuple[list[int], dict | None]:
    """Units that keep the old cell (f ≈ 1) but also let the candidate in (i not ≈ 0): the
    additive path the carried-over case is the quiet form of. With the first unit's numbers."""
    i, f = res.gate("i")[t], res.gate("f")[t]
    units = np.flatnonzero((f >= 1 - res.tol) & (i > res.tol)).tolist()
    if not units:
        return [], None
    v = _unit_values(res, t, units[0])
    v["ig"] = v["i"] * v["g"]
    return units, v


# What each variant says, then its numbers: (name, key) pairs; '→' between the first two.
SENTENCES = {
    "carried": ("the cell state is carried over unchanged", [("c_{t−1}", "c_prev"), ("c_t", "c")]),
    "forgets": (
        f"the cell forgets: c_{{t−1}} is dropped and c_t{NB}≈{NB}i·g",
        [("c_{t−1}", "c_prev"), ("i·g", "ig"), ("c_t", "c")],
    ),
    "forgets_all": (
        f"the cell forgets and takes in almost nothing (i{NB}≈{NB}0 too): c_t{NB}≈{NB}0",
        [("c_{t−1}", "c_prev"), ("c_t", "c")],
    ),
    "hidden": (
        f"the state is kept but hidden: the cell holds its value while h_t{NB}≈{NB}0",
        [("c_t", "c"), ("h_t", "h")],
    ),
    "hidden_empty": (
        f"h_t{NB}≈{NB}0: the output gate hides the cell, which holds almost nothing here",
        [("c_t", "c"), ("h_t", "h")],
    ),
}
LATEX_SENTENCES = {
    "carried": "the cell state is carried over unchanged",
    "forgets": "the cell forgets: $c_{t-1}$ is dropped and $c_t \\approx i_t g_t$",
    "forgets_all": "the cell forgets and takes in almost nothing ($i_t \\approx 0$ too): "
    "$c_t \\approx 0$",
    "hidden": "the state is kept but hidden: the cell holds its value while $h_t \\approx 0$",
    "hidden_empty": "$h_t \\approx 0$: the output gate hides the cell, which holds almost "
    "nothing here",
}
LATEX_NAMES = {"c_{t−1}": "c_{t-1}", "c_t": "c_t", "h_t": "h_t", "i·g": "i_t g_t"}


def _case_sentence(units: list[int], variant: str, v: dict, p: int) -> str:
    words, numbers = SENTENCES[variant]
    shown = [f"{name}{NB}={NB}{_n(v[key], p)}" for name, key in numbers]
    joined = (
        f"{shown[0]}{NB}→{NB}{shown[1]}"
        if variant in ("carried", "forgets_all")
        else ", ".join(shown)
    )
    which = f"unit{NB}{units[0] + 1}: " if len(units) > 1 else ""
    return f"{words} ({which}{joined})"


def _lcase_sentence(units: list[int], variant: str, v: dict, p: int) -> str:
    _, numbers = SENTENCES[variant]
    shown = [f"{LATEX_NAMES[name]} = {latex_num(v[key], p)}" for name, key in numbers]
    joined = (
        f"{shown[0]} \\rightarrow {shown[1]}"
        if variant in ("carried", "forgets_all")
        else ",\\ ".join(shown)
    )
    which = f"unit {units[0] + 1}: " if len(units) > 1 else ""
    return f"{LATEX_SENTENCES[variant]} ({which}${joined}$)"


def _n(x, p: int) -> str:
    """A number in running text: the minus sign as '−'."""
    return num(x, p).replace("-", "−")


def _units_text(units: list[int]) -> str:
    shown = ", ".join(str(u + 1) for u in units[:12])
    more = f" and {len(units) - 12} more" if len(units) > 12 else ""
    return f"unit{'s' if len(units) > 1 else ''} {shown}{more}"


# --- Rich -------------------------------------------------------------------------------


def _formulas() -> Terms:
    formulas = [
        "i = σ(W_xi x + W_hi h + b_i)",
        "f = σ(W_xf x + W_hf h + b_f)",
        "g = tanh(W_xg x + W_hg h + b_g)",
        "o = σ(W_xo x + W_ho h + b_o)",
        "c_t = f ⊙ c_{t−1} + i ⊙ g",
        "h_t = o ⊙ tanh(c_t)",
    ]
    width = max(map(len, formulas)) + 2
    return Terms([f.ljust(width) for f in formulas[:-1]] + formulas[-1:], indent=0)


def _origin(res: LSTMResult) -> list:
    lines = []
    if res.seed is not None:
        lines.append(
            f"Given: a random case, seed {res.seed} (repeat it with --seed{NB}{res.seed}): "
            f"weights U(−1/√H,{NB}1/√H) as PyTorch initialises them, x, h and "
            f"c{NB}~{NB}N(0,{NB}1)."
        )
    if res.torch:
        lines.append(
            "Weights from a PyTorch LSTMCell: weight_ih and weight_hh split into the "
            f"gates i, f, g, o (H{NB}rows each), b_·{NB}={NB}bias_ih{NB}+{NB}bias_hh."
        )
    return [Terms(_words(line), indent=2) for line in lines]


def _given(res: LSTMResult, p: int):
    """x, h_{t−1}, c_{t−1} of the first step, and each gate's [W_x | W_h | b] as a grid."""
    first = []
    if not res.sequence:
        first.append(("x", res.x[0]))
    first += [("h_{t−1}", res.h_prev[0]), ("c_{t−1}", res.c_prev[0])]
    if res.sequence:
        first = [(f"{name[0]}_0", v) for name, v in first]

    def vectors(width: int):
        return [
            Group(*(Text(f"{name} = {vec(v, p, limit)}") for name, v in first))
            for limit in (8, 4, 2)
        ]

    w = res.weights

    def build(width: int):
        grids = [
            grid(
                np.column_stack([w[f"wx{k}"], w[f"wh{k}"], w[f"b{k}"]]),
                p,
                title=f"{k}: [W_x{k} | W_h{k} | b_{k}]",
                max_cells=6 if res.H + res.x.shape[1] > 6 else 8,
                width=max(20, width - 2),
            )
            for k in GATE_ORDER
        ]
        return [Columns(grids, padding=(0, 2))]

    return Group(
        FirstFit(vectors),
        Text(
            "Each gate's weights, one row a unit: row u · (x, h_{t−1}, 1) is unit u's "
            "pre-activation.",
            style="dim",
        ),
        FirstFit(build),
    )


def _unit_table(res: LSTMResult, t: int, p: int, columns: list[str], title: str) -> Table:
    table = Table(
        title=title,
        header_style="bold",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    labels = {
        "unit": "unit",
        "c_prev": "c_{t−1}",
        "c": "c_t",
        "h": "h_t",
        "case": "case",
        **{k: k for k in GATE_ORDER},
        **{f"a_{k}": f"a_{k}" for k in GATE_ORDER},
    }
    for col in columns:
        table.add_column(labels[col], justify="left" if col == "case" else "right", no_wrap=True)
    words = {}
    for name, units in res.cases[t].items():
        for u in units:
            words.setdefault(u, []).append(WORD[name])
    for u in elide(res.H, 16):
        if u is None:
            table.add_row(*["⋮" if c != "case" else "" for c in columns])
            continue
        v = _unit_values(res, t, u)
        cells = []
        for col in columns:
            if col == "unit":
                cells.append(str(u + 1))
            elif col == "case":
                cells.append(", ".join(words.get(u, [])))
            elif col == "h":
                cells.append(Text(num(v["h"], p), style=ACCENT))
            else:
                cells.append(num(v[col], p))
        table.add_row(*cells)
    return table


def _units(res: LSTMResult, t: int, p: int) -> FirstFit:
    """The gates, the cell and the state unit by unit: with the pre-activations when the
    width allows, then without, then as two tables (the gates; the cell and the state)."""
    title = f"Step {t + 1}, unit by unit" if res.sequence else "Unit by unit"
    gates = list(GATE_ORDER)
    states = ["c_prev", "c", "h", "case"]

    def build(width: int):
        wide = _unit_table(
            res, t, p, ["unit", *(x for k in gates for x in (f"a_{k}", k)), *states], title
        )
        wide.caption = "a_·: the pre-activation inside σ(·) or tanh(·)"
        return [
            wide,
            _unit_table(res, t, p, ["unit", *gates, *states], title),
            Group(
                _unit_table(res, t, p, ["unit", *gates], f"{title}: the gates"),
                _unit_table(res, t, p, ["unit", *states], "the cell and the state"),
            ),
        ]

    return FirstFit(build)


def _dot_atoms(w_row, values, bias, p: int) -> list[str]:
    """'0·1', '+ 0·0.5', '− 6' for W[u,:]·v + b[u], cut past TERMS terms."""
    atoms = []
    pairs = list(zip(w_row, values, strict=True))
    shown = pairs if len(pairs) <= TERMS else pairs[: TERMS - 2]
    for n, (w, x) in enumerate(shown):
        xs = _n(x, p)
        xs = f"({xs})" if x < 0 else xs
        term = f"{_n(abs(w), p)}·{xs}"
        atoms.append(("−" if w < 0 else "") + term if n == 0 else f"{'−' if w < 0 else '+'} {term}")
    if len(pairs) > len(shown):
        atoms.append(f"+ … ({len(pairs) - len(shown)} more terms)")
    atoms.append(f"{'−' if bias < 0 else '+'} {_n(abs(bias), p)}")
    return atoms


def _written_out(res: LSTMResult, t: int, u: int, p: int) -> list:
    """Unit u's formulas at step t, written once with its numbers substituted."""
    v = _unit_values(res, t, u)
    inputs = np.concatenate([res.x[t], res.h_prev[t]])
    w = res.weights
    where = f" (step {t + 1})" if res.sequence else ""
    lines = [Text(f"Unit {u + 1} written out{where}:", style="bold")]
    U = f"[{u + 1}]"
    for k in GATE_ORDER:
        row = np.concatenate([w[f"wx{k}"][u], w[f"wh{k}"][u]])
        dot = _dot_atoms(row, inputs, w[f"b{k}"][u], p)
        dot[0], dot[-1] = f"{ACT[k]}({dot[0]}", f"{dot[-1]})"
        lines.append(
            Terms(
                [
                    f"{k}{U} =",
                    *dot,
                    f"= {ACT[k]}({_n(v[f'a_{k}'], p)})",
                    Text.assemble("= ", (_n(v[k], p), "bold")),
                ]
            )
        )
    fc = f"{_n(v['f'], p)}·{_p(v['c_prev'], p)}"
    ig = f"{_n(v['i'], p)}·{_p(v['g'], p)}"
    lines.append(
        Terms(
            [
                f"c_t{U} =",
                "f·c_{t−1} + i·g",
                f"= {fc}",
                f"+ {ig}",
                Text.assemble("= ", (_n(v["c"], p), "bold")),
            ]
        )
    )
    lines.append(
        Terms(
            [
                f"h_t{U} =",
                "o·tanh(c_t)",
                f"= {_n(v['o'], p)}·tanh({_n(v['c'], p)})",
                f"= {_n(v['o'], p)}·{_p(v['tanh_c'], p)}",
                Text.assemble("= ", (_n(v["h"], p), ACCENT)),
            ]
        )
    )
    return lines


def _p(x, p: int) -> str:
    """A factor after '·': negative numbers in parentheses."""
    return f"({_n(x, p)})" if x < 0 else _n(x, p)


def _words(text: str) -> list[str]:
    """Atoms for `Terms`: the words, with what NB joins kept together."""
    return [word.replace(NB, " ") for word in text.split(" ")]


def _cases(res: LSTMResult, t: int, p: int) -> list:
    lines = [
        Terms(
            [Text(a, "bold") for a in _words(f"{LABEL_NB[name]} ({_units_text(units)}):")]
            + _words(text),
            indent=2,
        )
        for name, units, text in (
            (name, units, _case_sentence(units, variant, v, p))
            for name, units, variant, v in _case_facts(res, t)
        )
    ]
    if not lines:
        text = (
            f"None of the three cases occurs{' at this step' if res.sequence else ''} "
            f"(f{NB}≈{NB}1 with i{NB}≈{NB}0; {LABEL_NB['forgets']}; {LABEL_NB['hidden']}; "
            f"≈ meaning within {res.tol:g}, which --tol sets)."
        )
        lines.append(Terms(_words(text), indent=2, style="dim"))
    units, v = _accumulating(res, t)
    if units:
        which = f"unit{NB}{units[0] + 1}: " if len(units) > 1 else ""
        text = (
            f"f{NB}≈{NB}1 with i not ≈ 0 ({_units_text(units)}): the cell keeps c_{{t−1}} and "
            f"adds i·g to it ({which}c_{{t−1}}{NB}={NB}{_n(v['c_prev'], p)}, "
            f"i·g{NB}={NB}{_n(v['ig'], p)}, c_t{NB}={NB}{_n(v['c'], p)})."
        )
        lines.append(Terms(_words(text), indent=2, style="dim"))
    return lines


SEQUENCE_LAYOUTS = [  # columns, values shown a vector: widest first
    (("x", "i", "f", "o", "c", "h"), 2),
    (("x", "i", "f", "o", "c", "h"), 1),
    (("x", "f", "i", "c", "h"), 1),
    (("x", "c", "h"), 1),
]


def _sequence(res: LSTMResult, p: int, steps: int):
    arrays = {
        "x": res.x,
        "i": res.gate("i"),
        "f": res.gate("f"),
        "o": res.gate("o"),
        "c": res.cells,
        "h": res.states,
    }
    heads = {"x": "x_t", "c": "c_t", "h": "h_t"}
    rows = time_rows(res.T, steps)

    def table(columns, per_cell):
        t = Table(box=box.SIMPLE_HEAD, header_style="bold", collapse_padding=True, pad_edge=False)
        for col in ("t", *columns):
            t.add_column(heads.get(col, col), justify="right", no_wrap=True)
        for s in rows:
            if s is None:
                t.add_row(*["⋮"] * (len(columns) + 1))
            else:
                t.add_row(str(s + 1), *(vec(arrays[c][s], p, per_cell) for c in columns))
        return t

    def heat_map(width: int):
        room = (width - 5 - 3 * 2) // 3
        shown = max(1, min(res.T, 60, room))
        units = min(res.H, 16)
        heat_table = Table(box=None, header_style="bold", pad_edge=False)
        heat_table.add_column("unit", justify="right", no_wrap=True)
        for k in ("i", "f", "o"):
            heat_table.add_column(k, no_wrap=True)
        for u in range(units):
            heat_table.add_row(str(u + 1), *(heat(res.gate(k)[:shown, u]) for k in ("i", "f", "o")))
        parts = [heat_table]
        if shown < res.T or units < res.H:
            parts.append(
                Text(
                    f"(first {shown} of {res.T} steps, first {units} of {res.H} units)",
                    style="dim",
                )
            )
        return [Group(*parts)]

    return Group(
        Text(f"Step by step ({res.T} steps)", style="bold"),
        FirstFit(lambda width: [table(cols, n) for cols, n in SEQUENCE_LAYOUTS]),
        Text(
            "The gates over time (· near 0 … █ near 1), one row a unit, one column a step",
            style="bold",
        ),
        FirstFit(heat_map),
    )


def rich(res: LSTMResult, style):
    p = style.precision
    t, u = _where(res, style)
    parts = [heading("Long short-term memory (LSTM) cell"), _formulas(), *_origin(res)]
    parts.append(_given(res, p))
    if res.sequence:
        parts.append(_sequence(res, p, style.steps or 12))
    parts.append(_units(res, t, p))
    parts += _written_out(res, t, u, p)
    parts += _cases(res, t, p)
    if res.sequence:
        counts = {k: sum(bool(step[k]) for step in res.cases) for k in LABEL}
        parts.append(
            Text(
                "Steps with each case: " + ", ".join(f"{LABEL[k]}: {v}" for k, v in counts.items()),
                style="dim",
            )
        )
    return Group(*parts)


# --- LaTeX ------------------------------------------------------------------------------

LATEX_LABEL = {
    "carried_over": "f_t \\approx 1,\\ i_t \\approx 0",
    "forgets": "f_t \\approx 0",
    "hidden": "o_t \\approx 0",
}


def _ldot(w_row, values, bias, p: int) -> str:
    terms = []
    pairs = list(zip(w_row, values, strict=True))
    shown = pairs if len(pairs) <= TERMS else pairs[: TERMS - 2]
    for n, (w, x) in enumerate(shown):
        xs = latex_num(x, p)
        xs = f"({xs})" if x < 0 else xs
        term = f"{latex_num(abs(w), p)} \\cdot {xs}"
        terms.append(("-" if w < 0 else "") + term if n == 0 else f"{'-' if w < 0 else '+'} {term}")
    if len(pairs) > len(shown):
        terms.append(f"+ \\dots\\ \\text{{({len(pairs) - len(shown)} more terms)}}")
    terms.append(f"{'-' if bias < 0 else '+'} {latex_num(abs(bias), p)}")
    return " ".join(terms)


def latex(res: LSTMResult, style) -> str:
    p = style.precision
    t, u = _where(res, style)
    w = res.weights
    lines = [
        "$$\\begin{aligned} "
        "i_t &= \\sigma(W_{xi} x_t + W_{hi} h_{t-1} + b_i) & "
        "f_t &= \\sigma(W_{xf} x_t + W_{hf} h_{t-1} + b_f) \\\\ "
        "g_t &= \\tanh(W_{xg} x_t + W_{hg} h_{t-1} + b_g) & "
        "o_t &= \\sigma(W_{xo} x_t + W_{ho} h_{t-1} + b_o) \\\\ "
        "c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t & "
        "h_t &= o_t \\odot \\tanh(c_t) "
        "\\end{aligned}$$",
    ]
    if res.seed is not None:
        lines.append(
            latex_par(
                f"A random case, seed {res.seed} (repeat it with "
                f"\\texttt{{--seed {res.seed}}}): every weight uniform in "
                "$(-1/\\sqrt{H}, 1/\\sqrt{H})$ as PyTorch initialises them; "
                "$x$, $h$ and $c$ standard normal."
            )
        )
    if res.torch:
        lines.append(
            latex_par(
                "Weights from a PyTorch \\texttt{LSTMCell}: \\texttt{weight\\_ih} and "
                "\\texttt{weight\\_hh} split into the gates $i, f, g, o$ ($H$ rows each), "
                "$b = b_{ih} + b_{hh}$."
            )
        )
    zero = "0" if res.sequence else "t-1"
    given = [] if res.sequence else [f"x_t = {latex_vector(res.x[0], p, 8)}"]
    given += [
        f"h_{{{zero}}} = {latex_vector(res.h_prev[0], p, 8)}",
        f"c_{{{zero}}} = {latex_vector(res.c_prev[0], p, 8)}",
    ]
    lines.append("$$" + ", \\quad ".join(given) + "$$")
    lines.append(
        latex_par(
            "Each gate's weights $[W_x \\mid W_h \\mid b]$, one row a unit: row $u$ times "
            "$(x_t, h_{t-1}, 1)$ is unit $u$'s pre-activation."
        )
    )
    blocks = [
        f"[W_{{x{k}}} \\mid W_{{h{k}}} \\mid b_{k}] = "
        + latex_matrix(np.column_stack([w[f"wx{k}"], w[f"wh{k}"], w[f"b{k}"]]), p, 8)
        for k in GATE_ORDER
    ]
    lines.append("$$" + " \\quad ".join(blocks[:2]) + "$$")
    lines.append("$$" + " \\quad ".join(blocks[2:]) + "$$")
    if res.sequence:
        rows = []
        for s in time_rows(res.T, style.steps or 12):
            if s is None:
                rows.append(" & ".join(["\\vdots"] * 7))
                continue
            rows.append(
                f"{s + 1} & "
                + " & ".join(
                    latex_row(a[s], p, 3)
                    for a in (
                        res.x,
                        res.gate("i"),
                        res.gate("f"),
                        res.gate("o"),
                        res.cells,
                        res.states,
                    )
                )
            )
        lines += [
            latex_par(f"A sequence of {res.T} steps:"),
            "$$\\begin{array}{|r|c|c|c|c|c|c|} \\hline t & x_t & i_t & f_t & o_t & c_t & h_t"
            " \\\\ \\hline " + " \\\\ ".join(rows) + " \\\\ \\hline \\end{array}$$",
        ]
    lines.append(latex_par(f"Step {t + 1}, unit by unit:" if res.sequence else "Unit by unit:"))
    lines.append(_lunits(res, t, p))
    lines.append(latex_par("$a_\\cdot$: the pre-activation inside $\\sigma$ or $\\tanh$."))
    lines += _lwritten(res, t, u, p)
    lines += _lcases(res, t, p)
    if res.sequence:
        counts = {k: sum(bool(step[k]) for step in res.cases) for k in LABEL}
        lines.append(
            latex_par(
                "Steps with each case: "
                + ", ".join(f"${LATEX_LABEL[k]}$: {v}" for k, v in counts.items())
                + "."
            )
        )
    return "\n".join(lines)


def _lunits(res: LSTMResult, t: int, p: int) -> str:
    words = {}
    for name, units in res.cases[t].items():
        for u in units:
            words.setdefault(u, []).append(WORD[name])
    rows = []
    for u in elide(res.H, 16):
        if u is None:
            rows.append(" & ".join(["\\vdots"] * 12) + " &")
            continue
        v = _unit_values(res, t, u)
        cells = [v[x] for k in GATE_ORDER for x in (f"a_{k}", k)]
        cells += [v["c_prev"], v["c"], v["h"]]
        rows.append(
            f"{u + 1} & "
            + " & ".join(latex_num(x, p) for x in cells)
            + " & "
            + (f"\\text{{{', '.join(words[u])}}}" if u in words else "")
        )
    head = (
        "\\text{unit} & a_i & i_t & a_f & f_t & a_g & g_t & a_o & o_t & c_{t-1} & c_t & h_t"
        " & \\text{case}"
    )
    return (
        "$$\\begin{array}{|r|rr|rr|rr|rr|rrr|l|} \\hline "
        + head
        + " \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )


def _lwritten(res: LSTMResult, t: int, u: int, p: int) -> list[str]:
    v = _unit_values(res, t, u)
    inputs = np.concatenate([res.x[t], res.h_prev[t]])
    w = res.weights
    where = f" at step {t + 1}" if res.sequence else ""
    out = [latex_par(f"Unit {u + 1} written out{where}:")]
    rows = []
    U = f"[{u + 1}]"
    for k in GATE_ORDER:
        row = np.concatenate([w[f"wx{k}"][u], w[f"wh{k}"][u]])
        dot = _ldot(row, inputs, w[f"b{k}"][u], p)
        rows.append(
            f"{k}_t{U} &= {LATEX_ACT[k]}({dot}) = {LATEX_ACT[k]}({latex_num(v[f'a_{k}'], p)})"
            f" = {latex_num(v[k], p)}"
        )

    def f(x):
        s = latex_num(x, p)
        return f"({s})" if x < 0 else s

    rows.append(
        f"c_t{U} &= f_t c_{{t-1}} + i_t g_t = {latex_num(v['f'], p)} \\cdot {f(v['c_prev'])}"
        f" + {latex_num(v['i'], p)} \\cdot {f(v['g'])} = {latex_num(v['c'], p)}"
    )
    rows.append(
        f"h_t{U} &= o_t \\tanh(c_t) = {latex_num(v['o'], p)} \\cdot "
        f"\\tanh({latex_num(v['c'], p)}) = {latex_num(v['o'], p)} \\cdot {f(v['tanh_c'])}"
        f" = {latex_num(v['h'], p)}"
    )
    out.append("$$\\begin{aligned} " + " \\\\ ".join(rows) + " \\end{aligned}$$")
    return out


def _lcases(res: LSTMResult, t: int, p: int) -> list[str]:
    lines = [
        latex_par(
            f"\\textbf{{${LATEX_LABEL[name]}$}} ({_units_text(units)}): "
            f"{_lcase_sentence(units, variant, v, p)}."
        )
        for name, units, variant, v in _case_facts(res, t)
    ]
    if not lines:
        lines.append(
            latex_par(
                "None of the three cases occurs"
                + (" at this step" if res.sequence else "")
                + " ($f_t \\approx 1$ with $i_t \\approx 0$; $f_t \\approx 0$; "
                f"$o_t \\approx 0$; $\\approx$ meaning within {res.tol:g}, which "
                "\\texttt{--tol} sets)."
            )
        )
    units, v = _accumulating(res, t)
    if units:
        which = f"unit {units[0] + 1}: " if len(units) > 1 else ""
        lines.append(
            latex_par(
                f"$f_t \\approx 1$ with $i_t$ not $\\approx 0$ ({_units_text(units)}): the cell "
                f"keeps $c_{{t-1}}$ and adds $i_t g_t$ to it ({which}$c_{{t-1}} = "
                f"{latex_num(v['c_prev'], p)},\\ i_t g_t = {latex_num(v['ig'], p)},\\ "
                f"c_t = {latex_num(v['c'], p)}$)."
            )
        )
    return lines
