"""Sweeps: config validation, resumable atomic results, Dask workers, plots, the report."""

import dataclasses
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from meanfield.cli import main
from meanfield.experiments import (
    EXPERIMENTS,
    ConfigError,
    ResultStore,
    load_results,
    load_config,
    load_tables,
    parse_config,
    run_sweep,
)

# N = 640, d = 20 engages numba's parallel SGD build and threaded BLAS, whose
# reductions depend on the thread count: the tables must still be bit-identical
SMALL = {"experiment": "stability",
         "fixed": {"d": 20, "T": 0.3, "half_draws": 1, "straight_max_N": 0, "aligned_max_N": 0},
         "grid": {"N": [16, 640], "seed": [0, 1]}}


def _toml(path, N=(16, 32), seeds=(0, 1), T=0.3):
    path.write_text('experiment = "stability"\n[fixed]\nd = 4\nT = %r\nhalf_draws = 1\n'
                    'straight_max_N = 0\naligned_max_N = 0\n[grid]\nN = %s\nseed = %s\n'
                    % (T, list(N), list(seeds)))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref")
    rep = run_sweep(parse_config(SMALL), folder, workers=1, progress=False)
    assert rep.done == 4 and rep.failed == 0
    return load_tables(folder)


def _same(tables, reference):
    """Every table equal to the reference's, bit for bit, dtypes included."""
    assert tables.keys() == reference.keys() == {"dropout", "paths"}
    for name in tables:
        pd.testing.assert_frame_equal(tables[name], reference[name], check_exact=True)


def test_config_is_read_and_expanded(tmp_path):
    sweep = load_config(_toml(tmp_path / "s.toml"))
    cells = sweep.cells()
    assert [(c["N"], c["seed"]) for c in cells] == [(16, 0), (16, 1), (32, 0), (32, 1)]
    assert all(c["d"] == 4 and c["T"] == 0.3 and c["activation"] == "relu" for c in cells)


@pytest.mark.parametrize("change,msg", [
    ({"experiment": "nope"}, "experiment must be one of couple, deep_connectivity, deep_paths, "
                             "empirical, empirical_path, multilayer, pair_path, stability, "
                             "got 'nope'"),
    ({"fixed": {"dd": 3}}, "unknown key 'dd' in [fixed]"),
    ({"grid": {"N": 16}}, "[grid] key 'N' must be a non-empty list"),
    ({"grid": {"N": [16, 16]}}, "repeats a value"),
    ({"fixed": {"d": 4, "N": 20}}, "N both fixed and gridded"),
    ({"fixed": {"d": "four"}}, "key 'd' must be int, got 'four'"),
    ({"grid": {"N": [16, 1], "seed": [0]}}, "cell {'N': 1, 'seed': 0}: N must be >= 2"),
    ({"fixed": {"d": 4, "law": [0, -1, 1]}}, "a_std"),
    ({"extra": 1}, "unknown top-level key 'extra'"),
])
def test_bad_config_names_key_and_value(change, msg):
    with pytest.raises(ConfigError) as err:
        parse_config({**SMALL, **change})
    assert msg in str(err.value)


def test_bad_config_is_rejected_before_any_cell_runs(tmp_path, capsys):
    cfg = _toml(tmp_path / "bad.toml", N=(16, 0))
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 2
    assert "cell {'N': 0, 'seed': 0}: N must be" in capsys.readouterr().err
    assert not out.exists()


def test_failed_cell_is_retried_recorded_and_resumed(tmp_path, monkeypatch, reference):
    exp = EXPERIMENTS["stability"]
    calls = []

    def flaky(cell):
        calls.append((cell["N"], cell["seed"]))
        if (cell["N"], cell["seed"]) == (640, 1):
            raise RuntimeError("simulated crash")
        return exp.run(cell)

    monkeypatch.setitem(EXPERIMENTS, "stability", dataclasses.replace(exp, run=flaky))
    rep = run_sweep(parse_config(SMALL), tmp_path, workers=1, progress=False)
    assert (rep.done, rep.failed) == (3, 1) and calls.count((640, 1)) == 2  # retried once
    fails = ResultStore(tmp_path).failures()
    assert len(fails) == 1 and "simulated crash" in fails["error"].iloc[0]
    assert len(list((tmp_path / "failed").glob("*.json"))) == 1
    monkeypatch.setitem(EXPERIMENTS, "stability", exp)
    rep = run_sweep(parse_config(SMALL), tmp_path, workers=1, progress=False)
    assert (rep.done, rep.skipped, rep.failed) == (1, 3, 0)
    assert ResultStore(tmp_path).failures().empty
    # no empty failed/ left to suggest a failure, after the rerun or in a clean run
    assert not (tmp_path / "failed").exists()
    clean = tmp_path / "clean"
    run_sweep(parse_config(SMALL), clean, workers=1, progress=False)
    assert not (clean / "failed").exists()
    _same(load_tables(tmp_path), reference)


