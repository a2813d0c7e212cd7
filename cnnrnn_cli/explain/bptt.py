"""The working of `bptt`, in the notes' order: what was given, forward, loss, backward, the
Jacobian chain, the norms as bars, the eigen-decomposition and the verdict.

Every formula is written once with its numbers (one unit of the first, or `--at`, step);
the verdict's sentences are chosen from `res.facts`; every table column keeps one notation;
matrices are grids; the layouts read the console's width (60 to 140 columns and more)."""

from __future__ import annotations

import math

import numpy as np
from rich import box
from rich.columns import Columns
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.bptt import BPTTResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    grid,
    heading,
    latex_matrix,
    latex_num,
    latex_par,
    latex_row,
    latex_text,
    latex_vector,
    num,
    time_rows,
)

BAR_WIDTH = 36
TABLE_VALUES = 2  # values of a vector in a LaTeX time table; JSON and plain have them all
TERMS = 4  # products of a sum written out before '+ … (n more)'
UNITS = 6  # units of a vector shown as columns of a time table, at most


def num_log10(log10_value: float, p: int) -> str:
    """A positive number given by its log₁₀, beyond float64's range if need be:
    (3·1000·log₁₀ 3) -> '1.322e+477'; −inf -> '0'."""
    if log10_value == -math.inf:
        return "0"
    if -300 < log10_value < 300:
        return num(10.0**log10_value, p)
    exponent = math.floor(log10_value)
    mantissa = 10.0 ** (log10_value - exponent)
    if round(mantissa, max(0, p - 1)) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{num(mantissa, p)}e{exponent:+d}"


def _log10_abs(x: float) -> float:
    return math.log10(abs(x)) if x else -math.inf


# --- one notation per column ----------------------------------------------------------


def _scientific(logs: np.ndarray, p: int) -> bool:
    """Whether a column of numbers (given by log₁₀|x|, −inf for 0) needs scientific
    notation: any beyond 10⁶, any below 10^−(p−1), or a spread of 10⁴ or more."""
    finite = logs[np.isfinite(logs)]
    if not finite.size:
        return False
    return bool(finite.max() >= 6 or finite.min() < -(p - 1) or finite.max() - finite.min() >= 4)


def _sci(sign: float, log10_value: float, p: int) -> str:
    """sign·10^log10_value as '5.629e+14' (p − 1 decimals), beyond float64 if need be."""
    if log10_value == -math.inf:
        return "0"
    exponent = math.floor(log10_value)
    mantissa = 10.0 ** (log10_value - exponent)
    digits = max(p - 1, 1)
    if round(mantissa, digits) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{'-' if sign < 0 else ''}{mantissa:.{digits}f}e{exponent:+03d}"


def column(values, p: int) -> list[str]:
    """Numbers of one column, all in one notation: fixed, or scientific for all."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    with np.errstate(divide="ignore"):
        logs = np.log10(np.abs(values))
    if not _scientific(logs, p):
        return [num(v, p) for v in values]
    return [_sci(v, lg, p) for v, lg in zip(values.tolist(), logs.tolist(), strict=True)]


def log_column(logs, p: int) -> list[str]:
    """Positive numbers given by their log₁₀ (beyond float64 if need be), in one notation."""
    logs = np.asarray(logs, dtype=np.float64)
    if not _scientific(logs, p):
        return [num_log10(lg, p) for lg in logs.tolist()]
    return [_sci(1.0, lg, p) for lg in logs.tolist()]


# --- layout that reads the width ------------------------------------------------------


class Fit:
    """A renderable built for the console's width: build(width) -> renderable."""

    def __init__(self, build):
        self.build = build

    def __rich_console__(self, console, options):
        yield self.build(options.max_width)


def wrap(pieces: list[str], width: int, indent: int = 4, style: str = "") -> Text:
    """Atomic pieces ('0.3·1', '+ (−0.2)·0.5', '= 0.4621') joined by spaces, broken only
    between pieces, so that an operator stays with the operand after it; continuation lines
    indented."""
    lines, line = [], ""
    atoms = []
    for piece in pieces:  # a piece too long for any line is broken between its words
        atoms += words(piece) if len(piece) > width - indent else [piece]
    for piece in atoms:
        if line and len(line) + 1 + len(piece) > width:
            lines.append(line)
            line = " " * indent + piece
        else:
            line = f"{line} {piece}" if line else piece
    lines.append(line)
    return Text("\n".join(lines), style=style, no_wrap=True, overflow="ignore")


OPERATORS = {"=", "+", "−", "-", "·", "≤", "≥", "<", ">", "≈", "⇒", "×", "→", ":="}


def words(text: str) -> list[str]:
    """The words of a sentence, each operator glued to the operand after it ('= 0.8')."""
    out, pending = [], ""
    for word in text.split(" "):
        if word in OPERATORS:
            pending = f"{pending} {word}".strip()
            continue
        out.append(f"{pending} {word}" if pending else word)
        pending = ""
    if pending:
        out.append(pending)
    return out


def sentence(text: str, style: str = "") -> Fit:
    """Words wrapped at the width, never between an operator and its operand; the lines
    after the first indented by two, so that a reader sees where the sentence goes on."""
    return Fit(lambda width: wrap(words(text), width, indent=2, style=style))


def signed(x: float, p: int) -> str:
    """A number in a formula, with a true minus: '−0.5'."""
    return num(x, p).replace("-", "−")


def agree(result: float, p: int, *factors, terms=None) -> str:
    """'=' when the numbers as shown give the result as shown (a product of `factors`,
    or a sum of `terms`: products (w, x) or numbers), '≈' when only their rounding
    keeps them apart, so that a check by hand meets what the line claims."""

    def shown(x: float) -> float:
        return float(num(x, p))

    if terms is not None:
        total = sum(shown(t[0]) * shown(t[1]) if isinstance(t, tuple) else shown(t) for t in terms)
    else:
        total = math.prod(shown(f) for f in factors)
    return "=" if num(total, p) == num(result, p) else "≈"


def _factor(x: float, p: int) -> str:
    """A number inside a product: negative ones in parentheses, with a true minus."""
    text = signed(x, p)
    return f"({text})" if text.startswith("−") else text


def _operand(x: float, p: int) -> str:
    """A number after + or −: its magnitude, the sign going to the operator."""
    return signed(abs(x), p)


def terms(weights, values, p: int, first: bool = True, limit: int = TERMS) -> list[str]:
    """['0.3·1', '+ (−0.2)·0.5', '+ … (6 more)'] for paired arrays (a dot product)."""
    out = []
    for n, (w, x) in enumerate(zip(weights[:limit], values[:limit], strict=True)):
        product = f"{_operand(w, p)}·{_factor(x, p)}"
        if n == 0 and first:
            out.append(("−" if w < 0 else "") + product)
        else:
            out.append(("− " if w < 0 else "+ ") + product)
    if len(weights) > limit:
        out.append(f"+ … ({len(weights) - limit} more)")
    return out


