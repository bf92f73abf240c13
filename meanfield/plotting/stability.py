"""Figures of dropout stability and connectivity against N (Shevchenko & Mondelli, Theorem 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._base import (
    _clip_notes,
    _finish_axes,
    _floor,
    _label_widths,
    _legend_outside,
    _log_errorbar,
    _new,
    _note,
    _title,
    rate_plot,
    save_figure,
)


def dropout_vs_n(per_network, fits, ax=None, d=None):
    """``eps_D`` at ``|A| = N/2`` vs N, one series per training time (cf. Figure 2).

    Parameters
    ----------
    per_network : pandas.DataFrame
        Columns N, t, eps_D (one row per network), e.g. ``StabilityResult.per_network()``.
    fits : dict
        ``"eps_D t=<t>"`` -> RateFit.
    d : int, optional
        Input dimension, named in the title with the task and activation of the table.
    """
    fig, ax = _new(ax)
    for t, g in per_network.groupby("t"):
        rate_plot(g["N"], g["eps_D"], fits[f"eps_D t={t:g}"], ax=ax, label=f"t = {t:g}",
                  ylabel=r"$\varepsilon_D = |L_N - L_{N/2}|$")
    _title(ax, "dropout of half of the neurons", per_network, d=d)
    _legend_outside(ax)
    return fig


def dropout_vs_size(per_network, ax=None, d=None):
    """``eps_D`` vs ``|A|`` at several N, mean and seed standard deviation.

    The curves should lie on top of each other: by (3.7) the dropout gap
    depends on ``|A|`` and not on N.  ``|A| = N`` drops nothing (``eps_D = 0``):
    such a mean is marked on the bottom spine and said in the legend; a bar whose
    lower end ``mean - sd`` is not positive is clipped to a floor and marked.
    """
    fig, ax = _new(ax)
    stats = {N: g.groupby("size")["eps_D"].agg(["mean", "std"])
             for N, g in per_network.groupby("N")}
    floor = _floor(*[m["mean"] for m in stats.values()],
                   *[m["mean"] - m["std"].fillna(0) for m in stats.values()])
    clipped, zeros = 0, []
    for i, (N, m) in enumerate(stats.items()):
        c, z = _log_errorbar(ax, m.index, m["mean"], m["std"], floor, color=f"C{i}",
                             label=f"N = {N}")
        clipped += c
        zeros += [(N, int(a)) for a in z]
    sizes = np.unique(per_network["size"])
    ref = per_network.groupby("size")["eps_D"].mean()
    ref = ref[ref > 0]
    if len(ref):
        ax.plot(sizes, ref.iloc[0] * np.sqrt(ref.index[0] / sizes), "k:",
                label=r"$\propto |A|^{-1/2}$")
    if all(a == N for N, a in zeros):
        said = r"$\varepsilon_D = 0$ at $|A| = N$ (nothing dropped), on the axis"
    else:
        said = r"$\varepsilon_D = 0$ at $(N, |A|)$ = " + ", ".join(f"({N}, {a})" for N, a in zeros)
    _clip_notes(ax, clipped, zeros, said)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$|A|$")
    ax.set_ylabel(r"$\varepsilon_D$")
    _title(ax, r"dropout of $|A|$ neurons (mean, seed sd)", per_network, d=d)
    _label_widths(ax, sizes)
    _legend_outside(ax)
    return fig


def connectivity_vs_n(per_pair, fits, bound=None, ax=None, d=None):
    """``eps_C`` of the seven-segment path and the barriers of the two straight lines vs N.

    ``bound``, if given, is ``(N_grid, values)`` of a fitted bound shape drawn dashed.
    """
    fig, ax = _new(ax)
    names = {"eps_C": r"$\varepsilon_C$ (seven-segment path)",
             "eps_C_debiased": r"$\varepsilon_C$, dropout bias removed",
             "barrier_straight": "straight line",
             "barrier_aligned": "aligned straight line"}
    for col, label in names.items():
        if col not in per_pair:
            continue
        g = per_pair[["N", col]].dropna()
        if g.empty:
            continue
        if (g[col] <= 0).all():  # nothing to draw on a log axis; say so
            ax.plot([], [], " ", label=f"{label}: = 0 for every pair")
            continue
        if col in fits:
            rate_plot(g["N"], g[col].clip(lower=0.0), fits[col], ax=ax, label=label,
                      ylabel="barrier")
        else:
            rate_plot(g["N"], g[col].clip(lower=0.0), None, ax=ax, label=label,
                      ylabel="barrier")
    if bound is not None:
        ax.loglog(*bound, "k--", lw=1, label="K x shape (3.8)")
    _label_widths(ax, per_pair["N"])
    _title(ax, "barrier along paths between two SGD solutions", per_pair, d=d)
    _legend_outside(ax)
    return fig


def _profile(ax, curve, vertices, labels, others=(), eps_D=None):
    """Draw one path's loss ``curve = (s, loss)`` over [0, 1] with its ``vertices`` marked
    and named, further curves ``others = [(label, (s, loss)), ...]`` beside it."""
    s, f = curve
    K = len(labels) - 1
    ax.plot(s, f, "-", label=f"{K}-segment path")
    vl = np.asarray(vertices, float)
    x = np.arange(K + 1) / K
    ax.plot(x, vl, "o", color="C0")
    # The vertices' names on the top edge, every other one a row higher: beside the
    # curves they crossed the other paths and each other (eight names of up to 21
    # characters in 6.5 inches); a faint line joins each name to its vertex.
    for k in x:
        ax.axvline(k, color="0.88", lw=0.6, zorder=0)
    for row in (0, 1):
        top = ax.secondary_xaxis("top")
        top.set_xticks(x[row::2], labels[row::2], fontsize=7)
        top.tick_params(axis="x", length=2 + 9 * row, pad=1, color="0.6")
    for i, (label, (so, fo)) in enumerate(others, 1):
        ax.plot(so, fo, "-", color=f"C{i}", label=label)
    ends = max(vl[0], vl[-1])
    ax.axhline(ends, color="gray", lw=0.8, ls=":")
    if eps_D is not None:
        ax.axhline(ends + eps_D, color="C3", ls="--", label=r"$\max(L) + \varepsilon_D$")
    ax.set_xlabel("position along the path")
    ax.set_ylabel("population risk")
    _finish_axes(ax)
    _legend_outside(ax)


def path_profile(path, n_per_segment=33, others=(), eps_D=None, ax=None):
    """Loss along a path with its vertices marked (cf. Figure 3 of Shevchenko & Mondelli).

    Parameters
    ----------
    path : PathVertices
        Drawn over its parameter rescaled to [0, 1].
    others : sequence of (label, PathVertices)
        Further paths (the straight-line baselines) on the same axis.
    eps_D : float, optional
        Draws the level ``max(L(theta), L(theta')) + eps_D`` that Theorem 1
        says the path stays under.
    """
    fig, ax = _new(ax, (6.5, 4.0))

    def curve(p):
        s, f = p.dense(n_per_segment, closed_form=False)
        return s / p.n_segments, f

    _profile(ax, curve(path), path.vertex_losses(), path.labels,
             [(label, curve(p)) for label, p in others], eps_D)
    return fig


def pair_path_figure(table, ax=None):
    """The loss along the seven-segment path of one pair, with the straight lines stored
    beside it, from the rows of :func:`meanfield.twolayer.experiment.path_cell`.

    The dashed level is ``max(L(theta), L(theta')) + eps_D`` with ``eps_D`` the
    larger dropout change at the path's two dropout vertices (Theorem 1(B) of
    Shevchenko & Mondelli, ICML 2020).  Returns None when the table holds no
    seven-segment path.
    """
    def rows(name, kind):
        return table[(table["path"] == name) & (table["kind"] == kind)]

    if rows("seven", "vertex").empty:
        return None
    fig, ax = _new(ax, (6.5, 4.0))
    vert = rows("seven", "vertex")
    vl = vert["loss"].to_numpy(float)
    eps_D = max(abs(vl[1] - vl[0]), abs(vl[3] - vl[-1]))
    names = {"straight": "straight line", "aligned": "aligned straight line"}
    others = [(label, (rows(k, "dense")["s"].to_numpy(float),
                       rows(k, "dense")["loss"].to_numpy(float)))
              for k, label in names.items() if not rows(k, "dense").empty]
    dense = rows("seven", "dense")
    _profile(ax, (dense["s"].to_numpy(float), dense["loss"].to_numpy(float)), vl,
             tuple(vert["label"]), others, eps_D)
    # the pair's settings (the stored table holds them as columns)
    said = [f"{k} = {table[k].iloc[0]}" for k in ("N", "d") if k in table]
    said += [str(table["activation"].iloc[0])] if "activation" in table else []
    ax.set_title("Loss along the paths between two trained nets"
                 + (f" ({', '.join(said)})" if said else ""))
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
    d = res.config.get("d")
    figs = {"dropout_vs_n": dropout_vs_n(res.per_network(), fits, d=d)}
    sweep = res.per_network("sweep")
    if not sweep.empty:
        figs["dropout_vs_size"] = dropout_vs_size(sweep, d=d)
    pairs = res.per_pair()
    Ns = np.unique(pairs["N"])
    grid = np.geomspace(Ns.min(), Ns.max(), 50)
    shape = connectivity_shape(grid, res.config["alpha0"] / grid, res.config["d"])
    figs["connectivity_vs_n"] = connectivity_vs_n(pairs, fits, d=d,
                                                  bound=(grid, bounds["eps_C"].K_fit * shape))
    return [save_figure(fig, out / name)[0] for name, fig in figs.items()]


def dimension_ratios(rows, note=None, ax=None):
    """Ratios ``eps_D(d_max) / eps_D(d_min)`` side by side, each beside its bound's shape.

    Parameters
    ----------
    rows : list of dict
        One per ratio: ``label`` (its setting, in words), ``ratio``, ``interval``
        ``(low, high)``, ``shape`` (the ratio of the bound's shape at the two
        dimensions) and ``shape_label`` (the shape in words).
    note : str, optional
        Said in the legend (e.g. that a ratio was not available).

    Returns
    -------
    matplotlib.figure.Figure
        Log y axis; the ratios with their intervals, a dashed mark at each
        bound shape and a dotted line at 1 (``eps_D`` does not grow with d).
    """
    fig, ax = _new(ax, size=(3.2 + 1.6 * max(len(rows), 1), 3.8))
    values = [1.0]
    for i, r in enumerate(rows):
        lo, hi = r["interval"]
        ax.errorbar([i], [r["ratio"]], yerr=[[r["ratio"] - lo], [hi - r["ratio"]]], fmt="o",
                    color=f"C{i}", capsize=4,
                    label=f"{r['label']}: {r['ratio']:.2f} [{lo:.2f}, {hi:.2f}]")
        ax.plot([i - 0.3, i + 0.3], [r["shape"]] * 2, "--", color=f"C{i}",
                label=f"bound shape: {r['shape_label']}")
        values += [lo, hi, r["shape"]]
    ax.axhline(1.0, color="gray", lw=0.8, ls=":", label=r"ratio 1: does not grow with $d$")
    if note:
        _note(ax, note)
    ax.set_yscale("log")
    ax.set_ylim(min(values) / 1.5, max(values) * 1.5)
    ax.set_xlim(-0.6, max(len(rows), 1) - 0.4)
    ax.set_xticks(range(len(rows)), [r["label"].split(":")[0] for r in rows], fontsize=7)
    ax.set_ylabel(r"$\varepsilon_D(d_{\max}) / \varepsilon_D(d_{\min})$")
    ax.set_title("dropout stability against the input dimension", fontsize=8)
    _finish_axes(ax)
    _legend_outside(ax)
    return fig
