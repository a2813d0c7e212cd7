"""The working of `outsize`: the notes' formula with the numbers in it, and the layer table."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.network import Network
from cnnrnn_cli.core.sizes import AXES, Dim
from cnnrnn_cli.explain.common import ACCENT, Words, heading, with_article


def formula(dim: Dim, latex: bool = False) -> tuple[str, str]:
    """(the symbolic formula, the formula with the numbers and its value) for one axis."""
    m = "-" if latex else "−"
    dot = " \\cdot " if latex else "·"
    pad_sym = "2P" if dim.p_lo == dim.p_hi else "P_{lo} + P_{hi}" if latex else "P_lo + P_hi"
    pad_num = f"2{dot}{dim.p_lo}" if dim.p_lo == dim.p_hi else f"{dim.p_lo} + {dim.p_hi}"
    if latex and dim.p_lo == dim.p_hi:
        pad_num = f"2({dim.p_lo})"
    if dim.transposed:
        sym = f"(N {m} 1)S {m} {pad_sym} + d(F {m} 1) + op + 1"
        sub = (
            f"({dim.n} {m} 1){dot}{dim.s} {m} {pad_num} + {dim.d}{dot}({dim.f} {m} 1)"
            f" + {dim.op} + 1 = {dim.out}"
        )
        return sym, sub
    if dim.d == 1:
        top_sym, top = f"N + {pad_sym} {m} F", f"{dim.n} + {pad_num} {m} {dim.f}"
    else:
        top_sym = f"N + {pad_sym} {m} d(F {m} 1) {m} 1"
        top = f"{dim.n} + {pad_num} {m} {dim.d}{dot}({dim.f} {m} 1) {m} 1"
    if latex:
        frac_sym, frac = f"\\frac{{{top_sym}}}{{S}}", f"\\frac{{{top}}}{{{dim.s}}}"
    else:
        frac_sym, frac = f"({top_sym})/S", f"({top})/{dim.s}"
    if dim.exact and dim.d == 1:
        return f"{frac_sym} + 1", f"{frac} + 1 = {dim.out}"
    lo, hi = ("\\lceil ", " \\rceil") if dim.ceil else ("\\lfloor ", " \\rfloor")
    if not latex:
        lo, hi = ("⌈", "⌉") if dim.ceil else ("⌊", "⌋")
    value = dim.numerator / dim.s
    shown = f"{value:g}" if not dim.exact else f"{dim.numerator // dim.s}"
    tail = f" = {lo}{shown}{hi} + 1"
    if dim.ceil_dropped:
        tail += f" {m} 1" if latex else " − 1 (last window would start in the padding)"
    return f"{lo}{frac_sym}{hi} + 1", f"{lo}{frac}{hi} + 1{tail} = {dim.out}"


def _axis_names(result_dims: list[Dim]) -> list[str]:
    if len(result_dims) == 1:
        return [""]
    same = result_dims[0] == result_dims[1]
    return ["height and width"] if same else list(AXES)


def _dims_shown(dims: list[Dim]) -> list[Dim]:
    return dims[:1] if len(dims) == 2 and dims[0] == dims[1] else dims


def _shape(values) -> str:
    return "×".join(str(v) for v in values) if isinstance(values, list) else str(values)


def rich(trace, style):
    if isinstance(trace, Network):
        return _rich_stack(trace)
    if isinstance(trace, str):  # --show-spec
        return Text(trace, no_wrap=True, overflow="ignore")
    rule = (
        "for a transposed convolution, output = (N − 1)S − 2P + d(F−1) + op + 1"
        if trace.dims[0].transposed
        else "for any convolution / pooling, output = (N + 2P − F)/stride + 1"
    )
    parts = [heading("Output size"), Text(rule, style="italic")]
    for name, dim in zip(_axis_names(trace.dims), _dims_shown(trace.dims), strict=True):
        sym, sub = formula(dim)
        parts.append(
            Text.assemble(
                (f"{name}: " if name else "", "bold"),
                f"N={dim.n}, P={_pad(dim)}, F={dim.f}, stride={dim.s}"
                + (f", d={dim.d}" if dim.d > 1 else "")
                + (f", op={dim.op}" if dim.op else ""),
            )
        )
        parts.append(Text.assemble("  output = ", sym))
        parts.append(
            Text.assemble(
                "         = ",
                (sub, ACCENT),
                "  ",
                ("✓ exact", "green") if dim.exact else ("✗ not exact", "red"),
            )
        )
        if dim.padding_word:
            parts.append(Text(f"  padding {dim.padding_word!r}: {padding_rule(dim)}", style="dim"))
        if dim.d > 1:
            parts.append(
                Text(
                    f"  dilation {dim.d}: the kernel's taps span d(F−1) + 1 = {dim.span} pixels",
                    style="dim",
                )
            )
        if dim.same_note:
            parts.append(Text(f"  {dim.same_note}", style="yellow"))
        if not dim.exact and not dim.ceil:
            parts.append(
                Text(
                    f"  the last {dim.remainder} of the padded input's "
                    f"{dim.n + dim.p_lo + dim.p_hi} positions are not covered "
                    f"({dim.dropped_image} of them image)",
                    style="yellow",
                )
            )
    inp, out = trace.input, trace.output
    if len(inp) == 1 and isinstance(out, int):
        # The notes' reading of a bare N: a square N×N input.
        parts.append(
            Text.assemble(
                "⇒ output = ",
                (str(out), "bold green"),
                f": {with_article(f'{out}×{out}')} output"
                f" for {with_article(f'{inp[0]}×{inp[0]}')} input",
            )
        )
    else:
        parts.append(
            Text.assemble(
                "⇒ ", (f"{_shape(out)} output", "bold green"), f" for the {_shape(inp)} input"
            )
        )
    return Group(*parts)


def padding_rule(dim: Dim) -> str:
    """How a padding word became numbers, with the numbers."""
    total = dim.p_lo + dim.p_hi
    if dim.padding_word == "valid":
        return "no padding, P = 0"
    if dim.padding_word == "full":
        return f"P = d(F−1) = {dim.d}·({dim.f}−1) = {dim.p_lo} on each side"
    # The odd pixel is named only when there is one.
    odd = " (the odd pixel bottom/right)" if dim.p_lo != dim.p_hi else ""
    if dim.s == 1:
        return f"total d(F−1) = {dim.d}·({dim.f}−1) = {total}, split {dim.p_lo} + {dim.p_hi}{odd}"
    ceil = -(-dim.n // dim.s)
    return (
        f"TensorFlow's SAME at stride {dim.s}: output ⌈N/S⌉ = {ceil}, total "
        f"max((⌈N/S⌉−1)·S + d(F−1) + 1 − N, 0) = {total}, split {dim.p_lo} + {dim.p_hi}"
        f"{odd} (PyTorch refuses 'same' with a stride)"
    )


def _pad(dim: Dim) -> str:
    return str(dim.p_lo) if dim.p_lo == dim.p_hi else f"{dim.p_lo}+{dim.p_hi}"


def tree_rows(net: Network) -> list[tuple]:
    """(record, label indent, sums, folded, children, path) in reading order: a block's
    row before its children (its params/MACs summed over them), blocks deeper than
    `net.fold` folded; `path` names the first layer of a block's second path and beyond
    ('shortcut', 'path 3'), else ''."""
    out: list[tuple] = []

    def walk(records, prefix: str, parent) -> None:
        nodes, i = [], len(records) - 1
        while i >= 0:
            r = records[i]
            nodes.append((r, records[i - r.children : i]))
            i -= r.children + 1
        nodes.reverse()
        for n, (r, kids) in enumerate(nodes):
            last = n == len(nodes) - 1
            glyph = ("└─ " if last else "├─ ") if r.depth else ""
            folded = bool(kids) and net.fold is not None and r.depth >= net.fold
            path = ""
            *_, which, index = ["", "", *r.item.split(".")]
            if parent is not None and index == "1" and which != "1":
                path = "shortcut" if parent.kind == "res" else f"path {which}"
            out.append((r, prefix + glyph, _sums([*kids, r]), folded, len(kids), path))
            if kids and not folded:
                walk(kids, prefix + (("   " if last else "│  ") if r.depth else ""), r)

    walk(net.records, "", None)
    return out


# The rich and LaTeX tables show at most this many rows (the first and the last ones);
# -f plain and json list every layer.
ROWS_SHOWN = 300


def shown_rows(net: Network) -> tuple[list, list, int]:
    """(first rows, last rows, rows left out between them) of the tree table."""
    rows = tree_rows(net)
    if len(rows) <= ROWS_SHOWN:
        return rows, [], 0
    tail = ROWS_SHOWN // 10
    return rows[: ROWS_SHOWN - tail], rows[-tail:], len(rows) - ROWS_SHOWN


def _omitted(count: int) -> str:
    return f"… {count:,} more rows"


OMITTED_NOTE = "Rows left out: -f plain or json lists every layer; --depth folds blocks."


def _sums(records) -> tuple:
    def total(attr):
        values = [getattr(r, attr) for r in records]
        return None if any(v is None for v in values) else sum(values)

    return total("params"), total("macs")


def _rich_stack(net: Network):
    table = Table(
        title="Layer by layer",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    # A network without spatial layers (recurrent, linear) has no receptive field columns.
    spatial = any(r.rf is not None for r in net.records)
    geometry = ("RF", "jump", "start") if spatial else ()
    for col in ("layer", "output", "params", "MACs", *geometry):
        if col == "layer":
            table.add_column(col, ratio=1, min_width=12)
        else:
            table.add_column(col, justify="right", no_wrap=True)
    table.add_row("input", _shape(net.input), "", "", *(("1", "1", "1") if spatial else ()))
    first, last, omitted = shown_rows(net)
    for row in first + [None] * bool(omitted) + last:
        if row is None:
            table.add_row(Text(_omitted(omitted), style="yellow"))
            continue
        r, indent, (params, macs), folded, kids, path = row
        pieces = [(indent, "dim"), (f"{r.item} ", "dim")]
        if path:
            pieces.append((f"{path}: ", "italic"))
        pieces.append((r.spec, "bold" if kids else ""))
        if r.kind == "linear":
            pieces.append((f"  in = {r.inputs:,}", ACCENT))
        if folded:
            pieces.append((f"  ({kids} layers folded)", "dim"))
        # A long spec wraps under itself, not under the tree or the item number.
        label = Words(*pieces, indent=len(indent) + len(str(r.item)) + 1)
        table.add_row(
            label,
            _shape(r.shape) + ("" if r.exact else " *"),
            _count(params),
            _count(macs),
            *((_geom(r.receptive_field), _geom(r.jumps), _geom(r.rf_start)) if spatial else ()),
        )
    totals = net.totals
    table.add_row(
        Text("total", style="bold"),
        _shape(net.output),
        _count(totals["params"]),
        _count(totals["macs"]),
        *(("",) * len(geometry)),
        style="bold",
    )
    notes = network_notes(net)
    if omitted:
        notes.append(Text(OMITTED_NOTE, style="yellow"))
    return Group(table, *notes)


def network_notes(net: Network) -> list:
    """The totals and the definitions, only those that the table shows."""
    totals = net.totals
    kinds = {r.kind for r in net.records}
    parts = [
        Text.assemble(
            ("Totals: ", "bold"),
            f"{_count(totals['params'])} parameters, {_count(totals['buffers'])} buffers, "
            f"{_count(totals['macs'])} MACs (FLOPs = 2 × MACs = {_count(totals['flops'])}), "
            f"{totals['activations']:,} activations (output elements summed over the layers)",
        )
    ]
    defs = ["MACs: multiply-adds of the weights (no biases)"]
    if kinds & {"conv", "convT"}:
        defs.append("a conv c·(C/g)·Fh·Fw·H'·W'")
    if "linear" in kinds:
        defs.append("a linear n·in")
    if kinds & {"rnn", "gru", "lstm"}:
        defs.append("a recurrent layer T·g·H(D+H) per direction (g = 1, 3, 4 for rnn, gru, lstm)")
    if "bn" in kinds:
        defs.append("bn has 2C parameters and 2C buffers and no MACs")
    parts.append(Text("; ".join(defs) + ".", style="dim"))
    if any(r.rf is not None for r in net.records):
        parts.append(
            Text(
                "RF: the receptive field of output (1,1), r ← r + d(k−1)·j; jump j ← j·s; "
                "start: where that field begins, 1-based (0 or less lies in the padding)"
                + (
                    "; on branches, the union of the paths' fields"
                    if kinds & {"res", "cat"}
                    else ""
                )
                + ".",
                style="dim",
            )
        )
    if any(not r.exact for r in net.records):
        notes_text = "* the division is not exact: the last rows/columns are dropped"
        parts.append(Text(notes_text, style="yellow"))
    if totals["params"] is None:
        parts.append(Text("? params/MACs need the input channels: give CxHxW", style="yellow"))
    return parts


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"


def _geom(values) -> str:
    if values is None:
        return "–"
    return "×".join(f"{v:g}" for v in values) if len(set(values)) > 1 else f"{values[0]:g}"


def dim_notes(dim: Dim) -> list[str]:
    """What the rich view says under one axis's formula, as LaTeX text."""
    from cnnrnn_cli.explain.common import latex_text

    notes = []
    if dim.padding_word:
        notes.append(f"Padding \\texttt{{{dim.padding_word}}}: {latex_text(padding_rule(dim))}.")
    if dim.d > 1:
        notes.append(f"Dilation {dim.d}: the kernel's taps span $d(F-1) + 1 = {dim.span}$ pixels.")
    if dim.same_note:
        notes.append(latex_text(dim.same_note.rstrip(".")) + ".")
    if dim.ceil_dropped:
        notes.append(
            "The $-\\,1$: the last window would start in the padding, so ceil mode drops it."
        )
    if not dim.exact and not dim.ceil:
        notes.append(
            f"The last {dim.remainder} of the padded input's "
            f"{dim.n + dim.p_lo + dim.p_hi} positions are not covered "
            f"({dim.dropped_image} of them image)."
        )
    return notes


