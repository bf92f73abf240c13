"""Every rename of the public API: the new name works, the old one warns and gives the same
result (docs/changelog.md lists them; the old names go in 0.3)."""

import json

import numpy as np
import pytest

import meanfield
from meanfield.tasks import teacher_student
from meanfield.twolayer import InitialLaw, TwoLayerNet, TwoLayerSGD, run_sgd

TASK = teacher_student(4, "relu", width=2)


def _weights(N=12, seed=0):
    return InitialLaw().sample(N, TASK.d, np.random.default_rng(seed))


# --- steppers and runs ---------------------------------------------------------------------

def test_run_sgd_takes_net_then_task_and_the_old_order_warns_with_the_same_bits():
    a, W = _weights()
    new = run_sgd((a, W), TASK, 0.05, [0.0, 0.5], rng=3, progress=False)
    same = run_sgd(TwoLayerNet(TASK, a, W), TASK, alpha=0.05, times=[0.0, 0.5], rng=3,
                   progress=False)
    with pytest.warns(DeprecationWarning, match=r"run_sgd\(\(a0, W0\), task, alpha, times\)"):
        old = run_sgd(TASK, a, W, 0.05, [0.0, 0.5], rng=3, progress=False)
    with pytest.warns(DeprecationWarning, match="run_sgd"):
        old_kw = run_sgd(TASK, a, W, alpha=0.05, times=[0.0, 0.5], rng=3, progress=False)
    for run in (same, old, old_kw):
        np.testing.assert_array_equal(run.W, new.W)
        np.testing.assert_array_equal(run.risk, new.risk)
    assert new.steps.tolist() == [0, 10] and new.risk[1] != new.risk[0]
    with pytest.raises(TypeError, match="missing times"):
        run_sgd((a, W), TASK, 0.05)


def test_two_layer_sgd_is_the_old_sgd_with_multilayer_argument_order():
    a, W = _weights()
    new = TwoLayerSGD((a, W), TASK, 0.05, rng=1)
    with pytest.warns(DeprecationWarning, match="TwoLayerSGD"):
        old = meanfield.SGD(TASK, a, W, 0.05, rng=1)
    assert isinstance(old, TwoLayerSGD)
    new.advance(7)
    old.advance(7)
    np.testing.assert_array_equal(new.W, old.W)
    assert not np.array_equal(new.W, W)  # it moved
    assert "SGD" not in meanfield.__all__ and "TwoLayerSGD" in meanfield.__all__


def test_particle_limit_and_run_limit_take_net_then_task_and_the_old_order_warns():
    from meanfield.twolayer import ParticleLimit, run_limit

    (a, W), (a0, W0) = _weights(30, 1), _weights(4, 2)
    kw = {"h": 0.1, "progress": False}
    new = run_limit((a, W), TASK, [0.0, 0.3], (a0, W0), **kw)
    same = run_limit(TwoLayerNet(TASK, a, W), task=TASK, times=[0.0, 0.3],
                     tagged=TwoLayerNet(TASK, a0, W0), **kw)
    with pytest.warns(DeprecationWarning, match=r"run_limit\(\(a_ref, W_ref\), task, times"):
        old = run_limit(TASK, a, W, [0.0, 0.3], a0, W0, **kw)
    with pytest.warns(DeprecationWarning, match="run_limit"):
        old_kw = run_limit(TASK, a, W, times=[0.0, 0.3], a_tag=a0, W_tag=W0, **kw)
    for run in (same, old, old_kw):
        np.testing.assert_array_equal(run.W, new.W)
        np.testing.assert_array_equal(run.risk, new.risk)
    assert new.W.shape == (2, 4, TASK.d) and not np.array_equal(new.W[1], W0)
    with pytest.warns(DeprecationWarning, match="run_limit"):
        untagged = run_limit(TASK, a, W, [0.3], **kw)
    assert untagged.risk[0] == run_limit((a, W), TASK, [0.3], **kw).risk[0] == new.risk[1]
    with pytest.raises(TypeError, match="missing times"):
        run_limit((a, W), TASK)
    with pytest.raises(TypeError, match="both a_tag and W_tag"):
        run_limit(TASK, a, W, [0.3], a0, **kw)
    lim = ParticleLimit((a, W), TASK, (a0, W0), h=0.1)
    with pytest.warns(DeprecationWarning, match=r"ParticleLimit\(\(a_ref, W_ref\), task"):
        former = ParticleLimit(TASK, a, W, a0, W0, h=0.1)
    for stepper in (lim, former):
        stepper.plan(0.3)
        stepper.advance(3)
    np.testing.assert_array_equal(lim.snapshot()[1], former.snapshot()[1])
    np.testing.assert_array_equal(lim.snapshot()[1], new.W[1])
    with pytest.raises(ValueError, match="tagged must be a TwoLayerNet or a pair"):
        ParticleLimit((a, W), TASK, a0)
    with pytest.raises(ValueError, match=r"ref_W must have shape \(N, 4\)"):
        ParticleLimit((a, W[:, :3]), TASK)


