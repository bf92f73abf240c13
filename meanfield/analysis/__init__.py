"""Rates in N, log-log fits and bootstrap intervals, and the shapes of the papers' bounds."""

from .bounds import BoundFit, connectivity_shape, dropout_shape, fit_constant
from .rates import RateFit, loglog_fit

__all__ = ["RateFit", "loglog_fit", "BoundFit", "dropout_shape", "connectivity_shape",
           "fit_constant"]
