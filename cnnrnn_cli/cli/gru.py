"""`cnnrnn gru-step`: one GRU step, or a sequence, gate by gate."""

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
from cnnrnn_cli.vocabulary import GRU_GATES

# Three units, one in each of the notes' cases: z ≈ 0, r ≈ 0, z ≈ 1.
EXAMPLE = (
    '--x 1 --h "0.5 -0.5 0.8" --wxz "0; 0; 0" --whz "0 0 0; 0 0 0; 0 0 0" '
    '--bz "-6 0 6" --wxr "0; 0; 0" --whr "0 0 0; 0 0 0; 0 0 0" --br "0 -6 0" '
    '--wxh "1; 0.5; -1" --whh "0.5 0 0; 0 0.5 0; 0 0 0.5"'
)


def _gate_options(fn):
    helps = {
        "wxz": "W_xz, H×D",
        "whz": "W_hz, H×H",
        "bz": "b_z, H",
        "wxr": "W_xr, H×D",
        "whr": "W_hr, H×H",
        "br": "b_r, H",
        "wxh": "W_xh, H×D",
        "whh": "W_hh, H×H",
        "bh": "b_h, H",
        "bhh": "b_hh, H: a bias inside the reset product (PyTorch's b_hn)",
    }
    for name in reversed(GRU_GATES):
        fn = click.option(f"--{name}", type=MatrixParam(), help=helps[name])(fn)
    return fn


@report_command(
    example=EXAMPLE,
    replaces={
        "xs": ("x",),
        "x": ("xs",),
        "random_shape": ("x", "h", *GRU_GATES),
        "torch_weights": GRU_GATES,
        "weights": ("x", "h", *GRU_GATES),
    },
)
@click.option("--x", type=MatrixParam(), help="The input x_t, D values.")
@click.option("--h", type=MatrixParam(), help="The previous state h_{t−1}, H (default 0).")
@click.option("--xs", type=MatrixParam(), help="A sequence, T×D: run T steps.")
@_gate_options
@click.option(
    "--reset-after/--reset-before",
    default=True,
    show_default=True,
    help="r ⊙ (W_hh h + b_hh) (PyTorch, Keras) or W_hh (r ⊙ h) (the paper, d2l).",
)
@click.option(
    "--z-keeps",
    type=click.Choice(["old", "new"]),
    default="old",
    show_default=True,
    help="old: z = 1 keeps h_{t−1} (the notes, PyTorch); new: z = 1 takes h̃.",
)
@click.option(
    "--torch-weights",
    type=NamedArraysParam(),
    help="@file.npz of a PyTorch GRUCell: weight_ih, weight_hh, bias_ih, bias_hh.",
)
@click.option(
    "--weights",
    type=NamedArraysParam(),
    help="@file.npz|json with arrays named after the options (x, h, xs, wxz, ...).",
)
@click.option(
    "--random",
    "random_shape",
    metavar="D,H",
    help="Random weights (PyTorch's initialisation), x and h.",
)
@seed_option
@click.option(
    "--tol",
    type=float,
    default=0.05,
    show_default=True,
    help="How near 0 or 1 a gate must be to name the notes' cases.",
)
@click.option(
    "--at",
    "at_step",
    type=IntParam(),
    metavar="t",
    help="The step written out, gate by gate and unit by unit (default: the formulas "
    "at step 1, the table at the last).",
)
@unit_and_rows_options
def gru_step(
    reset_after, z_keeps, torch_weights, weights, random_shape, seed, tol, at_step, unit, **given
) -> Report:
    """One step (or --xs, a sequence) of a gated recurrent unit, gate by gate.

    \b
    z = σ(W_xz x + W_hz h + b_z)      r = σ(W_xr x + W_hr h + b_r)
    h̃ = tanh(W_xh x + r ⊙ (W_hh h + b_hh) + b_h)
    h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃

    Shows every given value, each gate of one unit with its numbers (--unit u,
    --at t), and the gates unit by unit. Names the notes' three cases where they occur: z ≈ 0 (the
    candidate takes over: 'only short-term memory'), r ≈ 0 (the candidate
    ignores the past: 'only long-term memory'), z ≈ 1 (the state is carried
    over unchanged; the notes' 'no memory'). With --torch-weights the result
    equals PyTorch's float64 GRUCell. A --random case without --seed chooses
    one and prints it (JSON params.seed).

    \b
    Examples:
      cnnrnn gru-step --example
      cnnrnn gru-step --random 4,8 --seed 0
      cnnrnn gru-step --torch-weights @cell.npz --x "1 2 3" --h "0 0 0 0"
    """
    from cnnrnn_cli import api

    seed_goes_with(bool(random_shape), seed)
    refuse_gates_beside(torch_weights, given, weights, GRU_GATES)
    if torch_weights is not None:
        if not reset_after or z_keeps != "old":
            raise click.UsageError(
                "--torch-weights is PyTorch's GRUCell: reset after, "
                "z keeps the old state; drop --reset-before / --z-keeps new"
            )
    if given["x"] is not None and given["xs"] is not None:
        raise click.UsageError("give --x (one step) or --xs (a sequence), not both")
    gates = {k: given.pop(k) for k in GRU_GATES}
    res = api.gru_step(
        **given,
        **gates,
        reset_after=reset_after,
        z_keeps=z_keeps,
        tol=tol,
        torch_weights=torch_weights,
        weights=weights,
        random=random_shape,
        seed=seed,
    )
    within_steps(at_step, res.x.shape[0], unit, res.h_prev.shape[1])
    result = {"z": res.z, "r": res.r, "h_tilde": res.h_tilde, "h": res.h}
    params = {
        "D": res.x.shape[1],
        "H": res.h_prev.shape[1],
        "T": res.x.shape[0],
        "sequence": res.sequence,
        "reset_after": reset_after,
        "z_keeps": z_keeps,
        "tol": tol,
        "torch_weights": torch_weights is not None,
        "random": random_shape,
        "seed": res.seed,
    }
    return Report(
        "gru-step",
        params,
        result,
        extra={"cases": _cases_json(res)},
        trace=res,
        explainer="cnnrnn_cli.explain.gru",
        plain=list(result.items()),
        at=(None if at_step is None else at_step - 1, unit - 1),
    )


def _cases_json(res) -> list | dict:
    """The notes' cases, units 1-based: one dict, or one per step for a sequence."""
    cases = [{k: [u + 1 for u in units] for k, units in step.items()} for step in res.cases]
    return cases if res.sequence else cases[0]
