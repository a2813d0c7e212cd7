"""plain, csv and json text of a Report. Imports no NumPy: arrays arrive via `.tolist()`."""

from __future__ import annotations

import json

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


def value_lines(value, sep: str) -> list[str]:
    """A scalar, vector, matrix or C×H×W stack as text lines (channels split by '')."""
    value = to_builtin(value)
    d = depth(value)
    if d == 0:
        return [_cell(value)]
    if d == 1:
        return [sep.join(map(_cell, value))]
    if d == 2:
        return [sep.join(map(_cell, row)) for row in value]
    lines: list[str] = []
    for i, channel in enumerate(value):
        if i:
            lines.append("")
        lines.extend(value_lines(channel, sep))
    return lines


def _cell(x) -> str:
    if x is None:
        return "null"
    if isinstance(x, str):
        return x
    return format_number(x)


def blocks_text(blocks: list[tuple[str, object]], sep: str) -> str:
    """One block alone is bare; several get `# name` headers and blank lines between."""
    if len(blocks) == 1:
        return "\n".join(value_lines(blocks[0][1], sep)) + "\n"
    parts = []
    for name, value in blocks:
        parts.append("\n".join([f"# {name}", *value_lines(value, sep)]))
    return "\n\n".join(parts) + "\n"


def plain_text(report) -> str:
    return blocks_text(report.blocks(), " ")


def csv_text(report) -> str:
    return blocks_text(report.blocks(), ",")


def json_text(report) -> str:
    doc = {"command": report.command, "params": to_builtin(report.params),
           "result": to_builtin(report.result)}
    doc.update(to_builtin(report.extra))
    if report.warnings:
        doc["warnings"] = list(report.warnings)
    return json.dumps(doc, allow_nan=False) + "\n"
