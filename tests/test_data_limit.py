"""validation/data_limit.py's dropout and connectivity rows on data (issue 31): the rows and
their controls, on the script's own functions."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meanfield.analysis.claims import RULES
from meanfield.twolayer.experiment import StabilityResult
from tests.conftest import validation_script

VALIDATION = Path(__file__).resolve().parents[1] / "validation"


@pytest.fixture(scope="module")
def script():
    """validation/data_limit.py as a module (it imports its sibling scripts by name)."""
    return validation_script("data_limit")


def _synthetic(Ns=(100, 200, 400, 800, 1600), pairs=8, sd=0.2, seed=0):
    """Tables of a stability run where eps_D at |A| = N/2 and eps_C fall like N^-1/2 (times a
    log-normal factor, sd ``sd``), while eps_D at |A| = 12 and the straight line's barrier
    do not depend on N: the claims' behaviour, and its absence in the controls."""
    rng = np.random.default_rng(seed)
    base = dict(task="digits-0-1", activation="erf", alpha=0.0)
    drop, paths = [], []
    for N in Ns:
        for s in range(pairs):
            noise = lambda: float(np.exp(sd * rng.standard_normal()))  # noqa: E731
            for net in (1, 2):
                drop.append({**base, "N": N, "seed": s, "net": net, "t": 1.0, "kind": "half",
                             "size": N // 2, "draw": 0, "L_N": 0.01, "L_A": 0.0,
                             "eps_D": 0.1 * noise() / np.sqrt(N), "bias": 0.0})
                drop.append({**base, "N": N, "seed": s, "net": net, "t": 1.0, "kind": "sweep",
                             "size": 12, "draw": 0, "L_N": 0.01, "L_A": 0.0,
                             "eps_D": 0.05 * noise(), "bias": np.nan})
            paths.append({**base, "N": N, "seed": s, "T": 1.0, "draw": 0, "L_1": 0.01,
                          "L_2": 0.01, "eps_C": 0.1 * noise() / np.sqrt(N),
                          "eps_C_debiased": 0.0, "bias_1": 0.0, "bias_2": 0.0,
                          "barrier_straight": 0.2 * noise(), "barrier_aligned": np.nan})
    return StabilityResult(pd.DataFrame(drop), pd.DataFrame(paths), {"d": 64, "alpha0": 1.0})


def test_rows_pass_where_the_rate_holds_and_their_controls_fail(script, tmp_path):
    claims, details = script.stability_claims(_synthetic(), "digits:0,1", tmp_path)
    by_id = {c["id"]: c for c in claims}
    assert set(by_id) == {"data_limit/dropout[digits:0,1]",
                          "data_limit/connectivity[digits:0,1]"}
    for c in claims:
        assert c["judged"] and c["pass"], c
        assert abs(c["value"] + 0.5) < 0.1, c  # the slope put in, -1/2
        (ctl,) = c["controls"]
        assert ctl["pass"] is False and abs(ctl["value"]) < 0.1, ctl  # flat: the rule fails
    assert "|A| = 12" in by_id["data_limit/dropout[digits:0,1]"]["controls"][0]["control"]
    assert "straight line" in by_id["data_limit/connectivity[digits:0,1]"]["controls"][0][
        "control"]
    assert details["fixed_size"] == 12 and details["Ns"] == [100, 200, 400, 800, 1600]


def test_a_zero_mean_eps_C_is_a_fail_not_an_error(script, tmp_path):
    """eps_C is exactly 0 for every pair at N = 1600: no log-log fit, so the row is NaN and
    judged FAIL (the rule cannot judge it), with the width named."""
    res = _synthetic()
    res.paths.loc[res.paths["N"] == 1600, "eps_C"] = 0.0
    claims, _ = script.stability_claims(res, "digits:0,1", tmp_path)
    conn = claims[1]
    assert np.isnan(conn["value"]) and conn["pass"] is False
    assert conn["zero_mean_at_N"] == [1600]


def test_config_is_the_documented_setting(script):
    """erf, bounded uniform a (A4), alpha = 1/N, t = T, the control's |A| = 12 and the
    straight line at every N, the data's d."""
    cfg = script.stability_config("digits:0,1", 64, **script.QUICK["stability"])
    assert (cfg.activation, cfg.a_law, cfg.alpha0, cfg.times) == ("erf", "uniform", 1.0, (1.0,))
    assert cfg.sweep_Ns == cfg.Ns and cfg.sweep_sizes == (12,)
    assert cfg.straight_max_N == max(cfg.Ns) and cfg.aligned_max_N == 0
    for grid in (script.QUICK["stability"], script.FULL["stability"]):
        assert min(grid["Ns"]) >= 8 * script.FIXED_SIZE  # where sqrt(1 - |A|/N) is flat
    assert set(RULES) >= {"data_limit/dropout", "data_limit/connectivity"}


