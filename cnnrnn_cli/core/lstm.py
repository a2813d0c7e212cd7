"""A long short-term memory cell, one step or a sequence, gate by gate.

    i   = σ(W_xi x + W_hi h + b_i)          input gate: how much of g enters the cell
    f   = σ(W_xf x + W_hf h + b_f)          forget gate: how much of c_{t−1} is kept
    g   = tanh(W_xg x + W_hg h + b_g)       the candidate cell content
    o   = σ(W_xo x + W_ho h + b_o)          output gate: how much of the cell is shown
    c_t = f ⊙ c_{t−1} + i ⊙ g
    h_t = o ⊙ tanh(c_t)

PyTorch's LSTMCell stacks the gates i, f, g, o in weight_ih (4H, D) and weight_hh (4H, H),
with two biases that add: b_i = b_ii + b_hi (`from_torch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli import budget
from cnnrnn_cli.core.activations import sigmoid
from cnnrnn_cli.core.cells import as_shape, gate_arrays, torch_blocks, uniform_gates
from cnnrnn_cli.errors import InputError, ShapeError, shape_str
from cnnrnn_cli.vocabulary import LSTM_GATES as GATES

GATE_ORDER = ("i", "f", "g", "o")  # PyTorch's stacking order, and the rows of `a`
CASES = ("carried_over", "forgets", "hidden")


@dataclass
class LSTMResult:
    """i, f, g, o, c, h: (H,) for one step, (T, H) for a sequence (one row a step).

    Trace: x (T, D); h_prev, c_prev (T, H) the states each step starts from; a (T, 4H)
    the pre-activations and gates (T, 4H) their values, stacked i, f, g, o; cells and
    states (T, H) every step's c_t and h_t; seed of a random case; torch: the weights came
    from a PyTorch LSTMCell.
    """

    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray
    x: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    a: np.ndarray
    gates: np.ndarray
    cells: np.ndarray
    states: np.ndarray
    weights: dict
    sequence: bool = False
    tol: float = 0.05
    seed: int | None = None
    torch: bool = False
    _cases: list | None = field(default=None, repr=False)

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def H(self) -> int:
        return self.h_prev.shape[1]

    def gate(self, name: str) -> np.ndarray:
        """One gate's values, (T, H), name among i, f, g, o."""
        k = GATE_ORDER.index(name)
        return self.gates[:, k * self.H : (k + 1) * self.H]

    def pre(self, name: str) -> np.ndarray:
        """One gate's pre-activation (what σ or tanh is applied to), (T, H)."""
        k = GATE_ORDER.index(name)
        return self.a[:, k * self.H : (k + 1) * self.H]

    @property
    def cases(self) -> list[dict]:
        """Per step, the units (0-based) in each named case (see `case_masks`)."""
        if self._cases is None:
            masks = case_masks(self.gate("i"), self.gate("f"), self.gate("o"), self.tol)
            per_step = {name: _rows(mask) for name, mask in masks.items()}
            self._cases = [{name: per_step[name][t] for name in CASES} for t in range(self.T)]
        return self._cases


def case_masks(i: np.ndarray, f: np.ndarray, o: np.ndarray, tol: float) -> dict:
    """Where each case holds, element by element (any shape, every step at once).

    'carried_over': f ≈ 1 and i ≈ 0, so c_t ≈ c_{t−1} (|c_t − c_{t−1}| ≤ tol·(|c_{t−1}| + 1));
    'forgets': f ≈ 0, so c_t ≈ i ⊙ g (|c_t − i ⊙ g| ≤ tol·|c_{t−1}|: the old cell is dropped);
    'hidden': o ≈ 0, so h_t ≈ 0 (|h_t| ≤ tol) whatever the cell holds.
    """
    return {
        "carried_over": (f >= 1 - tol) & (i <= tol),
        "forgets": f <= tol,
        "hidden": o <= tol,
    }


