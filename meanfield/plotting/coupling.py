"""Figures of a coupled run: SGD's risk next to the mean-field limit's."""

from __future__ import annotations

from ._base import plt


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
