"""Figures.  Each function takes result objects and returns the Figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_figure(fig, stem) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf``; return the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=150, bbox_inches="tight")
    return paths


def risk_curves(result, ax=None):
    """Risk vs time: SGD's exact ``L_N(theta^k)`` and the limit's ``R(rho_t)``."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.5, 3.8))
    c = result.config
    ax.plot(result.sgd.times, result.sgd.risk, "o-", ms=3, label=f"SGD, N={c.get('N')}, "
            f"alpha={c.get('alpha', float('nan')):.3g}")
    ax.plot(result.limit.times, result.limit.risk, "s--", ms=3,
            label=f"limit ({c.get('method')}, M={c.get('M')})")
    ax.set_xlabel("t = k alpha")
    ax.set_ylabel("population risk")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title(c.get("task", ""), fontsize=9)
    return fig


def rate_plot(x, y, fit, *, xlabel="N", ylabel="", label=None, ax=None):
    """Log-log scatter of runs, per-x means, and the fitted line with its CI in the legend."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.0, 3.8))
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    pts = ax.loglog(x, y, ".", alpha=0.35)[0]
    xs = np.unique(x)
    ax.loglog(xs, [np.mean(y[x == v]) for v in xs], "o", color=pts.get_color(),
              label=label or ylabel)
    grid = np.geomspace(xs.min(), xs.max(), 50)
    ax.loglog(grid, fit.predict(grid), "-", color=pts.get_color(),
              label=f"fit: slope {fit.slope:+.2f} [{fit.ci_low:+.2f}, {fit.ci_high:+.2f}]")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.legend(fontsize=8)
    return fig
