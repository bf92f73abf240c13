"""Numba kernels for Gaussian expectations of pairs of activations.

For a centred bivariate normal ``(g1, g2)`` with ``Var g1 = q11``,
``Var g2 = q22`` and ``Cov = q12`` these compute

    F   = E[f(g1) g(g2)],
    F1  = dF/dq11 = E[f''(g1) g(g2)] / 2        (Price's theorem),
    F12 = dF/dq12 = E[f'(g1) g'(g2)],

which is all the population functionals V, U of a two-layer net need: with
``q11 = w' S w``, ``q12 = w' S v``, the gradient in ``w`` is
``2 F1 S w + F12 S v``.

Closed forms (docs/design.md section 2):

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
``g2 = rho sqrt(q22) z1 + sqrt(q22 (1 - rho^2)) z2``, with the point masses of
``f''`` at kinks added exactly (normal density times the conditional
expectation), and :func:`quadrature_nodes` builds its nodes.

Scales.  Every kernel works in normalised variables: the norms
``sqrt(q11)``, ``sqrt(q22)``, the correlation ``rho`` and ``1 - rho^2``, the
latter from ``q11 q22 - q12^2`` evaluated exactly (Kahan's FMA algorithm on
the q's scaled by powers of two, :func:`_normalise`), so that no product of
two q's is formed: ``q11 q22`` overflows for norms near 1e77 and underflows
near 1e-82.  The kernels are accurate to about 1e-13 relative, or 1e-13 of
the Cauchy-Schwarz scale ``sqrt(E f(g1)^2 E g(g2)^2)`` where the value itself
cancels (a ReLU pair near antiparallel), for any finite q's with
``q11, q22 <= 1e300`` (norms up to 1e150) and any correlation, parallel and
antiparallel included (``tests/test_kernel_scales.py`` checks this against
mpmath from norms 1e-150 to 1e150).  Quadrature (:func:`quad_pair`) keeps its
own accuracy (about 1e-9, see :func:`quadrature_nodes`) over the same range.
Limits: a q that is not finite (a norm above ~1.3e154 squares to inf) is
refused with a ValueError by the array entry points (:func:`pair_sums`,
:func:`pair_matrix`, :func:`pair_diag`, :func:`gauss_means`); a norm below
~1e-154 squares to a subnormal q, which has lost digits before any kernel
sees it.

Conventions at the non-differentiable point ``w = 0`` of kinked activations
follow ``sigma'(0) = 0`` (as in the SGD kernels): F1 and F12 vanish there.
Exactly repeated neurons (``q12^2 = q11 q22``) are regular points for every
kernel here.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

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


@intrinsic
def _fma(typingctx, x, y, z):
    """``x y + z`` with one rounding (LLVM's fma; a single instruction on x86-64 with FMA)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64")
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True, inline="always")
def _det2(a, b, c):
    """``a b - c^2`` to within 2 ulp of itself (Kahan's algorithm with FMA).

    The naive difference is off by an ulp of ``a b``, which is the whole of
    it for nearly parallel neurons; ``sqrt`` of it then enters F1 and F12
    with an error of 1e-8."""
    w = c * c
    return _fma(a, b, -w) + _fma(-c, c, w)


