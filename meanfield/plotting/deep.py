"""Figures of Nguyen, Bréchet & Mondelli's Experiments A and B, Theorem 4.1 paths, and noise
stability (Kuditipudi et al.)."""

from __future__ import annotations

import numpy as np

from .._deprecation import renamed_keyword
from ..analysis.tables import as_tables
from ._base import (
    _clip_notes,
    _finish_axes,
    _floor,
    _label_widths,
    _legend_clear,
    _log_errorbar,
    _mean_sd,
    _new,
    _title,
    plt,
)


#: One colour per experiment in both figures (the trained net's as before: C2)
_COLORS = {"A": "C0", "B": "C1", "trained": "C2", "B-plain": "C3"}


def experiments_ab_per_layer(table, ax=None):
    """Figure 3 (a)-(c): training loss of Experiment A (bound of Theorem 4.1) and B
    (dropout stability) per layer, against the trained net (dotted); mean and
    standard deviation over the trained nets (seeds)."""
    fig, ax = _new(ax)
    series = [(exp, label, *_mean_sd(table[table["experiment"] == exp], "layer", "train_loss"))
              for exp, label in (("A", "A: re-trained subnetwork (Thm 4.1)"),
                                 ("B", "B: dropout + tuned scale"),
                                 ("B-plain", "B, units plainly removed (Section 6)"))
              if (table["experiment"] == exp).any()]
    floor = _floor(*[m for *_, m, _ in series], *[m - sd for *_, m, sd in series])
    clipped, zeros = 0, []
    for exp, label, m, sd in series:
        c, z = _log_errorbar(ax, m.index, m.values, sd.values, floor, color=_COLORS[exp],
                             label=label)
        clipped, zeros = clipped + c, [*zeros, *z]
    ref = table[table["experiment"] == "trained"]["train_loss"].mean()
    ax.axhline(ref, color="C2", ls=":", label="trained")
    _clip_notes(ax, clipped, zeros)
    ax.set_yscale("log")
    ax.set_xticks(sorted({int(v) for v in table["layer"] if v >= 0}))
    ax.set_xlabel("layer l")
    ax.set_ylabel("training loss")
    _finish_axes(ax)
    _title(ax, "Experiments A and B per layer (mean, seed sd)", table)
    ax.legend(fontsize=7)
    return fig


def experiments_ab_vs_width(table, ax=None):
    """Figure 4: maximum over layers of Experiments A and B against the width N."""
    fig, ax = _new(ax)
    per = table.groupby(["N", "seed", "experiment"], as_index=False)["train_loss"].max()
    series = [(exp, label, *_mean_sd(per[per["experiment"] == exp], "N", "train_loss"))
              for exp, label in (("A", "A (max over layers)"), ("B", "B (max over layers)"),
                                 ("B-plain", "B plain removal (max over layers)"),
                                 ("trained", "trained"))
              if exp != "B-plain" or (per["experiment"] == exp).any()]
    floor = _floor(*[m for *_, m, _ in series], *[m - sd for *_, m, sd in series])
    clipped, zeros = 0, []
    for exp, label, m, sd in series:
        c, z = _log_errorbar(ax, m.index, m.values, sd.values, floor, color=_COLORS[exp],
                             label=label, fmt="o-" if exp != "trained" else "o:")
        clipped, zeros = clipped + c, [*zeros, *z]
    _clip_notes(ax, clipped, zeros)
    _title(ax, "Experiments A and B against width (mean, seed sd)", table)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _label_widths(ax, per["N"])
    ax.set_xlabel("width N")
    ax.set_ylabel("training loss")
    _legend_clear(ax, 7)
    return fig


