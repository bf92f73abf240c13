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


def loglog_fit(x, y, *, n_boot=2000, level=0.95, seed=0) -> RateFit:
    """Fit ``log y = intercept + slope log x`` over all runs.

    The interval is a percentile bootstrap that resamples runs within each
    distinct x (seeds at one N are exchangeable; the design in N is fixed).

    Parameters
    ----------
    x, y : array_like
        One entry per run; x > 0 with at least two distinct values, y > 0.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must have the same length >= 2, got {x.size} and {y.size}")
    if np.any(x <= 0) or np.any(y <= 0) or not np.all(np.isfinite(x * y)):
        raise ValueError("x and y must be finite and > 0 for a log-log fit")
    if np.unique(x).size < 2:
        raise ValueError("x needs at least two distinct values")
    n_boot = _checks.positive_int("n_boot", n_boot)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    lx, ly = np.log(x), np.log(y)
    slope, icpt = _ols(lx, ly)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(x == v) for v in np.unique(x)]
    slopes = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate([rng.choice(g, size=g.size) for g in groups])
        slopes[b] = _ols(lx[idx], ly[idx])[0]
    lo, hi = np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2])
    return RateFit(float(slope), float(icpt), float(lo), float(hi), level, n_boot)
