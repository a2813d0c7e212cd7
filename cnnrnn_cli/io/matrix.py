"""The input grammar: a literal, `-` (stdin) or `@PATH`, read into a float64 array.

Literal text: rows separated by `;` or newlines, values by spaces and/or
commas, optional enclosing brackets, channels separated by `|` (or by a blank
line in text read from a file or stdin), `#` comment lines, the Unicode minus.
A JSON nested list of any depth up to 32 is read as it is. Every error names the input
and the position of the offending token (channel, row, column; 1-based).

Every read is bounded (SPEC "Reading is bounded too"): text is read a chunk at a time by
`textread` and refused as soon as it holds more values than the budget or bytes that are
not text; `.npy` and `.npz` members are sized from their headers before their data is
read; every path is opened once, so a FIFO or a device is read as a stream.
"""

from __future__ import annotations

import io
import json
import numbers
import os
import re

import numpy as np

from cnnrnn_cli import budget
from cnnrnn_cli.errors import InputError, shape_str
from cnnrnn_cli.io.textread import (  # noqa: F401  (check_token, normalize_text: public)
    MAX_DEPTH,
    SHOW,
    Source,
    _check_depth,
    check_token,
    count_runs,
    normalize_text,
    read_stream,
    read_whole,
    show,
    show_path,
)

_BOM = b"\xef\xbb\xbf"
_SPACE = re.compile(rb"[ \t\r\n\x0b\x0c]*")


def parse_text(
    text: str, name: str, *, blank_line_channels: bool = False, max_elements: int | None = None
) -> np.ndarray:
    """Parse matrix text into an (H, W) array, or (C, H, W) when it has several channels."""
    with budget.limited(max_elements):
        data = text.encode("utf-8", "surrogatepass")
        if _first_significant(data) == b"[":
            return _parse_whole(text, name, blank_line_channels)
        source = Source(io.BytesIO(data), name, None, binary_check=False)
        return read_stream(
            source, name, blank_line_channels=blank_line_channels, errors="surrogatepass"
        )


def _first_significant(data: bytes) -> bytes | None:
    """The first byte that is not a blank or in a `#` line; None when there is none yet."""
    pos = len(_BOM) if data.startswith(_BOM) else 0
    while True:
        pos = _SPACE.match(data, pos).end()
        if pos == len(data):
            return None
        if data[pos : pos + 1] != b"#":
            return data[pos : pos + 1]
        pos = data.find(b"\n", pos) + 1
        if not pos:
            return None


def _parse_whole(text: str, name: str, blank_line_channels: bool) -> np.ndarray:
    """Text that opens with '[' (JSON, or bracketed rows), parsed as one piece: it is
    small in practice, and bounded by the byte cap and the token count."""
    text = normalize_text(text)
    body = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    stripped = body.strip()
    if not stripped:
        raise InputError(name, "no values given")
    budget.check(count_runs(stripped.encode("utf-8", "surrogatepass")), name, "the input")
    if stripped.startswith("["):
        try:
            data = loads_json(stripped, name)
        except ValueError:
            pass
        else:
            return from_nested(data, name)
    channels = _split_channels(body, blank_line_channels)
    for c, chunk in enumerate(channels, start=1):
        if not chunk.strip():
            raise InputError(name, f"channel {c} is empty (nothing between the '|')")
    arrays = []
    total = 0
    for c, chunk in enumerate(channels):
        where = f"channel {c + 1}, " if len(channels) > 1 else ""
        arrays.append(_parse_channel(chunk, name, where))
        total += arrays[-1].size
        check_size(total, name)
    first = arrays[0]
    for c, arr in enumerate(arrays[1:], start=2):
        if arr.shape != first.shape:
            raise InputError(
                name,
                f"channel {c} is {shape_str(arr.shape)}, expected "
                f"{shape_str(first.shape)} like channel 1",
            )
    return first if len(arrays) == 1 else np.stack(arrays)


