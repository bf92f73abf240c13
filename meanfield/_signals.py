"""SIGTERM handled like Ctrl-C while long work runs, so both keep what is computed.

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
