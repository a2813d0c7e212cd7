"""Backpropagation through time for any cell (rnn, gru, lstm), with truncation and clipping.

The forward pass is the step commands' own (`core.bptt.forward`, `core.gru._run`,
`core.lstm._run`: their input GEMMs are hoisted out of the time loop). The loss is the
plain RNN's: a readout ŷ_t = W_y h_t + b_y (or ŷ_t = h_t) at T (many-to-one) or at every
step (many-to-many), L = Σ ½‖ŷ − y‖².

Backward, the only loop runs over time: each cell has a vector-Jacobian product of one
step (`_Cell.back`) that maps ∂L/∂h_t (and ∂L/∂c_t) to the gradients of the step's
pre-activations and to ∂L/∂h_{t−1} (∂L/∂c_{t−1}); the parameter and input gradients are
then one GEMM each over all steps (hoisted out of the loop, as the forward's input GEMM).

Truncation (`truncate=K`, d2l's truncated BPTT): a loss L_s reaches back through at most K
steps, s−K+1..s; h_{s−K} (c_{s−K}) is a constant for it (detached, as PyTorch's
`h.detach()`: no gradient of L_s reaches it). h_0 is an input, not a cut state: it receives
the gradient of every loss within K steps of it, so that K ≥ T is full BPTT. The backward
pass carries K rows, row j the gradient of L_{t+j}, and drops the row that would go beyond
K steps: one loop over time with K-row GEMMs. Without truncation there is one row (the sum).

Clipping (`clip=θ`): ‖g‖ is the L2 norm over every parameter gradient (not h0, c0); every
gradient is multiplied by min(1, θ/‖g‖).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli import budget, progress
from cnnrnn_cli.core import gru as gru_core
from cnnrnn_cli.core import lstm as lstm_core
from cnnrnn_cli.core.activations import activation as get_activation
from cnnrnn_cli.core.bptt import check_gradients, row_norms
from cnnrnn_cli.errors import InputError, ShapeError, shape_str
from cnnrnn_cli.vocabulary import GRU_GATES, LSTM_GATES

CELLS = ("rnn", "gru", "lstm")
RNN_PARAMS = ("wx", "wh", "b")
STATES = ("h0", "c0")  # initial states: in `grads`, never in ‖g‖ for clipping
PARAMS = {"rnn": RNN_PARAMS, "gru": GRU_GATES, "lstm": LSTM_GATES}
GATE_COUNT = {"rnn": 1, "gru": 4, "lstm": 4}  # columns (×H) of the per-step gate gradients
REPORT_EVERY = 64


# --- the cells: forward, and one step's vector-Jacobian product -----------------------


class _Cell:
    """A forward pass over xs and the backward step of one time step for K rows at once."""

    name = ""
    has_c = False

    def states(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(h (T, H), c (T, H) or None)."""
        raise NotImplementedError

    def back(self, t: int, dh: np.ndarray, dc: np.ndarray | None):
        """(gate gradients (K, G·H), ∂L/∂h_{t−1} (K, H), ∂L/∂c_{t−1} (K, H) or None,
        ∂L/∂c_t in total (K, H) or None) for the K rows of ∂L/∂h_t (dh) and the part of
        ∂L/∂c_t that comes from later steps (dc)."""
        raise NotImplementedError

    def param_grads(self, gates: np.ndarray) -> dict:
        """Every parameter's gradient from the (T, G·H) gate gradients summed over rows."""
        raise NotImplementedError

    def input_grads(self, gates: np.ndarray) -> np.ndarray:
        """(T, D): ∂L/∂x_t."""
        raise NotImplementedError


class _RNN(_Cell):
    name = "rnn"

    def __init__(self, xs, w, h0, activation):
        from cnnrnn_cli.core.bptt import RNN, forward

        self.xs, self.w, self.h0 = xs, w, h0
        f, fprime_of, _ = get_activation(activation)
        self.activation = activation
        self.pre, self.h = forward(RNN(xs, w["wx"], w["wh"], w["b"], h0), f)
        self.fprime = fprime_of(self.pre, self.h)
        self.prev = np.vstack([h0, self.h[:-1]])

    def states(self):
        return self.h, None

    def back(self, t, dh, dc):
        da = dh * self.fprime[t]
        return da, da @ self.w["wh"], None, None

    def param_grads(self, gates):
        return {"wx": gates.T @ self.xs, "wh": gates.T @ self.prev, "b": gates.sum(axis=0)}

    def input_grads(self, gates):
        return gates @ self.w["wx"]


