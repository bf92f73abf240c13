"""The pair kernels at norms from 1e-150 to 1e150 and any angle, against mpmath.

Every case is a float triple ``(q11, q22, q12)``; the reference is computed from those
exact floats at 40 digits (a q12 that rounding put outside Cauchy-Schwarz counts as
parallel, as in the kernels).  A kernel output passes when its error is below
``TOL`` times the larger of its own size and its Cauchy-Schwarz scale:
``sqrt(E f(g1)^2 E g(g2)^2)`` for F (where F cancels, a ReLU pair near
antiparallel, only that scale is meaningful), that over q11 for ``F1 = dF/dq11``
and ``sqrt(E f'(g1)^2 E g'(g2)^2)`` for F12.

References: closed forms for ReLU/ReLU and erf/erf; for piecewise-linear pairs a
one-dimensional ``mp.quad`` over z1 of ``f(s1 z1)`` times the conditional mean of
g (closed form, with the digits its differences need); Genz's orthants against
the one-dimensional integral of the normal density times a tail.  They are
computed once per module (a few seconds each for the slow ones, so the grids are
small; ``-m slow`` runs a wider one).
"""

import itertools
import math

import numpy as np
import pytest

mp = pytest.importorskip("mpmath")

from meanfield.activations import get_activation  # noqa: E402
from meanfield.kernels.gaussian import (  # noqa: E402
    bvn_upper,
    erf_pair,
    gauss_mean,
    pair_diag,
    pair_matrix,
    pair_sums,
    pl_pair,
    quad_pair,
    quadrature_nodes,
    relu_pair,
)

TOL = 1e-12
DIGITS = 40
QUAD = quadrature_nodes(48)
RAMP = get_activation("ramp").params
_BIG = 60  # beyond 60 standard deviations a normal density is below 1e-780

# norms (s1, s2) and correlations; q12 = rho s1 s2 in floating point
SCALES = (1e-150, 1e-82, 1e-3, 1.0, 1e3, 1e77, 1e150)
RHOS = (0.5, -0.3, 0.0, 1.0, -1.0, 1 - 1e-12, -1 + 1e-12, 1 - 1e-6, -1 + 1e-6,
        1 - 2 ** -52, -1 + 2 ** -52)


def _q(s1, s2, rho):
    return s1 * s1, s2 * s2, rho * s1 * s2


def _exact_parallel():
    """Triples with q12^2 = q11 q22 exactly (powers of two): parallel and antiparallel."""
    out = []
    for e1, e2 in ((-498, -498), (-498, 497), (0, 3), (20, -7), (497, 497)):
        q11, q22 = 2.0 ** (2 * e1), 3.0 * 2.0 ** (2 * e2)
        q11 *= 3.0  # q11 q22 = 9 4^(e1 + e2): a square
        for sign in (1.0, -1.0):
            out.append((q11, q22, sign * 3.0 * 2.0 ** (e1 + e2)))
    return out


def _err(got, ref, scale):
    """|got - ref| over max(|ref|, scale) (1e-300 when both vanish)."""
    den = max(abs(ref), scale, mp.mpf(10) ** -300)
    return float(abs(mp.mpf(got) - ref) / den)


def _exact(q11, q22, q12):
    """mpmath q's, norms, rho and sqrt(1 - rho^2) of float q's (det clamped at 0)."""
    q11, q22, q12 = mp.mpf(q11), mp.mpf(q22), mp.mpf(q12)
    s1, s2 = mp.sqrt(q11), mp.sqrt(q22)
    det = max(q11 * q22 - q12 * q12, 0)
    rho = max(-1, min(1, q12 / (s1 * s2)))
    return q11, q22, q12, s1, s2, rho, mp.sqrt(det / (q11 * q22)), det


# --- ReLU and erf: closed forms ------------------------------------------------