def test_trajectory_is_two_layer_run():
    from meanfield.stepping import TwoLayerRun

    with pytest.warns(DeprecationWarning, match="TwoLayerRun"):
        assert meanfield.stepping.Trajectory is TwoLayerRun
    with pytest.warns(DeprecationWarning, match="TwoLayerRun"):
        assert meanfield.Trajectory is TwoLayerRun is meanfield.TwoLayerRun
    run = run_sgd(_weights(), TASK, 0.05, [0.1], progress=False)
    assert type(run) is TwoLayerRun


def test_torch_init_law_is_initial_law():
    pytest.importorskip("torch")
    import meanfield.torch as mt
    from meanfield.torch import models

    with pytest.warns(DeprecationWarning, match="InitialLaw"):
        assert mt.InitLaw is mt.InitialLaw
    with pytest.warns(DeprecationWarning, match="InitialLaw"):
        assert models.InitLaw is models.InitialLaw
    g1, g2 = np.random.default_rng(0), np.random.default_rng(0)
    x = mt.InitialLaw("bimodal").sample((5,), 1.0, g1)
    with pytest.warns(DeprecationWarning):
        y = mt.InitLaw("bimodal").sample((5,), 1.0, g2)
    assert x.tolist() == y.tolist()


# --- dropout --------------------------------------------------------------------------------

def test_twolayer_dropout_loss_and_gap_take_net_keep_loss():
    from meanfield import dropout as top
    from meanfield.twolayer import dropout_gap, dropout_loss, population_risk

    a, W = _weights(10, 2)
    net, A = TwoLayerNet(TASK, a, W), np.array([1, 4, 7])
    exact = TASK.risk(a[A], W[A])
    assert dropout_loss(net, A) == exact == top.dropout_loss(net, A, population_risk)
    assert dropout_gap(net, A) == abs(TASK.risk(a, W) - exact) == top.dropout_gap(
        net, A, population_risk)
    with pytest.warns(DeprecationWarning, match=r"dropout_loss\(TwoLayerNet\(task, a, W\), A\)"):
        assert dropout_loss(TASK, a, W, A) == exact
    with pytest.warns(DeprecationWarning, match="dropout_gap"):
        assert dropout_gap(TASK, a, W, A=A) == abs(TASK.risk(a, W) - exact)
    assert dropout_loss(net, A, loss=lambda n, k: 7.0) == 7.0


