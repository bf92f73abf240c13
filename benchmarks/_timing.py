"""Timing helpers shared by the benchmarks."""

import os
import time


def best_of(fn, repeat=3):
    """Smallest wall time of ``repeat`` calls of ``fn`` (seconds)."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def best_of_each(fns, repeat=3):
    """Smallest wall time of each of ``fns`` over ``repeat`` rounds, the calls
    interleaved (round r calls every fn once) so that a slow spell of a shared
    machine hits all of them alike."""
    out = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            out[i] = min(out[i], time.perf_counter() - t)
    return out


def pin_one_cpu():
    """Pin every thread of this process, and every thread it starts later, to one CPU
    (the lowest it may use); returns that CPU, or None where affinity cannot be set.

    XLA's CPU runtime runs its fusions on a thread pool of every core even with
    --xla_cpu_multi_thread_eigen=false: at N = 10000 bench_sgd's JAX scan took
    2.3-2.6 CPU seconds per 1.2 s of wall time on 2 cores (2026-12-07), so a
    "one-thread" comparison against numba on one thread gave JAX two cores.
    Pinned, both sides get one."""
    try:
        cpu = min(os.sched_getaffinity(0))
        for tid in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(tid), {cpu})
    except (AttributeError, OSError, ValueError):
        return None
    return cpu


def import_jax(threads=None):
    """jax with float64 enabled, or None when it is not installed (the optional
    ``bench`` extra).  ``threads == 1`` keeps XLA's CPU backend on one thread
    (--xla_cpu_multi_thread_eigen=false: a 2000 x 2000 matmul then takes as
    much CPU time as wall time) and pins the process to one CPU
    (:func:`pin_one_cpu`: XLA's runtime has a pool of its own), to match numba
    run with NUMBA_NUM_THREADS=1; it must come before jax's first import in the
    process."""
    if threads == 1 and "jax" not in __import__("sys").modules:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    if threads == 1:
        pin_one_cpu()
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def rel_diff(x, ref):
    """Largest absolute difference relative to the largest entry of ``ref``."""
    import numpy as np

    x, ref = np.asarray(x), np.asarray(ref)
    return float(np.abs(x - ref).max() / max(np.abs(ref).max(), 1e-300))
