"""Paths through dropout networks (Kuditipudi et al. Lemmas 1-2 in mean-field scaling)."""

import numpy as np
import pytest

from meanfield.connectivity import between_dropouts, dropout_connect, to_dropout
from meanfield.twolayer.paths import seven_segment_vertices


def forward(W, X, keep=None):
    """Eq. (1.1) with 1/N per hidden sum; with ``keep``, the dropout network (1/|A_l|)."""
    N = W[0].shape[0]
    h = np.tanh(X @ W[0].T)
    for m, Wm in enumerate(W[1:], start=1):
        if keep is None:
            z = h @ Wm.T / N
        else:
            K = keep[m - 1]
            z = h[:, K] @ Wm[:, K].T / len(K)
        h = np.tanh(z) if m < len(W) - 1 else z
    return h


def random_net(rng, depth, N=10, d=4, n_out=3):
    return ([rng.standard_normal((N, d))] + [rng.standard_normal((N, N)) for _ in range(depth - 2)]
            + [rng.standard_normal((n_out, N))])


@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_path_segments_are_convex_or_constant_and_ends_exact(depth, rng):
    N = 11  # odd: kept halves of 5, copy slots from the 6 dropped
    W, W2 = random_net(rng, depth, N), random_net(rng, depth, N)
    keep = [np.sort(rng.choice(N, 5, replace=False)) for _ in range(depth - 1)]
    path = dropout_connect(W, W2, keep)
    assert path.n_segments == 10 * depth - 13
    assert set(path.kinds) == {"a", "w0"}
    X = rng.standard_normal((30, 4))
    for a, b in zip(path.weights[0], W):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(path.weights[-1], W2):
        np.testing.assert_array_equal(a, b)
    outs = [forward(V, X) for V in path.weights]
    for k, kind in enumerate(path.kinds):
        for lam in (0.3, 0.75):
            mid = [(1 - lam) * a + lam * b for a, b in zip(path.weights[k], path.weights[k + 1])]
            expect = outs[k] if kind == "w0" else (1 - lam) * outs[k] + lam * outs[k + 1]
            np.testing.assert_allclose(forward(mid, X), expect, rtol=1e-10, atol=1e-10)
            if kind == "a":  # only the top layer moves
                assert all(np.array_equal(a, b) for a, b in
                           zip(path.weights[k][:-1], path.weights[k + 1][:-1]))
    # the vertices where Lemma 1 ends compute the two dropout networks
    n1 = 1 + 5 * (depth - 2)
    np.testing.assert_allclose(outs[n1], forward(W, X, keep), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(outs[-1 - n1], forward(W2, X, keep), rtol=1e-10, atol=1e-12)


def test_lemma_1_passes_through_each_partial_dropout(rng):
    """Vertex after each phase: dropout at layers >= j only (Kuditipudi Def. 1, theta_j)."""
    depth, N = 4, 8
    W = random_net(rng, depth, N)
    keep = [np.arange(0, 8, 2), np.arange(4), np.arange(4, 8)]
    path = to_dropout(W, keep)
    X = rng.standard_normal((20, 4))
    full = [np.arange(N)] * 3
    for j in (3, 2, 1):  # dropout at hidden layers j..3
        k = 1 + 5 * (3 - j)
        partial = [full[i] if i + 1 < j else keep[i] for i in range(3)]
        np.testing.assert_allclose(forward(path.weights[k], X), forward(W, X, partial),
                                   rtol=1e-10, atol=1e-12)


def test_two_layer_case_is_the_seven_segment_path(rng):
    a, W, a2, W2 = rng.standard_normal(9), rng.standard_normal((9, 3)), \
        rng.standard_normal(9), rng.standard_normal((9, 3))
    A = np.array([6, 1, 4])
    va, vW, _ = seven_segment_vertices(a, W, a2, W2, A)
    path = dropout_connect([W, a[None]], [W2, a2[None]], A)
    assert path.kinds == ["a", "w0", "a", "w0", "a", "w0", "a"]
    for k in range(8):
        np.testing.assert_array_equal(path.weights[k][1][0], va[k])
        np.testing.assert_array_equal(path.weights[k][0], vW[k])
    # the construction's own view of those vertices: dropout(theta) on A at vertex 1
    np.testing.assert_array_equal(va[1][[0, 2, 3, 5, 7, 8]], 0)
    np.testing.assert_allclose(va[1][A], 3 * a[A])


def test_bad_inputs(rng):
    W = random_net(rng, 3, 6)
    with pytest.raises(ValueError, match="at most N/2 = 3"):
        to_dropout(W, np.arange(4))
    with pytest.raises(ValueError, match="one index set per hidden layer"):
        to_dropout(W, [np.arange(2)] * 3)
    with pytest.raises(ValueError, match=r"distinct indices in \[0, 5\]"):
        to_dropout(W, np.array([0, 6]))
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(6, 6\)"):
        to_dropout([W[0], W[1][:3], W[2]], np.arange(2))
    with pytest.raises(ValueError, match="same layer shapes"):
        between_dropouts(W, random_net(rng, 3, 6, n_out=2), np.arange(2))


@pytest.mark.parametrize("depth", [2, 4])
def test_weight_matching_recovers_a_hidden_permutation_and_keeps_the_function(depth, rng):
    from meanfield.connectivity.matching import permute, weight_matching

    W = random_net(rng, depth, N=9)
    hidden = [rng.permutation(9) for _ in range(depth - 1)]
    W2 = permute(W, hidden)
    X = rng.standard_normal((20, 4))
    np.testing.assert_allclose(forward(W2, X), forward(W, X), rtol=1e-12, atol=1e-12)
    perms, sweeps = weight_matching(W, W2)
    aligned = permute(W2, perms)
    for a, b in zip(aligned, W):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert sweeps <= 10
    with pytest.raises(ValueError, match="permutation of 0..8"):
        permute(W, [np.zeros(9, int)] * (depth - 1))
