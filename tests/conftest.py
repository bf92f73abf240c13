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
    folder ``name`` (exit status 0 asserted) and return ``(table, folder)``."""
    from meanfield import load
    from meanfield.cli import main

    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(config)
    out = tmp_path / name
    assert main(["sweep", str(cfg), "--out", str(out), "--workers", "1", "--quiet",
                 "--plot"]) == 0
    return load(out), out


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
