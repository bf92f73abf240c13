"""Noise stability of Kuditipudi et al. (Definitions 2-4): why dropout paths exist.

Kuditipudi et al. explain the low-loss paths of :mod:`meanfield.connectivity`
(their Lemmas 1 and 2) by noise stability: a net whose layers are
noise-stable (Definitions 2-4) is dropout stable, and dropout-stable nets
are connected.  The quantities are computed for a
:class:`meanfield.torch.FullyConnectedNet` with torch as the backend (this module
imports torch; ``meanfield.connectivity`` does not import it).

Layers are numbered as in the paper: ``x^0`` is the input (with the bias
feature), ``x^i = A_i phi(x^(i-1))`` the pre-activation of layer i (with
``phi(x^0) = x^0``), ``x^d`` the output, and ``A_1 = W_1``,
``A_i = c_i W_i`` for i >= 2 (the factor of the layer, 1/N in mean field,
belongs to the matrix).  Nets with a bias per hidden layer are refused: the
definitions are for nets without biases.
Per sample:

* layer cushion ``|A_i phi(x^(i-1))| / (|A_i|_F |phi(x^(i-1))|)``;
* interlayer cushion ``|J x^i| / (|J|_2 |x^i|)`` with J the Jacobian of the
  map from ``x^i`` to ``x^j``, applied and transposed in batches, and its
  spectral norm by power iteration on ``J^T J``;
* activation contraction ``max_i |x^i| / |phi(x^i)|`` over hidden layers.

* interlayer smoothness (Definition 3) under the dropout of Algorithm 1:
  per sample the largest rho with
  ``|M^{i,j}(xh) - J^{i,j} xh| <= |xh - x^i| |x^j| / (rho |x^i|)`` for all
  ``2 <= i < j <= d`` and the two interpolated pre-activations ``xh`` of
  the definition at a grid of t (j = i holds for every rho).

The paper's scalars are the minima (cushions, smoothness) or maximum
(contraction) of these over the sample set, and Definition 4 combines them
into epsilon.

References
----------
.. [1] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Definitions 2-4, Algorithm 1.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..dropout import draw_keep, dropout_rescale


def _layers(net, X):
    """Matrices A_1..A_d and the pre-activations x^0..x^d (x^0 with the bias feature)."""
    if net.bias == "all":
        raise ValueError("noise stability is defined for nets without hidden-layer biases "
                         "(bias 'input' or 'none'), got bias 'all'")
    W = list(net.weights)
    A = [w * c for w, c in zip(W, net.factors())]
    with torch.no_grad():
        xs = [net.prepare(X)]
        h = xs[0]
        for i, Ai in enumerate(A, start=1):
            xs.append(h @ Ai.T)
            h = net.sigma(xs[-1]) if i < len(A) else None
    return A, xs


def _slopes(net, z):
    """phi'(z), elementwise, by autograd (works for every activation of the core)."""
    z = z.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net.sigma(z).sum(), z)
    return g


def _jac(A, D, i, j, v):
    """J^{i,j} v for a batch of vectors v (n, h_i): x^i -> x^j through layers i+1..j."""
    for k in range(i, j):
        v = (v * D[k]) @ A[k].T  # A[k] is A_{k+1}
    return v


def _jac_t(A, D, i, j, u):
    """(J^{i,j})^T u for a batch u (n, h_j)."""
    for k in range(j - 1, i - 1, -1):
        u = (u @ A[k]) * D[k]
    return u


