"""Shared drawing helpers: saving, log-log rate plots, tick labels at measured values."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_figure(fig, stem) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf``, then close it; return the paths.

    Closing keeps long sweeps and test sessions from holding every figure
    they ever drew (pyplot keeps them until closed)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


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


def _new(ax, size=(5.0, 3.8)):
    return (ax.figure, ax) if ax is not None else plt.subplots(figsize=size)


def _label_widths(ax, Ns):
    """Log x-axis ticks at the measured widths only.

    Call it last: every later ``loglog`` or ``set_xscale`` resets the minor
    tick labels, which then overlap on an axis spanning about one decade.
    """
    Ns = sorted({int(n) for n in Ns})
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks(Ns, [str(n) for n in Ns])


def _mean_sd(g, by, col):
    s = g.groupby(by)[col]
    return s.mean(), s.std(ddof=1).fillna(0.0)