def latex(trace, style) -> str:
    """The notes' line: ⇒ output = \\frac{N + 2(P) − F}{S} + 1 = 4 ⇒ 4 × 4 output."""
    from cnnrnn_cli.explain.common import latex_par

    if isinstance(trace, Network):
        return _latex_stack(trace)
    if isinstance(trace, str):  # --show-spec
        from cnnrnn_cli.explain.common import latex_text

        return "\n".join(f"\\texttt{{{latex_text(line)}}}\\\\" for line in trace.splitlines())
    out = trace.output
    shape = " \\times ".join(map(str, out)) if isinstance(out, list) else f"{out} \\times {out}"
    lines, notes = [], []
    dims = _dims_shown(trace.dims)
    names = _axis_names(trace.dims) if len(dims) > 1 else [""]
    for i, (name, dim) in enumerate(zip(names, dims, strict=True)):
        sub = formula(dim, latex=True)[1]
        note = "" if dim.exact else " \\quad \\text{(not exact)}"
        tail = f" \\Rightarrow {shape} \\text{{ output}}" if i == len(dims) - 1 else ""
        label = f"\\text{{{name}:}}\\quad " if name else ""
        lines.append(f"$${label}\\Rightarrow \\text{{output}} = {sub}{note}{tail}$$")
        notes += [
            f"{name.capitalize()}: {n[0].lower()}{n[1:]}" if name else n for n in dim_notes(dim)
        ]
    if notes:
        lines.append(latex_par(" ".join(notes)))
    return "\n".join(lines)


