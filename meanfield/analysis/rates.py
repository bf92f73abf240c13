"""Log-log rate fits with bootstrap confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks


@dataclass(frozen=True)
class RateFit:
    """``y ~ C x^slope`` fitted by least squares on ``(log x, log y)``."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    level: float
    n_boot: int

    def predict(self, x):
        return np.exp(self.intercept) * np.asarray(x, dtype=float) ** self.slope

    def __str__(self):
        return (f"slope {self.slope:+.3f} [{self.ci_low:+.3f}, {self.ci_high:+.3f}] "
                f"({100 * self.level:.0f}% bootstrap)")


def _ols(lx, ly):
    A = np.stack([lx, np.ones_like(lx)], axis=1)
    return np.linalg.lstsq(A, ly, rcond=None)[0]


def _percentile_interval(draw, n_boot, level, seed):
    """Percentile bootstrap interval of the statistic ``draw(rng)`` returns for one
    resample; NaN statistics are left out."""
    n_boot = _checks.positive_int("n_boot", n_boot)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    boots = np.array([draw(rng) for _ in range(n_boot)])
    lo, hi = np.nanquantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _stratified_interval(groups, stat, n_boot, level, seed):
    """Percentile bootstrap interval of ``stat(groups)``, resampling runs within each group.

    The groups are the runs at one design point (one N): exchangeable seeds,
    while the design itself stays fixed.
    """
    return _percentile_interval(lambda rng: stat([rng.choice(g, size=g.size) for g in groups]),
                                n_boot, level, seed)


def _joint_interval(groups, units, stat, n_boot, level, seed):
    """Percentile bootstrap interval of ``stat(groups)``, resampling units across all groups.

    A unit (a seed whose reference run serves every design point) is drawn
    with all its runs at once, so runs that share it stay together.
    """
    names = np.unique(units)
    by_unit = [{u: g[units[g] == u] for u in names} for g in groups]

    def draw(rng):
        drawn = rng.choice(names, size=names.size)
        return stat([np.concatenate([m[u] for u in drawn]) for m in by_unit])

    return _percentile_interval(draw, n_boot, level, seed)


