"""The two-layer stability experiment run through the one runner and store.

:func:`run_stability` is the Python form of ``meanfield stability``: the
cells of :func:`meanfield.twolayer.experiment.stability_cell`, one per
(N, pair index), run by :func:`~meanfield.experiments.runner.run_sweep` into
a results folder (a temporary one when none is given), then read back as a
:class:`~meanfield.twolayer.experiment.StabilityResult`.  There is no second
loop: in memory or stored, a cell that raises is recorded in ``failed`` with
its error and the others go on, and Ctrl-C keeps the cells finished so far.

References
----------
.. [1] A. Shevchenko and M. Mondelli, ICML 2020, Theorem 1, eqs. (3.7)-(3.8).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from .._io import atomic_write as _write
from .._io import staged_folder as _staged
from ..twolayer.experiment import (DROPOUT_COLUMNS, PATH_COLUMNS, StabilityConfig,
                                   StabilityResult)
from .config import SweepConfig, cell_id, parse_config
from .kinds import get_experiment
from .runner import run_sweep
from .store import ResultStore, split_legacy

def non_default_settings(cfg, options) -> dict:
    """The fields of settings dataclass ``cfg`` among ``options`` (a cell's options) that
    differ from their defaults: the ``[fixed]`` table of the sweep holding ``cfg``'s cells."""
    return {k: v for k, v in dataclasses.asdict(cfg).items()
            if k in options and v != options[k][1]}


def stability_sweep(cfg: StabilityConfig) -> SweepConfig:
    """The sweep of ``cfg``'s cells: experiment ``"stability"``, grid ``N x seed``.

    Its fixed settings are those that differ from the defaults, so a sweep
    config listing the same settings names the same sweep (and folder).
    """
    options = get_experiment("stability").options
    return parse_config({"experiment": "stability",
                         "fixed": non_default_settings(cfg, options),
                         "grid": {"N": list(cfg.Ns), "seed": list(range(cfg.seeds))}},
                        "stability settings")


def stability_result(tables, config=None) -> StabilityResult:
    """A :class:`StabilityResult` from the loaded tables of a stability folder,
    ``{"dropout": ..., "paths": ...}`` (:func:`~meanfield.experiments.store.load_tables`):
    :meth:`StabilityResult.from_tables`.  One DataFrame holding both, told apart by a
    ``table`` column (the layout before 0.2), is split first."""
    if isinstance(tables, pd.DataFrame):
        tables = split_legacy(tables)
    return StabilityResult.from_tables(tables, config)


def run_stability(cfg: StabilityConfig | None = None, *, progress=True, folder=None,
                  **overrides) -> StabilityResult:
    """Run every (N, seed) cell of ``cfg`` and collect the tables.

    A cell that raises (a diverging SGD run, say) is recorded in ``failed``
    with its error and the others go on; Ctrl-C (or SIGTERM) stops after the
    cells finished so far and returns them with ``complete = False``.

    Parameters
    ----------
    cfg : StabilityConfig, optional
    progress : bool
        tqdm bar over cells.
    folder : path-like, optional
        Results folder (:class:`~meanfield.experiments.ResultStore`, the
        sweep of :func:`stability_sweep`): each finished cell is written there
        atomically as it finishes, and cells already there are not run again,
        so a stopped run resumes.  The folder is locked while the cells run;
        a failed cell is also recorded in ``folder/failed`` and run again next
        time.  Default: a temporary folder, removed before returning.
    **overrides
        Fields of :class:`StabilityConfig` replacing those of ``cfg``.

    Returns
    -------
    StabilityResult
        Every finished cell of ``cfg``, stored before or now.

    References
    ----------
    .. [1] A. Shevchenko and M. Mondelli, ICML 2020, Theorem 1.
    """
    import numba

    cfg = dataclasses.replace(cfg or StabilityConfig(), **overrides)
    sweep = stability_sweep(cfg)
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="meanfield-"))
        store = ResultStore(folder)
        with store.lock():
            # in this process, with numba's threads; a diverging cell is not retried
            # (it would diverge again)
            report = run_sweep(sweep, folder, workers=1, retries=0, progress=progress,
                               threads_per_cell=numba.get_num_threads())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unfinished cells: complete=False says so
                tables = store.load_tables(sweep)
            ids = {cell_id(sweep.experiment, c) for c in sweep.cells()}
            failed = store.failures()
            seconds = {cid: store.record(cid)["seconds"]
                       for cid in set(tables["paths"]["cell"])} if tables else {}
    cols = ["N", "seed", "error"]
    failed = (failed[failed["cell"].isin(ids)][cols].sort_values(["N", "seed"])
              .reset_index(drop=True) if len(failed) else pd.DataFrame(columns=cols))
    dropout, paths = pd.DataFrame(), pd.DataFrame()
    if tables:
        res = StabilityResult.from_tables(tables, cfg.to_dict())
        name = cfg.make_task().name  # the store's task column holds the setting
        dropout = res.dropout.assign(task=name)[list(DROPOUT_COLUMNS)]
        paths = res.paths.assign(task=name)
        paths = paths.assign(seconds=paths["cell"].map(seconds))[list(PATH_COLUMNS)]
        dropout, paths = dropout.reset_index(drop=True), paths.reset_index(drop=True)
    return StabilityResult(dropout, paths, cfg.to_dict(), failed, not report.interrupted)


def _fit_dict(fit):
    return {"slope": fit.slope, "ci_low": fit.ci_low, "ci_high": fit.ci_high,
            "intercept": fit.intercept, "level": fit.level}


def save_stability(res, out):
    """Tables, summary and figures of a :class:`StabilityResult` into folder ``out``.

    Each file is written atomically.  An interrupted result without a single
    cell writes nothing (it would replace tables written before by empty ones).
    """
    from .._meta import __version__

    out = Path(out)
    summary = {"config": res.config, "version": __version__, "complete": res.complete,
               "failed_cells": len(res.failed)}
    if not res.complete and res.dropout.empty and res.paths.empty:
        return summary, []
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "dropout.csv", res.dropout.to_csv(index=False))
    _write(out / "paths.csv", res.paths.to_csv(index=False))
    if len(res.failed):
        _write(out / "failed.csv", res.failed.to_csv(index=False))
    else:  # from an earlier run whose failed cells have run since
        with contextlib.suppress(FileNotFoundError):
            (out / "failed.csv").unlink()
    written = [out / "dropout.csv", out / "paths.csv", out / "summary.json"]
    if not res.dropout.empty and res.dropout["N"].nunique() >= 2:
        from ..plotting import stability_figures

        fits, bounds = res.fits(), res.bound_fits()
        summary["fits"] = {k: _fit_dict(f) for k, f in fits.items()}
        summary["bound_K"] = {k: {"K_fit": b.K_fit, "K_envelope": b.K_envelope}
                              for k, b in bounds.items()}
        with _staged(out) as tmp:
            names = [p.name for p in stability_figures(res, tmp, fits, bounds)]
        written += [out / n for n in names]
    _write(out / "summary.json", json.dumps(summary, indent=2, default=str))
    return summary, written
