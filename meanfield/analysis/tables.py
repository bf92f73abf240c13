"""The tables verdicts rest on, computed from stored cell rows (plotting only draws them)."""

from __future__ import annotations


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
