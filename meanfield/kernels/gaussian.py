"""Numba kernels for Gaussian expectations of pairs of activations.

For a centred bivariate normal ``(g1, g2)`` with ``Var g1 = q11``,
``Var g2 = q22`` and ``Cov = q12`` these compute

    F   = E[f(g1) g(g2)],
    F1  = dF/dq11 = E[f''(g1) g(g2)] / 2        (Price's theorem),
    F12 = dF/dq12 = E[f'(g1) g'(g2)],

which is all the population functionals V, U of a two-layer net need: with
``q11 = w' S w``, ``q12 = w' S v``, the gradient in ``w`` is
``2 F1 S w + F12 S v``.

Closed forms (DESIGN.md section 3):

* ReLU/ReLU: ``F = (sqrt(q11 q22 - q12^2) + q12 (pi - phi)) / (2 pi)`` with
  ``phi = atan2(sqrt(q11 q22 - q12^2), q12)``; ``F1 = sqrt(q11 q22 - q12^2)
  / (4 pi q11)``, ``F12 = (pi - phi) / (2 pi)``.
* erf/erf: ``F = (2/pi) arcsin(2 q12 / sqrt((1 + 2 q11)(1 + 2 q22)))``, computed
  as an ``atan2`` with ``1 + 2 q11 + 2 q22 + 4 (q11 q22 - q12^2)`` under the
  root so that nearly parallel neurons lose no digits.

* Piecewise linear/piecewise linear (ReLU with the ramp, ramp/ramp):
  :func:`pl_pair`, a double sum over kinks of truncated bivariate normal
  moments, with the orthant probabilities of :func:`bvn_upper` (Genz).

Any other pair uses quadrature (:func:`quad_pair`) on ``g1 = sqrt(q11) z1``,
``g2 = (q12/q11) g1 + sqrt(q22 - q12^2/q11) z2``, with the point masses of
``f''`` at kinks added exactly (normal density times the conditional
expectation), and :func:`quadrature_nodes` builds its nodes.

Conventions at the non-differentiable point ``w = 0`` of kinked activations
follow ``sigma'(0) = 0`` (as in the SGD kernels): F1 and F12 vanish there.
Exactly repeated neurons (``q12^2 = q11 q22``) are regular points for every
kernel here.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..activations import (ERF, RAMP, RELU, SIGMOID, TANH, act_center, act_d1, act_d2,
                           act_kink, act_n_centers, act_n_kinks, act_value)

_INV_2PI = 1.0 / (2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# Minimax rational approximation of atan on [-tan(pi/8), tan(pi/8)] (Cephes
# atan.c coefficients).  Written branch-free so that LLVM vectorises the pair
# loops; libm's atan2 does not vectorise and made the ReLU field 12x slower.
# Measured against numpy.arctan2 over 1e6 random pairs: max error 4.4e-16.
_P0 = -8.750608600031904122785e-1
_P1 = -1.615753718733365076637e1
_P2 = -7.500855792314704667340e1
_P3 = -1.228866684490136173410e2
_P4 = -6.485021904942025371773e1
_Q0 = 2.485846490142306297962e1
_Q1 = 1.650270098316988542046e2
_Q2 = 4.328810604912902668951e2
_Q3 = 4.853903996359136964868e2
_Q4 = 1.945506571482613964425e2
_PIO4 = 0.7853981633974483
_PIO4_LO = 3.061616997868383e-17


@njit(cache=True, inline="always")
def angle(s, c):
    """``atan2(s, c)`` for ``s >= 0``, in ``[0, pi]``; ``angle(0, 0) = 0``."""
    ac = abs(c)
    big = max(s, ac)
    small = min(s, ac)
    t = small / big if big > 0.0 else 0.0
    red = t > 0.66
    x = (t - 1.0) / (t + 1.0) if red else t
    z = x * x
    num = z * ((((_P0 * z + _P1) * z + _P2) * z + _P3) * z + _P4)
    den = ((((z + _Q0) * z + _Q1) * z + _Q2) * z + _Q3) * z + _Q4
    r = x * (num / den) + x
    r = r + (_PIO4 + _PIO4_LO) if red else r
    r = (0.5 * math.pi - r) if s > ac else r
    return (math.pi - r) if c < 0.0 else r


@njit(cache=True, inline="always")
def relu_pair(q11, q22, q12):
    """(F, F1, F12) for ReLU/ReLU."""
    s = math.sqrt(max(q11 * q22 - q12 * q12, 0.0))
    pm = math.pi - angle(s, q12)
    f = (s + q12 * pm) * _INV_2PI
    if q11 <= 0.0:
        return f, 0.0, 0.0
    f12 = pm * _INV_2PI if q22 > 0.0 else 0.0
    return f, s / (4.0 * math.pi * q11), f12


@njit(cache=True, inline="always")
def erf_pair(q11, q22, q12):
    """(F, F1, F12) for erf/erf."""
    e = 1.0 + 2.0 * (q11 + q22) + 4.0 * max(q11 * q22 - q12 * q12, 0.0)
    r = math.sqrt(e)
    f = (2.0 / math.pi) * angle(2.0 * abs(q12), r)
    f = -f if q12 < 0.0 else f
    f12 = (4.0 / math.pi) / r
    f1 = -(4.0 / math.pi) * q12 / ((1.0 + 2.0 * q11) * r)
    return f, f1, f12


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
    ``h`` and ``k`` may be infinite.
    """
    if h == math.inf or k == math.inf:
        return 0.0
    if h == -math.inf:
        return 1.0 if k == -math.inf else _sf(k)
    if k == -math.inf:
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


