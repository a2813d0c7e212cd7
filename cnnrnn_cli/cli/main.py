"""The `cnnrnn` entry point: the command group and the one place where errors become exits.

Two small departures from plain Click live here and only here:
- `main` runs Click with `standalone_mode=False` and maps every failure onto the
  contract: one `Error:` line and exit 2, exit 130 on Ctrl-C, quiet on a closed pipe,
  exit 2 and one `Error:` line when standard output cannot be written (see
  `cnnrnn_cli.io.streams`; Ctrl-C before this module is loaded is `cnnrnn_cli.entry`'s);
- `CnnrnnCommand.parse_args` lets a literal such as `"-1 2; 3 -4"` stand as a
  positional argument (no option of ours looks like a negative number).
"""

from __future__ import annotations

import errno
import importlib
import sys

import click

from cnnrnn_cli import __version__
from cnnrnn_cli.errors import CnnrnnError

EXIT_USAGE = 2
EXIT_INTERRUPT = 130


def _is_negative_literal(arg: str) -> bool:
    """A minus sign (ASCII or Unicode), maybe spaces, then a digit or a dot: `-1 2; 3 4`."""
    rest = arg[1:].lstrip()
    return arg[:1] in ("-", "\u2212") and rest[:1] in tuple("0123456789.")


def protect_negative_literals(
    command: click.Command, ctx: click.Context, args: list[str]
) -> list[str]:
    """Move negative literals that stand as positionals behind a `--`.

    Option values are left alone: Click already takes the token after `-k` as its
    value, whatever it starts with. Our commands have at most one positional argument,
    so moving it behind `--` keeps the meaning.
    """
    takes_value = set()
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and not param.is_flag and not param.count:
            takes_value.update(param.opts)
    out, moved = [], []
    previous = None
    for i, arg in enumerate(args):
        if arg == "--":
            out.extend(args[i:])
            break
        if _is_negative_literal(arg) and previous not in takes_value:
            moved.append(arg)
        else:
            out.append(arg)
        previous = arg
    if not moved:
        return args
    if "--" in out:
        at = out.index("--") + 1
        return out[:at] + moved + out[at:]
    return out + ["--"] + moved


def spell_short_options(command: click.Command, ctx: click.Context, args: list[str]) -> list[str]:
    """`-f` as `--format`, wherever it stands as an option of `command`: Click tries every
    short option as a long one first, and each miss builds an error that imports difflib
    to suggest a spelling (a few milliseconds of start-up for nothing)."""
    longs, takes_value = {}, set()
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option):
            continue
        long = next((o for o in param.opts if o.startswith("--")), None)
        for opt in param.opts:
            if long is not None and len(opt) == 2 and opt[0] == "-" and opt[1] != "-":
                longs[opt] = long
        if not param.is_flag and not param.count:
            takes_value.update(param.opts)
    out, is_value = [], False  # is_value: this token is the value of the option before
    for i, arg in enumerate(args):
        if arg == "--" and not is_value:
            return out + args[i:]
        out.append(arg if is_value else longs.get(arg, arg))
        is_value = not is_value and arg in takes_value
    return out


