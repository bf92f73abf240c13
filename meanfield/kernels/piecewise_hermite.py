"""Numba kernel: Hermite coefficients of a piecewise-linear activation (for meanfield.pde.hermite).

``c_k(x) = E[sigma(x g) h_k(g)]`` and ``dc_k/dx`` for k = 0..K, with
``h_k = He_k / sqrt(k!)``, summed over the pieces ``sigma = alpha + beta z`` on
``[t_lo, t_hi]``: with ``J_k = int h_k phi`` over the piece's g-interval
``[t_lo / x, t_hi / x]``, ``J_0 = Phi(b) - Phi(a)``,
``J_k = -[h_(k-1) phi]_a^b / sqrt(k)`` and ``int g h_k phi = sqrt(k+1) J_(k+1) +
sqrt(k) J_(k-1)``.  Breakpoints beyond |g| = 40 count as infinite (phi
underflows there).
"""

import math

import numpy as np
from numba import njit

_G_MAX = 40.0
_SQRT2PI = math.sqrt(2.0 * math.pi)


@njit(cache=True)
def _antiderivative(g, K, sq, out):
    """``out[k] = int_-inf^g h_k phi``, k = 0..K + 1: Phi(g), then -h_(k-1)(g) phi(g) / sqrt(k)."""
    out[0] = 0.5 * math.erfc(-g / math.sqrt(2.0))
    for k in range(1, K + 2):
        out[k] = 0.0
    if not (abs(g) <= _G_MAX):
        return
    p_prev = math.exp(-0.5 * g * g) / _SQRT2PI  # h_0 phi
    out[1] = -p_prev
    if K >= 1:
        p = g * p_prev  # h_1 phi
        out[2] = -p / sq[2]
        for k in range(1, K):
            p_next = (g * p - sq[k] * p_prev) / sq[k + 1]
            out[k + 2] = -p_next / sq[k + 2]
            p_prev, p = p, p_next


@njit(cache=True)
def piecewise_linear_coefficients(x, breaks, coef, K, C, dC):
    """Fill C, dC (len(x), K + 1).

    ``breaks`` are the finite breakpoints of sigma in increasing order and
    ``coef[q] = (alpha, beta)`` on piece q (q = 0 below breaks[0], the last
    above breaks[-1]); x > 0.
    """
    n = x.size
    nb = breaks.size
    F = np.empty((nb + 2, K + 2))  # antiderivatives at -inf, the breakpoints, +inf
    sq = np.sqrt(np.arange(K + 3).astype(np.float64))
    J = np.empty(K + 2)
    for i in range(n):
        xi = x[i]
        for k in range(K + 2):
            F[0, k] = 0.0
            F[nb + 1, k] = 0.0
        F[nb + 1, 0] = 1.0
        for b in range(nb):
            _antiderivative(breaks[b] / xi, K, sq, F[b + 1])
        for k in range(K + 1):
            C[i, k] = 0.0
            dC[i, k] = 0.0
        for q in range(nb + 1):
            alpha, beta = coef[q, 0], coef[q, 1]
            if alpha == 0.0 and beta == 0.0:
                continue
            for k in range(K + 2):
                J[k] = F[q + 1, k] - F[q, k]
            for k in range(K + 1):
                G = sq[k + 1] * J[k + 1]
                if k >= 1:
                    G += sq[k] * J[k - 1]
                C[i, k] += alpha * J[k] + beta * xi * G
                dC[i, k] += beta * G
