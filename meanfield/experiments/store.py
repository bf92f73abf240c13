"""Results folder of a sweep: one file per table of each finished cell, written atomically.

Layout::

    FOLDER/sweep.json            the sweep config (a folder holds one sweep)
    FOLDER/cells/<id>/<name>.csv one tidy table of the cell, settings as columns:
                                 ``results.csv`` when the cell returns one table,
                                 one file per name when it returns several (a
                                 stability cell: ``dropout.csv`` and ``paths.csv``)
    FOLDER/cells/<id>.json       its settings, seed, package version, the commit of
                                 the code (:func:`cell_commits`), timing, and
                                 for each table its file, SHA-256 and column dtypes;
                                 written last
    FOLDER/failed/<id>.json      a cell that failed twice: settings and error (the
                                 folder exists only while it holds one)
    FOLDER/failed/<id>.csv       what it computed before it failed, when its error
                                 carries that (a diverging run's snapshots)
    FOLDER/.lock                 the PID of the process writing to the folder

Every file is written to a temporary name in the same folder and renamed
into place, so a killed process leaves either a whole file or a temporary
one that nothing reads (and that the next process to lock the folder
removes).  A cell counts as finished only when its JSON record exists and the
hash of every table it lists matches, so a damaged table is never read as a
result (and its cell is run again on resume).

The dtypes in the record are those of the table the cell returned, so a table
reads back with them (an integer column stays an integer column) without any
knowledge of the experiment.  Folders written before 0.2 hold one
``cells/<id>.csv`` per cell, its kinds of row told apart by a ``table``
column, and ``multilayer`` and ``deep_paths`` cells stored before they wrote
one file per table hold one ``cells/<id>/results.csv`` with such a column;
both still load, split into their tables (:func:`split_legacy`).

One process at a time writes to a folder: :meth:`ResultStore.lock` holds an
exclusive ``flock`` on ``FOLDER/.lock`` and writes its PID there, so a second
process is refused with that PID.  The kernel drops the lock when its holder
exits, however it exits (``kill -9`` included), so a lock left by a dead
process is taken over without any clean-up.
"""

from __future__ import annotations

import contextlib
import functools
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

import numpy as np
import pandas as pd

from .config import SweepConfig, cell_id, parse_config, upgrade_stored, upgrade_table
from .options import ConfigError


from .._io import atomic_write, staged_folder  # noqa: F401 - re-exported
from .._meta import code_commit

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
    cells = folder / "cells"
    subs = [folder, cells, folder / "failed"]
    subs += [p for p in cells.iterdir() if p.is_dir()] if cells.is_dir() else []
    for sub in subs:
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
    # an absent fixed setting is the experiment's default; an absent grid axis is not swept
    for part, absent in (("fixed", "default"), ("grid", "not swept")):
        a, b = old.get(part, {}), new[part]
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                out.append(f"{part} {k}: {a.get(k, absent)} -> {b.get(k, absent)}")
    return "; ".join(out) or "same settings"


#: The name of a cell's table when its cell function returns one DataFrame.
ONE_TABLE = "results"


def cell_tables(result) -> dict:
    """A cell function's return value as ``{name: DataFrame}``: one DataFrame is the
    table :data:`ONE_TABLE`; a dict names its tables (file names: letters, digits, _ and -).
    """
    tables = {ONE_TABLE: result} if isinstance(result, pd.DataFrame) else result
    if not isinstance(tables, dict) or not tables or not all(
            isinstance(t, pd.DataFrame) for t in tables.values()):
        raise TypeError(f"a cell must return a DataFrame or a dict of DataFrames, got "
                        f"{type(result).__name__}")
    for name in tables:
        if not (isinstance(name, str) and name and name[0] != "."
                and all(c.isalnum() or c in "_-" for c in name)):
            raise ValueError(f"table names must be letters, digits, _ and -, got {name!r}")
    return tables


