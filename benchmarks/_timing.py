"""Timing helper shared by the benchmarks."""

import time


def best_of(fn, repeat=3):
    """Smallest wall time of ``repeat`` calls of ``fn`` (seconds)."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)
