"""Experiment A of Nguyen, Bréchet & Mondelli (Section 6, eq. 14): re-trained subnetworks.

For a trained net theta' and a layer l in [0, L-1], keep a uniform subset
``I_l`` of ``K_l = ceil(n_l / 2)`` features of layer l and train a fresh
subnetwork ``xi_l`` from those features to the output, with hidden widths
``n_p - K_p`` (eq. 3: the neurons the sparsified path leaves free).  The
training loss of the best of T_A subsets upper-bounds ``Q~_l``; the maximum
over l bounds the ``min max inf`` term of Theorem 4.1.

The subnetwork of a mean-field net is itself a mean-field net
(:class:`MeanFieldNet`, bias as a constant feature) trained by :func:`train`;
for the last hidden layer (``l = L - 1``, L = depth) it is a linear layer,
whose infimum is a convex problem solved by scikit-learn's multinomial
logistic regression (cross-entropy) or least squares (square loss) instead
of SGD.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .dropout import evaluate
from .losses import check_loss
from .models import MeanFieldNet
from .train import DataStream, train


def features(net, X, layer):
    """``f_l``: the input (l = 0) or the activations of hidden layer l, shape (n, n_l)."""
    L = net.depth - 1
    if not isinstance(layer, (int, np.integer)) or not 0 <= layer <= L:
        raise ValueError(f"layer must be an integer in [0, {L}], got {layer!r}")
    X = torch.as_tensor(np.asarray(X), dtype=net.dtype, device=net.device)
    if layer == 0:
        return X
    W = list(net.weights)
    with torch.no_grad():
        h = net.sigma(net.prepare(X) @ W[0].T)
        for Wl in W[1:layer]:
            h = net.sigma(h @ Wl.T / net.N)
    return h


def _linear_inf(F, y, loss, n_out):
    """Best linear map (with intercept) from features F to the outputs, and its training loss."""
    F = F.detach().cpu().double().numpy()
    y = np.asarray(y)
    if loss == "cross_entropy":
        from sklearn.linear_model import LogisticRegression

        # weak l2 penalty: on separable features the infimum (0) is not attained
        model = LogisticRegression(C=1e4, max_iter=5000).fit(F, y)
        from scipy.special import logsumexp

        dec = model.decision_function(F)
        if dec.ndim == 1:  # two classes: logits (0, dec)
            dec = np.column_stack([np.zeros_like(dec), dec])
        logp = dec - logsumexp(dec, axis=1, keepdims=True)  # no log(0) when a class is certain
        col = np.searchsorted(model.classes_, y)
        return float(-np.mean(logp[np.arange(len(y)), col]))
    else:
        target = np.eye(n_out)[y] if not np.issubdtype(y.dtype, np.floating) else \
            y.reshape(len(y), -1)
        A = np.column_stack([F, np.ones(len(F))])
        coef, *_ = np.linalg.lstsq(A, target, rcond=None)
        return float(np.mean(np.sum((A @ coef - target) ** 2, axis=1)))


def subnet_bound(net, X, y, layer, draws=20, config=None, loss="cross_entropy", seed=0,
                 batch_size=100, progress=False):
    """Best training loss over ``draws`` subsets I_l of a re-trained subnetwork from layer l.

    Parameters
    ----------
    net : MeanFieldNet
        The trained net theta'.
    layer : int
        l in [0, depth - 1] (Nguyen et al.'s [0, L - 1] with L = depth); ``I_0``
        is all inputs, so layer 0 is trained once.
    config : TrainConfig
        Training of the subnetworks (l < depth - 1); ignored for the last
        hidden layer, whose subnetwork is linear.

    Returns
    -------
    dict
        ``loss`` (the best), ``losses`` per draw, ``subset`` of the best draw.
    """
    check_loss(loss)
    H = net.depth - 1  # hidden layers; Nguyen et al.'s L is net.depth
    if not isinstance(layer, (int, np.integer)) or not 0 <= layer <= H:
        raise ValueError(f"layer must be an integer in [0, {H}], got {layer!r}")
    if layer < H and config is None:
        raise ValueError("config (a TrainConfig) is needed to train a subnetwork for "
                         f"layer {layer} < {H}")
    g = np.random.default_rng(seed)
    F = features(net, X, layer)
    n_l = F.shape[1]
    K = n_l if layer == 0 else math.ceil(n_l / 2)
    width = net.N - math.ceil(net.N / 2)  # n_p - K_p for every later hidden layer
    losses, subsets = [], []
    for k in range(draws):
        subset = np.arange(n_l) if layer == 0 else np.sort(g.choice(n_l, K, replace=False))
        # standardised per feature: an affine map of the inputs is absorbed by the
        # subnetwork's first layer and bias, so the infimum is unchanged, but SGD
        # on raw hidden activations (far from unit scale) barely moves
        Fk = F[:, subset]
        Fk = (Fk - Fk.mean(0)) / Fk.std(0).clamp(min=1e-12)
        if layer == H:
            losses.append(_linear_inf(Fk, y, loss, net.n_out))
        else:
            sub = MeanFieldNet(K, width, net.n_out, depth=net.depth - layer,
                               activation=net.activation, bias=True, init=net.init,
                               seed=g, dtype=net.dtype, device=net.device)
            stream = DataStream(Fk.cpu().numpy(), y, batch_size, seed=g, device=net.device,
                                dtype=net.dtype)
            train(sub, stream, config, progress=progress)
            losses.append(evaluate(sub, Fk, y, loss)["loss"])
        subsets.append(subset)
        if layer == 0:  # one subset only: the inputs are kept whole
            break
    best = int(np.argmin(losses))
    return {"loss": float(losses[best]), "losses": np.array(losses), "subset": subsets[best]}
