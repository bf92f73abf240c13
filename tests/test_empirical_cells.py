"""A data task as a plain cell setting: ``meanfield couple`` on a data set goes through the
runner and the store like a Gaussian task.

The ``task`` setting names the data (``digits:0,1``, ``fashion-mnist:0,6``, ``FILE.npz``)
and ``data_sha256`` pins an ``.npz`` file's content; the cell builds the EmpiricalTask.
The command-line tests replace ``run_coupled`` by a stand-in that evaluates the exact
risk of the task the cell built, so they test the plumbing in milliseconds (the real
run on digits is ``test_empirical.test_cli_couple_on_digits_and_npz``).
"""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from meanfield.cli import main
from meanfield.experiments import ConfigError, cell_id, parse_config
from meanfield.stepping import TwoLayerRun
from meanfield.tasks import DataError, EmpiricalTask, data_law, file_sha256
from meanfield.twolayer import InitialLaw
from meanfield.twolayer.coupling import CoupledResult, CoupleSettings


def write_npz(path, seed=0, n=30, d=3):
    X = np.random.default_rng(seed).standard_normal((n, d))
    np.savez(path, X=X, y=np.sign(X[:, 0]))
    return X


class _Calls(list):
    figures: list

    def __init__(self):
        super().__init__()
        self.figures = []


@pytest.fixture
def fake_run(monkeypatch):
    """``run_coupled`` replaced: no steps; every snapshot holds the initial weights and the
    task's exact risk there.  The tasks it was called with are listed.  The figure is not
    drawn (seconds of matplotlib): its config is listed in ``fake_run.figures``."""
    import meanfield.cli
    import meanfield.plotting
    import meanfield.twolayer

    calls = _Calls()
    figures = calls.figures
    monkeypatch.setattr(meanfield.plotting, "risk_curves",
                        lambda res, config=None: figures.append(config))
    monkeypatch.setattr(meanfield.cli, "_save_figure", lambda fig, stem: None)

    def run(task, N, alpha, T, *, M, init, n_snapshots, seed, **kwargs):
        calls.append(task)
        a, W = init.sample(N, task.d, np.random.default_rng(seed))
        k = n_snapshots
        times = np.linspace(0.0, T, k)
        risk = np.full(k, task.risk(a, W))
        side = TwoLayerRun(times, np.round(times / alpha).astype(int), np.repeat(a[None], k, 0),
                           np.repeat(W[None], k, 0), risk)
        zero = np.zeros(k)
        return CoupledResult(side, side, zero, zero, zero, zero, True)

    monkeypatch.setattr(meanfield.twolayer, "run_coupled", run)
    return calls


TINY = ["--N", "6", "--M", "8", "--T", "0.5", "--snapshots", "2", "--quiet"]


# -- the settings ------------------------------------------------------------------------
def test_an_npz_task_is_built_in_the_cell_from_path_and_hash(tmp_path):
    X = write_npz(tmp_path / "my.npz")
    sha = hashlib.sha256((tmp_path / "my.npz").read_bytes()).hexdigest()
    assert file_sha256(tmp_path / "my.npz") == sha
    s = CoupleSettings(task=str(tmp_path / "my.npz"), data_sha256=sha, d=3, N=6, T=0.5)
    task, N, alpha, T, kw = s.setup()
    assert isinstance(task, EmpiricalTask) and (task.n, task.d) == (30, 3)
    np.testing.assert_array_equal(task.X, X)            # as given, not standardised
    np.testing.assert_array_equal(task.y, np.sign(X[:, 0]))
    # the content is in the cell's name: another file at the same path is another cell,
    # and the settings of the old one no longer run
    cell = {k: v for k, v in vars(s).items()}
    before = cell_id("couple", cell)
    write_npz(tmp_path / "my.npz", seed=1)
    new = file_sha256(tmp_path / "my.npz")
    assert new != sha and cell_id("couple", {**cell, "data_sha256": new}) != before
    with pytest.raises(DataError, match=r"my.npz has changed: its sha256 is "
                                        + new[:12] + r"\.\.\., the settings record "
                                        + sha[:12]):
        s.setup()
    with pytest.raises(DataError, match=r"data_sha256: an \.npz task needs its file's sha256"):
        CoupleSettings(task=str(tmp_path / "my.npz")).setup()
    write_npz(tmp_path / "my.npz")
    # the stored table's d is the cell's setting: a data task's must be the data's
    with pytest.raises(ValueError, match="d must be the data's dimension for task .*my.npz: "
                                         r"set d = 3 \(got 20\)"):
        CoupleSettings(task=str(tmp_path / "my.npz"), data_sha256=sha).setup()
    with pytest.raises(ValueError, match="data_sha256 pins an .npz task's file; task "
                                         "teacher-student is none"):
        CoupleSettings(data_sha256=sha).setup()
    with pytest.raises(ValueError, match="task must be 'teacher-student', 'isotropic', "
                                         r"digits\[:I,J\]"):
        CoupleSettings(task="cifar").setup()