def table_bytes(table: pd.DataFrame):
    """``(csv bytes, dtypes)`` of ``table``: what :func:`read_table` reads back, dtypes
    included (a CSV alone turns an integer column into floats once it holds a NaN, and
    cannot tell the text "1" from the number)."""
    return (table.to_csv(index=False).encode(),
            {str(c): str(t) for c, t in table.dtypes.items()})


def read_table(data: bytes, dtypes: dict | None = None) -> pd.DataFrame:
    """The table of :func:`table_bytes`, every column with its recorded dtype.

    pandas writes each float in the shortest form that reads back to the same bits, so
    a stored table equals the one computed (``tests/test_sweep.py`` checks it).
    """
    if not data.strip():
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (dtypes or {}).items()})
    # dtype objects, not names: pandas looks a name up among every registered dtype, which
    # took most of the time of loading a sweep
    dtypes = {c: _dtype(t) for c, t in dtypes.items()} if dtypes else None
    return pd.read_csv(io.BytesIO(data), dtype=dtypes)


@functools.lru_cache(maxsize=None)
def _dtype(name):
    return pd.api.types.pandas_dtype(name)


def split_legacy(table: pd.DataFrame) -> dict:
    """``{name: DataFrame}`` of a stacked table, whose kinds of row are told apart by a
    ``table`` column (a cell stored before 0.2, or a ``multilayer`` or ``deep_paths``
    cell stored as one ``results.csv`` before they wrote one file per table); one without
    it is the table :data:`ONE_TABLE`.

    Each part keeps the columns with a value in its rows, and those empty in every
    row of the file (which the file cannot place).  In a stacked table a column that
    only some kinds of row had is floats (NaN in the others; a file before 0.2 did
    not record dtypes, a later one recorded those floats), so in each part such a
    column holding only whole numbers is read as integers again (the integer columns
    of every experiment; a float column of one kind of row whose values all happen
    to be whole numbers, e.g. times ``t = 0, 1``, reads as integers too, with the
    same values).
    """
    if "table" not in table:
        return {ONE_TABLE: table}
    table = table.drop(columns="table").assign(_kind=table["table"])
    empty = table.columns[table.isna().all()]
    out = {}
    for name, rows in table.groupby("_kind", sort=False):
        rows = rows.drop(columns="_kind")
        rows = rows[[c for c in rows.columns if c in empty or rows[c].notna().any()]]
        lost = [c for c in rows.columns if table[c].isna().any() and rows[c].notna().all()
                and rows[c].dtype.kind == "f" and np.isfinite(rows[c]).all()
                and (rows[c] == np.round(rows[c])).all()]
        out[str(name)] = rows.astype({c: "int64" for c in lost}).reset_index(drop=True)
    return out


