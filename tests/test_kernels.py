"""Pair kernels: closed forms, quadrature accuracy, Price derivatives."""

import numpy as np
import pytest

from meanfield.activations import get_activation
from meanfield.kernels.gaussian import (angle, bvn_upper, erf_pair, pair, pair_quadratic,
                                        pair_sums, pair_sums_self, pl_pair, quad_pair,
                                        quadrature_nodes, relu_pair)
from tests.conftest import ACTIVATIONS

QUAD = quadrature_nodes(48)


def _cases(rng, n=120):
    out = []
    for i in range(n):
        A = rng.standard_normal((2, 4)) * rng.uniform(0.1, 2.5)
        if i % 5 == 0:
            A[1] = A[0] * rng.uniform(0.3, 2.0)     # repeated direction
        elif i % 5 == 1:
            A[1] = -A[0]
        elif i % 5 == 2:
            A[1] = A[0] + 1e-5 * rng.standard_normal(4)
        out.append((A[0] @ A[0], A[1] @ A[1], A[0] @ A[1]))
    return out


def test_angle_matches_arctan2_to_round_off(rng):
    s = np.abs(rng.standard_normal(20000)) * 10.0 ** rng.uniform(-8, 3, 20000)
    c = rng.standard_normal(20000) * 10.0 ** rng.uniform(-8, 3, 20000)
    s[:5] = 0.0
    c[5:10] = 0.0
    got = np.array([angle(a, b) for a, b in zip(s, c)])
    np.testing.assert_allclose(got, np.arctan2(s, c), rtol=0, atol=5e-16)