def plus(x: float, p: int) -> str:
    """'+ 0.5' or '− 0.5'."""
    return f"{'−' if x < 0 else '+'} {_operand(x, p)}"


def grids(items, p: int, width: int) -> Columns:
    """Named arrays as grids side by side, wrapping onto more lines: vectors as one row."""
    shown = []
    for name, value in items:
        matrix = np.atleast_2d(np.asarray(value, dtype=np.float64))
        shown.append(grid(matrix, p, title=name, width=width))
    return Columns(shown, padding=(0, 3))


class TimeTable:
    """One row a time step; each block (a label and a T×n array) gets one column a unit,
    as many units as the width allows (at most UNITS), each column in one notation."""

    def __init__(self, title: str, blocks: list, T: int, steps: int, first_row=None, note=""):
        self.title, self.blocks, self.T, self.steps = title, blocks, T, steps
        self.first_row, self.note = first_row, note

    def __rich_console__(self, console, options):
        width = options.max_width
        rows = time_rows(self.T, self.steps)
        kept = [t for t in rows if t is not None]
        blocks = []
        for label, values in self.blocks:
            values = np.asarray(values, dtype=np.float64)
            values = values.reshape(len(values), -1)
            blocks.append((label, values))
        counts = [min(v.shape[1], UNITS) for _, v in blocks]

        def header(label, v, u):
            return label if v.shape[1] == 1 else f"{label}[{u + 1}]"

        def cells(label, v, u):
            extra = [self.first_row[label][u]] if self.first_row and label in self.first_row else []
            return column(np.concatenate([extra, v[kept, u]]), self.p)

        def widths(counts):
            out = [max(len(str(self.T)), 1)]
            for (label, v), k in zip(blocks, counts, strict=True):
                for u in range(k):
                    out.append(max(len(header(label, v, u)), *map(len, cells(label, v, u))))
            return out

        while sum(w + 3 for w in widths(counts)) > width and max(counts) > 1:
            counts[counts.index(max(counts))] -= 1
        table = Table(
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1),
            header_style="bold",
        )
        table.add_column("t", justify="right", no_wrap=True)
        texts = []
        for (label, v), k in zip(blocks, counts, strict=True):
            for u in range(k):
                table.add_column(header(label, v, u), justify="right", no_wrap=True)
                texts.append(cells(label, v, u))
        if self.first_row:
            table.add_row(
                "0",
                *[
                    texts[n][0] if label in self.first_row else ""
                    for n, label in enumerate(
                        label
                        for (label, v), k in zip(blocks, counts, strict=True)
                        for _ in range(k)
                    )
                ],
                style="dim",
            )
        n = 0
        for t in rows:
            if t is None:
                table.add_row("⋮", *["⋮"] * len(texts), style="dim")
                continue
            row = []
            for (label, _), text in zip(
                [(lb, v) for (lb, v), k in zip(blocks, counts, strict=True) for _ in range(k)],
                texts,
                strict=True,
            ):
                offset = 1 if self.first_row and label in self.first_row else 0
                row.append(text[n + offset])
            table.add_row(str(t + 1), *row)
            n += 1
        yield wrap(words(self.title), width, indent=0, style="bold")
        yield table
        hidden = [
            f"{label}: entries 1–{k} of {v.shape[1]}"
            for (label, v), k in zip(blocks, counts, strict=True)
            if k < v.shape[1]
        ]
        notes = [self.note] if self.note else []
        if hidden:
            notes.append("(" + "; ".join(hidden) + " shown; -f json or plain has them all)")
        for line in notes:
            yield wrap(words(line), width, indent=0, style="dim")


def _table(title, blocks, T, steps, p, first_row=None, note=""):
    table = TimeTable(title, blocks, T, steps, first_row, note)
    table.p = p
    return table


# --- the sections ---------------------------------------------------------------------


def _scalar(res: BPTTResult) -> bool:
    return res.rnn.wh.shape == (1, 1)


def _given(res: BPTTResult, p: int):
    rnn = res.rnn
    T, D = rnn.xs.shape
    xs_name = "x_1 … x_T" if D == 1 else "xs (row t is x_t)"
    xs = rnn.xs.T if D == 1 else rnn.xs
    items = [(xs_name, xs), ("W_x", rnn.wx), ("W_h", rnn.wh), ("b", rnn.b), ("h_0", rnn.h0)]
    if rnn.wy is not None:
        items += [("W_y", rnn.wy), ("b_y", rnn.by)]
    items.append(("targets y_t" if res.many_to_many else "y", res.targets))
    title = (
        "Given"
        if res.seed is None
        else f"Given: a random case, seed {res.seed}: repeat it with --seed {res.seed}"
    )
    return Group(heading(title), Fit(lambda width: grids(items, p, width)))


def _fname(res: BPTTResult) -> str:
    return {"sigmoid": "σ"}.get(res.activation, res.activation)


def _index(res: BPTTResult, unit: int) -> str:
    return "" if res.h.shape[1] == 1 else f"[{unit + 1}]"


def _forward_formula(res: BPTTResult, p: int, t: int, unit: int, width: int):
    """h_t[u] = f(W_x[u,:]·x_t + W_h[u,:]·h_{t−1} + b[u]) with the numbers in."""
    s = res.forward_step(t, unit)
    f, i = _fname(res), _index(res, unit)
    lines = []
    if i:
        lines.append(
            wrap(
                words(
                    f"unit {unit + 1}: h_t{i} = {f}(W_x[{unit + 1},:]·x_t + "
                    f"W_h[{unit + 1},:]·h_{{t−1}} + b{i})"
                ),
                width,
            )
        )
    pieces = [f"h_{t + 1}{i} = {f}("]
    body = terms(s.wx, s.x, p) + terms(s.wh, s.h_prev, p, first=False) + [plus(s.b, p) + ")"]
    pieces[0] += body[0]
    pieces += body[1:]
    pieces += [f"= {f}({signed(s.a, p)})", f"= {signed(s.h, p)}"]
    lines.append(wrap(pieces, width))
    return Group(*lines)


def _forward(res: BPTTResult, p: int, steps: int, t: int, unit: int):
    f = res.activation
    blocks = [("x_t", res.rnn.xs), ("a_t", res.pre), ("h_t", res.h)]
    table = _table(
        f"Forward pass: a_t = W_x x_t + W_h h_{{t−1}} + b, h_t = {f}(a_t)",
        blocks,
        res.T,
        steps,
        p,
        first_row={"h_t": res.rnn.h0},
    )
    return Group(table, Fit(lambda width: _forward_formula(res, p, t, unit, width)))


