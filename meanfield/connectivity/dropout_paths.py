"""Piecewise-linear paths between fully connected nets through their dropout networks.

The construction of Kuditipudi et al. (2019), Lemmas 1 and 2 and their
Figure 1, written for the mean-field parameterisation of Shevchenko &
Mondelli (eq. 1.1: every hidden sum carries 1/N, so dropping to ``|A_l|``
neurons multiplies the kept outgoing weights of layer l by
``r_l = N / |A_l|``), with the same kept sets ``A_l`` for both nets, as in
their Theorem 2(B).  It uses two kinds of segment only:

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
``weights[H]`` has shape (n_out, N); H is the number of hidden layers.  For H = 1 the path is exactly the seven-segment path of
:func:`meanfield.twolayer.paths.seven_segment_path`.

Segments: ``1 + 5 (H - 1)`` from a net to its dropout network (Lemma 1: drop
the top hidden layer by one ``"a"`` step, then each lower layer j by five
steps that build copies of the kept neurons of layers j+1..H from the dropout
version of layer j in the dropped slots, switch the top to them, rewrite the
kept neurons, switch back and restore the slots); five between the two
dropout networks (Lemma 2); and Lemma 1 backwards to the second net:
``2 (1 + 5 (H - 1)) + 5`` in all (7, 17, 27 for 2, 3, 4 weight layers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


#: Segment kinds whose outputs are the linear interpolation of the vertex outputs.
EXACT_KINDS = ("a", "w0", "swap")


@dataclass
class PathVertices:
    """Vertices of a piecewise-linear path between nets, with segment kinds.

    Attributes
    ----------
    weights : list of list of numpy.ndarray
        ``weights[k]`` is the list of layer matrices at vertex k.
    kinds : list of str
        ``"a"``, ``"w0"`` or ``"general"`` per segment (see the module docstring),
        or ``"swap"`` (a step of Claim 5.1 of Nguyen et al.; output constant,
        see :mod:`meanfield.connectivity.theorem41`).
    labels : list of str
        One name per vertex.
    """

    weights: list
    kinds: list
    labels: list

    @property
    def n_segments(self):
        return len(self.weights) - 1

    def reversed(self):
        return PathVertices(self.weights[::-1], self.kinds[::-1], self.labels[::-1])

    def point(self, s):
        """Layer matrices at path parameter s in [0, K] (linear between vertices)."""
        K = self.n_segments
        if not 0.0 <= s <= K:
            raise ValueError(f"s must lie in [0, {K}], got {s}")
        k = min(int(s), K - 1)
        lam = s - k
        return [(1 - lam) * a + lam * b for a, b in zip(self.weights[k], self.weights[k + 1])]

    def profile(self, outputs, measure, n_per_segment=17, shortcut=True):
        """Measures along the path from the network outputs.

        On ``"a"`` segments the output is the linear interpolation of the
        vertex outputs and on ``"w0"`` and ``"swap"`` segments it is
        constant, so those points cost no forward pass; ``"general"`` points
        call ``outputs``.

        Parameters
        ----------
        outputs : callable
            ``outputs(weights) -> array`` of the network outputs on the data.
        measure : callable
            ``measure(out) -> dict`` of numbers (loss, error, ...).
        n_per_segment : int
            Points per segment, ends included (>= 2).
        shortcut : bool
            False evaluates every point by ``outputs``, to check the
            construction rather than rely on it.

        Returns
        -------
        list of dict
            ``s``, ``segment``, ``kind``, ``label`` (vertices only) and the measures.
        """
        if int(n_per_segment) < 2:
            raise ValueError(f"n_per_segment must be >= 2, got {n_per_segment}")
        vout = [outputs(w) for w in self.weights]
        lam = np.linspace(0.0, 1.0, int(n_per_segment))
        rows = []
        for k, kind in enumerate(self.kinds):
            for j, t in enumerate(lam):
                if k > 0 and j == 0:
                    continue
                if t in (0.0, 1.0) or (shortcut and kind in EXACT_KINDS):
                    out = (1 - t) * vout[k] + t * vout[k + 1]
                else:
                    out = outputs(self.point(k + t))
                label = self.labels[k] if t == 0.0 else self.labels[k + 1] if t == 1.0 else ""
                rows.append({"s": k + float(t), "segment": k, "kind": kind, "label": label,
                             **measure(out)})
        return rows


def _check(weights, name="weights"):
    ws = [np.array(w, dtype=np.float64) for w in weights]
    if len(ws) < 2 or any(w.ndim != 2 for w in ws):
        raise ValueError(f"{name} must be a list of at least 2 matrices")
    N = ws[0].shape[0]
    cols = ws[1].shape[1] if len(ws) > 2 and ws[1].shape[1] in (N, N + 1) else N
    for m, w in enumerate(ws[1:-1], start=1):
        if w.shape != (N, cols):
            raise ValueError(f"{name}[{m}] must have shape ({N}, {N}), or ({N}, {N + 1}) in "
                             f"every middle layer with biases; got {w.shape}")
    if ws[-1].shape[1] != N:
        raise ValueError(f"{name}[-1] must have {N} columns, got shape {ws[-1].shape}")
    return ws


def check_keep(keep, n_hidden, N):
    """Kept index sets, one sorted array per hidden layer.

    ``keep`` is a list of ``n_hidden`` integer arrays, or one array used for
    every layer.  Raises ValueError naming the layer and the valid range.
    """
    arr = keep if isinstance(keep, (list, tuple)) and len(keep) and np.ndim(keep[0]) == 1 \
        else [keep] * n_hidden
    if len(arr) != n_hidden:
        raise ValueError(f"keep must give one index set per hidden layer ({n_hidden}), "
                         f"got {len(arr)}")
    out = []
    for l, K in enumerate(arr, start=1):
        K = np.asarray(K)
        if K.ndim != 1 or K.size == 0 or not np.issubdtype(K.dtype, np.integer):
            raise ValueError(f"keep for hidden layer {l} must be a non-empty 1-D integer array")
        K = np.sort(K)
        if K[0] < 0 or K[-1] >= N or np.unique(K).size != K.size:
            raise ValueError(f"keep for hidden layer {l} must hold distinct indices in "
                             f"[0, {N - 1}]")
        out.append(K)
    return out


def _keep_sets(keep, H, N):
    """:func:`check_keep`, and at most N/2 per layer (the dropped slots host the copies)."""
    out = check_keep(keep, H, N)
    for l, K in enumerate(out, start=1):
        if 2 * K.size > N:
            raise ValueError(f"keep for hidden layer {l} must hold at most N/2 = {N // 2} "
                             f"neurons (the dropped slots host copies of the kept ones), "
                             f"got {K.size}")
    return out


class _Builder:
    def __init__(self, start, label):
        self.weights = [[w.copy() for w in start]]
        self.kinds, self.labels = [], [label]

    @property
    def cur(self):
        return self.weights[-1]

    def step(self, kind, label, changes):
        """New vertex: the current one with ``changes`` = [(layer, rows, cols, values)]."""
        new = [w.copy() for w in self.cur]
        for layer, rows, cols, vals in changes:
            if cols is None:
                new[layer][rows] = vals
            elif isinstance(rows, slice):
                new[layer][rows, cols] = vals
            else:
                new[layer][np.ix_(rows, cols)] = vals
        self.weights.append(new)
        self.kinds.append(kind)
        self.labels.append(label)


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
    W0 = _check(weights)
    H = len(W0) - 1
    N = W0[0].shape[0]
    K = _keep_sets(keep, H, N)
    D = [np.setdiff1d(np.arange(N), k) for k in K]
    C = [d[:k.size] for d, k in zip(D, K)]  # slots paired with the kept neurons, in order
    r = [N / k.size for k in K]
    b = _Builder(W0, name)
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
    return PathVertices(b.weights, b.kinds, b.labels)


def between_dropouts(weights, weights2, keep):
    """Lemma 2: from one dropout network to another with the same kept sets (5 segments).

    Both must be in the form :func:`to_dropout` returns for the same ``keep``.
    """
    W1, W2 = _check(weights), _check(weights2, "weights2")
    if [w.shape for w in W1] != [w.shape for w in W2]:
        raise ValueError("the two nets must have the same layer shapes")
    H = len(W1) - 1
    N = W1[0].shape[0]
    K = _keep_sets(keep, H, N)
    D = [np.setdiff1d(np.arange(N), k) for k in K]
    C = [d[:k.size] for d, k in zip(D, K)]
    b = _Builder(W1, "dropout(theta)")
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
    return PathVertices(b.weights, b.kinds, b.labels)


def dropout_connect(weights, weights2, keep):
    """A path from ``theta`` to ``theta'`` along which the loss peaks at a dropout network.

    ``theta -> dropout(theta) -> dropout(theta') -> theta'`` by
    :func:`to_dropout`, :func:`between_dropouts` and :func:`to_dropout`
    backwards, with the same kept sets ``keep`` (chosen independently of
    both nets).  Segment count in the module docstring.

    Returns
    -------
    PathVertices
    """
    first = to_dropout(weights, keep, "theta")
    last = to_dropout(weights2, keep, "theta'").reversed()
    mid = between_dropouts(first.weights[-1], last.weights[0], keep)
    return PathVertices(first.weights + mid.weights[1:-1] + last.weights,
                        first.kinds + mid.kinds + last.kinds,
                        first.labels + mid.labels[1:-1] + last.labels)
