"""The working of `resblock`: the given values, the block with and without the skip, one
unit's formulas with the numbers, the two Jacobians, and through a stack, the gradient
norms. Every sentence is chosen from the facts that core computed (`res.facts`,
`res.depth_facts`): dead units, zero rows, growth per block."""

from __future__ import annotations

import math
import re

import numpy as np
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.resblock import BAND, ResBlockResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    Equation,
    Fitted,
    Formula,
    Words,
    heading,
    latex_matrix,
    latex_num,
    latex_par,
    latex_text,
    latex_vector,
    num,
    product_terms,
)

BAR_WIDTH = 30  # at most; narrower on a narrow terminal
DEAD = "bold red"
LISTED = 6  # units named in a sentence before "and N more"


def _n(x, p: int) -> str:
    """A number in a formula: the true minus sign."""
    return num(x, p).replace("-", "−")


def _plus(x, p: int) -> str:
    """' + 0.1' or ' − 0.2': a term added in a formula."""
    return f" − {_n(abs(x), p)}" if x < 0 else f" + {_n(x, p)}"


def _paren(x, p: int) -> str:
    return f"({_n(x, p)})" if x < 0 else _n(x, p)


def unit_list(units) -> str:
    """'unit 2' or 'units 1, 3' (1-based), at most LISTED named, then 'and N more'."""
    shown = ", ".join(str(u + 1) for u in units[:LISTED])
    more = f" and {len(units) - LISTED} more" if len(units) > LISTED else ""
    return f"unit{'s' if len(units) > 1 else ''} {shown}{more}"


def _is(units) -> str:
    return "are" if len(units) > 1 else "is"


def _skip_name(res: ResBlockResult) -> tuple[str, str]:
    """('a0', 'I') or ('WS a0', 'WS'): the skip term and its Jacobian."""
    return ("a0", "I") if res.weights["shortcut"] is None else ("WS a0", "WS")


# --- what was given ----------------------------------------------------------------------


def _given(res: ResBlockResult, p: int):
    w = res.weights
    vectors = [("a0", res.a0), ("b1", w["b1"]), ("b2", w["b2"])]
    count = max(v.size for _, v in vectors)
    # The vectors as columns of one table (row i is unit i, as in the sentences), the
    # matrices as grids, each as wide as its room.
    table = _table(
        "vectors",
        ["unit", *(name for name, _ in vectors)],
        [[num(x, p) for x in v] for _, v in vectors],
        count,
    )
    matrices = [("W1", w["w1"]), ("W2", w["w2"])]
    if w["shortcut"] is not None:
        matrices.append(("WS", w["shortcut"]))
    drawn = [table, *(Fitted(m, p, title=name) for name, m in matrices)]
    title = (
        "Given"
        if res.seed is None
        else f"Given: a random case of {res.a0.size} units, seed {res.seed} "
        f"(repeat it with --random {res.a0.size} --seed {res.seed})"
    )
    return Group(Words((title, "bold underline")), Equation(*drawn, gap=3))


# --- the block, unit by unit -------------------------------------------------------------


def _mark(values, dead, p: int, color: bool) -> list:
    """Cells of f' values, dead ones (f' = 0) red, or bracketed without colour."""
    cells = []
    for i, v in enumerate(values):
        text = num(v, p)
        if i in dead:
            cells.append(Text(text if color else f"[{text}]", style=DEAD))
        else:
            cells.append(Text(text))
    return cells


def bullets(sentences) -> Group:
    """Sentences as a list, each wrapped under its own first word (a hanging indent), a
    comparison such as `z2[7] = −0.6392 ≤ 0` never split across lines where it fits."""
    return Group(*(Words("• " + sentence, indent=2) for sentence in sentences))


def _table(title: str, headers: list, columns: list, count: int) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="italic",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
    )
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    from cnnrnn_cli.explain.common import elide

    for i in elide(count, 16):
        if i is None:
            table.add_row(*["⋮"] * len(headers))
            continue
        table.add_row(str(i + 1), *[(col[i] if i < len(col) else "") for col in columns])
    return table