def _loss(res: BPTTResult, p: int):
    lines = []
    if res.rnn.wy is not None:
        what = "ŷ_t = W_y h_t + b_y" if res.many_to_many else "ŷ = W_y h_T + b_y"
    else:
        what = "ŷ_t = h_t" if res.many_to_many else "ŷ = h_T (no readout: the loss is on h_T)"
    formula = "L = Σ_t ½‖ŷ_t − y_t‖²" if res.many_to_many else "L = ½‖ŷ − y‖²"
    lines.append(sentence(f"{what},  {formula}", style="bold"))
    items = [("ŷ_t (row t)" if res.many_to_many else "ŷ", res.y_hat)]
    lines.append(Fit(lambda width: grids(items, p, width)))
    lines.append(Text.assemble("L = ", (num(res.loss, p), ACCENT)))
    return Group(*lines)


def _fprime_formula(res: BPTTResult, s, p: int) -> str:
    """f'(a) with its numbers: 1 − tanh²(a) = 1 − h², σ(a)(1 − σ(a)), ..."""
    a, h, d = signed(s.a, p), _factor(s.h, p), signed(s.fprime, p)
    return {
        "tanh": f"f'({a}) = 1 − tanh²({a}) = 1 − {h}² = {d}",
        "sigmoid": f"f'({a}) = σ({a})(1 − σ({a})) = {h}·(1 − {h}) = {d}",
        "relu": f"f'({a}) = {d} ({'a > 0' if s.a > 0 else 'a ≤ 0'})",
        "identity": f"f'({a}) = 1",
    }[res.activation]


def _backward_formulas(res: BPTTResult, p: int, t: int, unit: int, width: int):
    s = res.backward_step(t, unit)
    i, T = _index(res, unit), res.T
    k = t + 1
    lines = [Text(f"Step t = {k}{', unit ' + str(unit + 1) if i else ''}, with the numbers:")]
    if t == T - 1 or res.many_to_many:
        here = f"_{k}" if res.many_to_many else ""
        if res.rnn.wy is None:
            y_hat = np.reshape(res.y_hat[t] if res.many_to_many else res.y_hat, -1)[unit]
            y = np.reshape(res.targets[t] if res.many_to_many else res.targets, -1)[unit]
            pieces = [
                f"∂L_{k}/∂h_{k}{i} = ŷ{here}{i} − y{here}{i}",
                f"= {signed(y_hat, p)} − {_factor(y, p)}",
            ]
        else:
            pieces = [f"∂L_{k}/∂h_{k}{i} = (W_yᵀ(ŷ{here} − y{here})){i}"]
        lines.append(wrap([*pieces, f"= {signed(s.readout, p)}"], width))
    if t < T - 1:
        lines.append(
            wrap(
                [
                    f"∂L/∂h_{k}{i} =",
                    (f"{signed(s.readout, p)} + " if s.readout else "")
                    + f"(W_hᵀ ∂L/∂a_{k + 1}){i}",
                    f"= {signed(s.dh, p)}",
                    "(the table)",
                ],
                width,
            )
        )
    lines.append(wrap([_fprime_formula(res, s, p)], width))
    lines.append(
        wrap(
            [
                f"∂L/∂a_{k}{i} = ∂L/∂h_{k}{i} · f'(a_{k}{i})",
                f"= {signed(s.dh, p)} · {_factor(s.fprime, p)}",
                f"{agree(s.da, p, s.dh, s.fprime)} {signed(s.da, p)}",
            ],
            width,
        )
    )
    prev = f"∂L/∂h_{k - 1}{i}"
    carry = [f"{prev} = (W_hᵀ ∂L/∂a_{k}){i}"]
    if s.readout_prev:
        carry = [f"{prev} = ∂L_{k - 1}/∂h_{k - 1}{i} + (W_hᵀ ∂L/∂a_{k}){i}"]
    if s.readout_prev:
        carry += [f"= {signed(s.readout_prev, p)}", *terms(s.wh_column, s.da_all, p, first=False)]
    else:
        products = terms(s.wh_column, s.da_all, p)
        carry += ["= " + products[0], *products[1:]]
    shown_terms = list(zip(s.wh_column, s.da_all, strict=True))
    if s.readout_prev:
        shown_terms.append(s.readout_prev)
    whole = len(s.wh_column) <= TERMS
    sign = agree(s.dh_prev, p, terms=shown_terms) if whole else "="
    carry.append(f"{sign} {signed(s.dh_prev, p)}")
    if t == 0:
        carry.append("(= ∂L/∂h_0)")
    lines.append(wrap(carry, width))
    entry = "" if not i else f"[{unit + 1},{unit + 1}]"
    lines.append(
        wrap(
            [
                f"step {k}'s term of ∂L/∂W_h{entry}:",
                f"∂L/∂a_{k}{i} · h_{k - 1}{i}",
                f"= {signed(s.da, p)} · {_factor(s.h_prev, p)}",
                f"{agree(s.term, p, s.da, s.h_prev)} {signed(s.term, p)}",
            ],
            width,
        )
    )
    summed = [f"∂L/∂W_h{entry} = Σ_t ∂L/∂a_t{i} · h_{{t−1}}{i}"]
    parts = s.wh_terms
    shown = [num(parts[0], p)] + [plus(x, p) for x in parts[1:TERMS]]
    if len(parts) > TERMS:
        shown.append(f"+ … ({len(parts) - TERMS} more)")
    shown[0] = "= " + shown[0]
    sign = agree(s.wh_grad, p, terms=list(parts)) if len(parts) <= TERMS else "="
    summed += shown + [f"{sign} {signed(s.wh_grad, p)}"]
    lines.append(wrap(summed, width))
    return Group(*lines)


def _backward(res: BPTTResult, p: int, steps: int, t: int, unit: int):
    scalar = _scalar(res)
    term = "∂L/∂a_t·h_{t−1}" if scalar else "‖∂L/∂a_t h_{t−1}ᵀ‖"
    blocks = [("∂L/∂h_t", res.dh), ("f'(a_t)", res.fprime), ("∂L/∂a_t", res.da)]
    contributions = res.backward_step(0, 0).wh_terms if scalar else res.wh_contributions
    blocks.append(("term_t", contributions))
    table = _table(
        "Backward pass (BPTT): ∂L/∂a_t = ∂L/∂h_t ⊙ f'(a_t), "
        "∂L/∂h_{t−1} = W_hᵀ ∂L/∂a_t (+ the readout at t−1)",
        blocks,
        res.T,
        steps,
        p,
        note=f"term_t = {term}: step t's term of ∂L/∂W_h",
    )
    note = sentence(
        "the notes write dL/dW = Σ_t dL_t/dW, the many-to-many sum of losses; "
        + (
            "here that is exactly what is computed (--targets)."
            if res.many_to_many
            else "for many-to-one there is one loss L = L_T, and the sum runs over the "
            "steps t its gradient passes through: one term per step, above."
        ),
        style="dim",
    )
    names = {"wx": "W_x", "wh": "W_h", "b": "b", "wy": "W_y", "by": "b_y", "h0": "h_0"}
    items = [(f"∂L/∂{names[name]}", g) for name, g in res.grads.items()]
    return Group(
        table,
        Fit(lambda width: _backward_formulas(res, p, t, unit, width)),
        note,
        Text("The gradients", style="bold"),
        Fit(lambda width: grids(items, p, width)),
    )


