"""The dropout/connectivity experiment: tables, consistency with the path objects, errors;
stored runs that resume and survive being stopped at any moment."""

import hashlib
import io
import json
import os
import random
import signal
import time

import numpy as np
import pandas as pd
import pytest

from meanfield.analysis import connectivity_shape, dropout_shape, fit_constant
from meanfield.experiments.stability import run_stability
from meanfield.twolayer.experiment import StabilityConfig, connect_pair, stability_cell

CFG = StabilityConfig(d=4, Ns=(16, 32), seeds=2, T=0.4, half_draws=2, sweep_Ns=(32,),
                      sweep_sizes=(2, 4, 8), sweep_draws=2, rescaled_draws=3,
                      law2=(0.3, 0.8, 1.2))


@pytest.fixture(scope="module")
def result():
    return run_stability(CFG, progress=False)


def test_tables_have_one_row_per_measurement(result):
    d, p = result.dropout, result.paths
    half = d[d["kind"] == "half"]
    assert len(half) == 2 * 2 * 3 * 2 * 2  # N x seeds x times x draws x nets
    assert sorted(half["t"].unique()) == pytest.approx([0.0, 0.2, 0.4])
    assert (half["size"] == half["N"] // 2).all()
    assert len(p) == 2 * 2 * 2 and p["barrier_aligned"].notna().sum() == 4
    sweep = d[d["kind"] == "sweep"]
    assert len(sweep) == 2 * 2 * 2 * 3 and (sweep["N"] == 32).all()
    np.testing.assert_allclose(d["eps_D"], np.abs(d["L_A"] - d["L_N"]), rtol=0, atol=0)
    assert result.complete and result.failed.empty


def test_eps_C_is_bounded_by_the_dropout_gaps(result):
    p = result.paths
    assert (p["eps_C"] >= 0).all()
    assert (p["eps_C"] <= np.maximum(p["eps_D_1"], p["eps_D_2"]) + 1e-15).all()
    top = np.maximum.reduce([p["L_1"], p["L_2"], p["L_1"] + p["eps_D_1"], p["L_2"] + p["eps_D_2"]])
    assert (p["max_vertex"] <= top + 1e-15).all()


def test_cell_agrees_with_the_path_object():
    """The table's eps_C (draw 0) is the barrier of the seven-segment path of connect_pair."""
    paths = connect_pair(CFG, 16, seed=1)
    row = run_stability(CFG, progress=False, Ns=(16,)).paths
    row = row[(row["seed"] == 1) & (row["draw"] == 0)].iloc[0]
    assert paths["seven"].barrier() == pytest.approx(row["eps_C"], rel=1e-12, abs=1e-16)
    vl = paths["seven"].vertex_losses()
    assert (vl[0], vl[-1]) == pytest.approx((row["L_1"], row["L_2"]), rel=1e-12)
    assert paths["straight"].barrier(n_grid=CFG.n_grid) == pytest.approx(
        row["barrier_straight"], rel=1e-12)


def test_same_seed_same_tables(result):
    again = run_stability(CFG, progress=False)
    cols = [c for c in result.paths.columns if c != "seconds"]
    pd.testing.assert_frame_equal(result.dropout, again.dropout)
    pd.testing.assert_frame_equal(result.paths[cols], again.paths[cols])


def test_fits_and_bound_constants(result):
    fits = result.fits(n_boot=50)
    assert {"eps_D t=0", "eps_D t=0.2", "eps_D t=0.4", "eps_C"} <= set(fits)
    nets = result.per_network()
    assert len(nets) == 2 * 2 * 3 * 2  # draws averaged
    b = result.bound_fits()
    assert 0 < b["eps_D"].K_fit <= b["eps_D"].K_envelope
    # (3.7)-(3.8): theta_i in R^(D+1) with w_i in R^D, so D is the input dimension d.
    last = nets[nets["t"] == nets["t"].max()]
    D = CFG.d
    want = fit_constant(last["eps_D"], dropout_shape(last["size"], last["N"], last["alpha"], D))
    assert b["eps_D"].K_fit == pytest.approx(want.K_fit, rel=1e-12)
    pairs = result.per_pair()
    want = fit_constant(pairs["eps_C"].clip(lower=0.0),
                        connectivity_shape(pairs["N"], pairs["alpha"], D))
    assert b["eps_C"].K_envelope == pytest.approx(want.K_envelope, rel=1e-12)


@pytest.mark.parametrize("kw,msg", [({"Ns": (1, 4)}, "Ns must be"),
                                    ({"times": (0.5, 2.0)}, "times are fractions of T"),
                                    ({"sweep_Ns": (16,), "sweep_sizes": (4, 32)},
                                     "must not exceed the smallest of sweep_Ns"),
                                    ({"sweep_sizes": (4, 2)}, "strictly increasing"),
                                    ({"law": (0, -1, 1)}, "a_std"),
                                    ({"law2": "x"}, "law2 must be three numbers"),
                                    ({"task": "xor"}, "task must be"),
                                    ({"seeds": 0}, "seeds must be")])
def test_bad_config_names_the_field(kw, msg):
    with pytest.raises(ValueError, match=msg):
        StabilityConfig(**kw)


def test_a_diverging_cell_is_recorded_and_the_rest_go_on():
    res = run_stability(StabilityConfig(d=3, Ns=(4, 8), seeds=1, T=50.0, alpha0=40.0,
                                        law=(3.0, 1.0, 3.0)), progress=False)
    # both cells diverge; the first failure does not stop the second cell
    assert list(res.failed["N"]) == [4, 8] and res.failed["error"].str.contains("step").all()
    assert res.paths.empty and res.complete


def test_cell_is_independent_of_the_grid():
    task = CFG.make_task()
    rows, prow = stability_cell(task, CFG, 32, 1)
    alone = pd.DataFrame(rows)
    grid = run_stability(CFG, progress=False).dropout
    grid = grid[(grid["N"] == 32) & (grid["seed"] == 1)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, grid)


def test_debiased_barrier_uses_the_exact_dropout_shift(result):
    p = result.paths
    top = np.maximum.reduce([p["L_1"], p["L_2"], p["L_A_1"] - p["bias_1"],
                             p["L_A_2"] - p["bias_2"]])
    np.testing.assert_allclose(p["eps_C_debiased"], top - np.maximum(p["L_1"], p["L_2"]),
                               rtol=0, atol=1e-16)
    # Cauchy-Schwarz: mean_{i != j} <f_i, f_j> <= mean_i |f_i|^2, so the shift is >= 0
    half = result.dropout[result.dropout["kind"] == "half"]
    assert (half["bias"] >= 0).all() and (p[["bias_1", "bias_2"]] >= 0).all().all()


# --- stored runs: resume, and no interruption leaves a damaged file -----------------------

def test_stored_run_equals_the_in_memory_run_and_resumes(tmp_path, result, monkeypatch):
    import meanfield.twolayer.experiment as st

    stored = run_stability(CFG, progress=False, folder=tmp_path)
    pd.testing.assert_frame_equal(stored.dropout, result.dropout)
    cols = [c for c in result.paths.columns if c != "seconds"]
    assert list(stored.paths.columns) == list(result.paths.columns)
    pd.testing.assert_frame_equal(stored.paths[cols], result.paths[cols])
    assert stored.complete and stored.failed.empty and stored.config == result.config

    run = []  # a rerun runs no cell; more seeds run only the new ones
    monkeypatch.setattr(st, "stability_cell", lambda *a: run.append(a[2:]) or cell(*a))
    cell = stability_cell
    again = run_stability(CFG, progress=False, folder=tmp_path)
    assert run == []
    pd.testing.assert_frame_equal(again.dropout, stored.dropout)
    grown = run_stability(CFG, progress=False, folder=tmp_path, seeds=3)
    assert sorted(run) == [(16, 2), (32, 2)]
    assert len(grown.paths) == len(stored.paths) * 3 // 2


def _whole_or_absent(folder):
    """Every file a run left in ``folder`` is whole: tables and records parse (and are not
    empty), each table of a cell has its record's hash, figures end where their format ends.
    Hidden names (the lock, temporary files and folders) are never read."""
    n = 0
    for p in sorted(folder.rglob("*")):
        if p.is_dir() or any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue
        data = p.read_bytes()
        if p.suffix == ".json":
            json.loads(data)
        elif p.suffix == ".csv":
            assert len(pd.read_csv(io.BytesIO(data))) > 0, p
        elif p.suffix == ".png":
            assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), p
        elif p.suffix == ".pdf":
            assert data.startswith(b"%PDF") and b"%%EOF" in data[-8:], p
        else:
            raise AssertionError(f"unexpected file {p}")
        n += 1
    for rec in (folder / "cells").glob("*.json"):
        tables = json.loads(rec.read_text())["tables"]
        assert tables, rec
        for t in tables.values():  # each table of a finished cell is its own whole file
            digest = hashlib.sha256((rec.parent / t["file"]).read_bytes()).hexdigest()
            assert digest == t["sha256"], rec
    return n


