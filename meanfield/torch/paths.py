"""Paths between two trained :class:`MeanFieldNet` s, evaluated on data.

:func:`dropout_path` builds the path of :func:`meanfield.connectivity.
dropout_connect` (for two-layer nets the seven-segment path of Shevchenko &
Mondelli, Theorem 1(B); for deeper nets its multilayer form through the
dropout networks with the same kept sets in both nets).  Its segments are of
two kinds: on an ``"a"`` segment only the top layer moves, so the output is
the linear interpolation of the outputs at the two ends; on a ``"w0"``
segment only neurons cut off from the output move, so the output is
constant.  Both are evaluated exactly from the vertex outputs; only
``"general"`` segments (the straight-line baselines) cost a forward pass per
point.

:func:`theorem41` builds the path of Theorem 4.1 of Nguyen, Bréchet &
Mondelli from the subnetworks of Experiment A (:func:`meanfield.connectivity.
theorem41_path`; segments ``"a"``, ``"w0"`` and ``"swap"``, all exact from the
vertex outputs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..connectivity import (
    PathVertices,
    dropout_connect,
    permute,
    rescaled_dropout_connect,
    theorem41_path,
    weight_matching,
)
from .losses import as_targets, check_loss, errors, per_sample


def _check_pair(net, net2):
    for attr in ("d", "N", "n_out", "depth", "bias", "activation", "parameterisation"):
        if getattr(net, attr) != getattr(net2, attr):
            raise ValueError(f"the two nets must have the same {attr}, got "
                             f"{getattr(net, attr)!r} and {getattr(net2, attr)!r}")


class DataPath:
    """A piecewise-linear path through K + 1 nets of ``net``'s architecture, evaluated on data.

    Parameters
    ----------
    net : MeanFieldNet
        Supplies the architecture, activation, device and dtype (its weights
        are not used).
    vertices : PathVertices
        Layer matrices at each vertex (numpy), segment kinds and labels.
    """

    def __init__(self, net, vertices):
        self.net = net
        self.vertices = vertices
        shapes = [tuple(w.shape) for w in net.weights]
        for k, ws in enumerate(vertices.weights):
            if [tuple(w.shape) for w in ws] != shapes:
                raise ValueError(f"vertex {k} does not have the layer shapes {shapes} of net")
        if vertices.n_segments < 1:
            raise ValueError("a path needs at least two vertices")

    @property
    def n_segments(self):
        return self.vertices.n_segments

    @property
    def kinds(self):
        return tuple(self.vertices.kinds)

    @property
    def labels(self):
        return tuple(self.vertices.labels)

    def point(self, s):
        """Layer matrices at path parameter s in [0, K]."""
        return self.vertices.point(s)

    def outputs(self, weights, X, batch_size=2000):
        """Outputs of the net with layer matrices ``weights`` on X, shape (n, n_out)."""
        net = self.net
        W = [torch.as_tensor(w, dtype=net.dtype, device=net.device) for w in weights]
        X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X, dtype=net.dtype,
                            device=net.device)
        with torch.no_grad():
            return torch.cat([net.apply(W, X[s:s + batch_size])
                              for s in range(0, len(X), batch_size)])

    def evaluate(self, X, y, loss="cross_entropy", n_per_segment=17):
        """Loss and classification error at ``n_per_segment`` points of every segment.

        Returns
        -------
        pandas.DataFrame
            Columns ``s`` (path parameter), ``segment``, ``kind``, ``label``
            (at vertices), ``loss``, ``error``; vertices appear once.
        """
        check_loss(loss)
        y = as_targets(y, self.net.device, self.net.dtype)

        def measure(out):
            return {"loss": float(per_sample(out, y, loss).double().mean()),
                    "error": float(errors(out, y).double().mean())}

        return pd.DataFrame(self.vertices.profile(lambda w: self.outputs(w, X), measure,
                                                  n_per_segment))


def dropout_path(net, net2, keep):
    """The path from ``net`` to ``net2`` through their dropout networks on the kept sets ``keep``.

    Parameters
    ----------
    net, net2 : MeanFieldNet
        Same architecture.
    keep : array of int, or list of ``depth - 1`` arrays
        Kept neurons of each hidden layer (one array: the same in every
        layer), at most N/2, chosen independently of both nets.

    Returns
    -------
    DataPath
        7 segments for two-layer nets (the seven-segment path), ``10 depth - 13``
        in general; see :mod:`meanfield.connectivity.dropout_paths`.
    """
    _check_pair(net, net2)
    return DataPath(net, dropout_connect(net.numpy_weights(), net2.numpy_weights(), keep))


def best_dropout_path(net, net2, best, best2):
    """Path B of Nguyen et al. (Figure 3 d): through each net's best rescaled dropout network.

    Parameters
    ----------
    net, net2 : MeanFieldNet
        Same architecture.
    best, best2 : dict
        :func:`meanfield.torch.dropout.best_rescaled_dropout` of each net at
        ``layer=1`` (half of every hidden layer dropped): its ``mask`` and
        ``scale`` define the path
        (:func:`meanfield.connectivity.rescaled_dropout_connect`).
    """
    _check_pair(net, net2)
    keeps = []
    for name, b in (("best", best), ("best2", best2)):
        mask = np.asarray(b["mask"].cpu() if torch.is_tensor(b["mask"]) else b["mask"])
        if mask.shape != (net.depth - 1, net.N) or (mask.sum(1) * 2 > net.N).any():
            raise ValueError(f"{name} must be Experiment B at layer 1: a mask of shape "
                             f"({net.depth - 1}, {net.N}) keeping at most half of every layer")
        keeps.append([np.flatnonzero(row) for row in mask])
    return DataPath(net, rescaled_dropout_connect(net.numpy_weights(), net2.numpy_weights(),
                                                  keeps[0], keeps[1], best["scale"],
                                                  best2["scale"]))


def straight_path(net, net2, aligned=False):
    """The straight line from ``net`` to ``net2``; with ``aligned``, after matching neurons.

    Alignment permutes the hidden neurons of ``net2`` by
    :func:`meanfield.connectivity.weight_matching` (for two layers: the optimal
    assignment of the stacked incoming and outgoing weights), which leaves
    its function unchanged; the line then ends at the permuted ``net2``.
    """
    _check_pair(net, net2)
    W, W2 = net.numpy_weights(), net2.numpy_weights()
    if aligned:
        perms, _ = weight_matching(W, W2)
        W2 = permute(W2, perms)
    return DataPath(net, PathVertices([W, W2], ["general"], ["theta", "theta'"]))


def theorem41(net, net2, bound, bound2):
    """The path of Theorem 4.1 from ``net`` to ``net2``.

    Parameters
    ----------
    net, net2 : MeanFieldNet
        Same architecture, with ``bias="all"``.
    bound, bound2 : list of dict
        Experiment A of each net (:func:`meanfield.torch.subnets.experiment_a`):
        per layer l = 0..depth-1 the best subset ``I_l`` and subnetwork ``xi_l``.

    Returns
    -------
    DataPath
        Its vertex losses are the two nets' and the ``Q_l`` of the subnetworks
        (``net``'s ``xi_0`` in the middle), and the loss peaks at a vertex.
    """
    _check_pair(net, net2)
    for name, b in (("bound", bound), ("bound2", bound2)):
        if len(b) != net.depth:
            raise ValueError(f"{name} must hold Experiment A for layers 0..{net.depth - 1}, "
                             f"got {len(b)} entries")
    vertices = theorem41_path(net.numpy_weights(), net2.numpy_weights(),
                              [r["subset"] for r in bound[1:]],
                              [r["subset"] for r in bound2[1:]],
                              [r["xi"] for r in bound], [r["xi"] for r in bound2],
                              net.factors())
    return DataPath(net, vertices)
