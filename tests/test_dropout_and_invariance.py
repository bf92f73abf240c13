"""Dropout loss (3.4) and invariances of the exact risk (property-based)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meanfield.tasks import teacher_student
from meanfield.twolayer import dropout_gap, dropout_loss, random_subset

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
    assert dropout_loss(TASK, a[perm], W[perm], inv[A]) == pytest.approx(
        dropout_loss(TASK, a, W, A), rel=1e-12, abs=1e-14)


def test_keeping_everything_gives_zero_gap():
    a, W = _net(0, 12)
    assert dropout_gap(TASK, a, W, np.arange(12)) == 0.0


def test_dropout_equals_rescaled_zeroed_network():
    a, W = _net(1, 10)
    A = np.array([0, 3, 4, 9])
    scaled = np.zeros(10)
    scaled[A] = a[A] * 10 / 4
    assert dropout_loss(TASK, a, W, A) == pytest.approx(TASK.risk(scaled, W), rel=1e-12)


@pytest.mark.parametrize("A,msg", [([], r"\|A\| must lie in \[1, N\]"),
                                   ([0, 10], r"indices in \[0, 9\]"),
                                   ([-1], r"indices in \[0, 9\]"),
                                   ([1, 1], "duplicate"),
                                   (list(range(11)), r"\|A\| must lie in \[1, N\]"),
                                   ([0.5], "integer indices")])
def test_bad_subsets(A, msg):
    a, W = _net(2, 10)
    with pytest.raises(ValueError, match=msg):
        dropout_loss(TASK, a, W, np.array(A, dtype=float if A == [0.5] else int))
    with pytest.raises(ValueError, match="size must be an integer in"):
        random_subset(10, 0, 0)