@renamed_keyword("table", "tables")
def theorem41_paths_figure(tables):
    """Figure 3 d of Nguyen, Bréchet & Mondelli: training loss and test error along the paths.

    ``tables`` is :func:`meanfield.torch.experiments.deep_paths_cell`'s output
    for one pair, ``{"path": ..., "bound": ...}`` (its ``check`` table is not
    drawn; one table with a ``table`` column is deprecated).  Path A (Theorem
    4.1) with its vertices marked, path B (through the best rescaled dropout
    networks), the straight line and the line after weight matching; the dashed
    level is the bound of Theorem 4.1 from Experiment A, the larger of the two
    nets' maxima over layers and their trained losses.
    """
    tables = as_tables(tables, ("path", "bound"), "theorem41_paths_figure")
    paths, bound = tables["path"], tables["bound"]
    level = bound[bound["experiment"].isin(["A", "trained"])]["train_loss"].max()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, split, col, ylabel in ((axes[0], "train", "path_loss", "training loss"),
                                   (axes[1], "test", "path_error", "test error (%)")):
        scale = 100.0 if col == "path_error" else 1.0
        for i, (name, g) in enumerate(paths[paths["split"] == split].groupby("path",
                                                                             sort=False)):
            K = int(g["n_segments"].iloc[0])
            ax.plot(g["t"], scale * g[col], "-", color=f"C{i}", label=f"{name} ({K} seg.)")
            if name in ("A", "B"):
                v = g[np.isclose(g["s"] % 1, 0)]
                ax.plot(v["t"], scale * v[col], "o", color=f"C{i}", ms=3)
        if col == "path_loss":
            ax.axhline(level, color="C3", ls="--", lw=1, label="Theorem 4.1 bound (Exp. A)")
            ax.set_yscale("log")
            _finish_axes(ax)
        ax.set_xlabel("position along the path")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def noise_stability_figure(q, smooth=None, layer=2):
    """Kuditipudi et al. Figure 3 (left): distributions over data points of the noise-stability
    quantities at one layer.

    ``q`` is :func:`meanfield.torch.noise_stability.noise_stability`'s output,
    ``smooth`` that of ``interlayer_smoothness`` (its per-sample rho, all
    draws pooled; the definition takes the minimum over layer pairs).
    ``layer`` is i in the paper's numbering (pre-activation ``x^i``).
    """
    panels = [("layer cushion", q["layer_cushion"][:, layer - 1]),
              ("activation contraction (max over layers)", q["activation_contraction"])]
    if layer <= q["min_interlayer_cushion"].shape[1]:
        panels.append(("min interlayer cushion", q["min_interlayer_cushion"][:, layer - 1]))
    if smooth is not None:
        rho = smooth["per_sample"].ravel()
        panels.append(("interlayer smoothness (log10)", np.log10(rho[np.isfinite(rho)])))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0))
    for ax, (title, v) in zip(np.atleast_1d(axes), panels):
        ax.hist(v, bins=40, color="C0")
        ax.set_title(title if "max" in title or "log" in title else f"{title}, layer {layer}",
                     fontsize=8)
        ax.set_ylabel("data points")
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def kuditipudi_figure(sweep, by_p, segments, paths, chance=None):
    """Kuditipudi et al. Figure 2 (left, centre) and Figure 3 (right) on our nets.

    Parameters
    ----------
    sweep : pandas.DataFrame
        One row per trained net: ``N``, ``dloss`` (best-of-20 training-loss
        change at p = 1/2) and ``dloss_fixed`` (the same at a fixed number of
        kept units, the control).
    by_p : pandas.DataFrame
        ``p`` and ``dloss`` (best of 20) at the pair's width.
    segments : pandas.DataFrame
        The straight segments of Lemma 3: ``draw``, ``t``, ``loss``.
    paths : pandas.DataFrame
        ``path`` (name), ``t`` (position in [0, 1]) and ``loss``.
    chance : float, optional
        ``ln C``, drawn as a level.
    """
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.5))
    ax = axes[0]
    for col, color, label in (("dloss", "C0", "half of every layer (Definition 1)"),
                              ("dloss_fixed", "C3", "fixed kept count (control)")):
        g = sweep.groupby("N")[col]
        ax.plot(sweep["N"], np.maximum(sweep[col], 1e-6), ".", color=color, alpha=0.5)
        ax.plot(g.mean().index, np.maximum(g.mean().values, 1e-6), "o-", color=color,
                label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden width h")
    ax.set_ylabel("best-of-20 training-loss change")
    _legend_clear(ax, 7)
    ax = axes[1]
    ax.plot(by_p["p"], by_p["dloss"], "o-")
    ax.set_xlabel("dropout fraction p")
    ax.set_ylabel("best-of-20 training-loss change")
    ax.set_title("Figure 2 left", fontsize=8)
    ax = axes[2]
    for _, g in segments.groupby("draw"):
        ax.plot(g["t"], g["loss"], "-", color="C0", lw=0.7, alpha=0.5)
    ax.set_xlabel("t (theta -> Algorithm 1, p = 0.2)")
    ax.set_ylabel("training loss")
    ax.set_title("Lemma 3 segments (Figure 2 centre)", fontsize=8)
    ax = axes[3]
    for i, (name, g) in enumerate(paths.groupby("path", sort=False)):
        ax.plot(g["t"], g["loss"], "-", color=f"C{i}", label=name)
    if chance is not None:
        ax.axhline(chance, color="grey", ls=":", lw=1, label="ln C (uniform prediction)")
    ax.set_xlabel("position along the path")
    ax.set_ylabel("training loss")
    _legend_clear(ax, 7)
    fig.tight_layout()
    return fig


def width_threshold_figure(ratios, crossings, fit=None, level=1.1):
    """Corollary 4.3 of Nguyen, Bréchet & Mondelli: the width where Experiment A's bound
    reaches the trained loss, against the number of training samples.

    Parameters
    ----------
    ratios : pandas.DataFrame
        ``n_train``, ``N`` (width) and ``ratio``: Experiment A's maximum over layers
        over the trained loss, mean over nets
        (:func:`meanfield.analysis.experiment_ratios`).
    crossings : pandas.DataFrame
        ``n_train`` and ``crossing`` (:func:`meanfield.analysis.width_crossing`), the
        widths fitted; rows with ``censored`` set are drawn hollow.
    fit : RateFit, optional
        The log-log fit of ``crossing`` in ``n_train``, drawn with its slope.
    level : float
        The ratio's level (drawn dashed in the left panel).
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ax = axes[0]
    for i, (n, g) in enumerate(ratios.sort_values("N").groupby("n_train")):
        ax.plot(g["N"], g["ratio"], "o-", color=f"C{i}", ms=3, label=f"N = {n} samples")
    ax.axhline(level, color="grey", ls="--", lw=1, label=f"ratio {level:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _label_widths(ax, ratios["N"])
    ax.set_xlabel("width (2 hidden layers)")
    ax.set_ylabel("max over layers of A_l / L(theta')")
    _legend_clear(ax, 7)
    ax = axes[1]
    c = crossings.dropna(subset=["crossing"])
    censored = c["censored"].notna() if "censored" in c else np.zeros(len(c), bool)
    ax.plot(c.loc[~censored, "n_train"], c.loc[~censored, "crossing"], "o", color="C0",
            label="crossing (interpolated)")
    if censored.any():
        ax.plot(c.loc[censored, "n_train"], c.loc[censored, "crossing"], "o", mfc="none",
                color="C0", label="at the sweep's first width")
    if "grid" in c:
        ax.plot(c["n_train"], c["grid"], "_", color="C1", ms=10, label="grid width")
    if len(c):
        n = np.geomspace(c["n_train"].min(), c["n_train"].max(), 20)
        mid = np.exp(np.mean(np.log(c["crossing"])))
        n0 = np.exp(np.mean(np.log(c["n_train"])))
        ax.plot(n, mid * np.sqrt(n / n0), ":", color="grey", label="slope 1/2 (Cor. 4.3)")
        if fit is not None:
            ax.plot(n, fit.predict(n), "-", color="C0", lw=1, label=f"fit: {fit}")
    if len(c):  # a log axis needs data: a sweep may find no crossing
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("training samples N")
    ax.set_ylabel(f"width with A within {100 * (level - 1):.0f}% of L(theta')")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig
