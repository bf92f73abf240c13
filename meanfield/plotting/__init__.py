"""Figures.  Each function takes result tables or objects and returns a Figure; the
numbers a verdict uses are computed in :mod:`meanfield.analysis`, not here.

One module per experiment: :mod:`.coupling`, :mod:`.stability`,
:mod:`.empirical`, :mod:`.multilayer`, :mod:`.deep`, :mod:`.pde`.
"""

from ._base import plt, rate_plot, save_figure
from .coupling import distance_curves, risk_curves
from .deep import (
                   experiments_ab_per_layer,
                   experiments_ab_vs_width,
                   kuditipudi_figure,
                   noise_stability_figure,
                   theorem41_paths_figure,
                   width_threshold_figure,
)
from .empirical import dropout_change_vs_n, error_change_vs_n, full_vs_dropout, path_error_figure
from .multilayer import multilayer_figures, multilayer_rates, multilayer_risk
from .pde import pde_vs_sgd_figure
from .stability import (
                   connectivity_vs_n,
                   dimension_ratios,
                   dropout_vs_n,
                   dropout_vs_size,
                   pair_path_figure,
                   path_profile,
                   stability_figures,
)

__all__ = ["plt", "save_figure", "rate_plot", "risk_curves", "distance_curves",
           "dropout_vs_n", "dropout_vs_size", "connectivity_vs_n", "dimension_ratios",
           "pair_path_figure", "path_profile", "stability_figures",
           "full_vs_dropout", "dropout_change_vs_n", "error_change_vs_n", "path_error_figure",
           "multilayer_rates", "multilayer_risk", "multilayer_figures", "experiments_ab_per_layer",
           "experiments_ab_vs_width", "theorem41_paths_figure", "noise_stability_figure",
           "kuditipudi_figure", "pde_vs_sgd_figure", "width_threshold_figure"]
