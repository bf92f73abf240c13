"""Radial PDE of isotropic data: Hermite coefficients, rotation-averaged kernels, the quantile
map's order in M and h, and agreement with the full-space particle limit."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import eval_hermitenorm

from meanfield.activations import get_activation
from meanfield.pde import (
    RadialKernel,
    hermite_coefficients,
    radius_of_gaussian,
    radius_point,
    radius_uniform,
    sample_weights,
    solve_radial,
    sphere_moments,
)
from meanfield.tasks import isotropic_gaussians, teacher_student


@pytest.mark.parametrize("name", ["relu", "ramp", "tanh"])
def test_hermite_coefficients_against_adaptive_quadrature(name):
    """c_k(x) = E[sigma(x g) He_k(g)] / sqrt(k!) and its x-derivative (central differences)."""
    act = get_activation(name)
    x = np.array([0.3, 1.0, 2.7])
    C, dC = hermite_coefficients(name, x, 20)
    cuts = {"relu": [0.0], "ramp": [0.5, 1.5], "tanh": [0.0]}[name]
    for i, xi in enumerate(x):
        pts = [-40.0] + sorted(t / xi for t in cuts) + [40.0]
        for k in (0, 1, 4, 9, 20):
            def f(g, k=k, xi=xi):
                return (float(act(np.array([xi * g]))[0]) * eval_hermitenorm(k, g)
                        * math.exp(-g * g / 2) / math.sqrt(2 * math.pi * math.factorial(k)))
            ref = sum(quad(f, a, b, limit=400, epsabs=1e-13)[0] for a, b in zip(pts, pts[1:]))
            # exact for piecewise-linear sigma; Gauss-Hermite (200 nodes) for tanh, whose
            # poles at g = i pi / (2 x) slow it down: 1e-7 at x = 2.7
            assert C[i, k] == pytest.approx(ref, abs=1e-12 if name != "tanh" else 1e-6)
    eps = 1e-6
    num = (hermite_coefficients(name, x + eps, 20)[0]
           - hermite_coefficients(name, x - eps, 20)[0]) / (2 * eps)
    np.testing.assert_allclose(dC, num, atol=1e-7)


def test_sphere_moments_match_random_directions(rng):
    d, n = 7, 400_000
    u = rng.standard_normal((n, d))
    v = rng.standard_normal((n, d))
    c = np.einsum("ij,ij->i", u, v) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    m = sphere_moments(d, 6)
    for k in range(1, 7):
        se = np.std(c ** k) / math.sqrt(n)
        assert abs(np.mean(c ** k) - m[k]) < 4 * se
    assert m[2] == pytest.approx(1 / d) and m[4] == pytest.approx(3 / (d * (d + 2)))


@pytest.mark.parametrize("name", ["relu", "ramp"])
def test_rotation_averaged_kernels_against_monte_carlo_over_directions(name, rng):
    """v(r) is V(w) at |w| = r exactly; u(r, r') is the mean of U(w, w') over random directions
    (n pairs, within 4 standard errors)."""
    task = isotropic_gaussians(12, 0.5, name)
    kern = RadialKernel(task, a=1.3)
    r = np.array([0.2, 0.9, 2.1])
    dirs = rng.standard_normal((3, 12))
    dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    np.testing.assert_allclose(kern.v(r), task.V(np.full(3, 1.3), dirs * r[:, None]),
                               rtol=1e-12, atol=1e-14)
    n = 1500
    for r1, r2 in ((0.9, 2.1), (1.4, 1.4)):
        u1 = rng.standard_normal((n, 12))
        u2 = rng.standard_normal((n, 12))
        u1 *= r1 / np.linalg.norm(u1, axis=1)[:, None]
        u2 *= r2 / np.linalg.norm(u2, axis=1)[:, None]
        vals = np.array([task.U(np.array([1.3]), u1[i:i + 1], np.array([1.3]), u2[i:i + 1])[0, 0]
                         for i in range(n)])
        se = vals.std() / math.sqrt(n)
        assert abs(vals.mean() - kern.u(r1, r2)[0, 0]) < 4 * se


def test_quantile_map_is_second_order_in_M_and_fourth_order_in_h():
    """Uniform initial radii (a smooth quantile function): the risk at T converges as M^-2
    (midpoint rule in p) and as h^4 (RK4); mass 1 in every density."""
    task = isotropic_gaussians(20, 0.5, "ramp")
    law = radius_uniform(0.5, 1.5)
    T = [0.0, 2.0]
    ref = solve_radial(task, law, T, M=1600, h=0.05).risk[-1]
    errs = [abs(solve_radial(task, law, T, M=M, h=0.05).risk[-1] - ref) for M in (25, 50, 100)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all((orders > 1.8) & (orders < 2.2)), orders
    href = solve_radial(task, law, T, M=100, h=0.0125).risk[-1]
    e = [abs(solve_radial(task, law, T, M=100, h=h).risk[-1] - href) for h in (0.1, 0.05)]
    assert e[0] / e[1] > 2 ** 3.5, e
    sol = solve_radial(task, law, [0.0, 1.0], M=300)
    for k in range(2):
        edges, dens = sol.density(k, bins=40)
        assert float(np.sum(dens * np.diff(edges))) == pytest.approx(1.0, abs=1e-12)
    assert sol.radii.shape == (2, 300) and np.all(np.diff(sol.radii, axis=1) >= 0)


def test_pde_matches_the_full_space_particle_limit():
    """ReLU, d = 10, frozen a = 1: R(rho_t) and the mean radius of M = 800 particles in R^10
    (closed-form kernels) follow the PDE; the particle risk carries an O(1/M) diagonal and
    O(M^-1/2) sampling error, measured below 0.15% here, so 0.5% is the tolerance."""
    from meanfield.stepping import simulate
    from meanfield.twolayer.limit import ParticleLimit

    task = isotropic_gaussians(10, 0.5, "relu")
    law = radius_uniform(0.5, 1.5)
    times = np.linspace(0.0, 2.0, 5)
    sol = solve_radial(task, law, times, M=400)
    W = sample_weights(law, 800, 10, 3)
    stepper = ParticleLimit((np.ones(800), W), task, h=0.05, train_a=False)
    traj = simulate(stepper, times, progress=False)
    np.testing.assert_allclose(traj.risk, sol.risk, rtol=5e-3)
    r = np.linalg.norm(stepper.population()[1], axis=1)
    assert r.mean() == pytest.approx(sol.mean_radius()[-1], rel=0.01)
    assert sol.w1(-1, r) < 0.03  # 800 samples of a law of spread ~0.3


def test_divergence_names_the_step_and_keeps_the_snapshots():
    """A step size schedule that blows up after t = 1: DivergenceError with the run's step
    index and the snapshots taken before it."""
    from meanfield.stepping import DivergenceError

    task = isotropic_gaussians(10, 0.5, "relu")
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(DivergenceError) as err:
        solve_radial(task, radius_uniform(0.5, 1.5), [0.0, 1.0, 2.0], M=50, h=0.1,
                     schedule=lambda t: 1e300 if t > 1.05 else 1.0)
    assert err.value.step == 11 and err.value.time == pytest.approx(1.1)
    np.testing.assert_allclose(err.value.partial.times, [0.0, 1.0])
    assert err.value.partial.radii.shape == (2, 50)


def test_initial_laws_and_bad_inputs(rng):
    law = radius_of_gaussian(40, 0.8)
    W = sample_weights(law, 20000, 40, rng)
    assert np.mean(np.sum(W ** 2, axis=1)) == pytest.approx(0.64, rel=0.01)
    assert radius_point(1.0, 0.05).mean() == pytest.approx(1.0, abs=1e-6)
    task = isotropic_gaussians(5, 0.5, "relu")
    with pytest.raises(ValueError, match="isotropic Gaussians"):
        solve_radial(teacher_student(5, "relu", width=2), law, [0.0, 1.0])
    with pytest.raises(ValueError, match="M must be"):
        solve_radial(task, law, [0.0], M=0)
    with pytest.raises(ValueError, match="hi must be > lo"):
        radius_uniform(1.0, 0.5)
    with pytest.raises(ValueError, match="times must be"):
        solve_radial(task, law, [1.0, 0.5])
