"""Small text specs: shapes (`3x224x224`), size pairs (`3x5`), paddings and `--layers`.

Pure Python (no NumPy): `outsize` must start fast.
"""

from __future__ import annotations

import re

from cnnrnn_cli.errors import InputError

_SEP = re.compile(r"\s*[x×X*,]\s*")


def _int(token: str, name: str, what: str = "a whole number") -> int:
    token = token.strip().replace("\u2212", "-")
    if not re.fullmatch(r"[+-]?[0-9]+", token):
        raise InputError(name, f"{token!r} is not {what}")
    return int(token)


def parse_dims(text: str, name: str) -> list[int]:
    """'224' -> [224]; '224x224' -> [224, 224]; '3x224x224' -> [3, 224, 224]."""
    parts = _SEP.split(str(text).strip())
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise InputError(name, f"expected N, HxW or CxHxW, got {text!r}")
    dims = [_int(p, name) for p in parts]
    for value in dims:
        if value < 1:
            raise InputError(name, f"sizes must be 1 or more, got {text!r}")
    return dims


def parse_pair(text, name: str, *, minimum: int = 1):
    """'3' -> 3; '3x5' -> (3, 5). Each value must be >= minimum."""
    if isinstance(text, int):
        values = [text]
    else:
        parts = _SEP.split(str(text).strip())
        if len(parts) > 2 or not all(parts):
            raise InputError(name, f"expected a number or HxW, got {text!r}")
        values = [_int(p, name) for p in parts]
    for value in values:
        if value < minimum:
            word = "positive" if minimum == 1 else f"{minimum} or more"
            raise InputError(name, f"must be {word}, got {value}")
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
        raise InputError(name, f"expected a number, HxW, same, valid or full; got {text!r}") \
            from None


def parse_ints(text: str, name: str, count: int) -> list[int]:
    """'50,4,8' -> [50, 4, 8], exactly `count` positive integers."""
    parts = [p.strip() for p in str(text).replace("x", ",").split(",")]
    if len(parts) != count or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise InputError(name, f"expected {count} positive integers separated by commas, "
                               f"got {text!r}")
    return [int(p) for p in parts]


_LAYER_KEYS = {"k", "s", "p", "d", "c", "ceil", "op", "bias"}


def parse_layers(text: str, name: str = "layers"):
    """'conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1' -> [Layer, ...].

    Strides default to 1 for conv/convT and to k for the pools.
    """
    from cnnrnn_cli.core.sizes import LAYER_KINDS, Layer

    layers = []
    chunks = [c.strip() for c in re.split(r"[;\n]", text)]
    for index, chunk in enumerate((c for c in chunks if c), start=1):
        where = f"{name}: layer {index} ({chunk})"
        words = chunk.split()
        kind = {k.lower(): k for k in LAYER_KINDS}.get(words[0].lower())
        if kind is None:
            raise InputError(where, f"unknown layer kind {words[0]!r}; expected one of "
                                    f"{', '.join(LAYER_KINDS)}")
        opts: dict[str, str] = {}
        for word in words[1:]:
            key, eq, value = word.partition("=")
            key = key.lower()
            if key == "ceil" and not eq:
                value, eq = "1", "="
            if key not in _LAYER_KEYS or not eq or not value:
                raise InputError(where, f"{word!r} is not key=value with a key among "
                                        f"{' '.join(sorted(_LAYER_KEYS))}")
            if key in opts:
                raise InputError(where, f"{key}= is given twice")
            opts[key] = value
        if "k" not in opts:
            raise InputError(where, "needs a kernel size k=")
        k = parse_pair(opts["k"], f"{where}: k")
        pool = kind.endswith("pool")
        s = parse_pair(opts["s"], f"{where}: s") if "s" in opts else (k if pool else 1)
        flags = {}
        for key in ("ceil", "bias"):
            if key in opts:
                if opts[key].lower() not in ("0", "1", "true", "false"):
                    raise InputError(where, f"{key}= takes 0 or 1, got {opts[key]!r}")
                flags[key] = opts[key].lower() in ("1", "true")
        if flags.get("ceil") and not pool:
            raise InputError(where, "ceil= applies to pooling layers")
        if "op" in opts and kind != "convT":
            raise InputError(where, "op= (output padding) applies to convT layers")
        layers.append(Layer(
            kind=kind, k=k, s=s,
            p=parse_padding(opts.get("p", "0"), f"{where}: p"),
            d=parse_pair(opts.get("d", "1"), f"{where}: d"),
            c=parse_pair(opts["c"], f"{where}: c") if "c" in opts else None,
            ceil=flags.get("ceil", False),
            op=parse_pair(opts.get("op", "0"), f"{where}: op", minimum=0),
            bias=flags.get("bias", True),
            text=chunk,
        ))
        if isinstance(layers[-1].c, tuple):
            raise InputError(where, "c= takes one number")
    if not layers:
        raise InputError(name, "no layers given")
    return layers