# SIGKILL (nothing runs on the way out) in the default suite; the two signals the runner
# handles cost 12 s each and run with -m slow
@pytest.mark.parametrize("sig", [signal.SIGKILL,
                                 pytest.param(signal.SIGINT, marks=pytest.mark.slow),
                                 pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
                         ids=["SIGKILL", "SIGINT", "SIGTERM"])
def test_killed_or_interrupted_process_resumes_to_the_same_table(tmp_path, sig):
    cfg = _toml(tmp_path / "s.toml", N=(16, 32, 48, 64), seeds=tuple(range(12)), T=0.6)
    n_cells = 48
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    # the child gets the default SIGINT disposition, as from a shell: one ignored here (by
    # whatever ran earlier in this process) would be inherited, and Ctrl-C would do nothing.
    # SIGTERM is sent to a child that ignores SIGINT, as a `nohup ... &` job of a script does
    sigint = signal.SIG_IGN if sig == signal.SIGTERM else signal.SIG_DFL
    proc = subprocess.Popen([sys.executable, "-m", "meanfield.cli", "sweep", str(cfg), "--out",
                             str(out), "--workers", "1", "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint))
    # the first cell compiles the kernels: minutes on a loaded machine
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list((out / "cells").glob("*.json"))) >= 2:
            break
        time.sleep(0.02)
    else:
        proc.kill()
        raise AssertionError(f"no 2 cells stored within 300 s (exit {proc.poll()}): "
                             f"{proc.communicate()[1][-2000:]}")
    # freeze the sweep before judging whether it is still running: cells take ~50 ms, and
    # on a loaded machine it could otherwise finish between this check and the signal
    # (it then exits 0 from its shutdown)
    proc.send_signal(signal.SIGSTOP)
    assert proc.poll() is None, "the sweep finished before it could be stopped"
    assert len(list((out / "cells").glob("*.json"))) < n_cells, "every cell finished first"
    proc.send_signal(sig)
    proc.send_signal(signal.SIGCONT)
    _, err = proc.communicate(timeout=60)
    if sig != signal.SIGKILL:  # Ctrl-C or kill: finished cells kept, told how to resume
        assert proc.returncode == 130 and "run the same command again" in err
    sweep = load_config(cfg)
    store = ResultStore(out)
    n_before = len(store.finished(sweep))
    assert 2 <= n_before < n_cells
    (out / "cells" / ".half-written.csv.tmp").write_text("N,eps\n16,0.")  # never read
    rep = run_sweep(sweep, out, workers=1, progress=False)
    assert rep.skipped == n_before and rep.done == n_cells - n_before
    fresh = tmp_path / "fresh"
    run_sweep(sweep, fresh, workers=1, progress=False)
    _same(load_tables(out), load_tables(fresh))


def test_damaged_table_is_never_read_and_is_rerun(tmp_path, reference):
    sweep = parse_config(SMALL)
    run_sweep(sweep, tmp_path, workers=1, progress=False)
    victim = sorted((tmp_path / "cells").glob("*/paths.csv"))[0]
    victim.write_bytes(victim.read_bytes()[:100])  # a torn write
    with pytest.warns(UserWarning, match="1 of 4 cells are not finished"):
        partial = load_tables(tmp_path)
    assert partial["dropout"]["cell"].nunique() == partial["paths"]["cell"].nunique() == 3
    rep = run_sweep(sweep, tmp_path, workers=1, progress=False)
    assert (rep.done, rep.skipped) == (1, 3)
    _same(load_tables(tmp_path), reference)


def test_folder_of_another_sweep_is_refused(tmp_path):
    run_sweep(parse_config(SMALL), tmp_path, workers=1, progress=False)
    other = {**SMALL, "fixed": {**SMALL["fixed"], "T": 0.2}}
    with pytest.raises(ConfigError, match=r"different sweep config \(fixed T: 0.3 -> 0.2\)"):
        run_sweep(parse_config(other), tmp_path, workers=1, progress=False)


def test_grown_grid_keeps_finished_cells_and_runs_only_the_new_ones(tmp_path, reference):
    first = {**SMALL, "grid": {"N": [16], "seed": [0]}}
    run_sweep(parse_config(first), tmp_path, workers=1, progress=False)
    rep = run_sweep(parse_config(SMALL), tmp_path, workers=1, progress=False)
    assert (rep.done, rep.skipped) == (3, 1)
    _same(load_tables(tmp_path), reference)
    # a grid that drops an old value is another sweep
    shrunk = {**SMALL, "grid": {"N": [640], "seed": [0, 1, 2]}}
    with pytest.raises(ConfigError, match="grow a sweep.s grid"):
        run_sweep(parse_config(shrunk), tmp_path, workers=1, progress=False)


def test_each_cell_names_the_commit_that_computed_it(tmp_path, monkeypatch):
    """A sweep resumed at a later commit keeps each cell's own commit (cell_commits), and a
    cell stored before records named one reads as "unrecorded"."""
    import json

    from meanfield.experiments import cell_commits
    from meanfield.experiments import store as store_module

    monkeypatch.setattr(store_module, "code_commit", lambda: "aaaaaaaaaaaa")
    first = parse_config({**SMALL, "grid": {"N": [16], "seed": [0, 1]}})
    run_sweep(first, tmp_path, workers=1, progress=False)
    monkeypatch.setattr(store_module, "code_commit", lambda: "bbbbbbbbbbbb+dirty")
    grown = parse_config({**SMALL, "grid": {"N": [16, 640], "seed": [0, 1]}})
    run_sweep(grown, tmp_path, workers=1, progress=False)
    store = ResultStore(tmp_path)
    by = store.cell_commits()
    assert {c: len(ids) for c, ids in by.items()} == {"aaaaaaaaaaaa": 2,
                                                      "bbbbbbbbbbbb+dirty": 2}
    assert all(store.record(cid)["settings"]["N"] == 640 for cid in by["bbbbbbbbbbbb+dirty"])
    # a record written before cells named their commit
    old = tmp_path / "cells" / f"{by['aaaaaaaaaaaa'][0]}.json"
    record = json.loads(old.read_text())
    del record["commit"]
    old.write_text(json.dumps(record))
    assert cell_commits(tmp_path) == {"aaaaaaaaaaaa": 1, "bbbbbbbbbbbb+dirty": 2,
                                      "unrecorded": 1}


def test_code_commit_names_the_checkout_and_its_changes(tmp_path):
    import shutil

    from meanfield._meta import code_commit

    if shutil.which("git") is None:
        pytest.skip("git not installed")

    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c",
                               "user.email=t@t", *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    assert code_commit(tmp_path) is None  # not a checkout
    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("commit", "-q", "-m", "a")
    head = git("rev-parse", "HEAD")
    assert code_commit(tmp_path) == head[:12]
    (tmp_path / "a.py").write_text("x = 2\n")
    assert code_commit(tmp_path) == head[:12] + "+dirty"


def test_one_and_two_dask_workers_give_identical_tables(tmp_path, reference):
    rep = run_sweep(parse_config(SMALL), tmp_path, workers=2, progress=False)
    assert rep.done == 4
    _same(load_tables(tmp_path), reference)


def test_plot_draws_the_standard_figures(tmp_path, reference, capsys):
    folder = tmp_path / "sw"
    run_sweep(parse_config(SMALL), folder, workers=1, progress=False)
    assert main(["plot", str(folder)]) == 0
    for name in ("dropout_vs_n", "connectivity_vs_n"):
        assert (folder / "figures" / "all" / f"{name}.png").stat().st_size > 1000
    cfg = {"experiment": "couple", "fixed": {"d": 3, "M": 40, "T": 0.2, "snapshots": 3},
           "grid": {"N": [10, 20], "seed": [0, 1]}}
    folder = tmp_path / "cp"
    run_sweep(parse_config(cfg), folder, workers=1, progress=False)
    table = load_results(folder)
    assert set(table["N"]) == {10, 20} and len(table) == 4 * 3
    assert main(["plot", str(folder)]) == 0
    assert (folder / "figures" / "couple_rates_all.png").exists()
    assert main(["plot", str(tmp_path / "empty")]) == 2


def test_validation_report_tabulates_claims(tmp_path):
    from meanfield.validation_report import run_validation

    script = tmp_path / "fake.py"
    script.write_text(
        "import json, pathlib, sys\n"
        "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
        "claims = [{'claim': 'slope in band', 'paper': 'P', 'value': -0.5, "
        "'interval': [-0.6, -0.4], 'pass': True, 'figure': 'f.png'},\n"
        "          {'claim': 'other', 'paper': 'Q', 'value': 0.1, 'interval': None, "
        "'pass': False, 'figure': ''}]\n"
        "(out / 'fake_quick.json').write_text(json.dumps({'claims': claims}))\n")
    (tmp_path / "broken.py").write_text("raise SystemExit(3)\n")
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path,
                              scripts=("fake", "broken"))
    assert not ok and (tmp_path / "r.md").read_text() == text
    rows = [line for line in text.splitlines() if line.startswith("| fake")]
    assert len(rows) == 2 and "PASS" in rows[0] and "[-0.600, -0.400]" in rows[0]
    assert "FAIL" in rows[1]
    assert "| broken | | (script failed, exit 3" in text
    assert "Judged claims: 1 passed, 2 failed; checks" in text
    assert "0 passed, 0 failed; 0 reported" in text


def test_report_escapes_table_pipes(tmp_path):
    from meanfield.validation_report import run_validation

    (tmp_path / "pipes.py").write_text(
        "import json, pathlib\n"
        "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
        "c = [{'claim': 'eps_D at |A| = 5', 'paper': 'P', 'value': 1.0, 'interval': None, "
        "'pass': True, 'figure': ''}]\n"
        "(out / 'pipes_quick.json').write_text(json.dumps({'claims': c}))\n")
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("pipes",))
    row = [line for line in text.splitlines() if line.startswith("| pipes")][0]
    assert ok and row.count(" | ") == 13 and "\\|A\\|" in row