class _GRU(_Cell):
    name = "gru"

    def __init__(self, xs, w, h0, reset_after, z_keeps):
        self.xs, self.w, self.h0 = xs, w, h0
        self.reset_after, self.z_keeps = reset_after, z_keeps
        self.fw = gru_core._run(xs, h0, w, reset_after, z_keeps)
        self.h = self.fw.h
        self.keep = self.fw.keep  # z (the notes) or 1 − z
        recurrent = [w["whz"], w["whr"]] + ([w["whh"]] if reset_after else [])
        self.rec_stack = np.vstack(recurrent)  # (3H or 2H, H)
        # Each step's local derivatives, for every step at once (outside the time loop):
        # h_t = h̃ + k ⊙ (h_{t−1} − h̃), so ∂h_t/∂a_z = ±(h_{t−1} − h̃) ⊙ z(1 − z) and
        # ∂h_t/∂a_h = (1 − k) ⊙ (1 − h̃²); the reset gate's a_r sees g_h (after) or h_{t−1}
        # (before) times r(1 − r)
        fw = self.fw
        budget.check_shape((3, *self.h.shape), "xs", "the GRU's local derivatives (3×T×H)")
        sign = 1.0 if z_keeps == "old" else -1.0
        self.d_z = sign * (fw.h_prev - fw.h_tilde) * fw.z * (1 - fw.z)
        self.d_h = (1 - self.keep) * (1 - fw.h_tilde * fw.h_tilde)
        self.d_r = (fw.gh if reset_after else fw.h_prev) * fw.r * (1 - fw.r)

    def states(self):
        return self.h, None

    def back(self, t, dh, dc):
        """Gate gradients stacked a_z, a_r, g_h (the recurrent product inside the reset:
        W_hh h + b_hh after, W_hh (r ⊙ h) + b_hh before), a_h."""
        hidden = self.h.shape[1]
        out = np.empty((dh.shape[0], 4 * hidden))
        da_z, da_r, dgh, da_h = (out[:, k * hidden : (k + 1) * hidden] for k in range(4))
        np.multiply(dh, self.d_z[t], out=da_z)
        np.multiply(dh, self.d_h[t], out=da_h)
        dprev = dh * self.keep[t]
        r = self.fw.r[t]
        if self.reset_after:  # a_h = W_xh x + r ⊙ g_h + b_h, g_h = W_hh h + b_hh
            np.multiply(da_h, r, out=dgh)
            np.multiply(da_h, self.d_r[t], out=da_r)
            dprev += out[:, : 3 * hidden] @ self.rec_stack
        else:  # a_h = W_xh x + g_h + b_h, g_h = W_hh (r ⊙ h) + b_hh
            dgh[:] = da_h
            d_rh = da_h @ self.w["whh"]  # ∂L/∂(r ⊙ h_{t−1})
            np.multiply(d_rh, self.d_r[t], out=da_r)
            dprev += out[:, : 2 * hidden] @ self.rec_stack
            dprev += d_rh * r
        return out, dprev, None, None

    def param_grads(self, gates):
        """Two GEMMs over every step and gate (W_x· and W_h· gradients), then split."""
        fw, hidden = self.fw, self.h.shape[1]
        by_x = gates.T @ self.xs  # (4H, D): rows a_z, a_r, g_h, a_h
        by_h = gates.T @ fw.h_prev  # (4H, H)
        z, r, gh, h = (slice(k * hidden, (k + 1) * hidden) for k in range(4))
        sums = gates.sum(axis=0)
        return {
            "wxz": by_x[z],
            "whz": by_h[z],
            "bz": sums[z],
            "wxr": by_x[r],
            "whr": by_h[r],
            "br": sums[r],
            "wxh": by_x[h],
            "whh": by_h[gh] if self.reset_after else gates[:, gh].T @ (fw.r * fw.h_prev),
            "bh": sums[h],
            "bhh": sums[gh],
        }

    def input_grads(self, gates):
        hidden, w = self.h.shape[1], self.w
        return gates[:, : 2 * hidden] @ np.vstack([w["wxz"], w["wxr"]]) + (
            gates[:, 3 * hidden :] @ w["wxh"]
        )

    def jacobian(self, t: int) -> np.ndarray:
        """(H, H) ∂h_t/∂h_{t−1} at step t (0-based): the backward step applied to I (row i
        of the result is ∂h_t[i]/∂h_{t−1})."""
        return self.back(t, np.eye(self.h.shape[1]), None)[1]


