"""Steppers and the one driver that runs them (the shape of scipy's solve_ivp).

A :class:`Stepper` owns a state and advances it; :func:`simulate` owns the
snapshot schedule, the progress bar, divergence handling (with the snapshots
taken so far in ``DivergenceError.partial``) and the result it returns: a
:class:`TwoLayerRun` for the two-layer steppers, or whatever a ``collect``
function builds from the snapshot :class:`Row` s.  Everything that steps in
time implements the contract: two-layer SGD (:class:`meanfield.twolayer.TwoLayerSGD`),
the particle limit (:class:`meanfield.twolayer.ParticleLimit`), multilayer SGD
(:class:`meanfield.multilayer.sgd.MultilayerSGD`), the radial PDE
(:class:`meanfield.pde.radial.RadialFlow`), full-batch GD of the lazy regime
(:class:`meanfield.lazy.networks.GradientDescent`) and torch SGD
(:class:`meanfield.torch.train.TorchSGD`); adding an integrator is adding a
class.  A stepper keeps its state between calls, so calling :func:`simulate`
again with later times resumes the run.

Explicit Runge-Kutta tableaux for the limit live here too.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm


class DivergenceError(FloatingPointError):
    """Non-finite weights or loss.

    Attributes
    ----------
    step : int
        Index of the first step whose result was not finite.
    time : float
        Time before that step.
    partial : TwoLayerRun or None
        Every snapshot taken before the divergence.
    """

    def __init__(self, step, time, partial=None):
        self.step = int(step)
        self.time = float(time)
        self.partial = partial
        super().__init__(f"non-finite weights or loss at step {self.step} (t = {self.time:.6g}); "
                         f"{0 if partial is None else len(partial.times)} snapshots kept in "
                         f".partial")

    def __reduce__(self):  # from a Dask worker: rebuilt from its fields, not its message
        return type(self), (self.step, self.time, self.partial)

    def partial_table(self):
        """The snapshots taken before the divergence: a DataFrame of ``t``, ``step`` and
        ``risk`` (no rows without them).  The runner stores it beside the failed cell."""
        import pandas as pd

        p = self.partial
        if p is None:
            return pd.DataFrame({"t": [], "step": [], "risk": []})
        return pd.DataFrame({"t": p.times, "step": p.steps, "risk": p.risk})


class Stepper(ABC):
    """Contract for anything :func:`simulate` can drive.

    Subclasses keep ``self.time`` and ``self.step_count`` current and
    implement :meth:`plan`, :meth:`advance`, :meth:`snapshot` and :meth:`risk`.
    Any of them may raise ``DivergenceError(step, time)``; :func:`simulate`
    attaches the snapshots taken so far.

    Attributes
    ----------
    compiles : bool
        Whether the first step may compile numba kernels: :func:`simulate`
        then says so on stderr when that step is slow.
    """

    time: float = 0.0
    step_count: int = 0
    compiles: bool = True

    @abstractmethod
    def plan(self, t_target: float) -> int:
        """Prepare to reach ``t_target``; return the number of steps it takes."""

    @abstractmethod
    def advance(self, n: int) -> None:
        """Take ``n`` planned steps; raise DivergenceError(step, time) on a
        non-finite result, leaving the state at the last finite step where the
        stepper checks every step (one that checks less often names the first
        step after its last passed check)."""

    @abstractmethod
    def snapshot(self) -> Any:
        """A copy of the tracked state: ``(a, W)`` for the two-layer steppers
        (what the default :class:`TwoLayerRun` expects), any object otherwise."""

    @abstractmethod
    def risk(self) -> Any:
        """Population risk of the current state.

        A number, a tuple whose first entry is the risk (e.g. with its Monte
        Carlo standard error), or None for a stepper without one.  A risk
        that is not finite makes :func:`simulate` raise DivergenceError.
        """


class GridStepper(Stepper):
    """A :class:`Stepper` whose state moves on the fixed grid ``t_k = k h`` only.

    A snapshot time between grid points is reached by a partial step taken on
    a copy (:meth:`current` returns it until the next grid step), so results
    do not depend on where snapshots are taken.  Subclasses set ``h`` and
    ``state`` and implement :meth:`step`.
    """

    h: float
    state = None
    _full, _rem, _target = 0, 0.0, 0.0
    _off = None  # the state at an off-grid snapshot time

    @abstractmethod
    def step(self, t, dt, partial):
        """The state one step of ``dt`` after time ``t`` (``partial``: the step to an
        off-grid snapshot); ``self.state`` is left as it is."""

    def current(self):
        """The state at the current time: on the grid, or the partial step's."""
        return self.state if self._off is None else self._off

    def plan(self, t_target):
        if t_target < self.time - 1e-12:
            raise ValueError(f"times: {t_target} lies before the current time {self.time}")
        self._target = t_target
        self._full, self._rem = grid_steps(self.step_count, t_target, self.h)
        if self._full == 0 and self._rem == 0:
            self.time = t_target  # the grid point, to 1e-9: report the time asked for
        return self._full + (self._rem > 0)

    def advance(self, n):
        for _ in range(n):
            t = self.step_count * self.h
            if self._full > 0:
                self.state = self.step(t, self.h, False)
                self._off = None
                self._full -= 1
                self.step_count += 1
                self.time = self.step_count * self.h
            elif self._rem > 0:
                self._off = self.step(t, self._rem, True)
                self._rem = 0.0
        if self._full == 0 and self._rem == 0:
            self.time = self._target  # k h to rounding, or the partial step's end


