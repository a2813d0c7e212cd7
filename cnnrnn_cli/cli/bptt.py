"""`cnnrnn bptt`: an RNN's forward pass, backpropagation through time, and the verdict."""

from __future__ import annotations

import click

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.gru import _gate_options as gru_gate_options
from cnnrnn_cli.cli.lstm import _gate_options as lstm_gate_options
from cnnrnn_cli.cli.params import (
    IntParam,
    MatrixParam,
    NamedArraysParam,
    seed_goes_with,
    seed_option,
    within_steps,
)
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.report import Report
from cnnrnn_cli.vocabulary import ACTIVATION_NAMES

ARRAYS = ("xs", "wx", "wh", "b", "h0", "wy", "by", "y", "targets")
# The notes' setting in scalars: W_h^α is then w_h^α.
EXAMPLE = '--xs "1 0.5 -0.5 1" --wx 0.5 --wh 0.8 --b 0 --y 0.5'
# --example --compare: 50 steps where the RNN's gradient vanishes (it loses 24 powers of ten
# from h_50 back to h_1) and the gated cells', with a forget (update) gate bias of 3, lose
# 1.1 (GRU) and 1.7 (LSTM): chosen by computing them (tests/test_gated_bptt_cli.py).
COMPARE_EXAMPLE = "--compare --random 50,4,16 --seed 0 --scale 0.5 --forget-bias 3"


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


@report_command(
    example=EXAMPLE,
    examples={"compare": COMPARE_EXAMPLE},
    replaces={"random_shape": ARRAYS, "weights": ARRAYS},
)
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
    "--tol",
    type=float,
    help="rnn: |ρ − 1| within this is 'neutral' (default 1e-9); gru, lstm: how near 0 or 1 "
    "a gate is to name a case (default 0.05).",
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
@seed_option
@click.option("--scale", type=float, default=1.0, show_default=True, help="σ for --random.")
@click.option(
    "--cell",
    type=click.Choice(["rnn", "gru", "lstm"]),
    default="rnn",
    show_default=True,
    help="The recurrent cell: gru and lstm take gru-step's and lstm-step's weights (through "
    "--weights, --torch-weights or --random).",
)
@click.option(
    "--compare",
    is_flag=True,
    help="rnn, gru and lstm on the same inputs and hidden size: their ‖∂L/∂h_t‖ side by side "
    "(with --random, one seed; else every cell's weights in --weights).",
)
@click.option(
    "--truncate",
    type=IntParam(),
    metavar="K",
    help="Truncated BPTT: each loss reaches back K steps (h_{T−K} is a constant).",
)
@click.option(
    "--clip",
    type=float,
    metavar="θ",
    help="Gradient-norm clipping: every gradient times min(1, θ/‖g‖), ‖g‖ over the "
    "parameters (not h0).",
)
@click.option(
    "--reset-after/--reset-before",
    default=True,
    show_default=True,
    help="gru: r ⊙ (W_hh h + b_hh) (PyTorch) or W_hh (r ⊙ h) (d2l).",
)
@click.option(
    "--z-keeps",
    type=click.Choice(["old", "new"]),
    default="old",
    show_default=True,
    help="gru: z = 1 keeps h_{t−1} (old: the notes, PyTorch) or takes h̃ (new).",
)
@click.option(
    "--torch-weights",
    type=NamedArraysParam(),
    help="gru, lstm: @file.npz of a PyTorch GRUCell/LSTMCell (weight_ih, weight_hh, "
    "bias_ih, bias_hh).",
)
@click.option("--c0", type=MatrixParam(), help="lstm: c_0, H values (default zeros).")
@gru_gate_options
@lstm_gate_options
@click.option(
    "--forget-bias",
    type=float,
    metavar="B",
    help="With --random: add B to the LSTM's b_f and the GRU's b_z (the gate that keeps the "
    "old state; Keras's unit_forget_bias adds 1).",
)
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
    activation,
    tol,
    lr,
    weights,
    random_shape,
    seed,
    scale,
    check,
    at_step,
    cell,
    compare,
    truncate,
    clip,
    reset_after,
    z_keeps,
    torch_weights,
    c0,
    forget_bias,
    **given,
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
    --cell gru|lstm runs the same task through a gated cell (grads under
    gru-step's and lstm-step's names, h0 and c0 too); --compare runs all three.
    JSON grad_norms is ‖∂L/∂h_t‖ (t = 1..T), cell_grad_norms ‖∂L/∂c_t‖ (lstm),
    input_grad_norms ‖∂L/∂x_t‖; with --clip, grad_norm (‖g‖ before clipping) and
    clipped; --compare gives result.compare, one {cell, loss, grad_norms,
    input_grad_norms} a cell. --example --compare is its own 50-step example.

    \b
    Examples:
      cnnrnn bptt --example
      cnnrnn bptt --random 50,4,8 --seed 0 --scale 0.5     # vanishing
      cnnrnn bptt --random 50,4,8 --seed 0 --scale 2 --activation identity
      cnnrnn bptt --cell gru --random 20,2,4 --seed 0 --at 5
      cnnrnn bptt --example --compare
    """
    from cnnrnn_cli import api

    seed_goes_with(bool(random_shape), seed)
    from cnnrnn_cli.cli.progress import bar

    gated = compare or cell != "rnn" or truncate is not None or clip is not None
    if not gated:
        for name, value in (("reset-before", not reset_after), ("z-keeps", z_keeps != "old")):
            if value:
                raise InputError(name, "goes with --cell gru (or --compare)")
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
            cell=cell,
            compare=compare,
            truncate=truncate,
            clip=clip,
            reset_after=reset_after,
            z_keeps=z_keeps,
            torch_weights=torch_weights,
            c0=c0,
            forget_bias=forget_bias,
        )
    if gated:
        return _gated_report(res, at_step, activation, lr, random_shape, scale, compare)
    within_steps(at_step, res.T)
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
        "grad_norms": res.grad_norms,
        "input_grad_norms": res.input_grad_norms,
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
        "tol": res.tol,
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


def _cell_result(res, jacobian_at: int | None) -> dict:
    """One cell's JSON `result`."""
    out = {"h": res.h}
    if res.c is not None:
        out["c"] = res.c
    out |= {
        "y_hat": res.y_hat,
        "loss": res.loss,
        "grads": res.grads,
        "grad_norms": res.grad_norms,
    }
    if res.cell_grad_norms is not None:
        out["cell_grad_norms"] = res.cell_grad_norms
    out |= {"input_grad_norms": res.input_grad_norms, "grad_norm": res.grad_norm}
    if jacobian_at is not None and res.cell == "gru":
        out["jacobian"] = res.gru_jacobian(jacobian_at).matrix
    if jacobian_at is not None and res.cell == "lstm":
        out["cell_jacobian"] = res.lstm_jacobian(jacobian_at).total
    if res.clipped is not None:
        out["clipped"] = res.clipped
    if res.updated is not None:
        out["updated"] = res.updated
    if res.check_error is not None:
        out["check_error"] = res.check_error
    return out