def test_an_npz_rewritten_after_its_hash_is_checked_does_not_run_under_the_old_hash(
        tmp_path, monkeypatch):
    """The content whose hash data_law checks is the content it parses: a writer landing
    just after the hash (here: inside hexdigest) cannot slip a new file under the old
    hash. Before the fix the file was hashed, then read again."""
    import meanfield.tasks.data_specs as specs

    X = write_npz(tmp_path / "race.npz")
    sha = file_sha256(tmp_path / "race.npz")
    real = hashlib.sha256

    class Racing:
        def __init__(self, *args):
            self._h = real(*args)

        def update(self, data):
            self._h.update(data)

        def hexdigest(self):
            out = self._h.hexdigest()
            write_npz(tmp_path / "race.npz", seed=1)   # the writer lands here
            return out

    monkeypatch.setattr(specs.hashlib, "sha256", Racing)
    task = data_law(str(tmp_path / "race.npz"), "relu", sha)
    np.testing.assert_array_equal(task.X, X)


def test_a_data_set_task_takes_no_hash_and_a_bad_one_is_one_line():
    with pytest.raises(DataError, match="data_sha256 pins an .npz task's file; task "
                                        "digits:0,1 names a data set"):
        data_law("digits:0,1", sha256="0" * 64)
    with pytest.raises(DataError, match=r"^task digits:a,b: classes in 'digits:a,b' must be "
                                        r"two integers"):
        data_law("digits:a,b")


def test_a_sweep_config_of_npz_cells_is_checked_before_any_work(tmp_path):
    write_npz(tmp_path / "my.npz")
    sha = file_sha256(tmp_path / "my.npz")
    sweep = parse_config({"experiment": "couple",
                          "fixed": {"task": str(tmp_path / "my.npz"), "data_sha256": sha,
                                    "d": 3, "T": 0.5}, "grid": {"N": [4, 8]}})
    assert [c["data_sha256"] for c in sweep.cells()] == [sha, sha]
    with pytest.raises(ConfigError, match=r"cell \{'N': 4\}: data: .*my.npz has changed"):
        parse_config({"experiment": "couple",
                      "fixed": {"task": str(tmp_path / "my.npz"), "data_sha256": "ab" * 32,
                                "d": 3},
                      "grid": {"N": [4, 8]}})


# -- the command line: flags -> settings -> the runner -> the report ---------------------
def test_couple_on_an_npz_is_one_stored_cell_and_resumes(tmp_path, fake_run, capsys):
    X = write_npz(tmp_path / "my.npz")
    out = tmp_path / "run"
    argv = ["couple", "--data", str(tmp_path / "my.npz"), *TINY, "--out", str(out)]
    assert main(argv) == 0
    (task,) = fake_run                       # the cell built the task from the settings
    np.testing.assert_array_equal(task.X, X)
    stored = json.loads((out / "sweep.json").read_text())["fixed"]
    assert stored["task"] == str(tmp_path / "my.npz")
    assert stored["data_sha256"] == file_sha256(tmp_path / "my.npz")
    res = pd.read_csv(out / "results.csv")
    a, W = InitialLaw().sample(6, 3, np.random.default_rng(0))
    assert list(res["risk_sgd"]) == [task.risk(a, W)] * 2 and "task" not in res
    # the same command again reads the cell back: nothing runs, the same files
    first = (out / "results.csv").read_bytes()
    assert main(argv) == 0 and len(fake_run) == 1
    assert (out / "results.csv").read_bytes() == first
    s = json.loads((out / "summary.json").read_text())
    assert s["task_description"] == "my (n = 30); relu; d = 3" and s["cli"]["d"] == 3
    # the figure's title names the data set (plotting.coupling._task_words)
    assert [c["task_description"] for c in fake_run.figures] == [s["task_description"]] * 2


