"""The experiment types a sweep can run, one cell at a time.

Each :class:`Experiment` names its cell options (the keys a sweep config may
fix or grid over), checks one cell's settings without running it, runs one
cell into one tidy table or several named ones (each stored in its own file,
:mod:`meanfield.experiments.store`), and draws the standard figures from the
stored tables.  Cells carry every setting they need, seed included, so a cell gives
the same table wherever and whenever it runs.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import _checks
from .options import (COUPLE_OPTIONS, DEEP_OPTIONS, DEEP_PATH_OPTIONS, EMPIRICAL_OPTIONS,
                      PATH_OPTIONS, ConfigError, multilayer_options, stability_options)


@dataclass(frozen=True)
class Experiment:
    """One experiment type.

    Attributes
    ----------
    name : str
    options : dict
        ``name -> (type, default, help)`` of a cell's settings.
    check : callable
        ``check(cell)`` raises ValueError naming the bad key; runs nothing.
    run : callable
        ``run(cell) -> pandas.DataFrame``, the cell's tidy table, or a dict
        ``{name: DataFrame}`` of its tables (stored one file each).
    plot : callable
        ``plot(tables, out_folder) -> list of Paths`` from the loaded results,
        ``tables`` as :meth:`~meanfield.experiments.store.ResultStore.load_tables`
        gives them (``{name: DataFrame}``).
    added : dict
        Options added after cells of this experiment were stored, with the value
        that reproduces those cells; :func:`~meanfield.experiments.config.cell_id`
        leaves such an option out at that value, so stored cells keep their names.
    """

    name: str
    options: dict
    check: Callable
    run: Callable
    plot: Callable
    added: dict = field(default_factory=dict)


# --- coupled SGD / limit ---------------------------------------------------------

def couple_setup(cfg):
    """Task, initial law and keyword arguments of :func:`run_coupled` from couple options.

    Validates every option that a run would reject, without running.  With a
    ``device``, the task's pair sums run there (:func:`meanfield.torch.pairs.on_device`).
    """
    from ..stepping import get_method
    from ..tasks import isotropic_gaussians, teacher_student
    from ..twolayer import InitialLaw

    if cfg["task"] not in ("teacher-student", "isotropic"):
        raise ConfigError(f"task must be 'teacher-student' or 'isotropic', got {cfg['task']!r}")
    _checks.positive_int("d", cfg["d"])
    _checks.positive_int("width", cfg["width"])
    _checks.at_most("width", cfg["width"], _checks.MAX_TEACHER_WIDTH,
                    "the task sums width^2 teacher pairs when it is built")
    N = _checks.positive_int("N", cfg["N"])
    alpha = 1.0 / N if cfg["alpha"] is None else _checks.positive("alpha", cfg["alpha"])
    T = _checks.positive("T", cfg["T"])
    if alpha > T:
        raise ConfigError(f"alpha must be <= T (at least one SGD step), got alpha={alpha}, T={T}")
    if _checks.positive_int("snapshots", cfg["snapshots"]) < 2:
        raise ConfigError(f"snapshots must be >= 2, got {cfg['snapshots']}")
    M = max(4 * N, 2000) if cfg["M"] is None else _checks.positive_int("M", cfg["M"])
    _checks.positive("h", cfg["h"])
    _checks.positive_int("batch_size", cfg["batch_size"])
    _checks.nonneg_int("seed", cfg["seed"])
    get_method(cfg["method"])
    _checks.at_most("T / alpha (SGD steps)", T / alpha, _checks.MAX_STEPS, "steps of one run")
    _checks.at_most("T / h (limit steps)", T / cfg["h"], _checks.MAX_STEPS, "steps of one run")
    # the snapshots of both clouds, each neuron (a, w): checked before the task is built
    _checks.fits_in_memory("the snapshots", (N + M) * (cfg["d"] + 1) * cfg["snapshots"],
                           "N, M, d or snapshots")
    _checks.fits_in_memory("the teacher", cfg["d"] * cfg["width"], "d or width")
    if cfg["task"] == "teacher-student":
        task = teacher_student(cfg["d"], cfg["activation"], width=cfg["width"],
                               noise_std=cfg["noise_std"])
    else:
        task = isotropic_gaussians(cfg["d"], cfg["delta"], cfg["activation"])
    device = cfg.get("device")
    if device is not None:
        if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:K, got {device!r}")
        try:
            from ..torch.pairs import on_device
        except ImportError as e:
            raise ConfigError(f"device needs torch: {e}") from None
        task = on_device(task, device)
    init = InitialLaw(cfg["a_mean"], cfg["a_std"], cfg["w_std"])
    kwargs = dict(M=M, init=init, n_snapshots=cfg["snapshots"], h=cfg["h"],
                  method=cfg["method"], batch_size=cfg["batch_size"],
                  train_a=not cfg["frozen_a"], seed=cfg["seed"])
    return task, N, alpha, T, kwargs


def _couple_run(cell):
    from ..twolayer import run_coupled

    task, N, alpha, T, kwargs = couple_setup(cell)
    res = run_coupled(task, N, alpha, T, progress=False, **kwargs)
    # the values used where a setting's default is computed (alpha = 1/N, M = max(4N, 2000)):
    # the store keeps a cell's own column for a setting given as None; and whether W2 is
    # exact (or sliced), which the table alone does not say
    return res.to_frame().assign(alpha=alpha, M=kwargs["M"], w2_exact=res.w2_exact)


def _group_keys(table, options, skip):
    """Settings that vary across the stored cells, other than ``skip``: one figure each."""
    keys = [k for k in options if k in table.columns and k not in skip]
    return [k for k in keys if table[k].astype(str).nunique() > 1]


def _groups(table, keys):
    if not keys:
        yield "all", table
        return
    for vals, g in table.groupby(keys, dropna=False):
        vals = vals if isinstance(vals, tuple) else (vals,)
        yield "_".join(f"{k}={v}" for k, v in zip(keys, vals)), g


def _left_out(name, why):
    """Say which figure group was not drawn and why (the CLI prints it on one line)."""
    warnings.warn(f"figure {name!r} not drawn: {why}", stacklevel=3)


def _couple_plot(table, out):
    from ..analysis import couple_sups, loglog_fit
    from ..plotting import rate_plot, save_figure
    from ..tasks import describe_name

    written = []
    per_cell = couple_sups(table).rename(columns={"sup_risk_gap": "risk_gap",
                                                  "sup_max_dist": "max_dist"})
    skip = {"N", "seed", "alpha"}
    if "M" in per_cell and (per_cell["M"] == (4 * per_cell["N"]).clip(lower=2000)).all():
        skip.add("M")  # the default max(4 N, 2000), which varies with N
    keys = _group_keys(per_cell, COUPLE_OPTIONS, skip)
    for name, g in _groups(per_cell, keys):
        if g["N"].nunique() < 2:
            _left_out(f"couple_rates_{name}", "a rate needs at least two values of N")
            continue
        # runs with a gap of exactly 0 are drawn on the axis; the fit is then of the means
        fit = loglog_fit(g["N"], g["risk_gap"], on="auto") if (
            g.groupby("N")["risk_gap"].mean() > 0).all() else None
        fig = rate_plot(g["N"], g["risk_gap"], fit, ylabel="sup_t |L_N - R(rho_t)|",
                        label="risk gap")
        row = g.iloc[0]
        title = (f"SGD vs its limit: {describe_name(row.get('task', ''))}, "
                 f"{row.get('activation', '')}, d = {row.get('d', '')}")
        extra = [f"{k} {row[k]}" for k in keys if k not in ("task", "activation", "d")]
        fig.axes[0].set_title(", ".join([title] + extra), fontsize=8)
        written += save_figure(fig, Path(out) / f"couple_rates_{name}")
    return written


# --- dropout stability and connectivity ----------------------------------------------

def _stability_cell_options():
    opts = {k: v for k, v in stability_options().items() if k not in ("Ns", "seeds")}
    opts["N"] = (int, 1600, "network width of the cell")
    opts["seed"] = (int, 0, ("pair index of the cell (with base_seed, it seeds everything), "
                             "one value per cell: grid it, seed = [0, 1, 2], for three pairs "
                             "(what 'meanfield stability --seeds 3' runs)"))
    return opts


def _stability_config(cell):
    from ..twolayer.experiment import StabilityConfig

    fields = {k: v for k, v in cell.items() if k not in ("N", "seed")}
    N = _checks.positive_int("N", cell["N"])
    if N < 2:
        raise ConfigError(f"N must be >= 2 to drop half of the neurons, got {N}")
    _checks.nonneg_int("seed", cell["seed"])
    return StabilityConfig(Ns=(N,), seeds=1, **fields)


def _stability_run(cell):
    from ..twolayer.experiment import stability_cell

    cfg = _stability_config(cell)
    rows, prows = stability_cell(cfg.make_task(), cfg, cell["N"], cell["seed"])
    # timing goes to the cell's record, so that the tables depend on the settings alone
    return {"dropout": pd.DataFrame(rows), "paths": pd.DataFrame(prows).drop(columns=["seconds"])}


def _same_cells(tables, name, g):
    """The rows of ``tables[name]`` from the cells of ``g`` (a group of another table)."""
    t = tables[name]
    return t[t["cell"].isin(set(g["cell"]))]


def _stability_plot(tables, out):
    from ..plotting import stability_figures
    from ..twolayer.experiment import StabilityResult

    written = []
    options = _stability_cell_options()
    dropout = tables["dropout"]
    keys = _group_keys(dropout, options, {"N", "seed"})
    for name, g in _groups(dropout, keys):
        if g["N"].nunique() < 2:
            _left_out(name, "rates in N need at least two values of N")
            continue
        res = StabilityResult.from_tables({"dropout": g, "paths": _same_cells(tables, "paths", g)})
        written += stability_figures(res, Path(out) / name)
    return written


# --- one path between a trained pair (meanfield path) ----------------------------------

def _pair_path_options():
    opts = _stability_cell_options()
    opts["seed"] = (int, 0, "pair index (with base_seed, seeds both networks and A)")
    opts["points"] = (int, 33, "points per segment in the dense evaluation")
    return opts


def _pair_path_check(cell):
    cfg = _stability_config({k: v for k, v in cell.items() if k != "points"})
    _checks.positive_int("points", cell["points"])
    return cfg


def _pair_path_run(cell):
    from ..twolayer.experiment import path_cell

    return path_cell(_pair_path_check(cell), cell["N"], cell["seed"], cell["points"])


def _pair_path_plot(table, out):
    from ..plotting import pair_path_figure, save_figure

    written = []
    keys = _group_keys(table, _pair_path_options(), set())
    for name, g in _groups(table, keys):
        fig = pair_path_figure(g)
        if fig is not None:
            written += save_figure(fig, Path(out) / f"path_{name}")
    return written


# --- empirical side: torch nets on real data (Section 5) ----------------------------

def _torch_check(kind):
    """``check(cell)`` of a torch experiment; a missing data set is a config error."""
    def check(cell):
        try:
            _torch_experiments().check_cell(cell, kind)
        except FileNotFoundError as exc:
            raise ConfigError(str(exc)) from exc
    return check


def _torch_experiments():
    try:
        from ..torch import experiments
    except ImportError as exc:
        from .._meta import TORCH_HINT

        raise ConfigError(f"this experiment needs torch: {TORCH_HINT}") from exc
    return experiments


def _deep_plot(table, out):
    from ..plotting import experiments_ab_per_layer, experiments_ab_vs_width, save_figure

    written = []
    keys = _group_keys(table, DEEP_OPTIONS, {"N", "seed", "depth"})
    for name, g in _groups(table, keys):
        for (depth, N), gd in g.groupby(["depth", "N"]):
            written += save_figure(experiments_ab_per_layer(gd),
                                   Path(out) / f"ab_per_layer_{name}_depth={depth}_N={N}")
        for depth, gd in g.groupby("depth"):
            if gd["N"].nunique() > 1:
                written += save_figure(experiments_ab_vs_width(gd),
                                       Path(out) / f"ab_vs_width_{name}_depth={depth}")
    return written


def _deep_paths_plot(table, out):
    from ..plotting import save_figure, theorem41_paths_figure

    written = []
    keys = _group_keys(table, DEEP_PATH_OPTIONS, set())
    for name, g in _groups(table, keys):
        written += save_figure(theorem41_paths_figure(g), Path(out) / f"paths_{name}")
    return written


def _empirical_plot(table, out):
    from ..plotting import dropout_change_vs_n, error_change_vs_n, full_vs_dropout, save_figure

    written = []
    keys = _group_keys(table, EMPIRICAL_OPTIONS, {"N", "seed", "depth"})
    for name, g in _groups(table, keys):
        if g["depth"].nunique() > 1 and g["N"].nunique() > 1:
            written += save_figure(error_change_vs_n(g), Path(out) / f"error_change_{name}")
        for depth, gd in g.groupby("depth"):
            stem = f"{name}_depth={depth}"
            written += save_figure(full_vs_dropout(gd), Path(out) / f"full_vs_dropout_{stem}")
            if gd["N"].nunique() > 1:
                fig, _ = dropout_change_vs_n(gd)
                written += save_figure(fig, Path(out) / f"dropout_change_{stem}")
    return written


def _path_plot(tables, out):
    from ..plotting import path_error_figure, save_figure

    written = []
    keys = _group_keys(tables["path"], PATH_OPTIONS, set())
    for name, g in _groups(tables["path"], keys):
        hist = _same_cells(tables, "hist", g)
        written += save_figure(path_error_figure(g, hist), Path(out) / f"path_{name}")
    return written


# --- multilayer dropout stability and connectivity (Theorem 2) -----------------------

def _multilayer_config(cell):
    from ..multilayer.experiment import MultilayerConfig

    cfg = MultilayerConfig(**cell)
    cfg.check()
    return cfg


def _multilayer_run(cell):
    from ..multilayer.experiment import MultilayerConfig, multilayer_cell

    return multilayer_cell(MultilayerConfig(**cell))


def _multilayer_plot(table, out):
    from ..plotting import multilayer_figures

    written = []
    keys = _group_keys(table, multilayer_options(), {"N", "seed", "d", "sizes"})
    for name, g in _groups(table, keys):
        if g["N"].nunique() > 1:
            written += multilayer_figures(g, Path(out) / name)
        else:
            _left_out(name, "rates in N need at least two values of N")
    return written


def _one_table(plot):
    """``plot(tables, out)`` of an experiment whose cells write one table, from its
    ``plot(table, out)``."""
    @functools.wraps(plot)
    def plot_tables(tables, out):
        from .store import ONE_TABLE

        return plot(tables[ONE_TABLE], out)
    return plot_tables


@functools.cache
def _registry():
    """Every experiment by name, built on first use: importing this module runs no
    model code (the stability and multilayer options are read from their settings
    dataclasses, in the model packages)."""
    from .._settings import added_of
    from ..multilayer.experiment import MultilayerConfig
    from ..twolayer.experiment import StabilityConfig

    return {
        "couple": Experiment("couple", dict(COUPLE_OPTIONS), lambda c: couple_setup(c) and None,
                             _couple_run, _one_table(_couple_plot), added={"device": None}),
        "stability": Experiment("stability", _stability_cell_options(),
                                lambda c: _stability_config(c) and None, _stability_run,
                                _stability_plot,
                                added=added_of(StabilityConfig)),
        "pair_path": Experiment("pair_path", _pair_path_options(),
                                lambda c: _pair_path_check(c) and None, _pair_path_run,
                                _one_table(_pair_path_plot), added=added_of(StabilityConfig)),
        "empirical": Experiment("empirical", dict(EMPIRICAL_OPTIONS), _torch_check("empirical"),
                                lambda c: _torch_experiments().empirical_cell(c),
                                _one_table(_empirical_plot)),
        "multilayer": Experiment("multilayer", multilayer_options(), _multilayer_config,
                                 _multilayer_run, _one_table(_multilayer_plot),
                                 added=added_of(MultilayerConfig)),
        "deep_connectivity": Experiment("deep_connectivity", dict(DEEP_OPTIONS),
                                        _torch_check("deep_connectivity"),
                                        lambda c: _torch_experiments().deep_cell(c),
                                        _one_table(_deep_plot)),
        "deep_paths": Experiment("deep_paths", dict(DEEP_PATH_OPTIONS), _torch_check("deep_paths"),
                                 lambda c: _torch_experiments().deep_paths_cell(c),
                                 _one_table(_deep_paths_plot)),
        "empirical_path": Experiment("empirical_path", dict(PATH_OPTIONS),
                                     _torch_check("empirical_path"),
                                     lambda c: _torch_experiments().path_cell(c), _path_plot),
    }


def get_experiment(name) -> Experiment:
    """The registered experiment called ``name`` (the ``experiment`` key of a sweep config).

    Raises
    ------
    ConfigError
        Naming the valid experiments, when there is none of that name.
    """
    experiments = _registry()
    if name not in experiments:
        raise ConfigError(f"experiment must be one of {', '.join(sorted(experiments))}, "
                          f"got {name!r}")
    return experiments[name]


def __getattr__(name):
    if name == "EXPERIMENTS":  # the registry, built on first use
        return _registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Experiment", "get_experiment", "couple_setup"]