def relu_ref(q11, q22, q12):
    with mp.workdps(DIGITS + 20):  # the antiparallel form cancels as (pi - phi)^2
        q11, q22, q12, s1, s2, _, _, det = _exact(q11, q22, q12)
        s = mp.sqrt(det)
        pm = mp.pi - mp.atan2(s, q12)
        cs = s1 * s2 / 2  # E relu(g)^2 = q / 2
        return ((s + q12 * pm) / (2 * mp.pi), s / (4 * mp.pi * q11), pm / (2 * mp.pi)), \
            (cs, cs / q11, mp.mpf(1) / 2)


def erf_ref(q11, q22, q12):
    with mp.workdps(DIGITS + 10):
        q11, q22, q12, *_, det = _exact(q11, q22, q12)
        r = mp.sqrt(1 + 2 * q11 + 2 * q22 + 4 * det)
        f = 2 / mp.pi * mp.atan2(2 * q12, r)
        # E erf(g)^2 = (2/pi) asin(2q / (1 + 2q)), E erf'(g)^2 = (4/pi) / sqrt(1 + 4q)
        e1, e2 = (2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)) for q in (q11, q22))
        d1, d2 = (4 / mp.pi / mp.sqrt(1 + 4 * q) for q in (q11, q22))
        cs = mp.sqrt(e1 * e2)
        return (f, -4 / mp.pi * q12 / ((1 + 2 * q11) * r), 4 / mp.pi / r), \
            (cs, cs / q11, mp.sqrt(d1 * d2))


def _closed_form_cases():
    cases = [_q(s1, s2, rho) for s1, s2, rho in itertools.product(SCALES, SCALES, RHOS)]
    return cases + _exact_parallel()


@pytest.mark.parametrize("name,kernel,ref", [("relu", relu_pair, relu_ref),
                                             ("erf", erf_pair, erf_ref)])
def test_closed_forms_from_1e_150_to_1e150(name, kernel, ref):
    """Before: the ReLU kernel was NaN at norms 1e150 (q11 q22 = inf) and erf/erf
    returned 0 or 0.5 for 0.41 at norms near 1e77; F1, F12 of nearly parallel pairs
    were off by 1e-8 (q11 q22 - q12^2 lost to rounding).  Measured now: 5e-16."""
    worst = [0.0, 0.0, 0.0]
    for q in _closed_form_cases():
        got = kernel(*q)
        vals, scales = ref(*q)
        for i in range(3):
            worst[i] = max(worst[i], _err(got[i], vals[i], scales[i]))
    assert max(worst) < TOL, (name, worst)


def test_blocked_relu_and_erf_sums_match_the_pair_kernels_at_any_scale():
    """The vectorised blocks (fastmath) split the norms the same way as the pair kernels:
    pair by pair (one column at a time) they agree to 1e-14 of the scales above, with
    rows and columns spread over norms 1e-150 ... 1e150 and parallel, antiparallel and
    zero neurons; the full row sums agree to 1e-13 of the sums of |terms|."""
    rng = np.random.default_rng(4)
    Wr = rng.normal(size=(24, 3)) * 10.0 ** rng.uniform(-150, 150, (24, 1))
    Wc = rng.normal(size=(18, 3)) * 10.0 ** rng.uniform(-150, 150, (18, 1))
    Wc[:4] = 2.0 * Wr[:4]
    Wc[4:7] = -Wr[4:7]
    Wr[9] = 0.0
    ac = rng.normal(size=18)
    qr, qc, Q = np.einsum("ij,ij->i", Wr, Wr), np.einsum("ij,ij->i", Wc, Wc), Wr @ Wc.T
    for name, kernel, ref in (("relu", relu_pair, relu_ref), ("erf", erf_pair, erf_ref)):
        act = get_activation(name)
        rows = np.array([[kernel(qr[i], qc[j], Q[i, j]) for j in range(Wc.shape[0])]
                         for i in range(Wr.shape[0])])
        for j in range(Wc.shape[0]):
            Fa, F1, G = pair_sums(act.kind, act.p, act.kind, act.p, Wr, Wc[j:j + 1], ac[j:j + 1],
                                  QUAD, True)
            k = np.argmax(np.abs(Wc[j]))
            for i in range(Wr.shape[0]):
                if qr[i] == 0.0:
                    continue
                _, scales = ref(qr[i], qc[j], Q[i, j])
                got = (Fa[i] / ac[j], F1[i] / ac[j], G[i, k] / (ac[j] * Wc[j, k]))
                for g, want, sc in zip(got, rows[i, j], scales):
                    assert _err(g, mp.mpf(want), sc) < 1e-14, (name, i, j)
        Fa, F1, G = pair_sums(act.kind, act.p, act.kind, act.p, Wr, Wc, ac, QUAD, True)
        assert np.all(np.isfinite(Fa)) and np.all(np.isfinite(F1)) and np.all(np.isfinite(G))
        for got, terms in ((Fa, ac * rows[:, :, 0]), (F1, ac * rows[:, :, 1])):
            assert np.all(np.abs(got - terms.sum(1)) <= 1e-13 * np.abs(terms).sum(1))