def noise_stability(net, X, iters=100, seed=0):
    """Per-sample noise-stability quantities of ``net`` on the inputs X.

    Returns
    -------
    dict
        ``layer_cushion`` (n, d) for i = 1..d; ``interlayer_cushion`` a dict
        ``(i, j) -> (n,)`` for 1 <= i < j <= d; ``min_interlayer_cushion``
        (n, d - 1) for i = 1..d-1 (min over j >= i, with mu_{i,i} = 1);
        ``activation_contraction`` (n,); ``output_norm`` (n,).

    References
    ----------
    Kuditipudi et al. (2019), Definition 2 (layer cushion, interlayer cushion,
    activation contraction).
    """
    A, xs = _layers(net, X)
    d = len(A)
    D = [None] + [_slopes(net, xs[i]) for i in range(1, d)]  # D[k] = phi'(x^k)
    with torch.no_grad():
        cushion = []
        for i in range(1, d + 1):
            phi = xs[0] if i == 1 else net.sigma(xs[i - 1])
            num = xs[i].norm(dim=1)
            cushion.append(num / (A[i - 1].norm() * phi.norm(dim=1).clamp(min=1e-300)))
        contraction = torch.stack([xs[i].norm(dim=1) / net.sigma(xs[i]).norm(dim=1)
                                   .clamp(min=1e-300) for i in range(1, d)]).amax(0)
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        inter = {}
        for i in range(1, d):
            for j in range(i + 1, d + 1):
                v = torch.randn(xs[i].shape, generator=g, dtype=xs[i].dtype).to(xs[i].device)
                for _ in range(iters):  # power iteration on J^T J, one vector per sample
                    v = _jac_t(A, D, i, j, _jac(A, D, i, j, v))
                    v = v / v.norm(dim=1, keepdim=True).clamp(min=1e-300)
                spec = _jac(A, D, i, j, v).norm(dim=1)
                Jx = _jac(A, D, i, j, xs[i]).norm(dim=1)
                inter[(i, j)] = Jx / (spec * xs[i].norm(dim=1)).clamp(min=1e-300)
        mins = []
        for i in range(1, d):
            vals = [torch.ones_like(xs[i][:, 0])] + [inter[(i, j)] for j in range(i + 1, d + 1)]
            mins.append(torch.stack(vals).amin(0))
    as_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731
    return {"layer_cushion": np.stack([as_np(c) for c in cushion], axis=1),
            "interlayer_cushion": {k: as_np(v) for k, v in inter.items()},
            "min_interlayer_cushion": np.stack([as_np(m) for m in mins], axis=1),
            "activation_contraction": as_np(contraction),
            "output_norm": as_np(xs[-1].norm(dim=1))}


def _propagate(A, sigma, i, j, z):
    """M^{i,j}: from the pre-activation of layer i to that of layer j through the net."""
    for k in range(i, j):
        z = sigma(z) @ A[k].T
    return z


def _mixed(A, Ah, sigma, x0, upto, dropped, t):
    """Pre-activation of layer ``upto`` with ``t A_k + (1 - t) Ah_k`` for 2 <= k <= dropped
    and ``A_k`` above."""
    z = x0 @ A[0].T
    for k in range(2, upto + 1):
        Ak = t * A[k - 1] + (1 - t) * Ah[k - 1] if k <= dropped else A[k - 1]
        z = sigma(z) @ Ak.T
    return z


