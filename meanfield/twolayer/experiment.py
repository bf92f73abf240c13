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

import contextlib
import dataclasses
import json
import numbers
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import _checks
from .._signals import terminate_as_interrupt
from ..analysis import connectivity_shape, dropout_shape, fit_constant, loglog_fit
from ..stepping import DivergenceError
from ..tasks import isotropic_gaussians, teacher_student
from .dropout import dropout_bias, dropout_loss, nested_subsets, random_subset, rescaled_dropout
from .init import InitialLaw
from .paths import aligned_path, seven_segment_path, straight_path
from .sgd import run_sgd


@dataclass
class StabilityConfig:
    """Settings of a dropout/connectivity experiment; every field has a default.

    ``law`` and ``law2`` are ``(a_mean, a_std, w_std)`` of the initial laws
    of theta and theta' (:class:`InitialLaw`); ``law2 = None`` uses ``law``.
    """

    task: str = "teacher-student"
    d: int = 20
    activation: str = "relu"
    width: int = 4
    noise_std: float = 0.0
    delta: float = 0.5
    Ns: tuple = (100, 200, 400, 800, 1600)
    seeds: int = 5
    T: float = 1.0
    alpha0: float = 1.0
    times: tuple = (0.0, 0.5, 1.0)
    law: tuple = (0.0, 1.0, 1.0)
    law2: tuple | None = None
    sweep_Ns: tuple = ()
    sweep_sizes: tuple = (25, 50, 100, 200)
    sweep_draws: int = 4
    half_draws: int = 1
    rescaled_draws: int = 0
    straight_max_N: int = 1600
    aligned_max_N: int = 1600
    n_grid: int = 7
    base_seed: int = 0

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise ValueError naming the first bad field and its accepted values."""
        if self.task not in ("teacher-student", "isotropic"):
            raise ValueError(f"task must be 'teacher-student' or 'isotropic', got {self.task!r}")
        for name in ("d", "width", "seeds", "sweep_draws", "half_draws", "n_grid"):
            _checks.positive_int(name, getattr(self, name))
        for name in ("rescaled_draws", "straight_max_N", "aligned_max_N", "base_seed"):
            _checks.nonneg_int(name, getattr(self, name))
        _checks.positive("T", self.T)
        _checks.positive("alpha0", self.alpha0)
        _checks.nonneg("noise_std", self.noise_std)
        self.Ns = _int_tuple("Ns", self.Ns, low=2)
        self.sweep_Ns = _int_tuple("sweep_Ns", self.sweep_Ns, low=2, empty=True)
        self.sweep_sizes = _int_tuple("sweep_sizes", self.sweep_sizes, low=1)
        if list(self.sweep_sizes) != sorted(set(self.sweep_sizes)):
            raise ValueError(f"sweep_sizes must be strictly increasing, got {self.sweep_sizes}")
        if self.sweep_Ns and self.sweep_sizes[-1] > min(self.sweep_Ns):
            raise ValueError(f"sweep_sizes must not exceed the smallest of sweep_Ns "
                             f"({min(self.sweep_Ns)}), got {self.sweep_sizes[-1]}")
        times = tuple(float(t) for t in self.times)
        if not times or any(not 0.0 <= t <= 1.0 for t in times):
            raise ValueError(f"times are fractions of T and must lie in [0, 1], got {self.times}")
        self.times = tuple(sorted(set(times) | {1.0}))
        self.law = _law("law", self.law)
        self.law2 = None if self.law2 is None else _law("law2", self.law2)
        return self

    def laws(self):
        return InitialLaw(*self.law), InitialLaw(*(self.law2 or self.law))

    def make_task(self):
        if self.task == "teacher-student":
            return teacher_student(self.d, self.activation, width=self.width,
                                   noise_std=self.noise_std)
        return isotropic_gaussians(self.d, self.delta, self.activation)

    def to_dict(self):
        return dataclasses.asdict(self)


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
    ``L_A`` and ``eps_D``; ``kind`` is ``"half"`` (|A| = N/2) or ``"sweep"``.
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
    (list of Trajectory, numpy.random.Generator)
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
        nets.append(run_sgd(task, a0, W0, cfg.alpha0 / N, times, rng=gs, progress=progress))
    return nets, g_sub


#: The paths between one pair: the seven-segment path through a half A, the straight
#: line, and the straight line with the neurons of theta' aligned to those of theta.
PATHS = ("seven", "straight", "aligned")

_last_pair = {}  # the last pair trained by _pair_ends: its three paths train it once


def _pair_ends(cfg: StabilityConfig, N: int, seed: int, progress=False):
    """``(task, a1, W1, a2, W2, A)`` of one trained pair at time T; the last one is kept.

    A diverging pair raises its DivergenceError again without retraining.
    """
    key = (json.dumps(cfg.to_dict(), sort_keys=True), N, seed)
    if key not in _last_pair:
        task = cfg.make_task()
        try:
            nets, g_sub = train_pair(task, cfg, N, seed, progress)
        except DivergenceError as e:
            ends = e
        else:
            (a1, W1), (a2, W2) = ((tr.a[-1], tr.W[-1]) for tr in nets)
            ends = (task, a1, W1, a2, W2, random_subset(N, N // 2, g_sub))
        _last_pair.clear()
        _last_pair[key] = ends
    ends = _last_pair[key]
    if isinstance(ends, Exception):
        raise ends
    return ends


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
        ``{"seven": Path, "straight": Path, "aligned": Path, "A": index set}``;
        A has size N/2 and is drawn independently of both networks.
    """
    task, a1, W1, a2, W2, A = _pair_ends(cfg, N, seed, progress)
    return {**{name: _build_path(name, task, a1, W1, a2, W2, A) for name in PATHS}, "A": A}


