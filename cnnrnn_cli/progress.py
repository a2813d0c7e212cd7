"""Progress of long work: the core reports it, the CLI decides whether to draw it.

The core never draws anything (no Rich, no Click here). It opens a `task` with the number
of steps it expects and an estimate of the arithmetic it will do, and advances it:

    with progress.task("Jacobian norms ‖∂h_T/∂h_t‖", steps=T - 1, ops=2 * T * H**3) as work:
        for t in ...:
            ...
            work.advance()

By default nobody listens and each call costs a context-variable lookup. The CLI installs
a listener for the length of one command (`listening(...)`, see `cnnrnn_cli.cli.progress`),
which shows a bar only for work estimated to take more than about two seconds.

`advance` is also where long loops notice Ctrl-C: work run in a worker thread by
`cnnrnn_cli.core.parallel.interruptible` is told to stop when the main thread is
interrupted, and its next `advance` (or `checkpoint`) raises `KeyboardInterrupt`.
"""

from __future__ import annotations

import contextlib
import threading
from contextvars import ContextVar

# A floating-point rate that a laptop core sustains in BLAS-bound work: estimates of time
# are `ops / OPS_PER_SECOND`, deliberately modest, and only decide whether to draw a bar.
OPS_PER_SECOND = 1e10


class Listener:
    """What the CLI installs; this base class listens to nothing (the default)."""

    def start(self, description: str, steps: int | None, seconds: float) -> None:
        """A task begins: `steps` to go (None: one indivisible call), `seconds` estimated."""

    def advance(self, steps: float) -> None:
        """`steps` more of the current task are done."""

    def tick(self) -> None:
        """Time passes without progress (a long LAPACK call): redraw, decide to show."""

    def stop(self) -> None:
        """The current task is over."""


_NULL = Listener()
_listener: ContextVar[Listener] = ContextVar("progress_listener", default=_NULL)
_cancel: ContextVar[threading.Event | None] = ContextVar("progress_cancel", default=None)


@contextlib.contextmanager
def listening(listener: Listener):
    """Within the block, tasks are reported to `listener`."""
    token = _listener.set(listener)
    try:
        yield listener
    finally:
        _listener.reset(token)


class Task:
    """The handle `task` gives: `advance()` after each step."""

    def __init__(self, listener: Listener):
        self._listener = listener

    def advance(self, steps: float = 1) -> None:
        checkpoint()
        self._listener.advance(steps)


@contextlib.contextmanager
def task(description: str, steps: int | None = None, ops: float = 0.0):
    """Report a piece of work: `steps` advances to come (None: one call), `ops` the
    floating-point operations it will take (for the time estimate)."""
    listener = _listener.get()
    listener.start(description, steps, ops / OPS_PER_SECOND)
    try:
        yield Task(listener)
    finally:
        listener.stop()


def tick() -> None:
    _listener.get().tick()


def checkpoint() -> None:
    """Raise KeyboardInterrupt in a worker whose command was interrupted."""
    event = _cancel.get()
    if event is not None and event.is_set():
        raise KeyboardInterrupt


def cancellable(event: threading.Event) -> None:
    """In this context (a worker's copy), `checkpoint` raises once `event` is set."""
    _cancel.set(event)