def _layers(res: ResBlockResult, p: int, color: bool):
    f, facts = res.activation, res.facts
    plain, skip = res.plain, res.skip
    s, _ = _skip_name(res)
    nums = lambda v: [num(x, p) for x in v]  # noqa: E731
    lit = lambda v: [Text(x, style=ACCENT) for x in nums(v)]  # noqa: E731
    first = _table(
        "layer 1",
        ["unit", "z1", "a1", "f'(z1)"],
        [nums(plain.z1), nums(plain.a1), _mark(plain.d1, facts.dead_a1, p, color)],
        plain.z1.size,
    )
    without = _table(
        "layer 2, w/out skip",
        ["unit", "z2", "a2", "f'(z2)"],
        [nums(plain.z2), lit(plain.a2), _mark(plain.d2, facts.dead_plain, p, color)],
        plain.z2.size,
    )
    with_skip = _table(
        "layer 2, w/ skip",
        ["unit", f"z2 + {s}", "a2", f"f'(z2 + {s})"],
        [nums(skip.pre), lit(skip.a2), _mark(skip.d2, facts.dead_skip, p, color)],
        skip.z2.size,
    )
    parts = [
        heading(f"Skip connection in ResNet (f = {f})"),
        Words("z1 = W1 a0 + b1,  a1 = f(z1),  z2 = W2 a1 + b2  (the same both ways)"),
        Words(f"w/out skip: a2 = f(z2);  w/ skip: a2 = f(z2 + {s})"),
        # Side by side when they fit, one under the other when they do not.
        first,
        Equation(without, with_skip, gap=4),
    ]
    if facts.dead_a1 or facts.dead_skip or facts.dead_plain:
        legend = "f' = 0 (red)" if color else "f' = 0 [bracketed]"
        parts.append(
            Words(
                (
                    f"{legend}: a dead unit, no gradient passes through it"
                    + (" (relu'(0) = 0 at the kink, as PyTorch)" if f == "relu" else ""),
                    "dim",
                )
            )
        )
    return Group(*parts)


def _chosen(res: ResBlockResult) -> tuple[int, int]:
    """The units whose formulas are written out: a dead unit of a1 if there is one, and
    the unit of a2 where the skip matters most (a row it rescues, else one dead even with
    the skip, else one dead without), else the first."""
    facts = res.facts
    u1 = facts.dead_a1[0] if facts.dead_a1 else 0
    for group in (facts.rescued, facts.dead_skip, facts.dead_plain, facts.zero_rows_skip):
        if group:
            return u1, group[0]
    return u1, 0


def _formula_rows(res: ResBlockResult, p: int) -> list[tuple[str, str]]:
    """(label, formula) for z1, a1 of unit u1 and z2, a2 of unit u2, with the numbers."""
    f, w = res.activation, res.weights
    plain, skip = res.plain, res.skip
    u1, u2 = _chosen(res)
    i1, i2 = f"[{u1 + 1}]", f"[{u2 + 1}]"
    rows = [
        (
            "",
            f"z1{i1} = {product_terms(w['w1'][u1], res.a0, p)}{_plus(w['b1'][u1], p)}"
            f" = {_n(plain.z1[u1], p)}",
        ),
        ("", f"a1{i1} = {f}({_n(plain.z1[u1], p)}) = {_n(plain.a1[u1], p)}"),
        (
            "",
            f"z2{i2} = {product_terms(w['w2'][u2], plain.a1, p)}{_plus(w['b2'][u2], p)}"
            f" = {_n(plain.z2[u2], p)}",
        ),
        (
            "w/out skip:",
            f"a2{i2} = {f}(z2{i2}) = {f}({_n(plain.z2[u2], p)}) = {_n(plain.a2[u2], p)}",
        ),
    ]
    if w["shortcut"] is None:
        rows.append(
            (
                "w/ skip:",
                f"a2{i2} = {f}(z2{i2} + a0{i2}) = "
                f"{f}({_n(skip.z2[u2], p)}{_plus(res.a0[u2], p)}) = "
                f"{f}({_n(skip.pre[u2], p)}) = {_n(skip.a2[u2], p)}",
            )
        )
    else:
        rows.append(
            (
                "w/ skip:",
                f"s{i2} = (WS a0){i2} = "
                f"{product_terms(w['shortcut'][u2], res.a0, p)} = "
                f"{_n(skip.shortcut[u2], p)}",
            )
        )
        rows.append(
            (
                "",
                f"a2{i2} = {f}(z2{i2} + s{i2}) = "
                f"{f}({_n(skip.z2[u2], p)}{_plus(skip.shortcut[u2], p)}) = "
                f"{f}({_n(skip.pre[u2], p)}) = {_n(skip.a2[u2], p)}",
            )
        )
    return rows