def test_rescaled_dropout_returns_one_dataclass_and_the_old_forms_warn():
    from meanfield.dropout import RescaledDropout, best_scales, draw_keep
    from meanfield.twolayer.dropout import rescaled_dropout as two_layer

    res = best_scales([lambda r: (r - 3.0) ** 2 + 1.0, 0.5], keeps=["A", "B"])
    assert isinstance(res, RescaledDropout)
    assert (res.best, res.loss, res.scale, res.keep) == (1, 0.5, 1.0, "B")
    assert res.scales[0] == pytest.approx(3.0, rel=1e-6)
    with pytest.warns(DeprecationWarning, match=r"\.best, \.losses, \.scales"):
        best, losses, scales = res
    assert best == 1 and losses is res.losses and scales is res.scales
    with pytest.warns(DeprecationWarning, match=r"result\.keep"):
        assert res["mask"] == "B"
    with pytest.warns(DeprecationWarning, match=r"result\.loss"):
        assert res["loss"] == 0.5
    with pytest.raises(KeyError):
        res["nonsense"]  # noqa: B018
    a, W = _weights(20, 3)
    two = two_layer(TwoLayerNet(TASK, a, W), draw_keep(20, 10, 1, n_draws=4))
    assert isinstance(two, RescaledDropout) and two.loss == two.losses.min()
    with pytest.warns(DeprecationWarning, match="RescaledDropout.keep"):
        assert two.subset is two.keep
    full = np.zeros(20)
    full[two.keep] = two.scale * a[two.keep] * 20 / two.keep.size
    assert TASK.risk(full, W) == pytest.approx(two.loss, rel=1e-10)


def test_rescaled_dropout_has_one_signature_on_every_backend_and_the_old_forms_warn():
    import inspect

    from meanfield import dropout as top
    from meanfield.twolayer.dropout import population_risk
    from meanfield.twolayer.dropout import rescaled_dropout as two_layer

    pytest.importorskip("torch")
    import meanfield.torch as mt

    names = ["net", "keeps", "loss", "max_scale", "bracket"]
    for f in (top.rescaled_dropout, two_layer, mt.rescaled_dropout):
        assert list(inspect.signature(f).parameters) == names, f
    a, W = _weights(20, 3)
    net, keeps = TwoLayerNet(TASK, a, W), top.draw_keep(20, 10, 1, n_draws=2)
    exact = two_layer(net, keeps)  # the closed-form quadratic in the scale
    # Brent on task.risk itself (one kept set: some 30 exact risks)
    generic = top.rescaled_dropout(net, keeps[1:], population_risk)
    assert generic.keep is keeps[1]
    assert generic.loss == pytest.approx(exact.losses[1], rel=1e-10)
    assert generic.scale == pytest.approx(exact.scales[1], rel=1e-6)
    assert generic.fixed_losses[0] == pytest.approx(exact.fixed_losses[1], rel=1e-12)
    assert exact.scales[1] != pytest.approx(1.0, abs=1e-3)  # the search moved the scale
    # the former two-layer form: the same draws, the same bits
    with pytest.warns(DeprecationWarning, match=r"rescaled_dropout\(TwoLayerNet\(task, a, W\), "
                                                r"keeps\)"):
        old = two_layer(TASK, a, W, 10, n_draws=2, rng=1)
    with pytest.warns(DeprecationWarning, match="draw_keep"):
        old_sub = two_layer(TASK, a, W, 10, subsets=keeps)
    for r in (old, old_sub):
        np.testing.assert_array_equal(r.losses, exact.losses)
        np.testing.assert_array_equal(r.keep, exact.keep)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="rng is required"):
        two_layer(TASK, a, W, 10)
    # the former top-level form: best_scales
    objectives = [lambda r: (r - 2.0) ** 2, 3.0]
    with pytest.warns(DeprecationWarning, match=r"best_scales\(objectives"):
        old_top = top.rescaled_dropout(objectives, None, None, ["x", "y"])
    assert (old_top.best, old_top.keep) == (0, "x")
    assert old_top.scale == pytest.approx(2.0, rel=1e-6) == top.best_scales(objectives).scale
    with pytest.raises(ValueError, match="loss must be a callable"):
        top.rescaled_dropout(net, keeps, "square")


