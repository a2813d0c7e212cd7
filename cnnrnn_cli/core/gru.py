"""A gated recurrent unit, one step or a sequence, in the notes' convention.

    z   = σ(W_xz x + W_hz h + b_z)                       update gate
    r   = σ(W_xr x + W_hr h + b_r)                       reset gate
    h̃   = tanh(W_xh x + r ⊙ (W_hh h + b_hh) + b_h)       reset after W_hh (PyTorch, Keras)
        = tanh(W_xh x + W_hh (r ⊙ h) + b_hh + b_h)       reset before (the paper, d2l)
    h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃                      z keeps the old state (the notes)
        = (1 − z) ⊙ h_{t−1} + z ⊙ h̃                      --z-keeps new

PyTorch's GRUCell is reset-after with z keeping the old state; its stacked arrays
(gates r, z, n) map onto these names by `from_torch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli.core.activations import sigmoid
from cnnrnn_cli.core.cells import gate_arrays, torch_blocks, uniform_gates
from cnnrnn_cli.errors import InputError, ShapeError, shape_str
from cnnrnn_cli.vocabulary import GRU_GATES as GATES


@dataclass
class GRUResult:
    """z, r, h_tilde, h: (H,) for one step, (T, H) for a sequence (one row a step).

    Trace: x (T, D); h_prev (T, H) the state each step starts from; a_z, a_r, a_h (T, H)
    the pre-activations; gh (T, H) the candidate's recurrent part before (reset after) or
    after (reset before) the reset gate; cases: per step, the units in each of the notes'
    three cases.
    """

    z: np.ndarray
    r: np.ndarray
    h_tilde: np.ndarray
    h: np.ndarray
    x: np.ndarray
    h_prev: np.ndarray
    a_z: np.ndarray
    a_r: np.ndarray
    a_h: np.ndarray
    weights: dict
    sequence: bool = False
    reset_after: bool = True
    z_keeps: str = "old"
    tol: float = 0.05
    gh: np.ndarray | None = (
        None  # (T, H) W_hh h_{t−1} + b_hh (reset after), W_hh (r ⊙ h_{t−1}) + b_hh (before)
    )
    seed: int | None = None  # the seed of a random case (chosen when none was given)
    _cases: list | None = field(default=None, repr=False)

    @property
    def cases(self) -> list[dict]:
        """Per step, the units (0-based) in each of the notes' three cases."""
        if self._cases is None:
            self._cases = [
                notes_cases(z, r, self.z_keeps, self.tol)
                for z, r in zip(np.atleast_2d(self.z), np.atleast_2d(self.r), strict=True)
            ]
        return self._cases

    @property
    def keep(self) -> np.ndarray:
        """The share of h_{t−1} kept: z (the notes) or 1 − z (--z-keeps new). (T, H)"""
        z = np.atleast_2d(self.z)
        return z if self.z_keeps == "old" else 1 - z


def make_weights(hidden: int, dim: int, given: dict) -> dict:
    """Every gate array checked against H and D (biases default to zeros)."""
    return gate_arrays(GATES, hidden, dim, given, f"H = {hidden} from h, D = {dim} from x")


def hidden_size(given: dict, h) -> int:
    """H from h when given, else from W_hz (rows)."""
    if h is not None:
        return int(np.asarray(h).size)
    for name in ("whz", "whr", "whh"):
        if given.get(name) is not None:
            return int(np.atleast_2d(given[name]).shape[0])
    raise InputError("h", "cannot tell the hidden size H: give --h or --whz")