@njit(cache=True, inline="always")
def _ramp_moment(a, b, rho, rr, L):
    """``E[(Z1 - a)_+ (Z2 - b)_+]`` for standard normals of correlation ``rho``,
    ``rr = sqrt(1 - rho^2) > 0``, given the orthant ``L = P(Z1 > a, Z2 > b)``:
    ``(rho + a b) L - b phi(a) Q(b*) - a phi(b) Q(a*) + rr phi(a) phi(b*)``
    with ``a* = (a - rho b)/rr``, ``b* = (b - rho a)/rr`` and Q the upper tail
    (from the truncated bivariate moments of Rosenbaum, JRSS B 23, 1961)."""
    a2 = rr * rr
    # a - rho b through 1 -+ rho = rr^2 / (1 +- rho): for nearly parallel neurons rho is
    # within an ulp of 1 while rr (from q11 q22 - q12^2) still carries the angle, and the
    # O(rr) terms of the sum cancel only if a* and b* agree with rr (7.8e-7 off otherwise)
    if rho >= 0.0:
        om = a2 / (1.0 + rho)
        sa = ((a - b) + om * b) / rr
        sb = ((b - a) + om * a) / rr
    else:
        op = a2 / (1.0 - rho)
        sa = ((a + b) - op * b) / rr
        sb = ((b + a) - op * a) / rr
    pa = math.exp(-0.5 * a * a) * _INV_SQRT_2PI
    pb = math.exp(-0.5 * b * b) * _INV_SQRT_2PI
    return ((rho + a * b) * L - b * pa * _sf(sb) - a * pb * _sf(sa)
            + rr * pa * math.exp(-0.5 * sb * sb) * _INV_SQRT_2PI)


@njit(cache=True, inline="always")
def _ramp_moment_degenerate(a, b, rho):
    """:func:`_ramp_moment` at ``rho = +-1`` (``Z2 = +-Z1``)."""
    if rho > 0.0:
        m = max(a, b)
        n = min(a, b)
        pm = math.exp(-0.5 * m * m) * _INV_SQRT_2PI
        return (1.0 + m * n) * _sf(m) - n * pm, _sf(m)
    # Z2 = -Z1: (Z - a)_+ (-Z - b)_+ lives on a < Z < -b
    if a >= -b:
        return 0.0, 0.0
    pa = math.exp(-0.5 * a * a) * _INV_SQRT_2PI
    pb = math.exp(-0.5 * b * b) * _INV_SQRT_2PI
    L = _sf(a) - _sf(-b)
    # int_a^-b (z - a)(-z - b) phi(z) dz, by parts
    return (a * b - 1.0) * L - b * pa - a * pb, L