class PlainHelpOption:
    """Click builds the text of its `--help` option through gettext, whose first lookup
    imports `locale` and searches the disk for message catalogues: about 2 ms of every
    start, for catalogues Click does not ship. This is the same option, its text as is."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option:
            return None
        if getattr(self, "_help_option", None) is None:  # made once: Click compares it
            self._help_option = click.Option(
                names,
                is_flag=True,
                is_eager=True,
                expose_value=False,
                callback=_show_help,
                help="Show this message and exit.",
            )
        return self._help_option


def _show_help(ctx: click.Context, param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


def _show_version(ctx: click.Context, param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"cnnrnn, version {__version__}", color=ctx.color)
        ctx.exit()


class CnnrnnCommand(PlainHelpOption, click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = protect_negative_literals(self, ctx, args)
        return super().parse_args(ctx, spell_short_options(self, ctx, args))


# name -> (module, attribute); modules load only when their command runs or is listed.
COMMANDS = {
    "outsize": ("cnnrnn_cli.cli.outsize", "outsize"),
    "conv": ("cnnrnn_cli.cli.conv", "conv"),
    "pool": ("cnnrnn_cli.cli.pool", "pool"),
    "resblock": ("cnnrnn_cli.cli.resblock", "resblock"),
    "inception": ("cnnrnn_cli.cli.inception", "inception"),
    "bptt": ("cnnrnn_cli.cli.bptt", "bptt"),
    "gru-step": ("cnnrnn_cli.cli.gru", "gru_step"),
    "lstm-step": ("cnnrnn_cli.cli.lstm", "lstm_step"),
    "tour": ("cnnrnn_cli.cli.tour", "tour"),
    "gallery": ("cnnrnn_cli.cli.gallery", "gallery"),
}


# The one-line summaries of `cnnrnn --help`, short enough to stand whole at 60 columns
# (Click would cut each command's first sentence with "..."). A command without one here
# is summarised by the first sentence of its help, whole.
SUMMARIES = {
    "outsize": "Output size of a layer or a stack",
    "conv": "2-D convolution, window by window",
    "pool": "Pooling, and max pooling's gradient",
    "resblock": "A ResNet block with and without its skip",
    "inception": "An Inception module's shapes, params, MACs",
    "bptt": "BPTT, and why gradients vanish or explode",
    "gru-step": "One GRU step, gate by gate",
    "lstm-step": "One LSTM step, gate by gate",
    "tour": "The notes' worked examples: start here",
    "gallery": "conv_arithmetic's animations, with numbers",
}


def _summary(name: str, command: click.Command) -> str:
    if name in SUMMARIES:
        return SUMMARIES[name]
    first = " ".join((command.help or "").split("\n\n")[0].split())
    return first.split(". ")[0].rstrip(".")


class CnnrnnGroup(PlainHelpOption, click.Group):
    command_class = CnnrnnCommand

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        command = getattr(importlib.import_module(module), attr)
        if command.short_help is None:
            command.short_help = _summary(name, command)
        return command

    def resolve_command(self, ctx, args):
        """Click's, with a suggestion for a mistyped name (`cnv` → did you mean conv?)."""
        typed = args[0] if args else ""
        if (
            typed
            and typed not in COMMANDS
            and not typed.startswith("-")
            and (
                not ctx.resilient_parsing  # completing a command line: Click's own answer
            )
        ):
            import difflib

            close = difflib.get_close_matches(typed, list(COMMANDS), n=2, cutoff=0.6)
            if close:
                hint = " or ".join(f"'{name}'" for name in close)
                raise click.UsageError(f"no command '{typed}'; did you mean {hint}?")
        return super().resolve_command(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        code = run_guarded(
            lambda: super(CnnrnnGroup, self).main(
                args, prog_name, complete_var, standalone_mode=False, **extra
            )
        )
        if standalone_mode:
            sys.exit(code)
        return code

    def _main_shell_completion(self, ctx_args, prog_name, complete_var=None):
        # Click reads COMP_WORDS and COMP_CWORD as the shell's completion script sets them;
        # run by hand without them (or with a COMP_CWORD that is not a number), say so.
        try:
            super()._main_shell_completion(ctx_args, prog_name, complete_var)
        except (KeyError, ValueError, IndexError):
            raise click.UsageError(
                "completion: COMP_WORDS and COMP_CWORD are missing or malformed; they are "
                "set by the shell's completion script, which "
                "'_CNNRNN_COMPLETE=bash_source cnnrnn' prints (zsh_source, fish_source "
                "for those shells)"
            ) from None


def run_guarded(invoke) -> int:
    """Call `invoke()` and turn every kind of failure into the contract's exit status.

    Standard output is flushed here too: a full disk often shows only when the last
    buffer goes out, and that is still the command's failure to report.
    """
    try:
        code = _outcome(invoke)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPT
    except OSError as err:
        return _stream_failed(err)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPT
    except OSError as err:
        if code == EXIT_INTERRUPT:  # interrupted: what could not be written is not news
            from cnnrnn_cli.io import streams

            streams.give_up_stdout()
            return code
        return _stream_failed(err)


def _outcome(invoke) -> int:
    """The exit status of `invoke()`; errors of the input become one `Error:` line.

    NumPy's floating-point RuntimeWarnings are silenced here: an overflow is reported
    once, as an `Error:` line, when the result is checked before it is printed.
    """
    import contextvars
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # A copy of the context variables: the budget set by --max-elements ends here.
            rv = contextvars.copy_context().run(invoke)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.NoArgsIsHelpError as err:  # bare `cnnrnn`: the help, not an error
        click.echo(err.ctx.get_help())
        return 0
    except click.BadParameter as err:
        name = option_name(err.param) if err.param is not None else (err.param_hint or "input")
        return _fail(f"{name}: {err.message}")
    except click.ClickException as err:
        return _fail(err.format_message())
    except CnnrnnError as err:
        return _fail(str(err))
    except (click.Abort, KeyboardInterrupt):
        return EXIT_INTERRUPT
    except MemoryError:  # the budget bounds each array; this machine had less than that
        return _fail(
            "memory: the machine could not give the memory this needs (each "
            "array is within --max-elements); lower --max-elements or the sizes"
        )
    except SystemExit as err:  # Click's own: a completion answered, or a closed pipe
        # Click's exit 1 for EPIPE leaves its PacifyFlushWrapper on stdout (named, not
        # imported: Click 8.2 deprecates the import); see _stream_failed.
        if type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):  # _Pacify… in 8.5
            return _stream_failed(OSError(errno.EPIPE, "closed pipe"))
        return err.code if isinstance(err.code, int) else int(err.code is not None)


