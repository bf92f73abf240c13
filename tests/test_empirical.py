"""EmpiricalTask: the data-law protocol on a data set's empirical law.

Each protocol method is checked three ways: against a brute-force loop over the
rows of a small data set (to rounding, rtol 1e-11), against the closed-form
Gaussian task on a large sample of the same law (to Monte Carlo error: within 5
standard errors of the per-sample terms, each error computed from the sample),
and across block sizes (to rounding, rtol 1e-12: BLAS may order a product's
sums differently for another number of rows; bit-identical at a fixed block).
SGD, the particle limit, run_coupled and ``meanfield couple`` take it.
"""

import numpy as np
import pytest

from meanfield._checks import spawn
from meanfield.tasks import (
    DataError,
    DataLaw,
    EmpiricalTask,
    check_task,
    isotropic_gaussians,
    teacher_student,
)
from meanfield.tasks import datasets as ds
from meanfield.twolayer import InitialLaw, ParticleLimit, TwoLayerSGD, run_coupled, run_limit

RTOL = 1e-11


def small(rng, act="erf", n=23, d=3, block=4):
    X = rng.standard_normal((n, d))
    y = np.sign(X[:, 0]) + 0.3 * rng.standard_normal(n)
    return EmpiricalTask(X, y, act, block=block)


def nets(rng, d, sizes=(5, 7)):
    out = []
    for N in sizes:
        out += [rng.standard_normal(N), rng.standard_normal((N, d)) / np.sqrt(d) * 1.5]
    return out


# -- brute force: one Python loop over the rows ------------------------------------------
def brute(task, a, W, a2, W2):
    """Every functional summed row by row, straight from the definitions."""
    s = task.activation
    n, d = task.X.shape
    N, N2 = a.size, a2.size
    V = np.zeros(N)
    dVW = np.zeros((N, d))
    U = np.zeros((N, N2))
    dUW = np.zeros((N, N2, d))
    psi = np.zeros(N)
    dpsi_a = np.zeros(N)
    dpsi_W = np.zeros((N, d))
    risk = 0.0
    sk = np.zeros(N)
    for x, y in zip(task.X, task.y):
        z, z2 = W @ x, W2 @ x
        sz, dz, sz2 = s(z), s.derivative(z), s(z2)
        V -= y * a * sz
        dVW -= (y * a * dz)[:, None] * x
        U += np.outer(a * sz, a2 * sz2)
        dUW += np.outer(a * dz, a2 * sz2)[:, :, None] * x
        r = y - sz2 @ a2 / N2           # residual of the population (a2, W2)
        psi -= r * a * sz
        dpsi_a -= r * sz
        dpsi_W -= (r * a * dz)[:, None] * x
        risk += (y - sz @ a / N) ** 2
        sk += sz ** 2
    return {k: v / n for k, v in dict(V=V, dVW=dVW, U=U, dUW=dUW, psi=psi, dpsi_a=dpsi_a,
                                      dpsi_W=dpsi_W, risk=risk, sk=sk).items()}