def test_relu_closed_form_is_the_arc_cosine_kernel(rng):
    for q11, q22, q12 in _cases(rng, 40):
        c = np.clip(q12 / np.sqrt(q11 * q22), -1, 1)
        phi = np.arccos(c)
        ref = np.sqrt(q11 * q22) * (np.sin(phi) + (np.pi - phi) * c) / (2 * np.pi)
        assert relu_pair(q11, q22, q12)[0] == pytest.approx(ref, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name,closed", [("relu", relu_pair), ("erf", erf_pair)])
def test_quadrature_agrees_with_closed_forms(name, closed, rng):
    act = get_activation(name)
    worst = 0.0
    for q11, q22, q12 in _cases(rng):
        got = np.array(quad_pair(act.kind, act.p, act.kind, act.p, q11, q22, q12, QUAD))
        ref = np.array(closed(q11, q22, q12))
        worst = max(worst, np.abs(got - ref).max() / max(1.0, np.abs(ref).max()))
    # measured: 1.7e-7 (nearly parallel kinked pairs), ~1e-9 elsewhere; see QUAD_ORDER
    assert worst < 5e-7


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_price_derivatives_match_finite_differences(name, rng):
    act = get_activation(name)
    other = get_activation("tanh")
    # Checks Price's formulas, so a high-order rule keeps quadrature noise
    # (~1e-13) far below the 4th-order differences' truncation error (~h^4).
    quad = quadrature_nodes(64, 40)
    h = 1e-3

    def d(f, x):
        return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)

    for k2 in (act, other):
        for q11, q22, q12 in _cases(rng, 15)[3::5] + _cases(rng, 15)[4::5]:
            def F(a, b, c):
                return quad_pair(act.kind, act.p, k2.kind, k2.p, a, b, c, quad)[0]
            _, F1, F12 = quad_pair(act.kind, act.p, k2.kind, k2.p, q11, q22, q12, quad)
            fd1 = d(lambda x: F(x, q22, q12), q11)
            fd12 = d(lambda x: F(q11, q22, x), q12)
            assert F1 == pytest.approx(fd1, rel=1e-5, abs=1e-6)
            assert F12 == pytest.approx(fd12, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_quadrature_against_monte_carlo(name, rng):
    act = get_activation(name)
    C = np.array([[1.3, 0.6], [0.6, 0.8]])
    g = rng.standard_normal((10 ** 6, 2)) @ np.linalg.cholesky(C).T
    prod = act(g[:, 0]) * act(g[:, 1])
    F = quad_pair(act.kind, act.p, act.kind, act.p, C[0, 0], C[1, 1], C[0, 1], QUAD)[0]
    se = prod.std() / 1e3
    assert abs(F - prod.mean()) < 5 * se


def test_bivariate_orthant_matches_owens_t(rng):
    """Genz's algorithm against P(Z1 > h, Z2 > k) through Owen's T (scipy), including
    correlations within 1e-12 of +-1, where the algorithm switches to its expansion."""
    from scipy.special import ndtr, owens_t

    def upper(h, k, r):  # Phi_2(-h, -k; r), Owen (1956) eq. (2.1) with the beta term
        h, k = -h, -k
        s = np.sqrt(1 - r * r)
        beta = 0.0 if h * k > 0 else 0.5
        return (0.5 * ndtr(h) + 0.5 * ndtr(k) - owens_t(h, (k - r * h) / (h * s))
                - owens_t(k, (h - r * k) / (k * s)) - beta)

    worst = 0.0
    for i in range(6000):
        h, k = rng.normal(0, 2, 2)
        r = rng.uniform(-1, 1)
        if i % 3 == 0:
            r = np.sign(r) * (1 - 10 ** rng.uniform(-12, -1))
        worst = max(worst, abs(bvn_upper(h, k, r) - upper(h, k, r)))
    assert worst < 2e-15  # measured 3.3e-16
    assert bvn_upper(0.3, -0.2, 1.0) == pytest.approx(1 - ndtr(0.3), abs=1e-15)
    assert bvn_upper(0.3, -0.2, -1.0) == 0.0
    assert bvn_upper(-0.3, -0.2, -1.0) == pytest.approx(ndtr(0.3) - ndtr(-0.2), abs=1e-15)
    assert bvn_upper(np.inf, 0.0, 0.5) == 0.0
    assert bvn_upper(-np.inf, 0.4, 0.5) == pytest.approx(1 - ndtr(0.4), abs=1e-16)


PL_PAIRS = [("ramp", "ramp"), ("ramp", "relu"), ("relu", "ramp"), ("relu", "relu")]


@pytest.mark.parametrize("r,c", PL_PAIRS)
def test_piecewise_linear_closed_form_matches_quadrature(r, c, rng):
    """pl_pair against the arc-cosine kernel (ReLU/ReLU) and otherwise quad_pair with a
    high-order rule, on generic, parallel,
    antiparallel and zero neurons, and on nearly parallel ones, where the kinks make
    quadrature's integrand steep (its error is then ~1e-9)."""
    ar, ac = get_activation(r), get_activation(c)
    quad = quadrature_nodes(160, 96)
    cases = [(3.0 * a, 3.0 * b, 3.0 * q) for a, b, q in _cases(rng, 200)]
    cases += [(0.0, 1.7, 0.0), (2.2, 0.0, 0.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0),
              (2.25, 2.25, -2.25), (0.25, 0.25, 0.25)]
    worst = [0.0, 0.0]
    for i, q in enumerate(cases):
        got = np.array(pl_pair(ar.kind, ar.p, ac.kind, ac.p, *q))
        ref = np.array(relu_pair(*q) if r == c == "relu" else
                       quad_pair(ar.kind, ar.p, ac.kind, ac.p, *q, quad))
        assert np.all(np.isfinite(got))
        near = i < 200 and i % 5 == 2
        worst[near] = max(worst[near], np.abs(got - ref).max() / max(1.0, np.abs(ref).max()))
        if (r, c) != ("relu", "relu"):  # pair() has its own ReLU/ReLU form
            np.testing.assert_array_equal(got, pair(ar.kind, ar.p, ac.kind, ac.p, *q, QUAD))
    assert worst[0] < 1e-11  # measured 3.8e-13 (ramp/ramp)
    assert worst[1] < 1e-8  # measured 7.2e-10


@pytest.mark.parametrize("name", ["ramp", "relu"])
def test_piecewise_linear_value_is_smooth_at_repeated_neurons(name):
    """A neuron with itself: the Gram product and the squared norm may differ by an ulp, so
    the kernel sees an angle of ~1e-8.  F is smooth there (its O(angle) terms cancel);
    before a* and b* were computed consistently with that angle, F was 3e-8 off relative
    and a path's constant segments were not constant."""
    act = get_activation(name)
    for q in (0.3, 2.0, 9.632389924213685, 40.0):
        ref = pl_pair(act.kind, act.p, act.kind, act.p, q, q, q)[0]
        for k in (1, 2, 4, 16):
            for sign in (1.0, -1.0):
                q12 = sign * q * (1.0 - k * np.finfo(float).eps)
                base = ref if sign > 0 else pl_pair(act.kind, act.p, act.kind, act.p, q, q,
                                                    -q)[0]
                got = pl_pair(act.kind, act.p, act.kind, act.p, q, q, q12)[0]
                assert abs(got - base) <= 1e-13 * max(1.0, abs(base))


@pytest.mark.parametrize("r,c", PL_PAIRS[:3])
def test_piecewise_linear_price_derivatives_match_finite_differences(r, c, rng):
    """F1 = dF/dq11 and F12 = dF/dq12 (Price), against 4th-order differences of F."""
    ar, ac = get_activation(r), get_activation(c)

    def F(a, b, q):
        return pl_pair(ar.kind, ar.p, ac.kind, ac.p, a, b, q)[0]

    def d(f, x, h):
        return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)

    for _ in range(20):
        A = rng.standard_normal((2, 4)) * rng.uniform(0.5, 2.0)
        q11, q22, q12 = A[0] @ A[0], A[1] @ A[1], A[0] @ A[1]
        h = 1e-3 * min(q11, q22)
        _, F1, F12 = pl_pair(ar.kind, ar.p, ac.kind, ac.p, q11, q22, q12)
        assert F1 == pytest.approx(d(lambda x: F(x, q22, q12), q11, h), rel=1e-6, abs=1e-8)
        assert F12 == pytest.approx(d(lambda x: F(q11, q22, x), q12, h), rel=1e-6, abs=1e-8)


