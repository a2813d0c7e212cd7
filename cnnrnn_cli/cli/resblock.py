"""`cnnrnn resblock`: a ResNet block with and without its skip connection."""

from __future__ import annotations

import click
from click.core import ParameterSource

from cnnrnn_cli.cli.command import report_command
from cnnrnn_cli.cli.params import (
    IntParam,
    MatrixParam,
    NamedArraysParam,
    seed_goes_with,
    seed_option,
)
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.report import Report
from cnnrnn_cli.vocabulary import ACTIVATION_NAMES

MAX_DEPTH = 100_000  # ResNet-1001 a hundred times over; the norms are computed block by block
# A small case in the notes' notation where the skip visibly rescues the gradient: unit 2
# of a1 is dead both ways; unit 2 of a2 is dead without the skip (z2 = −1), alive with it
# (z2 + a0 = 1), so the plain Jacobian loses row 2 and its norm (0.35) while the skip's
# keeps both (1.03); repeated with --depth, the skip's norm stays 1.03 while the plain
# one is exactly 0 from the second block.
ARRAYS = ("a0", "w1", "b1", "w2", "b2", "shortcut")
FROM_SIZE = "size"  # `--random` without a value: n from --size (default 4), as before
EXAMPLE = (
    '--a0 "1 2" --w1 "-0.5 0.5; -0.5 -0.5" --b1 "0.5 -0.5" --w2 "0.5 0.5; -1 0.5" --b2 "0.5 0"'
)


class RandomSize(IntParam):
    """`--random N` (n, as bptt's `--random T,D,H`), or `--random` alone: 0, n from --size."""

    def convert(self, value, param, ctx):
        if value == FROM_SIZE:
            return 0
        from cnnrnn_cli.io.spec import parse_int

        return parse_int(value, "random", minimum=self.minimum, maximum=self.maximum)


@report_command(example=EXAMPLE, replaces={"random_case": ARRAYS, "weights": ARRAYS})
@click.option("--a0", type=MatrixParam(), help="The block's input a0 (n values).")
@click.option("--w1", type=MatrixParam(), help="W1, m×n.")
@click.option("--b1", type=MatrixParam(), help="b1, m values (default zeros).")
@click.option("--w2", type=MatrixParam(), help="W2, n×m (k×m with --shortcut).")
@click.option("--b2", type=MatrixParam(), help="b2 (default zeros).")
@click.option(
    "--shortcut",
    type=MatrixParam(),
    metavar="WS",
    help="A projection WS (k×n) on the skip when the sizes differ.",
)
@click.option(
    "--activation", type=click.Choice(ACTIVATION_NAMES), default="relu", show_default=True
)
@click.option(
    "--weights",
    type=NamedArraysParam(),
    help="@file.npz|json with arrays named a0, w1, b1, w2, b2, shortcut.",
)
@click.option(
    "--random",
    "random_case",
    type=RandomSize(metavar="[N]"),
    is_flag=False,
    flag_value=FROM_SIZE,
    help="A random case of n = N units: a0 and weights with entries N(0, 1/fan-in); "
    "with --depth, random blocks. --random alone takes n from --size.",
)
@click.option(
    "--size", type=IntParam(), default=4, show_default=True, help="n for --random without N."
)
@seed_option
@click.option(
    "--depth",
    type=IntParam(maximum=MAX_DEPTH),
    metavar="L",
    help="Stack L blocks (1 to 100000) and show ‖∂a_l/∂a_0‖, l = 1..L, with and without skips.",
)
def resblock(activation, weights, random_case, size, seed, depth, **arrays) -> Report:
    """The skip connection of a ResNet block, with and without the skip, side by side.

    \b
    z1 = W1 a0 + b1,  a1 = f(z1),  z2 = W2 a1 + b2
    with the skip: a2 = f(z2 + a0)      without: a2 = f(z2)

    Shows the Jacobian ∂a2/∂a0 both ways (the skip adds the identity path), and
    with --depth L how ‖∂a_l/∂a_0‖ behaves through a stack of blocks.

    \b
    Examples:
      cnnrnn resblock --example
      cnnrnn resblock --random 8 --depth 20 --seed 0
    """
    from cnnrnn_cli import api

    n = _random_size(random_case, size)
    seed_goes_with(n is not None, seed)
    try:
        res = api.resblock(
            **arrays,
            activation=activation,
            weights=weights,
            random=n is not None,
            size=n or size,
            seed=seed,
            depth=depth,
        )
    except InputError as err:
        if err.source == "size" and random_case:  # n was given as --random N
            raise InputError("random", err.message) from None
        raise
    result = {"skip": res.skip.as_dict(), "plain": res.plain.as_dict()}
    if res.grad_norms is not None:
        result["grad_norms"] = res.grad_norms
    params = {
        "n": res.a0.size,
        "m": res.weights["w1"].shape[0],
        "activation": activation,
        "shortcut": res.weights["shortcut"] is not None,
        "depth": depth,
        "random": n is not None,
        "seed": res.seed,
    }  # chosen by api when not given
    return Report("resblock", params, result, trace=res, explainer="cnnrnn_cli.explain.resblock")


def _random_size(random_case: int | None, size: int) -> int | None:
    """n of the random case (None: not random): `--random N`, or `--random` with `--size`;
    a `--size` that would do nothing, or that contradicts N, is refused."""
    given = click.get_current_context().get_parameter_source("size")
    if given != ParameterSource.COMMANDLINE:
        return random_case or size if random_case is not None else None
    if random_case is None:
        raise click.UsageError("--size goes with --random (or give --random N)")
    if random_case and random_case != size:
        raise click.UsageError(
            f"--random {random_case} and --size {size} disagree: give n once (--random N)"
        )
    return size
