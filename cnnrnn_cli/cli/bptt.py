"""`cnnrnn bptt`: an RNN's forward pass, backpropagation through time, and the verdict."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import (
    SEED,
    IntParam,
    MatrixParam,
    NamedArraysParam,
    seed_goes_with,
)
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.report import Report
from cnnrnn_cli.vocabulary import ACTIVATION_NAMES

ARRAYS = ("xs", "wx", "wh", "b", "h0", "wy", "by", "y", "targets")
# The notes' setting in scalars: W_h^α is then w_h^α.
EXAMPLE = '--xs "1 0.5 -0.5 1" --wx 0.5 --wh 0.8 --b 0 --y 0.5'


FLOAT_LOG10 = (-307.0, 308.0)  # log₁₀ of the norms float64 holds at full precision


def in_range(values, log10_values) -> list:
    """Each value, or None where its true value (given by its log₁₀) is beyond float64:
    an underflow would read 0 and an overflow the clipped maximum. An exact 0 stays 0."""
    lo, hi = FLOAT_LOG10
    return [
        float(v) if lg == float("-inf") or lo <= lg <= hi else None
        for v, lg in zip(values.tolist(), log10_values.tolist(), strict=True)
    ]


def log10_list(log10_values) -> list:
    """log₁₀ of each value; None for an exact 0 (its log₁₀ is −∞, which JSON cannot hold)."""
    return [None if v == float("-inf") else float(v) for v in log10_values.tolist()]


@report_command(example=EXAMPLE, replaces={"random_shape": ARRAYS, "weights": ARRAYS})
@click.option("--xs", type=MatrixParam(), help="The inputs, T×D (row t is x_t).")
@click.option("--wx", type=MatrixParam(), help="W_x, H×D.")
@click.option("--wh", type=MatrixParam(), help="W_h, H×H.")
@click.option("--b", type=MatrixParam(), help="b, H values (default zeros).")
@click.option("--h0", type=MatrixParam(), help="h_0, H values (default zeros).")
@click.option("--wy", type=MatrixParam(), help="Readout W_y, O×H (without it L is on h_T).")
@click.option("--by", type=MatrixParam(), help="Readout bias b_y, O values.")
@click.option("--y", type=MatrixParam(), help="The target y (default 0).")
@click.option(
    "--targets", type=MatrixParam(), help="Many-to-many targets, T×O: L = Σ_t ½‖ŷ_t − y_t‖²."
)
@click.option(
    "--activation", type=click.Choice(ACTIVATION_NAMES), default="tanh", show_default=True
)
@click.option(
    "--tol", type=float, default=1e-9, show_default=True, help="|ρ − 1| within this is 'neutral'."
)
@click.option("--lr", type=float, metavar="ALPHA", help="Show one SGD step with this rate α.")
@click.option(
    "--weights",
    type=NamedArraysParam(),
    help="@file.npz or @file.json with arrays named xs, wx, wh, b, h0, wy, by, y, "
    "targets (options given explicitly win).",
)
@click.option(
    "--random",
    "random_shape",
    metavar="T,D,H",
    help="A random case: W_h = σ·Q (Q orthogonal, so ρ = σ), W_x of variance 1/D.",
)
@click.option("--seed", type=SEED, help="Seed for --random.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="σ for --random.")
@click.option(
    "--check",
    is_flag=True,
    help="Compare every gradient with central finite differences; the worst entry is named "
    "1-based, as every position the tool prints (wh[2,3]: row 2, column 3).",
)
@click.option(
    "--at",
    "at_step",
    type=IntParam(),
    metavar="t",
    help="The step whose formulas are written out with their numbers: the forward step "
    "(default t = 1), the backward step (default t = T) and the chain ∂h_T/∂h_t "
    "(default t = 1).",
)
@click.option(
    "--steps",
    type=IntParam(minimum=2),
    default=12,
    show_default=True,
    help="Rows shown in the time tables before they are summarised.",
)
def bptt(
    activation, tol, lr, weights, random_shape, seed, scale, check, at_step, **given
) -> Report:
    """A many-to-one RNN: forward pass, BPTT, and why gradients vanish or explode.

    h_t = f(W_x x_t + W_h h_{t−1} + b), ŷ = W_y h_T + b_y (or h_T), L = ½‖ŷ − y‖².
    Shows the forward and backward tables, each step's term of ∂L/∂W_h, the
    Jacobians ∂h_{t+1}/∂h_t = diag(f'(·)) W_h and the norms of their products, the
    eigenvalues of W_h = T Σ T⁻¹ and the verdict, and the bound
    ‖∂h_T/∂h_t‖ ≤ (γ·σ_max)^(T−t) that always holds.

    JSON regime is the notes' verdict from ρ(W_h) (exact only for a linear
    chain: with an activation ρ > 1 means gradients may explode; γ·σ_max > 1 is
    necessary for that, γ·σ_max < 1 guarantees vanishing). measured_regime is
    what the norms did: the geometric mean factor a step,
    g = ‖∂h_T/∂h_1‖^(1/(T−1)), below 1 − max(tol, 0.001) is vanishing, above
    1 + that exploding, else neutral (null for T = 1). A norm beyond float64
    (below ~1e-307 or above ~1e308) is null in jacobian_norms and bound, and
    always given in jacobian_norms_log10 and bound_log10. A --random case
    without --seed chooses one and prints it (JSON params.seed).

    \b
    Examples:
      cnnrnn bptt --example
      cnnrnn bptt --random 50,4,8 --seed 0 --scale 0.5     # vanishing
      cnnrnn bptt --random 50,4,8 --seed 0 --scale 2 --activation identity
    """
    from cnnrnn_cli import api

    seed_goes_with(bool(random_shape), seed)
    from cnnrnn_cli.cli.progress import bar

    with bar():  # a transient progress bar on a terminal's stderr, for long work
        res = api.bptt(
            **given,
            activation=activation,
            tol=tol,
            lr=lr,
            weights=weights,
            random=random_shape,
            seed=seed,
            scale=scale,
            check=check,
        )
    if at_step is not None and at_step > res.T:
        raise InputError("at", f"t = {at_step} is beyond T = {res.T}")
    result = {
        "h": res.h,
        "y_hat": res.y_hat,
        "loss": res.loss,
        "grads": res.grads,
        # float64 cannot hold a norm below ~1e-308 or above ~1.8e308: such a norm is null
        # here, never a fake 0 or a clipped maximum, and its log₁₀ is always given
        "jacobian_norms": in_range(res.jacobian_norms, res.log10_norms),
        "jacobian_norms_log10": log10_list(res.log10_norms),
        "eigenvalues": res.eigenvalues,
        "spectral_radius": res.spectral_radius,
        "singular_max": res.singular_max,
        "diagonalizable": res.diagonalizable,
        "regime": res.regime,
        "measured_regime": res.measured_regime,
        "bound": in_range(res.bound, res.log10_bound),
        "bound_log10": log10_list(res.log10_bound),
        "wh_contributions": res.wh_contributions,
    }
    if res.updated is not None:
        result["updated"] = res.updated
    if res.check_error is not None:
        result["check_error"] = res.check_error
    params = {
        "T": res.T,
        "D": res.rnn.xs.shape[1],
        "H": res.rnn.wh.shape[0],
        "activation": activation,
        "readout": res.rnn.wy is not None,
        "many_to_many": res.many_to_many,
        "lr": lr,
        "tol": tol,
        "random": random_shape,
        "seed": res.seed,
        "scale": scale if random_shape else None,
    }
    return Report(
        "bptt",
        params,
        result,
        trace=res,
        explainer="cnnrnn_cli.explain.bptt",
        warnings=res.warnings,
        at=None if at_step is None else (at_step - 1,),
    )
