"""Paths between nets: Kuditipudi et al. Lemmas 1-2 in mean-field scaling, weight matching,
and the path of Nguyen, Bréchet & Mondelli's Theorem 4.1 with the swaps of their Claim 5.1."""

import re

import numpy as np
import pytest

from meanfield.connectivity import (
    claim51_swap,
    dropout_connect,
    lemma2_path_same_keep,
    theorem41_path,
    to_dropout,
)
from meanfield.twolayer.paths import seven_segment_vertices


def forward(W, X, keep=None, upto=None):
    """Eq. (1.1) with 1/N per hidden sum; with ``keep``, the dropout network (1/|A_l|).

    A middle matrix with N + 1 columns has a bias, the last column times 1/N
    (never rescaled by dropout).  ``upto=l`` returns hidden layer l's activations.
    """
    N = W[0].shape[0]
    h = np.tanh(X @ W[0].T)
    for m, Wm in enumerate(W[1:], start=1):
        if upto == m:
            return h
        K = np.arange(N) if keep is None else keep[m - 1]
        z = h[:, K] @ Wm[:, K].T / len(K)
        if Wm.shape[1] == N + 1:
            z = z + Wm[:, N] / N
        h = np.tanh(z) if m < len(W) - 1 else z
    return h


def random_net(rng, depth, N=10, d=4, n_out=3, bias=False):
    """With ``bias``: an input bias column and a bias column in every middle matrix."""
    return ([rng.standard_normal((N, d + bias))]
            + [rng.standard_normal((N, N + bias)) for _ in range(depth - 2)]
            + [rng.standard_normal((n_out, N))])


@pytest.mark.parametrize("depth,bias", [(2, False), (3, False), (4, False), (5, False),
                                        (3, True), (4, True)])
def test_path_segments_are_convex_or_constant_and_ends_exact(depth, bias, rng):
    N = 11  # odd: kept halves of 5, copy slots from the 6 dropped
    W, W2 = random_net(rng, depth, N, bias=bias), random_net(rng, depth, N, bias=bias)
    keep = [np.sort(rng.choice(N, 5, replace=False)) for _ in range(depth - 1)]
    path = dropout_connect(W, W2, keep)
    assert path.n_segments == 10 * depth - 13
    assert set(path.kinds) == {"a", "w0"}
    X = rng.standard_normal((30, 4 + bias))
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
    assert path.kinds == ("a", "w0", "a", "w0", "a", "w0", "a")
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
        lemma2_path_same_keep(W, random_net(rng, 3, 6, n_out=2), np.arange(2))


@pytest.mark.parametrize("depth,bias", [(2, False), (4, False), (4, True)])
def test_weight_matching_recovers_a_hidden_permutation_and_keeps_the_function(depth, bias, rng):
    from meanfield.connectivity.matching import permute, weight_matching

    W = random_net(rng, depth, N=9, bias=bias)
    hidden = [rng.permutation(9) for _ in range(depth - 1)]
    W2 = permute(W, hidden)
    X = rng.standard_normal((20, 4 + bias))
    np.testing.assert_allclose(forward(W2, X), forward(W, X), rtol=1e-12, atol=1e-12)
    perms, sweeps = weight_matching(W, W2)
    aligned = permute(W2, perms)
    for a, b in zip(aligned, W):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert sweeps <= 10
    with pytest.raises(ValueError, match="permutation of 0..8"):
        permute(W, [np.zeros(9, int)] * (depth - 1))


def random_xis(rng, W, subsets):
    """Random subnetworks xi_0..xi_H of the widths of Theorem 4.1 (module docstring shapes)."""
    H, N = len(W) - 1, W[0].shape[0]
    n_out, D = W[-1].shape[0], W[0].shape[1]
    xis = []
    for l in range(H + 1):
        K = D - 1 if l == 0 else subsets[l - 1].size
        m = [N - subsets[p - 1].size for p in range(l + 1, H + 1)]
        dims = [K] + m
        xi = [rng.standard_normal((dims[i + 1], dims[i] + 1)) for i in range(len(m))]
        xis.append(xi + [rng.standard_normal((n_out, dims[-1]))])
    return xis


def xi_out(xi, F):
    """A subnetwork (factor-free, tanh, bias columns) on features F."""
    h = F
    for U in xi[:-1]:
        h = np.tanh(np.column_stack([h, np.ones(len(h))]) @ U.T)
    return h @ xi[-1].T


