"""Multilayer model (1.1)/(4.1), SGD (4.3), Monte Carlo risk, dropout and the path."""

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from meanfield import TORCH_HINT

from meanfield.analysis import extrapolate
from meanfield.multilayer import MCRisk, MultilayerNet, gradients, init_net, run_sgd, sgd_step
from meanfield.connectivity import barrier
from meanfield.dropout import draw_keep
from meanfield.multilayer.experiment import (MCLoss, MultilayerConfig, connect, multilayer_cell,
                                            path_profile)
from meanfield.stepping import DivergenceError
from tests.conftest import sweep_and_load
from meanfield.tasks import teacher_student


def loss(net, X, Y):
    return np.mean(np.sum((net.forward(X) - Y) ** 2, axis=1))


@pytest.mark.parametrize("L", [3, 4])
def test_gradient_matches_finite_differences(L, rng):
    net = init_net(5, 6, L=L, d_out=2, rng=1)
    X, Y = rng.standard_normal((4, 5)), rng.standard_normal((4, 2))
    val, grads = gradients(net, X, Y)
    assert val == pytest.approx(loss(net, X, Y), rel=1e-14)
    assert len(grads) == L - 1
    eps = 1e-6
    for m, g in enumerate(grads, start=1):
        num = np.zeros_like(g)
        for i in range(6):
            for j in range(6):
                p = net.copy()
                p.weights[m][i, j] += eps
                q = net.copy()
                q.weights[m][i, j] -= eps
                num[i, j] = (loss(p, X, Y) - loss(q, X, Y)) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-9)


def test_step_is_eq_4_3_and_matches_torch_autograd(rng):
    torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_HINT}")
    from meanfield.torch import FullyConnectedNet

    net = init_net(5, 8, L=3, d_out=2, rng=2)
    X, Y = rng.standard_normal((3, 5)), rng.standard_normal((3, 2))
    tnet = FullyConnectedNet(5, 8, 2, depth=4, bias=False, activation="sigmoid",
                        dtype=torch.float64, device="cpu").load_numpy(net.weights)
    np.testing.assert_allclose(tnet(X).detach().numpy(), net.forward(X), rtol=1e-13)
    ell = ((tnet(X) - torch.as_tensor(Y)) ** 2).sum(1).mean()
    ell.backward()
    before = [w.copy() for w in net.weights]
    sgd_step(net, X, Y, 0.01)
    for m in (1, 2):  # W_2, W_3 move by -s N^2 grad; W_1, W_4 stay
        np.testing.assert_allclose(net.weights[m] - before[m],
                                   -0.01 * 64 * tnet.weights[m].grad.numpy(), rtol=1e-10)
    for m in (0, 3):
        np.testing.assert_array_equal(net.weights[m], before[m])


def test_dropout_keeping_everyone_is_the_full_net_and_half_is_the_smaller_net(rng):
    net = init_net(4, 10, L=3, d_out=1, rng=3)
    X = rng.standard_normal((7, 4))
    np.testing.assert_allclose(net.forward(X, keep=np.arange(10)), net.forward(X), rtol=1e-14)
    keep = [np.arange(5), np.arange(5, 10), np.arange(0, 10, 2)]
    W = net.weights
    small = MultilayerNet([W[0][keep[0]], W[1][np.ix_(keep[1], keep[0])],
                           W[2][np.ix_(keep[2], keep[1])], W[3][:, keep[2]]], net.activation)
    # the dropout network computes, on the kept neurons, the 5-neuron net of their weights
    np.testing.assert_allclose(net.forward(X, keep=keep), small.forward(X), rtol=1e-13)


def test_bad_layer_sizes_and_subsets_raise(rng):
    with pytest.raises(ValueError, match="L must be >= 3"):
        init_net(3, 4, L=2)
    with pytest.raises(ValueError, match=r"weights\[2\] must have shape \(4, 4\);"):
        MultilayerNet([np.ones((4, 3)), np.ones((4, 4)), np.ones((3, 4)), np.ones((1, 4))])
    with pytest.raises(ValueError, match="L \\+ 1 >= 4 layers"):
        MultilayerNet([np.ones((4, 3)), np.ones((4, 4)), np.ones((1, 4))])
    net = init_net(3, 4, rng=0)
    with pytest.raises(ValueError, match="one index set per hidden layer"):
        net.forward(np.ones((2, 3)), keep=[np.arange(2)] * 2)
    with pytest.raises(ValueError, match=r"distinct indices in \[0, 3\]"):
        net.forward(np.ones((2, 3)), keep=np.array([0, 4]))
    with pytest.raises(ValueError, match="size must lie in"):
        draw_keep(4, 5, rng, n_hidden=3)
    with pytest.raises(ValueError, match="N must be >= 2"):
        MultilayerConfig(N=1).check()


