"""Coupled SGD / limit runs and the W2 distance."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from meanfield.tasks import teacher_student
from meanfield.transport import wasserstein2
from meanfield.twolayer import run_coupled


def test_w2_exact_equals_optimal_assignment(rng):
    X = rng.standard_normal((60, 3))
    Y = rng.standard_normal((60, 3)) + 0.5
    C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    r, c = linear_sum_assignment(C)
    w = wasserstein2(X, Y)
    assert w.exact
    assert w.value == pytest.approx(np.sqrt(C[r, c].mean()), rel=1e-12)
    s = wasserstein2(X, Y, method="sliced")
    assert not s.exact and s.value <= w.value + 1e-12
    with pytest.raises(ValueError, match="same D"):
        wasserstein2(X, Y[:, :2])


def test_coupled_run_starts_together_and_stays_close():
    task = teacher_student(8, "relu", width=2)
    res = run_coupled(task, 200, 1 / 200, 0.5, M=800, n_snapshots=3, h=0.05, seed=1,
                      progress=False)
    assert res.max_dist[0] == 0.0 and res.mean_dist[0] == 0.0
    assert res.w2[0] == 0.0
    assert res.w2_exact
    # both sides learn, and the coupled particles move together
    assert res.sgd.risk[-1] < res.sgd.risk[0] and res.limit.risk[-1] < res.limit.risk[0]
    moved = np.sqrt(((res.sgd.W[-1] - res.sgd.W[0]) ** 2).sum(1)).mean()
    assert res.mean_dist[-1] < 0.5 * moved
    # W2 of the clouds never exceeds the coupling's root-mean-square distance
    dist = np.sqrt((res.sgd.a - res.limit.a) ** 2 + ((res.sgd.W - res.limit.W) ** 2).sum(2))
    assert np.all(res.w2 <= np.sqrt((dist ** 2).mean(1)) + 1e-9)
    df = res.to_frame()
    assert list(df.columns) == ["t", "step", "risk_sgd", "risk_limit", "risk_gap", "max_dist",
                                "mean_dist", "w2"]
    assert res.summary()["N"] == 200


def test_coupled_bad_input():
    from meanfield.twolayer import InitialLaw
    task = teacher_student(3, "relu")
    with pytest.raises(ValueError, match="a_mean must be a finite number"):
        InitialLaw(a_mean="x")
    with pytest.raises(ValueError, match="w_std must be"):
        InitialLaw(w_std=-1.0)
    for kwargs, msg in [({"N": 0}, "N must be"), ({"alpha": 0}, "alpha must be"),
                        ({"T": -1.0}, "T must be"), ({"n_snapshots": 1}, "n_snapshots")]:
        args = {"N": 10, "alpha": 0.1, "T": 1.0, **kwargs}
        with pytest.raises(ValueError, match=msg):
            run_coupled(task, args.pop("N"), args.pop("alpha"), args.pop("T"), progress=False,
                        **args)


def test_same_seed_gives_bit_identical_coupled_runs():
    task = teacher_student(4, "erf", width=2)
    kw = dict(M=60, n_snapshots=3, h=0.1, progress=False)
    r1 = run_coupled(task, 30, 0.02, 0.4, seed=5, **kw)
    r2 = run_coupled(task, 30, 0.02, 0.4, seed=5, **kw)
    r3 = run_coupled(task, 30, 0.02, 0.4, seed=6, **kw)
    np.testing.assert_array_equal(r1.sgd.W, r2.sgd.W)
    np.testing.assert_array_equal(r1.limit.W, r2.limit.W)
    assert r1.to_frame().equals(r2.to_frame())
    assert not np.array_equal(r1.sgd.W[-1], r3.sgd.W[-1])
