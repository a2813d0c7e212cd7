"""The working of `inception`: each branch's layers with shapes, parameters and MACs, the
concatenated output, and the naive module beside it."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnnrnn_cli.core.inception import InceptionResult
from cnnrnn_cli.explain.common import ACCENT, heading, num, stack_grids


def _shape(values) -> str:
    return "×".join(str(v) for v in values)


def _count(n: int) -> str:
    return f"{n:,}"


def _table(res: InceptionResult) -> Table:
    c, h, w = res.input_shape
    title = f"Inception module{' ' + res.preset if res.preset else ''} on {_shape(res.input_shape)}"
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for col in ("branch", "layer", "output", "params", "MACs"):
        table.add_column(col, justify="left" if col in ("branch", "layer") else "right",
                         no_wrap=col != "layer")
    for branch in res.branches:
        for i, layer in enumerate(branch.layers):
            shape = [layer.c_out, h, w]
            table.add_row(branch.name if i == 0 else "", f"{layer.name} ({layer.c_out})"
                          if layer.kind == "conv" else layer.name, _shape(shape),
                          _count(layer.params(res.bias)), _count(layer.macs(h, w)))
        table.add_row("", Text("branch total", style="dim"), "", _count(branch.params),
                      _count(branch.macs), style="dim", end_section=True)
    table.add_row("concat", "along channels", Text(_shape(res.output_shape), style=ACCENT),
                  Text(_count(res.params), style=ACCENT), Text(_count(res.macs), style=ACCENT))
    naive = res.naive
    table.add_row("naive", "no 1×1 reductions (Fig. 2a)", _shape(naive["output_shape"]),
                  _count(naive["params"]), _count(naive["macs"]), style="yellow")
    return table


def rich(res: InceptionResult, style):
    p = style.precision
    naive = res.naive
    parts = [_table(res),
             Text(f"output depth {' + '.join(str(b.output_shape[0]) for b in res.branches)} = "
                  f"{res.output_shape[0]}; the naive module passes the {res.input_shape[0]} "
                  f"input channels on through its pool branch: depth "
                  f"{naive['output_shape'][0]}"),
             Text.assemble("the 1×1 reductions save ",
                           (f"{naive['params'] / res.params:.2f}×", "bold"), " parameters and ",
                           (f"{naive['macs'] / res.macs:.2f}×", "bold"), " multiply-adds"),
             Text("MACs: multiply-adds, K·C·F²·H·W per conv (FLOPs = 2 × MACs = "
                  f"{_count(2 * res.macs)}); "
                  + ("weights only (--no-bias), as the paper's table: "
                     f"{res.params / 1024:.1f}K params, {res.macs / 1e6:.1f}M ops"
                     if not res.bias else "parameters count weights and biases"),
                  style="dim")]
    if res.output is not None:
        parts.append(heading("Computed (--compute, ReLU after every conv)"))
        parts.append(Text(f"input {_shape(res.input_shape)} → output "
                          f"{_shape(res.output.shape)} (= {_shape(res.output_shape)} from the "
                          "shape arithmetic)"))
        if res.output.size <= 400:
            parts.append(stack_grids(res.output, p, title="output", max_channels=16))
        else:
            parts.append(Text(f"mean {num(res.output.mean(), p)}, max "
                              f"{num(res.output.max(), p)}, zeros (ReLU) "
                              f"{(res.output == 0).mean():.0%}", style="dim"))
    return Group(*parts)


def latex(res: InceptionResult, style) -> str:
    rows = []
    for branch in res.branches:
        layers = " \\rightarrow ".join(
            (f"{layer.size}\\times{layer.size}\\,({layer.c_out})" if layer.kind == "conv"
             else "\\text{pool}") for layer in branch.layers)
        rows.append(f"{layers} & {branch.output_shape[0]} & {branch.params:,} & "
                    f"{branch.macs:,} \\\\".replace(",", "{,}"))
    body = " \\hline ".join(rows)
    naive = res.naive
    return ("$$\\begin{array}{|l|r|r|r|} \\hline \\text{branch} & \\text{depth} & "
            "\\text{params} & \\text{MACs} \\\\ \\hline " + body
            + f" \\hline \\text{{total}} & {res.output_shape[0]} & {res.params:,} & "
              f"{res.macs:,} \\\\ \\hline".replace(",", "{,}")
            + f" \\text{{naive}} & {naive['output_shape'][0]} & {naive['params']:,} & "
              f"{naive['macs']:,} \\\\ \\hline".replace(",", "{,}")
            + " \\end{array}$$")
