"""Paths between two trained two-layer :class:`MeanFieldNet` s, evaluated on data.

The vertices are those of the two-layer core (:func:`meanfield.twolayer.paths.
seven_segment_vertices`), with a neuron's output weight being the vector
``W_out[:, i]`` and its hidden weight the row ``W_1[i]`` (bias included).  On
an ``"a"`` segment only output weights move, so the network output is the
linear interpolation of the outputs at the two ends; on a ``"w0"`` segment
only neurons with zero output weight move, so the output is constant.  Both
are therefore evaluated exactly from the vertex outputs; only ``"general"``
segments (the straight-line baselines) cost a forward pass per point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..twolayer.paths import align, segment_kind, seven_segment_vertices
from .losses import check_loss, errors, per_sample


def _neurons(net):
    if net.depth != 2:
        raise ValueError(f"these paths are built for two-layer nets (depth 2), got depth "
                         f"{net.depth}")
    W1, Wout = net.numpy_weights()
    return Wout.T.copy(), W1  # a: (N, n_out), W: (N, d + bias)


def _check_pair(net, net2):
    for attr in ("d", "N", "n_out", "depth", "bias", "activation"):
        if getattr(net, attr) != getattr(net2, attr):
            raise ValueError(f"the two nets must have the same {attr}, got "
                             f"{getattr(net, attr)!r} and {getattr(net2, attr)!r}")


class DataPath:
    """A piecewise-linear path through K + 1 two-layer networks, evaluated on data.

    Parameters
    ----------
    net : MeanFieldNet
        Supplies the activation, device and dtype (its weights are not used).
    a : numpy.ndarray, shape (K + 1, N, n_out)
        Output weight vector of each neuron at each vertex.
    W : numpy.ndarray, shape (K + 1, N, d + bias)
        Hidden weights at each vertex.
    labels : tuple of str
    """

    def __init__(self, net, a, W, labels):
        self.net = net
        self.a = np.asarray(a, dtype=np.float64)
        self.W = np.asarray(W, dtype=np.float64)
        if self.a.ndim != 3 or self.W.ndim != 3 or self.a.shape[:2] != self.W.shape[:2] \
                or len(self.a) < 2:
            raise ValueError(f"a must have shape (K + 1, N, n_out) and W (K + 1, N, D) with "
                             f"K >= 1, got {self.a.shape} and {self.W.shape}")
        self.labels = tuple(labels)
        if len(self.labels) != len(self.a):
            raise ValueError(f"labels must name {len(self.a)} vertices, got {len(self.labels)}")
        self.kinds = tuple(segment_kind(self.a[k], self.W[k], self.a[k + 1], self.W[k + 1])
                           for k in range(len(self.a) - 1))

    @property
    def n_segments(self):
        return len(self.a) - 1

    def point(self, s):
        """``(a, W)`` at path parameter s in [0, K]."""
        K = self.n_segments
        if not 0.0 <= s <= K:
            raise ValueError(f"s must lie in [0, {K}], got {s}")
        k = min(int(s), K - 1)
        lam = s - k
        return ((1 - lam) * self.a[k] + lam * self.a[k + 1],
                (1 - lam) * self.W[k] + lam * self.W[k + 1])

    def outputs(self, a, W, X, batch_size=2000):
        """Network outputs ``(1/N) sigma(X~ W^T) a`` on X, shape (n, n_out)."""
        net = self.net
        X = net.prepare(X)
        at = torch.as_tensor(a, dtype=net.dtype, device=net.device)
        Wt = torch.as_tensor(W, dtype=net.dtype, device=net.device)
        with torch.no_grad():
            return torch.cat([net.sigma(X[s:s + batch_size] @ Wt.T) @ at / len(at)
                              for s in range(0, len(X), batch_size)])

    def evaluate(self, X, y, loss="cross_entropy", n_per_segment=17):
        """Loss and classification error at ``n_per_segment`` points of every segment.

        Returns
        -------
        pandas.DataFrame
            Columns ``s`` (path parameter), ``segment``, ``kind``, ``loss``,
            ``error``; vertices appear once.
        """
        check_loss(loss)
        if n_per_segment < 2:
            raise ValueError(f"n_per_segment must be >= 2, got {n_per_segment}")
        y = torch.as_tensor(np.asarray(y), device=self.net.device)
        if y.is_floating_point():
            y = y.to(self.net.dtype)
        vout = [self.outputs(self.a[k], self.W[k], X) for k in range(len(self.a))]
        lam = np.linspace(0.0, 1.0, n_per_segment)
        rows = []
        for k, kind in enumerate(self.kinds):
            for j, t in enumerate(lam):
                if k > 0 and j == 0:
                    continue
                if kind in ("a", "w0") or t in (0.0, 1.0):
                    out = (1 - t) * vout[k] + t * vout[k + 1]
                else:
                    out = self.outputs(*self.point(k + t), X)
                rows.append({"s": k + t, "segment": k, "kind": kind,
                             "loss": float(per_sample(out, y, loss).double().mean()),
                             "error": float(errors(out, y).double().mean())})
        return pd.DataFrame(rows)


def seven_segment_path(net, net2, A):
    """The seven-segment path (Theorem 1(B) of Shevchenko & Mondelli) from ``net`` to ``net2``.

    ``A`` is an index set of size at most N/2 chosen independently of both
    nets; see :func:`meanfield.twolayer.paths.seven_segment_path`.
    """
    _check_pair(net, net2)
    a, W = _neurons(net)
    a2, W2 = _neurons(net2)
    return DataPath(net, *seven_segment_vertices(a, W, a2, W2, A))


def straight_path(net, net2, aligned=False):
    """The straight line from ``net`` to ``net2``; with ``aligned``, after matching neurons.

    Alignment permutes the neurons of ``net2`` by the optimal assignment of
    :func:`meanfield.twolayer.paths.align` (squared distance between the
    stacked ``(a_i, w_i)``), which leaves its function unchanged.
    """
    _check_pair(net, net2)
    a, W = _neurons(net)
    a2, W2 = _neurons(net2)
    if aligned:
        perm = align(a, W, a2, W2)
        a2, W2 = a2[perm], W2[perm]
    return DataPath(net, np.stack([a, a2]), np.stack([W, W2]), ("theta", "theta'"))
