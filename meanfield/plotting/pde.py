"""Figure of the radial PDE against particles and SGD."""

from __future__ import annotations

import numpy as np

from ._base import _clip_notes, _finish_axes, _floor, _legend_clear, _log_errorbar, plt


def pde_vs_sgd_figure(cases):
    """Mei, Montanari & Nguyen Fig. 1 style: per case, the risk against time from the radial
    PDE (line), the particle limit (squares; diamonds: extrapolated in M where the case has
    several M) and SGD (mean and seed SD per N), and the law of
    ``|w|`` at the horizon (PDE density over a histogram of one SGD run at the largest N).

    ``cases`` are the dicts of ``validation/pde_vs_sgd.py`` (with ``pde``, the
    :class:`~meanfield.pde.RadialSolution`, and ``radii_T``).
    """
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 6.4), squeeze=False)
    for j, c in enumerate(cases):
        ax = axes[0, j]
        t = np.asarray(c["times"])
        ax.plot(t, c["pde_risk"], "k-", lw=1.5, label="PDE")
        if "particle_risk" in c:
            ax.plot(t, c["particle_risk"], "s", mfc="none", color="C3", ms=5,
                    label=f"particles M={c['particle_M']}")
        if "particle_extrapolated" in c:
            ax.plot(t, c["particle_extrapolated"], "D", mfc="none", color="C4", ms=5,
                    label="particles, M -> inf (L + c/M)")
        sgd = list(c["sgd"].items())
        floor = _floor(c["pde_risk"], *[g["mean"] for _, g in sgd],
                       *[np.asarray(g["mean"]) - np.asarray(g["sd"]) for _, g in sgd])
        clipped, zeros = 0, []
        for i, (N, g) in enumerate(sgd):
            n, z = _log_errorbar(ax, t, g["mean"], g["sd"], floor, fmt="o", color=f"C{i}",
                                 label=f"SGD N={N}")
            clipped, zeros = clipped + n, [*zeros, *z]
        _clip_notes(ax, clipped, zeros)
        ax.set_yscale("log")
        _finish_axes(ax)
        ax.set_xlabel("t")
        ax.set_ylabel("risk")
        ax.set_title(c["name"], fontsize=9)
        ax.legend(fontsize=7)
        hx = axes[1, j]
        sol = c["pde"]
        hx.hist(c["radii_T"], bins=40, density=True, color="C0", alpha=0.5,
                label=f"SGD |w| at t={t[-1]:g}")
        edges, dens = sol.density(-1, bins=60)
        hx.stairs(dens, edges, color="k", label="PDE")
        edges0, dens0 = sol.density(0, bins=60)
        hx.stairs(dens0, edges0, color="0.6", ls="--", label="t=0")
        hx.set_xlabel("r = |w|")
        hx.set_ylabel("density")
        hx.legend(fontsize=7)
    fig.tight_layout()
    for ax in axes[0]:  # after the layout: the legends of the risk panels clear of the points
        _legend_clear(ax, 7)
    return fig
