"""The chunked text reader: matrix text from a file, a pipe or a string, read a chunk at a
time into float64 blocks, so that neither the text nor a list of its tokens is ever held
whole.

Bounds (the promise of SPEC "Reading is bounded too"):
- bytes that are not text (a NUL, invalid UTF-8) are refused in the chunk that holds them,
  so `/dev/zero` and `/dev/urandom` stop at the first chunk;
- the values are counted as each chunk is parsed, and the budget (`--max-elements`) refuses
  the input as soon as the count passes it: the arrays held then are at most the budget;
- the bytes read are capped at `SLACK + BYTES_PER_VALUE × limit` (1 MiB + 64 bytes a value:
  the longest shortest-round-trip float64 is 24 characters, which leaves room for
  separators, indentation and comments), so a stream of blanks or of one endless token
  ends too;
- a line is held whole only up to `LONG_LINE` bytes; a longer one is cut at a separator
  and carried on as an open row, and a single token that long is refused.
Memory on valid input: the float64 blocks plus one concatenation (about twice the array)
plus a chunk.

Speed: a chunk of plain numbers (digits, signs, `.`, `e`, blanks, commas, whole-line `#`
comments) goes to NumPy's C reader (`np.loadtxt`) in one call; its character set leaves no
room for a word (`nan`, `inf`, `0x…`), an underscore or a non-ASCII digit. Anything else,
and any chunk NumPy refuses, takes the line-by-line path, which names the bad token.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings

import numpy as np

from cnnrnn_cli import budget
from cnnrnn_cli.errors import InputError, shape_str

CHUNK = 1 << 20
LONG_LINE = 1 << 22
SLACK = 1 << 20
BYTES_PER_VALUE = 64
SHOW = 40  # characters of a bad token echoed in a message
MAX_DEPTH = 32
# Bracketed text and JSON are parsed whole (json.loads): their values are counted against
# the budget as they arrive, and past MAX_WHOLE bytes each value may bring at most
# JSON_BYTES_PER_VALUE bytes (a float64 needs 24), so blank space cannot grow without end.
MAX_WHOLE = 32 << 20
JSON_BYTES_PER_VALUE = 40

# PDF and LaTeX copies carry these for a minus sign.
_MINUS_LIKE = dict.fromkeys(map(ord, "\u2212\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d"), "-")
_HSPACE = re.compile(r"[^\S\n]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NONFINITE_WORDS = {
    "nan",
    "+nan",
    "-nan",
    "inf",
    "+inf",
    "-inf",
    "infinity",
    "+infinity",
    "-infinity",
}
# The characters a chunk may hold to go to NumPy's reader in one call.
_FAST = b"0123456789eE+-. \t\r\n,"
_BAD_COMMA = re.compile(rb",[ \t]*,|(?:^|\n)[ \t]*,")
# A run of blank lines; one character class repeated, never a repeated group, so a
# megabyte of newlines costs the regex engine no memory.
_BLANK_LINES = re.compile(rb"\n[ \t\n]*\n")
_LEADING_BLANKS = re.compile(rb"[ \t\n]*\n")
_SEPARATORS = b" \t\r\n,;|[]"


def show(token: str) -> str:
    """A token as echoed in a message: repr, cut to about 40 characters."""
    if len(token) <= SHOW:
        return repr(token)
    return f"{token[:SHOW]!r}… ({len(token)} characters)"


def show_path(path: str) -> str:
    """A path as named in a message: whole, unless it is absurdly long."""
    if len(path) <= 2 * SHOW:
        return path
    return f"{path[:SHOW]}…{path[-SHOW // 2 :]} ({len(path)} characters)"


def normalize_text(text: str) -> str:
    """Unicode minus signs -> '-', every horizontal space -> ' ', CRLF -> LF, no BOM."""
    text = text.lstrip("\ufeff").translate(_MINUS_LIKE).replace("\r\n", "\n")
    text = text.replace("\r", "\n")
    return _HSPACE.sub(" ", text)


def check_token(token: str, name: str, where: str) -> float:
    """The value of one token of the grammar, or an InputError saying where and why."""
    if token.lower() in _NONFINITE_WORDS:
        raise InputError(
            name, f"{where}: {token!r} is not a finite number (NaN and infinity are not accepted)"
        )
    if not _NUMBER.fullmatch(token):
        raise InputError(name, f"{where}: {show(token)} is not a number")
    value = float(token)
    if not np.isfinite(value):
        raise InputError(
            name, f"{where}: {show(token)} is outside the float64 range (too large for float64)"
        )
    return value


def byte_cap() -> int:
    """The most bytes of text read for one input under the current budget."""
    return SLACK + BYTES_PER_VALUE * budget.limit()


class Source:
    """Bytes of one input, a chunk at a time, refused as soon as they are not text or
    exceed the byte cap. `label` names the input in messages ('standard input', a path)."""

    def __init__(self, fh, name: str, label: str | None, *, binary_check: bool = True):
        self.fh, self.name = fh, name
        self.label = show_path(label) if label else label
        self.binary_check = binary_check
        self.total = 0
        self.cap = byte_cap()
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def _binary(self, detail: str = ""):
        if self.label == "standard input":
            if detail:
                return InputError(
                    self.name, f"standard input is not UTF-8 text ({detail}); binary data?"
                )
            return InputError(self.name, "standard input holds binary data, not text")
        if detail:
            return InputError(
                self.name, f"{self.label} is not UTF-8 text ({detail}); a binary file?"
            )
        return InputError(self.name, f"{self.label} is a binary file, not text")

    def chunks(self):
        while True:
            data = self.fh.read(CHUNK)
            if not data:
                if self.binary_check:
                    try:
                        self._decoder.decode(b"", final=True)
                    except UnicodeDecodeError:
                        raise self._binary("it ends inside a character") from None
                return
            if self.binary_check:
                if not data.isascii() or self._decoder.getstate()[0]:
                    try:
                        self._decoder.decode(data)
                    except UnicodeDecodeError as err:
                        raise self._binary(f"byte {self.total + err.start + 1}") from None
                if b"\x00" in data:
                    raise self._binary()
            self.total += len(data)
            if self.total > self.cap:
                what = self.label or "the text"
                raise InputError(
                    self.name,
                    f"{what} is over {self.cap} bytes, more than "
                    f"text of --max-elements {budget.limit()} "
                    f"values needs (at most {BYTES_PER_VALUE} "
                    "bytes a value)",
                )
            yield data


def count_runs(data: bytes, separators: bytes = _SEPARATORS) -> int:
    """How many runs of non-separator bytes `data` holds: the tokens, without making them."""
    lut = np.ones(256, dtype=bool)
    lut[np.frombuffer(separators, dtype=np.uint8)] = False
    count, prev = 0, False
    for start in range(0, len(data), CHUNK):
        token = lut[
            np.frombuffer(data, dtype=np.uint8, count=min(CHUNK, len(data) - start), offset=start)
        ]
        if not token.size:
            continue
        count += int(np.count_nonzero(token[1:] & ~token[:-1])) + (token[0] and not prev)
        prev = bool(token[-1])
    return count


def _drop_comment_lines(data: bytes) -> bytes | None:
    """`data` without its `#` lines; None when a `#` stands elsewhere (the slow path's)."""
    out, start = [], 0
    pos = data.find(b"#")
    while pos != -1:
        line_start = data.rfind(b"\n", 0, pos) + 1
        if data[line_start:pos].strip(b" \t\r"):
            return None
        line_end = data.find(b"\n", pos)
        line_end = len(data) if line_end == -1 else line_end + 1
        out.append(data[start:line_start])
        start = line_end
        pos = data.find(b"#", start)
    out.append(data[start:])
    return b"".join(out)


class TextReader:
    """The state of one text input read chunk by chunk: the channels finished, the row
    blocks of the current channel, the open row of a line cut at a separator."""

    def __init__(self, name: str, *, blank_line_channels: bool, errors: str = "strict"):
        self.name = name
        self.blank_line_channels = blank_line_channels
        self.errors = errors
        self.channels: list[np.ndarray] = []
        self.blocks: list[np.ndarray] = []  # (r, W) blocks of the current channel
        self.rows = 0  # rows in the current channel
        self.width: int | None = None
        self.count = 0  # values read, every channel
        self.after_bar = False  # the current channel began at a '|'
        self.after_blank = False  # ... at a blank line
        self.mid_line = False  # the last text fed ended inside a line
        self.in_comment = False  # ... inside a comment line
        self.row_parts: list[np.ndarray] = []  # the open row
        self.row_len = 0
        self.piece_has_token = False  # since the last comma of the open row
        self.brackets = 0  # '[' opened at row starts, not yet closed
        self.row_rows: list[np.ndarray] = []  # rows finished since the last flush

    # -- positions and checks ------------------------------------------------------------
    def _where(self) -> str:
        return f"channel {len(self.channels) + 1}, " if len(self.channels) else ""

    def _row_no(self) -> int:
        return self.rows + len(self.row_rows) + 1

    def _counted(self, n: int) -> None:
        self.count += n
        budget.check(self.count, self.name, "the input")

    # -- structure -----------------------------------------------------------------------
    def _end_row(self) -> None:
        if not self.row_len:
            self.row_parts = []
            self.piece_has_token = False
            return
        row = self.row_parts[0] if len(self.row_parts) == 1 else np.concatenate(self.row_parts)
        width = (
            self.width
            if self.width is not None
            else (len(self.row_rows[0]) if self.row_rows else None)
        )
        if width is not None and row.size != width:
            raise InputError(
                self.name,
                f"{self._where()}row {self._row_no()} has {row.size} values, expected {width}",
            )
        self.row_rows.append(row)
        self.row_parts, self.row_len, self.piece_has_token = [], 0, False

    def _flush_rows(self) -> None:
        if self.row_rows:
            self._add_block(np.stack(self.row_rows))
            self.row_rows = []

    def _add_block(self, block: np.ndarray) -> None:
        if self.width is None:
            self.width = block.shape[1]
        elif block.shape[1] != self.width:
            raise InputError(
                self.name,
                f"{self._where()}row {self.rows + 1} has "
                f"{block.shape[1]} values, expected {self.width}",
            )
        self.blocks.append(block)
        self.rows += block.shape[0]

    def _close_channel(self, *, bar: bool) -> None:
        self._end_row()
        self._flush_rows()
        if self.brackets:
            raise InputError(self.name, f"{self._where()}a '[' is not closed")
        if not self.rows:
            if (bar and not self.after_blank) or (not bar and self.after_bar):
                raise InputError(
                    self.name,
                    f"channel {len(self.channels) + 1} is empty (nothing between the '|')",
                )
            return
        arr = self.blocks[0] if len(self.blocks) == 1 else np.concatenate(self.blocks)
        self.blocks, self.rows, self.width = [], 0, None
        self.after_blank = False
        if self.channels and arr.shape != self.channels[0].shape:
            raise InputError(
                self.name,
                f"channel {len(self.channels) + 1} is "
                f"{shape_str(arr.shape)}, expected "
                f"{shape_str(self.channels[0].shape)} like channel 1",
            )
        self.channels.append(arr)

    def _blank_line(self) -> None:
        if not self.blank_line_channels:
            return
        self._end_row()
        self._flush_rows()
        if self.rows:
            self._close_channel(bar=False)
            self.after_bar = False
            self.after_blank = True

    def _bar(self) -> None:
        self._close_channel(bar=True)
        self.after_bar = True
        self.after_blank = False

    def finish(self) -> np.ndarray:
        self._close_channel(bar=False)
        if not self.channels:
            raise InputError(self.name, "no values given")
        if len(self.channels) == 1:
            return self.channels.pop()
        shape = (len(self.channels), *self.channels[0].shape)
        budget.check_shape(shape, self.name, "the input")
        out = np.stack(self.channels)
        self.channels = []
        return out

    # -- feeding -------------------------------------------------------------------------
    def feed(self, data: bytes, *, ends_line: bool) -> None:
        """Bytes that end at a line end (ends_line) or at a separator inside a line."""
        if self.mid_line:
            cut = data.find(b"\n") + 1
            if not cut:
                self._slow(data, ends_line=ends_line)
                return
            self._slow(data[:cut], ends_line=True)
            data = data[cut:]
        if ends_line and self._fast(data):
            return
        if ends_line and not data.isascii():
            # Unicode minus signs, odd blanks, a BOM: plain numbers once normalised.
            text = normalize_text(data.decode("utf-8", self.errors))
            if text.isascii() and self._fast(text.encode()):
                return
        self._slow(data, ends_line=ends_line)

    def _fast(self, data: bytes) -> bool:
        """Whole lines of plain numbers through NumPy's C reader; False when they are not."""
        # NumPy's reader refuses any token outside the grammar except the words nan and
        # inf (which the isfinite test below sends to the slow path); non-ASCII text is
        # normalised first (see feed).
        if not data.isascii():
            return False
        if b"#" in data:
            data = _drop_comment_lines(data)
            if data is None:
                return False
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"," in data:
            if _BAD_COMMA.search(data):
                return False
            data = data.replace(b",", b" ")
        if self.blank_line_channels:
            lead = _LEADING_BLANKS.match(data)
            if lead:
                self._blank_line()
                data = data[lead.end() :]
            segments = _BLANK_LINES.split(data)  # one regex pass: cheaper than 'in' tests
        else:
            segments = [data]
        for i, segment in enumerate(segments):
            if i:
                self._blank_line()
            if not segment.strip():
                continue
            block = None
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    block = np.loadtxt(
                        io.BytesIO(segment), dtype=np.float64, comments=None, ndmin=2
                    )
            except ValueError:
                pass
            if block is None or not block.size or not np.isfinite(block).all():
                # The line-by-line path names the bad token (or reads what NumPy would not).
                self._slow(segment, ends_line=True)
                continue
            self._counted(block.size)
            self._add_block(block)
        return True

    def _slow(self, data: bytes, *, ends_line: bool) -> None:
        """The grammar line by line, token by token: every error with its position."""
        text = normalize_text(data.decode("utf-8", self.errors))
        lines = text.split("\n")
        if text.endswith("\n") or not text:
            lines.pop()
            ends_line = True
        last = len(lines) - 1
        for i, line in enumerate(lines):
            complete = i < last or ends_line
            continuing = i == 0 and self.mid_line
            if continuing and self.in_comment:
                self.in_comment = not complete
                continue
            if not continuing:
                stripped = line.lstrip()
                if stripped.startswith("#"):
                    self.in_comment = not complete
                    continue
                if not stripped and complete:
                    self._blank_line()
                    continue
            parts = line.split("|")
            for k, part in enumerate(parts):
                if k:
                    self._bar()
                segments = part.split(";")
                for m, segment in enumerate(segments):
                    if m:
                        self._end_row()
                    ends_row = m < len(segments) - 1 or k < len(parts) - 1 or complete
                    self._add_text(segment, ends_row)
            if complete:
                self._end_row()
        self.mid_line = not ends_line
        self._flush_rows()

    def _add_text(self, text: str, ends_row: bool) -> None:
        """Text of the open row: values separated by blanks and commas, maybe bracketed."""
        if not self.row_len and not self.piece_has_token:
            body = text.lstrip()
            while body.startswith("["):
                body = body[1:].lstrip()
                self.brackets += 1
            text = body
        if ends_row:
            body = text.rstrip()
            while body.endswith("]") and self.brackets:
                body = body[:-1].rstrip()
                self.brackets -= 1
            text = body
        pieces = text.split(",")
        for p, piece in enumerate(pieces):
            if p:
                if not self.piece_has_token:
                    raise InputError(
                        self.name,
                        f"{self._where()}row {self._row_no()}, "
                        f"column {self.row_len + 1}: empty value "
                        "between commas",
                    )
                self.piece_has_token = False
            tokens = piece.split()
            if tokens:
                values = self._values(tokens)
                self._counted(values.size)
                self.row_parts.append(values)
                self.row_len += values.size
                self.piece_has_token = True

    def _values(self, tokens: list[str]) -> np.ndarray:
        plain = all(t.isascii() for t in tokens) and not "".join(tokens).encode().translate(
            None, _FAST
        )
        if plain:
            try:
                values = np.array(tokens, dtype=np.float64)
            except ValueError:
                values = None
            if values is not None and np.isfinite(values).all():
                return values
        where = f"{self._where()}row {self._row_no()}, column "
        return np.array(
            [
                check_token(t, self.name, f"{where}{self.row_len + j}")
                for j, t in enumerate(tokens, start=1)
            ],
            dtype=np.float64,
        )


def read_stream(
    source: Source,
    name: str,
    *,
    blank_line_channels: bool,
    head: bytes = b"",
    errors: str = "strict",
) -> np.ndarray:
    """Matrix text from `source` (after `head`, bytes already taken from it) as an array."""
    reader = TextReader(name, blank_line_channels=blank_line_channels, errors=errors)
    buf = _feed_lines(reader, head, name) if head else b""  # before reading on
    for data in source.chunks():
        cut = data.rfind(b"\n") + 1
        if cut and len(buf) + cut <= LONG_LINE:
            # One copy: the tail of the last chunk joined to this one's whole lines.
            reader.feed(buf + data[:cut] if buf else data[:cut], ends_line=True)
            buf = data[cut:]
            continue
        buf = buf + data if buf else data
        buf = _feed_lines(reader, buf, name)
    if buf:
        reader.feed(buf, ends_line=True)
    return reader.finish()


def _feed_lines(reader: TextReader, buf: bytes, name: str) -> bytes:
    """Feed the whole lines of `buf` (or, for an over-long line, up to a separator); return
    what is left."""
    cut = buf.rfind(b"\n") + 1
    if cut:
        reader.feed(buf[:cut], ends_line=True)
        return buf[cut:]
    if len(buf) <= LONG_LINE:
        return buf
    cut = max(buf.rfind(sep) for sep in (b" ", b"\t", b",", b";", b"|")) + 1
    if not cut:
        token = buf[: SHOW * 4].decode("utf-8", "replace")
        raise InputError(name, f"a value of more than {LONG_LINE} characters: {show(token)}…")
    reader.feed(buf[:cut], ends_line=False)
    return buf[cut:]


def read_whole(source: Source, name: str, head: bytes = b"") -> bytes:
    """All the bytes of `source`, for the inputs that need the whole text (bracketed text,
    JSON): refused as soon as its tokens pass the budget, its bytes pass MAX_WHOLE plus
    JSON_BYTES_PER_VALUE a token, or its
    brackets nest deeper than MAX_DEPTH (before json.loads could recurse)."""
    parts = []
    tokens, depth, held = 0, 0, 0
    last_sep = True
    for data in _with_head(head, source):
        first_token = data[:1].translate(None, _SEPARATORS) != b""
        tokens += count_runs(data) - (first_token and not last_sep)
        last_sep = data[-1:].translate(None, _SEPARATORS) == b""
        budget.check(tokens, name, "the input")
        depth = _check_depth(data, depth, name)
        held += len(data)
        if held > MAX_WHOLE + JSON_BYTES_PER_VALUE * tokens:
            raise InputError(
                name,
                f"{source.label or 'the text'} is bracketed text or JSON of more than "
                f"{MAX_WHOLE >> 20} MB with over {JSON_BYTES_PER_VALUE} bytes a value "
                "(blank space?); it is read whole: give a large input as plain rows "
                "(one a line) or .npy",
            )
        parts.append(data)
    return b"".join(parts)


def _with_head(head: bytes, source: Source):
    if head:
        yield head
    yield from source.chunks()


_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def _check_depth(data: bytes, depth: int, name: str) -> int:
    """The bracket depth after `data`, starting at `depth`; refused past MAX_DEPTH."""
    if not (b"[" in data or b"{" in data or b"]" in data or b"}" in data):
        return depth
    for start in range(0, len(data), CHUNK):
        codes = np.frombuffer(
            data, dtype=np.uint8, count=min(CHUNK, len(data) - start), offset=start
        )
        steps = _OPEN[codes]
        levels = np.cumsum(steps, dtype=np.int64) + depth
        if levels.size and int(levels.max()) > MAX_DEPTH:
            raise InputError(name, f"nested deeper than {MAX_DEPTH} levels")
        depth = int(levels[-1]) if levels.size else depth
    return depth
