"""Population functionals of the Gaussian tasks against Monte Carlo and finite differences."""

import numpy as np
import pytest

from meanfield.tasks import isotropic_gaussians, teacher_student
from tests.conftest import ACTIVATIONS, TASKS, make_task


def _net(rng, N, d, scale=1.2):
    return rng.standard_normal(N), scale * rng.standard_normal((N, d)) / np.sqrt(d)


@pytest.mark.parametrize("kind", TASKS)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_V_U_risk_against_monte_carlo(kind, act, rng):
    task = make_task(kind, act)
    a, W = _net(rng, 4, task.d)
    n = 10 ** 6
    X, y = task.sample(n, rng)
    S = task.activation(X @ W.T) * a          # sigma_*(x; theta_i), shape (n, N)
    # V
    v_mc = -(y[:, None] * S)
    np.testing.assert_array_less(np.abs(task.V(a, W) - v_mc.mean(0)),
                                 5 * v_mc.std(0) / np.sqrt(n) + 1e-6)
    # U (all pairs, diagonal included)
    U = task.U(a, W, a, W)
    u_mc = S[:, :, None] * S[:, None, :]
    np.testing.assert_array_less(np.abs(U - u_mc.mean(0)), 5 * u_mc.std(0) / np.sqrt(n) + 1e-6)
    # E[y^2] and the risk = MSE of a large sample
    assert abs(task.ey2 - np.mean(y ** 2)) <= 5 * np.std(y ** 2) / np.sqrt(n) + 1e-12
    sq = (y - S.mean(1)) ** 2
    assert abs(task.risk(a, W) - sq.mean()) < 5 * sq.std() / np.sqrt(n)


@pytest.mark.parametrize("kind", TASKS)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_gradients_against_finite_differences(kind, act, rng):
    task = make_task(kind, act)
    a, W = _net(rng, 3, task.d)
    a2, W2 = _net(rng, 2, task.d)
    _, dVda, dVdW = task.grad_V(a, W)
    dUda, dUdW = task.grad1_U(a, W, a2, W2)
    np.testing.assert_allclose(dVda, task.V(a, W) / a, rtol=1e-12)
    h = 1e-4 if act in ("relu", "erf") else 1e-2  # quadrature noise / h stays < 1e-6
    for j in range(task.d):
        E = np.zeros_like(W)
        E[:, j] = h
        fd = (8 * (task.V(a, W + E) - task.V(a, W - E))
              - (task.V(a, W + 2 * E) - task.V(a, W - 2 * E))) / (12 * h)
        np.testing.assert_allclose(dVdW[:, j], fd, rtol=1e-5, atol=1e-6)
        fdU = (8 * (task.U(a, W + E, a2, W2) - task.U(a, W - E, a2, W2))
               - (task.U(a, W + 2 * E, a2, W2) - task.U(a, W - 2 * E, a2, W2))) / (12 * h)
        np.testing.assert_allclose(dUdW[:, :, j], fdU, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dUda * a[:, None], task.U(a, W, a2, W2), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("act", ["relu", "erf", "tanh"])
def test_risk_gradient_is_two_over_N_grad_psi(act, rng):
    """grad_{theta_i} L_N(theta) = (2/N) grad Psi(theta_i; rho_N): checks grad_psi
    against finite differences of the exact risk."""
    task = make_task("teacher-student", act, d=4)
    a, W = _net(rng, 5, task.d)
    N = a.size
    _, ga, gW = task.grad_psi(a, W, a, W)
    h = 1e-4
    for i in (0, 3):
        da = np.zeros(N)
        da[i] = h
        fd = (task.risk(a + da, W) - task.risk(a - da, W)) / (2 * h)
        assert 2 * ga[i] / N == pytest.approx(fd, rel=1e-6, abs=1e-9)
        for j in range(task.d):
            E = np.zeros_like(W)
            E[i, j] = h
            fd = (task.risk(a, W + E) - task.risk(a, W - E)) / (2 * h)
            assert 2 * gW[i, j] / N == pytest.approx(fd, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_risk_exact_with_zero_and_repeated_neurons(act, rng):
    task = make_task("teacher-student", act)
    a, W = _net(rng, 3, task.d)
    W[1] = 0.0                               # zero weight vector
    a2 = np.concatenate([a, a]) / 1.0
    W2 = np.concatenate([W, W])              # every neuron repeated
    r1, r2 = task.risk(a, W), task.risk(a2, W2)
    assert np.isfinite(r1)
    # the duplicated network computes the same function
    assert r2 == pytest.approx(r1, rel=1e-12, abs=1e-14)
    _, ga, gW = task.grad_psi(a2, W2, a2, W2)
    assert np.all(np.isfinite(ga)) and np.all(np.isfinite(gW))


def test_relu_teacher_student_zero_risk_at_the_teacher():
    task = teacher_student(6, "relu", width=3)
    # the student equal to the teacher (N = M_t, a = b) has zero risk
    assert task.risk(task.teacher.b, task.teacher.V) == pytest.approx(0.0, abs=1e-14)


def test_sample_is_reproducible_and_shaped():
    task = isotropic_gaussians(7, 0.3, "relu")
    X1, y1 = task.sample(100, np.random.default_rng(3))
    X2, y2 = task.sample(100, 3)
    assert X1.shape == (100, 7) and y1.shape == (100,)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert set(np.unique(y1)) == {-1.0, 1.0}


def test_bad_input_names_the_argument():
    task = teacher_student(4, "relu")
    with pytest.raises(ValueError, match="W must have shape"):
        task.risk(np.ones(3), np.ones((3, 5)))
    with pytest.raises(ValueError, match="disagree on N"):
        task.risk(np.ones(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="d must be an integer >= 1"):
        teacher_student(0)
    with pytest.raises(ValueError, match="delta must lie in"):
        isotropic_gaussians(3, 1.5)
    with pytest.raises(ValueError, match="unknown activation"):
        teacher_student(3, "gelu")
    with pytest.raises(ValueError, match="must be finite"):
        task.risk(np.array([np.nan]), np.ones((1, 4)))