@pytest.mark.parametrize("H,same", [(1, True), (2, False), (3, True), (3, False)])
def test_theorem41_path_ends_exact_segments_exact_and_vertices_compute_the_subnetworks(
        H, same, rng):
    N, d = 9, 4  # |I_p| = 5 >= |Ibar_p| = 4
    W0, W1 = random_net(rng, H + 1, N, d, bias=True), random_net(rng, H + 1, N, d, bias=True)
    I0 = [np.sort(rng.choice(N, 5, replace=False)) for _ in range(H)]
    I1 = I0 if same else [np.sort(rng.choice(N, 5, replace=False)) for _ in range(H)]
    xis0, xis1 = random_xis(rng, W0, I0), random_xis(rng, W1, I1)
    factors = [1.0] + [1.0 / N] * H
    path = theorem41_path(W0, W1, I0, I1, xis0, xis1, factors)
    differ = any(not np.array_equal(a, b) for a, b in zip(I0, I1))
    assert path.n_segments == 2 * (2 + 6 * (H - 1)) + 5 + 3 * differ
    for a, b in zip(path.weights[0], W0):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(path.weights[-1], W1):
        np.testing.assert_array_equal(a, b)
    X = np.column_stack([rng.standard_normal((25, d)), np.ones(25)])
    outs = [forward(V, X) for V in path.weights]
    for k, kind in enumerate(path.kinds):
        for lam in (0.3, 0.8):
            mid = [(1 - lam) * a + lam * b for a, b in zip(path.weights[k], path.weights[k + 1])]
            expect = (1 - lam) * outs[k] + lam * outs[k + 1] if kind == "a" else outs[k]
            np.testing.assert_allclose(forward(mid, X), expect, rtol=1e-10, atol=1e-10)
    # after each switch of the top layer the net computes one subnetwork on its features
    seen = {}
    for k, label in enumerate(path.labels):
        hit = re.fullmatch(r"xi_(\d)(?:\((.*)\))?", label)
        if hit:
            l, name = int(hit[1]), hit[2] or "theta"
            W, I, xis = (W0, I0, xis0) if name == "theta" else (W1, I1, xis1)
            F = X[:, :d] if l == 0 else forward(W, X, upto=l)[:, I[l - 1]]
            np.testing.assert_allclose(outs[k], xi_out(xis[l], F), rtol=1e-10, atol=1e-10)
            seen[label] = True
    assert len(seen) == 2 * H + 1  # xi_1..xi_H of both nets and theta's xi_0


def test_claim51_swap_keeps_the_function(rng):
    N = 6
    W = random_net(rng, 4, N, bias=True)
    # pure zero neurons 4 and 5 in hidden layer 2 and neuron 0 in layer 3
    for layer, p in ((2, [4, 5]), (3, [0])):
        W[layer - 1][p] = 0.0
        W[layer][:, p] = 0.0
    moves = [(np.array([], int), np.array([], int)), (np.array([1, 2]), np.array([4, 5])),
             (np.array([3]), np.array([0]))]
    path = claim51_swap(W, moves)
    assert path.kinds == ("swap",) * 3
    X = np.column_stack([rng.standard_normal((15, 4)), np.ones(15)])
    ref = forward(W, X)
    for k in range(3):
        for lam in (0.0, 0.5, 1.0):
            mid = [(1 - lam) * a + lam * b for a, b in zip(path.weights[k], path.weights[k + 1])]
            np.testing.assert_allclose(forward(mid, X), ref, rtol=1e-12, atol=1e-12)
    end = path.weights[-1]
    np.testing.assert_array_equal(end[1][[4, 5]], W[1][[1, 2]])  # p took q's incoming weights
    assert not end[1][[1, 2]].any() and not end[2][:, [1, 2]].any()  # q is pure zero now
    with pytest.raises(ValueError, match="must be pure zero"):
        claim51_swap(W, [moves[0], (np.array([4]), np.array([1])), moves[2]])


def test_theorem41_bad_inputs(rng):
    N = 8
    W = random_net(rng, 3, N, bias=True)
    I = [np.arange(4), np.arange(4)]
    xis = random_xis(rng, W, I)
    f = [1.0, 1 / N, 1 / N]
    with pytest.raises(ValueError, match="needs a bias in every hidden layer"):
        theorem41_path(random_net(rng, 3, N), W, I, I, xis, xis, f)
    with pytest.raises(ValueError, match="at least N/2 = 4"):
        theorem41_path(W, W, [np.arange(3), np.arange(4)], I, xis, xis, f)
    with pytest.raises(ValueError, match=r"xis0\[1\] must have the shapes"):
        theorem41_path(W, W, I, I, [xis[0], xis[0], xis[2]], xis, f)
    with pytest.raises(ValueError, match="factors must be 3 positive numbers"):
        theorem41_path(W, W, I, I, xis, xis, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("depth,bias", [(2, False), (4, False), (3, True)])
def test_rescaled_dropout_path_through_each_nets_own_best_dropout(depth, bias, rng):
    from meanfield.connectivity import rescaled_dropout_connect

    N = 10
    W, W2 = random_net(rng, depth, N, bias=bias), random_net(rng, depth, N, bias=bias)
    K = [np.sort(rng.choice(N, 5, replace=False)) for _ in range(depth - 1)]
    K2 = [np.sort(rng.choice(N, 5, replace=False)) for _ in range(depth - 1)]
    path = rescaled_dropout_connect(W, W2, K, K2, 1.7, 0.6)
    H = depth - 1
    assert path.n_segments == 2 * (2 + 5 * (H - 1)) + 9
    for a, b in zip(path.weights[0], W):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(path.weights[-1], W2):
        np.testing.assert_array_equal(a, b)
    X = rng.standard_normal((20, 4 + bias))
    outs = [forward(V, X) for V in path.weights]
    for k, kind in enumerate(path.kinds):
        lam = 0.4
        mid = [(1 - lam) * a + lam * b for a, b in zip(path.weights[k], path.weights[k + 1])]
        expect = (1 - lam) * outs[k] + lam * outs[k + 1] if kind == "a" else outs[k]
        np.testing.assert_allclose(forward(mid, X), expect, rtol=1e-10, atol=1e-10)
    # the rescaled dropout networks of both nets are vertices
    n1 = 2 + 5 * (H - 1)
    np.testing.assert_allclose(outs[n1], 1.7 * forward(W, X, K), rtol=1e-10, atol=1e-12)
    assert any(np.allclose(o, 0.6 * forward(W2, X, K2), rtol=1e-10, atol=1e-12) for o in outs)
    with pytest.raises(ValueError, match="scale2 must be a finite number > 0"):
        rescaled_dropout_connect(W, W2, K, K2, 1.0, 0.0)
