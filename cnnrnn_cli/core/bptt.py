"""A many-to-one (or many-to-many) RNN: forward pass, BPTT, and why gradients vanish.

    a_t = W_x x_t + W_h h_{t−1} + b        h_t = f(a_t)          t = 1..T
    ŷ   = W_y h_T + b_y   (or ŷ = h_T)     L = ½‖ŷ − y‖²
    many-to-many: ŷ_t = W_y h_t + b_y,     L = Σ_t ½‖ŷ_t − y_t‖²

Backward, one step at a time (the only loop runs over time; the input GEMMs are
hoisted out of it):

    ∂L/∂h_t = (readout at t) + W_hᵀ ∂L/∂a_{t+1}       ∂L/∂a_t = ∂L/∂h_t ⊙ f'(a_t)
    ∂L/∂W_h = Σ_t ∂L/∂a_t h_{t−1}ᵀ   (the notes' sum over t: one term per step)
    ∂h_{t+1}/∂h_t = diag(f'(a_{t+1})) W_h      (the notes write tanh where f' belongs)

The cost, and what bounds it (H the hidden size, T the steps):
- forward and backward: T·H² (one matrix-vector product a step);
- the Jacobian norms ‖∂h_T/∂h_t‖ for every t: the products are accumulated backwards as one
  matrix, M_t = M_{t+1}·diag(f'(a_{t+1}))·W_h, one GEMM (2H³) a step, and each norm is
  taken by a few steps of subspace iteration warm-started from the previous product's top
  left singular vectors (they live in h_T's space and settle as the product grows), checked
  by its residual: O(H²) a step instead of an SVD. Small cases (T·H³ ≤ EXACT_NORM_WORK)
  take an exact SVD of each product;
- the eigenvalues of W_h: about 25·H³ (LAPACK's nonsymmetric QR algorithm). Eigenvectors and
  their condition number only for H ≤ EIGVEC_MAX; above, a normal W_h (W_hᵀW_h = W_hW_hᵀ,
  e.g. the random σ·Q) is unitarily diagonalisable, cond = 1, and otherwise diagonalisability
  is not computed (None). σ_max is an SVD for H ≤ EIGVEC_MAX, else the same iteration.
Every array is sized against the budget before it is made (W_h and the product H×H, the
traces T×H), and the arithmetic is bounded too: at most WORK_PER_ELEMENT operations per
element of --max-elements (10¹² by default, a minute or two), so `--random 2,1,9000` (the
eigenvalues alone, 1.8·10¹³) is refused up front instead of running for ten minutes.
Long work reports to `cnnrnn_cli.progress` and runs where Ctrl-C reaches it
(`core.parallel.interruptible`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli import budget, progress
from cnnrnn_cli.core.activations import activation as get_activation
from cnnrnn_cli.core.parallel import interruptible
from cnnrnn_cli.core.shapes import as_matrix, sized_vector
from cnnrnn_cli.errors import InputError, ShapeError, shape_str

DEFECTIVE_COND = 1e12  # eigenvector matrices worse conditioned than this: not diagonalisable
EXACT_NORM_WORK = 5e7  # T·H³ up to which every ‖∂h_T/∂h_t‖ is an exact SVD norm
EIGVEC_MAX = 512  # H up to which eigenvectors, cond(T) and σ_max come from LAPACK
NORMAL_TOL = 1e-10  # ‖WᵀW − WWᵀ‖_F ≤ this·‖W‖_F²: numerically normal
BLOCK = 16  # left singular vectors carried from one product to the next
RESIDUAL_TOL = 1e-11  # a norm is accepted when its singular triplet's residual is this small
MAX_SWEEPS = 8  # subspace-iteration sweeps before falling back to eigvalsh(M Mᵀ)
SETTLED = 1e-13  # ...or when a sweep no longer moves the Ritz value
COLD_SWEEPS = 3  # the same from a random start (the first product, a lone W_h)
WORK_PER_ELEMENT = 10**4  # operations allowed per element of --max-elements
EIGEN_OPS = 25  # the eigenvalues of an H×H matrix: about 25·H³ operations
MAX_FLOAT = np.finfo(np.float64).max
LOG10_2 = math.log10(2.0)


@dataclass
class RNN:
    """The parameters. xs: (T, D); wx: (H, D); wh: (H, H); b, h0: (H,); wy: (O, H); by: (O,)."""

    xs: np.ndarray
    wx: np.ndarray
    wh: np.ndarray
    b: np.ndarray
    h0: np.ndarray
    wy: np.ndarray | None = None
    by: np.ndarray | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """The differentiable arrays by name (the keys of `grads`)."""
        names = ["wx", "wh", "b"] + (["wy", "by"] if self.wy is not None else []) + ["h0"]
        return {name: getattr(self, name) for name in names}


@dataclass
class BPTTResult:
    """Every field of the JSON result, plus the trace the explanation draws.

    h: (T, H) rows h_1..h_T; y_hat: (O,) or (T, O); grads: name -> array shaped like the
    parameter; jacobian_norms: (T,) ‖∂h_T/∂h_t‖₂, t = 1..T; eigenvalues: [[re, im], ...]
    largest modulus first.
    """

    h: np.ndarray
    y_hat: np.ndarray
    loss: float
    grads: dict
    jacobian_norms: np.ndarray
    eigenvalues: list
    spectral_radius: float
    singular_max: float
    diagonalizable: bool | None  # None: not computed (a large, non-normal W_h)
    regime: str
    updated: dict | None = None
    # trace
    rnn: RNN | None = None
    activation: str = "tanh"
    targets: np.ndarray | None = None
    many_to_many: bool = False
    pre: np.ndarray | None = None  # (T, H) a_t
    fprime: np.ndarray | None = None  # (T, H) f'(a_t)
    dh: np.ndarray | None = None  # (T, H) ∂L/∂h_t (all paths)
    da: np.ndarray | None = None  # (T, H) ∂L/∂a_t
    wh_contributions: np.ndarray | None = None  # (T,) ‖∂L/∂a_t h_{t−1}ᵀ‖_F
    eigvecs: np.ndarray | None = None  # None when not computed (H > EIGVEC_MAX)
    eig_cond: float | None = 1.0  # None when not computed
    log10_norms: np.ndarray | None = None  # (T,) log₁₀‖∂h_T/∂h_t‖, beyond float64's range
    log10_bound: np.ndarray | None = None  # (T,) log₁₀ (γ σ_max)^(T−t)
    gamma: float = 1.0
    bound: np.ndarray | None = None  # (T,) (γ σ_max)^(T−t)
    norms_exact: bool = True
    measured_regime: str | None = None  # None for T = 1 (no product to measure)
    lr: float | None = None
    tol: float = 1e-9
    check_error: float | None = None
    check_worst: str = ""
    check_sampled: bool = False
    seed: int | None = None  # the seed of a random case (chosen when none was given)
    facts: VerdictFacts | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def T(self) -> int:
        return self.h.shape[0]

    @property
    def grad_norms(self) -> np.ndarray:
        """(T,) ‖∂L/∂h_t‖, t = 1..T (every path: the readout and the later steps)."""
        return row_norms(self.dh)

    @property
    def input_grad_norms(self) -> np.ndarray:
        """(T,) ‖∂L/∂x_t‖ = ‖W_xᵀ ∂L/∂a_t‖, t = 1..T."""
        return row_norms(self.da @ self.rnn.wx)

    @property
    def jacobian_norms_log10(self) -> np.ndarray:
        """(T,) log₁₀‖∂h_T/∂h_t‖, exact beyond float64's range (−inf for a norm that is 0)."""
        return self.log10_norms

    def forward_step(self, t: int, unit: int) -> ForwardStep:
        """Unit `unit` of step t (both 0-based): the numbers of a_t and h_t = f(a_t)."""
        rnn = self.rnn
        prev = rnn.h0 if t == 0 else self.h[t - 1]
        return ForwardStep(
            t=t,
            unit=unit,
            wx=rnn.wx[unit].copy(),
            x=rnn.xs[t].copy(),
            wh=rnn.wh[unit].copy(),
            h_prev=prev.copy(),
            b=float(rnn.b[unit]),
            a=float(self.pre[t, unit]),
            h=float(self.h[t, unit]),
        )

    def readout_grad(self, t: int) -> np.ndarray:
        """(H,) ∂L_t/∂h_t through the readout alone at step t (0-based): W_yᵀ(ŷ_t − y_t) or
        ŷ_t − y_t (zero before T for many-to-one)."""
        hidden = self.h.shape[1]
        if self.many_to_many:
            err = self.y_hat[t] - self.targets[t]
        elif t == self.T - 1:
            err = self.y_hat - self.targets
        else:
            return np.zeros(hidden)
        return err @ self.rnn.wy if self.rnn.wy is not None else err.copy()

    def backward_step(self, t: int, unit: int) -> BackwardStep:
        """Unit `unit` of step t (both 0-based) in the backward pass: ∂L/∂h_t, f'(a_t),
        ∂L/∂a_t, the column of W_h that carries ∂L/∂a_t back to h_{t−1}[unit], and one term
        ∂L/∂a_t[unit]·h_{t−1}[unit] of ∂L/∂W_h[unit, unit] with that entry's every term."""
        rnn = self.rnn
        prev = rnn.h0 if t == 0 else self.h[t - 1]
        carry = rnn.wh[:, unit] @ self.da[t]  # (W_hᵀ ∂L/∂a_t)[unit]
        previous_total = float(self.grads["h0"][unit]) if t == 0 else float(self.dh[t - 1, unit])
        terms = self.da[:, unit] * np.concatenate([rnn.h0[unit : unit + 1], self.h[:-1, unit]])
        return BackwardStep(
            t=t,
            unit=unit,
            readout=float(self.readout_grad(t)[unit]),
            dh=float(self.dh[t, unit]),
            a=float(self.pre[t, unit]),
            h=float(self.h[t, unit]),
            fprime=float(self.fprime[t, unit]),
            da=float(self.da[t, unit]),
            wh_column=rnn.wh[:, unit].copy(),
            da_all=self.da[t].copy(),
            carry=float(carry),
            readout_prev=float(self.readout_grad(t - 1)[unit]) if t > 0 else 0.0,
            dh_prev=previous_total,
            h_prev=float(prev[unit]),
            term=float(self.da[t, unit] * prev[unit]),
            wh_terms=terms,
            wh_grad=float(self.grads["wh"][unit, unit]),
        )

    def step_term(self, t: int) -> np.ndarray:
        """(H, H): step t's term ∂L/∂a_t h_{t−1}ᵀ of ∂L/∂W_h (t 0-based)."""
        prev = self.rnn.h0 if t == 0 else self.h[t - 1]
        return np.outer(self.da[t], prev)

    def jacobian_factors(self, t: int, limit: int | None = None) -> np.ndarray:
        """(n, H, H): ∂h_{k+1}/∂h_k = diag(f'(a_{k+1})) W_h for k = t..T−2 (0-based), the
        factors of ∂h_T/∂h_t; at most `limit` of them (each is H×H: keep `limit` small)."""
        stop = self.T - 1 if limit is None else min(self.T - 1, t + limit)
        budget.check_shape((stop - t, *self.rnn.wh.shape), "wh", "the Jacobian factors")
        return np.array([self.fprime[k + 1][:, None] * self.rnn.wh for k in range(t, stop)])

    def factor_norms(self, t: int, limit: int | None = None) -> np.ndarray:
        """‖∂h_{k+1}/∂h_k‖₂ of those factors, made and measured one at a time."""
        stop = self.T - 1 if limit is None else min(self.T - 1, t + limit)
        return np.array(
            [spectral_norm(self.fprime[k + 1][:, None] * self.rnn.wh) for k in range(t, stop)]
        )

    def chain(self, t: int) -> np.ndarray:
        """(H, H): ∂h_T/∂h_t, the factors multiplied out (t 0-based; may overflow to inf:
        `jacobian_norms` has the norms without overflow)."""
        product = np.eye(self.rnn.wh.shape[0])
        for k in range(t, self.T - 1):
            product = (self.fprime[k + 1][:, None] * self.rnn.wh) @ product
        return product

    def chain_log10(self, t: int) -> tuple[float, float]:
        """For a scalar RNN, ∂h_T/∂h_t as (sign, log₁₀|value|): Π f'(a_{k+1})·w_h, taken in
        log space so that 3^1000 neither overflows nor underflows (log₁₀ 0 is −inf)."""
        factors = self.fprime[t + 1 :, 0] * self.rnn.wh[0, 0]
        sign = float(np.prod(np.sign(factors)))
        with np.errstate(divide="ignore"):
            return sign, float(np.sum(np.log10(np.abs(factors))))


