"""Click parameter types: every matrix goes through MatrixParam, every size through SizeParam."""

from __future__ import annotations

import os
import re
import stat
import sys

import click

from cnnrnn_cli.errors import CnnrnnError, InputError
from cnnrnn_cli.vocabulary import PADDING_WORDS


def _max_elements(ctx) -> int:
    """The budget in force (set from --max-elements for this command)."""
    from cnnrnn_cli import budget

    return budget.limit()


def claim_stdin(ctx, name: str):
    """The reader of stdin for input `name`; two inputs may not both ask for it."""
    meta = ctx.meta if ctx else {}
    owner = meta.get("stdin_owner")
    if owner is not None and owner != name:
        raise InputError(
            name, f"standard input is already read for {owner}; only one input can come from '-'"
        )
    meta["stdin_owner"] = name
    return lambda: read_stdin_text(name)


def read_stdin_text(name: str):
    """Standard input for the matrix reader: its binary stream, which the reader takes a
    chunk at a time as UTF-8 (whatever the locale), bounded and refused at the first
    binary chunk; or its text, for a stream without bytes beneath (a notebook's)."""
    stream = sys.stdin
    if stream is None or getattr(stream, "closed", False):
        raise InputError(name, "no input: standard input is closed")
    raw = getattr(stream, "buffer", None)
    if raw is None:
        return stream.read()
    return raw


def note_source(ctx, param, value: str) -> None:
    """Every matrix source passes here before it is read: `-` on a closed stdin is no
    input, and each `@PATH` is remembered (a file the command writes may not replace it)."""
    if value == "-":
        from cnnrnn_cli.io.streams import stdin_closed

        if stdin_closed():
            raise click.BadParameter("no input: standard input is closed", ctx=ctx, param=param)
    if ctx is not None and (value == "-" or value.startswith("@")):
        ctx.meta.setdefault("input_paths", []).append(value if value == "-" else value[1:])


class _SourceParam(click.ParamType):
    """A source read into arrays: noted (for --svg and a closed stdin), then `read`."""

    def convert(self, value, param, ctx):
        if not isinstance(value, str) or (ctx is not None and ctx.resilient_parsing):
            return value  # (completing a command line reads no file and no stdin)
        note_source(ctx, param, value)  # inputs --svg may not overwrite; a closed stdin
        name = param.name if param is not None else self.name
        try:
            return self.read(value, name, ctx)
        except CnnrnnError as err:
            self.fail(err.message, param, ctx)

    def read(self, value: str, name: str, ctx):
        raise NotImplementedError


class MatrixParam(_SourceParam):
    """A matrix source: a literal, `-` for stdin, or `@PATH`. Converts to a float64 array."""

    name = "matrix"

    def get_metavar(self, param, ctx=None) -> str:
        return "MATRIX|-|@FILE"

    def read(self, value: str, name: str, ctx):
        from cnnrnn_cli.io.matrix import one_row_hint, read_source

        reader = claim_stdin(ctx, name) if value == "-" else None
        arr = read_source(value, name, read_stdin=reader, max_elements=_max_elements(ctx))
        if ctx is not None and value != "-" and not value.startswith("@"):
            hint = one_row_hint(value, arr, name)
            if hint:  # commas that look like rows: a warning, or the error's hint
                ctx.meta.setdefault("row_hints", []).append((arr, hint))
        return arr


def row_hints(ctx, *arrays) -> list[str]:
    """The hints MatrixParam left for these arrays (read as one row, meant as several)."""
    hints = ctx.meta.get("row_hints", []) if ctx is not None else []
    return [hint for arr, hint in hints if any(arr is given for given in arrays)]


def one_row_failure(err, arr, name: str, window_rows: int, hints: list[str]):
    """`err` (a failure of a computation on `arr`) with a hint appended when a one-row
    input is why it failed: a comma hint already found, or `arr` is one row and the
    window is taller. The error unchanged when no hint applies."""
    from cnnrnn_cli.io.matrix import ROWS

    hint = hints[0] if hints else None
    if hint is None and arr.shape[-2] == 1 and arr.shape[-1] > 1 and window_rows > 1:
        hint = f"the {name} was read as one row of {arr.shape[-1]} values: {ROWS}"
    if hint is None:
        return err
    return type(err)(err.source, f"{err.message} ({hint})")


