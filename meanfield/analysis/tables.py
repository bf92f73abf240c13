"""The tables verdicts rest on, computed from stored cell rows (plotting only draws them)."""

from __future__ import annotations

import warnings

import numpy as np

from .._deprecation import REMOVED_IN, renamed_keyword


#: The distances of a coupled run whose sup over snapshots its rate is fitted on.
COUPLE_MEASURES = ("risk_gap", "max_dist", "mean_dist", "w2")


def couple_sups(table):
    """One row per coupled run (cell): the sup over its snapshots of each distance.

    Parameters
    ----------
    table : pandas.DataFrame
        A loaded ``couple`` sweep (:func:`meanfield.load_results`): one row per
        snapshot, the cell's settings as columns.

    Returns
    -------
    pandas.DataFrame
        The cell's settings (as stored: ``alpha`` and ``M`` the values used) and
        ``sup_risk_gap``, ``sup_max_dist``, ``sup_mean_dist``, ``sup_w2``: the
        quantities whose rate in N the sweep's figure fits.

    References
    ----------
    Shevchenko & Mondelli, ICML 2020, proof of Theorem 1: the coupling bound is on
    the sup over ``t <= T`` of these distances.
    """
    cols = [c for c in COUPLE_MEASURES if c in table]
    sups = table.groupby("cell", sort=False)[cols].max()
    sups.columns = [f"sup_{c}" for c in cols]
    per_snapshot = {"t", "step", "risk_sgd", "risk_limit", *COUPLE_MEASURES}
    settings = table.drop_duplicates("cell").set_index("cell")
    settings = settings[[c for c in settings.columns if c not in per_snapshot]]
    return settings.join(sups).reset_index()


def as_tables(tables, names, caller):
    """``tables`` as ``{name: DataFrame}`` holding the tables ``names``.

    Parameters
    ----------
    tables : dict or pandas.DataFrame
        A dict of tables by name, as a cell function returns them or
        :func:`meanfield.experiments.load_tables` loads them, is returned as it
        is.  One DataFrame whose ``table`` column names each row's table (what
        ``multilayer`` and ``deep_paths`` cells returned before they returned a
        dict) is split on that column, with a DeprecationWarning.
    names : tuple of str
        The tables the caller needs.
    caller : str
        The function's name, for the messages.

    Raises
    ------
    ValueError
        When a table of ``names`` is missing (the message lists those given).
    TypeError
        When ``tables`` is neither a dict nor a DataFrame with a ``table`` column.
    """
    if not isinstance(tables, dict):
        if "table" not in getattr(tables, "columns", ()):
            raise TypeError(f"{caller}: tables must be a dict {{name: DataFrame}} with "
                            f"{', '.join(names)}, got {type(tables).__name__}")
        warnings.warn(f"{caller}: one table with a 'table' column is deprecated: pass the "
                      f"dict of tables ({', '.join(names)}) that the cell function or "
                      f"meanfield.experiments.load_tables gives (removed in {REMOVED_IN})",
                      DeprecationWarning, stacklevel=3)
        tables = {str(n): rows.drop(columns="table")
                  for n, rows in tables.groupby("table", sort=False)}
    missing = [n for n in names if n not in tables]
    if missing:
        raise ValueError(f"{caller}: tables must hold {', '.join(names)}, got "
                         f"{', '.join(tables) or 'none'}")
    return tables