def test_degenerate_inputs_are_finite():
    for name in ACTIVATIONS:
        act = get_activation(name)
        for q in [(0.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 1.0, 1.0), (2.0, 2.0, -2.0)]:
            out = quad_pair(act.kind, act.p, act.kind, act.p, *q, QUAD)
            assert np.all(np.isfinite(out))
    assert relu_pair(0.0, 1.0, 0.0) == (0.0, 0.0, 0.0)


def _spread_population(rng, N=41, d=6):
    """N neurons with norms from about 1e-3 to 1e3 (a zero one at row 7) and normal
    output weights."""
    W = rng.standard_normal((N, d)) * np.exp(rng.uniform(-3.5, 3.5, (N, 1)))
    W[7] = 0.0
    return W, rng.standard_normal(N)


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_the_risk_sum_over_pairs_taken_once_equals_the_full_double_sum(name, rng):
    """pair_quadratic (each pair once) against the double sum of the closed form
    pair by pair, and against pair_sums's row sums, in blocks of one row, a few
    rows and all rows (BLAS rounds a block's Gram by its shape, so blocks agree to
    rounding, not bit for bit); norms from 1e-3 to 1e3 and a zero neuron.
    F(w, w') == F(w', w) bit for bit, which halving the sum relies on."""
    act = get_activation(name)
    W, a = _spread_population(rng)
    N = a.size
    Q = W @ W.T
    q = np.diag(Q).copy()
    F = np.array([[pair(act.kind, act.p, act.kind, act.p, q[i], q[j], Q[i, j], QUAD)[0]
                   for j in range(N)] for i in range(N)])
    np.testing.assert_array_equal(F, F.T)
    once = [pair_quadratic(act.kind, W, a, block_bytes=b) for b in (8, 8 * N * 5, 2 ** 24)]
    assert pair_quadratic(act.kind, W, a) == once[2]  # the same call, the same bits
    assert once[1] == pytest.approx(once[0], rel=1e-14)
    assert once[2] == pytest.approx(once[0], rel=1e-14)
    assert once[2] == pytest.approx(a @ F @ a, rel=1e-13)
    Fa = pair_sums(act.kind, act.p, act.kind, act.p, W, W, a, QUAD, False)[0]
    assert once[2] == pytest.approx(a @ Fa, rel=1e-14)
    assert pair_quadratic(act.kind, W[:0], a[:0]) == 0.0
    with pytest.raises(ValueError, match="ReLU or erf"):
        pair_quadratic(get_activation("tanh").kind, W, a)


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_a_population_with_itself_takes_each_pair_once_and_gets_every_sum(name, rng):
    """pair_sums_self (each pair once, the rows' terms read along the triangle's rows
    and the columns') against the closed form pair by pair: Fa, F1 and the
    gradient sum_j a_j F12_ij w_j, in blocks of one row, five rows and all rows;
    norms from 1e-3 to 1e3, a zero neuron and a negative a."""
    act = get_activation(name)
    W, a = _spread_population(rng)
    N, d = W.shape
    Q = W @ W.T
    q = np.einsum("ij,ij->i", W, W)
    np.fill_diagonal(Q, q)  # a neuron with itself at q12 = q11 exactly, as the kernel takes it
    P = np.array([[pair(act.kind, act.p, act.kind, act.p, q[i], q[j], Q[i, j], QUAD)
                   for j in range(N)] for i in range(N)])
    want = (P[:, :, 0] @ a, P[:, :, 1] @ a, (P[:, :, 2] * a) @ W)
    # each row against its own scale, sum_j |a_j| |term_ij| (rows span 1e-7 of the largest)
    scale = (np.abs(P[:, :, 0]) @ np.abs(a), np.abs(P[:, :, 1]) @ np.abs(a),
             (np.abs(P[:, :, 2]) * np.abs(a)) @ np.abs(W))
    for b in (8, 8 * N * 5, 2 ** 24):
        got = pair_sums_self(act.kind, W, a, True, block_bytes=b)
        for x, y, s, what in zip(got, want, scale, ("Fa", "F1", "G")):
            err = (np.abs(x - y) / np.where(s > 0, s, 1.0)).max()
            assert err < 1e-13, (what, b, err)
    Fa, F1, G = pair_sums_self(act.kind, W, a, False)
    assert G is None
    np.testing.assert_array_equal(Fa, pair_sums_self(act.kind, W, a, True)[0])
    assert [x.shape for x in pair_sums_self(act.kind, W[:0], a[:0], True)] == [(0,), (0,),
                                                                                (0, d)]
    with pytest.raises(ValueError, match="ReLU or erf"):
        pair_sums_self(get_activation("tanh").kind, W, a, True)