@njit(cache=True)
def pl_pair(kr, pr, kc, pc, q11, q22, q12):
    """(F, F1, F12) in closed form for two piecewise-linear activations (ReLU, ramp).

    With ``sigma = c + sum_k j_k (u - t_k)_+``, F is a double sum over kink
    pairs of ``sqrt(q11 q22) E[(Z1 - a)_+ (Z2 - b)_+]`` plus one-dimensional
    terms, ``F12 = sum j_k j_l P(g1 > t_k, g2 > t_l)`` (bivariate normal
    orthants, :func:`bvn_upper`) and ``F1`` is the point masses of
    ``sigma_r''`` times the conditional mean of ``sigma_c`` (no bivariate
    term).  About 17x faster than :func:`quad_pair` for the ramp, and exact.
    """
    c_r = act_value(kr, pr, -1e300)
    c_c = act_value(kc, pc, -1e300)
    if q11 <= 0.0:
        ig, igp = _pl_inner(kc, pc, 0.0, math.sqrt(max(q22, 0.0)))
        return act_value(kr, pr, 0.0) * ig, 0.0, act_d1(kr, pr, 0.0) * igp
    s1 = math.sqrt(q11)
    if q22 <= 0.0:
        ig, igp = _pl_inner(kr, pr, 0.0, s1)
        f1 = 0.0
        for kk in range(act_n_kinks(kr)):
            t, jump = act_kink(kr, pr, kk)
            f1 += jump * math.exp(-0.5 * t * t / q11) * _INV_SQRT_2PI / s1
        v = act_value(kc, pc, 0.0)
        return v * ig, 0.5 * v * f1, igp * act_d1(kc, pc, 0.0)
    s2 = math.sqrt(q22)
    det = max(q11 * q22 - q12 * q12, 0.0)
    rho = max(-1.0, min(1.0, q12 / (s1 * s2)))
    rr = math.sqrt(det / (q11 * q22))  # from det, not 1 - rho^2: see _bvn
    # the one-dimensional part c_c E sigma_r + c_r E sigma_c - c_r c_c, then the kink pairs
    f = (c_c * _pl_inner(kr, pr, 0.0, s1)[0] + c_r * _pl_inner(kc, pc, 0.0, s2)[0]
         - c_r * c_c)
    f12 = 0.0
    f1 = 0.0
    m = q12 / q11
    sc = math.sqrt(det / q11)
    shared = rr > 0.0 and rho != 0.0 and abs(rho) < 0.925
    if shared:
        asr, sn, ws = _low_nodes(rho)
    for kk in range(act_n_kinks(kr)):
        t, jump = act_kink(kr, pr, kk)
        a = t / s1
        pa = math.exp(-0.5 * a * a) * _INV_SQRT_2PI
        ig, _ = _pl_inner(kc, pc, m * t, sc)
        f1 += jump * pa / s1 * ig
        for ll in range(act_n_kinks(kc)):
            u, jump2 = act_kink(kc, pc, ll)
            b = u / s2
            if rr > 0.0:
                L = _bvn_low(a, b, asr, sn, ws) if shared else _bvn(a, b, rho, rr * rr)
                h = _ramp_moment(a, b, rho, rr, L)
            else:
                h, L = _ramp_moment_degenerate(a, b, rho)
            f += jump * jump2 * s1 * s2 * h
            f12 += jump * jump2 * L
    return f, 0.5 * f1, f12


