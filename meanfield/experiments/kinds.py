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
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import _checks
from .._settings import added_of, options_of
from .options import (ConfigError, couple_options, multilayer_options, stability_options,
                      upgrade_keys)


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
    notes : callable or None
        ``notes(tables)`` warns of what a user must know about the stored results
        before reading them (couple: cells run at an unresolved step); the command
        line prints each warning in one line after ``sweep`` and ``plot``.
    """

    name: str
    options: dict
    check: Callable
    run: Callable
    plot: Callable
    added: dict = field(default_factory=dict)
    notes: Callable | None = None


# --- coupled SGD / limit ---------------------------------------------------------

def couple_setup(cfg):
    """Task, initial law and keyword arguments of :func:`run_coupled` from couple options.

    .. deprecated:: 0.2
        Use ``CoupleSettings(**cfg).setup()``
        (:class:`meanfield.twolayer.coupling.CoupleSettings`).

    A ``frozen_a`` key (the option's name before 0.2) is read as ``train_a = not frozen_a``,
    with a FutureWarning.

    With a ``device``, the task's pair sums run there
    (:func:`meanfield.torch.pairs.on_device`).
    """
    from ..twolayer.coupling import CoupleSettings

    cfg = upgrade_keys(cfg, couple_options(), "couple options")
    warnings.warn("couple_setup(cfg) is deprecated: use meanfield.twolayer.coupling."
                  "CoupleSettings(**cfg).setup() (removed in 0.3)", DeprecationWarning,
                  stacklevel=2)
    return _couple_setup(CoupleSettings(**cfg))


def _couple_device(settings):
    """The torch pair sums for ``settings.device`` (None without one), checked against the
    task's activations before any task is built; without torch, ConfigError with the
    install line (CPU and GPU)."""
    if settings.device is None:
        return None
    try:
        from ..torch.pairs import device_pair_sums
    except ImportError as e:
        from .._meta import TORCH_HINT

        raise ConfigError(f"device={settings.device} needs torch: {TORCH_HINT}; for a GPU, "
                          f"the CUDA build: pip install torch") from e
    from ..activations import get_activation
    from ..tasks import is_data_spec

    if is_data_spec(settings.task):
        # a data set's field sums, any activation: the device is checked here, the data
        # copied there once the task is read (_couple_setup)
        from ..torch import pick_device

        pick_device(settings.device)
        return None
    act = get_activation(settings.activation)  # a teacher-student's teacher has it too
    return device_pair_sums([act] * (2 if settings.task == "teacher-student" else 1),
                            settings.device)


def _couple_check(settings):
    """The checks of a couple cell, nothing built: ``settings.check()`` and the device's
    (the task is not built: a teacher of width 10^4 sums 10^8 pairs, seconds of work)."""
    settings.check()
    _couple_device(settings)
    return settings


def _couple_setup(settings):
    """``settings.setup()`` (:class:`~meanfield.twolayer.coupling.CoupleSettings`), the task's
    pair sums moved to ``settings.device`` when one is given: the twolayer package imports
    no torch, so the device is applied here (checked before the task is built)."""
    settings.check()
    pairs = _couple_device(settings)
    task, N, alpha, T, kwargs = settings.setup()
    if pairs is not None:
        task = task.with_pair_sums(pairs)  # what torch.pairs.on_device(task, device) does
    elif settings.device is not None:  # a data set's task: its field sums on the device
        from ..torch.pairs import on_device

        task = on_device(task, settings.device)
    return task, N, alpha, T, kwargs


def _couple_run(settings):
    from ..tasks import is_data_spec
    from ..twolayer import run_coupled

    task, N, alpha, T, kwargs = _couple_setup(settings)
    res = run_coupled(task, N, alpha, T, progress=False, **kwargs)
    # the values used where a setting's default is computed (alpha = 1/N, M = max(4N, 2000)):
    # the store keeps a cell's own column for a setting given as None; and whether W2 is
    # exact (or sliced), which the table alone does not say
    table = res.to_frame().assign(alpha=alpha, M=kwargs["M"], w2_exact=res.w2_exact)
    if is_data_spec(settings.task):  # the data set in words (its n and d: the d column is
        table["task_description"] = task.describe()  # the setting's, unused by a data task)
    return table


def _group_keys(table, options, skip):
    """Settings that vary across the stored cells, other than ``skip``: one figure each.
    A column named like a setting that varies inside a cell is a measurement the cell
    wrote (the store keeps it), not the setting."""
    keys = [k for k in options if k in table.columns and k not in skip]
    if "cell" in table.columns:
        keys = [k for k in keys
                if table.groupby("cell")[k].agg(lambda c: c.astype(str).nunique()).max() <= 1]
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


def _warn_unresolved_steps(tables):
    """Say (a warning, which the command line prints in one line) how many cells ran the
    limit at a step that their step check found unresolved (cells stored before the check
    have no ``step_move`` and are not counted): the couple experiment's ``notes``."""
    from .store import ONE_TABLE

    table = tables.get(ONE_TABLE, pd.DataFrame())
    if "step_move" not in table.columns:
        return
    from ..twolayer.coupling import STEP_MOVE_TOL, STEP_RISK_TOL, step_within

    sups = table.dropna(subset=["step_move"]).groupby("cell")[
        ["step_move", "step_risk_change"]].max()
    bad = sups[[not step_within(r, m) for r, m in zip(sups["step_risk_change"],
                                                       sups["step_move"])]]
    if len(bad):
        warnings.warn(f"the limit's step is not resolved in {len(bad)} of {len(sups)} cells "
                      f"(halving h moves a particle by up to {bad['step_move'].max():.2g}, "
                      f"changes R(rho_t) by up to {bad['step_risk_change'].max():.2g}; "
                      f"tolerances {STEP_MOVE_TOL:g} and {STEP_RISK_TOL:g}): their limit is the "
                      f"integrator's as much as the limit's; run them with a smaller h",
                      stacklevel=2)


def _couple_plot(table, out):
    from ..analysis import couple_sups, loglog_fit
    from ..plotting import rate_plot, save_figure
    from ..tasks import describe_name, is_data_spec

    written = []
    per_cell = couple_sups(table).rename(columns={"sup_risk_gap": "risk_gap",
                                                  "sup_max_dist": "max_dist"})
    skip = {"N", "seed", "alpha"}
    if "M" in per_cell and (per_cell["M"] == (4 * per_cell["N"]).clip(lower=2000)).all():
        skip.add("M")  # the default max(4 N, 2000), which varies with N
    keys = _group_keys(per_cell, couple_options(), skip)
    for name, g in _groups(per_cell, keys):
        if g["N"].nunique() < 2:
            _left_out(f"couple_rates_{name}", "a rate needs at least two values of N")
            continue
        # runs with a gap of exactly 0 are drawn on the axis; the fit is then of the means
        fit = loglog_fit(g["N"], g["risk_gap"], on="auto") if (
            g.groupby("N")["risk_gap"].mean() > 0).all() else None
        fig = rate_plot(g["N"], g["risk_gap"], fit, ylabel=r"$\sup_t\,|L_N - R(\rho_t)|$",
                        label="risk gap")
        row = g.iloc[0]
        if is_data_spec(row.get("task", "")):  # its d is the data's
            title = f"SGD vs its limit: {row.get('task_description', row['task'])}"
        else:
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

def _torch_experiments():
    try:
        from ..torch import experiments
    except ImportError as exc:
        from .._meta import TORCH_HINT

        raise ConfigError(f"this experiment needs torch: {TORCH_HINT}") from exc
    return experiments


def _torch_check(settings):
    """Check torch settings: needs torch (else the install line), loads the data set (a
    missing one is a config error)."""
    experiments = _torch_experiments()
    try:
        experiments.check_settings(settings)
    except FileNotFoundError as exc:
        raise ConfigError(str(exc)) from exc


def _torch_cell(name):
    """The cell function ``name`` of :mod:`meanfield.torch.experiments`, imported when a
    cell runs."""
    return lambda settings: getattr(_torch_experiments(), name)(settings)


def _torch_options(name):
    from ..torch.settings import SETTINGS

    return options_of(SETTINGS[name])


def _deep_plot(table, out):
    from ..plotting import experiments_ab_per_layer, experiments_ab_vs_width, save_figure

    written = []
    keys = _group_keys(table, _torch_options("deep_connectivity"), {"N", "seed", "depth"})
    for name, g in _groups(table, keys):
        for (depth, N), gd in g.groupby(["depth", "N"]):
            written += save_figure(experiments_ab_per_layer(gd),
                                   Path(out) / f"ab_per_layer_{name}_depth={depth}_N={N}")
        for depth, gd in g.groupby("depth"):
            if gd["N"].nunique() > 1:
                written += save_figure(experiments_ab_vs_width(gd),
                                       Path(out) / f"ab_vs_width_{name}_depth={depth}")
    return written


def _deep_paths_plot(tables, out):
    from ..plotting import save_figure, theorem41_paths_figure

    written = []
    keys = _group_keys(tables["path"], _torch_options("deep_paths"), set())
    for name, g in _groups(tables["path"], keys):
        pair = {"path": g, "bound": _same_cells(tables, "bound", g)}
        written += save_figure(theorem41_paths_figure(pair), Path(out) / f"paths_{name}")
    return written


def _empirical_plot(table, out):
    from ..plotting import dropout_change_vs_n, error_change_vs_n, full_vs_dropout, save_figure

    written = []
    keys = _group_keys(table, _torch_options("empirical"), {"N", "seed", "depth"})
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
    keys = _group_keys(tables["path"], _torch_options("empirical_path"), set())
    for name, g in _groups(tables["path"], keys):
        hist = _same_cells(tables, "hist", g)
        written += save_figure(path_error_figure(g, hist), Path(out) / f"path_{name}")
    return written


# --- multilayer dropout stability and connectivity (Theorem 2) -----------------------

def _multilayer_plot(tables, out):
    from ..plotting import multilayer_figures

    written = []
    dropout = tables["dropout"]
    keys = _group_keys(dropout, multilayer_options(), {"N", "seed", "d", "sizes"})
    for name, g in _groups(dropout, keys):
        if g["N"].nunique() > 1:
            written += multilayer_figures({"dropout": g,
                                           "paths": _same_cells(tables, "paths", g)},
                                          Path(out) / name)
        else:
            _left_out(name, "rates in N need at least two values of N")
    return written


def from_settings(name, settings, cell, plot, check=None):
    """The experiment ``name`` whose cells are instances of the frozen dataclass ``settings``.

    Its options (names, types, defaults, help) are the fields of ``settings``
    (:func:`meanfield._settings.options_of`), and so are the options added after
    cells were stored (:func:`~meanfield._settings.added_of`).  A cell's options
    become ``settings(**cell)``; it is checked by ``check(settings)`` (default
    ``settings.check()``) and run by ``cell(settings) -> table``.
    """
    check = check or (lambda s: s.check())
    return Experiment(name, options_of(settings), lambda c: check(settings(**c)) and None,
                      lambda c: cell(settings(**c)), plot, added=added_of(settings))


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
    model code (the options are read from the settings dataclasses of the model
    packages; the torch ones need no torch)."""
    from ..multilayer.experiment import MultilayerConfig, multilayer_cell
    from ..torch.settings import SETTINGS as TORCH
    from ..twolayer.coupling import CoupleSettings
    from ..twolayer.experiment import StabilityConfig

    torch_cells = {"empirical": ("empirical_cell", _one_table(_empirical_plot)),
                   "deep_connectivity": ("deep_cell", _one_table(_deep_plot)),
                   "deep_paths": ("deep_paths_cell", _deep_paths_plot),
                   "empirical_path": ("path_cell", _path_plot)}
    torch = {name: from_settings(name, TORCH[name], _torch_cell(fn), plot, check=_torch_check)
             for name, (fn, plot) in torch_cells.items()}
    return {
        "couple": replace(from_settings("couple", CoupleSettings, _couple_run,
                                        _one_table(_couple_plot), check=_couple_check),
                          notes=_warn_unresolved_steps),
        "stability": Experiment("stability", _stability_cell_options(),
                                lambda c: _stability_config(c) and None, _stability_run,
                                _stability_plot,
                                added=added_of(StabilityConfig)),
        "pair_path": Experiment("pair_path", _pair_path_options(),
                                lambda c: _pair_path_check(c) and None, _pair_path_run,
                                _one_table(_pair_path_plot), added=added_of(StabilityConfig)),
        "empirical": torch["empirical"],
        "multilayer": from_settings("multilayer", MultilayerConfig, multilayer_cell,
                                    _multilayer_plot),
        "deep_connectivity": torch["deep_connectivity"],
        "deep_paths": torch["deep_paths"],
        "empirical_path": torch["empirical_path"],
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


__all__ = ["Experiment", "from_settings", "get_experiment", "couple_setup"]
