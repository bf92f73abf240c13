"""meanfield.dropout (one network protocol, one rescaling, one kept-set drawer) and the one
path type with its barrier (meanfield.connectivity.vertices)."""

import numpy as np
import pytest

from meanfield import TORCH_HINT
from meanfield.connectivity import PathVertices, barrier, dropout_connect, segment_kind
from meanfield.dropout import (
    Network,
    check_keep,
    draw_keep,
    dropout_gap,
    dropout_loss,
    first_half,
    keep_masks,
    mask_keep,
)
from meanfield.multilayer import init_net
from meanfield.tasks import teacher_student
from meanfield.twolayer import TwoLayerNet, population_risk


def test_draw_keep_consumes_the_generator_as_each_former_drawer_did():
    """The streams of random_subset / random_keep, random_half_masks, nested_subsets and
    Algorithm 1's Bernoulli dropout, pinned so stored tables keep their kept sets."""
    g, ref = np.random.default_rng(1), np.random.default_rng(1)
    for _ in range(3):
        np.testing.assert_array_equal(draw_keep(20, 7, g),
                                      np.sort(ref.choice(20, 7, replace=False)))
    sets = draw_keep(12, 6, g, n_hidden=3, n_draws=2)
    for draw in sets:
        for A in draw:
            np.testing.assert_array_equal(A, np.sort(ref.choice(12, 6, replace=False)))
    masks = draw_keep(10, 5, g, n_hidden=2, n_draws=4, method="ranks")
    np.testing.assert_array_equal(masks, ref.random((4, 2, 10)).argsort(-1) < 5)
    assert masks.shape == (4, 2, 10) and np.all(masks.sum(-1) == 5)
    nested = draw_keep(30, [4, 9], g, method="nested")
    perm = ref.permutation(30)
    for A, s in zip(nested, (4, 9)):
        np.testing.assert_array_equal(A, np.sort(perm[:s]))
    kept = draw_keep(8, 0.3, g, n_hidden=2, method="bernoulli")
    np.testing.assert_array_equal(kept, [ref.random(8) >= 0.3 for _ in range(2)])
    assert g.random() == ref.random()  # both generators at the same place
    with pytest.raises(ValueError, match="method must be one of"):
        draw_keep(4, 2, g, method="halves")


def test_check_keep_and_masks():
    assert [list(k) for k in check_keep(np.array([3, 1]), 2, 4)] == [[1, 3], [1, 3]]
    assert list(check_keep([np.array([3, 1])], 1, 4, sort=False)[0]) == [3, 1]
    keep = [np.array([0, 2]), np.array([1])]
    m = keep_masks(keep, 3)
    np.testing.assert_array_equal(m, [[1, 0, 1], [0, 1, 0]])
    assert [list(k) for k in mask_keep(m)] == [[0, 2], [1]]
    assert [list(k) for k in first_half(5, 2)] == [[0, 1], [0, 1]]
    with pytest.raises(ValueError, match=r"\|A\| must lie in \[1, N\] = \[1, 4\]"):
        check_keep(np.arange(5), 1, 4)


def test_every_model_is_a_network_whose_full_keep_is_the_full_net(rng):
    task = teacher_student(4, "relu", width=2)
    a, W = rng.standard_normal(10), rng.standard_normal((10, 4)) / 2
    two = TwoLayerNet(task, a, W)
    multi = init_net(4, 10, L=3, rng=3)
    X = rng.standard_normal((6, 4))
    for net in (two, multi):
        assert isinstance(net, Network)
        np.testing.assert_allclose(net.forward(X, keep=np.arange(10)), net.forward(X),
                                   rtol=1e-13)
    # two layers: the dropout network is the |A|-neuron net of the kept neurons (eq. 3.4)
    A = np.array([7, 2, 5])
    np.testing.assert_allclose(two.forward(X, A), TwoLayerNet(task, a[A], W[A]).forward(X),
                               rtol=1e-14)
    assert dropout_loss(two, A, population_risk) == task.risk(a[A], W[A])
    assert dropout_gap(two, A, population_risk) == abs(task.risk(a, W) - task.risk(a[A], W[A]))
    # the forward pass agrees with the exact risk on a large sample
    X, y = task.sample(200000, np.random.default_rng(0))
    assert np.mean((two.forward(X, A) - y) ** 2) == pytest.approx(two.risk(A), rel=0.02)


