import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meanfield.cli import main


def test_help_lists_subcommands(capsys):
    assert main([]) == 2
    assert "couple" in capsys.readouterr().out


def test_couple_writes_table_summary_and_figure(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('N = 30\nM = 60\nT = 0.2\nsnapshots = 3\nd = 4\nactivation = "erf"\n')
    out = tmp_path / "run"
    assert main(["couple", "--config", str(cfg), "--seed", "2", "--out", str(out),
                 "--quiet"]) == 0
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 3 and df["max_dist"].iloc[0] == 0.0
    s = json.loads((out / "summary.json").read_text())
    assert s["N"] == 30 and s["seed"] == 2 and s["version"]
    assert (out / "risk.png").stat().st_size > 1000 and (out / "risk.pdf").exists()


def test_couple_runs_its_one_cell_through_the_runner_and_reads_it_back(tmp_path, monkeypatch,
                                                                       capsys):
    """flags -> settings -> the runner -> the report: results.csv is run_coupled's table to
    the bit, the cell is stored in --out, and the same command again runs nothing."""
    import meanfield.twolayer
    from meanfield.experiments import ResultStore
    from meanfield.tasks import teacher_student

    argv = ["couple", "--N", "30", "--M", "60", "--T", "0.2", "--snapshots", "3", "--d", "4",
            "--seed", "1", "--quiet", "--out", str(tmp_path / "c")]
    assert main(argv) == 0
    first = capsys.readouterr().out
    direct = meanfield.twolayer.run_coupled(teacher_student(4, "relu", width=4), 30, 1 / 30,
                                            0.2, M=60, n_snapshots=3, seed=1, progress=False)
    got = pd.read_csv(tmp_path / "c" / "results.csv")
    pd.testing.assert_frame_equal(got, direct.to_frame(), check_exact=True)
    s = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert s["sup_max_dist"] == direct.summary()["sup_max_dist"] and s["M"] == 60
    store = ResultStore(tmp_path / "c")
    assert store.sweep().experiment == "couple" and len(store.finished()) == 1

    def refuse(*a, **k):
        raise AssertionError("the stored cell was run again")

    monkeypatch.setattr(meanfield.twolayer, "run_coupled", refuse)
    (tmp_path / "c" / "results.csv").unlink()
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "c" / "results.csv"), got)


def test_couple_without_out_writes_a_folder_per_settings(tmp_path, monkeypatch, capsys):
    """Re-running couple with new flags into the default --out is a new run, not a clash
    with the stored one; an explicit --out keeps refusing a different config."""
    from meanfield.experiments import cell_id

    monkeypatch.chdir(tmp_path)
    base = ["couple", "--M", "60", "--T", "0.2", "--snapshots", "3", "--d", "4", "--quiet"]
    assert main(base + ["--N", "30"]) == 0
    assert main(base + ["--N", "20"]) == 0
    folders = sorted(p.name for p in (tmp_path / "runs" / "couple").iterdir())
    ids = sorted(cell_id("couple", {**_couple_defaults(), "M": 60, "T": 0.2, "snapshots": 3,
                                    "d": 4, "N": n}) for n in (30, 20))
    assert folders == ids
    for f in folders:
        s = json.loads((tmp_path / "runs" / "couple" / f / "summary.json").read_text())
        assert s["N"] in (20, 30) and len(pd.read_csv(tmp_path / "runs" / "couple" / f
                                                      / "results.csv")) == 3
    capsys.readouterr()
    out = ["--out", str(tmp_path / "mine")]
    assert main(base + ["--N", "30"] + out) == 0
    assert main(base + ["--N", "20"] + out) == 2
    err = capsys.readouterr().err
    assert "holds results of other settings" in err and "fixed N: 30 -> 20" in err
    # the same command again reads the stored run back, and says so (no empty bar)
    assert main([a for a in base if a != "--quiet"] + ["--N", "30"] + out) == 0
    err = capsys.readouterr().err
    assert "this run is stored in" in err and "reading it back, not running it again" in err
    assert "0cell" not in err
    # a setting left at its default is named as such
    assert main(base + ["--N", "30", "--seed", "1"] + out) == 2
    assert "fixed seed: default -> 1" in capsys.readouterr().err