class NamedArraysParam(_SourceParam):
    """`@file.npz` or `@file.json` holding several named arrays."""

    name = "@file"

    def read(self, value: str, name: str, ctx):
        from cnnrnn_cli.io.matrix import read_named_arrays

        return read_named_arrays(value, name, max_elements=_max_elements(ctx))


class SizeParam(click.ParamType):
    """A positive size `S` or a pair `HxW` (minimum configurable, e.g. 0 for paddings)."""

    name = "size"

    def __init__(self, minimum: int = 1, words: tuple = ()):
        self.minimum = minimum
        self.words = words
        if words:
            self.name = "size|" + "|".join(words)

    def get_metavar(self, param, ctx=None) -> str:
        return "N|HxW" + "".join(f"|{w}" for w in self.words)

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        from cnnrnn_cli.io.spec import parse_pair

        if value.strip().lower() in self.words:
            return value.strip().lower()
        try:
            return parse_pair(value, param.name if param else "size", minimum=self.minimum)
        except CnnrnnError as err:
            # A number out of range says so ("must be 0 or more"); only text that is not
            # a number or HxW at all gets the list of words.
            if self.words and not re.fullmatch(_NUMBERS, value.strip()):
                self.fail(
                    f"expected a number, HxW or one of {', '.join(self.words)}; got {value!r}",
                    param,
                    ctx,
                )
            self.fail(err.message, param, ctx)


_NUMBERS = r"[+\-−]?[0-9]+(\s*[x×X*,]\s*[+\-−]?[0-9]+)?"  # compiled when an error needs it

PADDING = SizeParam(minimum=0, words=PADDING_WORDS)


class IntParam(click.ParamType):
    """The one integer grammar (io/spec.parse_int): ASCII digits, in [minimum, maximum].

    Sizes, counts and seeds all take it, so `٣`, `²`, `-1` for a seed or a 5000-digit
    number is one clear error, never a traceback or a silent reading.
    """

    name = "integer"

    def __init__(self, minimum: int = 1, maximum: int | None = None, metavar: str = "N"):
        from cnnrnn_cli.io.spec import SIZE_MAX

        self.minimum, self.maximum = minimum, SIZE_MAX if maximum is None else maximum
        self.metavar = metavar

    def get_metavar(self, param, ctx=None) -> str:
        return self.metavar

    def convert(self, value, param, ctx):
        from cnnrnn_cli.io.spec import parse_int

        try:
            return parse_int(
                value, param.name if param else "value", minimum=self.minimum, maximum=self.maximum
            )
        except CnnrnnError as err:
            self.fail(err.message, param, ctx)


class IntsParam(click.ParamType):
    """Several integers of the grammar separated by commas: `--random T,D,H`, `--at R,C`."""

    name = "integers"

    def __init__(self, count, metavar: str, minimum: int = 1):
        self.count, self.metavar, self.minimum = count, metavar, minimum

    def get_metavar(self, param, ctx=None) -> str:
        return self.metavar

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        from cnnrnn_cli.io.spec import parse_ints

        try:
            return tuple(
                parse_ints(
                    value, param.name if param else "value", self.count, minimum=self.minimum
                )
            )
        except CnnrnnError as err:
            self.fail(f"{err.message}; expected {self.metavar}", param, ctx)


def _seed_type() -> IntParam:
    from cnnrnn_cli.io.spec import SEED_MAX

    return IntParam(minimum=0, maximum=SEED_MAX, metavar="SEED")


SEED = _seed_type()


def unit_and_rows_options(fn):
    """--unit u and --steps N of the cell-step commands (gru-step, lstm-step)."""
    fn = click.option(
        "--steps",
        type=IntParam(minimum=2),
        default=12,
        show_default=True,
        help="Rows shown in the sequence table before it is summarised.",
    )(fn)
    return click.option(
        "--unit",
        type=IntParam(),
        metavar="u",
        default=1,
        show_default=True,
        help="The unit whose gates are written with the numbers substituted.",
    )(fn)


# --seed beside --random (bptt, gru-step, lstm-step, resblock): one declaration, one text.
seed_option = click.option(
    "--seed", type=SEED, help="Seed for --random (chosen and shown when not given)."
)


MAX_ELEMENTS_MAX = 10**15  # more than any machine's memory holds in float64