@pytest.fixture(scope="module")
def zygote():
    import _cli_child

    z = _cli_child.Zygote()
    yield z
    z.close()


def _stored(folder):
    return len(list((folder / "cells").glob("*.json")))


def _kill_at_random_moments(zygote, tmp_path, argv, kills, seed):
    """Run ``meanfield ARGV --out FOLDER`` uninterrupted into ``ref`` (twice: the second
    run, with every cell stored, times the delays); then into ``out``
    until ``kills`` runs were stopped while running (at most twice as many runs), by
    SIGINT, SIGTERM or SIGKILL, every file checked after each; then once more to the end.
    The first run is killed (SIGKILL) as soon as it has stored a cell, the others after
    a random delay.  Returns the folders and, for each stop, the signal and the number
    of cells stored after it."""
    log = tmp_path / "runs.log"
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert zygote.wait(zygote.start([*argv, "--out", ref], log)) == 0, log.read_text()[-3000:]
    t0 = time.monotonic()  # a rerun with every cell stored: the tables and figures alone
    assert zygote.wait(zygote.start([*argv, "--out", ref], log)) == 0, log.read_text()[-3000:]
    longest = time.monotonic() - t0  # delays up to about the length of a run
    rng = random.Random(seed)
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
    stops = []
    for i in range(2 * kills):
        pid = zygote.start([*argv, "--out", out], log)
        if i == 0:
            while _stored(out) == 0 and zygote.poll(pid) is None:
                time.sleep(0.002)
            sig = signal.SIGKILL
        else:
            time.sleep(rng.uniform(0.0, longest))
            sig = rng.choice(signals)
        if zygote.poll(pid) is None:
            os.kill(pid, sig)
            zygote.wait(pid, 120)
            stops.append((sig.name, _stored(out)))
        else:  # it ended first: runs on a folder with more cells stored are shorter
            longest = max(0.2, longest / 2)
        _whole_or_absent(out)
        if len(stops) == kills:
            break
    assert zygote.wait(zygote.start([*argv, "--out", out], log)) == 0, log.read_text()[-3000:]
    return ref, out, stops


