import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from meanfield.tasks import anisotropic_gaussians, isotropic_gaussians, teacher_student

ACTIVATIONS = ["relu", "erf", "tanh", "sigmoid", "softplus", "ramp"]
TASKS = ["teacher-student", "isotropic", "anisotropic"]


def make_task(kind, act, d=5):
    if kind == "teacher-student":
        return teacher_student(d, act, width=3, noise_std=0.1)
    if kind == "isotropic":
        return isotropic_gaussians(d, 0.4, act)
    rng = np.random.default_rng(7)
    A = rng.standard_normal((d, d)) / np.sqrt(d)
    B = rng.standard_normal((d, d)) / np.sqrt(d)
    return anisotropic_gaussians([A @ A.T + 0.5 * np.eye(d), B @ B.T + 0.2 * np.eye(d)],
                                 [1.0, -0.5], [0.3, 0.7], act)


def sweep_and_load(tmp_path, name, config):
    """Write ``config`` to ``name.toml``, run ``meanfield sweep --plot`` on one worker into the
    folder ``name`` (exit status 0 asserted) and return ``(table, folder)``; ``table`` is
    ``{name: DataFrame}`` when the experiment's cells write several tables."""
    from meanfield.cli import main
    from meanfield.experiments import load_tables

    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(config)
    out = tmp_path / name
    assert main(["sweep", str(cfg), "--out", str(out), "--workers", "1", "--quiet",
                 "--plot"]) == 0
    tables = load_tables(out)
    return (tables if len(tables) > 1 else tables["results"]), out


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_addoption(parser):
    parser.addoption("--torch-device", default=None,
                     help="torch device for the torch tests' nets and tensors: cpu, cuda, "
                          "cuda:K (default $MEANFIELD_TEST_DEVICE, else cpu)")


@pytest.fixture(scope="session")
def torch_device(request):
    """The torch device the torch tests run on: ``--torch-device``, else the environment
    variable ``MEANFIELD_TEST_DEVICE``, else the CPU.  A device torch cannot use fails the
    tests that ask for it (no skip: a GPU run must not pass by testing nothing)."""
    torch = pytest.importorskip("torch", reason="torch not installed")
    from meanfield.torch import pick_device

    name = (request.config.getoption("--torch-device")
            or os.environ.get("MEANFIELD_TEST_DEVICE") or "cpu")
    try:
        dev = pick_device(name)
        torch.empty(1, device=dev)
    except (ValueError, RuntimeError) as exc:
        pytest.fail(f"torch test device {name!r}: {exc}", pytrace=False)
    return dev


VALIDATION = Path(__file__).resolve().parents[1] / "validation"


def validation_script(name):
    """``validation/<name>.py`` as a module, so tests run a script's own functions; its
    folder is on ``sys.path`` while it loads (a script may import a sibling by name)."""
    sys.path.insert(0, str(VALIDATION))
    try:
        spec = importlib.util.spec_from_file_location(name, VALIDATION / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(VALIDATION))
    return module
