"""plain, csv and json text of a Report. Imports no NumPy: arrays arrive via `.tolist()`."""

from __future__ import annotations

from cnnrnn_cli.io.numbers import format_number


def to_builtin(value):
    """NumPy arrays and scalars -> lists and floats; dicts and lists recursively."""
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


def value_lines(value, sep: str):
    """A scalar, vector, matrix or C×H×W stack as text lines (channels split by '').

    A generator, so that `| head` stops the formatting of a large result early.
    """
    if hasattr(value, "dtype") and getattr(value, "ndim", 0) >= 1:
        if value.ndim == 1:
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


def _row_text(row, sep: str) -> str:
    """One NumPy row; whole numbers (the common case) take a fast integer path."""
    if row.dtype.kind == "f" and row.size:
        import numpy as np

        negative_zero = (row == 0) & np.signbit(row)
        if ((row == np.trunc(row)) & (np.abs(row) < 1e16) & ~negative_zero).all():
            return sep.join(map(str, row.astype(np.int64).tolist()))
    return sep.join(map(_cell, row.tolist()))


def _cell(x) -> str:
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


def json_text(report) -> str:
    import json

    doc = {"command": report.command, "params": to_builtin(report.params),
           "result": to_builtin(report.result)}
    doc.update(to_builtin(report.extra))
    if report.warnings:
        doc["warnings"] = list(report.warnings)
    return json.dumps(doc, allow_nan=False) + "\n"
