"""Shevchenko & Mondelli's Figures 3 and 4: the cells' control measurements, the level of
Figure 3, and the rows of validation/empirical_depth.py and validation/empirical_path.py."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from meanfield import TORCH_HINT
from meanfield.analysis import dropout_path_level
from meanfield.torch.settings import EmpiricalSettings, PathSettings
from tests.conftest import validation_script


_script = validation_script


def _profile(vertex_errors, inside=None, n_per_segment=3):
    """A 7-segment path's rows: vertices at s = 0..7, ``inside`` the values between."""
    rows = [{"s": float(k), "error": e, "loss": 2 * e, "n_segments": 7}
            for k, e in enumerate(vertex_errors)]
    for s, e in (inside or {}).items():
        rows.append({"s": s, "error": e, "loss": 2 * e, "n_segments": 7})
    return pd.DataFrame(rows).sort_values("s")


def test_figure3_level_is_ends_plus_the_larger_dropout_change():
    # ends 0.10 and 0.12; dropout networks (vertices 1 and 6) at 0.15 and 0.13
    v = [0.10, 0.15, 0.15, 0.14, 0.14, 0.13, 0.13, 0.12]
    lv = dropout_path_level(_profile(v))
    assert lv["ends"] == 0.12 and lv["drop"] == pytest.approx(0.05)
    assert lv["level"] == pytest.approx(0.17) and lv["peak"] == 0.15
    assert lv["excess"] == pytest.approx(-0.02)
    bump = dropout_path_level(_profile(v, {2.5: 0.19}))  # inside a segment, above the level
    assert bump["excess"] == pytest.approx(0.02)
    # dropout that helps counts as no change: the level is the ends
    better = dropout_path_level(_profile([0.10, 0.08, 0.08, 0.08, 0.08, 0.09, 0.09, 0.12]))
    assert better["drop"] == 0.0 and better["level"] == 0.12
    with pytest.raises(ValueError, match="dropout path"):
        dropout_path_level(_profile(v).assign(n_segments=1))


@pytest.mark.parametrize("settings,match", [
    (lambda: EmpiricalSettings(N=10, kept=6), r"kept must be at most N // 2 = 5"),
    (lambda: EmpiricalSettings(N=10, kept=-1), "kept"),
    (lambda: PathSettings(N=10, kept_sizes=(6,)), r"kept_sizes must be integers in \[1, N // 2"),
    (lambda: PathSettings(N=10, kept_sizes=(0,)), "kept_sizes"),
    (lambda: PathSettings(N=10, duration2=0.0), "duration2"),
])
def test_new_settings_say_their_range(settings, match):
    with pytest.raises(ValueError, match=match):
        settings().check()


def test_kept_dropout_of_the_cell_is_the_first_neurons_rescaled():
    """kept = N/2 is the first-half network of Figure 1, to the bit; a smaller kept set
    gives its own change, loss_kept - loss_full."""
    pytest.importorskip("torch", reason=TORCH_HINT)
    from meanfield.torch.experiments import empirical_cell

    base = EmpiricalSettings(dataset="digits", N=8, depth=3, epochs=0.5, alpha=0.5,
                             random_halves=0, snapshots=(1.0,), device="cpu")
    half = empirical_cell(replace(base, kept=4)).iloc[-1]
    assert half["loss_kept"] == half["loss_half"] and half["error_kept"] == half["error_half"]
    two = empirical_cell(replace(base, kept=2)).iloc[-1]
    assert two["loss_full"] == half["loss_full"]  # the same net: kept changes no training
    assert two["dloss_kept"] == pytest.approx(two["loss_kept"] - two["loss_full"], abs=1e-12)
    assert two["loss_kept"] != two["loss_half"]
    assert "loss_kept" not in empirical_cell(base)


def test_path_cell_runs_the_second_net_shorter_and_adds_kept_paths():
    pytest.importorskip("torch", reason=TORCH_HINT)
    from meanfield.torch.experiments import path_cell

    base = PathSettings(dataset="digits", N=8, epochs=1.0, alpha=0.5, n_per_segment=2,
                        aligned_max_N=0, kept_sizes=(2,), device="cpu")
    full = path_cell(base)["path"]
    short = path_cell(replace(base, duration2=0.5))["path"]
    assert set(full["path"]) == {"dropout", "straight", "dropout-2"}
    assert full[full["path"] == "dropout-2"]["n_segments"].iloc[0] == 7
    ends = [(p[(p["path"] == "straight")].iloc[[0, -1]]["loss"].to_numpy()) for p in (full, short)]
    assert ends[0][0] == ends[1][0]  # theta trains as before
    assert ends[0][1] != ends[1][1]  # theta' trains half as long


def _fig4_table(change, kept, Ns=(25, 50, 100, 200), seeds=3, depths=(2, 3)):
    rng = np.random.default_rng(0)
    rows = [{"depth": d, "N": N, "seed": s, "fraction": 1.0,
             "derror_half": change(N) * np.exp(0.1 * rng.standard_normal()),
             "derror_kept": kept * np.exp(0.1 * rng.standard_normal())}
            for d in depths for N in Ns for s in range(seeds)]
    return pd.DataFrame(rows)


def test_figure4_rows_pass_a_decay_and_their_fixed_A_control_fails():
    mod = _script("empirical_depth")
    claims, fits = mod.depth_claims(_fig4_table(lambda N: 5.0 / N, 0.5))
    by_id = {c["id"]: c for c in claims}
    assert set(by_id) == {f"empirical_depth/{k}[depth={d}]" for k in ("a", "paper")
                          for d in (2, 3)}
    for d in (2, 3):
        row = by_id[f"empirical_depth/a[depth={d}]"]
        assert row["pass"] is True and row["value"] == pytest.approx(-1.0, abs=0.1)
        assert [c["pass"] for c in row["controls"]] == [False]
        paper = by_id[f"empirical_depth/paper[depth={d}]"]
        assert paper["pass"] is None
        assert paper["extrapolated_12800"] == pytest.approx(5.0 / 12800, rel=0.5)
    # a change flat in N fails the rule, and so does a claim whose control decays
    flat, _ = mod.depth_claims(_fig4_table(lambda N: 0.05, 0.5))
    assert not any(c["pass"] for c in flat if c["judged"])
    fooled, _ = mod.depth_claims(_fig4_table(lambda N: 5.0 / N, 0.0).assign(
        derror_kept=lambda t: 5.0 / t["N"]))
    assert all(c["pass"] is False and c["control_passed"] for c in fooled if c["judged"])


def test_figure3_row_judges_the_worst_pair_and_its_control():
    mod = _script("empirical_path")
    summary = pd.DataFrame({"seed": [0, 1], "ends": [0.1, 0.1], "drop": [0.02, 0.03],
                            "level": [0.12, 0.13], "peak": [0.12, 0.135],
                            "excess": [0.0, 0.005], "drop_loss": [0.05, 0.06],
                            "excess_vs_loss_level": [-0.03, -0.025], "loss_excess": [0, 0],
                            "excess_dropout-4": [0.5, 0.6], "peak_dropout-4": [0.6, 0.7],
                            "excess_straight": [0.0, 0.1], "peak_straight": [0.12, 0.23]})
    row, straight = mod.path_claims(summary)
    assert row["value"] == 0.005 and row["pass"] is False and row["pairs"] == 2
    assert straight["value"] == pytest.approx(0.13) and straight["pass"] is None
    ok, _ = mod.path_claims(summary.assign(excess=[0.0, -0.01]))
    assert ok["pass"] is True and ok["controls"][0]["value"] == 0.6
    assert ok["controls"][0]["pass"] is False
