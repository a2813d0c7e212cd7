"""One budget for every array a command allocates: `--max-elements`, checked *before*.

The library and the CLI share it. The CLI sets it from `--max-elements` for the length of
one command; a library user can do the same:

    with cnnrnn_cli.budget.limited(10**6):
        cr.conv2d(image, kernel, padding=3)

Every allocation that grows with the input (a read, a padded input, generated weights,
a random case, an intermediate, a result and its rendering) is sized first and handed to
`check`, which refuses what would be too large and says what it would have been:

    Error: padding: the padded input would be 40001×40001 = 1.6e9 elements, over
    --max-elements 100000000

Imports nothing heavy: `outsize` and the readers use it before NumPy is loaded.
"""

from __future__ import annotations

import contextlib
import math
from contextvars import ContextVar

from cnnrnn_cli.errors import InputError

# A typo cannot exhaust memory, while a 4000×4000 image (1.6e7) still works.
DEFAULT_MAX_ELEMENTS = 10**8

_limit: ContextVar[int] = ContextVar("max_elements", default=DEFAULT_MAX_ELEMENTS)


def limit() -> int:
    """The number of elements any one array may hold, in this context."""
    return _limit.get()


@contextlib.contextmanager
def limited(max_elements: int | None):
    """Within the block, arrays may hold at most `max_elements` (None: leave as it is)."""
    if max_elements is None:
        yield limit()
        return
    token = _limit.set(int(max_elements))
    try:
        yield int(max_elements)
    finally:
        _limit.reset(token)


def set_limit(max_elements: int):
    """Set the limit until `reset(token)`; the CLI's way (a Click callback cannot `with`)."""
    return _limit.set(int(max_elements))


def reset(token) -> None:
    _limit.reset(token)


def elements(shape) -> int:
    """The number of elements of an array of `shape` (exact Python integer, no overflow)."""
    return math.prod(int(n) for n in shape)


def check(count: int, name: str, what: str = "the array", shape=None) -> None:
    """Refuse an array of `count` elements (of `shape`, for the message) over the limit.

    name: the input or option the error is about; what: what would be allocated.
    """
    count = int(count)
    if count <= limit():
        return
    size = (
        f"{_dims(shape)} = {_count(count)}"
        if shape is not None and len(shape) > 1
        else _count(count)
    )
    raise InputError(name, f"{what} would be {size} elements, over --max-elements {limit()}")


def check_shape(shape, name: str, what: str = "the array") -> None:
    """`check` for an array of `shape`."""
    check(elements(shape), name, what, shape)


def _dims(shape) -> str:
    return "×".join(_count(int(n)) for n in shape)


def _count(n: int) -> str:
    """1234 -> '1234'; 1_600_080_001 -> '1.6e9'; a 5000-digit integer stays cheap."""
    if n < 10**7:
        return str(n)
    digits = len(str(n)) if n < 10**4000 else int(n.bit_length() * math.log10(2)) + 1
    if digits > 300:
        return f"about 1e{digits - 1}"
    mantissa = n / 10 ** (digits - 1)
    text = f"{mantissa:.2g}"
    if text == "10":
        text, digits = "1", digits + 1
    return f"{text}e{digits - 1}"