def test_report_rows_observations_figures_and_reuse(tmp_path):
    """An observation is 'reported' and does not fail the run; its figure is copied beside
    the report; reuse tabulates the stored result without running the script again."""
    from meanfield.validation_report import run_validation

    (tmp_path / "obs.py").write_text(
        "import json, pathlib\n"
        "from meanfield.analysis.claims import claim_row\n"
        "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
        "(out / 'runs.txt').open('a').write('x')\n"
        "(out / 'obs_fig.png').write_bytes(b'png')\n"
        "c = [claim_row('dropout_rates/a/relu', 'eps_D slope', 'P', -0.2, (-0.4, 0.0), "
        "figure=str(out / 'obs_fig.png')),\n"
        "     claim_row('dropout_rates/a/erf', 'eps_D slope', 'P', -0.5, (-0.6, -0.4)),\n"
        "     claim_row('dropout_rates/a/erf', 'eps_D slope', 'P', -0.5, (-0.6, -0.4), "
        "case='t=0')]\n"
        "(out / 'obs_quick.json').write_text(json.dumps({'claims': c, 'seconds': 1.5}))\n")
    report = tmp_path / "site" / "report.md"
    text, ok = run_validation(out=report, folder=tmp_path, scripts=("obs",))
    rows = [line for line in text.splitlines() if line.startswith("| obs")]
    assert ok and "| reported |" in rows[0] and "| PASS |" in rows[1]
    assert "beyond: ReLU" in rows[0] and "[obs_fig](figures/obs_fig.png)" in rows[0]
    assert (report.parent / "figures" / "obs_fig.png").read_bytes() == b"png"
    # the t = 0 row is a check (the central limit theorem), counted apart from the claims
    assert "| PASS |" in rows[2] and "central limit theorem" in rows[2]
    assert ("Judged claims: 1 passed, 0 failed; checks (rows that could not fail for the "
            "claim's reason): 1 passed, 0 failed; 1 reported") in text
    again, _ = run_validation(out=report, folder=tmp_path, scripts=("obs",), reuse=True)
    assert (tmp_path / "out" / "runs.txt").read_text() == "x"
    assert again.splitlines()[5:] == text.splitlines()[5:]