# --- piecewise-linear pairs ------------------------------------------------------

def _desc(name):
    """``(c, [(t, jump)], homogeneous)`` of sigma = c + sum jump (u - t)_+."""
    if name == "relu":
        return mp.mpf(0), [(mp.mpf(0), mp.mpf(1))], True
    s1, s2, t1, t2 = (mp.mpf(x) for x in RAMP)
    sl = (s2 - s1) / (t2 - t1)
    return s1, [(t1, sl), (t2, -sl)], False


def _value(d, x):
    """sigma(x) segment by segment, bounded segments clipped (the sum over kinks of
    jump (x - t)_+ cancels for |x| much larger than the kinks)."""
    c, ks, _ = d
    v, sl = c, 0
    for k, (t, j) in enumerate(ks):
        sl += j
        v += sl * (min(max(x - t, 0), ks[k + 1][0] - t) if k + 1 < len(ks) else max(x - t, 0))
    return v


def _slope(d, x):
    return sum(j for t, j in d[1] if x > t)


def _pdf(x):
    return mp.npdf(x) if abs(x) < _BIG else mp.mpf(0)


def _cdf(x):
    return mp.ncdf(x) if abs(x) < _BIG else mp.mpf(1 if x > 0 else 0)


def _psi(x):  # E (Z + x)_+
    if abs(x) >= _BIG:
        return max(x, mp.mpf(0))
    return mp.npdf(x) + x * mp.ncdf(x)


def _log10(x):
    return max(0.0, float(mp.log10(x))) if x > 0 else 0.0


class _Conditional:
    """``(E g(g2) | z1 = z, E g'(g2) | z1 = z) / scale`` with ``g2 | z1 ~ N(ms z, sc^2)``.

    A ReLU is homogeneous, so it is evaluated at unit norm (``scale = s2``): mp.quad's
    error test is absolute and would stop early on values of size 1e-150.  The
    ramp's mean is a difference of two tails of size sc; it gets the digits that
    cancel, up to ``sc = 1e20``; beyond, its limit, a step smoothed by
    ``Phi((mu - (t1 + t2) / 2) / sc)``, which is exact to O(1 / sc)."""

    def __init__(self, d, ms, sc, s2):
        self.d = d
        self.scale = s2 if d[2] else mp.mpf(1)
        self.ms, self.sc = ms / self.scale, sc / self.scale
        self.limit = not d[2] and sc > mp.mpf(10) ** 20
        self.extra = 5 + (0 if (self.limit or d[2]) else _log10(sc))
        self.cache = {}

    def __call__(self, z):
        if z in self.cache:
            return self.cache[z]
        mu = self.ms * z
        c, ks, _ = self.d
        if self.sc == 0:
            out = _value(self.d, mu), _slope(self.d, mu)
        elif self.limit:
            (t1, j), (t2, _) = ks
            x = (mu - (t1 + t2) / 2) / self.sc
            out = c + j * (t2 - t1) * _cdf(x), j * (t2 - t1) / self.sc * _pdf(x)
        else:
            with mp.extradps(int(self.extra)):
                v, dv = c, mp.mpf(0)
                for t, j in ks:
                    x = (mu - t) / self.sc
                    v += j * self.sc * _psi(x)
                    dv += j * _cdf(x)
                out = +v, +dv
        self.cache[z] = out
        return out