def _chain(res: BPTTResult, p: int, t: int, width: int):
    """∂h_T/∂h_t as the product of its factors, written out for scalars."""
    T = res.T
    parts = [
        wrap(
            [
                f"∂h_T/∂h_{t + 1} = Π_{{k={t + 1}}}^{{T−1}} ∂h_{{k+1}}/∂h_k,",
                "∂h_{k+1}/∂h_k = diag(f'(a_{k+1})) W_h",
            ],
            width,
        )
    ]
    if res.activation == "tanh":
        parts.append(
            sentence(
                "(the notes write tanh(·) here; its derivative 1 − tanh²(·) is what "
                "belongs in the Jacobian)",
                style="dim",
            )
        )
    if t == T - 1:
        parts.append(sentence("t = T: the product is empty, ∂h_T/∂h_T = I (norm 1)"))
        return Group(*parts)
    if _scalar(res):
        w = res.rnn.wh[0, 0]
        shown = [
            f"({num(res.fprime[k + 1, 0], p)}·{_factor(w, p)})" for k in range(t, min(T - 1, t + 8))
        ]
        shown = ["= " + shown[0]] + ["· " + x for x in shown[1:]]
        if T - 1 - t > 8:
            shown.append(f"· … ({T - 1 - t - 8} more)")
        sign, log10_value = res.chain_log10(t)
        value = ("−" if sign < 0 else "") + num_log10(log10_value, p) if sign else "0"
        parts.append(wrap(["  ", *shown, f"= {value}"], width))
    else:
        norms = res.factor_norms(t, limit=8)
        text = column(norms, p)
        pieces = ["factor norms ‖diag(f')W_h‖:"] + [x + "," for x in text[:-1]] + [text[-1]]
        if T - 1 - t > 8:
            pieces.append(f"… ({T - 1 - t - 8} more)")
        parts.append(wrap(pieces, width))
        parts.append(
            wrap(
                [
                    f"‖∂h_T/∂h_{t + 1}‖₂ = {num_log10(_norm_log10(res, t), p)}",
                    "≤ the product of the factor norms",
                ],
                width,
            )
        )
    return Group(*parts)


def _norm_log10(res: BPTTResult, t: int) -> float:
    if res.log10_norms is not None:
        return float(res.log10_norms[t])
    return _log10_abs(float(res.jacobian_norms[t]))


def _bound_log10(res: BPTTResult, t: int) -> float:
    if res.log10_bound is not None:
        return float(res.log10_bound[t])
    return _log10_abs(float(res.bound[t]))


