"""SGD coupled to its ideal particles, and the distances between them.

Shevchenko & Mondelli (proof of Theorem 1, after Mei, Misiakiewicz &
Montanari 2019) couple ``theta^k`` (SGD, eq. (3.3)) with i.i.d. particles
``thetabar_i(t)`` of the nonlinear dynamics started at the same
``theta_i^0``; the distance ``max_i |theta_i^k - thetabar_i(k alpha)|`` and
the risk gap ``|L_N(theta^k) - R(rho_{k alpha})|`` are
``O(1/sqrt(N) + sqrt(alpha (D + log N)))``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _checks
from .._meta import __version__
from .._settings import check_types, setting
from ..stepping import TwoLayerRun, get_method
from ..tasks.data_specs import (DATA_TASKS_HELP, check_data_dimension, check_data_sha256,
                                check_task_setting, data_law)
from ..tasks.protocol import check_task
from ..transport import wasserstein2
from .init import InitialLaw
from .limit import run_limit
from .sgd import run_sgd


@dataclass
class CoupledResult:
    """A coupled SGD / limit run with its distances at each snapshot.

    Attributes
    ----------
    sgd, limit : TwoLayerRun
        SGD snapshots (risk = exact ``L_N``) and the tagged ideal particles
        (risk = ``R(rho_t)`` from the reference population).
    max_dist, mean_dist : array
        ``max_i`` and mean over i of ``|theta_i^k - thetabar_i(t)|`` (Euclidean in (a, w)).
    risk_gap : array
        ``|L_N(theta^k) - R(rho_t)|``.
    w2 : array
        W2 between the two clouds; ``w2_exact`` says whether it is exact or sliced.
    config : dict
    """

    sgd: TwoLayerRun
    limit: TwoLayerRun
    max_dist: np.ndarray
    mean_dist: np.ndarray
    risk_gap: np.ndarray
    w2: np.ndarray
    w2_exact: bool
    config: dict = field(default_factory=dict)
    #: Per snapshot, the step check's change of R(rho_t) and largest move when the limit's
    #: step is halved (:func:`run_coupled` with ``check_step``); None without the check.
    step_risk_change: np.ndarray | None = None
    step_move: np.ndarray | None = None

    @property
    def times(self):
        return self.sgd.times

    def summary(self) -> dict:
        """Sup over snapshots of each distance, final risks, and the config
        (:func:`coupled_summary` of :meth:`to_frame`)."""
        return coupled_summary(self.to_frame(), self.w2_exact, self.config)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per snapshot (with the step check's two columns,
        ``step_risk_change`` and ``step_move``, when it ran)."""
        cols = {
            "t": self.sgd.times, "step": self.sgd.steps, "risk_sgd": self.sgd.risk,
            "risk_limit": self.limit.risk, "risk_gap": self.risk_gap,
            "max_dist": self.max_dist, "mean_dist": self.mean_dist, "w2": self.w2,
        }
        if self.step_move is not None:
            cols.update(step_risk_change=self.step_risk_change, step_move=self.step_move)
        return pd.DataFrame(cols)


def coupled_summary(table, w2_exact, config) -> dict:
    """Sup over snapshots of each distance, final risks, and ``config``, from the table of
    :meth:`CoupledResult.to_frame` (one row per snapshot, in time order): what ``meanfield
    couple`` writes to ``summary.json``."""
    return {
        "sup_max_dist": float(table["max_dist"].max()),
        "sup_mean_dist": float(table["mean_dist"].max()),
        "sup_risk_gap": float(table["risk_gap"].max()),
        "sup_w2": float(table["w2"].max()),
        "w2_exact": bool(w2_exact),
        "final_risk_sgd": float(table["risk_sgd"].iloc[-1]),
        "final_risk_limit": float(table["risk_limit"].iloc[-1]),
        **step_check_summary(table),
        **config,
    }


