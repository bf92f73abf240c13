"""Figures.  Each function takes result objects and returns the Figure."""

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
    from .analysis import connectivity_shape

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
    shape = connectivity_shape(grid, res.config["alpha0"] / grid, res.config["d"] + 1)
    figs["connectivity_vs_n"] = connectivity_vs_n(pairs, fits,
                                                  bound=(grid, bounds["eps_C"].K_fit * shape))
    return [save_figure(fig, out / name)[0] for name, fig in figs.items()]


# --- empirical side (torch backend), Figures 1-4 of Shevchenko & Mondelli ------------

def _mean_sd(g, by, col):
    s = g.groupby(by)[col]
    return s.mean(), s.std(ddof=1).fillna(0.0)


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
            ax.set_xlabel("t = k alpha")
            ax.set_ylabel(f"test {what}")
    axes[0].legend(fontsize=7)
    axes[1].set_title("second half of each hidden layer removed, rest rescaled", fontsize=8)
    return fig


def dropout_change_vs_n(table, col="dloss_half", ylabel="|change in test loss|"):
    """Figure 2: the change after dropping half of the neurons vs N, one fit per snapshot.

    Returns the figure and ``{fraction: RateFit}`` (fits on the per-seed
    absolute changes).
    """
    from .analysis import loglog_fit

    fig, ax = _new(None, (5.5, 4.0))
    fits = {}
    for i, (frac, g) in enumerate(table.groupby("fraction")):
        y = g[col].abs().to_numpy()
        if g["N"].nunique() < 2 or (y <= 0).any():
            continue
        fits[float(frac)] = fit = loglog_fit(g["N"], y)
        rate_plot(g["N"], y, fit, ax=ax, label=f"{frac:g} T", ylabel=ylabel)
    ax.set_title("dropout of half of the neurons (test set)", fontsize=9)
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
    fig = plt.figure(figsize=(11, 3.8))
    ax = fig.add_subplot(1, 3, (1, 2))
    for i, (name, g) in enumerate(paths.groupby("path", sort=False)):
        K = g["n_segments"].iloc[0]
        ax.plot(g["s"] / K, 100 * g["error"], "-", color=f"C{i}", label=f"{name} ({int(K)} seg.)")
        if name == "dropout":
            v = g[np.isclose(g["s"] % 1, 0)].set_index("s")["error"]
            ends = max(v.iloc[0], v.iloc[-1])
            n1 = (int(K) - 5) // 2  # vertices n1 and K - n1: the two dropout networks
            drop = max(v.loc[float(n1)] - v.iloc[0], v.loc[float(K - n1)] - v.iloc[-1], 0.0)
            ax.plot(v.index / K, 100 * v.values, "o", color=f"C{i}", ms=4)
            ax.axhline(100 * (ends + drop), color="C3", ls="--", lw=1,
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


# --- multilayer (Theorem 2 of Shevchenko & Mondelli) ----------------------------------

def multilayer_summary(table):
    """Per-net eps_D at ``|A_l| = N/2`` and per-pair eps_C, from the cell rows.

    Both are means over the cell's kept sets (``half_draws`` per net,
    ``path_draws`` per pair); ``se`` is the mean of the paths' Monte Carlo
    standard errors and ``draws`` their number.
    """
    drop = table[table["table"] == "dropout"]
    half = drop[drop["size"] == drop["N"] // 2]
    per_net = half.groupby(["d", "N", "seed", "net"], as_index=False)[["eps_D", "risk"]].mean()
    paths = table[table["table"] == "paths"]
    pairs = paths.groupby(["d", "N", "seed"], as_index=False, sort=False).agg(
        eps_C=("eps_C", "mean"), se=("se", "mean"), risk=("risk", "first"),
        risk2=("risk2", "first"), draws=("eps_C", "size"))
    return per_net, pairs


def multilayer_rates(table, ax=None):
    """eps_D (|A_l| = N/2) and eps_C against N, one colour per d, with fitted slopes.

    eps_C is fitted on its means (it is exactly 0 when the path peaks at an
    end); where a mean is 0 its points are drawn without a fit.
    """
    from .analysis import loglog_fit

    fig, ax = _new(ax, (6.0, 4.2))
    per_net, pairs = multilayer_summary(table)
    for i, (d, g) in enumerate(per_net.groupby("d")):
        if g["N"].nunique() > 1 and (g["eps_D"] > 0).all():
            rate_plot(g["N"], g["eps_D"], loglog_fit(g["N"], g["eps_D"]), ax=ax,
                      label=f"eps_D, d = {d}", ylabel="eps")
    for i, (d, g) in enumerate(pairs.groupby("d")):
        m = g.groupby("N")["eps_C"].mean()
        if len(m) > 1 and (m > 0).all():
            fit = loglog_fit(g["N"], g["eps_C"].clip(lower=0), on="means")
            ax.loglog(m.index, m.values, "s--", ms=5,
                      label=f"eps_C, d = {d}: slope {fit.slope:+.2f} "
                            f"[{fit.ci_low:+.2f}, {fit.ci_high:+.2f}]")
        else:
            pos = m[m > 0]
            zero = ", ".join(str(n) for n in m[m <= 0].index)
            ax.loglog(pos.index, pos.values, "s", ms=5, mfc="none",
                      label=f"eps_C, d = {d} (0 at N = {zero})")
    _label_widths(ax, per_net["N"])
    ax.set_title("multilayer: dropout of half of each layer, and the path barrier", fontsize=9)
    ax.legend(fontsize=6)
    return fig


def multilayer_risk(table, ax=None):
    """Risk at T against N with the extrapolation ``L_inf + c N^(-1/2)`` (labelled as such)."""
    from .analysis import extrapolate

    fig, ax = _new(ax)
    per_net, _ = multilayer_summary(table)
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
    ax.set_title("large-N extrapolation, not the exact limit", fontsize=8)
    ax.legend(fontsize=6)
    return fig


def multilayer_figures(table, out):
    """The standard multilayer figures into folder ``out``; their PNG paths."""
    out = Path(out)
    figs = {"multilayer_rates": multilayer_rates(table), "multilayer_risk": multilayer_risk(table)}
    drop = table[table["table"] == "dropout"]
    if drop["size"].nunique() > 1:
        per = drop.groupby(["N", "seed", "net", "size"], as_index=False)["eps_D"].mean()
        figs["multilayer_dropout_vs_size"] = dropout_vs_size(per)
        figs["multilayer_dropout_vs_size"].axes[0].set_xlabel("A_min = |A_l|")
    return [save_figure(fig, out / name)[0] for name, fig in figs.items()]


# --- Nguyen, Bréchet & Mondelli, Experiments A and B -----------------------------------

def experiments_ab_per_layer(table, ax=None):
    """Figure 3 (a)-(c): training loss of Experiment A (bound of Theorem 4.1) and B
    (dropout stability) per layer, against the trained net (dotted); mean and
    standard deviation over the trained nets (seeds)."""
    fig, ax = _new(ax)
    for i, (exp, label) in enumerate((("A", "A: re-trained subnetwork (Thm 4.1)"),
                                      ("B", "B: dropout + tuned scale"))):
        g = table[table["experiment"] == exp]
        m, sd = _mean_sd(g, "layer", "train_loss")
        ax.errorbar(m.index, m.values, sd.values, fmt="o-", capsize=3, color=f"C{i}",
                    label=label)
    ref = table[table["experiment"] == "trained"]["train_loss"].mean()
    ax.axhline(ref, color="C2", ls=":", label="trained")
    ax.set_yscale("log")
    ax.set_xlabel("layer l")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=7)
    return fig


def experiments_ab_vs_width(table, ax=None):
    """Figure 4: maximum over layers of Experiments A and B against the width N."""
    fig, ax = _new(ax)
    per = table.groupby(["N", "seed", "experiment"], as_index=False)["train_loss"].max()
    for i, (exp, label) in enumerate((("A", "A (max over layers)"), ("B", "B (max over layers)"),
                                      ("trained", "trained"))):
        g = per[per["experiment"] == exp]
        m, sd = _mean_sd(g, "N", "train_loss")
        ax.errorbar(m.index, m.values, sd.values, fmt="o-" if exp != "trained" else "o:",
                    capsize=3, color=f"C{i}", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _label_widths(ax, per["N"])
    ax.set_xlabel("width N")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=7)
    return fig


def theorem41_paths_figure(table):
    """Figure 3 d of Nguyen, Bréchet & Mondelli: training loss and test error along the paths.

    ``table`` is :func:`meanfield.torch.experiments.deep_paths_cell`'s output
    for one pair.  Path A (Theorem 4.1) with its vertices marked, path B
    (through the best rescaled dropout networks), the straight line and the
    line after weight matching; the dashed level is the bound of Theorem 4.1
    from Experiment A, the larger of the two nets' maxima over layers and
    their trained losses.
    """
    paths = table[table["table"] == "path"]
    bound = table[table["table"] == "bound"]
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


def pde_vs_sgd_figure(cases):
    """Mei, Montanari & Nguyen Fig. 1 style: per case, the risk against time from the radial
    PDE (line), the particle limit (squares; diamonds: extrapolated in M where the case has
    several M) and SGD (mean and seed SD per N), and the law of
    |w| at the horizon (PDE density over a histogram of one SGD run at the largest N).

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
        for i, (N, g) in enumerate(c["sgd"].items()):
            ax.errorbar(t, g["mean"], g["sd"], fmt="o", ms=3, capsize=2, color=f"C{i}",
                        label=f"SGD N={N}")
        ax.set_yscale("log")
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
    return fig