def _gated_report(res, at_step, activation, lr, random_shape, scale, compare) -> Report:
    """The Report of --cell gru|lstm, --truncate, --clip or --compare."""
    first = res.results[0] if compare else res
    within_steps(at_step, first.T)
    at = first.T - 1 if at_step is None else at_step - 1
    params = {
        "cell": "compare" if compare else res.cell,
        "T": first.T,
        "D": first.xs.shape[1],
        "H": first.H,
        "activation": activation,
        "readout": first.wy is not None,
        "many_to_many": first.many_to_many,
        "truncate": first.truncate,
        "clip": first.clip,
        "lr": lr,
        "tol": first.tol,
        "random": random_shape,
        "seed": res.seed,
        "scale": scale if random_shape else None,
    }
    if first.cell == "gru" or compare:
        params["reset_after"], params["z_keeps"] = first.reset_after, first.z_keeps
    if compare:
        result = {
            "compare": [
                {
                    "cell": r.cell,
                    "loss": r.loss,
                    "grad_norms": r.grad_norms,
                    "input_grad_norms": r.input_grad_norms,
                }
                for r in res.results
            ]
        }
        warnings = res.results[0].warnings
    else:
        result = _cell_result(res, at)
        warnings = res.warnings
    return Report(
        "bptt",
        params,
        result,
        trace=res,
        explainer="cnnrnn_cli.explain.gated_bptt",
        warnings=warnings,
        at=(at,),
    )