def _formulas(res: ResBlockResult, p: int):
    f = res.activation
    u1, u2 = _chosen(res)
    rows = _formula_rows(res, p)
    pad = max(len(label) for label, _ in rows) + 1
    lines = [Formula((label.ljust(pad), "bold"), formula, indent=pad) for label, formula in rows]
    return Group(
        heading(f"One unit with the numbers: unit {u1 + 1} of a1, unit {u2 + 1} of a2"),
        *lines,
        Formula((f"⇒ w/ skip: a2 = {f}(W2 a1 + b2 + {_skip_name(res)[0]})", "bold")),
        Words(
            (
                "(the notes call the block's output a_3; it is the block's second activation, a2)",
                "dim",
            )
        ),
    )


# --- the Jacobians, and what they show ---------------------------------------------------


def _why_dead(res: ResBlockResult, units, values, name: str, p: int) -> str:
    """'z2[2] + a0[2] = −0.3 ≤ 0' for one unit; for several, their values in a list."""
    if res.activation == "relu":
        rule = "≤ 0"
    else:
        rule = f"saturated: {res.activation}' = 0 in float64"
    if len(units) == 1:
        u = units[0]
        return f"{name.replace('[]', f'[{u + 1}]')} = {_n(values[u], p)} {rule}"
    shown = ", ".join(_n(values[u], p) for u in units[:LISTED])
    return f"{name.replace('[]', '')} = {shown}{', …' if len(units) > LISTED else ''} {rule}"


def block_sentences(res: ResBlockResult, p: int = 4) -> list[str]:
    """The claims about one block, each chosen from res.facts."""
    facts, plain, skip = res.facts, res.plain, res.skip
    s, ident = _skip_name(res)
    pre_name = "z2[] + a0[]" if s == "a0" else "z2[] + (WS a0)[]"
    out = []
    if facts.dead_a1:
        units = facts.dead_a1
        out.append(
            f"{unit_list(units)} of a1 {_is(units)} dead "
            f"({_why_dead(res, units, plain.z1, 'z1[]', p)}): no path runs through "
            f"{'them' if len(units) > 1 else 'it'}, with or without the skip"
        )
    if facts.rescued:
        rows = facts.rescued
        out.append(
            f"{unit_list(rows)} of a2 {_is(rows)} dead without the skip "
            f"({_why_dead(res, rows, plain.z2, 'z2[]', p)}), so row"
            f"{'s' if len(rows) > 1 else ''} {', '.join(str(r + 1) for r in rows)} of "
            f"∂a2/∂a0 {_is(rows)} 0 there; with the skip "
            f"{'they are' if len(rows) > 1 else 'it is'} alive "
            f"({_alive_values(rows, skip.pre, pre_name, p)}): the skip's path "
            "reaches a0"
        )
    dead_both = [u for u in facts.dead_skip]
    if dead_both:
        out.append(
            f"{unit_list(dead_both)} of a2 {_is(dead_both)} dead even with the skip "
            f"({_why_dead(res, dead_both, skip.pre, pre_name, p)}), so row"
            f"{'s' if len(dead_both) > 1 else ''} "
            f"{', '.join(str(r + 1) for r in dead_both[:LISTED])}"
            f"{', …' if len(dead_both) > LISTED else ''} of ∂a2/∂a0 "
            f"{_is(dead_both)} 0 even with the skip: the skip adds + {ident} inside "
            f"the bracket, but diag({res.activation}'(z2 + {s})) outside it is 0 there"
        )
    for rows, dead, label, bracket in (
        (facts.zero_rows_plain, facts.dead_plain, "without the skip", "W2 diag(f'(z1)) W1"),
        (facts.zero_rows_skip, facts.dead_skip, "with the skip", f"W2 diag(f'(z1)) W1 + {ident}"),
    ):
        cut = [r for r in rows if r not in dead]
        if cut:
            many = len(cut) > 1
            out.append(
                f"row{'s' if many else ''} {', '.join(str(r + 1) for r in cut)} of "
                f"∂a2/∂a0 {_is(cut)} 0 {label} although the unit{'s are' if many else ' is'}"
                f" alive: {'their rows' if many else 'its row'} of {bracket} "
                f"{_is(cut)} 0"
            )
    if not facts.zero_rows_skip:
        out.append(
            "with the skip no row of ∂a2/∂a0 is 0: the gradient reaches a0 from every unit of a2"
        )
    ratio = (
        "larger"
        if facts.norm_skip > facts.norm_plain
        else "smaller"
        if facts.norm_skip < facts.norm_plain
        else "the same"
    )
    out.append(
        f"‖∂a2/∂a0‖₂ = {_n(facts.norm_plain, p)} without the skip, "
        f"{_n(facts.norm_skip, p)} with it ({ratio}"
        f"{'' if ratio == 'the same' else ' with the skip'})"
    )
    return out


