"""Every figure of meanfield.plotting, drawn on a small hand-made table, read back: log axes
labelled at the data, nothing drawn outside the canvas, titles in words, no point left out
without a mark."""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from meanfield import plotting  # noqa: E402
from meanfield.analysis import loglog_fit  # noqa: E402

TASK, ACT, D = "teacher-student(width=4)", "relu", 4
NS = (25, 50, 100, 200)
SIZES = (25, 50, 100)


def _eps(rng, n, scale=0.2):
    return scale * n ** -0.5 * rng.lognormal(0.0, 0.6)


def stability_tables():
    """``(dropout, paths)`` rows as :func:`meanfield.twolayer.experiment.stability_cell` writes
    them: four N, two seeds, eps_D exactly 0 at |A| = N (nothing dropped), one eps_C of 0 and
    seed spreads wider than the means (error bars below 0)."""
    rng = np.random.default_rng(0)
    drop, paths = [], []
    for N in NS:
        for seed in (0, 1):
            base = {"task": TASK, "activation": ACT, "N": N, "seed": seed, "alpha": 1.0 / N}
            for net in (1, 2):
                for t in (0.0, 0.5, 1.0):
                    e = _eps(rng, N)
                    drop.append({**base, "net": net, "t": t, "kind": "half", "size": N // 2,
                                 "draw": 0, "L_N": 0.1, "L_A": 0.1 + e, "eps_D": e, "bias": 0.0})
                if N >= 100:
                    for size in SIZES:
                        e = 0.0 if size == N else _eps(rng, size) * rng.choice([0.05, 3.0])
                        drop.append({**base, "net": net, "t": 1.0, "kind": "sweep",
                                     "size": size, "draw": 0, "L_N": 0.1, "L_A": 0.1 + e,
                                     "eps_D": e})
            eC = 0.0 if (N, seed) == (50, 1) else _eps(rng, N, 0.1)
            paths.append({**base, "T": 1.0, "draw": 0, "L_1": 0.1, "L_2": 0.1,
                          "max_vertex": 0.1 + eC, "eps_C": eC, "eps_C_debiased": eC / 2,
                          "barrier_straight": _eps(rng, N, 2.0),
                          "barrier_aligned": _eps(rng, N, 1.0)})
    return pd.DataFrame(drop), pd.DataFrame(paths)


def stability_result():
    from meanfield.twolayer.experiment import StabilityResult

    drop, paths = stability_tables()
    return StabilityResult(drop, paths, {"task": "teacher-student", "d": D, "activation": ACT,
                                         "alpha0": 1.0})


def fig_dropout_vs_n():
    res = stability_result()
    return plotting.dropout_vs_n(res.per_network(), res.fits(n_boot=50)), \
        len(res.per_network())


def fig_dropout_vs_size():
    sweep = stability_result().per_network("sweep")
    return plotting.dropout_vs_size(sweep), sweep.groupby(["N", "size"]).ngroups


def fig_connectivity_vs_n():
    res = stability_result()
    pairs = res.per_pair()
    return plotting.connectivity_vs_n(pairs, res.fits(n_boot=50)), None


def fig_path_profile():
    from meanfield.plotting import pair_path_figure as path_figure
    from meanfield.twolayer.paths import SEVEN_LABELS

    rows = []
    for name, K in (("seven", 7), ("straight", 1), ("aligned", 1)):
        s = np.linspace(0, 1, 8 * K + 1)
        loss = 0.1 + 0.02 * np.sin(np.pi * s) ** 2
        rows.append(pd.DataFrame({"path": name, "kind": "dense", "s": s, "loss": loss,
                                  "label": ""}))
        labels = SEVEN_LABELS if K == 7 else ("theta", "theta'")
        v = np.linspace(0, 1, K + 1)
        rows.append(pd.DataFrame({"path": name, "kind": "vertex", "s": v,
                                  "loss": 0.1 + 0.02 * np.sin(np.pi * v) ** 2,
                                  "label": list(labels)}))
        rows.append(pd.DataFrame({"path": [name], "kind": "barrier", "s": np.nan,
                                  "loss": 0.02, "label": ""}))
    return path_figure(pd.concat(rows, ignore_index=True)), None


