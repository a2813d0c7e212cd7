"""A many-to-one (or many-to-many) RNN: forward pass, BPTT, and why gradients vanish.

    a_t = W_x x_t + W_h h_{t−1} + b        h_t = f(a_t)          t = 1..T
    ŷ   = W_y h_T + b_y   (or ŷ = h_T)     L = ½‖ŷ − y‖²
    many-to-many: ŷ_t = W_y h_t + b_y,     L = Σ_t ½‖ŷ_t − y_t‖²

Backward, one step at a time (the only loop runs over time; the input GEMMs are
hoisted out of it):

    ∂L/∂h_t = (readout at t) + W_hᵀ ∂L/∂a_{t+1}       ∂L/∂a_t = ∂L/∂h_t ⊙ f'(a_t)
    ∂L/∂W_h = Σ_t ∂L/∂a_t h_{t−1}ᵀ   (the notes' sum over t: one term per step)
    ∂h_{t+1}/∂h_t = diag(f'(a_{t+1})) W_h      (the notes write tanh where f' belongs)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cnnrnn_cli.core.activations import activation as get_activation
from cnnrnn_cli.core.shapes import as_matrix, sized_vector
from cnnrnn_cli.errors import InputError, ShapeError, shape_str

DEFECTIVE_COND = 1e12  # eigenvector matrices worse conditioned than this: not diagonalisable
EXACT_NORM_WORK = 5e7  # T·H³ up to which every ‖∂h_T/∂h_t‖ is an exact SVD norm
MAX_FLOAT = np.finfo(np.float64).max


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
    diagonalizable: bool
    regime: str
    updated: dict | None = None
    # trace
    rnn: RNN | None = None
    activation: str = "tanh"
    targets: np.ndarray | None = None
    many_to_many: bool = False
    pre: np.ndarray | None = None          # (T, H) a_t
    fprime: np.ndarray | None = None       # (T, H) f'(a_t)
    dh: np.ndarray | None = None           # (T, H) ∂L/∂h_t (all paths)
    da: np.ndarray | None = None           # (T, H) ∂L/∂a_t
    wh_contributions: np.ndarray | None = None  # (T,) ‖∂L/∂a_t h_{t−1}ᵀ‖_F
    eigvecs: np.ndarray | None = None
    eig_cond: float = 1.0
    gamma: float = 1.0
    bound: np.ndarray | None = None        # (T,) (γ σ_max)^(T−t)
    norms_exact: bool = True
    measured_regime: str = ""
    lr: float | None = None
    tol: float = 1e-9
    check_error: float | None = None
    check_worst: str = ""
    check_sampled: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def T(self) -> int:
        return self.h.shape[0]

    def step_term(self, t: int) -> np.ndarray:
        """(H, H): step t's term ∂L/∂a_t h_{t−1}ᵀ of ∂L/∂W_h (t 0-based)."""
        prev = self.rnn.h0 if t == 0 else self.h[t - 1]
        return np.outer(self.da[t], prev)

    def jacobian_factors(self, t: int, limit: int | None = None) -> np.ndarray:
        """(n, H, H): ∂h_{k+1}/∂h_k = diag(f'(a_{k+1})) W_h for k = t..T−2 (0-based), the
        factors of ∂h_T/∂h_t; at most `limit` of them."""
        stop = self.T - 1 if limit is None else min(self.T - 1, t + limit)
        return np.array([self.fprime[k + 1][:, None] * self.rnn.wh for k in range(t, stop)])

    def factor_norms(self, t: int, limit: int | None = None) -> np.ndarray:
        """‖∂h_{k+1}/∂h_k‖₂ of those factors."""
        factors = self.jacobian_factors(t, limit)
        return np.linalg.norm(factors, 2, axis=(1, 2)) if len(factors) else np.zeros(0)

    def chain(self, t: int) -> np.ndarray:
        """(H, H): ∂h_T/∂h_t, the factors multiplied out (t 0-based)."""
        product = np.eye(self.rnn.wh.shape[0])
        for factor in self.jacobian_factors(t):
            product = factor @ product
        return product


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
        raise ShapeError("wx", f"W_x is {shape_str(wx.shape)} but must be H×D = "
                               f"{hidden}×{xs.shape[1]} for W_h {shape_str(wh.shape)} and "
                               f"xs {shape_str(xs.shape)}")
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
            raise ShapeError("wy", f"W_y is {shape_str(wy.shape)} but must be O×H with H = "
                                   f"{hidden} (W_h {shape_str(wh.shape)})")
    by = sized_vector(by, "by", wy.shape[0], f"W_y {shape_str(wy.shape)}")
    return _contiguous(RNN(xs, wx, wh, b, h0, wy, by))