def _strip_brackets(text: str) -> str:
    """'[1 2; 3 4]' -> '1 2; 3 4', but '[1, 2]; [3, 4]' stays (its brackets close early)."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return text
    depth = 0
    brackets = [m for m in re.finditer(r"[\[\]]", text)]
    for m in brackets:
        depth += 1 if m.group() == "[" else -1
        if depth == 0 and m.start() < len(text) - 1:
            return text
    return text[1:-1].strip()


def _split_channels(body: str, blank_line_channels: bool) -> list[str]:
    chunks = _strip_brackets(body).split("|")
    if blank_line_channels:
        chunks = [part for chunk in chunks for part in re.split(r"\n\s*\n", chunk.strip())]
    return chunks


# Text made only of these characters can go to NumPy's converter in one call: no word
# (nan, inf, 0x…), no underscore, no non-ASCII digit can slip past the grammar.
_PLAIN_NUMBERS = re.compile(r"[^0-9eE+\-.\s,;\[\]]")


def _parse_channel(chunk: str, name: str, where: str) -> np.ndarray:
    rows = [_strip_brackets(r) for r in re.split(r"[;\n]", _strip_brackets(chunk))]
    rows = [r for r in rows if r]
    if not rows:
        raise InputError(name, f"{where}no values given")
    token_rows = []
    for i, row in enumerate(rows, start=1):
        tokens = row.split() if "," not in row else _tokenize(row, name, f"{where}row {i}")
        if token_rows and len(tokens) != len(token_rows[0]):
            raise InputError(
                name, f"{where}row {i} has {len(tokens)} values, expected {len(token_rows[0])}"
            )
        token_rows.append(tokens)
    if _PLAIN_NUMBERS.search(chunk) is None:
        try:
            values = np.array(token_rows, dtype=np.float64)
        except ValueError:
            values = None
        if values is not None and np.isfinite(values).all():
            return values
    # The slow path finds the offending token and says where it is.
    for i, tokens in enumerate(token_rows, start=1):
        for j, token in enumerate(tokens, start=1):
            check_token(token, name, f"{where}row {i}, column {j}")
    return np.array(token_rows, dtype=np.float64)


def _tokenize(row: str, name: str, where: str) -> list[str]:
    pieces = row.split(",")
    if len(pieces) > 1 and not pieces[-1].strip():
        pieces.pop()  # one trailing comma, as in copied Python lists
    tokens = []
    for piece in pieces:
        words = piece.split()
        if not words:
            raise InputError(name, f"{where}, column {len(tokens) + 1}: empty value between commas")
        tokens.extend(words)
    return tokens


# -- JSON --------------------------------------------------------------------------------


def check_depth(text: str, name: str) -> None:
    """Refuse JSON nested deeper than 32 levels before json.loads recurses into it."""
    _check_depth(text.encode("utf-8", "surrogatepass"), 0, name)


def loads_json(text: str, name: str):
    """json.loads with the depth checked first and every number a finite float64: an
    integer or a decimal too large is refused as such, not read as inf or a bignum."""

    def too_large(token: str):
        at = text.find(token)
        line = text.count("\n", 0, at) + 1
        col = at - text.rfind("\n", 0, at)
        digits = f" ({len(token)} characters)" if len(token) > SHOW else ""
        cut = token if len(token) <= SHOW else token[:SHOW] + "…"
        return InputError(
            name,
            f"line {line}, column {col}: {cut}{digits} is too large "
            "for float64 (outside its range)",
        )

    def parse_int(token: str) -> int:
        if len(token) > 400:  # before int(): no 4300-digit ValueError, no slow bignum
            raise too_large(token)
        value = int(token)
        try:
            float(value)
        except OverflowError:
            raise too_large(token) from None
        return value

    def parse_float(token: str) -> float:
        value = float(token)
        if not np.isfinite(value):
            raise too_large(token)
        return value

    check_depth(text, name)
    return json.loads(text, parse_int=parse_int, parse_float=parse_float)


def from_nested(data, name: str, *, max_elements: int | None = None) -> np.ndarray:
    """A JSON value (number or nested lists) as a float64 array, rejecting ragged lists."""
    with budget.limited(max_elements):
        count = _check_leaves(data, name)
        budget.check(count, name, "the input")
        try:
            arr = np.asarray(data, dtype=np.float64)
        except ValueError:
            _find_ragged(data, name, "")
            raise InputError(name, "nested lists are not rectangular") from None
        return checked_array(arr, name)


def _check_leaves(data, name: str, path: str = "", depth: int = 0) -> int:
    """The number of leaves, each a finite-size number; else the first bad one, by path."""
    if isinstance(data, list):
        if depth >= MAX_DEPTH:
            raise InputError(name, f"nested deeper than {MAX_DEPTH} levels")
        if all(type(x) is float for x in data):
            return len(data)
        return sum(_check_leaves(x, name, f"{path}[{i}]", depth + 1) for i, x in enumerate(data))
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise InputError(name, f"{path or 'value'}: {_json_show(data)} is not a number")
    if isinstance(data, numbers.Integral):
        try:
            float(data)
        except OverflowError:
            raise InputError(
                name,
                f"{path or 'value'}: the integer of {len(str(data))} "
                "digits is too large for float64",
            ) from None
    return 1


def _json_show(value) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= SHOW else text[:SHOW] + "…"


def _find_ragged(data, name: str, path: str) -> None:
    if not isinstance(data, list):
        return
    lengths = [len(x) if isinstance(x, list) else None for x in data]
    if len(set(lengths)) > 1:
        expected = lengths[0]
        for i, n in enumerate(lengths):
            if n != expected:
                got = "a number" if n is None else f"{n} values"
                want = "a number" if expected is None else f"{expected} values"
                raise InputError(name, f"{path}[{i}] has {got}, expected {want} like {path}[0]")
    for i, x in enumerate(data):
        _find_ragged(x, name, f"{path}[{i}]")


# -- arrays ------------------------------------------------------------------------------


def check_size(count: int, name: str, max_elements: int | None = None) -> None:
    with budget.limited(max_elements):
        budget.check(count, name, "the input")


def checked_array(arr: np.ndarray, name: str, max_elements: int | None = None) -> np.ndarray:
    """float64 copy of a numeric array; rejects NaN, infinity, empty and oversized arrays."""
    with budget.limited(max_elements):
        budget.check(arr.size, name, "the input", arr.shape)
    if arr.dtype.kind not in "biuf":
        raise InputError(name, f"array of type {arr.dtype} is not numeric")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == 0:
        raise InputError(name, f"no values given (shape {shape_str(arr.shape)})")
    if not np.isfinite(arr).all():
        index = tuple(int(i) + 1 for i in np.argwhere(~np.isfinite(arr))[0])
        raise InputError(name, f"element {index} is NaN or infinity")
    return arr


# -- hints -------------------------------------------------------------------------------

ROWS = "rows are separated by ';' or newlines"


def one_row_hint(text: str, arr: np.ndarray, name: str) -> str | None:
    """Why a literal read as one row (1×n, or C×1×n) was probably meant as several: it
    used commas and neither ';' nor a newline, and its comma groups each hold the same
    run of two or more values (`1 2 3, 4 5 6`), or its count is a perfect square above 1
    (`1, 0, 0, 1`). None for anything else (JSON, one value a group, `1 2 3`)."""
    if arr.ndim < 2 or arr.shape[-2] != 1 or "," not in text or any(c in text for c in ";\n"):
        return None
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    if "[" in body or "]" in body:
        return None
    count = arr.shape[-1]
    runs = {len(group.split()) for chunk in body.split("|") for group in chunk.split(",")}
    square = count > 1 and int(count**0.5) ** 2 == count
    if not (square or (len(runs) == 1 and min(runs) > 1)):
        return None
    return f"the {name} was read as one row of {count} values: {ROWS}, not commas"


# -- sources -----------------------------------------------------------------------------


def read_source(
    spec: str, name: str, *, read_stdin=None, max_elements: int | None = None
) -> np.ndarray:
    """One array from a literal, `-` (read_stdin() gives a binary stream, or the text) or
    `@PATH`."""
    with budget.limited(max_elements):
        if spec == "-":
            if read_stdin is None:
                raise InputError(name, "standard input is not available")
            stdin = read_stdin()
            if isinstance(stdin, str):
                return parse_text(stdin, name, blank_line_channels=True)
            if isinstance(stdin, bytes):
                stdin = io.BytesIO(stdin)
            return read_text_stream(stdin, name, "standard input")
        if spec.startswith("@"):
            arrays = read_file(spec[1:], name)
            if isinstance(arrays, dict):
                if len(arrays) != 1:
                    listed = ", ".join(arrays)
                    if len(listed) > 4 * SHOW:
                        listed = listed[: 4 * SHOW] + "…"
                    raise InputError(
                        name,
                        f"{spec[1:]} holds {len(arrays)} arrays ({listed}); this input takes one",
                    )
                return next(iter(arrays.values()))
            return arrays
        try:
            return parse_text(spec, name)
        except InputError as err:
            if _is_file(spec):
                raise InputError(name, f"{err.message} (to read the file, write @{spec})") from None
            raise


def _is_file(spec: str) -> bool:
    try:
        return len(spec) < 4096 and os.path.exists(spec)
    except (ValueError, OSError):
        return False


def read_text_stream(fh, name: str, label: str, *, blank_line_channels: bool = True):
    """Matrix text from a binary stream (a file, a pipe), a chunk at a time."""
    source = Source(fh, name, label)
    head = b""
    kind = None
    for data in source.chunks():
        head += data
        kind = _first_significant(head)
        if kind is not None or len(head) >= 1 << 20:
            break
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if kind == b"[":
        text = read_whole(source, name, head).decode("utf-8")
        return _parse_whole(text, name, blank_line_channels)
    return read_stream(source, name, blank_line_channels=blank_line_channels, head=head)


def read_file(path: str, name: str, *, max_elements: int | None = None):
    """An array, or a dict of named arrays for `.npz` and JSON objects.

    The path is opened once; `.npy` and `.npz` are read from that one stream, so a FIFO
    or a device works as well as a regular file."""
    if not path or "\x00" in path:
        raise InputError(name, f"{show(path)} is not a valid file name")
    ext = os.path.splitext(path)[1].lower()
    shown = show_path(path)
    with budget.limited(max_elements):
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            raise InputError(name, f"file not found: {shown}") from None
        except IsADirectoryError:
            raise InputError(name, f"{shown} is a directory, not a file") from None
        except PermissionError:
            raise InputError(name, f"permission denied: {shown}") from None
        except OSError as err:
            raise InputError(name, f"cannot read {shown}: {err.strerror}") from None
        with fh:
            try:
                if ext == ".npy":
                    return _read_npy(fh, shown, name)
                if ext == ".npz":
                    return _read_npz(fh, shown, name)
                if ext == ".json":
                    return _read_json(fh, shown, name)
                return read_text_stream(fh, name, shown)
            except IsADirectoryError:
                raise InputError(name, f"{shown} is a directory, not a file") from None
            except OSError as err:
                reason = err.strerror or _cut(str(err))
                raise InputError(name, f"cannot read {shown}: {reason}") from None


def _read_json(fh, path: str, name: str):
    text = read_whole(Source(fh, name, path), name).decode("utf-8")
    text = normalize_text(text)
    try:
        data = loads_json(text, name)
    except ValueError as err:
        where = (
            f" at line {err.lineno}, column {err.colno}: {err.msg}"
            if hasattr(err, "lineno")
            else f": {err}"
        )
        raise InputError(name, f"{path}: invalid JSON{where}") from None
    if isinstance(data, dict):
        arrays = {}
        for key, value in data.items():
            try:
                arrays[key] = from_nested(value, name)
            except InputError as err:
                raise InputError(name, f"{path}, array {show(key)}: {err.message}") from None
        return arrays
    return from_nested(data, name)


def _read_npy(fh, path: str, name: str, label: str | None = None) -> np.ndarray:
    """A `.npy` from an open stream: the header is read and checked (objects, type, size
    against the budget) before any of the data. `label` names it (a path, or a path and
    an array of a .npz)."""
    fmt = np.lib.format
    label = label or path
    try:
        version = fmt.read_magic(fh)
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = reader(fh)
    except (ValueError, EOFError, SyntaxError, TypeError) as err:
        raise InputError(name, f"{label} is not a valid .npy file: {_cut(str(err))}") from None
    if dtype.hasobject:
        raise InputError(name, f"{label} holds pickled objects; refused for safety")
    if dtype.kind not in "biuf":
        raise InputError(name, f"{label}: array of type {dtype} is not numeric")
    budget.check_shape(shape, name, label)
    arr = np.empty(budget.elements(shape), dtype=dtype)
    view = memoryview(arr.view(np.uint8).reshape(-1)) if arr.size else memoryview(b"")
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])
        if not n:
            raise InputError(
                name,
                f"{label} is not a valid .npy file: its data stop after {got} of {len(view)} bytes",
            )
        got += n
    arr = arr.reshape(shape, order="F" if fortran else "C")
    try:
        return checked_array(arr, name)
    except InputError as err:
        if label == path:
            raise
        raise InputError(name, f"{label}: {err.message}") from None


def _cut(text: str) -> str:
    return text if len(text) <= 2 * SHOW else text[: 2 * SHOW] + "…"


NPZ_FROM_STREAM = 64 << 20  # a .npz from a pipe or a device is read whole, up to this


def _read_npz(fh, path: str, name: str) -> dict[str, np.ndarray]:
    """Each member's `.npy` header is checked before the member is decompressed."""
    import stat
    import zipfile
    import zlib

    try:
        regular = stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    except (OSError, AttributeError, ValueError):
        regular = False
    if not regular:
        # A pipe or a device (/dev/zero) cannot be seeked: read it whole, if it is a zip.
        data = fh.read(4)
        if not data.startswith(b"PK"):
            raise InputError(name, f"{path} is not a valid .npz file")
        while len(data) <= NPZ_FROM_STREAM:
            more = fh.read(1 << 20)
            if not more:
                break
            data += more
        else:
            raise InputError(
                name, f"{path} is not a regular file and is over {NPZ_FROM_STREAM >> 20} MB"
            )
        fh = io.BytesIO(data)
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError):
        raise InputError(name, f"{path} is not a valid .npz file") from None
    arrays = {}
    with archive:
        for info in archive.infolist():
            key = info.filename
            if not key.endswith(".npy"):
                raise InputError(
                    name,
                    f"{path}: member {show(key)} is not a .npy array "
                    "(a .npz holds only .npy members)",
                )
            key = key[: -len(".npy")]
            label = f"{path}, array {show(key)}"
            try:
                with archive.open(info) as stream:
                    arrays[key] = _read_npy(stream, path, name, label)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
                raise InputError(
                    name, f"{path} is not a valid .npz file ({label}: {_cut(str(err))})"
                ) from None
            except (NotImplementedError, RuntimeError) as err:
                raise InputError(name, f"cannot read {label}: {_cut(str(err))}") from None
    return arrays


def read_named_arrays(
    spec: str, name: str, *, max_elements: int | None = None
) -> dict[str, np.ndarray]:
    """`@file.npz` or `@file.json` (an object of named arrays) as a dict."""
    if not spec.startswith("@"):
        raise InputError(name, "expected @FILE (.npz or a .json object of named arrays)")
    arrays = read_file(spec[1:], name, max_elements=max_elements)
    if not isinstance(arrays, dict):
        raise InputError(
            name, f"{spec[1:]} holds one array; expected named arrays (.npz or a JSON object)"
        )
    return arrays


# Shape normalisation lives with the maths; re-exported for the commands.
from cnnrnn_cli.core.shapes import as_image, as_matrix, as_vector  # noqa: E402, F401