@njit(cache=True, inline="always")
def _split(q):
    """``(m, S)`` with ``q = m S^2``, S a power of two and ``m`` in [0.5, 2); (0, 1) for
    ``q <= 0``.  Scaling by S is exact, so products of the m's neither overflow nor
    underflow and keep every digit."""
    if q <= 0.0:
        return 0.0, 1.0
    m, e = math.frexp(q)
    if e % 2:
        m *= 2.0
        e -= 1
    return m, math.ldexp(1.0, e // 2)


@njit(cache=True, inline="always")
def _normalise(q11, q22, q12):
    """``(s1, s2, rho, a2)``: the norms ``sqrt(q11)``, ``sqrt(q22)``, the correlation
    and ``1 - rho^2``, the latter from ``q11 q22 - q12^2`` computed exactly on the q's
    scaled by powers of two (no product of two q's is formed).  Both q's positive."""
    m1, S1 = _split(q11)
    m2, S2 = _split(q22)
    c = (q12 / S1) / S2
    r = math.sqrt(m1 * m2)
    a2 = max(_det2(m1, m2, c), 0.0) / (m1 * m2)
    rho = max(-1.0, min(1.0, c / r))
    return math.sqrt(q11), math.sqrt(q22), rho, min(a2, 1.0)


@njit(cache=True, inline="always")
def relu_pair(q11, q22, q12):
    """(F, F1, F12) for ReLU/ReLU.

    On ``q11 = m1 S1^2``, ``q22 = m2 S2^2``, ``q12 = c S1 S2`` (powers of two S):
    ``F = S1 S2 (s + c (pi - phi)) / (2 pi)`` with ``s = sqrt(m1 m2 - c^2)`` exact
    (:func:`_det2`), so nothing overflows below q = 1e300 and nearly parallel pairs
    keep their angle.  Near antiparallel ``s + c (pi - phi)`` cancels to
    ``(pi - phi)^3 / 3``: accurate to round-off of the Cauchy-Schwarz scale ``S1 S2``,
    not of F itself."""
    m1, S1 = _split(q11)
    m2, S2 = _split(q22)
    c = (q12 / S1) / S2
    s = math.sqrt(max(_det2(m1, m2, c), 0.0))
    pm = math.pi - angle(s, c)
    f = (s + c * pm) * (S1 * S2) * _INV_2PI
    if m1 <= 0.0:
        return f, 0.0, 0.0
    f12 = pm * _INV_2PI if m2 > 0.0 else 0.0
    return f, s / (4.0 * math.pi * m1) * (S2 / S1), f12


@njit(cache=True, inline="always")
def _erf_scaled(m1, S1, iS1, m2, S2, iS2, c):
    """``(angle, c g, u, r)`` of the erf kernel on split q's (see :func:`erf_pair`): F is
    ``(2/pi) angle``, F1 ``-(4/pi) c g / ((1 + 2 q11) r)`` and F12 ``(4/pi) u / r``."""
    x1 = min(S1, iS2)  # S1 / T and S2 / T with T = max(1, S1 S2), T never formed
    x2 = min(S2, iS1)
    g = S1 * x2  # min(S1 S2, 1)
    u = iS1 * x1  # 1 / T
    det = max(_det2(m1, m2, c), 0.0)
    r = math.sqrt(u * u + 2.0 * (m1 * x1 * x1 + m2 * x2 * x2) + 4.0 * det * (g * g))
    return angle(2.0 * abs(c) * g, r), c * g, u, r


@njit(cache=True, inline="always")
def erf_pair(q11, q22, q12):
    """(F, F1, F12) for erf/erf.

    ``e = (1 + 2 q11)(1 + 2 q22) - 4 q12^2`` and ``2 q12`` enter through their ratio
    only, so both are divided by ``T^2`` and ``T`` with ``T = max(1, S1 S2)`` (the
    split of :func:`relu_pair`): at norms near 1e77 ``q11 q22`` overflowed and F came
    out 0 or 0.5."""
    m1, S1 = _split(q11)
    m2, S2 = _split(q22)
    c = (q12 / S1) / S2
    ang, cg, u, r = _erf_scaled(m1, S1, 1.0 / S1, m2, S2, 1.0 / S2, c)
    f = (2.0 / math.pi) * ang
    f = -f if q12 < 0.0 else f
    f12 = (4.0 / math.pi) * u / r
    f1 = -(4.0 / math.pi) * cg / ((1.0 + 2.0 * q11) * r)
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


@njit(cache=True, inline="always")
def _phi(x):
    """Standard normal density (0, not NaN, for |x| beyond 1e154)."""
    return math.exp(-0.5 * x * x) * _INV_SQRT_2PI


@njit(cache=True, inline="always")
def _psi_neg(y):
    """``psi(-y) = E(Z - y)_+ = phi(y) - y Q(y)`` for ``y >= 0``."""
    if y > _FAR:
        return 0.0
    return _phi(y) - y * _sf(y)


@njit(cache=True, inline="always")
def _psi(x):
    """``psi(x) = E(Z + x)_+ = phi(x) + x Phi(x)``."""
    if x >= 0.0:
        return x + _psi_neg(x)
    return _psi_neg(-x)


# Below this length a difference of two normal tails (or of two psi) loses more than a
# few ulp and :func:`_int_phi`, :func:`_int_cdf` integrate instead (10 points: 4e-16
# relative on intervals up to 1; at 0.25 the difference loses at most ~5 ulp).
_SHORT = 0.25


@njit(cache=True)
def _int_phi(lo, h):
    """``P(lo < Z < lo + h)`` for ``h >= 0`` given by itself: Gauss-Legendre for
    ``h <= _SHORT``, where the difference of two tails would cancel (to 1e-10 relative
    for ``h = 1e-6``), tails otherwise."""
    if h <= _SHORT:
        hh = 0.5 * h
        mid = lo + hh
        acc = 0.0
        for i in range(_GLI_X.size):
            acc += _GLI_W[i] * _phi(mid + hh * _GLI_X[i])
        return acc * hh
    hi = lo + h
    if lo >= 0.0:
        return _sf(lo) - _sf(hi)
    if hi <= 0.0:
        return _sf(-hi) - _sf(-lo)
    return (1.0 - _sf(hi)) - _sf(-lo)


@njit(cache=True)
def _int_cdf(hi, h):
    """``int_{hi - h}^{hi} Phi`` for ``h >= 0`` given by itself (``psi(hi) - psi(hi - h)``
    without the cancellation of nearby arguments)."""
    if h <= _SHORT:
        hh = 0.5 * h
        mid = hi - hh
        acc = 0.0
        for i in range(_GLI_X.size):
            acc += _GLI_W[i] * _sf(-(mid + hh * _GLI_X[i]))
        return acc * hh
    lo = hi - h
    if lo >= 0.0:
        return h + _psi_neg(hi) - _psi_neg(lo)
    return _psi(hi) - _psi(lo)


@njit(cache=True, inline="always")
def _phi_diff(a, b, d):
    """``phi(a) - phi(b)`` with ``d = b - a`` given by itself: ``phi`` of the smaller
    argument times an ``expm1``, so that close arguments lose nothing."""
    if abs(a) <= abs(b):
        return -_phi(a) * math.expm1(-0.5 * d * (a + b))
    return _phi(b) * math.expm1(0.5 * d * (a + b))


@njit(cache=True)
def _pl_inner(kind, p, mu, s):
    """``(E sigma(mu + s Z), E sigma'(mu + s Z))`` in closed form for a
    piecewise-linear sigma (ReLU, ramp), flat left of its first kink.

    Summed over the linear segments, ``sigma(t_1) + sum_k slope_k E clip(X - t_k, 0,
    t_{k+1} - t_k)`` with the last segment unbounded: a bounded segment's mean is
    ``s int Phi`` over an interval of length ``(t_{k+1} - t_k) / s`` and its probability
    ``int phi``, both without the cancellation of two tails when ``s`` is large (the sum
    over kinks of ``s phi(.) + (mu - t) Phi(.)`` lost digits as ``s^1``)."""
    if s <= 0.0:
        return act_value(kind, p, mu), act_d1(kind, p, mu)
    nk = act_n_kinks(kind)
    t, _ = act_kink(kind, p, 0)
    v = act_value(kind, p, t)
    dv = 0.0
    sl = 0.0
    for kk in range(nk):
        t, jump = act_kink(kind, p, kk)
        sl += jump
        if sl == 0.0:
            continue
        d = mu - t
        x = d / s
        if kk + 1 < nk:
            t2, _ = act_kink(kind, p, kk + 1)
            w = t2 - t
            h = w / s
            if x - h > _FAR:
                v += sl * w
            elif x >= -_FAR:
                v += sl * s * _int_cdf(x, h)
            dv += sl * _int_phi(-x, h)
        else:
            if x > _FAR:
                v += sl * d
            elif x >= -_FAR:
                v += sl * s * _psi(x)
            dv += sl * _sf(-x)
    return v, dv


@njit(cache=True)
def _kink_sum(kind, p, s, c, b):
    """``sum_k jump_k phi(a_k) (c + b a_k)`` over the kinks, ``a_k = t_k / s``.

    Summed by parts over the segments, ``sum_k slope_k (H(a_k) - H(a_{k+1}))`` with
    ``H(a) = phi(a) (c + b a)`` and the differences of :func:`_phi_diff`: for the ramp at
    large s the two kinks sit within ``1/s`` and their terms cancel to ``1/s``."""
    nk = act_n_kinks(kind)
    acc = 0.0
    sl = 0.0
    for kk in range(nk):
        t, jump = act_kink(kind, p, kk)
        sl += jump
        if sl == 0.0:
            continue
        a = t / s
        near = abs(a) <= _FAR
        if kk + 1 < nk:
            t2, _ = act_kink(kind, p, kk + 1)
            a2 = t2 / s
            near2 = abs(a2) <= _FAR
            if near and near2:
                d = (t2 - t) / s
                acc += sl * ((c + b * a) * _phi_diff(a, a2, d) - _phi(a2) * b * d)
            elif near:
                acc += sl * _phi(a) * (c + b * a)
            elif near2:
                acc -= sl * _phi(a2) * (c + b * a2)
        elif near:
            acc += sl * _phi(a) * (c + b * a)
    return acc


# Kinks closer than this (in units of the neuron's norm) make the closed form of
# :func:`_pl_closed` cancel: its terms are ``s1 s2 E[(Z1 - a)_+ (Z2 - b)_+]``, of
# size ``s^2``, and sum to O(1).  Worst error of the closed form for the ramp pair,
# relative to the Cauchy-Schwarz scale, at kink spacing just above 1/8: 2.6e-14
# (1/32: 1.1e-12, 1/128: 1.1e-11, 1e-4: 5e-8).
_DELTA0 = 0.125


@njit(cache=True)
def _pl_mode(kind, p, s):
    """How :func:`pl_pair` treats ``sigma(s z)``: 0 when no kink lies within 40 standard
    deviations (sigma is linear on the whole Gaussian bulk), 2 when two kinks lie
    within ``_DELTA0`` of each other (in units of s) or a kink lies beyond -40 (it makes
    sigma linear on the left, which the closed form does not know), 1 otherwise."""
    nk = act_n_kinks(kind)
    near = 0
    far_left = False
    close = False
    prev = 0.0
    for kk in range(nk):
        t, _ = act_kink(kind, p, kk)
        a = t / s
        if a < -_FAR:
            far_left = True
        elif a <= _FAR:
            near += 1
            if kk > 0 and (t - prev) / s < _DELTA0:
                close = True
        prev = t
    if near == 0:
        return 0
    return 2 if (far_left or close) else 1


@njit(cache=True)
def pl_pair(kr, pr, kc, pc, q11, q22, q12):
    """(F, F1, F12) for two piecewise-linear activations (ReLU, ramp), exact.

    With ``sigma = c + sum_k j_k (u - t_k)_+`` and kinks ``a_k = t_k / sqrt(q11)``,
    ``b_l = u_l / sqrt(q22)`` in units of the norms, one of three forms:

    * a neuron with no kink within 40 of its standard deviations is linear on
      the Gaussian bulk (``sigma(g) = sigma(0) + sigma'(0) g`` up to 1e-340), and the
      pair reduces to one-dimensional means (Stein: ``E g1 h(g2) = q12 E h'(g2)``);
    * kinks at least ``_DELTA0`` apart: the closed form of :func:`_pl_closed`
      (truncated bivariate moments and Genz's orthants);
    * closer kinks (the ramp at norms above 8, where the closed form cancels as
      ``norm^2``: 4e-2 relative at norm 1e7, negative risks at 1e9) or kinks far on
      the left: :func:`_pl_rotated`, a one-dimensional quadrature of exact inner
      integrals, about 80 times slower (some 100 us a pair).
    """
    if q11 <= 0.0:
        ig, igp = _pl_inner(kc, pc, 0.0, math.sqrt(max(q22, 0.0)))
        return act_value(kr, pr, 0.0) * ig, 0.0, act_d1(kr, pr, 0.0) * igp
    if q22 <= 0.0:
        s1 = math.sqrt(q11)
        ig, igp = _pl_inner(kr, pr, 0.0, s1)
        v = act_value(kc, pc, 0.0)
        return v * ig, 0.5 * v * _kink_sum(kr, pr, s1, 1.0, 0.0) / s1, igp * act_d1(kc, pc, 0.0)
    s1, s2, rho, a2 = _normalise(q11, q22, q12)
    mode_r = _pl_mode(kr, pr, s1)
    mode_c = _pl_mode(kc, pc, s2)
    if mode_r == 0:
        # 0 is no kink here, so act_d1(0) is the slope of the linear piece
        c_r, b_r = act_value(kr, pr, 0.0), act_d1(kr, pr, 0.0)
        ig, igp = _pl_inner(kc, pc, 0.0, s2)
        return c_r * ig + b_r * q12 * igp, 0.0, b_r * igp
    if mode_c == 0:
        c_c, b_c = act_value(kc, pc, 0.0), act_d1(kc, pc, 0.0)
        ig, igp = _pl_inner(kr, pr, 0.0, s1)
        # E[g2 | g1 = t] = rho s2 t / s1
        f1 = 0.5 * _kink_sum(kr, pr, s1, c_c, b_c * rho * s2) / s1
        return c_c * ig + b_c * q12 * igp, f1, b_c * igp
    if mode_r == 2 or mode_c == 2:
        return _pl_rotated(kr, pr, kc, pc, s1, s2, rho, a2)
    return _pl_closed(kr, pr, kc, pc, s1, s2, rho, a2)


@njit(cache=True)
def _pl_closed(kr, pr, kc, pc, s1, s2, rho, a2):
    """(F, F1, F12) of :func:`pl_pair` in closed form, in normalised variables.

    With ``sigma = c + sum_k j_k (u - t_k)_+``, F is a double sum over kink
    pairs of ``s1 s2 E[(Z1 - a)_+ (Z2 - b)_+]`` plus one-dimensional
    terms, ``F12 = sum j_k j_l P(g1 > t_k, g2 > t_l)`` (bivariate normal
    orthants, :func:`bvn_upper`) and ``F1`` is the point masses of
    ``sigma_r''`` times the conditional mean of ``sigma_c`` (no bivariate
    term).  About 17x faster than :func:`quad_pair` for the ramp.  Kinks beyond
    40 standard deviations on the right contribute nothing and are skipped
    (their ``a^2`` may overflow); ``rr = sqrt(1 - rho^2)`` comes from the exact
    ``a2`` of :func:`_normalise`, not from ``rho``: see :func:`_bvn`.
    """
    c_r = act_value(kr, pr, -1e300)
    c_c = act_value(kc, pc, -1e300)
    rr = math.sqrt(a2)
    # the one-dimensional part c_c E sigma_r + c_r E sigma_c - c_r c_c, then the kink pairs
    f = (c_c * _pl_inner(kr, pr, 0.0, s1)[0] + c_r * _pl_inner(kc, pc, 0.0, s2)[0]
         - c_r * c_c)
    f12 = 0.0
    f1 = 0.0
    ms = rho * s2  # E[g2 | g1 = t] = ms t / s1
    sc = s2 * rr  # and its standard deviation
    shared = rr > 0.0 and rho != 0.0 and abs(rho) < 0.925
    if shared:
        asr, sn, ws = _low_nodes(rho)
    for kk in range(act_n_kinks(kr)):
        t, jump = act_kink(kr, pr, kk)
        a = t / s1
        if a > _FAR:
            continue
        pa = math.exp(-0.5 * a * a) * _INV_SQRT_2PI
        ig, _ = _pl_inner(kc, pc, ms * a, sc)
        f1 += jump * pa / s1 * ig
        for ll in range(act_n_kinks(kc)):
            u, jump2 = act_kink(kc, pc, ll)
            b = u / s2
            if b > _FAR:
                continue
            if rr > 0.0:
                L = _bvn_low(a, b, asr, sn, ws) if shared else _bvn(a, b, rho, a2)
                h = _ramp_moment(a, b, rho, rr, L)
            else:
                h, L = _ramp_moment_degenerate(a, b, rho)
            f += jump * jump2 * (s1 * s2) * h
            f12 += jump * jump2 * L
    return f, 0.5 * f1, f12


@njit(cache=True)
def _pl_side(kind, p, s, t, a, v, sl):
    """The kinks of ``sigma(s z)`` within 40 standard deviations: locations ``t``,
    normalised ``a = t / s``, values ``v = sigma(t)`` and slopes ``sl[k]`` of the segment
    left of kink k (``sl[K]`` right of the last); kinks beyond -40 only set ``sl[0]``
    (sigma is linear there on the bulk), kinks beyond +40 are dropped.  Returns K."""
    K = 0
    sl[0] = 0.0
    for kk in range(act_n_kinks(kind)):
        tk, jump = act_kink(kind, p, kk)
        ak = tk / s
        if ak < -_FAR:
            sl[0] += jump
        elif ak <= _FAR:
            t[K] = tk
            a[K] = ak
            v[K] = act_value(kind, p, tk)
            sl[K + 1] = jump  # made cumulative below
            K += 1
    for k in range(K):
        sl[k + 1] += sl[k]
    return K


@njit(cache=True, inline="always")
def _side_value(K, t, v, sl, d):
    """``sigma`` at the point whose offsets from the kinks are ``d[k] = g - t[k]``, summed
    segment by segment with each bounded segment clipped, so that an offset rounded at
    the scale of ``s`` (huge) never reaches the value: ``v[0] + sl[0] min(d_0, 0) + sum
    sl[k] clip(d_{k-1}, 0, t_k - t_{k-1}) + sl[K] max(d_{K-1}, 0)``."""
    out = v[0] + sl[0] * min(d[0], 0.0)
    for k in range(1, K):
        out += sl[k] * min(max(d[k - 1], 0.0), t[k] - t[k - 1])
    return out + sl[K] * max(d[K - 1], 0.0)


@njit(cache=True, inline="always")
def _tails(x):
    """``J_k(x) = int_x^inf (u - x)^k phi(u) du`` for k = 0, 1, 2."""
    if x > _FAR:
        return 0.0, 0.0, 0.0
    if x < -_FAR:
        return 1.0, -x, 1.0 + x * x
    q = _sf(x)
    return q, _psi(-x), (1.0 + x * x) * q - x * _phi(x)


@njit(cache=True)
def _moments_right(x, ell):
    """``int_0^ell u^k phi(x + u) du`` for k = 0, 1, 2 (``x >= 0`` or ``ell <= 1``): the
    rule of :func:`_int_phi` on short pieces, tails otherwise (``ell = inf`` allowed)."""
    if ell <= 1.0:
        # fewer points on shorter pieces: the error of n points is ~ (ell / 2)^(2 n) / (2 n)!
        if ell <= 0.01:
            xs, ws = _GL3_X, _GL3_W
        elif ell <= 0.15:
            xs, ws = _GL5_X, _GL5_W
        else:
            xs, ws = _GLI_X, _GLI_W
        hh = 0.5 * ell
        m0 = 0.0
        m1 = 0.0
        m2 = 0.0
        for i in range(xs.size):
            u = hh * (1.0 + xs[i])
            w = ws[i] * _phi(x + u)
            m0 += w
            m1 += w * u
            m2 += w * u * u
        return m0 * hh, m1 * hh, m2 * hh
    j0, j1, j2 = _tails(x)
    if ell == math.inf or x + ell > _FAR:
        return j0, j1, j2
    k0, k1, k2 = _tails(x + ell)
    return j0 - k0, j1 - (k1 + ell * k0), j2 - (k2 + ell * (2.0 * k1 + ell * k0))


@njit(cache=True)
def _rot_inner(bv, al, eps, n, num, typ, order, dr, dc, Kr, tr, vr, slr, Kc, tc, vc, slc,
               s1, s2):
    """The inner integrals of :func:`_pl_rotated` at ``beta V = bv``: ``(E_U f g,
    E_U sigma_r' (U g - dg/dU), E_U sigma_r' sigma_c')`` over ``U ~ N(0, 1)``, piece by
    piece between the kinks (f, g linear on each, so the integrals are moments of
    the normal density about an anchor: the piece's end nearer 0, or 0 inside it).

    Kink i sits at ``U = (num[i] + typ[i] bv) / al`` (typ +1 for the row, -1 for the
    column); differences of positions and the offsets ``g - t`` are formed from
    ``num`` and ``bv`` directly, never from two rounded positions."""
    for i in range(n):
        order[i] = i
    for i in range(1, n):
        j = i
        while j > 0:
            o, q = order[j], order[j - 1]
            if (num[o] - num[q]) + (typ[o] - typ[q]) * bv >= 0.0:
                break
            order[j] = q
            order[j - 1] = o
            j -= 1
    i_f = 0.0
    i_1 = 0.0
    i_12 = 0.0
    cr = 0
    cc = 0
    for piece in range(n + 1):
        lo = order[piece - 1] if piece > 0 else -1
        hi = order[piece] if piece < n else -1
        sr = slr[cr]
        sc = slc[cc] if eps > 0.0 else slc[Kc - cc]
        if hi >= 0:
            if hi < Kr:
                cr += 1
            else:
                cc += 1
        # anchor A (num_a, typ_a) and the moments of (U - A)^k phi over the piece
        if lo < 0:
            num_a, typ_a = num[hi], typ[hi]
            pa = (num_a + typ_a * bv) / al
            m0, m1, m2 = _moments_right(-pa, math.inf)
            m1 = -m1
        elif hi < 0:
            num_a, typ_a = num[lo], typ[lo]
            pa = (num_a + typ_a * bv) / al
            m0, m1, m2 = _moments_right(pa, math.inf)
        else:
            ell = ((num[hi] - num[lo]) + (typ[hi] - typ[lo]) * bv) / al
            if ell <= 0.0:
                continue
            p_lo = (num[lo] + typ[lo] * bv) / al
            p_hi = (num[hi] + typ[hi] * bv) / al
            if p_lo >= 0.0:
                num_a, typ_a, pa = num[lo], typ[lo], p_lo
                m0, m1, m2 = _moments_right(p_lo, ell)
            elif p_hi <= 0.0:
                num_a, typ_a, pa = num[hi], typ[hi], p_hi
                m0, m1, m2 = _moments_right(-p_hi, ell)
                m1 = -m1
            else:
                num_a, typ_a, pa = 0.0, 0.0, 0.0
                r0, r1, r2 = _moments_right(0.0, p_hi)
                l0, l1, l2 = _moments_right(0.0, -p_lo)
                m0, m1, m2 = r0 + l0, r1 - l1, r2 + l2
        for k in range(Kr):
            dr[k] = s1 * ((num_a - num[k]) + (typ_a - 1.0) * bv)
        for k in range(Kc):
            dc[k] = eps * s2 * ((num_a - num[Kr + k]) + (typ_a + 1.0) * bv)
        fa = _side_value(Kr, tr, vr, slr, dr)
        ga = _side_value(Kc, tc, vc, slc, dc)
        fp = s1 * al * sr
        gp = eps * s2 * al * sc
        i_f += fa * ga * m0 + (fa * gp + fp * ga) * m1 + fp * gp * m2
        i_12 += sr * sc * m0
        if sr != 0.0:
            i_1 += sr * ((pa * ga - gp) * m0 + (ga + pa * gp) * m1 + gp * m2)
    return i_f, i_1, i_12


@njit(cache=True)
def _pl_rotated(kr, pr, kc, pc, s1, s2, rho, a2):
    """See :func:`_pl_rotated_rule`; the rule used by :func:`pl_pair`."""
    return _pl_rotated_rule(kr, pr, kc, pc, s1, s2, rho, a2, _VPIECE, _GLV_X, _GLV_W)


@njit(cache=True)
def _pl_rotated_rule(kr, pr, kc, pc, s1, s2, rho, a2, vpiece, vx, vw):
    """(F, F1, F12) of :func:`pl_pair` where the closed form cancels: kinks of one
    neuron closer than ``_DELTA0`` (in units of its norm), or beyond -40 of them.

    With ``Z1 = al U - be V``, ``Z2 = eps (al U + be V)`` (U, V independent standard
    normals, ``al = sqrt((1 + |rho|) / 2)``, ``be = sqrt((1 - |rho|) / 2)`` from ``a2``,
    ``eps`` the sign of rho) both activations are piecewise linear in U for fixed V,
    so the integral over U is exact (:func:`_rot_inner`); the one over V is
    Gauss-Legendre (``vx, vw``: 16 points) on pieces of length <= ``vpiece`` (3) cut
    where two kinks cross, on ``|V| <= 9 + be max|a|`` (``phi(9) = 1e-18``; 2-unit
    pieces or 30 points change the result by < 1e-14).  Nothing here is of the size
    of the norms, so nothing cancels: at norm 1e150 the ramp's kinks are 1e-150
    apart and their segment contributes its O(1e-150) exactly.  F1 is
    ``E sigma_r'' sigma_c / 2`` integrated by parts in U (Stein),
    ``E_U sigma_r' (U g - g') / (s1 al)``.  At ``rho = +-1`` the integrand does not
    depend on V and one inner integral is the answer."""
    tr = np.empty(2)
    ar = np.empty(2)
    vr = np.empty(2)
    slr = np.empty(3)
    tc = np.empty(2)
    bc = np.empty(2)
    vc = np.empty(2)
    slc = np.empty(3)
    Kr = _pl_side(kr, pr, s1, tr, ar, vr, slr)
    Kc = _pl_side(kc, pc, s2, tc, bc, vc, slc)
    ap = abs(rho)
    eps = 1.0 if rho >= 0.0 else -1.0
    al = math.sqrt(0.5 * (1.0 + ap))
    be = math.sqrt(0.5 * a2 / (1.0 + ap))
    n = Kr + Kc
    num = np.empty(n)
    typ = np.empty(n)
    amax = 0.0
    for k in range(Kr):
        num[k] = ar[k]
        typ[k] = 1.0
        amax = max(amax, abs(ar[k]))
    for k in range(Kc):
        num[Kr + k] = eps * bc[k]
        typ[Kr + k] = -1.0
        amax = max(amax, abs(bc[k]))
    order = np.empty(n, dtype=np.int64)
    dr = np.empty(2)
    dc = np.empty(2)
    if be == 0.0:
        i_f, i_1, i_12 = _rot_inner(0.0, al, eps, n, num, typ, order, dr, dc, Kr, tr, vr, slr,
                                    Kc, tc, vc, slc, s1, s2)
        return i_f, 0.5 * i_1 / (s1 * al), i_12
    vt = 9.0 + be * amax
    nb = math.ceil(2.0 * vt / vpiece)
    cuts = np.empty(nb + 1 + Kr * Kc)
    nc = 0
    for i in range(nb + 1):
        cuts[nc] = -vt + i * (2.0 * vt / nb)
        nc += 1
    for k in range(Kr):
        for ll in range(Kc):
            x = (eps * bc[ll] - ar[k]) / (2.0 * be)  # the two kinks cross here
            if -vt < x < vt:
                cuts[nc] = x
                nc += 1
    cuts[:nc].sort()
    F = 0.0
    F1 = 0.0
    F12 = 0.0
    for piece in range(nc - 1):
        half = 0.5 * (cuts[piece + 1] - cuts[piece])
        if half <= 0.0:
            continue
        mid = 0.5 * (cuts[piece + 1] + cuts[piece])
        for j in range(vx.size):
            V = mid + half * vx[j]
            w = vw[j] * half * _phi(V)
            i_f, i_1, i_12 = _rot_inner(be * V, al, eps, n, num, typ, order, dr, dc, Kr, tr,
                                        vr, slr, Kc, tc, vc, slc, s1, s2)
            F += w * i_f
            F1 += w * i_1
            F12 += w * i_12
    return F, 0.5 * F1 / (s1 * al), F12


_TAIL = 10.0  # |z| beyond which the standard normal weight (< 1e-21) is dropped
# Gauss-Hermite is used on an axis only where every transition is gentle on
# the z scale (width >= 4 in z units): sigmoidal derivatives have complex
# poles close to the real axis, and at width ~1 the 48-node rule was off by
# 2e-5 relative (tests/test_kernels.py, Price derivatives).
_GENTLE = 4.0


@njit(cache=True, inline="always")
def _add_cut(cuts, nc, c, width):
    """Insert ``c`` (and, for a smooth transition of ``width`` < _GENTLE, the
    graded cuts ``c +- width``, ``c +- 4 width``, ``c +- 16 width``) into the sorted
    ``cuts[:nc]``.  The transition's tail beyond 4 widths (3e-5 of a Gaussian
    smoothing, 7e-4 of a tanh) decays over less than a width: on a long last piece
    it was invisible to the rule, 1e-5 relative for a steep erf (norm 1e3) against
    a nearly parallel ReLU; beyond 16 widths it is below 3e-14."""
    if width >= _GENTLE:
        return nc
    for kk in range(7):
        if kk == 0:
            x = c
        elif width == 0.0:
            break
        else:
            x = c + width * (1.0, 4.0, 16.0)[(kk - 1) // 2] * (1.0 if kk % 2 else -1.0)
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
    # the transition of g sits at z = c; the pieces are cut at offsets y from it
    # (0, +-w, +-4w, +-16w, see _add_cut) and g is evaluated at t + s y, not at
    # mu + s z: a transition narrower than an ulp of c (erf at norm 1e150 seen from
    # c = 0.01) otherwise falls between the nodes, and E g' came out 0
    c = (t - mu) / s
    w = width / s
    lo = -_TAIL - c
    hi = _TAIL - c
    ys = np.empty(10)
    n = 0
    if w < _GENTLE:
        ys[0] = lo
        n = _add_offsets(ys, 1, w, lo, hi)
        if n > 1 and lo < -c < hi:
            n = _insert(ys, n, -c)  # z = 0: no piece over the whole bulk, see quad_pair
    if n <= 1:
        # gentle, or the transition lies more than 16 widths outside [-10, 10]: g is
        # smooth (flat) on the bulk.  One Legendre piece on [-10, 10] instead was off
        # by 2.4e-5 (24 points do not integrate the normal density over 20 units)
        for j in range(quad[0].shape[1]):
            u = mu + s * quad[0][0, j]
            ig += quad[0][1, j] * act_value(kc, pc, u)
            igp += quad[0][1, j] * act_d1(kc, pc, u)
        return ig, igp
    ys[n] = hi
    for piece in range(n):
        half = 0.5 * (ys[piece + 1] - ys[piece])
        if half <= 0.0:
            continue
        mid = 0.5 * (ys[piece + 1] + ys[piece])
        for j in range(quad[1].shape[1]):
            y = mid + half * quad[1][0, j]
            wj = quad[1][1, j] * half * _phi(c + y)
            ig += wj * act_value(kc, pc, t + s * y)
            igp += wj * act_d1(kc, pc, t + s * y)
    return ig, igp


@njit(cache=True, inline="always")
def _insert(ys, n, x):
    """Insert x into the sorted ``ys[:n]``; returns n + 1."""
    pos = n
    while pos > 0 and ys[pos - 1] > x:
        ys[pos] = ys[pos - 1]
        pos -= 1
    ys[pos] = x
    return n + 1


@njit(cache=True)
def _add_offsets(ys, n, w, lo, hi):
    """The cuts of :func:`_add_cut` around a centre at 0 (0, +-w, +-4w, +-16w; only 0
    for w = 0) that fall in ``(lo, hi)``, into the sorted ``ys[:n]``."""
    for kk in range(7):
        if kk == 0:
            x = 0.0
        elif w == 0.0:
            break
        else:
            x = w * (1.0, 4.0, 16.0)[(kk - 1) // 2] * (1.0 if kk % 2 else -1.0)
        if lo < x < hi:
            n = _insert(ys, n, x)
    return n


@njit(cache=True)
def quad_pair(kr, pr, kc, pc, q11, q22, q12, quad):
    """(F, F1, F12) by quadrature, for pairs without a closed form.

    ``g1 = s1 z1`` and ``g2 | z1 ~ N(rho s2 z1, s2^2 (1 - rho^2))`` in the normalised
    variables of :func:`_normalise` (``q12 / q11`` and ``q22 - q12^2 / q11`` over- and
    underflow at norms near 1e150 and 1e-150, and the latter cancels).
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
    if q22 > 0.0:
        s1, sg2, rho, a2 = _normalise(q11, q22, q12)
        ms = rho * sg2  # g2 | z1 has mean ms z1 and standard deviation s2
        s2 = sg2 * math.sqrt(a2)
    else:
        s1, ms, s2 = math.sqrt(q11), 0.0, 0.0
    cuts = np.empty(3 + 7 * (act_n_centers(kr) + act_n_centers(kc)))
    cuts[0] = -_TAIL
    nc = 1
    for kk in range(act_n_centers(kr)):
        t, width = act_center(kr, pr, kk)
        nc = _add_cut(cuts, nc, t / s1, width / s1)
    if ms != 0.0:
        for kk in range(act_n_centers(kc)):
            t, width = act_center(kc, pc, kk)
            nc = _add_cut(cuts, nc, t / ms, (width + s2) / abs(ms))
    f = 0.0
    f12 = 0.0
    fs = 0.0
    if nc > 1:
        # a piece over the whole bulk, [-10, 10] for a transition beyond 10, is too long
        # for the Legendre rule (24 points: 2.4e-5 for the normal density); with a cut
        # at 0 no piece is longer than 10 (1e-13)
        nc = _add_cut(cuts, nc, 0.0, 0.0)
    if nc == 1:
        for i in range(quad[0].shape[1]):
            g1 = s1 * quad[0][0, i]
            ig, igp = _inner(kc, pc, ms * quad[0][0, i], s2, quad)
            wi = quad[0][1, i]
            f += wi * act_value(kr, pr, g1) * ig
            f12 += wi * act_d1(kr, pr, g1) * igp
            fs += wi * act_d2(kr, pr, g1) * ig
    else:
        cuts[nc] = _TAIL
        for piece in range(nc):
            half = 0.5 * (cuts[piece + 1] - cuts[piece])
            if half <= 0.0:
                continue
            mid = 0.5 * (cuts[piece + 1] + cuts[piece])
            for i in range(quad[1].shape[1]):
                z1 = mid + half * quad[1][0, i]
                wi = quad[1][1, i] * half * math.exp(-0.5 * z1 * z1) * _INV_SQRT_2PI
                g1 = s1 * z1
                ig, igp = _inner(kc, pc, ms * z1, s2, quad)
                f += wi * act_value(kr, pr, g1) * ig
                f12 += wi * act_d1(kr, pr, g1) * igp
                fs += wi * act_d2(kr, pr, g1) * ig
    # the point masses of sigma_r'': sum_k jump_k phi(a_k) E[g | g1 = t_k] / s1, summed by
    # parts over the segments (see _kink_sum): the ramp's two terms cancel to 1/s1
    nk = act_n_kinks(kr)
    sl = 0.0
    for kk in range(nk):
        t, jump = act_kink(kr, pr, kk)
        sl += jump
        if sl == 0.0:
            continue
        a = t / s1
        if kk + 1 < nk:
            t2, _ = act_kink(kr, pr, kk + 1)
            fs += sl * _mass_diff(kc, pc, a, t2 / s1, (t2 - t) / s1, ms, s2, quad) / s1
        elif abs(a) <= _FAR:
            fs += sl * _phi(a) * _inner(kc, pc, ms * a, s2, quad)[0] / s1
    return f, 0.5 * fs, f12


@njit(cache=True)
def _mass_diff(kc, pc, a, b, d, ms, s2, quad):
    """``H(a) - H(b)`` for ``H(x) = phi(x) E g(ms x + s2 Z)``, ``d = b - a > 0`` given by
    itself.  Where H is smooth over ``[a, b]`` (d well inside g's transition width in x,
    and below 1) it is ``-int_a^b H'`` by 8-point Gauss-Legendre, ``H' = phi(x) (ms E g' -
    x E g)``; otherwise ``E g(a) (phi(a) - phi(b)) + phi(b) (E g(a) - E g(b))`` with the
    density difference of :func:`_phi_diff`."""
    near_a = abs(a) <= _FAR
    near_b = abs(b) <= _FAR
    if not (near_a or near_b):
        return 0.0
    if not near_b:
        return _phi(a) * _inner(kc, pc, ms * a, s2, quad)[0]
    if not near_a:
        return -_phi(b) * _inner(kc, pc, ms * b, s2, quad)[0]
    _, width = act_center(kc, pc, 0)
    smooth = 0.25 * min(1.0, (width + s2) / abs(ms)) if ms != 0.0 else 0.25
    if d <= smooth:
        hh = 0.5 * d
        acc = 0.0
        for i in range(_GL8_X.size):
            x = a + hh * (1.0 + _GL8_X[i])
            ig, igp = _inner(kc, pc, ms * x, s2, quad)
            acc += _GL8_W[i] * _phi(x) * (ms * igp - x * ig)
        return -acc * hh
    ga = _inner(kc, pc, ms * a, s2, quad)[0]
    gb = _inner(kc, pc, ms * b, s2, quad)[0]
    return ga * _phi_diff(a, b, d) + _phi(b) * (ga - gb)


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
        # the two kinks' terms cancel as s grows (to 0.5 relative at s = 1e16): segment
        # means and density differences instead (_pl_inner, _kink_sum)
        s = math.sqrt(q)
        return _pl_inner(kind, p, 0.0, s)[0], 0.5 * _kink_sum(kind, p, s, 1.0, 0.0) / s
    s = math.sqrt(max(q, 0.0))
    m = 0.0
    dm = 0.0
    for i in range(quad[0].shape[1]):
        m += quad[0][1, i] * act_value(kind, p, s * quad[0][0, i])
        dm += quad[0][1, i] * act_d2(kind, p, s * quad[0][0, i])
    return m, 0.5 * dm


@njit(cache=True)
def gauss_means(kind, p, q, quad, m, dm):
    _refuse_nonfinite(q)
    for i in range(q.size):
        m[i], dm[i] = gauss_mean(kind, p, q[i], quad)


# --- blocked pair sums -------------------------------------------------------
# On entry Q holds the Gram block q12[i, j]; on exit, when ``grad``, it holds
# ac[j] * F12[i, j] so that one more GEMM (Q @ Wc) gives the F12 part of the
# gradient.  Fa[i] = sum_j ac[j] F[i, j], F1[i] = sum_j ac[j] F1[i, j].

@njit(cache=True, parallel=True, fastmath=True)
def relu_block(Q, mr, Sr, iSr, mc, iSc, wc, ac, Fa, F1, grad):
    """ReLU row sums on split norms (``q = m S^2``, :func:`_split`; ``iS = 1 / S``,
    ``wc = ac Sc``): the arithmetic of :func:`relu_pair`, with the powers of two of
    the rows and columns taken out of the sums."""
    R, M = Q.shape
    for i in prange(R):
        m1 = mr[i]
        is1 = iSr[i]
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            c = (Q[i, j] * is1) * iSc[j]
            s = math.sqrt(max(_det2(m1, mc[j], c), 0.0))
            pm = math.pi - angle(s, c)
            fa += wc[j] * (s + c * pm)
            f1 += wc[j] * s
            if grad:
                Q[i, j] = ac[j] * pm * _INV_2PI if mc[j] > 0.0 else 0.0
        Fa[i] = fa * Sr[i] * _INV_2PI
        if m1 > 0.0:
            F1[i] = f1 * is1 / (4.0 * math.pi * m1)
        else:
            F1[i] = 0.0
            if grad:
                for j in range(M):
                    Q[i, j] = 0.0


@njit(cache=True, parallel=True, fastmath=True)
def erf_block(Q, mr, Sr, iSr, qr, mc, Sc, iSc, ac, Fa, F1, grad):
    """erf row sums on split norms: the arithmetic of :func:`erf_pair`."""
    R, M = Q.shape
    for i in prange(R):
        m1 = mr[i]
        S1 = Sr[i]
        is1 = iSr[i]
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            c = (Q[i, j] * is1) * iSc[j]
            ang, cg, u, r = _erf_scaled(m1, S1, is1, mc[j], Sc[j], iSc[j], c)
            f = (2.0 / math.pi) * ang
            fa += ac[j] * (-f if c < 0.0 else f)
            f1 += ac[j] * cg / r
            if grad:
                Q[i, j] = ac[j] * (4.0 / math.pi) * u / r
        Fa[i] = fa
        F1[i] = -(4.0 / math.pi) * f1 / (1.0 + 2.0 * qr[i])


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


@njit(cache=True)
def _refuse_nonfinite(q):
    # before the parallel loops: an exception raised inside prange comes out as a
    # SystemError
    for i in range(q.size):
        if not np.isfinite(q[i]):
            raise ValueError("pair kernels: a squared norm is not finite (norms above "
                             "~1.3e154 overflow when squared)")


@njit(cache=True, parallel=True)
def pair_matrix(kr, pr, kc, pc, Q, qr, qc, quad, F, F1, F12):
    """Full matrices of F, F1, F12 (for U, grad_1 U and tests).  Raises ValueError for a
    q that is not finite."""
    _refuse_nonfinite(qr)
    _refuse_nonfinite(qc)
    R, M = Q.shape
    for i in prange(R):
        for j in range(M):
            F[i, j], F1[i, j], F12[i, j] = pair(kr, pr, kc, pc, qr[i], qc[j], Q[i, j], quad)


@njit(cache=True, parallel=True)
def pair_diag(kind, p, q, quad, F):
    """``F[i] = E[sigma(g)^2]``, g ~ N(0, q[i]): the kernel of a neuron with itself.
    Raises ValueError for a q that is not finite."""
    _refuse_nonfinite(q)
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


def _split_array(q):
    """:func:`_split` on an array: ``(m, S, 1 / S)``."""
    m, e = np.frexp(q)
    odd = (e % 2).astype(bool)
    m = np.where(odd, 2.0 * m, m)
    S = np.ldexp(1.0, (e - odd) // 2)
    S = np.where(q > 0.0, S, 1.0)
    return np.where(q > 0.0, m, 0.0), S, 1.0 / S


def _check_q(q, what):
    if not np.all(np.isfinite(q)):
        raise ValueError(f"pair kernels: a squared norm of the {what} is not finite "
                         f"(norms above ~1.3e154 overflow when squared)")


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
    _check_q(qr, "rows")
    _check_q(qc, "columns")
    Fa = np.empty(R)
    F1 = np.empty(R)
    G = np.empty((R, d)) if grad else None
    if R == 0 or M == 0:
        Fa[:] = 0.0
        F1[:] = 0.0
        if grad:
            G[:] = 0.0
        return Fa, F1, G
    if kr == kc and kr in (RELU, ERF):
        mr, Sr, iSr = _split_array(qr)
        mc, Sc, iSc = _split_array(qc)
    rows = int(max(1, min(R, block_bytes // (8 * M))))
    buf = np.empty((rows, M))
    for r0 in range(0, R, rows):
        r1 = min(R, r0 + rows)
        Qb = buf[: r1 - r0]
        np.matmul(Wr[r0:r1], Wc.T, out=Qb)
        if kr == RELU and kc == RELU:
            relu_block(Qb, mr[r0:r1], Sr[r0:r1], iSr[r0:r1], mc, iSc, ac * Sc, ac,
                       Fa[r0:r1], F1[r0:r1], grad)
        elif kr == ERF and kc == ERF:
            erf_block(Qb, mr[r0:r1], Sr[r0:r1], iSr[r0:r1], qr[r0:r1], mc, Sc, iSc, ac,
                      Fa[r0:r1], F1[r0:r1], grad)
        else:
            pair_block(kr, pr, kc, pc, Qb, qr[r0:r1], qc, ac, quad, Fa[r0:r1], F1[r0:r1], grad)
        if grad:
            np.matmul(Qb, Wc, out=G[r0:r1])
    return Fa, F1, G
