"""Nguyen, Bréchet & Mondelli's Figure 3 a-c and Corollary 4.3 in validation/deep_connectivity.py:
the tables the verdicts rest on (meanfield.analysis) by hand, and the script's parts on the
cells of a closed-form stand-in for deep_cell (no torch, no data set: the real cells run in the
script's quick mode, tests/test_validation_slow.py)."""

import numpy as np
import pandas as pd
import pytest

from meanfield.analysis import experiment_ratios, width_crossing
from meanfield.analysis.claims import RULES
from tests.conftest import validation_script


def _cells():
    """Two nets of a deep_cell table: L(theta') 0.2 and 0.1; A and B per layer."""
    rows = []
    for seed, trained, a, b in ((0, 0.2, [0.21, 0.25, 0.2], [0.9, 0.3]),
                                (1, 0.1, [0.1, 0.105, 0.12], [2.0, 0.1])):
        rows.append({"seed": seed, "experiment": "trained", "layer": -1, "train_loss": trained})
        rows += [{"seed": seed, "experiment": "A", "layer": k, "train_loss": v}
                 for k, v in enumerate(a)]
        rows += [{"seed": seed, "experiment": "B", "layer": k + 1, "train_loss": v}
                 for k, v in enumerate(b)]
    return pd.DataFrame(rows)


def test_experiment_ratios_take_each_nets_own_loss_and_its_worst_layer():
    r = experiment_ratios(_cells())
    np.testing.assert_allclose(r["A_ratio"], [0.25 / 0.2, 0.12 / 0.1])
    np.testing.assert_allclose(r["B_ratio"], [0.9 / 0.2, 2.0 / 0.1])
    assert r["A_layer"].tolist() == [1, 2] and r["B_layer"].tolist() == [1, 1]
    # the rule of Figure 3 a-c: the mean of the per-net ratios (1.225) against 1.1
    assert RULES["deep_connectivity/layers"].judge(float(r["A_ratio"].mean())) is False
    assert RULES["deep_connectivity/layers"].judge(1.1) is True
    with pytest.raises(ValueError, match="one 'trained' row"):
        experiment_ratios(_cells().query("experiment != 'trained' or seed != 1"))


def test_width_crossing_interpolates_in_log_log_and_says_when_censored():
    # ratio 1.21 at width 10, 1.0 at 40: log r falls by log 1.21 = 2 log 1.1 over log 4, so
    # it reaches 1.1 half-way in log width, at 20
    c = width_crossing([40, 10, 5], [1.0, 1.21, 1.5])
    assert c["grid"] == 40 and c["censored"] is None
    np.testing.assert_allclose(c["crossing"], 20.0, rtol=1e-12)
    assert width_crossing([4, 8], [1.05, 1.0]) == {"grid": 4.0, "crossing": 4.0,
                                                    "censored": "below"}
    assert width_crossing([4, 8], [2.0, 1.5])["censored"] == "above"
    with pytest.raises(ValueError, match="same length"):
        width_crossing([4, 8], [1.0])
    with pytest.raises(ValueError, match="level must be > 0"):
        width_crossing([4], [1.0], level=0)


@pytest.fixture(scope="module")
def script():
    return validation_script("deep_connectivity")


def _fake_deep_cell(calls):
    """A stand-in for deep_cell whose Experiment A ratio is (2 sqrt(n_train) / width)^2 at
    layer 0 (exactly a power law, so the crossing width is 2 sqrt(n_train) / sqrt(1.1)) and
    whose Experiment B is 5x the trained loss of net ``seed`` (0.1 (1 + seed))."""
    def cell(settings):
        calls.append(settings)
        loss = 0.1 * (1 + settings.seed)
        r = (2 * np.sqrt(settings.n_train) / settings.N) ** 2
        return pd.DataFrame({"experiment": ["trained", "A", "A", "B"], "layer": [-1, 0, 1, 1],
                             "train_loss": [loss, loss * r, 0.01 * loss, 5 * loss]})
    return cell