def test_torch_rescaled_dropout_takes_masks_or_kept_sets_and_is_experiment_b():
    torch = pytest.importorskip("torch")
    import meanfield.torch as mt

    net = mt.FullyConnectedNet(4, 10, 3, depth=3, seed=1, dtype=torch.float64)
    X = np.random.default_rng(0).standard_normal((30, 4))
    y = np.random.default_rng(1).integers(0, 3, 30)
    b = mt.best_rescaled_dropout(net, X, y, 1, draws=3, seed=5)
    masks = mt.random_half_masks(net, 3, 5)
    loss = mt.DataLoss(net, X, y)
    same = mt.rescaled_dropout(net, masks, loss)
    np.testing.assert_array_equal(same.losses, b.losses)
    assert torch.equal(same.keep, b.keep) and same.scale == b.scale
    sets = [[np.flatnonzero(row) for row in m.numpy()] for m in masks]
    as_sets = mt.rescaled_dropout(net, sets, loss)
    np.testing.assert_array_equal(as_sets.losses, b.losses)
    assert [k.tolist() for k in as_sets.keep] == [k.tolist() for k in sets[b.best]]
    # the loss at scale 1 is the dropout network's own loss on the data
    np.testing.assert_allclose(b.fixed_losses, mt.evaluate(net, X, y, masks=masks)["loss"],
                               rtol=1e-12)
    assert b.loss <= b.fixed_losses[b.best] + 1e-15
    with pytest.raises(ValueError, match="loss must be a meanfield.torch.DataLoss"):
        mt.rescaled_dropout(net, masks, "cross_entropy")


# --- couple: frozen_a -> train_a ------------------------------------------------------------

def test_couple_cell_ids_do_not_change_with_the_rename():
    """Ids computed before the rename (frozen_a in the options) for these cells."""
    from meanfield.experiments.config import cell_id, parse_config

    with pytest.warns(FutureWarning, match=r"'frozen_a' is deprecated.*'train_a' = not frozen_a"):
        old = parse_config({"experiment": "couple", "fixed": {"d": 3, "M": 40, "frozen_a": True},
                            "grid": {"N": [10, 20]}})
    new = parse_config({"experiment": "couple", "fixed": {"d": 3, "M": 40, "train_a": False},
                        "grid": {"N": [10, 20]}})
    assert old == new
    assert [cell_id("couple", c) for c in new.cells()] == ["a66cd09bbbbfa144",
                                                           "737f9eb745b2025e"]
    default = parse_config({"experiment": "couple", "fixed": {"d": 3}, "grid": {"N": [10, 20]}})
    assert [cell_id("couple", c) for c in default.cells()] == ["12d687d851792df8",
                                                               "8173089ca3af51d2"]
    with pytest.warns(FutureWarning, match=r"\[grid\]"):
        grid = parse_config({"experiment": "couple", "fixed": {"d": 3},
                             "grid": {"frozen_a": [True, False]}})
    assert grid.grid == {"train_a": (False, True)}
    with pytest.raises(meanfield.experiments.ConfigError, match="give 'train_a' = not frozen_a"):
        parse_config({"experiment": "couple", "fixed": {"frozen_a": True, "train_a": True}})


