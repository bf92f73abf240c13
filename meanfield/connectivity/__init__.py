"""Path constructions between networks that do not depend on the network's backend."""

from .claim51 import claim51_swap
from .dropout_paths import (between_dropouts, dropout_connect, rescaled_dropout_connect,
                            to_dropout)
from .matching import permute, weight_matching
from .theorem41 import theorem41_path
from .vertices import PathVertices, check_keep, check_net

__all__ = ["PathVertices", "between_dropouts", "check_keep", "check_net", "claim51_swap",
           "dropout_connect", "permute", "rescaled_dropout_connect", "theorem41_path",
           "to_dropout", "weight_matching"]
