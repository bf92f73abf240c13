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
                                "mean_dist", "w2", "step_risk_change", "step_move"]
    # a Gaussian task at d = 8 resolves h = 0.05 by far
    assert res.summary()["step_resolved"] and res.summary()["sup_step_move"] < 1e-5
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


def _digits_run(h, **kw):
    from meanfield.tasks import data_law

    task = data_law("digits:0,1", "erf")
    return task, run_coupled(task, 50, 1 / 50, 0.5, M=200, n_snapshots=3, h=h, w2="none",
                             seed=2, progress=False, **kw)


def test_step_check_flags_a_coarse_step_on_pixels_and_passes_a_fine_one():
    """On standardised pixels (|x|^2 = d) a step fine for the Gaussian tasks is too coarse:
    the check says so, and passes a step 16x smaller; its numbers are the limit of the
    run's own first particles at h against h / 2."""
    from meanfield.twolayer import InitialLaw, run_limit
    from meanfield.twolayer.coupling import CHECK_REFERENCES, STEP_MOVE_TOL

    task, coarse = _digits_run(0.2)
    s = coarse.summary()
    assert not s["step_resolved"] and s["sup_step_move"] > 10 * STEP_MOVE_TOL
    _, fine = _digits_run(0.0125)
    assert fine.summary()["step_resolved"] and fine.summary()["sup_step_move"] < STEP_MOVE_TOL
    # the check's population: the first min(M, 500) reference particles (here all 200) and
    # the first min(N, 100) tagged ones (all 50), drawn as run_coupled draws them
    assert s["check_step"]["references"] == min(200, CHECK_REFERENCES) == 200
    r_init, r_ref, _ = (np.random.default_rng(c) for c in np.random.SeedSequence(2).spawn(3))
    start, ref = InitialLaw().sample(50, task.d, r_init), InitialLaw().sample(200, task.d, r_ref)
    runs = [run_limit(ref, task, coarse.times, start, h=h, method="rk4", progress=False)
            for h in (0.2, 0.1)]
    move = np.sqrt((runs[0].a - runs[1].a) ** 2 + ((runs[0].W - runs[1].W) ** 2).sum(2))
    np.testing.assert_array_equal(coarse.step_move, move.max(axis=1))
    np.testing.assert_array_equal(coarse.step_risk_change, np.abs(runs[0].risk - runs[1].risk))
    # the run at h = 0.2 is the check's first run: same particles, same numbers
    np.testing.assert_array_equal(coarse.limit.W, runs[0].W)


def test_step_check_leaves_the_runs_numbers_and_can_be_skipped(monkeypatch):
    import meanfield.twolayer.coupling as coupling

    _, checked = _digits_run(0.1)
    calls = []
    real = coupling.run_limit
    monkeypatch.setattr(coupling, "run_limit", lambda *a, **k: calls.append(k["h"]) or
                        real(*a, **k))
    _, plain = _digits_run(0.1, check_step=False)
    assert calls == [0.1]  # the run's own limit only
    assert "step_resolved" not in plain.summary() and "step_move" not in plain.to_frame()
    assert plain.config["check_step"] is None
    cols = list(plain.to_frame().columns)
    assert checked.to_frame()[cols].equals(plain.to_frame())  # bit for bit


def test_couple_warns_on_an_unresolved_step_in_one_line(tmp_path, capsys):
    import json

    from meanfield.cli import main

    argv = ["couple", "--task", "digits:0,1", "--activation", "erf", "--N", "50", "--M", "200",
            "--T", "0.5", "--snapshots", "3", "--quiet"]
    assert main(argv + ["--h", "0.2", "--out", str(tmp_path / "coarse")]) == 0
    out = capsys.readouterr()
    warn = [line for line in out.err.splitlines() if "not resolved" in line]
    assert len(warn) == 1 and "h = 0.2" in warn[0] and "smaller --h" in warn[0]
    s = json.loads((tmp_path / "coarse" / "summary.json").read_text())
    assert s["step_resolved"] is False and s["sup_step_move"] > 0.01
    assert main(argv + ["--h", "0.0125", "--out", str(tmp_path / "fine")]) == 0
    out = capsys.readouterr()
    assert "not resolved" not in out.err and "limit step h = 0.0125: resolved" in out.out
    assert main(argv + ["--h", "0.2", "--no-check-step", "--out", str(tmp_path / "off")]) == 0
    out = capsys.readouterr()
    assert "resolved" not in out.err + out.out
    assert "step_move" not in (tmp_path / "off" / "results.csv").read_text()


def test_a_sweep_of_couple_cells_says_which_steps_are_unresolved(tmp_path, capsys):
    from tests.conftest import sweep_and_load

    config = ('experiment = "couple"\n[fixed]\ntask = "digits:0,1"\nd = 64\n'
              'activation = "erf"\nM = 100\nT = 0.4\nsnapshots = 3\n[grid]\nN = [20, 40]\n'
              'h = [0.2, 0.0125]\n')
    table, _ = sweep_and_load(tmp_path, "steps", config)
    err = capsys.readouterr().err
    line = [x for x in err.splitlines() if "not resolved" in x]
    assert len(line) == 1 and "in 2 of 4 cells" in line[0], err
    assert set(table.loc[table["step_move"] > 0.01, "h"]) == {0.2}
    # a bare sweep (no --plot) says it too, once; so does plot on the folder
    from meanfield.cli import main

    assert main(["sweep", str(tmp_path / "steps.toml"), "--out", str(tmp_path / "bare"),
                 "--workers", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert [x for x in err.splitlines() if "not resolved" in x] == line, err
    assert main(["plot", str(tmp_path / "bare")]) == 0
    err = capsys.readouterr().err
    assert sum("in 2 of 4 cells" in x for x in err.splitlines()) == 1, err


def test_the_step_check_names_its_runs_before_their_progress_bars(capsys):
    """With progress bars on, the step check's limit runs (bars that name only the limit)
    are announced in one line saying what they are; off, nothing is printed."""
    from meanfield.tasks import teacher_student
    from meanfield.twolayer import run_coupled

    task = teacher_student(d=4, activation="erf")
    for M, N, words in ((600, 20, "at h = 0.1 and h / 2 = 0.05"),
                        (200, 20, "at h / 2 = 0.05 (at h: the run's own)")):
        run_coupled(task, N, 0.05, 0.2, M=M, n_snapshots=2, h=0.1, progress=True)
        err = capsys.readouterr().err
        line = [x for x in err.splitlines() if x.startswith("step check:")]
        assert line == [f"step check: the limit of {min(M, 500)} reference and {N} tagged "
                        f"particles {words}"], err
        assert f"limit M={min(M, 500)}" in err.split(line[0])[1]
    run_coupled(task, 20, 0.05, 0.2, M=200, n_snapshots=2, h=0.1, progress=False)
    assert capsys.readouterr().err == ""