def test_report_figures_of_the_same_name_do_not_overwrite(tmp_path):
    """dropout_rates writes dropout_vs_n.png into one folder per activation: each copy
    beside the report keeps its own file."""
    from meanfield.validation_report import run_validation

    (tmp_path / "two.py").write_text(
        "import json, pathlib\n"
        "from meanfield.analysis.claims import claim_row\n"
        "out = pathlib.Path(__file__).parent / 'out'\n"
        "c = []\n"
        "for act in ('erf', 'relu'):\n"
        "    (out / act).mkdir(parents=True, exist_ok=True)\n"
        "    (out / act / 'fig.png').write_bytes(act.encode())\n"
        "    c.append(claim_row(f'dropout_rates/a/{act}', 'slope', 'P', -0.5, (-0.6, -0.4), "
        "figure=str(out / act / 'fig.png')))\n"
        "for run in ('fixed', 'scaled'):  # multilayer_rates: <run>/figures/<name>.png\n"
        "    (out / run / 'figures').mkdir(parents=True, exist_ok=True)\n"
        "    (out / run / 'figures' / 'm.png').write_bytes(run.encode())\n"
        "    c.append(claim_row('multilayer_rates/c', 'ratio', 'P', 1.1, "
        "figure=str(out / run / 'figures' / 'm.png')))\n"
        "(out / 'two_quick.json').write_text(json.dumps({'claims': c}))\n")
    text, _ = run_validation(out=tmp_path / "r" / "report.md", folder=tmp_path, scripts=("two",))
    figs = tmp_path / "r" / "figures"
    assert (figs / "erf-fig.png").read_bytes() == b"erf"
    assert (figs / "relu-fig.png").read_bytes() == b"relu"
    assert "(figures/erf-fig.png)" in text and "(figures/relu-fig.png)" in text
    # a folder named 'figures' is skipped for the one that names the run
    assert (figs / "fixed-m.png").read_bytes() == b"fixed"
    assert (figs / "scaled-m.png").read_bytes() == b"scaled"