def joined(tables: dict) -> pd.DataFrame:
    """The tables of :meth:`ResultStore.load_tables` as one DataFrame: one table as it
    is; several stacked with a ``table`` column naming each row's table (the layout
    before 0.2)."""
    if not tables:
        return pd.DataFrame()
    if len(tables) == 1:
        return next(iter(tables.values()))
    return pd.concat([t.assign(table=name) for name, t in tables.items()], ignore_index=True)


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
        self._commit = False  # not yet asked: git runs once per store, at its first cell

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
                f"{self.folder} holds results of other settings, a different sweep config "
                f"({_differences(old, new)}): run with the same settings to read them back "
                f"or resume, grow a sweep's grid (same experiment and fixed settings, every "
                f"old grid value kept), or write to a new folder")
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        if old != new:
            # cells are named by their settings, so a grown grid keeps every finished one
            _atomic_write(path, json.dumps(new, indent=2).encode())

    # -- cells ------------------------------------------------------------------
    def _record(self, cid):
        """``(record, {name: (bytes, dtypes)})`` of a finished cell, or ``(None, None)``
        when its record is missing or damaged or a table does not match its hash."""
        try:
            meta = json.loads((self.cells_dir / f"{cid}.json").read_text())
            if "tables" in meta:
                files = {name: (self.cells_dir / t["file"], t["sha256"], t.get("dtypes"))
                         for name, t in meta["tables"].items()}
            else:  # before 0.2: one CSV per cell
                files = {None: (self.cells_dir / f"{cid}.csv", meta.get("sha256"), None)}
            tables = {}
            for name, (path, sha, dtypes) in files.items():
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != sha:
                    return None, None
                tables[name] = (data, dtypes)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None, None
        return meta, tables

    def record(self, cid):
        """The JSON record (settings, seed, version, timing) of a finished cell, or None."""
        return self._record(cid)[0]

    def finished(self, sweep: SweepConfig | None = None) -> set:
        """Ids of the finished cells of ``sweep`` (default: the stored one)."""
        sweep = sweep or self.sweep()
        ids = {cell_id(sweep.experiment, c) for c in sweep.cells()}
        return {cid for cid in ids if self._record(cid)[0] is not None}

    def write_cell(self, experiment, cell, result, meta: dict):
        """Store a finished cell: each table (``result``: a DataFrame, or a dict of them by
        name) with the settings as columns in its own file (a column of the table named
        like a setting is kept as the cell wrote it when it varies inside the cell or the
        setting is None), then the record."""
        cid = cell_id(experiment, cell)
        folder = self.cells_dir / cid
        folder.mkdir(exist_ok=True)
        entries = {}
        for name, table in cell_tables(result).items():
            table = table.copy()
            for k, v in cell.items():
                # A column the cell wrote is kept when it is a default the cell computed
                # (the value used) or a measurement that shares a setting's name: one that
                # varies inside the cell (empirical_path's "loss" along a path, beside the
                # setting loss = "cross_entropy", which replaced every measured value
                # before); the setting stays in the record.  A constant one (stability's
                # task description) gives way to the setting, as it always has.
                if k in table and (v is None or table[k].nunique(dropna=False) > 1):
                    continue
                table[k] = json.dumps(v) if isinstance(v, (list, tuple)) else v
            table["cell"] = cid
            data, dtypes = table_bytes(table)
            _atomic_write(folder / f"{name}.csv", data)
            entries[name] = {"file": f"{cid}/{name}.csv",
                             "sha256": hashlib.sha256(data).hexdigest(), "dtypes": dtypes}
        if self._commit is False:
            self._commit = code_commit()
        record = {"cell": cid, "experiment": experiment, "settings": cell,
                  "commit": self._commit, **meta, "tables": entries}
        _atomic_write(self.cells_dir / f"{cid}.json", json.dumps(record, indent=2).encode())
        for stale in (f"{cid}.json", f"{cid}.csv"):
            try:
                (self.failed_dir / stale).unlink()
            except FileNotFoundError:
                pass
        # failed/ exists only while it holds a failure: an empty one read as "something
        # failed here" to a user looking at the folder
        with contextlib.suppress(OSError):
            self.failed_dir.rmdir()

    def write_failure(self, experiment, cell, error: str, partial: pd.DataFrame | None = None):
        """Record a failed cell: its settings and error, and ``partial``, what it computed
        before it failed (``failed/<id>.csv``), when there is any."""
        cid = cell_id(experiment, cell)
        self.failed_dir.mkdir(parents=True, exist_ok=True)
        if partial is not None:
            _atomic_write(self.failed_dir / f"{cid}.csv", partial.to_csv(index=False))
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

    def cell_commits(self, sweep: SweepConfig | None = None) -> dict:
        """``{commit: [cell ids]}`` of the finished cells of ``sweep`` (default: the stored
        one): the code that computed each, ``"unrecorded"`` for cells stored before their
        records named it, ``"no checkout"`` for cells computed outside a git checkout."""
        sweep = sweep or self.sweep()
        out = {}
        # each record read (and its tables hashed) once: finished() then record() read twice
        for cid in sorted({cell_id(sweep.experiment, c) for c in sweep.cells()}):
            record = self._record(cid)[0]
            if record is not None:
                commit = record.get("commit", "unrecorded") or "no checkout"
                out.setdefault(commit, []).append(cid)
        return out

    def load_tables(self, sweep: SweepConfig | None = None) -> dict:
        """``{name: DataFrame}``: each table of every finished cell of ``sweep`` (default:
        the stored one), the cells in grid order, each column with the dtype it was
        computed with.

        Damaged or missing cells are left out with a warning; with none finished, the
        dict is empty.
        """
        sweep = sweep or self.sweep()
        parts, missing = {}, 0
        for cell in sweep.cells():
            meta, tables = self._record(cell_id(sweep.experiment, cell))
            if meta is None:
                missing += 1
                continue
            for name, (data, dtypes) in tables.items():
                if name is None:  # a cell stored before 0.2
                    for n, t in split_legacy(read_table(data)).items():
                        parts.setdefault(n, []).append(t)
                elif name == ONE_TABLE and "table" in (dtypes or {}):
                    # one stacked table (multilayer and deep_paths cells stored before
                    # they wrote one file per table): its parts under their names
                    for n, t in split_legacy(read_table(data, dtypes)).items():
                        parts.setdefault(n, []).append(t)
                else:
                    parts.setdefault(name, []).append((data, dtypes))
        if missing:
            warnings.warn(f"{self.folder}: {missing} of {len(sweep.cells())} cells are not "
                          f"finished (or damaged) and are left out", stacklevel=2)
        # each parsed run of cells has one header: renamed option columns are upgraded
        # there, before cells stored under the old and the new name are stacked
        return {name: pd.concat([upgrade_table(sweep.experiment, t) for t in _parsed(items)],
                                ignore_index=True)
                for name, items in parts.items()}

    def load(self, sweep: SweepConfig | None = None, table=None) -> pd.DataFrame:
        """One table of every finished cell of ``sweep`` (default: the stored one):
        :func:`load_results`."""
        return _pick(self.load_tables(sweep), table, self.folder, stacklevel=3)