@dataclass
class TwoLayerRun:
    """Snapshots of a two-layer run (SGD or the particle limit): times, step counts, the
    weights ``a`` (snapshots, N) and ``W`` (snapshots, N, d), and the exact risk.

    The two-layer counterpart of :class:`meanfield.multilayer.MultilayerRun` and
    :class:`meanfield.torch.TrainResult`; ``Trajectory`` is its former name.
    """

    times: np.ndarray
    steps: np.ndarray
    a: np.ndarray
    W: np.ndarray
    risk: np.ndarray
    config: dict = field(default_factory=dict)


class Row(NamedTuple):
    """One snapshot taken by :func:`simulate`."""

    time: float
    step: int
    state: Any
    """What :meth:`Stepper.snapshot` returned."""
    risk: Any
    """What :meth:`Stepper.risk` returned."""


def trajectory(rows, config=None) -> TwoLayerRun:
    """The :class:`TwoLayerRun` of snapshot rows whose states are ``(a, W)``."""
    config = dict(config or {})
    if not rows:
        return TwoLayerRun(np.empty(0), np.empty(0, int), np.empty((0, 0)), np.empty((0, 0, 0)),
                          np.empty(0), config)
    t, k, states, r = zip(*rows)
    a, W = zip(*states)
    return TwoLayerRun(np.array(t), np.array(k), np.stack(a), np.stack(W), np.array(r), config)


def check_times(times, start=0.0):
    """``times`` as a float64 array, or ValueError unless it is a non-empty, non-decreasing
    1-D array of finite numbers >= ``start``.

    :func:`simulate` checks its times with it; a runner calls it first too, to
    fail before any costly setup.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
        raise ValueError(f"times must be a non-empty 1-D array of finite numbers, got {times!r}")
    if np.any(np.diff(times) < 0) or times[0] < start - 1e-12:
        raise ValueError(f"times must be non-decreasing and >= {start}, got {times}")
    return times


def _risk_value(risk):
    """The risk judged for divergence: the number itself or a tuple's first entry."""
    return risk[0] if isinstance(risk, tuple) else risk