def test_rows_appear_with_controls_on_a_tiny_digits_run(script, tmp_path, monkeypatch):
    """The script's pipeline end to end on digits 0 vs 1 at N = 24, 48 (2 pairs): both rows,
    each with its control, and the figures' folder where the rows say (the figures
    themselves, 8 s of matplotlib, are save_stability's and tested with it)."""
    saved = []
    monkeypatch.setattr(script, "OUT", tmp_path)
    monkeypatch.setattr(script, "save_stability", lambda res, out: saved.append(out))
    claims, details = script.run_stability_rows("digits:0,1", 64, dict(Ns=(24, 48), seeds=2),
                                                "tiny", progress=False)
    assert [c["id"] for c in claims] == ["data_limit/dropout[digits:0,1]",
                                         "data_limit/connectivity[digits:0,1]"]
    assert all(len(c["controls"]) == 1 for c in claims)
    assert details["Ns"] == [24, 48] and details["pairs_per_N"] == 2
    assert saved == [tmp_path / "tiny_stability"]
    assert [Path(c["figure"]) for c in claims] == [saved[0] / "dropout_vs_n.png",
                                                   saved[0] / "connectivity_vs_n.png"]
    assert (tmp_path / "tiny_cells" / "digits_0-1").is_dir()


def test_the_script_runs_on_a_users_npz_under_its_own_name(script, tmp_path, monkeypatch,
                                                           capsys):
    """--task FILE.npz: the same rows on the user's data, at the mode's sizes (here shrunk),
    the file's hash in the results and in their names; a missing file is one line, exit 2."""
    import json

    from meanfield.tasks import file_sha256

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 5))
    np.savez(tmp_path / "my.npz", X=X, y=np.sign(X[:, 0]))
    sha = file_sha256(tmp_path / "my.npz")
    monkeypatch.setattr(script, "OUT", tmp_path)
    monkeypatch.setattr(script, "save_stability", lambda res, out: None)
    monkeypatch.setattr(script, "QUICK", dict(spec="digits:0,1", Ns=(16, 32), M=40, seeds=3,
                                              stability=dict(Ns=(24, 48), seeds=2)))
    spec = str(tmp_path / "my.npz")
    script.main(["--quick", "--quiet", "--task", spec])
    stem = f"data_limit_quick_my-{sha[:8]}"
    report = json.loads((tmp_path / f"{stem}.json").read_text())
    assert report["data"] == spec and report["data_sha256"] == sha and report["d"] == 5
    # the limit's step by the step rule, and its checks, in the result
    assert report["parts"] == ["limit", "stability"]
    last = report["step_checks"][-1]
    assert last["h"] == report["h"] and last["risk_change"] <= 1e-3 and last["move"] <= 1e-2
    assert {c["id"] for c in report["claims"]} == {
        f"data_limit/{k}[{spec}]" for k in ("risk", "coupling", "dropout", "connectivity")}
    assert (tmp_path / f"{stem}_cells" / f"my-{sha[:8]}").is_dir()
    assert script.result_stem(True, spec, sha) == stem
    # the limit's field on a torch device (here the CPU): the same numbers to rounding
    pytest.importorskip("torch")
    host = pd.read_csv(tmp_path / f"{stem}.csv")
    script.main(["--quick", "--quiet", "--task", spec, "--device", "cpu"])
    dev = pd.read_csv(tmp_path / f"{stem}.csv")
    for col in ("risk_gap", "max_dist"):
        np.testing.assert_allclose(dev[col], host[col], rtol=1e-9)
    assert json.loads((tmp_path / f"{stem}.json").read_text())["device"] == "cpu"
    capsys.readouterr()
    assert script.main(["--quick", "--quiet", "--task", str(tmp_path / "nope.npz")]) == 2
    assert capsys.readouterr().err.strip().endswith("nope.npz is not a file")


def test_stability_only_runs_no_limit(script, tmp_path, monkeypatch):
    """--stability-only: the dropout and connectivity rows alone, the limit never run, and
    the result says which part ran (no limit design in it)."""
    import json

    monkeypatch.setattr(script, "OUT", tmp_path)
    monkeypatch.setattr(script, "save_stability", lambda res, out: None)
    monkeypatch.setattr(script, "QUICK", dict(spec="digits:0,1", Ns=(16, 32), M=40, seeds=3,
                                              stability=dict(Ns=(24, 48), seeds=2)))
    monkeypatch.setattr(script.svl, "run", lambda *a, **k: pytest.fail("ran the limit"))
    script.main(["--quick", "--quiet", "--stability-only"])
    report = json.loads((tmp_path / "data_limit_quick.json").read_text())
    assert [c["id"] for c in report["claims"]] == ["data_limit/dropout[digits:0,1]",
                                                   "data_limit/connectivity[digits:0,1]"]
    assert report["parts"] == ["stability"] and "M" not in report and "h" not in report
    assert not (tmp_path / "data_limit_quick.csv").exists()