_TAIL = 10.0  # |z| beyond which the standard normal weight (< 1e-21) is dropped
# Gauss-Hermite is used on an axis only where every transition is gentle on
# the z scale (width >= 4 in z units): sigmoidal derivatives have complex
# poles close to the real axis, and at width ~1 the 48-node rule was off by
# 2e-5 relative (tests/test_kernels.py, Price derivatives).
_GENTLE = 4.0


@njit(cache=True, inline="always")
def _pl_inner(kind, p, mu, s):
    """``(E sigma(mu + s Z), E sigma'(mu + s Z))`` in closed form for a
    piecewise-linear sigma = c0 + sum_k jump_k (u - t_k)_+ (ReLU, ramp)."""
    if s <= 0.0:
        return act_value(kind, p, mu), act_d1(kind, p, mu)
    v = act_value(kind, p, -1e300)
    dv = 0.0
    for kk in range(act_n_kinks(kind)):
        t, jump = act_kink(kind, p, kk)
        r = (mu - t) / s
        cdf = 0.5 * math.erfc(-r / math.sqrt(2.0))
        v += jump * (s * math.exp(-0.5 * r * r) * _INV_SQRT_2PI + (mu - t) * cdf)
        dv += jump * cdf
    return v, dv


@njit(cache=True, inline="always")
def _add_cut(cuts, nc, c, width):
    """Insert ``c`` (and, for a smooth transition of ``width`` < _GENTLE, the
    graded cuts ``c +- width``, ``c +- 4 width``) into the sorted ``cuts[:nc]``."""
    if width >= _GENTLE:
        return nc
    for kk in range(5):
        if kk == 0:
            x = c
        elif width == 0.0:
            break
        else:
            x = c + (width if kk < 3 else 4.0 * width) * (1.0 if kk % 2 else -1.0)
        if -_TAIL < x < _TAIL:
            pos = nc
            while pos > 0 and cuts[pos - 1] > x:
                cuts[pos] = cuts[pos - 1]
                pos -= 1
            cuts[pos] = x
            nc += 1
    return nc


@njit(cache=True)
def _inner(kc, pc, mu, s, quad):
    """``(E g(mu + s Z), E g'(mu + s Z))``: closed form for kinked (piecewise
    linear) g; for smooth g Gauss-Hermite, or piecewise Gauss-Legendre when
    ``s`` is large enough to make g steep on the ``Z`` scale."""
    if act_n_kinks(kc) > 0:
        return _pl_inner(kc, pc, mu, s)
    if s <= 0.0:
        return act_value(kc, pc, mu), act_d1(kc, pc, mu)
    t, width = act_center(kc, pc, 0)
    ig = 0.0
    igp = 0.0
    if width / s >= _GENTLE:
        for j in range(quad[0].shape[1]):
            u = mu + s * quad[0][0, j]
            ig += quad[0][1, j] * act_value(kc, pc, u)
            igp += quad[0][1, j] * act_d1(kc, pc, u)
        return ig, igp
    cuts = np.empty(7)
    cuts[0] = -_TAIL
    nc = _add_cut(cuts, 1, (t - mu) / s, width / s)
    cuts[nc] = _TAIL
    for piece in range(nc):
        half = 0.5 * (cuts[piece + 1] - cuts[piece])
        mid = 0.5 * (cuts[piece + 1] + cuts[piece])
        for j in range(quad[1].shape[1]):
            z = mid + half * quad[1][0, j]
            wj = quad[1][1, j] * half * math.exp(-0.5 * z * z) * _INV_SQRT_2PI
            ig += wj * act_value(kc, pc, mu + s * z)
            igp += wj * act_d1(kc, pc, mu + s * z)
    return ig, igp


