"""Results folder of a sweep: one table per finished cell, written atomically.

Layout::

    FOLDER/sweep.json            the sweep config (a folder holds one sweep)
    FOLDER/cells/<id>.csv        the cell's tidy table, settings as columns
    FOLDER/cells/<id>.json       its settings, seed, package version, timing, and
                                 the SHA-256 of the CSV; written last
    FOLDER/failed/<id>.json      a cell that failed twice: settings and error
    FOLDER/.lock                 the PID of the process writing to the folder

Every file is written to a temporary name in the same folder and renamed
into place, so a killed process leaves either a whole file or a temporary
one that nothing reads (and that the next process to lock the folder
removes).  A cell counts as finished only when its JSON record exists and the
CSV's hash matches it, so a damaged table is never read as a result (and is
run again on resume).

One process at a time writes to a folder: :meth:`ResultStore.lock` holds an
exclusive ``flock`` on ``FOLDER/.lock`` and writes its PID there, so a second
process is refused with that PID.  The kernel drops the lock when its holder
exits, however it exits (``kill -9`` included), so a lock left by a dead
process is taken over without any clean-up.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import threading
import time
import warnings
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are not locked there
    fcntl = None

import pandas as pd

from .config import SweepConfig, cell_id, parse_config, upgrade_stored, upgrade_table
from .options import ConfigError


from .._io import atomic_write, staged_folder  # noqa: F401 - re-exported

_atomic_write = atomic_write


class FolderInUse(ConfigError):
    """Another process holds the lock of a results folder; the message names its PID."""


LOCK_NAME = ".lock"
_held = {}  # resolved folder -> [fd, depth, thread id]: this process's locks
_held_guard = threading.Lock()


def _holder(path: Path) -> str:
    """The PID (and host) written in a lock file; its holder writes them just after locking."""
    for _ in range(20):
        try:
            text = path.read_text().split()
        except OSError:
            text = []
        if text:
            return f"PID {text[0]}" + (f" on {text[1]}" if len(text) > 1 else "")
        time.sleep(0.05)
    return "PID unknown"


def _remove_leftovers(folder: Path):
    """Temporary files (and folders) of writes that a killed process never renamed."""
    for sub in (folder, folder / "cells", folder / "failed"):
        for p in sub.glob(".*.tmp") if sub.is_dir() else ():
            try:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            except OSError:
                pass


def _grows(old: dict, new: dict) -> bool:
    """Whether sweep ``new`` holds every cell of ``old``: same experiment and fixed
    settings, the same grid axes, and every old value of each axis still there."""
    if old.get("experiment") != new["experiment"] or old.get("fixed") != new["fixed"]:
        return False
    grid, grid2 = old.get("grid", {}), new["grid"]
    return set(grid) == set(grid2) and all(v in grid2[k] for k in grid for v in grid[k])


def _differences(old: dict, new: dict) -> str:
    """What differs between two sweep configs, e.g. ``fixed T: 0.3 -> 0.2``."""
    if old.get("experiment") != new["experiment"]:
        return f"experiment {old.get('experiment')!r} -> {new['experiment']!r}"
    out = []
    for part in ("fixed", "grid"):
        a, b = old.get(part, {}), new[part]
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                out.append(f"{part} {k}: {a.get(k, 'unset')} -> {b.get(k, 'unset')}")
    return "; ".join(out) or "same settings"


class ResultStore:
    """The results folder of one sweep.

    Parameters
    ----------
    folder : path-like
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.cells_dir = self.folder / "cells"
        self.failed_dir = self.folder / "failed"
        #: Dask's own log files of a local sweep (:mod:`meanfield.experiments.dask_logs`)
        self.logs_dir = self.folder / "logs"

    # -- one writer at a time -----------------------------------------------------
    @contextlib.contextmanager
    def lock(self):
        """Hold the folder for this process while the block runs (it is created if needed).

        Raises
        ------
        FolderInUse
            When another process holds it; the message names the folder and that
            process's PID.  Nested calls in one thread (a command that runs a sweep
            and then writes its tables) share the lock.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        key = os.path.realpath(self.folder)
        with _held_guard:
            held = _held.get(key)
            if held is not None and held[2] == threading.get_ident():
                held[1] += 1
                fd = None
            elif held is not None:
                raise FolderInUse(f"{self.folder} is in use by another thread of this "
                                  f"process (PID {os.getpid()})")
            else:
                fd = self._acquire()
                _held[key] = [fd, 1, threading.get_ident()]
        if fd is not None:
            _remove_leftovers(self.folder)
        try:
            yield self
        finally:
            with _held_guard:
                held = _held[key]
                held[1] -= 1
                if held[1] == 0:
                    del _held[key]
                    if held[0] is not None:
                        os.close(held[0])  # drops the flock

    def _acquire(self):
        if fcntl is None:
            return None
        path = self.folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderInUse(
                f"{self.folder} is in use by another meanfield process ({_holder(path)}); "
                f"wait for it to finish, stop it, or write to another folder") from None
        except OSError as e:  # a file system without flock: run unlocked, as before
            warnings.warn(f"{self.folder}: cannot lock ({e}); make sure no other process "
                          f"writes to this folder", stacklevel=4)
            return fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        return fd

    # -- the sweep --------------------------------------------------------------
    def sweep(self) -> SweepConfig:
        """The sweep config stored in the folder."""
        path = self.folder / "sweep.json"
        if not path.exists():
            raise ConfigError(f"{self.folder} holds no sweep (no sweep.json)")
        return parse_config(upgrade_stored(json.loads(path.read_text())), str(path))

    def prepare(self, sweep: SweepConfig):
        """Create the folder for ``sweep``, or check that it already holds this sweep."""
        path = self.folder / "sweep.json"
        new = sweep.to_dict()
        old = upgrade_stored(json.loads(path.read_text())) if path.exists() else None
        if old is not None and old != new and not _grows(old, new):
            raise ConfigError(
                f"{self.folder} holds results of a different sweep config "
                f"({_differences(old, new)}); resume with the same config, grow its grid "
                f"(same experiment and fixed settings, every old grid value kept), or write "
                f"to a new folder")
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        self.failed_dir.mkdir(exist_ok=True)
        if old != new:
            # cells are named by their settings, so a grown grid keeps every finished one
            _atomic_write(path, json.dumps(new, indent=2).encode())

    # -- cells ------------------------------------------------------------------
    def _record(self, cid):
        """The JSON record of a finished cell, or None when it is missing or damaged."""
        meta_path, csv_path = self.cells_dir / f"{cid}.json", self.cells_dir / f"{cid}.csv"
        try:
            meta = json.loads(meta_path.read_text())
            data = csv_path.read_bytes()
        except (OSError, ValueError):
            return None, None
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            return None, None
        return meta, data

    def record(self, cid):
        """The JSON record (settings, seed, version, timing) of a finished cell, or None."""
        return self._record(cid)[0]

    def finished(self, sweep: SweepConfig | None = None) -> set:
        """Ids of the finished cells of ``sweep`` (default: the stored one)."""
        sweep = sweep or self.sweep()
        ids = {cell_id(sweep.experiment, c) for c in sweep.cells()}
        return {cid for cid in ids if self._record(cid)[0] is not None}

    def write_cell(self, experiment, cell, table: pd.DataFrame, meta: dict):
        """Store a finished cell: its table with the settings as columns, then its record."""
        cid = cell_id(experiment, cell)
        table = table.copy()
        for k, v in cell.items():
            if v is None and k in table:  # a default computed in the cell: the value used
                continue
            table[k] = json.dumps(v) if isinstance(v, (list, tuple)) else v
        table["cell"] = cid
        data = table.to_csv(index=False).encode()
        _atomic_write(self.cells_dir / f"{cid}.csv", data)
        record = {"cell": cid, "experiment": experiment, "settings": cell, **meta,
                  "sha256": hashlib.sha256(data).hexdigest()}
        _atomic_write(self.cells_dir / f"{cid}.json", json.dumps(record, indent=2).encode())
        try:
            (self.failed_dir / f"{cid}.json").unlink()
        except FileNotFoundError:
            pass

    def write_failure(self, experiment, cell, error: str):
        cid = cell_id(experiment, cell)
        _atomic_write(self.failed_dir / f"{cid}.json", json.dumps(
            {"cell": cid, "experiment": experiment, "settings": cell, "error": error},
            indent=2).encode())

    def failures(self) -> pd.DataFrame:
        """One row per failed cell: id, settings, error."""
        rows = []
        for p in sorted(self.failed_dir.glob("*.json")):
            try:
                rec = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
            rows.append({"cell": rec["cell"], "error": rec["error"], **rec["settings"]})
        return pd.DataFrame(rows)

    def load(self, sweep: SweepConfig | None = None) -> pd.DataFrame:
        """One table of every finished cell of ``sweep`` (default: the stored one), in grid
        order.

        Damaged or missing cells are left out with a warning.
        """
        sweep = sweep or self.sweep()
        frames, missing = [], 0
        for cell in sweep.cells():
            meta, data = self._record(cell_id(sweep.experiment, cell))
            if meta is None:
                missing += 1
                continue
            frames.append(upgrade_table(sweep.experiment, pd.read_csv(io.BytesIO(data))))
        if missing:
            warnings.warn(f"{self.folder}: {missing} of {len(sweep.cells())} cells are not "
                          f"finished (or damaged) and are left out", stacklevel=2)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_results(folder) -> pd.DataFrame:
    """All finished results of the sweep stored in ``folder``, as one pandas DataFrame.

    Parameters
    ----------
    folder : str or Path
        A results folder (the ``--out`` of ``meanfield sweep``, ``stability``
        or ``path``).

    Returns
    -------
    pandas.DataFrame
        The rows of every finished cell's table, the cells in grid order (no
        rows when none has finished; unfinished or damaged cells are left out
        with a warning).  Columns:

        ``cell``
            The cell's id: its table is ``folder/cells/<cell>.csv``.
        one column per key of the experiment
            The cell's setting, the same in each of its rows (``meanfield
            sweep --list KIND`` lists the keys); a list setting is a JSON
            string, e.g. ``"[0.0, 0.5, 1.0]"``.
        ``table``
            Present when the experiment's cells write two kinds of row: it
            says which kind a row is; a column the other kind has is empty
            (NaN) in it, so select one kind before aggregating::

                dropout = df[df["table"] == "dropout"].dropna(axis=1, how="all")

            ``stability`` and ``multilayer``: ``"dropout"`` (eps_D of one
            net at one kept size, draw and, for stability, time) and
            ``"paths"`` (eps_C of the pair, one row per kept set drawn);
            :func:`meanfield.experiments.kinds.stability_result` splits a
            stability table into both.  ``empirical_path``: ``"path"``
            (loss and error along each path) and ``"hist"`` (weight
            histograms).  ``deep_paths``: ``"path"``, ``"check"`` (path A
            by forward passes at its vertices and segment midpoints) and
            ``"bound"`` (each net's trained loss and Experiments A and B).
        the measured columns
            Those of the experiment's cell function (e.g. ``eps_D``,
            ``eps_C``, ``risk``; ``kind`` half/sweep in stability's dropout
            rows, dense/vertex/barrier in ``pair_path``), described in its
            docstring: :func:`meanfield.twolayer.experiment.stability_cell`,
            :func:`~meanfield.twolayer.experiment.path_cell`,
            :func:`meanfield.multilayer.experiment.multilayer_cell` and the
            torch cells of :mod:`meanfield.torch.experiments`.

    Raises
    ------
    ConfigError
        When ``folder`` holds no sweep (no ``sweep.json``).
    """
    return ResultStore(folder).load()


def load(folder) -> pd.DataFrame:
    """Deprecated name of :func:`load_results` (removed in 0.3)."""
    warnings.warn("meanfield.experiments.load is deprecated: use load_results",
                  DeprecationWarning, stacklevel=2)
    return load_results(folder)