def _latex_stack(net: Network) -> str:
    from cnnrnn_cli.explain.common import latex_par, latex_text

    def count(value) -> str:
        return "\\text{?}" if value is None else _count(value).replace(",", "{,}")

    def geom(values) -> str:
        return "\\text{--}" if values is None else _geom(values).replace("×", " \\times ")

    def shape(values) -> str:
        return " \\times ".join(map(str, values)) if isinstance(values, list) else str(values)

    head = ["\\text{layer}", "\\text{output}", "\\text{params}", "\\text{MACs}"]
    head += ["\\text{RF}", "\\text{jump}", "\\text{start}"]
    rows = [
        " & ".join(head) + " \\\\ \\hline",
        f"\\text{{input}} & {shape(net.input)} & & & 1 & 1 & 1 \\\\ \\hline",
    ]
    first, last, omitted = shown_rows(net)
    for row in first + [None] * bool(omitted) + last:
        if row is None:
            rows.append(f"\\text{{{latex_text(_omitted(omitted))}}} & & & & & & \\\\")
            continue
        r, _, (params, macs), folded, kids, path = row
        text = f"{path}: {r.spec}" if path else r.spec
        if r.kind == "linear":
            text += f" (in = {r.inputs})"
        if folded:
            text += f" ({kids} layers folded)"
        indent = "\\quad " * r.depth
        cells = [
            f"{indent}\\text{{{latex_text(r.item + ' ' + text)}}}",
            shape(r.shape) + ("" if r.exact else "^{*}"),
            count(params),
            count(macs),
            geom(r.receptive_field),
            geom(r.jumps),
            geom(r.rf_start),
        ]
        rows.append(" & ".join(cells) + " \\\\")
    totals = net.totals
    rows.append(
        f"\\hline \\textbf{{total}} & {shape(net.output)} & {count(totals['params'])} & "
        f"{count(totals['macs'])} & & & \\\\"
    )
    notes = [latex_text(t.plain) for t in network_notes(net)]
    if omitted:
        notes.append(latex_text(OMITTED_NOTE))
    return (
        "$$\\begin{array}{|l|c|r|r|c|c|c|} \\hline "
        + " ".join(rows)
        + " \\hline \\end{array}$$\n"
        + latex_par(" ".join(notes))
    )
