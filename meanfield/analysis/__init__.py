"""Rates in N, log-log fits with calibrated intervals, and the shapes of the papers' bounds."""

from .bounds import BoundFit, connectivity_shape, dropout_shape, fit_constant
from .rates import Extrapolation, RateFit, extrapolate, loglog_fit, ratio_interval
from .tables import (couple_sups, dropout_change_fits, dropout_path_level, experiment_ratios,
                     multilayer_summary, width_crossing)

__all__ = ["Extrapolation", "RateFit", "extrapolate", "loglog_fit", "ratio_interval",
           "BoundFit", "dropout_shape", "connectivity_shape",
           "fit_constant", "multilayer_summary", "dropout_change_fits", "couple_sups",
           "dropout_path_level", "experiment_ratios", "width_crossing"]