@njit(cache=True)
def quad_pair(kr, pr, kc, pc, q11, q22, q12, quad):
    """(F, F1, F12) by quadrature, for pairs without a closed form.

    ``g1 = sqrt(q11) z1`` and ``g2 | g1 ~ N(m g1, s2^2)`` with ``m = q12/q11``.
    The inner expectation over ``g2`` is exact for piecewise-linear
    activations and quadrature otherwise (:func:`_inner`).  The outer one is
    Gauss-Hermite when both integrands are smooth on the ``z1`` scale, and
    otherwise Gauss-Legendre on the pieces of ``[-10, 10]`` cut at every kink
    or steep transition of either activation mapped to the ``z1`` axis
    (graded cuts around smooth transitions), so that each piece holds an
    integrand resolved by the rule.  ``quad`` is :func:`quadrature_nodes`.
    """
    if q11 <= 0.0:
        # g1 is the point 0: the sigma'(0) convention of act_d1 applies.
        ig, igp = _inner(kc, pc, 0.0, math.sqrt(max(q22, 0.0)), quad)
        return (act_value(kr, pr, 0.0) * ig, 0.5 * act_d2(kr, pr, 0.0) * ig,
                act_d1(kr, pr, 0.0) * igp)
    s1 = math.sqrt(q11)
    m = q12 / q11
    s2 = math.sqrt(max(q22 - q12 * m, 0.0))
    cuts = np.empty(2 + 5 * (act_n_centers(kr) + act_n_centers(kc)))
    cuts[0] = -_TAIL
    nc = 1
    for kk in range(act_n_centers(kr)):
        t, width = act_center(kr, pr, kk)
        nc = _add_cut(cuts, nc, t / s1, width / s1)
    if m != 0.0:
        for kk in range(act_n_centers(kc)):
            t, width = act_center(kc, pc, kk)
            nc = _add_cut(cuts, nc, t / (m * s1), (width + s2) / abs(m * s1))
    f = 0.0
    f12 = 0.0
    fs = 0.0
    if nc == 1:
        for i in range(quad[0].shape[1]):
            g1 = s1 * quad[0][0, i]
            ig, igp = _inner(kc, pc, m * g1, s2, quad)
            wi = quad[0][1, i]
            f += wi * act_value(kr, pr, g1) * ig
            f12 += wi * act_d1(kr, pr, g1) * igp
            fs += wi * act_d2(kr, pr, g1) * ig
    else:
        cuts[nc] = _TAIL
        for piece in range(nc):
            half = 0.5 * (cuts[piece + 1] - cuts[piece])
            mid = 0.5 * (cuts[piece + 1] + cuts[piece])
            for i in range(quad[1].shape[1]):
                z1 = mid + half * quad[1][0, i]
                wi = quad[1][1, i] * half * math.exp(-0.5 * z1 * z1) * _INV_SQRT_2PI
                g1 = s1 * z1
                ig, igp = _inner(kc, pc, m * g1, s2, quad)
                f += wi * act_value(kr, pr, g1) * ig
                f12 += wi * act_d1(kr, pr, g1) * igp
                fs += wi * act_d2(kr, pr, g1) * ig
    for kk in range(act_n_kinks(kr)):
        t, jump = act_kink(kr, pr, kk)
        dens = math.exp(-0.5 * t * t / q11) * _INV_SQRT_2PI / s1
        ig, _ = _inner(kc, pc, m * t, s2, quad)
        fs += jump * dens * ig
    return f, 0.5 * fs, f12


@njit(cache=True)
def pair(kr, pr, kc, pc, q11, q22, q12, quad):
    """(F, F1, F12) for any pair, closed form where one exists."""
    if kr == RELU and kc == RELU:
        return relu_pair(q11, q22, q12)
    if kr == ERF and kc == ERF:
        return erf_pair(q11, q22, q12)
    if act_n_kinks(kr) > 0 and act_n_kinks(kc) > 0:
        return pl_pair(kr, pr, kc, pc, q11, q22, q12)
    return quad_pair(kr, pr, kc, pc, q11, q22, q12, quad)


