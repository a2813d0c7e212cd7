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


def side_by_side(ours, ref, repeat: int) -> tuple[float, float]:
    """Best times of two functions called alternately, so machine noise hits both alike."""
    ours()
    ref()
    a, b = [], []
    for _ in range(repeat):
        a.append(best_time(ours, 1))
        b.append(best_time(ref, 1))
    return min(a), min(b)