@pytest.mark.parametrize("act", ["relu", "erf", "tanh", "ramp"])
def test_every_method_equals_the_row_by_row_loop(act, rng):
    task = small(rng, act)
    a, W, a2, W2 = nets(rng, task.d)
    b = brute(task, a, W, a2, W2)
    ok = lambda got, want: np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-14)  # noqa
    V, dVa, dVW = task.grad_V(a, W)
    ok(V, b["V"])
    ok(dVa, b["V"] / a)
    ok(dVW, b["dVW"])
    ok(task.V(a, W), b["V"])
    ok(task.U(a, W, a2, W2), b["U"])
    dUa, dUW = task.grad1_U(a, W, a2, W2)
    ok(dUa, b["U"] / a[:, None])
    ok(dUW, b["dUW"])
    P, Pa, PW = task.grad_psi(a, W, a2, W2)
    ok(P, b["psi"])
    ok(Pa, b["dpsi_a"])
    ok(PW, b["dpsi_W"])
    ok(task.psi(a, W, a2, W2), P)
    # Psi = V + mean_j U(., theta_j): the protocol's identity
    ok(P, b["V"] + b["U"].mean(axis=1))
    ok(task.risk(a, W), b["risk"])
    ok(task.self_kernel(W), b["sk"])
    ok(task.ey2, np.mean(task.y ** 2))
    # risk along a segment of output weights: the quadratic's coefficients
    c = task.risk_coefficients(a, 0.3 * a[::-1].copy(), W)
    for s_ in (0.0, 0.4, 1.7):
        ok(c[0] + c[1] * s_ + c[2] * s_ ** 2, task.risk((1 - s_) * a + 0.3 * s_ * a[::-1], W))
    # the limit's state: population = leading rows, two products instead of three
    A, WW = np.concatenate([a2, a]), np.concatenate([W2, W])
    Pp, Ppa, PpW = task._grad_psi(A, WW, A[:a2.size], WW[:a2.size])
    ok(Pp[a2.size:], b["psi"])
    ok(Ppa[a2.size:], b["dpsi_a"])
    ok(PpW[a2.size:], b["dpsi_W"])


def test_grad_psi_is_the_gradient_of_psi(rng):
    """Central differences of psi in (a, w) for a smooth activation (erf)."""
    task = small(rng, "erf", n=40)
    a, W, a2, W2 = nets(rng, task.d, (3, 4))
    _, ga, gW = task.grad_psi(a, W, a2, W2)
    h = 1e-6
    fd_a = (task.psi(a + h, W, a2, W2) - task.psi(a - h, W, a2, W2)) / (2 * h)
    np.testing.assert_allclose(ga, fd_a, rtol=1e-7, atol=1e-9)
    for k in range(task.d):
        E = np.zeros_like(W)
        E[:, k] = h
        fd = (task.psi(a, W + E, a2, W2) - task.psi(a, W - E, a2, W2)) / (2 * h)
        np.testing.assert_allclose(gW[:, k], fd, rtol=1e-6, atol=1e-9)


def test_sample_draws_rows_uniformly_with_replacement(rng):
    task = small(rng, n=5)
    X, y = task.sample(20000, np.random.default_rng(3))
    idx = np.random.default_rng(3).integers(0, 5, 20000)
    np.testing.assert_array_equal(X, task.X[idx])
    np.testing.assert_array_equal(y, task.y[idx])
    counts = np.bincount(idx, minlength=5)
    # each count is Binomial(20000, 1/5): sd 56.6; 5 sd = 283
    assert np.all(np.abs(counts - 4000) < 283)
    assert task.sample(0, 1)[0].shape == (0, 3)


# -- Monte Carlo: the empirical law of a large Gaussian sample --------------------------
def mc_check(name, got, terms, exact):
    """``got`` (the EmpiricalTask value) is the sample mean of ``terms`` (axis 0): checked
    to rounding; the closed form ``exact`` within 5 standard errors of that mean."""
    n = terms.shape[0]
    np.testing.assert_allclose(got, terms.mean(axis=0), rtol=1e-9, atol=1e-12, err_msg=name)
    se = terms.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(got - exact) <= 5 * se + 1e-12), \
        f"{name}: |emp - exact| / se up to {np.max(np.abs(got - exact) / (se + 1e-300)):.2f}"


