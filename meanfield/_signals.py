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
    forked from it ignore it too; a Ctrl-C meanwhile is raised here once the
    server runs.

    Ctrl-C in a terminal signals the whole process group.  Workers that took it
    died mid-task with ~45 lines of tracebacks and a leaked-semaphore warning,
    and one taken during start-up broke the cluster's shutdown.  So the server
    must ignore SIGINT, and give that to every child it forks, while this
    process keeps taking Ctrl-C: ignoring SIGINT here around the server's start
    (as an earlier version did) lost a Ctrl-C that came in those ~10 ms, and
    the sweep ran to its end.

    The way of multiprocessing's own resource tracker is used: SIGINT is
    blocked in this thread while the server is spawned; the server inherits the
    mask through exec, and its first preloaded module,
    :mod:`meanfield._forkserver_preload`, sets SIGINT to ignored (dropping one
    that is pending) and unblocks it.  Here a Ctrl-C held back by the mask is
    recorded and raised as KeyboardInterrupt after the block.
    """
    import multiprocessing
    from multiprocessing import forkserver, resource_tracker

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    with interrupts_deferred():
        # The tracker unblocks SIGINT after its own start, so it runs first: the
        # mask below then holds until the server is spawned.
        resource_tracker.ensure_running()
        # "__main__" is multiprocessing's default preload (the script, when there
        # is one); the server imports it before the list, with SIGINT still blocked.
        multiprocessing.get_context("forkserver").set_forkserver_preload(
            ["__main__", "meanfield._forkserver_preload"])
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            forkserver.ensure_running()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def forget_handled_interrupt():
    """Let ``python -m`` end with the status it is given after a Ctrl-C that was
    handled.

    A KeyboardInterrupt raised inside code run by ``exec`` of a string (as
    ``dataclasses`` and ``namedtuple`` build their methods, e.g. while
    ``distributed`` is imported) marks it as unhandled in CPython's
    ``run_eval_code_obj``, even when a caller catches it.  Under ``python -m``
    that mark makes the interpreter kill itself with SIGINT at exit, so an
    interrupted sweep that printed its resume line and returned 130 ended as
    "killed by SIGINT" about once in 50 Ctrl-Cs.  Every string ``exec`` clears
    the mark on entry; an empty one is the only way to reach it from Python.
    """
    exec("pass")  # noqa: S102 - a constant string; see above


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