def _parsed(items):
    """DataFrames of ``items`` (frames, or ``(csv bytes, dtypes)`` of :func:`table_bytes`) in
    order; a run of CSVs with the same header and dtypes is parsed as one text, since
    parsing each cell's few rows alone cost several times more than the rows themselves."""
    out, run = [], None  # run: [header, dtypes, [bodies]] of the CSVs not parsed yet
    for item in items:
        if not isinstance(item, tuple):
            out.append(item)
            continue
        data, dtypes = item
        header, _, body = data.partition(b"\n")
        if run is not None and run[0] == header and run[1] == dtypes:
            run[2].append(body)
            continue
        if run is not None:
            out.append(read_table(run[0] + b"\n" + b"".join(run[2]), run[1]))
        run = [header, dtypes, [body]]
    if run is not None:
        out.append(read_table(run[0] + b"\n" + b"".join(run[2]), run[1]))
    return out


def _pick(tables, table, folder, stacklevel):
    """Table ``table`` of ``tables``, or with ``table=None`` the only one."""
    if table is not None:
        if table not in tables:
            if not tables:
                return pd.DataFrame()
            raise ValueError(f"table must be one of {', '.join(tables)} (the tables of "
                             f"{folder}), got {table!r}")
        return tables[table]
    if len(tables) > 1:
        warnings.warn(f"{folder} holds the tables {', '.join(tables)}: pass table=NAME (or "
                      f"use load_tables); without it they are stacked with a 'table' column, "
                      f"which goes in 0.3", DeprecationWarning, stacklevel=stacklevel + 1)
    return joined(tables)


