"""Timing helpers shared by the benchmark scripts: best-of-N, alternating pairs."""

from __future__ import annotations

import time


def best_time(fn, repeat: int) -> float:
    """The fastest of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def side_by_side(ours, ref, repeat: int, block: int = 3) -> tuple[float, float]:
    """Best times of two functions timed in alternating blocks, so machine noise hits both
    alike. Within a block the best call counts: the first call after a switch can pay for
    the other library's threads still spinning (libgomp busy-waits after a region)."""
    ours()
    ref()
    a, b = [], []
    for _ in range(repeat):
        a.append(best_time(ours, block))
        b.append(best_time(ref, block))
    return min(a), min(b)