def path_cell(cfg: StabilityConfig, N: int, seed: int, path: str, points: int = 33):
    """One path between the pair ``(N, seed)`` of ``cfg``, evaluated: a tidy table.

    Rows of ``kind`` ``"dense"`` hold the exact loss at ``points`` equispaced
    points a segment (``s`` is the position rescaled to [0, 1]); ``"vertex"``
    rows the loss at each vertex, named in ``label``; one ``"barrier"`` row
    the path's barrier (``eps_C`` for the seven-segment path, searched with
    ``cfg.n_grid`` points on a straight line).  :func:`profiles` reads them back.
    """
    task, a1, W1, a2, W2, A = _pair_ends(cfg, N, seed)
    p = _build_path(path, task, a1, W1, a2, W2, A)
    K = p.n_segments
    s, f = p.dense(points, closed_form=False)
    vl = p.vertex_losses()
    barrier = p.barrier() if path == "seven" else p.barrier(n_grid=cfg.n_grid)
    dense = pd.DataFrame({"path": path, "kind": "dense", "s": s / K, "loss": f, "label": ""})
    vertices = pd.DataFrame({"path": path, "kind": "vertex", "s": np.arange(K + 1) / K,
                             "loss": vl, "label": list(p.labels)})
    top = pd.DataFrame({"path": [path], "kind": "barrier", "s": np.nan, "loss": barrier,
                        "label": ""})
    return pd.concat([dense, vertices, top], ignore_index=True)


@dataclass
class ProfiledPath:
    """A path's evaluated profile, read back from the tables of :func:`path_cell`.

    Has what :func:`meanfield.plotting.path_profile` reads of a :class:`Path`
    (``dense``, ``vertex_losses``, ``labels``, ``n_segments``), without the
    networks: ``dense`` returns the stored points whatever it is asked.
    """

    s: np.ndarray
    loss: np.ndarray
    vertex_loss: np.ndarray
    labels: tuple
    barrier: float

    @property
    def n_segments(self) -> int:
        return len(self.labels) - 1

    def dense(self, n_per_segment=None, closed_form=None):
        return self.s * self.n_segments, self.loss.copy()

    def vertex_losses(self):
        return self.vertex_loss.copy()


def profiles(table) -> dict:
    """``{path name: ProfiledPath}`` from the rows of :func:`path_cell` (one pair)."""
    out = {}
    for name in [n for n in PATHS if n in set(table["path"])]:
        g = table[table["path"] == name]
        dense, vert = g[g["kind"] == "dense"], g[g["kind"] == "vertex"]
        out[name] = ProfiledPath(dense["s"].to_numpy(float), dense["loss"].to_numpy(float),
                                 vert["loss"].to_numpy(float), tuple(vert["label"]),
                                 float(g.loc[g["kind"] == "barrier", "loss"].iloc[0]))
    return out


def path_figure(table):
    """Loss along the seven-segment path of one pair with the straight lines stored beside
    it (:func:`meanfield.plotting.path_profile`); None without the seven-segment path."""
    from ..plotting import path_profile

    paths = profiles(table)
    if "seven" not in paths:
        return None
    seven = paths["seven"]
    vl = seven.vertex_losses()
    eps_D = max(abs(vl[1] - vl[0]), abs(vl[3] - vl[-1]))
    names = {"straight": "straight line", "aligned": "aligned straight line"}
    return path_profile(seven, others=[(names[k], paths[k]) for k in names if k in paths],
                        eps_D=eps_D)


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
            A = random_subset(N, half, g_sub)
            LA = tuple(dropout_loss(task, tr.a[j], tr.W[j], A) for tr in nets)
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
            best = rescaled_dropout(task, a, W, half, cfg.rescaled_draws, g_sub)
            prow[f"rescaled_{net}"] = best.loss - LN
    if N in cfg.sweep_Ns:
        for net, (a, W, LN) in enumerate(((a1, W1, prow["L_1"]), (a2, W2, prow["L_2"])), 1):
            for draw in range(cfg.sweep_draws):
                for size, S in zip(cfg.sweep_sizes, nested_subsets(N, cfg.sweep_sizes, g_sub)):
                    LA = dropout_loss(task, a, W, S)
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


def non_default_settings(cfg: StabilityConfig, options) -> dict:
    """The fields of ``cfg`` among ``options`` (a cell's options) that differ from their
    defaults: the ``[fixed]`` table of the sweep holding ``cfg``'s cells."""
    return {k: v for k, v in cfg.to_dict().items() if k in options and v != options[k][1]}


