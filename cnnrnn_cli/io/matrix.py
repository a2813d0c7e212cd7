"""The input grammar: a literal, `-` (stdin) or `@PATH`, read into a float64 array.

Literal text: rows separated by `;` or newlines, values by spaces and/or
commas, optional enclosing brackets, channels separated by `|` (or by a blank
line in text read from a file or stdin), `#` comment lines, the Unicode minus.
A JSON nested list of any depth is read as it is. Every error names the input
and the position of the offending token (channel, row, column; 1-based).
"""

from __future__ import annotations

import json
import os
import re

import numpy as np

from cnnrnn_cli.errors import InputError, shape_str
from cnnrnn_cli.io import DEFAULT_MAX_ELEMENTS

# PDF and LaTeX copies carry these for a minus sign.
_MINUS_LIKE = dict.fromkeys(map(ord, "\u2212\u2012\u2013\ufe63\uff0d"), "-")
_HSPACE = re.compile(r"[^\S\n]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NONFINITE_WORDS = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity",
                    "-infinity"}


def normalize_text(text: str) -> str:
    """Unicode minus signs -> '-', every horizontal space -> ' ', CRLF -> LF, no BOM."""
    text = text.lstrip("\ufeff").translate(_MINUS_LIKE).replace("\r\n", "\n")
    text = text.replace("\r", "\n")
    return _HSPACE.sub(" ", text)