def simulate(stepper: Stepper, times, *, progress=True, desc=None, config=None,
             chunk_steps=None, collect=None, until=None):
    """Run ``stepper`` through ``times`` and snapshot at each.

    Parameters
    ----------
    stepper : Stepper
    times : array_like
        Non-decreasing snapshot times, all >= the stepper's current time (a
        later call with later times resumes the run).
    progress : bool
        Show one tqdm bar for the run (in units of time).
    desc : str, optional
        The bar's label, and the name in the compile notice.
    config : dict, optional
        Stored in the default :class:`TwoLayerRun`.
    chunk_steps : int, optional
        Steps per :meth:`Stepper.advance` call (progress granularity).
        Results do not depend on it.
    collect : callable, optional
        ``collect(rows) -> result`` from the list of :class:`Row` taken so
        far; builds both the result and ``DivergenceError.partial``.  Default:
        :func:`trajectory` (states ``(a, W)``) with ``config``.
    until : float, optional
        Run on to this time after the last snapshot, without a snapshot there
        (a training run whose last snapshot comes before its end).

    Returns
    -------
    TwoLayerRun or what ``collect`` returns

    Raises
    ------
    DivergenceError
        With ``.partial`` holding the snapshots taken so far.
    """
    times = check_times(times, stepper.time)
    end = float(times[-1] if until is None else max(until, times[-1]))
    if collect is None:
        config = dict(config or {})

        def collect(rows):
            return trajectory(rows, config)
    rows = []
    t_start = stepper.time
    bar = None
    notice = desc or "meanfield"
    # (time, whether to snapshot there)
    targets = [(float(t), True) for t in times] + ([(end, False)] if end > times[-1] else [])
    try:
        for t, snap in targets:
            n = stepper.plan(t)
            step = chunk_steps or max(1, n // 50)
            if bar is None and n > 0:
                # One step before the bar starts its clock: on a first run it
                # compiles the kernels, and a bar would extrapolate that to its ETA.
                with compile_notice(notice, enabled=progress and stepper.compiles):
                    stepper.advance(1)
                n -= 1
                bar = tqdm(total=float(end - t_start), disable=not progress, desc=desc,
                           unit="t", initial=float(stepper.time - t_start),
                           bar_format="{l_bar}{bar}| {n:.3g}/{total:.3g} "
                                      "[{elapsed}<{remaining}]")
            while n > 0:
                m = min(n, step)
                t0 = stepper.time
                stepper.advance(m)
                bar.update(stepper.time - t0)
                n -= m
            if not snap:
                continue
            state = stepper.snapshot()
            with np.errstate(over="ignore", invalid="ignore"), compile_notice(
                    notice, enabled=progress and bar is None and stepper.compiles):
                risk = stepper.risk()
            if risk is not None and not np.isfinite(_risk_value(risk)):
                # finite but huge weights: the loss overflowed
                raise DivergenceError(stepper.step_count, stepper.time)
            rows.append(Row(stepper.time, stepper.step_count, state, risk))
    except DivergenceError as err:
        if err.partial is not None:
            raise
        raise DivergenceError(err.step, err.time, collect(rows)) from None
    finally:
        if bar is not None:
            bar.close()
    return collect(rows)


@contextlib.contextmanager
def compile_notice(desc, delay=1.0, enabled=True):
    """Say "compiling kernels (first run only)" on stderr when the block takes
    longer than ``delay`` seconds: numba compiles on first use, then loads its
    on-disk cache."""
    if not enabled:
        yield
        return
    timer = threading.Timer(delay, lambda: print(
        f"{desc}: compiling kernels (first run only) ...", file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def even_steps(span, h):
    """``(n, dt)``: the fewest equal steps of at most ``h`` that cover ``span`` >= 0
    (``(0, 0.0)`` for an empty span)."""
    n = math.ceil(span / h - 1e-9) if span > 0 else 0
    return n, (span / n if n else 0.0)


def grid_steps(k, target, h):
    """``(n, rem)``: the steps of the fixed grid ``t_j = j h`` from step ``k``
    up to ``target``, and what is left beyond the last grid point (0.0 when
    ``target`` is on the grid, to 1e-9 relative).

    An integrator that always steps on this grid, and reaches an off-grid
    snapshot time by a partial step on a copy of its state, gives results
    that do not depend on where the snapshots are.
    """
    q = target / h
    kt = round(q)
    if abs(q - kt) > 1e-9 * max(1.0, abs(q)):
        kt = math.floor(q)
        rem = target - kt * h
    else:
        rem = 0.0
    return max(0, kt - k), rem


# --- explicit Runge-Kutta ----------------------------------------------------

@dataclass(frozen=True)
class Tableau:
    """Butcher tableau of an explicit Runge-Kutta method of order ``order``."""

    name: str
    order: int
    A: tuple
    b: tuple
    c: tuple


EULER = Tableau("euler", 1, ((),), (1.0,), (0.0,))
HEUN = Tableau("heun", 2, ((), (1.0,)), (0.5, 0.5), (0.0, 1.0))
RK4 = Tableau("rk4", 4, ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
              (1 / 6, 1 / 3, 1 / 3, 1 / 6), (0.0, 0.5, 0.5, 1.0))
METHODS = {t.name: t for t in (EULER, HEUN, RK4)}


def get_method(method) -> Tableau:
    """The Butcher tableau of an explicit Runge-Kutta method.

    Parameters
    ----------
    method : {'euler', 'heun', 'rk4'} or Tableau
        A name (any case) or a tableau, returned as it is.

    Returns
    -------
    Tableau

    Raises
    ------
    ValueError
        For any other name.

    Examples
    --------
    >>> from meanfield.stepping import get_method
    >>> get_method("RK4").name, get_method("rk4").order
    ('rk4', 4)
    """
    if isinstance(method, Tableau):
        return method
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return METHODS[method.lower()]


def rk_step(tab: Tableau, rhs, t, y, h):
    """One explicit RK step for a state that is a tuple of arrays.

    ``rhs(t, y)`` returns a tuple of arrays shaped like ``y``.
    """
    ks = []
    for i, ci in enumerate(tab.c):
        yi = y
        if i:
            yi = tuple(yc + h * sum(aij * k[c] for aij, k in zip(tab.A[i], ks) if aij)
                       for c, yc in enumerate(y))
        ks.append(rhs(t + ci * h, yi))
    return tuple(yc + h * sum(bi * k[c] for bi, k in zip(tab.b, ks))
                 for c, yc in enumerate(y))


#: Old name -> new name (one release, with a DeprecationWarning).
_RENAMED = {"Trajectory": "TwoLayerRun"}


def __getattr__(name):
    from ._deprecation import renamed

    return renamed(__name__, name, _RENAMED, globals())
