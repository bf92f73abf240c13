"""Figures of the multilayer experiment (Shevchenko & Mondelli, Theorem 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._deprecation import renamed_keyword
from ..analysis.tables import as_tables, multilayer_summary
from ._base import _label_widths, _legend_outside, _new, _title, rate_plot, save_figure
from .stability import dropout_vs_size


@renamed_keyword("table", "tables")
def multilayer_rates(tables, ax=None):
    """eps_D (``|A_l| = N/2``) and eps_C against N, one colour per d, with fitted slopes.

    ``tables`` is ``{"dropout": ..., "paths": ...}`` of a loaded ``multilayer``
    sweep (:func:`meanfield.analysis.multilayer_summary`).  eps_C is fitted on
    its means (it is exactly 0 when the path peaks at an end); where a mean is 0
    its points are drawn without a fit.
    """
    from ..analysis import loglog_fit

    tables = as_tables(tables, ("dropout", "paths"), "multilayer_rates")
    fig, ax = _new(ax, (6.0, 4.2))
    per_net, pairs = multilayer_summary(tables)
    for i, (d, g) in enumerate(per_net.groupby("d")):
        means = g.groupby("N")["eps_D"].mean()
        fit = None
        if len(means) > 1 and (means > 0).all():
            fit = loglog_fit(g["N"], g["eps_D"], on="auto")
        rate_plot(g["N"], g["eps_D"], fit, ax=ax, ylabel=r"$\varepsilon_D$, $\varepsilon_C$",
                  label=rf"$\varepsilon_D$, $d = {d}$" + ("" if fit else " (no fit)"))
    for i, (d, g) in enumerate(pairs.groupby("d")):
        m = g.groupby("N")["eps_C"].mean()
        if len(m) > 1 and (m > 0).all():
            fit = loglog_fit(g["N"], g["eps_C"].clip(lower=0), on="means")
            ax.loglog(m.index, m.values, "s--", ms=5,
                      label=rf"$\varepsilon_C$, $d = {d}$: slope {fit.slope:+.2f} "
                            f"[{fit.ci_low:+.2f}, {fit.ci_high:+.2f}]")
        else:
            pos = m[m > 0]
            zero = ", ".join(str(n) for n in m[m <= 0].index)
            ax.loglog(pos.index, pos.values, "s", ms=5, mfc="none",
                      label=rf"$\varepsilon_C$, $d = {d}$ (0 at N = {zero})")
    _label_widths(ax, per_net["N"])
    _title(ax, "multilayer: dropout of half of each layer, and the path barrier",
           tables["dropout"])
    _legend_outside(ax)
    return fig


@renamed_keyword("table", "tables")
def multilayer_risk(tables, ax=None):
    """Risk at T against N with the extrapolation ``L_inf + c N^(-1/2)`` (labelled as such).

    ``tables`` as for :func:`multilayer_rates`.
    """
    from ..analysis import extrapolate

    tables = as_tables(tables, ("dropout", "paths"), "multilayer_risk")
    fig, ax = _new(ax)
    per_net, _ = multilayer_summary(tables)
    for i, (d, g) in enumerate(per_net.groupby("d")):
        m = g.groupby("N")["risk"].agg(["mean", "std"])
        ax.errorbar(m.index, m["mean"], m["std"], fmt="o", capsize=3, color=f"C{i}",
                    label=f"d = {d}")
        if len(m) > 1:
            ex = extrapolate(g["N"], g["risk"])
            grid = np.geomspace(m.index.min(), m.index.max(), 50)
            ax.plot(grid, ex.predict(grid), "-", color=f"C{i}", lw=1,
                    label=f"extrapolation: L_inf = {ex.y_inf:.4f} [{ex.ci_low:.4f}, "
                          f"{ex.ci_high:.4f}]")
    ax.set_xscale("log")
    _label_widths(ax, per_net["N"])
    ax.set_xlabel("N")
    ax.set_ylabel("risk at T (Monte Carlo)")
    _title(ax, "large-N extrapolation, not the exact limit", tables["dropout"])
    _legend_outside(ax)
    return fig


@renamed_keyword("table", "tables")
def multilayer_figures(tables, out):
    """The standard multilayer figures of ``tables`` (as for :func:`multilayer_rates`) into
    folder ``out``; their PNG paths."""
    out = Path(out)
    tables = as_tables(tables, ("dropout", "paths"), "multilayer_figures")
    figs = {"multilayer_rates": multilayer_rates(tables),
            "multilayer_risk": multilayer_risk(tables)}
    drop = tables["dropout"]
    if drop["size"].nunique() > 1:
        per = drop.groupby(["N", "seed", "net", "size"], as_index=False)["eps_D"].mean()
        fig = figs["multilayer_dropout_vs_size"] = dropout_vs_size(per)
        fig.axes[0].set_xlabel("A_min = |A_l|")
        _title(fig.axes[0], "dropout of |A_l| neurons in each layer (mean, seed sd)", drop)
    return [save_figure(fig, out / name)[0] for name, fig in figs.items()]
