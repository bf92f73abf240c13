"""Vertices of piecewise-linear paths between fully connected nets, and their layout checks.

Layout of a net with H hidden layers of N neurons: ``weights[0]`` has shape
(N, D0) (rows: neurons of hidden layer 1), ``weights[m]`` for ``1 <= m < H``
has shape (N, N) (rows: layer m + 1, columns: layer m), or (N, N + 1) in
every middle layer when the hidden layers have biases (the last column),
``weights[H]`` has shape (n_out, N).
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
        ``weights[k]`` is the list of layer matrices at vertex k.  Vertices share
        the matrices a step leaves unchanged: treat them as read-only.
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


def check_net(weights, name="weights", biases=True):
    """Validate a weight list ``[W_1, ..., W_{L+1}]`` (copies as float64).

    Every middle matrix is N x N, or N x (N + 1) in all of them when
    ``biases``; the last has N columns.  Raises ValueError naming the layer
    as ``name[m]`` and the shape it must have.
    """
    ws = [np.array(w, dtype=np.float64) for w in weights]
    if len(ws) < 2 or any(w.ndim != 2 for w in ws):
        raise ValueError(f"{name} must be a list of at least 2 matrices")
    N = ws[0].shape[0]
    cols = ws[1].shape[1] if biases and len(ws) > 2 and ws[1].shape[1] in (N, N + 1) else N
    for m, w in enumerate(ws[1:-1], start=1):
        if w.shape != (N, cols):
            raise ValueError(f"{name}[{m}] must have shape ({N}, {N})"
                             + (f", or ({N}, {N + 1}) in every middle layer with biases"
                                if biases else "") + f"; got {w.shape}")
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


class PathBuilder:
    """Vertices appended one step at a time, each the previous with some entries set."""

    def __init__(self, start, label):
        self.weights = [[w.copy() for w in start]]
        self.kinds, self.labels = [], [label]

    @classmethod
    def extending(cls, path):
        """A builder that goes on from the last vertex of ``path`` (a PathVertices)."""
        b = cls(path.weights[-1], path.labels[-1])
        b.weights, b.kinds, b.labels = list(path.weights), list(path.kinds), list(path.labels)
        return b

    def path(self):
        return PathVertices(self.weights, self.kinds, self.labels)

    @property
    def cur(self):
        return self.weights[-1]

    def step(self, kind, label, changes):
        """New vertex: the current one with ``changes`` = [(layer, rows, cols, values)].

        Only the layers that change are copied; the others are the previous
        vertex's arrays (a multilayer path of 27 segments otherwise held 28
        copies of every N x N matrix).
        """
        new = list(self.cur)
        copied = set()
        for layer, rows, cols, vals in changes:
            if layer not in copied:
                new[layer] = new[layer].copy()
                copied.add(layer)
            if cols is None:
                new[layer][rows] = vals
            elif isinstance(rows, slice):
                new[layer][rows, cols] = vals
            else:
                new[layer][np.ix_(rows, cols)] = vals
        self.weights.append(new)
        self.kinds.append(kind)
        self.labels.append(label)


def join(first, mid, last):
    """``first``, then ``mid`` (from first's last vertex to last's first), then ``last``."""
    for a, b in ((first.weights[-1], mid.weights[0]), (mid.weights[-1], last.weights[0])):
        assert all(np.array_equal(u, v) for u, v in zip(a, b)), "the paths do not meet"
    return PathVertices(first.weights + mid.weights[1:-1] + last.weights,
                        first.kinds + mid.kinds + last.kinds,
                        first.labels + mid.labels[1:-1] + last.labels)
