"""Spreading independent chunks of NumPy work over the cores.

NumPy's element-wise loops release the GIL, so threads give real parallelism for
chunks that are large enough; small jobs stay on one thread (no pool is started).
"""

from __future__ import annotations

import os
import threading

PARALLEL_WORK = 1 << 19  # element-operations below which threads do not pay
POOL = "cnnrnn-pool"  # the names of the pool's threads
_pool = None


def _executor():
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix=POOL)
    return _pool


def parallel_map(fn, items, *, work: int) -> None:
    """Call fn(item) for every item; in threads when `work` is large and there are cores."""
    items = list(items)
    # On one of the pool's own threads the work stays there: handing it to the pool and
    # waiting, with every worker doing the same, would wait forever.
    nested = threading.current_thread().name.startswith(POOL)
    if nested or len(items) < 2 or work < PARALLEL_WORK or (os.cpu_count() or 1) < 2:
        for item in items:
            fn(item)
        return
    futures = [_executor().submit(fn, item) for item in items]
    try:
        for future in futures:
            future.result()  # re-raises a worker's exception here
    except BaseException:  # Ctrl-C or an error: drop the chunks not started yet
        for future in futures:
            future.cancel()
        raise


# --- Ctrl-C during long LAPACK/BLAS calls -------------------------------------------------
#
# Python handles a signal only between bytecodes, and LAPACK (an eigen-solver, a QR of a
# 3000×3000 matrix) runs for seconds without returning: Ctrl-C would wait for it. So long
# work runs in a daemon worker thread while the main thread waits in short slices, where
# KeyboardInterrupt is raised at once. The worker is then told to stop (its loops check
# at each `progress` step) and abandoned.
#
# An abandoned worker may still be inside OpenBLAS when the interpreter exits, and
# OpenBLAS's library destructor then waits for its own threads forever (seen: a hang
# after `sys.exit(130)`). So if one is still running at exit, the process leaves at once
# with `os._exit(130)` after flushing its streams: the only way a worker is abandoned is
# an interrupt, whose exit status is 130.

INTERRUPT_WORK = 2e8  # floating-point operations above which work runs in a worker
EXIT_INTERRUPT = 130
_abandoned: list = []


def interruptible(fn, *args, ops: float = float("inf"), **kwargs):
    """fn(*args, **kwargs), in a worker thread when `ops` is large, so that Ctrl-C is
    raised in the caller within about 0.1 s whatever the worker is doing. The worker sees
    the caller's context variables (the budget, the progress listener)."""
    if ops < INTERRUPT_WORK or threading.current_thread() is not threading.main_thread():
        return fn(*args, **kwargs)
    import contextvars

    from cnnrnn_cli import progress

    context = contextvars.copy_context()
    cancel = threading.Event()
    done = threading.Event()
    outcome: dict = {}

    def work():
        progress.cancellable(cancel)
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as err:  # handed to the caller, who re-raises it
            outcome["error"] = err
        finally:
            done.set()

    worker = threading.Thread(target=context.run, args=(work,), daemon=True, name="cnnrnn-work")
    worker.start()
    try:
        while not done.wait(0.1):
            progress.tick()
    except BaseException:
        cancel.set()
        _abandon(worker)
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _abandon(worker) -> None:
    if not _abandoned:
        import atexit

        atexit.register(_leave_if_still_working)
    _abandoned.append(worker)


def _leave_if_still_working() -> None:
    import sys

    for worker in _abandoned:
        worker.join(timeout=0.5)  # a loop that checks its steps stops by itself
    if any(worker.is_alive() for worker in _abandoned):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(EXIT_INTERRUPT)