def test_a_cell_at_d_a_million_checks_without_the_d_by_d_identity():
    """The default teacher's rows e_1 .. e_width were cut from np.eye(d), a d x d matrix:
    7.3 TiB and a MemoryError at d = 10^6.  The same weights, bit for bit, at ordinary d."""
    import tracemalloc

    for d, width in [(1, 1), (3, 2), (20, 2), (20, 20), (50, 7)]:
        t = teacher_student(d, "relu", width=width)  # relu: closed-form pair sums, fast
        np.testing.assert_array_equal(t.teacher.V, np.eye(d)[:width])
        assert t.teacher.V.shape == (width, d) and t.teacher.V.flags.c_contiguous
    ref = teacher_student(6, "erf", width=3, teacher_W=np.eye(6)[:3])
    a, W = np.ones(5), np.random.default_rng(0).standard_normal((5, 6))
    assert teacher_student(6, "erf", width=3).risk(a, W) == ref.risk(a, W)
    tracemalloc.start()
    try:
        task = MultilayerConfig(d=10**6).check()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert task.d == 10**6 and task.teacher.V.shape == (2, 10**6)
    assert task.teacher.V[1, 1] == 1.0 and task.teacher.V.sum() == 2.0
    assert peak < 200e6  # a few (2, d) arrays, not d^2


def test_mc_risk_standard_error_covers_a_second_sample():
    task = teacher_student(6, "tanh", width=2)
    net = init_net(6, 30, rng=4)
    r1, se1 = MCRisk(task, 20000, rng=1).risk(net)
    r2, se2 = MCRisk(task, 20000, rng=2).risk(net)
    assert abs(r1 - r2) < 4 * np.hypot(se1, se2)
    assert 0 < se1 < 0.02 * r1


def test_sgd_learns_is_reproducible_and_reports_divergence():
    task = teacher_student(6, "tanh", width=2)
    mc = MCRisk(task, 3000, rng=5)
    net = init_net(6, 40, rng=6)
    run = run_sgd(net, task, 0.2, [0, 5, 10], mc=mc, batch_size=5, rng=7, progress=False)
    again = run_sgd(net, task, 0.2, [0, 5, 10], mc=mc, batch_size=5, rng=7, progress=False)
    assert run.risk[-1] < 0.7 * run.risk[0]
    for a, b in zip(run.nets[-1].weights, again.nets[-1].weights):
        np.testing.assert_array_equal(a, b)
    assert list(run.steps) == [0, 25, 50]
    # softplus grows without bound: labels of order 1e150 overflow the weights in a few steps
    huge = teacher_student(6, "tanh", width=2, teacher_b=[1e150, 1e150])
    with pytest.raises(DivergenceError) as err:
        run_sgd(init_net(6, 40, activation="softplus", rng=6), huge, 0.2, [0, 40.0], mc=mc,
                rng=7, progress=False)
    assert len(err.value.partial.times) == 1 and err.value.step < 200


@pytest.mark.parametrize("L,B,d_out,act", [(3, 1, 1, "sigmoid"), (4, 1, 2, "relu"),
                                            (4, 3, 2, "tanh")])
