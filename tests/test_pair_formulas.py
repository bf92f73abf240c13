"""One table of pair-kernel cases, run against both implementations of the formulas.

The Gaussian population kernels ``F = E_x[f(w.x) g(w'.x)]`` (x standard normal),
``F1 = dF/dq11`` and ``F12 = dF/dq12`` (``q11 = |w|^2``, ``q22 = |w'|^2``,
``q12 = w.w'``) are written twice: with numba
(:func:`meanfield.kernels.gaussian.pair_sums`, over ``meanfield.kernels``'
closed_forms, bvn and piecewise) and with torch
(:class:`meanfield.torch.pairs.DevicePairSums`).  Both are called here through their
public entry point with the same ``(w, w')`` and ``a = [1]``, so ``Fa = F``,
``F1 = F1`` and ``G = F12 w'``, and each is compared with a reference that shares
no code with either:

* ReLU/ReLU: the arc-cosine kernels of Cho & Saul (2009), ``F = |w||w'| (sin t +
  (pi - t) cos t) / (2 pi)`` and ``F12 = (pi - t) / (2 pi)`` (orders 1 and 0, t the
  angle), ``F1 = |w'| sin t / (4 pi |w|)`` (Price's theorem:
  ``F1 = E[f''(g1) g(g2)] / 2``);
* erf/erf: Williams (1997), ``F = (2/pi) asin(2 q12 / sqrt((1 + 2 q11)(1 + 2 q22)))``,
  its derivatives by ``mp.diff``;
* the ramp (alone or with ReLU): ``mp.quad`` over ``z1`` of ``f(s1 z1)`` times the
  conditional mean of ``g(g2)`` given ``z1`` (textbook ``E (mu + s Z - t)_+``), F12
  the same with the slopes, F1 by Price's theorem at f's kinks.  The same quadrature
  reproduces Cho & Saul for ReLU/ReLU (checked below), which ties it to a closed form.

The torch entry point hands a ramp neuron to the numba function where its own closed
form does not apply (kinks closer than 1/8 of the norm, above norm 8, or none within 40
standard deviations, below norm 1/80: ``meanfield.torch.pairs._on_host``), so its
``-huge``, ``-tiny`` and ``norms-9`` ramp cases check that routing; the others
(norms 0.6 to 7) run its torch formulas.

Every vector has dyadic components of few significant bits, scaled by powers of two, so
every Gram entry is exact in float64 (asserted): the references are
the kernels at exactly the q's both backends see, and nearly parallel pairs (angle
``2^-20 ~ 1e-6`` rad), where F1 and F12 depend on ``q11 q22 - q12^2`` to all its digits,
test the formulas and not the rounding of a dot product.

Tolerance: ``|got - ref| <= RTOL |ref| + ATOL scale``, the scale being the Cauchy-Schwarz
bound of ``tests/test_kernel_scales.py``: ``sqrt(E f(g1)^2 E g(g2)^2)`` for F, that over
q11 for F1, ``sqrt(E f'(g1)^2 E g'(g2)^2)`` for F12.  The ATOL part (some 50 ulps of the
scale) only matters where the value cancels far below its scale, as documented for the
kernels: a ReLU pair near antiparallel (F ~ (pi - angle)^3 / 3, 1e-19 of the scale at
1e-6 rad; F12 ~ pi - angle), the ramp's F1 at norm 5 (its two kinks' terms cancel to
1e-3).  Elsewhere the value itself must be right to RTOL: F1 of a nearly parallel ReLU
pair (1.5e-7 of its scale) from a plain float64 ``q11 q22 - q12^2`` is off by 1.5e-6 of
itself and fails.  Measured on the CPU, both backends: at most an eighth of the
tolerance (2e-14 of the value, 3e-15 of the scale).  ``RTOL, ATOL`` on the CPU (numba,
torch float64), ten times those for torch on a GPU, whose exp and erfc (libdevice) round
apart from the host's by an ulp or two.
The torch cases run on ``--torch-device`` / ``MEANFIELD_TEST_DEVICE`` (the CPU by
default) and skip without torch.
"""

import functools
import math

import numpy as np
import pytest

mp = pytest.importorskip("mpmath")

from meanfield.activations import get_activation  # noqa: E402
from meanfield.kernels.gaussian import pair_sums, quadrature_nodes  # noqa: E402

