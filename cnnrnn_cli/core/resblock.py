"""The skip connection of a ResNet block, with and without the skip, side by side.

    z1 = W1 a0 + b1,   a1 = f(z1),   z2 = W2 a1 + b2
    with the skip:     a2 = f(z2 + s),  s = a0 (or WS a0, a projection, when sizes differ)
    without:           a2 = f(z2)

(the notes call the block's output a_3; it is its second activation, a2). Jacobians,
rows are outputs:

    with:     ∂a2/∂a0 = diag(f'(z2 + s)) (W2 diag(f'(z1)) W1 + I)    (I, or WS)
    without:  ∂a2/∂a0 = diag(f'(z2)) W2 diag(f'(z1)) W1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnrnn_cli.core.activations import activation as get_activation
from cnnrnn_cli.core.shapes import as_matrix, as_vector, sized_vector
from cnnrnn_cli.errors import InputError, ShapeError, shape_str


@dataclass
class BlockPass:
    """One variant's values. z1, a1: (m,); z2, a2: (n,); jacobian: (n, len(a0))."""

    z1: np.ndarray
    a1: np.ndarray
    z2: np.ndarray
    a2: np.ndarray
    jacobian: np.ndarray

    def as_dict(self) -> dict:
        return {"z1": self.z1, "a1": self.a1, "z2": self.z2, "a2": self.a2,
                "jacobian": self.jacobian}


@dataclass
class ResBlockResult:
    """`skip` and `plain`; `grad_norms` {skip, plain}: L norms ‖∂a_l/∂a_0‖₂ with --depth."""

    skip: BlockPass
    plain: BlockPass
    a0: np.ndarray
    weights: dict
    activation: str = "relu"
    grad_norms: dict | None = None
    depth_random: bool = False


def check_block(a0, w1, b1=None, w2=None, b2=None, shortcut=None) -> dict:
    """Shapes: a0 (n,), W1 (m, n), b1 (m,), W2 (k, m), b2 (k,), WS (k, n); k == n without WS."""
    a0 = as_vector(a0, "a0")
    n = a0.size
    w1 = as_matrix(w1, "w1")
    if w1.shape[1] != n:
        raise ShapeError("w1", f"W1 is {shape_str(w1.shape)} but a0 has {n} values: W1 must "
                               f"be m×{n}")
    m = w1.shape[0]
    b1 = sized_vector(b1, "b1", m, f"W1 {shape_str(w1.shape)}")
    if w2 is None:
        raise InputError("w2", "missing: give --w2 (or --weights, --random, --example)")
    w2 = as_matrix(w2, "w2")
    if w2.shape[1] != m:
        raise ShapeError("w2", f"W2 is {shape_str(w2.shape)} but W1 {shape_str(w1.shape)} "
                               f"gives a1 of {m} values: W2 must be k×{m}")
    k = w2.shape[0]
    b2 = sized_vector(b2, "b2", k, f"W2 {shape_str(w2.shape)}")
    if shortcut is None:
        if k != n:
            raise ShapeError("w2", f"W2 {shape_str(w2.shape)} gives {k} outputs but a0 has {n}:"
                                   f" the skip a2 = f(z2 + a0) needs a projection --shortcut "
                                   f"WS ({k}×{n})")
    else:
        shortcut = as_matrix(shortcut, "shortcut")
        if shortcut.shape != (k, n):
            raise ShapeError("shortcut", f"WS is {shape_str(shortcut.shape)} but must be "
                                         f"{k}×{n} (W2 {shape_str(w2.shape)}, a0 of {n})")
    return dict(a0=a0, w1=w1, b1=b1, w2=w2, b2=b2, shortcut=shortcut)


