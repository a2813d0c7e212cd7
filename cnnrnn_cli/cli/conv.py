"""`cnnrnn conv`: 2-D convolution (cross-correlation), window by window."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import (
    PADDING,
    IntParam,
    MatrixParam,
    SizeParam,
    one_row_failure,
    primary_input,
    row_hints,
)
from cnnrnn_cli.errors import CnnrnnError, InputError
from cnnrnn_cli.report import Report
from cnnrnn_cli.vocabulary import PAD_MODES

# The notes' convolution: a 5×5 image, a 3×3 kernel, a 3×3 feature map.
EXAMPLE = '"1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0" -k "1 0 1; 0 1 0; 1 0 1"'


@report_command(example=EXAMPLE, walkthrough=True, animation=True)
@click.argument("image", required=False, type=MatrixParam(), metavar="[IMAGE]")
@click.option(
    "-k", "--kernel", type=MatrixParam(), help="F×F, C×F×F, or K×C×F×F (JSON or a file) weights."
)
@click.option(
    "-s", "--stride", type=SizeParam(), default="1", show_default=True, help="Stride S or ShxSw."
)
@click.option(
    "-p",
    "--padding",
    type=PADDING,
    default="0",
    show_default=True,
    help="A number, HxW, same, valid or full.",
)
@click.option(
    "--pad-mode",
    type=click.Choice(PAD_MODES),
    default="zeros",
    show_default=True,
    help="What the padding holds.",
)
@click.option(
    "-d",
    "--dilation",
    type=SizeParam(),
    default="1",
    show_default=True,
    help="Dilation d or DhxDw.",
)
@click.option("-b", "--bias", type=MatrixParam(), help="A scalar, or one value per filter.")
@click.option("--flip", is_flag=True, help="True convolution: rotate the kernel by 180°.")
@click.option(
    "-g",
    "--groups",
    type=IntParam(),
    default=1,
    show_default=True,
    help="Groups G (PyTorch's rule: weights K×(C/G)×F×F; G = C is depthwise).",
)
@click.option(
    "--transposed",
    is_flag=True,
    help="Transposed convolution (ConvTranspose2d): weights C×K×F×F, output "
    "(N − 1)S − 2P + d(F − 1) + op + 1.",
)
@click.option(
    "--output-padding",
    type=SizeParam(minimum=0),
    default="0",
    show_default=True,
    help="op: rows/columns added on the bottom/right of a transposed convolution.",
)
@click.option(
    "--grad",
    type=MatrixParam(),
    help="An upstream gradient G (the output's shape): the backward pass, "
    "grad_input, grad_kernel and grad_bias.",
)
def conv(
    image,
    kernel,
    stride,
    padding,
    pad_mode,
    dilation,
    bias,
    flip,
    groups,
    transposed,
    output_padding,
    grad,
    at,
) -> Report:
    """2-D convolution as deep-learning frameworks define it (cross-correlation).

    IMAGE is H×W or C×H×W (read from stdin when omitted and piped in). An F×F
    kernel on an H×W image gives H'×W'; a C×F×F kernel on a C×H×W image sums over
    the channels; K×C×F×F gives K×H'×W'; an F×F kernel on a C×H×W image is applied
    to each channel separately (depthwise). 'same' padding puts the odd pixel on
    the bottom/right; with a stride it is TensorFlow's SAME (output ⌈N/S⌉).

    -g G groups the channels as PyTorch does. --transposed computes
    ConvTranspose2d and shows it two ways: each pixel stamping x·W, and the direct
    convolution with zeros inserted. --grad G adds the backward pass: ∂L/∂x,
    ∂L/∂W and ∂L/∂b, one weight's gradient written as its sum over windows.

    \b
    Example (the notes):
      cnnrnn conv "1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0" \\
                  -k "1 0 1; 0 1 0; 1 0 1"
    """
    from cnnrnn_cli import api

    if kernel is None:
        raise InputError("kernel", 'missing: give the kernel with -k (e.g. -k "1 0; 0 1")')
    ctx = click.get_current_context()
    given = primary_input(ctx, image, "image")
    hints = row_hints(ctx, given, kernel)  # commas read as one long row
    image = api.as_image(given, "image")
    if kernel.ndim > 4:
        raise InputError("kernel", f"expected F×F, C×F×F or K×C×F×F, got {kernel.ndim} dimensions")
    if kernel.ndim < 2:
        kernel = kernel.reshape(1, -1)
    try:
        res = api.convolution(
            image,
            kernel,
            stride,
            padding,
            dilation,
            None if bias is None else bias.reshape(-1),
            pad_mode,
            flip,
            groups=groups,
            transposed=transposed,
            output_padding=output_padding,
            grad=grad,
        )
    except CnnrnnError as err:
        raise one_row_failure(err, image, "image", kernel.shape[-2], hints) from None
    params = {
        "image_shape": list(image.shape),
        "kernel_shape": list(kernel.shape),
        "stride": list(res.stride),
        "padding": [[d.p_lo, d.p_hi] for d in res.dims],
        "dilation": list(res.dilation),
        "pad_mode": pad_mode,
        "flip": flip,
        "bias": None if res.bias is None else res.bias.tolist(),
        "mode": res.mode,
        "groups": res.groups,
        "transposed": transposed,
        "output_padding": [d.op for d in res.dims] if transposed else [0, 0],
    }
    trace, explainer, extra = res, "transposed" if transposed else "conv", {}
    if grad is not None:
        from cnnrnn_cli.explain.backward import Backward

        trace, explainer = Backward(res, api.conv_backward_facts(res)), "backward"
        extra = {
            "grad_input": res.grad_input,
            "grad_kernel": res.grad_kernel,
            "grad_bias": res.grad_bias,
        }
    return Report(
        "conv",
        params,
        res.output,
        extra=extra,
        trace=trace,
        explainer=f"cnnrnn_cli.explain.{explainer}",
        warnings=res.warnings + hints,
        at=None if at is None else api.output_cell(at, res.output.shape),
    )
