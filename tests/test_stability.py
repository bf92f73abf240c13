"""The dropout/connectivity experiment: tables, consistency with the path objects, errors."""

import numpy as np
import pandas as pd
import pytest

from meanfield.twolayer.stability import (
    StabilityConfig,
    connect_pair,
    run_stability,
    stability_cell,
)

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