def step_check_summary(table) -> dict:
    """The step check of a couple table (:meth:`CoupledResult.to_frame`): its sups and
    whether the step is resolved (``step_resolved``: both within STEP_RISK_TOL and
    STEP_MOVE_TOL); empty for a table without the check."""
    if "step_move" not in table.columns:
        return {}
    risk, move = float(table["step_risk_change"].max()), float(table["step_move"].max())
    return {"sup_step_risk_change": risk, "sup_step_move": move,
            "step_resolved": step_within(risk, move)}


def step_within(risk_change, move, risk_tol=None, move_tol=None) -> bool:
    """Whether one halving of the step changed R(rho_t) by at most ``risk_tol`` and moved
    no particle by more than ``move_tol`` (default STEP_RISK_TOL and STEP_MOVE_TOL): the
    one test of a resolved step."""
    risk_tol = STEP_RISK_TOL if risk_tol is None else risk_tol
    move_tol = STEP_MOVE_TOL if move_tol is None else move_tol
    return bool(risk_change <= risk_tol and move <= move_tol)


def coupled_config(task, N, M, alpha, T, *, h, method, batch_size, train_a, init, seed,
                   schedule=None, check_step=False) -> dict:
    """The settings of a :func:`run_coupled` run as its result records them
    (``CoupledResult.config``), ``M`` and ``init`` as given to it resolved; with
    ``check_step``, the step check's population (``check_step``: its reference and
    tagged particles and the tolerances)."""
    describe = getattr(task, "describe", None)
    check = None
    if check_step:
        check = {"references": min(M, CHECK_REFERENCES), "tagged": min(N, CHECK_TAGGED),
                 "h_half": h / 2, "risk_tol": STEP_RISK_TOL, "move_tol": STEP_MOVE_TOL}
    return {"task": repr(task), "task_description": describe() if describe else repr(task),
            "N": N, "M": M, "alpha": alpha, "T": T, "h": h,
            "method": get_method(method).name, "batch_size": batch_size, "train_a": train_a,
            "init": vars(init) if hasattr(init, "__dict__") else repr(init), "seed": seed,
            "schedule": None if schedule is None else repr(schedule),
            "check_step": check, "version": __version__}


def _cloud(a, W):
    return np.concatenate([a[:, None], W], axis=1)


def coupling_distances(sgd: TwoLayerRun, limit: TwoLayerRun, *, w2="auto", seed=0):
    """Distances between matching snapshots of two trajectories of N particles.

    Returns ``(max_dist, mean_dist, risk_gap, w2, w2_exact)``; ``w2`` is
    'auto', 'exact', 'sliced' (see :func:`meanfield.transport.wasserstein2`)
    or 'none' (NaN, skipped).

    References
    ----------
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, proof of Theorem 1: SGD
    against its coupled ideal particles.
    Mei, Misiakiewicz & Montanari, "Mean-field theory of two-layers neural networks:
    dimension-free bounds and kernel limit", COLT 2019, Theorem 1.
    """
    if sgd.a.shape != limit.a.shape:
        raise ValueError(f"sgd and limit must hold the same snapshots of the same N, got "
                         f"{sgd.a.shape} and {limit.a.shape}")
    if not np.allclose(sgd.times, limit.times, rtol=1e-9, atol=1e-12):
        raise ValueError("sgd and limit snapshots are at different times")
    dist = np.sqrt((sgd.a - limit.a) ** 2 + ((sgd.W - limit.W) ** 2).sum(axis=2))
    if w2 == "none":
        w2v, exact = np.full(len(sgd.times), np.nan), False
    else:
        w = [wasserstein2(_cloud(sgd.a[s], sgd.W[s]), _cloud(limit.a[s], limit.W[s]),
                          method=w2, seed=seed) for s in range(len(sgd.times))]
        w2v, exact = np.array([x.value for x in w]), all(x.exact for x in w)
    return dist.max(axis=1), dist.mean(axis=1), np.abs(sgd.risk - limit.risk), w2v, exact


#: Tolerances of a resolved step (docs/validation.md, "The limit's step on real data"):
#: halving h changes R(rho_t) by at most STEP_RISK_TOL and moves no tagged particle by
#: more than STEP_MOVE_TOL, at any snapshot.
STEP_RISK_TOL, STEP_MOVE_TOL = 1e-3, 1e-2

