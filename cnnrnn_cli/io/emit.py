"""plain, csv and json text of a Report, streamed: arrays are formatted a block of rows at a
time, so a result of any size is written with a few MB beyond itself. Imports no NumPy until
it is given an array."""

from __future__ import annotations

import math

from cnnrnn_cli.io.numbers import format_number

_BUILTIN = frozenset((int, float, bool, str, type(None)))  # leaves that are their own text


def to_builtin(value):
    """NumPy arrays and scalars -> lists and floats; dicts and lists recursively."""
    if type(value) in _BUILTIN:
        return value
    if isinstance(value, list) and _BUILTIN.issuperset(map(type, value)):
        return value  # a row of plain values: nothing to convert (a C-speed check)
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    return value


def depth(value) -> int:
    n = 0
    while isinstance(value, list):
        n += 1
        value = value[0] if value else None
    return n


# Working memory of the writers: numbers are formatted this many at a time, so that a
# result of any size is written with a few MB beyond the array itself.
CHUNK = 1 << 16


def value_lines(value, sep: str):
    """A scalar, vector, matrix or C×H×W stack as text lines (channels split by '').

    A generator, so that `| head` stops the formatting of a large result early.
    """
    if hasattr(value, "dtype") and getattr(value, "ndim", 0) >= 1:
        if _fast_text(value, sep):
            yield from _lines(_array_pieces(value, sep, json=False))
        elif value.ndim == 1:
            yield _row_text(value, sep)
        elif value.ndim == 2:
            for row in value:
                yield _row_text(row, sep)
        else:
            for i, channel in enumerate(value):
                if i:
                    yield ""
                yield from value_lines(channel, sep)
        return
    value = to_builtin(value)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        for record in value:  # records (--only layers): one JSON object a line
            yield _cell(record)
        return
    d = depth(value)
    if d == 0:
        yield _cell(value)
    elif d == 1:
        yield sep.join(map(_cell, value))
    elif d == 2:
        for row in value:
            yield sep.join(map(_cell, row))
    else:
        for i, channel in enumerate(value):
            if i:
                yield ""
            yield from value_lines(channel, sep)


def _lines(pieces):
    """Text pieces (cut anywhere) as lines."""
    carry = ""
    for piece in pieces:
        parts = (carry + piece).split("\n") if carry else piece.split("\n")
        carry = parts.pop()
        yield from parts
    yield carry


def _fast_text(a, sep: str) -> bool:
    """Whether `_array_pieces` can write `a`: real numbers of at most 64 bits, a one-character
    separator."""
    return (
        a.dtype.kind in "fiu"
        and a.dtype.itemsize <= 8
        and a.size > 0
        and len(sep) == 1
        and sep not in "%\n\x01"
    )