def pl_ref(r, c, q11, q22, q12):
    """(F, F1, F12) of two piecewise-linear activations: ``mp.quad`` over z1 of
    ``f(s1 z1) E[g(g2) | z1]`` cut at f's kinks and around g's (conditional) kinks."""
    with mp.workdps(DIGITS):
        q11, q22, q12, s1, s2, rho, rr, _ = _exact(q11, q22, q12)
        dr, dc = _desc(r), _desc(c)
        cond = _Conditional(dc, rho * s2, s2 * rr, s2)
        fs = s1 if dr[2] else mp.mpf(1)  # f(s1 z) / fs is O(1)
        kinks = [t / s1 for t, _ in dr[1]]
        pts = list(kinks)
        if rho != 0:
            w = rr / abs(rho)
            for u, _ in dc[1]:
                z0 = u / (rho * s2)
                pts.append(z0)
                if 0 < w < 0.05:  # the conditional mean bends within w of z0
                    pts += [z0 + k * w for k in (-30, -8, -2, 2, 8, 30)]
        pts = sorted({p for p in pts if abs(p) < _BIG})
        F = mp.quad(lambda z: _value(dr, s1 * z) / fs * cond(z)[0] * _pdf(z),
                    [-mp.inf] + pts + [mp.inf]) * fs * cond.scale
        # f' lives on [t1, t2] / s1 (ramp) or z > 0 (ReLU)
        lo, hi = kinks[0], (kinks[-1] if len(kinks) > 1 else mp.inf)
        sup = [lo] + [p for p in pts if lo < p < hi] + [hi]
        F12 = mp.quad(lambda z: _slope(dr, s1 * z) * cond(z)[1] * _pdf(z),
                      [p for p in sup if abs(p) < _BIG or p == mp.inf]) if lo < _BIG else 0
        # F1: the point masses of f''; the ramp's two cancel to 1 / s1
        with mp.extradps(int(_log10(s1)) + 5):
            F1 = sum(j * _pdf(t / s1) * cond(t / s1)[0] for t, j in dr[1]) * cond.scale / (2 * s1)
        return F, +F1, F12


_MOMENTS = {}


def _moments(name, s):
    """``(E sigma(s Z)^2, E sigma'(s Z)^2)``."""
    if (name, s) not in _MOMENTS:
        with mp.workdps(DIGITS):
            d = _desc(name)
            sm = mp.mpf(s)
            if d[2]:
                e2 = sm * sm / 2
            else:
                pts = [t / sm for t, _ in d[1] if abs(t / sm) < _BIG]
                e2 = mp.quad(lambda z: _value(d, sm * z) ** 2 * _pdf(z), [-mp.inf] + pts + [mp.inf])
            with mp.extradps(int(_log10(sm)) + 5):  # the ramp's P(t1 < g < t2)
                e1 = sum(j0 * j1 * (1 - _cdf(max(t0, t1) / sm))
                         for t0, j0 in d[1] for t1, j1 in d[1])
            _MOMENTS[name, s] = (e2, +e1)
    return _MOMENTS[name, s]


def pl_scales(r, c, q11, q22):
    (a, a1), (b, b1) = _moments(r, math.sqrt(q11)), _moments(c, math.sqrt(q22))
    with mp.workdps(DIGITS):
        cs = mp.sqrt(a * b)
        return cs, cs / mp.mpf(q11), mp.sqrt(a1 * b1)


