"""Lemma 2 of Kuditipudi et al. (NeurIPS 2019): paths between two dropout networks, with the
same kept sets (lemma2_path_same_keep) and with different ones (lemma2_path), checked with a
forward pass written here in numpy, not the package's."""

import numpy as np
import pytest

from meanfield.connectivity import lemma2_path, lemma2_path_same_keep

N_GRID = 41  # points per segment, ends included
# a loss in [0.1, 100] computed in float64: rounding in the forward pass is ~1e-15 relative
TOL = 1e-10


def forward(W, X):
    """tanh net in the standard parameterisation; a middle matrix with N + 1 columns has a
    bias in its last column (the constant 1 appended to the layer's input)."""
    N = W[0].shape[0]
    h = np.tanh(X @ W[0].T)
    for Wm in W[1:-1]:
        z = h @ Wm[:, :N].T
        if Wm.shape[1] == N + 1:
            z = z + Wm[:, N]
        h = np.tanh(z)
    return h @ W[-1].T


def square_loss(out, Y):
    """Mean over samples of |out - y|^2: convex in the output."""
    return float(np.mean(np.sum((out - Y) ** 2, axis=1)))


def dropout_net(rng, depth, N, keep, d=4, n_out=3, bias=False):
    """A random net in which the neurons outside ``keep`` feed nothing: zero columns in the kept
    rows of the next layer and in the top layer; their own incoming weights stay random."""
    W = ([rng.standard_normal((N, d + bias))]
         + [rng.standard_normal((N, N + bias)) for _ in range(depth - 2)]
         + [rng.standard_normal((n_out, N))])
    H = depth - 1
    for m in range(1, H + 1):
        dropped = np.setdiff1d(np.arange(N), keep[m - 1])
        rows = np.arange(W[m].shape[0]) if m == H else keep[m]
        W[m][np.ix_(rows, dropped)] = 0.0
    return W


def kept_sets(rng, relation, H, N, k):
    K = [np.sort(rng.choice(N, k, replace=False)) for _ in range(H)]
    if relation == "same":
        return K, [k_.copy() for k_ in K]
    if relation == "disjoint":
        return K, [np.sort(rng.choice(np.setdiff1d(np.arange(N), k_), k, replace=False))
                   for k_ in K]
    K2 = [np.sort(np.r_[k_[:2], rng.choice(np.setdiff1d(np.arange(N), k_), k - 2,
                                           replace=False)]) for k_ in K]
    return K, K2  # "overlap": two shared neurons per layer, the rest disjoint