def _alive_values(rows, values, name: str, p: int) -> str:
    if len(rows) == 1:
        return f"{name.replace('[]', f'[{rows[0] + 1}]')} = {_n(values[rows[0]], p)}"
    return f"{name.replace('[]', '')} = " + ", ".join(_n(values[r], p) for r in rows[:LISTED])


def _row(v, p: int, limit: int = 6) -> str:
    """(0.5, −0.5): a row of a Jacobian in a formula, cut with '…' past `limit` values."""
    shown = ", ".join(_n(x, p) for x in v[:limit])
    return f"({shown}{', …' if len(v) > limit else ''})"


def _row_rows(res: ResBlockResult, p: int) -> list[tuple[str, str]]:
    """(label, formula): row u2 of both Jacobians written out with its numbers (for a0
    of at most 4 values; else its diagonal entry (u2, u2), where the skip's I adds 1): the
    path through a1 (term by term when a1 has at most 4 units), then f' outside the
    bracket, with and without the skip's + I (or + WS)."""
    f, w = res.activation, res.weights
    plain, skip = res.plain, res.skip
    _, u = _chosen(res)
    whole = res.a0.size <= 4
    i = f"[{u + 1}]" if whole else f"[{u + 1},{u + 1}]"
    cols = slice(None) if whole else u  # the row, or its diagonal entry

    def show(v, factor: bool = False) -> str:
        return _row(v, p) if whole else _paren(v, p) if factor else _n(v, p)

    through = plain.through[u, cols]
    name = "(W2 diag(f'(z1)) W1)"
    if plain.d1.size <= 4:
        terms = " + ".join(
            f"{_paren(w['w2'][u, k], p)}·{_n(plain.d1[k], p)}·{show(w['w1'][k, cols], True)}"
            for k in range(plain.d1.size)
        )
    else:
        k = f"[{u + 1},k]"
        terms = f"Σ_k W2{k}·f'(z1[k])·W1[k{'' if whole else f',{u + 1}'}]"
    shortcut = w["shortcut"] is None
    ident, extra = ("I", np.eye(res.a0.size)[u]) if shortcut else ("WS", w["shortcut"][u])
    extra = extra[cols]
    at = f"[{u + 1}]"
    rows = [
        ("", f"{name}{i} = {terms} = {show(through)}"),
        (
            "w/out skip:",
            f"∂a2/∂a0{i} = {f}'(z2{at}) · {show(through, True)} = "
            f"{f}'({_n(plain.pre[u], p)}) · {show(through, True)} = {_n(plain.d2[u], p)}"
            f" · {show(through, True)}"
            f" = {show(plain.jacobian[u, cols])}",
        ),
        (
            "w/ skip:",
            f"∂a2/∂a0{i} = {f}'(z2{at} + {'a0' if shortcut else '(WS a0)'}{at}) · "
            f"({show(through)} + {ident}{i}) = {f}'({_n(skip.pre[u], p)}) · "
            f"({show(through)} + {show(extra)}) = {_n(skip.d2[u], p)} · "
            f"{show(through + extra, True)} = {show(skip.jacobian[u, cols])}",
        ),
    ]
    return rows


def _row_working(res: ResBlockResult, p: int) -> tuple[str, list]:
    """(a title, formulas) of `_row_rows`."""
    u = _chosen(res)[1]
    title = f"row {u + 1}" if res.a0.size <= 4 else f"entry ({u + 1}, {u + 1})"
    rows = _row_rows(res, p)
    pad = max(len(label) for label, _ in rows) + 1
    return (
        f"{title} of ∂a2/∂a0 with the numbers:",
        [Formula((label.ljust(pad), "bold"), text, indent=pad) for label, text in rows],
    )


