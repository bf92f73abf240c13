"""Torch backend: mean-field scaling, dropout networks, batched patterns, paths, and the
cross-check against the numba core."""

import numpy as np
import pytest

from meanfield import TORCH_HINT

torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_HINT}")

from meanfield.stepping import DivergenceError  # noqa: E402
from meanfield.tasks import teacher_student  # noqa: E402
from meanfield.tasks.datasets import digits  # noqa: E402
from meanfield.torch import (DataLoss, DataStream, FullyConnectedNet,  # noqa: E402
                             TaskStream, TrainConfig, evaluate, evaluate_path, first_half_masks,
                             random_half_masks, dropout_path, straight_path, train)
from meanfield.torch import models as torch_models  # noqa: E402
from meanfield.torch.losses import per_sample  # noqa: E402
from meanfield.twolayer import InitialLaw, run_sgd  # noqa: E402
from tests.conftest import sweep_and_load  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return digits()


def small_net(depth, N=12, d=5, n_out=3, device="cpu", **kw):
    return FullyConnectedNet(d, N, n_out, depth=depth, dtype=torch.float64, device=device, **kw)


def host(t):
    """A tensor's values as a numpy array, from any device."""
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("loss", ["cross_entropy", "square"])
def test_one_step_is_alpha_times_n_power_times_autograd_gradient(depth, loss, rng,
                                                                 torch_device):
    """Section 5: gradient x N for first and last layer, x N^2 for the middle ones."""
    net = small_net(depth, activation="tanh", seed=1, device=torch_device)
    X = rng.standard_normal((7, 5))
    y = rng.integers(0, 3, 7)
    W0 = net.numpy_weights()
    # autograd of the unscaled mini-batch loss at the initial weights
    ref = small_net(depth, activation="tanh", seed=1, device=torch_device)
    per_sample(ref(X), torch.as_tensor(y, device=torch_device), loss).mean().backward()
    grads = [host(w.grad) for w in ref.weights]
    stream = DataStream(X, y, batch_size=7, seed=0, dtype=torch.float64)
    alpha = 0.013
    train(net, stream, TrainConfig(alpha=alpha, steps=1, loss=loss), progress=False)
    N = net.N
    powers = [1] + [2] * (depth - 2) + [1]
    for w0, w1, g, p in zip(W0, net.numpy_weights(), grads, powers):
        np.testing.assert_allclose(w1 - w0, -alpha * N ** p * g, rtol=1e-12, atol=1e-15)


def test_two_layer_square_loss_step_is_eq_3_3(rng, torch_device):
    """Batch 1, square loss: theta_i += 2 alpha (y - yhat) grad[a_i sigma(<w_i, x>)]."""
    net = small_net(2, N=9, n_out=1, bias=False, activation="erf", seed=3, device=torch_device)
    W, A = net.numpy_weights()
    a = A[0]
    x, y = rng.standard_normal(5), 0.7
    z = W @ x
    err = y - np.mean(a * _erf(z))
    alpha = 0.05
    stream = DataStream(x[None], np.array([y]), batch_size=1, dtype=torch.float64)
    train(net, stream, TrainConfig(alpha=alpha, steps=1, loss="square"), progress=False)
    W1, A1 = net.numpy_weights()
    np.testing.assert_allclose(A1[0] - a, 2 * alpha * err * _erf(z), rtol=1e-12)
    dsig = 2 / np.sqrt(np.pi) * np.exp(-z ** 2)
    np.testing.assert_allclose(W1 - W, 2 * alpha * err * (a * dsig)[:, None] * x, rtol=1e-12)


def _erf(z):
    from scipy.special import erf
    return erf(z)