def _contiguous(rnn: RNN) -> RNN:
    """Own, C-ordered copies: the gradient check perturbs them in place."""
    for name in ("xs", "wx", "wh", "b", "h0", "wy", "by"):
        value = getattr(rnn, name)
        if value is not None:
            setattr(rnn, name, np.array(value, dtype=np.float64, order="C"))
    return rnn


def forward(rnn: RNN, f) -> tuple[np.ndarray, np.ndarray]:
    """(a, h), both (T, H): a_t = W_x x_t + W_h h_{t−1} + b, h_t = f(a_t)."""
    inputs = rnn.xs @ rnn.wx.T + rnn.b  # hoisted: one GEMM for all t
    pre = np.empty_like(inputs)
    h = np.empty_like(inputs)
    prev = rnn.h0
    for t in range(inputs.shape[0]):
        pre[t] = inputs[t] + rnn.wh @ prev
        h[t] = prev = f(pre[t])
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


def forward_backward(rnn: RNN, targets: np.ndarray, name: str = "tanh",
                     many_to_many: bool = False) -> dict:
    """Forward pass and BPTT. Returns pre, h, y_hat, loss, grads, dh, da, fprime."""
    f, fprime_of, _ = get_activation(name)
    pre, h = forward(rnn, f)
    y_hat = readout(rnn, h, many_to_many)
    err = y_hat - targets                                   # ∂L/∂ŷ = ŷ − y
    loss = 0.5 * float(np.sum(err * err))
    grads = {}
    T, hidden = h.shape
    top = np.zeros((T, hidden))                             # ∂L/∂h_t through the readout
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
    fprime = fprime_of(pre, h)                              # f'(a_t)
    dh = np.empty_like(h)
    da = np.empty_like(h)
    carry = np.zeros(hidden)                                # W_hᵀ ∂L/∂a_{t+1}
    for t in range(T - 1, -1, -1):
        dh[t] = top[t] + carry
        da[t] = dh[t] * fprime[t]                           # through h_t = f(a_t)
        carry = rnn.wh.T @ da[t]                            # through a_t's W_h h_{t−1}
    prev = np.vstack([rnn.h0, h[:-1]])                      # h_{t−1} for t = 1..T
    grads["wx"] = da.T @ rnn.xs                             # hoisted: Σ_t ∂L/∂a_t x_tᵀ
    grads["wh"] = da.T @ prev                               # Σ_t ∂L/∂a_t h_{t−1}ᵀ
    grads["b"] = da.sum(axis=0)
    grads["h0"] = carry
    order = ["wx", "wh", "b", "wy", "by", "h0"]
    grads = {k: grads[k] for k in order if k in grads}
    return dict(pre=pre, h=h, y_hat=y_hat, loss=loss, grads=grads, dh=dh, da=da,
                fprime=fprime, prev=prev)


