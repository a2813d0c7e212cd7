"""The working of `inception`: each branch's layers with shapes, parameters and MACs, the
concatenated output, and the naive module beside it."""

from __future__ import annotations

from rich import box
from rich.columns import Columns
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.inception import InceptionResult
from cnnrnn_cli.explain.common import (
    ACCENT,
    Equation,
    Fitted,
    Formula,
    Words,
    heading,
    latex_num,
    latex_par,
    latex_tensor,
    latex_text,
    num,
    stack_grids,
    with_article,
)


def _shape(values) -> str:
    return "×".join(str(v) for v in values)


def _count(n: int) -> str:
    return f"{n:,}"


def _table(res: InceptionResult) -> Table:
    c, h, w = res.input_shape
    title = f"Inception module{' ' + res.preset if res.preset else ''} on {_shape(res.input_shape)}"
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for col in ("branch", "layer", "output", "params", "MACs"):
        table.add_column(
            col, justify="left" if col in ("branch", "layer") else "right", no_wrap=col != "layer"
        )
    for branch in res.branches:
        for i, layer in enumerate(branch.layers):
            shape = [layer.c_out, h, w]
            table.add_row(
                branch.name if i == 0 else "",
                f"{layer.name} ({layer.c_out})" if layer.kind == "conv" else layer.name,
                _shape(shape),
                _count(layer.params(res.bias)),
                _count(layer.macs(h, w)),
            )
        table.add_row(
            "",
            Text("branch total", style="dim"),
            "",
            _count(branch.params),
            _count(branch.macs),
            style="dim",
            end_section=True,
        )
    table.add_row(
        "concat",
        "along channels",
        Text(_shape(res.output_shape), style=ACCENT),
        Text(_count(res.params), style=ACCENT),
        Text(_count(res.macs), style=ACCENT),
    )
    naive = res.naive
    table.add_row(
        "naive",
        "no 1×1 reductions (Fig. 2a)",
        _shape(naive["output_shape"]),
        _count(naive["params"]),
        _count(naive["macs"]),
        style="yellow",
    )
    return table


def _sums(res: InceptionResult):
    """Each conv's parameters and multiply-adds written with its numbers, then the totals."""
    c, h, w = res.input_shape
    bias = res.bias
    convs = [
        (f"{branch.name} branch, {layer.name}:", layer)
        for branch in res.branches
        for layer in branch.layers
        if layer.kind == "conv"
    ]

    def block(title: str, rows: list):
        pad = max(len(label) for label, _ in rows) + 1
        return Group(
            heading(title),
            *(Formula((label.ljust(pad), "bold"), text, indent=pad) for label, text in rows),
        )

    params = [
        (
            name,
            f"{k.c_out}·{k.c_in}·{k.size}·{k.size}"
            + (f" + {k.c_out}" if bias else "")
            + f" = {_count(k.params(bias))}",
        )
        for name, k in convs
    ]
    params.append(
        (
            "total:",
            " + ".join(_count(k.params(bias)) for _, k in convs) + f" = {_count(res.params)}",
        )
    )
    naive = [(res.filters["n1x1"], 1), (res.filters["n3x3"], 3), (res.filters["n5x5"], 5)]
    params.append(
        (
            "naive:",
            " + ".join(f"{k}·{c}·{f}·{f}" + (f" + {k}" if bias else "") for k, f in naive)
            + f" = {_count(res.naive['params'])}",
        )
    )
    macs = [
        (name, f"{k.c_out}·{k.c_in}·{k.size}·{k.size}·{h}·{w} = {_count(k.macs(h, w))}")
        for name, k in convs
    ]
    macs.append(
        ("total:", " + ".join(_count(k.macs(h, w)) for _, k in convs) + f" = {_count(res.macs)}")
    )
    macs.append(
        (
            "naive:",
            " + ".join(f"{k}·{c}·{f}·{f}·{h}·{w}" for k, f in naive)
            + f" = {_count(res.naive['macs'])}",
        )
    )
    return Group(
        block(
            "Parameters, K·C·F·F"
            + (" + K" if bias else "")
            + " per conv "
            + ("(weights and biases)" if bias else "(weights only)"),
            params,
        ),
        block(f"Multiply-adds, K·C·F·F·H·W per conv (H×W = {h}×{w})", macs),
    )


