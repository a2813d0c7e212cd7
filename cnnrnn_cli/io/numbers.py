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


# -- Many numbers at once --------------------------------------------------------------------
#
# `repr` of each float, one at a time, is most of the cost of writing a large result. Python's
# own %-formatting is a C loop, and for a float x that needs no more than 15 (16, 17)
# significant digits, "%.15g" ("%.16g", "%.17g") gives exactly the digits of repr(x): the
# correctly rounded P-digit decimal is the closest to x, so it is the one repr finds when P
# digits are the fewest that read back. What remains is to know, for each x, how many digits
# it needs; `_codes` works that out with NumPy, exactly, and sends every x it cannot decide
# (a power of two, a tiny or huge one, one too close to call) to repr itself ("%.99r").

_CONVERSIONS = (b"%.99r", b"%.15g", b"%.16g", b"%.17g", b"%.01d", b"%.01f")
_REPR, _G15, _G16, _G17, _INT, _ONE_DECIMAL = range(6)
_SPLIT = 134217729.0  # 2**27 + 1: Dekker's split of a float64 into two 26-bit halves


def _tables():
    import numpy as np

    global _POW, _POW_HI, _POW_LO, _TABLE
    _POW = 10.0 ** np.arange(23)  # exact up to 10**22
    c = _POW * _SPLIT
    _POW_HI = c - (c - _POW)
    _POW_LO = _POW - _POW_HI
    _TABLE = np.frombuffer(b"".join(_CONVERSIONS), np.uint8).reshape(len(_CONVERSIONS), 5)


_TABLE = None


def _codes(x, *, json: bool):
    """For each float64 of the 1-D array x, the index of the conversion in `_CONVERSIONS` that
    writes it as `format_number` does (json: as `json.dumps` does, `4.0` for a whole 4).

    Whole numbers under 1e16 are written as integers (json: with one decimal). For the rest,
    with 1e-4 <= |x| < 1e15, let r = |x|·10^k (k = 15 - floor(log10 |x|)), so that the
    16-digit decimal nearest to x is n·10^-k with n the integer nearest to r. It reads back
    as x exactly when |n - r| < h = ulp(x)·10^k / 2 (the interval is symmetric: powers of
    two are left to repr). r is formed exactly as a pair (Dekker's product, 10^k being exact
    for k <= 22); its distance to the nearest integer decides 16 digits, its distance to the
    nearest multiple of 10 decides 15. Anything within 1e-14 of the edge goes to repr.
    """
    import numpy as np

    if _TABLE is None:
        _tables()
    with np.errstate(all="ignore"):  # inf and nan go to repr
        return _decide(x, json, np)


def _decide(x, json, np):
    a = np.abs(x)
    whole = a == np.trunc(a)
    small_whole = whole & (a < 1e16)
    if json:
        code = np.where(small_whole, np.uint8(_ONE_DECIMAL), np.uint8(_REPR))
    else:
        code = np.where(small_whole, np.uint8(_INT), np.uint8(_REPR))
        code[small_whole & (x == 0) & np.signbit(x)] = _G17  # -0, which %d would lose
    fraction_bits = a.view(np.uint64) & np.uint64((1 << 52) - 1)
    ok = ~whole & (a >= 1e-4) & (a < 1e15) & (fraction_bits != 0)
    if not ok.any():
        return code
    a = np.where(ok, a, 1.5)  # anything harmless where not ok
    k = 15 - np.floor(np.log10(a)).astype(np.intp)
    t, t_hi, t_lo = _POW[k], _POW_HI[k], _POW_LO[k]
    c = a * _SPLIT
    a_hi = c - (c - a)
    a_lo = a - a_hi
    p = a * t  # r = p + err exactly
    err = ((a_hi * t_hi - p) + a_hi * t_lo + a_lo * t_hi) + a_lo * t_lo
    in_range = (p > 1e15) & (p < 1e16 - 2)  # else floor(log10) was off by one: repr
    v = np.fmod(p, 10.0) + err  # r minus a multiple of 10, in [-1, 11]
    d16 = np.abs(v - np.rint(v))  # distance of r to the nearest integer
    d15 = np.minimum(np.abs(v), np.abs(10.0 - v))  # ... to the nearest multiple of 10
    h = np.spacing(a) * t * 0.5  # exact: a power of two times 10^k
    lo, hi = h - 1e-14, h + 1e-14
    sure = ok & in_range & ((d16 < lo) | (d16 > hi))
    sure &= (d16 > hi) | (d15 < lo) | (d15 > hi)
    digits = np.where(d16 > hi, np.uint8(_G17),
                      np.where(d15 < lo, np.uint8(_G15), np.uint8(_G16)))
    return np.where(sure, digits, code)


def conversions(x, sep: str, *, json: bool = False):
    """%-conversions for the numbers of the 1-D array x: a (len(x), 5 + len(sep)) uint8 array,
    each row one conversion then `sep`, such that
    `conversions(x, sep).tobytes().decode() % tuple(x.tolist())` writes each number as
    `format_number` does (json: as `json.dumps` does), each followed by `sep`. Float and
    integer arrays only; `sep` must hold no `%`.
    """
    import numpy as np

    if _TABLE is None:
        _tables()
    if x.dtype.kind in "iu":
        cells = np.broadcast_to(_TABLE[_INT], (len(x), 5))
    else:
        cells = _TABLE[_codes(np.asarray(x, np.float64), json=json)]
    out = np.empty((len(x), 5 + len(sep)), np.uint8)
    out[:, :5] = cells
    out[:, 5:] = np.frombuffer(sep.encode("ascii"), np.uint8)
    return out
