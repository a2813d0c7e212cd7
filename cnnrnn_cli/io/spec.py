"""Small text specs: shapes (`3x224x224`), size pairs (`3x5`) and paddings (`--layers`: netspec.py).

Pure Python (no NumPy): `outsize` must start fast.
"""

from __future__ import annotations

import re

from cnnrnn_cli.errors import InputError

# Between the numbers of a shape: x, ×, X, * or a comma, spaces around it allowed. (The
# pattern is compiled on first use: a plain number never needs it, and compiling costs
# the start-up of every command a fraction of a millisecond.)
_SEP = r"\s*[x×X*,]\s*"
_SEP_CHARS = "x×X*,"


def _split_sizes(text) -> list[str]:
    text = str(text).strip()
    if not any(ch in text for ch in _SEP_CHARS):
        return [text]
    return re.split(_SEP, text)


# The ranges of the one integer grammar (sizes, counts, seeds, --at, --random): plain
# ASCII decimal digits, checked before int() so that no digit string is too long for it.
SIZE_MAX = 2**31 - 1  # a size, stride, padding, channel count or position
SEED_MAX = 2**63 - 1  # a seed


def _is_integer_text(text: str) -> bool:
    """Whether text is ASCII digits with an optional sign: [+-]?[0-9]+."""
    digits = text[1:] if text[:1] in ("+", "-") and text[:1] else text
    return digits.isascii() and digits.isdigit()


def shown(token: str, limit: int = 40) -> str:
    """A token as quoted in a message, cut to about `limit` characters."""
    token = str(token)
    if len(token) <= limit:
        return repr(token)
    return repr(token[:limit]) + f"… ({len(token)} characters)"


def parse_int(
    token, name: str, *, minimum: int = 1, maximum: int = SIZE_MAX, what: str = ""
) -> int:
    """One integer of the grammar: ASCII digits with an optional sign, in [minimum, maximum].

    The sign is read only to say "must be 0 or more" rather than "not a whole number";
    a digit string longer than the maximum's is refused before it is converted.
    """
    if type(token) is str and len(token) < 10 and token.isdigit() and token.isascii():
        value = int(token)  # plain digits that fit: the common case, checked at C speed
    elif isinstance(token, bool):
        raise InputError(name, f"expected a whole number, got {token}")
    elif isinstance(token, int) or (hasattr(token, "dtype") and token.dtype.kind in "iu"):
        value = int(token)
    else:
        text = str(token).strip().replace("\u2212", "-")
        if not _is_integer_text(text):
            hint = " written with the digits 0-9" if any(ch.isdigit() for ch in text) else ""
            raise InputError(name, f"{shown(text)} is not {what or 'a whole number'}{hint}")
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > max(len(str(max(abs(minimum), maximum))), 30):
            sign = "-" if text.startswith("-") else ""
            bound = f"less than {minimum}" if sign else f"more than {maximum}"
            raise InputError(name, f"{shown(text)} is out of range ({len(digits)} digits, {bound})")
        value = int(text)
    if value < minimum:
        word = "positive" if minimum == 1 else f"{minimum} or more"
        raise InputError(name, f"must be {word}, got {value}")
    if value > maximum:
        raise InputError(name, f"must be at most {maximum}, got {value}")
    return value


def _int(token: str, name: str, what: str = "a whole number", minimum: int = 1) -> int:
    return parse_int(token, name, minimum=minimum, what=what)


def parse_dims(text: str, name: str) -> list[int]:
    """'224' -> [224]; '224x224' -> [224, 224]; '3x224x224' -> [3, 224, 224]."""
    parts = _split_sizes(text)
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise InputError(name, f"expected N, HxW or CxHxW, got {text!r}")
    try:
        return [parse_int(p, name) for p in parts]
    except InputError as err:
        if len(parts) == 1:
            raise
        raise InputError(name, f"{err.message} (in {shown(text)})") from None


def parse_pair(text, name: str, *, minimum: int = 1):
    """'3' -> 3; '3x5' -> (3, 5). Each value must be >= minimum."""
    if isinstance(text, (tuple, list)):
        parts = list(text)
    elif isinstance(text, int) or hasattr(text, "dtype"):
        parts = [text]
    else:
        parts = _split_sizes(text)
        if len(parts) > 2 or not all(parts):
            raise InputError(name, f"expected a number or HxW, got {shown(text)}")
    if not 1 <= len(parts) <= 2:
        raise InputError(name, f"expected a number or HxW, got {len(parts)} values")
    values = [parse_int(p, name, minimum=minimum) for p in parts]
    return values[0] if len(values) == 1 else tuple(values)


def parse_padding(text, name: str = "padding"):
    """A number, 'HxW', or one of 'same', 'valid', 'full'."""
    if isinstance(text, (int, tuple)):
        return text
    word = str(text).strip().lower()
    if word in ("same", "valid", "full"):
        return word
    try:
        return parse_pair(word, name, minimum=0)
    except InputError:
        raise InputError(
            name, f"expected a number, HxW, same, valid or full; got {text!r}"
        ) from None


def parse_ints(
    text,
    name: str,
    count: int | tuple[int, int],
    *,
    minimum: int = 1,
    maximum: int = SIZE_MAX,
    form: str = "",
) -> list[int]:
    """'50,4,8' -> [50, 4, 8]: `count` integers (or a (least, most) range of counts),
    separated by commas (or x), each in [minimum, maximum]. form: 'R,C', for messages."""
    least, most = count if isinstance(count, tuple) else (count, count)
    parts = (
        [p.strip() for p in str(text).replace("x", ",").split(",")]
        if isinstance(text, str)
        else list(text)
    )
    if not least <= len(parts) <= most:
        want = f"{least}" if least == most else f"{least} to {most}"
        want = form or f"{want} whole numbers separated by commas"
        raise InputError(name, f"expected {want}, got {shown(text)}")
    return [parse_int(p, name, minimum=minimum, maximum=maximum) for p in parts]