PL = [("ramp", "ramp"), ("relu", "ramp"), ("ramp", "relu")]
# (s1, s2, rho): tiny, unit, around the closed form's limit (kinks 1/8 apart), the
# integrator beyond it, extreme and mixed norms; exactly (anti)parallel and within
# 1e-12 of it.  A reference costs up to a second: -m slow runs a wider grid.
PL_CASES = [_q(*c) for c in (
    (1e-150, 3e-150, 0.5), (1.0, 3.0, 1 - 1e-12), (5.0, 9.0, -0.3), (30.0, 90.0, 0.5),
    (30.0, 90.0, 1 - 1e-12), (1e5, 3e5, -0.3), (1e150, 3e150, 0.5), (1e150, 3e150, 1.0),
    (1e150, 3e150, -1.0), (1e150, 3e150, 1 - 1e-12), (1e150, 3e150, -1 + 1e-12),
    (1e-150, 1e150, 0.5), (1e150, 1e-150, -1.0), (2.0, 1e150, 1 - 1e-12))]
PL_RHOS = (0.5, -0.3, 0.0, 1.0, -1.0, 1 - 1e-12, -1 + 1e-12, 1 - 1e-6, -1 + 1e-6)
PL_NORMS = (1e-150, 1e-3, 1.0, 6.0, 30.0, 1e5, 1e150)


def _pl_worst(r, c, cases):
    A, B = get_activation(r), get_activation(c)
    worst = [0.0, 0.0, 0.0]
    for q in cases:
        got = pl_pair(A.kind, A.p, B.kind, B.p, *q)
        vals, scales = pl_ref(r, c, *q), pl_scales(r, c, q[0], q[1])
        assert all(math.isfinite(g) for g in got), q
        for i in range(3):
            e = _err(got[i], vals[i], scales[i])
            assert e < TOL, (r, c, q, i, got, [float(v) for v in vals])
            worst[i] = max(worst[i], e)
    return worst


# ramp/ramp in the default suite (18 s); the two mixed pairs (10 s each) with -m slow
@pytest.mark.parametrize("r,c", [PL[0]] + [pytest.param(*p, marks=pytest.mark.slow)
                                           for p in PL[1:]], ids="/".join)
def test_piecewise_linear_from_1e_150_to_1e150(r, c):
    """Before: the ramp lost digits as norm^2 (4e-2 relative at norm 1e7, E ramp^2 = 64 >
    56.25 = max ramp^2 at 1e8), raised ZeroDivisionError (SystemError in a parallel
    loop) below 1e-82, and its F1, F12 at large norms were rounding noise.  Measured
    now: 2e-15."""
    _pl_worst(r, c, PL_CASES)


@pytest.mark.slow
@pytest.mark.parametrize("r,c", PL, ids="/".join)
def test_piecewise_linear_wide_grid(r, c):
    """Every pair of norms in PL_NORMS and every correlation in PL_RHOS (about 20 min)."""
    _pl_worst(r, c, [_q(s1, s2, rho) for s1, s2, rho in
                     itertools.product(PL_NORMS, PL_NORMS, PL_RHOS)])


def test_relu_pair_kernel_of_pl_pair_from_1e_150_to_1e150():
    A = get_activation("relu")
    for q in _closed_form_cases():
        got = pl_pair(A.kind, A.p, A.kind, A.p, *q)
        vals, scales = relu_ref(*q)
        assert max(_err(g, v, s) for g, v, s in zip(got, vals, scales)) < TOL, q


def test_ramp_self_kernel_stays_in_range_at_any_scale():
    """The issue's reproduction: E ramp(w x)^2 for x ~ N(0, 1) is between 6.25 and 56.25
    and tends to (6.25 + 56.25) / 2 as |w| grows; before, 64 at |w| = 1e8, 0 at 1e9,
    SystemError at 1e-82."""
    from meanfield.tasks import teacher_student

    task = teacher_student(1, activation="ramp", width=1)
    w = np.array([1e-150, 1e-82, 1e-3, 1.0, 1e3, 1e7, 1e8, 1e9, 1e77, 1e150])
    got = task.self_kernel(w[:, None])
    assert np.all((got >= 6.25) & (got <= 56.25))
    assert np.all(np.abs(got[w >= 1e77] - 31.25) <= 1e-12 * 31.25)
    assert np.all(got[:2] == 6.25)
    # E ramp(s Z)^2 - 31.25 = O(1/s): monotone towards the limit
    big = got[w >= 1e3]
    assert np.all(np.diff(big) >= -1e-12 * 31.25)


