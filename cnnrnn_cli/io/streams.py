"""The process's standard streams, set up once when `cnnrnn` starts.

- stdout names its own failures: a write that fails (a full disk, a closed descriptor)
  raises `OutputError`, which the CLI edge turns into one `Error:` line, so an error
  from writing the output is never mistaken for one from reading an input;
- stderr is best effort: a warning or an error that cannot be written is dropped, as
  there is nowhere left to report it;
- a descriptor closed at start (`>&-`, `<&-`, `2>&-`) is reopened on /dev/null, so that
  no file the command opens can take its number (an SVG written to descriptor 1 would
  be a disaster); a closed stdout still fails on the first write, a closed stdin reads
  as empty and is marked (`stdin_closed()`);
- a stream that cannot encode ·, × or → (`PYTHONIOENCODING=ascii`) gets `*`, `x` and
  `->` for them instead of `?`: see `ascii_fallback`.

No Click here, and nothing heavy: this runs before every command.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import sys

FALLBACK = "cnnrnn-ascii"  # the codecs error handler of this module


class OutputError(OSError):
    """Standard output could not be written (errno and strerror as for any OSError)."""


class _Stdout(io.FileIO):
    """Descriptor 1, whose write failures raise OutputError. After `give_up()`, writes are
    dropped: the failure is reported once, and the interpreter's final flush stays quiet."""

    def __init__(self, fd: int, *, closed_at_start: bool = False):
        super().__init__(fd, "w", closefd=False)
        self.closed_at_start = closed_at_start
        self.gave_up = False

    def write(self, data):
        if self.gave_up:
            return len(data)
        if self.closed_at_start:
            raise OutputError(errno.EBADF, "it is closed")
        try:
            return super().write(data)
        except OSError as err:
            raise OutputError(err.errno, err.strerror) from None

    def give_up(self) -> None:
        self.gave_up = True


class _Stderr(io.FileIO):
    """Descriptor 2, best effort: a write that fails is dropped (stderr is where failures
    are reported; when it fails too, exit status alone tells)."""

    def __init__(self, fd: int):
        super().__init__(fd, "w", closefd=False)

    def write(self, data):
        try:
            return super().write(data)
        except OSError:
            return len(data)


_installed = False


def install() -> None:
    """Set up sys.stdin, sys.stdout and sys.stderr as described above (once a process).

    Only the interpreter's own streams are replaced: a test harness's captured streams
    are left alone.
    """
    global _installed
    if _installed:
        return
    _installed = True
    codecs.register_error(FALLBACK, ascii_fallback)
    closed = [fd for fd in (0, 1, 2) if not _is_open(fd)]
    for fd in closed:
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
    if 0 in closed:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (lives as long as we do)
        sys.stdin.cnnrnn_closed = True
    if sys.stdout is None or _is_own(sys.stdout, 1):
        sys.stdout = _text(_Stdout(1, closed_at_start=1 in closed), sys.stdout, stderr=False)
    if sys.stderr is None or _is_own(sys.stderr, 2):
        sys.stderr = _text(_Stderr(2), sys.stderr, stderr=True)


def stdin_closed() -> bool:
    """True when the process started with its standard input closed (`<&-`)."""
    return getattr(sys.stdin, "cnnrnn_closed", False)


def give_up_stdout() -> None:
    """After a failure to write stdout has been reported: drop whatever is still buffered
    and whatever comes, so that nothing (the interpreter's last flush included) tries
    again and complains. A stream not ours is replaced by /dev/null for that."""
    stream = sys.stdout
    raw = getattr(getattr(stream, "buffer", None), "raw", None)
    if isinstance(raw, _Stdout):
        raw.give_up()
    else:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def echo_err(line: str) -> None:
    """One line on stderr, best effort. Not click.echo: for a stream it finds ASCII, Click
    writes UTF-8 bytes anyway, where this module's fallback writes `x` for `×`."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _is_own(stream, fd: int) -> bool:
    """The interpreter's stream on descriptor `fd`, not yet replaced by a harness."""
    if stream not in (sys.__stdout__, sys.__stderr__):
        return False
    try:
        return stream.fileno() == fd
    except (OSError, ValueError, AttributeError):
        return False