@dataclass
class ForwardStep:
    """One unit of one forward step: a = W_x[u]·x_t + W_h[u]·h_{t−1} + b[u], h = f(a)."""

    t: int
    unit: int
    wx: np.ndarray
    x: np.ndarray
    wh: np.ndarray
    h_prev: np.ndarray
    b: float
    a: float
    h: float


@dataclass
class BackwardStep:
    """One unit of one backward step (see BPTTResult.backward_step)."""

    t: int
    unit: int
    readout: float  # ∂L_t/∂h_t[u] through the readout alone
    dh: float  # ∂L/∂h_t[u], all paths
    a: float
    h: float
    fprime: float  # f'(a_t[u])
    da: float  # ∂L/∂a_t[u] = dh·f'
    wh_column: np.ndarray  # W_h[:, u]
    da_all: np.ndarray  # ∂L/∂a_t
    carry: float  # (W_hᵀ ∂L/∂a_t)[u]
    readout_prev: float  # ∂L_{t−1}/∂h_{t−1}[u] through the readout (many-to-many)
    dh_prev: float  # ∂L/∂h_{t−1}[u] = readout_prev + carry
    h_prev: float  # h_{t−1}[u]
    term: float  # ∂L/∂a_t[u]·h_{t−1}[u]: step t's term of ∂L/∂W_h[u, u]
    wh_terms: np.ndarray  # (T,) every step's term of ∂L/∂W_h[u, u]
    wh_grad: float  # ∂L/∂W_h[u, u], their sum


