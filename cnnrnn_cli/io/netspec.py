"""The `--layers` grammar: layers separated by `;` (or new lines), branches `res( … )`,
`res( MAIN | SHORTCUT )` and `cat( B1 | B2 | … )` that nest, `#` comments to the end of
the line. Pure Python (no NumPy): `outsize` must start fast.

    conv k=7 s=2 p=3 c=64 bias=0; bn; relu; maxpool k=3 s=2 p=1;
    res( conv k=3 p=1 c=64; bn; relu; conv k=3 p=1 c=64; bn ); relu;
    adaptiveavgpool o=1; flatten; linear n=1000

Every layer is named in messages by its ;-item: `item 4` at the top, `item 4.2.1` for
the first layer of the second path of item 4.
"""

from __future__ import annotations

import re

from cnnrnn_cli.core.network import LEAF_KINDS, MAX_DEPTH, MAX_NODES, Block, Op
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.io.spec import parse_int, parse_padding, parse_pair, shown

_TOKEN = re.compile(
    r"#[^\n]*|[ \t\r\f\v]+|(?i:res|cat)[ \t]*\(|[()|;\n]|[^#()|;\n \t\r\f\v][^#()|;\n]*"
)

# The keys each kind takes; `ceil` and `bidirectional` may be given bare.
KEYS = {
    "conv": ("k", "s", "p", "d", "c", "g", "bias"),
    "convT": ("k", "s", "p", "d", "c", "g", "op", "bias"),
    "maxpool": ("k", "s", "p", "d", "ceil"),
    "avgpool": ("k", "s", "p", "d", "ceil"),
    "adaptiveavgpool": ("o",),
    "flatten": (),
    "linear": ("n", "bias"),
    "bn": (),
    "relu": (),
    "act": ("f",),
    "dropout": ("p",),
    "rnn": ("h", "bidirectional", "bias"),
    "gru": ("h", "bidirectional", "bias"),
    "lstm": ("h", "bidirectional", "bias"),
}
REQUIRED = {
    "conv": "k",
    "convT": "k",
    "maxpool": "k",
    "avgpool": "k",
    "adaptiveavgpool": "o",
    "linear": "n",
    "rnn": "h",
    "gru": "h",
    "lstm": "h",
}
_REQUIRED_TEXT = {"k": "a kernel size k=", "o": "an output size o=", "n": "a size n=", "h": "h="}
_FLAGS = ("ceil", "bias", "bidirectional")
_KINDS = {k.lower(): k for k in LEAF_KINDS}
# Compiled when first used (re caches them): most specs have no act f= and no dropout p=.
_NAME = r"[A-Za-z][A-Za-z0-9_]{0,31}"
_PROBABILITY = r"0(\.[0-9]{1,12})?|\.[0-9]{1,12}|1(\.0{1,12})?"


def parse_network(text: str, name: str = "layers") -> list:
    """The spec as a list of nodes (core.network Op and Block), each labelled by its item."""
    text = str(text)
    # Each open block: [kind, paths (lists of nodes), its item label, its opening's text]
    stack: list[list] = [[None, [[]], "", ""]]
    count = 0
    need_separator = ""  # the last item's text, while no ';' has followed it
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == "#" or token.isspace() and token != "\n":
            continue
        if token in (";", "\n"):
            need_separator = ""
            continue
        path = stack[-1][1][-1]
        label = _label(stack[-1][2], len(stack[-1][1]), len(path) + 1)
        if token == "|":
            if len(stack) == 1:
                raise InputError(name, f"'|' at layer {label} is outside res( ) or cat( )")
            stack[-1][1].append([])
            need_separator = ""
            continue
        if token == ")":
            if len(stack) == 1:
                raise InputError(name, f"')' at layer {label} closes nothing")
            kind, paths, item, opened = stack.pop()
            where = f"{name}: layer {item} ({kind})"
            if kind == "res" and len(paths) > 2:
                raise InputError(
                    where, f"res( ) takes MAIN or MAIN | SHORTCUT, got {len(paths)} paths"
                )
            if kind == "res" and not paths[0]:
                raise InputError(where, "res( ) needs at least one layer in its main path")
            if kind == "cat" and (len(paths) < 2 or not any(paths)):
                raise InputError(where, "cat( ) needs two paths or more, separated by '|'")
            stack[-1][1][-1].append(Block(kind, paths, item))
            need_separator = f"{kind}( … )"
            continue
        if need_separator:
            raise InputError(
                f"{name}: layer {label}",
                f"expected ';' between {need_separator} and {shown(token)}",
            )
        count += 1
        if count > MAX_NODES:
            raise InputError(name, f"more than {MAX_NODES} layers; no summary needs so many")
        if token == "(":
            raise InputError(f"{name}: layer {label}", "'(' must follow res or cat")
        if token.endswith("("):
            if len(stack) > MAX_DEPTH:
                raise InputError(
                    f"{name}: layer {label}", f"branches nest deeper than {MAX_DEPTH} levels"
                )
            stack.append([token[:3].lower(), [[]], label, token])
            continue
        path.append(parse_layer(token.strip(), f"{name}: layer {label}", label))
        need_separator = token.strip()
    if len(stack) > 1:
        kind, _, item, _ = stack[-1]
        raise InputError(f"{name}: layer {item} ({kind})", f"'{kind}(' is never closed with ')'")
    nodes = stack[0][1][0]
    if not nodes:
        raise InputError(name, "no layers given")
    return nodes