def _spans(res: InceptionResult):
    """Which output channels each branch makes (1-based)."""
    spans = [
        f"{c['first']}" if c["first"] == c["last"] else f"{c['first']}–{c['last']}"
        for c in res.channels
    ]
    return Words(
        "output channels: "
        + ", ".join(f"{span} ← {c['branch']}" for span, c in zip(spans, res.channels, strict=True))
    )


def _channel_map(res: InceptionResult):
    """The all-zero output channels of a computed module (the map is above)."""
    lines = []
    zeros = res.zero_channels
    if zeros:
        named = ", ".join(f"{z} ({res.branch_of(z)})" for z in zeros[:12])
        more = f" and {len(zeros) - 12} more" if len(zeros) > 12 else ""
        lines.append(
            Words(
                (
                    f"channel{'s' if len(zeros) > 1 else ''} {named}{more} "
                    f"{'are' if len(zeros) > 1 else 'is'} all zeros: a dead ReLU, every "
                    "value of that filter was ≤ 0 before its ReLU",
                    "bold",
                )
            )
        )
    else:
        lines.append(Words(("no output channel is all zeros", "dim")))
    return Group(*lines)


def _weights(res: InceptionResult, p: int):
    """The weights compute used: each conv's K×C (1×1) or K·C F×F grids and its biases,
    drawn whole when small, else their shapes."""
    import numpy as np

    items, total = [], sum(np.size(v) for v in res.weights.values())
    for branch in res.branches:
        for layer in branch.layers:
            key = f"{layer.weight_name}_w"
            if layer.kind != "conv" or key not in res.weights:
                continue
            w = np.asarray(res.weights[key], dtype=np.float64).reshape(
                layer.c_out, layer.c_in, layer.size, layer.size
            )
            b = res.weights.get(f"{layer.weight_name}_b")
            label = f"{key} ({branch.name} {layer.name})"
            if total > 400:
                items.append(Text(f"{label}: {_shape(w.shape)}"))
                continue
            if layer.size == 1:
                drawn = [Fitted(w[:, :, 0, 0], p, title=f"{key} (K×C)")]
            else:
                drawn = [
                    Fitted(w[k, c], p, title=f"{key}[{k + 1},{c + 1}]")
                    for k in range(layer.c_out)
                    for c in range(layer.c_in)
                ]
            if b is not None:
                drawn.append(
                    Fitted(
                        np.atleast_2d(np.asarray(b, dtype=np.float64)),
                        p,
                        title=f"{layer.weight_name}_b",
                    )
                )
            items.append(Equation(*drawn, gap=2))  # one conv a row
    if not items:
        return Group()
    title = "weights (K filters × C channels; a 1×1 conv's as one K×C matrix)"
    return Group(Words((title, "italic")), *items)


def _computed(res: InceptionResult, p: int):
    parts = [heading("Computed (--compute, ReLU after every conv)")]
    if res.generated:
        made = ["the input tensor"] if "tensor" in res.generated else []
        weights = [name for name in res.generated if name.endswith("_w")]
        if weights:
            made.append(f"the weights {', '.join(weights)} (He: N(0, 2/(C·F·F)), biases 0)")
        parts.append(
            Words(f"random, seed {res.seed} (repeat with --seed {res.seed}): " + " and ".join(made))
        )
    parts.append(
        Words(
            f"input {_shape(res.input_shape)} → output {_shape(res.output.shape)} "
            f"(= {_shape(res.output_shape)} from the shape arithmetic)"
        )
    )
    if res.tensor is not None and res.tensor.size <= 400:
        parts.append(stack_grids(res.tensor, p, title="input", max_channels=16, fit=True))
    parts.append(_weights(res, p))
    parts.append(_channel_map(res))
    if res.output.size <= 400:
        titles = {}
        for c in res.channels:
            for ch in range(c["first"], c["last"] + 1):
                titles[ch] = f"{ch}: {c['branch']}"
        parts.append(
            Columns(
                [
                    Fitted(res.output[ch - 1], p, title=titles[ch])
                    for ch in range(1, min(len(res.output), 16) + 1)
                ]
            )
        )
        if len(res.output) > 16:
            parts.append(Text(f"… {len(res.output) - 16} more channels", style="dim"))
    else:
        parts.append(
            Words(
                (
                    f"mean {num(res.output.mean(), p)}, max "
                    f"{num(res.output.max(), p)}, zeros (ReLU) "
                    f"{(res.output == 0).mean():.0%}",
                    "dim",
                )
            )
        )
    return Group(*parts)


