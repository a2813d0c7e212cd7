"""The skip connection of a ResNet block, with and without the skip, side by side.

    z1 = W1 a0 + b1,   a1 = f(z1),   z2 = W2 a1 + b2
    with the skip:     a2 = f(z2 + s),  s = a0 (or WS a0, a projection, when sizes differ)
    without:           a2 = f(z2)

(the notes call the block's output a_3; it is its second activation, a2). Jacobians,
rows are outputs:

    with:     ∂a2/∂a0 = diag(f'(z2 + s)) (W2 diag(f'(z1)) W1 + I)    (I, or WS)
    without:  ∂a2/∂a0 = diag(f'(z2)) W2 diag(f'(z1)) W1

The facts an explanation may state (dead units, zero Jacobian rows, growth per block) are
computed here, from the numbers (`BlockFacts`, `DepthFacts`), so that no sentence claims
what the numbers do not show.
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
    shortcut: np.ndarray | None = None  # s = a0 (or WS a0) with the skip; None without
    d1: np.ndarray | None = None  # f'(z1)
    d2: np.ndarray | None = None  # f'(z2 + s), or f'(z2) without the skip
    through: np.ndarray | None = None  # ∂z2/∂a0 = W2 diag(f'(z1)) W1, the path through a1

    @property
    def pre(self) -> np.ndarray:
        """The input of a2's activation: z2 + s, or z2."""
        return self.z2 if self.shortcut is None else self.z2 + self.shortcut

    def as_dict(self) -> dict:
        return {
            "z1": self.z1,
            "a1": self.a1,
            "z2": self.z2,
            "a2": self.a2,
            "jacobian": self.jacobian,
        }


@dataclass
class BlockFacts:
    """One block, both ways; units and rows 0-based. A unit is dead where f' of its input
    is exactly 0 (relu: input ≤ 0; tanh, sigmoid: saturated in float64): its row of every
    Jacobian through it is then 0."""

    dead_a1: list[int]  # f'(z1) = 0 (the same units with and without the skip)
    dead_skip: list[int]  # units of a2 with f'(z2 + s) = 0
    dead_plain: list[int]  # units of a2 with f'(z2) = 0
    zero_rows_skip: list[int]  # rows of ∂a2/∂a0 that are all 0, with the skip
    zero_rows_plain: list[int]  # ... and without
    norm_skip: float  # ‖∂a2/∂a0‖₂ with the skip
    norm_plain: float  # ... and without

    @property
    def rescued(self) -> list[int]:
        """Rows that are 0 without the skip and not with it: the skip's path reaches a0."""
        return [i for i in self.zero_rows_plain if i not in self.zero_rows_skip]


# The band within which a stack's gradient is "kept alive": neither vanishing nor exploding.
BAND = (0.1, 10.0)
# A factor per block within 5% of 1 is "steady".
STEADY = 0.05


@dataclass
class Trend:
    """How ‖∂a_l/∂a_0‖₂ behaves through one stack, l = 1..L."""

    factor: float | None  # per block: the geometric mean of the L − 1 ratios
    #                              ‖J_l‖/‖J_{l−1}‖, l = 2..L (one block: ‖J_1‖/‖I‖);
    #                              None once a norm is 0
    first_zero: int | None  # 1-based l from which the norm is exactly 0
    zero_dead: int = 0  # dead units (f' = 0) in block first_zero: 0 means underflow
    low: float = 0.0  # the smallest and largest norm
    high: float = 0.0
    last: float = 0.0

    @property
    def verdict(self) -> str:
        """'vanishes' (exactly 0), 'grows', 'decays' or 'steady' (factor within 5% of 1)."""
        if self.first_zero is not None:
            return "vanishes"
        if self.factor > 1 + STEADY:
            return "grows"
        if self.factor < 1 - STEADY:
            return "decays"
        return "steady"

    @property
    def in_band(self) -> bool:
        """Every norm within BAND."""
        return self.first_zero is None and BAND[0] <= self.low and self.high <= BAND[1]


@dataclass
class DepthFacts:
    """The two stacks' trends; `skip_above`: the skip's norm ≥ the plain one at every l."""

    skip: Trend
    plain: Trend
    skip_above: bool = False

    @property
    def alive(self) -> bool:
        """The skip keeps the gradient alive where the plain stack loses it: the skip's
        norms stay within BAND at every block, never below the plain ones, while the plain
        ones end below BAND (or at 0)."""
        return self.skip.in_band and self.skip_above and self.plain.last < BAND[0]


