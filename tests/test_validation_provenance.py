"""The validation report records where it was computed, and a full run refuses a dirty tree."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy

from meanfield import validation_report
from meanfield.validation_report import provenance, run_validation

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def _git(root, *args):
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


@needs_git
def test_provenance_commit_and_clean_state(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "add", "a.py")
    _git(tmp_path, "commit", "-q", "-m", "a")
    prov = provenance(tmp_path)
    assert prov["commit"] == _git(tmp_path, "rev-parse", "HEAD") and len(prov["commit"]) == 40
    assert prov["clean"] is True and prov["dirty_paths"] == []
    (tmp_path / "a.py").write_text("x = 2\n")  # a tracked file changed
    prov = provenance(tmp_path)
    assert prov["clean"] is False and prov["dirty_paths"] == [" M a.py"]
    _git(tmp_path, "checkout", "-q", "a.py")
    (tmp_path / "new.py").write_text("")  # an untracked file a script could import
    assert provenance(tmp_path)["dirty_paths"] == ["?? new.py"]
    (tmp_path / ".gitignore").write_text("new.py\nout/\n")
    _git(tmp_path, "add", ".gitignore")
    _git(tmp_path, "commit", "-q", "-m", "ignore")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "r.json").write_text("{}")  # results are ignored: still clean
    assert provenance(tmp_path)["clean"] is True


def test_provenance_outside_a_checkout_and_the_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(validation_report, "_git", lambda root, *args: None)
    torch_loaded = "torch" in sys.modules
    prov = provenance(tmp_path, threads={"s": {"OMP_NUM_THREADS": "1"}})
    assert prov["commit"] is None and prov["clean"] is None
    assert prov["threads"] == {"s": {"OMP_NUM_THREADS": "1"}}
    assert prov["cores"] == os.cpu_count() and 1 <= prov["cores_usable"] <= os.cpu_count()
    assert isinstance(prov["cpu_model"], str) and prov["cpu_model"]
    if os.path.exists("/proc/cpuinfo"):
        models = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")]
        assert not models or prov["cpu_model"] == models[0]
    v = prov["versions"]
    assert set(v) == {"numpy", "scipy", "numba", "torch", "POT"}
    assert v["numpy"] == np.__version__ and v["scipy"] == scipy.__version__
    import numba

    assert v["numba"] == numba.__version__
    # versions come from metadata: torch (and POT, which imports it) are not imported
    assert ("torch" in sys.modules) == torch_loaded
    json.dumps(prov)  # JSON-ready


def _fake_script(folder, name, marker):
    (folder / f"{name}.py").write_text(
        "import json, pathlib\n"
        "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
        f"(out / '{marker}').write_text('ran')\n"
        "c = [{'claim': 'c', 'paper': 'P', 'value': 1.0, 'interval': None, 'pass': True, "
        "'figure': ''}]\n"
        f"for stem in ('{name}', '{name}_quick'):\n"
        "    (out / f'{stem}.json').write_text(json.dumps({'claims': c, 'seconds': 2.0}))\n")


def _at_commit(monkeypatch, commit, clean):
    """Make the report's provenance say ``commit`` (None: no checkout), clean or with one
    changed file; everything else as measured."""
    real = provenance

    def fake(root=None, threads=None):
        prov = real(root, threads)
        prov.update(commit=commit, clean=None if commit is None else clean,
                    dirty_paths=[] if clean or commit is None
                    else [" M meanfield/analysis/rates.py"])
        return prov

    monkeypatch.setattr(validation_report, "provenance", fake)


def _dirty(monkeypatch, commit="0123456789abcdef0123456789abcdef01234567"):
    _at_commit(monkeypatch, commit, clean=False)


def test_full_run_refuses_a_dirty_tree_before_running(tmp_path, monkeypatch):
    _fake_script(tmp_path, "s", "ran.txt")
    _dirty(monkeypatch)
    with pytest.raises(ValueError, match="uncommitted changes .*meanfield/analysis/rates.py.*"
                                         "allow_dirty=True"):
        run_validation(full=True, out=tmp_path / "r.md", folder=tmp_path, scripts=("s",))
    assert not (tmp_path / "out" / "ran.txt").exists() and not (tmp_path / "r.md").exists()
    _dirty(monkeypatch, commit=None)
    with pytest.raises(ValueError, match="is not a git checkout"):
        run_validation(full=True, out=tmp_path / "r.md", folder=tmp_path, scripts=("s",))
    # told otherwise, it runs and says so
    text, ok = run_validation(full=True, out=tmp_path / "r.md", folder=tmp_path,
                              scripts=("s",), allow_dirty=True)
    assert ok and (tmp_path / "out" / "ran.txt").exists()
    assert "not a git checkout (commit unknown)" in text.splitlines()[2]


def test_report_header_and_json_record_the_run(tmp_path, monkeypatch):
    _fake_script(tmp_path, "s", "ran.txt")
    _dirty(monkeypatch)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",))  # quick
    header = text.splitlines()[2]
    assert ok and header.startswith("Sizes: quick;")
    assert "commit 0123456789ab, uncommitted changes (1 paths)" in header
    assert "OMP_NUM_THREADS=1" in header and "NUMBA_NUM_THREADS=2" in header
    assert f"numpy {np.__version__}" in header and f"scipy {scipy.__version__}" in header
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["provenance"]["commit"].startswith("0123456789ab")
    assert rec["provenance"]["clean"] is False
    assert rec["provenance"]["threads"] == {"s": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                                  "OPENBLAS_NUM_THREADS": "1",
                                                  "NUMBA_NUM_THREADS": "2"}}
    assert rec["scripts"]["s"]["reused"] is False and rec["scripts"]["s"]["seconds"] == 2.0
    assert rec["full"] is False and rec["pass"] is True
    # a stored result tabulated again ran earlier: its record gives the threads it ran with
    text, _ = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",), reuse=True)
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["provenance"]["threads"] == {"s": "reused"} and rec["scripts"]["s"]["reused"]
    assert ("reused results ran earlier: s with OMP_NUM_THREADS=1, MKL_NUM_THREADS=1, "
            "OPENBLAS_NUM_THREADS=1, NUMBA_NUM_THREADS=2") in text.splitlines()[2]
    # without a record they are not known
    (tmp_path / "out" / "s_quick.provenance.json").unlink()
    text, _ = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",), reuse=True)
    assert "reused results ran earlier: s, threads not recorded" in text.splitlines()[2]


def test_cli_full_run_on_a_dirty_tree_is_one_line_exit_2_unless_allowed(tmp_path, monkeypatch,
                                                                        capsys):
    import meanfield.validation_report as vr
    from meanfield.cli import main

    monkeypatch.setattr(vr, "provenance", lambda: {"clean": False, "commit": "abc",
                                                   "dirty_paths": [" M meanfield/x.py"]})
    ran = []
    monkeypatch.setattr(vr, "_run_scripts", lambda *a, **k: ran.append(1), raising=False)
    out = tmp_path / "r.md"
    assert main(["validate", "--full", "--only", "lazy_gram", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--allow-dirty" in err[0] and "meanfield/x.py" in err[0]
    assert not out.exists() and not ran
    seen = {}
    monkeypatch.setattr(vr, "run_validation", lambda **k: seen.update(k) or ("", True))
    assert main(["validate", "--full", "--allow-dirty", "--out", str(out)]) == 0
    assert seen["allow_dirty"] is True and seen["full"] is True


def test_report_shows_each_claims_control_and_its_verdict(tmp_path, monkeypatch):
    from meanfield.analysis.claims import claim_row, control_row

    _fake_script(tmp_path, "s", "ran.txt")
    _dirty(monkeypatch)
    ctl = control_row("sgd_vs_limit/erf", "SGD at a fixed alpha = 0.05", 0.02, (-0.2, 0.25))
    claims = [claim_row("sgd_vs_limit/erf", "gap", "P", -0.5, (-0.6, -0.4), controls=[ctl]),
              claim_row("dropout_rates/c/erf", "eps_C", "P", -0.6, (-0.7, -0.5))]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "s_quick.json").write_text(json.dumps({"claims": claims}))
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                              reuse=True)
    rows = [line for line in text.splitlines() if line.startswith("| s (commit not recorded) |")]
    assert ok and rows[0].endswith(
        "| SGD at a fixed alpha = 0.05: +0.020 [-0.200, +0.250], FAIL |")
    assert rows[1].endswith("| none yet |")
    # a control that passes its claim's rule fails the claim, and the report says why
    ctl = control_row("sgd_vs_limit/erf", "SGD at a fixed alpha = 0.05", -0.6, (-0.8, -0.4))
    claims = [claim_row("sgd_vs_limit/erf", "gap", "P", -0.5, (-0.6, -0.4), controls=[ctl])]
    (tmp_path / "out" / "s_quick.json").write_text(json.dumps({"claims": claims}))
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                              reuse=True)
    assert not ok and "PASS (the rule cannot tell: the claim fails)" in text


def test_the_data_behind_a_full_report_ships_beside_it(tmp_path, monkeypatch):
    """A full run packs each script's full-size result and cell tables (not figures, locks
    or quick runs) into data.tar.xz beside the report; unpacked, the files are the same
    bytes, and a re-pack of the same files is the same archive."""
    import tarfile

    from meanfield.validation_report import pack_results

    _fake_script(tmp_path, "s", "ran.txt")
    _dirty(monkeypatch)
    out = tmp_path / "out"
    (out / "s_cells" / "ab12").mkdir(parents=True)
    (out / "s_cells" / "ab12" / "dropout.csv").write_text("N,eps\n4,0.5\n")
    (out / "s_cells" / ".lock").write_text("")
    (out / "s_quick_cells").mkdir()
    (out / "s_quick_cells" / "x.csv").write_text("quick")
    (out / "s.png").write_bytes(b"\x89PNG")
    (out / "sx.json").write_text("{}")          # another script's, not s's
    text, ok = run_validation(full=True, out=tmp_path / "docs" / "report.md", folder=tmp_path,
                              scripts=("s",), allow_dirty=True)
    archive = tmp_path / "docs" / "data.tar.xz"
    assert ok and "[data.tar.xz](data.tar.xz)" in text
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["s.json", "s.provenance.json",
                                          "s_cells/ab12/dropout.csv"]
        assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" for m in tar.getmembers())
        tar.extractall(tmp_path / "unpacked", filter="data")
    for name in ("s.json", "s_cells/ab12/dropout.csv"):
        assert (tmp_path / "unpacked" / name).read_bytes() == (out / name).read_bytes()
    first = archive.read_bytes()
    (out / "s_cells" / "ab12" / "dropout.csv").touch()   # a new time stamp, same content
    assert pack_results(tmp_path, archive, ("s",)) == ["s.json", "s.provenance.json",
                                                       "s_cells/ab12/dropout.csv"]
    assert archive.read_bytes() == first
    # a quick run packs nothing
    (tmp_path / "q").mkdir()
    run_validation(out=tmp_path / "q" / "report.md", folder=tmp_path, scripts=("s",))
    assert not (tmp_path / "q" / "data.tar.xz").exists()


def test_validate_on_a_users_data_law_runs_the_task_scripts_on_it(tmp_path, monkeypatch):
    """--task: only the scripts that take a data law run, each told the task, and their
    result is read from <name>_quick_<task slug>.json; a task that cannot load, or an
    --only naming another script, is one line before any script runs."""
    from meanfield.tasks import file_sha256

    (tmp_path / "s.py").write_text(
        "import json, pathlib, sys\n"
        "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
        "(out / 'argv.json').write_text(json.dumps(sys.argv[1:]))\n"
        "c = [{'claim': 'c', 'paper': 'P', 'value': 1.0, 'interval': None, 'pass': True, "
        "'figure': ''}]\n"
        "slug = sys.argv[sys.argv.index('--task') + 1].replace(':', '_').replace(',', '-')\n"
        "(out / f's_quick_{slug}.json').write_text(json.dumps({'claims': c}))\n")
    _fake_script(tmp_path, "other", "other.txt")
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s", "other"),
                              task="digits:3,5", task_scripts=("s",))
    assert ok and json.loads((tmp_path / "out" / "argv.json").read_text()) == [
        "--quiet", "--quick", "--task", "digits:3,5"]
    assert not (tmp_path / "out" / "other.txt").exists()
    assert "Sizes: quick on the data law digits:3,5;" in text
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["scripts"]["s"]["result"].endswith("s_quick_digits_3-5.json")
    with pytest.raises(ValueError, match="--task runs the scripts that take a data law "
                                         r"\(s\); --only other takes none"):
        run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s", "other"),
                       only=["other"], task="digits", task_scripts=("s",))
    with pytest.raises(ValueError, match=r"--task: data: .*nope.npz is not a file"):
        run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                       task=str(tmp_path / "nope.npz"), task_scripts=("s",))
    with pytest.raises(ValueError, match="--task must be digits"):
        run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",), task="cifar",
                       task_scripts=("s",))
    np.savez(tmp_path / "my.npz", X=np.ones((4, 2)), y=np.ones(4))
    sha = file_sha256(tmp_path / "my.npz")
    from meanfield.validation_report import _task_slug

    assert _task_slug(str(tmp_path / "my.npz")) == f"my-{sha[:8]}"
    assert rec["task"] == "digits:3,5" and rec["task_slug"] == "digits_3-5"
    # the task is read before any script starts: bad classes, an npz without X and y
    with pytest.raises(ValueError, match=r"--task: task digits:0,12: classes"):
        _task_slug("digits:0,12")
    np.savez(tmp_path / "bad.npz", A=np.ones(3))
    with pytest.raises(ValueError, match=r"--task: data: .*bad.npz must hold arrays named X "
                                         r"and y"):
        _task_slug(str(tmp_path / "bad.npz"))


def test_task_slugs_are_file_names():
    from meanfield.tasks.data_specs import task_slug

    assert task_slug("digits:0,1") == "digits_0-1"          # the stored folders' names
    assert task_slug("fashion-mnist") == "fashion-mnist"
    assert task_slug("digits: 0, 1") == "digits__0-_1"
    assert task_slug("/a b/my 'data'.npz", "ab" * 32) == "my__data_-abababab"


def test_the_report_data_leaves_out_runs_on_a_users_data(tmp_path):
    """A task script's runs on other data laws (``data_limit_<slug>...``) and quick runs are
    not the report's data; its own full run (JSON, CSV, cells, stability tables) is."""
    import tarfile

    from meanfield.validation_report import pack_results

    out = tmp_path / "out"
    for name in ("data_limit.json", "data_limit.csv", "data_limit_cells/x/t.csv",
                 "data_limit_stability/dropout.csv", "data_limit_my-abcdef12.json",
                 "data_limit_my-abcdef12_cells/y/t.csv", "data_limit_quick.json",
                 "lazy_gram.json", "lazy_gram_extra.csv"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(name)
    got = pack_results(tmp_path, tmp_path / "d.tar.xz", ("data_limit", "lazy_gram"))
    assert got == ["data_limit.csv", "data_limit.json", "data_limit_cells/x/t.csv",
                   "data_limit_stability/dropout.csv", "lazy_gram.json",
                   "lazy_gram_extra.csv"]
    with tarfile.open(tmp_path / "d.tar.xz") as tar:
        assert {m.mode for m in tar.getmembers()} == {0o644}


def test_cli_validate_task_errors_are_one_line_exit_2(tmp_path, capsys):
    from meanfield.cli import main

    assert main(["validate", "--task", "cifar", "--out", str(tmp_path / "r.md")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "meanfield validate: error: --task must be digits[:I,J], fashion-mnist[:I,J] or a "
        "FILE.npz, got 'cifar'"]
    assert main(["validate", "--task", "digits:0,1", "--only", "lazy_gram"]) == 2
    assert "--only lazy_gram takes none" in capsys.readouterr().err


def test_validate_passes_the_device_to_the_scripts_that_take_one(tmp_path):
    for name in ("gpu", "cpu_only"):
        (tmp_path / f"{name}.py").write_text(
            "import json, pathlib, sys\n"
            "out = pathlib.Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)\n"
            f"(out / '{name}.argv').write_text(json.dumps(sys.argv[1:]))\n"
            "c = [{'claim': 'c', 'paper': 'P', 'value': 1.0, 'interval': None, 'pass': True, "
            "'figure': ''}]\n"
            f"(out / '{name}_quick.json').write_text(json.dumps({{'claims': c}}))\n")
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path,
                              scripts=("gpu", "cpu_only"), device="cuda:1",
                              device_scripts=("gpu",))
    argv = {n: json.loads((tmp_path / "out" / f"{n}.argv").read_text())
            for n in ("gpu", "cpu_only")}
    assert ok and argv == {"gpu": ["--quiet", "--quick", "--device", "cuda:1"],
                           "cpu_only": ["--quiet", "--quick"]}
    assert "torch on cuda:1 where a script takes it" in text.splitlines()[2]
    assert json.loads((tmp_path / "r.json").read_text())["device"] == "cuda:1"
    with pytest.raises(ValueError, match="--device must be auto, cpu, cuda or cuda:K, got 'tpu'"):
        run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("gpu",), device="tpu")