def from_torch(arrays: dict) -> dict:
    """PyTorch GRUCell arrays (gates stacked r, z, n) -> the notes' names.

    weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,):
    b_r = b_ir + b_hr, b_z = b_iz + b_hz, b_h = b_in and b_hh = b_hn (inside r ⊙ (·)).
    """
    _, (w_ir, w_iz, w_in), (w_hr, w_hz, w_hn), (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = (
        torch_blocks(arrays, 3)
    )
    return dict(
        wxr=w_ir,
        wxz=w_iz,
        wxh=w_in,
        whr=w_hr,
        whz=w_hz,
        whh=w_hn,
        br=b_ir + b_hr,
        bz=b_iz + b_hz,
        bh=b_in,
        bhh=b_hn,
    )


def gru_step(
    x=None, h=None, *, xs=None, reset_after=True, z_keeps="old", tol=0.05, **weights
) -> GRUResult:
    """One GRU step from x (D,) and h (H,), or T steps over xs (T, D).

    weights: wxz, whz, bz, wxr, whr, br, wxh, whh, bh, bhh (biases default to 0).
    """
    if z_keeps not in ("old", "new"):
        raise InputError("z-keeps", f"expected old or new, got {z_keeps!r}")
    if not 0 <= tol < 0.5:
        raise InputError("tol", f"must be in [0, 0.5), got {tol}")
    unknown = sorted(set(weights) - set(GATES))
    if unknown:
        raise InputError("weights", f"unknown array(s) {', '.join(unknown)}")
    if (x is None) == (xs is None):
        raise InputError("x", "give either x (one step) or xs (a sequence), exactly one")
    hidden = hidden_size(weights, h)
    if xs is not None:
        seq = np.asarray(xs, dtype=np.float64)
        wxz = weights.get("wxz")
        dim = (
            np.atleast_2d(wxz).shape[1]
            if wxz is not None
            else (seq.shape[1] if seq.ndim == 2 else 1)
        )
        if seq.ndim <= 1 or (seq.ndim == 2 and seq.shape[1] != dim and dim == 1):
            seq = seq.reshape(-1, 1)  # a plain list: T scalar inputs
        if seq.ndim != 2:
            raise ShapeError("xs", f"expected T×D, got {shape_str(seq.shape)}")
    else:
        seq = np.asarray(x, dtype=np.float64).reshape(1, -1)
    dim = seq.shape[1]
    w = make_weights(hidden, dim, weights)
    h0 = np.zeros(hidden) if h is None else np.asarray(h, dtype=np.float64).reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        result = _run(seq, h0, w, reset_after, z_keeps)
    result.sequence, result.tol = xs is not None, tol
    if xs is None:
        result.z, result.r, result.h_tilde, result.h = (
            a[0] for a in (result.z, result.r, result.h_tilde, result.h)
        )
    return result


def _run(xs: np.ndarray, h0: np.ndarray, w: dict, reset_after: bool, z_keeps: str) -> GRUResult:
    """The recurrence. The input GEMM is hoisted out of the time loop; for a sequence the
    recurrent products are one stacked GEMV a step, and every element-wise step writes
    into preallocated rows (a step costs one GEMV and a dozen small ufuncs)."""
    hidden, T = h0.size, xs.shape[0]
    two = 2 * hidden
    inputs = np.empty((T, 3 * hidden))  # W_x· x_t + b·
    for k, (m, b) in enumerate(((w["wxz"], w["bz"]), (w["wxr"], w["br"]), (w["wxh"], w["bh"]))):
        block = inputs[:, k * hidden : (k + 1) * hidden]
        np.matmul(xs, m.T, out=block)
        block += b
    recurrent = [w["whz"], w["whr"]] + ([w["whh"]] if reset_after else [])
    stacked = np.vstack(recurrent) if T > 1 else None  # one step: stacking costs more
    a_zr, zr = np.empty((T, two)), np.empty((T, two))
    h_tilde, h, h_prev, a_h, gh = (np.empty((T, hidden)) for _ in range(5))
    rec = np.empty(len(recurrent) * hidden)
    tmp = np.empty(hidden)
    state = h0
    for t in range(T):
        h_prev[t] = state
        if stacked is not None:
            np.matmul(stacked, state, out=rec)
        else:
            for k, m in enumerate(recurrent):
                np.matmul(m, state, out=rec[k * hidden : (k + 1) * hidden])
        np.add(inputs[t, :two], rec[:two], out=a_zr[t])
        sigmoid(a_zr[t], out=zr[t])  # z, r = σ(a_z), σ(a_r)
        r = zr[t, hidden:]
        if reset_after:  # r ⊙ (W_hh h + b_hh)
            np.add(rec[two:], w["bhh"], out=gh[t])
            np.multiply(gh[t], r, out=tmp)
        else:  # W_hh (r ⊙ h) + b_hh
            np.matmul(w["whh"], r * state, out=gh[t])
            gh[t] += w["bhh"]
            tmp[:] = gh[t]
        np.add(inputs[t, two:], tmp, out=a_h[t])
        np.tanh(a_h[t], out=h_tilde[t])
        keep = zr[t, :hidden] if z_keeps == "old" else 1 - zr[t, :hidden]
        np.subtract(state, h_tilde[t], out=tmp)  # h = h̃ + keep ⊙ (h_{t−1} − h̃)
        tmp *= keep
        np.add(h_tilde[t], tmp, out=h[t])
        state = h[t]
    return GRUResult(
        z=zr[:, :hidden],
        r=zr[:, hidden:],
        h_tilde=h_tilde,
        h=h,
        x=xs,
        h_prev=h_prev,
        a_z=a_zr[:, :hidden],
        a_r=a_zr[:, hidden:],
        a_h=a_h,
        gh=gh,
        weights=w,
        reset_after=reset_after,
        z_keeps=z_keeps,
    )


def notes_cases(z: np.ndarray, r: np.ndarray, z_keeps: str, tol: float) -> dict:
    """Units (0-based) in each of the notes' three cases, for one step.

    'takes_over': the candidate takes over (z ≈ 0 in the notes' convention);
    'ignores_past': r ≈ 0, the candidate ignores h_{t−1};
    'carried_over': z ≈ 1, h_t ≈ h_{t−1} (the notes call this "no memory"; it is the
    opposite: the old state is kept entirely).
    """
    keep = z if z_keeps == "old" else 1 - z
    return {
        "takes_over": np.flatnonzero(keep <= tol).tolist(),
        "ignores_past": np.flatnonzero(r <= tol).tolist(),
        "carried_over": np.flatnonzero(keep >= 1 - tol).tolist(),
    }


def random_weights(dim: int, hidden: int, seed: int | None) -> dict:
    """PyTorch's initialisation: every entry U(−1/√H, 1/√H); x, h ~ N(0, 1)."""
    for name, value in (("D", dim), ("H", hidden)):
        if value < 1:
            raise InputError("random", f"{name} must be 1 or more, got {value}")
    from cnnrnn_cli import budget

    budget.check_shape((hidden, hidden), "random", "each W_h gate matrix")
    budget.check(3 * hidden * (dim + hidden), "random", "the random weights")
    rng = np.random.default_rng(seed)
    arrays = uniform_gates(rng, GATES, dim, hidden)
    arrays["x"] = rng.standard_normal(dim)
    arrays["h"] = rng.standard_normal(hidden)
    return arrays