def _text(raw, old, *, stderr: bool):
    """A text stream over `raw`, with the encoding and buffering `old` had."""
    encoding = getattr(old, "encoding", None) or "utf-8"
    if stderr:
        line_buffering, write_through = True, True
    else:
        line_buffering = bool(getattr(old, "line_buffering", False)) or raw.isatty()
        write_through = False
    return io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=encoding,
        errors=FALLBACK,
        line_buffering=line_buffering,
        write_through=write_through,
    )


# -- What an ASCII (or Latin-1, ...) stream prints for the symbols of the explanations --

_SYMBOLS = {
    "·": "*",
    "⋅": "*",
    "∙": "*",
    "⊙": "*",
    "×": "x",
    "∘": "o",
    "•": "*",
    "−": "-",
    "–": "-",
    "—": "--",
    "‐": "-",
    "‑": "-",
    "±": "+/-",
    "→": "->",
    "←": "<-",
    "↔": "<->",
    "⇒": "=>",
    "⇐": "<=",
    "⇔": "<=>",
    "⟶": "-->",
    "↑": "^",
    "↓": "v",
    "↦": "|->",
    "…": "...",
    "⋯": "...",
    "⋮": ":",
    "‖": "||",
    "⁄": "/",
    "√": "sqrt",
    "∞": "inf",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "≈": "~",
    "≡": "==",
    "∈": " in ",
    "∂": "d",
    "∇": "grad",
    "Σ": "sum",
    "∑": "sum",
    "Π": "prod",
    "∏": "prod",
    "⌈": "ceil(",
    "⌉": ")",
    "⌊": "floor(",
    "⌋": ")",
    "°": " deg",
    "«": '"',
    "»": '"',
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "\u00a0": " ",
    "✓": "yes",
    "✔": "yes",
    "✗": "no",
    "✘": "no",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "-",  # combining hat, tilde and bar (ŷ, h̃)
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "Δ": "Delta",
    "ε": "eps",
    "η": "eta",
    "θ": "theta",
    "λ": "lambda",
    "μ": "mu",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "τ": "tau",
    "φ": "phi",
    "ψ": "psi",
    "ω": "omega",
    "Ω": "Omega",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()niT", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₜ", "0123456789+-=()t", strict=True))


def ascii_fallback(err: UnicodeError):
    """A codecs error handler: ASCII for the symbols a stream cannot encode (`·` -> `*`,
    `×` -> `x`, `−` -> `-`, `→` -> `->`, `…` -> `...`, `x²` -> `x^2`, `W_h₁` -> `W_h_1`,
    box lines -> `-`, `|`, `+`), letters without their accents, `?` for the rest."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    out, mode = [], None
    for ch in err.object[err.start : err.end]:
        for kind, table, mark in (("sup", _SUPERSCRIPTS, "^"), ("sub", _SUBSCRIPTS, "_")):
            if ch in table:
                out.append(table[ch] if mode == kind else mark + table[ch])
                mode = kind
                break
        else:
            mode = None
            out.append(_ascii(ch))
    text = "".join(out)
    try:
        text.encode(err.encoding)
    except (UnicodeError, LookupError):
        text = "?" * (err.end - err.start)
    return text, err.end


def _ascii(ch: str) -> str:
    if ch in _SYMBOLS:
        return _SYMBOLS[ch]
    if ch in _SUPERSCRIPTS:
        return "^" + _SUPERSCRIPTS[ch]
    if ch in _SUBSCRIPTS:
        return "_" + _SUBSCRIPTS[ch]
    import unicodedata

    if "\u2500" <= ch <= "\u257f":  # box drawing
        name = unicodedata.name(ch, "")
        if "HORIZONTAL" in name and "VERTICAL" not in name:
            return "=" if "DOUBLE" in name else "-"
        if "VERTICAL" in name and "HORIZONTAL" not in name:
            return "|"
        return "+"
    if "\u2580" <= ch <= "\u259f":  # blocks and shades
        return "#"
    decomposed = unicodedata.normalize("NFKD", ch)  # é -> e + accent, ½ -> 1⁄2, ŷ -> y + ^
    if decomposed == ch:
        return "?"
    parts = []
    for part in decomposed:
        if part.isascii() or part in _SYMBOLS:
            parts.append(_SYMBOLS.get(part, part))
        elif not unicodedata.combining(part):  # other accents are dropped
            parts.append(_ascii(part))
    return "".join(parts) or "?"