def compare(naive: int, module: int, noun: str) -> str:
    """Which of the two needs more, and by how much: the words follow the numbers."""
    if naive > module:
        ratio = naive / module
        return f"the naive module needs {ratio:.2f}× the {noun} ({naive:,} against {module:,})"
    if module > naive:
        return (
            f"this module needs {module / naive:.2f}× the naive module's {noun} "
            f"({module:,} against {naive:,}): here the reductions cost more"
        )
    return f"the same {noun} as the naive module ({module:,})"


def rich(res: InceptionResult, style):
    p = style.precision
    naive = res.naive
    parts = [
        _table(res),
        Words(
            f"output depth {' + '.join(str(b.output_shape[0]) for b in res.branches)} = "
            f"{res.output_shape[0]}; the naive module passes the {res.input_shape[0]} "
            f"input channels on through its pool branch: depth "
            f"{naive['output_shape'][0]}"
        ),
        _spans(res),
        Words(
            "with its 1×1 reductions: "
            + compare(naive["params"], res.params, "parameters")
            + "; "
            + compare(naive["macs"], res.macs, "multiply-adds")
        ),
        Words(
            (
                "MACs: multiply-adds, K·C·F²·H·W per conv (FLOPs = 2 × MACs = "
                f"{_count(2 * res.macs)}); "
                + (
                    "weights only (--no-bias), as the paper's table: "
                    f"{res.params / 1024:.1f}K params, {res.macs / 1e6:.1f}M ops"
                    if not res.bias
                    else "parameters count weights and biases"
                ),
                "dim",
            )
        ),
        Text(""),
        _sums(res),
    ]
    if res.output is not None:
        parts += [Text(""), _computed(res, p)]
    return Group(*parts)


def _lcount(n: int) -> str:
    """1,050 in maths: the comma grouped as {,} so that it is not punctuation."""
    return f"{n:,}".replace(",", "{,}")


def _llayer(layer) -> str:
    size = f"{layer.size}\\times{layer.size}"
    return f"{size}\\,({layer.c_out})" if layer.kind == "conv" else f"{size}\\ \\text{{max pool}}"


def _channels(res: InceptionResult) -> str:
    """Which output channels come from which branch: '1-2 from 1x1, 3-4 from 3x3, …'."""
    parts, first = [], 1
    for branch in res.branches:
        last = first + branch.output_shape[0] - 1
        span = str(first) if first == last else f"{first}--{last}"
        parts.append(f"{span} from the {latex_text(branch.name)} branch")
        first = last + 1
    return ", ".join(parts)


def _llayer_sums(res: InceptionResult) -> str:
    """Each conv's parameters and multiply-adds with the numbers in."""
    _, h, w = res.input_shape
    rows = []
    for branch in res.branches:
        for layer in branch.layers:
            if layer.kind != "conv":
                continue
            k, c, f = layer.c_out, layer.c_in, layer.size
            bias = f" + {k}" if res.bias else ""
            rows.append(
                f"\\text{{{latex_text(branch.name)}, }} {_llayer(layer)} &\\colon\\ "
                f"{k} \\cdot {c} \\cdot {f}^2{bias} = {_lcount(layer.params(res.bias))}"
                f" \\text{{ params}}, \\quad {k} \\cdot {c} \\cdot {f}^2 \\cdot {h} "
                f"\\cdot {w} = {_lcount(layer.macs(h, w))} \\text{{ MACs}}"
            )
    return "$$\\begin{aligned} " + " \\\\ ".join(rows) + " \\end{aligned}$$"