def test_numba_loop_equals_numpy_steps(L, B, d_out, act, rng):
    """The fused loop of kernels.multilayer against sgd_step, step by step, to round-off."""
    from meanfield.activations import get_activation
    from meanfield.kernels.multilayer import multilayer_sgd

    net = init_net(7, 30, L, d_out=d_out, activation=act, rng=1)
    n = 25
    X, Y = rng.standard_normal((n, B, 7)), rng.standard_normal((n, B, d_out))
    s = rng.uniform(0.005, 0.02, n)
    ref = net.copy()
    for k in range(n):
        sgd_step(ref, X[k], Y[k], s[k])
    Wm = np.stack(net.weights[1:-1])
    a = get_activation(act)
    assert multilayer_sgd(net.weights[0], Wm, net.weights[-1], X, Y, s, a.kind, a.p) == n
    for m in range(L - 1):
        assert np.abs(ref.weights[m + 1] - net.weights[m + 1]).max() > 1e-3  # it moved
        np.testing.assert_allclose(Wm[m], ref.weights[m + 1], rtol=0,
                                   atol=1e-13 * np.abs(ref.weights[m + 1]).max())


def test_run_sgd_with_batch_1_is_the_numpy_recursion_on_the_same_stream():
    task = teacher_student(6, "tanh", width=2)
    mc = MCRisk(task, 500, rng=5)
    net = init_net(6, 40, L=4, rng=6)
    run = run_sgd(net, task, 0.05, [1.0], mc=mc, rng=7, progress=False)
    X, y = task.sample(20, np.random.default_rng(7))  # the stream run_sgd draws (one block)
    ref = net.copy()
    for k in range(20):
        sgd_step(ref, X[k:k + 1], y[k:k + 1], 0.05)
    for a, b in zip(run.nets[-1].weights, ref.weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())
    assert run.risk[-1] == pytest.approx(mc.risk(ref)[0], rel=1e-10)


def test_path_ends_are_the_nets_and_its_maximum_sits_at_a_vertex():
    task = teacher_student(5, "tanh", width=2)
    mc = MCRisk(task, 2000, rng=8)
    nets = [run_sgd(init_net(5, 12, rng=s), task, 0.2, [4.0], mc=mc, batch_size=5, rng=s,
                    progress=False).nets[-1] for s in (1, 2)]
    keep = draw_keep(12, 6, np.random.default_rng(0), n_hidden=3)
    path = connect(nets[0], nets[1], keep)
    assert path.n_segments == 27
    for a, b in zip(path.weights[0], nets[0].weights):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(path.weights[-1], nets[1].weights):
        np.testing.assert_array_equal(a, b)
    prof = path_profile(path, "sigmoid", mc, n_per_segment=5)
    ell = path.vertex_losses(MCLoss(mc, "sigmoid")).mean(axis=1)
    # the shortcut of MCLoss (no pass after a "w0" segment) against real passes
    vertex = prof[np.isclose(prof["s"] % 1, 0)]["risk"].to_numpy()
    np.testing.assert_allclose(vertex, ell, rtol=1e-12)
    # dense forward passes never exceed the largest vertex: convex on "a", constant on "w0"
    assert prof["risk"].max() <= ell.max() + 1e-12
    for k, kind in enumerate(path.kinds):
        seg = prof[prof["segment"] == k]["risk"].to_numpy()
        if kind == "w0":
            np.testing.assert_allclose(seg, seg[0], rtol=1e-12)
    eps_c, se, risks = barrier(path, MCLoss(mc, "sigmoid"), with_error=True)
    assert eps_c == pytest.approx(ell.max() - max(ell[0], ell[-1]), abs=1e-14)
    assert eps_c >= 0 and se >= 0
    # the prefix reuse of MCLoss: every vertex's losses are the forward pass's, bit for bit,
    # from fewer layer products (the layers before the first changed matrix are kept)
    loss = MCLoss(mc, "sigmoid")
    for w in path.weights:
        np.testing.assert_array_equal(loss(w), mc.losses(MultilayerNet(w, "sigmoid")))
    full = len(path.weights) * len(nets[0].weights)
    assert loss.products < 0.8 * full, (loss.products, full)
    loss([w.copy() for w in path.weights[0]])  # a new net after the path: all layers again
    np.testing.assert_array_equal(loss(path.weights[0]), mc.losses(nets[0]))


