"""Dask's own log lines from a local sweep go to files in the results folder, not the terminal.

A local cluster's scheduler, nannies and workers log their state changes;
the terminal is for the sweep's progress bar and its last line.  Shutting a
cluster down while cells still run (Ctrl-C, SIGTERM) races a worker's
heartbeat against the scheduler closing its connections, and the worker
then logs "Failed to communicate with scheduler during heartbeat" with two
tracebacks at ERROR level (dask/distributed#7105, #9032): harmless, but it
looks like a crash.  The cluster is started with its console lines raised to
CRITICAL (LocalCluster's ``silence_logs``, which workers and nannies apply in
their own processes too), and everything at WARNING and above is kept in
``<folder>/logs/`` instead, one file per process.  A cell's own exception is not a log line: it is
recorded with the cell (see :mod:`meanfield.experiments.runner`).

This module imports ``distributed``; import it only where a cluster is started.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

#: the format of distributed's own console lines
FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
LOGGER = "distributed"


def _file_handler(path: Path) -> logging.FileHandler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, delay=True)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


class WorkerLogFile(WorkerPlugin):
    """Worker plugin: the worker process's ``distributed`` log also goes to
    ``<folder>/worker-<name>.log``, WARNING and above.

    Parameters
    ----------
    folder : path-like
        Folder for the log files, on the workers' file system (a local cluster's).
    """

    name = "meanfield-worker-log-file"

    def __init__(self, folder):
        self.folder = str(folder)

    def setup(self, worker):
        logger = logging.getLogger(LOGGER)
        path = Path(self.folder) / f"worker-{worker.name}.log"
        if not any(getattr(h, "baseFilename", None) == str(path.resolve())
                   for h in logger.handlers):
            logger.addHandler(_file_handler(path))


@contextlib.contextmanager
def client_log_file(folder):
    """Within the block this process's ``distributed`` log (the scheduler's and the
    nannies' of a local cluster) also goes to ``<folder>/client.log``, WARNING and
    above."""
    logger = logging.getLogger(LOGGER)
    handler = _file_handler(Path(folder) / "client.log")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