def latex(res: InceptionResult, style) -> str:
    p = style.precision
    naive = res.naive
    rows = []
    for branch in res.branches:
        layers = " \\rightarrow ".join(_llayer(layer) for layer in branch.layers)
        rows.append(
            f"\\text{{{latex_text(branch.name)}}} & {layers} & "
            f"{branch.output_shape[0]} & {_lcount(branch.params)} & "
            f"{_lcount(branch.macs)} \\\\ \\hline"
        )
    rows.append(
        f"\\text{{concat}} & \\text{{along channels}} & {res.output_shape[0]} & "
        f"{_lcount(res.params)} & {_lcount(res.macs)} \\\\ \\hline"
    )
    rows.append(
        f"\\text{{naive}} & \\text{{no }}1\\times1\\text{{ reductions (Fig. 2a)}} & "
        f"{naive['output_shape'][0]} & {_lcount(naive['params'])} & "
        f"{_lcount(naive['macs'])} \\\\ \\hline"
    )
    shape = latex_text("×".join(map(str, res.input_shape)))
    title = (
        f"Inception module{' ' + res.preset if res.preset else ''} on {with_article(shape)} input"
    )
    depths = " + ".join(str(b.output_shape[0]) for b in res.branches)
    bias = " + K" if res.bias else ""
    counted = (
        "weights and biases"
        if res.bias
        else "weights only, \\texttt{--no-bias}, as the paper's table"
    )
    lines = [
        latex_par(f"{title}; output channels {_channels(res)}."),
        "$$\\begin{array}{|l|l|r|r|r|} \\hline \\text{branch} & \\text{layers} & "
        "\\text{depth} & \\text{params} & \\text{MACs} \\\\ \\hline "
        + " ".join(rows)
        + " \\end{array}$$",
        f"$$\\text{{depth}} = {depths} = {res.output_shape[0]}, \\quad "
        f"\\text{{params}} = {' + '.join(_lcount(b.params) for b in res.branches)} = "
        f"{_lcount(res.params)}, \\quad \\text{{MACs}} = "
        f"{' + '.join(_lcount(b.macs) for b in res.branches)} = {_lcount(res.macs)}$$",
        latex_par(
            f"Each conv has $K \\cdot C \\cdot F^2{bias}$ parameters "
            f"({counted}) "
            "and $K \\cdot C \\cdot F^2 \\cdot H \\cdot W$ multiply-adds (MACs); "
            f"FLOPs $= 2 \\times$ MACs $= {_lcount(2 * res.macs)}$. The naive module "
            f"passes the {res.input_shape[0]} input channels on through its pool "
            f"branch: depth {naive['output_shape'][0]}. With its $1\\times1$ reductions: "
            + latex_text(
                compare(naive["params"], res.params, "parameters")
                + "; "
                + compare(naive["macs"], res.macs, "multiply-adds")
            )
            + "."
        ),
    ]
    if not res.bias:
        lines.append(f"That is {res.params / 1024:.1f}K params and {res.macs / 1e6:.1f}M ops.")
    lines.append(_llayer_sums(res))
    if res.output is not None:
        out = res.output
        words = (
            f"Computed (\\texttt{{--compute}}, ReLU after every conv): input {shape} "
            f"$\\rightarrow$ output {latex_text('×'.join(map(str, out.shape)))}."
        )
        generated = getattr(res, "generated", [])
        if generated:
            made = ["the input tensor"] if "tensor" in generated else []
            weights = [latex_text(name) for name in generated if name.endswith("_w")]
            if weights:
                made.append(f"the weights {', '.join(weights)} (He: $N(0, 2/(C F^2))$, biases 0)")
            words += (
                f" Made at random, seed {res.seed} (repeat it with "
                f"\\texttt{{--seed {res.seed}}}): {' and '.join(made)}."
            )
        lines.append(latex_par(words))
        if res.tensor is not None and res.tensor.size <= 400:
            lines.append(f"$$\\text{{input}} = {latex_tensor(res.tensor, p, max_channels=16)}$$")
        dead = [c + 1 for c in range(out.shape[0]) if not out[c].any()]
        if dead:
            listed = ", ".join(map(str, dead[:12])) + (
                f" and {len(dead) - 12} more" if len(dead) > 12 else ""
            )
            lines.append(
                latex_par(
                    f"Output channel{'s' if len(dead) > 1 else ''} {listed} "
                    f"{'are' if len(dead) > 1 else 'is'} all zeros: a dead "
                    "ReLU, every value of that filter was at most 0 before "
                    "its ReLU."
                )
            )
        if out.size <= 400:
            lines.append(f"$$\\text{{output}} = {latex_tensor(out, p, max_channels=16)}$$")
        else:
            lines.append(
                f"$$\\text{{mean}} = {latex_num(out.mean(), p)}, \\quad "
                f"\\max = {latex_num(out.max(), p)}, \\quad \\text{{zeros (ReLU)}} = "
                f"{100 * (out == 0).mean():.0f}\\%$$"
            )
    return "\n".join(lines).lstrip("\n")
