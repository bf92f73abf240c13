"""Run the cells of a sweep, in this process or on Dask workers, into a results folder.

Cells are independent tasks.  Finished cells are skipped, so a killed sweep
resumes where it stopped.  A cell that raises is retried once, then recorded
as failed with its error while the others go on.  Results are written by
this (the client) process only, one atomic file at a time.

Numba threads: each cell runs with ``threads_per_cell`` numba threads
(default 1) whatever the number of workers, and a local cluster gets
``cores // threads_per_cell`` single-threaded workers, so workers do not
oversubscribe the cores.  Numba's parallel reductions and threaded BLAS
depend on the thread count, so holding both fixed (BLAS through
threadpoolctl) is also what makes a cell's table bit-identical on 1 or many
workers.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import time
import traceback
from dataclasses import dataclass

from tqdm.auto import tqdm

from .. import _checks
from .._meta import __version__
from .._signals import interrupts_deferred, start_forkserver_ignoring_sigint, terminate_as_interrupt
from .config import SweepConfig, cell_id
from .kinds import get_experiment
from .store import ResultStore


@dataclass
class SweepReport:
    """What one call of :func:`run_sweep` did."""

    total: int
    skipped: int
    done: int
    failed: int
    seconds: float
    interrupted: bool = False

    def __str__(self):
        return (f"{self.done} cells run, {self.skipped} already finished, {self.failed} failed "
                f"(of {self.total}) in {self.seconds:.1f} s"
                + ("; interrupted" if self.interrupted else ""))


def execute_cell(experiment, cell, threads=1):
    """Run one cell (in a worker); returns ``(tables, meta)``: the cell's DataFrame, or its
    dict of named DataFrames (:func:`~meanfield.experiments.store.cell_tables`).

    Numba and BLAS both run with ``threads`` threads: the summation order of
    their parallel reductions (and of OpenBLAS's threaded GEMM) depends on the
    thread count, so fixing it makes the table independent of where it ran.
    """
    import numba
    from threadpoolctl import threadpool_limits

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        t0 = time.perf_counter()
        with threadpool_limits(limits=int(threads)):
            table = get_experiment(experiment).run(cell)
        meta = {"seconds": time.perf_counter() - t0, "host": socket.gethostname(),
                "pid": os.getpid(), "threads": numba.get_num_threads(),
                "version": __version__, "seed": cell.get("seed")}
    finally:
        numba.set_num_threads(previous)
    return table, meta


def _error_text(exc):
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _partial(exc):
    """What a failed cell computed before it failed, when its error carries it as a table
    (``partial_table()``: :class:`~meanfield.stepping.DivergenceError`), else None."""
    table = getattr(exc, "partial_table", None)
    return table() if callable(table) else None


def _holding_folder(run):
    """``run(sweep, folder, ...)`` with ``folder`` locked for this process throughout
    (:meth:`ResultStore.lock`): a second process on the same folder is refused."""
    @functools.wraps(run)
    def locked(sweep, folder, **kwargs):
        with ResultStore(folder).lock():
            return run(sweep, folder, **kwargs)
    return locked


@_holding_folder
def run_sweep(sweep: SweepConfig, folder, *, workers=None, scheduler=None, threads_per_cell=1,
              retries=1, progress=True) -> SweepReport:
    """Run every unfinished cell of ``sweep`` and store it in ``folder``.

    Parameters
    ----------
    sweep : SweepConfig
        From :func:`load_config` or :func:`parse_config` (already validated).
    folder : path-like
        Results folder; created, or resumed when it holds the same sweep.  It is
        locked while the sweep runs: another process running on it raises
        :class:`~meanfield.experiments.store.FolderInUse` naming this one's PID.
    workers : int, optional
        Size of the local Dask cluster (default: cores // threads_per_cell).
        ``workers=1`` without a scheduler runs the cells in this process.
    scheduler : str, optional
        Address of a running Dask scheduler to submit to instead.
    threads_per_cell : int
        Numba threads inside each cell.
    retries : int
        Extra attempts for a cell that raises.
    progress : bool
        tqdm bar over cells.

    Returns
    -------
    SweepReport
    """
    threads_per_cell = _checks.positive_int("threads_per_cell", threads_per_cell)
    retries = _checks.nonneg_int("retries", retries)
    if workers is None:
        workers = max(1, (os.cpu_count() or 1) // threads_per_cell)
    workers = _checks.positive_int("workers", workers)
    store = ResultStore(folder)
    store.prepare(sweep)
    done_ids = store.finished(sweep)
    cells = sweep.cells()
    todo = [c for c in cells if cell_id(sweep.experiment, c) not in done_ids]
    report = SweepReport(len(cells), len(cells) - len(todo), 0, 0, 0.0)
    t0 = time.perf_counter()
    bar = tqdm(total=len(todo), desc=f"sweep {sweep.experiment}", unit="cell",
               disable=not progress or not todo)  # no empty bar when all is stored
    try:
        with terminate_as_interrupt():
            if scheduler is None and workers == 1:
                _run_here(sweep.experiment, todo, store, threads_per_cell, retries, report, bar)
            else:
                _run_dask(sweep.experiment, todo, store, threads_per_cell, retries, report,
                          bar, workers, scheduler)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the cells written so far stay
        report.interrupted = True
    finally:
        bar.close()
        report.seconds = time.perf_counter() - t0
    return report


def _run_here(experiment, todo, store, threads, retries, report, bar):
    for cell in todo:
        for attempt in range(retries + 1):
            try:
                table, meta = execute_cell(experiment, cell, threads)
            except Exception as e:  # noqa: BLE001 - any failure of a cell is recorded
                if attempt == retries:
                    store.write_failure(experiment, cell, _error_text(e), _partial(e))
                    report.failed += 1
                continue
            store.write_cell(experiment, cell, table, meta)
            report.done += 1
            break
        bar.update(1)


@contextlib.contextmanager
def dask_client(workers, scheduler=None, logs_dir=None):
    """A Dask client on ``scheduler``, or on a new local cluster of ``workers``
    single-threaded worker processes, closed (cluster too) when the block ends.

    A local cluster listens on loopback only, and its workers ignore Ctrl-C
    (the client process takes it and closes them).  Its own log lines do not
    reach the terminal: WARNING and above go to ``logs_dir`` (see
    :mod:`meanfield.experiments.dask_logs`), or nowhere when it is None.
    """
    import dask
    from distributed import Client, LocalCluster

    from .dask_logs import WorkerLogFile, client_log_file

    cluster = client = None
    with contextlib.ExitStack() as logs:
        try:
            if scheduler is not None:
                # tls:// addresses take their certificates from Dask's configuration
                # (distributed.comm.tls.*, or DASK_DISTRIBUTED__COMM__TLS__* variables)
                client = Client(scheduler)
            else:
                # On a small machine every background wake-up of the worker, nanny and
                # scheduler processes is taken from the cells: no sampling profiler
                # (nothing shows it without a dashboard), a slower tick and memory poll.
                quiet = {"distributed.worker.profile.enabled": False,
                         "distributed.admin.tick.interval": "500ms",
                         "distributed.worker.memory.monitor-interval": "1s",
                         "distributed.worker.multiprocessing-method": "forkserver"}
                start_forkserver_ignoring_sigint()
                with dask.config.set(quiet), interrupts_deferred():
                    # Every socket on loopback: ":0" alone bound the dashboard to
                    # 0.0.0.0, open to anyone on the network.  Port 0 is a free port:
                    # None does not disable the dashboard and warns when 8787 is taken
                    # (dask/distributed#8136).  silence_logs applies in the workers too.
                    cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address="127.0.0.1:0",
                                           silence_logs=logging.CRITICAL)
                    if logs_dir is not None:
                        logs.enter_context(client_log_file(logs_dir))
                    client = Client(cluster)
                    if logs_dir is not None:
                        client.register_plugin(WorkerLogFile(logs_dir))
            yield client
        finally:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()


def _run_dask(experiment, todo, store, threads, retries, report, bar, workers, scheduler):
    from distributed import as_completed

    with dask_client(workers, scheduler, store.logs_dir) as client:
        futures = {}
        for cell in todo:
            fut = client.submit(execute_cell, experiment, cell, threads, pure=False,
                                retries=retries,
                                key=f"{experiment}-{cell_id(experiment, cell)}")
            futures[fut] = cell
        for fut in as_completed(list(futures)):
            cell = futures.pop(fut)
            if fut.status == "finished":
                table, meta = fut.result()
                store.write_cell(experiment, cell, table, meta)
                report.done += 1
            else:
                exc = fut.exception()
                store.write_failure(experiment, cell, _error_text(exc), _partial(exc))
                report.failed += 1
            fut.release()
            bar.update(1)