@pytest.mark.parametrize("kind", ["teacher-student-erf", "isotropic-relu"])
def test_every_method_matches_the_gaussian_closed_form_to_monte_carlo_error(kind):
    gt = (teacher_student(3, "erf", width=2, noise_std=0.1) if kind.startswith("teacher")
          else isotropic_gaussians(3, 0.4, "relu"))
    X, y = gt.sample(100_000, np.random.default_rng(11))
    et = EmpiricalTask(X, y, gt.activation)
    rng = np.random.default_rng(5)
    a, W, a2, W2 = nets(rng, 3, (3, 4))
    s = gt.activation
    Z, Z2 = X @ W.T, X @ W2.T
    S, D, S2 = s(Z), s.derivative(Z), s(Z2)
    mc_check("ey2", et.ey2, y ** 2, gt.ey2)
    V, _, dVW = et.grad_V(a, W)
    gV, _, gdVW = gt.grad_V(a, W)
    mc_check("V", V, -y[:, None] * a * S, gV)
    mc_check("dV/dW", dVW, -(y[:, None] * a * D)[:, :, None] * X[:, None, :], gdVW)
    mc_check("U", et.U(a, W, a2, W2), (a * S)[:, :, None] * (a2 * S2)[:, None, :],
             gt.U(a, W, a2, W2))
    dUW = et.grad1_U(a, W, a2, W2)[1]
    terms = ((a * D)[:, :, None] * (a2 * S2)[:, None, :])[..., None] * X[:, None, None, :]
    mc_check("dU/dW1", dUW, terms, gt.grad1_U(a, W, a2, W2)[1])
    r = y - S2 @ a2 / a2.size
    P, Pa, PW = et.grad_psi(a, W, a2, W2)
    gP, gPa, gPW = gt.grad_psi(a, W, a2, W2)
    mc_check("psi", P, -r[:, None] * a * S, gP)
    mc_check("dpsi/da", Pa, -r[:, None] * S, gPa)
    mc_check("dpsi/dW", PW, -(r[:, None] * a * D)[:, :, None] * X[:, None, :], gPW)
    mc_check("risk", et.risk(a, W), (y - S @ a / a.size) ** 2, gt.risk(a, W))
    mc_check("self_kernel", et.self_kernel(W), S ** 2, gt.self_kernel(W))
    a1 = 0.5 * a[::-1].copy()
    dy, r0 = S @ (a1 - a) / a.size, y - S @ a / a.size
    c, gc = et.risk_coefficients(a, a1, W), gt.risk_coefficients(a, a1, W)
    for j, t in enumerate((r0 ** 2, -2 * r0 * dy, dy ** 2)):
        mc_check(f"c{j}", c[j], t, gc[j])