def test_layers_part_judges_the_mean_per_net_ratio_with_b_as_its_control(tmp_path, script):
    """Figure 3 a-c from the cells of a deep_cell (here a closed form): the claim is the mean
    per-net ratio of A's worst layer, its control B's numbers under the same rule."""
    from meanfield.torch.settings import DeepSettings  # needs no torch

    calls = []
    base = DeepSettings(dataset="digits", device="cpu")
    size = dict(depth=5, N=60, nets=2, n_train=100, draws_a=1, draws_b=2)
    row, table = script.layers_part(base, size, tmp_path, "t", quiet=True,
                                    cell=_fake_deep_cell(calls))
    # width 60, 100 samples: A's worst layer is layer 0, at (20 / 60)^2 = 1/9 of L(theta')
    assert [c.depth for c in calls] == [5, 5] and [c.seed for c in calls] == [0, 1]
    assert row["value"] == pytest.approx(1 / 9) and row["pass"] is True
    assert row["controls"][0]["value"] == pytest.approx(5.0)
    assert row["controls"][0]["pass"] is False
    assert (tmp_path / "t_layers.png").exists()


def test_sqrt_n_part_stops_at_the_crossing_and_fits_its_slope(tmp_path, script, monkeypatch):
    """Corollary 4.3's sweep: widths upwards until A is within 10%, then the interpolated
    crossing, whose log-log slope in N is exactly 1/2 for the closed form."""
    from meanfield.torch.settings import DeepSettings

    saved = {}  # the figure is drawn, not rendered to files (seconds of the test's time)
    monkeypatch.setattr(script, "save_figure", lambda fig, stem: saved.update({stem: fig}))
    calls = []
    widths = (4, 8, 16, 32, 64, 128)
    row, ratios = script.sqrt_n_part(DeepSettings(dataset="digits", device="cpu"),
                                     dict(n_train=(100, 400, 1600), widths=widths,
                                          seeds=(0, 1), draws_a=1), tmp_path, "t",
                                     quiet=True, cell=_fake_deep_cell(calls))
    # crossings 2 sqrt(n) / sqrt(1.1) = 19.1, 38.1, 76.3: the sweep stops at 32, 64, 128
    assert ratios.groupby("n_train")["N"].max().tolist() == [32, 64, 128]
    assert len(calls) == 2 * (4 + 5 + 6) and {c.depth for c in calls} == {3}
    np.testing.assert_allclose(row["crossing"], 2 * np.sqrt([100, 400, 1600]) / np.sqrt(1.1),
                               rtol=1e-9)
    assert row["censored"] == [None, None, None]
    assert row["value"] == pytest.approx(0.5, abs=1e-9) and row["judged"] is False
    assert row["figure"] == str(tmp_path / "t_sqrt_n.png")
    assert len(saved[tmp_path / "t_sqrt_n"].axes) == 2
    # widths up to 32 do not reach N = 1600's crossing (76): None there (not NaN), no fit
    row, _ = script.sqrt_n_part(DeepSettings(dataset="digits", device="cpu"),
                                dict(n_train=(100, 1600), widths=(4, 8, 16, 32), seeds=(0,),
                                     draws_a=1), tmp_path, "u", quiet=True,
                                cell=_fake_deep_cell([]))
    assert row["crossing"][1] is None and row["censored"] == [None, "above"]
    assert row["value"] is None and row["interval"] is None


def test_fig3d_row_reports_path_a_beside_the_others(script):
    row = script.fig3d_row({"A": 0.02, "B": 1.5, "straight": 2.3, "aligned": 0.9},
                           [0.018, 0.02], 0.02, "paths.png")
    assert row["id"] == "deep_connectivity/fig3d" and row["judged"] is False
    assert row["pass"] is None and row["value"] == 0.02 and row["B_over_A"] == 75.0
    assert row["path_maxima"]["straight"] == 2.3 and row["trained"] == [0.018, 0.02]


def test_the_peak_vertex_of_path_a_is_one_row_when_the_tables_share_an_index(script):
    """deep_paths' path and check tables are stored apart, each indexed from 0; their peak
    vertex was every row sharing its index label (a Series where the report needs a
    name), which the JSON report could not write (quick run of 2026-12-07)."""
    path_a = pd.DataFrame({"s": [0.0, 0.5, 1.0], "path_loss": [0.3, 0.25, 0.2],
                           "label": ["theta", None, "xi_1"]})
    check = pd.DataFrame({"s": [0.0, 0.5], "path_loss": [0.3, 0.26], "label": ["theta", None]})
    along, vertices, peak = script.along_path_a(path_a, check)
    assert len(along) == 5 and isinstance(peak["label"], str)
    assert peak["label"] == "theta" and peak["path_loss"] == 0.3