def test_torch_matches_numba_core_step_by_step_on_the_same_samples(torch_device):
    """Same initial weights and the same data stream: the two backends agree to round-off."""
    task = teacher_student(6, "relu", width=2)
    a, W = InitialLaw().sample(40, task.d, np.random.default_rng(0))
    alpha = 1 / 40
    core = run_sgd((a, W), task, alpha, [0.0, 0.5, 1.0], rng=11, progress=False)
    net = FullyConnectedNet(6, 40, 1, bias=False, dtype=torch.float64, device=torch_device)
    net.load_numpy([W, a[None]])
    res = train(net, TaskStream(task, 1, rng=11), TrainConfig(alpha=alpha, steps=40,
                snapshots=(0, 0.5, 1), loss="square"), keep_states=True, progress=False)
    for k in range(3):
        Wt, At = res.states[k]
        np.testing.assert_allclose(Wt, core.W[k], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(At[0], core.a[k], rtol=1e-9, atol=1e-12)


def test_torch_risk_curve_matches_core_within_seed_noise(torch_device):
    """Independent seeds, 5 runs each: mean risk curves agree within 3 standard errors."""
    task = teacher_student(8, "erf", width=2)
    N, alpha, times = 60, 1 / 60, [0.0, 0.5, 1.0, 2.0]
    core, tor = [], []
    for s in range(5):
        a, W = InitialLaw().sample(N, task.d, np.random.default_rng(100 + s))
        core.append(run_sgd((a, W), task, alpha, times, rng=200 + s, progress=False).risk)
        net = FullyConnectedNet(8, N, 1, bias=False, activation="erf", dtype=torch.float64,
                           device=torch_device)
        a2, W2 = InitialLaw().sample(N, task.d, np.random.default_rng(300 + s))
        net.load_numpy([W2, a2[None]])
        res = train(net, TaskStream(task, 1, rng=400 + s),
                    TrainConfig(alpha=alpha, steps=120, loss="square",
                                snapshots=tuple(t / 2.0 for t in times)),
                    keep_states=True, progress=False)
        tor.append([task.risk(st[1][0], st[0]) for st in res.states])
    core, tor = np.array(core), np.array(tor)
    se = np.sqrt(core.var(0, ddof=1) / 5 + tor.var(0, ddof=1) / 5)
    diff = np.abs(core.mean(0) - tor.mean(0))
    assert core.mean(0)[-1] < 0.6 * core.mean(0)[0]  # the runs do learn
    assert np.all(diff <= 3 * se + 1e-12), (diff, se)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_all_kept_dropout_equals_full_and_batched_equals_single(depth, rng, torch_device):
    net = small_net(depth, N=10, seed=2, device=torch_device)
    X = rng.standard_normal((30, 5))
    full = net(X)
    keep = torch.ones(depth - 1, 10)
    torch.testing.assert_close(net(X, keep), full, rtol=1e-12, atol=1e-13)
    masks = random_half_masks(net, 6, seed=4)
    assert masks.shape == (6, depth - 1, 10) and torch.all(masks.sum(-1) == 5)
    batched = net(X, masks)
    for k in range(6):
        torch.testing.assert_close(batched[k], net(X, masks[k]), rtol=1e-12, atol=1e-13)
    y = rng.integers(0, 3, 30)
    ev = evaluate(net, X, y, masks=masks, batch_size=7, max_elements=200)
    for k in range(6):
        one = evaluate(net, X, y, masks=masks[k:k + 1])
        assert ev["loss"][k] == pytest.approx(one["loss"][0], rel=1e-12)
        assert ev["error"][k] == pytest.approx(one["error"][0], abs=1e-15)


@pytest.mark.parametrize("param", ["mean_field", "standard"])
def test_hidden_biases_and_parameterisations_against_explicit_layers(param, rng, torch_device):
    """Nguyen et al. eq. 1: sigma(W_l f + b_l) per hidden layer, the mean-field 1/N (or none)
    on every sum after the first, the bias the last column; dropout as eq. 3.4."""
    N, depth = 8, 4
    net = small_net(depth, N=N, bias="all", parameterisation=param, seed=3, activation="tanh",
                    device=torch_device)
    W = [w.detach() for w in net.weights]
    assert [tuple(w.shape) for w in W] == [(N, 6), (N, N + 1), (N, N + 1), (3, N)]
    c = 1.0 / N if param == "mean_field" else 1.0
    assert net.factors() == [1.0, c, c, c]
    assert net.scales() == ([N, N ** 2, N ** 2, N] if param == "mean_field" else [1.0] * 4)
    X = torch.as_tensor(rng.standard_normal((11, 5)), device=torch_device)
    h = torch.tanh(X @ W[0][:, :5].T + W[0][:, 5])
    for Wl in W[1:3]:
        h = torch.tanh(c * (h @ Wl[:, :N].T + Wl[:, N]))
    torch.testing.assert_close(net(X), c * h @ W[3].T, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(net.features(X, 3), h, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(net(X, torch.ones(depth - 1, N)), net(X), rtol=1e-12,
                               atol=1e-13)
    # dropout: kept outgoing weights times N/|A|, the others zero, biases unchanged
    mask = random_half_masks(net, 1, seed=2)[0].to(torch_device, torch.float64)
    V = [w.clone() for w in W]
    for l in range(1, depth):
        V[l][:, :N] *= mask[l - 1] * N / mask[l - 1].sum()
    torch.testing.assert_close(net(X, mask), net.apply(V, X), rtol=1e-12, atol=1e-13)
    # the standard initial law is torch's nn.Linear scale: entries of variance 1/fan_in
    if param == "standard":
        wide = FullyConnectedNet(20, 400, 3, depth=3, bias="all", parameterisation="standard",
                            device=torch_device)
        assert float(wide.weights[1].detach().var()) * 400 == pytest.approx(1.0, rel=0.02)
    with pytest.raises(ValueError, match="parameterisation must be one of"):
        small_net(2, parameterisation="ntk")
    with pytest.raises(ValueError, match="bias must be one of"):
        small_net(2, bias="hidden")


def test_theorem41_path_on_digits_stays_within_experiment_a(data, torch_device):
    """Two nets, Experiment A per net, the path: ends exact, each subnetwork's vertex loss
    equals its Q_l, rewiring and swap segments keep the outputs, the maximum sits at a
    vertex and below max(trained losses, Experiment A bounds)."""
    from meanfield.torch import experiment_a, theorem41
    from meanfield.torch.subnets import subnet_loss

    X, y = data.X_train[:300], data.y_train[:300]
    nets = []
    for seed in (1, 2):
        net = FullyConnectedNet(data.d, 10, 10, depth=4, bias="all", parameterisation="standard",
                           seed=seed, dtype=torch.float64, device=torch_device)
        train(net, DataStream(X, y, 50, seed=seed), TrainConfig(alpha=0.1, epochs=4),
              progress=False)
        nets.append(net)
    cfg = TrainConfig(alpha=0.1, epochs=2)
    bounds = [experiment_a(n, X, y, draws=2, config=cfg, seed=s) for s, n in enumerate(nets)]
    path = theorem41(nets[0], nets[1], *bounds)
    assert path.n_segments == 2 * (2 + 6 * 2) + 5 + 3  # H = 3, the two nets' subsets differ
    for vertex, net in ((0, nets[0]), (-1, nets[1])):
        for a, b in zip(path.weights[vertex], net.numpy_weights()):
            np.testing.assert_array_equal(a, b)
    prof = evaluate_path(path, nets[0], X, y, n_per_segment=5)
    labels = dict(zip(prof["label"], prof["loss"]))
    for l in range(4):
        assert labels[f"xi_{l}(theta)" if l else "xi_0"] == \
            pytest.approx(bounds[0][l]["loss"], rel=1e-9)
        if l:
            assert labels[f"xi_{l}(theta')"] == pytest.approx(bounds[1][l]["loss"], rel=1e-9)
        for net, b in zip(nets, bounds):  # eq. (3) evaluated from xi itself
            assert subnet_loss(net, X, y, l, b[l]["subset"], b[l]["xi"]) == \
                pytest.approx(b[l]["loss"], rel=1e-9)
    trained = [evaluate(n, X, y)["loss"] for n in nets]
    bound = max(trained + [r["loss"] for b in bounds for r in b])
    assert prof["loss"].max() <= bound * (1 + 1e-9)
    assert prof["loss"].max() == pytest.approx(prof.loc[prof["label"] != "", "loss"].max())
    # every point by a forward pass: the same outputs as the shortcut from the vertices
    out = lambda w: host(DataLoss(nets[0], X, y).outputs(w)).copy()  # noqa: E731
    slow = path.profile(out, lambda o: {"o": o}, 4, shortcut=False)
    fast = path.profile(out, lambda o: {"o": o}, 4)
    assert max(np.abs(a["o"] - b["o"]).max() for a, b in zip(slow, fast)) < 1e-9


def test_two_layer_dropout_is_the_smaller_net_with_rescaled_output(rng, torch_device):
    """Keeping A with 1/|A| is the |A|-neuron net of the kept weights (eq. 3.4)."""
    net = small_net(2, N=10, seed=5, device=torch_device)
    W1, W2 = net.numpy_weights()
    X = rng.standard_normal((8, 5))
    small = small_net(2, N=5, device=torch_device).load_numpy([W1[:5], W2[:, :5]])
    torch.testing.assert_close(net(X, first_half_masks(net))[0], small(X))
    full = evaluate(net, X, rng.integers(0, 3, 8))
    assert 0 <= full["error"] <= 1 and full["loss"] > 0


def test_bad_inputs_raise_value_errors(rng, torch_device):
    with pytest.raises(ValueError, match="N must be an integer >= 1"):
        FullyConnectedNet(3, 0, 2)
    with pytest.raises(ValueError, match="depth must be an integer >= 2"):
        FullyConnectedNet(3, 4, 2, depth=1)
    with pytest.raises(ValueError, match="init must be one of"):
        FullyConnectedNet(3, 4, 2, init="cauchy")
    net = small_net(3, N=4, device=torch_device)
    with pytest.raises(ValueError, match=r"masks must have shape \(K, 2, 4\)"):
        net(rng.standard_normal((2, 5)), torch.ones(3, 4))
    with pytest.raises(ValueError, match="keep at least one neuron"):
        net(rng.standard_normal((2, 5)), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 5\)"):
        net(rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        TrainConfig(alpha=0.1)
    with pytest.raises(ValueError, match="snapshots must be fractions"):
        TrainConfig(alpha=0.1, steps=3, snapshots=(0.5, 2))
    with pytest.raises(ValueError, match="loss must be one of"):
        TrainConfig(alpha=0.1, steps=3, loss="hinge")
    with pytest.raises(ValueError, match="N must be >= 2"):
        first_half_masks(small_net(2, N=1))


def test_init_laws_have_unit_variance_and_bimodal_is_bimodal(torch_device):
    g = np.random.default_rng(0)
    for kind in ("gaussian", "uniform", "bimodal"):
        xi = torch_models.InitialLaw(kind).sample((200000,), 1.0, g).numpy()
        assert abs(xi.mean()) < 0.01 and xi.var() == pytest.approx(1.0, abs=0.01)
    xi = torch_models.InitialLaw("bimodal").sample((200000,), 1.0, g).numpy()
    assert np.mean(np.abs(xi) < 0.4) < 0.02  # 0.94% by design; a Gaussian puts 31% there
    # the same seed gives the same net on any dtype and device
    n32 = FullyConnectedNet(4, 6, 2, seed=9, dtype=torch.float32, device="cpu").numpy_weights()
    n64 = FullyConnectedNet(4, 6, 2, seed=9, dtype=torch.float64, device="cpu").numpy_weights()
    dev = FullyConnectedNet(4, 6, 2, seed=9, dtype=torch.float64, device=torch_device)
    for a, b, c in zip(n32, n64, dev.numpy_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_array_equal(b, c)


def test_training_is_deterministic_and_learns_digits(data, torch_device):
    def run():
        net = FullyConnectedNet(data.d, 64, 10, seed=1, device=torch_device)
        cfg = TrainConfig(alpha=0.5, epochs=4, snapshots=(0, 1))
        rec = train(net, DataStream(data.X_train, data.y_train, 100, seed=2), cfg,
                    callback=lambda n, f, t, k: evaluate(n, data.X_test, data.y_test),
                    progress=False)
        return net.numpy_weights(), rec

    (w1, r1), (w2, _) = run(), run()
    for a, b in zip(w1, w2):  # bit for bit on the CPU; a GPU's reductions may round apart
        np.testing.assert_allclose(a, b, rtol=0 if torch_device.type == "cpu" else 1e-5,
                                   atol=0 if torch_device.type == "cpu" else 1e-6)
    assert r1.records[0]["error"] > 0.8  # untrained: chance level
    assert r1.records[-1]["error"] < 0.08
    assert r1.times[-1] == pytest.approx(0.5 * 4 * 13)


def test_paper_schedule_keeps_k0_alpha0_fixed():
    cfg = TrainConfig.paper(400, alpha0=2.0, k0=0.01)
    assert cfg.alpha == pytest.approx(0.005) and cfg.epochs == pytest.approx(4.0)


def test_divergence_keeps_the_snapshots_taken(data, torch_device):
    net = FullyConnectedNet(data.d, 32, 10, seed=1, device=torch_device)
    cfg = TrainConfig(alpha=1e4, steps=200, snapshots=(0, 1), check_every=10)
    with pytest.raises(DivergenceError) as err:
        train(net, DataStream(data.X_train, data.y_train, 100), cfg, progress=False)
    assert len(err.value.partial.times) == 1 and err.value.step < 200


@pytest.mark.parametrize("depth", [2, 3])
def test_dropout_path_on_data(data, depth, torch_device):
    nets = []
    for seed, init in ((1, "bimodal"), (2, "gaussian")):
        net = FullyConnectedNet(data.d, 40, 10, depth=depth, seed=seed, init=init,
                           dtype=torch.float64, device=torch_device)
        train(net, DataStream(data.X_train, data.y_train, 100, seed=seed),
              TrainConfig(alpha=0.5, epochs=2), progress=False)
        nets.append(net)
    A = np.random.default_rng(0).choice(40, 20, replace=False)
    path = dropout_path(nets[0], nets[1], A)
    K = 10 * depth - 13
    assert path.n_segments == K and set(path.kinds) == {"a", "w0"}
    prof = evaluate_path(path, nets[0], data.X_test, data.y_test, n_per_segment=5)
    assert len(prof) == K * 4 + 1
    ends = [evaluate(n, data.X_test, data.y_test) for n in nets]
    assert prof["loss"].iloc[0] == pytest.approx(ends[0]["loss"], rel=1e-10)
    assert prof["loss"].iloc[-1] == pytest.approx(ends[1]["loss"], rel=1e-10)
    assert prof["error"].iloc[-1] == pytest.approx(ends[1]["error"], abs=1e-12)
    # exact shortcut: interpolated outputs equal a forward pass at the interpolated weights
    V = path.weights
    on_test = DataLoss(nets[0], data.X_test, data.y_test)
    for k, kind in enumerate(path.kinds):
        direct = on_test.outputs(path.point(k + 0.5))
        lo, hi = on_test.outputs(V[k]), on_test.outputs(V[k + 1])
        torch.testing.assert_close(direct, 0.5 * (lo + hi), rtol=1e-9, atol=1e-10)
        if kind == "w0":
            torch.testing.assert_close(lo, hi, rtol=1e-9, atol=1e-10)
    # the dropout networks on the path are those of evaluate(masks=...)
    n1 = 1 + 5 * (depth - 2)
    masks = torch.zeros(depth - 1, 40)
    masks[:, A] = 1
    for v, net in ((n1, nets[0]), (K - n1, nets[1])):
        dn = evaluate(net, data.X_test, data.y_test, masks=masks[None])
        assert prof[np.isclose(prof["s"], v)]["loss"].item() == pytest.approx(dn["loss"][0],
                                                                               rel=1e-9)
    # cross-entropy is convex in the outputs: the maximum sits at a vertex
    vertex = prof[np.isclose(prof["s"] % 1, 0)]
    assert prof["loss"].max() <= vertex["loss"].max() + 1e-12
    line = evaluate_path(straight_path(nets[0], nets[1]), nets[0], data.X_test, data.y_test,
                         n_per_segment=5)
    assert line["loss"].iloc[-1] == pytest.approx(ends[1]["loss"], rel=1e-10)
    if depth == 2:
        aligned = straight_path(nets[0], nets[1], aligned=True)
        torch.testing.assert_close(on_test.outputs(aligned.weights[1]),
                                   nets[1](data.X_test), rtol=1e-10, atol=1e-12)


def test_empirical_sweeps_run_and_plot_from_one_command(tmp_path, capsys):
    """Figures 1-4 through `meanfield sweep ... --plot` on digits, small sizes."""
    table, out = sweep_and_load(
        tmp_path, "e", 'experiment = "empirical"\n[fixed]\ndataset = "digits"\nepochs = 2.0\n'
        'alpha = 0.5\nrandom_halves = 4\n[grid]\ndepth = [2, 3]\nN = [20, 40]\nseed = [0, 1]\n')
    assert len(table) == 8 * 4 and set(table["fraction"]) == {0.0, 0.35, 0.7, 1.0}
    np.testing.assert_allclose(table["dloss_half"], table["loss_half"] - table["loss_full"])
    figs = {p.name for p in (out / "figures").glob("*.png")}
    assert {"error_change_all.png", "full_vs_dropout_all_depth=2.png",
            "dropout_change_all_depth=3.png"} <= figs
    table, _ = sweep_and_load(
        tmp_path, "p", 'experiment = "empirical_path"\n[fixed]\ndataset = "digits"\nN = 30\n'
        'epochs = 2.0\nalpha = 0.5\nn_per_segment = 3\n[grid]\nseed = [0]\n')
    assert set(table) == {"path", "hist"} and "table" not in table["path"]
    paths = table["path"]
    assert paths["n_segments"].dtype == "int64" and table["hist"]["count"].dtype == "int64"
    assert set(paths["path"]) == {"dropout", "straight", "aligned"}
    assert len(paths[paths["path"] == "dropout"]) == 7 * 2 + 1
    assert (tmp_path / "p" / "figures" / "path_all.png").exists()
    # the loss along the paths is the cell's, not the setting loss = "cross_entropy" of the
    # same name (which replaced every value until the store kept the cell's columns)
    from meanfield.torch.experiments import path_cell
    from meanfield.torch.settings import PathSettings

    direct = path_cell(PathSettings(dataset="digits", N=30, epochs=2.0, alpha=0.5,
                                    n_per_segment=3, seed=0))["path"]
    # (float32 nets; the sweep's cell ran on one torch thread: equal to 1e-6, not bit for bit)
    np.testing.assert_allclose(paths["loss"].to_numpy(float), direct["loss"].to_numpy(),
                               rtol=1e-6)
    assert len(list((tmp_path / "p" / "figures").glob("path_*.png"))) == 1


def test_missing_dataset_in_a_sweep_config_exits_2(tmp_path, capsys):
    from meanfield.cli import main

    cfg = tmp_path / "emp.toml"
    cfg.write_text(f'experiment = "empirical"\n[fixed]\ndataset = "mnist"\n'
                   f'data_path = "{tmp_path / "none"}"\n[grid]\nN = [20]\n')
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "none") in err and "IDX files" in err
    assert not (tmp_path / "e").exists()


@pytest.mark.parametrize("name", ["relu", "erf", "tanh", "sigmoid", "softplus", "ramp"])
def test_torch_activations_equal_the_core_ones(name, torch_device):
    from meanfield.activations import get_activation
    from meanfield.torch.models import torch_activation

    z = np.linspace(-4, 4, 101)
    z_dev = torch.as_tensor(z, device=torch_device)
    np.testing.assert_allclose(host(torch_activation(name)(z_dev)),
                               get_activation(name)(z), rtol=1e-12, atol=1e-14)


def test_experiment_b_keeps_lower_layers_and_its_scale_minimises_the_loss(data, torch_device):
    from meanfield.torch.dropout import best_rescaled_dropout

    net = FullyConnectedNet(data.d, 30, 10, depth=3, seed=3, dtype=torch.float64,
                            device=torch_device)
    train(net, DataStream(data.X_train, data.y_train, 100), TrainConfig(alpha=0.5, epochs=1),
          progress=False)
    X, y = data.X_train[:300], data.y_train[:300]
    res = best_rescaled_dropout(net, X, y, layer=2, draws=12, seed=4)
    assert torch.all(res.keep[0] == 1) and res.keep[1].sum() == 15
    assert res.loss == pytest.approx(res.losses.min()) and len(res.losses) == 12
    with torch.no_grad():
        out = net(X, res.keep)
    yt = torch.as_tensor(y, device=torch_device)
    at = [float(per_sample(r * out, yt, "cross_entropy").mean())
          for r in (res.scale, 0.9 * res.scale, 1.1 * res.scale)]
    assert at[0] == pytest.approx(res.loss, rel=1e-9) and at[0] <= min(at[1:])
    # the same draws, one pattern at a time, give the same losses at scale 1
    masks = random_half_masks(net, 12, 4)
    masks[:, 0] = 1
    one = [evaluate(net, X, y, masks=masks[k:k + 1])["loss"][0] for k in range(3)]
    np.testing.assert_allclose(one, evaluate(net, X, y, masks=masks[:3])["loss"], rtol=1e-12)
    with pytest.raises(ValueError, match=r"layer must be an integer in \[1, 2\]"):
        best_rescaled_dropout(net, X, y, layer=3)


def test_experiment_a_features_and_the_linear_infimum(data, torch_device):
    from meanfield.torch.losses import per_sample
    from meanfield.torch.subnets import _linear_inf, subnet_bound

    net = FullyConnectedNet(data.d, 40, 10, depth=3, seed=5, dtype=torch.float64,
                            device=torch_device)
    train(net, DataStream(data.X_train, data.y_train, 100), TrainConfig(alpha=0.5, epochs=3),
          progress=False)
    X, y = data.X_train, data.y_train
    F = net.features(X, 2)
    torch.testing.assert_close(F @ net.weights[-1].T / net.N, net(X).detach())
    torch.testing.assert_close(net.features(X, 0),
                               torch.as_tensor(X, dtype=torch.float64, device=torch_device))
    # the net's own top layer is one linear map of its last features: the infimum is below
    for loss, tol in (("square", 1e-10), ("cross_entropy", 2e-3)):
        assert _linear_inf(F, y, loss, 10)[0] <= evaluate(net, X, y, loss)["loss"] + tol

    def xi_loss(xi, layer, subset):
        """The returned subnetwork on the raw features, by plain matrix products."""
        h = host(net.features(X, layer)[:, subset])
        for U in xi[:-1]:
            h = np.maximum(np.column_stack([h, np.ones(len(h))]) @ U.T, 0.0)
        out = torch.as_tensor(h @ xi[-1].T)
        return float(per_sample(out, torch.as_tensor(y), "cross_entropy").mean())

    res = subnet_bound(net, X, y, 2, draws=3, seed=1)
    assert res["loss"] == res["losses"].min() and len(res["subset"]) == 20
    assert xi_loss(res["xi"], 2, res["subset"]) == pytest.approx(res["loss"], rel=1e-9)
    cfg = TrainConfig(alpha=0.5, epochs=2)
    res1 = subnet_bound(net, X, y, 1, draws=2, config=cfg, seed=1)
    assert len(res1["losses"]) == 2 and res1["loss"] < 2.3  # below chance (log 10)
    # the standardisation folded into xi's first layer: same loss on the raw features
    assert xi_loss(res1["xi"], 1, res1["subset"]) == pytest.approx(res1["loss"], rel=1e-9)
    with pytest.raises(ValueError, match=r"layer must be an integer in \[0, 2\]"):
        subnet_bound(net, X, y, 3)
    with pytest.raises(ValueError, match="config"):
        subnet_bound(net, X, y, 1)


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_noise_stability_quantities_against_brute_force(act, rng, torch_device):
    """Kuditipudi Defs. 2 and 4 on a tiny net: explicit Jacobians and SVDs per sample."""
    from meanfield.connectivity.noise_stability import noise_stability, noise_stability_epsilon

    N = 12  # wide enough that no ReLU layer is all zero on these samples (0/0 otherwise)
    net = FullyConnectedNet(3, N, 2, depth=4, activation=act, seed=2, dtype=torch.float64,
                       device=torch_device)
    X = rng.standard_normal((6, 3))
    q = noise_stability(net, X, iters=300)
    W = [w.detach() for w in net.weights]
    A = [W[0]] + [w / N for w in W[1:]]
    sig = net.sigma
    for s in range(6):
        x = [net.prepare(X[s:s + 1])[0]]
        for i, Ai in enumerate(A, start=1):
            x.append(Ai @ (x[-1] if i == 1 else sig(x[-1])))
        for i in range(1, 5):
            phi = x[0] if i == 1 else sig(x[i - 1])
            ref = (A[i - 1] @ phi).norm() / (A[i - 1].norm() * phi.norm())
            assert q["layer_cushion"][s, i - 1] == pytest.approx(float(ref), rel=1e-10)
        for i in range(1, 4):
            for j in range(i + 1, 5):
                def M(z, i=i, j=j):
                    for k in range(i, j):
                        z = A[k] @ sig(z)
                    return z
                J = torch.autograd.functional.jacobian(M, x[i])
                ref = (J @ x[i]).norm() / (torch.linalg.matrix_norm(J, 2) * x[i].norm())
                assert q["interlayer_cushion"][(i, j)][s] == pytest.approx(float(ref), rel=1e-6)
        c = max(float(x[i].norm() / sig(x[i]).norm()) for i in range(1, 4))
        assert q["activation_contraction"][s] == pytest.approx(c, rel=1e-12)
    assert np.all(q["min_interlayer_cushion"] <= 1 + 1e-12)
    eps = noise_stability_epsilon(q, N)
    mu, mu_to = q["layer_cushion"].min(0), np.append(q["min_interlayer_cushion"].min(0), 1)
    expect = (np.sqrt(2) * q["activation_contraction"].max() * 4 ** 1.5
              * q["output_norm"].max() / (np.sqrt(N) * np.min(mu[1:] * mu_to[1:])))
    assert eps == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_interlayer_smoothness_against_brute_force(act, rng, torch_device):
    """Kuditipudi Def. 3 per sample: the dropped weights of Algorithm 1 rebuilt from the
    returned multipliers, M^{i,j} by plain products, J^{i,j} by autograd."""
    from meanfield.connectivity.noise_stability import interlayer_smoothness

    N, d = 10, 4
    net = FullyConnectedNet(3, N, 2, depth=d, activation=act, seed=4, dtype=torch.float64,
                       device=torch_device)
    X = rng.standard_normal((5, 3))
    ts = (0.0, 0.5)
    res = interlayer_smoothness(net, X, p=0.5, draws=4, ts=ts, seed=3)
    W = [w.detach() for w in net.weights]
    A = [W[0]] + [w / N for w in W[1:]]
    sig = net.sigma

    def pre(x0, mats, upto):
        z = mats[0] @ x0
        for k in range(2, upto + 1):
            z = mats[k - 1] @ sig(z)
        return z

    for k, delta in enumerate(res["deltas"]):
        assert set(delta) == {2, 3, 4} and set(np.unique(delta[2])) <= {0.0, 2.0}
        Ah = [A[0]] + [A[i - 1] * torch.as_tensor(delta[i], device=torch_device)
                       for i in range(2, d + 1)]
        for s in range(5):
            x0 = net.prepare(X[s:s + 1])[0]
            rho = np.inf
            for i in range(2, d):
                xi = pre(x0, A, i)
                for t in ts:
                    for dropped in (i, i - 1) if i > 2 else (i,):  # xh = x^i: left out
                        mats = [t * A[m] + (1 - t) * Ah[m] if 1 <= m < dropped else A[m]
                                for m in range(d)]
                        xh = pre(x0, mats, i)
                        for j in range(i + 1, d + 1):
                            def M(z, i=i, j=j):
                                for m in range(i, j):
                                    z = A[m] @ sig(z)
                                return z
                            J = torch.autograd.functional.jacobian(M, xi)
                            err = float((M(xh) - J @ xh).norm())
                            if err > 0:
                                rho = min(rho, float((xh - xi).norm() * pre(x0, A, j).norm()
                                                     / (xi.norm() * err)))
            assert res["per_sample"][k, s] == pytest.approx(rho, rel=1e-8)
    # Definition 3: the largest rho that holds (rho <= a draw's minimum) in at least half
    # the draws, by brute force over the candidates
    m = res["per_sample"].min(1)
    assert len(np.unique(m)) == 4  # else the order statistic and the median could agree
    assert res["rho"] == max(r for r in m if np.sum(m >= r) >= len(m) / 2)
    assert np.sum(m >= res["rho"]) >= 2
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\)"):
        interlayer_smoothness(net, X, p=1.0)


def test_deep_connectivity_sweep_runs_and_plots(tmp_path, capsys):
    """Experiments A and B per layer through `meanfield sweep --plot` (digits, tiny)."""
    t, out = sweep_and_load(
        tmp_path, "d", 'experiment = "deep_connectivity"\n[fixed]\ndataset = "digits"\n'
        'epochs = 2.0\ndraws_a = 1\ndraws_b = 4\n[grid]\nN = [10, 20]\nseed = [0]\n')
    per = t.groupby(["N", "experiment"])["layer"].apply(sorted).to_dict()
    assert per[(10, "A")] == [0, 1, 2] and per[(10, "B")] == [1, 2]
    assert (t["train_loss"] > 0).all()
    assert (out / "figures" / "ab_vs_width_all_depth=3.png").exists()


def test_deep_cell_runs_experiment_b_plainly_removed_beside_the_rescaled_one():
    """b_plain adds Section 6's network on the same kept units and changes nothing else; at
    the top layer the two networks differ by the factor N/|A| on the output alone, which the
    output scale absorbs: the same least loss, the scales a factor N/|A| = 2 apart."""
    from dataclasses import replace

    import pandas as pd

    from meanfield.torch.experiments import deep_cell
    from meanfield.torch.settings import DeepSettings

    cell = DeepSettings(dataset="digits", N=10, epochs=1.0, draws_a=1, draws_b=4,
                        n_train=300, n_test=100)
    plain = deep_cell(replace(cell, b_plain=True))
    base = deep_cell(cell)
    pd.testing.assert_frame_equal(plain[plain["experiment"] != "B-plain"].reset_index(drop=True),
                                  base)
    b = base[base["experiment"] == "B"].set_index("layer")
    bp = plain[plain["experiment"] == "B-plain"].set_index("layer")
    assert list(bp.index) == [1, 2] and (bp["train_loss"] > 0).all()
    assert bp.loc[2, "train_loss"] == pytest.approx(b.loc[2, "train_loss"], rel=1e-6)
    # float32 losses (1e-7) leave the minimiser of a flat minimum uncertain to ~sqrt(1e-7)
    assert bp.loc[2, "scale"] == pytest.approx(2 * b.loc[2, "scale"], rel=1e-3)
    assert abs(bp.loc[1, "train_loss"] / b.loc[1, "train_loss"] - 1) > 1e-4  # hidden biases


def test_deep_paths_sweep_runs_and_plots(tmp_path, capsys):
    """Figure 3 d through `meanfield sweep --plot` (digits, tiny): four paths, each from the
    first net to the second, on both splits; path A stays below the bound of Theorem 4.1."""
    import warnings

    import pandas as pd

    from meanfield.cli import main
    from meanfield.experiments import load_tables
    from meanfield.experiments.store import ResultStore

    config = ('experiment = "deep_paths"\n[fixed]\ndataset = "digits"\nN = 12\ndepth = 4\n'
              'epochs = 3.0\ndraws_a = 1\ndraws_b = 4\nn_train = 400\nn_per_segment = 3\n'
              '[grid]\nseed = [0]\n')
    t, out = sweep_and_load(tmp_path, "p", config)
    assert set(t) == {"path", "check", "bound"} and not any("table" in x for x in t.values())
    paths = t["path"]
    assert set(paths["path"]) == {"A", "B", "straight", "aligned"}
    assert set(paths["split"]) == {"train", "test"}
    assert paths["n_segments"].dtype == t["bound"]["layer"].dtype == "int64"
    seg = paths.groupby("path")["n_segments"].first()
    assert seg["A"] in (2 * (2 + 6 * 2) + 5, 2 * (2 + 6 * 2) + 8) and seg["straight"] == 1
    b = t["bound"][t["bound"]["experiment"].isin(["A", "trained"])]["train_loss"].max()
    train_a = paths[(paths["path"] == "A") & (paths["split"] == "train")]
    assert train_a["path_loss"].max() <= b * (1 + 1e-9)  # both evaluated in float64
    check = t["check"]  # path A by forward passes: vertices and midpoints
    assert len(check) == 2 * seg["A"] + 1 and (check["kind"].isin(["a", "w0", "swap"])).all()
    np.testing.assert_allclose(check["path_loss"].to_numpy(),
                               train_a.set_index("s").loc[check["s"], "path_loss"].to_numpy(),
                               rtol=1e-9)
    ends = paths[paths["path"] == "straight"].groupby("split")["path_loss"]
    for path in ("A", "B", "aligned"):  # every path runs between the same two nets
        g = paths[paths["path"] == path].groupby("split")["path_loss"]
        np.testing.assert_allclose(g.first(), ends.first(), rtol=1e-5)
        np.testing.assert_allclose(g.last(), ends.last(), rtol=1e-5)
    assert (out / "figures" / "paths_all.png").exists()
    # the cell as it was stored before deep_paths cells wrote one file per table: one
    # results.csv whose 'table' column names each row's table; it loads split, the same
    # numbers in the same tables, integer columns as integers
    old, old_sweep = ResultStore(tmp_path / "old"), ResultStore(out).sweep()
    old.prepare(old_sweep)
    (cell,) = old_sweep.cells()
    stacked = pd.concat([t[name].assign(table=name) for name in ("bound", "path", "check")],
                        ignore_index=True)
    old.write_cell("deep_paths", cell, stacked, {"seed": 0})
    assert [p.name for p in old.cells_dir.glob("*/*.csv")] == ["results.csv"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split = load_tables(old.folder)
    assert set(split) == set(t)
    for name in t:
        assert set(split[name].columns) == set(t[name].columns), name
        pd.testing.assert_frame_equal(split[name][t[name].columns], t[name], check_exact=True)
    # Theorem 4.1's path needs a bias per hidden layer: a config error, exit 2
    cfg = tmp_path / "q.toml"
    cfg.write_text(config.replace("N = 12", 'N = 12\nbias = "input"'))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "q"), "--quiet"]) == 2
    assert "bias must be 'all'" in capsys.readouterr().err


def test_torch_cells_take_their_settings_and_old_dicts_warn():
    """A cell is its settings dataclass: the same table from the dataclass and (deprecated)
    from the dict of its options, twice in a row (nothing carried between cells); another
    experiment's settings are refused."""
    import dataclasses

    import pandas as pd

    from meanfield.torch.experiments import check_cell, check_settings, empirical_cell
    from meanfield.torch.settings import EmpiricalSettings, PathSettings

    s = EmpiricalSettings(N=8, epochs=0.3, alpha=0.5, random_halves=2, snapshots=(0.0, 1.0),
                          device="cpu", seed=3)
    assert check_settings(s) is s
    table = empirical_cell(s)
    # 0.3 epochs of the 1348 training digits in batches of 100: 4 steps
    assert table["step"].tolist() == [0, 4] and (table["loss_full"] > 0).all()
    pd.testing.assert_frame_equal(empirical_cell(s), table)
    with pytest.warns(DeprecationWarning, match="EmpiricalSettings"):
        old = empirical_cell(dataclasses.asdict(s))
    pd.testing.assert_frame_equal(old, table)
    with pytest.warns(DeprecationWarning, match="check_settings"):
        check_cell(dataclasses.asdict(s), "empirical")
    with pytest.raises(TypeError, match="takes EmpiricalSettings, got PathSettings"):
        empirical_cell(PathSettings())
    with pytest.raises(ValueError, match="batch_size must be at most 1348"):
        check_settings(dataclasses.replace(s, batch_size=5000))
