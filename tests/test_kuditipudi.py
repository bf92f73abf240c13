"""Kuditipudi et al. (2019): Algorithm 1, the narrow-net embedding, and the paths of
Theorems 1 and 3 (meanfield.connectivity), checked on nets with random weights by forward
passes: every vertex computes one of the nets it should, to rounding."""

import numpy as np
import pytest

from meanfield.connectivity import (
    algorithm1,
    embed_narrow,
    theorem1_path,
    theorem3_path,
)
from meanfield.dropout import draw_keep

H, D, N_OUT = 3, 5, 4


def _net(rng, N, bias_cols=0):
    return ([rng.normal(size=(N, D + 1))]
            + [rng.normal(size=(N, N + bias_cols)) for _ in range(H - 1)]
            + [rng.normal(size=(N_OUT, N))])


def _forward(W, X):
    """ReLU net, input bias, hidden biases when the middle matrices have N + 1 columns."""
    z = np.c_[X, np.ones(len(X))] @ W[0].T
    for w in W[1:]:
        h = np.maximum(z, 0.0)
        if w.shape[1] == h.shape[1] + 1:
            h = np.c_[h, np.ones(len(h))]
        z = h @ w.T
    return z


def test_algorithm1_scales_columns_of_layers_two_to_d():
    rng = np.random.default_rng(0)
    W = _net(rng, 10)
    kept = draw_keep(10, 0.3, rng, n_hidden=H, method="bernoulli")
    out = algorithm1(W, kept, 0.3)
    assert np.array_equal(out[0], W[0])
    for m in range(1, H + 1):
        np.testing.assert_allclose(out[m], W[m] * (kept[m - 1] / 0.7), rtol=0, atol=0)
    with pytest.raises(ValueError, match="p must lie in"):
        algorithm1(W, kept, 1.0)
    with pytest.raises(ValueError, match="boolean array of shape"):
        algorithm1(W, kept[:2], 0.3)


def test_embed_narrow_computes_the_narrow_net():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, D))
    for bias_cols in (0, 1):
        star = _net(rng, 3, bias_cols)
        slots = [np.array([7, 1, 4]), np.array([0, 2, 9]), np.array([5, 6, 3])]
        E = embed_narrow(star, 10, slots)
        np.testing.assert_allclose(_forward(E, X), _forward(star, X), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="h\\* = 3"):
        embed_narrow(star, 10, [np.arange(2)] * H)


def _vertex_functions(path, nets, X):
    """For every vertex, the index of the net in ``nets`` it computes (to 1e-9), or -1."""
    outs = [_forward(w, X) for w in nets]
    found = []
    for W in path.weights:
        o = _forward(W, X)
        hits = [k for k, r in enumerate(outs) if np.abs(o - r).max() <= 1e-9 * np.abs(r).max()]
        found.append(hits[0] if hits else -1)
    return found


def test_theorem3_path_visits_the_nets_their_dropout_networks_and_theta_star():
    rng = np.random.default_rng(2)
    N, h, p = 12, 3, 0.4
    A, B, star = _net(rng, N), _net(rng, N), _net(rng, h)
    X = rng.normal(size=(40, D))
    while True:
        kA, kB = (draw_keep(N, p, rng, n_hidden=H, method="bernoulli") for _ in range(2))
        if (kA.sum(1) + h <= N).all() and (kB.sum(1) + h <= N).all():
            break
    slots = [np.arange(h)] * H
    E = embed_narrow(star, N, slots)
    path = theorem3_path(A, kA, B, kB, E, slots, p)
    assert path.n_segments == 18
    assert path.kinds[0] == path.kinds[-1] == "general"
    assert "general" not in path.kinds[1:-1]
    nets = [A, algorithm1(A, kA, p), E, algorithm1(B, kB, p), B]
    found = _vertex_functions(path, nets, X)
    assert found[0] == 0 and found[-1] == 4 and found[1] == 1 and found[-2] == 3
    assert -1 not in found and 2 in found
    # the function moves only along the straight ends and the two "a" segments
    assert found == sorted(found)


def test_theorem1_path_peaks_at_the_dropout_networks():
    rng = np.random.default_rng(3)
    N = 10
    A, B = _net(rng, N), _net(rng, N)
    kA = [np.sort(rng.choice(N, N // 2, replace=False)) for _ in range(H)]
    kB = [np.sort(rng.choice(N, N // 2, replace=False)) for _ in range(H)]
    path = theorem1_path(A, B, kA, kB)
    assert path.n_segments == 2 * (1 + 5 * (H - 1)) + 8
    assert "general" not in path.kinds
    X = rng.normal(size=(40, D))
    np.testing.assert_allclose(_forward(path.weights[0], X), _forward(A, X))
    np.testing.assert_allclose(_forward(path.weights[-1], X), _forward(B, X))
    # the dropout networks of Definition 1 at layers >= 1: kept outgoing weights times 2
    dA = [w.copy() for w in A]
    for m in range(1, H + 1):
        rows = slice(None) if m == H else kA[m]
        drop = np.setdiff1d(np.arange(N), kA[m - 1])
        dA[m][:, drop] = 0.0
        dA[m][:, kA[m - 1]] *= 2.0
        if m < H:
            dA[m][np.setdiff1d(np.arange(N), rows)] = A[m][np.setdiff1d(np.arange(N), rows)]
    assert any(np.allclose(_forward(W, X), _forward(dA, X), rtol=1e-10, atol=1e-10)
               for W in path.weights)
