"""Log-log rate fits with confidence intervals calibrated at the validation designs.

The default intervals are t-intervals (``method="t"``): ordinary least
squares with its t-interval for runs, a jackknife of the log of each mean
with Welch-Satterthwaite degrees of freedom for means, and a
delete-one-unit jackknife with ``G - 1`` degrees of freedom for runs that
share units across x.  The percentile bootstrap used before
(``method="bootstrap"``) held the true slope in only 82-91% of replicates at
the scripts' designs; ``tests/test_coverage.py`` and docs/validation.md give
the coverage of both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .. import _checks

METHODS = ("t", "bootstrap")


@dataclass(frozen=True)
class RateFit:
    """``y ~ C x^slope`` fitted by least squares on ``(log x, log y)``.

    ``method`` names the interval (``"t"`` or ``"bootstrap"``), ``dof`` its
    degrees of freedom (NaN for the bootstrap), ``n_boot`` the bootstrap's
    draws (0 for a t-interval); ``on`` says what was fitted (``"runs"`` or
    ``"means"``) and ``units`` how many independent units the interval
    counted (0: every run independent).  :meth:`settings` says all of it in
    words, for a figure's legend.
    """

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    level: float
    n_boot: int
    method: str = "bootstrap"
    dof: float = float("nan")
    on: str = "runs"
    units: int = 0

    def predict(self, x):
        return np.exp(self.intercept) * np.asarray(x, dtype=float) ** self.slope

    def settings(self) -> str:
        """How the fit was made, e.g. ``"runs, 95% t (3 dof), 4 units"``."""
        how = "bootstrap" if self.method == "bootstrap" else f"t ({self.dof:.3g} dof)"
        units = f", {self.units} units" if self.units else ", runs independent"
        return f"{self.on}, {100 * self.level:.0f}% {how}{units}"

    def __str__(self):
        how = "bootstrap" if self.method == "bootstrap" else f"t, {self.dof:.3g} dof"
        return (f"slope {self.slope:+.3f} [{self.ci_low:+.3f}, {self.ci_high:+.3f}] "
                f"({100 * self.level:.0f}% {how})")


def _ols(lx, ly):
    A = np.stack([lx, np.ones_like(lx)], axis=1)
    return np.linalg.lstsq(A, ly, rcond=None)[0]


def _line(lx, ly):
    """Least-squares ``(slope, intercept, standard error of the slope)`` of ``ly`` on ``lx``;
    the standard error is :func:`scipy.stats.linregress`'s (``n - 2`` degrees of freedom),
    without its 2 ms of argument handling."""
    xc = lx - lx.mean()
    sxx = xc @ xc
    if sxx == 0:  # one distinct x (a unit left out of a jackknife can leave one)
        return float("nan"), float("nan"), float("nan")
    slope = (xc @ ly) / sxx
    icpt = ly.mean() - slope * lx.mean()
    n = lx.size
    if n < 3:
        return slope, icpt, float("nan")
    res = ly - icpt - slope * lx
    return slope, icpt, float(np.sqrt((res @ res) / (n - 2) / sxx))


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    return level


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    return method


def _percentile_interval(draw, n_boot, level, seed):
    """Percentile bootstrap interval of the statistic ``draw(rng)`` returns for one
    resample; NaN statistics are left out."""
    n_boot = _checks.positive_int("n_boot", n_boot)
    _check_level(level)
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


def _t_interval(center, se, dof, level):
    """``center -+ t_{dof, (1 + level) / 2} se``; NaN where ``se`` or ``dof`` is undefined."""
    if not (np.isfinite(se) and np.isfinite(dof) and dof > 0):
        return float("nan"), float("nan")
    q = float(special.stdtrit(dof, (1 + level) / 2))  # scipy.stats.t.ppf, 50 times faster
    return float(center - q * se), float(center + q * se)


def _welch_dof(v, n):
    """Welch-Satterthwaite degrees of freedom of ``sum(v)``, ``v[k]`` estimated from
    ``n[k]`` values (``n[k] - 1`` degrees of freedom each)."""
    v = np.asarray(v, dtype=float)
    keep = v > 0
    if not keep.any():
        return float("inf")  # no spread at all: the interval has zero width
    return float(v.sum() ** 2 / np.sum(v[keep] ** 2 / (np.asarray(n)[keep] - 1)))


def _log_mean_jackknife(y):
    """Jackknife variance of ``log(mean(y))`` from the leave-one-out means; where one of
    them is 0 (one positive value among zeros) the delta method ``var(y) / (n mean^2)``."""
    n, m = y.size, y.mean()
    loo = (n * m - y) / (n - 1)
    if np.all(loo > 0):
        lg = np.log(loo)
        return (n - 1) / n * float(np.sum((lg - lg.mean()) ** 2))
    return float(y.var(ddof=1) / (n * m ** 2))


def _boot_weights(groups, units, n, n_boot, rng):
    """Bootstrap multiplicities, one row per draw: runs resampled within each group, or
    (with ``units``) units resampled with all their runs."""
    W = np.zeros((n_boot, n))
    if units is None:
        for g in groups:
            W[:, g] = rng.multinomial(g.size, np.full(g.size, 1.0 / g.size), size=n_boot)
    else:
        names, inv = np.unique(units, return_inverse=True)
        counts = rng.multinomial(names.size, np.full(names.size, 1.0 / names.size),
                                 size=n_boot)
        W = counts[:, inv].astype(float)
    return W


def _boot_slopes(lx, ly, y, groups, lxs, on, W):
    """The fitted slope of each bootstrap draw (rows of multiplicities ``W``); NaN where a
    draw has no fit (a mean of 0, or no run at some x)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if on == "runs":
            sw = W.sum(axis=1)
            xm, ym = W @ lx / sw, W @ ly / sw
            sxx = W @ lx ** 2 - sw * xm ** 2
            return (W @ (lx * ly) - sw * xm * ym) / np.where(sxx > 0, sxx, np.nan)
        means = np.stack([W[:, g] @ y[g] / W[:, g].sum(axis=1) for g in groups], axis=1)
        c = (lxs - lxs.mean()) / np.sum((lxs - lxs.mean()) ** 2)
        return np.where(np.all(means > 0, axis=1), np.log(np.where(means > 0, means, 1.0)) @ c,
                        np.nan)


