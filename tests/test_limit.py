"""Particle limit: integrator orders, coupling of tagged particles, noise."""

import numpy as np
import pytest

from meanfield.stepping import EULER, HEUN, RK4, get_method, rk_step
from meanfield.tasks import teacher_student
from meanfield.twolayer import InitialLaw, ParticleLimit, run_limit


@pytest.mark.parametrize("tab", [EULER, HEUN, RK4])
def test_rk_order_on_a_known_solution(tab):
    """y' = (-y2 + cos t, y1) style linear ODE with known solution: rotation."""
    def rhs(t, y):
        return (-y[1], y[0])

    def solve(n):
        y = (np.array([1.0]), np.array([0.0]))
        h = 1.0 / n
        for k in range(n):
            y = rk_step(tab, rhs, k * h, y, h)
        return np.array([y[0][0], y[1][0]])

    exact = np.array([np.cos(1.0), np.sin(1.0)])
    errs = [np.linalg.norm(solve(n) - exact) for n in (20, 40, 80)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert orders == pytest.approx([tab.order] * 2, abs=0.15)


@pytest.mark.parametrize("method", ["euler", "heun", "rk4"])
def test_particle_limit_shows_its_order(method):
    task = teacher_student(4, "erf", width=2)
    rng = np.random.default_rng(0)
    a, W = InitialLaw(a_std=1.0, w_std=1.5).sample(30, task.d, rng)
    p = get_method(method).order

    def final(h):
        tr = run_limit((a, W), task, [0.8], (a[:5], W[:5]), h=h, method=method, progress=False)
        return np.concatenate([tr.a[0], tr.W[0].ravel()])

    ref = run_limit((a, W), task, [0.8], (a[:5], W[:5]), h=0.005, method="rk4", progress=False)
    ref = np.concatenate([ref.a[0], ref.W[0].ravel()])
    e1, e2 = (np.abs(final(h) - ref).max() for h in (0.1, 0.05))
    assert np.log2(e1 / e2) == pytest.approx(p, abs=0.35)


def test_tagged_particle_equal_to_a_reference_particle_follows_it():
    task = teacher_student(5, "relu", width=2)
    a, W = InitialLaw().sample(50, task.d, np.random.default_rng(1))
    tr = run_limit((a, W), task, [0.0, 0.5, 1.0], (a[:3], W[:3]), h=0.1, progress=False)
    lim = ParticleLimit((a, W), task, h=0.1)
    lim.plan(1.0)
    lim.advance(10)
    ref_a, ref_W = lim.population()
    np.testing.assert_allclose(tr.a[-1], ref_a[:3], rtol=1e-12)
    np.testing.assert_allclose(tr.W[-1], ref_W[:3], rtol=1e-12)
    assert tr.risk[-1] < tr.risk[0]
    assert tr.risk[-1] == pytest.approx(task.risk(ref_a, ref_W))


def test_lands_exactly_on_snapshot_times():
    task = teacher_student(3, "erf")
    a, W = InitialLaw().sample(10, 3, np.random.default_rng(0))
    tr = run_limit((a, W), task, [0.0, 0.13, 0.3], h=0.05, progress=False)
    np.testing.assert_allclose(tr.times, [0.0, 0.13, 0.3], rtol=0, atol=1e-15)


def test_limit_noise_variance():
    task = teacher_student(10, "relu")
    a, W = np.zeros(200), np.zeros((200, 10))
    tr = run_limit((a, W), task, [1.0], h=0.1, method="euler", temperature=0.2, train_a=False,
                   progress=False, tagged=(a, W))
    assert tr.W[0].var() == pytest.approx(4 * 0.2 * 1.0, rel=5 * np.sqrt(2 / 2000))


def test_bad_arguments():
    task = teacher_student(3, "relu")
    a, W = InitialLaw().sample(4, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="method must be one of"):
        ParticleLimit((a, W), task, method="rk45")
    with pytest.raises(ValueError, match="h must be"):
        ParticleLimit((a, W), task, h=0)
    with pytest.raises(ValueError, match="method must be 'euler' when temperature"):
        ParticleLimit((a, W), task, temperature=0.1)
    with pytest.raises(ValueError, match="M must be >= 1"):
        ParticleLimit((a[:0], W[:0]), task)


def test_arrays_checked_once_at_the_boundary(monkeypatch):
    """The particle limit checks its populations when built; its RK stages and risks trust
    them, so the number of array checks does not grow with the number of steps."""
    import meanfield._checks as checks

    calls = []
    real = checks.network
    monkeypatch.setattr(checks, "network", lambda *a, **k: calls.append(1) or real(*a, **k))
    task = teacher_student(5, "erf", width=2)
    rng = np.random.default_rng(0)
    a, W = InitialLaw().sample(20, 5, rng)
    counts = []
    for steps in (2, 8):
        calls.clear()
        lim = ParticleLimit((a, W), task, (a[:3], W[:3]), h=0.05)
        at_start = len(calls)
        run_limit((a, W), task, [0.0, 0.05 * steps], (a[:3], W[:3]), h=0.05, progress=False)
        counts.append((at_start, len(calls)))
        assert lim.M == 20
    # two checks (reference and tagged) per construction, nothing per RK stage or risk
    assert counts[0][0] == 2
    assert counts[0][1] == counts[1][1]


def test_a_stage_that_leaves_the_finite_range_is_a_divergence():
    from meanfield.stepping import DivergenceError

    task = teacher_student(3, "erf", width=1)
    lim = ParticleLimit((np.ones(2), np.ones((2, 3))), task, h=0.1)
    with pytest.raises(DivergenceError):
        lim.field(0.0, (np.array([np.nan, 1.0]), np.ones((2, 3))))


def test_resolved_step_halves_until_the_limit_is_resolved():
    """On inputs like standardised pixels (|x|^2 = d = 64, one direction carrying most of
    it) h = 0.1 is far too coarse: the step rule halves it, each check is the difference of
    two direct runs, the last within the tolerances and the first not; no resolved step in
    reach is an error."""
    from meanfield.tasks import EmpiricalTask
    from meanfield.twolayer import resolved_step

    rng = np.random.default_rng(0)
    X = 0.9 * rng.standard_normal((100, 1)) + 0.45 * rng.standard_normal((100, 64))
    task = EmpiricalTask(X, np.sign(X[:, 0] + X[:, 1]), "erf")
    law = InitialLaw(a_mean=0.0, a_std=1.0, w_std=1.0, a_law="uniform")
    ref, tag = law.sample(60, 64, rng), law.sample(10, 64, rng)
    times = np.linspace(0.0, 0.4, 5)
    h, checks = resolved_step(ref, task, times, tag, h=0.1, risk_tol=1e-3, move_tol=1e-2)
    assert h < 0.1 and [c["h"] for c in checks] == [0.1 / 2 ** k for k in range(len(checks))]
    assert checks[0]["risk_change"] > 1e-3 or checks[0]["move"] > 1e-2
    assert checks[-1]["risk_change"] <= 1e-3 and checks[-1]["move"] <= 1e-2
    a = run_limit(ref, task, times, tag, h=h, method="rk4", progress=False)
    b = run_limit(ref, task, times, tag, h=h / 2, method="rk4", progress=False)
    assert checks[-1]["risk_change"] == np.abs(a.risk - b.risk).max()
    assert checks[-1]["move"] == pytest.approx(
        np.sqrt((a.a - b.a) ** 2 + ((a.W - b.W) ** 2).sum(-1)).max(), rel=1e-12)
    with pytest.raises(ValueError, match="not resolved down to h = 0.05"):
        resolved_step(ref, task, times, tag, h=0.1, max_halvings=1)
    for bad, name in (({"h": 0.0}, "h"), ({"move_tol": -1.0}, "move_tol"),
                      ({"max_halvings": 0}, "max_halvings")):
        with pytest.raises(ValueError, match=name):
            resolved_step(ref, task, times, tag, **bad)


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_the_reference_population_takes_each_pair_once_in_the_field(name, monkeypatch):
    """The field's reference rows sum each pair once (pair_sums_self), its tagged
    rows over every column: the same field as the full pair sums (a task given
    them through with_pair_sums) to rounding, at the first stage and after RK4
    steps; and the one-pair path really ran (it is called once per field)."""
    from meanfield.kernels.gaussian import pair_sums
    from meanfield.tasks import gaussian

    task = teacher_student(6, name, width=3)
    full = task.with_pair_sums(lambda *args, **kw: pair_sums(*args, **kw))
    rng = np.random.default_rng(4)
    a, W = InitialLaw().sample(300, task.d, rng)
    tag = InitialLaw().sample(40, task.d, rng)
    calls = []
    real = gaussian.pair_sums_self
    monkeypatch.setattr(gaussian, "pair_sums_self",
                        lambda *x, **k: calls.append(1) or real(*x, **k))
    one, two = (ParticleLimit((a, W), t, tagged=tag, h=0.1) for t in (task, full))
    for x, y in zip(one.field(0.0, one.state), two.field(0.0, two.state)):
        assert np.abs(x - y).max() <= 1e-14 * np.abs(y).max()
    assert len(calls) == 1
    got, want = (run_limit((a, W), t, [1.0], tagged=tag, h=0.1, progress=False)
                 for t in (task, full))
    np.testing.assert_allclose(got.W[-1], want.W[-1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(got.a[-1], want.a[-1], rtol=0, atol=1e-13)
    assert got.risk[-1] == pytest.approx(want.risk[-1], rel=1e-13)


def test_only_the_memory_of_the_first_rows_counts_as_the_population_itself():
    from meanfield.tasks.protocol import leading_rows

    W = np.arange(12.0).reshape(6, 2)
    assert leading_rows(W, W) and leading_rows(W, W[:3])
    assert not leading_rows(W, W[:3].copy())  # equal numbers, but not known to stay so
    assert not leading_rows(W, W[1:4]) and not leading_rows(W, W[::2])
    assert not leading_rows(W, W[:0]) and not leading_rows(W[:3], W)
    # the same bytes read as other numbers (review, 2026-12-08: the check ignored dtype)
    assert not leading_rows(W, W.view(np.int64)[:3])
    assert not leading_rows(W, W.view(np.float32)[:3, ::2])
