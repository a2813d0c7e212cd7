"""Spreading independent chunks of NumPy work over the cores.

NumPy's element-wise loops release the GIL, so threads give real parallelism for
chunks that are large enough; small jobs stay on one thread (no pool is started).
"""

from __future__ import annotations

import os

PARALLEL_WORK = 1 << 19  # element-operations below which threads do not pay
_pool = None


def _executor():
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
    return _pool


def parallel_map(fn, items, *, work: int) -> None:
    """Call fn(item) for every item; in threads when `work` is large and there are cores."""
    items = list(items)
    if len(items) < 2 or work < PARALLEL_WORK or (os.cpu_count() or 1) < 2:
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
