"""Paths between two trained :class:`FullyConnectedNet` s, and their losses on data.

The paths are :class:`meanfield.connectivity.PathVertices` built from the two
nets' weights: :func:`dropout_path` (:func:`meanfield.connectivity.
dropout_connect`; for two-layer nets the seven-segment path of Shevchenko &
Mondelli, Theorem 1(B); for deeper nets its multilayer form through the
dropout networks with the same kept sets in both nets), :func:`best_dropout_path`
(path B of Nguyen et al.), :func:`theorem41` (the path of their Theorem 4.1
from the subnetworks of Experiment A) and :func:`straight_path`.  On a data
set the loss is :class:`DataLoss`, and :func:`evaluate_path` its profile: on
an ``"a"`` segment only the top layer moves, so the output is the linear
interpolation of the outputs at the two ends; on ``"w0"`` and ``"swap"``
segments the output is constant.  Both are evaluated exactly from the vertex
outputs; only ``"general"`` segments (the straight-line baselines) cost a
forward pass per point.  :func:`meanfield.connectivity.barrier` with a
:class:`DataLoss` is the barrier on the data.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: Theorem 1(B), Section 5, Figure 3.
.. [2] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021: Theorem 4.1, Figure 3 d.
.. [3] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Lemmas 1 and 2.
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
from ..dropout import mask_keep
from .losses import as_targets, check_loss, errors, per_sample


def _check_pair(net, net2):
    for attr in ("d", "N", "n_out", "depth", "bias", "activation", "parameterisation"):
        if getattr(net, attr) != getattr(net2, attr):
            raise ValueError(f"the two nets must have the same {attr}, got "
                             f"{getattr(net, attr)!r} and {getattr(net2, attr)!r}")


class DataLoss:
    """The loss on a data set of nets of ``net``'s architecture: a loss for paths.

    ``DataLoss(...)(weights)`` is the mean loss of the net with the layer
    matrices ``weights``; :meth:`outputs` and :meth:`measure` are the two
    halves :meth:`meanfield.connectivity.PathVertices.profile` takes.

    Parameters
    ----------
    net : FullyConnectedNet
        Supplies the architecture, activation, device and dtype (its weights
        are not used).
    X, y : arrays or tensors
        The data; ``y`` integer labels, or real targets for the square loss.
    loss : str
        ``cross_entropy`` or ``square``.
    batch_size : int
        Samples per forward pass.

    References
    ----------
    Shevchenko & Mondelli (2020), Section 5; Nguyen, Bréchet & Mondelli (2021),
    Section 6.
    """

    def __init__(self, net, X, y, loss="cross_entropy", batch_size=2000):
        check_loss(loss)
        self.net, self.loss, self.batch_size = net, loss, batch_size
        self.X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X,
                                 dtype=net.dtype, device=net.device)
        self.y = as_targets(y, net.device, net.dtype)

    def outputs(self, weights, X=None):
        """Outputs of the net with layer matrices ``weights`` on X (default: the data),
        shape (n, n_out)."""
        net = self.net
        shapes = [tuple(w.shape) for w in net.weights]
        if [tuple(np.shape(w)) for w in weights] != shapes:
            raise ValueError(f"weights must have the layer shapes {shapes} of the net")
        W = [torch.as_tensor(w, dtype=net.dtype, device=net.device) for w in weights]
        X = self.X if X is None else torch.as_tensor(
            np.asarray(X) if not torch.is_tensor(X) else X, dtype=net.dtype, device=net.device)
        with torch.no_grad():
            return torch.cat([net.apply(W, X[s:s + self.batch_size])
                              for s in range(0, len(X), self.batch_size)])

    def measure(self, out):
        """Mean loss and classification error of the outputs ``out``."""
        return {"loss": float(per_sample(out, self.y, self.loss).double().mean()),
                "error": float(errors(out, self.y).double().mean())}

    def __call__(self, weights):
        return self.measure(self.outputs(weights))["loss"]


def evaluate_path(path, net, X, y, loss="cross_entropy", n_per_segment=17, shortcut=True):
    """Loss and classification error at ``n_per_segment`` points of every segment of ``path``.

    Parameters
    ----------
    path : PathVertices
        Between nets of ``net``'s architecture.
    net : FullyConnectedNet
        Supplies the architecture, device and dtype (:class:`DataLoss`): a float64 copy of
        a float32 net evaluates the path in float64.
    shortcut : bool
        False evaluates every point by a forward pass instead of from the vertex outputs
        (:meth:`meanfield.connectivity.PathVertices.profile`), to check a construction
        rather than rely on it.

    Returns
    -------
    pandas.DataFrame
        Columns ``s`` (path parameter), ``segment``, ``kind``, ``label``
        (at vertices), ``loss``, ``error``; vertices appear once.

    References
    ----------
    Shevchenko & Mondelli (2020), Figure 3; Nguyen, Bréchet & Mondelli (2021),
    Figure 3 d.
    """
    data = DataLoss(net, X, y, loss)
    return pd.DataFrame(path.profile(data.outputs, data.measure, n_per_segment, shortcut))


def dropout_path(net, net2, keep):
    """The path from ``net`` to ``net2`` through their dropout networks on the kept sets ``keep``.

    Parameters
    ----------
    net, net2 : FullyConnectedNet
        Same architecture.
    keep : array of int, or list of ``depth - 1`` arrays
        Kept neurons of each hidden layer (one array: the same in every
        layer), at most N/2, chosen independently of both nets.

    Returns
    -------
    PathVertices
        7 segments for two-layer nets (the seven-segment path), ``10 depth - 13``
        in general; see :mod:`meanfield.connectivity.dropout_paths`.

    References
    ----------
    Shevchenko & Mondelli (2020), Theorem 1(B) and Theorem 2(B).
    """
    _check_pair(net, net2)
    return dropout_connect(net.numpy_weights(), net2.numpy_weights(), keep)


def best_dropout_path(net, net2, best, best2):
    """Path B of Nguyen et al. (Figure 3 d): through each net's best rescaled dropout network.

    Parameters
    ----------
    net, net2 : FullyConnectedNet
        Same architecture.
    best, best2 : meanfield.dropout.RescaledDropout
        :func:`meanfield.torch.dropout.best_rescaled_dropout` of each net at
        ``layer=1`` (half of every hidden layer dropped): its mask ``keep`` and
        ``scale`` define the path
        (:func:`meanfield.connectivity.rescaled_dropout_connect`).

    Returns
    -------
    PathVertices

    References
    ----------
    Nguyen, Bréchet & Mondelli (2021), Experiment B and Figure 3 d.
    """
    _check_pair(net, net2)
    keeps = []
    for name, b in (("best", best), ("best2", best2)):
        mask = np.asarray(b.keep.cpu() if torch.is_tensor(b.keep) else b.keep)
        if mask.shape != (net.depth - 1, net.N) or (mask.sum(1) * 2 > net.N).any():
            raise ValueError(f"{name} must be Experiment B at layer 1: a mask of shape "
                             f"({net.depth - 1}, {net.N}) keeping at most half of every layer")
        keeps.append(mask_keep(mask))
    return rescaled_dropout_connect(net.numpy_weights(), net2.numpy_weights(), keeps[0],
                                    keeps[1], best.scale, best2.scale)


def straight_path(net, net2, aligned=False):
    """The straight line from ``net`` to ``net2``; with ``aligned``, after matching neurons.

    Alignment permutes the hidden neurons of ``net2`` by
    :func:`meanfield.connectivity.weight_matching` (for two layers: the optimal
    assignment of the stacked incoming and outgoing weights), which leaves
    its function unchanged; the line then ends at the permuted ``net2``.

    Returns
    -------
    PathVertices
        One ``"general"`` segment.

    References
    ----------
    Nguyen, Bréchet & Mondelli (2021), Figure 3 d (the straight and aligned
    baselines).
    """
    _check_pair(net, net2)
    W, W2 = net.numpy_weights(), net2.numpy_weights()
    if aligned:
        perms, _ = weight_matching(W, W2)
        W2 = permute(W2, perms)
    return PathVertices([W, W2], ("general",), ("theta", "theta'"))


def theorem41(net, net2, bound, bound2):
    """The path of Theorem 4.1 from ``net`` to ``net2``.

    Parameters
    ----------
    net, net2 : FullyConnectedNet
        Same architecture, with ``bias="all"``.
    bound, bound2 : list of dict
        Experiment A of each net (:func:`meanfield.torch.subnets.experiment_a`):
        per layer l = 0..depth-1 the best subset ``I_l`` and subnetwork ``xi_l``.

    Returns
    -------
    PathVertices
        Its vertex losses are the two nets' and the ``Q_l`` of the subnetworks
        (``net``'s ``xi_0`` in the middle), and the loss peaks at a vertex.

    References
    ----------
    Nguyen, Bréchet & Mondelli (2021), Theorem 4.1
    (:func:`meanfield.connectivity.theorem41_path`).
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
    return vertices