def test_cell_table_and_extrapolation():
    tables = multilayer_cell(MultilayerConfig(d=5, N=16, T=1.0, n_mc=500, half_draws=2,
                                              sizes=(4,)))
    assert set(tables) == {"dropout", "paths"}
    drop, paths = tables["dropout"], tables["paths"]
    assert len(drop) == 2 * 3 and set(drop["size"]) == {8, 4}
    np.testing.assert_allclose(drop["eps_D"], drop["gap"].abs())
    assert len(paths) == 1 and paths["n_segments"].iloc[0] > 0
    # each table has its own columns, integers as integers (no 'table' column, no NaN
    # padding from the other table's columns)
    assert list(drop.columns) == ["net", "size", "draw", "gap", "eps_D", "se", "risk",
                                  "risk_se"]
    assert list(paths.columns) == ["draw", "eps_C", "se", "risk", "risk2", "risk_se",
                                   "max_vertex", "n_segments", "barrier_straight"]
    assert all(drop[c].dtype == "int64" for c in ("net", "size", "draw"))
    assert paths["n_segments"].dtype == "int64"
    N = np.repeat([100, 400, 1600], 4)
    y = 0.2 + 1.0 / np.sqrt(N) + 0.001 * np.random.default_rng(0).standard_normal(N.size)
    ex = extrapolate(N, y)
    assert ex.ci_low < 0.2 < ex.ci_high and ex.ci_high - ex.ci_low < 0.01


def test_further_sizes_leave_the_kept_halves_as_they_were():
    """Asking for an A_min sweep (``sizes``) adds rows and changes no other number of the
    cell: the second net's halves were drawn after the first net's further sizes before."""
    cfg = dict(d=5, N=16, T=1.0, n_mc=300, half_draws=2)
    plain = multilayer_cell(MultilayerConfig(**cfg))
    swept = multilayer_cell(MultilayerConfig(**cfg, sizes=(4, 6)))
    halves = swept["dropout"][swept["dropout"]["size"] == 8].reset_index(drop=True)
    pd.testing.assert_frame_equal(halves, plain["dropout"])
    pd.testing.assert_frame_equal(swept["paths"], plain["paths"])
    assert sorted(swept["dropout"]["size"].unique()) == [4, 6, 8]


def test_path_draws_average_kept_sets_and_keep_stored_cell_names():
    from meanfield.experiments.config import cell_id
    from meanfield.analysis import multilayer_summary

    cfg = dict(d=5, N=16, T=2.0, n_mc=500, half_draws=1, seed=3)
    one = multilayer_cell(MultilayerConfig(**cfg))
    three = multilayer_cell(MultilayerConfig(**cfg, path_draws=3))
    p1, p3 = one["paths"], three["paths"]
    assert list(p3["draw"]) == [0, 1, 2]
    # the first kept set is the one a cell drew before path_draws existed
    assert p3["eps_C"].iloc[0] == p1["eps_C"].iloc[0]
    assert p3["max_vertex"].nunique() == 3  # the other sets give other paths
    pairs = multilayer_summary({k: t.assign(d=5, N=16, seed=3) for k, t in three.items()})[1]
    assert len(pairs) == 1 and pairs["draws"].iloc[0] == 3
    assert pairs["eps_C"].iloc[0] == pytest.approx(p3["eps_C"].mean(), abs=1e-15)
    # path_draws = 1 leaves a cell's name as it was before the option existed
    base = {k: v for k, v in {**dataclasses.asdict(MultilayerConfig()), **cfg}.items()
            if k != "path_draws"}
    assert cell_id("multilayer", {**base, "path_draws": 1}) == cell_id("multilayer", base)
    assert cell_id("multilayer", {**base, "path_draws": 3}) != cell_id("multilayer", base)
    with pytest.raises(ValueError, match="path_draws"):
        MultilayerConfig(**cfg, path_draws=0).check()