def test_a_folder_stored_with_frozen_a_resumes_and_loads_as_train_a(tmp_path):
    """sweep.json and the cell's table as written before the rename (and so in the store's
    layout of then: one cells/<id>.csv per cell, its hash in the record)."""
    import pandas as pd

    from meanfield.experiments import ResultStore
    from meanfield.experiments.config import cell_id, parse_config

    sweep = parse_config({"experiment": "couple", "fixed": {"d": 3, "train_a": False},
                          "grid": {"N": [10]}})
    store = ResultStore(tmp_path)
    store.prepare(sweep)
    (cell,) = sweep.cells()
    store.write_cell("couple", cell, pd.DataFrame({"t": [0.0], "risk_sgd": [0.25]}), {})
    cid = cell_id("couple", cell)
    csv, meta = tmp_path / "cells" / f"{cid}.csv", tmp_path / "cells" / f"{cid}.json"
    new_csv = tmp_path / "cells" / cid / "results.csv"
    old = pd.read_csv(new_csv).rename(columns={"train_a": "frozen_a"})
    old["frozen_a"] = ~old["frozen_a"]
    data = old.to_csv(index=False).encode()
    csv.write_bytes(data)
    new_csv.unlink()
    (tmp_path / "cells" / cid).rmdir()
    import hashlib

    record = json.loads(meta.read_text())
    del record["tables"]
    record["sha256"] = hashlib.sha256(data).hexdigest()
    meta.write_text(json.dumps(record))
    (tmp_path / "sweep.json").write_text(json.dumps(
        {"experiment": "couple", "fixed": {"d": 3, "frozen_a": True}, "grid": {"N": [10]}}))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the package's own file: no warning
        again = ResultStore(tmp_path)
        assert again.sweep() == sweep
        again.prepare(sweep)  # the same sweep: no "different sweep config"
        table = again.load()
    assert table["train_a"].tolist() == [False] and "frozen_a" not in table
    assert table["risk_sgd"].tolist() == [0.25]


def test_couple_flags_and_config_accept_frozen_a_with_a_warning(tmp_path, capsys):
    from meanfield.cli import _settings, build_parser, main
    from meanfield.experiments.kinds import couple_setup
    from meanfield.experiments.options import couple_options
    from meanfield.twolayer.coupling import CoupleSettings

    def settings(*argv):
        return _settings(build_parser("couple").parse_args(["couple", *argv]), couple_options())

    assert settings()["train_a"] is True
    assert settings("--no-train-a")["train_a"] is False
    with pytest.warns(FutureWarning, match="--frozen-a is deprecated.*use --no-train-a"):
        assert settings("--frozen-a")["train_a"] is False
    cfg = tmp_path / "c.toml"
    cfg.write_text("frozen_a = true\n")
    with pytest.warns(FutureWarning, match="'frozen_a' is deprecated"):
        assert settings("--config", str(cfg))["train_a"] is False
    assert main(["couple", "--frozen-a", "--train-a", "--out", str(tmp_path / "o")]) == 2
    assert "give --no-train-a only" in capsys.readouterr().err
    base = settings()
    *_, new = CoupleSettings(**{**base, "train_a": False}).setup()
    old_cell = {k: v for k, v in base.items() if k != "train_a"}
    # couple_setup, itself deprecated (CoupleSettings), still reads the old key
    with pytest.warns(FutureWarning, match="frozen_a"), \
            pytest.warns(DeprecationWarning, match="couple_setup"):
        *_, old = couple_setup({**old_cell, "frozen_a": True})
    assert new["train_a"] is old["train_a"] is False
    assert list(couple_options()).index("train_a") == list(couple_options()).index("batch_size") + 1


def test_multilayer_summary_keyword_table_is_tables_with_a_warning():
    """The multilayer and deep_paths readers' first parameter became ``tables`` (a dict of
    tables); ``table=`` still works for one release, with the same result."""
    from pathlib import Path

    from meanfield.analysis import multilayer_summary
    from meanfield.experiments import load_tables

    tables = load_tables(Path(__file__).parent / "data" / "multilayer_stacked")
    new = multilayer_summary(tables)
    with pytest.warns(DeprecationWarning, match=r"multilayer_summary\(table=...\)"):
        old = multilayer_summary(table=tables)
    for a, b in zip(new, old):
        assert a.equals(b)
    with pytest.raises(TypeError, match="both"):
        multilayer_summary(tables=tables, table=tables)
    with pytest.raises(TypeError, match="multiple values"):
        multilayer_summary(tables, table=tables)
