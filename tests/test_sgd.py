"""One-pass SGD (3.3): against a plain numpy loop, reproducibility, divergence, noise."""

import numpy as np
import pytest

from meanfield.kernels import sgd as k_sgd
from meanfield.stepping import DivergenceError
from meanfield.tasks import teacher_student
from meanfield.twolayer import InitialLaw, TwoLayerSGD, run_sgd
from meanfield._checks import spawn


def numpy_sgd(task, a, W, X, Y, alpha, B=1, train_a=True):
    """Eq. (3.3) written directly: theta_i += 2 s (y - yhat) grad[a_i sigma(<w_i, x>)]."""
    a, W = a.copy(), W.copy()
    act = task.activation
    N = a.size
    for k in range(len(Y) // B):
        x, y = X[k * B:(k + 1) * B], Y[k * B:(k + 1) * B]
        z = x @ W.T
        err = y - act(z) @ a / N
        ga = 2 * alpha * (err @ act(z)) / B
        gW = 2 * alpha * ((err[:, None] * act.derivative(z) * a).T @ x) / B
        W += gW
        if train_a:
            a += ga
    return a, W


@pytest.mark.parametrize("act", ["relu", "tanh", "ramp"])
@pytest.mark.parametrize("B", [1, 5])
@pytest.mark.parametrize("kernel", ["serial", "parallel"])
def test_kernel_equals_numpy_eq_3_3(act, B, kernel, rng):
    task = teacher_student(6, act, width=2)
    a, W = InitialLaw().sample(40, task.d, rng)
    X, Y = task.sample(300 * B, rng)
    ref = numpy_sgd(task, a, W, X, Y, 0.01, B)
    a1, W1 = a.copy(), W.copy()
    s = np.full(300, 0.01)
    f = getattr(k_sgd, f"sgd_{'b1' if B == 1 else 'batch'}_{kernel}")
    assert f(a1, W1, X, Y, s, B, task.activation.kind, task.activation.p, True, 0.0, rng) == 300
    np.testing.assert_allclose(a1, ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W1, ref[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("act", ["relu", "erf", "tanh", "ramp", "sigmoid", "softplus"])
@pytest.mark.parametrize("B", [1, 3])
def test_serial_and_parallel_builds_give_the_same_bits(act, B, rng):
    """With one numba thread choose() runs the serial loop (the tiled batch-1 loop,
    or the row loop built serial) instead of the parallel one (the row loop) for
    the activations in SERIAL_EQUALS_PARALLEL: the builds must give the same bits
    there, and the generic builds (any kind) for every activation.  N = 75: tiles of 16 and a
    partial one, odd counts of active rows."""
    task = teacher_student(13, act, width=2)
    kind, p = task.activation.kind, task.activation.p
    a0, W0 = InitialLaw().sample(75, task.d, rng)
    X, Y = task.sample(200 * B, rng)
    s = (0.5 + rng.random(200)) * 0.05
    serial, parallel = ((k_sgd._sgd_b1, k_sgd._sgd_b1_rows) if B == 1
                        else (k_sgd._sgd_batch, k_sgd._sgd_batch))
    for build_kind in [-1] + ([kind] if kind in k_sgd.SERIAL_EQUALS_PARALLEL else []):
        for train_a in (True, False):
            out = []
            builds = ((serial, False), (parallel, True)) + (((parallel, False),) if B == 1 else ())
            for f, par in builds:
                a, W = a0.copy(), W0.copy()
                done = k_sgd._build(f, par, build_kind)(a, W, X, Y, s, B, kind, p, train_a,
                                                        0.0, np.random.default_rng(0))
                out.append((done, a, W))
            for done, a, W in out[1:]:
                assert done == out[0][0] == 200
                np.testing.assert_array_equal(a, out[0][1])
                np.testing.assert_array_equal(W, out[0][2])


def test_one_thread_runs_the_serial_loop_where_it_gives_the_same_bits():
    import numba

    from meanfield.activations import RELU, SIGMOID
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert k_sgd.choose(100, 100, 1, 0.0) is k_sgd.sgd_b1_serial
        assert k_sgd.choose(100, 100, 1, 0.0, RELU) is k_sgd._build(k_sgd._sgd_b1, False, RELU)
        assert k_sgd.choose(100, 100, 1, 0.0, SIGMOID) is k_sgd._build(k_sgd._sgd_b1_rows, True,
                                                                       SIGMOID)
        assert k_sgd.choose(10, 10, 1, 0.0, SIGMOID) is k_sgd._build(k_sgd._sgd_b1, False,
                                                                     SIGMOID)
        # W beyond L2: the serial row loop
        assert k_sgd.choose(10000, 100, 1, 0.0, RELU) is k_sgd._build(k_sgd._sgd_b1_rows, False,
                                                                      RELU)
        if threads > 1:
            numba.set_num_threads(2)
            assert k_sgd.choose(100, 100, 1, 0.0) is k_sgd.sgd_b1_parallel
    finally:
        numba.set_num_threads(threads)


def test_stepper_consumes_the_documented_data_stream(rng):
    task = teacher_student(5, "erf", width=2)
    a, W = InitialLaw().sample(30, task.d, rng)
    stepper = TwoLayerSGD((a, W), task, 0.02, rng=7)
    stepper.plan(250 * 0.02)
    stepper.advance(250)
    data_rng, _ = spawn(7, 2)
    X, Y = task.sample(stepper._block, data_rng)
    ref = numpy_sgd(task, a, W, X[:250], Y[:250], 0.02)
    np.testing.assert_allclose(stepper.W, ref[1], rtol=1e-10, atol=1e-12)


def test_same_seed_bit_identical_and_snapshot_independent(rng):
    task = teacher_student(8, "relu")
    a, W = InitialLaw().sample(50, task.d, rng)
    t1 = run_sgd((a, W), task, 0.01, [0.0, 1.0, 2.0], rng=3, progress=False)
    t2 = run_sgd((a, W), task, 0.01, [0.0, 1.0, 2.0], rng=3, progress=False)
    t3 = run_sgd((a, W), task, 0.01, np.linspace(0, 2, 7), rng=3, progress=False)
    np.testing.assert_array_equal(t1.W, t2.W)
    np.testing.assert_array_equal(t1.risk, t2.risk)
    np.testing.assert_array_equal(t1.W[-1], t3.W[-1])
    t4 = run_sgd((a, W), task, 0.01, [2.0], rng=4, progress=False)
    assert not np.array_equal(t1.W[-1], t4.W[0])
    assert t1.steps.tolist() == [0, 100, 200]
    assert t1.risk[-1] < t1.risk[0]      # it learns


def test_frozen_output_weights_stay_fixed(rng):
    task = teacher_student(5, "tanh")
    a, W = InitialLaw().sample(20, task.d, rng)
    tr = run_sgd((a, W), task, 0.01, [1.0], train_a=False, progress=False)
    np.testing.assert_array_equal(tr.a[0], a)
    assert not np.array_equal(tr.W[0], W)


def test_noise_has_the_documented_variance():
    """With a = 0 frozen the gradient vanishes: W moves by sqrt(4 s tau) N(0, I) per step."""
    task = teacher_student(10, "relu")
    a, W = np.zeros(200), np.zeros((200, 10))
    alpha, tau, k = 0.01, 0.3, 100
    tr = run_sgd((a, W), task, alpha, [k * alpha], temperature=tau, train_a=False, progress=False)
    var = tr.W[0].var()
    expected = 4 * alpha * tau * k
    # 2000 i.i.d. Gaussians: the sample variance has relative sd sqrt(2/2000) = 0.032
    assert var == pytest.approx(expected, rel=5 * 0.032)


def test_schedule_scales_the_step(rng):
    task = teacher_student(5, "erf")
    a, W = InitialLaw().sample(10, task.d, rng)
    t1 = run_sgd((a, W), task, 0.01, [0.5], schedule=lambda t: 2.0 + 0 * t, progress=False, rng=1)
    s = TwoLayerSGD((a, W), task, 0.01, rng=1)
    data_rng, _ = spawn(1, 2)
    X, Y = task.sample(s._block, data_rng)
    ref = numpy_sgd(task, a, W, X[:50], Y[:50], 0.02)
    np.testing.assert_allclose(t1.W[0], ref[1], rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="schedule must return finite values >= 0"):
        run_sgd((a, W), task, 0.01, [0.5], schedule=lambda t: -1.0, progress=False)


def test_divergence_reports_the_step_and_keeps_snapshots(rng):
    task = teacher_student(10, "relu")
    a, W = InitialLaw(a_mean=1.0).sample(20, task.d, rng)
    with pytest.raises(DivergenceError) as info:
        run_sgd((a, W), task, 5.0, [0.0, 5.0, 1e5], progress=False)
    err = info.value
    assert err.step >= 1
    assert len(err.partial.times) >= 1 and err.partial.times[0] == 0.0
    assert "step" in str(err)


def test_bad_arguments_name_themselves(rng):
    task = teacher_student(4, "relu")
    a, W = InitialLaw().sample(5, 4, rng)
    for kwargs, msg in [({"alpha": 0.0}, "alpha must be"), ({"alpha": -1.0}, "alpha must be"),
                        ({"alpha": 0.1, "batch_size": 0}, "batch_size must be"),
                        ({"alpha": 0.1, "temperature": -1}, "temperature must be")]:
        with pytest.raises(ValueError, match=msg):
            TwoLayerSGD((a, W), task, **kwargs)
    with pytest.raises(ValueError, match="W must have shape"):
        TwoLayerSGD((a, W[:, :3]), task, 0.1)
    with pytest.raises(ValueError, match="N must be >= 1"):
        TwoLayerSGD((a[:0], W[:0]), task, 0.1)
    with pytest.raises(ValueError, match="times must be non-decreasing"):
        run_sgd((a, W), task, 0.1, [1.0, 0.5], progress=False)
