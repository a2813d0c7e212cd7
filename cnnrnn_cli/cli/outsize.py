"""`cnnrnn outsize`: output sizes of a layer or a stack. Pure arithmetic: no NumPy, no Rich."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import PADDING, IntParam, SizeParam
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.report import Report
from cnnrnn_cli.vocabulary import MODEL_NAMES

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
    "--layers",
    metavar="SPEC",
    help='A network, e.g. "conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1; res( conv k=3 p=1 )".',
)
@click.option(
    "--model",
    type=click.Choice(MODEL_NAMES),
    help="A classic network as a --layers spec (default input 3x224x224; 1x28x28 for lenet5).",
)
@click.option(
    "--show-spec",
    is_flag=True,
    help="Print the network (--model or --layers) as a --layers spec instead of its summary.",
)
@click.option(
    "--depth",
    type=IntParam(minimum=0),
    help="Rich view: fold branches nested deeper than N (their rows summed).",
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
    model,
    show_spec,
    depth,
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
      cnnrnn outsize --model resnet18           # the network summary, totals
      cnnrnn outsize --model vgg16 --show-spec  # as a --layers spec

    \b
    --layers: layers separated by ';' (or new lines), '#' comments.
      conv / convT   k s p d c g bias=0 (convT: op)   maxpool / avgpool  k s p d ceil
      adaptiveavgpool o=H[xW]   flatten   linear n=OUT   bn   relu   act   dropout
      rnn / gru / lstm h=H bidirectional=1 (first, on a TxD input)
      res( MAIN ), res( MAIN | SHORTCUT ), cat( B1 | B2 | ... ): branches, nesting
    """
    from cnnrnn_cli import api
    from cnnrnn_cli.io.spec import parse_dims

    network = layers is not None or model is not None
    if not network and (show_spec or depth is not None):
        raise click.UsageError(
            f"{'--show-spec' if show_spec else '--depth'} applies to --layers or --model"
        )
    if input is None and model is None:
        raise InputError("input", "missing: give N, HxW or CxHxW (e.g. 224x224)")
    shape = parse_dims(input, "input") if input is not None else None
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
    if network:
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
        if layers is not None and model is not None:
            raise click.UsageError("give --model or --layers, not both")
        if show_spec:
            return spec_report(shape, layers, model)
        net = api.output_size(shape, layers=layers, model=model)
        net.fold = depth
        given = {"input": shape or net.input}
        given.update({"model": model} if model else {"layers": layers})
        return Report(
            "outsize",
            given,
            lambda: network_result(net),
            plain=network_plain(net),
            trace=net,
            explainer=EXPLAINER,
            warnings=net.warnings,
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


def spec_report(shape, layers, model) -> Report:
    """--show-spec: the network as a --layers spec, the input only on a '#' line."""
    from cnnrnn_cli import api

    text = api.network_spec(layers, model)
    shape = shape or (api.model_input(model) if model else None)
    head = [f"# {model}: {api.model_source(model)}"] if model else []
    if shape:
        head.append(f"# input {'x'.join(map(str, shape))}")
    text = "\n".join(head + [text])
    return Report(
        "outsize",
        {"input": shape, "model": model} if model else {"input": shape, "layers": layers},
        {"spec": text},
        plain=[("spec", text)],
        trace=SpecText(text),
        explainer=EXPLAINER,
    )


class SpecText(str):
    """The --show-spec text, for the rich and LaTeX views."""


def network_result(net) -> dict:
    totals = net.totals
    return {
        "output": net.output,
        "exact": net.exact,
        "layers": net.layers,
        **totals,
        "totals": totals,
    }


COLUMNS = (
    "item depth kind shape in params buffers macs flops activations receptive_field jump rf_start"
)


def network_plain(net) -> list:
    """Records: one row per spec layer, its columns named in the block's `#` line (shape
    and an axis pair written HxW, a missing value `null`), then the totals."""
    rows = [
        [
            r.item,
            r.depth,
            r.kind,
            _shape(r.shape),
            r.inputs,
            r.params,
            r.buffers,
            r.macs,
            r.flops,
            r.activations,
            _x(r.receptive_field),
            _x(r.jumps),
            _x(r.rf_start),
        ]
        for r in net.records
    ]
    totals = net.totals
    return [
        ("output", net.output),
        ("layers: " + COLUMNS, rows),
        ("totals: " + " ".join(totals), [list(totals.values())]),
    ]


def _shape(values):
    """[64, 56, 56] -> '64x56x56'; [10] -> 10."""
    return "x".join(map(str, values)) if len(values) > 1 else values[0]


def _x(values):
    """An axis pair: [3, 3] -> 3, [3, 5] -> '3x5'; None stays None (null)."""
    if values is None:
        return None
    if len(set(values)) == 1:
        return values[0]
    from cnnrnn_cli.io.numbers import format_number

    return "x".join(format_number(v) for v in values)
