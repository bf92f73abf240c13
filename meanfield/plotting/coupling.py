"""Figures of a coupled run: SGD's risk next to the mean-field limit's."""

from __future__ import annotations

import re

import numpy as np

from ._base import _finish_axes, _legend_clear, plt


def _task_words(c):
    """The task in words from a coupled run's config (``task_description``; for a config
    from before it, the repr ``GaussianTask(name, d=.., activation=..)`` read back)."""
    from ..tasks import describe_name

    if c.get("task_description"):
        return c["task_description"]
    m = re.match(r"\w+\((.*?), d=(\d+), activation=([^,()]+(?:\([^)]*\))?)",
                 str(c.get("task", "")))
    return f"{describe_name(m[1])}; {m[3]}; d = {m[2]}" if m else ""


def _even_log_ticks(axis):
    """Major ticks of a narrow log axis at 1, 1.5, 2, 3, 5, 7 x 10^k, nearly even in log
    spacing, where 1-2-5 gives fewer than three (the default falls back to every mantissa:
    0.2, then 0.1, 0.09, 0.08, 0.07)."""
    import matplotlib.ticker as mticker

    lo, hi = sorted(axis.get_view_interval())
    if not (np.isfinite(lo) and lo > 0 and hi > lo):
        return
    ks = range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
    in_view = [m * 10.0 ** k for k in ks for m in (1, 2, 5) if lo <= m * 10.0 ** k <= hi]
    if len(in_view) >= 3:
        return
    ticks = [m * 10.0 ** k for k in ks for m in (1, 1.5, 2, 3, 5, 7) if lo <= m * 10.0 ** k <= hi]
    if len(ticks) >= 2:
        axis.set_major_locator(mticker.FixedLocator(ticks))


def _columns(result):
    """The per-snapshot columns of a coupled run (:meth:`CoupledResult.to_frame`'s, and
    ``w2_exact``), from the result or from that table (e.g. a stored couple cell's)."""
    if hasattr(result, "to_frame"):
        return result.to_frame(), getattr(result, "w2_exact", True)
    exact = result["w2_exact"].iloc[0] if "w2_exact" in result else True
    return result.reset_index(drop=True), bool(exact)


def distance_curves(result, ax=None):
    """The distances the coupling bounds, against time: ``max_i |theta_i^k - thetabar_i(t)|``,
    their mean, the risk gap ``|L_N(theta^k) - R(rho_t)|`` and W2 between the two clouds
    (when it was computed).  ``result``: a :class:`~meanfield.twolayer.CoupledResult` or
    its table (``to_frame()``, one row per snapshot)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.0, 3.8))
    table, w2_exact = _columns(result)
    t = table["t"].to_numpy(float)
    ax.plot(t, table["max_dist"], "o-", ms=3, label=r"$\mathrm{max}_i\,|\theta_i - \bar\theta_i|$")
    ax.plot(t, table["mean_dist"], "s-", ms=3,
            label=r"$\mathrm{mean}_i\,|\theta_i - \bar\theta_i|$")
    w2 = table["w2"].to_numpy(float)
    if np.isfinite(w2).any():
        ax.plot(t, w2, "^-", ms=3, label=r"$W_2$ of the two clouds"
                + ("" if w2_exact else " (sliced, a lower bound)"))
    ax.plot(t, table["risk_gap"], "d--", ms=3, label=r"risk gap $|L_N - R(\rho_t)|$")
    ax.set_xlabel(r"$t = k\alpha$")
    ax.set_ylabel("distance, gap")
    ax.set_ylim(bottom=0)
    ax.set_title("SGD against its ideal particles (coupled at t = 0)", fontsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.18), ncol=2, frameon=False)
    return fig


def risk_curves(result, ax=None, config=None):
    """Risk vs time: SGD's exact ``L_N(theta^k)`` and the limit's ``R(rho_t)``; without
    ``ax``, a second panel with the coupling's distances (:func:`distance_curves`).

    ``result`` is a :class:`~meanfield.twolayer.CoupledResult`, or its table
    (``to_frame()``; a stored couple cell's) with the run's ``config`` (its ``config``
    attribute, :func:`meanfield.twolayer.coupling.coupled_config`).

    A note under the axes gives the gap at t = 0 and says where it comes from: the limit's
    risk is that of its own M reference particles, not of the N particles SGD starts from.
    The risk axis is logarithmic, and says so.
    """
    if ax is None:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.2),
                                      gridspec_kw={"width_ratios": [1.1, 1.0]})
    else:
        fig, ax2 = ax.figure, None
    c = result.config if config is None else config
    N, M = c.get("N"), c.get("M")
    table, _ = _columns(result)
    t = table["t"].to_numpy(float)
    ax.plot(t, table["risk_sgd"], "o-", ms=3, label=f"SGD $L_N$, N = {N}, "
            f"$\\alpha$ = {c.get('alpha', float('nan')):.3g}")
    ax.plot(t, table["risk_limit"], "s--", ms=3,
            label=f"limit $R(\\rho_t)$ ({c.get('method')}, M = {M} particles)")
    ax.set_xlabel(r"$t = k\alpha$")
    ax.set_ylabel("population risk (log scale)")
    ax.set_yscale("log")
    _finish_axes(ax)
    _even_log_ticks(ax.yaxis)
    words = _task_words(c)
    ax.set_title(f"SGD and its mean-field limit: {words}; N = {N}" if words else
                 f"SGD and its mean-field limit, N = {N}", fontsize=8)
    gap = table["risk_gap"].to_numpy(float)
    if gap.size:
        ax.text(0.0, -0.2, f"At t = 0 the gap is {gap[0]:.2g}: $R(\\rho_0)$ is the risk of the "
                f"limit's own M = {M} reference particles,\nnot of the N = {N} that SGD "
                f"starts from (their fluctuations and diagonal biases, O(1/N) and O(1/M), "
                f"differ).",
                transform=ax.transAxes, fontsize=7, va="top", ha="left")
    if ax2 is not None:
        distance_curves(result, ax2)
        fig.tight_layout()
    _legend_clear(ax, 8)
    return fig