def loglog_fit(x, y, *, on="runs", units=None, method="t", n_boot=2000, level=0.95,
               seed=0) -> RateFit:
    """Fit ``log y = intercept + slope log x``, with a confidence interval for the slope.

    The default interval (``method="t"``) is calibrated at the designs of the
    validation scripts (coverage within Monte Carlo error of ``level``,
    ``tests/test_coverage.py``):

    * runs (``on="runs"``), independent: the least-squares t-interval on
      ``(log x, log y)`` with ``n - 2`` degrees of freedom
      (:func:`scipy.stats.linregress`'s standard error);
    * means (``on="means"``), independent: the slope is a weighted sum of
      the log means, ``sum_k c_k log mean_k``; each ``log mean_k`` gets the
      jackknife variance of its leave-one-out means, and the interval is a t
      with Welch-Satterthwaite degrees of freedom;
    * with ``units``: the delete-one-unit jackknife of the slope (every run
      of a unit left out at once), t with ``G - 1`` degrees of freedom for
      ``G`` units.  With every unit at every x once and ``on="runs"`` this
      is exactly the t-interval on the ``G`` per-unit slopes.

    The interval is NaN where it has no degrees of freedom: fewer than three
    runs for ``"runs"``, one run at some x for ``"means"``, fewer than two
    units.  ``method="bootstrap"`` gives the percentile bootstrap used before
    (runs resampled within each distinct x, or units jointly), which covers
    too rarely with few runs per x or few units: docs/validation.md.

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
        every N.  The interval then treats units, not runs, as independent.
    method : {"t", "bootstrap"}
        The interval (above).
    n_boot, seed : int
        Draws and seed of the bootstrap (``method="bootstrap"`` only).
    level : float
        Coverage of the interval, in (0, 1).
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if on not in ("runs", "means", "auto"):
        raise ValueError(f"on must be 'runs', 'means' or 'auto', got {on!r}")
    _check_method(method)
    _check_level(level)
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
    if units is not None:
        units = np.asarray(units).ravel()
        if units.shape != x.shape:
            raise ValueError(f"units must have one entry per run ({x.size}), got {units.size}")
    groups = [np.flatnonzero(x == v) for v in xs]
    lx, lxs = np.log(x), np.log(xs)
    ly = np.log(y) if on == "runs" else None

    def fit(keep):
        """(slope, intercept) of the runs ``keep`` (a boolean mask)."""
        if on == "runs":
            return _line(lx[keep], ly[keep])[:2]
        means = np.array([y[g[keep[g]]].mean() if keep[g].any() else 0.0 for g in groups])
        if np.any(means <= 0):
            return np.nan, np.nan
        return _line(lxs, np.log(means))[:2]

    slope, icpt = fit(np.ones(x.size, dtype=bool))
    if not np.isfinite(slope):
        raise ValueError("the mean of y is 0 at some x; no log-log fit")
    if method == "bootstrap":
        n_boot = _checks.positive_int("n_boot", n_boot)
        W = _boot_weights(groups, units, x.size, n_boot, np.random.default_rng(seed))
        boots = _boot_slopes(lx, ly, y, groups, lxs, on, W)
        lo, hi = np.nanquantile(boots, [(1 - level) / 2, (1 + level) / 2])
        return RateFit(float(slope), float(icpt), float(lo), float(hi), level, n_boot,
                       on=on, units=0 if units is None else int(np.unique(units).size))
    if units is not None:
        names = np.unique(units)
        G = names.size
        if G < 2:
            lo = hi = dof = float("nan")
        else:
            loo = np.array([fit(units != u)[0] for u in names])
            se = np.sqrt((G - 1) / G * np.sum((loo - loo.mean()) ** 2))
            dof = float(G - 1)
            lo, hi = _t_interval(slope, se, dof, level) if np.all(np.isfinite(loo)) else (
                float("nan"), float("nan"))
    elif on == "runs":
        dof = float(x.size - 2)
        lo, hi = _t_interval(slope, _line(lx, ly)[2], dof, level)
    else:
        n = np.array([g.size for g in groups])
        if np.any(n < 2):
            lo = hi = dof = float("nan")
        else:
            c = (lxs - lxs.mean()) / np.sum((lxs - lxs.mean()) ** 2)
            v = c ** 2 * np.array([_log_mean_jackknife(y[g]) for g in groups])
            dof = _welch_dof(v, n)
            lo, hi = _t_interval(slope, np.sqrt(v.sum()), dof, level)
            if not np.isfinite(dof):  # no spread: the fit is exact
                lo = hi = float(slope)
    return RateFit(float(slope), float(icpt), lo, hi, level, 0, "t", float(dof), on=on,
                   units=0 if units is None else int(np.unique(units).size))


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

    def settings(self) -> str:
        """How the fit was made, e.g. ``"runs, 95% t (3 dof), 4 units"``."""
        how = "bootstrap" if self.method == "bootstrap" else f"t ({self.dof:.3g} dof)"
        units = f", {self.units} units" if self.units else ", runs independent"
        return f"{self.on}, {100 * self.level:.0f}% {how}{units}"

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


def ratio_interval(a, b, n_boot=2000, seed=0, level=0.95, method="t"):
    """Ratio of means ``mean(a) / mean(b)`` with a confidence interval.

    ``a`` and ``b`` are independent samples (e.g. ``eps_D`` of networks
    trained independently at two input dimensions).  The default interval
    (``method="t"``) is ``exp(log r -+ t se)``: ``se^2`` is the sum of the
    jackknife variances of ``log mean(a)`` and ``log mean(b)`` (from the
    leave-one-out means), ``t`` a Student quantile with Welch-Satterthwaite
    degrees of freedom.  ``method="bootstrap"`` gives the percentile bootstrap
    used before (``a`` and ``b`` resampled independently), which covers too
    rarely with a few values per sample (docs/validation.md).

    Parameters
    ----------
    a, b : array_like
        Finite values, at least one each; ``mean(b)`` must not be 0, and for
        the t-interval both means must be > 0 and each sample needs two
        values (else the interval is NaN).
    n_boot : int
        Bootstrap draws (``method="bootstrap"``).
    seed : int
        Seed of the bootstrap.
    level : float
        Coverage of the interval, in (0, 1).
    method : {"t", "bootstrap"}
        The interval (above).

    Returns
    -------
    (float, [float, float])
        The ratio of the means and its ``level`` interval (bootstrap draws
        whose resampled ``b`` has mean 0 are left out).
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.size == 0 or b.size == 0 or not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        raise ValueError(f"a and b must be non-empty and finite, got sizes {a.size} and {b.size}")
    if b.mean() == 0:
        raise ValueError("mean(b) is 0: the ratio is undefined")
    _check_method(method)
    _check_level(level)
    ratio = float(a.mean() / b.mean())
    if method == "bootstrap":
        n_boot = _checks.positive_int("n_boot", n_boot)
        rng = np.random.default_rng(seed)
        ma = a[rng.integers(0, a.size, size=(n_boot, a.size))].mean(axis=1)
        mb = b[rng.integers(0, b.size, size=(n_boot, b.size))].mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            boots = np.where(mb != 0, ma / np.where(mb != 0, mb, 1.0), np.nan)
        lo, hi = np.nanquantile(boots, [(1 - level) / 2, (1 + level) / 2])
        return ratio, [float(lo), float(hi)]
    if a.mean() <= 0 or b.mean() <= 0:
        raise ValueError("the t-interval of a ratio needs mean(a) > 0 and mean(b) > 0 "
                         "(method='bootstrap' takes any sign)")
    if a.size < 2 or b.size < 2:
        return ratio, [float("nan"), float("nan")]
    v = np.array([_log_mean_jackknife(a), _log_mean_jackknife(b)])
    dof = _welch_dof(v, [a.size, b.size])
    if not np.isfinite(dof):
        return ratio, [ratio, ratio]
    lo, hi = _t_interval(np.log(ratio), np.sqrt(v.sum()), dof, level)
    return ratio, [float(np.exp(lo)), float(np.exp(hi))]
