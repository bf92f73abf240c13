"""Two-layer networks in mean-field scaling: SGD (3.3), the limit dynamics, coupling."""

from .coupling import CoupledResult, measure, run_coupled
from .dropout import dropout_gap, dropout_loss, random_subset
from .init import InitialLaw
from .limit import ParticleLimit, run_limit
from .paths import seven_segment_path, seven_segment_vertices
from .sgd import SGD, run_sgd

__all__ = ["SGD", "run_sgd", "ParticleLimit", "run_limit", "InitialLaw", "run_coupled",
           "measure", "CoupledResult", "dropout_loss", "dropout_gap", "random_subset",
           "seven_segment_path", "seven_segment_vertices"]
