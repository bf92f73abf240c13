"""Mehler's series of the piecewise-linear pair sums (ramp/ramp, ReLU with the ramp).

:func:`meanfield.kernels.gaussian.pair_sums` sums these pairs as ``sum_n rho^n c_n d_n``
with per-neuron Hermite coefficients where ``|rho| <= 0.5`` and both neurons are in the
closed form's regime (:func:`meanfield.kernels.piecewise.pl_series_ok`), and through
the closed form :func:`pl_pair` otherwise.  Stated accuracy: within 1e-15 of the
Cauchy-Schwarz scale of the exact kernel (mpmath, ``tests/test_kernel_scales.py``'s
reference; measured at most 3e-16) and, where the value is at least 1e-2 of its scale,
within 1e-14 of the value (measured 3e-15); hence within 5e-14 of the scale of
:func:`pl_pair` (whose own error, up to 3.4e-14 of the scale near |rho| = 0.3, is the
larger).
"""

import math

import numpy as np
import pytest

mp = pytest.importorskip("mpmath")

from meanfield.activations import get_activation  # noqa: E402
from meanfield.kernels.gaussian import pair_sums, pl_pair, quadrature_nodes  # noqa: E402
from meanfield.kernels.piecewise import (  # noqa: E402
    _SER_BINS,
    _SER_N,
    _SER_RHO,
    pl_series_ok,
    pl_series_pair,
)
from tests.test_kernel_scales import pl_ref, pl_scales  # noqa: E402

QUAD = quadrature_nodes(48)
PL = [("ramp", "ramp"), ("relu", "ramp"), ("ramp", "relu")]
SERIES_TOL = 1e-15  # of the Cauchy-Schwarz scale, against mpmath
CLOSED_TOL = 5e-14  # of the scale, against pl_pair


def _q(s1, s2, rho):
    return s1 * s1, s2 * s2, rho * s1 * s2


def _acts(r, c):
    A, B = get_activation(r), get_activation(c)
    return A.kind, A.p, B.kind, B.p


def test_truncation_meets_the_tail_bound():
    """N(rho) is the smallest N >= 2 with |rho|^N / (N (1 - |rho|)) <= 2^-60 at the
    upper end of its bin; beyond the series' range there are no bins."""
    assert len(_SER_N) == int(_SER_RHO * _SER_BINS) + 1
    for i, n in enumerate(_SER_N):
        r = min(_SER_RHO, (i + 1) / _SER_BINS)
        assert r ** n / (n * (1 - r)) <= 2.0 ** -60
        assert n == 2 or r ** (n - 1) / ((n - 1) * (1 - r)) > 2.0 ** -60
    assert np.all(np.diff(_SER_N) >= 0)


# (s1, s2, rho): kinks 1/8 apart (norm 7.9), kinks far out (norm 0.06: 8.3 and 25
# standard deviations), |rho| at the series' limit and on a bin edge, rho = 0, mixed norms
SERIES_CASES = [
    ("ramp", "ramp", (7.9, 7.9, 0.5)), ("ramp", "ramp", (7.9, 0.06, -0.5)),
    ("ramp", "ramp", (0.06, 0.06, -0.45)), ("ramp", "ramp", (0.06, 0.06, 0.45)),
    ("ramp", "ramp", (1.0, 3.0, 0.296875)), ("ramp", "ramp", (0.4, 1.2, -0.2)),
    ("ramp", "ramp", (0.4, 1.2, 0.0)), ("ramp", "ramp", (1.2, 0.4, 0.15)),
    ("ramp", "ramp", (0.6, 5.0, 0.49)), ("relu", "ramp", (1.0, 0.4, 0.3)),
    ("relu", "ramp", (1e-3, 7.0, -0.5)), ("relu", "ramp", (100.0, 0.05, 0.4)),
    ("ramp", "relu", (3.0, 1e3, -0.35)), ("ramp", "relu", (0.05, 1.0, 0.5)),
]


@pytest.mark.parametrize("r,c,geom", SERIES_CASES,
                         ids=[f"{r}/{c}-{g}" for r, c, g in SERIES_CASES])
