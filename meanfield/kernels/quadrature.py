"""Quadrature pair kernels for any activation (kink masses of f'' added exactly), the
dispatcher :func:`pair` and the one-dimensional Gaussian means."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..activations import (
    ERF,
    RAMP,
    RELU,
    SIGMOID,
    TANH,
    act_center,
    act_d1,
    act_d2,
    act_kink,
    act_n_centers,
    act_n_kinks,
    act_value,
)
from .bvn import _FAR, _GL8_W, _GL8_X
from .closed_forms import _INV_SQRT_2PI, _normalise, erf_pair, relu_pair
from .piecewise import _kink_sum, _phi, _phi_diff, _pl_inner, pl_pair

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


@njit(cache=True)
def _refuse_nonfinite(q):
    # before the parallel loops: an exception raised inside prange comes out as a
    # SystemError
    for i in range(q.size):
        if not np.isfinite(q[i]):
            raise ValueError("pair kernels: a squared norm is not finite (norms above "
                             "~1.3e154 overflow when squared)")