@njit(cache=True)
def gauss_mean(kind, p, q, quad):
    """``(E sigma(sqrt(q) Z), d/dq of it)`` for ``Z ~ N(0, 1)``."""
    if kind == RELU:
        if q <= 0.0:
            return 0.0, 0.0
        return math.sqrt(q) * _INV_SQRT_2PI, 0.5 * _INV_SQRT_2PI / math.sqrt(q)
    if kind == ERF or kind == TANH:
        return 0.0, 0.0
    if kind == SIGMOID:
        return 0.5, 0.0
    if kind == RAMP:
        if q <= 0.0:
            return act_value(kind, p, 0.0), 0.0
        s = math.sqrt(q)
        slope = (p[1] - p[0]) / (p[3] - p[2])
        m = p[0]
        dm = 0.0
        for kk in range(2):
            t = p[2 + kk]
            sign = 1.0 if kk == 0 else -1.0
            dens = math.exp(-0.5 * t * t / q) * _INV_SQRT_2PI
            # E (sZ - t)_+ = s phi(t/s) - t Phi(-t/s)
            m += sign * slope * (s * dens - t * 0.5 * math.erfc(t / (s * math.sqrt(2.0))))
            dm += sign * slope * 0.5 * dens / s
        return m, dm
    s = math.sqrt(max(q, 0.0))
    m = 0.0
    dm = 0.0
    for i in range(quad[0].shape[1]):
        m += quad[0][1, i] * act_value(kind, p, s * quad[0][0, i])
        dm += quad[0][1, i] * act_d2(kind, p, s * quad[0][0, i])
    return m, 0.5 * dm


@njit(cache=True)
def gauss_means(kind, p, q, quad, m, dm):
    for i in range(q.size):
        m[i], dm[i] = gauss_mean(kind, p, q[i], quad)


# --- blocked pair sums -------------------------------------------------------
# On entry Q holds the Gram block q12[i, j]; on exit, when ``grad``, it holds
# ac[j] * F12[i, j] so that one more GEMM (Q @ Wc) gives the F12 part of the
# gradient.  Fa[i] = sum_j ac[j] F[i, j], F1[i] = sum_j ac[j] F1[i, j].

@njit(cache=True, parallel=True, fastmath=True)
def relu_block(Q, qr, qc, ac, Fa, F1, grad):
    R, M = Q.shape
    for i in prange(R):
        q1 = qr[i]
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            q12 = Q[i, j]
            q2 = qc[j]
            s = math.sqrt(max(q1 * q2 - q12 * q12, 0.0))
            pm = math.pi - angle(s, q12)
            fa += ac[j] * (s + q12 * pm)
            f1 += ac[j] * s
            if grad:
                Q[i, j] = ac[j] * pm * _INV_2PI if q2 > 0.0 else 0.0
        Fa[i] = fa * _INV_2PI
        if q1 > 0.0:
            F1[i] = f1 / (4.0 * math.pi * q1)
        else:
            F1[i] = 0.0
            if grad:
                for j in range(M):
                    Q[i, j] = 0.0


@njit(cache=True, parallel=True, fastmath=True)
def erf_block(Q, qr, qc, ac, Fa, F1, grad):
    R, M = Q.shape
    for i in prange(R):
        q1 = qr[i]
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            q12 = Q[i, j]
            q2 = qc[j]
            e = 1.0 + 2.0 * (q1 + q2) + 4.0 * max(q1 * q2 - q12 * q12, 0.0)
            r = math.sqrt(e)
            f = (2.0 / math.pi) * angle(2.0 * abs(q12), r)
            fa += ac[j] * (-f if q12 < 0.0 else f)
            f1 += ac[j] * q12 / r
            if grad:
                Q[i, j] = ac[j] * (4.0 / math.pi) / r
        Fa[i] = fa
        F1[i] = -(4.0 / math.pi) * f1 / (1.0 + 2.0 * q1)