def loglog_fit(x, y, *, on="runs", units=None, n_boot=2000, level=0.95, seed=0) -> RateFit:
    """Fit ``log y = intercept + slope log x``.

    The interval is a percentile bootstrap that resamples runs within each
    distinct x (seeds at one N are exchangeable; the design in N is fixed),
    or, with ``units``, resamples the units jointly across x.

    Parameters
    ----------
    x, y : array_like
        One entry per run; x > 0 with at least two distinct values.
    on : {"runs", "means", "auto"}
        ``"runs"`` fits every run (y > 0 required); ``"means"`` fits the mean
        of y at each x, which admits runs with y = 0 (a barrier that did not
        appear) and estimates the rate of ``E y`` rather than of the
        geometric mean (the two agree when the law of ``y / E y`` does not
        change with x); ``"auto"`` is ``"runs"`` when every y > 0, else
        ``"means"``.
    units : array_like, optional
        The independent unit of each run, when runs at different x are not
        independent: e.g. the seed of a reference population that serves
        every N.  The bootstrap then draws units with replacement, each with
        all its runs at every x, instead of runs within each x.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if on not in ("runs", "means", "auto"):
        raise ValueError(f"on must be 'runs', 'means' or 'auto', got {on!r}")
    if on == "auto":
        on = "runs" if np.all(y > 0) else "means"
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must have the same length >= 2, got {x.size} and {y.size}")
    if not np.all(np.isfinite(x * y)) or np.any(x <= 0):
        raise ValueError("x must be finite and > 0, y finite, for a log-log fit")
    if on == "runs" and np.any(y <= 0):
        raise ValueError("y must be > 0 for a log-log fit of runs (use on='means' when some "
                         "runs are exactly 0)")
    if on == "means" and np.any(y < 0):
        raise ValueError("y must be >= 0 for a log-log fit of means")
    xs = np.unique(x)
    if xs.size < 2:
        raise ValueError("x needs at least two distinct values")
    groups = [np.flatnonzero(x == v) for v in xs]

    def fit(idx_groups):
        if on == "runs":
            idx = np.concatenate(idx_groups)
            return _ols(np.log(x[idx]), np.log(y[idx]))
        means = np.array([y[g].mean() for g in idx_groups])
        if np.any(means <= 0):
            return np.array([np.nan, np.nan])
        return _ols(np.log(xs), np.log(means))

    slope, icpt = fit(groups)
    if not np.isfinite(slope):
        raise ValueError("the mean of y is 0 at some x; no log-log fit")
    if units is None:
        lo, hi = _stratified_interval(groups, lambda gs: fit(gs)[0], n_boot, level, seed)
    else:
        units = np.asarray(units).ravel()
        if units.shape != x.shape:
            raise ValueError(f"units must have one entry per run ({x.size}), got {units.size}")
        lo, hi = _joint_interval(groups, units, lambda gs: fit(gs)[0], n_boot, level, seed)
    return RateFit(float(slope), float(icpt), lo, hi, level, int(n_boot))


@dataclass(frozen=True)
class Extrapolation:
    """``y(N) ~ y_inf + c N^(-power)`` fitted by least squares, with a bootstrap interval.

    This is an extrapolation in N from finite runs, not the limit itself; say
    so wherever ``y_inf`` is shown.
    """

    y_inf: float
    c: float
    ci_low: float
    ci_high: float
    power: float
    level: float

    def predict(self, N):
        return self.y_inf + self.c * np.asarray(N, dtype=float) ** (-self.power)

    def __str__(self):
        return (f"extrapolated N -> inf: {self.y_inf:.5g} [{self.ci_low:.5g}, {self.ci_high:.5g}] "
                f"(fit y_inf + c N^-{self.power:g}, {100 * self.level:.0f}% bootstrap)")


def extrapolate(N, y, *, power=0.5, n_boot=2000, level=0.95, seed=0) -> Extrapolation:
    """Fit ``y = y_inf + c N^(-power)`` to runs (several per N) and bootstrap ``y_inf``.

    The bootstrap resamples runs within each N, as :func:`loglog_fit` does.
    Used for the multilayer risk, whose exact limit (Araújo et al.) is not
    implemented: a large-N reference plus this extrapolation stands in for it.
    """
    N = np.asarray(N, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if N.shape != y.shape or not np.all(np.isfinite(N * y)) or np.any(N <= 0):
        raise ValueError("N and y must be finite arrays of the same length, N > 0")
    Ns = np.unique(N)
    if Ns.size < 2:
        raise ValueError("N needs at least two distinct values")
    power = _checks.positive("power", power)
    groups = [np.flatnonzero(N == v) for v in Ns]

    def fit(idx):
        c, y_inf = _ols(N[idx] ** (-power), y[idx])
        return y_inf, c

    y_inf, c = fit(np.arange(N.size))
    lo, hi = _stratified_interval(groups, lambda gs: fit(np.concatenate(gs))[0], n_boot, level,
                                  seed)
    return Extrapolation(float(y_inf), float(c), lo, hi, power, level)


def ratio_interval(a, b, n_boot=2000, seed=0, level=0.95):
    """Ratio of means ``mean(a) / mean(b)`` with a percentile bootstrap interval.

    ``a`` and ``b`` are independent samples (e.g. ``eps_D`` of networks
    trained independently at two input dimensions): each bootstrap draw
    resamples ``a`` and ``b`` with replacement, independently of each other,
    and takes the ratio of the resampled means.

    Parameters
    ----------
    a, b : array_like
        Finite values, at least one each; ``mean(b)`` must not be 0.
    n_boot : int
        Bootstrap draws.
    seed : int
        Seed of the bootstrap.
    level : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    (float, [float, float])
        The ratio of the means and the ``level`` percentile interval (draws
        whose resampled ``b`` has mean 0 are left out).
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.size == 0 or b.size == 0 or not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        raise ValueError(f"a and b must be non-empty and finite, got sizes {a.size} and {b.size}")
    if b.mean() == 0:
        raise ValueError("mean(b) is 0: the ratio is undefined")

    def draw(rng):
        ma, mb = rng.choice(a, a.size).mean(), rng.choice(b, b.size).mean()
        return ma / mb if mb != 0 else np.nan

    return float(a.mean() / b.mean()), list(_percentile_interval(draw, n_boot, level, seed))