def test_a_changed_file_is_refused_where_its_run_is_stored(tmp_path, fake_run, capsys):
    write_npz(tmp_path / "my.npz")
    out = tmp_path / "run"
    argv = ["couple", "--data", str(tmp_path / "my.npz"), *TINY, "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    write_npz(tmp_path / "my.npz", seed=1)
    assert main(argv) == 2 and len(fake_run) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "my.npz has changed since the run stored in" in err
    assert "restore the file, or give a new --out" in err


def test_couple_without_out_gives_a_changed_file_its_own_folder(tmp_path, fake_run,
                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_npz(tmp_path / "my.npz")
    argv = ["couple", "--data", "my.npz", *TINY]
    assert main(argv) == 0
    write_npz(tmp_path / "my.npz", seed=1)
    assert main(argv) == 0 and len(fake_run) == 2
    assert len(list((tmp_path / "runs" / "couple").iterdir())) == 2


@pytest.mark.parametrize("argv, message", [
    (["--data", "my.npz", "--task", "isotropic"], "--data and --task isotropic both name"),
    (["--data", "my.txt"], "--data my.txt: give an .npz file"),
    (["--data", "my.npz", "--data-sha256", "ab" * 32], "data: my.npz has changed"),
    (["--data", "my.npz", "--d", "5"], "--d 5: task my.npz has d = 3, the data's; leave --d"),
])
def test_bad_data_flags_are_one_line_before_any_work(argv, message, tmp_path, fake_run,
                                                     monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_npz(tmp_path / "my.npz")
    assert main(["couple", *argv, *TINY, "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists() and not fake_run


# -- stability and path on a data task ---------------------------------------------------
def test_stability_settings_take_a_data_task(tmp_path):
    from meanfield.twolayer.experiment import StabilityConfig

    X = write_npz(tmp_path / "my.npz")
    sha = file_sha256(tmp_path / "my.npz")
    cfg = StabilityConfig(task=str(tmp_path / "my.npz"), data_sha256=sha, d=3, Ns=(4,),
                          seeds=1)
    task = cfg.make_task()
    np.testing.assert_array_equal(task.X, X)
    assert cfg.to_dict()["data_sha256"] == sha
    with pytest.raises(ValueError, match=r"d must be the data's dimension .* set d = 3 "
                                         r"\(got 20\)"):
        StabilityConfig(task=str(tmp_path / "my.npz"), data_sha256=sha)
    assert "data_sha256" not in StabilityConfig().to_dict()   # recorded only when given
    with pytest.raises(DataError, match=r"data_sha256: an \.npz task needs"):
        StabilityConfig(task=str(tmp_path / "my.npz"), d=3)
    with pytest.raises(ValueError, match="data_sha256 pins an .npz task's file"):
        StabilityConfig(data_sha256=sha)


TINY_STAB = ["--Ns", "8", "--seeds", "1", "--T", "0.2", "--times", "0", "--quiet"]


def test_stability_on_an_npz_is_stored_resumes_and_refuses_a_changed_file(tmp_path, capsys,
                                                                         monkeypatch):
    import meanfield.twolayer.experiment as st

    write_npz(tmp_path / "my.npz")
    out = tmp_path / "stab"
    argv = ["stability", "--data", str(tmp_path / "my.npz"), *TINY_STAB, "--out", str(out)]
    assert main(argv) == 0
    table = pd.read_csv(out / "dropout.csv")
    assert set(table["task"]) == {"my"} and set(table["N"]) == {8}
    config = json.loads((out / "summary.json").read_text())["config"]
    assert config["d"] == 3 and config["data_sha256"] == file_sha256(tmp_path / "my.npz")

    def refuse(*a, **k):
        raise AssertionError("a stored cell was run again")

    monkeypatch.setattr(st, "train_pair", refuse)
    assert main(argv) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "dropout.csv"), table)
    capsys.readouterr()
    write_npz(tmp_path / "my.npz", seed=1)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "my.npz has changed since the run stored in" in err


def test_path_on_an_npz_trains_the_pair_on_the_file(tmp_path, monkeypatch):
    import meanfield.cli
    import meanfield.plotting
    import meanfield.twolayer.experiment as st

    X = write_npz(tmp_path / "my.npz")
    monkeypatch.setattr(meanfield.plotting, "pair_path_figure", lambda table: None)
    monkeypatch.setattr(meanfield.cli, "_save_figure", lambda fig, stem: None)
    real_train, tasks, trained = st.train_pair, [], []

    def train(task, *a, **k):
        tasks.append(task)
        trained.append(real_train(task, *a, **k))
        return trained[-1]

    monkeypatch.setattr(st, "train_pair", train)
    out = tmp_path / "path"
    assert main(["path", "--data", str(tmp_path / "my.npz"), "--N", "4", "--points", "2",
                 "--T", "0.2", "--quiet", "--out", str(out)]) == 0
    (task,) = tasks
    np.testing.assert_array_equal(task.X, X)
    s = json.loads((out / "summary.json").read_text())
    assert s["config"]["task"] == str(tmp_path / "my.npz") and s["config"]["d"] == 3
    # the ends of the seven-segment path are the two trained nets' exact risks on the data
    ends = [task.risk(run.a[-1], run.W[-1]) for run in trained[0][0]]
    vl = list(s["vertices"].values())
    np.testing.assert_allclose([vl[0], vl[-1]], ends, rtol=1e-12)
