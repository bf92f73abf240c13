"""Two-layer networks in mean-field scaling: SGD (3.3), the limit dynamics, coupling,
dropout (3.4) and the paths of Theorem 1(B), all on the exact population risk.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: eqs. (3.1)-(3.4), Theorem 1.
"""

from .coupling import CoupledResult, coupling_distances, resolved_step, run_coupled
from .coupling import measure  # noqa: F401 - deprecated name, kept for one release
from .dropout import TwoLayerNet, dropout_gap, dropout_loss, population_risk
from .dropout import random_subset  # noqa: F401 - deprecated name, kept for one release
from .init import InitialLaw
from .limit import ParticleLimit, run_limit
from .paths import PopulationRisk, seven_segment_path, seven_segment_vertices
from .sgd import SGD  # noqa: F401 - deprecated form of TwoLayerSGD, kept for one release
from .sgd import TwoLayerSGD, run_sgd

__all__ = ["CoupledResult", "InitialLaw", "ParticleLimit", "PopulationRisk", "TwoLayerNet",
           "TwoLayerSGD", "coupling_distances", "dropout_gap", "dropout_loss", "population_risk",
           "resolved_step", "run_coupled", "run_limit", "run_sgd", "seven_segment_path",
           "seven_segment_vertices"]