def test_sigterm_raises_keyboard_interrupt_only_inside_the_block():
    from meanfield._signals import terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="signal 15"):
        with terminate_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs at the next bytecode; never reached
    assert signal.getsignal(signal.SIGTERM) is before


# --- one process per folder ---------------------------------------------------------------

def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text(f"{dead.pid} elsewhere\n")  # left by a killed run
    (out / ".x.csv.tmp").write_text("N,eps\n16,0.")  # its unfinished write
    rep = run_sweep(load_config(_toml(tmp_path / "s.toml", N=(16,), seeds=(0,))), out,
                    workers=1, progress=False)
    assert rep.done == 1
    assert (out / ".lock").read_text().split()[0] == str(os.getpid())
    assert not (out / ".x.csv.tmp").exists()


STAB_ARGV = ["stability", "--d", "4", "--T", "0.2", "--Ns", "8,12", "--seeds", "3"]
STAB_TOML = ('experiment = "stability"\n[fixed]\nd = 4\nT = 0.2\n[grid]\nN = [8, 12]\n'
             'seed = [0, 1, 2]\n')


@pytest.fixture(scope="module")
def zygote():
    import _cli_child

    z = _cli_child.Zygote()
    yield z
    z.close()


@pytest.mark.parametrize("holder", ["stability", "sweep"])
def test_a_folder_in_use_is_refused_naming_the_process(tmp_path, capsys, zygote, holder):
    """While one command runs on a folder, stability and sweep on it are refused with its
    PID; once it is done, the other command finds every cell (they share the store)."""
    cfg = tmp_path / "s.toml"
    cfg.write_text(STAB_TOML)
    out = tmp_path / "out"
    sweep_argv = ["sweep", str(cfg), "--workers", "1"]
    argv = STAB_ARGV if holder == "stability" else sweep_argv
    pid = zygote.start([*argv, "--out", out, "--quiet"], tmp_path / "log")
    deadline = time.time() + 120
    while not (out / ".lock").exists() or (out / ".lock").read_text().split()[:1] != [
            str(pid)]:
        assert time.time() < deadline and zygote.poll(pid) is None, "the run never locked"
        time.sleep(0.005)
    os.kill(pid, signal.SIGSTOP)
    try:
        for other in (STAB_ARGV, sweep_argv):
            t0 = time.perf_counter()
            assert main([*other, "--out", str(out), "--quiet"]) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and f"{out} is in use" in err[0], err
            assert f"PID {pid}" in err[0] and time.perf_counter() - t0 < 5
    finally:
        os.kill(pid, signal.SIGCONT)
    assert zygote.wait(pid) == 0, (tmp_path / "log").read_text()[-2000:]
    if holder == "stability":
        rep = run_sweep(load_config(cfg), out, workers=1, progress=False)
        assert (rep.skipped, rep.done) == (6, 0)
    else:
        assert main([*STAB_ARGV, "--out", str(out)]) == 0
        assert "6 of 6 cells already in" in capsys.readouterr().err
        assert len(pd.read_csv(out / "paths.csv")) == 6


def test_report_shows_old_verdicts_and_small_values(tmp_path):
    """A row whose rule changed shows its verdict under the old rule beside the new one, and
    a value far below 0.01 keeps its digits (a relative gap of 3.7e-4 is not '+0.000')."""
    from meanfield.validation_report import run_validation

    (tmp_path / "old.py").write_text(
        "import json, pathlib\n"
        "from meanfield.analysis.claims import claim_row\n"
        "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
        "c = [claim_row('dropout_rates/c/erf', 'eps_C slope', 'P', -0.67, (-0.8, -0.55), "
        "old_rule='slope in [-0.65, -0.35]', old_pass=False),\n"
        "     claim_row('pde_vs_sgd/a/relu', 'gap', 'P', 3.735e-4),\n"
        "     claim_row('deep_connectivity/b-vertices', 'dev', 'P', 0.0)]\n"
        "(out / 'old_quick.json').write_text(json.dumps({'claims': c}))\n")
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("old",))
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| old")]
    head = [h.strip("| ") for h in text.splitlines()[4].split(" | ")]
    col = {h: i for i, h in enumerate(head)}
    assert ok and len(head) == 14 and head[-2:] == ["check", "control"]
    assert rows[0][col["result"]] == "PASS"
    assert rows[0][col["under the old rule"]] == "FAIL (slope in [-0.65, -0.35])"
    assert rows[1][col["measured"]] == "0.000374" and rows[1][col["under the old rule"]] == ""
    assert rows[2][col["measured"]] == "0" and rows[2][col["result"]] == "PASS"
    assert rows[2][col["check"]].startswith("a construction") and rows[0][col["check"]] == ""


