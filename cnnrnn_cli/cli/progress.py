"""The transient Rich progress bar on stderr, for work that takes more than about 2 s.

A command wraps its computation in `bar()`; the core reports through `cnnrnn_cli.progress`.
Nothing is drawn, and Rich is not even imported, unless stderr is a terminal and the work
is estimated (or turns out) to take more than SHOW_AFTER seconds; the bar is erased when
the work ends, so the output on stdout stays as it would be without it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

from cnnrnn_cli import progress

SHOW_AFTER = 2.0  # seconds of estimated (or elapsed) work before a bar is worth drawing
FIRST_LOOK = 0.25  # never draw before this: a bar that flashes is noise


class RichBar(progress.Listener):
    """Draws the current task on `stream` (a terminal) once it is worth it."""

    def __init__(self, stream):
        self.stream = stream
        self.lock = threading.Lock()
        self.live = None  # rich.progress.Progress, once shown
        self.task_id = None
        self.description, self.steps, self.seconds = "", None, 0.0
        self.done, self.started = 0.0, 0.0

    def start(self, description, steps, seconds):
        with self.lock:
            self.description, self.steps, self.seconds = description, steps, seconds
            self.done, self.started = 0.0, time.monotonic()
            if self.live is not None:
                self._new_task()

    def advance(self, steps):
        with self.lock:
            self.done += steps
            self._refresh()

    def tick(self):
        with self.lock:
            self._refresh()

    def stop(self):
        with self.lock:
            if self.live is not None and self.task_id is not None:
                self.live.remove_task(self.task_id)
                self.task_id = None
            self.steps, self.seconds = None, 0.0

    def close(self):
        with self.lock:
            if self.live is not None:
                self.live.stop()
                self.live = None

    def _refresh(self):
        if self.live is None:
            elapsed = time.monotonic() - self.started
            if elapsed < FIRST_LOOK or not self.description:
                return
            if self.seconds < SHOW_AFTER and elapsed < SHOW_AFTER:
                return
            self._show()
        if self.task_id is not None:
            self.live.update(self.task_id, completed=self.done)

    def _show(self):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(file=self.stream, stderr=True)
        self.live = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.live.start()
        self._new_task()

    def _new_task(self):
        self.task_id = self.live.add_task(self.description, total=self.steps, completed=self.done)


@contextlib.contextmanager
def bar(stream=None):
    """Within the block, long work shows a transient bar on `stream` (stderr) when it is a
    terminal; otherwise (pipes, files, tests) nothing at all."""
    stream = sys.stderr if stream is None else stream
    try:
        interactive = stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if not interactive:
        yield
        return
    listener = RichBar(stream)
    try:
        with progress.listening(listener):
            yield
    finally:
        listener.close()
