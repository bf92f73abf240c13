"""Dropout loss (3.4) and invariances of the exact risk (property-based)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meanfield.tasks import teacher_student
from meanfield.dropout import draw_keep as random_subset
from meanfield.twolayer import TwoLayerNet, dropout_gap, dropout_loss

TASK = teacher_student(5, "relu", width=2)


def _net(seed, N):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(N), rng.standard_normal((N, 5)) / np.sqrt(5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2 ** 31), N=st.integers(1, 30))
def test_risk_invariant_under_permutations_and_duplication(seed, N):
    a, W = _net(seed, N)
    perm = np.random.default_rng(seed + 1).permutation(N)
    r = TASK.risk(a, W)
    assert TASK.risk(a[perm], W[perm]) == pytest.approx(r, rel=1e-12, abs=1e-14)
    assert TASK.risk(np.tile(a, 3), np.tile(W, (3, 1))) == pytest.approx(r, rel=1e-12, abs=1e-14)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2 ** 31), N=st.integers(2, 30), data=st.data())
def test_dropout_loss_is_permutation_invariant(seed, N, data):
    a, W = _net(seed, N)
    size = data.draw(st.integers(1, N))
    A = random_subset(N, size, seed)
    perm = np.random.default_rng(seed).permutation(N)
    inv = np.argsort(perm)
    assert dropout_loss(TwoLayerNet(TASK, a[perm], W[perm]), inv[A]) == pytest.approx(
        dropout_loss(TwoLayerNet(TASK, a, W), A), rel=1e-12, abs=1e-14)


def test_keeping_everything_gives_zero_gap():
    a, W = _net(0, 12)
    assert dropout_gap(TwoLayerNet(TASK, a, W), np.arange(12)) == 0.0


def test_dropout_equals_rescaled_zeroed_network():
    a, W = _net(1, 10)
    A = np.array([0, 3, 4, 9])
    scaled = np.zeros(10)
    scaled[A] = a[A] * 10 / 4
    assert dropout_loss(TwoLayerNet(TASK, a, W), A) == pytest.approx(TASK.risk(scaled, W),
                                                                      rel=1e-12)


@pytest.mark.parametrize("A,msg", [([], r"\|A\| must lie in \[1, N\]"),
                                   ([0, 10], r"indices in \[0, 9\]"),
                                   ([-1], r"indices in \[0, 9\]"),
                                   ([1, 1], "duplicate"),
                                   (list(range(11)), r"\|A\| must lie in \[1, N\]"),
                                   ([0.5], "integer indices")])
def test_bad_subsets(A, msg):
    a, W = _net(2, 10)
    with pytest.raises(ValueError, match=msg):
        dropout_loss(TwoLayerNet(TASK, a, W), np.array(A, dtype=float if A == [0.5] else int))
    with pytest.raises(ValueError, match="size must be an integer in"):
        random_subset(10, 0, 0)


def test_first_half_and_nested_subsets():
    from meanfield.twolayer.dropout import first_half, nested_subsets

    np.testing.assert_array_equal(first_half(7), [0, 1, 2])
    with pytest.raises(ValueError, match="N must be >= 2"):
        first_half(1)
    sets = nested_subsets(50, [5, 20, 50], 3)
    assert [s.size for s in sets] == [5, 20, 50]
    assert set(sets[0]) <= set(sets[1]) <= set(sets[2]) == set(range(50))
    with pytest.raises(ValueError, match="strictly increasing"):
        nested_subsets(50, [20, 5], 3)
    with pytest.raises(ValueError, match=r"sizes\[1\] must be an integer in \[1, N\]"):
        nested_subsets(50, [5, 51], 3)
    # each index is in A_k with probability |A_k| / N: 4000 draws, 5-sigma binomial band
    rng = np.random.default_rng(0)
    hits = np.zeros(50)
    for _ in range(4000):
        hits[nested_subsets(50, [10, 20], rng)[0]] += 1
    assert np.abs(hits / 4000 - 0.2).max() < 5 * np.sqrt(0.2 * 0.8 / 4000)


def test_rescaled_dropout_finds_the_exact_optimal_scale():
    from meanfield.dropout import draw_keep
    from meanfield.twolayer.dropout import TwoLayerNet, rescaled_dropout

    a, W = _net(3, 20)
    net = TwoLayerNet(TASK, a, W)
    res = rescaled_dropout(net, draw_keep(20, 10, 1, n_draws=6))
    assert res.losses.size == 6 and res.loss == res.losses.min()
    assert np.all(res.losses <= res.fixed_losses + 1e-15)  # r = 1 is eq. (3.4)
    A = res.keep
    c = TASK.risk_coefficients(np.zeros(A.size), a[A], W[A])
    assert res.scale == pytest.approx(-c[1] / (2 * c[2]), rel=1e-6)
    full = np.zeros(20)
    full[A] = res.scale * a[A] * 20 / A.size
    assert TASK.risk(full, W) == pytest.approx(res.loss, rel=1e-10)
    same = rescaled_dropout(net, [A])
    assert same.loss == pytest.approx(res.loss, rel=1e-12)
    with pytest.raises(ValueError, match="keeps must hold at least one"):
        rescaled_dropout(net, [])


def test_risk_skips_zero_output_weights_exactly():
    a, W = _net(4, 12)
    a[[1, 5, 6]] = 0.0
    U = TASK.U(a, W, a, W)
    direct = TASK.ey2 + 2 * TASK.V(a, W).mean() + U.sum() / 144
    assert TASK.risk(a, W) == pytest.approx(direct, rel=1e-12)
    assert TASK.risk(np.zeros(12), W) == TASK.ey2


@pytest.mark.parametrize("act", ["relu", "erf", "ramp"])
def test_dropout_bias_is_the_exact_mean_over_all_subsets(act):
    from itertools import combinations

    from meanfield.twolayer.dropout import dropout_bias

    task = teacher_student(4, act, width=2)
    rng = np.random.default_rng(0)
    a, W = rng.standard_normal(10), rng.standard_normal((10, 4))
    L = task.risk(a, W)
    net = TwoLayerNet(task, a, W)
    mean = np.mean([dropout_loss(net, np.array(c)) for c in combinations(range(10), 3)])
    assert dropout_bias(task, a, W, 3) == pytest.approx(mean - L, rel=1e-12)
    assert dropout_bias(task, a, W, 3, risk=L) == pytest.approx(mean - L, rel=1e-12)
    assert dropout_bias(task, a, W, 10) == 0.0
    np.testing.assert_allclose(a * a * task.self_kernel(W), np.diag(task.U(a, W, a, W)),
                               rtol=1e-13)
