"""Reduced PDEs of the mean-field dynamics where symmetry allows (Mei, Montanari & Nguyen,
PNAS 2018, Section 3; docs/design.md section 4).

:func:`solve_radial` integrates the radial PDE of isotropic data (Mei,
Montanari & Nguyen 2018) by the monotone quantile map, with the
rotation-averaged kernels of :class:`RadialKernel` built from exact Hermite
coefficients (:mod:`meanfield.pde.hermite`).
"""

from .hermite import hermite_coefficients, sphere_moments, truncation
from .radial import (
                     RadialKernel,
                     RadialSolution,
                     isotropic_components,
                     radius_of_gaussian,
                     radius_point,
                     radius_uniform,
                     sample_weights,
                     solve_radial,
)

__all__ = ["RadialKernel", "RadialSolution", "hermite_coefficients", "isotropic_components",
           "radius_of_gaussian", "radius_point", "radius_uniform", "sample_weights",
           "solve_radial", "sphere_moments", "truncation"]