def _jacobians(res: ResBlockResult, p: int):
    s, ident = _skip_name(res)
    plain = Fitted(res.plain.jacobian, p, title="w/out skip")
    skip = Fitted(res.skip.jacobian, p, title="w/ skip")
    working = _row_working(res, p)
    lines = [
        heading("∂a2/∂a0 (rows are outputs)"),
        Text("w/out skip: diag(f'(z2)) W2 diag(f'(z1)) W1"),
        Text(f"w/ skip:    diag(f'(z2 + {s})) (W2 diag(f'(z1)) W1 + {ident})"),
        Equation(plain, skip, gap=4),
        Text(working[0], style="italic"),
        *working[1],
    ]
    lines.append(bullets(block_sentences(res, p)))
    return Group(*lines)


# --- through a stack ----------------------------------------------------------------------


def column_format(values, p: int):
    """One notation for a whole column: fixed while the values span few orders, else
    scientific with real exponents for every value (0 stays 0)."""
    values = np.asarray(values, dtype=np.float64)
    nonzero = np.abs(values[values != 0])
    scientific = nonzero.size and (
        nonzero.max() >= 1e6
        or nonzero.min() < 10 ** -(p - 1)
        or nonzero.max() / nonzero.min() >= 1e4
    )
    if not scientific:
        return [num(v, p) for v in values]
    return ["0" if v == 0 else f"{v:.{max(p - 1, 1)}e}" for v in values]


def _trend_sentence(trend, label: str, count: int, p: int) -> str:
    if trend.verdict == "vanishes":
        if trend.zero_dead:
            return (
                f"{label} the norm is exactly 0 from l = {trend.first_zero} on: dead "
                f"units (f' = 0) in block {trend.first_zero} cut every remaining path, "
                "and a product stays 0 once it is 0"
            )
        return (
            f"{label} the norm underflows float64 to 0 from l = {trend.first_zero} on "
            f"(it shrank below 1e-308 before)"
        )
    how = {"grows": "grows", "decays": "shrinks", "steady": "holds steady:"}[trend.verdict]
    ratios = f"the geometric mean of the {count - 1} ratios" if count > 1 else "against ‖I‖ = 1"
    return (
        f"{label} the norm {how} ×{_n(trend.factor, 2 if trend.verdict != 'steady' else 3)}"
        f" per block ({ratios}), to {column_format([trend.last], p)[0]} at l = {count}"
    )


def depth_sentences(res: ResBlockResult, p: int = 4) -> list[str]:
    """The claims about the stack, each chosen from res.depth_facts."""
    facts, count = res.depth_facts, len(res.grad_norms["skip"])
    out = [
        _trend_sentence(facts.plain, "without skips", count, p),
        _trend_sentence(facts.skip, "with skips", count, p),
    ]
    lo, hi = (num(b, 2) for b in BAND)
    if facts.alive:
        out.append(
            f"with skips the identity path keeps the gradient alive: its norm stays "
            f"within [{lo}, {hi}] at every block, while without them it falls to "
            f"{column_format([facts.plain.last], p)[0]}"
        )
    elif facts.skip.last > facts.plain.last:
        out.append(
            f"at l = {count} the norm with skips is the larger, but it does not stay "
            f"within [{lo}, {hi}]"
            + (
                f": it explodes (×{_n(facts.skip.factor, 2)} per block)"
                if facts.skip.verdict == "grows" and facts.skip.last > BAND[1]
                else ""
            )
        )
    elif facts.skip.last < facts.plain.last:
        out.append(
            f"here the skips do not help: at l = {count} the norm with skips is "
            "smaller than without"
        )
    else:
        out.append(f"at l = {count} the two norms are equal")
    return out