RTOL, ATOL = 1e-13, 1e-14
DIGITS = 30
QUAD = quadrature_nodes(48)  # unused by the closed forms; part of the signature
_BIG = 60  # beyond 60 standard deviations a normal density is below 1e-780


def _dyadic(v, bits=12):
    """``v`` rounded to ``bits`` significant bits (exact products and sums below)."""
    m, e = np.frexp(np.asarray(v, dtype=np.float64))
    return np.ldexp(np.round(np.ldexp(m, bits)), e - bits)


def _geometries():
    """``{name: (w, w')}``: exact float64 vectors in R^3."""
    rng = np.random.default_rng(20240519)
    u = np.array([0.75, -0.5, 1.25])
    e1, e2 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    eps = 2.0 ** -20  # the angle of (1, eps, 0) with e1: 9.5e-7 rad
    # each q of (a e1, b (e1 + eps e2)) fits in 53 bits, but |w|^2 |w'|^2 needs 64: a kernel
    # that forms q11 q22 - q12^2 in plain float64 loses 1e-3 of it (and of F1, F12)
    a, b = 643.0 / 1024.0, 1.25
    tiny, huge = 2.0 ** -27, 2.0 ** 27  # 7.5e-9 and 1.3e8
    out = {
        "equal": (u, u.copy()),
        "parallel-x2": (u, 2.0 * u),
        "antiparallel": (u, -u),
        "antiparallel-x0.5": (u, -0.5 * u),
        "orthogonal": (np.array([1.0, 0.5, 0.0]), np.array([-0.5, 1.0, 0.75])),
        "near-parallel-1e-6rad": (a * e1, b * (e1 + eps * e2)),
        # kinks at the same place in units of the norms: the orthant terms' arguments
        # (a - rho b) / sqrt(1 - rho^2) stay O(1) and need rho and 1 - rho^2 consistent
        "near-parallel-1e-6rad-same-norm": (b * e1, b * (e1 + eps * e2)),
        "near-antiparallel-1e-6rad": (a * e1, b * (-e1 + eps * e2)),
        "near-parallel-1e-6rad-huge": (huge * a * e1, huge * b * (e1 + eps * e2)),
        "near-antiparallel-1e-6rad-tiny": (tiny * a * e1, tiny * b * (-e1 + eps * e2)),
        "equal-tiny": (tiny * u, tiny * u),
        "equal-huge": (huge * u, huge * u),
    }
    randoms = (("random", 1.0, 1.0), ("random-tiny", tiny, tiny), ("random-huge", huge, huge),
               ("random-tiny-huge", tiny, huge), ("random-huge-tiny", huge, tiny),
               ("random-norms-9-0.5", 20.0, 0.5), ("random-norms-5-4", 4.0, 8.0))
    for name, scale_r, scale_c in randoms:
        w, wp = (_dyadic(rng.normal(size=3) / math.sqrt(3.0)) for _ in range(2))
        out[name] = (scale_r * w, scale_c * wp)
    return out


GEOMETRIES = _geometries()
PAIRS = [("relu", "relu"), ("erf", "erf"), ("ramp", "ramp"), ("relu", "ramp"), ("ramp", "relu")]


def _exact_q(name):
    """mpmath ``(q11, q22, q12, det)`` of a geometry, equal to the float64 Gram entries
    (asserted: the inputs are dyadic)."""
    w, wp = GEOMETRIES[name]
    q11, q22, q12 = (mp.fsum(mp.mpf(float(x)) * mp.mpf(float(y)) for x, y in zip(a, b))
                     for a, b in ((w, w), (wp, wp), (w, wp)))
    assert (q11, q22, q12) == (w @ w, wp @ wp, w @ wp), f"{name}: Gram not exact"
    return q11, q22, q12, q11 * q22 - q12 * q12


# --- references ------------------------------------------------------------------

def relu_ref(q11, q22, q12, det):
    """Cho & Saul's arc-cosine kernels; ``t = atan2(sqrt(det), q12)`` keeps the angle of
    nearly parallel pairs."""
    s1, s2, s = mp.sqrt(q11), mp.sqrt(q22), mp.sqrt(det)
    t = mp.atan2(s, q12)
    sin, cos = s / (s1 * s2), q12 / (s1 * s2)  # exact where sin(t) leaves 1e-DIGITS
    F = s1 * s2 * (sin + (mp.pi - t) * cos) / (2 * mp.pi)
    cs = s1 * s2 / 2  # E relu(g)^2 = q / 2
    return (F, s2 * sin / (4 * mp.pi * s1), (mp.pi - t) / (2 * mp.pi)), \
        (cs, cs / q11, mp.mpf(1) / 2)


