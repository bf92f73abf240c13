"""Figures of a coupled run: SGD's risk next to the mean-field limit's."""

from __future__ import annotations

import re

import numpy as np

from ._base import _finish_axes, plt


def _task_words(c):
    """The task in words from a coupled run's config (``task_description``; for a config
    from before it, the repr ``GaussianTask(name, d=.., activation=..)`` read back)."""
    from ..tasks import describe_name

    if c.get("task_description"):
        return c["task_description"]
    m = re.match(r"\w+\((.*?), d=(\d+), activation=([^,()]+(?:\([^)]*\))?)",
                 str(c.get("task", "")))
    return f"{describe_name(m[1])}; {m[3]}; d = {m[2]}" if m else ""


def risk_curves(result, ax=None):
    """Risk vs time: SGD's exact ``L_N(theta^k)`` and the limit's ``R(rho_t)``.

    A note under the axes gives the gap at t = 0 and says where it comes from: the limit's
    risk is that of its own M reference particles, not of the N particles SGD starts from.
    """
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.5, 3.8))
    c = result.config
    N, M = c.get("N"), c.get("M")
    ax.plot(result.sgd.times, result.sgd.risk, "o-", ms=3, label=f"SGD L_N, N = {N}, "
            f"alpha = {c.get('alpha', float('nan')):.3g}")
    ax.plot(result.limit.times, result.limit.risk, "s--", ms=3,
            label=f"limit R(rho_t) ({c.get('method')}, M = {M} particles)")
    ax.set_xlabel("t = k alpha")
    ax.set_ylabel("population risk")
    ax.set_yscale("log")
    _finish_axes(ax)
    ax.legend(fontsize=8)
    words = _task_words(c)
    ax.set_title(f"SGD and its mean-field limit: {words}; N = {N}" if words else
                 f"SGD and its mean-field limit, N = {N}", fontsize=8)
    gap = np.asarray(getattr(result, "risk_gap", []), float)
    if gap.size:
        ax.text(0.0, -0.2, f"At t = 0 the gap is {gap[0]:.2g}: R(rho_0) is the risk of the "
                f"limit's own M = {M} reference particles,\nnot of the N = {N} that SGD "
                f"starts from (their fluctuations and diagonal biases, O(1/N) and O(1/M), "
                f"differ).",
                transform=ax.transAxes, fontsize=7, va="top", ha="left")
    return fig