@njit(cache=True, parallel=True)
def pair_block(kr, pr, kc, pc, Q, qr, qc, ac, quad, Fa, F1, grad):
    """The pairs without a vectorised block of their own, through :func:`pair`."""
    R, M = Q.shape
    for i in prange(R):
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            f, d1, d12 = pair(kr, pr, kc, pc, qr[i], qc[j], Q[i, j], quad)
            fa += ac[j] * f
            f1 += ac[j] * d1
            if grad:
                Q[i, j] = ac[j] * d12
        Fa[i] = fa
        F1[i] = f1


@njit(cache=True, parallel=True)
def pair_matrix(kr, pr, kc, pc, Q, qr, qc, quad, F, F1, F12):
    """Full matrices of F, F1, F12 (for U, grad_1 U and tests)."""
    R, M = Q.shape
    for i in prange(R):
        for j in range(M):
            F[i, j], F1[i, j], F12[i, j] = pair(kr, pr, kc, pc, qr[i], qc[j], Q[i, j], quad)


@njit(cache=True, parallel=True)
def pair_diag(kind, p, q, quad, F):
    """``F[i] = E[sigma(g)^2]``, g ~ N(0, q[i]): the kernel of a neuron with itself."""
    for i in prange(q.size):
        F[i] = pair(kind, p, kind, p, q[i], q[i], q[i], quad)[0]


def quadrature_nodes(n, n_piece=None):
    """Nodes for :func:`quad_pair`: a ``(2, n)`` array of probabilists'
    Hermite nodes and weights (summing to 1) and a ``(2, n_piece)`` array of
    Gauss-Legendre nodes and weights on [-1, 1] used on each piece of a cut
    axis (default ``n_piece = max(8, n // 2)``; at n = 48 the worst pair
    found, ReLU x tanh with a tail piece [2.4, 10], was off by 1.8e-6 with
    16 nodes per piece, 2e-8 with 24, 5e-12 with 32)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    zl, wl = np.polynomial.legendre.leggauss(max(8, n // 2) if n_piece is None else n_piece)
    return (np.ascontiguousarray(np.stack([z, w / w.sum()])),
            np.ascontiguousarray(np.stack([zl, wl])))


def pair_sums(kr, pr, kc, pc, Wr, Wc, ac, quad, grad, block_bytes=2 ** 24):
    """Row sums of the pair kernel between the rows of ``Wr`` and ``Wc``.

    Returns ``Fa[i] = sum_j ac[j] F_ij``, ``F1[i] = sum_j ac[j] F1_ij`` and,
    when ``grad``, ``G[i] = sum_j ac[j] F12_ij Wc[j]`` (else None).  Works in
    row blocks so that the Gram buffer stays ~16 MB whatever the sizes: two
    GEMMs per block plus one elementwise pass.
    """
    R, d = Wr.shape
    M = Wc.shape[0]
    qr = np.einsum("ij,ij->i", Wr, Wr)
    qc = np.einsum("ij,ij->i", Wc, Wc)
    Fa = np.empty(R)
    F1 = np.empty(R)
    G = np.empty((R, d)) if grad else None
    if R == 0 or M == 0:
        Fa[:] = 0.0
        F1[:] = 0.0
        if grad:
            G[:] = 0.0
        return Fa, F1, G
    rows = int(max(1, min(R, block_bytes // (8 * M))))
    buf = np.empty((rows, M))
    for r0 in range(0, R, rows):
        r1 = min(R, r0 + rows)
        Qb = buf[: r1 - r0]
        np.matmul(Wr[r0:r1], Wc.T, out=Qb)
        if kr == RELU and kc == RELU:
            relu_block(Qb, qr[r0:r1], qc, ac, Fa[r0:r1], F1[r0:r1], grad)
        elif kr == ERF and kc == ERF:
            erf_block(Qb, qr[r0:r1], qc, ac, Fa[r0:r1], F1[r0:r1], grad)
        else:
            pair_block(kr, pr, kc, pc, Qb, qr[r0:r1], qc, ac, quad, Fa[r0:r1], F1[r0:r1], grad)
        if grad:
            np.matmul(Qb, Wc, out=G[r0:r1])
    return Fa, F1, G