def test_series_equals_mpmath(r, c, geom):
    q = _q(*geom)
    args = _acts(r, c)
    assert pl_series_ok(args[0], args[1], q[0]) and pl_series_ok(args[2], args[3], q[1])
    got = pl_series_pair(*args, *q)
    vals, scales = pl_ref(r, c, *q), pl_scales(r, c, q[0], q[1])
    for g, v, s in zip(got, vals, scales):
        err = abs(mp.mpf(float(g)) - v)
        assert err <= SERIES_TOL * s, (r, c, geom, float(err / s))
        # and to 1e-14 of the value where that is at least 1e-2 of its scale (below, in
        # the tails, like the closed form only to the scale: 1.6e-9 of a value 2e-9 of it)
        if abs(v) >= 1e-2 * s:
            assert err <= 1e-14 * abs(v), (r, c, geom, float(err / abs(v)))


@pytest.mark.parametrize("r,c", PL)
def test_series_equals_the_closed_form_on_random_pairs(r, c):
    """Norms 0.02 ... 8 (the closed form's regime and beyond it on both sides),
    |rho| <= 0.55: where the series applies it agrees with pl_pair to CLOSED_TOL of the
    scale; elsewhere pl_series_pair is pl_pair bit for bit."""
    args = _acts(r, c)
    rng = np.random.default_rng(2024)
    used = 0
    for _ in range(1500):
        s1, s2 = np.exp(rng.uniform(math.log(0.01), math.log(12.0), 2))
        q = _q(s1, s2, rng.uniform(-0.55, 0.55))
        want = pl_pair(*args, *q)
        got = pl_series_pair(*args, *q)
        ok = (pl_series_ok(args[0], args[1], q[0]) and pl_series_ok(args[2], args[3], q[1])
              and abs(q[2] / math.sqrt(q[0]) / math.sqrt(q[1])) <= _SER_RHO)
        if not ok:
            assert got == want
            continue
        used += 1
        dr = pl_pair(args[0], args[1], args[0], args[1], q[0], q[0], q[0])
        dc = pl_pair(args[2], args[3], args[2], args[3], q[1], q[1], q[1])
        cs = math.sqrt(dr[0]) * math.sqrt(dc[0])
        for g, w, s in zip(got, want, (cs, cs / q[0], math.sqrt(dr[2]) * math.sqrt(dc[2]))):
            assert abs(g - w) <= CLOSED_TOL * s, (r, c, q, g, w)
    assert used > 500


def _dyadic(v, bits=10):
    m, e = np.frexp(np.asarray(v, dtype=np.float64))
    return np.ldexp(np.round(np.ldexp(m, bits)), e - bits)


@pytest.mark.parametrize("r,c", PL)
def test_pair_sums_route_each_pair(r, c):
    """pair_sums, one column at a time, equals pl_series_pair bit for bit: the series for
    eligible pairs, pl_pair for the rest (parallel and antiparallel pairs, |rho| > 0.5,
    a zero neuron, norms 20 and 1e-3 outside the series' regime)."""
    A, B = get_activation(r), get_activation(c)
    rng = np.random.default_rng(7)
    Wr = _dyadic(rng.normal(size=(12, 5)) * 0.4)
    Wc = _dyadic(rng.normal(size=(10, 5)) * 0.4)
    Wc[0] = Wr[0]
    Wc[1] = -2.0 * Wr[1]
    Wc[2] = _dyadic(Wr[2] + 0.25 * Wc[2])  # |rho| near 1
    Wr[3] = 0.0
    Wr[4] *= 64.0
    Wc[5] *= 2.0 ** -10
    assert np.all(Wr @ Wc.T == _dyadic(Wr @ Wc.T, 40))  # exact Gram entries
    kinds = (A.kind, A.p, B.kind, B.p)
    series = 0
    for j in range(Wc.shape[0]):
        Fa, F1, G = pair_sums(*kinds, Wr, Wc[j:j + 1], np.ones(1), QUAD, True)
        for i in range(Wr.shape[0]):
            q = (Wr[i] @ Wr[i], Wc[j] @ Wc[j], Wr[i] @ Wc[j])
            want = pl_series_pair(*kinds, *q)
            series += want != pl_pair(*kinds, *q)
            assert (Fa[i], F1[i]) == want[:2], (i, j)
            np.testing.assert_allclose(G[i], want[2] * Wc[j], rtol=1e-15, atol=0.0)
    assert series > 40