def _rows(mask: np.ndarray) -> list[list[int]]:
    """For a (T, H) mask, the true columns of each row, as lists."""
    rows, cols = np.nonzero(mask)
    bounds = np.searchsorted(rows, np.arange(mask.shape[0] + 1)).tolist()
    cols = cols.tolist()
    return [cols[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def make_weights(hidden: int, dim: int, given: dict) -> dict:
    """Every gate array checked against H and D (biases default to zeros)."""
    return gate_arrays(GATES, hidden, dim, given, f"H = {hidden}, D = {dim} from x")


def hidden_size(given: dict, h, c) -> int:
    """H from h or c when given, else from the rows of a W_h·."""
    for state in (h, c):
        if state is not None:
            return int(np.asarray(state).size)
    for name in ("whi", "whf", "whg", "who"):
        if given.get(name) is not None:
            return int(np.atleast_2d(given[name]).shape[0])
    raise InputError("h", "cannot tell the hidden size H: give --h, --c or --whi")


def from_torch(arrays: dict) -> dict:
    """PyTorch LSTMCell arrays (gates stacked i, f, g, o) -> the option names.

    weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,): W_xi is the first
    H rows of weight_ih, W_hi of weight_hh, and b_i = b_ii + b_hi (the two biases add).
    """
    _, w_ih, w_hh, b_ih, b_hh = torch_blocks(arrays, 4)
    out = {}
    for k, gate in enumerate(GATE_ORDER):
        out[f"wx{gate}"], out[f"wh{gate}"] = w_ih[k], w_hh[k]
        out[f"b{gate}"] = b_ih[k] + b_hh[k]
    return out


def _sequence(xs, dim_hint: int | None) -> np.ndarray:
    """xs as (T, D); a plain list is T scalar inputs when D is 1."""
    seq = np.asarray(xs, dtype=np.float64)
    dim = dim_hint if dim_hint is not None else (seq.shape[1] if seq.ndim == 2 else 1)
    if seq.ndim <= 1 or (seq.ndim == 2 and seq.shape[1] != dim and dim == 1):
        seq = seq.reshape(-1, 1)
    if seq.ndim != 2 or seq.size == 0:
        raise ShapeError("xs", f"expected T×D with T, D ≥ 1, got {shape_str(seq.shape)}")
    return seq


def _finite(name: str, a: np.ndarray) -> None:
    if not np.isfinite(a).all():
        raise InputError(name, "holds NaN or infinity; every value must be a finite number")


def lstm_step(
    x=None, h=None, c=None, *, xs=None, tol=0.05, seed=None, torch=False, **weights
) -> LSTMResult:
    """One LSTM step from x (D,), h (H,) and c (H,), or T steps over xs (T, D).

    weights: wxi, whi, bi, wxf, whf, bf, wxg, whg, bg, wxo, who, bo (biases default to 0;
    h and c to zeros). tol: how near 0 or 1 a gate is to name a case. seed and torch are
    only recorded (where the weights came from).
    """
    if not 0 <= tol < 0.5:
        raise InputError("tol", f"must be in [0, 0.5), got {tol}")
    unknown = sorted(set(weights) - set(GATES))
    if unknown:
        raise InputError("weights", f"unknown array(s) {', '.join(unknown)}")
    if (x is None) == (xs is None):
        raise InputError("x", "give either x (one step) or xs (a sequence), exactly one")
    hidden = hidden_size(weights, h, c)
    source = "h" if h is not None else ("c" if c is not None else "the weights")
    if hidden < 1:
        raise ShapeError("h", "is empty: H must be 1 or more")
    if xs is not None:
        hint = weights.get("wxi")
        seq = _sequence(xs, None if hint is None else np.atleast_2d(hint).shape[1])
    else:
        seq = np.asarray(x, dtype=np.float64).reshape(1, -1)
        if seq.size == 0:
            raise ShapeError("x", "is empty: D must be 1 or more")
    T, dim = seq.shape
    budget.check_shape((T, 4 * hidden), "xs" if xs is not None else "x", "the gates (T×4H)")
    budget.check_shape((4 * hidden, max(hidden, dim)), "weights", "the stacked weights")
    w = make_weights(hidden, dim, weights)
    states = {}
    for name, value in (("h", h), ("c", c)):
        states[name] = (
            np.zeros(hidden)
            if value is None
            else as_shape(value, name, (hidden,), f"H = {hidden} from {source}")
        )
    _finite("xs" if xs is not None else "x", seq)
    for name, value in (*states.items(), *w.items()):
        _finite(name, value)
    with np.errstate(over="ignore", invalid="ignore"):
        res = _run(seq, states["h"], states["c"], w)
    _refuse_overflow(res)
    res.sequence, res.tol, res.seed, res.torch = xs is not None, tol, seed, torch
    if xs is None:
        res.i, res.f, res.g, res.o, res.c, res.h = (
            a[0] for a in (res.i, res.f, res.g, res.o, res.c, res.h)
        )
    return res


def _run(xs: np.ndarray, h0: np.ndarray, c0: np.ndarray, w: dict) -> LSTMResult:
    """The recurrence. The input GEMM (every gate, every step) is hoisted out of the time
    loop; a step is one GEMV with the stacked W_h and a few element-wise ufuncs."""
    hidden, T = h0.size, xs.shape[0]
    H2, H3 = 2 * hidden, 3 * hidden
    wx = np.vstack([w[f"wx{k}"] for k in GATE_ORDER])  # (4H, D)
    wh = np.vstack([w[f"wh{k}"] for k in GATE_ORDER])  # (4H, H)
    b = np.concatenate([w[f"b{k}"] for k in GATE_ORDER])
    a = xs @ wx.T  # (T, 4H): W_x· x_t for every step at once
    a += b
    gates = np.empty_like(a)
    cells, states, h_prev, c_prev = (np.empty((T, hidden)) for _ in range(4))
    h, c = h0, c0
    for t in range(T):
        h_prev[t], c_prev[t] = h, c
        a[t] += wh @ h  # + W_h· h_{t−1}
        sigmoid(a[t], out=gates[t])  # i, f, o (one call for the row: cheaper than three)
        np.tanh(a[t, H2:H3], out=gates[t, H2:H3])  # g
        i, f, g, o = (gates[t, k * hidden : (k + 1) * hidden] for k in range(4))
        np.multiply(f, c, out=cells[t])  # c_t = f ⊙ c_{t−1} + i ⊙ g
        cells[t] += i * g
        np.tanh(cells[t], out=states[t])  # h_t = o ⊙ tanh(c_t)
        states[t] *= o
        h, c = states[t], cells[t]
    split = [gates[:, k * hidden : (k + 1) * hidden] for k in range(4)]
    return LSTMResult(
        *split,
        c=cells,
        h=states,
        x=xs,
        h_prev=h_prev,
        c_prev=c_prev,
        a=a,
        gates=gates,
        cells=cells,
        states=states,
        weights=w,
    )


def _refuse_overflow(res: LSTMResult) -> None:
    """A pre-activation that is inf − inf (weights and inputs near float64's limit) has no
    value: say where, rather than return NaN gates."""
    bad = np.isnan(res.a)
    if not bad.any():
        return
    t, k = (int(v) for v in np.argwhere(bad)[0])
    gate, unit = GATE_ORDER[k // res.H], k % res.H + 1
    raise InputError(
        "weights",
        f"step {t + 1}, unit {unit}: gate {gate}'s pre-activation overflows float64 "
        "(inf − inf); scale the inputs or weights down",
    )


def random_weights(dim: int, hidden: int, seed: int | None) -> dict:
    """PyTorch's initialisation: every entry U(−1/√H, 1/√H); x, h, c ~ N(0, 1)."""
    for name, value in (("D", dim), ("H", hidden)):
        if value < 1:
            raise InputError("random", f"{name} must be 1 or more, got {value}")
    budget.check_shape((4 * hidden, hidden), "random", "the stacked W_h (4H×H)")
    budget.check(4 * hidden * (dim + hidden + 1), "random", "the random weights")
    rng = np.random.default_rng(seed)
    arrays = uniform_gates(rng, GATES, dim, hidden)
    arrays["x"] = rng.standard_normal(dim)
    arrays["h"] = rng.standard_normal(hidden)
    arrays["c"] = rng.standard_normal(hidden)
    return arrays