def test_gauss_mean_of_the_ramp_at_any_scale():
    """The one-dimensional mean ``E ramp(s Z) = c + sum_k j_k s psi(-t_k / s)`` and its
    q-derivative ``sum_k j_k phi(t_k / s) / (2 s)`` (two kink terms that cancel as s grows),
    errors relative to max|ramp| and max|ramp| / s^2."""
    act = get_activation("ramp")
    c, ks, _ = _desc("ramp")
    for s in (1e-150, 1e-3, 1.0, 30.0, 1e5, 1e77, 1e150):
        m, dm = gauss_mean(act.kind, act.p, s * s, QUAD)
        with mp.workdps(DIGITS + int(_log10(s)) + 5):
            sm = mp.mpf(s)
            ref = c + sum(j * sm * _psi(-t / sm) for t, j in ks)
            dref = sum(j * _pdf(t / sm) for t, j in ks) / (2 * sm)
            assert _err(m, ref, mp.mpf(7.5)) < TOL
            assert _err(dm, dref, 7.5 / sm ** 2) < TOL


# --- Genz's orthants ------------------------------------------------------------

def _orthant_ref(h, k, r):
    """Drezner & Wesolowsky's integral over the correlation, ``Q(h) Q(k) + (1 / 2 pi)
    int_0^asin(r) exp(-(h^2 + k^2 - 2 h k sin t) / (2 cos^2 t)) dt``, at 40 digits."""
    with mp.workdps(DIGITS):
        h, k, r = mp.mpf(h), mp.mpf(k), mp.mpf(r)

        def tail(x):
            return 1 - _cdf(x)

        if h > _BIG or k > _BIG:
            return mp.mpf(0)
        if h < -_BIG or k < -_BIG:
            return tail(k) if h < -_BIG else tail(h)  # the other one is sure
        if abs(r) == 1:
            return tail(max(h, k)) if r > 0 else max(mp.mpf(0), tail(h) - tail(-k))
        return tail(h) * tail(k) + mp.quad(
            lambda t: mp.exp(-(h * h + k * k - 2 * h * k * mp.sin(t)) / (2 * mp.cos(t) ** 2)),
            [0, mp.asin(r)]) / (2 * mp.pi)


def test_genz_orthants_with_huge_and_tiny_thresholds():
    """``P(Z1 > h, Z2 > k)`` for thresholds t / norm: up to 1e150 in size, where ``h k``
    and ``h^2`` overflowed, and correlations within 1e-12 of +-1.  Error relative to
    ``sqrt(P(Z1 > h) P(Z2 > k))``; measured 9e-16."""
    vals = (1e150, -1e150, 1e-150, -1e-150, 0.0, 0.7, -2.0, 5.0, 39.0, -45.0)
    worst = 0.0
    for h, k in itertools.product(vals, vals):
        for r in (0.5, -0.3, 0.95, -0.99, 1 - 1e-12, -1 + 1e-12, 1.0, -1.0):
            ref = _orthant_ref(h, k, r)
            with mp.workdps(DIGITS):
                cs = mp.sqrt((1 - _cdf(h)) * (1 - _cdf(k)))
            worst = max(worst, _err(bvn_upper(h, k, r), ref, cs))
    assert worst < TOL


# --- quadrature fallback ---------------------------------------------------------

def _erf_cond(mu, sd):
    """``(E erf(mu + sd Z), E erf'(mu + sd Z))``."""
    v = 1 + 2 * sd * sd
    return mp.erf(mu / mp.sqrt(v)), 2 / mp.sqrt(mp.pi) * mp.exp(-mu * mu / v) / mp.sqrt(v)


