"""Piecewise-linear paths between fully connected nets through their dropout networks.

The construction of Kuditipudi et al. (2019), Lemmas 1 and 2 and their
Figure 1, written for the mean-field parameterisation of Shevchenko &
Mondelli (eq. 1.1: every hidden sum carries 1/N, so dropping to ``|A_l|``
neurons multiplies the kept outgoing weights of layer l by
``r_l = N / |A_l|``).  :func:`dropout_connect` takes the same kept sets
``A_l`` for both nets, as in their Theorem 2(B), and uses two kinds of
segment only:

``"a"``
    only the top layer moves: the output is linear in the segment
    parameter, so a loss convex in the output (square, cross-entropy) peaks
    at an end;
``"w0"``
    only incoming weights of neurons whose outgoing weights are all zero
    move, or of neurons that feed only such neurons: the output is constant.

so the maximum loss along the path is the largest vertex loss, and the
vertices are the two nets and dropout networks of them.

Layout.  ``weights[0]`` has shape (N, D0) (rows: neurons of hidden layer 1),
``weights[m]`` for ``1 <= m < H`` has shape (N, N) (rows: layer m + 1,
columns: layer m), or (N, N + 1) for all of them when the hidden layers have
biases (the last column; a bias goes with its row and is never rescaled),
``weights[H]`` has shape (n_out, N); H is the number of hidden layers.  For
H = 1 the path is exactly the seven-segment path of
:func:`meanfield.twolayer.paths.seven_segment_path`.

Segments: ``1 + 5 (H - 1)`` from a net to its dropout network (Lemma 1: drop
the top hidden layer by one ``"a"`` step, then each lower layer j by five
steps that build copies of the kept neurons of layers j+1..H from the dropout
version of layer j in the dropped slots, switch the top to them, rewrite the
kept neurons, switch back and restore the slots); five between the two
dropout networks (Lemma 2); and Lemma 1 backwards to the second net:
``2 (1 + 5 (H - 1)) + 5`` in all (7, 17, 27 for 2, 3, 4 weight layers).

Lemma 2 for two dropout networks whose kept sets differ is
:func:`lemma2_path` (8 segments: it permutes the first net's neurons by the
swaps of Nguyen, Bréchet & Mondelli's Claim 5.1, kind ``"swap"``, constant
output); :func:`lemma2_path_same_keep` is the five-segment case of equal
kept sets.

References
----------
.. [1] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Lemmas 1 and 2, Figure 1.
.. [2] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: Theorem 1(B) (the seven-segment path), Theorem 2(B).
.. [3] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021: Figure 3 d (path B), Claim 5.1.
"""

from __future__ import annotations

import numpy as np

from ..dropout import check_keep, dropout_rescale
from .claim51 import check_moves, swap_steps
from .vertices import PathBuilder, PathVertices, check_net, join


def _keep_sets(keep, H, N):
    """:func:`check_keep`, and at most N/2 per layer (the dropped slots host the copies)."""
    out = check_keep(keep, H, N)
    for l, K in enumerate(out, start=1):
        if 2 * K.size > N:
            raise ValueError(f"keep for hidden layer {l} must hold at most N/2 = {N // 2} "
                             f"neurons (the dropped slots host copies of the kept ones), "
                             f"got {K.size}")
    return out


def _moved(rows_from, cols_from, cols_to, W, N):
    """Rows ``W[rows_from]`` restricted to ``cols_from``, placed on ``cols_to`` (zeros
    elsewhere), with their biases (columns past N) unchanged."""
    out = np.zeros((len(rows_from), W.shape[1]))
    out[:, cols_to] = W[np.ix_(rows_from, cols_from)]
    out[:, N:] = W[rows_from, N:]
    return out