def stability_sweep(cfg: StabilityConfig):
    """The sweep of ``cfg``'s cells: experiment ``"stability"``, grid ``N x seed``.

    Its fixed settings are those that differ from the defaults, so a sweep
    config listing the same settings names the same sweep (and folder).
    """
    from ..experiments.config import parse_config
    from ..experiments.kinds import get_experiment

    options = get_experiment("stability").options
    return parse_config({"experiment": "stability",
                         "fixed": non_default_settings(cfg, options),
                         "grid": {"N": list(cfg.Ns), "seed": list(range(cfg.seeds))}},
                        "stability settings")


def _run_stored(cfg: StabilityConfig, folder, progress):
    """run_stability with every finished cell stored in ``folder``; stored cells are skipped."""
    import numba

    from ..experiments import ResultStore, cell_id, run_sweep

    sweep = stability_sweep(cfg)
    store = ResultStore(folder)
    with store.lock():
        # in this process, with numba's threads (as without a folder); a diverging cell
        # is not retried (it would diverge again)
        report = run_sweep(sweep, folder, workers=1, retries=0, progress=progress,
                           threads_per_cell=numba.get_num_threads())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unfinished cells: complete=False says so
            table = store.load(sweep)
        ids = {cell_id(sweep.experiment, c) for c in sweep.cells()}
        failed = store.failures()
        seconds = {cid: store.record(cid)["seconds"] for cid in set(table.get("cell", ()))}
    cols = ["N", "seed", "error"]
    failed = (failed[failed["cell"].isin(ids)][cols].reset_index(drop=True) if len(failed)
              else pd.DataFrame(columns=cols))
    dropout, paths = pd.DataFrame(), pd.DataFrame()
    if len(table):
        name = cfg.make_task().name  # the store's task column holds the setting
        dropout = table[table["table"] == "dropout"].assign(task=name)
        paths = table[table["table"] == "paths"].assign(task=name)
        paths = paths.assign(seconds=paths["cell"].map(seconds))
        # one stored table holds both kinds of rows, so "net" (NaN on path rows) was read
        # as float: the integer columns get their type back
        dropout, paths = (part[list(cols)].astype({c: "int64" for c in _INT_COLUMNS
                                                   if c in cols}).reset_index(drop=True)
                          for part, cols in ((dropout, DROPOUT_COLUMNS),
                                             (paths, PATH_COLUMNS)))
    return StabilityResult(dropout, paths, cfg.to_dict(), failed, not report.interrupted)


def run_stability(cfg: StabilityConfig | None = None, *, progress=True, folder=None,
                  **overrides):
    """Run every (N, seed) cell of ``cfg`` and collect the tables.

    A cell whose SGD diverges is recorded in ``failed`` (with its error) and
    the others go on; Ctrl-C (or SIGTERM) stops after the cells finished so
    far and returns them with ``complete = False``.

    Parameters
    ----------
    cfg : StabilityConfig, optional
    progress : bool
        tqdm bar over cells.
    folder : path-like, optional
        Results folder (:class:`~meanfield.experiments.ResultStore`, the
        sweep of :func:`stability_sweep`): each finished cell is written there
        atomically as it finishes, and cells already there are not run again,
        so a stopped run resumes.  The folder is locked while the cells run.
        The tables returned hold every finished cell of ``cfg``, stored before
        or now; a failed cell is also recorded in ``folder/failed`` (any
        exception, not only divergence) and run again next time.
    **overrides
        Fields of :class:`StabilityConfig` replacing those of ``cfg``.

    Returns
    -------
    StabilityResult
    """
    cfg = dataclasses.replace(cfg or StabilityConfig(), **overrides)
    if folder is not None:
        return _run_stored(cfg, folder, progress)
    task = cfg.make_task()
    drows, prows, failed = [], [], []
    cells = [(N, s) for N in cfg.Ns for s in range(cfg.seeds)]
    complete = True
    bar = tqdm(cells, desc=f"stability {cfg.activation}", disable=not progress)
    try:
        with terminate_as_interrupt():
            for N, s in bar:
                bar.set_postfix(N=N, seed=s)
                try:
                    r, p = stability_cell(task, cfg, N, s)
                except DivergenceError as e:
                    failed.append({"N": N, "seed": s, "error": str(e)})
                    continue
                drows += r
                prows += p
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: return the cells finished so far
        complete = False
    finally:
        bar.close()
    return StabilityResult(pd.DataFrame(drows), pd.DataFrame(prows), cfg.to_dict(),
                           pd.DataFrame(failed, columns=["N", "seed", "error"]), complete)


def _fit_dict(fit):
    return {"slope": fit.slope, "ci_low": fit.ci_low, "ci_high": fit.ci_high,
            "intercept": fit.intercept, "level": fit.level}


def save_stability(res, out):
    """Tables, summary and figures of a :class:`StabilityResult` into folder ``out``.

    Each file is written atomically.  An interrupted result without a single
    cell writes nothing (it would replace tables written before by empty ones).
    """
    from .. import __version__
    from ..experiments.store import atomic_write as _write
    from ..experiments.store import staged_folder as _staged

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