class _DepthTable:
    """The norms and their log-scale bars, as wide as the console allows."""

    def __init__(self, res: ResBlockResult, p: int):
        self.res, self.p = res, p

    def __rich_console__(self, console, options):
        res, p = self.res, self.p
        norms = res.grad_norms
        count = len(norms["skip"])
        values = np.array(norms["skip"] + norms["plain"])
        positive = values[values > 0]
        lo = math.log10(positive.min()) if positive.size else 0.0
        hi = math.log10(positive.max()) if positive.size else 0.0
        shown = [i for i in _rows(count)]
        plain_text = column_format([norms["plain"][i] for i in shown if i is not None], p)
        skip_text = column_format([norms["skip"][i] for i in shown if i is not None], p)
        widths = [
            len(str(count)),
            max(10, *map(len, plain_text)),
            max(7, *map(len, skip_text)),
        ]  # the headers "w/out skip", "w/ skip"
        room = options.max_width - sum(widths) - 8  # 1 space each side of the 5 columns
        bar_width = max(4, min(BAR_WIDTH, room // 2))

        def bar(v, colour):
            if v <= 0:
                return Text("")
            length = (
                bar_width
                if hi == lo
                else 1 + round((math.log10(v) - lo) / (hi - lo) * (bar_width - 1))
            )
            return Text("█" * length, style=colour)

        table = Table(
            title=f"‖∂a_l/∂a_0‖₂ through {count} "
            f"{'random' if res.depth_random else 'repeated'} blocks",
            title_justify="left",
            box=None,
            header_style="bold",
            pad_edge=False,
        )
        for col in ("l", "w/out skip", "", "w/ skip", ""):
            table.add_column(col, justify="left" if col == "" else "right", no_wrap=True)
        n = 0
        for i in shown:
            if i is None:
                table.add_row("⋮", "", "", "", "")
                continue
            table.add_row(
                str(i + 1),
                plain_text[n],
                bar(norms["plain"][i], "red"),
                skip_text[n],
                bar(norms["skip"][i], "green"),
            )
            n += 1
        yield table
        if positive.size:
            yield Words(
                (
                    f"bars in log scale: from █ = 10^{_n(round(lo, 2), 2)} to full = "
                    f"10^{_n(round(hi, 2), 2)} (0 has no bar)",
                    "dim",
                )
            )


def _rows(count: int) -> list:
    return (
        list(range(count))
        if count <= 24
        else list(range(12)) + [None] + list(range(count - 11, count))
    )


def _depth(res: ResBlockResult, p: int):
    return Group(_DepthTable(res, p), bullets(depth_sentences(res, p)))


def rich(res: ResBlockResult, style):
    p = style.precision
    parts = [_given(res, p), _layers(res, p, style.color), _formulas(res, p), _jacobians(res, p)]
    if res.grad_norms is not None:
        parts.append(_depth(res, p))
    return Group(*[item for part in parts for item in (part, Text(""))][:-1])


def _lgiven(v, p: int) -> str:
    return latex_matrix(v, p) if np.ndim(v) == 2 else latex_vector(v, p, 8)


def _lnorms(res: ResBlockResult, p: int) -> list[str]:
    """The depth table, ‖∂a_l/∂a_0‖ with and without skips, and what the numbers did."""
    norms = res.grad_norms
    count = len(norms["skip"])
    rows = []
    for i in range(count) if count <= 24 else [*range(12), None, *range(count - 11, count)]:
        rows.append(
            "\\vdots & \\vdots & \\vdots"
            if i is None
            else f"{i + 1} & {latex_num(norms['plain'][i], p)} & {latex_num(norms['skip'][i], p)}"
        )
    kind = "random" if res.depth_random else "repeated"
    lines = [
        latex_par(
            f"Through {count} {kind} blocks, the gradient norm "
            "$\\lVert \\partial a_l / \\partial a_0 \\rVert$ for $l = 1, \\dots, "
            f"{count}$:"
        ),
        "$$\\begin{array}{|r|r|r|} \\hline l & \\text{w/out skip} & \\text{w/ skip} "
        "\\\\ \\hline " + " \\\\ ".join(rows) + " \\\\ \\hline \\end{array}$$",
    ]
    lines += _lsentences(depth_sentences(res, p))
    return lines


_LNAME = {
    "relu": "\\operatorname{relu}",
    "tanh": "\\tanh",
    "sigmoid": "\\sigma",
    "identity": "\\operatorname{id}",
}


def _ltex(text: str, f: str) -> str:
    """A formula of the rich view in LaTeX: z2[2] as z_2[2], relu as \\operatorname{relu},
    · and − as \\cdot and -, … (3 more terms) as \\dots."""
    text = re.sub(r"… \((\d+) more terms\)", r"\\dots\\ (\\text{\1 more terms})", text)
    text = text.replace(f"{f}'(", "@'(").replace(f"{f}(", "@(").replace("@", _LNAME[f])
    text = text.replace("diag(", "\\operatorname{diag}(").replace("Σ_k", "\\sum_k ")
    text = re.sub(r"\bWS\b", "W_S", text)
    text = re.sub(r"\b([azbW])(\d)\b", r"\1_\2", text)
    return text.replace("∂", "\\partial ").replace("·", " \\cdot ").replace("−", "-")


def _laligned(rows: list[tuple[str, str]], f: str) -> str:
    """(label, formula) rows as one aligned display, each aligned at its first '='."""
    lines = []
    for label, text in rows:
        left, right = _ltex(text, f).split(" = ", 1)
        note = f" \\quad \\text{{({label.rstrip(':')})}}" if label else ""
        lines.append(f"{left} &= {right}{note}")
    return "$$\\begin{aligned} " + " \\\\ ".join(lines) + " \\end{aligned}$$"


def _lsentences(sentences) -> list[str]:
    """The rich view's sentences (chosen from the same facts) as LaTeX paragraphs."""
    return [latex_par(latex_text(s[0].upper() + s[1:]) + ".") for s in sentences]


def latex(res: ResBlockResult, style) -> str:
    p = style.precision
    f = (
        "f"
        if res.activation == "relu"
        else f"\\{res.activation}"
        if res.activation in ("tanh",)
        else f"\\text{{{res.activation}}}"
    )
    plain, skip = res.plain, res.skip
    s, eye = ("a_0", "I") if res.weights["shortcut"] is None else ("W_S a_0", "W_S")
    fp = "f'" if res.activation == "relu" else f"{f}'"
    given = [
        ("a_0", res.a0),
        ("w_1", res.weights["w1"]),
        ("b_1", res.weights["b1"]),
        ("w_2", res.weights["w2"]),
        ("b_2", res.weights["b2"]),
    ]
    if res.weights["shortcut"] is not None:
        given.append(("W_S", res.weights["shortcut"]))
    seed = getattr(res, "seed", None)
    lines = [
        latex_par(
            "Given"
            + (
                ""
                if seed is None
                else f" (a random case of {res.a0.size} units, seed {seed}: repeat it with "
                f"\\texttt{{--random {res.a0.size} --seed {seed}}})"
            )
            + ":"
        ),
        "$$" + ", \\quad ".join(f"{name} = {_lgiven(v, p)}" for name, v in given) + "$$",
        latex_par("w/out skip" + (", with $f = \\text{relu}$" if f == "f" else "")),
        f"$$z_1 = w_1 a_0 + b_1 = {latex_vector(plain.z1, p)}$$",
        f"$$a_1 = {f}(z_1) = {latex_vector(plain.a1, p)}$$",
        f"$$z_2 = w_2 a_1 + b_2 = {latex_vector(plain.z2, p)}$$",
        f"$$a_2 = {f}(z_2) = {latex_vector(plain.a2, p)}$$",
        latex_par(
            "w/ skip: $z_1$, $a_1$ and $z_2$ are as above"
            + ("" if s == "a_0" else "; a projection $W_S$ brings $a_0$ to the size of $z_2$")
        ),
        f"$$a_2 = {f}(z_2 + {s}) = {f}(w_2 a_1 + b_2 + {s}) = {latex_vector(skip.a2, p)}$$",
        latex_par(
            "The notes call the block's output $a_3$; it is the block's second activation, $a_2$."
        ),
        latex_par(
            f"Unit {_chosen(res)[0] + 1} of $a_1$ and unit {_chosen(res)[1] + 1} of $a_2$ "
            "with the numbers:"
        ),
        _laligned(_formula_rows(res, p), res.activation),
        latex_par("The Jacobians (rows are outputs):"),
        f"$$\\frac{{\\partial a_2}}{{\\partial a_0}}\\Big|_{{\\text{{w/out}}}} = "
        f"\\text{{diag}}({fp}(z_2))\\, w_2\\, \\text{{diag}}({fp}(z_1))\\, w_1 = "
        f"{latex_matrix(plain.jacobian, p)}$$",
        f"$$\\frac{{\\partial a_2}}{{\\partial a_0}}\\Big|_{{\\text{{w/}}}} = "
        f"\\text{{diag}}({fp}(z_2 + {s})) \\left(w_2\\, \\text{{diag}}({fp}(z_1))\\, w_1 + "
        f"{eye}\\right) = {latex_matrix(skip.jacobian, p)}$$",
    ]
    title, _ = _row_working(res, p)
    lines.append(latex_par(latex_text(title[0].upper() + title[1:])))
    lines.append(_laligned(_row_rows(res, p), res.activation))
    lines += _lsentences(block_sentences(res, p))
    if res.activation == "relu":
        lines.append(latex_par("$\\text{relu}'(0) = 0$ at the kink, as PyTorch."))
    if res.grad_norms is not None:
        lines += _lnorms(res, p)
    return "\n".join(lines).lstrip("\n")
