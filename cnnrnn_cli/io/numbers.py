"""Numbers as text: the shortest form that reads back to the same float64."""

import math


def _exact(x) -> str | None:
    """Booleans and Python ints as text; None for everything else."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    return None


def format_number(x) -> str:
    """4.0 -> '4', 0.1 -> '0.1', -0.0 -> '-0', True -> 'true'; ints stay exact."""
    exact = _exact(x)
    if exact is not None:
        return exact
    x = float(x)
    if x.is_integer() and abs(x) < 1e16:
        if x == 0 and math.copysign(1.0, x) < 0:
            return "-0"
        return str(int(x))
    return repr(x)


def format_fixed(x, precision: int) -> str:
    """A number for people: at most `precision` significant decimals, no trailing zeros."""
    exact = _exact(x)
    if exact is not None:
        return exact
    x = float(x)
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x)) if x != 0 else "0"
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 10 ** (-precision)):
        return f"{x:.{precision}g}"
    text = f"{x:.{precision}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
