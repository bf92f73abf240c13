"""Shared drawing helpers: saving, log-log rate plots, tick labels at measured values."""

from __future__ import annotations

import weakref
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


def rate_plot(x, y, fit, *, xlabel="N", ylabel="", label=None, ax=None):
    """Log-log scatter of runs, per-x means, and the fitted line with its CI in the legend.

    Runs of value 0 (a barrier that did not appear) are drawn on the bottom spine and
    counted in the legend; ``fit`` None draws the points without a line.  The x ticks sit
    at the measured x values."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.0, 3.8))
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    pos = y > 0
    pts = ax.loglog(x[pos], y[pos], ".", alpha=0.35)[0]
    color = pts.get_color()
    xs = np.unique(x)
    means = np.array([np.mean(y[x == v]) for v in xs])
    ax.loglog(xs[means > 0], means[means > 0], "o", color=color, label=label or ylabel)
    if (~pos).any():
        _mark_zeros(ax, x[~pos], color)
        _note(ax, f"{(~pos).sum()} of {y.size} runs = 0 (on the axis)", "v", color=color)
    if fit is not None:
        grid = np.geomspace(xs.min(), xs.max(), 50)
        ax.loglog(grid, fit.predict(grid), "-", color=color,
                  label=f"fit: slope {fit.slope:+.2f} [{fit.ci_low:+.2f}, {fit.ci_high:+.2f}]"
                        + (f"\n({fit.settings()})" if hasattr(fit, "settings") else ""))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _measured(ax.xaxis, xs)
    _finish_axes(ax)
    _legend_clear(ax, 8)
    return fig


def _new(ax, size=(5.0, 3.8)):
    return (ax.figure, ax) if ax is not None else plt.subplots(figsize=size)


def _label_widths(ax, Ns):
    """Log x-axis ticks at the measured widths only, as plain numbers.

    Call it last: every later ``loglog`` or ``set_xscale`` resets the tickers
    (:func:`_finish_axes` sets them again from the registered values).
    """
    _measured(ax.xaxis, Ns)
    _finish_axes(ax)


def _mean_sd(g, by, col):
    s = g.groupby(by)[col]
    return s.mean(), s.std(ddof=1).fillna(0.0)


# --- log axes a reader can read: ticks at the data, plain numbers ---------------------

_MEASURED = weakref.WeakKeyDictionary()  # axis -> the x values measured on it


def _plain(v, pos=None):
    """A tick label as a plain number: 25, 0.02, 1e-05 (no mathtext powers)."""
    return f"{v:g}"


class _PlainLogLocator(matplotlib.ticker.Locator):
    """Major ticks of a log axis at 1, 2, 5 x 10^k (or every mantissa, or a linear choice on a
    narrow range): at least two in view, so the axis never reads as one lone power of ten."""

    def __call__(self):
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin, vmax):
        lo, hi = sorted((float(vmin), float(vmax)))
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= 0:
            return []
        lo = lo if lo > 0 else hi * 1e-3
        k0, k1 = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
        for subs in ((1,), (1, 2, 5), (1, 2, 3, 5), range(1, 10)):
            ticks = [m * 10.0 ** k for k in range(k0, k1 + 1) for m in subs
                     if lo <= m * 10.0 ** k <= hi]
            if len(ticks) >= 3 or (len(ticks) == 2 and subs == range(1, 10)):
                return ticks[::-(-len(ticks) // 8)] if len(ticks) > 8 else ticks
        ticks = matplotlib.ticker.MaxNLocator(4).tick_values(lo, hi)
        return [t for t in ticks if lo <= t <= hi]


def _finish_axes(fig_or_ax):
    """Tick every log axis of a figure (or one axes) for reading: the x values registered by
    :func:`_label_widths` (or :func:`rate_plot`) where there are some, plain 1-2-5 ticks
    elsewhere; no labelled minor ticks.  Call it last: ``loglog`` and ``set_xscale`` reset
    the tickers."""
    axes = fig_or_ax.axes if hasattr(fig_or_ax, "axes") and not hasattr(fig_or_ax, "xaxis") \
        else [fig_or_ax]
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "log":
                continue
            values = _MEASURED.get(axis)
            if values:
                axis.set_major_locator(matplotlib.ticker.FixedLocator(sorted(values)))
                axis.set_minor_locator(matplotlib.ticker.NullLocator())
            else:
                axis.set_major_locator(_PlainLogLocator())
                axis.set_minor_locator(matplotlib.ticker.LogLocator(subs="auto"))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_plain))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _measured(axis, values):
    """Register measured values (N, |A|) as the tick positions of a log ``axis``."""
    vals = [float(v) for v in np.ravel(values) if np.isfinite(v) and v > 0]
    _MEASURED.setdefault(axis, set()).update(int(v) if v == int(v) else v for v in vals)


# --- values a log axis cannot show: zeros and bars through zero -----------------------

def _mark_zeros(ax, x, color, marker="v", ms=6):
    """Points whose value is 0 (or below) on a log y axis: drawn on the bottom spine (x in
    data, y in axes units), so they are seen and not read as small values."""
    x = np.asarray(x, float)
    if x.size:
        ax.plot(x, np.zeros_like(x), marker, color=color, ms=ms, mfc="none", mew=1.3,
                transform=ax.get_xaxis_transform(), clip_on=False, zorder=5)


def _floor(*arrays):
    """A positive floor for the lower ends of error bars on a log axis: half the smallest
    positive mean or lower end."""
    v = np.concatenate([np.ravel(np.asarray(a, float)) for a in arrays])
    v = v[np.isfinite(v) & (v > 0)]
    return 0.5 * v.min() if v.size else 1e-12


def _log_errorbar(ax, x, mean, sd, floor, *, color, label=None, fmt="o-", **kw):
    """Mean +- sd on a log y axis.  A lower end at or below ``floor`` is drawn to the floor
    and marked with an open triangle; a mean of 0 is marked on the bottom spine.  Returns
    ``(n_clipped, zero_x)``."""
    x, m = np.asarray(x, float), np.asarray(mean, float)
    s = np.nan_to_num(np.asarray(sd, float))
    pos = m > 0
    clip = pos & (m - s <= floor)
    lower = np.where(clip, m - floor, s)
    ax.errorbar(x[pos], m[pos], yerr=[lower[pos], s[pos]], fmt=fmt, color=color, label=label,
                capsize=3, ms=4, **kw)
    if clip.any():
        ax.plot(x[clip], np.full(clip.sum(), floor), "v", color=color, mfc="none", ms=5)
    _mark_zeros(ax, x[~pos], color, marker="x")
    return int(clip.sum()), x[~pos]


def _note(ax, text, marker=" ", **kw):
    """A legend line that says what a marker means (or just says something)."""
    ax.plot([], [], marker, label=text, **{"color": "0.3", "mfc": "none", **kw})


def _clip_notes(ax, n_clipped, zeros, zero_text="mean = 0, on the axis"):
    if n_clipped:
        _note(ax, "bar clipped: mean - sd <= 0", "v")
    if len(zeros):
        _note(ax, zero_text, "x")


# --- titles in words -------------------------------------------------------------------

def _setting(table=None, **given):
    """The setting of a figure in words, e.g. ``teacher-student, teacher width 4; relu;
    d = 4``: task (in words), activation, data set, d, N, depth, from ``given`` or from the
    columns of ``table`` that hold one value."""
    from ..tasks import describe_name

    def one(col):
        if col in given and given[col] is not None:
            return given[col]
        if table is not None and col in getattr(table, "columns", ()):
            vals = table[col].dropna().unique()
            if len(vals) == 1:
                return vals[0]
        return None

    parts = []
    for col, fmt in (("task", describe_name), ("dataset", str), ("activation", str),
                     ("d", "d = {}".format), ("L", "{} layers".format), ("N", "N = {}".format),
                     ("depth", "depth {}".format)):
        v = one(col)
        if v is not None:
            parts.append(fmt(v.item() if hasattr(v, "item") else v))
    return "; ".join(parts)


def _points_covered(ax, box):
    """How many plotted points (line markers, scatter points) of ``ax`` lie in ``box``."""
    n = 0
    series = [(line.get_transform(), np.column_stack(line.get_data()))
              for line in ax.get_lines() if line.get_visible()
              and line.get_marker() not in (None, "None", "", " ")]
    series += [(c.get_offset_transform(), c.get_offsets())
               for c in ax.collections if c.get_visible() and len(c.get_offsets())]
    for transform, xy in series:
        xy = np.asarray(xy, float)
        if xy.size:
            d = transform.transform(xy)
            n += int((np.isfinite(d).all(axis=1) & (d[:, 0] >= box.x0) & (d[:, 0] <= box.x1)
                      & (d[:, 1] >= box.y0) & (d[:, 1] <= box.y1)).sum())
    return n


_LEGEND_PLACES = ("upper right", "upper left", "lower left", "lower right", "center right",
                  "center left", "upper center", "lower center")


def _legend_clear(ax, fontsize=8):
    """A legend that covers no plotted point: the first corner (or edge) of the axes where
    its box is clear of every marker, else right of the axes.  A fixed place, not 'best':
    'best' is chosen again at each draw, so a check at one size says nothing of the next."""
    fig = ax.figure
    for loc in _LEGEND_PLACES:
        leg = ax.legend(fontsize=fontsize, loc=loc)
        fig.canvas.draw()
        if not _points_covered(ax, leg.get_window_extent(fig.canvas.get_renderer())):
            return leg
    return ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _legend_outside(ax, fontsize=7):
    """The legend right of the axes (it stays inside the saved canvas: tight bounding box)."""
    ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _title(ax, what, table=None, **given):
    setting = _setting(table, **given)
    ax.set_title(f"{what}\n{setting}" if setting else what, fontsize=8)
