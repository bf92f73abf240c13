"""Results folder of a sweep: one table per finished cell, written atomically.

Layout::

    FOLDER/sweep.json            the sweep config (a folder holds one sweep)
    FOLDER/cells/<id>.csv        the cell's tidy table, settings as columns
    FOLDER/cells/<id>.json       its settings, seed, package version, timing, and
                                 the SHA-256 of the CSV; written last
    FOLDER/failed/<id>.json      a cell that failed twice: settings and error

Every file is written to a temporary name in the same folder and renamed
into place, so a killed process leaves either a whole file or a temporary
one that nothing reads.  A cell counts as finished only when its JSON record
exists and the CSV's hash matches it, so a damaged table is never read as a
result (and is run again on resume).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from .config import SweepConfig, cell_id, parse_config
from .options import ConfigError


def _atomic_write(path: Path, data: bytes):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise



def _grows(old: dict, new: dict) -> bool:
    """Whether sweep ``new`` holds every cell of ``old``: same experiment and fixed
    settings, the same grid axes, and every old value of each axis still there."""
    if old.get("experiment") != new["experiment"] or old.get("fixed") != new["fixed"]:
        return False
    grid, grid2 = old.get("grid", {}), new["grid"]
    return set(grid) == set(grid2) and all(v in grid2[k] for k in grid for v in grid[k])

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

    # -- the sweep --------------------------------------------------------------
    def sweep(self) -> SweepConfig:
        """The sweep config stored in the folder."""
        path = self.folder / "sweep.json"
        if not path.exists():
            raise ConfigError(f"{self.folder} holds no sweep (no sweep.json)")
        return parse_config(json.loads(path.read_text()), str(path))

    def prepare(self, sweep: SweepConfig):
        """Create the folder for ``sweep``, or check that it already holds this sweep."""
        path = self.folder / "sweep.json"
        new = sweep.to_dict()
        old = json.loads(path.read_text()) if path.exists() else None
        if old is not None and old != new and not _grows(old, new):
            raise ConfigError(
                f"{self.folder} holds results of a different sweep config; resume with "
                f"the same config, grow its grid (same experiment and fixed settings, every "
                f"old grid value kept), or write to a new folder")
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

    def load(self) -> pd.DataFrame:
        """One table of every finished cell of the stored sweep, in grid order.

        Damaged or missing cells are left out with a warning.
        """
        sweep = self.sweep()
        frames, missing = [], 0
        for cell in sweep.cells():
            meta, data = self._record(cell_id(sweep.experiment, cell))
            if meta is None:
                missing += 1
                continue
            frames.append(pd.read_csv(io.BytesIO(data)))
        if missing:
            warnings.warn(f"{self.folder}: {missing} of {len(sweep.cells())} cells are not "
                          f"finished (or damaged) and are left out", stacklevel=2)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load(folder) -> pd.DataFrame:
    """All finished results of the sweep stored in ``folder``, as one pandas DataFrame.

    Each row carries the settings of its cell as columns and the cell's id in
    ``cell``.
    """
    return ResultStore(folder).load()