def to_dropout(weights, keep, name="theta"):
    """Lemma 1 of Kuditipudi et al.: from a net to its dropout network, through each
    intermediate dropout network ("dropout at layers >= j").

    Parameters
    ----------
    weights : list of numpy.ndarray
        The net, in the layout of the module docstring.
    keep : array of int, or list of H arrays
        Kept neurons of each hidden layer (one array: the same for all), at
        most N/2 each.

    Returns
    -------
    PathVertices
        The last vertex is the dropout network: top-layer columns of kept
        neurons and kept rows' kept columns times ``N/|A_l|``, the kept rows'
        dropped columns and the top's dropped columns zero, dropped rows as
        in the net.
    """
    W0 = check_net(weights)
    H = len(W0) - 1
    N = W0[0].shape[0]
    K = _keep_sets(keep, H, N)
    D = [np.setdiff1d(np.arange(N), k) for k in K]
    C = [d[:k.size] for d, k in zip(D, K)]  # slots paired with the kept neurons, in order
    r = [dropout_rescale(N, k.size) for k in K]  # N/|A_l| on kept outgoing weights
    b = PathBuilder(W0, name)
    top = W0[H]
    # drop the top hidden layer: one convex step
    b.step("a", f"dropout({name}) at layer {H}",
           [(H, slice(None), K[-1], r[-1] * top[:, K[-1]]), (H, slice(None), D[-1], 0.0)])
    for j in range(H - 1, 0, -1):
        # weights[m - 1] produces hidden layer m; kept rows of layers j+1..H are canonical
        # for layers > j+1, and still read all of layer j at layer j+1.
        cur = b.cur
        Kj, layer_j1 = K[j - 1], j  # weights[j] produces hidden layer j + 1
        new_first = _moved(K[j], Kj, Kj, cur[layer_j1], N)
        new_first[:, Kj] *= r[j - 1]
        copies = [(layer_j1, C[j], None, new_first)]
        for m in range(j + 2, H + 1):  # hidden layer m is produced by weights[m - 1]
            copies.append((m - 1, C[m - 1], None,
                           _moved(K[m - 1], K[m - 2], C[m - 2], cur[m - 1], N)))
        saved = [(lay, rows, None, cur[lay][rows].copy()) for lay, rows, _, _ in copies]
        b.step("w0", f"copies of layers {j + 1}..{H} under dropout at {j}", copies)
        topK = b.cur[H][:, K[-1]].copy()
        b.step("a", f"dropout({name}) at layers >= {j} (copies)",
               [(H, slice(None), K[-1], 0.0), (H, slice(None), C[-1], topK)])
        kept = [(layer_j1, K[j], None, new_first)]
        for m in range(j + 2, H + 1):
            kept.append((m - 1, K[m - 1], None,
                         _moved(K[m - 1], K[m - 2], K[m - 2], cur[m - 1], N)))
        b.step("w0", f"kept neurons of layers {j + 1}..{H} rewired", kept)
        b.step("a", f"dropout({name}) at layers >= {j}",
               [(H, slice(None), C[-1], 0.0), (H, slice(None), K[-1], topK)])
        b.step("w0", "copies removed", saved)
    return b.path()


