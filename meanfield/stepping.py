"""Steppers and the one driver that runs them (the shape of scipy's solve_ivp).

A :class:`Stepper` owns a state and advances it; :func:`simulate` owns the
snapshot schedule, the progress bar, divergence handling and the
:class:`Trajectory` it returns.  SGD (:class:`meanfield.twolayer.SGD`) and the
particle limit (:class:`meanfield.twolayer.ParticleLimit`) implement the same
contract, so adding an integrator is adding a class.

Explicit Runge-Kutta tableaux for the limit live here too.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

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
    partial : Trajectory or None
        Every snapshot taken before the divergence.
    """

    def __init__(self, step, time, partial=None):
        self.step = int(step)
        self.time = float(time)
        self.partial = partial
        super().__init__(f"non-finite weights or loss at step {self.step} (t = {self.time:.6g}); "
                         f"{0 if partial is None else len(partial.times)} snapshots kept in "
                         f".partial")


class Stepper(ABC):
    """Contract for anything :func:`simulate` can drive.

    Subclasses keep ``self.time`` and ``self.step_count`` current and
    implement :meth:`plan`, :meth:`advance`, :meth:`snapshot` and :meth:`risk`.
    """

    time: float = 0.0
    step_count: int = 0

    @abstractmethod
    def plan(self, t_target: float) -> int:
        """Prepare to reach ``t_target``; return the number of steps it takes."""

    @abstractmethod
    def advance(self, n: int) -> None:
        """Take ``n`` planned steps; raise DivergenceError(step, time) on a
        non-finite result, leaving the state at the last finite step."""

    @abstractmethod
    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the tracked ``(a, W)``."""

    @abstractmethod
    def risk(self) -> float:
        """Exact population risk of the current state."""


@dataclass
class Trajectory:
    """Snapshots of a run: times, step counts, weights and exact risk."""

    times: np.ndarray
    steps: np.ndarray
    a: np.ndarray
    W: np.ndarray
    risk: np.ndarray
    config: dict = field(default_factory=dict)


def _collect(rows, config):
    if not rows:
        return Trajectory(np.empty(0), np.empty(0, int), np.empty((0, 0)), np.empty((0, 0, 0)),
                          np.empty(0), config)
    t, k, a, W, r = zip(*rows)
    return Trajectory(np.array(t), np.array(k), np.stack(a), np.stack(W), np.array(r), config)


def simulate(stepper: Stepper, times, *, progress=True, desc=None, config=None,
             chunk_steps=None) -> Trajectory:
    """Run ``stepper`` through ``times`` and snapshot at each.

    Parameters
    ----------
    stepper : Stepper
    times : array_like
        Non-decreasing snapshot times, all >= the stepper's current time.
    progress : bool
        Show a tqdm bar (in units of time).
    chunk_steps : int, optional
        Steps per :meth:`Stepper.advance` call (progress granularity).
        Results do not depend on it.

    Raises
    ------
    DivergenceError
        With ``.partial`` holding the snapshots taken so far.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
        raise ValueError(f"times must be a non-empty 1-D array of finite numbers, got {times!r}")
    if np.any(np.diff(times) < 0) or times[0] < stepper.time - 1e-12:
        raise ValueError(f"times must be non-decreasing and >= {stepper.time}, got {times}")
    config = dict(config or {})
    rows = []
    t_start = stepper.time
    bar = None
    try:
        for t in times:
            n = stepper.plan(float(t))
            step = chunk_steps or max(1, n // 50)
            if bar is None and n > 0:
                # One step before the bar starts its clock: on a first run it
                # compiles the kernels, and a bar would extrapolate that to its ETA.
                t0 = stepper.time
                with compile_notice(desc or "meanfield", enabled=progress):
                    try:
                        stepper.advance(1)
                    except DivergenceError as err:
                        raise DivergenceError(err.step, err.time, _collect(rows, config)) \
                            from None
                n -= 1
                bar = tqdm(total=float(times[-1] - t_start), disable=not progress, desc=desc,
                           unit="t", initial=float(stepper.time - t_start),
                           bar_format="{l_bar}{bar}| {n:.3g}/{total:.3g} "
                                      "[{elapsed}<{remaining}]")
            while n > 0:
                m = min(n, step)
                t0 = stepper.time
                try:
                    stepper.advance(m)
                except DivergenceError as err:
                    raise DivergenceError(err.step, err.time, _collect(rows, config)) from None
                bar.update(stepper.time - t0)
                n -= m
            a, W = stepper.snapshot()
            with np.errstate(over="ignore", invalid="ignore"), compile_notice(
                    desc or "meanfield", enabled=progress and bar is None):
                risk = stepper.risk()
            if not np.isfinite(risk):  # finite but huge weights: the loss overflowed
                raise DivergenceError(stepper.step_count, stepper.time, _collect(rows, config))
            rows.append((stepper.time, stepper.step_count, a, W, risk))
    finally:
        if bar is not None:
            bar.close()
    return _collect(rows, config)


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
