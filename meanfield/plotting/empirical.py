"""Figures of the empirical side (torch backend): Shevchenko & Mondelli Figures 1-4."""

from __future__ import annotations

import numpy as np

from ._base import _label_widths, _legend_outside, _mean_sd, _new, _title, plt, rate_plot


def full_vs_dropout(table, Ns=None):
    """Figure 1: test loss and error over training, full net (dashed) vs dropout (solid).

    ``table`` holds the rows of :func:`meanfield.torch.experiments.empirical_cell`
    (several seeds); means over seeds with one-standard-deviation bands, for
    the smallest and the largest N unless ``Ns`` says which.
    """
    Ns = sorted({int(table["N"].min()), int(table["N"].max())}) if Ns is None else list(Ns)
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    for i, N in enumerate(Ns):
        g = table[table["N"] == N]
        for ax, what in zip(axes, ("loss", "error")):
            for col, ls, lab in ((f"{what}_full", "--", "full"), (f"{what}_half", "-", "dropout")):
                m, sd = _mean_sd(g, "t", col)
                ax.plot(m.index, m.values, ls, color=f"C{i}", label=f"N = {N}, {lab}")
                ax.fill_between(m.index, m - sd, m + sd, color=f"C{i}", alpha=0.15, lw=0)
            ax.set_xlabel(r"$t = k\alpha$")
            ax.set_ylabel(f"test {what}")
    axes[0].legend(fontsize=7)
    _title(axes[0], "full net and dropout (mean, seed sd)", table)
    axes[1].set_title("second half of each hidden layer removed, rest rescaled", fontsize=8)
    return fig


def dropout_change_vs_n(table, col="dloss_half", ylabel="|change in test loss|", fits=None):
    """Figure 2: the change after dropping half of the neurons vs N, one fit per snapshot.

    ``fits`` is :func:`meanfield.analysis.dropout_change_fits` of the table (computed
    here when not given).  Returns the figure and those fits.  Changes of 0 are drawn on
    the bottom spine; a snapshot that cannot be fitted is drawn without a line and says
    why in the legend.
    """
    from ..analysis import dropout_change_fits

    fits, notes = dropout_change_fits(table, col) if fits is None else (fits, {})
    fig, ax = _new(None, (5.5, 4.0))
    for frac, g in table.groupby("fraction"):
        y = g[col].abs().to_numpy()
        fit = fits.get(float(frac))
        label = f"{frac:g} T" + ("" if fit is not None else
                                 f" ({notes.get(float(frac), 'no fit')})")
        rate_plot(g["N"], y, fit, ax=ax, label=label, ylabel=ylabel)
    _title(ax, "dropout of half of the neurons (test set)", table)
    _legend_outside(ax)
    return fig, fits


def error_change_vs_n(table, col="derror_half"):
    """Figure 4: change in test error after dropping half of each hidden layer, vs N, per depth.

    Uses the last snapshot of each run; mean and one standard deviation over seeds.
    """
    fig, ax = _new(None, (5.5, 4.0))
    last = table[table["fraction"] == table["fraction"].max()]
    for i, (depth, g) in enumerate(last.groupby("depth")):
        m, sd = _mean_sd(g, "N", col)
        ax.errorbar(m.index, 100 * m.values, 100 * sd.values, fmt="o-", capsize=3,
                    color=f"C{i}", label=f"{depth}-layer")
    ax.set_xscale("log")
    ax.axhline(0, color="gray", lw=0.8, ls=":")
    ax.set_xlabel("N")
    ax.set_ylabel("change in test error (%)")
    _label_widths(ax, last["N"])
    _title(ax, "test error after dropping half of each hidden layer (mean, seed sd)", last)
    ax.legend(fontsize=8)
    return fig


def path_error_figure(paths, hist):
    """Figure 3: test error along the paths between two nets, and the nets' weight histograms.

    ``paths`` and ``hist`` are the ``path`` and ``hist`` rows of
    :func:`meanfield.torch.experiments.path_cell` for one pair.  The red
    dashed level is the larger error at the two ends plus the larger change
    in error from dropout (the two dropout networks on the path; vertices 1
    and 6 of the seven-segment path), the level Figure 3 of Shevchenko &
    Mondelli compares the path with.
    """
    from ..analysis import dropout_path_level

    fig = plt.figure(figsize=(11, 3.8))
    ax = fig.add_subplot(1, 3, (1, 2))
    for i, (name, g) in enumerate(paths.groupby("path", sort=False)):
        K = g["n_segments"].iloc[0]
        ax.plot(g["s"] / K, 100 * g["error"], "-", color=f"C{i}", label=f"{name} ({int(K)} seg.)")
        if name == "dropout":
            v = g[np.isclose(g["s"] % 1, 0)].set_index("s")["error"]
            ax.plot(v.index / K, 100 * v.values, "o", color=f"C{i}", ms=4)
            ax.axhline(100 * dropout_path_level(g)["level"], color="C3", ls="--", lw=1,
                       label="max end error + dropout change")
    ax.set_xlabel("position along the path")
    ax.set_ylabel("test error (%)")
    ax.legend(fontsize=7)
    for j, layer in enumerate(("first", "output")):
        hx = fig.add_subplot(2, 3, 3 + 3 * j)
        for i, (net, g) in enumerate(hist[hist["layer"] == layer].groupby("net")):
            hx.stairs(g["count"], np.append(g["bin_lo"].to_numpy(), g["bin_hi"].iloc[-1]),
                      color=f"C{i + 4}", label=net)
        hx.set_title(f"{layer}-layer weights" + (" x sqrt(fan-in)" if layer == "first" else ""),
                     fontsize=7)
        hx.tick_params(labelsize=6)
        hx.legend(fontsize=6)
    fig.tight_layout()
    return fig