def lemma2_path_same_keep(weights, weights2, keep):
    """Kuditipudi et al.'s Lemma 2 for two dropout networks with the same kept sets (5 segments).

    Copies of the second net's kept neurons go into dropped slots of the
    first (``"w0"``), the top switches to them (``"a"``), the kept neurons
    take the second net's weights (``"w0"``), the top switches back
    (``"a"``) and the dropped neurons take the second net's weights
    (``"w0"``).  Two nets whose kept sets differ: :func:`lemma2_path`.

    Parameters
    ----------
    weights, weights2 : list of numpy.ndarray
        Two dropout networks of the same ``keep``, in the form
        :func:`to_dropout` returns (layout of the module docstring).
    keep : array of int, or list of H arrays
        The kept neurons of both, at most N/2 per hidden layer.

    Returns
    -------
    PathVertices
        From ``weights`` to ``weights2``; every segment ``"a"`` or ``"w0"``,
        so the loss peaks at a vertex.

    References
    ----------
    Kuditipudi et al. (2019), Lemma 2 (the case of equal kept sets) and the
    steps (a) and (b) of their Section 3; Shevchenko & Mondelli (2020),
    Theorem 2(B) (same kept sets in both nets).
    """
    W1, W2 = check_net(weights), check_net(weights2, "weights2")
    if [w.shape for w in W1] != [w.shape for w in W2]:
        raise ValueError("the two nets must have the same layer shapes")
    H = len(W1) - 1
    N = W1[0].shape[0]
    K = _keep_sets(keep, H, N)
    D = [np.setdiff1d(np.arange(N), k) for k in K]
    C = [d[:k.size] for d, k in zip(D, K)]
    b = PathBuilder(W1, "dropout(theta)")
    copies = [(0, C[0], None, W2[0][K[0]])]
    copies += [(m - 1, C[m - 1], None, _moved(K[m - 1], K[m - 2], C[m - 2], W2[m - 1], N))
               for m in range(2, H + 1)]
    b.step("w0", "copies of dropout(theta') in the dropped slots", copies)
    b.step("a", "dropout(theta') (copies)",
           [(H, slice(None), K[-1], 0.0), (H, slice(None), C[-1], W2[H][:, K[-1]])])
    kept = [(0, K[0], None, W2[0][K[0]])]
    kept += [(m - 1, K[m - 1], None, W2[m - 1][K[m - 1]]) for m in range(2, H + 1)]
    b.step("w0", "kept neurons take dropout(theta')'s weights", kept)
    b.step("a", "dropout(theta')",
           [(H, slice(None), C[-1], 0.0), (H, slice(None), K[-1], W2[H][:, K[-1]])])
    b.step("w0", "dropped neurons take theta''s weights",
           [(m, D[m], None, W2[m][D[m]]) for m in range(H)])
    return b.path()


