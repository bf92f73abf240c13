"""Pair sums on a torch device against the numba kernels they mirror."""

import numpy as np
import pytest

from meanfield import TORCH_HINT

torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_HINT}")

from meanfield.activations import get_activation  # noqa: E402
from meanfield.kernels.gaussian import bvn_upper as host_bvn  # noqa: E402
from meanfield.kernels.gaussian import pair_sums, quadrature_nodes  # noqa: E402
from meanfield.tasks import isotropic_gaussians, teacher_student  # noqa: E402
from meanfield.torch.pairs import DevicePairSums, bvn_upper, on_device  # noqa: E402
from meanfield.twolayer.limit import ParticleLimit  # noqa: E402

QUAD = quadrature_nodes(48)
PAIRS = [("relu", "relu"), ("erf", "erf"), ("ramp", "ramp"), ("relu", "ramp"), ("ramp", "relu")]


def rel(x, y):
    return float(np.abs(x - y).max() / np.abs(y).max())


def test_orthant_probabilities_equal_the_numba_kernel(torch_device):
    # the numba kernel is tied to Owen's T in test_kernels; every branch of Genz's
    # algorithm is visited: |r| < 0.3, < 0.75, < 0.925, and within 1e-14 of +-1
    rng = np.random.default_rng(3)
    n = 6000
    h, k = rng.normal(0, 2, n), rng.normal(0, 2, n)
    r = rng.uniform(-1, 1, n)
    r[:1500] = np.sign(r[:1500]) * (1 - 10 ** rng.uniform(-14, -1.2, 1500))
    # thresholds beyond 40 (one-dimensional answers) and up to 1e150 (h k overflowed)
    h[:40], k[40:80] = h[:40] * 1e150, -k[40:80] * 1e150
    h[80:100], k[100:120] = 45.0, -45.0
    ref = np.array([host_bvn(*v) for v in zip(h, k, r)])
    got = bvn_upper(*(torch.tensor(v, device=torch_device) for v in (h, k, r))).cpu().numpy()
    # a GPU's exp and erfc (libdevice) round apart from the host's by an ulp or two
    assert np.abs(got - ref).max() < (2e-15 if torch_device.type == "cpu" else 1e-14)


def networks(rng, d=7, R=60, M=80):
    Wr = rng.normal(0, 1, (R, d)) * rng.uniform(0.1, 2.0, (R, 1))
    Wc = rng.normal(0, 1, (M, d))
    Wr[20] = 0.0  # zero-norm neurons: one-dimensional kernels
    Wc[30] = 0.0
    return Wr, Wc, rng.normal(size=M)


@pytest.mark.parametrize("pair", PAIRS, ids="/".join)
def test_device_sums_equal_the_host_sums(pair, torch_device):
    rng = np.random.default_rng(7)
    A, B = (get_activation(n) for n in pair)
    Wr, Wc, ac = networks(rng)
    sums = DevicePairSums(torch_device, block=1000)  # several row blocks
    host = pair_sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, True)
    dev = sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, True)
    for x, y in zip(dev, host):
        assert rel(x, y) < 1e-13
    fa, f1, g = sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, False)
    assert g is None and rel(fa, host[0]) < 1e-13 and rel(f1, host[1]) < 1e-13


@pytest.mark.parametrize("pair", PAIRS, ids="/".join)
def test_repeated_and_opposite_neurons(pair, torch_device):
    # at a repeated neuron q11 q22 - q12^2 is a rounding error and enters F1 and F12
    # through its square root: two Gram products (BLAS here, torch there) may differ
    # by 1e-8 relative in those, while F, smooth there, agrees to round-off
    rng = np.random.default_rng(11)
    A, B = (get_activation(n) for n in pair)
    Wr, Wc, ac = networks(rng)
    Wc[:10] = Wr[:10]
    Wc[10] = 2.0 * Wr[11]
    Wc[12] = -Wr[12]
    host = pair_sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, True)
    dev = DevicePairSums(torch_device)(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, True)
    assert rel(dev[0], host[0]) < 1e-13
    assert rel(dev[1], host[1]) < 1e-7 and rel(dev[2], host[2]) < 1e-7


# (row norm, column norm): both tiny, both huge, mixed, and 1-4 where some ramp neurons
# have kinks closer than 1/8 of their norm (summed on the host) and some do not
EXTREME = [(1e-150, 1e-150), (1e-80, 3e-80), (1.0, 4.0), (1e80, 1e80), (1e150, 1e150),
           (1e150, 1e-150), (1e-150, 1e150)]


def close(x, y, tol):
    return np.abs(x - y).max() <= tol * np.abs(y).max()  # both 0 allowed