def interlayer_smoothness(net, X, p=0.5, draws=8, ts=(0.0, 0.25, 0.5, 0.75), seed=0):
    """Interlayer smoothness (Kuditipudi et al., Definition 3) per sample and per draw.

    Each draw applies Algorithm 1 to ``A_2 .. A_d`` (column j of ``A_i`` kept
    with probability ``1 - p`` and then divided by ``1 - p``).  For every
    ``2 <= i < j <= d`` and ``t`` in ``ts``, ``xh`` is the pre-activation of
    layer i under ``t theta + (1 - t) theta^i`` and under
    ``t theta + (1 - t) theta^(i-1)`` (theta^i: Algorithm 1 on layers 2..i),
    and the sample's rho is the smallest
    ``|xh - x^i| |x^j| / (|x^i| |M^{i,j}(xh) - J^{i,j}_{x^i} xh|)``.  Where
    nothing is dropped below layer i (t = 1, and ``theta^(i-1) = theta`` for
    i = 2) ``xh = x^i``: those cases are left out, as they hold for every rho
    in the ReLU nets the definition is written for (``M(x^i) = J x^i``),
    while for a smooth activation they would give rho = 0 whatever the
    dropout does.

    Returns
    -------
    dict
        ``per_sample`` (draws, n) of rho (inf where every inequality holds
        for every rho), ``rho`` the definition's scalar: the largest value
        that holds with probability at least 1/2 over the draws, i.e. the
        ``ceil(draws / 2)``-th largest of the per-draw minima over samples (an
        order statistic, not the median, which would average two of them)
        and ``deltas``, the column multipliers
        drawn (``deltas[k][i]`` for layer i = 2..d).

    References
    ----------
    Kuditipudi et al. (2019), Definition 3 and Algorithm 1; the dropout is
    :func:`meanfield.dropout.draw_keep` (``method="bernoulli"``) rescaled by
    :func:`meanfield.dropout.dropout_rescale`.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p}")
    A, xs = _layers(net, X)
    d = len(A)
    if d < 3:
        raise ValueError(f"interlayer smoothness needs at least 3 weight layers, got {d}")
    D = [None] + [_slopes(net, xs[i]) for i in range(1, d)]
    g = np.random.default_rng(seed)
    x0, sigma = xs[0], net.sigma
    per, deltas = [], []
    with torch.no_grad():
        for _ in range(int(draws)):
            # Algorithm 1: column j of A_i kept with probability 1 - p, then / (1 - p)
            kept = draw_keep(A[1].shape[1], p, g, n_hidden=d - 1, method="bernoulli")
            delta = {i: torch.as_tensor(dropout_rescale(kept[i - 2], 1 - p), dtype=x0.dtype,
                                        device=x0.device)
                     for i in range(2, d + 1)}
            deltas.append({i: v.cpu().numpy() for i, v in delta.items()})
            Ah = [A[0]] + [A[i - 1] * delta[i] for i in range(2, d + 1)]
            rho = torch.full((len(x0),), float("inf"), dtype=x0.dtype, device=x0.device)
            for i in range(2, d):
                for t in ts:
                    for dropped in (i, i - 1) if i > 2 else (i,):
                        xh = _mixed(A, Ah, sigma, x0, i, dropped, t)
                        gap = (xh - xs[i]).norm(dim=1)
                        for j in range(i + 1, d + 1):
                            err = (_propagate(A, sigma, i, j, xh)
                                   - _jac(A, D, i, j, xh)).norm(dim=1)
                            val = gap * xs[j].norm(dim=1) / (xs[i].norm(dim=1) * err)
                            rho = torch.minimum(rho, torch.where(err > 0, val, rho))
            per.append(rho.cpu().double().numpy())
    per = np.stack(per)
    # Definition 3 asks for the largest rho with P(every inequality holds) >= 1/2: a draw
    # holds for rho <= its minimum over samples, so rho is the ceil(n/2)-th largest minimum.
    minima = np.sort(per.min(axis=1))
    rho = float(minima[len(minima) - math.ceil(len(minima) / 2)])
    return {"per_sample": per, "rho": rho, "deltas": deltas}


def noise_stability_epsilon(q, h_min, beta=math.sqrt(2.0)):
    """Definition 4: ``beta c d^(3/2) max|f(x)| / (h_min^(1/2) min_{2<=i<=d} mu_i mu_{i->})``.

    ``q`` is the output of :func:`noise_stability`; ``beta`` the Lipschitz
    constant of the loss (sqrt 2 for cross-entropy).  ``mu_{d->} = 1``.

    References
    ----------
    Kuditipudi et al. (2019), Definition 4.
    """
    mu = q["layer_cushion"].min(axis=0)                      # i = 1..d
    mu_to = np.append(q["min_interlayer_cushion"].min(axis=0), 1.0)  # i = 1..d
    d = mu.size
    c = q["activation_contraction"].max()
    denom = math.sqrt(h_min) * np.min(mu[1:] * mu_to[1:])
    return float(beta * c * d ** 1.5 * q["output_norm"].max() / denom)