def _marker_script(body):
    """A fake validation script: ``body`` runs with ``out`` and ``name`` defined, then the
    script writes a passing claim carrying ``info`` (a dict the body fills)."""
    return ("import json, os, pathlib, sys, time\n"
            "name = pathlib.Path(__file__).stem\n"
            "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
            "info = {}\n" + body +
            "c = [{'claim': name, 'paper': 'P', 'value': 1.0, 'interval': None, 'pass': True, "
            "'figure': '', 'info': info}]\n"
            "(out / f'{name}_quick.json').write_text(json.dumps({'claims': c}))\n")


def test_report_runs_scripts_side_by_side_after_what_they_read(tmp_path, monkeypatch):
    """With jobs = 2 two scripts run at once (each sees the other start), each with its share
    of the CPUs as threads; dropout_rates starts only once multilayer_rates has written its
    result, even though it is listed first."""
    import json

    from meanfield.validation_report import _run_order, run_validation

    body = ("(out / f'{name}.started').write_text('')\n"
            "other = 'b' if name == 'a' else 'a'\n"
            "t0 = time.time()\n"
            "while not (out / f'{other}.started').exists() and time.time() - t0 < 60:\n"
            "    time.sleep(0.05)\n"
            "info['saw_other'] = (out / f'{other}.started').exists()\n"
            "info['threads'] = os.environ.get('NUMBA_NUM_THREADS')\n")
    for n in ("a", "b"):
        (tmp_path / f"{n}.py").write_text(_marker_script(body))
    (tmp_path / "multilayer_rates.py").write_text(_marker_script("time.sleep(1)\n"))
    (tmp_path / "dropout_rates.py").write_text(_marker_script(
        "info['read'] = (out / 'multilayer_rates_quick.json').exists()\n"))
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("a", "b"), jobs=2)
    info = [json.loads((tmp_path / "out" / f"{n}_quick.json").read_text())["claims"][0]["info"]
            for n in ("a", "b")]
    assert ok and all(i["saw_other"] and i["threads"] == "2" for i in info)

    assert _run_order(["dropout_rates", "lazy_gram", "multilayer_rates"]) == \
        ["multilayer_rates", "dropout_rates", "lazy_gram"]
    assert _run_order(["lazy_gram", "dropout_rates"]) == ["dropout_rates", "lazy_gram"]
    # while dropout_rates waits for multilayer_rates, the free worker runs lazy_gram
    (tmp_path / "multilayer_rates.py").write_text(_marker_script(
        "time.sleep(1.5)\ninfo['end'] = time.time()\n"))
    (tmp_path / "lazy_gram.py").write_text(_marker_script("info['start'] = time.time()\n"))
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path,
                              scripts=("dropout_rates", "multilayer_rates", "lazy_gram"),
                              jobs=2)
    info = {n: json.loads((tmp_path / "out" / f"{n}_quick.json").read_text())["claims"][0]
            ["info"] for n in ("dropout_rates", "multilayer_rates", "lazy_gram")}
    assert ok and info["dropout_rates"]["read"] is True
    assert info["lazy_gram"]["start"] < info["multilayer_rates"]["end"]
    with pytest.raises(ValueError, match="jobs must be an integer >= 1, got 0"):
        run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("a",), jobs=0)


def test_a_new_stability_setting_is_one_field(monkeypatch, capsys):
    """A field made with setting() is a flag of 'meanfield stability', a key of 'meanfield
    sweep --list stability' and of sweep configs, with its help, and nothing else needs
    editing; marked added, it leaves the names of stored cells as they were."""
    import dataclasses

    import meanfield.experiments.kinds as kinds
    import meanfield.twolayer.experiment as st
    from meanfield._settings import setting
    from meanfield.cli import build_parser, main
    from meanfield.experiments import cell_id, parse_config

    sweep = {"experiment": "stability", "fixed": {"d": 4}, "grid": {"N": [8], "seed": [0]}}
    before = cell_id("stability", parse_config(sweep).cells()[0])

    @dataclasses.dataclass(frozen=True)
    class WithTrial(st.StabilityConfig):
        trial_knob: int = setting(3, "a trial setting", added=True)

    monkeypatch.setattr(st, "StabilityConfig", WithTrial)
    kinds._registry.cache_clear()
    try:
        flags = build_parser("stability").commands["stability"].format_help()
        assert "--trial-knob" in flags and "a trial setting (default 3)" in flags
        assert main(["sweep", "--list", "stability"]) == 0
        assert "trial_knob" in capsys.readouterr().out
        cells = parse_config({**sweep, "fixed": {"d": 4, "trial_knob": 5}}).cells()
        assert cells[0]["trial_knob"] == 5
        assert cell_id("stability", parse_config(sweep).cells()[0]) == before
    finally:
        kinds._registry.cache_clear()