def _williams(q11, q22, q12):
    return 2 / mp.pi * mp.asin(2 * q12 / mp.sqrt((1 + 2 * q11) * (1 + 2 * q22)))


def erf_ref(q11, q22, q12, det):
    """Williams' arcsine kernel, differentiated numerically (steps relative to each q)."""
    F = _williams(q11, q22, q12)
    with mp.extradps(DIGITS):  # finite differences of a function of q's up to 2^54
        F1 = mp.diff(lambda x: _williams(x, q22, q12), q11, relative=True)
        F12 = mp.diff(lambda x: _williams(q11, q22, x), q12, relative=q12 != 0)
    # E erf(g)^2 = (2/pi) asin(2q / (1 + 2q)), E erf'(g)^2 = (4/pi) / sqrt(1 + 4q)
    e1, e2 = (_williams(q, q, q) for q in (q11, q22))
    d1, d2 = (4 / mp.pi / mp.sqrt(1 + 4 * q) for q in (q11, q22))
    cs = mp.sqrt(e1 * e2)
    return (F, F1, F12), (cs, cs / q11, mp.sqrt(d1 * d2))


def _desc(name):
    """``(c, [(t, jump)])`` of ``sigma = c + sum jump (u - t)_+``, from the activation's
    parameters (the ramp: s1 below t1, s2 above t2, linear between)."""
    if name == "relu":
        return mp.mpf(0), [(mp.mpf(0), mp.mpf(1))]
    lo, hi, t1, t2 = (mp.mpf(float(x)) for x in get_activation(name).params)
    sl = (hi - lo) / (t2 - t1)
    return lo, [(t1, sl), (t2, -sl)]


def _value(d, x):
    c, ks = d
    return c + sum(j * max(x - t, 0) for t, j in ks)


def _slope(d, x):
    return sum(j for t, j in d[1] if x > t)


def _pdf(x):
    return mp.npdf(x) if abs(x) < _BIG else mp.mpf(0)


def _cdf(x):
    return mp.ncdf(x) if abs(x) < _BIG else mp.mpf(1 if x > 0 else 0)


def _cond(d, mu, s):
    """``(E sigma(mu + s Z), E sigma'(mu + s Z))``, ``s >= 0``."""
    if s == 0:
        return _value(d, mu), _slope(d, mu)
    c, ks = d
    v, dv = c, mp.mpf(0)
    for t, j in ks:
        x = (mu - t) / s
        v += j * (s * _pdf(x) + (mu - t) * _cdf(x))
        dv += j * _cdf(x)
    return v, dv


def pl_ref(r, c, q11, q22, q12, det):
    """Piecewise-linear pair by one-dimensional quadrature: ``g1 = s1 z``,
    ``g2 | z ~ N(rho s2 z, s2^2 (1 - rho^2))``; cut at f's kinks and around g's
    conditional kinks (of width ``sqrt(1 - rho^2) / |rho|`` in z)."""
    dr, dc = _desc(r), _desc(c)
    s1, s2 = mp.sqrt(q11), mp.sqrt(q22)
    rho, rr = q12 / (s1 * s2), mp.sqrt(det / (q11 * q22))
    ms, sc = rho * s2, rr * s2
    pts = [t / s1 for t, _ in dr[1]]
    if rho != 0:
        w = rr / abs(rho)
        for u, _ in dc[1]:
            z0 = u / ms
            pts.append(z0)
            if 0 < w < 0.05:
                pts += [z0 + k * w for k in (-30, -8, -2, 2, 8, 30)]
    pts = sorted({p for p in pts if abs(p) < _BIG})
    cuts = [-_BIG] + pts + [_BIG]
    F = mp.quad(lambda z: _value(dr, s1 * z) * _cond(dc, ms * z, sc)[0] * _pdf(z), cuts)
    # f' vanishes left of the first kink and, for the ramp, right of the last
    lo = max(dr[1][0][0] / s1, -_BIG)
    hi = min(dr[1][-1][0] / s1, _BIG) if len(dr[1]) > 1 else _BIG
    sup = [lo] + [p for p in cuts if lo < p < hi] + [hi]
    F12 = mp.quad(lambda z: _slope(dr, s1 * z) * _cond(dc, ms * z, sc)[1] * _pdf(z),
                  sup) if lo < hi else mp.mpf(0)
    F1 = sum(j * _pdf(t / s1) * _cond(dc, ms * t / s1, sc)[0] for t, j in dr[1]) / (2 * s1)
    (a, a1), (b, b1) = _moments(r, q11), _moments(c, q22)
    cs = mp.sqrt(a * b)
    return (F, F1, F12), (cs, cs / q11, mp.sqrt(a1 * b1))