@pytest.mark.parametrize("pair", PAIRS, ids="/".join)
def test_device_sums_equal_the_host_sums_at_extreme_scales(pair, torch_device):
    """Norms from 1e-150 to 1e150: both sides work on the norms, rho and an exact
    q11 q22 - q12^2 (FMA on the host, Dekker's products here).  Before, the device
    ReLU kernel was NaN at 1e150 and erf/erf 0 or 0.5 at 1e77 (q11 q22 overflowed),
    and the ramp's closed form cancelled as norm^2.  Generic angles: at repeated
    neurons F1 and F12 depend on the two Gram products' rounding (see
    test_repeated_and_opposite_neurons), hugely so for erf at 1e150 (F12 ~ 1/sqrt(det))."""
    rng = np.random.default_rng(13)
    A, B = (get_activation(n) for n in pair)
    sums = DevicePairSums(torch_device, block=400)
    tol = 1e-13 if torch_device.type == "cpu" else 1e-12  # libdevice, see the orthants
    for sr, sc in EXTREME:
        Wr = rng.normal(size=(30, 4)) * sr * rng.uniform(0.3, 3.0, (30, 1))
        Wc = rng.normal(size=(25, 4)) * sc * rng.uniform(0.3, 3.0, (25, 1))
        Wr[3] = 0.0
        ac = rng.normal(size=25)
        host = pair_sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, True)
        dev = sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, True)
        for x, y in zip(dev, host):
            assert np.all(np.isfinite(x)) and close(x, y, tol), (sr, sc)
        if sr == sc and not (pair[0] == "erf" and sr > 1.0):
            # repeated and opposite neurons: the values agree to round-off (but not erf at
            # large norms, whose F tends to (2/pi) asin(rho), of infinite slope at rho = 1:
            # an ulp of Gram rounding moves it by 1e-8)
            Wc[:6] = 2.0 * Wr[:6]
            Wc[6:9] = -Wr[6:9]
            host = pair_sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, False)
            dev = sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, QUAD, False)
            assert close(dev[0], host[0], tol), (sr, sc)