@dataclass
class ResBlockResult:
    """`skip` and `plain`; `grad_norms` {skip, plain}: L norms ‖∂a_l/∂a_0‖₂ with --depth;
    `facts` (and `depth_facts` with --depth): what the explanation may say. `seed`: the seed
    of a random case (None when the arrays were given)."""

    skip: BlockPass
    plain: BlockPass
    a0: np.ndarray
    weights: dict
    activation: str = "relu"
    grad_norms: dict | None = None
    depth_random: bool = False
    facts: BlockFacts | None = None
    depth_facts: DepthFacts | None = None
    seed: int | None = None


def check_block(a0, w1, b1=None, w2=None, b2=None, shortcut=None) -> dict:
    """Shapes: a0 (n,), W1 (m, n), b1 (m,), W2 (k, m), b2 (k,), WS (k, n); k == n without WS."""
    a0 = as_vector(a0, "a0")
    n = a0.size
    w1 = as_matrix(w1, "w1")
    if w1.shape[1] != n:
        raise ShapeError(
            "w1", f"W1 is {shape_str(w1.shape)} but a0 has {n} values: W1 must be m×{n}"
        )
    m = w1.shape[0]
    b1 = sized_vector(b1, "b1", m, f"W1 {shape_str(w1.shape)}")
    if w2 is None:
        raise InputError("w2", "missing: give --w2 (or --weights, --random, --example)")
    w2 = as_matrix(w2, "w2")
    if w2.shape[1] != m:
        raise ShapeError(
            "w2",
            f"W2 is {shape_str(w2.shape)} but W1 {shape_str(w1.shape)} "
            f"gives a1 of {m} values: W2 must be k×{m}",
        )
    k = w2.shape[0]
    b2 = sized_vector(b2, "b2", k, f"W2 {shape_str(w2.shape)}")
    if shortcut is None:
        if k != n:
            raise ShapeError(
                "w2",
                f"W2 {shape_str(w2.shape)} gives {k} outputs but a0 has {n}:"
                f" the skip a2 = f(z2 + a0) needs a projection --shortcut "
                f"WS ({k}×{n})",
            )
    else:
        shortcut = as_matrix(shortcut, "shortcut")
        if shortcut.shape != (k, n):
            raise ShapeError(
                "shortcut",
                f"WS is {shape_str(shortcut.shape)} but must be "
                f"{k}×{n} (W2 {shape_str(w2.shape)}, a0 of {n})",
            )
    return dict(a0=a0, w1=w1, b1=b1, w2=w2, b2=b2, shortcut=shortcut)


def block(a0, w1, b1, w2, b2, shortcut, f, fprime, skip: bool) -> BlockPass:
    """One pass through the block, with its Jacobian ∂a2/∂a0 (rows are outputs)."""
    z1 = w1 @ a0 + b1
    a1 = f(z1)
    z2 = w2 @ a1 + b2
    d1 = fprime(z1, a1)
    through = w2 @ (d1[:, None] * w1) + 0.0  # ∂z2/∂a0 = W2 diag(f'(z1)) W1; + 0.0: no −0
    inner = through
    s = None
    if skip:
        s = a0 if shortcut is None else shortcut @ a0
        out_pre = z2 + s
        inner = inner + (np.eye(a0.size) if shortcut is None else shortcut)  # + the skip path
    else:
        out_pre = z2
    a2 = f(out_pre)
    d2 = fprime(out_pre, a2)
    jacobian = d2[:, None] * inner + 0.0  # diag(f'(·)) (...); + 0.0: no −0
    return BlockPass(z1, a1, z2, a2, jacobian, s, d1, d2, through)


def resblock(
    a0,
    w1,
    b1=None,
    w2=None,
    b2=None,
    shortcut=None,
    activation="relu",
    depth=None,
    random_depth=False,
    seed=None,
) -> ResBlockResult:
    """The block with and without the skip; with `depth` L, the norms ‖∂a_l/∂a_0‖₂ of a
    stack of L blocks (the given block repeated, or fresh random blocks), both ways."""
    weights = check_block(a0, w1, b1, w2, b2, shortcut)
    f, fprime, _ = get_activation(activation)
    args = [weights[k] for k in ("a0", "w1", "b1", "w2", "b2", "shortcut")]
    with np.errstate(over="ignore", invalid="ignore"):
        skip, plain = block(*args, f, fprime, True), block(*args, f, fprime, False)
        result = ResBlockResult(
            skip,
            plain,
            weights["a0"],
            weights,
            activation,
            depth_random=random_depth,
            facts=block_facts(skip, plain),
            seed=seed if random_depth else None,
        )
        if depth is not None:
            dead = {}
            result.grad_norms = depth_norms(weights, f, fprime, depth, random_depth, seed, dead)
            result.depth_facts = depth_facts(result.grad_norms, dead)
    return result