def _array_pieces(a, sep: str, *, json: bool):
    """The text of a non-empty float or integer array, in pieces of about CHUNK numbers.

    plain/csv (json=False): one row a line, numbers separated by `sep`, a blank line between
    the 2-D slices of a stack; no newline at the end. json: nested lists, as `json.dumps`
    writes `a.tolist()` (sep is then ", ").

    Each piece is one %-formatting: a template of one conversion per number (see
    `numbers.conversions`), the end of each row marked by a control byte that is replaced
    afterwards by what ends that row: a newline, a blank line, or `], [` closing as many
    levels of brackets as end there.
    """
    import numpy as np

    from cnnrnn_cli.io.numbers import conversions

    n = a.ndim
    width = a.shape[-1]
    rows = a.size // width
    a2 = a.reshape(rows, width)
    periods = [math.prod(a.shape[n - 1 - j : n - 1]) for j in range(1, n - 1)]
    if json:
        yield "[" * n
        closing = {level: "]" * level + ", " + "[" * level for level in range(1, n)}
    per = max(1, CHUNK // width)
    for r0 in range(0, rows, per):
        r1 = min(rows, r0 + per)
        for c0 in range(0, width, CHUNK):
            c1 = min(width, c0 + CHUNK)
            block = a2[r0:r1, c0:c1]
            flat = block.ravel()
            if json and flat.dtype.kind == "f" and not np.isfinite(flat).all():
                import json as json_module

                json_module.dumps(flat.tolist(), allow_nan=False)  # its own ValueError
            cells = conversions(flat, ", " if json else sep, json=json)
            last = r1 == rows and c1 == width
            if c1 == width:  # this piece ends rows r0..r1-1: mark each row's end
                ends = np.arange(r0 + 1, r1 + 1)
                level = np.ones(len(ends), np.uint8)
                for period in periods:
                    level += ends % period == 0
                at = np.arange(1, r1 - r0 + 1) * (c1 - c0) - 1
                if json:
                    cells[at, 5] = 1
                    cells[at, 6] = level
                else:
                    cells[at, 5] = np.where(level > 1, 1, 10)  # \x01 blank line, \n
            template = cells.tobytes().decode("ascii")
            if last:
                template = template[:-2] if json else template[:-1]
            text = template % tuple(flat.tolist())
            if json:
                for lev in range(1, n):
                    text = text.replace("\x01" + chr(lev), closing[lev])
            elif n > 2:
                text = text.replace("\x01", "\n\n")
            yield text
    if json:
        yield "]" * n


def _row_text(row, sep: str) -> str:
    """One NumPy row of any other kind (booleans, objects, empty): number by number."""
    return sep.join(map(_cell, row.tolist()))


def _cell(x) -> str:
    kind = type(x)
    if kind is str:
        return x
    if kind is int:
        return str(x)
    if x is None:
        return "null"
    if isinstance(x, str):
        return x
    if isinstance(x, (dict, list)):  # a record in a list (--only layers): one JSON line
        import json

        return json.dumps(to_builtin(x), allow_nan=False)
    return format_number(x)


def iter_blocks(blocks: list[tuple[str, object]], sep: str):
    """Lines of the blocks: one block alone is bare; several get `# name` headers and blank
    lines between."""
    if len(blocks) == 1:
        yield from value_lines(blocks[0][1], sep)
        return
    for i, (name, value) in enumerate(blocks):
        if i:
            yield ""
        yield f"# {name}"
        yield from value_lines(value, sep)


def json_document(report) -> dict:
    """The JSON object of a report, its arrays left as they are (`iter_json` writes them)."""
    doc = {"command": report.command, "params": report.params, "result": report.result}
    doc.update(report.extra)
    if report.warnings:
        doc["warnings"] = list(report.warnings)
    return doc


def iter_json(report):
    """The JSON text of a report, in pieces of about 64 kB, newline at the end: the text of
    `json.dumps(to_builtin(document), allow_nan=False)`, written array block by array block,
    so that a result of any size costs a few MB beyond itself and a closed pipe stops the
    work early."""
    return iter_json_value(json_document(report))


def iter_json_value(value):
    """`json.dumps(to_builtin(value), allow_nan=False) + "\\n"` in pieces of about 64 kB."""
    batch, size = [], 0
    for piece in _json_pieces(value):
        batch.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(batch)
            batch, size = [], 0
    batch.append("\n")
    yield "".join(batch)


def json_text(report) -> str:
    """The JSON text of a report, whole (small reports, tests)."""
    return "".join(iter_json(report))


def _json_pieces(value):
    """Pieces of `json.dumps(to_builtin(value), allow_nan=False)`: the same separators, key
    order and errors (json.dumps itself writes every key and every leaf that is not an array).
    """
    import json

    if hasattr(value, "tolist"):
        if getattr(value, "ndim", 0) >= 1 and hasattr(value, "dtype"):
            yield from _json_array(value)
        else:  # a NumPy scalar, a 0-d array
            yield json.dumps(value.tolist(), allow_nan=False)
    elif isinstance(value, dict):
        if not value:
            yield "{}"
            return
        for i, (key, item) in enumerate(value.items()):
            # json.dumps's own key text ("1" for 1, "true" for True) and its TypeError
            yield ("{" if i == 0 else ", ") + json.dumps({key: 0}, allow_nan=False)[1:-2]
            yield from _json_pieces(item)
        yield "}"
    elif isinstance(value, (list, tuple)):
        if not value:
            yield "[]"
            return
        yield "["
        for start in range(0, len(value), CHUNK):
            part = value[start : start + CHUNK]
            if start:
                yield ", "
            if any(isinstance(x, (dict, list, tuple)) or hasattr(x, "tolist") for x in part):
                for i, item in enumerate(part):
                    if i:
                        yield ", "
                    yield from _json_pieces(item)
            else:
                yield json.dumps(list(part), allow_nan=False)[1:-1]
        yield "]"
    else:
        yield json.dumps(value, allow_nan=False)


def _json_array(a):
    """Pieces of `json.dumps(a.tolist(), allow_nan=False)` for an array of 1 or more
    dimensions."""
    import json

    if a.dtype.kind in "fiu" and a.dtype.itemsize <= 8 and a.size > 0:
        yield from _array_pieces(a, ", ", json=True)
    elif a.size <= CHUNK and a.shape[0] <= CHUNK:
        yield json.dumps(a.tolist(), allow_nan=False)
    elif a.ndim == 1:
        yield "["
        for start in range(0, len(a), CHUNK):
            yield (", " if start else "") + json.dumps(
                a[start : start + CHUNK].tolist(), allow_nan=False
            )[1:-1]
        yield "]"
    else:
        yield "["
        for i, sub in enumerate(a):
            if i:
                yield ", "
            yield from _json_array(sub)
        yield "]"
