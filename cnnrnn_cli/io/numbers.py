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
    if x != 0 and math.isfinite(x) and math.floor(math.log10(abs(x))) + 1 + precision <= 10:
        # Rounding noise is not a digit: a value within 12 significant digits of a tie
        # prints as the tie does (1.5⁵ reached as 7.593749999999998 and as 7.59375 both
        # print 7.5938), so one number prints one way wherever it was computed.
        x = float(f"{x:.12g}")
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 10 ** (-precision)):
        return f"{x:.{precision}g}"
    text = f"{x:.{precision}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# -- Many numbers at once --------------------------------------------------------------------
#
# `repr` of each float, called one at a time from Python, is most of the cost of writing a
# large result. Python's own %-formatting is a C loop: one template of conversions, filled
# in one call, writes a block of numbers at C speed. "%r" is repr itself, but the shortest
# digits cost more to find than a fixed count: for an x whose shortest form has at most P
# digits (P = 15, 16), "%.Pg" writes exactly repr's text, and otherwise "%.17g" does. So
# NumPy decides, for a block at once, the fewest of 15, 16, 17 digits that read back:
# c = the P-digit integer nearest to |x|·10^k, tried with its neighbours (the product is
# rounded), reads back when c / 10^k == |x| (both exact, the quotient correctly rounded).
# A neighbour that reads back makes the correctly rounded P-digit decimal read back too, as
# it is at least as close to x. Whole numbers under 1e16 are integers ("%d"; json keeps
# repr's "4.0"), -0 keeps its sign, and anything outside [1e-4, 1e15) goes to repr.

_CONVERSIONS = (b"%.99r", b"%.15g", b"%.16g", b"%.17g", b"%.01d", b"%.01f")
_REPR, _G15, _G16, _G17, _INT, _ONE_DECIMAL = range(6)
_TABLE = None
_POW = None


def _codes(x, *, json: bool):
    """For each float64 of the 1-D array x, the index of the conversion in `_CONVERSIONS` that
    writes it as `format_number` does (json: as `json.dumps` does, `4.0` for a whole 4)."""
    import numpy as np

    global _POW
    if _POW is None:
        _POW = 10.0 ** np.arange(23)  # exact up to 10**22
    with np.errstate(all="ignore"):  # inf and nan go to repr (and are refused before)
        a = np.abs(x)
        whole = a == np.trunc(a)
        small_whole = whole & (a < 1e16)
        code = np.full(len(x), _REPR, np.uint8)
        code[small_whole] = _ONE_DECIMAL if json else _INT
        if not json:
            code[small_whole & (x == 0) & np.signbit(x)] = _G17  # -0, which %d would lose
        fits = ~whole & (a >= 1e-4) & (a < 1e15)
        if not fits.any():
            return code
        code[fits] = _G17  # unless 15 or 16 digits read back
        a = np.where(fits, a, 0.5)
        exponent = np.floor(np.log10(a)).astype(np.intp)
        decided = ~fits
        for digits, conversion in ((15, _G15), (16, _G16)):
            k = digits - 1 - exponent
            scale = _POW[k]
            product = a * scale
            # log10 off by one (x just below a power of ten), or c past 2^53 (its neighbours
            # are not exact there): leave that x to repr
            off = ~decided & (
                (product < 10.0 ** (digits - 1)) | (product >= 10.0**digits) | (product >= 2.0**53)
            )
            code[off] = _REPR
            decided |= off
            c = np.rint(product)
            reads_back = (c / scale == a) | ((c - 1) / scale == a) | ((c + 1) / scale == a)
            take = ~decided & reads_back
            code[take] = conversion
            decided |= take
        return code


def conversions(x, sep: str, *, json: bool = False):
    """%-conversions for the numbers of the 1-D array x: a (len(x), 5 + len(sep)) uint8 array,
    each row one conversion then `sep`, such that
    `conversions(x, sep).tobytes().decode() % tuple(x.tolist())` writes each number as
    `format_number` does (json: as `json.dumps` does), each followed by `sep`. Float and
    integer arrays only; `sep` must hold no `%`.
    """
    import numpy as np

    global _TABLE
    if _TABLE is None:
        _TABLE = np.frombuffer(b"".join(_CONVERSIONS), np.uint8).reshape(len(_CONVERSIONS), 5)
    if x.dtype.kind in "iu":
        cells = np.broadcast_to(_TABLE[_INT], (len(x), 5))
    else:
        cells = _TABLE[_codes(np.asarray(x, np.float64), json=json)]
    out = np.empty((len(x), 5 + len(sep)), np.uint8)
    out[:, :5] = cells
    out[:, 5:] = np.frombuffer(sep.encode("ascii"), np.uint8)
    return out
