"""The seven-segment path of Theorem 1(B), the straight-line baselines and neuron alignment."""

import numpy as np
import pytest

from meanfield.tasks import teacher_student
from meanfield.dropout import draw_keep as random_subset
from meanfield.twolayer import InitialLaw, TwoLayerNet, dropout_loss, run_sgd
from meanfield.connectivity import PathVertices
from meanfield.twolayer.paths import align, aligned_path, seven_segment_path, straight_path

D = 4


def _trained_pair(task, N=24):
    """Two SGD solutions: different seeds, different initial laws, different step counts."""
    rng = np.random.default_rng(5)
    a, W = InitialLaw().sample(N, D, rng)
    a2, W2 = InitialLaw(a_mean=0.5, a_std=0.5, w_std=1.5).sample(N, D, rng)
    t1 = run_sgd((a, W), task, 0.02, [0.3], rng=rng, progress=False)
    t2 = run_sgd((a2, W2), task, 0.01, [0.6], rng=rng, progress=False)
    return t1.a[-1], t1.W[-1], t2.a[-1], t2.W[-1]


@pytest.fixture(scope="module", params=["relu", "erf", "ramp"])
def setting(request):
    task = teacher_student(D, request.param, width=2)
    a, W, a2, W2 = _trained_pair(task)
    A = random_subset(a.size, a.size // 2, 99)
    return task, (a, W, a2, W2), A, seven_segment_path(task, a, W, a2, W2, A)


def test_ends_are_exactly_the_two_networks(setting):
    _, (a, W, a2, W2), _, path = setting
    assert path.n_segments == 7 and len(path.labels) == 8
    for s, (x, y) in ((0, (a, W)), (7, (a2, W2))):
        pW, (pa,) = path.point(s)  # vertices are [W, a[None]]
        assert np.array_equal(pa, x) and np.array_equal(pW, y)


def test_segment_kinds_follow_the_construction(setting):
    assert setting[3].kinds == ("a", "w0", "a", "w0", "a", "w0", "a")


def test_vertex_losses_match_direct_evaluation(setting):
    task, (a, W, a2, W2), A, path = setting
    vl = path.vertex_losses()
    LA, LA2 = dropout_loss(TwoLayerNet(task, a, W), A), dropout_loss(TwoLayerNet(task, a2, W2), A)
    expect = [task.risk(a, W), LA, LA, LA2, LA2, LA2, LA2, task.risk(a2, W2)]
    assert vl == pytest.approx(expect, rel=1e-12, abs=1e-15)
    for k in range(8):
        W_k, (a_k,) = path.vertex(k)
        assert vl[k] == pytest.approx(task.risk(a_k, W_k), rel=1e-13)


def test_dense_maximum_sits_at_a_vertex(setting):
    task, (a, W, a2, W2), A, path = setting
    vl = path.vertex_losses()
    for k, kind in enumerate(path.kinds):
        lam, f = path.segment_losses(k, 17, closed_form=False)  # direct risk at every point
        assert f[0] == pytest.approx(vl[k], rel=1e-12) and f[-1] == pytest.approx(vl[k + 1],
                                                                                rel=1e-12)
        if kind == "w0":
            assert np.ptp(f) <= 1e-12 * f.max()
        else:  # convex quadratic: nonnegative second differences, max at an end
            assert np.diff(f, 2).min() >= -1e-12
            assert f.max() <= max(f[0], f[-1]) + 1e-13
    s, f = path.dense(17, closed_form=False)
    assert f.max() <= vl.max() + 1e-13
    eps_D = max(abs(vl[1] - vl[0]), abs(vl[3] - vl[-1]))
    assert 0.0 <= path.barrier() <= eps_D + 1e-15


def test_closed_form_segments_agree_with_direct_risk(setting):
    path = setting[3]
    for k in (0, 2, 4, 6):
        lam, f_closed = path.segment_losses(k, 9)
        _, f_direct = path.segment_losses(k, 9, closed_form=False)
        np.testing.assert_allclose(f_closed, f_direct, rtol=1e-11, atol=1e-15)
    with pytest.raises(ValueError, match="not 'a'"):
        path.quadratic(1)


def test_risk_coefficients_extrapolate_beyond_the_segment():
    task = teacher_student(D, "erf", width=2)
    rng = np.random.default_rng(3)
    a0, a1 = rng.standard_normal(9), rng.standard_normal(9)
    W = rng.standard_normal((9, D))
    c = task.risk_coefficients(a0, a1, W)
    for s in (-1.5, 0.0, 0.3, 1.0, 2.2):
        assert c[0] + c[1] * s + c[2] * s * s == pytest.approx(
            task.risk((1 - s) * a0 + s * a1, W), rel=1e-12)
    assert c[2] > 0


def test_odd_N_and_bad_inputs():
    task = teacher_student(D, "relu", width=2)
    rng = np.random.default_rng(0)
    a, W = InitialLaw().sample(11, D, rng)
    a2, W2 = InitialLaw().sample(11, D, rng)
    p = seven_segment_path(task, a, W, a2, W2, [0, 3, 5, 7, 9])
    assert p.vertex_losses()[1] == pytest.approx(dropout_loss(TwoLayerNet(task, a, W),
                                                              [0, 3, 5, 7, 9]))
    with pytest.raises(ValueError, match="at most N/2 = 5"):
        seven_segment_path(task, a, W, a2, W2, np.arange(6))
    with pytest.raises(ValueError, match="same N"):
        seven_segment_path(task, a, W, a2[:10], W2[:10], [0])
    with pytest.raises(ValueError, match="duplicate"):
        seven_segment_path(task, a, W, a2, W2, [1, 1])
    with pytest.raises(ValueError, match=r"s must lie in \[0, 7\]"):
        p.point(7.5)
    with pytest.raises(ValueError, match="labels"):
        PathVertices([[W, a[None]], [W2, a2[None]]], ("general",), ("one",))


def test_straight_line_maximum_is_refined_from_the_grid():
    task = teacher_student(D, "relu", width=2)
    a, W, a2, W2 = _trained_pair(task, N=16)
    line = straight_path(task, a, W, a2, W2)
    assert line.kinds == ("general",)
    pW, (pa,) = line.point(0.5)
    np.testing.assert_allclose(pa, (a + a2) / 2, rtol=1e-15)
    top, where = line.max_loss(n_grid=31)
    _, f33 = line.dense(33)
    _, f_fine = line.dense(1025)
    assert f33.max() <= top <= f_fine.max() + 1e-9  # refining never loses the grid maximum
    assert top == pytest.approx(f_fine.max(), rel=1e-6)
    assert line.loss(where) == pytest.approx(top, rel=1e-12)
    assert line.barrier(n_grid=31) == pytest.approx(top - max(f_fine[0], f_fine[-1]), rel=1e-12)


def test_alignment_undoes_a_permutation_and_beats_other_matchings():
    task = teacher_student(D, "relu", width=2)
    rng = np.random.default_rng(4)
    a, W = InitialLaw().sample(30, D, rng)
    perm = rng.permutation(30)
    got = align(a, W, a[perm], W[perm])
    np.testing.assert_array_equal(perm[got], np.arange(30))
    flat = aligned_path(task, a, W, a[perm], W[perm])
    assert flat.barrier() == 0.0 and np.array_equal(flat.point(0.5)[0], W)

    a2, W2 = InitialLaw().sample(30, D, rng)
    p = align(a, W, a2, W2)

    def cost(q):
        return np.sum((a - a2[q]) ** 2) + np.sum((W - W2[q]) ** 2)
    assert all(cost(p) <= cost(rng.permutation(30)) for _ in range(200))
    line = aligned_path(task, a, W, a2, W2)
    assert line.vertex_losses()[-1] == pytest.approx(task.risk(a2, W2), rel=1e-12)
