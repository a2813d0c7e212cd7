"""`cnnrnn pool`: max / avg / min / sum / l2 pooling, window by window."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import (
    PADDING,
    MatrixParam,
    SizeParam,
    one_row_failure,
    primary_input,
    row_hints,
)
from cnnrnn_cli.errors import CnnrnnError
from cnnrnn_cli.report import Report
from cnnrnn_cli.vocabulary import POOL_MODES

# The notes' pooling: the convolved feature, 2×2 windows, stride 1.
EXAMPLE = '"4 3 4; 2 4 3; 2 3 4" -k 2 -s 1'


@report_command(example=EXAMPLE, walkthrough=True, animation=True)
@click.argument("input", required=False, type=MatrixParam(), metavar="[INPUT]")
@click.option(
    "-k",
    "--kernel",
    "--size",
    "size",
    type=SizeParam(),
    help="Window size F or FhxFw (--kernel as in conv and outsize)  [default: 2]",
)
@click.option("-s", "--stride", type=SizeParam(), help="Stride  [default: the size]")
@click.option(
    "-p",
    "--padding",
    type=PADDING,
    default="0",
    show_default=True,
    help="A number or HxW (at most half the window).",
)
@click.option("--mode", type=click.Choice(POOL_MODES), default="max", show_default=True)
@click.option(
    "--ceil", is_flag=True, help="Ceil mode: keep a last partial window (PyTorch's rule)."
)
@click.option(
    "--count-include-pad/--no-count-include-pad",
    default=True,
    show_default=True,
    help="avg: count the padding in the divisor.",
)
@click.option(
    "--global",
    "global_pool",
    is_flag=True,
    help="One value per channel (the window is the whole input).",
)
@click.option(
    "--grad",
    type=MatrixParam(),
    help="An upstream gradient (output-shaped) to send back: max/min route it to the "
    "winners, avg shares it out, sum copies it, l2 weights it by x/out.",
)
def pool(
    input, size, stride, padding, mode, ceil, count_include_pad, global_pool, grad, at
) -> Report:
    """Pooling of an H×W or C×H×W input (read from stdin when omitted and piped in).

    The stride defaults to the window size, as in the frameworks. Max and min pool
    pad with −∞/+∞; a tie goes to the first maximum in row-major order (PyTorch),
    which is where --grad routes the gradient; avg shares a window's gradient out
    over its divisor, sum copies it to every pixel, l2 weights it by x/out.

    \b
    Example (the notes: 2×2 max pooling, stride 1):
      cnnrnn pool "4 3 4; 2 4 3; 2 3 4" -k 2 -s 1
    """
    from cnnrnn_cli import api

    if global_pool and (size is not None or stride is not None or padding != 0 or ceil):
        raise click.UsageError(
            "--global pools the whole input; give no --size, --stride, --padding or --ceil with it"
        )
    ctx = click.get_current_context()
    given = primary_input(ctx, input, "input")
    hints = row_hints(ctx, given)  # commas read as one long row
    x = api.as_image(given, "input")
    try:
        res = api.pool2d(
            x, size or 2, stride, padding, mode, ceil, count_include_pad, global_pool, grad
        )
    except CnnrnnError as err:
        rows = (size or 2) if isinstance(size or 2, int) else size[0]
        raise one_row_failure(err, x, "input", 1 if global_pool else rows, hints) from None
    params = {
        "input_shape": list(x.shape),
        "size": list(res.size),
        "stride": list(res.stride),
        "padding": [[d.p_lo, d.p_hi] for d in res.dims],
        "mode": mode,
        "ceil": ceil,
        "count_include_pad": count_include_pad,
        "global": global_pool,
    }
    extra = {} if res.grad_input is None else {"grad_input": res.grad_input}
    if at is not None:
        out = (
            res.output.shape
            if not global_pool
            else ((res.output.size, 1, 1) if res.output.ndim else (1, 1))
        )
        at = api.output_cell(at, out)
    return Report(
        "pool",
        params,
        res.output,
        extra=extra,
        trace=res,
        explainer="cnnrnn_cli.explain.pool",
        warnings=res.warnings + hints,
        at=at,
    )


# The shared --at speaks of filters; a pool has windows and channels.
for _param in pool.params:
    if _param.name == "at":
        _param.help = "Explain one window: output cell R,C (1-based; K,R,C picks channel K)."