def quad_ref(r, q11, q22, q12):
    """(F, F1, F12) for ``r`` (relu, ramp) against erf, which has a closed-form
    conditional mean: one ``mp.quad`` over z1."""
    with mp.workdps(DIGITS):
        q11, q22, q12, s1, s2, rho, rr, _ = _exact(q11, q22, q12)
        d = _desc(r)
        fs = s1 if d[2] else mp.mpf(1)

        def cond(z):
            return _erf_cond(rho * s2 * z, s2 * rr)

        pts = [t / s1 for t, _ in d[1]]
        if rho != 0:
            w = mp.sqrt(1 + 2 * (s2 * rr) ** 2) / (abs(rho) * s2)  # width of erf's mean
            if w < 0.05:
                pts += [k * w for k in (-30, -8, -2, 0, 2, 8, 30)]
        pts = [-mp.inf] + sorted({p for p in pts if abs(p) < _BIG}) + [mp.inf]
        F = mp.quad(lambda z: _value(d, s1 * z) / fs * cond(z)[0] * _pdf(z), pts) * fs
        F12 = mp.quad(lambda z: _slope(d, s1 * z) * cond(z)[1] * _pdf(z), pts)
        with mp.extradps(int(_log10(s1)) + 5):
            F1 = sum(j * _pdf(t / s1) * cond(t / s1)[0] for t, j in d[1]) / (2 * s1)
        # Cauchy-Schwarz scales with E erf(g)^2 and E erf'(g)^2 in closed form
        e2, e1 = _moments(r, float(s1))
        cs = mp.sqrt(e2 * 2 / mp.pi * mp.asin(2 * q22 / (1 + 2 * q22)))
        return (F, +F1, F12), (cs, cs / q11, mp.sqrt(e1 * 4 / mp.pi / mp.sqrt(1 + 4 * q22)))


@pytest.mark.parametrize("r", ["relu", "ramp"])
def test_quadrature_keeps_its_accuracy_at_any_scale(r):
    """quad_pair (ReLU or ramp against erf, whose conditional mean is closed) from norm
    1e-150 to 1e150.  Quadrature is not exact: its bound here is 1e-9 (the default
    48-point rule).  Before: q12 / q11 overflowed, and a steep erf (norm >= 10) against
    a nearly parallel ReLU was 2.4e-5 off (one 24-point Legendre piece over
    [-10, 10] where the erf's transition fell outside it).  Measured now: 1e-11."""
    A, B = get_activation(r), get_activation("erf")
    worst = [0.0, 0.0, 0.0]
    for s1, s2 in ((1e-150, 1.0), (1.0, 1e3), (30.0, 1e150), (1e150, 1e-3), (1e150, 1e150)):
        for rho in (0.5, 1 - 1e-9, -0.99):
            q = _q(s1, s2, rho)
            got = quad_pair(A.kind, A.p, B.kind, B.p, *q, QUAD)
            vals, scales = quad_ref(r, *q)
            for i in range(3):
                worst[i] = max(worst[i], _err(got[i], vals[i], scales[i]))
    assert max(worst) < 1e-9, worst


# --- real limits -------------------------------------------------------------------

def test_a_norm_whose_square_overflows_is_refused():
    """Norms above ~1.3e154 square to inf: a ValueError that says so, not NaN or a
    SystemError from inside a parallel loop."""
    act = get_activation("ramp")
    W = np.array([[1e160, 0.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="not finite"):
        pair_sums(act.kind, act.p, act.kind, act.p, W, W, np.ones(2), QUAD, True)
    q = np.einsum("ij,ij->i", W, W)
    with pytest.raises(ValueError, match="not finite"):
        pair_diag(act.kind, act.p, q, QUAD, np.empty(2))
    F = np.empty((2, 2))
    with pytest.raises(ValueError, match="not finite"):
        pair_matrix(act.kind, act.p, act.kind, act.p, np.zeros((2, 2)), q, q, QUAD, F,
                    F.copy(), F.copy())