@pytest.fixture(scope="module")
def coupled():
    from meanfield.tasks import teacher_student
    from meanfield.twolayer import run_coupled

    return run_coupled(teacher_student(D, ACT, width=4), 20, 0.05, 0.5, M=100, n_snapshots=5,
                       progress=False)


def fig_risk_curves(coupled):
    return plotting.risk_curves(coupled), None


def fig_couple_rate_plot():
    rng = np.random.default_rng(1)
    N = np.repeat(NS, 3)
    y = 0.3 * N ** -0.5 * rng.lognormal(0, 0.3, N.size)
    y[1] = 0.0  # a run whose gap is exactly 0: kept, marked
    fit = loglog_fit(N, y, on="means", n_boot=50)
    return plotting.rate_plot(N, y, fit, ylabel="sup_t |L_N - R(rho_t)|", label="risk gap"), \
        N.size


def empirical_table():
    """Rows of :func:`meanfield.torch.experiments.empirical_cell`: depth 2 and 3, three N,
    two seeds, four snapshots; a change in test loss of 0 at one (N, seed)."""
    rng = np.random.default_rng(2)
    rows = []
    for depth in (2, 3):
        for N in (20, 40, 80):
            for seed in (0, 1):
                for frac in (0.0, 0.35, 0.7, 1.0):
                    lf = 2.3 * np.exp(-2 * frac) + 0.1
                    dl = 0.0 if (depth, N, seed, frac) == (2, 40, 1, 1.0) else \
                        _eps(rng, N, 0.5)
                    ef = 0.9 * np.exp(-3 * frac) + 0.05
                    rows.append({"depth": depth, "N": N, "seed": seed, "fraction": frac,
                                 "t": 10 * frac, "loss_full": lf, "loss_half": lf + dl,
                                 "dloss_half": dl, "error_full": ef,
                                 "error_half": ef + dl / 5, "derror_half":
                                     rng.normal(0.02, 0.03)})
    return pd.DataFrame(rows)


def fig_full_vs_dropout():
    t = empirical_table()
    return plotting.full_vs_dropout(t[t["depth"] == 2]), None


def fig_dropout_change_vs_n():
    t = empirical_table()
    g = t[t["depth"] == 2]
    fig, _ = plotting.dropout_change_vs_n(g)
    return fig, len(g)


def fig_error_change_vs_n():
    t = empirical_table()
    return plotting.error_change_vs_n(t), None


def fig_path_error():
    rows = []
    for name, K in (("dropout", 7), ("straight", 1), ("aligned", 1)):
        s = np.linspace(0, K, 4 * K + 1)
        rows.append(pd.DataFrame({"path": name, "n_segments": K, "s": s,
                                  "loss": 0.3 + 0.1 * np.sin(np.pi * s / K),
                                  "error": 0.05 + 0.02 * np.sin(np.pi * s / K)}))
    hist = []
    for net in ("net 1", "net 2"):
        for layer in ("first", "output"):
            e = np.linspace(-3, 3, 21)
            hist.append(pd.DataFrame({"net": net, "layer": layer, "bin_lo": e[:-1],
                                      "bin_hi": e[1:], "count": np.exp(-e[:-1] ** 2)}))
    return plotting.path_error_figure(pd.concat(rows), pd.concat(hist)), None