@functools.lru_cache(maxsize=None)
def _moments(name, q):
    """``(E sigma(g)^2, E sigma'(g)^2)`` for ``g ~ N(0, q)``: the Cauchy-Schwarz scales."""
    d, s = _desc(name), mp.sqrt(q)
    cut = [-_BIG] + sorted(t / s for t, _ in d[1] if abs(t / s) < _BIG) + [_BIG]
    return (mp.quad(lambda z: _value(d, s * z) ** 2 * _pdf(z), cut),
            mp.quad(lambda z: _slope(d, s * z) ** 2 * _pdf(z), cut))


@functools.lru_cache(maxsize=None)
def reference(r, c, geometry, method="auto"):
    """``((F, F1, F12), (scale_F, scale_F1, scale_F12))`` as mpmath numbers."""
    with mp.workdps(DIGITS):
        q = _exact_q(geometry)
        if method == "auto" and r == c == "relu":
            return relu_ref(*q)
        if method == "auto" and r == c == "erf":
            return erf_ref(*q)
        return pl_ref(r, c, *q)


# --- the two backends ------------------------------------------------------------

def _numba(A, B, w, wp, request):
    return pair_sums(A.kind, A.p, B.kind, B.p, w[None], wp[None], np.ones(1), QUAD, True)


def _torch(A, B, w, wp, request):
    device = request.getfixturevalue("torch_device")  # skips without torch
    from meanfield.torch.pairs import DevicePairSums

    return DevicePairSums(device)(A.kind, A.p, B.kind, B.p, w[None], wp[None], np.ones(1),
                                  QUAD, True)


BACKENDS = {"numba": _numba, "torch": _torch}


def _errs(got, ref, scale):
    """``(|got - ref| / |ref|, |got - ref| / scale)`` (inf where the denominator is 0)."""
    e = abs(mp.mpf(float(got)) - ref)
    return tuple(float(e / d) if d else (0.0 if e == 0 else math.inf) for d in (abs(ref), scale))


CASES = [pytest.param(r, c, g, id=f"{r}/{c}-{g}") for r, c in PAIRS for g in GEOMETRIES]


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("r,c,geometry", CASES)
def test_pair_kernel_equals_reference(r, c, geometry, backend, request):
    A, B = get_activation(r), get_activation(c)
    w, wp = GEOMETRIES[geometry]
    Fa, F1, G = BACKENDS[backend](A, B, w, wp, request)
    k = int(np.argmax(np.abs(wp)))
    got = (Fa[0], F1[0], G[0, k] / wp[k])  # G = F12 w': F12 within an ulp or two
    assert np.allclose(G[0], got[2] * wp, rtol=1e-15, atol=0.0)
    vals, scales = reference(r, c, geometry)
    rtol, atol = RTOL, ATOL
    if backend == "torch" and request.getfixturevalue("torch_device").type != "cpu":
        rtol, atol = 10 * RTOL, 10 * ATOL
    ok = [abs(mp.mpf(float(g)) - v) <= rtol * abs(v) + atol * s
          for g, v, s in zip(got, vals, scales)]
    errs = [_errs(g, v, s) for g, v, s in zip(got, vals, scales)]
    assert all(ok), (
        f"{backend} {r}/{c} {geometry}: (F, F1, F12) within tolerance {ok}; errors "
        f"(relative to the value, to the scale) {errs}; got {list(map(float, got))}, "
        f"reference {[mp.nstr(v, 17) for v in vals]}")


@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_quadrature_reference_reproduces_cho_saul(geometry):
    """The ramp's reference machinery on ReLU/ReLU equals the arc-cosine closed form."""
    quad_vals, quad_scales = reference("relu", "relu", geometry, "quadrature")
    cs_vals, cs_scales = reference("relu", "relu", geometry)
    for q, v, s in zip(quad_vals, cs_vals, cs_scales):
        assert abs(q - v) <= mp.mpf(10) ** -20 * max(abs(v), s)
    for q, s in zip(quad_scales, cs_scales):
        assert abs(q - s) <= mp.mpf(10) ** -20 * s