def _dead(derivative) -> list[int]:
    return [int(i) for i in np.flatnonzero(derivative == 0)]


def _zero_rows(jacobian) -> list[int]:
    return [int(i) for i in np.flatnonzero(~jacobian.any(axis=1))]


def block_facts(skip: BlockPass, plain: BlockPass) -> BlockFacts:
    """Dead units, zero Jacobian rows and the two spectral norms of one block."""
    return BlockFacts(
        _dead(skip.d1),
        _dead(skip.d2),
        _dead(plain.d2),
        _zero_rows(skip.jacobian),
        _zero_rows(plain.jacobian),
        float(np.linalg.norm(skip.jacobian, 2)),
        float(np.linalg.norm(plain.jacobian, 2)),
    )


def trend(norms: list, dead_at_zero: int = 0) -> Trend:
    """The Trend of one stack's norms (l = 1..L)."""
    values = np.asarray(norms, dtype=np.float64)
    zeros = np.flatnonzero(values == 0)
    first_zero = int(zeros[0]) + 1 if zeros.size else None
    factor = None
    if first_zero is None:
        # The product of the L − 1 ratios ‖J_l‖/‖J_{l−1}‖ telescopes: (‖J_L‖/‖J_1‖)^(1/(L−1)),
        # in logs; one block is measured against ‖J_0‖ = ‖I‖ = 1.
        steps = max(values.size - 1, 1)
        base = values[0] if values.size > 1 else 1.0
        factor = float(np.exp((np.log(values[-1]) - np.log(base)) / steps))
    return Trend(
        factor,
        first_zero,
        dead_at_zero if first_zero else 0,
        float(values.min()),
        float(values.max()),
        float(values[-1]),
    )


def depth_facts(norms: dict, dead: dict | None = None) -> DepthFacts:
    """Both stacks' trends; `dead` {'skip'|'plain': dead units of the block where the
    product first became 0}, as depth_norms records it."""
    dead = dead or {}
    skip, plain = np.asarray(norms["skip"]), np.asarray(norms["plain"])
    return DepthFacts(
        trend(norms["skip"], dead.get("skip", 0)),
        trend(norms["plain"], dead.get("plain", 0)),
        bool((skip >= plain).all()),
    )


def depth_norms(
    weights: dict,
    f,
    fprime,
    depth: int,
    random_blocks: bool,
    seed: int | None,
    dead_at_zero: dict | None = None,
) -> dict:
    """{'skip': [...], 'plain': [...]}: ‖∂a_l/∂a_0‖₂ for l = 1..L (chain rule: the product of
    the blocks' Jacobians, each taken at its own input). `dead_at_zero`, when given, gets
    for each stack the number of dead units (f' = 0, in a1 or a2) of the block where the
    product first becomes 0 (0 there means the product underflowed)."""
    if depth < 1:
        raise InputError("depth", f"must be 1 or more, got {depth}")
    n = weights["a0"].size
    if not random_blocks and weights["w2"].shape[0] != n:
        raise InputError(
            "depth",
            "repeating the block needs it to keep the size (no "
            "projection shortcut); use --random for random blocks",
        )
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
            before, jac = jac, step.jacobian @ jac
            a = step.a2
            if dead_at_zero is not None and name not in dead_at_zero and not jac.any():
                # Exactly 0 with every term of the product representable: dead units (or
                # their rows cancelling), not underflow.
                tiny = 0 < np.abs(before).max() * np.abs(step.jacobian).max() < 1e-290
                dead_at_zero[name] = 0 if tiny else int((step.d1 == 0).sum() + (step.d2 == 0).sum())
            if not np.isfinite(jac).all():
                raise InputError(
                    "depth",
                    f"the Jacobian of {len(out) + 1} blocks overflows "
                    "float64; use fewer blocks or smaller weights",
                )
            out.append(float(np.linalg.norm(jac, 2)))
        norms[name] = out
    return norms


def random_block(n: int, rng, width: int | None = None) -> dict:
    """W1, W2 with entries N(0, 1/fan-in), b1 = b2 = 0."""
    m = width or n
    return dict(
        w1=rng.standard_normal((m, n)) / np.sqrt(n),
        b1=np.zeros(m),
        w2=rng.standard_normal((n, m)) / np.sqrt(m),
        b2=np.zeros(n),
    )


def random_case(n: int, seed: int | None) -> dict:
    """a0 ~ N(0, 1) (n) and one random block of width n."""
    from cnnrnn_cli import budget

    if n < 1:
        raise InputError("size", f"must be 1 or more, got {n}")
    budget.check(2 * n * n, "size", "the random block's weights")
    rng = np.random.default_rng(seed)
    return dict(a0=rng.standard_normal(n), **random_block(n, rng))