def lemma2_path(weights, weights2, keep, keep2):
    """Kuditipudi et al.'s Lemma 2: between dropout networks whose kept sets differ (8 segments).

    The lemma joins two nets each of which has at least half of the
    neurons of every hidden layer set to zero by a path of 8 segments along
    which the loss is at most the larger end loss; the main text's recipe is
    to permute the hidden neurons of the first so that its nonzero neurons
    are disjoint from the second's, and then interpolate.  The proof is in
    the paper's supplementary material; this construction realises that
    recipe with segments of constant or linear output only:

    *  1, ``"w0"``: the dropped neurons of ``theta`` are cleared (incoming
       weights zero; their outgoing weights are zero already), so every
       dropped neuron is a pure zero neuron, the lemma's "set to zero";
    *  2-4, ``"swap"``: the permutation.  In each hidden layer the kept neurons
       of ``theta`` that are also kept in ``theta'`` (``keep & keep2``) move
       onto as many neurons kept in neither, the lowest-indexed ones in
       order, by the three swaps of Nguyen, Bréchet & Mondelli's Claim 5.1
       (:mod:`~meanfield.connectivity.claim51`; the network function is the
       same at every point).  The vertex after them is ``theta`` with those
       neurons transposed: its kept sets are disjoint from ``keep2``;
    *  5, ``"w0"``: the kept neurons of ``theta'`` take its weights (they feed
       nothing yet);
    *  6, ``"a"``: the top layer goes from ``theta``'s to ``theta'``'s;
    *  7, ``"w0"``: ``theta``'s neurons are cleared (they feed nothing now): the
       vertex is ``theta'`` with its dropped neurons pure zero;
    *  8, ``"w0"``: the dropped neurons take ``theta'``'s weights.

    Every segment has constant output except segment 6, along which the
    output is linear, so a loss convex in the output peaks at a vertex, and
    every vertex computes ``theta`` or ``theta'``: the loss is at most the
    larger end loss.  Where the kept sets are disjoint the
    swap segments have length zero; the count is 8 for all kept sets.  The
    rows a swap moves are copied, not recomputed, so the vertices are exact.

    Parameters
    ----------
    weights, weights2 : list of numpy.ndarray
        The two nets (layout of the module docstring, with or without
        biases), dropout networks of ``keep`` and ``keep2``: the neurons a
        net does not keep have zero outgoing weights in its kept neurons'
        rows and in the top layer (the form :func:`to_dropout` returns;
        incoming weights of dropped neurons are arbitrary).
    keep, keep2 : array of int, or list of H arrays
        Kept neurons of each hidden layer of ``theta`` and ``theta'`` (one
        array: the same in every layer), with ``|keep_l| + |keep2_l| <= N``
        (at most N/2 each, as in the lemma, suffices).

    Returns
    -------
    PathVertices
        From ``weights`` to ``weights2`` exactly.

    References
    ----------
    Kuditipudi et al. (2019), Lemma 2 and the paragraph before it (the
    permutation), steps (a) and (b) of Section 3; Nguyen, Bréchet & Mondelli
    (2021), Claim 5.1 (the swaps).
    """
    W1, W2 = check_net(weights), check_net(weights2, "weights2")
    if [w.shape for w in W1] != [w.shape for w in W2]:
        raise ValueError("the two nets must have the same layer shapes")
    H, N = len(W1) - 1, W1[0].shape[0]
    K1, K2 = check_keep(keep, H, N), check_keep(keep2, H, N, name="keep2")
    for l, (k1, k2) in enumerate(zip(K1, K2), start=1):
        if k1.size + k2.size > N:
            raise ValueError(f"hidden layer {l}: keep and keep2 hold {k1.size} + {k2.size} "
                             f"neurons, more than N = {N} (Lemma 2 needs at least half of "
                             "each layer set to zero in both nets)")
    for W, K, name in ((W1, K1, "weights"), (W2, K2, "weights2")):
        _check_dropout_form(W, K, name)
    everyone = np.arange(N)
    D1 = [np.setdiff1d(everyone, k) for k in K1]
    shared = [np.intersect1d(k1, k2) for k1, k2 in zip(K1, K2)]
    free = [np.setdiff1d(everyone, np.union1d(k1, k2)) for k1, k2 in zip(K1, K2)]
    moves = [(m, f[:m.size]) for m, f in zip(shared, free)]
    P = [np.union1d(np.setdiff1d(k1, k2), f) for k1, k2, (_, f) in zip(K1, K2, moves)]
    b = PathBuilder(W1, "dropout(theta)")
    b.step("w0", "dropout(theta) (its dropped neurons set to zero)",
           [(m, D1[m], None, 0.0) for m in range(H)])
    swap_steps(b, check_moves(b.cur, moves), "theta's neurons kept in theta' moved")
    b.step("w0", "kept neurons of theta' take its weights",
           [(m, K2[m], None, W2[m][K2[m]]) for m in range(H)])
    b.step("a", "dropout(theta') (theta's neurons still in place)",
           [(H, slice(None), None, W2[H])])
    b.step("w0", "dropout(theta') (its dropped neurons set to zero)",
           [(m, P[m], None, 0.0) for m in range(H)])
    D2 = [np.setdiff1d(everyone, k) for k in K2]
    b.step("w0", "dropout(theta')", [(m, D2[m], None, W2[m][D2[m]]) for m in range(H)])
    return b.path()


def _check_dropout_form(W, K, name):
    """ValueError unless the neurons outside ``K`` have zero outgoing weights in the kept rows
    of the next hidden layer and in the top layer (Lemma 2's hypothesis)."""
    H, N = len(W) - 1, W[0].shape[0]
    for m in range(1, H + 1):
        rows = slice(None) if m == H else K[m]
        dropped = np.setdiff1d(np.arange(N), K[m - 1])
        if np.any(W[m][rows][:, dropped] != 0):
            raise ValueError(f"{name} is not a dropout network of its kept sets: neurons of "
                             f"hidden layer {m} outside them have nonzero outgoing weights in "
                             f"{name}[{m}]")


