"""Where `cnnrnn` and `python -m cnnrnn_cli` start, before Click, Rich or NumPy load.

Ctrl-C may come at any moment, also while those are still being imported (a good part
of the start-up time). This module imports only `os`, `_signal` and `sys`, so that it is in
place early to turn an interrupt into a quiet exit 130 wherever it lands. Importing it
makes an uncaught KeyboardInterrupt quiet (the console script runs a line or two of its
own between the import and `main()`); only the entry points import it.

Before this module is imported, Ctrl-C belongs to the interpreter's own start-up (its
`site` module, an editable install's import hook), which no code of ours can guard.

`console` is the command itself: `main`, then out of the process without the
interpreter's teardown (see there).
"""

# `signal` wraps `_signal` in enums whose making costs every start about 1 ms; resetting
# one handler needs only the C module, which the interpreter has loaded already.
import _signal
import os
import sys

EXIT_INTERRUPT = 130


def main() -> None:
    try:
        from cnnrnn_cli.cli.main import main as run

        run()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPT)
    finally:
        # The work is done (or abandoned): a Ctrl-C while the interpreter shuts down ends
        # it at once, by the signal, rather than as a traceback from some cleanup.
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)


def console() -> None:
    """`cnnrnn` and `python -m cnnrnn_cli`: `main`, then leave at once.

    Once the output is written and flushed, the interpreter's teardown (freeing every
    module and object, a tenth to a fifth of a short command's time) serves no one, so
    `os._exit` skips it; the files a command writes are already in place by then, and
    the thread pools are idle. An exit status Python would print (a message), or a
    stream that cannot be flushed, takes the normal way out, with its usual handling.
    """
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = 0 if stop.code is None else stop.code
    if not isinstance(code, int):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            sys.exit(code)
    os._exit(code)


def _quiet_interrupts() -> None:
    """An interrupt outside `main` (in the console script's own lines) exits 130 without
    a traceback, and one in a finaliser is not reported."""
    hook, unraisable = sys.excepthook, sys.unraisablehook

    def excepthook(kind, value, tb):
        if not issubclass(kind, KeyboardInterrupt):
            hook(kind, value, tb)
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        os._exit(EXIT_INTERRUPT)

    def unraisablehook(info):
        if not isinstance(info.exc_value, KeyboardInterrupt):
            unraisable(info)

    sys.excepthook, sys.unraisablehook = excepthook, unraisablehook


_quiet_interrupts()