@dataclass
class VerdictFacts:
    """What the verdict may say, computed from the numbers.

    rate: γ·σ_max, the factor of the bound (γ·σ_max)^(T−t); measured_log10_rate: log₁₀ of
    the geometric mean factor a step, ‖∂h_T/∂h_1‖^(1/(T−1)) (None for T = 1, −inf when the
    product is exactly 0); mean_fprime: the mean of f'(a_t) over t = 2..T and the units (the
    f' inside the factors of ∂h_T/∂h_1); saturated: the share of those f' below 0.1.
    """

    rho: float
    regime: str
    linear: bool  # identity: ∂h_T/∂h_t = W_h^(T−t), the notes' criterion applies exactly
    gamma: float
    sigma_max: float
    rate: float
    measured_regime: str | None
    measured_log10_rate: float | None
    mean_fprime: float | None
    saturated: float | None
    steps: int  # T − 1, the factors in ∂h_T/∂h_1


def row_norms(a: np.ndarray) -> np.ndarray:
    """Row norms, exact for rows beyond float64's square (scaled by their largest entry)."""
    peak = np.abs(a).max(axis=1) if a.size else np.zeros(a.shape[0])
    safe = np.where(peak > 0, peak, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.linalg.norm(a / safe[:, None], axis=1) * peak


def make_rnn(xs, wx, wh, b=None, h0=None, wy=None, by=None) -> RNN:
    """Check and normalise shapes: xs (T, D) (a plain list is T scalars), wx (H, D), ..."""
    wh = as_matrix(wh, "wh")
    hidden = wh.shape[0]
    if wh.shape != (hidden, hidden):
        raise ShapeError("wh", f"W_h must be square (H×H), got {shape_str(wh.shape)}")
    wx = as_matrix(wx, "wx")
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim <= 1 or (xs.ndim == 2 and xs.shape[0] == 1 and wx.shape[1] != xs.shape[1]):
        xs = xs.reshape(-1, 1)  # a plain list: T scalar inputs
    if xs.ndim != 2:
        raise ShapeError("xs", f"expected T×D, got {shape_str(xs.shape)}")
    if wx.shape == (1, hidden) and xs.shape[1] == 1 and hidden > 1:
        wx = wx.T  # a row of H weights for scalar inputs
    if wx.shape != (hidden, xs.shape[1]):
        raise ShapeError(
            "wx",
            f"W_x is {shape_str(wx.shape)} but must be H×D = "
            f"{hidden}×{xs.shape[1]} for W_h {shape_str(wh.shape)} and "
            f"xs {shape_str(xs.shape)}",
        )
    b = sized_vector(b, "b", hidden, f"W_h {shape_str(wh.shape)}")
    h0 = sized_vector(h0, "h0", hidden, f"W_h {shape_str(wh.shape)}")
    if wy is None:
        if by is not None:
            raise InputError("by", "a readout bias needs --wy")
        return _contiguous(RNN(xs, wx, wh, b, h0))
    wy = as_matrix(wy, "wy")
    if wy.shape[1] != hidden:
        if wy.shape == (hidden, 1):
            wy = wy.T
        else:
            raise ShapeError(
                "wy",
                f"W_y is {shape_str(wy.shape)} but must be O×H with H = "
                f"{hidden} (W_h {shape_str(wh.shape)})",
            )
    by = sized_vector(by, "by", wy.shape[0], f"W_y {shape_str(wy.shape)}")
    return _contiguous(RNN(xs, wx, wh, b, h0, wy, by))


def _contiguous(rnn: RNN) -> RNN:
    """Own, C-ordered copies: the gradient check perturbs them in place."""
    for name in ("xs", "wx", "wh", "b", "h0", "wy", "by"):
        value = getattr(rnn, name)
        if value is not None:
            setattr(rnn, name, np.array(value, dtype=np.float64, order="C"))
    return rnn


REPORT_EVERY = 64  # time steps between two progress reports of the forward/backward loops


def forward(rnn: RNN, f, work: progress.Task | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(a, h), both (T, H): a_t = W_x x_t + W_h h_{t−1} + b, h_t = f(a_t)."""
    inputs = rnn.xs @ rnn.wx.T + rnn.b  # hoisted: one GEMM for all t
    pre = np.empty_like(inputs)
    h = np.empty_like(inputs)
    prev = rnn.h0
    for t in range(inputs.shape[0]):
        pre[t] = inputs[t] + rnn.wh @ prev
        h[t] = prev = f(pre[t])
        if work is not None and t % REPORT_EVERY == REPORT_EVERY - 1:
            work.advance(REPORT_EVERY)
    return pre, h


def readout(rnn: RNN, h: np.ndarray, many_to_many: bool) -> np.ndarray:
    """ŷ = W_y h_T + b_y (or h_T); rows ŷ_t for every t when many-to-many."""
    states = h if many_to_many else h[-1]
    if rnn.wy is None:
        return states.copy()
    return states @ rnn.wy.T + rnn.by


def loss_of(rnn: RNN, targets: np.ndarray, f, many_to_many: bool) -> float:
    _, h = forward(rnn, f)
    return 0.5 * float(np.sum((readout(rnn, h, many_to_many) - targets) ** 2))


@dataclass
class Passes:
    """The forward pass and BPTT: pre-activations a_t and states h_t (T, H), ŷ, L, the
    gradients by parameter, ∂L/∂h_t and ∂L/∂a_t (T, H), f'(a_t) (T, H), and h_{t−1}."""

    pre: np.ndarray
    h: np.ndarray
    y_hat: np.ndarray
    loss: float
    grads: dict
    dh: np.ndarray
    da: np.ndarray
    fprime: np.ndarray
    prev: np.ndarray


@dataclass
class Eigen:
    """W_h = T Σ T⁻¹: eigenvalues (largest modulus first), the vectors T (None above
    EIGVEC_MAX), cond(T), diagonalisability (None: not computed), ρ and σ_max."""

    values: np.ndarray
    vectors: np.ndarray | None
    cond: float | None
    diagonalizable: bool | None
    radius: float
    singular_max: float


def forward_backward(
    rnn: RNN, targets: np.ndarray, name: str = "tanh", many_to_many: bool = False
) -> Passes:
    """Forward pass and BPTT (see Passes)."""
    f, fprime_of, _ = get_activation(name)
    T, hidden = rnn.xs.shape[0], rnn.wh.shape[0]
    with progress.task("forward and backward passes", steps=2 * T, ops=4.0 * T * hidden**2) as work:
        pre, h = forward(rnn, f, work)
        refuse_overflow(pre)
        return _backward(rnn, targets, fprime_of, many_to_many, pre, h, work)


def refuse_overflow(pre: np.ndarray) -> None:
    """A pre-activation beyond float64 (inf, or inf − inf) is not the number the weights
    and inputs define: say where, rather than let tanh saturate it silently."""
    bad = ~np.isfinite(pre)
    if bad.any():
        t, unit = (int(v) + 1 for v in np.argwhere(bad)[0])
        raise InputError(
            "weights",
            f"step {t}, unit {unit}: the pre-activation a_{t} overflows float64 "
            f"({pre[t - 1, unit - 1]}); scale the inputs or weights down",
        )


def _backward(rnn: RNN, targets, fprime_of, many_to_many: bool, pre, h, work) -> Passes:
    y_hat = readout(rnn, h, many_to_many)
    err = y_hat - targets  # ∂L/∂ŷ = ŷ − y
    loss = 0.5 * float(np.sum(err * err))
    grads = {}
    T, hidden = h.shape
    top = np.zeros((T, hidden))  # ∂L/∂h_t through the readout
    if rnn.wy is not None:
        if many_to_many:
            grads["wy"], grads["by"] = err.T @ h, err.sum(axis=0)
            top = err @ rnn.wy
        else:
            grads["wy"], grads["by"] = np.outer(err, h[-1]), err.copy()
            top[-1] = rnn.wy.T @ err
    elif many_to_many:
        top = err.copy()
    else:
        top[-1] = err
    fprime = fprime_of(pre, h)  # f'(a_t)
    dh = np.empty_like(h)
    da = np.empty_like(h)
    carry = np.zeros(hidden)  # W_hᵀ ∂L/∂a_{t+1}
    for t in range(T - 1, -1, -1):
        dh[t] = top[t] + carry
        da[t] = dh[t] * fprime[t]  # through h_t = f(a_t)
        carry = rnn.wh.T @ da[t]  # through a_t's W_h h_{t−1}
        if t % REPORT_EVERY == 0:
            work.advance(REPORT_EVERY)
    prev = np.vstack([rnn.h0, h[:-1]])  # h_{t−1} for t = 1..T
    grads["wx"] = da.T @ rnn.xs  # hoisted: Σ_t ∂L/∂a_t x_tᵀ
    grads["wh"] = da.T @ prev  # Σ_t ∂L/∂a_t h_{t−1}ᵀ
    grads["b"] = da.sum(axis=0)
    grads["h0"] = carry
    order = ["wx", "wh", "b", "wy", "by", "h0"]
    grads = {k: grads[k] for k in order if k in grads}
    return Passes(
        pre=pre, h=h, y_hat=y_hat, loss=loss, grads=grads, dh=dh, da=da, fprime=fprime, prev=prev
    )


def jacobian_norms(fprime: np.ndarray, wh: np.ndarray) -> tuple[np.ndarray, bool]:
    """(T,) spectral norms ‖∂h_T/∂h_t‖₂ = ‖Π_{a=t}^{T−1} diag(f'(a_{a+1})) W_h‖₂, and whether
    each is an exact SVD norm (else a subspace-iteration value checked by its residual).

    Norms beyond float64 are clipped to its maximum; `jacobian_log10_norms` has them all.
    """
    mantissa, exponent, exact = _jacobian_norm_parts(fprime, wh)
    with np.errstate(over="ignore"):
        norms = np.ldexp(mantissa, exponent)
    return np.minimum(norms, MAX_FLOAT), exact


def jacobian_log10_norms(mantissa: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """log₁₀ of mantissa·2^exponent (−inf for 0), for norms beyond float64's range."""
    with np.errstate(divide="ignore"):
        return np.log10(mantissa) + exponent * LOG10_2


def _jacobian_norm_parts(fprime: np.ndarray, wh: np.ndarray):
    """The norms as mantissa·2^exponent (T,) each, and whether they are exact.

    The running product is kept as M̂·2^e with max|M̂| in [½, 1): W_h is scaled by a power of
    two once (exactly), and each step's product renormalised by another, so that nothing
    overflows (every entry of M̂·diag(f')·Ŵ is at most H in size: |f'| ≤ 1) and 2^1000
    is still exactly 2^1000.
    """
    T, hidden = fprime.shape
    mantissa, exponent = np.ones(T), np.zeros(T, dtype=np.int64)
    exact = T * hidden**3 <= EXACT_NORM_WORK
    if T < 2:
        return mantissa, exponent, exact
    peak = float(np.abs(wh).max())
    if peak == 0:
        mantissa[:-1] = 0.0
        return mantissa, exponent, exact
    shift = math.frexp(peak)[1]
    w = np.ldexp(wh, -shift)  # Ŵ = W_h·2^−shift, max|Ŵ| in [½, 1)
    budget.check_shape((hidden, hidden), "wh", "the Jacobian product ∂h_T/∂h_t")
    stack, slots = [], []
    chunk = max(1, min(256, budget.limit() // max(1, hidden * hidden)))
    block = None
    with progress.task(
        "Jacobian norms ‖∂h_T/∂h_t‖", steps=T - 1, ops=2.0 * (T - 2) * hidden**3
    ) as work:
        product, scale = fprime[T - 1][:, None] * w, shift  # ∂h_T/∂h_{T−1} = diag(f') W
        factor, spare = np.empty_like(product), np.empty_like(product)
        for t in range(T - 2, -1, -1):
            if t < T - 2:  # ∂h_T/∂h_t = ∂h_T/∂h_{t+1} · diag(f'(a_{t+1})) W_h
                np.multiply(fprime[t + 1][:, None], w, out=factor)
                product, spare = np.matmul(product, factor, out=spare), product
                scale += shift
            top = float(max(product.max(), -product.min()))
            if not math.isfinite(top):
                raise InputError(
                    "wh",
                    "the Jacobian products are not finite (the forward "
                    "pass overflowed); scale W_h down",
                )
            if top == 0:  # a zero factor: every longer product is zero too
                mantissa[: t + 1] = 0.0
                break
            step = math.frexp(top)[1]
            if step:
                np.ldexp(product, -step, out=product)
                scale += step
            exponent[t] = scale
            if exact:
                stack.append(product.copy())
                slots.append(t)
                if len(stack) == chunk:
                    _exact_norms(stack, slots, mantissa)
            else:
                mantissa[t], block = _top_singular(product, block)
            work.advance()
        if stack:
            _exact_norms(stack, slots, mantissa)
    return mantissa, exponent, exact


def _exact_norms(stack: list, slots: list, mantissa: np.ndarray) -> None:
    """The largest singular value of each stacked product, by one batched SVD; empties the
    lists."""
    sigmas = np.linalg.svd(np.array(stack), compute_uv=False)[:, 0]
    mantissa[slots] = sigmas
    stack.clear()
    slots.clear()


def _top_singular(
    m: np.ndarray, block: np.ndarray | None, tol: float | None = None
) -> tuple[float, np.ndarray]:
    """‖m‖₂ by subspace iteration on m mᵀ, warm-started from `block` (H×k orthonormal left
    vectors: the previous product's top ones), and the block for the next call.

    Rayleigh–Ritz on y = mᵀU gives σ ≤ ‖m‖₂ with singular vectors u (left) and v (right,
    v = mᵀu/σ exactly); the value is accepted when the residual ‖m v − σ u‖ ≤ tol·σ, which
    puts a singular value of m within tol·σ of it. After MAX_SWEEPS sweeps (the top singular
    values are clustered), it is exact instead: λ_max(m mᵀ), one GEMM and a symmetric
    tridiagonalisation (4/3·H³), a quarter of an SVD; σ_max² has absolute error ε‖m‖², so
    σ_max keeps full relative accuracy.
    """
    tol = RESIDUAL_TOL if tol is None else tol
    hidden = m.shape[0]
    k = min(hidden, BLOCK)
    warm = block is not None and block.shape == (hidden, k)
    if not warm:
        rng = np.random.default_rng(hidden)
        block, _ = np.linalg.qr(rng.standard_normal((hidden, k)))
    previous = 0.0
    for _ in range(MAX_SWEEPS if warm else COLD_SWEEPS):
        y = m.T @ block  # (H, k): mᵀU
        z = m @ y  # (H, k): m mᵀ U
        _, s, wt = np.linalg.svd(y, full_matrices=False)
        sigma = float(s[0])
        if sigma == 0:
            break
        residual = z @ wt[0] / sigma - sigma * (block @ wt[0])
        if np.linalg.norm(residual) <= tol * sigma or sigma - previous <= SETTLED * sigma:
            return sigma, _orthonormal(z, block)
        previous = sigma
        block = _orthonormal(z, block)
    return math.sqrt(max(0.0, float(np.linalg.eigvalsh(m @ m.T)[-1]))), block


def _orthonormal(z: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    q, r = np.linalg.qr(z)
    return q if np.abs(np.diag(r)).min() > 0 else fallback


def spectral_norm(m: np.ndarray) -> float:
    """‖m‖₂: an SVD for small matrices, else the checked subspace iteration (scaled by a
    power of two so that m mᵀ cannot overflow)."""
    if m.shape[0] <= EIGVEC_MAX or m.shape[0] != m.shape[1]:
        return float(np.linalg.norm(m, 2))
    peak = float(np.abs(m).max())
    if peak == 0 or not math.isfinite(peak):
        return peak
    shift = math.frexp(peak)[1]
    sigma, _ = _top_singular(np.ldexp(m, -shift), None)
    return (
        min(math.ldexp(sigma, shift), MAX_FLOAT)
        if math.frexp(sigma)[1] + shift < 1024
        else MAX_FLOAT
    )


def eigen(wh: np.ndarray) -> Eigen:
    """W_h = T Σ T⁻¹: eigenvalues by modulus (largest first), ρ, σ_max, diagonalisability.

    Eigenvectors and cond(T) only for H ≤ EIGVEC_MAX (an eigen-solver with vectors and an
    SVD of a complex H×H); above it, a normal W_h is diagonalisable with cond 1 (a unitary
    T) and anything else is `None`: not computed.
    """
    hidden = wh.shape[0]
    small = hidden <= EIGVEC_MAX
    with progress.task("eigenvalues of W_h", ops=EIGEN_OPS * hidden**3):
        if small:
            values, vectors = np.linalg.eig(wh)
        else:
            values, vectors = np.linalg.eigvals(wh), None
    order = np.argsort(-np.abs(values), kind="stable")
    values = values[order]
    if small:
        vectors = vectors[:, order]
        cond = float(np.linalg.cond(vectors))
        diagonalizable = bool(np.isfinite(cond) and cond <= DEFECTIVE_COND)
        singular_max = float(np.linalg.norm(wh, 2))
    else:
        progress.checkpoint()
        cond, diagonalizable = (1.0, True) if _is_normal(wh) else (None, None)
        singular_max = spectral_norm(wh)
    return Eigen(
        values=values,
        vectors=vectors,
        cond=cond,
        diagonalizable=diagonalizable,
        radius=float(np.abs(values).max()),
        singular_max=singular_max,
    )


def _is_normal(wh: np.ndarray) -> bool:
    """W_hᵀW_h = W_hW_hᵀ to NORMAL_TOL (two GEMMs, on W_h scaled by a power of two)."""
    peak = float(np.abs(wh).max())
    if peak == 0 or not math.isfinite(peak):
        return peak == 0
    w = np.ldexp(wh, -math.frexp(peak)[1])
    defect = np.linalg.norm(w.T @ w - w @ w.T)
    return bool(defect <= NORMAL_TOL * float(np.sum(w * w)))


def analysis_ops(T: int, hidden: int, check: bool = False) -> dict[str, float]:
    """Estimated floating-point operations of each part of `bptt` (see the module doc)."""
    ops = {
        "the forward and backward passes (4·T·H²)": 4.0 * T * hidden**2,
        "the Jacobian products (2·T·H³)": 2.0 * max(0, T - 2) * hidden**3,
        f"the eigenvalues of W_h ({EIGEN_OPS}·H³)": float(EIGEN_OPS) * hidden**3,
    }
    if check:
        ops["the gradient check (1536·T·H²)"] = 2 * 6 * 64 * 2.0 * T * hidden**2
    return ops


def check_work(T: int, hidden: int, name: str, check: bool = False) -> None:
    """Refuse an analysis whose arithmetic exceeds WORK_PER_ELEMENT·--max-elements."""
    ops = analysis_ops(T, hidden, check)
    total = sum(ops.values())
    allowed = WORK_PER_ELEMENT * budget.limit()
    if total <= allowed:
        return
    biggest = max(ops, key=ops.get)
    raise InputError(
        name,
        f"the analysis would take about {total:.2g} operations (T = {T}, "
        f"H = {hidden}; most of it {biggest}), over the {allowed:.2g} "
        f"allowed by --max-elements {budget.limit()} "
        f"({WORK_PER_ELEMENT} per element): take a smaller T or H, or "
        "raise --max-elements",
    )


MEASURED_TOL = 1e-3  # the measured rate within this (or --tol, the larger) of 1: neutral


def measured(log10_norms: np.ndarray, tol: float) -> tuple[str | None, float | None]:
    """What the measured norms did, and log₁₀ of the rate a step they did it at.

    The rate is the geometric mean factor a step, g = ‖∂h_T/∂h_1‖^(1/(T−1)), taken from
    log₁₀‖∂h_T/∂h_1‖ (exact beyond float64). 'vanishing' when g < 1 − max(tol, 10⁻³),
    'exploding' when g > 1 + max(tol, 10⁻³), else 'neutral'; None for T = 1 (no product).
    """
    T = len(log10_norms)
    if T < 2:
        return None, None
    log10_rate = float(log10_norms[0]) / (T - 1)
    if not math.isfinite(log10_rate):  # an exactly zero product
        return "vanishing", log10_rate
    return regime_of(10.0 ** min(300.0, log10_rate), max(tol, MEASURED_TOL)), log10_rate


def regime_of(rate: float, tol: float) -> str:
    """The notes' criterion: below 1 vanishing, above 1 exploding, within tol neutral."""
    if abs(rate - 1) <= tol:
        return "neutral"
    return "vanishing" if rate < 1 else "exploding"


def bptt(
    xs,
    wx,
    wh,
    b=None,
    h0=None,
    wy=None,
    by=None,
    y=None,
    targets=None,
    activation="tanh",
    lr=None,
    tol=1e-9,
    check=False,
) -> BPTTResult:
    """Forward pass, BPTT gradients, Jacobian norms, eigen-analysis and verdict.

    y: the target (O,) for many-to-one; targets: (T, O) for many-to-many (L = Σ_t L_t).
    lr: one SGD step on every parameter (`updated`). check: compare every gradient with
    central finite differences (`check_error`, the largest relative error).
    """
    rnn = make_rnn(xs, wx, wh, b, h0, wy, by)
    f, _, gamma = get_activation(activation)
    if not (math.isfinite(tol) and tol >= 0):
        raise InputError("tol", f"must be a finite number, 0 or more, got {tol}")
    if lr is not None and not math.isfinite(lr):
        raise InputError("lr", f"must be a finite number, got {lr}")
    out_size = rnn.wy.shape[0] if rnn.wy is not None else rnn.wh.shape[0]
    warnings = []
    many = targets is not None
    if many and y is not None:
        raise InputError(
            "targets", "give either --y (many-to-one) or --targets (many-to-many), not both"
        )
    if many:
        tgt = np.asarray(targets, dtype=np.float64)
        tgt = tgt.reshape(-1, 1) if tgt.ndim <= 1 or (tgt.shape[0] == 1 and out_size == 1) else tgt
        if tgt.shape != (rnn.xs.shape[0], out_size):
            raise ShapeError(
                "targets",
                f"is {shape_str(tgt.shape)} but must be T×O = "
                f"{rnn.xs.shape[0]}×{out_size} for xs "
                f"{shape_str(rnn.xs.shape)}",
            )
    elif y is None:
        tgt = np.zeros(out_size)
        warnings.append("no target given (--y): y = 0")
    else:
        tgt = np.asarray(y, dtype=np.float64).reshape(-1)
        if tgt.size != out_size:
            what = (
                f"W_y {shape_str(rnn.wy.shape)}" if rnn.wy is not None else f"h_T (H = {out_size})"
            )
            raise ShapeError("y", f"has {tgt.size} values but must have {out_size} to fit {what}")
    T, hidden = rnn.xs.shape[0], rnn.wh.shape[0]
    budget.check_shape((T, hidden), "xs", "each trace (h_t, a_t, ∂L/∂h_t, ...: T×H)")
    # The explanation keeps a row of every step: x_t and six H-vectors (a_t, h_t, h_{t−1},
    # f'(a_t), ∂L/∂h_t, ∂L/∂a_t); as one table, T×(D + 6H) must fit the budget too.
    budget.check_shape(
        (T, rnn.xs.shape[1] + 6 * hidden),
        "xs",
        "the table of steps kept for the explanation (T×(D + 6H))",
    )
    check_work(T, hidden, "wh", check)
    ops = analysis_ops(T, hidden)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        fb = forward_backward(rnn, tgt, activation, many)
        try:
            mantissa, exponent, exact = interruptible(
                _jacobian_norm_parts,
                fb.fprime,
                rnn.wh,
                ops=ops["the Jacobian products (2·T·H³)"] + T * hidden**2,
            )
            eig = interruptible(eigen, rnn.wh, ops=EIGEN_OPS * hidden**3)
        except np.linalg.LinAlgError as err:
            raise InputError(
                "wh", f"the linear algebra did not converge ({err}); are the values too large?"
            ) from None
        norms = np.minimum(np.ldexp(mantissa, exponent), MAX_FLOAT)
        log10_norms = jacobian_log10_norms(mantissa, exponent)
        # (γ·σ_max)^(T−t): numpy's power gives inf, not OverflowError; the log is for display
        steps = np.arange(T - 1, -1, -1).astype(np.float64)
        rate = gamma * eig.singular_max
        bound = np.minimum(np.power(rate, steps), MAX_FLOAT)
        log10_bound = np.where(
            steps == 0, 0.0, steps * (math.log10(rate) if rate > 0 else -math.inf)
        )
    result = BPTTResult(
        h=fb.h,
        y_hat=fb.y_hat,
        loss=fb.loss,
        grads=fb.grads,
        jacobian_norms=norms,
        eigenvalues=[[float(v.real), float(v.imag)] for v in eig.values],
        spectral_radius=eig.radius,
        singular_max=eig.singular_max,
        diagonalizable=eig.diagonalizable,
        regime=regime_of(eig.radius, tol),
        rnn=rnn,
        activation=activation,
        targets=tgt,
        many_to_many=many,
        pre=fb.pre,
        fprime=fb.fprime,
        dh=fb.dh,
        da=fb.da,
        wh_contributions=np.linalg.norm(fb.da, axis=1) * np.linalg.norm(fb.prev, axis=1),
        eigvecs=eig.vectors,
        eig_cond=eig.cond,
        gamma=gamma,
        bound=bound,
        norms_exact=exact,
        lr=lr,
        tol=tol,
        warnings=warnings,
        log10_norms=log10_norms,
        log10_bound=log10_bound,
    )
    result.measured_regime, log10_rate = measured(log10_norms, tol)
    inner = fb.fprime[1:]
    result.facts = VerdictFacts(
        rho=eig.radius,
        regime=result.regime,
        linear=activation == "identity",
        gamma=gamma,
        sigma_max=eig.singular_max,
        rate=rate,
        measured_regime=result.measured_regime,
        measured_log10_rate=log10_rate,
        mean_fprime=float(inner.mean()) if inner.size else None,
        saturated=float((inner < 0.1).mean()) if inner.size else None,
        steps=T - 1,
    )
    if lr is not None:
        result.updated = {k: v - lr * result.grads[k] for k, v in rnn.arrays().items()}
    if check:
        result.check_error, result.check_worst, result.check_sampled = gradient_check(
            rnn, tgt, activation, many, result.grads
        )
    return result


def gradient_check(
    rnn: RNN, targets, name: str, many: bool, grads: dict, max_entries: int = 64, eps: float = 1e-6
) -> tuple[float, str, bool]:
    """Largest relative error of central differences against `grads` (check_gradients)."""
    f, _, _ = get_activation(name)
    return check_gradients(
        rnn.arrays(),
        grads,
        lambda: loss_of(rnn, targets, f, many),
        2.0 * rnn.xs.shape[0] * rnn.wh.shape[0] ** 2,
        max_entries,
        eps,
    )


def check_gradients(arrays: dict, grads: dict, loss, loss_ops: float, max_entries=64, eps=1e-6):
    """(largest relative error, where, sampled): |analytic − numeric| / max(|analytic|,
    |numeric|, 1e-8) of central differences of `loss()` (which reads `arrays`, changed in
    place entry by entry), at most `max_entries` (seeded) entries per array; `where` is
    1-based, [row,column] for a matrix. `loss_ops`: the work of one loss, for progress."""
    rng = np.random.default_rng(0)
    worst, where, sampled = 0.0, "", False
    picked = {}
    for key, param in arrays.items():
        picked[key] = np.arange(param.size)
        if param.size > max_entries:
            picked[key] = rng.choice(param.size, max_entries, replace=False)
            sampled = True
    count = sum(len(entries) for entries in picked.values())
    with progress.task("gradient check", steps=count, ops=2.0 * count * loss_ops) as work:
        for key, param in arrays.items():
            flat = param.reshape(-1)
            for i in picked[key]:
                saved = flat[i]
                step = eps * max(1.0, abs(saved))
                flat[i] = saved + step
                up = loss()
                flat[i] = saved - step
                down = loss()
                flat[i] = saved
                numeric = (up - down) / (2 * step)
                analytic = grads[key].reshape(-1)[i]
                error = abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-8)
                if error >= worst:
                    index = np.unravel_index(int(i), param.shape)
                    worst, where = error, f"{key}[{','.join(str(k + 1) for k in index)}]"
                work.advance()
    return worst, where, sampled


def random_case(t: int, d: int, hidden: int, seed: int | None, scale: float) -> dict:
    """xs ~ N(0, 1) (T×D); W_x entries of variance 1/D; W_h = σ·Q with Q a random
    orthogonal matrix (so ρ = σ exactly); b = 0; y ~ N(0, 1) (H)."""
    for name, value in (("T", t), ("D", d), ("H", hidden)):
        if value < 1:
            raise InputError("random", f"{name} must be 1 or more, got {value}")
    if not math.isfinite(scale):
        raise InputError("scale", f"must be a finite number, got {scale}")
    budget.check_shape((t, d), "random", "the inputs xs (T×D)")
    budget.check_shape((hidden, d), "random", "W_x (H×D)")
    budget.check_shape((hidden, hidden), "random", "W_h (H×H)")
    budget.check_shape((t, hidden), "random", "each trace (h_t, a_t, ...: T×H)")
    budget.check_shape(
        (t, d + 6 * hidden), "random", "the table of steps kept for the explanation (T×(D + 6H))"
    )
    check_work(t, hidden, "random")
    rng = np.random.default_rng(seed)
    q, r = interruptible(np.linalg.qr, rng.standard_normal((hidden, hidden)), ops=4.0 * hidden**3)
    q *= np.sign(np.diag(r))  # Haar-distributed
    return dict(
        xs=rng.standard_normal((t, d)),
        wx=rng.standard_normal((hidden, d)) / math.sqrt(d),
        wh=scale * q,
        b=np.zeros(hidden),
        y=rng.standard_normal(hidden),
    )