# nine cells, as in issue 18; one N, so no fits or figures, which cost more than the cells
# and would take most of the stops (the path test stops runs while they draw a figure)
STAB_ARGV = ["stability", "--d", "4", "--Ns", "12", "--seeds", "9", "--T", "0.2",
             "--straight-max-N", "0", "--aligned-max-N", "0", "--quiet"]


def test_stability_stopped_at_random_moments_leaves_whole_files_and_resumes(tmp_path, zygote):
    ref, out, stops = _kill_at_random_moments(zygote, tmp_path, STAB_ARGV, kills=20, seed=1)
    # the first stop came after one cell of nine: the runs after it resumed
    assert len(stops) == 20 and 1 <= stops[0][1] < 9, stops
    assert _whole_or_absent(out) == _whole_or_absent(ref)
    pd.testing.assert_frame_equal(pd.read_csv(out / "dropout.csv"),
                                  pd.read_csv(ref / "dropout.csv"), check_exact=True)
    p, q = (pd.read_csv(f / "paths.csv").drop(columns="seconds") for f in (out, ref))
    pd.testing.assert_frame_equal(p, q, check_exact=True)
    s, r = (json.loads((f / "summary.json").read_text()) for f in (out, ref))
    assert s == r and s["complete"]


def test_path_stopped_at_random_moments_leaves_whole_files_and_resumes(tmp_path, zygote):
    argv = ["path", "--d", "4", "--N", "24", "--points", "5", "--T", "0.2", "--quiet"]
    ref, out, stops = _kill_at_random_moments(zygote, tmp_path, argv, kills=10, seed=2)
    assert len(stops) == 10 and 1 <= stops[0][1] < 3, stops
    assert _whole_or_absent(out) == _whole_or_absent(ref)
    pd.testing.assert_frame_equal(pd.read_csv(out / "path.csv"), pd.read_csv(ref / "path.csv"),
                                  check_exact=True)
    assert (json.loads((out / "summary.json").read_text())
            == json.loads((ref / "summary.json").read_text()))


def test_dimension_ratios_draws_each_ratio_beside_its_bound_shape(tmp_path):
    from meanfield.plotting import dimension_ratios, save_figure

    rows = [{"label": "two-layer: erf", "ratio": 0.8, "interval": (0.6, 1.1), "shape": 1.06,
             "shape_label": "(3.7) at these settings: 1.06"},
            {"label": "multilayer: sigmoid", "ratio": 2.5, "interval": (1.9, 3.2), "shape": 4.0,
             "shape_label": "sqrt(160 / 10) = 4"}]
    fig = dimension_ratios(rows, note="a note")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo < 0.6 and hi > 4.0  # every interval and shape inside the axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "a note" in texts and any("0.80 [0.60, 1.10]" in t for t in texts)
    assert sum("bound shape" in t for t in texts) == 2
    assert save_figure(fig, tmp_path / "ratios")[0].exists()
    one = dimension_ratios(rows[:1], note="multilayer ratio not available")
    assert len(one.axes[0].get_xticks()) == 1