def _label(parent: str, path_index: int, item_index: int) -> str:
    return f"{parent}.{path_index}.{item_index}" if parent else str(item_index)


def parse_layer(chunk: str, where: str, item: str = ""):
    """'conv k=3 p=1 c=64' -> Op('conv', {'k': 3, 'p': 1, 'c': 64})."""
    where = f"{where} ({chunk})" if len(chunk) <= 60 else f"{where} ({chunk[:57]}…)"
    words = chunk.split()
    kind = _KINDS.get(words[0].lower())
    if kind is None:
        raise InputError(
            where, f"unknown layer kind {shown(words[0])}; expected one of {', '.join(LEAF_KINDS)}"
        )
    keys = KEYS[kind]
    values: dict = {}
    for word in words[1:]:
        key, eq, value = word.partition("=")
        key = key.lower()
        if key in _FLAGS and not eq:
            value, eq = "1", "="
        if key not in keys or not eq or not value:
            among = f"a key among {' '.join(keys)}" if keys else f"no keys ({kind} takes none)"
            raise InputError(where, f"{shown(word)} is not key=value with {among}")
        if key in values:
            raise InputError(where, f"{key}= is given twice")
        values[key] = _value(kind, key, value, where)
    need = REQUIRED.get(kind)
    if need and need not in values:
        raise InputError(where, f"needs {_REQUIRED_TEXT[need]}")
    return Op(kind, values, chunk, item)


def _value(kind: str, key: str, value: str, where: str):
    if key in _FLAGS:
        if value.lower() not in ("0", "1", "true", "false"):
            raise InputError(where, f"{key}= takes 0 or 1, got {shown(value)}")
        return value.lower() in ("1", "true")
    if key == "p" and kind == "dropout":
        if not re.fullmatch(_PROBABILITY, value):
            raise InputError(where, f"p= is a probability from 0 to 1, got {shown(value)}")
        return value
    if key == "p":
        return parse_padding(value, f"{where}: p")
    if key == "f":
        if not re.fullmatch(_NAME, value):
            raise InputError(where, f"f= names the activation (a word), got {shown(value)}")
        return value
    if key in ("c", "g", "n", "h"):
        return parse_int(value, f"{where}: {key}")
    if key == "op":
        return parse_pair(value, f"{where}: op", minimum=0)
    return parse_pair(value, f"{where}: {key}")


def format_network(nodes: list, indent: str = "") -> str:
    """The spec as text that `parse_network` reads back: one layer a line, each ending in
    ';', branches indented, paths separated by a '|' line."""
    lines: list[str] = []
    _format(nodes, indent, lines)
    return "\n".join(lines)


def _format(nodes, indent: str, lines: list) -> None:
    for node in nodes:
        if isinstance(node, Block):
            lines.append(f"{indent}{node.kind}(")
            for i, path in enumerate(node.paths):
                if i:
                    lines.append(f"{indent}|")
                _format(path, indent + "  ", lines)
            lines.append(f"{indent});")
        else:
            lines.append(f"{indent}{layer_text(node)};")


def layer_text(op) -> str:
    """An Op as `kind key=value …`, in the kind's key order."""
    words = [op.kind]
    for key in KEYS[op.kind]:
        if key not in op.values:
            continue
        value = op.values[key]
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, tuple):
            value = "x".join(map(str, value))
        words.append(f"{key}={value}")
    return " ".join(words)