def test_torch_net_takes_kept_sets_as_well_as_masks(rng):
    torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_HINT}")
    from meanfield.torch import FullyConnectedNet

    net = FullyConnectedNet(4, 10, 2, depth=3, dtype=torch.float64, device="cpu")
    assert isinstance(net, Network) and net.n_hidden == 2
    X = rng.standard_normal((5, 4))
    keep = draw_keep(10, 4, 0, n_hidden=2)
    mask = torch.as_tensor(keep_masks(keep, 10))
    torch.testing.assert_close(net(X, keep), net(X, mask), rtol=0, atol=0)
    with pytest.raises(ValueError, match="one index set per hidden layer"):
        net(X, [np.arange(3)] * 3)


def test_segment_kind_and_the_path_type(rng):
    W, a = rng.standard_normal((6, 3)), rng.standard_normal(6)
    a0 = a.copy()
    a0[[1, 4]] = 0.0
    W2 = W.copy()
    W2[[1, 4]] += 1.0
    assert segment_kind([W, a[None]], [W, 2 * a[None]]) == "a"
    assert segment_kind([W, a0[None]], [W2, a0[None]]) == "w0"
    assert segment_kind([W, a[None]], [W2, a[None]]) == "general"
    path = dropout_connect([W, a[None]], [W2, a[None]], np.arange(3))
    assert all(segment_kind(u, v) in (kind, "a") for kind, u, v in
               zip(path.kinds, path.weights, path.weights[1:]))
    with pytest.raises(ValueError, match="labels must name 2 vertices"):
        PathVertices([[W, a[None]], [W2, a[None]]], ("general",), ("one",))
    with pytest.raises(ValueError, match="kinds must be among"):
        PathVertices([[W, a[None]], [W2, a[None]]], ("linear",), ("x", "y"))
    with pytest.raises(ValueError, match="vertex 1 does not have the layer shapes"):
        PathVertices([[W, a[None]], [W2[:5], a[None]]], ("general",), ("x", "y"))
    with pytest.raises(ValueError, match="no loss to evaluate the path with"):
        path.barrier()


def test_barrier_of_per_sample_losses_is_the_paired_difference(rng):
    W, W2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    a, a2 = rng.standard_normal(6), rng.standard_normal(6)
    X = rng.standard_normal((50, 3))

    def per_sample(weights):
        return (np.tanh(X @ weights[0].T) @ weights[1][0] / 6) ** 2

    path = dropout_connect([W, a[None]], [W2, a2[None]], np.arange(3))
    eps, se, risks = barrier(path, per_sample, with_error=True)
    ell = np.stack([per_sample(w) for w in path.weights])
    top, end = int(np.argmax(ell.mean(1))), 0 if ell[0].mean() >= ell[-1].mean() else -1
    assert eps == pytest.approx(np.mean(ell[top] - ell[end]), rel=1e-12)
    assert se == pytest.approx(np.std(ell[top] - ell[end], ddof=1) / np.sqrt(50), rel=1e-12)
    np.testing.assert_allclose(risks, ell.mean(1), rtol=1e-12)
    # the mean loss as a scalar loss: the same barrier, from max_loss
    assert barrier(path, lambda w: float(per_sample(w).mean())) == pytest.approx(eps, abs=1e-12)
    line = PathVertices([path.weights[0], path.weights[-1]], ("general",), ("x", "y"))
    with pytest.raises(ValueError, match="peaks at a vertex"):
        barrier(line, per_sample)