def _couple_defaults():
    from meanfield.experiments.options import couple_options

    return {k: v[1] for k, v in couple_options().items()}


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    assert main(["couple", "--N", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "N must be" in err[0]
    cfg = tmp_path / "bad.toml"
    cfg.write_text("NN = 3\n")
    assert main(["couple", "--config", str(cfg), "--out", str(tmp_path)]) == 2
    assert "unknown key 'NN'" in capsys.readouterr().err


def test_divergence_exits_1_and_keeps_snapshots(tmp_path, capsys):
    out = tmp_path / "div"
    rc = main(["couple", "--N", "20", "--M", "30", "--alpha", "5", "--T", "1000",
               "--a-mean", "1", "--out", str(out), "--quiet"])
    assert rc == 1
    assert "step" in capsys.readouterr().err
    part = pd.read_csv(out / "partial.csv")
    assert len(part) >= 1 and list(part.columns) == ["t", "step", "risk"]
    # the runner keeps them beside the failed cell, and the error survives a trip through
    # pickle (a Dask worker's) with its fields
    (stored,) = (out / "failed").glob("*.csv")
    pd.testing.assert_frame_equal(pd.read_csv(stored), part)
    import pickle

    from meanfield.stepping import DivergenceError

    e = pickle.loads(pickle.dumps(DivergenceError(7, 0.5)))
    assert (e.step, e.time) == (7, 0.5) and e.partial_table().empty


def test_stability_and_path_write_tables_and_figures(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text('d = 4\nNs = [16, 32]\nseeds = 2\nT = 0.3\nsweep_Ns = [32]\n'
                   'sweep_sizes = [2, 4]\nlaw2 = [0.5, 0.5, 1.5]\n')
    out = tmp_path / "st"
    assert main(["stability", "--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "eps_C: slope" in printed
    assert "log-log slopes in N, [95% interval]" in printed
    assert "only 2 values of N, so the intervals are wide" in printed
    d = pd.read_csv(out / "dropout.csv")
    assert set(d["N"]) == {16, 32} and set(d["kind"]) == {"half", "sweep"}
    s = json.loads((out / "summary.json").read_text())
    assert s["config"]["law2"] == [0.5, 0.5, 1.5] and "eps_C" in s["fits"]
    for name in ("dropout_vs_n", "dropout_vs_size", "connectivity_vs_n"):
        assert (out / f"{name}.png").stat().st_size > 1000 and (out / f"{name}.pdf").exists()

    out = tmp_path / "path"
    assert main(["path", "--config", str(cfg), "--N", "20", "--points", "5", "--out", str(out),
                 "--quiet"]) == 0
    p = pd.read_csv(out / "path.csv")
    assert set(p["path"]) == {"seven", "straight", "aligned"}
    assert len(p[p["path"] == "seven"]) == 7 * 4 + 1
    s = json.loads((out / "summary.json").read_text())
    assert s["eps_C"] <= s["eps_D_max"] + 1e-15 and len(s["vertices"]) == 8
    assert s["dense_max"]["seven"] == pytest.approx(max(s["vertices"].values()), rel=1e-12)
    assert (out / "path.png").stat().st_size > 1000


@pytest.mark.parametrize("argv,msg", [(["stability", "--Ns", "1,4"], "Ns must be"),
                                      (["stability", "--times", "2"], "times are fractions"),
                                      (["path", "--N", "1"], "N must be >= 2")])
def test_stability_bad_input_exits_2(tmp_path, capsys, argv, msg):
    assert main(argv + ["--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]


def test_stability_config_type_errors_exit_2(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('Ns = [100, "x"]\n')
    assert main(["stability", "--config", str(cfg), "--out", str(tmp_path)]) == 2
    assert "key 'Ns' must be a list of integers" in capsys.readouterr().err


def test_stability_divergence_exits_1_and_writes_failed_cells(tmp_path, capsys):
    out = tmp_path / "div"
    rc = main(["stability", "--d", "3", "--Ns", "4,8", "--seeds", "1", "--T", "50",
               "--alpha0", "40", "--law", "3,1,3", "--out", str(out), "--quiet"])
    assert rc == 1 and "diverged" in capsys.readouterr().err
    assert len(pd.read_csv(out / "failed.csv")) == 2


# --- --out is checked before any work ---------------------------------------------------

OUT_ARGV = {
    "couple": ["couple", "--N", "50", "--M", "100", "--T", "0.5", "--quiet"],
    "stability": ["stability", "--Ns", "50,100", "--seeds", "2", "--quiet"],
    "path": ["path", "--N", "50", "--quiet"],
    "sweep": ["sweep", "SWEEP.toml", "--workers", "1", "--quiet"],
    "validate": ["validate", "--only", "sgd_vs_limit"],
}


def _no_work(monkeypatch):
    """Make every command's work fail the test if it starts."""
    import meanfield.experiments
    import meanfield.experiments.stability
    import meanfield.twolayer
    import meanfield.twolayer.experiment
    import meanfield.validation_report

    def work(*args, **kwargs):
        raise AssertionError("the work started before --out was checked")

    for module, name in ((meanfield.twolayer, "run_coupled"),
                         (meanfield.experiments.stability, "run_stability"),
                         (meanfield.experiments, "run_sweep"),
                         (meanfield.validation_report, "run_validation")):
        monkeypatch.setattr(module, name, work)


@pytest.mark.parametrize("bad", ["existing file", "file on the way", "/proc/x"])
@pytest.mark.parametrize("command", sorted(OUT_ARGV))
def test_bad_out_is_one_line_exit_2_before_any_work(tmp_path, capsys, monkeypatch, command,
                                                   bad):
    f = tmp_path / "f"
    f.write_text("hi\n")
    out = {"existing file": f, "file on the way": f / "x", "/proc/x": Path("/proc/x")}[bad]
    if command == "validate" and bad == "existing file":
        out = tmp_path  # --out names the report: a folder is the wrong kind there
    (tmp_path / "SWEEP.toml").write_text('experiment = "stability"\n[fixed]\nd = 4\n'
                                         '[grid]\nN = [8]\nseed = [0]\n')
    argv = [str(tmp_path / a) if a.endswith(".toml") else a for a in OUT_ARGV[command]]
    _no_work(monkeypatch)
    t0 = time.perf_counter()
    rc = main([*argv, "--out", str(out)])
    seconds = time.perf_counter() - t0
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"meanfield {command}: error: --out {out}: "), err
    assert seconds < 1.0 and f.read_text() == "hi\n" and sorted(tmp_path.iterdir()) == [
        tmp_path / "SWEEP.toml", f]


def test_bad_out_in_a_fresh_process_prints_no_traceback(tmp_path):
    f = tmp_path / "f"
    f.write_text("hi\n")
    proc = subprocess.run([sys.executable, "-m", "meanfield.cli", "stability", "--Ns", "50,100",
                           "--seeds", "2", "--out", str(f)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"meanfield stability: error: --out {f}: exists and is not a folder"]


def test_plot_refuses_a_figures_path_that_is_a_file(tmp_path, capsys):
    (tmp_path / "sweep.json").write_text(json.dumps(
        {"experiment": "stability", "fixed": {"d": 4}, "grid": {"N": [8], "seed": [0]}}))
    (tmp_path / "figures").write_text("hi\n")
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"meanfield plot: error: figures folder {tmp_path / 'figures'}: exists and "
                   f"is not a folder"]


def test_stability_rerun_runs_no_cell_and_an_empty_stop_keeps_the_tables(tmp_path, capsys):
    """Rerunning a finished command runs no cell and writes the same tables; a result
    stopped before its first cell writes nothing (it used to replace the tables written
    before by empty, 1-byte ones)."""
    from meanfield.experiments.stability import save_stability
    from meanfield.twolayer.experiment import StabilityResult

    argv = ["stability", "--d", "4", "--Ns", "8,12", "--seeds", "2", "--T", "0.2",
            "--out", str(tmp_path)]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    capsys.readouterr()
    assert main(argv) == 0
    assert "4 of 4 cells already in" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")} == before
    stopped = StabilityResult(pd.DataFrame(), pd.DataFrame(), {"d": 4}, complete=False)
    assert save_stability(stopped, tmp_path)[1] == []
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")} == before


def test_path_is_one_cell_training_the_pair_once_and_a_rerun_reads_it_back(
        tmp_path, capsys, monkeypatch):
    """The pair and its three paths are one cell: the pair is trained once (no cache shared
    between cells); Ctrl-C stores nothing half done; the rerun writes what an
    uninterrupted run writes, and a third run reads the stored cell back."""
    import meanfield.twolayer.experiment as st

    argv = ["path", "--d", "4", "--N", "12", "--points", "5", "--T", "0.2", "--quiet"]
    ref, out = tmp_path / "ref", tmp_path / "out"
    real_train, trained = st.train_pair, []
    monkeypatch.setattr(st, "train_pair", lambda *a, **k: trained.append(a[2:4])
                        or real_train(*a, **k))
    assert main([*argv, "--out", str(ref)]) == 0
    assert trained == [(12, 0)]
    real_build = st._build_path

    def ctrl_c_at_aligned(name, *args):
        if name == "aligned":
            raise KeyboardInterrupt
        return real_build(name, *args)

    monkeypatch.setattr(st, "_build_path", ctrl_c_at_aligned)
    capsys.readouterr()
    assert main([*argv, "--out", str(out)]) == 130
    assert "nothing of this pair is stored" in capsys.readouterr().err
    assert not list((out / "cells").glob("*.csv"))
    monkeypatch.setattr(st, "_build_path", real_build)
    assert main([*argv, "--out", str(out)]) == 0
    assert (out / "path.csv").read_bytes() == (ref / "path.csv").read_bytes()
    assert (json.loads((out / "summary.json").read_text())
            == json.loads((ref / "summary.json").read_text()))
    trained.clear()
    assert main([*argv, "--out", str(out)]) == 0
    assert trained == []  # the stored cell is read back
    assert (out / "path.csv").read_bytes() == (ref / "path.csv").read_bytes()


def test_validate_bad_jobs_is_exit_2_before_any_script(tmp_path, capsys, monkeypatch):
    import subprocess

    def run(*a, **k):
        raise AssertionError("a script started")

    monkeypatch.setattr(subprocess, "run", run)
    assert main(["validate", "--jobs", "0", "--out", str(tmp_path / "r.md")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "meanfield validate: error: jobs must be an integer >= 1, got 0"]


# Each command with an abbreviation of one of its options and with an option it does not
# have.  argparse's default allow_abbrev=True took 'couple --n 20' for '--noise-std 20'
# and ran with noise 20 (exit 0, final risk 497).
@pytest.mark.parametrize("argv, bad", [
    (["couple", "--n", "20"], "--n"),
    (["couple", "--noise", "0.1"], "--noise"),
    (["couple", "--Nn", "20"], "--Nn"),
    (["stability", "--seed", "3"], "--seed"),
    (["stability", "--sweep-N", "100"], "--sweep-N"),
    (["path", "--point", "9"], "--point"),
    (["path", "--seeds", "2"], "--seeds"),
    (["sweep", "c.toml", "--out", "o", "--work", "2"], "--work"),
    (["sweep", "c.toml", "--out", "o", "--threads", "2"], "--threads"),
    (["plot", "some_folder", "--fig", "x"], "--fig"),
    (["validate", "--ful"], "--ful"),
    (["validate", "--reus"], "--reus"),
    (["validate", "--N", "3"], "--N"),
])
def test_unknown_or_abbreviated_option_is_one_line_exit_2(argv, bad, capsys, monkeypatch):
    import meanfield.cli as cli

    ran = []
    for name in ("_couple", "_stability", "_path", "_sweep", "_plot", "_validate"):
        monkeypatch.setattr(cli, name, lambda args, n=name: ran.append(n) or 0)
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and not ran
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith(f"meanfield {argv[0]}: error: ") and bad in lines[0]


def test_python_dash_m_meanfield_is_the_command_line():
    """``python -m meanfield`` runs the same parser as the ``meanfield`` script (it had no
    ``__main__`` and failed with 'cannot be directly executed')."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "meanfield", "validate", "--help"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("usage: meanfield validate")
    bad = subprocess.run([sys.executable, "-m", "meanfield", "couple", "--n", "20"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith(
        "meanfield couple: error:")


def test_couple_check_builds_no_task_even_for_the_widest_teacher(monkeypatch):
    """A teacher of width 10^4 (the largest allowed) sums 10^8 teacher pairs when built:
    the check of a couple cell took 9 s building it.  It checks the settings as values."""
    import meanfield.tasks as tasks
    from meanfield.experiments.kinds import get_experiment
    from meanfield.twolayer.coupling import CoupleSettings

    def build(*args, **kwargs):
        raise AssertionError("a check built the task")

    with monkeypatch.context() as m:
        m.setattr(tasks, "teacher_student", build)
        m.setattr(tasks, "isotropic_gaussians", build)
        t = time.perf_counter()
        assert CoupleSettings(width=10_000).check().width == 10_000
        get_experiment("couple").check({"width": 10_000})
        get_experiment("couple").check({"task": "isotropic", "activation": "ramp"})
        assert time.perf_counter() - t < 0.5
        with pytest.raises(ValueError, match="activation"):
            CoupleSettings(activation="relux").check()
        with pytest.raises(ValueError, match="width must be <= 10000 .*, got 10001"):
            CoupleSettings(width=10_001).check()
    # the run's task is the one it was: E y^2 of three orthonormal ReLU units, averaged,
    # is (3 E relu^2 + 6 (E relu)^2) / 9 = 1/6 + 1/(3 pi)
    task = CoupleSettings(d=5, width=3).setup()[0]
    assert task.ey2 == pytest.approx(1 / 6 + 1 / (3 * np.pi), rel=1e-12)


def test_couple_device_without_torch_is_one_line_with_the_install_hint(tmp_path, capsys,
                                                                       monkeypatch):
    """It said "No module named 'torch'" and nothing of how to install it.  Torch missing:
    its modules (and those of meanfield that import it) cannot be imported."""
    for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")] + [
            "torch", "meanfield.torch.pairs", "meanfield.torch.models"]:
        monkeypatch.setitem(sys.modules, name, None)
    out = tmp_path / "o"
    assert main(["couple", "--device", "cuda", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "device=cuda needs torch" in err[0], err
    assert "pip install torch==" in err[0] and "for a GPU" in err[0], err
    assert not out.exists()