def multilayer_tables():
    rng = np.random.default_rng(3)
    rows, path_rows = [], []
    for d in (5, 10):
        for N in (16, 32, 64):
            for seed in (0, 1):
                for net in (1, 2):
                    for size in (4, N // 2, N):
                        e = 0.0 if size == N else _eps(rng, size)
                        rows.append({"d": d, "N": N, "seed": seed,
                                     "net": net, "size": size, "eps_D": e,
                                     "risk": 0.2 + 0.5 / N ** 0.5})
                eC = 0.0 if (d, N) == (10, 32) else _eps(rng, N, 0.05)
                path_rows.append({"d": d, "N": N, "seed": seed, "eps_C": eC,
                                  "se": 1e-3, "risk": 0.2, "risk2": 0.2})
    return {"dropout": pd.DataFrame(rows), "paths": pd.DataFrame(path_rows)}


def fig_multilayer_rates():
    return plotting.multilayer_rates(multilayer_tables()), None


def fig_multilayer_risk():
    return plotting.multilayer_risk(multilayer_tables()), None


def deep_table():
    rng = np.random.default_rng(4)
    rows = []
    for N in (50, 100, 200):
        for seed in (0, 1):
            rows.append({"N": N, "seed": seed, "experiment": "trained", "layer": -1,
                         "train_loss": 0.01 * rng.lognormal(0, 0.2)})
            for layer in (1, 2, 3):
                for exp, scale in (("A", 0.05), ("B", 0.3)):
                    # a seed spread larger than the mean: the bar's lower end is below 0
                    rows.append({"N": N, "seed": seed, "experiment": exp, "layer": layer,
                                 "train_loss": scale * rng.choice([0.01, 1.0])})
    return pd.DataFrame(rows)


def fig_ab_per_layer():
    t = deep_table()
    return plotting.experiments_ab_per_layer(t[t["N"] == 100]), None


def fig_ab_vs_width():
    return plotting.experiments_ab_vs_width(deep_table()), None


def fig_theorem41_paths():
    bound = [{"net": w, "experiment": e, "layer": layer, "train_loss": v}
             for w in (1, 2) for e, layer, v in (("trained", -1, 0.01), ("A", 1, 0.05),
                                                  ("A", 2, 0.04), ("B", 1, 0.2))]
    rows = []
    for name, K in (("A", 13), ("B", 5), ("straight", 1), ("aligned", 1)):
        s = np.linspace(0, K, 2 * K + 1)
        for split in ("train", "test"):
            rows += [{"path": name, "split": split, "n_segments": K, "s": si,
                      "t": si / K, "path_loss": 0.01 + 0.05 * np.sin(np.pi * si / K),
                      "path_error": 0.02 + 0.01 * np.sin(np.pi * si / K)} for si in s]
    return plotting.theorem41_paths_figure({"path": pd.DataFrame(rows),
                                            "bound": pd.DataFrame(bound)}), None


def fig_noise_stability():
    rng = np.random.default_rng(5)
    q = {"layer_cushion": rng.uniform(0.1, 0.5, (200, 3)),
         "activation_contraction": rng.uniform(1, 2, 200),
         "min_interlayer_cushion": rng.uniform(0.1, 0.3, (200, 2))}
    smooth = {"per_sample": rng.lognormal(0, 1, (200, 2))}
    return plotting.noise_stability_figure(q, smooth), None


def fig_pde_vs_sgd():
    t = np.linspace(0, 1, 6)
    edges = np.linspace(0, 2, 11)

    class Sol:
        def density(self, k, bins=60):
            return edges, np.exp(-(edges[:-1] - 1.0 - 0.1 * k) ** 2)

    rng = np.random.default_rng(6)
    case = {"name": "isotropic Gaussians, relu, d = 10", "times": t,
            "pde_risk": 0.5 * np.exp(-t) + 0.01, "particle_risk": 0.5 * np.exp(-t) + 0.012,
            "particle_M": 400, "pde": Sol(), "radii_T": rng.uniform(0.5, 1.5, 100),
            "sgd": {50: {"mean": 0.5 * np.exp(-t) + 0.02, "sd": 0.6 * np.exp(-t)},
                    200: {"mean": 0.5 * np.exp(-t) + 0.015, "sd": 0.01 + 0 * t}}}
    return plotting.pde_vs_sgd_figure([case]), None



def fig_rates_two_activations():
    """The figure of validation/sgd_vs_limit.py: risk gap and largest distance of two
    activations against N on one axes, each with its fitted line (8 legend entries)."""
    rng = np.random.default_rng(3)
    Ns = np.repeat([250, 500, 1000, 2000, 4000], 4)
    fig = None
    for k, act in enumerate(("erf", "relu")):
        for what, c in (("risk gap", 0.02), ("max_i |theta_i - thetabar_i|", 0.6)):
            y = c * (1 + k) * Ns ** -0.5 * rng.lognormal(0, 0.2, Ns.size)
            fit = loglog_fit(Ns, y, n_boot=50)
            fig = plotting.rate_plot(Ns, y, fit, label=f"{act}: {what}",
                                     ax=None if fig is None else fig.axes[0])
    fig.axes[0].set_ylabel("sup over snapshots")
    return fig, None


FIGURES = {f.__name__[4:]: f for f in (
    fig_dropout_vs_n, fig_dropout_vs_size, fig_connectivity_vs_n, fig_path_profile,
    fig_couple_rate_plot, fig_full_vs_dropout, fig_dropout_change_vs_n, fig_error_change_vs_n,
    fig_path_error, fig_multilayer_rates, fig_multilayer_risk, fig_ab_per_layer,
    fig_ab_vs_width, fig_theorem41_paths, fig_noise_stability, fig_pde_vs_sgd,
    fig_rates_two_activations)}



# --- the checks -----------------------------------------------------------------------

def _drawn(fig):
    """Draw ``fig`` as :func:`meanfield.plotting.save_figure` saves it (150 dpi, tight box);
    the renderer and the figure's box in display units."""
    fig.set_dpi(150)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return renderer, fig.bbox


def _texts(fig):
    """The texts that are drawn: visible, non-empty, tick labels only of ticks in view."""
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - 1e-12 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-12 * abs(hi - lo):
                    hidden.update(map(id, (tick.label1, tick.label2)))
    return [t for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text() and id(t) not in hidden]


def check_inside(fig):
    """Every visible text inside the canvas that ``bbox_inches="tight"`` keeps: the tight
    box must not cut text, and nothing may lie beyond the figure when saved."""
    renderer, box = _drawn(fig)
    tight = fig.get_tightbbox(renderer)
    tight = tight.transformed(fig.dpi_scale_trans)  # inches -> display
    bad = []
    for t in _texts(fig):
        e = t.get_window_extent(renderer)
        if e.x0 < tight.x0 - 1 or e.x1 > tight.x1 + 1 or e.y0 < tight.y0 - 1 or \
                e.y1 > tight.y1 + 1:
            bad.append(t.get_text())
    assert not bad, f"text outside the saved canvas: {bad}"
    for ax in fig.axes:  # labels of data points stay inside their axes
        box = ax.get_window_extent(renderer)
        for a in ax.texts:
            if isinstance(a, matplotlib.text.Annotation) and a.xycoords == "data":
                e = a.get_window_extent(renderer)
                assert box.x0 - 1 <= e.x0 and e.x1 <= box.x1 + 1 and box.y0 - 1 <= e.y0 \
                    and e.y1 <= box.y1 + 1, f"label {a.get_text()!r} crosses the axes frame"


def check_texts_apart(fig):
    """No two drawn texts overlap (their boxes on the canvas share more than a pixel each
    way): a label written over another cannot be read."""
    renderer, _ = _drawn(fig)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            assert w <= 1 or h <= 1, f"{a!r} and {b!r} overlap ({w:.0f} x {h:.0f} px)"


def check_log_axes(fig):
    """Each log axis: at least two non-empty major tick labels, no labelled minor ticks."""
    _drawn(fig)
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.get_scale() != "log":
                continue
            lo, hi = sorted(getattr(ax, f"get_{name}lim")())
            labels = [t.get_text() for t, v in zip(axis.get_majorticklabels(),
                                                   axis.get_majorticklocs())
                      if lo <= v <= hi and t.get_text().strip()]
            assert len(labels) >= 2, f"{name} axis of {ax.get_title()!r}: labels {labels}"
            assert not any("\\times" in s or "^" in s for s in labels), \
                f"{name} axis labels not plain numbers: {labels}"
            minor = [t.get_text() for t in axis.get_minorticklabels() if t.get_text().strip()]
            assert not minor, f"{name} axis has labelled minor ticks {minor}"


def check_legends_clear(fig):
    """No legend box covers a plotted point: a marker of a line or a point of a scatter."""
    renderer, _ = _drawn(fig)
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not leg.get_visible():
            continue
        box = leg.get_window_extent(renderer)
        series = [(line.get_label(), line.get_transform(), np.column_stack(line.get_data()))
                  for line in ax.get_lines() if line.get_visible()
                  and line.get_marker() not in (None, "None", "", " ")]
        series += [(c.get_label(), c.get_offset_transform(), c.get_offsets())
                   for c in ax.collections if c.get_visible() and len(c.get_offsets())]
        for label, transform, xy in series:
            xy = np.asarray(xy, float)
            if not xy.size:
                continue
            d = transform.transform(xy)
            inside = (np.isfinite(d).all(axis=1) & (d[:, 0] >= box.x0) & (d[:, 0] <= box.x1)
                      & (d[:, 1] >= box.y0) & (d[:, 1] <= box.y1))
            assert not inside.any(), \
                f"the legend of {ax.get_title()!r} covers {inside.sum()} point(s) of {label!r}"


def check_titles(fig):
    for ax in fig.axes:
        for title in (ax.get_title(), ax.get_title("left"), fig._suptitle and
                      fig._suptitle.get_text() or ""):
            assert not re.search(r"[A-Z]\w*\(", title), f"title is a repr: {title!r}"
            assert "pair_sums" not in title and "activation=" not in title, title


def _ticks_at_data(fig, values, axis="x"):
    _drawn(fig)
    ax = fig.axes[0]
    ticks = {float(v) for v in getattr(ax, f"get_{axis}ticks")()}
    assert {float(v) for v in values} <= ticks, (sorted(values), sorted(ticks))


def _points_on_log_axes(ax):
    """Plotted data points (markers) with finite, positive coordinates on the axis scales."""
    n = 0
    for line in ax.get_lines():
        if line.get_marker() in (None, "None", "", " "):
            continue
        x, y = (np.asarray(v, float) for v in line.get_data())
        ok = np.isfinite(x) & np.isfinite(y)
        if ax.get_xscale() == "log":
            ok &= x > 0
        if ax.get_yscale() == "log" and line.get_transform() == ax.transData:
            ok &= y > 0  # (a marker on the spine has y in axes units)
        n += int(ok.sum())
    return n


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_reads_cleanly(name, request):
    fig, _ = FIGURES[name]()
    try:
        check_inside(fig)
        check_log_axes(fig)
        check_titles(fig)
        check_legends_clear(fig)
        check_texts_apart(fig)
    finally:
        plt.close(fig)


def test_risk_curves_title_in_words_and_t0_gap_explained(coupled):
    fig, _ = fig_risk_curves(coupled)
    try:
        check_inside(fig)
        check_log_axes(fig)
        check_titles(fig)
        check_legends_clear(fig)
        title = fig.axes[0].get_title()
        assert "teacher-student" in title and "relu" in title and "d = 4" in title, title
        words = " ".join(t.get_text() for t in _texts(fig))
        assert "t = 0" in words and "M = 100" in words, words
        # the symbols are typeset (mathtext), not spelled out as thetabar_i or rho_t
        labels = [t.get_text() for ax in fig.axes if ax.get_legend()
                  for t in ax.get_legend().get_texts()]
        assert any(r"R(\rho_t)" in x for x in labels), labels
        assert any(r"\bar\theta_i" in x for x in labels), labels
        assert not any("thetabar" in x or "rho_t" in x.replace(r"\rho_t", "") for x in labels)
        assert all(ax.get_xlabel() == r"$t = k\alpha$" for ax in fig.axes if ax.get_xlabel())
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", ["dropout_vs_n", "dropout_vs_size", "connectivity_vs_n"])
def test_sweep_titles_name_task_and_activation(name):
    fig, _ = FIGURES[name]()
    try:
        title = fig.axes[0].get_title()
        assert "teacher-student" in title and "relu" in title, title
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name, values", [("dropout_vs_n", NS), ("connectivity_vs_n", NS),
                                          ("dropout_vs_size", SIZES),
                                          ("error_change_vs_n", (20, 40, 80)),
                                          ("couple_rate_plot", NS),
                                          ("dropout_change_vs_n", (20, 40, 80)),
                                          ("multilayer_rates", (16, 32, 64)),
                                          ("ab_vs_width", (50, 100, 200))])