def option_name(param) -> str:
    """How the user wrote the option: `max-elements`, not Python's `max_elements`."""
    longs = [opt for opt in getattr(param, "opts", ()) if opt.startswith("--")]
    return max(longs, key=len)[2:] if longs else param.name


def _stream_failed(err: OSError) -> int:
    """An OSError that reached the edge: most often standard output failing."""
    from cnnrnn_cli.io import streams

    if err.errno == errno.EPIPE:  # the reader has gone (`| head`): quiet, and exit 0
        # as when the reader happened to close after the last line (not a race to lose
        # under `set -o pipefail`): it had what it asked for.
        streams.give_up_stdout()
        return 0
    if isinstance(err, streams.OutputError):
        streams.give_up_stdout()
        return _fail(f"output: cannot write to standard output: {err.strerror}")
    # Reading errors are the readers' to name; one that slipped through still gets a line.
    return _fail(f"{err.filename or 'input'}: {err.strerror or err}")


def _fail(message: str) -> int:
    from cnnrnn_cli.io.streams import echo_err

    message = " ".join(_shorten(word) for word in message.replace("\n", " ").split(" "))
    echo_err(f"Error: {message}")
    return EXIT_USAGE


def _shorten(word: str, limit: int = 200) -> str:
    """A word of the user's echoed whole could be megabytes (a bad token, a file name):
    past `limit` characters, its first 40 stand for it."""
    if len(word) <= limit:
        return word
    return f"{word[:40]}…({len(word)} characters)"


@click.group(
    cls=CnnrnnGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(  # Click's version_option, without gettext (see PlainHelpOption)
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_show_version,
    help="Show the version and exit.",
)
def cli():
    """The mathematics of CNNs and RNNs, computed and explained step by step.

    Every command shows its working on a terminal (-f rich) and prints bare
    numbers when piped (-f plain); -f json, csv and latex are there too.
    Run any command with --example to see the lecture notes' own example.

    New here? Start with `cnnrnn tour`: every worked example of the notes, in order.
    """


def main(argv=None) -> None:
    """The `cnnrnn` command (`cnnrnn_cli.entry` calls this once Click is loaded)."""
    from cnnrnn_cli.io import streams

    streams.install()
    try:
        cli.main(args=argv, prog_name="cnnrnn")
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPT)