@renamed_keyword("table", "tables")
def multilayer_summary(tables):
    """Per-net eps_D at ``|A_l| = N/2`` and per-pair eps_C, from the cell rows.

    Both are means over the cell's kept sets (``half_draws`` per net,
    ``path_draws`` per pair); ``se`` is the mean of the paths' Monte Carlo
    standard errors and ``draws`` their number.

    Parameters
    ----------
    tables : dict
        ``{"dropout": ..., "paths": ...}`` of a loaded ``multilayer`` sweep
        (:func:`meanfield.experiments.load_tables`), or of cells
        (:func:`meanfield.multilayer.experiment.multilayer_cell`) with ``d``,
        ``N`` and ``seed`` columns.  One table with a ``table`` column is
        deprecated (:func:`as_tables`).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Per net (``d``, ``N``, ``seed``, ``net``): ``eps_D`` and ``risk``; per
        pair (``d``, ``N``, ``seed``): ``eps_C``, ``se``, ``risk``, ``risk2``,
        ``draws`` and, when the cells measured it, ``barrier_straight``.

    References
    ----------
    Shevchenko & Mondelli, ICML 2020, Theorem 2: eqs. (4.4) (eps_D) and (4.5) (eps_C).
    """
    tables = as_tables(tables, ("dropout", "paths"), "multilayer_summary")
    drop = tables["dropout"]
    half = drop[drop["size"] == drop["N"] // 2]
    per_net = half.groupby(["d", "N", "seed", "net"], as_index=False)[["eps_D", "risk"]].mean()
    paths = tables["paths"]
    pairs = paths.groupby(["d", "N", "seed"], as_index=False, sort=False).agg(
        eps_C=("eps_C", "mean"), se=("se", "mean"), risk=("risk", "first"),
        risk2=("risk2", "first"), draws=("eps_C", "size"),
        **({"barrier_straight": ("barrier_straight", "first")}
           if "barrier_straight" in paths else {}))
    return per_net, pairs


def dropout_change_fits(table, col="dloss_half", units=None):
    """Rates in N of the change after dropping half of the neurons, one per snapshot.

    Fits the per-seed absolute changes ``|col|`` against N (on the per-N means
    where some change is exactly 0).  A snapshot with one N, or with a mean of
    0 at some N, has no fit; ``notes`` says why, for the figure's legend.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of the ``empirical`` experiment: ``N``, ``fraction`` (of T) and ``col``.
    col : str
        The change to fit (``dloss_half``: test loss; ``derror_half``: test error).
    units : str or None
        The column naming each run's independent unit (:func:`loglog_fit`'s
        ``units``), default None: every net independent.  An ``empirical`` cell
        seeds its data order, initial weights and dropout patterns from its
        ``seed`` alone, so nets of one seed at different N share streams: give
        them different seeds per N, or ``units="seed"``.

    Returns
    -------
    (dict, dict)
        ``{fraction: RateFit}`` and ``{fraction: note}`` for the snapshots not fitted.

    References
    ----------
    .. [1] A. Shevchenko and M. Mondelli, ICML 2020, Section 5, Figure 2.
    """
    from .rates import loglog_fit

    fits, notes = {}, {}
    for frac, g in table.groupby("fraction"):
        y = g[col].abs().to_numpy()
        means = g.assign(y=y).groupby("N")["y"].mean()
        if len(means) < 2:
            notes[float(frac)] = "one N: no fit"
        elif (means <= 0).any():
            notes[float(frac)] = ("mean 0 at N = " + ", ".join(map(str, means.index[means <= 0]))
                                  + ": no fit")
        else:
            fits[float(frac)] = loglog_fit(
                g["N"], y, on="auto", units=None if units is None else g[units].to_numpy())
    return fits, notes


def dropout_path_level(profile, col="error"):
    """The level Figure 3 compares a dropout path with, and the path's excess over it.

    The path ``theta -> dropout(theta) -> dropout(theta') -> theta'`` of
    :func:`meanfield.connectivity.dropout_connect` has ``K = 2 n1 + 5``
    segments, its dropout networks at vertices ``n1`` and ``K - n1``.  The
    level is the larger value at the two ends plus the larger change from
    dropout (the two dropout networks against their own nets, at least 0).

    Parameters
    ----------
    profile : pandas.DataFrame
        One dropout path's rows of :func:`meanfield.torch.experiments.path_cell`
        (or :func:`meanfield.torch.paths.evaluate_path` with ``n_segments``):
        ``s`` (vertices at integers), ``n_segments`` and ``col``.
    col : str
        ``"error"`` or ``"loss"``.

    Returns
    -------
    dict
        ``ends`` (larger end value), ``drop`` (larger dropout change),
        ``level = ends + drop``, ``peak`` (largest value along the path) and
        ``excess = peak - level`` (<= 0 when the path stays below the level).

    References
    ----------
    Shevchenko & Mondelli, ICML 2020, Theorem 1(B) (eq. 3.6 with eps_C from
    the dropout networks on the path) and Figure 3 (the red dashed level).
    """
    import numpy as np

    K = int(profile["n_segments"].iloc[0])
    if K < 5 or (K - 5) % 2:
        raise ValueError(f"profile must be a dropout path (2 n1 + 5 segments), got {K}")
    v = profile[np.isclose(profile["s"] % 1, 0)].set_index("s")[col]
    n1 = (K - 5) // 2
    first, last = float(v.loc[0.0]), float(v.loc[float(K)])
    ends = max(first, last)
    drop = max(float(v.loc[float(n1)]) - first, float(v.loc[float(K - n1)]) - last, 0.0)
    peak = float(profile[col].max())
    return {"ends": ends, "drop": drop, "level": ends + drop, "peak": peak,
            "excess": peak - (ends + drop)}


def experiment_ratios(table, net="seed"):
    """Per trained net: Experiments A and B of Nguyen, Bréchet & Mondelli against its own loss.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of ``deep_cell`` (:func:`meanfield.torch.experiments.deep_cell`) for
        one architecture: ``experiment`` (``trained``, ``A``, ``B``), ``layer``,
        ``train_loss``, and the column ``net`` naming the trained net.
    net : str
        The column that tells the nets apart (default ``seed``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``net``: ``trained`` (the net's training loss L(theta')),
        ``A_max`` and ``B_max`` (the largest training loss over layers),
        ``A_ratio`` and ``B_ratio`` (those maxima over ``trained``) and
        ``A_layer``, ``B_layer`` (the layer where each maximum is).

    References
    ----------
    Q. Nguyen, P. Bréchet and M. Mondelli, NeurIPS 2021, Section 5: the maximum
    over l of Experiment A's bounds is the min max inf term of Theorem 4.1,
    compared with the trained loss (their Figure 3 a-c).
    """
    import pandas as pd  # here: the analysis package imports no pandas for its rules

    rows = {}
    for key, g in table.groupby(net):
        trained = g.loc[g["experiment"] == "trained", "train_loss"]
        if len(trained) != 1:
            raise ValueError(f"each net needs one 'trained' row, {net} = {key!r} has "
                             f"{len(trained)}")
        row = {"trained": float(trained.iloc[0])}
        for exp in ("A", "B"):
            e = g[g["experiment"] == exp]
            if len(e):
                top = e.loc[e["train_loss"].idxmax()]
                row[f"{exp}_max"] = float(top["train_loss"])
                row[f"{exp}_ratio"] = row[f"{exp}_max"] / row["trained"]
                row[f"{exp}_layer"] = int(top["layer"])
        rows[key] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = net
    return out


def width_crossing(widths, ratios, level=1.1):
    """Where a ratio falling with width first reaches ``level``, on the grid and interpolated.

    Parameters
    ----------
    widths : array_like
        Widths of a sweep (> 0, any order).
    ratios : array_like
        The ratio at each width (> 0), e.g. Experiment A's bound over the trained
        loss (:func:`experiment_ratios`, mean over nets).
    level : float
        The level, > 0 (1.1: within 10%).

    Returns
    -------
    dict
        ``grid``: the smallest width with ratio <= level (None when none is);
        ``crossing``: the width where log ratio, linear in log width between the
        last width above the level and ``grid``, equals log level (``grid``
        itself when the first width of the sweep is already at or below it);
        ``censored``: ``"below"`` in that case, ``"above"`` when no width
        reaches the level, else None.
    """
    w = np.asarray(widths, dtype=float)
    r = np.asarray(ratios, dtype=float)
    if w.shape != r.shape or w.size == 0:
        raise ValueError(f"widths and ratios must have the same length >= 1, got {w.size} "
                         f"and {r.size}")
    if np.any(w <= 0) or np.any(~np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("widths must be > 0 and ratios finite and > 0")
    if not level > 0:
        raise ValueError(f"level must be > 0, got {level!r}")
    order = np.argsort(w)
    w, r = w[order], r[order]
    below = np.flatnonzero(r <= level)
    if below.size == 0:
        return {"grid": None, "crossing": None, "censored": "above"}
    k = int(below[0])
    if k == 0:
        return {"grid": float(w[0]), "crossing": float(w[0]), "censored": "below"}
    lw, lr = np.log(w[k - 1:k + 1]), np.log(r[k - 1:k + 1])
    t = (np.log(level) - lr[0]) / (lr[1] - lr[0])
    return {"grid": float(w[k]), "crossing": float(np.exp(lw[0] + t * (lw[1] - lw[0]))),
            "censored": None}