def test_alpha0_is_a_step_proportional_to_one_over_n_and_keeps_stored_cell_names():
    """alpha0 > 0 trains at alpha0 / N (Theorem 2's sqrt(alpha) terms then vanish);
    alpha0 = 0, its default, leaves a cell's step and name as before the option."""
    from meanfield.experiments.config import cell_id

    cfg = dict(d=5, N=16, T=1.0, n_mc=300, half_draws=1, seed=2)
    assert MultilayerConfig(**cfg, alpha=0.3).step == 0.3
    assert MultilayerConfig(**cfg, alpha0=4.0).step == 4.0 / 16
    scaled = multilayer_cell(MultilayerConfig(**cfg, alpha0=4.0))
    fixed = multilayer_cell(MultilayerConfig(**cfg, alpha=4.0 / 16))
    other = multilayer_cell(MultilayerConfig(**cfg))
    import pandas as pd

    for name in ("dropout", "paths"):
        pd.testing.assert_frame_equal(scaled[name], fixed[name])
    assert not np.allclose(scaled["dropout"]["risk"], other["dropout"]["risk"])
    base = {k: v for k, v in {**dataclasses.asdict(MultilayerConfig()), **cfg}.items()
            if k != "alpha0"}
    assert cell_id("multilayer", {**base, "alpha0": 0.0}) == cell_id("multilayer", base)
    assert cell_id("multilayer", {**base, "alpha0": 20.0}) != cell_id("multilayer", base)
    with pytest.raises(ValueError, match="alpha0"):
        MultilayerConfig(**cfg, alpha0=-1.0).check()


def test_multilayer_sweep_runs_and_plots(tmp_path, capsys):
    from meanfield.cli import main

    table, out = sweep_and_load(
        tmp_path, "m", 'experiment = "multilayer"\n[fixed]\nT = 2.0\nn_mc = 300\nsizes = [4]\n'
        '[grid]\nd = [4, 8]\nN = [12, 24]\nseed = [0]\n')
    assert len(table["paths"]) == 4 and "table" not in table["paths"]
    figs = {p.name for p in (out / "figures" / "all").glob("*.png")}
    assert figs == {"multilayer_rates.png", "multilayer_risk.png",
                    "multilayer_dropout_vs_size.png"}
    cfg = tmp_path / "bad.toml"
    cfg.write_text('experiment = "multilayer"\n[fixed]\nL = 2\n[grid]\nN = [12]\n')
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "bad")]) == 2
    assert "L must be >= 3" in capsys.readouterr().err


#: A multilayer sweep (d = 4, T = 0.5, n_mc = 200, one kept half per net and size 3,
#: N = 8 and 12, seed 0) written at 2fc3c08, when a multilayer cell stored one
#: ``cells/<id>/results.csv`` whose ``table`` column told its dropout and paths rows apart
#: (host and pid in the records blanked).
STACKED = os.path.join(os.path.dirname(__file__), "data", "multilayer_stacked")


