"""Hermite coefficients of ``sigma(x g)``, g ~ N(0, 1), and moments of the angle between two
random directions: the pieces of the rotation-averaged kernels of the radial PDE.

With the normalised Hermite polynomials ``h_k = He_k / sqrt(k!)`` (orthonormal
under N(0, 1)) and ``c_k(x) = E[sigma(x g) h_k(g)]``, Mehler's formula gives
for two standard Gaussians of correlation c

    E[sigma(x g1) sigma(x' g2)] = sum_k c^k c_k(x) c_k(x'),

and for directions drawn uniformly on the sphere in R^d the angle's cosine has
the moments ``m_k = E[c^k]``: 0 for odd k, ``prod_{i<k/2} (2i + 1) / (d + 2i)``
for even k (the density proportional to ``(1 - c^2)^((d - 3) / 2)``).  So the
rotation average of the kernel is the finite-rank sum ``sum_k m_k c_k(x) c_k(x')``,
truncated where ``m_k`` times ``E[sigma^2] = sum_k c_k^2`` is below a tolerance
(the tail is at most ``m_(K+2) E[sigma(x g)^2]`` since m_k decreases).

For piecewise-linear activations (ReLU, the ramp of Mei et al.) the
coefficients are exact: on each piece ``sigma = alpha + beta z`` and, with
``J_k = int h_k phi`` over the piece's g-interval,
``int h_k phi = -[h_(k-1) phi] / sqrt(k)`` and
``int g h_k phi = sqrt(k+1) J_(k+1) + sqrt(k) J_(k-1)``.  Other activations
use Gauss-Hermite quadrature (``quad_order`` nodes, exact for polynomials of
degree below ``2 quad_order``; for tanh, whose poles at ``g = i pi / (2x)``
approach the real line as x grows, 200 nodes are good to 1e-7 at x = 2.7).
"""

from __future__ import annotations

import math

import numpy as np

from ..activations import get_activation
from ..kernels.piecewise_hermite import piecewise_linear_coefficients


def sphere_moments(d, K):
    """``m_k = E[c^k]`` for k = 0..K, c the cosine between two uniform directions in R^d."""
    if not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    m = np.zeros(K + 1)
    m[0] = 1.0
    for k in range(2, K + 1, 2):
        m[k] = m[k - 2] * (k - 1) / (d + k - 2)
    return m


def truncation(d, tol=1e-14, k_max=400):
    """Smallest even K with ``m_(K+2) <= tol`` (at most ``k_max``) and that ``m_(K+2)``."""
    m = sphere_moments(d, k_max + 2)
    for K in range(0, k_max + 1, 2):
        if m[K + 2] <= tol:
            return K, float(m[K + 2])
    return k_max, float(m[k_max + 2])


def _pieces(act):
    """Breakpoints of sigma and ``(alpha, beta)`` with sigma = alpha + beta z on each piece
    (below the first breakpoint, between, above the last), or None."""
    if act.name == "relu":
        return np.array([0.0]), np.array([[0.0, 0.0], [0.0, 1.0]])
    if act.name == "ramp":
        s1, s2, t1, t2 = act.params
        b = (s2 - s1) / (t2 - t1)
        return np.array([t1, t2]), np.array([[s1, 0.0], [s1 - b * t1, b], [s2, 0.0]])
    return None


def _hermite_values(g, K):
    """``h_k(g)`` for k = 0..K, shape (len(g), K + 1)."""
    H = np.zeros((g.size, K + 1))
    H[:, 0] = 1.0
    if K >= 1:
        H[:, 1] = g
    for k in range(1, K):
        H[:, k + 1] = (g * H[:, k] - math.sqrt(k) * H[:, k - 1]) / math.sqrt(k + 1)
    return H


def hermite_coefficients(activation, x, K, quad_order=200):
    """``c_k(x) = E[sigma(x g) h_k(g)]`` and ``dc_k/dx`` for x >= 0 and k = 0..K.

    Parameters
    ----------
    activation : str or Activation
    x : array_like
        Scales ``x >= 0`` (``s r`` in the radial PDE: input scale times ``|w|``).
    K : int
        Highest order.
    quad_order : int
        Gauss-Hermite nodes for activations that are not piecewise linear.

    Returns
    -------
    C, dC : numpy.ndarray, shape (len(x), K + 1)
    """
    act = get_activation(activation)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError("x must hold finite numbers >= 0")
    K = int(K)
    pieces = _pieces(act)
    if pieces is None:
        g, w = np.polynomial.hermite_e.hermegauss(int(quad_order))
        w = w / w.sum()
        H = _hermite_values(g, K)
        z = x[:, None] * g[None, :]
        C = (act(z) * w) @ H
        dC = (act.derivative(z) * (g * w)) @ H
        return C, dC
    # sigma is continuous, so the limit x -> 0 is approached smoothly; breakpoints
    # t / x beyond |g| = 40 count as infinite
    x = np.ascontiguousarray(np.maximum(x, 1e-300))
    C = np.empty((x.size, K + 1))
    dC = np.empty((x.size, K + 1))
    piecewise_linear_coefficients(x, pieces[0], pieces[1], K, C, dC)
    return C, dC