def dropout_connect(weights, weights2, keep):
    """A path from ``theta`` to ``theta'`` along which the loss peaks at a dropout network.

    ``theta -> dropout(theta) -> dropout(theta') -> theta'`` by
    :func:`to_dropout`, :func:`lemma2_path_same_keep` and :func:`to_dropout`
    backwards, with the same kept sets ``keep`` (chosen independently of
    both nets).  Segment count in the module docstring.

    Returns
    -------
    PathVertices
    """
    first = to_dropout(weights, keep, "theta")
    last = to_dropout(weights2, keep, "theta'").reversed()
    return join(first, lemma2_path_same_keep(first.weights[-1], last.weights[0], keep), last)


def rescaled_dropout_connect(weights, weights2, keep, keep2, scale=1.0, scale2=1.0):
    """The path through each net's own best dropout network with a tuned output scale.

    Path B of Nguyen, Bréchet & Mondelli (Figure 3 d): Experiment B picks, per
    net, kept sets and a scalar ``r`` on the output.  ``theta -> dropout(theta)``
    (:func:`to_dropout` on ``keep``), then the top times ``scale`` (one ``"a"``
    segment); the same for ``theta'`` on ``keep2``, whose dropped neurons are
    then cleared (``"w0"``: their outgoing weights are zero) and whose kept
    neurons outside ``keep`` are swapped onto the free neurons of ``keep`` by
    Claim 5.1 (:mod:`meanfield.connectivity.claim51`, three ``"swap"``
    segments); :func:`lemma2_path_same_keep` joins the two.  The maximum loss is
    at a vertex: the two nets, their partial and full dropout networks, and
    the rescaled ones.  ``2 (2 + 5 (H - 1)) + 9`` segments.

    Parameters
    ----------
    weights, weights2 : list of numpy.ndarray
        The two nets (layout of :mod:`meanfield.connectivity.vertices`).
    keep, keep2 : list of H integer arrays (or one array)
        Kept neurons of each net, the same sizes, at most N/2 per layer.
    scale, scale2 : float
        Output scales of the two dropout networks (> 0).

    Returns
    -------
    PathVertices
    """
    W1, W2 = check_net(weights), check_net(weights2, "weights2")
    if [w.shape for w in W1] != [w.shape for w in W2]:
        raise ValueError("the two nets must have the same layer shapes")
    H, N = len(W1) - 1, W1[0].shape[0]
    K1, K2 = _keep_sets(keep, H, N), _keep_sets(keep2, H, N)
    if [k.size for k in K1] != [k.size for k in K2]:
        raise ValueError(f"keep and keep2 must have the same sizes per layer, got "
                         f"{[k.size for k in K1]} and {[k.size for k in K2]}")
    for name, r in (("scale", scale), ("scale2", scale2)):
        if not (np.isfinite(r) and r > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {r!r}")
    sides = []
    for W, K, r, name in ((W1, K1, scale, "theta"), (W2, K2, scale2, "theta'")):
        b = PathBuilder.extending(to_dropout(W, K, name))
        b.step("a", f"{r:.4g} dropout({name})", [(H, slice(None), None, r * b.cur[H])])
        sides.append(b)
    b2 = sides[1]
    D2 = [np.setdiff1d(np.arange(N), k) for k in K2]
    b2.step("w0", "dropped neurons cleared", [(m, D2[m], None, 0.0) for m in range(H)])
    if any(not np.array_equal(a, k) for a, k in zip(K1, K2)):
        swap_steps(b2, [(np.setdiff1d(k2, k1), np.setdiff1d(k1, k2)) for k1, k2 in zip(K1, K2)],
                   "kept neurons moved onto theta's")
    return join(sides[0].path(), lemma2_path_same_keep(sides[0].cur, b2.cur, K1),
                b2.path().reversed())


def algorithm1(weights, kept, p):
    """Kuditipudi et al.'s Algorithm 1 on layers 2..d: column j of ``A_i`` times ``delta_j``.

    ``delta_j`` is 0 for a dropped neuron and ``1/(1 - p)`` for a kept one
    (:func:`meanfield.dropout.dropout_rescale` with ``n_kept = 1 - p``); the
    first layer (inputs) and the bias columns are unchanged.  A dropped
    neuron's outgoing weights are then zero in every row, so the result is a
    dropout network of ``kept`` in the sense of :func:`lemma2_path`.

    Parameters
    ----------
    weights : list of numpy.ndarray
        The net (layout of the module docstring).
    kept : boolean array of shape (H, N)
        Kept neurons of each hidden layer
        (:func:`meanfield.dropout.draw_keep` with ``method="bernoulli"``).
    p : float
        The drop probability, in (0, 1).

    Returns
    -------
    list of numpy.ndarray
        ``theta_1`` of Lemma 3.

    References
    ----------
    Kuditipudi et al. (2019), Algorithm 1 and Lemma 3.
    """
    W = check_net(weights)
    H, N = len(W) - 1, W[0].shape[0]
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    kept = np.asarray(kept)
    if kept.shape != (H, N) or kept.dtype != bool:
        raise ValueError(f"kept must be a boolean array of shape ({H}, {N}), got "
                         f"{kept.dtype} {kept.shape}")
    out = [W[0]]
    for m in range(1, H + 1):
        delta = dropout_rescale(kept[m - 1].astype(float), 1.0 - p)
        w = W[m].copy()
        w[:, :N] *= delta
        out.append(w)
    return out


def embed_narrow(weights, N, slots, gains=None):
    """A narrow net ``theta*`` (hidden width ``h* <= N``) as a width-N net on the neurons ``slots``.

    Every other neuron is a pure zero neuron (zero incoming and outgoing
    weights), so the wide net computes ``theta*`` and is a dropout network of
    ``slots`` (:func:`lemma2_path`).

    Parameters
    ----------
    weights : list of numpy.ndarray
        ``theta*`` in the layout of the module docstring, hidden width h*.
    N : int
        The wide net's hidden width.
    slots : list of H integer arrays of length h*
        Where each hidden layer's neurons go.
    gains : list of float, optional
        Factor on each weight layer's outgoing weights, for the wide net's
        layer factor: 1 in the standard parameterisation (default), ``N /
        h*`` from the second layer on in mean-field scaling (its 1/N sums).

    Returns
    -------
    list of numpy.ndarray

    References
    ----------
    Kuditipudi et al. (2019), Theorem 3 (the narrow network ``theta*``).
    """
    Ws = check_net(weights)
    H, h = len(Ws) - 1, Ws[0].shape[0]
    S = check_keep(slots, H, N, sort=False, name="slots")
    if any(s.size != h for s in S):
        raise ValueError(f"slots must hold h* = {h} neurons per hidden layer, got "
                         f"{[s.size for s in S]}")
    gains = [1.0] * (H + 1) if gains is None else [float(g) for g in gains]
    if len(gains) != H + 1:
        raise ValueError(f"gains must hold {H + 1} numbers, got {len(gains)}")
    out = [np.zeros((N, Ws[0].shape[1]))]
    out[0][S[0]] = gains[0] * Ws[0]
    for m in range(1, H):
        w = np.zeros((N, N + Ws[m].shape[1] - h))
        w[np.ix_(S[m], S[m - 1])] = gains[m] * Ws[m][:, :h]
        w[S[m], N:] = Ws[m][:, h:]  # biases, not rescaled
        out.append(w)
    top = np.zeros((Ws[H].shape[0], N))
    top[:, S[H - 1]] = gains[H] * Ws[H]
    return out + [top]


def theorem3_path(weights, kept, weights2, kept2, star, slots, p):
    """A path from ``theta_A`` to ``theta_B`` through the narrow net ``theta*`` (Theorem 3).

    ``theta_A -> theta_A1`` (the straight segment of Lemma 3 to Algorithm 1's
    dropout network, kind ``"general"``), :func:`lemma2_path` to ``theta*``
    embedded on ``slots`` (:func:`embed_narrow`), :func:`lemma2_path` to
    ``theta_B1`` and the straight segment to ``theta_B``: 18 segments.  The
    paper's Theorem 3 counts 13; its construction is in its Section B, which
    our text of the paper lacks, so this one is built from the main text's
    recipe ("connecting theta_A and theta_B via the network theta*") with the
    Lemma 2 of this module.  Outside the two straight segments the loss is at
    most the largest of ``L(theta_A1)``, ``L(theta*)``, ``L(theta_B1)``: the
    path's loss is at most ``max(L(theta_A) + e_A, L(theta_B) + e_B,
    L(theta*))`` with ``e`` the largest rise along each straight segment,
    which Lemma 3 bounds by ``O~(sqrt(p) epsilon)``.

    Parameters
    ----------
    weights, weights2 : list of numpy.ndarray
        ``theta_A`` and ``theta_B`` (layout of the module docstring).
    kept, kept2 : boolean arrays of shape (H, N)
        Algorithm 1's kept neurons for each; ``|kept_l| + h* <= N`` in every
        hidden layer (Theorem 3's ``p >= 1.5 h*/h`` makes it likely).
    star : list of numpy.ndarray
        ``theta*`` already embedded at width N (:func:`embed_narrow`).
    slots : list of H integer arrays
        Its neurons.
    p : float
        Algorithm 1's drop probability.

    Returns
    -------
    PathVertices

    References
    ----------
    Kuditipudi et al. (2019), Theorem 3, Lemmas 2 and 3, Algorithm 1.
    """
    A1 = algorithm1(weights, kept, p)
    B1 = algorithm1(weights2, kept2, p)
    K1 = [np.flatnonzero(k) for k in kept]
    K2 = [np.flatnonzero(k) for k in kept2]
    left = lemma2_path(A1, star, K1, slots)
    right = lemma2_path(star, B1, slots, K2)
    mid = PathVertices(left.weights + right.weights[1:], left.kinds + right.kinds,
                       left.labels[:-1] + ("theta*",) + right.labels[1:])
    first = PathVertices([check_net(weights), A1], ("general",),
                         ("theta_A", "Algorithm 1 (theta_A)"))
    last = PathVertices([B1, check_net(weights2)], ("general",),
                        ("Algorithm 1 (theta_B)", "theta_B"))
    return join(first, mid, last)


def theorem1_path(weights, weights2, keep, keep2):
    """Theorem 1 of Kuditipudi et al.: Lemma 1 from each net to its dropout network, Lemma 2
    between the two.

    ``theta_A -> dropout(theta_A)`` (:func:`to_dropout` on ``keep``), then
    :func:`lemma2_path` to ``dropout(theta_B)`` on ``keep2``, then
    :func:`to_dropout` of ``theta_B`` backwards: ``2 (1 + 5 (H - 1)) + 8``
    segments (30 for three hidden layers).  Every segment moves the top layer
    only or keeps the network function, so the loss peaks at a vertex, and the
    vertices compute the two nets and their dropout networks at layers
    ``>= i`` (Definition 1's ``theta_i``): the loss is at most
    ``max(L(theta_A), L(theta_B)) + eps`` for nets that are eps-dropout stable
    on these kept sets.

    Parameters
    ----------
    weights, weights2 : list of numpy.ndarray
        The two nets (layout of the module docstring).
    keep, keep2 : array of int, or list of H arrays
        Each net's kept neurons, at most N/2 per hidden layer.

    Returns
    -------
    PathVertices

    References
    ----------
    Kuditipudi et al. (2019), Theorem 1, Lemmas 1 and 2, Figure 1.
    """
    first = to_dropout(weights, keep, "theta_A")
    last = to_dropout(weights2, keep2, "theta_B").reversed()
    return join(first, lemma2_path(first.weights[-1], last.weights[0], keep, keep2), last)
