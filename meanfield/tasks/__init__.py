"""Data distributions P(x, y) and their exact population kernels.

Every task implements :class:`DataLaw`: the Gaussian tasks in closed form
(:class:`GaussianTask`), a data set's empirical law as exact means over its
rows (:class:`EmpiricalTask`).  An experiment's ``task`` setting names either
(:mod:`meanfield.tasks.data_specs`).
"""

from .data_specs import data_law, file_sha256, is_data_spec
from .empirical import DataError, EmpiricalTask
from .gaussian import (
                       GaussianTask,
                       Teacher,
                       anisotropic_gaussians,
                       describe_name,
                       isotropic_gaussians,
                       teacher_student,
)
from .protocol import DataLaw, check_task

__all__ = ["GaussianTask", "Teacher", "teacher_student", "isotropic_gaussians",
           "anisotropic_gaussians", "describe_name", "DataLaw", "check_task", "EmpiricalTask",
           "DataError", "data_law", "file_sha256", "is_data_spec"]
