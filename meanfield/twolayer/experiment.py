"""Dropout stability and connectivity of SGD solutions, measured over a grid of N and seeds.

One *cell* is one (N, seed): two networks theta and theta' trained by
one-pass SGD (eq. 3.3) from independent draws of their initial laws, with
``alpha = alpha0 / N`` and horizon T.  In each cell:

* ``eps_D`` (Definition 3.1) of both networks with ``|A| = N/2`` at the
  snapshot times, A drawn independently of the networks;
* the seven-segment path between them at time T through one such A, with
  ``eps_C`` (eq. 3.8's left side) from its vertex losses;
* the exact mean shift ``E_A L_|A| - L_N`` (:func:`dropout_bias`, order 1/N)
  of each network, and ``eps_C_debiased`` computed with it removed, which
  isolates the N^(-1/2) fluctuations that eqs. (3.7)-(3.8) describe;
* optionally the straight-line and aligned straight-line barriers, the
  Kuditipudi rescaled dropout, and ``eps_D`` over a sweep of ``|A|``.

Cells are independent (seeded from ``(seed, N, base seed)``), so any
subset of the grid can be run, in any order, on any worker.  With a
``folder``, :func:`run_stability` stores each finished cell in a sweep results
folder (:mod:`meanfield.experiments.store`) and skips the cells already there,
so a stopped run resumes.  The paths between one pair are evaluated one path
at a time (:func:`path_cell`), the unit that ``meanfield path`` stores.
"""

from __future__ import annotations

import dataclasses
import numbers
import time
import warnings
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from .. import _checks
from .._settings import setting
from ..analysis import connectivity_shape, dropout_shape, fit_constant, loglog_fit
from ..tasks import isotropic_gaussians, teacher_student
from ..tasks.data_specs import (DATA_TASKS_HELP, check_data_dimension, check_task_setting,
                                data_law, is_data_spec)
from ..dropout import draw_keep
from .dropout import (TwoLayerNet, dropout_bias, dropout_loss, nested_subsets,
                      rescaled_dropout)
from .init import InitialLaw
from .paths import aligned_path, seven_segment_path, straight_path
from .sgd import run_sgd


#: The most pairs per N a stability run takes (its cells are listed before any runs).
MAX_SEEDS = 100_000