class ElementCount(click.ParamType):
    """--max-elements: a whole number, also written `1e8` (an integral power form)."""

    name = "count"

    def get_metavar(self, param, ctx=None) -> str:
        return "N"

    def convert(self, value, param, ctx):
        import re

        from cnnrnn_cli.io.spec import parse_int

        if isinstance(value, int):
            return value
        text = str(value).strip()
        match = re.fullmatch(r"([0-9]{1,15})[eE]\+?([0-9]{1,3})", text)
        try:
            if not match:
                return parse_int(text, "max-elements", minimum=1, maximum=MAX_ELEMENTS_MAX)
            value = int(match[1]) * 10 ** int(match[2])
            if not 1 <= value <= MAX_ELEMENTS_MAX:
                raise InputError("max-elements", f"must be 1 to {MAX_ELEMENTS_MAX}, got {text}")
            return value
        except CnnrnnError as err:
            self.fail(f"{err.message} (a whole number such as 100000000 or 1e8)", param, ctx)


def stdin_has_data() -> bool:
    """True when stdin is a pipe or a regular file (never for a terminal or an idle stdin)."""
    stream = sys.stdin
    if stream is None:
        return False
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        # An in-memory stream (tests, notebooks) has no descriptor: treat it as piped.
        return not getattr(stream, "closed", True) and not _is_tty(stream)
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def primary_input(ctx, value, name: str):
    """The command's primary input: as given, or read from stdin when it is piped in."""
    if value is not None:
        return value
    if not stdin_has_data():
        raise InputError(name, f"no input given; pass {name.upper()} or pipe it in on stdin")
    return MatrixParam().convert("-", _param(ctx, name), ctx)


def _param(ctx, name: str):
    for param in ctx.command.params:
        if param.name == name:
            return param
    return None


def check_elements(count: int, name: str, what: str = "the arrays it makes") -> None:
    """Refuse work whose arrays would hold more than --max-elements values, before it runs."""
    from cnnrnn_cli import budget

    budget.check(count, name, what)


def seed_goes_with(randomised: bool, seed, what: str = "--random") -> None:
    """A seed that would do nothing is refused, not ignored."""
    if seed is not None and not randomised:
        raise click.UsageError(f"--seed goes with {what}")


def within_steps(at_step: int | None, steps: int, unit: int | None = None, units: int = 0) -> None:
    """--at t (1-based) within the T steps, and --unit u within the H units, or one Error."""
    from cnnrnn_cli.errors import InputError

    if at_step is not None and at_step > steps:
        raise InputError("at", f"t = {at_step} is beyond T = {steps}")
    if unit is not None and unit > units:
        raise InputError("unit", f"u = {unit} is beyond H = {units}")


def refuse_gates_beside(torch_weights, given: dict, weights, gates) -> None:
    """--torch-weights gives every gate: no gate option, nor gates in --weights, with it."""
    if torch_weights is None:
        return
    clash = [f"--{k}" for k in gates if given[k] is not None]
    if clash or weights and set(weights) & set(gates):
        raise click.UsageError(
            f"--torch-weights gives every gate; "
            f"{clash[0] if clash else '--weights gates'} cannot be given with it"
        )


class PathToWrite(click.ParamType):
    """A file (or, with `folder`, a folder) that the command will write: refused at once
    when it names the other kind (or, with `writable`, an existing one that cannot be
    written). Click's `Path` does the same but builds its name through gettext (see
    `main.PlainHelpOption`); the shell completes file or folder names alike."""

    def __init__(self, *, folder: bool = False, writable: bool = False):
        self.folder, self.writable = folder, writable
        self.name = "directory" if folder else "file"

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(incomplete, type="dir" if self.folder else "file")]

    def convert(self, value, param, ctx):
        path = os.fspath(value)
        try:
            mode = os.stat(path).st_mode
        except (OSError, ValueError):  # absent (to be made), or a name to refuse later
            return path
        kind = self.name.title()
        if self.folder and stat.S_ISREG(mode):
            self.fail(f"{kind} {path!r} is a file.", param, ctx)
        if not self.folder and stat.S_ISDIR(mode):
            self.fail(f"{kind} {path!r} is a directory.", param, ctx)
        if self.writable and not os.access(path, os.W_OK):
            self.fail(f"{kind} {path!r} is not writable.", param, ctx)
        return path