def test_log_x_ticks_at_the_measured_values(name, values):
    fig, _ = FIGURES[name]()
    try:
        _ticks_at_data(fig, values)
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert [str(v) for v in values] == [s for s in labels if s], labels
    finally:
        plt.close(fig)


def test_dropout_vs_size_keeps_the_zero_points_and_marks_them():
    """|A| = N drops nothing (eps_D = 0): the point is drawn at the axis bottom, marked, and
    said in the legend; every (N, |A|) mean is a drawn point."""
    fig, n_means = fig_dropout_vs_size()
    try:
        ax = fig.axes[0]
        _drawn(fig)
        assert _points_on_log_axes(ax) >= n_means
        legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
        assert "0" in legend and "nothing dropped" in legend or "= 0" in legend, legend
    finally:
        plt.close(fig)


def test_error_bars_survive_a_log_axis():
    """Bars whose lower end is <= 0 are clipped to a positive floor inside the axis and marked,
    not sent to -inf."""
    for make in (fig_dropout_vs_size, fig_ab_vs_width, fig_ab_per_layer):
        fig, _ = make()
        try:
            ax = fig.axes[0]
            _drawn(fig)
            lo = min(ax.get_ylim())
            for coll in ax.collections:
                for seg in getattr(coll, "get_segments", list)():
                    seg = np.asarray(seg)
                    if seg.size and np.allclose(seg[:, 0], seg[0, 0]):  # a vertical bar
                        assert np.all(np.isfinite(seg)) and seg[:, 1].min() >= lo * (1 - 1e-9), \
                            (make.__name__, seg)
            legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
            assert "clipped" in legend, (make.__name__, legend)
        finally:
            plt.close(fig)