#: The population of :func:`run_coupled`'s step check: the first CHECK_REFERENCES
#: reference particles and the first CHECK_TAGGED tagged ones (the step's error is set
#: by the dynamics' time scales, not by M, so a small sample of the same law shows it
#: at a small part of the run's cost).
CHECK_REFERENCES, CHECK_TAGGED = 500, 100


def halving_check(net, task, times, tagged, h, prev=None, **kwargs):
    """The limit at ``h`` (``prev``, when already run) against the limit at ``h / 2``.

    Returns ``(risk_change, move, half)``: per snapshot, the change of :math:`R(\rho_t)`
    and the largest move of a tagged particle (``(a, w)``, Euclidean), and the run at
    ``h / 2``.  The two runs are coupled like SGD and its limit
    (:func:`coupling_distances`).  ``kwargs``: further arguments of :func:`run_limit`.
    """
    kwargs = {"method": "rk4", **kwargs}
    if prev is None:
        prev = run_limit(net, task, times, tagged, h=h, **kwargs)
    half = run_limit(net, task, times, tagged, h=h / 2, **kwargs)
    move, _, risk_change, _, _ = coupling_distances(prev, half, w2="none")
    return risk_change, move, half


def resolved_step(net, task, times, tagged, h=0.1, risk_tol=STEP_RISK_TOL,
                  move_tol=STEP_MOVE_TOL, max_halvings=8, **kwargs):
    r"""The RK4 step at which the particle limit is resolved, by step halving.

    Runs :func:`run_limit` at ``h``, ``h / 2``, ... and returns the first step whose
    half changes :math:`R(\rho_t)` at every snapshot by at most ``risk_tol`` and moves
    no tagged particle (``(a, w)`` in the Euclidean norm, at any snapshot) by more
    than ``move_tol``.  A step fit for one data law can be far too coarse for another:
    standardised pixels have :math:`|x|^2 = d`, so the field's fast modes scale
    with d.

    Parameters
    ----------
    net, task, times, tagged
        As in :func:`run_limit` (``tagged`` required: the coupling's particles).
    h : float
        The first step tried.
    risk_tol, move_tol : float
        The tolerances above.
    max_halvings : int
        Halvings tried before giving up.
    **kwargs
        Further arguments of :func:`run_limit` (``progress`` is off).

    Returns
    -------
    h : float
        The step.
    checks : list of dict
        One per comparison: ``h``, ``risk_change`` and ``move`` against ``h / 2``.

    Raises
    ------
    ValueError
        When no step down to ``h / 2**max_halvings`` is resolved (the checks are in
        the message), or for a step or tolerance <= 0 or ``max_halvings`` < 1 (named).

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (12)-(13) (the dynamics integrated).
    """
    h = _checks.positive("h", h)
    risk_tol, move_tol = _checks.positive("risk_tol", risk_tol), _checks.positive("move_tol",
                                                                                  move_tol)
    max_halvings = _checks.positive_int("max_halvings", max_halvings)
    kwargs = {"method": "rk4", **kwargs, "progress": False}
    prev = run_limit(net, task, times, tagged, h=h, **kwargs)
    checks = []
    for _ in range(max_halvings):
        risk_change, move, half = halving_check(net, task, times, tagged, h, prev, **kwargs)
        checks.append({"h": h, "risk_change": float(risk_change.max()),
                       "move": float(move.max())})
        if step_within(checks[-1]["risk_change"], checks[-1]["move"], risk_tol, move_tol):
            return h, checks
        h, prev = h / 2, half
    raise ValueError(f"the limit is not resolved down to h = {h:g} (risk_tol = {risk_tol:g}, "
                     f"move_tol = {move_tol:g}): {checks}")


