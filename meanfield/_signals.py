"""Signals during long work: SIGTERM handled like Ctrl-C, so both keep what is computed,
and Dask workers that leave Ctrl-C to the client process.

A job started in the background by a non-interactive shell (``nohup ... &``)
inherits SIGINT as ignored, so Ctrl-C's signal cannot reach it and ``kill``'s
default SIGTERM would end it without the clean-up an interrupt gets (the
partial result, a local Dask cluster shut down).
"""

from __future__ import annotations

import contextlib
import signal
import threading


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block SIGTERM raises KeyboardInterrupt; the old handler is restored after.

    Outside the main thread signal handlers cannot be set, and the block runs
    unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def start_forkserver_ignoring_sigint():
    """Start multiprocessing's fork server with SIGINT ignored, so the workers
    forked from it ignore it too.

    Ctrl-C in a terminal signals the whole process group.  Workers that took it
    died mid-task with ~45 lines of tracebacks and a leaked-semaphore warning,
    and one taken during start-up broke the cluster's shutdown.  An ignored
    disposition survives exec (a handler does not); the fork server keeps it
    and gives it to every child, so only the client process takes Ctrl-C, and
    it closes the workers.  SIGINT is ignored here only while the server
    process is spawned, not while the cluster starts.
    """
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def interrupts_deferred():
    """Ctrl-C or SIGTERM during the block is raised as KeyboardInterrupt when it
    ends: one raised inside LocalCluster's start-up left a half-built cluster
    whose shutdown at exit printed an AssertionError traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    sigs = (signal.SIGINT, signal.SIGTERM)
    old = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt(f"signal {caught[0]}")