def test_a_folder_of_stacked_multilayer_cells_loads_split_and_resumes(tmp_path):
    """The old layout loads as the two tables a cell writes today, with the numbers and
    integer columns a fresh run gives, without a warning; its cells keep their ids, so a
    grown grid runs only the new cell, and the mixed folder loads and plots."""
    import shutil
    import warnings

    from meanfield.experiments import (get_experiment, load_results, load_tables, parse_config,
                                       run_sweep)
    from meanfield.experiments.store import ResultStore

    old = tmp_path / "old"
    shutil.copytree(STACKED, old)
    assert sorted(p.name for p in (old / "cells").glob("*/*.csv")) == ["results.csv"] * 2
    sweep = ResultStore(old).sweep()
    assert ResultStore(old).finished(sweep) == {"2782f24a6490091d", "5786e543ff392954"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        before = load_tables(old)
    assert set(before) == {"dropout", "paths"}
    run_sweep(sweep, tmp_path / "new", workers=1, progress=False)
    new = load_tables(tmp_path / "new")
    assert ResultStore(tmp_path / "new").finished(sweep) == ResultStore(old).finished(sweep)
    for name, ints in (("dropout", ["net", "size", "draw", "N", "seed"]),
                       ("paths", ["draw", "n_segments", "N", "seed"])):
        assert "table" not in before[name] and set(before[name]) == set(new[name])
        assert len(before[name]) == len(new[name]) == {"dropout": 8, "paths": 2}[name]
        assert all(before[name][c].dtype == "int64" for c in ints), name
        for col in new[name].columns:
            a, b = before[name][col], new[name][col]
            # barrier_straight is 0.0 in both cells: whole numbers in a column the other
            # table lacked read back as integers (split_legacy), with the same values
            # the fixture was written before the dropout forward pass formed only the kept
            # units (2026-12-07): the same dot products, other BLAS shapes, so floats agree
            # to rounding (measured <= 1.1e-15 relative), not bit for bit
            exact = not pd.api.types.is_float_dtype(b)
            pd.testing.assert_series_equal(a, b, check_exact=exact, rtol=1e-12, atol=0,
                                           obj=f"{name}.{col}",
                                           check_dtype=col != "barrier_straight")
    # resumed with a third N: the two stored cells are kept, one new one written as files
    grown = sweep.to_dict()
    grown = parse_config({**grown, "grid": {**grown["grid"], "N": [8, 12, 16]}})
    rep = run_sweep(grown, old, workers=1, progress=False)
    assert (rep.skipped, rep.done) == (2, 1)
    mixed = load_tables(old)
    assert sorted(mixed["paths"]["N"]) == [8, 12, 16] and mixed["dropout"]["N"].nunique() == 3
    pd.testing.assert_frame_equal(load_results(old, table="paths"), mixed["paths"])
    kept = mixed["dropout"][mixed["dropout"]["N"] < 16].reset_index(drop=True)
    # the stored cells' floats against a fresh run: to rounding (see above)
    pd.testing.assert_frame_equal(kept[new["dropout"].columns], new["dropout"],
                                  check_exact=False, rtol=1e-12, atol=0)
    figs = get_experiment("multilayer").plot(mixed, tmp_path / "figures")
    assert {p.name for p in figs} == {"multilayer_rates.png", "multilayer_risk.png",
                                      "multilayer_dropout_vs_size.png"}


def test_a_stacked_table_is_deprecated_input_of_the_summary_and_figures():
    """One table with a 'table' column, as cells returned before: the same summary, with a
    DeprecationWarning; a dict without a needed table, or a table without that column, is
    refused naming the tables."""
    from meanfield.analysis import multilayer_summary
    from meanfield.plotting import theorem41_paths_figure

    cfg = dict(d=5, N=16, T=1.0, n_mc=300, half_draws=2, seed=1)
    tables = {k: t.assign(d=5, N=16, seed=1)
              for k, t in multilayer_cell(MultilayerConfig(**cfg)).items()}
    per_net, pairs = multilayer_summary(tables)
    assert list(per_net["net"]) == [0, 1] and len(pairs) == 1
    np.testing.assert_allclose(per_net["eps_D"], tables["dropout"].groupby("net")["eps_D"].mean(),
                               rtol=1e-15)
    stacked = pd.concat([t.assign(table=k) for k, t in tables.items()], ignore_index=True)
    with pytest.warns(DeprecationWarning, match="multilayer_summary: one table with a 'table' "
                                                "column is deprecated"):
        old_net, old_pairs = multilayer_summary(stacked)
    # the same numbers (net is a float column there, as it was: NaN in the paths rows)
    pd.testing.assert_frame_equal(old_net, per_net, check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(old_pairs, pairs, check_exact=True)
    with pytest.raises(ValueError, match="tables must hold dropout, paths, got dropout"):
        multilayer_summary({"dropout": tables["dropout"]})
    with pytest.raises(TypeError, match="theorem41_paths_figure: tables must be a dict"):
        theorem41_paths_figure(tables["paths"])


def test_dropout_forward_forms_only_the_kept_units_and_agrees_with_the_masked_pass():
    """MultilayerNet.forward(X, keep) computes only the kept units of each hidden layer
    (n |A_l| |A_(l+1)| per middle product instead of n |A_l| N); the pass that forms every
    unit and reads the kept ones (the ``cache=True`` branch) gives the same outputs to
    rounding, for half sets and for sizes far below N."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 6))
    for act in ("sigmoid", "tanh"):
        net = init_net(6, 120, L=3, activation=act, rng=2)
        for size in (60, 5, 1):
            keep = [np.sort(rng.choice(120, size, replace=False)) for _ in range(3)]
            kept, _ = net.forward(X, keep, cache=True)
            # to rounding relative to the outputs' scale (single outputs cancel to ~1e-6)
            np.testing.assert_allclose(net.forward(X, keep), kept, rtol=0,
                                       atol=1e-13 * np.abs(kept).max())
        # one array: the same kept set in every layer
        one = np.arange(0, 120, 7)
        ref = net.forward(X, one, cache=True)[0]
        np.testing.assert_allclose(net.forward(X, one), ref, rtol=0, atol=1e-13 * np.abs(ref).max())
