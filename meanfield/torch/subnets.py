"""Experiment A of Nguyen, Bréchet & Mondelli (Section 6, eq. 14): re-trained subnetworks.

For a trained net theta' and a layer l in [0, L-1], keep a uniform subset
``I_l`` of ``K_l = ceil(n_l / 2)`` features of layer l and train a fresh
subnetwork ``xi_l`` from those features to the output, with hidden widths
``n_p - K_p`` (eq. 3: the neurons the sparsified path leaves free).  The
training loss of the best of T_A subsets upper-bounds ``Q~_l``; the maximum
over l bounds the ``min max inf`` term of Theorem 4.1.

The subnetwork is a net of the same kind (:class:`FullyConnectedNet` with the
net's parameterisation, a bias at its first layer and at every layer when the
net has biases ``"all"``) trained by :func:`train` on the standardised
features; for the last hidden layer (``l = L - 1``, L = depth) it is the
linear map ``U_L`` of eq. 3 (no intercept: the output layer of eq. 1 has no
bias), whose infimum is a convex problem solved by scikit-learn's
multinomial logistic regression (cross-entropy) or least squares (square
loss) instead of SGD.

The best subnetwork is returned as ``xi``, matrices acting on the raw
features with the standardisation folded into the first one and no factors
(``z_1 = U_1 (f, 1)``, ``z_p = U_p (h_(p-1), 1)`` or ``U_p h_(p-1)``,
``out = U_L h``), which is the form :func:`meanfield.connectivity.theorem41_path`
embeds into the net.  The subsets ``I_l`` are kept sets of
:func:`meanfield.dropout.draw_keep`.

References
----------
.. [1] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021: eqs. (3) and (14), Theorem 4.1,
   Section 6 (Experiment A).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..dropout import draw_keep
from .dropout import evaluate
from .losses import as_targets, check_loss, per_sample
from .models import FullyConnectedNet
from .train import DataStream, train


def _linear_inf(F, y, loss, n_out):
    """Best linear map U (no intercept) from features F to the outputs: (loss, U (n_out, K))."""
    F = F.detach().cpu().double().numpy()
    y = np.asarray(y)
    if loss == "cross_entropy":
        from scipy.special import logsumexp
        from sklearn.linear_model import LogisticRegression

        # weak l2 penalty: on separable features the infimum (0) is not attained
        model = LogisticRegression(C=1e4, max_iter=5000, fit_intercept=False).fit(F, y)
        U = np.zeros((n_out, F.shape[1]))
        coef = model.coef_
        if coef.shape[0] == 1:  # two classes: sklearn keeps one row, logits (0, F c)
            coef = np.vstack([np.zeros_like(coef), coef])
        U[model.classes_] = coef
        dec = F @ U.T
        logp = dec - logsumexp(dec, axis=1, keepdims=True)  # no log(0) when a class is certain
        return float(-np.mean(logp[np.arange(len(y)), y])), U
    target = np.eye(n_out)[y] if not np.issubdtype(y.dtype, np.floating) else \
        y.reshape(len(y), -1)
    U, *_ = np.linalg.lstsq(F, target, rcond=None)
    return float(np.mean(np.sum((F @ U - target) ** 2, axis=1))), U.T


def _standardise(F, centre=True):
    """Per-feature shift and scale; near-constant features keep scale 1 (centring removes
    them) instead of blowing up rounding noise."""
    mu = F.mean(0) if centre else torch.zeros_like(F[0])
    sd = F.std(0) if centre else F.pow(2).mean(0).sqrt()
    sd = torch.where(sd > 1e-6 * sd.max().clamp(min=1e-30), sd, torch.ones_like(sd))
    return mu, sd


def _fold(sub, mu, sd):
    """The trained subnetwork as factor-free matrices on the raw features (see module doc)."""
    W = sub.numpy_weights()
    c = sub.factors()
    mu, sd = mu.double().cpu().numpy(), sd.double().cpu().numpy()
    first = W[0]
    lin = first[:, :-1] / sd
    xi = [np.column_stack([lin, first[:, -1] - lin @ mu])]
    return xi + [w * ck for w, ck in zip(W[1:], c[1:])]


def subnet_bound(net, X, y, layer, draws=20, config=None, loss="cross_entropy", seed=0,
                 batch_size=100, progress=False):
    """Best training loss over ``draws`` subsets I_l of a re-trained subnetwork from layer l.

    Parameters
    ----------
    net : FullyConnectedNet
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
        ``loss`` (the best), ``losses`` per draw, ``subset`` of the best draw
        and ``xi``, its subnetwork (module docstring).
    """
    check_loss(loss)
    H = net.depth - 1  # hidden layers; Nguyen et al.'s L is net.depth
    if not isinstance(layer, (int, np.integer)) or not 0 <= layer <= H:
        raise ValueError(f"layer must be an integer in [0, {H}], got {layer!r}")
    if layer < H and config is None:
        raise ValueError("config (a TrainConfig) is needed to train a subnetwork for "
                         f"layer {layer} < {H}")
    g = np.random.default_rng(seed)
    F = net.features(X, layer)
    n_l = F.shape[1]
    K = n_l if layer == 0 else math.ceil(n_l / 2)
    width = net.N - math.ceil(net.N / 2)  # n_p - K_p for every later hidden layer
    losses, subsets, xis = [], [], []
    for k in range(draws):
        subset = np.arange(n_l) if layer == 0 else draw_keep(n_l, K, g)
        # standardised per feature: an affine map of the inputs is absorbed by the
        # subnetwork's first layer and bias, so the infimum is unchanged, but SGD
        # on raw hidden activations (far from unit scale) barely moves; the linear
        # top map has no bias, so its features are only scaled
        Fk = F[:, subset]
        mu, sd = _standardise(Fk, centre=layer < H)
        Fk = (Fk - mu) / sd
        if layer == H:
            value, U = _linear_inf(Fk, y, loss, net.n_out)
            losses.append(value)
            xis.append([U / sd.double().cpu().numpy()])
        else:
            sub = FullyConnectedNet(K, width, net.n_out, depth=net.depth - layer,
                               activation=net.activation,
                               bias="all" if net.bias == "all" else "input", init=net.init,
                               parameterisation=net.parameterisation,
                               seed=g, dtype=net.dtype, device=net.device)
            stream = DataStream(Fk, y, batch_size, seed=g, device=net.device, dtype=net.dtype)
            train(sub, stream, config, progress=progress)
            losses.append(evaluate(sub, Fk, y, loss)["loss"])
            xis.append(_fold(sub, mu, sd))
        subsets.append(subset)
        if layer == 0:  # one subset only: the inputs are kept whole
            break
    best = int(np.argmin(losses))
    return {"loss": float(losses[best]), "losses": np.array(losses), "subset": subsets[best],
            "xi": xis[best]}


def subnet_loss(net, X, y, layer, subset, xi, loss="cross_entropy", batch_size=2000):
    """The loss of a subnetwork ``xi_l`` on the features ``f_(l, I_l)`` of ``net``: eq. (3) in
    the net's dtype.

    Parameters
    ----------
    net : FullyConnectedNet
        Supplies the features of layer ``layer`` (:meth:`FullyConnectedNet.features`), the
        activation, device and dtype: a float64 copy of a float32 net evaluates ``xi`` in
        float64.
    layer : int
        l in [0, depth - 1].
    subset, xi :
        ``I_l`` and the subnetwork, as :func:`subnet_bound` returns them (module docstring:
        factor-free matrices on the raw features, a bias column in the first matrix and,
        when ``net.bias == "all"``, in every hidden one).

    Returns
    -------
    float
        ``E[Psi(h_L(xi_l, f_(l, I_l)(theta, x)), y)]`` on the sample: the ``loss`` of
        :func:`subnet_bound` evaluated again from ``xi`` (to rounding of the dtype the
        subnetwork was trained in).

    References
    ----------
    Nguyen, Bréchet & Mondelli (2021), eqs. (3) and (5).
    """
    check_loss(loss)
    U = [torch.as_tensor(np.asarray(u), dtype=net.dtype, device=net.device) for u in xi]
    hb = net.bias == "all"
    y = as_targets(y, net.device, net.dtype)
    F = net.features(X, layer)[:, torch.as_tensor(np.asarray(subset), device=net.device)]
    total = 0.0
    with torch.no_grad():
        for s in range(0, len(F), batch_size):
            h = F[s:s + batch_size]
            for k, u in enumerate(U[:-1]):
                h = net.sigma(h @ u[:, :-1].T + u[:, -1]) if k == 0 or hb else \
                    net.sigma(h @ u.T)
            total += float(per_sample(h @ U[-1].T, y[s:s + batch_size], loss).double().sum())
    return total / len(F)


def experiment_a(net, X, y, draws=20, config=None, loss="cross_entropy", seed=0,
                 batch_size=100, progress=False):
    """:func:`subnet_bound` for every layer l = 0..depth-1 (Experiment A), each from its own
    stream of ``seed``; the bound of Theorem 4.1 is the largest ``loss``."""
    streams = np.random.SeedSequence(np.random.default_rng(seed).integers(2**63)) \
        .spawn(net.depth)
    return [subnet_bound(net, X, y, layer, draws=draws, config=config, loss=loss,
                         seed=np.random.default_rng(s), batch_size=batch_size,
                         progress=progress)
            for layer, s in enumerate(streams)]
