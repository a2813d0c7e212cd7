"""`cnnrnn inception`: an Inception module's branches, shapes, parameters and MACs."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import SEED, IntParam, MatrixParam, NamedArraysParam
from cnnrnn_cli.report import Report

PRESET_NAMES = ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")
# A module small enough for --compute to be shown whole.
EXAMPLE = "3x5x5 --n1x1 2 --n3x3red 2 --n3x3 2 --n5x5red 1 --n5x5 1 --pool-proj 1"


@report_command(
    example=EXAMPLE,
    replaces={"preset": ("shape", "n1x1", "n3x3red", "n3x3", "n5x5red", "n5x5", "pool_proj")},
)
@click.argument("shape", required=False)
@click.option("--n1x1", type=IntParam(), help="1×1 branch filters.")
@click.option("--n3x3red", type=IntParam(), help="1×1 reductions before the 3×3.")
@click.option("--n3x3", type=IntParam(), help="3×3 filters.")
@click.option("--n5x5red", type=IntParam(), help="1×1 reductions before the 5×5.")
@click.option("--n5x5", type=IntParam(), help="5×5 filters.")
@click.option("--pool-proj", type=IntParam(), help="1×1 projections after the pool.")
@click.option(
    "--preset",
    type=click.Choice(PRESET_NAMES),
    help="A GoogLeNet module: fills the columns and the input shape.",
)
@click.option("--no-bias", is_flag=True, help="Count weights only, as the paper's table.")
@click.option(
    "--compute", is_flag=True, help="Run the module on a tensor (--tensor, or random with --seed)."
)
@click.option("--tensor", type=MatrixParam(), help="The C×H×W input for --compute.")
@click.option(
    "--weights",
    type=NamedArraysParam(),
    help="@file.npz|json: b1_w, b1_b, b2_reduce_w, b2_w, b3_reduce_w, b3_w, b4_w "
    "(K×C×F×F) and their _b; missing ones are random.",
)
@click.option("--seed", type=SEED, help="Seed for a random tensor and weights.")
def inception(shape, preset, no_bias, compute, tensor, weights, seed, **filters) -> Report:
    """An Inception module (GoogLeNet): four branches concatenated along channels.

    \b
    1×1 | 1×1 reduce → 3×3 (pad 1) | 1×1 reduce → 5×5 (pad 2) | 3×3 max pool → 1×1

    SHAPE is CxHxW (optional with --preset). Shows each branch's layers, shapes,
    parameters and multiply-adds, and the naive module without the reductions
    (the paper's Figure 2a), so the saving is visible.

    \b
    Examples:
      cnnrnn inception --preset 3a
      cnnrnn inception --preset 3a --no-bias        # the paper's 159K, 128M
      cnnrnn inception --example --compute
    """
    from cnnrnn_cli import api

    if (tensor is not None or weights or seed is not None) and not compute:
        raise click.UsageError("--tensor, --weights and --seed go with --compute")
    res = api.inception(shape, preset=preset, no_bias=no_bias, **filters)
    if compute:
        if tensor is not None and tensor.ndim == 2 and res.input_shape[0] == 1:
            tensor = tensor[None]
        api.run_module(res, tensor, weights, seed)
    result = {
        "output_shape": res.output_shape,
        "params": res.params,
        "macs": res.macs,
        "branches": [
            {"name": b.name, "output_shape": b.output_shape, "params": b.params, "macs": b.macs}
            for b in res.branches
        ],
        "naive": res.naive,
        "channels": res.channels,
    }
    if res.output is not None:
        result["output"] = res.output
        result["zero_channels"] = res.zero_channels
    params = {
        "input": res.input_shape,
        **res.filters,
        "preset": preset,
        "bias": not no_bias,
        "compute": compute,
        "seed": res.seed if res.generated else seed,
    }
    plain = [
        ("output_shape", res.output_shape),
        ("params", res.params),
        ("macs", res.macs),
        ("naive.output_shape", res.naive["output_shape"]),
        ("naive.params", res.naive["params"]),
        ("naive.macs", res.naive["macs"]),
    ]
    if res.output is not None:
        plain.append(("output", res.output))
    return Report(
        "inception",
        params,
        result,
        plain=plain,
        trace=res,
        explainer="cnnrnn_cli.explain.inception",
    )