def jacobian_norms(fprime: np.ndarray, wh: np.ndarray) -> tuple[np.ndarray, bool]:
    """(T,) spectral norms ‖∂h_T/∂h_t‖₂ = ‖Π_{a=t}^{T−1} diag(f'(a_{a+1})) W_h‖₂, and whether
    they are exact (an SVD each) or power-iteration estimates (large T·H³).

    The running product is rescaled as it goes, so that 2^1000 neither overflows nor
    underflows before the norm is taken; norms beyond float64 are clipped to its maximum.
    """
    T, hidden = fprime.shape
    exact = T * hidden ** 3 <= EXACT_NORM_WORK
    norms = np.ones(T)
    product = np.eye(hidden)
    log_scale = 0.0
    stack, scales, slots = [], [], []
    vector = np.ones(hidden) / math.sqrt(hidden)
    for t in range(T - 2, -1, -1):
        product = product @ (fprime[t + 1][:, None] * wh)    # ∂h_T/∂h_t = ∂h_T/∂h_{t+1} J_t
        peak = np.abs(product).max()
        if peak == 0:
            norms[: t + 1] = 0.0
            break
        if not np.isfinite(peak):  # one step alone overflowed: nothing left to rescale
            raise InputError("wh", "the Jacobian products overflow float64; scale W_h down")
        if not 1e-150 < peak < 1e150:
            product /= peak
            log_scale += math.log(peak)
        if exact:
            stack.append(product.copy())
            scales.append(log_scale)
            slots.append(t)
        else:
            sigma, vector = _power_norm(product, vector)
            norms[t] = _scaled(sigma, log_scale)
    for start in range(0, len(stack), 256):
        chunk = np.array(stack[start:start + 256])
        sigmas = np.linalg.svd(chunk, compute_uv=False)[:, 0]
        for sigma, scale, t in zip(sigmas, scales[start:start + 256],
                                   slots[start:start + 256], strict=True):
            norms[t] = _scaled(sigma, scale)
    return norms, exact


def _power_norm(matrix: np.ndarray, start: np.ndarray, tol: float = 1e-12,
                max_iter: int = 200) -> tuple[float, np.ndarray]:
    """Largest singular value by power iteration on MᵀM, warm-started from `start`."""
    v = start / (np.linalg.norm(start) or 1.0)
    sigma = 0.0
    for _ in range(max_iter):
        w = matrix.T @ (matrix @ v)
        norm = np.linalg.norm(w)
        if norm == 0:
            return 0.0, start
        v = w / norm
        new = math.sqrt(norm)
        if abs(new - sigma) <= tol * new:
            return new, v
        sigma = new
    return sigma, v


def _scaled(sigma: float, log_scale: float) -> float:
    if sigma == 0:
        return 0.0
    value = math.log(sigma) + log_scale
    return MAX_FLOAT if value > math.log(MAX_FLOAT) else math.exp(value)


def eigen(wh: np.ndarray) -> dict:
    """W_h = T Σ T⁻¹: eigenvalues by modulus (largest first), ρ, σ_max, diagonalisability."""
    values, vectors = np.linalg.eig(wh)
    order = np.argsort(-np.abs(values), kind="stable")
    values, vectors = values[order], vectors[:, order]
    cond = float(np.linalg.cond(vectors))
    return dict(values=values, vectors=vectors, cond=cond,
                diagonalizable=bool(np.isfinite(cond) and cond <= DEFECTIVE_COND),
                radius=float(np.abs(values).max()),
                singular_max=float(np.linalg.norm(wh, 2)))


def regime_of(rate: float, tol: float) -> str:
    """The notes' criterion: below 1 vanishing, above 1 exploding, within tol neutral."""
    if abs(rate - 1) <= tol:
        return "neutral"
    return "vanishing" if rate < 1 else "exploding"