def test_device_refuses_a_norm_whose_square_overflows(torch_device):
    ramp = get_activation("ramp")
    W = np.array([[1e160, 0.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="not finite"):
        DevicePairSums(torch_device)(ramp.kind, ramp.p, ramp.kind, ramp.p, W, W, np.ones(2),
                                     QUAD, True)


@pytest.mark.parametrize("act", ["ramp", "relu"])
def test_particle_limit_on_device_follows_the_host_run(act, torch_device):
    task = isotropic_gaussians(10, 0.5, act)
    dev_task = on_device(task, torch_device, block=700)
    rng = np.random.default_rng(5)
    W = rng.normal(0, 0.8 / np.sqrt(10), (40, 10))
    runs = []
    for t in (task, dev_task):
        lim = ParticleLimit((np.ones(40), W), t, h=0.1, train_a=False)
        lim.plan(0.3)
        lim.advance(3)
        runs.append((lim.population()[1], lim.risk()))
    assert rel(runs[1][0], runs[0][0]) < 1e-12
    assert abs(runs[1][1] - runs[0][1]) < 1e-13 * runs[0][1]
    assert runs[0][1] < task.risk(np.ones(40), W)  # the flow moved and lowered the risk


def test_teacher_terms_and_risk_on_device(torch_device):
    task = teacher_student(6, "relu", width=3, seed=2)
    dev_task = on_device(task, torch_device)
    rng = np.random.default_rng(1)
    a, W = rng.normal(size=25), rng.normal(0, 0.5, (25, 6))
    for x, y in zip(dev_task.grad_V(a, W), task.grad_V(a, W)):
        assert rel(x, y) < 1e-13
    assert abs(dev_task.risk(a, W) - task.risk(a, W)) < 1e-13 * task.risk(a, W)
    assert dev_task.ey2 == task.ey2 and task._pair_sums is pair_sums
    assert "DevicePairSums(device=" in repr(dev_task) and "pair_sums" not in repr(task)


def test_unsupported_activations_and_bad_arguments_raise():
    with pytest.raises(ValueError, match="tanh/tanh"):
        on_device(teacher_student(4, "tanh", width=2))
    with pytest.raises(ValueError, match="relu/erf"):
        on_device(teacher_student(4, "relu", width=2, teacher_activation="erf"))
    with pytest.raises(ValueError, match="block"):
        DevicePairSums("cpu", block=0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            DevicePairSums("cuda")


def test_pde_vs_sgd_refuses_a_bad_device_with_exit_2(capsys):
    from tests.test_validation_slow import _script

    mod = _script("pde_vs_sgd")
    assert mod.main(["--device", "tpu", "--quiet"]) == 2
    assert "--device tpu" in capsys.readouterr().err
    assert mod.main(["--ramp-particles", "4", "--quiet"]) == 2
    assert "--ramp-particles must be an integer >= 8" in capsys.readouterr().err


def test_cli_couple_on_device_matches_the_numba_run(tmp_path, capsys, torch_device):
    import pandas as pd

    from meanfield.cli import main

    base = ["couple", "--N", "30", "--M", "60", "--T", "0.2", "--snapshots", "3", "--d", "4",
            "--activation", "erf", "--quiet"]
    assert main(base + ["--out", str(tmp_path / "host")]) == 0
    assert main(base + ["--out", str(tmp_path / "dev"), "--device", str(torch_device)]) == 0
    host, dev = (pd.read_csv(tmp_path / n / "results.csv") for n in ("host", "dev"))
    for col in ("risk_sgd", "risk_limit", "max_dist"):
        assert np.allclose(dev[col], host[col], rtol=1e-10, atol=1e-14)
    capsys.readouterr()
    assert main(["couple", "--activation", "tanh", "--device", "cpu",
                 "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tanh/tanh" in err[0]
    assert not (tmp_path / "t").exists()  # refused before anything was written


@pytest.mark.parametrize("act", ["erf", "relu", "tanh", "ramp", "sigmoid", "softplus"])
def test_data_set_field_on_device_equals_the_host_sums(act, torch_device):
    """An EmpiricalTask on the device: Psi, its gradient and V as the host computes them
    (other blocks and BLAS: to rounding), with the population as the state's leading rows
    (two products) or apart (three); the particle limit follows the host run."""
    from meanfield.tasks import EmpiricalTask

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 7))
    task = EmpiricalTask(X, np.sign(X[:, 0] + 0.3 * X[:, 1]), act, block=64)
    dev_task = on_device(task, torch_device, block=100)
    a = rng.uniform(-1.7, 1.7, 50)
    W = rng.normal(0, 1 / np.sqrt(7), (50, 7))
    for ref in (W[:20], W[30:].copy()):  # the leading rows (prefix), and another array
        host = task.grad_psi(a, W, a[:20], ref)
        dev = dev_task.grad_psi(a, W, a[:20], ref)
        for h, g in zip(host, dev):
            assert rel(g, h) < 1e-12
    for h, g in zip(task.grad_V(a, W), dev_task.grad_V(a, W)):
        assert rel(g, h) < 1e-12
    assert dev_task.risk(a, W) == task.risk(a, W)  # the risk stays on the host
    runs = []
    for t in (task, dev_task):
        lim = ParticleLimit((a, W), t, h=0.1)
        lim.plan(0.3)
        lim.advance(3)
        runs.append((lim.population()[1], lim.risk()))
    assert rel(runs[1][0], runs[0][0]) < 1e-11
    assert abs(runs[1][1] - runs[0][1]) < 1e-12 * runs[0][1]
    assert runs[0][1] < task.risk(a, W)
    # float32 weights are read as float64; a block is a positive count
    W32 = W.astype(np.float32)
    from meanfield.torch import DeviceResidualSums

    sums = DeviceResidualSums(X, task.y, act, torch_device)
    S32, _ = sums(W32, None, None, False, False)
    S64, _ = sums(W32.astype(np.float64), None, None, False, False)
    assert np.array_equal(S32, S64)
    with pytest.raises(ValueError, match="block must be an integer >= 1, got 0"):
        DeviceResidualSums(X, task.y, act, torch_device, block=0)


def test_cli_couple_on_a_data_set_on_device_matches_the_numba_run(tmp_path, capsys,
                                                                  torch_device):
    """`meanfield couple --task digits:0,1 --device ...`: the limit's field on the device,
    the same table as the host run to rounding."""
    import pandas as pd

    from meanfield.cli import main

    base = ["couple", "--task", "digits:0,1", "--N", "20", "--M", "40", "--T", "0.2",
            "--snapshots", "3", "--activation", "erf", "--quiet"]
    assert main(base + ["--out", str(tmp_path / "host")]) == 0
    assert main(base + ["--out", str(tmp_path / "dev"), "--device", str(torch_device)]) == 0
    host, dev = (pd.read_csv(tmp_path / n / "results.csv") for n in ("host", "dev"))
    for col in ("risk_sgd", "risk_limit", "max_dist"):
        assert np.allclose(dev[col], host[col], rtol=1e-10, atol=1e-14)
    assert host["risk_limit"].iloc[-1] != host["risk_limit"].iloc[0]  # the limit moved
