"""Where `cnnrnn` and `python -m cnnrnn_cli` start, before Click, Rich or NumPy load.

Ctrl-C may come at any moment, also while those are still being imported (a good part
of the start-up time). This module imports only `signal` and `sys`, so that it is in
place early to turn an interrupt into a quiet exit 130 wherever it lands.
"""

import signal
import sys

EXIT_INTERRUPT = 130


def main() -> None:
    _quiet_interrupts()
    try:
        from cnnrnn_cli.cli.main import main as run

        run()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPT)
    finally:
        # The work is done (or abandoned): a Ctrl-C while the interpreter shuts down ends
        # it at once, by the signal, rather than as a traceback from some cleanup.
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def _quiet_interrupts() -> None:
    """An interrupt outside `main` (in the console script's own lines, in a finaliser)
    ends the process without a traceback: the interpreter still exits by SIGINT, which
    a shell reports as status 130."""
    hook, unraisable = sys.excepthook, sys.unraisablehook

    def excepthook(kind, value, tb):
        if not issubclass(kind, KeyboardInterrupt):
            hook(kind, value, tb)

    def unraisablehook(info):
        if not isinstance(info.exc_value, KeyboardInterrupt):
            unraisable(info)

    sys.excepthook, sys.unraisablehook = excepthook, unraisablehook
