"""`cnnrnn lstm-step`: one LSTM step, or a sequence, gate by gate."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import (
    IntParam,
    MatrixParam,
    NamedArraysParam,
    refuse_gates_beside,
    seed_goes_with,
    seed_option,
    unit_and_rows_options,
    within_steps,
)
from cnnrnn_cli.report import Report
from cnnrnn_cli.vocabulary import LSTM_GATES

# Three units, one in each named case, from the biases alone (σ(±6) = 0.9975 / 0.0025):
# unit 1 f ≈ 1, i ≈ 0 (carried over); unit 2 f ≈ 0 (forgets); unit 3 o ≈ 0 (hidden).
_ZEROS = '"0 0 0; 0 0 0; 0 0 0"'
EXAMPLE = (
    '--x 1 --h "0.5 -0.5 1" --c "0.8 -0.6 0.5" '
    f'--wxi "0; 0; 0" --whi {_ZEROS} --bi "-6 0 0" '
    f'--wxf "0; 0; 0" --whf {_ZEROS} --bf "6 -6 0" '
    '--wxg "1; 1; 1" --whg "0.5 0 0; 0 0.5 0; 0 0 0.5" '
    f'--wxo "0; 0; 0" --who {_ZEROS} --bo "0 0 -6"'
)

_HELPS = {"x": "W_x{g}, H×D", "h": "W_h{g}, H×H", "b": "b_{g}, H (default 0)"}


def _gate_options(fn):
    for name in reversed(LSTM_GATES):
        kind = "b" if name.startswith("b") else name[1]
        fn = click.option(f"--{name}", type=MatrixParam(), help=_HELPS[kind].format(g=name[-1]))(fn)
    return fn


@report_command(
    example=EXAMPLE,
    replaces={
        "xs": ("x",),
        "x": ("xs",),
        "random_shape": ("x", "h", "c", *LSTM_GATES),
        "torch_weights": LSTM_GATES,
        "weights": ("x", "h", "c", *LSTM_GATES),
    },
)
@click.option("--x", type=MatrixParam(), help="The input x_t, D values.")
@click.option("--h", type=MatrixParam(), help="The previous state h_{t−1}, H (default 0).")
@click.option("--c", type=MatrixParam(), help="The previous cell c_{t−1}, H (default 0).")
@click.option("--xs", type=MatrixParam(), help="A sequence, T×D: run T steps.")
@_gate_options
@click.option(
    "--torch-weights",
    type=NamedArraysParam(),
    help="@file.npz of a PyTorch LSTMCell: weight_ih, weight_hh, bias_ih, bias_hh "
    "(gates stacked i, f, g, o).",
)
@click.option(
    "--weights",
    type=NamedArraysParam(),
    help="@file.npz|json with arrays named after the options (x, h, c, xs, wxi, ...).",
)
@click.option(
    "--random",
    "random_shape",
    metavar="D,H",
    help="Random weights (PyTorch's initialisation), x, h and c.",
)
@seed_option
@click.option(
    "--tol",
    type=float,
    default=0.05,
    show_default=True,
    help="How near 0 or 1 a gate must be to name a case.",
)
@click.option(
    "--at",
    "at_step",
    type=IntParam(),
    metavar="t",
    help="The step written out unit by unit (default: the last).",
)
@unit_and_rows_options
def lstm_step(torch_weights, weights, random_shape, seed, tol, at_step, unit, **given) -> Report:
    """One step (or --xs, a sequence) of an LSTM cell, gate by gate.

    \b
    i = σ(W_xi x + W_hi h + b_i)      f = σ(W_xf x + W_hf h + b_f)
    g = tanh(W_xg x + W_hg h + b_g)   o = σ(W_xo x + W_ho h + b_o)
    c_t = f ⊙ c_{t−1} + i ⊙ g         h_t = o ⊙ tanh(c_t)

    Names the cases where they occur: f ≈ 1 with i ≈ 0 (the cell state is
    carried over unchanged), f ≈ 0 (the cell forgets), o ≈ 0 (the state is
    kept but hidden from h). With --torch-weights the result equals PyTorch's
    float64 LSTMCell.

    \b
    Examples:
      cnnrnn lstm-step --example
      cnnrnn lstm-step --random 4,8 --seed 0
      cnnrnn lstm-step --torch-weights @cell.npz --x "1 2 3" --h "0 0 0 0"
    """
    from cnnrnn_cli import api

    seed_goes_with(bool(random_shape), seed)
    refuse_gates_beside(torch_weights, given, weights, LSTM_GATES)
    if given["x"] is not None and given["xs"] is not None:
        raise click.UsageError("give --x (one step) or --xs (a sequence), not both")
    gates = {k: given.pop(k) for k in LSTM_GATES}
    res = api.lstm_step(
        **given,
        **gates,
        tol=tol,
        torch_weights=torch_weights,
        weights=weights,
        random=random_shape,
        seed=seed,
    )
    within_steps(at_step, res.T, unit, res.H)
    result = {"i": res.i, "f": res.f, "g": res.g, "o": res.o, "c": res.c, "h": res.h}
    params = {
        "D": res.x.shape[1],
        "H": res.H,
        "T": res.T,
        "sequence": res.sequence,
        "tol": tol,
        "torch_weights": torch_weights is not None,
        "random": random_shape is not None,
        "seed": res.seed,
    }
    return Report(
        "lstm-step",
        params,
        result,
        extra={"cases": _cases_json(res)},
        trace=res,
        explainer="cnnrnn_cli.explain.lstm",
        plain=list(result.items()),
        at=((at_step or res.T) - 1, unit - 1),
    )


def _cases_json(res) -> list | dict:
    """The named cases, units 1-based: one dict, or one per step for a sequence."""
    cases = [{k: [u + 1 for u in units] for k, units in step.items()} for step in res.cases]
    return cases if res.sequence else cases[0]
