"""Pair kernels of piecewise-linear activations (ReLU with the ramp, ramp/ramp): sums over
kinks of truncated bivariate normal moments, with a rotated rule where those cancel, and
for the pair sums Mehler's series in the correlation with per-neuron coefficients."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..activations import act_d1, act_kink, act_n_kinks, act_value
from .bvn import (
    _FAR,
    _GL3_W,
    _GL3_X,
    _GL5_W,
    _GL5_X,
    _GLI_W,
    _GLI_X,
    _GLV_W,
    _GLV_X,
    _VPIECE,
    _bvn,
    _bvn_low,
    _low_nodes,
    _sf,
)
from .closed_forms import _INV_SQRT_2PI, _normalise


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

    The pair sums (:func:`meanfield.kernels.gaussian.pair_sums`) use this for the pairs
    with ``|rho| > 0.5`` or a neuron outside the second form's regime only, and
    Mehler's series (:func:`pl_series_pair`) for the others.
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


# --- Mehler's series for the pair sums ------------------------------------------------
#
# E f(Z1) g(Z2) = sum_n rho^n c_n d_n, with c_n = E[f^(n)(Z)] / sqrt(n!) the normalised
# Hermite coefficients of f(z) = sigma_r(s1 z) (Mehler's formula).  For a piecewise-linear
# sigma, f'' = s1 sum_k j_k delta(z - a_k), so c_n = s1 sum_k j_k phi(a_k)
# He_{n-2}(a_k) / sqrt(n!) for n >= 2: per neuron, nothing per pair but a polynomial in rho.
# Cramer's inequality |He_n(x)| exp(-x^2 / 4) <= K sqrt(n!) (K = 1.086435, Abramowitz &
# Stegun 22.14.17) bounds |c_n| <= C / sqrt(n (n - 1)) with
# C = s1 K sum_k |j_k| exp(-a_k^2 / 4) / sqrt(2 pi), so that the terms beyond N sum to at
# most C_r C_c T(N, rho) (F), C_r C_c T / (s1 s2) (F12) and C_r C_c T / s1^2 (F1), with
# T(N, rho) = |rho|^N / (N (1 - |rho|)).  _SER_N[i] is the smallest N >= 2 with
# T <= 2^-60 at the upper end of |rho|-bin i (bins of 1/_SER_BINS): 22 terms at
# |rho| = 0.16, 56 at 0.5.  Accuracy (tests/test_pl_series.py, against mpmath): within
# 1e-15 of the Cauchy-Schwarz scale (measured 3e-16; the closed form: 3.4e-14), and
# within 1e-14 of the value where that is at least 1e-2 of its scale.  In the tails
# (kinks 8 or more standard deviations out, values below 1e-7 of their scale) the
# alternating terms leave only the bound on the scale, as Genz's absolute 1e-15 does for
# the closed form.  Beyond |rho| = 0.5 the terms grow (and the cancellation with them);
# random directions in d = 40 have |rho| <= 0.5 for 99.8% of pairs.

_SER_RHO = 0.5  # the series is summed for |rho| <= _SER_RHO only
_SER_BINS = 128


def _series_terms():
    out = []
    for i in range(int(_SER_RHO * _SER_BINS) + 1):
        r = min(_SER_RHO, (i + 1) / _SER_BINS)
        n = 2
        while r ** n / (n * (1.0 - r)) > 2.0 ** -60:
            n += 1
        out.append(n)
    return np.array(out, dtype=np.int64)


_SER_N = _series_terms()


_SER_L = int(_SER_N.max()) + 1  # coefficients n = 0 ... N per neuron


_SQRT_N = np.sqrt(np.arange(_SER_L + 1, dtype=np.float64))


_SER_AMAX = 37.0  # phi(a) is a normal double up to 37.6


@njit(cache=True)
def _hermite_sums(kind, p, s, out, shift):
    """``out[n] = sum_k j_k phi(a_k) He_n(a_k) / sqrt(n!)`` for n = 0 ... len(out) - 1 - shift,
    stored at ``out[n + shift]`` (``a_k = t_k / s`` the kinks within 40 standard
    deviations), by the three-term recurrence of the normalised Hermite functions."""
    L = out.size
    for n in range(L):
        out[n] = 0.0
    for kk in range(act_n_kinks(kind)):
        t, jump = act_kink(kind, p, kk)
        a = t / s
        if abs(a) > _FAR:
            continue
        g0 = jump * _phi(a)
        g1 = a * g0
        out[shift] += g0
        if shift + 1 < L:
            out[shift + 1] += g1
        for n in range(1, L - shift - 1):
            g2 = (a * g1 - _SQRT_N[n] * g0) / _SQRT_N[n + 1]
            out[shift + n + 1] += g2
            g0 = g1
            g1 = g2


@njit(cache=True)
def pl_series_ok(kind, p, q):
    """Whether :func:`pl_pair` of this neuron with any other may go through Mehler's series:
    ``q > 0``, the closed form's regime (:func:`_pl_mode` 1) and a kink within
    ``_SER_AMAX`` standard deviations (its density a normal double)."""
    if not q > 0.0:
        return False
    s = math.sqrt(q)
    if _pl_mode(kind, p, s) != 1:
        return False
    amin = math.inf
    for kk in range(act_n_kinks(kind)):
        t, _ = act_kink(kind, p, kk)
        amin = min(amin, abs(t / s))
    return amin <= _SER_AMAX


@njit(cache=True)
def pl_series_col(kind, p, q, d):
    """The column coefficients of Mehler's series, ``d[n] = E[f^(n)(Z)] / sqrt(n!)`` for
    ``f(z) = sigma(sqrt(q) z)``: ``E sigma``, ``s E sigma'`` (:func:`_pl_inner`), then
    ``s sum_k j_k phi(a_k) He_{n-2}(a_k) / sqrt(n!)``.  For :func:`pl_series_ok` neurons."""
    s = math.sqrt(q)
    _hermite_sums(kind, p, s, d, 2)
    m0, m1 = _pl_inner(kind, p, 0.0, s)
    d[0] = m0
    d[1] = s * m1
    for n in range(2, d.size):
        d[n] *= s / (_SQRT_N[n] * _SQRT_N[n - 1])


@njit(cache=True)
def pl_series_row(kind, p, q, a0, a12, a1):
    """The row coefficients of Mehler's series for :func:`pl_series_sum`: ``a0 = c``
    (:func:`pl_series_col`), ``a12[n] = n c_n / s`` (F12, with ``d[n] / s2``) and
    ``a1[n] = sum_k j_k phi(a_k) He_n(a_k) / (2 s sqrt(n!))`` (F1 = E sigma_r''(g1)
    sigma_c(g2) / 2 by Price's theorem: the Hermite coefficients of sigma_r''(s1 z))."""
    s = math.sqrt(q)
    pl_series_col(kind, p, q, a0)
    _hermite_sums(kind, p, s, a1, 0)
    a12[0] = 0.0
    a12[1] = a0[1] / s
    for n in range(2, a12.size):
        # n c_n / s = sqrt(n / (n - 1)) sum_k j_k phi(a_k) He_{n-2}(a_k) / sqrt((n-2)!)
        a12[n] = (_SQRT_N[n] / _SQRT_N[n - 1]) * a1[n - 2]
    for n in range(a1.size):
        a1[n] *= 0.5 / s


@njit(cache=True, inline="always")
def pl_series_sum(a0, a12, a1, d, rho, isc):
    """(F, F1, F12) of a pair from the coefficients of :func:`pl_series_row` (row) and
    :func:`pl_series_col` (column, ``isc = 1 / s2``), for ``|rho| <= _SER_RHO``: Horner's
    rule on ``sum_n rho^n a0_n d_n``, ``sum_n rho^(n-1) a12_n d_n / s2`` and
    ``sum_n rho^n a1_n d_n``, N terms from ``_SER_N``."""
    N = _SER_N[int(abs(rho) * _SER_BINS)]
    f = 0.0
    f1 = 0.0
    f12 = 0.0
    for n in range(N, 0, -1):
        dn = d[n]
        f = f * rho + a0[n] * dn
        f1 = f1 * rho + a1[n] * dn
        f12 = f12 * rho + a12[n] * dn
    return f * rho + a0[0] * d[0], f1 * rho + a1[0] * d[0], f12 * isc


@njit(cache=True)
def pl_series_pair(kr, pr, kc, pc, q11, q22, q12):
    """(F, F1, F12) of one pair as the pair sums compute it (:func:`pl_block` of
    :mod:`.block_sums`): Mehler's series (:func:`pl_series_sum`) where both neurons allow
    it (:func:`pl_series_ok`) and ``|rho| <= _SER_RHO``, :func:`pl_pair` otherwise."""
    if pl_series_ok(kr, pr, q11) and pl_series_ok(kc, pc, q22):
        isr = 1.0 / math.sqrt(q11)
        isc = 1.0 / math.sqrt(q22)
        rho = (q12 * isr) * isc
        if abs(rho) <= _SER_RHO:
            a0 = np.empty(_SER_L)
            a12 = np.empty(_SER_L)
            a1 = np.empty(_SER_L)
            d = np.empty(_SER_L)
            pl_series_row(kr, pr, q11, a0, a12, a1)
            pl_series_col(kc, pc, q22, d)
            return pl_series_sum(a0, a12, a1, d, rho, isc)
    return pl_pair(kr, pr, kc, pc, q11, q22, q12)