def block(a0, w1, b1, w2, b2, shortcut, f, fprime, skip: bool) -> BlockPass:
    """One pass through the block, with its Jacobian ∂a2/∂a0 (rows are outputs)."""
    z1 = w1 @ a0 + b1
    a1 = f(z1)
    z2 = w2 @ a1 + b2
    inner = w2 @ (fprime(z1, a1)[:, None] * w1)             # ∂z2/∂a0 = W2 diag(f'(z1)) W1
    if skip:
        s = a0 if shortcut is None else shortcut @ a0
        out_pre = z2 + s
        inner = inner + (np.eye(a0.size) if shortcut is None else shortcut)  # + the skip path
    else:
        out_pre = z2
    a2 = f(out_pre)
    jacobian = fprime(out_pre, a2)[:, None] * inner          # diag(f'(·)) (...)
    return BlockPass(z1, a1, z2, a2, jacobian)


def resblock(a0, w1, b1=None, w2=None, b2=None, shortcut=None, activation="relu",
             depth=None, random_depth=False, seed=None) -> ResBlockResult:
    """The block with and without the skip; with `depth` L, the norms ‖∂a_l/∂a_0‖₂ of a
    stack of L blocks (the given block repeated, or fresh random blocks), both ways."""
    weights = check_block(a0, w1, b1, w2, b2, shortcut)
    f, fprime, _ = get_activation(activation)
    args = [weights[k] for k in ("a0", "w1", "b1", "w2", "b2", "shortcut")]
    with np.errstate(over="ignore", invalid="ignore"):
        result = ResBlockResult(block(*args, f, fprime, True), block(*args, f, fprime, False),
                                weights["a0"], weights, activation, depth_random=random_depth)
        if depth is not None:
            result.grad_norms = depth_norms(weights, f, fprime, depth, random_depth, seed)
    return result


def depth_norms(weights: dict, f, fprime, depth: int, random_blocks: bool,
                seed: int | None) -> dict:
    """{'skip': [...], 'plain': [...]}: ‖∂a_l/∂a_0‖₂ for l = 1..L (chain rule: the product of
    the blocks' Jacobians, each taken at its own input)."""
    if depth < 1:
        raise InputError("depth", f"must be 1 or more, got {depth}")
    n = weights["a0"].size
    if not random_blocks and weights["w2"].shape[0] != n:
        raise InputError("depth", "repeating the block needs it to keep the size (no "
                                  "projection shortcut); use --random for random blocks")
    from cnnrnn_cli import budget

    budget.check(2 * depth, "depth", "the two lists of norms")
    budget.check_shape((n, n), "depth", "each block's Jacobian")
    # The same random blocks for both passes, made one at a time (never a list of L).
    sequence = np.random.SeedSequence(seed)

    def blocks():
        rng = np.random.default_rng(sequence)
        for _ in range(depth):
            yield random_block(n, rng) if random_blocks else weights

    norms = {}
    for name, skip in (("skip", True), ("plain", False)):
        a, jac, out = weights["a0"], np.eye(n), []
        for w in blocks():
            step = block(a, w["w1"], w["b1"], w["w2"], w["b2"], None, f, fprime, skip)
            jac = step.jacobian @ jac
            a = step.a2
            if not np.isfinite(jac).all():
                raise InputError("depth", f"the Jacobian of {len(out) + 1} blocks overflows "
                                          "float64; use fewer blocks or smaller weights")
            out.append(float(np.linalg.norm(jac, 2)))
        norms[name] = out
    return norms


def random_block(n: int, rng, width: int | None = None) -> dict:
    """W1, W2 with entries N(0, 1/fan-in), b1 = b2 = 0."""
    m = width or n
    return dict(w1=rng.standard_normal((m, n)) / np.sqrt(n), b1=np.zeros(m),
                w2=rng.standard_normal((n, m)) / np.sqrt(m), b2=np.zeros(n))


def random_case(n: int, seed: int | None) -> dict:
    """a0 ~ N(0, 1) (n) and one random block of width n."""
    from cnnrnn_cli import budget

    if n < 1:
        raise InputError("size", f"must be 1 or more, got {n}")
    budget.check(2 * n * n, "size", "the random block's weights")
    rng = np.random.default_rng(seed)
    return dict(a0=rng.standard_normal(n), **random_block(n, rng))