def test_zero_values_are_marked_not_dropped():
    """A run, pair or seed change that is exactly 0 is drawn (at the axis bottom) or named in
    the legend; the point count matches the table."""
    for make in (fig_couple_rate_plot, fig_dropout_change_vs_n):
        fig, rows = make()
        try:
            ax = fig.axes[0]
            _drawn(fig)
            legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
            assert "= 0" in legend or "0 at" in legend, (make.__name__, legend)
            assert _points_on_log_axes(ax) >= rows, make.__name__
        finally:
            plt.close(fig)
    fig, _ = fig_connectivity_vs_n()
    try:
        legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
        assert "= 0" in legend, legend
    finally:
        plt.close(fig)


def test_figures_saved_as_pngs(tmp_path, coupled):
    """save_figure writes each figure; the tight box keeps the path's last label."""
    for name, make in FIGURES.items():
        fig, _ = make()
        paths = plotting.save_figure(fig, tmp_path / name)
        assert all(p.stat().st_size > 0 for p in paths)
    plotting.save_figure(plotting.risk_curves(coupled), tmp_path / "risk")


def test_stability_figures_typeset_their_symbols():
    """eps_D, eps_C and |A| in the stability figures' labels, legends and titles are
    mathtext ($\\varepsilon_D$, $|A|^{-1/2}$), not spelled out as eps_D or |A|^(-1/2)."""
    import re

    for make in (fig_dropout_vs_n, fig_dropout_vs_size, fig_connectivity_vs_n,
                 fig_path_profile, fig_multilayer_rates):
        fig, _ = make()
        try:
            _drawn(fig)
            words = [t.get_text() for t in _texts(fig)]
            plain = [re.sub(r"\$[^$]*\$", "", w) for w in words]
            assert not any("eps_" in w or "|A|" in w or "^(" in w for w in plain), \
                (make.__name__, words)
            assert any(r"\varepsilon" in w for w in words) or make is fig_path_profile, \
                (make.__name__, words)
        finally:
            plt.close(fig)