def parse_text(text: str, name: str, *, blank_line_channels: bool = False,
               max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    """Parse matrix text into an (H, W) array, or (C, H, W) when it has several channels."""
    text = normalize_text(text)
    body = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    stripped = body.strip()
    if not stripped:
        raise InputError(name, "no values given")
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except ValueError:
            pass
        else:
            return from_nested(data, name, max_elements=max_elements)
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
        check_size(total, name, max_elements)
    first = arrays[0]
    for c, arr in enumerate(arrays[1:], start=2):
        if arr.shape != first.shape:
            raise InputError(name, f"channel {c} is {shape_str(arr.shape)}, expected "
                                   f"{shape_str(first.shape)} like channel 1")
    return first if len(arrays) == 1 else np.stack(arrays)


def _strip_brackets(text: str) -> str:
    """'[1 2; 3 4]' -> '1 2; 3 4', but '[1, 2]; [3, 4]' stays (its brackets close early)."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return text
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if depth == 0 and i < len(text) - 1:
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
            raise InputError(name, f"{where}row {i} has {len(tokens)} values, expected "
                                   f"{len(token_rows[0])}")
        token_rows.append(tokens)
    if _PLAIN_NUMBERS.search(chunk) is None:
        try:
            values = np.array(token_rows, dtype=np.float64)  # C speed: a 4000×4000 image
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
            raise InputError(name, f"{where}, column {len(tokens) + 1}: empty value "
                                   "between commas")
        tokens.extend(words)
    return tokens


def check_token(token: str, name: str, where: str) -> float:
    """The value of one token of the grammar, or an InputError saying where and why."""
    if token.lower() in _NONFINITE_WORDS:
        raise InputError(name, f"{where}: {token!r} is not a finite number "
                               "(NaN and infinity are not accepted)")
    if not _NUMBER.fullmatch(token):
        raise InputError(name, f"{where}: {token!r} is not a number")
    value = float(token)
    if not np.isfinite(value):
        raise InputError(name, f"{where}: {token} is outside the float64 range")
    return value


def from_nested(data, name: str, *, max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    """A JSON value (number or nested lists) as a float64 array, rejecting ragged lists."""
    try:
        arr = np.asarray(data)
    except ValueError:
        arr = None
    if arr is None or arr.dtype == object:
        _find_ragged(data, name, "")
        raise InputError(name, "nested lists are not rectangular")
    if arr.dtype.kind not in "iuf":
        bad = _first_non_number(data)
        raise InputError(name, f"{bad[0] or 'value'}: {json.dumps(bad[1])} is not a number")
    return checked_array(arr, name, max_elements)


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
                raise InputError(name, f"{path}[{i}] has {got}, expected {want} like "
                                       f"{path}[0]")
    for i, x in enumerate(data):
        _find_ragged(x, name, f"{path}[{i}]")


def _first_non_number(data, path: str = ""):
    if isinstance(data, list):
        for i, x in enumerate(data):
            found = _first_non_number(x, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        return (path, data)
    return None


def check_size(count: int, name: str, max_elements: int) -> None:
    from cnnrnn_cli import budget

    with budget.limited(max_elements):
        budget.check(count, name, "the input")


def checked_array(arr: np.ndarray, name: str,
                  max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    """float64 copy of a numeric array; rejects NaN, infinity, empty and oversized arrays."""
    check_size(arr.size, name, max_elements)
    if arr.dtype.kind not in "biuf":
        raise InputError(name, f"array of type {arr.dtype} is not numeric")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == 0:
        raise InputError(name, f"no values given (shape {shape_str(arr.shape)})")
    if not np.isfinite(arr).all():
        index = tuple(int(i) + 1 for i in np.argwhere(~np.isfinite(arr))[0])
        raise InputError(name, f"element {index} is NaN or infinity")
    return arr


def read_source(spec: str, name: str, *, read_stdin=None,
                max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    """One array from a literal, `-` (read_stdin() gives the text) or `@PATH`."""
    if spec == "-":
        if read_stdin is None:
            raise InputError(name, "standard input is not available")
        return parse_text(read_stdin(), name, blank_line_channels=True,
                          max_elements=max_elements)
    if spec.startswith("@"):
        arrays = read_file(spec[1:], name, max_elements=max_elements)
        if isinstance(arrays, dict):
            if len(arrays) != 1:
                raise InputError(name, f"{spec[1:]} holds {len(arrays)} arrays "
                                       f"({', '.join(arrays)}); this input takes one")
            return next(iter(arrays.values()))
        return arrays
    try:
        return parse_text(spec, name, max_elements=max_elements)
    except InputError as err:
        if os.path.exists(spec):
            raise InputError(name, f"{err.message} (to read the file, write @{spec})") from None
        raise


def read_file(path: str, name: str, *, max_elements: int = DEFAULT_MAX_ELEMENTS):
    """An array, or a dict of named arrays for `.npz` and JSON objects."""
    ext = os.path.splitext(path)[1].lower()
    if "\x00" in path or not path:
        raise InputError(name, f"{path!r} is not a valid file name")
    try:
        if ext == ".npy":
            return _read_npy(path, name, max_elements)
        if ext == ".npz":
            return _read_npz(path, name, max_elements)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError(name, f"file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(name, f"{path} is a directory, not a file") from None
    except PermissionError:
        raise InputError(name, f"permission denied: {path}") from None
    except UnicodeDecodeError as err:
        raise InputError(name, f"{path} is not UTF-8 text (byte {err.start + 1}); "
                               "a binary file?") from None
    except OSError as err:
        raise InputError(name, f"cannot read {path}: {err.strerror}") from None
    if "\x00" in text:
        raise InputError(name, f"{path} is a binary file, not text")
    if ext == ".json":
        try:
            data = json.loads(normalize_text(text))
        except ValueError as err:
            raise InputError(name, f"{path}: invalid JSON at line {err.lineno}, column "
                                   f"{err.colno}: {err.msg}") from None
        if isinstance(data, dict):
            return {k: from_nested(v, f"{name} ({path}: {k})", max_elements=max_elements)
                    for k, v in data.items()}
        return from_nested(data, name, max_elements=max_elements)
    return parse_text(text, name, blank_line_channels=True, max_elements=max_elements)


def _read_npy(path: str, name: str, max_elements: int) -> np.ndarray:
    fmt = np.lib.format
    try:
        with open(path, "rb") as fh:
            version = fmt.read_magic(fh)
            reader = fmt.read_array_header_1_0 if version == (1, 0) else \
                fmt.read_array_header_2_0
            shape, _, dtype = reader(fh)
        if dtype.hasobject:
            raise ValueError("pickle")
        check_size(int(np.prod(shape)), name, max_elements)
        arr = np.load(path, allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err):
            raise InputError(name, f"{path} holds pickled objects; refused for safety") from None
        raise InputError(name, f"{path} is not a valid .npy file: {err}") from None
    return checked_array(arr, name, max_elements)


def _read_npz(path: str, name: str, max_elements: int) -> dict[str, np.ndarray]:
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: checked_array(archive[k], f"{name} ({path}: {k})", max_elements)
                    for k in archive.files}
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise InputError(name, f"{path} is not a valid .npz file") from None
    except ValueError as err:
        if "pickle" in str(err):
            raise InputError(name, f"{path} holds pickled objects; refused for safety") from None
        raise InputError(name, f"{path} is not a valid .npz file: {err}") from None


def read_named_arrays(spec: str, name: str, *,
                      max_elements: int = DEFAULT_MAX_ELEMENTS) -> dict[str, np.ndarray]:
    """`@file.npz` or `@file.json` (an object of named arrays) as a dict."""
    if not spec.startswith("@"):
        raise InputError(name, "expected @FILE (.npz or a .json object of named arrays)")
    arrays = read_file(spec[1:], name, max_elements=max_elements)
    if not isinstance(arrays, dict):
        raise InputError(name, f"{spec[1:]} holds one array; expected named arrays "
                               "(.npz or a JSON object)")
    return arrays


# Shape normalisation lives with the maths; re-exported for the commands.
from cnnrnn_cli.core.shapes import as_image, as_matrix, as_vector  # noqa: E402, F401
