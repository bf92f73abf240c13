"""Claim 5.1 of Nguyen, Bréchet & Mondelli: swapping a neuron onto a pure zero neuron.

A neuron is pure zero when its incoming and outgoing weights are zero.  To
move neuron q onto a pure zero neuron p of the same layer, three segments:
(i) p's incoming weights become q's (p feeds nothing, so nothing changes);
(ii) q's outgoing weights move to p (p and q compute the same activation, so
the next layer's input is constant); (iii) q's incoming weights go to zero
(q feeds nothing any more).  The swaps of all layers run at once: column
moves act on all rows alike, so pairs of rows that are equal stay equal.
The network function is the same at every point (segment kind ``"swap"``).

Layout: :mod:`meanfield.connectivity.vertices`, with or without biases.
"""

from __future__ import annotations

import numpy as np

from .vertices import PathBuilder, check_net


def swap_steps(builder, moves, label, extra_zero=()):
    """Append the three swap segments to ``builder``.

    ``moves[p - 1] = (q, p)`` moves neurons q onto the pure zero neurons p of
    hidden layer p (integer arrays of equal length, possibly empty);
    ``extra_zero`` are further ``(layer, rows, None, 0.0)`` changes made in
    step (iii), for rows whose outgoing weights are zero by then.
    """
    builder.step("swap", f"{label}: (i) copies of incoming weights",
                 [(p - 1, dst, None, builder.cur[p - 1][src])
                  for p, (src, dst) in enumerate(moves, start=1) if src.size])
    cur = builder.cur
    changes = []
    for p, (src, dst) in enumerate(moves, start=1):
        if src.size:
            changes.append((p, slice(None), dst, cur[p][:, src]))
            changes.append((p, slice(None), src, 0.0))
    builder.step("swap", f"{label}: (ii) outgoing weights moved", changes)
    zero = [(p - 1, src, None, 0.0) for p, (src, _) in enumerate(moves, start=1) if src.size]
    builder.step("swap", f"{label}: (iii) old neurons cleared", zero + list(extra_zero))


def check_moves(weights, moves):
    """``moves`` as integer arrays; ValueError unless the targets are pure zero neurons."""
    H, N = len(weights) - 1, weights[0].shape[0]
    if len(moves) != H:
        raise ValueError(f"moves must hold one (q, p) pair per hidden layer ({H}), "
                         f"got {len(moves)}")
    pairs = []
    for layer, (q, p) in enumerate(moves, start=1):
        q, p = np.asarray(q, dtype=int).ravel(), np.asarray(p, dtype=int).ravel()
        if q.size != p.size or np.unique(np.r_[q, p]).size != 2 * q.size or (q.size and (
                min(q.min(), p.min()) < 0 or max(q.max(), p.max()) >= N)):
            raise ValueError(f"moves for hidden layer {layer} must be two disjoint arrays of "
                             f"distinct indices in [0, {N - 1}] of equal length")
        if p.size and (np.any(weights[layer - 1][p] != 0) or np.any(weights[layer][:, p] != 0)):
            raise ValueError(f"moves for hidden layer {layer}: the neurons p must be pure zero "
                             "(incoming and outgoing weights zero)")
        pairs.append((q, p))
    return pairs


def claim51_swap(weights, moves):
    """Claim 5.1 on a net: three segments moving neurons onto pure zero neurons.

    Parameters
    ----------
    weights : list of numpy.ndarray
        A net in the layout of :mod:`meanfield.connectivity.vertices`.
    moves : list of H pairs ``(q, p)``
        For each hidden layer, neurons ``q`` and the pure zero neurons ``p``
        that take their place.

    Returns
    -------
    PathVertices
        Kinds ``"swap"``; the network function is the same at every point.
    """
    ws = check_net(weights)
    builder = PathBuilder(ws, "theta")
    swap_steps(builder, check_moves(ws, moves), "Claim 5.1")
    return builder.path()
