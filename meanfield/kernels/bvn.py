"""The bivariate normal upper orthant probability (Genz's method, Gauss-Legendre rules) and
the quadrature rules shared by the piecewise-linear and quadrature kernels."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# --- piecewise-linear pairs (ReLU, ramp) in closed form ----------------------
# Gauss-Legendre rules of Genz's bivariate normal algorithm (6, 12 and 20
# points; the positive half of each symmetric rule).
_GL_X = []


_GL_W = []


for _n in (6, 12, 20):
    _x, _w = np.polynomial.legendre.leggauss(_n)
    _GL_X.append(_x[_n // 2:])
    _GL_W.append(_w[_n // 2:])


_GL6_X, _GL12_X, _GL20_X = (np.ascontiguousarray(v) for v in _GL_X)


_GL6_W, _GL12_W, _GL20_W = (np.ascontiguousarray(v) for v in _GL_W)


_TWO_PI = 2.0 * math.pi


_SQRT_2PI = math.sqrt(_TWO_PI)


# Full Gauss-Legendre rules on [-1, 1]: 10 points for integrals of the normal density
# (or its CDF, times a quadratic) over short intervals, where the closed form is a
# difference of two nearly equal numbers (error < 4e-16 relative up to length 1);
# 16 points for the outer integral of :func:`_pl_rotated` on pieces of length <= 3;
# 3, 5 and 8 points for shorter pieces (:func:`_moments_right`, :func:`_mass_diff`).
_GLI_X, _GLI_W = (np.ascontiguousarray(v) for v in np.polynomial.legendre.leggauss(10))


_GLV_X, _GLV_W = (np.ascontiguousarray(v) for v in np.polynomial.legendre.leggauss(16))


_GL3_X, _GL3_W = (np.ascontiguousarray(v) for v in np.polynomial.legendre.leggauss(3))


_GL5_X, _GL5_W = (np.ascontiguousarray(v) for v in np.polynomial.legendre.leggauss(5))


_GL8_X, _GL8_W = (np.ascontiguousarray(v) for v in np.polynomial.legendre.leggauss(8))


_FAR = 40.0  # |z| beyond which a normal tail is below the smallest double


_VPIECE = 3.0  # longest piece of the outer rule of _pl_rotated


@njit(cache=True, inline="always")
def _sf(x):
    """Standard normal upper tail ``1 - Phi(x)``, accurate for large x."""
    return 0.5 * math.erfc(x * 0.7071067811865476)


@njit(cache=True)
def bvn_upper(h, k, r):
    """``P(Z1 > h, Z2 > k)`` for standard normals with correlation ``r``; see :func:`_bvn`."""
    return _bvn(h, k, r, (1.0 - r) * (1.0 + r))


@njit(cache=True)
def _low_nodes(r):
    """``(asin(r) / 2, sines, weights)`` of Genz's rule for ``0 < |r| < 0.925``: 6, 12 or
    20 Gauss-Legendre points (``|r|`` below 0.3, 0.75, 0.925); ``sines[2 i + j]`` is
    ``sin(asin(r) / 2 (1 -+ x_i))``.  They depend on r alone, so the kink pairs of one
    neuron pair share them (:func:`pl_pair`)."""
    ar = abs(r)
    if ar < 0.3:
        xs, ws = _GL6_X, _GL6_W
    elif ar < 0.75:
        xs, ws = _GL12_X, _GL12_W
    else:
        xs, ws = _GL20_X, _GL20_W
    asr = 0.5 * math.asin(r)
    sn = np.empty(2 * xs.size)
    for i in range(xs.size):
        sn[2 * i] = math.sin(asr * (1.0 - xs[i]))
        sn[2 * i + 1] = math.sin(asr * (1.0 + xs[i]))
    return asr, sn, ws


@njit(cache=True, inline="always")
def _bvn_low(h, k, asr, sn, ws):
    """Drezner & Wesolowsky's integral over the correlation (``|r| < 0.925``) from the
    nodes of :func:`_low_nodes`."""
    hk = h * k
    hs = 0.5 * (h * h + k * k)
    bvn = 0.0
    for i in range(ws.size):
        for j in range(2):
            s = sn[2 * i + j]
            bvn += ws[i] * math.exp((s * hk - hs) / (1.0 - s * s))
    return max(0.0, min(1.0, bvn * asr / _TWO_PI + _sf(h) * _sf(k)))


@njit(cache=True)
def _bvn(h, k, r, a2):
    """``P(Z1 > h, Z2 > k)`` for standard normals with correlation ``r``, given
    ``a2 = 1 - r^2`` (callers that know it from ``q11 q22 - q12^2`` pass it, so
    that nearly parallel neurons keep their small angle: ``r`` itself rounds
    to 1 there).

    Genz's algorithm (A. Genz, Statistics and Computing 14, 2004, 251-260:
    Drezner & Wesolowsky's integral over the correlation with Gauss-Legendre
    rules of 6, 12 or 20 points, and for ``|r| >= 0.925`` an expansion about
    ``|r| = 1`` whose singular part is integrated exactly); about 1e-15
    absolute.  ``tests/test_kernels.py`` compares it with Owen's T function.
    ``h`` and ``k`` may be infinite or huge (beyond 40 the answer is one-dimensional).
    """
    # beyond 40 standard deviations the normal tail (< 4e-350) is below the smallest
    # double: the answer is one-dimensional, and h k or h^2 must not overflow below
    if h > _FAR or k > _FAR:
        return 0.0
    if h < -_FAR:
        return 1.0 if k < -_FAR else _sf(k)
    if k < -_FAR:
        return _sf(h)
    if r == 0.0:
        return _sf(h) * _sf(k)
    if abs(r) < 0.925:
        asr, sn, ws = _low_nodes(r)
        return _bvn_low(h, k, asr, sn, ws)
    xs, ws = _GL20_X, _GL20_W
    hk = h * k
    bvn = 0.0
    if r < 0.0:
        k = -k
        hk = -hk
    if a2 > 0.0:
        a = math.sqrt(a2)
        bs = (h - k) * (h - k)
        c = (4.0 - hk) / 8.0
        d = (12.0 - hk) / 80.0
        asr = -0.5 * (bs / a2 + hk)
        if asr > -100.0:
            bvn = a * math.exp(asr) * (1.0 - c * (bs - a2) * (1.0 - d * bs) / 3.0
                                       + c * d * a2 * a2)
        if hk > -100.0:
            b = math.sqrt(bs)
            sp = _SQRT_2PI * _sf(b / a)
            bvn -= math.exp(-0.5 * hk) * sp * b * (1.0 - c * bs * (1.0 - d * bs) / 3.0)
        a *= 0.5
        acc = 0.0
        for i in range(xs.size):
            for sgn in (-1.0, 1.0):
                x2 = (a * (1.0 + sgn * xs[i])) ** 2
                asr = -0.5 * (bs / x2 + hk)
                if asr > -100.0:
                    sp = 1.0 + c * x2 * (1.0 + 5.0 * d * x2)
                    rs = math.sqrt(1.0 - x2)
                    ep = math.exp(-0.5 * hk * x2 / ((1.0 + rs) * (1.0 + rs))) / rs
                    acc += ws[i] * math.exp(asr) * (sp - ep)
        bvn = (a * acc - bvn) / _TWO_PI
    if r > 0.0:
        bvn += _sf(max(h, k))
    elif h >= k:
        bvn = -bvn
    else:
        # k was negated above: P(h < Z1 < -k_original)
        lo = _sf(h) - _sf(k)
        bvn = lo - bvn
    return max(0.0, min(1.0, bvn))