def test_a_torch_setting_is_one_field_of_its_dataclass(monkeypatch, capsys):
    """The torch experiments are registered from their settings dataclasses
    (kinds.from_settings): a field added to EmpiricalSettings is a key of 'sweep --list
    empirical' and of configs, checked by its dataclass, and (marked added) leaves the
    names of stored cells as they were."""
    import dataclasses

    pytest.importorskip("torch", reason="a torch experiment's config check needs torch")
    import meanfield.experiments.kinds as kinds
    import meanfield.torch.settings as ts
    from meanfield._settings import setting
    from meanfield.cli import main
    from meanfield.experiments import cell_id, parse_config

    sweep = {"experiment": "empirical", "fixed": {"N": 8}, "grid": {"seed": [0, 1]}}
    before = [cell_id("empirical", c) for c in parse_config(sweep).cells()]

    @dataclasses.dataclass(frozen=True)
    class WithTrial(ts.EmpiricalSettings):
        trial_knob: int = setting(3, "a trial setting", added=True)

        def check(self):
            super().check()
            if self.trial_knob > 4:
                raise ValueError(f"trial_knob must be <= 4, got {self.trial_knob}")
            return self

    monkeypatch.setitem(ts.SETTINGS, "empirical", WithTrial)
    kinds._registry.cache_clear()
    try:
        assert main(["sweep", "--list", "empirical"]) == 0
        assert "a trial setting (default 3)" in capsys.readouterr().out
        assert parse_config({**sweep, "fixed": {"N": 8, "trial_knob": 4}}).cells()[0][
            "trial_knob"] == 4
        with pytest.raises(ConfigError, match="trial_knob must be <= 4, got 5"):
            parse_config({**sweep, "fixed": {"N": 8, "trial_knob": 5}})
        assert [cell_id("empirical", c) for c in parse_config(sweep).cells()] == before
    finally:
        kinds._registry.cache_clear()


def test_a_couple_sweep_records_the_values_used_and_offers_the_sups(tmp_path):
    """alpha and M left to their defaults are stored as the values used (alpha was NaN), and
    couple_sups gives the per-cell sup over snapshots that the sweep's figure fits."""
    import numpy as np

    from meanfield.analysis import couple_sups
    from meanfield.experiments import load_results

    cfg = {"experiment": "couple", "fixed": {"d": 3, "T": 0.2, "snapshots": 3, "h": 0.1},
           "grid": {"N": [10, 20], "seed": [0]}}
    folder = tmp_path / "cp"
    run_sweep(parse_config(cfg), folder, workers=1, progress=False)
    table = load_results(folder)
    assert np.allclose(table["alpha"], 1.0 / table["N"])
    assert (table["M"] == 2000).all()
    sups = couple_sups(table)
    assert list(sups["N"]) == [10, 20] and "t" not in sups
    for _, row in sups.iterrows():
        rows = table[table["cell"] == row["cell"]]
        assert row["sup_risk_gap"] == rows["risk_gap"].max()
        assert row["sup_max_dist"] == rows["max_dist"].max() > 0


#: A stability sweep (d = 4, N = 16 and 32, seed 0, straight-line barrier measured, sweep rows
#: at N = 32) written by meanfield 0.1.0 at 5ff1ea8, before 0.2: one CSV per cell whose two
#: kinds of row are told apart by a ``table`` column (host and pid in the records blanked).
LEGACY = os.path.join(os.path.dirname(__file__), "data", "stability_before_0_2")