def run_coupled(task, N, alpha, T, *, M=None, init=None, n_snapshots=21, h=0.05, method="rk4",
                batch_size=1, schedule=None, train_a=True, seed=0, w2="auto", progress=True,
                check_step=True):
    r"""Run SGD with N neurons and its coupled ideal particles to time T.

    SGD (eq. (3.3) of Shevchenko & Mondelli) and the ideal particles of the
    distributional dynamics start from the same weights :math:`\theta_i^0`;
    at each snapshot :math:`t = k\alpha` the result holds

    .. math::

        \max_{i \le N} \lVert \theta_i^k - \bar\theta_i(t) \rVert, \qquad
        \lvert L_N(\theta^k) - R(\rho_t) \rvert,

        W_2\Big(\frac1N \sum_i \delta_{\theta_i^k},\,
                 \frac1N \sum_i \delta_{\bar\theta_i(t)}\Big),

    the first two :math:`O\big(N^{-1/2} + \sqrt{\alpha\,(D + \log N)}\big)`
    by Theorem 1 of Mei, Misiakiewicz & Montanari.

    Parameters
    ----------
    task : DataLaw
        The data law, with its exact population risk (e.g.
        :func:`meanfield.tasks.teacher_student`, or
        :class:`meanfield.tasks.EmpiricalTask` for a data set).
    N : int
        Neurons of the SGD network (and tagged particles).
    alpha : float
        SGD step size; SGD takes ``round(T / alpha)`` steps.
    T : float
        Horizon.
    M : int, optional
        Reference population for :math:`\rho_t` (default ``max(4 N, 2000)``).
    init : InitialLaw, optional
        :math:`\rho_0` (default ``InitialLaw()``).
    n_snapshots : int
        Snapshots at ``k_j alpha``, ``k_j = round(j T / ((n_snapshots - 1) alpha))``;
        the limit is integrated to exactly these times.
    h : float
        Time step of the limit's integrator.
    method : {'rk4', 'heun', 'euler'}
        The limit's integrator (:func:`meanfield.stepping.get_method`).
    batch_size : int
        SGD mini-batch size (as in :class:`TwoLayerSGD`).
    schedule : callable, optional
        The step-size schedule :math:`\xi(t)`, for both sides (default 1).
    train_a : bool
        Whether the output weights move, on both sides (default True).
    seed : int
        One seed for everything: SGD's initial weights (shared with the
        tagged particles), the reference population and SGD's data stream
        come from independent children of it.  Runs of one seed at several
        N share their reference population's stream: fit rates across N
        with ``units=seed`` (:func:`meanfield.analysis.loglog_fit`).
    w2 : {'auto', 'exact', 'sliced', 'none'}
        How W2 is computed (see :func:`meanfield.transport.wasserstein2`);
        ``'none'`` skips it (the column is NaN).
    progress : bool
        Progress bars.
    check_step : bool
        Check the limit's step ``h`` (default): the limit of the first
        ``CHECK_REFERENCES`` reference and ``CHECK_TAGGED`` tagged particles is run at
        ``h`` and at ``h / 2`` (:func:`halving_check`), and the result holds, per
        snapshot, the change of :math:`R(\rho_t)` and the largest move of a tagged
        particle; ``summary()['step_resolved']`` says whether both are within
        STEP_RISK_TOL and STEP_MOVE_TOL.  A step fine for a Gaussian task can be far
        too coarse on a data set (standardised pixels have :math:`|x|^2 = d`): on
        two-class Fashion-MNIST h = 0.05 moved particles by 0.49.  The check leaves
        the run's own numbers as they are.

    Returns
    -------
    CoupledResult
        The two trajectories and, per snapshot, ``max_dist``, ``mean_dist``,
        ``risk_gap`` and ``w2`` (and the step check's ``step_risk_change`` and
        ``step_move``); ``.to_frame()`` is the table that ``meanfield couple``
        writes to ``results.csv``, ``.summary()`` their suprema.

    Examples
    --------
    >>> import meanfield as mf
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> res = mf.run_coupled(task, N=50, alpha=1 / 50, T=0.5, M=200, n_snapshots=3,
    ...                      w2="none", progress=False)
    >>> res.to_frame()[["t", "step", "risk_gap", "max_dist"]].round(3).shape
    (3, 4)
    >>> s = res.summary()
    >>> bool(0 < s["sup_max_dist"] < 1), s["N"], s["M"]
    (True, 50, 200)

    References
    ----------
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, proof of Theorem 1 (ideal
    particles sharing theta_i^0).
    Mei, Misiakiewicz & Montanari, COLT 2019, Theorem 1 (coupling bound).
    """
    check_task(task)
    N = _checks.positive_int("N", N)
    alpha = _checks.positive("alpha", alpha)
    T = _checks.positive("T", T)
    M = max(4 * N, 2000) if M is None else _checks.positive_int("M", M)
    n_snapshots = _checks.positive_int("n_snapshots", n_snapshots)
    if n_snapshots < 2:
        raise ValueError(f"n_snapshots must be >= 2, got {n_snapshots}")
    if round(T / alpha) < 1:
        raise ValueError(f"alpha must be <= T (at least one SGD step), got alpha={alpha}, T={T}")
    init = InitialLaw() if init is None else init
    seed = _checks.nonneg_int("seed", seed)
    r_init, r_ref, r_sgd = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    a0, W0 = init.sample(N, task.d, r_init)
    a_ref, W_ref = init.sample(M, task.d, r_ref)
    steps = np.round(np.linspace(0.0, T, n_snapshots) / alpha).astype(np.int64)
    times = steps * alpha
    sgd = run_sgd((a0, W0), task, alpha, times, batch_size=batch_size, schedule=schedule,
                  train_a=train_a, rng=r_sgd, progress=progress)
    lim = run_limit((a_ref, W_ref), task, times, (a0, W0), h=h, method=method, schedule=schedule,
                    train_a=train_a, progress=progress)
    lim.times = sgd.times.copy()  # equal up to round-off; keep one clock
    config = coupled_config(task, N, M, alpha, T, h=h, method=method, batch_size=batch_size,
                            train_a=train_a, init=init, seed=seed, schedule=schedule,
                            check_step=check_step)
    res = CoupledResult(sgd, lim, *coupling_distances(sgd, lim, w2=w2, seed=seed),
                        config=config)
    if check_step:
        m, k = config["check_step"]["references"], config["check_step"]["tagged"]
        reuse = (m, k) == (M, N)  # the run itself is the check's run at h
        if progress:  # its bars name only the limit: say what they are for
            at = (f"h / 2 = {h / 2:g} (at h: the run's own)" if reuse
                  else f"h = {h:g} and h / 2 = {h / 2:g}")
            print(f"step check: the limit of {m} reference and {k} tagged particles at {at}",
                  file=sys.stderr, flush=True)
        res.step_risk_change, res.step_move, _ = halving_check(
            (a_ref[:m], W_ref[:m]), task, times, (a0[:k], W0[:k]), h,
            prev=lim if reuse else None, method=method, schedule=schedule,
            train_a=train_a, progress=progress)
    return res