@pytest.mark.parametrize("name", ["relu", "erf", "tanh"])
def test_blocked_sums_equal_direct_sums(name, rng):
    act = get_activation(name)
    Wr = rng.standard_normal((37, 6))
    Wc = rng.standard_normal((23, 6))
    ac = rng.standard_normal(23)
    Fa, F1, G = pair_sums(act.kind, act.p, act.kind, act.p, Wr, Wc, ac, QUAD, True,
                          block_bytes=8 * 23 * 5)  # several blocks
    for i in (0, 17, 36):
        rows = [pair(act.kind, act.p, act.kind, act.p, Wr[i] @ Wr[i], w @ w, Wr[i] @ w, QUAD)
                for w in Wc]
        F, D1, D12 = map(np.array, zip(*rows))
        assert Fa[i] == pytest.approx(ac @ F, rel=1e-7, abs=1e-9)
        assert F1[i] == pytest.approx(ac @ D1, rel=1e-7, abs=1e-9)
        np.testing.assert_allclose(G[i], (ac * D12) @ Wc, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("batch,parallel_N", [(1, 50), (1, 200), (4, 200)])
def test_sgd_loops_built_for_one_activation_equal_the_generic_ones(name, batch, parallel_N, rng):
    """The activation-specialised build (what SGD uses) agrees with the generic one: bit for
    bit for ReLU and the ramp, to round-off where LLVM may pick other exp/log1p variants
    once the activation is known (sigmoid, softplus: 1 ulp seen)."""
    from meanfield.kernels import sgd as k_sgd

    act = get_activation(name)
    N, d, steps = parallel_N, 60, 40  # N d >= 10^4: the parallel build
    a0, W0 = rng.standard_normal(N), rng.standard_normal((N, d)) / np.sqrt(d)
    X, Y = rng.standard_normal((steps * batch, d)), rng.standard_normal(steps * batch)
    s = np.full(steps, 0.01)
    out = []
    for kind in (None, act.kind):
        a, W = a0.copy(), W0.copy()
        done = k_sgd.choose(N, d, batch, 0.0, kind)(a, W, X, Y, s, batch, act.kind, act.p, True,
                                                    0.0, np.random.default_rng(0))
        out.append((done, a, W))
    assert out[0][0] == out[1][0] == steps
    for x, y in ((out[0][1], out[1][1]), (out[0][2], out[1][2])):
        if name in ("relu", "ramp"):
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