@dataclass(frozen=True)
class StabilityConfig:
    """Settings of a dropout/connectivity experiment; every field has a default.

    Each field carries its help text (:func:`meanfield._settings.setting`):
    the command line's flags, ``meanfield sweep --list stability`` and the
    checks of a sweep config are made from these fields, so a new setting is
    one field here.  ``law`` and ``law2`` are ``(a_mean, a_std, w_std)`` of the
    initial laws of theta and theta' (:class:`InitialLaw`); ``law2 = None``
    uses ``law``.
    """

    task: str = setting("teacher-student", "teacher-student | isotropic | " + DATA_TASKS_HELP)
    d: int = setting(20, "input dimension (a data task's must be its data's: the command line "
                         "fills it in)")
    activation: str = setting("relu", "student activation: relu, erf, tanh, sigmoid, "
                                      "softplus, ramp")
    width: int = setting(4, "teacher width (teacher-student)")
    noise_std: float = setting(0.0, "label noise standard deviation (teacher-student)")
    delta: float = setting(0.5, "class separation (isotropic), in [0, 1)")
    Ns: tuple = setting((100, 200, 400, 800, 1600), "network widths N", kind="ints")
    seeds: int = setting(5, "how many pairs per N (a count: pairs 0..SEEDS-1; a sweep config "
                            "grids over 'seed', one pair index per cell, instead)")
    T: float = setting(1.0, "horizon t = k alpha")
    alpha0: float = setting(1.0, "SGD step alpha = alpha0 / N")
    times: tuple = setting((0.0, 0.5, 1.0), "fractions of T at which eps_D is measured "
                                            "(1 is always added)", kind="floats")
    law: tuple = setting((0.0, 1.0, 1.0), "a_mean,a_std,w_std of theta's initial law",
                         kind="floats")
    law2: tuple | None = setting(None, "a_mean,a_std,w_std of theta''s initial law (default: "
                                       "none, the same as law)", kind="floats")
    a_law: str = setting("gaussian", "law of the initial output weights a: gaussian, or "
                                     "uniform (bounded, as assumption (A4) asks; the same mean "
                                     "and sd)", added=True)
    sweep_Ns: tuple = setting((), "widths at which eps_D is swept over |A| (default: none, "
                                  "no sweep)", kind="ints")
    sweep_sizes: tuple = setting((25, 50, 100, 200), "the |A| of the sweep", kind="ints")
    sweep_draws: int = setting(4, "nested subset chains per network in the sweep")
    half_draws: int = setting(1, "independent A of size N/2 per network and time")
    rescaled_draws: int = setting(0, "subsets tried by the rescaled (Kuditipudi) dropout; "
                                     "0 skips it")
    straight_max_N: int = setting(1600, "largest N with the straight-line baseline")
    aligned_max_N: int = setting(1600, "largest N with the aligned straight-line baseline "
                                       "(O(N^3))")
    n_grid: int = setting(7, "interior points searched on a straight line before refining "
                             "the maximum")
    base_seed: int = setting(0, "base seed of every cell (cells differ by N and pair index)")
    # the content of an .npz task's file, in the cells' names (see CoupleSettings.data_sha256);
    # added after cells were stored: at None (every other task) a cell keeps its id
    data_sha256: str | None = setting(None, "sha256 of the .npz file that task names (the "
                                            "command line's --data fills it in; required for "
                                            "a file, checked against it before any cell runs)",
                                      kind=str, added=True)

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise ValueError naming the first bad field and its accepted values."""
        _checks.a_law(self.a_law)
        data = check_task_setting(self.task, self.data_sha256)
        for name in ("d", "width", "seeds", "sweep_draws", "half_draws", "n_grid"):
            _checks.positive_int(name, getattr(self, name))
        if self.seeds > MAX_SEEDS:
            # one cell per (N, pair) is listed, checked and stored before any runs: a count
            # typed with too many digits would hang there, not fail
            raise ValueError(f"seeds must be <= {MAX_SEEDS} (pairs per N), got {self.seeds}")
        for name in ("rescaled_draws", "straight_max_N", "aligned_max_N", "base_seed"):
            _checks.nonneg_int(name, getattr(self, name))
        _checks.positive("T", self.T)
        _checks.positive("alpha0", self.alpha0)
        _checks.nonneg("noise_std", self.noise_std)
        # frozen: the normalised values are set once, here
        normal = partial(object.__setattr__, self)
        normal("Ns", _int_tuple("Ns", self.Ns, low=2))
        normal("sweep_Ns", _int_tuple("sweep_Ns", self.sweep_Ns, low=2, empty=True))
        normal("sweep_sizes", _int_tuple("sweep_sizes", self.sweep_sizes, low=1))
        if list(self.sweep_sizes) != sorted(set(self.sweep_sizes)):
            raise ValueError(f"sweep_sizes must be strictly increasing, got {self.sweep_sizes}")
        if self.sweep_Ns and self.sweep_sizes[-1] > min(self.sweep_Ns):
            raise ValueError(f"sweep_sizes must not exceed the smallest of sweep_Ns "
                             f"({min(self.sweep_Ns)}), got {self.sweep_sizes[-1]}")
        times = tuple(float(t) for t in self.times)
        if not times or any(not 0.0 <= t <= 1.0 for t in times):
            raise ValueError(f"times are fractions of T and must lie in [0, 1], got {self.times}")
        normal("times", tuple(sorted(set(times) | {1.0})))
        normal("law", _law("law", self.law))
        normal("law2", None if self.law2 is None else _law("law2", self.law2))
        _checks.at_most("width", self.width, _checks.MAX_TEACHER_WIDTH,
                        "the task sums width^2 teacher pairs when it is built")
        if data:  # read once the cheap checks pass (kept for the next call: data_law)
            check_data_dimension(self.task, self.d, self.make_task())
        _checks.at_most("T N / alpha0 (SGD steps at the largest N)",
                        self.T * max(self.Ns) / self.alpha0, _checks.MAX_STEPS,
                        "steps of one run")
        # the teacher and the largest pair's snapshots, before any work
        _checks.fits_in_memory("the teacher", self.d * self.width, "d or width")
        _checks.fits_in_memory("the snapshots of the widest pair",
                               2 * max(self.Ns) * (self.d + 1) * (len(self.times) + 1),
                               "Ns or d")
        return self

    def laws(self):
        return (InitialLaw(*self.law, a_law=self.a_law),
                InitialLaw(*(self.law2 or self.law), a_law=self.a_law))

    def make_task(self):
        """The task ``task`` names: a Gaussian task, or the EmpiricalTask of a data set or an
        ``.npz`` file (:func:`meanfield.tasks.data_law`, which checks ``data_sha256``)."""
        if is_data_spec(self.task):
            return data_law(self.task, self.activation, self.data_sha256)
        if self.task == "teacher-student":
            return teacher_student(self.d, self.activation, width=self.width,
                                   noise_std=self.noise_std)
        return isotropic_gaussians(self.d, self.delta, self.activation)

    def to_dict(self):
        """The fields as a dict; ``data_sha256`` only when given (as before it existed)."""
        out = dataclasses.asdict(self)
        if out["data_sha256"] is None:
            del out["data_sha256"]
        return out


def _int_tuple(name, v, low, empty=False):
    try:
        out = tuple(v)
    except TypeError:
        raise ValueError(f"{name} must be a list of integers, got {v!r}") from None
    if (not out and not empty) or any(isinstance(x, bool) or not isinstance(x, numbers.Integral)
                                      or x < low for x in out):
        raise ValueError(f"{name} must be a {'' if empty else 'non-empty '}list of integers "
                         f">= {low}, got {v!r}")
    return tuple(int(x) for x in out)


def _law(name, v):
    try:
        m, s, w = (float(x) for x in v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be three numbers (a_mean, a_std, w_std), "
                         f"got {v!r}") from None
    InitialLaw(m, s, w)  # validates the ranges
    return (m, s, w)


@dataclass
class StabilityResult:
    """Tables of one experiment.

    ``dropout``: one row per (N, seed, net, t, size, draw) with ``L_N``,
    ``L_A`` and ``eps_D``; ``kind`` is ``"half"`` (``|A| = N/2``) or ``"sweep"``.
    ``paths``: one row per (N, seed, draw of A) with the end losses, the
    vertex maximum of the seven-segment path through A, ``eps_C``, and (on
    draw 0) the baselines and the rescaled dropout gaps (NaN where not
    measured).
    """

    dropout: pd.DataFrame
    paths: pd.DataFrame
    config: dict = field(default_factory=dict)
    failed: pd.DataFrame = field(default_factory=pd.DataFrame)
    complete: bool = True

    _KEYS = ("task", "activation", "N", "seed", "alpha")

    @classmethod
    def from_tables(cls, tables, config=None):
        """The result held by the loaded tables of a ``meanfield stability`` folder
        (:func:`meanfield.experiments.load_tables`): ``{"dropout": ..., "paths": ...}``.

        Each table's columns are put in the order of :data:`DROPOUT_COLUMNS` and
        :data:`PATH_COLUMNS`, then the settings; the dtypes are the stored ones.
        Without ``config``, ``d`` and ``alpha0`` (what :meth:`bound_fits` needs) are
        read from the tables' setting columns.
        """
        def ordered(rows, cols):
            own = [c for c in cols if c in rows]
            return rows[own + [c for c in rows.columns if c not in cols]].reset_index(drop=True)

        dropout = ordered(tables["dropout"], DROPOUT_COLUMNS)
        if config is None:
            first = dropout.iloc[0]
            config = {"d": int(first["d"]), "alpha0": float(first["alpha0"])}
        return cls(dropout, ordered(tables["paths"], PATH_COLUMNS), dict(config))

    @classmethod
    def from_table(cls, table, config=None):
        """Deprecated (removed in 0.3): the result held by the rows of both tables stacked
        with a ``table`` column, the layout of a results folder before 0.2; use
        :meth:`from_tables` on :func:`meanfield.experiments.load_tables`."""
        warnings.warn("StabilityResult.from_table is deprecated: use from_tables on "
                      "meanfield.experiments.load_tables(folder)", DeprecationWarning,
                      stacklevel=2)

        def part(name):
            rows = table[table["table"] == name]
            rows = rows[[c for c in rows.columns if c != "table" and rows[c].notna().any()]]
            return rows.astype({c: "int64" for c in _INT_COLUMNS if c in rows})

        return cls.from_tables({"dropout": part("dropout"), "paths": part("paths")}, config)

    def per_network(self, kind="half"):
        """``eps_D`` averaged over the draws of A: one row per (N, seed, net, t, size)."""
        d = self.dropout[self.dropout["kind"] == kind]
        keys = [*self._KEYS, "net", "t", "size"]
        cols = [c for c in ("L_N", "L_A", "eps_D", "bias") if c in d.columns]
        return d.groupby(keys, as_index=False)[cols].mean()

    def per_pair(self):
        """Path measures averaged over the draws of A: one row per (N, seed)."""
        numeric = self.paths.select_dtypes("number").columns
        cols = [c for c in numeric if c not in (*self._KEYS, "draw", "T")]
        return self.paths.groupby(list(self._KEYS), as_index=False)[cols].mean()

    def fits(self, n_boot=2000, seed=0):
        """Log-log fits in N of the seed means: ``eps_D`` at each t, ``eps_C``, baselines.

        Returns
        -------
        dict
            ``{"eps_D t=<t>": RateFit, "eps_C": RateFit, "barrier_straight": ...}``;
            a measure with fewer than two N values, or zero mean at some N, is left out.
        """
        out = {}
        nets = self.per_network()
        for t, g in nets.groupby("t"):
            out[f"eps_D t={t:g}"] = loglog_fit(g["N"], g["eps_D"], on="means",
                                               n_boot=n_boot, seed=seed)
        pairs = self.per_pair()
        for col in ("eps_C", "eps_C_debiased", "barrier_straight", "barrier_aligned"):
            if col not in pairs:
                continue
            g = pairs[["N", col]].dropna()
            try:
                out[col] = loglog_fit(g["N"], g[col].clip(lower=0.0), on="means",
                                      n_boot=n_boot, seed=seed)
            except ValueError:
                continue
        return out

    def bound_fits(self):
        """Constants K of the bound shapes (3.7) (eps_D at time T) and (3.8) (eps_C).

        ``D = d``: in (3.7)-(3.8) a neuron's parameters ``theta_i = (a_i, w_i)``
        lie in ``R^(D+1)`` with ``w_i`` in ``R^D``; ``z = 1``.  Returns
        ``{"eps_D": BoundFit, "eps_C": BoundFit}``.

        References
        ----------
        .. [1] A. Shevchenko and M. Mondelli, ICML 2020, Theorem 1, eqs. (3.7)-(3.8).
        """
        D = self.config["d"]
        nets = self.per_network()
        nets = nets[nets["t"] == nets["t"].max()]
        pairs = self.per_pair()
        return {
            "eps_D": fit_constant(nets["eps_D"], dropout_shape(nets["size"], nets["N"],
                                                               nets["alpha"], D)),
            "eps_C": fit_constant(pairs["eps_C"].clip(lower=0.0),
                                  connectivity_shape(pairs["N"], pairs["alpha"], D)),
        }


def train_pair(task, cfg: StabilityConfig, N: int, seed: int, progress=False):
    """Train theta and theta' of one cell by SGD (3.3) with ``alpha = alpha0/N``.

    Returns
    -------
    (list of TwoLayerRun, numpy.random.Generator)
        The two trajectories (snapshots at ``cfg.times * T``) and the
        generator reserved for index sets, independent of both networks.
    """
    N = _checks.positive_int("N", N)
    ss = np.random.SeedSequence([cfg.base_seed, seed, N, 3])
    g_init1, g_init2, g_sgd1, g_sgd2, g_sub = (np.random.default_rng(c) for c in ss.spawn(5))
    times = np.array(cfg.times) * cfg.T
    nets = []
    for law, gi, gs in zip(cfg.laws(), (g_init1, g_init2), (g_sgd1, g_sgd2)):
        a0, W0 = law.sample(N, task.d, gi)
        nets.append(run_sgd((a0, W0), task, cfg.alpha0 / N, times, rng=gs, progress=progress))
    return nets, g_sub


#: The paths between one pair: the seven-segment path through a half A, the straight
#: line, and the straight line with the neurons of theta' aligned to those of theta.
PATHS = ("seven", "straight", "aligned")

def _trained_ends(cfg: StabilityConfig, N: int, seed: int, progress=False):
    """``(task, a1, W1, a2, W2, A)``: the pair ``(N, seed)`` of ``cfg`` trained to time T and
    the half A (drawn independently of both nets) that its seven-segment path goes through."""
    task = cfg.make_task()
    nets, g_sub = train_pair(task, cfg, N, seed, progress)
    (a1, W1), (a2, W2) = ((tr.a[-1], tr.W[-1]) for tr in nets)
    return task, a1, W1, a2, W2, draw_keep(N, N // 2, g_sub)


def _build_path(name, task, a1, W1, a2, W2, A):
    if name == "seven":
        return seven_segment_path(task, a1, W1, a2, W2, A)
    if name == "straight":
        return straight_path(task, a1, W1, a2, W2)
    if name == "aligned":
        return aligned_path(task, a1, W1, a2, W2)
    raise ValueError(f"path must be one of {', '.join(PATHS)}, got {name!r}")


def connect_pair(cfg: StabilityConfig, N: int, seed: int = 0, progress=False):
    """The seven-segment path and both straight-line baselines between one trained pair.

    Returns
    -------
    dict
        ``{"seven": PathVertices, "straight": ..., "aligned": ..., "A": index set}``;
        A has size N/2 and is drawn independently of both networks.
    """
    task, a1, W1, a2, W2, A = _trained_ends(cfg, N, seed, progress)
    return {**{name: _build_path(name, task, a1, W1, a2, W2, A) for name in PATHS}, "A": A}


def path_cell(cfg: StabilityConfig, N: int, seed: int, points: int = 33, paths=PATHS):
    """The paths between the pair ``(N, seed)`` of ``cfg``, evaluated: one tidy table.

    The pair is trained once and every path of ``paths`` is built from it, so
    the cell holds no state between calls.  Rows of ``kind`` ``"dense"`` hold
    the exact loss at ``points`` equispaced points a segment (``s`` is the
    position rescaled to [0, 1]); ``"vertex"`` rows the loss at each vertex,
    named in ``label``; one ``"barrier"`` row per path its barrier (``eps_C``
    for the seven-segment path, searched with ``cfg.n_grid`` points on a
    straight line).  :func:`meanfield.plotting.pair_path_figure` draws it.
    """
    task, a1, W1, a2, W2, A = _trained_ends(cfg, N, seed)
    frames = []
    for path in paths:
        p = _build_path(path, task, a1, W1, a2, W2, A)
        K = p.n_segments
        s, f = p.dense(points, closed_form=False)
        vl = p.vertex_losses()
        barrier = p.barrier() if path == "seven" else p.barrier(n_grid=cfg.n_grid)
        frames += [pd.DataFrame({"path": path, "kind": "dense", "s": s / K, "loss": f,
                                 "label": ""}),
                   pd.DataFrame({"path": path, "kind": "vertex", "s": np.arange(K + 1) / K,
                                 "loss": vl, "label": list(p.labels)}),
                   pd.DataFrame({"path": [path], "kind": "barrier", "s": np.nan,
                                 "loss": barrier, "label": ""})]
    return pd.concat(frames, ignore_index=True)


def stability_cell(task, cfg: StabilityConfig, N: int, seed: int):
    """Run one (N, seed) cell; returns ``(dropout_rows, path_rows)``, lists of dicts."""
    t0 = time.perf_counter()
    nets, g_sub = train_pair(task, cfg, N, seed)
    alpha = cfg.alpha0 / N
    base = {"task": task.name, "activation": cfg.activation, "N": N, "seed": seed,
            "alpha": alpha}
    rows, prows = [], []
    half = N // 2
    last = len(cfg.times) - 1
    # time T first: its first A is the one connect_pair draws for the same cell
    for j in [last] + list(range(last)):
        frac = cfg.times[j]
        for draw in range(cfg.half_draws):
            # one A per draw, independent of both networks, shared by them
            A = draw_keep(N, half, g_sub)
            LA = tuple(dropout_loss(TwoLayerNet(task, tr.a[j], tr.W[j]), A) for tr in nets)
            LN = (nets[0].risk[j], nets[1].risk[j])
            if draw == 0:
                bias = tuple(dropout_bias(task, tr.a[j], tr.W[j], half, risk=tr.risk[j])
                             for tr in nets)
            for net in (0, 1):
                rows.append({**base, "net": net + 1, "t": frac * cfg.T, "kind": "half",
                             "size": half, "draw": draw, "L_N": LN[net], "L_A": LA[net],
                             "eps_D": abs(LA[net] - LN[net]), "bias": bias[net]})
            if j == last:
                # the vertex losses of the seven-segment path through A are exactly
                # L_N, L_A, L_A', L_N' (tests/test_paths.py, tests/test_stability.py):
                # building the path would recompute both L_N and repeat L_A, L_A'
                top = max(LN + LA)
                top_db = max(LN + (LA[0] - bias[0], LA[1] - bias[1]))
                prows.append({**base, "T": cfg.T, "draw": draw, "L_1": LN[0], "L_2": LN[1],
                              "max_vertex": top, "eps_C": top - max(LN),
                              "eps_C_debiased": top_db - max(LN),
                              "L_A_1": LA[0], "L_A_2": LA[1],
                              "bias_1": bias[0], "bias_2": bias[1],
                              "eps_D_1": abs(LA[0] - LN[0]), "eps_D_2": abs(LA[1] - LN[1]),
                              "barrier_straight": np.nan, "barrier_aligned": np.nan,
                              "rescaled_1": np.nan, "rescaled_2": np.nan})
    (a1, W1), (a2, W2) = ((tr.a[-1], tr.W[-1]) for tr in nets)
    prow = prows[0]
    if N <= cfg.straight_max_N:
        prow["barrier_straight"] = straight_path(task, a1, W1, a2, W2).barrier(n_grid=cfg.n_grid)
    if N <= cfg.aligned_max_N:
        prow["barrier_aligned"] = aligned_path(task, a1, W1, a2, W2).barrier(n_grid=cfg.n_grid)
    if cfg.rescaled_draws:
        for net, (a, W, LN) in enumerate(((a1, W1, prow["L_1"]), (a2, W2, prow["L_2"])), 1):
            best = rescaled_dropout(TwoLayerNet(task, a, W),
                                    draw_keep(N, half, g_sub, n_draws=cfg.rescaled_draws))
            prow[f"rescaled_{net}"] = best.loss - LN
    if N in cfg.sweep_Ns:
        for net, (a, W, LN) in enumerate(((a1, W1, prow["L_1"]), (a2, W2, prow["L_2"])), 1):
            for draw in range(cfg.sweep_draws):
                for size, S in zip(cfg.sweep_sizes, nested_subsets(N, cfg.sweep_sizes, g_sub)):
                    LA = dropout_loss(TwoLayerNet(task, a, W), S)
                    rows.append({**base, "net": net, "t": cfg.T, "kind": "sweep", "size": size,
                                 "draw": draw, "L_N": LN, "L_A": LA, "eps_D": abs(LA - LN)})
    for p in prows:
        p["seconds"] = time.perf_counter() - t0
    return rows, prows


#: Columns of :attr:`StabilityResult.dropout` and ``.paths`` (from :func:`stability_cell`)
DROPOUT_COLUMNS = ("task", "activation", "N", "seed", "alpha", "net", "t", "kind", "size", "draw",
                   "L_N", "L_A", "eps_D", "bias")
PATH_COLUMNS = ("task", "activation", "N", "seed", "alpha", "T", "draw", "L_1", "L_2",
                "max_vertex", "eps_C", "eps_C_debiased", "L_A_1", "L_A_2", "bias_1", "bias_2",
                "eps_D_1", "eps_D_2", "barrier_straight", "barrier_aligned", "rescaled_1",
                "rescaled_2", "seconds")

_INT_COLUMNS = ("N", "seed", "net", "size", "draw")


#: Names that moved to the experiment layer (the runner and the store live there; a model
#: package imports nothing from it).  They work here for one release, with a warning.
_MOVED = {"run_stability": "meanfield.experiments.stability",
          "stability_sweep": "meanfield.experiments.stability",
          "non_default_settings": "meanfield.experiments.stability",
          "save_stability": "meanfield.experiments.stability",
          "path_figure": None}


def __getattr__(name):
    if name in _MOVED:
        import importlib
        import warnings

        if _MOVED[name] is None:  # path_figure: the figure is drawn from the cell's table
            where, new = "meanfield.plotting", "pair_path_figure"
        else:
            where, new = _MOVED[name], name
        warnings.warn(f"meanfield.twolayer.experiment.{name} is deprecated: use "
                      f"{where}.{new} (it will be removed in 0.3)", DeprecationWarning,
                      stacklevel=2)
        return getattr(importlib.import_module(where), new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