class _LSTM(_Cell):
    name = "lstm"
    has_c = True

    def __init__(self, xs, w, h0, c0):
        self.xs, self.w, self.h0, self.c0 = xs, w, h0, c0
        self.fw = lstm_core._run(xs, h0, c0, w)
        self.h, self.c = self.fw.states, self.fw.cells
        self.wh = np.vstack([w[f"wh{k}"] for k in lstm_core.GATE_ORDER])  # (4H, H)
        self.wx = np.vstack([w[f"wx{k}"] for k in lstm_core.GATE_ORDER])  # (4H, D)
        # Each step's local derivatives, for every step at once (outside the time loop)
        budget.check_shape((6, *self.h.shape), "xs", "the LSTM's local derivatives (6×T×H)")
        hidden = self.h.shape[1]
        i, f, g, o = (self.fw.gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        tc = np.tanh(self.c)
        self.f = f
        self.d_c = o * (1 - tc * tc)  # h_t = o ⊙ tanh(c_t)
        self.d_i = g * i * (1 - i)  # c_t = f ⊙ c_{t−1} + i ⊙ g
        self.d_f = self.fw.c_prev * f * (1 - f)
        self.d_g = i * (1 - g * g)
        self.d_o = tc * o * (1 - o)

    def states(self):
        return self.h, self.c

    def back(self, t, dh, dc):
        hidden = self.h.shape[1]
        dc_total = dc + dh * self.d_c[t]
        out = np.empty((dh.shape[0], 4 * hidden))
        da_i, da_f, da_g, da_o = (out[:, k * hidden : (k + 1) * hidden] for k in range(4))
        np.multiply(dc_total, self.d_i[t], out=da_i)
        np.multiply(dc_total, self.d_f[t], out=da_f)
        np.multiply(dc_total, self.d_g[t], out=da_g)
        np.multiply(dh, self.d_o[t], out=da_o)
        return out, out @ self.wh, dc_total * self.f[t], dc_total

    def param_grads(self, gates):
        """Two GEMMs over every step and gate (W_x· and W_h· gradients), then split."""
        hidden, g = self.h.shape[1], {}
        by_x, by_h, sums = gates.T @ self.xs, gates.T @ self.fw.h_prev, gates.sum(axis=0)
        for k, gate in enumerate(lstm_core.GATE_ORDER):
            rows = slice(k * hidden, (k + 1) * hidden)
            g[f"wx{gate}"], g[f"wh{gate}"], g[f"b{gate}"] = by_x[rows], by_h[rows], sums[rows]
        return {name: g[name] for name in LSTM_GATES}

    def input_grads(self, gates):
        return gates @ self.wx


# --- the result -------------------------------------------------------------------------


@dataclass
class CellResult:
    """One cell's forward pass and BPTT (the JSON fields, and the trace).

    h: (T, H); c: (T, H) for lstm; y_hat: (O,) or (T, O); grads: name -> array (parameters,
    then h0 and, for lstm, c0); grad_norms: (T,) ‖∂L/∂h_t‖; cell_grad_norms: (T,) ‖∂L/∂c_t‖
    (lstm); input_grad_norms: (T,) ‖∂L/∂x_t‖; grad_norm: ‖g‖ over the parameters;
    clipped: the gradients times min(1, θ/‖g‖) (with clip); updated: one SGD step.
    """

    cell: str
    h: np.ndarray
    y_hat: np.ndarray
    loss: float
    grads: dict
    grad_norms: np.ndarray
    input_grad_norms: np.ndarray
    grad_norm: float
    c: np.ndarray | None = None
    cell_grad_norms: np.ndarray | None = None
    clipped: dict | None = None
    clip_factor: float = 1.0
    updated: dict | None = None
    check_error: float | None = None
    check_worst: str = ""
    check_sampled: bool = False
    # trace
    params: dict = field(default_factory=dict)  # the weights, by option name
    xs: np.ndarray | None = None
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None
    wy: np.ndarray | None = None
    by: np.ndarray | None = None
    targets: np.ndarray | None = None
    many_to_many: bool = False
    truncate: int | None = None
    clip: float | None = None
    lr: float | None = None
    tol: float = 0.05
    activation: str = "tanh"
    reset_after: bool = True
    z_keeps: str = "old"
    forward: object = None  # GRUResult / LSTMResult (gates), or None for rnn
    dh: np.ndarray | None = None  # (T, H) ∂L/∂h_t
    dc: np.ndarray | None = None  # (T, H) ∂L/∂c_t (lstm)
    seed: int | None = None
    warnings: list[str] = field(default_factory=list)
    _cell: object = field(default=None, repr=False)

    @property
    def T(self) -> int:
        return self.h.shape[0]

    @property
    def H(self) -> int:
        return self.h.shape[1]

    def arrays(self) -> dict:
        """The differentiable arrays by name, in the order of `grads`."""
        out = dict(self.params)
        if self.wy is not None:
            out["wy"], out["by"] = self.wy, self.by
        out["h0"] = self.h0
        if self.c0 is not None:
            out["c0"] = self.c0
        return out

    def gru_jacobian(self, t: int) -> GRUJacobian:
        """∂h_t/∂h_{t−1} at step t (0-based) with the gates in it (gru only)."""
        return gru_jacobian(self, t)

    def lstm_jacobian(self, t: int) -> LSTMJacobian:
        """∂c_t/∂c_{t−1} = diag(f_t), and the paths through h (lstm only)."""
        return lstm_jacobian(self, t)


def _targets(targets, y, many: bool, T: int, out_size: int, warnings: list) -> np.ndarray:
    if many:
        tgt = np.asarray(targets, dtype=np.float64)
        tgt = tgt.reshape(-1, 1) if tgt.ndim <= 1 or (tgt.shape[0] == 1 and out_size == 1) else tgt
        if tgt.shape != (T, out_size):
            raise ShapeError(
                "targets", f"is {shape_str(tgt.shape)} but must be T×O = {T}×{out_size}"
            )
        return tgt
    if y is None:
        warnings.append("no target given (--y): y = 0")
        return np.zeros(out_size)
    tgt = np.asarray(y, dtype=np.float64).reshape(-1)
    if tgt.size != out_size:
        raise ShapeError("y", f"has {tgt.size} values but must have {out_size} (O)")
    return tgt


def _readout_shapes(wy, by, hidden: int):
    if wy is None:
        if by is not None:
            raise InputError("by", "a readout bias needs --wy")
        return None, None
    wy = np.asarray(wy, dtype=np.float64)
    wy = wy.reshape(1, -1) if wy.ndim < 2 else wy
    if wy.shape[1] != hidden:
        if wy.shape == (hidden, 1):
            wy = wy.T
        else:
            raise ShapeError(
                "wy", f"W_y is {shape_str(wy.shape)} but must be O×H with H = {hidden}"
            )
    by = np.zeros(wy.shape[0]) if by is None else np.asarray(by, dtype=np.float64).reshape(-1)
    if by.size != wy.shape[0]:
        raise ShapeError("by", f"has {by.size} values but must have O = {wy.shape[0]}")
    return wy, by


def _xs(xs, dim_hint: int | None) -> np.ndarray:
    seq = np.asarray(xs, dtype=np.float64)
    if seq.ndim <= 1 or (seq.ndim == 2 and dim_hint == 1 and seq.shape[1] != 1):
        seq = seq.reshape(-1, 1)
    if seq.ndim != 2 or seq.size == 0:
        raise ShapeError("xs", f"expected T×D with T, D ≥ 1, got {shape_str(seq.shape)}")
    return np.ascontiguousarray(seq)


def _weights(cell: str, given: dict, xs_raw) -> tuple[np.ndarray, dict, int]:
    """(xs (T, D), the cell's weights checked against H and D, H)."""
    if cell == "rnn":
        from cnnrnn_cli.core.bptt import make_rnn

        for name in ("wx", "wh"):
            if given.get(name) is None:
                raise InputError(name, f"missing: give --{name} (or --weights, --random)")
        rnn = make_rnn(xs_raw, given["wx"], given["wh"], given.get("b"))
        return rnn.xs, {"wx": rnn.wx, "wh": rnn.wh, "b": rnn.b}, rnn.wh.shape[0]
    core = gru_core if cell == "gru" else lstm_core
    first = "whz" if cell == "gru" else "whi"
    if given.get(first) is None:
        raise InputError(
            first, "missing: every gate needs its weights (--weights, --torch-weights, --random)"
        )
    hidden = int(np.atleast_2d(np.asarray(given[first])).shape[0])
    hint = given.get("wxz" if cell == "gru" else "wxi")
    xs = _xs(xs_raw, None if hint is None else np.atleast_2d(np.asarray(hint)).shape[1])
    w = core.make_weights(hidden, xs.shape[1], given)
    return xs, {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in w.items()}, hidden


def _state(value, name: str, hidden: int) -> np.ndarray:
    if value is None:
        return np.zeros(hidden)
    a = np.asarray(value, dtype=np.float64).reshape(-1)
    if a.size != hidden:
        raise ShapeError(name, f"has {a.size} values but must have H = {hidden}")
    return a.copy()


def _make_cell(cell, xs, w, h0, c0, activation, reset_after, z_keeps) -> _Cell:
    if cell == "rnn":
        return _RNN(xs, w, h0, activation)
    if cell == "gru":
        return _GRU(xs, w, h0, reset_after, z_keeps)
    return _LSTM(xs, w, h0, c0)


def _refuse_overflow(model: _Cell) -> None:
    """A pre-activation beyond float64 (inf, or inf − inf) is not the number the weights
    and inputs define (that is finite): say where, rather than saturate a gate silently."""
    if model.name == "rnn":
        parts = {"a": model.pre}
    elif model.name == "gru":
        fw = model.fw
        parts = {"z": fw.a_z, "r": fw.a_r, "h̃": fw.a_h, "the reset product": fw.gh}
    else:
        hidden = model.h.shape[1]
        parts = {
            gate: model.fw.a[:, k * hidden : (k + 1) * hidden]
            for k, gate in enumerate(lstm_core.GATE_ORDER)
        }
    for gate, values in parts.items():
        bad = ~np.isfinite(values)
        if bad.any():
            t, unit = (int(v) + 1 for v in np.argwhere(bad)[0])
            raise InputError(
                "weights",
                f"step {t}, unit {unit}: the pre-activation of {gate} overflows float64 "
                f"({values[t - 1, unit - 1]}); scale the inputs or weights down",
            )


def _readout(h, wy, by, many):
    states = h if many else h[-1]
    return states.copy() if wy is None else states @ wy.T + by


@dataclass
class _Passes:
    y_hat: np.ndarray
    loss: float
    err: np.ndarray
    dh: np.ndarray  # (T, H) ∂L/∂h_t
    dc: np.ndarray | None  # (T, H) ∂L/∂c_t
    gates: np.ndarray  # (T, G·H) the pre-activations' gradients, summed over the rows
    dh0: np.ndarray
    dc0: np.ndarray | None


def _passes(model: _Cell, wy, by, targets, many: bool, truncate: int | None, work=None):
    """The loss and BPTT through `model` (its forward pass done), truncated to K steps."""
    h, _ = model.states()
    T, hidden = h.shape
    y_hat = _readout(h, wy, by, many)
    err = y_hat - targets  # ∂L/∂ŷ = ŷ − y
    loss = 0.5 * float(np.sum(err * err))
    top = np.zeros((T, hidden))  # ∂L_t/∂h_t through the readout
    if many:
        top = err @ wy if wy is not None else err.copy()
    else:
        top[-1] = wy.T @ err if wy is not None else err
    truncating = truncate is not None and truncate < T
    rows = truncate if truncating else 1
    budget.check_shape((rows, 4 * hidden), "truncate", "the rows carried back (K×4H)")
    dh_all = np.empty((T, hidden))
    dc_all = np.empty((T, hidden)) if model.has_c else None
    gates = None
    carry_h = np.zeros((rows, hidden))  # row j: ∂L_{t+1+j}/∂h_t
    carry_c = np.zeros((rows, hidden)) if model.has_c else None
    for t in range(T - 1, -1, -1):
        if not truncating:
            dh, dc = carry_h, carry_c
            dh[0] += top[t]
        else:  # row j: L_{t+j}; the row of L_{t+K} is dropped (h_t is its constant)
            dh = np.empty_like(carry_h)
            dh[0], dh[1:] = top[t], carry_h[:-1]
            dc = None
            if model.has_c:
                dc = np.empty_like(carry_c)
                dc[0], dc[1:] = 0.0, carry_c[:-1]
        dh_all[t] = (
            dh.sum(axis=0) if truncating else dh[0]
        )  # ∂L/∂h_t: the readout and the later steps
        grad, carry_h, carry_c, dc_total = model.back(t, dh, dc)
        if model.has_c:
            dc_all[t] = dc_total.sum(axis=0) if truncating else dc_total[0]
        if gates is None:
            budget.check_shape((T, grad.shape[1]), "xs", "the gate gradients (T×4H)")
            gates = np.empty((T, grad.shape[1]))
        gates[t] = grad.sum(axis=0) if truncating else grad[0]
        if work is not None and t % REPORT_EVERY == 0:
            work.advance(REPORT_EVERY)
    return _Passes(
        y_hat=y_hat,
        loss=loss,
        err=err,
        dh=dh_all,
        dc=dc_all,
        gates=gates,
        dh0=carry_h.sum(axis=0),
        dc0=carry_c.sum(axis=0) if model.has_c else None,
    )


def grad_norm(grads: dict) -> float:
    """‖g‖: the L2 norm over every parameter gradient (not the initial states h0, c0)."""
    parts = [np.asarray(v).reshape(-1) for k, v in grads.items() if k not in STATES]
    flat = np.concatenate(parts) if parts else np.zeros(0)
    peak = float(np.abs(flat).max()) if flat.size else 0.0
    if peak == 0 or not math.isfinite(peak):
        return peak
    return float(np.linalg.norm(flat / peak) * peak)


def clip_factor(norm: float, theta: float) -> float:
    """min(1, θ/‖g‖) (1 for a zero gradient)."""
    return 1.0 if norm <= theta else theta / norm


WORK_PER_ELEMENT = 10**4  # operations allowed per element of --max-elements (as core.bptt)


def work_ops(T: int, dim: int, hidden: int, truncate: int | None, check: bool) -> float:
    """Floating-point operations of one cell's passes: about 24·T·H·(H + D) forward and
    backward for the four gates, times K rows carried back when truncating; the gradient
    check evaluates the loss (T windows of K steps when truncating) twice for at most 64
    entries of each array."""
    rows = 1 if truncate is None else min(truncate, T)
    ops = 24.0 * T * hidden * (hidden + dim) * (1 + rows)
    if check:
        windows = T * rows if truncate is not None else T
        ops += 2 * 64 * 17 * 8.0 * windows * hidden * (hidden + dim)
    return ops


def check_work(T: int, dim: int, hidden: int, truncate, check: bool, name: str) -> None:
    """Refuse passes whose arithmetic exceeds WORK_PER_ELEMENT·--max-elements."""
    total = work_ops(T, dim, hidden, truncate, check)
    allowed = WORK_PER_ELEMENT * budget.limit()
    if total > allowed:
        raise InputError(
            name,
            f"the passes would take about {total:.2g} operations (T = {T}, D = {dim}, "
            f"H = {hidden}{'' if truncate is None else f', K = {truncate}'}"
            f"{', with --check' if check else ''}), over the {allowed:.2g} allowed by "
            f"--max-elements {budget.limit()} ({WORK_PER_ELEMENT} per element): take a "
            "smaller T, H or K, or raise --max-elements",
        )


def bptt(
    cell: str,
    xs,
    *,
    h0=None,
    c0=None,
    wy=None,
    by=None,
    y=None,
    targets=None,
    activation="tanh",
    reset_after=True,
    z_keeps="old",
    truncate=None,
    clip=None,
    lr=None,
    tol=0.05,
    check=False,
    **weights,
) -> CellResult:
    """Forward pass and BPTT through `cell` (rnn, gru or lstm) over xs (T, D).

    weights: the cell's parameters by option name (rnn: wx, wh, b; gru: gru-step's; lstm:
    lstm-step's). y (O,) many-to-one or targets (T, O) many-to-many. truncate: K steps;
    clip: θ for ‖g‖; lr: one SGD step (with the clipped gradients when clip is given);
    check: compare the gradients with central finite differences of the (truncated) loss.
    """
    if cell not in CELLS:
        raise InputError("cell", f"expected one of {', '.join(CELLS)}, got {cell!r}")
    if z_keeps not in ("old", "new"):
        raise InputError("z-keeps", f"expected old or new, got {z_keeps!r}")
    allowed = set(PARAMS[cell])
    unknown = sorted(k for k, v in weights.items() if v is not None and k not in allowed)
    if unknown:
        raise InputError(
            "weights",
            f"{', '.join(unknown)} are not {cell} weights (expected {', '.join(PARAMS[cell])})",
        )
    if truncate is not None and truncate < 1:
        raise InputError("truncate", f"K must be 1 or more, got {truncate}")
    if clip is not None and not (math.isfinite(clip) and clip > 0):
        raise InputError("clip", f"θ must be a finite number above 0, got {clip}")
    if lr is not None and not math.isfinite(lr):
        raise InputError("lr", f"must be a finite number, got {lr}")
    if not 0 <= tol < 0.5:
        raise InputError("tol", f"must be in [0, 0.5) for the gates, got {tol}")
    if c0 is not None and cell != "lstm":
        raise InputError("c0", "only an LSTM has a cell state")
    given = {k: v for k, v in weights.items() if v is not None}
    xs, w, hidden = _weights(cell, given, xs)
    T, dim = xs.shape
    budget.check_shape((T, 6 * hidden + dim), "xs", "the traces kept (T×(6H + D))")
    wy, by = _readout_shapes(wy, by, hidden)
    h0 = _state(h0, "h0", hidden)
    c0 = _state(c0, "c0", hidden) if cell == "lstm" else None
    for name, value in (("xs", xs), ("h0", h0), ("c0", c0), ("wy", wy), ("by", by), *w.items()):
        if value is not None and not np.isfinite(value).all():
            raise InputError(name, "holds NaN or infinity; every value must be a finite number")
    warnings: list[str] = []
    out_size = wy.shape[0] if wy is not None else hidden
    many = targets is not None
    if many and y is not None:
        raise InputError(
            "targets", "give either --y (many-to-one) or --targets (many-to-many), not both"
        )
    tgt = _targets(targets, y, many, T, out_size, warnings)
    check_work(T, dim, hidden, truncate, check, "xs")
    ops = 30.0 * T * hidden * (hidden + dim) * (1 if truncate is None else min(truncate, T))
    with (
        np.errstate(over="ignore", invalid="ignore", under="ignore"),
        progress.task(f"{cell} forward and backward passes", steps=T, ops=ops) as work,
    ):
        model = _make_cell(cell, xs, w, h0, c0, activation, reset_after, z_keeps)
        _refuse_overflow(model)
        fb = _passes(model, wy, by, tgt, many, truncate, work)
        grads = model.param_grads(fb.gates)
        if wy is not None:
            h = model.states()[0]
            grads["wy"] = fb.err.T @ h if many else np.outer(fb.err, h[-1])
            grads["by"] = fb.err.sum(axis=0) if many else fb.err.copy()
        grads["h0"] = fb.dh0
        if cell == "lstm":
            grads["c0"] = fb.dc0
        inputs = model.input_grads(fb.gates)
    h, c = model.states()
    if not (np.isfinite(fb.loss) and all(np.isfinite(g).all() for g in grads.values())):
        raise InputError(
            "weights", "the forward or backward pass overflowed float64; scale the inputs down"
        )
    norm = grad_norm(grads)
    res = CellResult(
        cell=cell,
        h=h,
        c=c,
        y_hat=fb.y_hat,
        loss=fb.loss,
        grads=grads,
        grad_norms=row_norms(fb.dh),
        cell_grad_norms=None if fb.dc is None else row_norms(fb.dc),
        input_grad_norms=row_norms(inputs),
        grad_norm=norm,
        params=w,
        xs=xs,
        h0=h0,
        c0=c0,
        wy=wy,
        by=by,
        targets=tgt,
        many_to_many=many,
        truncate=truncate,
        clip=clip,
        lr=lr,
        tol=tol,
        activation=activation,
        reset_after=reset_after,
        z_keeps=z_keeps,
        forward=getattr(model, "fw", None),
        dh=fb.dh,
        dc=fb.dc,
        warnings=warnings,
        _cell=model,
    )
    step = grads
    if clip is not None:
        res.clip_factor = clip_factor(norm, clip)
        res.clipped = {k: v * res.clip_factor for k, v in grads.items()}
        step = res.clipped
    if lr is not None:
        res.updated = {k: v - lr * step[k] for k, v in res.arrays().items()}
    if check:
        res.check_error, res.check_worst, res.check_sampled = gradient_check(res)
    return res


def _forward_states(cell, xs, w, h0, c0, activation, reset_after, z_keeps):
    """(h (T, H), c (T, H) or None) of a forward pass."""
    if cell == "rnn":
        from cnnrnn_cli.core.bptt import RNN, forward

        f, _, _ = get_activation(activation)
        return forward(RNN(xs, w["wx"], w["wh"], w["b"], h0), f)[1], None
    if cell == "gru":
        return gru_core._run(xs, h0, w, reset_after, z_keeps).h, None
    fw = lstm_core._run(xs, h0, c0, w)
    return fw.states, fw.cells


def truncated_loss(res: CellResult, arrays: dict, base_h, base_c) -> float:
    """L with each loss L_s run over its K steps only, from the constant state (base_h,
    base_c: the unperturbed pass's) at s − K; without truncation, the plain loss. A
    definition, evaluated directly (T windows of K steps for many-to-many): the gradient
    check differentiates it."""
    w = {k: arrays[k] for k in res.params}
    wy, by = arrays.get("wy"), arrays.get("by")
    T, K = res.T, res.truncate
    run = (res.cell, w, res.activation, res.reset_after, res.z_keeps)

    def states(start: int, stop: int):
        """h, c over steps start..stop−1 (0-based) from the state before `start`."""
        h0 = arrays["h0"] if start == 0 else base_h[start - 1]
        c0 = None
        if res.cell == "lstm":
            c0 = arrays["c0"] if start == 0 else base_c[start - 1]
        cell, w_, act, ra, zk = run
        return _forward_states(cell, res.xs[start:stop], w_, h0, c0, act, ra, zk)[0]

    def loss_at(h_last, s):
        y = h_last if wy is None else wy @ h_last + by
        target = res.targets[s] if res.many_to_many else res.targets
        return 0.5 * float(np.sum((y - target) ** 2))

    if K is None or K >= T:
        h = states(0, T)
        y_hat = _readout(h, wy, by, res.many_to_many)
        return 0.5 * float(np.sum((y_hat - res.targets) ** 2))
    ends = range(T) if res.many_to_many else [T - 1]
    return sum(loss_at(states(max(0, s - K + 1), s + 1)[-1], s) for s in ends)


def gradient_check(res: CellResult, max_entries: int = 64, eps: float = 1e-6):
    """(largest relative error, where, sampled): the gradients against central
    differences of the (truncated) loss (core/bptt.check_gradients)."""
    arrays = {k: np.array(v, dtype=np.float64) for k, v in res.arrays().items()}
    windows = res.T if res.truncate is None else res.T * min(res.truncate, res.T)
    return check_gradients(
        arrays,
        res.grads,
        lambda: truncated_loss(res, arrays, res.h, res.c),
        windows * 8 * res.H * (res.H + 1),
        max_entries,
        eps,
    )


# --- one step's Jacobians ---------------------------------------------------------------


@dataclass
class GRUJacobian:
    """∂h_t/∂h_{t−1} at step t (0-based) and its terms, with k the share of h_{t−1} kept
    (z, or 1 − z with --z-keeps new) and s = ±1 its sign in z:

        J = diag(k) + s·diag((h_{t−1} − h̃) ⊙ z(1 − z)) W_hz + diag((1 − k) ⊙ (1 − h̃²)) C
        C = diag(r) W_hh + diag(g_h ⊙ r(1 − r)) W_hr             (reset after)
          = W_hh diag(r) + W_hh diag(h_{t−1} ⊙ r(1 − r)) W_hr    (reset before)

    carried: units with k ≥ 1 − tol (row ≈ e_i: the gradient passes); closed: k ≤ tol and
    r ≤ tol (row ≈ 0); row_identity_gap: ‖J[i] − e_i‖ per unit; row_norms: ‖J[i]‖.
    """

    t: int
    matrix: np.ndarray
    keep_term: np.ndarray  # (H,) k
    gate_term: np.ndarray  # (H, H) s·diag((h_{t−1} − h̃) z(1 − z)) W_hz
    candidate_term: np.ndarray  # (H, H) diag((1 − k)(1 − h̃²)) C
    z: np.ndarray
    r: np.ndarray
    h_tilde: np.ndarray
    h_prev: np.ndarray
    carried: list
    closed: list
    row_identity_gap: np.ndarray
    row_norms: np.ndarray
    norm: float  # ‖J‖₂
    identity_gap: float  # ‖J − I‖₂
    tol: float


def gru_jacobian(res: CellResult, t: int) -> GRUJacobian:
    """The GRU's ∂h_t/∂h_{t−1}, written from its terms (and equal to the backward step
    applied to the identity, which the tests check)."""
    if res.cell != "gru":
        raise InputError("cell", "the one-step Jacobian ∂h_t/∂h_{t−1} is written for gru")
    fw, w = res.forward, res.params
    z, r, n, prev = fw.z[t], fw.r[t], fw.h_tilde[t], fw.h_prev[t]
    keep = z if res.z_keeps == "old" else 1 - z
    sign = 1.0 if res.z_keeps == "old" else -1.0
    gate = (sign * (prev - n) * z * (1 - z))[:, None] * w["whz"]
    dr = r * (1 - r)
    if res.reset_after:
        inner = r[:, None] * w["whh"] + (fw.gh[t] * dr)[:, None] * w["whr"]
    else:
        inner = w["whh"] * r[None, :] + (w["whh"] * (prev * dr)[None, :]) @ w["whr"]
    candidate = ((1 - keep) * (1 - n * n))[:, None] * inner
    matrix = np.diag(keep) + gate + candidate
    eye = np.eye(matrix.shape[0])
    tol = res.tol
    return GRUJacobian(
        t=t,
        matrix=matrix,
        keep_term=keep.copy(),
        gate_term=gate,
        candidate_term=candidate,
        z=z.copy(),
        r=r.copy(),
        h_tilde=n.copy(),
        h_prev=prev.copy(),
        carried=np.flatnonzero(keep >= 1 - tol).tolist(),
        closed=np.flatnonzero((keep <= tol) & (r <= tol)).tolist(),
        row_identity_gap=np.linalg.norm(matrix - eye, axis=1),
        row_norms=np.linalg.norm(matrix, axis=1),
        norm=float(np.linalg.norm(matrix, 2)),
        identity_gap=float(np.linalg.norm(matrix - eye, 2)),
        tol=tol,
    )


@dataclass
class LSTMJacobian:
    """Along the cell state at step t (0-based):

        ∂c_t/∂c_{t−1} = diag(f_t)                         the direct path
        ∂c_t/∂h_{t−1} = diag(c_{t−1} ⊙ f(1 − f)) W_hf + diag(g ⊙ i(1 − i)) W_hi
                        + diag(i ⊙ (1 − g²)) W_hg          through the gates
        through_h     = ∂c_t/∂h_{t−1} · diag(o_{t−1} ⊙ (1 − tanh² c_{t−1}))
                        (c_{t−1} → h_{t−1} → the gates at t; none at t = 1, h_0 is given)

    carried: units with f ≥ 1 − tol (the cell's gradient passes), forgets: f ≤ tol.
    """

    t: int
    f: np.ndarray
    c_from_h: np.ndarray
    through_h: np.ndarray | None
    direct_norm: float  # ‖diag(f)‖₂ = max f
    through_h_norm: float | None
    total: np.ndarray  # diag(f) + through_h
    total_norm: float
    carried: list
    forgets: list
    tol: float


def lstm_jacobian(res: CellResult, t: int) -> LSTMJacobian:
    if res.cell != "lstm":
        raise InputError("cell", "the cell-state Jacobian ∂c_t/∂c_{t−1} is written for lstm")
    fw, w, hidden = res.forward, res.params, res.H
    i, f, g = (fw.gates[t, k * hidden : (k + 1) * hidden] for k in range(3))
    c_from_h = (
        (fw.c_prev[t] * f * (1 - f))[:, None] * w["whf"]
        + (g * i * (1 - i))[:, None] * w["whi"]
        + (i * (1 - g * g))[:, None] * w["whg"]
    )
    through = None
    if t > 0:
        o_prev = fw.gates[t - 1, 3 * hidden :]
        tc = np.tanh(fw.cells[t - 1])
        through = c_from_h * (o_prev * (1 - tc * tc))[None, :]
    total = np.diag(f) + (0 if through is None else through)
    return LSTMJacobian(
        t=t,
        f=f.copy(),
        c_from_h=c_from_h,
        through_h=through,
        direct_norm=float(f.max()),
        through_h_norm=None if through is None else float(np.linalg.norm(through, 2)),
        total=total,
        total_norm=float(np.linalg.norm(total, 2)),
        carried=np.flatnonzero(f >= 1 - res.tol).tolist(),
        forgets=np.flatnonzero(f <= res.tol).tolist(),
        tol=res.tol,
    )


# --- random cases and the comparison -----------------------------------------------------


def random_cell(cell: str, T: int, dim: int, hidden: int, seed, scale: float = 1.0) -> dict:
    """A random case for one cell: the same xs and y for every cell from `seed` (rnn's
    `core.bptt.random_case`); gated cells' weights PyTorch's U(±1/√H), from seed + 1 (gru)
    and seed + 2 (lstm), so that the three cells see the same inputs."""
    from cnnrnn_cli.core.bptt import random_case

    base = random_case(T, dim, hidden, seed, scale)
    if cell == "rnn":
        return base
    out = {"xs": base["xs"], "y": base["y"]}
    offset = 1 if cell == "gru" else 2
    core = gru_core if cell == "gru" else lstm_core
    weights = core.random_weights(dim, hidden, None if seed is None else seed + offset)
    for name in PARAMS[cell]:
        out[name] = weights[name]
    return out


@dataclass
class Comparison:
    """rnn, gru and lstm on the same inputs: their results, and what the numbers say."""

    results: list  # CellResult, in CELLS order
    decay: dict  # cell -> log₁₀(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖) (inf when ‖∂L/∂h_1‖ = 0)
    seed: int | None = None
    tol: float = 0.05


def decay_log10(norms: np.ndarray) -> float:
    """How many powers of ten the gradient lost from h_T back to h_1 (inf: all of it)."""
    last, first = float(norms[-1]), float(norms[0])
    if last == 0:
        return 0.0 if first == 0 else -math.inf
    if first == 0:
        return math.inf
    return math.log10(last) - math.log10(first)


def compare(cases: dict, **options) -> Comparison:
    """`bptt` for each cell in `cases` (cell -> its keyword arguments)."""
    results = [bptt(cell, **options, **cases[cell]) for cell in CELLS if cell in cases]
    return Comparison(results=results, decay={r.cell: decay_log10(r.grad_norms) for r in results})
