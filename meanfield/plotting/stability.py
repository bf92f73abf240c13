"""Figures of dropout stability and connectivity against N (Shevchenko & Mondelli, Theorem 1)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.ticker
import numpy as np

from ._base import _label_widths, _new, rate_plot, save_figure


def dropout_vs_n(per_network, fits, ax=None):
    """``eps_D`` at ``|A| = N/2`` vs N, one series per training time (cf. Figure 2).

    Parameters
    ----------
    per_network : pandas.DataFrame
        Columns N, t, eps_D (one row per network), e.g. ``StabilityResult.per_network()``.
    fits : dict
        ``"eps_D t=<t>"`` -> RateFit.
    """
    fig, ax = _new(ax)
    for t, g in per_network.groupby("t"):
        rate_plot(g["N"], g["eps_D"], fits[f"eps_D t={t:g}"], ax=ax, label=f"t = {t:g}",
                  ylabel="eps_D = |L_N - L_N/2|")
    ax.set_title("dropout of half of the neurons", fontsize=9)
    return fig


def dropout_vs_size(per_network, ax=None):
    """``eps_D`` vs ``|A|`` at several N, mean and seed standard deviation.

    The curves should lie on top of each other: by (3.7) the dropout gap
    depends on ``|A|`` and not on N.
    """
    fig, ax = _new(ax)
    for N, g in per_network.groupby("N"):
        m = g.groupby("size")["eps_D"].agg(["mean", "std"])
        ax.errorbar(m.index, m["mean"], yerr=m["std"], fmt="o-", ms=4, capsize=3,
                    label=f"N = {N}")
    sizes = np.unique(per_network["size"])
    ref = per_network.groupby("size")["eps_D"].mean()
    ax.plot(sizes, ref.iloc[0] * np.sqrt(sizes[0] / sizes), "k:", label="|A|^(-1/2)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("|A|")
    ax.set_ylabel("eps_D")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.legend(fontsize=8)
    return fig


def connectivity_vs_n(per_pair, fits, bound=None, ax=None):
    """``eps_C`` of the seven-segment path and the barriers of the two straight lines vs N.

    ``bound``, if given, is ``(N_grid, values)`` of a fitted bound shape drawn dashed.
    """
    fig, ax = _new(ax)
    names = {"eps_C": "eps_C (seven-segment path)",
             "eps_C_debiased": "eps_C, dropout bias removed", "barrier_straight": "straight line",
             "barrier_aligned": "aligned straight line"}
    for col, label in names.items():
        if col not in per_pair:
            continue
        g = per_pair[["N", col]].dropna()
        if g.empty:
            continue
        if (g[col] <= 0).all():  # nothing to draw on a log axis; say so
            ax.plot([], [], " ", label=f"{label}: 0 for every pair")
            continue
        if col in fits:
            rate_plot(g["N"], g[col].clip(lower=0.0), fits[col], ax=ax, label=label,
                      ylabel="barrier")
        else:
            m = g.groupby("N")[col].mean()
            ax.loglog(m.index, m.values, "o", label=label)
    if bound is not None:
        ax.loglog(*bound, "k--", lw=1, label="K x shape (3.8)")
    _label_widths(ax, per_pair["N"])
    ax.set_title("barrier along paths between two SGD solutions", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def path_profile(path, n_per_segment=33, others=(), eps_D=None, ax=None):
    """Loss along a path with its vertices marked (cf. Figure 3 of Shevchenko & Mondelli).

    Parameters
    ----------
    path : Path
        Drawn over its parameter rescaled to [0, 1].
    others : sequence of (label, Path)
        Further paths (the straight-line baselines) on the same axis.
    eps_D : float, optional
        Draws the level ``max(L(theta), L(theta')) + eps_D`` that Theorem 1
        says the path stays under.
    """
    fig, ax = _new(ax, (6.5, 4.0))
    s, f = path.dense(n_per_segment, closed_form=False)
    K = path.n_segments
    ax.plot(s / K, f, "-", label=f"{K}-segment path")
    vl = path.vertex_losses()
    ax.plot(np.arange(K + 1) / K, vl, "o", color="C0")
    for k, lab in enumerate(path.labels):
        ax.annotate(lab, (k / K, vl[k]), textcoords="offset points", xytext=(2, 4),
                    fontsize=6, rotation=30)
    for i, (label, other) in enumerate(others, 1):
        so, fo = other.dense(n_per_segment, closed_form=False)
        ax.plot(so / other.n_segments, fo, "-", color=f"C{i}", label=label)
    ends = max(vl[0], vl[-1])
    ax.axhline(ends, color="gray", lw=0.8, ls=":")
    if eps_D is not None:
        ax.axhline(ends + eps_D, color="C3", ls="--", label="max(L) + eps_D")
    ax.set_xlabel("position along the path")
    ax.set_ylabel("population risk")
    ax.legend(fontsize=8)
    return fig


def stability_figures(res, out, fits=None, bounds=None):
    """The standard figures of a ``StabilityResult`` into folder ``out``; their PNG paths.

    ``fits`` and ``bounds`` are ``res.fits()`` and ``res.bound_fits()`` when the
    caller has them already (each fit is a bootstrap).
    """
    from ..analysis import connectivity_shape

    out = Path(out)
    fits = res.fits() if fits is None else fits
    bounds = res.bound_fits() if bounds is None else bounds
    figs = {"dropout_vs_n": dropout_vs_n(res.per_network(), fits)}
    sweep = res.per_network("sweep")
    if not sweep.empty:
        figs["dropout_vs_size"] = dropout_vs_size(sweep)
    pairs = res.per_pair()
    Ns = np.unique(pairs["N"])
    grid = np.geomspace(Ns.min(), Ns.max(), 50)
    shape = connectivity_shape(grid, res.config["alpha0"] / grid, res.config["d"])
    figs["connectivity_vs_n"] = connectivity_vs_n(pairs, fits,
                                                  bound=(grid, bounds["eps_C"].K_fit * shape))
    return [save_figure(fig, out / name)[0] for name, fig in figs.items()]
