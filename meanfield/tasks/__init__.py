"""Data distributions P(x, y) and their exact population kernels."""

from .gaussian import (
                       GaussianTask,
                       Teacher,
                       anisotropic_gaussians,
                       describe_name,
                       isotropic_gaussians,
                       teacher_student,
)

__all__ = ["GaussianTask", "Teacher", "teacher_student", "isotropic_gaussians",
           "anisotropic_gaussians", "describe_name"]