def _bars(res: BPTTResult, p: int, steps: int, width: int):
    logs = np.array([_norm_log10(res, t) for t in range(res.T)])
    rows = time_rows(res.T, max(steps, 2) * 2)
    kept = [t for t in rows if t is not None]
    finite = logs[np.isfinite(logs)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    norms = log_column(logs[kept], p)
    bounds = log_column([_bound_log10(res, t) for t in kept], p)
    heads = ("t", "‖∂h_T/∂h_t‖", "bound (γσ_max)^(T−t)")
    used = (
        max(len(str(res.T)), 1)
        + max(len(heads[1]), *map(len, norms))
        + max(len(heads[2]), *map(len, bounds))
        + 8
    )
    bar_width = max(4, min(BAR_WIDTH, width - used))
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    table.add_column("t", justify="right", no_wrap=True)
    table.add_column(heads[1], justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, width=bar_width)
    table.add_column(heads[2], justify="right", no_wrap=True)
    n = 0
    for t in rows:
        if t is None:
            table.add_row("⋮", "", "", "")
            continue
        log_value = logs[t]
        if math.isfinite(log_value) and hi > lo:
            length = 1 + round((log_value - lo) / (hi - lo) * (bar_width - 1))
        else:
            length = bar_width if math.isfinite(log_value) else 0
        colour = "red" if log_value > 0 else "green" if log_value < 0 else "white"
        table.add_row(str(t + 1), norms[n], Text("█" * length, style=colour), bounds[n])
        n += 1
    ends = log_column([lo, hi], p)
    scale = sentence(
        f"bars on a log scale: █ = {ends[0]}, full = {ends[1]}"
        + (" (a norm of exactly 0 has no bar)" if not np.isfinite(logs).all() else ""),
        style="dim",
    )
    items = [Text("‖∂h_T/∂h_t‖ against t", style="bold"), table, scale]
    if not res.norms_exact:
        items.append(
            sentence(
                "(large T·H³: each norm by subspace iteration on the running "
                "product, checked by its residual, else exact)",
                style="dim",
            )
        )
    return Group(*items)


def _eigen_table(res: BPTTResult, p: int, width: int):
    values = [complex(re, im) for re, im in res.eigenvalues]
    shown_values = values[:8]
    ks = sorted({1, 5, 10, max(1, res.T - 1)})
    lam = [
        num(v.real, p)
        if abs(v.imag) < 1e-15
        else f"{num(v.real, p)}{'+' if v.imag >= 0 else '−'}{num(abs(v.imag), p)}i"
        for v in shown_values
    ]
    logs = np.array([_log10_abs(abs(v)) for v in shown_values])
    cols = [("λ", lam), ("|λ|", log_column(logs, p))]
    for k in ks:
        cols.append((f"|λ|^{k}", log_column(k * logs, p)))
    if len(values) > 8:
        cols[0][1].append("…")
        cols[1][1].append(f"({len(values) - 8} more)")
        for _, c in cols[2:]:
            c.append("")

    def total(cols):
        return sum(max(len(h), *map(len, c)) + 3 for h, c in cols)

    while total(cols) > width and len(cols) > 3:
        cols.pop(2)  # the smallest powers go first: the longest chain matters most
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for head, _ in cols:
        table.add_column(head, justify="right", no_wrap=True)
    for n in range(len(cols[0][1])):
        table.add_row(*[c[n] for _, c in cols])
    return table


def _eigen(res: BPTTResult, p: int):
    lines = [
        Text("W_h = T Σ T⁻¹, so W_h^α = T Σ^α T⁻¹: the eigenvalues decide", style="bold"),
        Fit(lambda width: _eigen_table(res, p, width)),
        sentence(
            "α here is the exponent, the number of factors W_h in ∂h_T/∂h_t (the "
            "notes use α for the learning rate too)",
            style="dim",
        ),
    ]
    if _scalar(res):
        lines.append(
            sentence(
                f"a scalar W_h: W_h^α is just w_h^α = {num(res.rnn.wh[0, 0], p)}^α", style="dim"
            )
        )
    if res.diagonalizable is None:
        lines.append(
            sentence(
                f"diagonalisability not computed: W_h is large ({res.rnn.wh.shape[0]}"
                f"×{res.rnn.wh.shape[0]}) and not normal, and its eigenvectors would "
                "cost an eigen-solver with vectors and an SVD",
                style="dim",
            )
        )
    elif res.diagonalizable and res.eigvecs is None:
        lines.append(
            sentence(
                "diagonalisable: W_h is normal (W_hᵀW_h = W_hW_hᵀ), so T can be "
                "unitary, cond(T) = 1",
                style="dim",
            )
        )
    elif res.diagonalizable:
        lines.append(sentence(f"diagonalisable: cond(T) = {num(res.eig_cond, p)}", style="dim"))
    else:
        lines.append(
            sentence(
                f"W_h is not diagonalisable (defective, or numerically so: cond(T) "
                f"= {res.eig_cond:.3g} > 1e12): T Σ T⁻¹ does not exist; powers grow "
                "like a Jordan block, k·ρ^(k−1), and the verdict below still follows "
                "ρ",
                style="yellow",
            )
        )
    return Group(*lines)


VERDICT_WORD = {
    "vanishing": "vanishing gradient",
    "exploding": "exploding gradient",
    "neutral": "neither (on the edge)",
}
SIGN = {"vanishing": "<", "exploding": ">", "neutral": "≈"}


def verdict_claims(res: BPTTResult) -> list[str]:
    """The verdict's claims, chosen from res.facts, in the order they are said:
    notes (ρ's verdict); linear or nonlinear (whether the criterion is exact); may_explode
    (ρ > 1 with an activation), rho_not_enough (ρ < 1 with γ·σ_max > 1 and an activation);
    bound; guaranteed (γ·σ_max < 1), bounded_one (γ·σ_max = 1), necessary (γ·σ_max > 1);
    no_product (T = 1) or measured, then agree, or disagree_fprime (vanishing through f'),
    disagree_transient (growth through σ_max > 1) or disagree."""
    f = res.facts
    claims = ["notes", "linear" if f.linear else "nonlinear"]
    if not f.linear and f.regime == "exploding":
        claims.append("may_explode")
    elif not f.linear and f.regime == "vanishing" and f.rate > 1 + res.tol:
        claims.append("rho_not_enough")
    claims.append("bound")
    if abs(f.rate - 1) <= res.tol:
        claims.append("bounded_one")
    elif f.rate < 1:
        claims.append("guaranteed")
    else:
        claims.append("necessary")
    if f.measured_regime is None:
        return [*claims, "no_product"]
    claims.append("measured")
    if f.measured_regime == f.regime:
        claims.append("agree")
    elif f.measured_regime == "vanishing" and not f.linear and f.mean_fprime is not None:
        claims.append("disagree_fprime")
    elif f.measured_regime == "exploding" and f.sigma_max > 1:
        claims.append("disagree_transient")
    else:
        claims.append("disagree")
    return claims


VERDICT_TEXT = {
    "notes": "The notes' verdict, from the eigenvalues: ρ(W_h) = {rho} {sign} 1 ⇒ {word}.",
    "linear": "With the identity the chain is linear, ∂h_T/∂h_t = W_h^(T−t), and the "
    "eigenvalue criterion is exact for long chains: ‖W_h^k‖^(1/k) → ρ.",
    "nonlinear": "The eigenvalue criterion is exact only for a linear chain; with {f} each "
    "factor is diag(f'(a)) W_h, and f' changes from step to step.",
    "may_explode": "So ρ > 1 means the gradients may explode; it is not sufficient.",
    "rho_not_enough": "So ρ < 1 alone does not guarantee that they vanish; γ·σ_max < 1 would.",
    "bound": "Always ‖∂h_T/∂h_t‖ ≤ (γ·σ_max)^(T−t), with γ = max|f'| = {gamma} ({f}) and "
    "σ_max = {sigma}: γ·σ_max = {rate}.",
    "guaranteed": "γ·σ_max < 1: the gradients are guaranteed to vanish, whatever the "
    "eigenvalues say.",
    "bounded_one": "γ·σ_max = 1 (within --tol): the bound stays about 1, so the norms cannot grow.",
    "necessary": "γ·σ_max > 1 is necessary for the gradients to explode (not sufficient).",
    "no_product": "T = 1: there is no product to measure.",
    "measured": "Measured: {measured} ⇒ {measured_regime}.",
    "agree": "The measured norms agree with the notes' verdict.",
    "disagree_fprime": "The measured norms disagree with the notes' verdict ({regime}): the "
    "factors carry f', whose mean here is {mean_fprime} (at most γ = {gamma}{saturated}).",
    "disagree_transient": "The measured norms disagree with the notes' verdict ({regime}): "
    "over {steps} steps W_h can grow a vector (σ_max = {sigma} > 1) before its eigenvalues "
    "take over.",
    "disagree": "The measured norms disagree with the notes' verdict ({regime}).",
}


def verdict_values(res: BPTTResult, p: int) -> dict:
    """The numbers the verdict's sentences quote, as text."""
    f = res.facts
    if f.measured_log10_rate is None:
        measured = ""
    elif f.measured_log10_rate == -math.inf:
        measured = "‖∂h_T/∂h_1‖ is exactly 0 (a factor of the product is zero)"
    else:
        measured = (
            f"‖∂h_T/∂h_1‖ = {num_log10(_norm_log10(res, 0), p)} over {f.steps} "
            f"step{'s' if f.steps > 1 else ''}, ×{num_log10(f.measured_log10_rate, p)} a step "
            "(the geometric mean)"
        )
    return dict(
        rho=num(f.rho, p),
        sign=SIGN[f.regime],
        word=VERDICT_WORD[f.regime],
        f=res.activation,
        gamma=num(f.gamma, p),
        sigma=num(f.sigma_max, p),
        rate=num(f.rate, p),
        measured=measured,
        measured_regime=f.measured_regime,
        regime=f.regime,
        mean_fprime=num(f.mean_fprime, p) if f.mean_fprime is not None else "",
        saturated=(
            f"; {num(100 * f.saturated, 2)}% of them below 0.1: "
            + (
                "dead relu units, a ≤ 0"
                if res.activation == "relu"
                else f"a saturated {res.activation}"
            )
            if f.saturated
            else ""
        ),
        steps=f.steps,
    )


def verdict_sentences(res: BPTTResult, p: int = 4) -> list[str]:
    """The verdict's sentences, one a claim of verdict_claims."""
    values = verdict_values(res, p)
    return [VERDICT_TEXT[claim].format(**values) for claim in verdict_claims(res)]


def _verdict(res: BPTTResult, p: int):
    lines = [Text("Verdict", style="bold")]
    for n, text in enumerate(verdict_sentences(res, p)):
        style = ""
        if n == 0:
            style = "bold red" if res.regime == "exploding" else "bold green"
        elif "disagree" in text:
            style = "yellow"
        lines.append(sentence(text, style=style))
    lines.append(
        sentence("this decides ∂L/∂W_h in the update rule W_h := W_h − α ∂L/∂W_h", style="dim")
    )
    return Group(*lines)


def _update(res: BPTTResult, p: int, unit: int, width: int):
    names = {"wx": "W_x", "wh": "W_h", "b": "b", "wy": "W_y", "by": "b_y", "h0": "h_0"}
    lines = [
        heading(f"One SGD step, α = {num(res.lr, p)}"),
        sentence(
            "(α is the learning rate here; the notes also use α as the exponent in W_h^α)",
            style="dim",
        ),
    ]
    old, new, g = res.rnn.wh, res.updated["wh"], res.grads["wh"]
    entry = "" if old.size == 1 else f"[{unit + 1},{unit + 1}]"
    lines.append(
        wrap(
            [
                f"W_h{entry} := W_h{entry} − α ∂L/∂W_h{entry}",
                f"= {signed(old[unit, unit], p)} − {signed(res.lr, p)}·{_factor(g[unit, unit], p)}",
                f"= {signed(new[unit, unit], p)}",
            ],
            width,
        )
    )
    lines.append(sentence("every parameter after the step:"))
    lines.append(grids([(names[k] + " (new)", v) for k, v in res.updated.items()], p, width))
    return Group(*lines)


CHECK_AGREES = 1e-5  # a gradient check's largest relative error below this agrees


def check_words(res, truncated: str = "") -> tuple[str, str, str]:
    """(opening, where, verdict) of `--check`'s sentence, for the plain and gated cells
    alike (`res`: check_error, check_worst, check_sampled); the number goes between."""
    sampled = " (64 seeded entries of each larger array)" if res.check_sampled else ""
    verdict = "the gradients agree" if res.check_error < CHECK_AGREES else "check the inputs' scale"
    return (
        f"Gradient check{truncated}: largest relative error against central differences",
        f"at {res.check_worst}{sampled}",
        verdict,
    )


def check_sentence(res, truncated: str = ""):
    """`--check` in the rich view: the error, where (1-based), whether they agree."""
    opening, where, verdict = check_words(res, truncated)
    return sentence(
        f"{opening} {res.check_error:.2e} {where} (positions count from 1, [row,column] "
        f"for a matrix): {verdict}.",
        style="" if res.check_error < CHECK_AGREES else "red",
    )


def check_latex(res, truncated: str = "") -> str:
    """`--check` in the LaTeX view."""
    opening, where, verdict = check_words(res, truncated)
    return latex_par(
        f"{opening} ${latex_num(res.check_error, 3, sci=True)}$ {latex_text(where)}: {verdict}."
    )


def rich(res: BPTTResult, style):
    p, steps = style.precision, style.steps or 12
    at = style.at[0] if style.at else None
    t = at if at is not None else 0
    back = at if at is not None else res.T - 1
    unit = 0
    parts = [
        heading(
            "Recurrent network, many-to-many"
            if res.many_to_many
            else "Recurrent network, many-to-one"
        ),
        _given(res, p),
        _forward(res, p, steps, t, unit),
        _loss(res, p),
        _backward(res, p, steps, back, unit),
        heading("Why gradients vanish or explode"),
        Fit(lambda width: _chain(res, p, t, width)),
        Fit(lambda width: _bars(res, p, steps, width)),
        _eigen(res, p),
        _verdict(res, p),
    ]
    if res.updated is not None:
        parts.append(Fit(lambda width: _update(res, p, unit, width)))
    if res.check_error is not None:
        parts.append(check_sentence(res))
    return Group(*parts)


# --- LaTeX -----------------------------------------------------------------------------


def _lv(v, p: int) -> str:
    return latex_vector(v, p, limit=6)


def _llog(log10_value: float, p: int) -> str:
    """num_log10 in maths: 1.322e+477 as 1.322 \\times 10^{477}."""
    text = num_log10(log10_value, p).replace("−", "-")
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def _lmat(m, p: int, limit: int = 6) -> str:
    """A scalar as itself, a vector as a column, a matrix as a grid (elided past `limit`)."""
    m = np.asarray(m)
    if m.ndim < 2 or m.size == 1:
        return _lv(m, p)
    return latex_matrix(m, p, limit)


def _lterms(weights, values, p: int, first: bool = True, limit: int = TERMS) -> str:
    """'0.3 \\cdot 1 - 0.2 \\cdot (-0.5) + \\dots' for a dot product."""
    out = []
    for n, (w, x) in enumerate(zip(weights[:limit], values[:limit], strict=True)):
        xs = latex_num(x, p)
        product = f"{latex_num(abs(w), p)} \\cdot {f'({xs})' if x < 0 else xs}"
        if n == 0 and first:
            out.append(("-" if w < 0 else "") + product)
        else:
            out.append(("- " if w < 0 else "+ ") + product)
    if len(weights) > limit:
        out.append(f"+ \\dots\\text{{ ({len(weights) - limit} more)}}")
    return " ".join(out)


def _lsub(k: int) -> str:
    """A subscript: '1', or '{12}' past one digit."""
    return str(k) if k < 10 else f"{{{k}}}"


def _lfirst_step(res: BPTTResult, f: str, p: int, t: int = 0) -> str:
    """h_t (one unit) with the numbers in."""
    s = res.forward_step(t, 0)
    i = "" if res.h.shape[1] == 1 else "[1]"
    b = latex_num(s.b, p)
    body = (
        _lterms(s.wx, s.x, p)
        + " "
        + _lterms(s.wh, s.h_prev, p, first=False)
        + (f" - {b[1:]}" if b.startswith("-") else f" + {b}")
    )
    return f"$$h_{_lsub(t + 1)}{i} = {f}({body}) = {f}({latex_num(s.a, p)}) = {latex_num(s.h, p)}$$"


def _lbackward(res: BPTTResult, p: int, t: int) -> list[str]:
    """One unit's backward step with the numbers in (see _backward_formulas)."""
    s = res.backward_step(t, 0)
    i = "" if res.h.shape[1] == 1 else "[1]"
    k = t + 1
    entry = "" if not i else "[1,1]"
    lines = [latex_par(f"Step $t = {k}${', unit 1' if i else ''}, with the numbers:")]
    lines.append(
        f"$$\\frac{{\\partial L}}{{\\partial a_{_lsub(k)}}}{i} = "
        f"\\frac{{\\partial L}}{{\\partial h_{_lsub(k)}}}{i} \\cdot f'(a_{_lsub(k)}{i}) = "
        f"{latex_num(s.dh, p)} \\cdot {latex_num(s.fprime, p)} = {latex_num(s.da, p)}$$"
    )
    readout = f"{latex_num(s.readout_prev, p)} " if s.readout_prev else ""
    lines.append(
        f"$$\\frac{{\\partial L}}{{\\partial h_{_lsub(k - 1)}}}{i} = "
        + (
            ""
            if not s.readout_prev
            else f"\\frac{{\\partial L_{_lsub(k - 1)}}}{{\\partial h_{_lsub(k - 1)}}}{i} + "
        )
        + f"(W_h^\\top \\frac{{\\partial L}}{{\\partial a_{_lsub(k)}}}){i} = "
        + readout
        + _lterms(s.wh_column, s.da_all, p, first=not s.readout_prev)
        + f" = {latex_num(s.dh_prev, p)}$$"
    )
    terms_shown = " + ".join(latex_num(x, p) for x in s.wh_terms[:TERMS])
    if len(s.wh_terms) > TERMS:
        terms_shown += f" + \\dots\\text{{ ({len(s.wh_terms) - TERMS} more)}}"
    lines.append(
        f"$$\\frac{{\\partial L}}{{\\partial W_h}}{entry} = \\sum_t "
        f"\\frac{{\\partial L}}{{\\partial a_t}}{i}\\, h_{{t-1}}{i} = "
        f"{terms_shown.replace('+ -', '- ')} = {latex_num(s.wh_grad, p)}, \\quad "
        f"\\text{{step {k}'s term: }} {latex_num(s.da, p)} \\cdot {latex_num(s.h_prev, p)}"
        f" = {latex_num(s.term, p)}$$"
    )
    return lines


LATEX_VERDICT = {
    "notes": "",  # the display above it
    "linear": "With the identity the chain is linear, $\\partial h_T / \\partial h_t = "
    "W_h^{{T-t}}$, and the eigenvalue criterion is exact for long chains: "
    "$\\lVert W_h^k \\rVert^{{1/k}} \\to \\rho$.",
    "nonlinear": "The eigenvalue criterion is exact only for a linear chain; with {f} each "
    "factor is $\\text{{diag}}(f'(a))\\, W_h$, and $f'$ changes from step to step.",
    "may_explode": "So $\\rho > 1$ means the gradients may explode; it is not sufficient.",
    "rho_not_enough": "So $\\rho < 1$ alone does not guarantee that they vanish; "
    "$\\gamma \\sigma_{{\\max}} < 1$ would.",
    "bound": "Always $\\lVert \\partial h_T / \\partial h_t \\rVert \\le "
    "(\\gamma \\sigma_{{\\max}})^{{T-t}}$, with $\\gamma = \\max|f'| = {gamma}$ ({f}) and "
    "$\\sigma_{{\\max}} = {sigma}$: $\\gamma \\sigma_{{\\max}} = {rate}$.",
    "guaranteed": "$\\gamma \\sigma_{{\\max}} < 1$: the gradients are guaranteed to "
    "vanish, whatever the eigenvalues say.",
    "bounded_one": "$\\gamma \\sigma_{{\\max}} = 1$ (within \\texttt{{--tol}}): the bound "
    "stays about 1, so the norms cannot grow.",
    "necessary": "$\\gamma \\sigma_{{\\max}} > 1$ is necessary for the gradients to "
    "explode (not sufficient).",
    "no_product": "$T = 1$: there is no product to measure.",
    "measured": "Measured: {measured} $\\Rightarrow$ {measured_regime}.",
    "agree": "The measured norms agree with the notes' verdict.",
    "disagree_fprime": "The measured norms disagree with the notes' verdict ({regime}): the "
    "factors carry $f'$, whose mean here is ${mean_fprime}$ (at most $\\gamma = "
    "{gamma}${saturated}).",
    "disagree_transient": "The measured norms disagree with the notes' verdict ({regime}): "
    "over {steps} steps $W_h$ can grow a vector ($\\sigma_{{\\max}} = {sigma} > 1$) before "
    "its eigenvalues take over.",
    "disagree": "The measured norms disagree with the notes' verdict ({regime}).",
}


def _lverdict(res: BPTTResult, p: int) -> list[str]:
    f = res.facts
    sign = {"vanishing": "<", "exploding": ">", "neutral": "\\approx"}[res.regime]
    lines = [
        f"$$\\rho(W_h) = {latex_num(f.rho, p)} {sign} 1 \\Rightarrow "
        f"\\text{{{VERDICT_WORD[res.regime]}}} \\quad \\text{{(the notes' verdict)}}$$"
    ]
    values = verdict_values(res, p)
    values = {
        k: (latex_num(float(v), p) if k in ("gamma", "sigma", "rate", "mean_fprime") and v else v)
        for k, v in values.items()
    }
    measured, norm = values["measured"], "‖∂h_T/∂h_1‖"
    values["measured"] = (
        "$\\lVert \\partial h_T / \\partial h_1 \\rVert$" + latex_text(measured[len(norm) :])
        if measured.startswith(norm)
        else latex_text(measured)
    )
    values["saturated"] = latex_text(values["saturated"])
    words = [LATEX_VERDICT[c].format(**values) for c in verdict_claims(res) if c != "notes"]
    words.append(
        "This decides $\\partial L / \\partial W_h$ in the update rule "
        "$W_h := W_h - \\alpha\\, \\partial L / \\partial W_h$."
    )
    return lines + [latex_par(" ".join(words))]


def latex(res: BPTTResult, style) -> str:
    p, steps = style.precision, style.steps or 12
    f = "\\tanh" if res.activation == "tanh" else f"\\text{{{res.activation}}}"
    T, rnn = res.T, res.rnn
    kind = "many-to-many" if res.many_to_many else "many-to-one"
    seed = getattr(res, "seed", None)
    seed = (
        ""
        if seed is None
        else f" (a random case, seed {seed}: repeat it with \\texttt{{--seed {seed}}})"
    )
    lines = [
        f"$$h_t = {f}(w_x x_t + w_h h_{{t-1}} + b)$$",
        latex_par(f"A {kind} recurrent network over $T = {T}$ steps, with" + seed),
        f"$$W_x = {_lmat(rnn.wx, p)}, \\quad W_h = {_lmat(rnn.wh, p)}, \\quad "
        f"b = {_lv(rnn.b, p)}, \\quad h_0 = {_lv(rnn.h0, p)}$$",
        f"$$x = {_lmat(rnn.xs.T if rnn.xs.shape[1] == 1 else rnn.xs, p)}"
        + (
            "\\ (x_1, \\dots, x_T)"
            if rnn.xs.shape[1] == 1
            else "\\ (\\text{row } t \\text{ is } x_t)"
        )
        + f", \\quad {'Y' if res.many_to_many else 'y'} = {_lmat(res.targets, p)}$$",
    ]
    if rnn.wy is not None:
        lines.append(f"$$W_y = {_lmat(rnn.wy, p)}, \\quad b_y = {_lv(rnn.by, p)}$$")
    lines.append(latex_par(f"Forward pass, $a_t = W_x x_t + W_h h_{{t-1}} + b$, $h_t = {f}(a_t)$:"))
    at = style.at[0] if style.at else None
    lines.append(_lfirst_step(res, f, p, at if at is not None else 0))
    rows = [f"0 & & & {latex_row(rnn.h0, p, TABLE_VALUES)}"]
    for t in time_rows(T, steps):
        rows.append(
            "\\vdots & \\vdots & \\vdots & \\vdots"
            if t is None
            else f"{t + 1} & "
            + " & ".join(latex_row(v, p, TABLE_VALUES) for v in (rnn.xs[t], res.pre[t], res.h[t]))
        )
    lines.append(
        "$$\\begin{array}{|r|c|c|c|} \\hline t & x_t & a_t & h_t \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )
    if res.many_to_many:
        readout = "\\hat y_t = W_y h_t + b_y" if rnn.wy is not None else "\\hat y_t = h_t"
        lines.append(
            f"$${readout}, \\quad L = \\sum_t \\tfrac12 \\lVert \\hat y_t - y_t "
            f"\\rVert^2 = {latex_num(res.loss, p)}$$"
        )
    else:
        readout = "\\hat y = W_y h_T + b_y" if rnn.wy is not None else "\\hat y = h_T"
        lines.append(
            f"$${readout} = {_lv(res.y_hat, p)}, \\quad L = \\tfrac12 \\lVert "
            f"\\hat y - y \\rVert^2 = {latex_num(res.loss, p)} \\quad "
            f"\\text{{with }} y = {_lv(res.targets, p)}$$"
        )
    lines.append(
        latex_par(
            "Backward pass (BPTT), $\\partial L / \\partial a_t = "
            "\\partial L / \\partial h_t \\odot f'(a_t)$:"
        )
    )
    rows = []
    for t in time_rows(T, steps):
        rows.append(
            "\\vdots & \\vdots & \\vdots & \\vdots"
            if t is None
            else f"{t + 1} & "
            + " & ".join(
                latex_row(v, p, TABLE_VALUES) for v in (res.dh[t], res.fprime[t], res.da[t])
            )
        )
    lines.append(
        "$$\\begin{array}{|r|c|c|c|} \\hline t & \\partial L / \\partial h_t & "
        "f'(a_t) & \\partial L / \\partial a_t \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )
    lines += _lbackward(res, p, at if at is not None else T - 1)
    lines.append(
        f"$$\\frac{{\\partial L}}{{\\partial W_h}} = \\sum_{{t=1}}^{{{T}}} "
        f"\\frac{{\\partial L}}{{\\partial a_t}} h_{{t-1}}^\\top = "
        f"{_lmat(res.grads['wh'], p)}$$"
    )
    lines.append(
        latex_par(
            "The notes write $dL/dW = \\sum_t dL_t/dW$, the many-to-many sum of losses; "
            + (
                "here that is exactly what is computed (\\texttt{--targets})."
                if res.many_to_many
                else "for many-to-one there is one loss $L = L_T$, and the sum runs over the steps "
                "$t$ its gradient passes through: one term per step."
            )
        )
    )
    others = [
        f"\\frac{{\\partial L}}{{\\partial {_lname(name)}}} = {_lmat(g, p)}"
        for name, g in res.grads.items()
        if name != "wh"
    ]
    lines.append("$$" + ", \\quad ".join(others) + "$$")
    t = style.at[0] if style.at else 0
    lines.append(
        f"$$\\frac{{\\partial h_T}}{{\\partial h_{{{t + 1}}}}} = "
        f"\\prod_{{k={t + 1}}}^{{T-1}} \\frac{{\\partial h_{{k+1}}}}{{\\partial h_k}},"
        " \\quad \\frac{\\partial h_{k+1}}{\\partial h_k} = "
        "\\text{diag}(f'(a_{k+1}))\\, W_h$$"
    )
    if res.activation == "tanh":
        lines.append(
            latex_par(
                "The notes write $\\tanh(\\cdot)$ here; its derivative "
                "$1 - \\tanh^2(\\cdot)$ is what belongs in the Jacobian."
            )
        )
    if _scalar(res) and t < T - 1:
        w = latex_num(rnn.wh[0, 0], p)
        shown = " \\cdot ".join(
            f"({latex_num(res.fprime[k + 1, 0], p)} \\cdot {w})"
            for k in range(t, min(T - 1, t + 8))
        )
        if T - 1 - t > 8:
            shown += f" \\cdots \\text{{ ({T - 1 - t - 8} more)}}"
        sign, log10_value = res.chain_log10(t)
        value = ("-" if sign < 0 else "") + _llog(log10_value, p) if sign else "0"
        lines.append(f"$$= {shown} = {value}$$")
    rows = []
    for s in time_rows(T, max(steps, 2) * 2):
        rows.append(
            "\\vdots & \\vdots & \\vdots"
            if s is None
            else f"{s + 1} & {_llog(_norm_log10(res, s), p)} & {_llog(_bound_log10(res, s), p)}"
        )
    lines.append(
        "$$\\begin{array}{|r|r|r|} \\hline t & \\lVert \\partial h_T / \\partial h_t "
        "\\rVert & (\\gamma \\sigma_{\\max})^{T-t} \\\\ \\hline "
        + " \\\\ ".join(rows)
        + " \\\\ \\hline \\end{array}$$"
    )
    eig = ", ".join(latex_num(math.hypot(re, im), p) for re, im in res.eigenvalues[:6])
    more = ", \\dots" if len(res.eigenvalues) > 6 else ""
    lines.append(
        f"$$W_h = T \\Sigma T^{{-1}} \\Rightarrow W_h^\\alpha = T \\Sigma^\\alpha "
        f"T^{{-1}}, \\quad |\\lambda| = {eig}{more}$$"
    )
    lines.append(
        latex_par(
            "$\\alpha$ here is the exponent, the number of factors $W_h$ in "
            "$\\partial h_T / \\partial h_t$ (the notes use $\\alpha$ for the "
            "learning rate too)."
        )
    )
    lines += _lverdict(res, p)
    if res.updated is not None:
        lines.append(
            latex_par(f"One SGD step, $\\alpha = {latex_num(res.lr, p)}$ (the learning rate here):")
        )
        lines.append(
            "$$\\begin{aligned} "
            + " \\\\ ".join(
                f"{_lname(name)} &:= {_lname(name)} - \\alpha \\frac{{\\partial L}}"
                f"{{\\partial {_lname(name)}}} = {_lmat(new, p)}"
                for name, new in res.updated.items()
            )
            + " \\end{aligned}$$"
        )
    if res.check_error is not None:
        lines.append(check_latex(res))
    return "\n".join(lines)


def _lname(name: str) -> str:
    """'wx' -> 'W_x', 'h0' -> 'h_0', 'by' -> 'b_y'."""
    return {"wx": "W_x", "wh": "W_h", "b": "b", "wy": "W_y", "by": "b_y", "h0": "h_0"}.get(
        name, f"\\text{{{name}}}"
    )