@pytest.mark.parametrize("bad", ["tpu", "cuda:", "cuda:x", "CPU", " cpu", "cuda:1 ", None])
def test_device_names_one_check(bad, tmp_path):
    """validate --device and a couple run's device accept the same names and refuse the same
    ones with the same words (one check, meanfield._checks.device)."""
    from meanfield._checks import device
    from meanfield.twolayer.coupling import CoupleSettings

    for good in ("auto", "cpu", "cuda", "cuda:0", "cuda:12"):
        assert device(good) == good
        CoupleSettings(N=10, device=good).check()
    if bad is None:
        return
    with pytest.raises(ValueError, match=r"^device must be auto, cpu, cuda or cuda:K, got "):
        CoupleSettings(N=10, device=bad).check()
    with pytest.raises(ValueError, match=r"^--device must be auto, cpu, cuda or cuda:K, got "):
        run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("gpu",), device=bad)


def test_each_result_records_the_commit_that_computed_it(tmp_path, monkeypatch):
    """A script run by validate leaves <result>.provenance.json beside its result; a later
    --reuse at another commit tabulates it under the commit that made it (row label, header
    and JSON), and a result with no record says so instead of passing for the report's."""
    _fake_script(tmp_path, "s", "ran.txt")
    _fake_script(tmp_path, "t", "ran_t.txt")
    clean = "1111111111111111111111111111111111111111"

    def at(commit):
        _at_commit(monkeypatch, commit, clean=True)

    at(clean)
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s", "t"))
    rec = json.loads((tmp_path / "out" / "s_quick.provenance.json").read_text())
    assert ok and rec["commit"] == clean and rec["clean"] is True
    assert rec["threads"]["OMP_NUM_THREADS"] and rec["wall_seconds"] > 0
    assert "computed elsewhere" not in text and "| s (2 s) |" in text  # same commit: no note
    (tmp_path / "out" / "t_quick.provenance.json").unlink()  # as a result run by hand
    at("2222222222222222222222222222222222222222")
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s", "t"),
                              reuse=True)
    header = text.splitlines()[2]
    assert ("Results computed elsewhere, tabulated here: s (commit 111111111111); "
            "t (commit not recorded).") in header
    assert "| s (2 s; commit 111111111111) |" in text
    assert "| t (2 s; commit not recorded) |" in text
    scripts = json.loads((tmp_path / "r.json").read_text())["scripts"]
    assert scripts["s"]["computed_at"]["commit"] == clean and scripts["t"]["computed_at"] is None