def test_each_table_of_a_cell_is_its_own_file_and_reads_back_with_its_dtypes(tmp_path):
    import json

    import numpy as np

    from meanfield.experiments.store import read_table, table_bytes

    sweep = parse_config({**SMALL, "grid": {"N": [16], "seed": [0]}})
    run_sweep(sweep, tmp_path, workers=1, progress=False)
    (cid,) = ResultStore(tmp_path).finished(sweep)
    assert sorted(p.name for p in (tmp_path / "cells" / cid).iterdir()) == ["dropout.csv",
                                                                           "paths.csv"]
    record = json.loads((tmp_path / "cells" / f"{cid}.json").read_text())
    assert set(record["tables"]) == {"dropout", "paths"}
    tables = load_tables(tmp_path)
    assert "table" not in tables["dropout"] and "table" not in tables["paths"]
    for name, ints in (("dropout", ["N", "seed", "net", "size", "draw"]),
                       ("paths", ["N", "seed", "draw"])):
        assert all(tables[name][c].dtype == "int64" for c in ints), name
        assert tables[name].dtypes.astype(str).to_dict() == record["tables"][name]["dtypes"]
    pd.testing.assert_frame_equal(load_results(tmp_path, table="paths"), tables["paths"])
    with pytest.raises(ValueError, match=r"one of dropout, paths \(the tables of .*\), got 'path'"):
        load_results(tmp_path, table="path")
    with pytest.warns(DeprecationWarning, match="pass table=NAME"):
        both = load_results(tmp_path)
    assert set(both["table"]) == {"dropout", "paths"}
    # the helper that writes every table: text that looks like a number stays text, an int
    # column stays int, a float is read back to the same bits, NaN included
    t = pd.DataFrame({"i": [1, 2], "f": [0.1 + 0.2, np.nan], "s": ["007", "12"],
                      "b": [True, False], "j": ['[1, 2]', "[3]"]})
    data, dtypes = table_bytes(t)
    pd.testing.assert_frame_equal(read_table(data, dtypes), t, check_exact=True)
    assert read_table(data)["s"].iloc[0] == 7  # what a CSV alone gives


def _same_column(a, b, what):
    """Floats to rounding (1e-12 relative, 1e-15 absolute), anything else exactly."""
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        pd.testing.assert_series_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-15,
                                       obj=what)
    else:
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=what)


def test_a_folder_written_before_0_2_still_loads_and_resumes(tmp_path):
    import shutil

    import numpy as np

    from meanfield.experiments.stability import run_stability
    from meanfield.twolayer.experiment import DROPOUT_COLUMNS, PATH_COLUMNS, StabilityConfig

    old = tmp_path / "old"
    shutil.copytree(LEGACY, old)
    assert not any(p.is_dir() for p in (old / "cells").iterdir())  # the layout before 0.2
    sweep = ResultStore(old).sweep()
    assert len(ResultStore(old).finished(sweep)) == 2
    before = load_tables(old)
    assert set(before) == {"dropout", "paths"}
    run_sweep(sweep, tmp_path / "new", workers=1, progress=False)
    new = load_tables(tmp_path / "new")
    for name in ("dropout", "paths"):
        assert "table" not in before[name]
        # the same rows, numbers and integer columns as the cells computed today; the old
        # file places the columns empty in every row (law2 unset, aligned barrier not
        # measured) in both parts, and reads them as floats.  Numbers agree to rounding:
        # the stored risks summed every pair twice, today's each pair once.
        for col in new[name].columns:
            a, b = before[name][col], new[name][col]
            if b.isna().all():
                assert a.isna().all(), (name, col)
                continue
            _same_column(a, b, f"{name}.{col}")
    assert (before["dropout"]["kind"] == "sweep").sum() == 2 * 4 * 2
    assert np.isnan(before["dropout"].loc[before["dropout"]["kind"] == "sweep", "bias"]).all()
    # resumed with more seeds: the two stored cells are kept, two new ones written as files
    grown = parse_config({**sweep.to_dict(), "grid": {"N": [16, 32], "seed": [0, 1]}})
    rep = run_sweep(grown, old, workers=1, progress=False)
    assert (rep.skipped, rep.done) == (2, 2)
    mixed = load_tables(old)
    for name in ("dropout", "paths"):
        kept = mixed[name][mixed[name]["seed"] == 0].reset_index(drop=True)
        cols = new[name].columns
        fresh = new[name][cols].astype(kept[cols].dtypes.to_dict())
        assert list(kept[cols].columns) == list(fresh.columns) and len(kept) == len(fresh)
        for col in cols:
            _same_column(kept[col], fresh[col], f"{name}.{col}")
        assert mixed[name]["N"].dtype == mixed[name]["draw"].dtype == "int64"
    # run_stability on the old folder: nothing run again, its tables as a fresh run's
    cfg = StabilityConfig(d=4, T=0.3, half_draws=2, sweep_Ns=(32,), sweep_sizes=(2, 4),
                          aligned_max_N=0, Ns=(16, 32), seeds=1)
    legacy = tmp_path / "again"
    shutil.copytree(LEGACY, legacy)
    res = run_stability(cfg, progress=False, folder=legacy)
    assert res.complete and len(res.failed) == 0
    store = ResultStore(legacy)
    assert all(store.record(cid)["host"] == "example" for cid in store.finished())  # not rerun
    assert list(res.dropout.columns) == list(DROPOUT_COLUMNS)
    assert list(res.paths.columns) == list(PATH_COLUMNS)
    assert res.dropout["net"].dtype == res.paths["draw"].dtype == "int64"
    assert res.paths.loc[res.paths["draw"] == 0, "barrier_straight"].notna().all()