def load_results(folder, table=None) -> pd.DataFrame:
    """Finished results of the sweep stored in ``folder``: one table, as a pandas DataFrame.

    Parameters
    ----------
    folder : str or Path
        A results folder (the ``--out`` of ``meanfield sweep``, ``stability``
        or ``path``).
    table : str, optional
        Which table, for an experiment whose cells write several (below).
        Default: the only one.  For such an experiment, without ``table`` the
        tables are stacked with a ``table`` column naming each row's table, as
        before 0.2, with a DeprecationWarning (this goes in 0.3): pass
        ``table`` or use :func:`load_tables`.

    Returns
    -------
    pandas.DataFrame
        The rows of that table of every finished cell, the cells in grid order,
        each column with the dtype its cell computed it with (no rows when none
        has finished; unfinished or damaged cells are left out with a warning).
        Columns:

        ``cell``
            The cell's id: its tables are ``folder/cells/<cell>/<table>.csv``.
        one column per key of the experiment
            The cell's setting, the same in each of its rows (``meanfield
            sweep --list KIND`` lists the keys); a list setting is a JSON
            string, e.g. ``"[0.0, 0.5, 1.0]"``.
        the measured columns
            Those of the experiment's cell function (e.g. ``eps_D``,
            ``eps_C``, ``risk``; ``kind`` half/sweep in stability's dropout
            table, dense/vertex/barrier in ``pair_path``), described in its
            docstring: :func:`meanfield.twolayer.experiment.stability_cell`,
            :func:`~meanfield.twolayer.experiment.path_cell`,
            :func:`meanfield.multilayer.experiment.multilayer_cell` and the
            torch cells of :mod:`meanfield.torch.experiments`.

        The tables: ``results`` for an experiment whose cells write one;
        ``stability``: ``"dropout"`` (eps_D of one net at one kept size, draw
        and time) and ``"paths"`` (eps_C of the pair, one row per kept set
        drawn), which :func:`meanfield.experiments.stability.stability_result`
        turns into a :class:`~meanfield.twolayer.experiment.StabilityResult`;
        ``empirical_path``: ``"path"`` (loss and error along each path) and
        ``"hist"`` (weight histograms); ``multilayer``: ``"dropout"`` (eps_D
        of one net at one kept size and draw) and ``"paths"`` (eps_C of the
        pair, one row per kept set); ``deep_paths``: ``"path"`` (loss and
        error along each path), ``"check"`` (path A by forward passes) and
        ``"bound"`` (the nets' losses and Experiments A and B).  Cells stored
        as one table with a ``table`` column (before 0.2, and ``multilayer``
        and ``deep_paths`` cells before they wrote one file per table) load
        split into these tables.

    Raises
    ------
    ConfigError
        When ``folder`` holds no sweep (no ``sweep.json``).
    ValueError
        When ``table`` is not one of the stored tables (the message lists them).
    """
    return _pick(ResultStore(folder).load_tables(), table, folder, stacklevel=2)


def load_tables(folder) -> dict:
    """Every table of the sweep stored in ``folder``: ``{name: DataFrame}``, each as
    :func:`load_results` with ``table=name`` gives it (empty when no cell has finished).

    Raises
    ------
    ConfigError
        When ``folder`` holds no sweep (no ``sweep.json``).
    """
    return ResultStore(folder).load_tables()


def cell_commits(folder) -> dict:
    """``{commit: number of cells}`` of the sweep stored in ``folder``
    (:meth:`ResultStore.cell_commits`): a results JSON that names it says which code
    computed a sweep resumed across commits."""
    return {str(c): len(ids) for c, ids in ResultStore(folder).cell_commits().items()}


def load(folder) -> pd.DataFrame:
    """Deprecated name of :func:`load_results` (removed in 0.3)."""
    warnings.warn("meanfield.experiments.load is deprecated: use load_results",
                  DeprecationWarning, stacklevel=2)
    return load_results(folder)