def test_a_record_describes_the_result_beside_it(tmp_path, monkeypatch):
    """A script that crashed left an earlier run's result: the record it had stays (it was
    stamped with the new commit before); a result rewritten by hand after its record is
    'commit not recorded' (it passed for the record's commit before)."""
    _fake_script(tmp_path, "s", "ran.txt")
    old, new = "1" * 40, "2" * 40

    def at(commit):
        _at_commit(monkeypatch, commit, clean=True)

    at(old)
    run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",))
    record = tmp_path / "out" / "s_quick.provenance.json"
    assert json.loads(record.read_text())["commit"] == old
    (tmp_path / "s.py").write_text("raise SystemExit('crashed')\n")
    at(new)
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",))
    assert json.loads(record.read_text())["commit"] == old
    assert "| s (2 s; commit 111111111111) |" in text
    # the result rewritten by hand: the record no longer describes it
    result = tmp_path / "out" / "s_quick.json"
    result.write_text(result.read_text().replace("2.0", "3.0"))
    at(old)
    text, ok = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                              reuse=True)
    assert "| s (3 s; commit not recorded) |" in text


def test_a_result_resumed_across_commits_names_its_seeds_commits(tmp_path, monkeypatch):
    """A result whose seeds came from several commits (sgd_vs_limit resumed at a later
    commit: its JSON's seed_commits) says so on its rows; one from its own commit does not."""
    _fake_script(tmp_path, "s", "ran.txt")
    run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",))
    result = tmp_path / "out" / "s_quick.json"
    own = json.loads((tmp_path / "out" / "s_quick.provenance.json").read_text())["commit"]
    data = json.loads(result.read_text())
    data["seed_commits"] = {"erf": {own[:12]: [0, 1]}}
    result.write_text(json.dumps(data))
    monkeypatch.setattr(validation_report, "_read_record", lambda r: {"commit": own,
                                                                      "clean": True})
    text, _ = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                             reuse=True)
    assert "seeds from" not in text
    data["seed_commits"] = {"erf": {"aaaaaaaaaaaa": [0, 1, 2], own[:12]: [3]},
                            "relu": {"aaaaaaaaaaaa": [0]}}
    result.write_text(json.dumps(data))
    text, _ = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                             reuse=True)
    want = ", ".join(f"{c} ({k})" for c, k in sorted({"aaaaaaaaaaaa": 4, own[:12]: 1}.items()))
    assert f"seeds from commits {want}" in text
    # a sweep store's cells (dropout_rates, multilayer_rates): counts by commit
    del data["seed_commits"]
    data["cell_commits"] = {"fixed": {own[:12]: 5}, "scaled": {own[:12]: 3}}
    result.write_text(json.dumps(data))
    text, _ = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                             reuse=True)
    assert "cells from" not in text
    data["cell_commits"] = {"fixed": {"unrecorded": 72, own[:12]: 5}, "scaled": {own[:12]: 3}}
    result.write_text(json.dumps(data))
    text, _ = run_validation(out=tmp_path / "r.md", folder=tmp_path, scripts=("s",),
                             reuse=True)
    want = ", ".join(f"{c} ({k})" for c, k in sorted({"unrecorded": 72, own[:12]: 8}.items()))
    assert f"cells from commits {want}" in text