@dataclass(frozen=True)
class CoupleSettings:
    """Settings of one coupled run (``meanfield couple``, sweep experiment ``couple``).

    Each field carries its help text (:func:`meanfield._settings.setting`):
    the command line's flags, ``meanfield sweep --list couple`` and the checks
    of a sweep config are made from these fields.  ``alpha = None`` is the step
    ``1 / N`` and ``M = None`` the reference population ``max(4 N, 2000)`` of
    :func:`run_coupled` (:attr:`step`, :attr:`references`).

    References
    ----------
    Shevchenko & Mondelli, ICML 2020, eq. (3.3) (SGD) and the proof of Theorem 1
    (the coupled ideal particles); Mei, Misiakiewicz & Montanari, COLT 2019,
    Theorem 1.
    """

    task: str = setting("teacher-student", "teacher-student | isotropic | " + DATA_TASKS_HELP)
    d: int = setting(20, "input dimension (a data task's must be its data's: the command line "
                         "fills it in)")
    activation: str = setting("relu", "student activation: relu, erf, tanh, sigmoid, softplus, "
                                      "ramp")
    width: int = setting(4, "teacher width (teacher-student)")
    delta: float = setting(0.5, "class separation (isotropic), in [0, 1)")
    noise_std: float = setting(0.0, "label noise standard deviation (teacher-student)")
    N: int = setting(500, "neurons of the SGD network")
    M: int | None = setting(None, "reference particles carrying rho_t (default max(4 N, 2000), "
                                  "as run_coupled)", kind=int)
    alpha: float | None = setting(None, "SGD step size (default 1/N)", kind=float)
    T: float = setting(2.0, "horizon t = k alpha")
    h: float = setting(0.05, "limit time step")
    method: str = setting("rk4", "limit integrator: euler, heun, rk4")
    batch_size: int = setting(1, "SGD mini-batch size")
    train_a: bool = setting(True, "train the output weights a (default; --no-train-a keeps "
                                  "them at their initial values)")
    snapshots: int = setting(21, "number of snapshots in [0, T]")
    a_mean: float = setting(0.0, "initial a ~ N(a_mean, a_std^2)")
    a_std: float = setting(1.0, "initial a ~ N(a_mean, a_std^2)")
    w_std: float = setting(1.0, "initial w ~ N(0, w_std^2 / d I)")
    seed: int = setting(0, "seed for weights, population and data")
    # where the pair sums run; a setting of the cell, so the runner runs it where asked.
    # Added after cells were stored: at None a cell keeps its id
    device: str | None = setting(None, "run the pair sums (the limit's field, exact risks) "
                                       "with torch on this device: auto, cpu, cuda or cuda:K; "
                                       "relu, erf and ramp students on a Gaussian task, any "
                                       "on a data set's (its field sums; default: the numba "
                                       "kernels)", kind=str, added=True)
    # the content of an .npz task's file: in the cell's name, so that a changed file is a
    # new cell (and is refused where the old one's cells are stored). Added after cells
    # were stored: at None (every Gaussian or data-set task) a cell keeps its id
    data_sha256: str | None = setting(None, "sha256 of the .npz file that task names (meanfield "
                                            "couple --data fills it in; required for a file, "
                                            "checked against it before the cell runs)",
                                      kind=str, added=True)

    # Added after cells were stored: at True a cell keeps its id (a cell stored before
    # it has no step check columns; the run's own columns are the same)
    check_step: bool = setting(True, f"check the limit's step: run the limit of "
                                     f"{CHECK_REFERENCES} reference and {CHECK_TAGGED} tagged "
                                     f"particles at h and h / 2 and say whether halving h "
                                     f"changes R(rho_t) by more than {STEP_RISK_TOL:g} or "
                                     f"moves a particle by more than {STEP_MOVE_TOL:g} "
                                     f"(default; --no-check-step skips it)", added=True)

    @property
    def step(self) -> float:
        """The SGD step: ``alpha``, or ``1 / N`` when it is None."""
        return 1.0 / self.N if self.alpha is None else self.alpha

    @property
    def references(self) -> int:
        """The reference particles: ``M``, or ``max(4 N, 2000)`` when it is None."""
        return max(4 * self.N, 2000) if self.M is None else self.M

    def check(self):
        """Raise ValueError naming the first bad setting and its valid range; returns self.

        Runs nothing and builds nothing: sizes that would not end or not fit in
        memory are said here, before any step.  The task's settings are checked as
        values (the activation by name), not by building the task: a teacher of the
        largest width sums 10^8 teacher pairs for its second moment, seconds of work.
        """
        self.setup(_build=False)
        return self

    def setup(self, law=None, *, _build=True):
        """``(task, N, alpha, T, kwargs)`` of :func:`run_coupled`, once the settings are
        checked (see :meth:`check`).

        A ``task`` that names a data set or an ``.npz`` file is built here, in the cell
        (:func:`meanfield.tasks.data_law`; a file must still have the ``data_sha256``
        the settings record); its dimension replaces ``d``.

        ``law``: a data law (:class:`~meanfield.tasks.protocol.DataLaw`, e.g. an
        :class:`~meanfield.tasks.EmpiricalTask`) to run on instead of the task that
        ``task`` names; its dimension replaces ``d`` (the other task settings are
        still checked: a bad value is a typo either way).

        ``device`` is checked here and used by the runner, which moves the task's pair
        sums there (``meanfield.torch.pairs.on_device``: this package imports no torch).
        """
        from ..activations import get_activation
        from ..stepping import get_method
        from ..tasks import isotropic_gaussians, teacher_student

        check_types(self)
        if law is not None:  # runs on the law given: task only names it
            law, data = check_task(law), True
            check_data_sha256(self.task, self.data_sha256)
        else:
            data = check_task_setting(self.task, self.data_sha256)
        if self.device is not None:
            _checks.device(self.device)
        if not data:
            _checks.positive_int("d", self.d)
        _checks.positive_int("width", self.width)
        _checks.at_most("width", self.width, _checks.MAX_TEACHER_WIDTH,
                        "the task sums width^2 teacher pairs when it is built")
        N = _checks.positive_int("N", self.N)
        alpha = 1.0 / N if self.alpha is None else _checks.positive("alpha", self.alpha)
        T = _checks.positive("T", self.T)
        if alpha > T:
            raise ValueError(f"alpha must be <= T (at least one SGD step), got alpha={alpha}, "
                             f"T={T}")
        if _checks.positive_int("snapshots", self.snapshots) < 2:
            raise ValueError(f"snapshots must be >= 2, got {self.snapshots}")
        M = max(4 * N, 2000) if self.M is None else _checks.positive_int("M", self.M)
        _checks.positive("h", self.h)
        # both tasks' settings, whichever is built: a bad value is a typo either way
        if not 0 <= self.delta < 1:
            raise ValueError(f"delta must lie in [0, 1), got {self.delta}")
        _checks.nonneg("noise_std", self.noise_std)
        _checks.positive_int("batch_size", self.batch_size)
        _checks.nonneg_int("seed", self.seed)
        get_method(self.method)
        _checks.at_most("T / alpha (SGD steps)", T / alpha, _checks.MAX_STEPS,
                        "steps of one run")
        _checks.at_most("T / h (limit steps)", T / self.h, _checks.MAX_STEPS, "steps of one run")
        if law is None and data:  # read once the cheap checks pass: it may take seconds
            law = data_law(self.task, self.activation, self.data_sha256)
            check_data_dimension(self.task, self.d, law)  # the stored table's d is the data's
        d = self.d if law is None else law.d
        # the snapshots of both clouds, each neuron (a, w): checked before the task is built
        _checks.fits_in_memory("the snapshots", (N + M) * (d + 1) * self.snapshots,
                               "N, M, d or snapshots")
        _checks.fits_in_memory("the teacher", d * self.width, "d or width")
        get_activation(self.activation)  # the one check of building the task left
        if law is not None:
            task = law
        elif not _build:  # check(): every check above and below, nothing built
            task = None
        elif self.task == "teacher-student":
            task = teacher_student(self.d, self.activation, width=self.width,
                                   noise_std=self.noise_std)
        else:
            task = isotropic_gaussians(self.d, self.delta, self.activation)
        init = InitialLaw(self.a_mean, self.a_std, self.w_std)
        kwargs = dict(M=M, init=init, n_snapshots=self.snapshots, h=self.h, method=self.method,
                      batch_size=self.batch_size, train_a=self.train_a, seed=self.seed,
                      check_step=self.check_step)
        return task, N, alpha, T, kwargs


def measure(sgd, limit, *, w2="auto", seed=0):
    """Deprecated name of :func:`coupling_distances` (removed in 0.3)."""
    import warnings

    warnings.warn("meanfield.twolayer.measure is deprecated: use coupling_distances",
                  DeprecationWarning, stacklevel=2)
    return coupling_distances(sgd, limit, w2=w2, seed=seed)
