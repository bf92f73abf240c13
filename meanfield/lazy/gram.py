"""Infinite-width Gram matrices K^(H) of Du, Lee, Li, Wang & Zhai (ICML 2019).

Both recursions need, for every pair of inputs, ``E[sigma(u) sigma(v)]`` and
``E[sigma'(u) sigma'(v)]`` with ``(u, v) ~ N(0, [[K_ii, K_ij], [K_ij, K_jj]])``.
These are the pair kernel F and its Price derivative ``F12 = dF/dK_ij`` of
:mod:`meanfield.kernels.gaussian`: closed forms for ReLU and erf (the angle
from a branch-free atan, accurate to 4.4e-16, not a clipped arccos), and
for the other activations the piecewise Gauss-Legendre / Gauss-Hermite
quadrature documented in :func:`~meanfield.kernels.gaussian.quadrature_nodes`
(worst pair found off by 5e-12 at the default 48 nodes; the tests here
check softplus against Monte Carlo).

Layer index of the last step.  As printed, Definitions 5.1 and 6.1 take the
expectation of ``sigma'(u) sigma'(v)`` under ``A^(H-1)``.  The derivative
with respect to ``W^(H)`` sees the pre-activations ``W^(H) x^(H-1)``, whose
covariance is ``K^(H-1)``, i.e. ``A^(H)`` in the papers' indexing; the
wide-network checks in ``tests/test_lazy.py`` confirm ``A^(H)`` (the printed
version is off by the width of one layer of the recursion), so that is what
is used here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..activations import get_activation
from ..kernels.gaussian import gauss_means, pair, pair_matrix, quadrature_nodes

QUAD = quadrature_nodes(48)


def _inputs(X):
    """Distinct points on the unit sphere, one per row (Du et al.'s assumption)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must have shape (n, d) with n >= 1, got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X must be finite")
    norms = np.linalg.norm(X, axis=1)
    if np.abs(norms - 1.0).max() > 1e-8:
        raise ValueError(f"inputs must lie on the unit sphere (|x_i| = 1); got norms in "
                         f"[{norms.min():.6g}, {norms.max():.6g}]")
    if X.shape[0] > 1:
        G = X @ X.T
        np.fill_diagonal(G, -np.inf)
        if G.max() > 1.0 - 1e-12:  # <x_i, x_j> = 1 on the sphere: the same point
            raise ValueError("X holds duplicate points: K^(H) would be singular")
    return X


def _conv_inputs(X):
    """Images ``(n, channels, pixels)`` of unit Frobenius norm, distinct (Theorem 7.1)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3 or X.shape[0] < 1 or X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"X must have shape (n, channels, pixels), got {X.shape}")
    _inputs(X.reshape(X.shape[0], -1))
    return np.ascontiguousarray(X)


def _check_q(q):
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 1 or q % 2 == 0:
        raise ValueError(f"q must be an odd integer >= 1 (the patch width), got {q!r}")
    return int(q)


def _check_c_res(c_res):
    if not 0.0 < c_res < 1.0:
        raise ValueError(f"c_res must lie in (0, 1), got {c_res!r}")
    return c_res


def _patch_windows(p, q):
    """The offsets of a width-``q`` patch on ``p`` pixels (stride 1, zero beyond the
    edges): ``(o, lo, hi)`` for o = -(q-1)/2 .. (q-1)/2 with ``[lo, hi)`` the pixels l
    whose neighbour l + o lies inside the image (offsets with none left out)."""
    h = q // 2
    for o in range(-h, h + 1):
        lo, hi = max(0, -o), min(p, p - o)
        if lo < hi:
            yield o, lo, hi


def patch_gram(K, n, p, q):
    """The Gram matrix of the patches from the Gram matrix of the pixels.

    ``K`` is ``(n p, n p)``, row ``i p + l`` the pixel l of input i (all
    channels).  Patch l of an image holds pixels ``l - (q-1)/2 .. l + (q-1)/2``,
    zero beyond the edges (Du et al.'s operator phi_h, stride 1), so
    ``<phi(x_i)_l, phi(x_j)_r> = sum_o K[(i, l + o), (j, r + o)]`` over the
    offsets o with both pixels inside the image.

    References
    ----------
    Du, Lee, Li, Wang & Zhai, ICML 2019, Section 3 (phi_h) and Definition 7.1.
    """
    n, p, q = _checks.positive_int("n", n), _checks.positive_int("p", p), _check_q(q)
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (n * p, n * p):
        raise ValueError(f"K must have shape (n p, n p) = ({n * p}, {n * p}), got {K.shape}")
    K4 = K.reshape(n, p, n, p)
    out = np.zeros_like(K4)
    for o, lo, hi in _patch_windows(p, q):
        out[:, lo:hi, :, lo:hi] += K4[:, lo + o:hi + o, :, lo + o:hi + o]
    return out.reshape(n * p, n * p)


def _pixel_trace(M, n, p):
    """``sum_l M[(i, l), (j, l)]``: the (n, n) sum over equal pixels."""
    return np.trace(M.reshape(n, p, n, p), axis1=1, axis2=3)


def _check_H(H):
    if isinstance(H, bool) or not isinstance(H, (int, np.integer)) or H < 1:
        raise ValueError(f"H must be an integer >= 1, got {H!r}")
    return int(H)


def c_sigma(activation) -> float:
    """``c_sigma = 1 / E[sigma(Z)^2]``, Z ~ N(0, 1) (eq. (2))."""
    act = get_activation(activation)
    return 1.0 / pair(act.kind, act.p, act.kind, act.p, 1.0, 1.0, 1.0, QUAD)[0]


#: Chebyshev-Lobatto nodes in the correlation for the equal-diagonal fast path,
#: and the largest interpolation error accepted (checked on sample pairs).
CHEB_NODES = 96
CHEB_TOL = 1e-11


def _direct(act, K, q):
    F, F1, F12 = (np.empty_like(K) for _ in range(3))
    pair_matrix(act.kind, act.p, act.kind, act.p, K, q, q, QUAD, F, F1, F12)
    return F, F12


def _barycentric(nodes, values, x):
    """Chebyshev-Lobatto barycentric interpolation of ``values`` (columns) at ``x``."""
    w = np.ones(nodes.size)
    w[1::2] = -1.0
    w[[0, -1]] *= 0.5
    diff = x[:, None] - nodes[None, :]
    exact = diff == 0.0
    diff[exact] = 1.0
    c = w / diff
    out = (c @ values) / c.sum(axis=1)[:, None]
    hit = exact.any(axis=1)
    out[hit] = values[np.argmax(exact[hit], axis=1)]
    return out


def _by_correlation(act, K, q0):
    """Equal diagonal: F and F12 are smooth functions of the correlation alone.

    Tabulate them at Chebyshev-Lobatto nodes and interpolate; return None
    when sample pairs show an error above CHEB_TOL (activations with kinks
    make F12 singular at correlation 1), so the caller falls back.
    """
    def direct(q12):
        f, _, f12 = pair(act.kind, act.p, act.kind, act.p, q0, q0, q12, QUAD)
        return f, f12

    rho_nodes = np.cos(np.pi * np.arange(CHEB_NODES + 1) / CHEB_NODES)
    table = np.array([direct(q0 * r) for r in rho_nodes])
    rho = np.clip(K / q0, -1.0, 1.0).ravel()
    step = 65536  # keeps the (points x nodes) work array near 50 MB
    vals = np.concatenate([_barycentric(rho_nodes, table, rho[k:k + step])
                           for k in range(0, rho.size, step)])
    n = K.shape[0]
    i, j = np.random.default_rng(0).integers(0, n, size=(2, 16))
    Fd, F12d = np.array([direct(K[a, b]) for a, b in zip(i, j)]).T
    got = vals.reshape(n, n, 2)[i, j]
    scale = np.abs(table).max(axis=0)
    if np.any(np.abs(got[:, 0] - Fd) > CHEB_TOL * scale[0]) or \
            np.any(np.abs(got[:, 1] - F12d) > CHEB_TOL * scale[1]):
        return None
    return vals[:, 0].reshape(n, n), vals[:, 1].reshape(n, n)


def pair_expectations(activation, K):
    """``E[sigma(u) sigma(v)]`` and ``E[sigma'(u) sigma'(v)]`` for every pair.

    ``(u, v)`` is centred Gaussian with covariance ``[[K_ii, K_ij], [K_ij, K_jj]]``.
    ReLU and erf use the closed forms.  For the others, when every ``K_ii``
    is the same (inputs on the sphere, as Du et al. assume) both are
    functions of the correlation alone: they are tabulated at 97
    Chebyshev-Lobatto correlations and interpolated, with the error checked
    against direct quadrature on sample pairs (below 1e-11 relative, else the
    direct quadrature is used for every pair).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Both (n, n).
    """
    act = get_activation(activation)
    K = np.ascontiguousarray(K, dtype=np.float64)
    q = np.ascontiguousarray(np.diag(K))
    out = None
    closed = act.name in ("relu", "erf")
    if not closed and K.shape[0] ** 2 > 4 * CHEB_NODES and np.ptp(q) <= 1e-14 * q.max():
        out = _by_correlation(act, K, float(q[0]))
    if out is None:
        out = _direct(act, K, q)
    F, F12 = out
    # the quadrature is symmetric in (i, j) only to its accuracy
    return 0.5 * (F + F.T), 0.5 * (F12 + F12.T)


def _mean(act, q):
    m, dm = np.empty_like(q), np.empty_like(q)
    gauss_means(act.kind, act.p, np.ascontiguousarray(q), QUAD, m, dm)
    return m


@dataclass(frozen=True)
class GramResult:
    """``K`` = K^(H); ``layers`` = [K^(0), ..., K^(H-1)]; ``b`` = [b^(1), ...] (ResNet)."""

    K: np.ndarray
    layers: list
    b: list

    @property
    def lambda_min(self) -> float:
        """Least eigenvalue of K^(H), in float64."""
        return float(np.linalg.eigvalsh(self.K)[0])


def fc_gram(X, H, activation="relu") -> GramResult:
    """K^(H) of a depth-H fully connected net, Definition 5.1 of Du et al. (2019).

    ``K^(0) = X X'``; for h = 1..H-1, ``K^(h) = c_sigma E[sigma(u) sigma(v)]``
    under the covariance built from ``K^(h-1)``; then
    ``K^(H) = c_sigma K^(H-1) o E[sigma'(u) sigma'(v)]`` under the covariance
    built from ``K^(H-1)`` (see the module docstring on the index).  It is
    the limit of the Gram matrix of ``df/dW^(H)`` at initialisation as the
    width m grows.  Memory O(n^2).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Distinct inputs on the unit sphere.
    H : int
        Number of hidden layers, >= 1.
    activation : str
    """
    X = _inputs(X)
    H = _check_H(H)
    act = get_activation(activation)
    cs = c_sigma(act)
    K = X @ X.T
    layers = [K]
    for _ in range(1, H):
        F, _ = pair_expectations(act, K)
        K = cs * F
        layers.append(K)
    _, D = pair_expectations(act, K)
    return GramResult(cs * K * D, layers, [])


def resnet_gram(X, H, activation="relu", c_res=0.1) -> GramResult:
    """K^(H) of the ResNet of eq. (3), Definition 6.1 of Du et al. (2019).

    The blocks end in the activation, so features have a non-zero mean; the
    recursion carries it as ``b^(h)``:

    * ``K^(1) = c_sigma E[sigma(u) sigma(v)]``, ``b^(1)_i = sqrt(c_sigma) E sigma(u_i)``;
    * for h = 2..H-1, ``K^(h) = K^(h-1) + (c_res/H) (b_i E sigma(v) + b_j E sigma(u))
      + (c_res/H)^2 E[sigma(u) sigma(v)]`` and ``b^(h) = b^(h-1) + (c_res/H) E sigma(u)``,
      expectations under the covariance built from ``K^(h-1)``, u belonging to
      input i and v to input j.  The cross terms pair ``b_i`` with input j's
      activation (``<x_i^(h-1), sigma(W x_j^(h-1))>``); eq. (8) as printed pairs
      ``b_i`` with ``sigma(u)``.  On the unit sphere every ``K_ii`` is the same,
      so the two agree there;
    * ``K^(H) = (c_res/H)^2 K^(H-1) o E[sigma'(u) sigma'(v)]`` (for H = 1, the
      fully connected K^(1)).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Distinct inputs on the unit sphere.
    H : int
        Number of layers, >= 1.
    activation : str
    c_res : float
        Branch scale in (0, 1).
    """
    X = _inputs(X)
    H = _check_H(H)
    _check_c_res(c_res)
    act = get_activation(activation)
    cs = c_sigma(act)
    if H == 1:
        return fc_gram(X, 1, act)
    K0 = X @ X.T
    F, _ = pair_expectations(act, K0)
    K = cs * F
    b = np.sqrt(cs) * _mean(act, np.diag(K0))
    layers, bs = [K0, K], [b]
    r = c_res / H
    for _ in range(2, H):
        F, _ = pair_expectations(act, K)
        m = _mean(act, np.diag(K))
        K = K + r * (np.outer(b, m) + np.outer(m, b)) + r * r * F
        b = b + r * m
        layers.append(K)
        bs.append(b)
    _, D = pair_expectations(act, K)
    return GramResult(r * r * K * D, layers, bs)


def conv_resnet_gram(X, H, activation="relu", c_res=0.1, q=3) -> GramResult:
    """K^(H) of the convolutional ResNet of Du et al. (2019), Definition 7.1.

    The recursion of :func:`resnet_gram` on the pixels: ``K^(h)`` is the
    ``(n p, n p)`` Gram matrix of the layer's features at every pair of
    pixels of every pair of inputs, and a layer's pre-activations at pixel l
    see the patch around it, whose covariance is :func:`patch_gram` of
    ``K^(h-1)``.  With ``P^(h) = patch_gram(K^(h-1))`` and the expectations
    under the covariance built from ``P^(h)``:

    * ``K^(1) = c_sigma E[sigma(u) sigma(v)]``, ``b^(1) = sqrt(c_sigma) E sigma(u)``
      (per input and pixel), ``P^(1)`` the patch Gram of the images;
    * for h = 2..H-1, ``K^(h) = K^(h-1) + (c_res/H) (b_(i,l) E sigma(v) + b_(j,r)
      E sigma(u)) + (c_res/H)^2 E[sigma(u) sigma(v)]``, ``b^(h) = b^(h-1) +
      (c_res/H) E sigma(u)``;
    * ``K^(H)_ij = (c_res/H)^2 sum_l P^(H)_(i,l),(j,l) E[sigma'(u_l) sigma'(v_l)]``,
      an (n, n) matrix: the output weights a (m x p) are independent across
      pixels, so only equal pixels survive the width limit (Definition 7.1's
      trace; ``c_sigma`` in place of ``(c_res/H)^2`` for H = 1, a plain
      convolutional layer).

    It is the limit of the Gram matrix of ``df/dW^(H)`` at initialisation as
    the number of channels m grows (:meth:`meanfield.lazy.networks.ConvResNet.gram_last`).
    Definition 7.1 as printed is garbled in places; this is the recursion the
    architecture of Section 3 gives, with the layer index of the last step as
    in :func:`fc_gram` (see the module docstring), checked against wide
    networks in the tests.  With one pixel it is :func:`resnet_gram` of the
    flattened inputs, whatever q (the padding adds zeros).

    Parameters
    ----------
    X : array_like, shape (n, channels, pixels)
        Distinct images of unit Frobenius norm (Theorem 7.1 assumes ``||x_i||_F = 1``).
    H : int
        Number of layers, >= 1.
    activation : str
    c_res : float
        Branch scale in (0, 1).
    q : int
        Patch width, odd (3 as in Section 3's example).

    Returns
    -------
    GramResult
        ``K`` (n, n); ``layers`` the pixel Gram matrices ``[X's, K^(1), ..., K^(H-1)]``,
        each (n p, n p); ``b`` the per-pixel means ``[b^(1), ...]``, each (n p,).

    References
    ----------
    Du, Lee, Li, Wang & Zhai, "Gradient descent finds global minima of deep
    neural networks", ICML 2019, Section 3 (convolutional ResNet), Definition 7.1
    and Theorem 7.1.
    """
    H = _check_H(H)
    q = _check_q(q)
    _check_c_res(c_res)
    X = _conv_inputs(X)  # after the scalars: their errors come before the data's
    act = get_activation(activation)
    cs = c_sigma(act)
    n, _, p = X.shape
    pixels = np.einsum("icl,jcr->iljr", X, X).reshape(n * p, n * p)
    P = patch_gram(pixels, n, p, q)
    layers, bs = [pixels], []
    if H == 1:
        _, D = pair_expectations(act, P)
        return GramResult(cs * _pixel_trace(P * D, n, p), layers, bs)
    F, _ = pair_expectations(act, P)
    K = cs * F
    b = np.sqrt(cs) * _mean(act, np.ascontiguousarray(np.diag(P)))
    layers.append(K)
    bs.append(b)
    r = c_res / H
    for _ in range(2, H):
        P = patch_gram(K, n, p, q)
        F, _ = pair_expectations(act, P)
        m = _mean(act, np.ascontiguousarray(np.diag(P)))
        K = K + r * (np.outer(b, m) + np.outer(m, b)) + r * r * F
        b = b + r * m
        layers.append(K)
        bs.append(b)
    P = patch_gram(K, n, p, q)
    _, D = pair_expectations(act, P)
    return GramResult(r * r * _pixel_trace(P * D, n, p), layers, bs)