def bptt(xs, wx, wh, b=None, h0=None, wy=None, by=None, y=None, targets=None,
         activation="tanh", lr=None, tol=1e-9, check=False) -> BPTTResult:
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
        raise InputError("targets", "give either --y (many-to-one) or --targets "
                                    "(many-to-many), not both")
    if many:
        tgt = np.asarray(targets, dtype=np.float64)
        tgt = tgt.reshape(-1, 1) if tgt.ndim <= 1 or (tgt.shape[0] == 1 and out_size == 1) \
            else tgt
        if tgt.shape != (rnn.xs.shape[0], out_size):
            raise ShapeError("targets", f"is {shape_str(tgt.shape)} but must be T×O = "
                                        f"{rnn.xs.shape[0]}×{out_size} for xs "
                                        f"{shape_str(rnn.xs.shape)}")
    elif y is None:
        tgt = np.zeros(out_size)
        warnings.append("no target given (--y): y = 0")
    else:
        tgt = np.asarray(y, dtype=np.float64).reshape(-1)
        if tgt.size != out_size:
            what = f"W_y {shape_str(rnn.wy.shape)}" if rnn.wy is not None else \
                f"h_T (H = {out_size})"
            raise ShapeError("y", f"has {tgt.size} values but must have {out_size} to fit "
                                  f"{what}")
    with np.errstate(over="ignore", invalid="ignore"):
        fb = forward_backward(rnn, tgt, activation, many)
        try:
            norms, exact = jacobian_norms(fb["fprime"], rnn.wh)
            eig = eigen(rnn.wh)
        except np.linalg.LinAlgError as err:
            raise InputError("wh", f"the linear algebra did not converge ({err}); are the "
                                   "values too large?") from None
    T = rnn.xs.shape[0]
    steps = np.arange(T - 1, -1, -1)
    bound = np.array([_scaled(1.0, k * math.log(gamma * eig["singular_max"]))
                      if gamma * eig["singular_max"] > 0 else float(k == 0) for k in steps])
    result = BPTTResult(
        h=fb["h"], y_hat=fb["y_hat"], loss=fb["loss"], grads=fb["grads"],
        jacobian_norms=norms,
        eigenvalues=[[float(v.real), float(v.imag)] for v in eig["values"]],
        spectral_radius=eig["radius"], singular_max=eig["singular_max"],
        diagonalizable=eig["diagonalizable"], regime=regime_of(eig["radius"], tol),
        rnn=rnn, activation=activation, targets=tgt, many_to_many=many, pre=fb["pre"],
        fprime=fb["fprime"], dh=fb["dh"], da=fb["da"],
        wh_contributions=np.linalg.norm(fb["da"], axis=1) * np.linalg.norm(fb["prev"], axis=1),
        eigvecs=eig["vectors"], eig_cond=eig["cond"], gamma=gamma, bound=bound,
        norms_exact=exact, lr=lr, tol=tol, warnings=warnings)
    if T >= 2 and norms[0] > 0:
        result.measured_regime = regime_of(norms[0] ** (1 / (T - 1)), max(tol, 1e-3))
    elif T >= 2:
        result.measured_regime = "vanishing"
    if lr is not None:
        result.updated = {k: v - lr * result.grads[k] for k, v in rnn.arrays().items()}
    if check:
        result.check_error, result.check_worst, result.check_sampled = \
            gradient_check(rnn, tgt, activation, many, result.grads)
    return result


def gradient_check(rnn: RNN, targets, name: str, many: bool, grads: dict,
                   max_entries: int = 64, eps: float = 1e-6) -> tuple[float, str, bool]:
    """Largest relative error |analytic − numeric| / max(|analytic|, |numeric|, 1e-8) of
    central differences; at most `max_entries` (seeded) entries per array."""
    f, _, _ = get_activation(name)
    rng = np.random.default_rng(0)
    worst, where, sampled = 0.0, "", False
    for key, param in rnn.arrays().items():
        flat = param.reshape(-1)
        entries = np.arange(flat.size)
        if flat.size > max_entries:
            entries = rng.choice(flat.size, max_entries, replace=False)
            sampled = True
        for i in entries:
            saved = flat[i]
            step = eps * max(1.0, abs(saved))
            flat[i] = saved + step
            up = loss_of(rnn, targets, f, many)
            flat[i] = saved - step
            down = loss_of(rnn, targets, f, many)
            flat[i] = saved
            numeric = (up - down) / (2 * step)
            analytic = grads[key].reshape(-1)[i]
            error = abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-8)
            if error >= worst:
                worst, where = error, f"{key}[{int(i)}]"
    return worst, where, sampled


def random_case(t: int, d: int, hidden: int, seed: int | None, scale: float) -> dict:
    """xs ~ N(0, 1) (T×D); W_x entries of variance 1/D; W_h = σ·Q with Q a random
    orthogonal matrix (so ρ = σ exactly); b = 0; y ~ N(0, 1) (H)."""
    for name, value in (("T", t), ("D", d), ("H", hidden)):
        if value < 1:
            raise InputError("random", f"{name} must be 1 or more, got {value}")
    if not math.isfinite(scale):
        raise InputError("scale", f"must be a finite number, got {scale}")
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((hidden, hidden)))
    q *= np.sign(np.diag(r))  # Haar-distributed
    return dict(xs=rng.standard_normal((t, d)), wx=rng.standard_normal((hidden, d)) /
                math.sqrt(d), wh=scale * q, b=np.zeros(hidden), y=rng.standard_normal(hidden))
