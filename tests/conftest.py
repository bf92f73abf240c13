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


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