# -- block cuts ---------------------------------------------------------------------
def test_block_size_changes_results_only_to_rounding(rng):
    X = rng.standard_normal((301, 6))
    y = rng.standard_normal(301)
    a, W, a2, W2 = nets(rng, 6, (5, 8))
    A, WW = np.concatenate([a2, a]), np.concatenate([W2, W])
    res = {}
    for block in (1, 7, 64, 301, 5000, None):
        t = EmpiricalTask(X, y, "tanh", block=block)
        res[block] = [t.risk(a, W), *t._grad_psi(A, WW, A[:8], WW[:8]), t.U(a, W, a2, W2),
                      t.self_kernel(W), t.risk_coefficients(a, a2[:5], W)]
    for block, r in res.items():
        for got, want in zip(r, res[301]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # the default: rows sized to 128 MiB of scratch for the particles at hand
    t = EmpiricalTask(X, y, "tanh")
    assert [t.rows_per_block(P) for P in (1, 2048, 3000, 8192, 10 ** 6)] == \
        [4096, 4096, 2560, 1024, 256]
    # a fixed block gives the same bits every time
    t = EmpiricalTask(X, y, "tanh", block=7)
    again = t._grad_psi(A, WW, A[:8], WW[:8])
    for got, want in zip(again, res[7][1:4]):
        np.testing.assert_array_equal(got, want)


# -- bad data -------------------------------------------------------------------------
@pytest.mark.parametrize("X, y, match", [
    (np.zeros((0, 3)), np.zeros(0), "empty"),
    (np.zeros((4, 3)), np.zeros(5), "disagree on n: 4 rows vs 5 labels"),
    (np.zeros(4), np.zeros(4), r"X must have shape \(n, d\)"),
    (np.zeros((4, 3)), np.zeros((4, 1)), r"y must have shape \(n,\)"),
    (np.array([[0.0, np.nan], [1.0, 2.0]]), np.zeros(2), "X must be finite.*row 0"),
    (np.zeros((3, 2)), np.array([0.0, 1.0, np.inf]), "y must be finite.*row 2"),
    (np.array([["a", "b"]]), np.zeros(1), "X must hold real numbers"),
    (np.zeros((3, 0)), np.zeros(3), "0 columns"),
])
def test_bad_data_gets_one_clear_error(X, y, match):
    with pytest.raises(DataError, match=match):
        EmpiricalTask(X, y)


def test_npz_round_trip_and_bad_files(tmp_path, rng):
    X = rng.standard_normal((10, 3))
    y = rng.standard_normal(10)
    np.savez(tmp_path / "ok.npz", X=X, y=y)
    t = EmpiricalTask.from_npz(tmp_path / "ok.npz", "erf")
    np.testing.assert_array_equal(t.X, X)
    assert t.name == "ok"
    ts = EmpiricalTask.from_spec(str(tmp_path / "ok.npz"), standardise=True)
    np.testing.assert_allclose(ts.X.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(ts.X.std(0), 1, rtol=1e-12)
    np.savez(tmp_path / "noy.npz", X=X, labels=y)
    np.save(tmp_path / "arr.npy", X)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    np.savez(tmp_path / "nan.npz", X=np.full((2, 2), np.nan), y=np.zeros(2))
    for f, match in (("noy.npz", "must hold arrays named X and y; it lacks y"),
                     ("arr.npy", r"\.npy array"), ("junk.npz", "not an .npz file"),
                     ("missing.npz", "is not a file"), ("nan.npz", "nan.npz: X must be finite")):
        with pytest.raises(DataError, match=match):
            EmpiricalTask.from_npz(tmp_path / f)


def test_digits_two_classes_and_regression():
    t = EmpiricalTask.from_spec("digits:0,1", "erf")
    data = ds.digits()
    keep = np.isin(data.y_train, [0, 1])
    assert t.n == keep.sum() and t.d == 64 and t.name == "digits:0,1"
    np.testing.assert_array_equal(t.y, np.where(data.y_train[keep] == 0, 1.0, -1.0))
    np.testing.assert_allclose(t.X.mean(0), 0, atol=1e-12)
    sd = t.X.std(0)
    assert np.all((np.abs(sd - 1) < 1e-9) | (sd == 0))     # constant pixels only centred
    reg = EmpiricalTask.from_dataset("digits", n=300, seed=2)
    assert reg.n == 300 and abs(reg.y.mean()) < 1e-12 and abs(reg.y.std() - 1) < 1e-12
    for spec, match in (("digits:0,10", r"classes must be two distinct integers in \[0, 9\]"),
                        ("digits:3,3", "distinct"), ("digits:a,b", "two integers"),
                        ("cifar:0,1", "dataset must be")):
        with pytest.raises(DataError, match=match):
            EmpiricalTask.from_spec(spec)
    with pytest.raises(DataError, match=r"n must be an integer in \[1, "):
        EmpiricalTask.from_dataset("digits", (0, 1), n=10 ** 6)


def test_fashion_mnist_two_classes():
    try:
        t = EmpiricalTask.from_spec("fashion-mnist:0,6", "erf")
    except ds.DatasetNotFoundError as e:
        assert "apt-get install dataset-fashion-mnist" in str(e)
        pytest.skip("Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist")
    assert (t.n, t.d) == (12000, 784) and set(np.unique(t.y)) == {-1.0, 1.0}
    assert t.describe() == "fashion-mnist:0,6 (n = 12000); erf; d = 784"


def test_missing_fashion_mnist_says_how_to_install(tmp_path):
    with pytest.raises(ds.DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        EmpiricalTask.from_dataset("fashion-mnist", (0, 6), path=tmp_path)


# -- the protocol, and the steppers on an EmpiricalTask ---------------------------------
def test_both_task_kinds_implement_the_protocol(rng):
    for t in (small(rng), teacher_student(3)):
        assert isinstance(t, DataLaw) and check_task(t) is t
    with pytest.raises(TypeError, match="task must implement meanfield.tasks.DataLaw.*lacks"):
        TwoLayerSGD((np.ones(2), np.ones((2, 3))), object(), 0.1)


def test_sgd_on_empirical_task_follows_eq_3_3_on_its_draws(rng):
    from test_sgd import numpy_sgd

    task = small(rng, "tanh", n=50)
    a, W = InitialLaw().sample(20, task.d, rng)
    st = TwoLayerSGD((a, W), task, 0.05, rng=4)
    st.plan(100 * 0.05)
    st.advance(100)
    X, Y = task.sample(st._block, spawn(4, 2)[0])
    ref = numpy_sgd(task, a, W, X[:100], Y[:100], 0.05)
    np.testing.assert_allclose(st.a, ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st.W, ref[1], rtol=1e-10, atol=1e-12)
    assert st.risk() == task.risk(st.a, st.W)


def test_limit_on_a_large_sample_tracks_the_gaussian_limit():
    """The field on n rows differs from the closed form by O(1/sqrt(n)); over t <= 1 the
    particles move O(1) (0.68) and stay within 0.02 of the Gaussian task's particles at
    n = 20000 (measured 6e-3), while a 200-row sample is off by more (measured 0.04)."""
    gt = teacher_student(3, "erf", width=2)
    a, W = InitialLaw().sample(60, 3, np.random.default_rng(1))
    ref = run_limit((a, W), gt, [0.0, 1.0], (a, W), h=0.25, progress=False)
    gaps = {}
    for n in (20_000, 200):
        et = EmpiricalTask(*gt.sample(n, np.random.default_rng(2)), "erf")
        lim = run_limit((a, W), et, [0.0, 1.0], (a, W), h=0.25, progress=False)
        gaps[n] = np.abs(lim.W[-1] - ref.W[-1]).max()
        assert lim.risk[0] == et.risk(a, W)             # R(rho_0) of the reference population
    assert np.abs(ref.W[-1] - W).max() > 0.5           # the particles did move
    assert gaps[20_000] < 0.02 < gaps[200], gaps


def test_run_coupled_on_digits():
    task = EmpiricalTask.from_dataset("digits", (0, 1), "erf", n=200)
    res = run_coupled(task, N=20, alpha=0.05, T=0.5, M=40, n_snapshots=3, w2="none",
                      progress=False, seed=1)
    assert res.config["task"].startswith("EmpiricalTask(digits:0,1, n=200, d=64")
    assert res.config["task_description"] == "digits:0,1 (n = 200); erf; d = 64"
    assert res.sgd.risk[-1] < res.sgd.risk[0] and res.limit.risk[-1] < res.limit.risk[0]
    # the limit's risk is R of its reference population, exactly
    lim = ParticleLimit(InitialLaw().sample(40, 64, np.random.default_rng(0)), task)
    assert lim.risk() == task._risk(*lim.population())


def test_couple_settings_run_on_a_data_law(rng):
    """CoupleSettings.setup(law=...): the law replaces the Gaussian task and its d replaces d
    (the snapshots' memory check sees the law's d, the other settings are checked as ever)."""
    from meanfield.twolayer.coupling import CoupleSettings

    task = small(rng, d=3)
    got, N, alpha, T, kw = CoupleSettings(N=10, T=0.5, train_a=False).setup(law=task)
    assert got is task and (N, alpha, T) == (10, 0.1, 0.5)
    assert kw["M"] == 2000 and kw["train_a"] is False
    with pytest.raises(TypeError, match="task must implement meanfield.tasks.DataLaw"):
        CoupleSettings().setup(law=object())
    with pytest.raises(ValueError, match="alpha must be <= T"):
        CoupleSettings(alpha=1.0, T=0.5).setup(law=task)
    # sized with the law's d = 3, not the setting's 20: 8 (N + M) (d + 1) snapshots bytes,
    # 8 * 1e9 * 4 * 30 B = 894 GiB (with d = 20: 4.75e3 GiB)
    with pytest.raises(ValueError, match="the snapshots would take 894 GiB"):
        CoupleSettings(N=1, M=10**9, snapshots=30).setup(law=task)


# -- the command line -------------------------------------------------------------------
def test_cli_couple_on_digits_and_npz(tmp_path, capsys):
    import hashlib
    import json

    from meanfield.cli import main

    out = tmp_path / "run"
    assert main(["couple", "--task", "digits:0,1", "--activation", "erf", "--N", "20",
                 "--M", "40", "--T", "0.2", "--snapshots", "2", "--quiet",
                 "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["task_description"].startswith("digits:0,1 (n = ") and s["cli"]["d"] == 64
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    np.savez(tmp_path / "my.npz", X=X, y=np.sign(X[:, 1]))
    out = tmp_path / "run-npz"  # --out is the cell's results folder: one per settings
    assert main(["couple", "--data", str(tmp_path / "my.npz"), "--N", "10", "--M", "20",
                 "--T", "0.1", "--snapshots", "2", "--quiet", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    # the cell records the file's path and content; the figure and summary name the data
    assert s["cli"]["task"] == str(tmp_path / "my.npz") and s["cli"]["d"] == 4
    assert s["cli"]["data_sha256"] == hashlib.sha256((tmp_path / "my.npz").read_bytes()).hexdigest()
    assert s["task_description"] == "my (n = 60); relu; d = 4"


@pytest.mark.parametrize("argv, message", [
    (["--task", "digits:0,12"], "task digits:0,12: classes must be two distinct integers"),
    (["--data", "nowhere.npz"], "data: nowhere.npz is not a file"),
    (["--task", "fashion-mnist:0,6"], "sudo apt-get install dataset-fashion-mnist"),
    (["--task", "digits:0,1", "--device", "tpu"], "device must be auto, cpu, cuda or cuda:K"),
])
def test_cli_bad_data_is_one_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    from meanfield.cli import main

    monkeypatch.setenv("MEANFIELD_FASHION_MNIST", str(tmp_path))    # an empty folder
    monkeypatch.chdir(tmp_path)
    assert main(["couple", *argv, "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "o").exists()


def test_dropout_and_paths_on_empirical_task(rng):
    """Eq. (3.4) and the exact dropout shift against all subsets, and Theorem 1(B)'s
    path, on a data set: the tools read only the protocol."""
    from itertools import combinations

    from meanfield.connectivity import barrier
    from meanfield.twolayer import TwoLayerNet, dropout_gap, dropout_loss, seven_segment_path
    from meanfield.twolayer.dropout import dropout_bias

    task = small(rng, "relu", n=40, d=3)
    a, W, a2, W2 = nets(rng, 3, (6, 6))
    A = np.array([0, 2, 3])
    net, net2 = TwoLayerNet(task, a, W), TwoLayerNet(task, a2, W2)
    direct = np.mean((task.y - task.activation(task.X @ W[A].T) @ a[A] / 3) ** 2)
    assert abs(dropout_loss(net, A) - direct) < 1e-13
    assert abs(dropout_gap(net, A) - abs(task.risk(a, W) - direct)) < 1e-13
    every = [dropout_loss(net, np.array(s)) for s in combinations(range(6), 3)]
    assert abs(dropout_bias(task, a, W, 3) - (np.mean(every) - task.risk(a, W))) < 1e-12
    path = seven_segment_path(task, a, W, a2, W2, A)
    ends = path.vertex_losses()[[0, -1]]
    np.testing.assert_allclose(ends, [task.risk(a, W), task.risk(a2, W2)], rtol=1e-12)
    gaps = [dropout_gap(net, A), dropout_gap(net2, A)]
    assert 0.0 <= barrier(path) <= max(gaps) + 1e-12           # Theorem 1(B) for this A


def test_field_bits_do_not_depend_on_the_numba_thread_count(rng):
    import numba

    task = small(rng, "erf", n=300, d=5, block=64)
    a, W, a2, W2 = nets(rng, 5, (7, 9))
    A, WW = np.concatenate([a2, a]), np.concatenate([W2, W])
    before = numba.get_num_threads()
    try:
        out = []
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            out.append(task._grad_psi(A, WW, A[:9], WW[:9]))
    finally:
        numba.set_num_threads(before)
    for x, y in zip(*out):
        np.testing.assert_array_equal(x, y)
