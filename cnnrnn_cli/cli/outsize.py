"""`cnnrnn outsize`: output sizes of a layer or a stack. Pure arithmetic: no NumPy, no Rich."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import PADDING, IntParam, SizeParam
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.report import Report

EXPLAINER = "cnnrnn_cli.explain.outsize"
# The notes: a 3×3 input, one row/column of padding, a 2×2 kernel, stride 1 → 4×4.
EXAMPLE = "3x3 -k 2 -p 1"


@report_command(example=EXAMPLE)
@click.argument("input", required=False)
@click.option("-k", "--kernel", type=SizeParam(), help="Kernel size F or FhxFw.")
@click.option(
    "-s", "--stride", type=SizeParam(), default="1", show_default=True, help="Stride S or ShxSw."
)
@click.option(
    "-p",
    "--padding",
    type=PADDING,
    default="0",
    show_default=True,
    help="Padding: a number, HxW, same, valid or full.",
)
@click.option(
    "-d",
    "--dilation",
    type=SizeParam(),
    default="1",
    show_default=True,
    help="Dilation d or DhxDw.",
)
@click.option("-c", "--channels", type=IntParam(), help="Output channels K (unchanged if absent).")
@click.option("--ceil", is_flag=True, help="Ceil mode (PyTorch's rule for pooling).")
@click.option("--transposed", is_flag=True, help="A transposed convolution.")
@click.option(
    "--output-padding",
    type=SizeParam(minimum=0),
    default="0",
    show_default=True,
    help="Extra size on one side of a transposed output (op < max(S, d)).",
)
@click.option(
    "--same",
    "solve_same",
    is_flag=True,
    help="Solve for the padding that keeps the size (⌈N/S⌉ at stride S).",
)
@click.option(
    "--layers", metavar="SPEC", help='A stack, e.g. "conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1".'
)
def outsize(
    input,
    kernel,
    stride,
    padding,
    dilation,
    channels,
    ceil,
    transposed,
    output_padding,
    solve_same,
    layers,
) -> Report:
    """Output size of a convolution or pooling layer, or of a stack of layers.

    INPUT is N, HxW or CxHxW. The notes' formula, with the numbers in it:
    output = (N + 2P − F)/stride + 1, floor((N + 2P − d(F−1) − 1)/S) + 1 with
    dilation, (N − 1)S − 2P + d(F−1) + op + 1 when --transposed.

    \b
    Examples:
      cnnrnn outsize 3 -k 2 -p 1                 # the notes: 4 (a 4×4 output)
      cnnrnn outsize 224 -k 7 -s 2 -p 3          # 112
      cnnrnn outsize 3x224x224 --layers "conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1"
    """
    from cnnrnn_cli import api
    from cnnrnn_cli.io.spec import parse_dims

    if input is None:
        raise InputError("input", "missing: give N, HxW or CxHxW (e.g. 224x224)")
    shape = parse_dims(input, "input")
    if solve_same and padding not in (0, "same"):
        raise click.UsageError("--same solves for the padding; do not give -p with it")
    params = {
        "input": shape,
        "kernel": kernel,
        "stride": stride,
        "padding": "same" if solve_same else padding,
        "dilation": dilation,
        "channels": channels,
        "ceil": ceil,
        "transposed": transposed,
        "output_padding": output_padding,
        "same": solve_same,
    }
    if layers:
        given = [
            name
            for name, v in (
                ("--kernel", kernel),
                ("--channels", channels),
                ("--transposed", transposed),
                ("--ceil", ceil),
                ("--same", solve_same),
            )
            if v
        ]
        if given:
            raise click.UsageError(
                f"--layers describes every layer; {given[0]} cannot be given with it"
            )
        stack = api.output_size(shape, layers=layers)
        return Report(
            "outsize",
            {"input": shape, "layers": layers},
            stack_result(stack),
            plain=stack_plain(stack),
            trace=stack,
            explainer=EXPLAINER,
            warnings=stack.warnings,
        )
    if kernel is None:
        raise InputError("kernel", "missing: give the kernel size with -k F (or --layers)")
    res = api.output_size(
        shape,
        kernel,
        stride,
        padding,
        dilation,
        channels,
        ceil,
        transposed,
        output_padding,
        same=solve_same,
    )
    result = {
        "output": res.output,
        "exact": res.exact,
        "padding": res.padding[0] if len(res.dims) == 1 else res.padding,
    }
    return Report(
        "outsize",
        params,
        result,
        plain=[("output", res.output)],
        trace=res,
        explainer=EXPLAINER,
        warnings=res.warnings,
    )


def stack_result(stack) -> dict:
    totals = {"params": stack.params, "macs": stack.macs, "flops": stack.flops}
    return {
        "output": stack.output,
        "exact": stack.exact,
        "layers": stack.layers,
        **totals,
        "totals": totals,
    }


def stack_plain(stack) -> list:
    """One numeric row per layer, its columns named in the block's `#` line."""
    rank = len(stack.rows[0].dims)
    dims = (["C"] if len(stack.rows[0].shape) > rank else []) + (["H", "W"] if rank == 2 else ["N"])
    counts = all(r.params is not None for r in stack.rows)
    square = all(len(set(r.receptive_field)) == 1 and len(set(r.jump)) == 1 for r in stack.rows)
    geometry = (
        ["receptive_field", "jump"]
        if square
        else ["receptive_field_h", "receptive_field_w", "jump_h", "jump_w"]
    )
    columns = dims + (["params", "macs", "flops"] if counts else []) + geometry
    rows = []
    for r in stack.rows:
        row = list(r.shape) + ([r.params, r.macs, r.flops] if counts else [])
        row += [r.receptive_field[0], r.jump[0]] if square else r.receptive_field + r.jump
        rows.append(row)
    return [("output", stack.output), ("layers: " + " ".join(columns), rows)]