def check_path(path, W, W2, X, Y):
    """Ends exactly the two nets (as arrays and as functions); along every segment, on a grid
    of N_GRID points, the output is constant ("w0", "swap") or linear ("a") in the segment
    parameter, so the loss is at most the larger of the segment's end losses."""
    for a, b in zip(path.weights[0], W):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(path.weights[-1], W2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(forward(path.weights[0], X), forward(W, X))
    np.testing.assert_array_equal(forward(path.weights[-1], X), forward(W2, X))
    outs = [forward(V, X) for V in path.weights]
    for k, kind in enumerate(path.kinds):
        ends = max(square_loss(outs[k], Y), square_loss(outs[k + 1], Y))
        for lam in np.linspace(0.0, 1.0, N_GRID):
            mid = [(1 - lam) * a + lam * b for a, b in zip(path.weights[k], path.weights[k + 1])]
            out = forward(mid, X)
            expect = (1 - lam) * outs[k] + lam * outs[k + 1] if kind == "a" else outs[k]
            np.testing.assert_allclose(out, expect, rtol=TOL, atol=TOL)
            assert square_loss(out, Y) <= ends * (1 + TOL), (k, kind, lam)
            if kind == "a":  # only the top layer moves
                assert all(np.array_equal(a, b) for a, b in
                           zip(path.weights[k][:-1], path.weights[k + 1][:-1]))
    # every vertex computes one of the two nets
    f1, f2 = forward(W, X), forward(W2, X)
    for o in outs:
        assert np.allclose(o, f1, rtol=TOL, atol=TOL) or np.allclose(o, f2, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("relation", ["overlap", "same", "disjoint"])
@pytest.mark.parametrize("depth,bias", [(2, False), (3, False), (4, False), (3, True),
                                        (4, True)])
def test_lemma2_path_joins_dropout_networks_of_different_kept_sets(depth, bias, relation, rng):
    N, H = 10, depth - 1
    K, K2 = kept_sets(rng, relation, H, N, 5)
    W = dropout_net(rng, depth, N, K, bias=bias)
    W2 = dropout_net(rng, depth, N, K2, bias=bias)
    path = lemma2_path(W, W2, K, K2)
    assert path.kinds == ("w0", "swap", "swap", "swap", "w0", "a", "w0", "w0")
    X = np.c_[rng.standard_normal((30, 4)), np.ones((30, int(bias)))]
    Y = rng.standard_normal((30, 3))
    check_path(path, W, W2, X, Y)


@pytest.mark.parametrize("relation", ["overlap", "same"])
@pytest.mark.parametrize("depth,bias", [(3, False), (4, True)])
def test_lemma2_permutation_leaves_the_function_unchanged(depth, bias, relation, rng):
    """The vertex after the swaps is theta (dropped neurons zeroed) with each neuron kept in both
    nets transposed with the lowest-indexed neuron kept in neither; it computes theta, and the
    neurons it uses are disjoint from theta''s."""
    N, H = 10, depth - 1
    K, K2 = kept_sets(rng, relation, H, N, 5)
    W = dropout_net(rng, depth, N, K, bias=bias)
    path = lemma2_path(W, dropout_net(rng, depth, N, K2, bias=bias), K, K2)
    permuted = path.weights[4]
    # the permutation written out here: zero the dropped rows, then move rows and columns
    ref = [w.copy() for w in W]
    for m in range(H):
        ref[m][np.setdiff1d(np.arange(N), K[m])] = 0.0
    for layer in range(1, H + 1):
        shared = np.intersect1d(K[layer - 1], K2[layer - 1])
        free = np.setdiff1d(np.arange(N), np.union1d(K[layer - 1], K2[layer - 1]))[:shared.size]
        perm = np.arange(N)
        perm[shared], perm[free] = free, shared
        ref[layer - 1] = ref[layer - 1][perm]
        cols = np.r_[perm, np.arange(N, ref[layer].shape[1])]
        ref[layer] = ref[layer][:, cols]
    for a, b in zip(permuted, ref):
        np.testing.assert_array_equal(a, b)
    X = np.c_[rng.standard_normal((30, 4)), np.ones((30, int(bias)))]
    np.testing.assert_allclose(forward(permuted, X), forward(W, X), rtol=1e-12, atol=1e-12)
    for layer in range(1, H + 1):
        outgoing = permuted[layer][:, :N]
        live = np.flatnonzero(np.any(outgoing != 0, axis=0))
        assert np.intersect1d(live, K2[layer - 1]).size == 0


@pytest.mark.parametrize("depth,bias", [(2, False), (3, False), (4, True)])
def test_lemma2_path_same_keep(depth, bias, rng):
    N, H = 11, depth - 1  # odd: kept halves of 5, copy slots from the 6 dropped
    K = [np.sort(rng.choice(N, 5, replace=False)) for _ in range(H)]
    W = dropout_net(rng, depth, N, K, bias=bias)
    W2 = dropout_net(rng, depth, N, K, bias=bias)
    path = lemma2_path_same_keep(W, W2, K)
    assert path.kinds == ("w0", "a", "w0", "a", "w0")
    X = np.c_[rng.standard_normal((30, 4)), np.ones((30, int(bias)))]
    check_path(path, W, W2, X, rng.standard_normal((30, 3)))


def test_lemma2_path_refuses_what_the_lemma_excludes(rng):
    N = 8
    K, K2 = [np.arange(4)] * 2, [np.arange(2, 7)] * 2
    W, W2 = dropout_net(rng, 3, N, K), dropout_net(rng, 3, N, K2)
    with pytest.raises(ValueError, match="hold 4 \\+ 5 neurons, more than N = 8"):
        lemma2_path(W, W2, K, K2)
    K2 = [np.arange(4, 8)] * 2
    with pytest.raises(ValueError, match=r"weights2 is not a dropout network .* weights2\[1\]"):
        lemma2_path(W, dropout_net(rng, 3, N, [np.arange(4, 8), np.arange(4)]), K, K2)
    with pytest.raises(ValueError, match="same layer shapes"):
        lemma2_path(W, dropout_net(rng, 4, N, [np.arange(4)] * 3), K, K2)
