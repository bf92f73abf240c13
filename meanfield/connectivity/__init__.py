"""Path constructions between networks that do not depend on the network's backend."""

from .dropout_paths import (PathVertices, between_dropouts, check_keep, dropout_connect,
                            to_dropout)
from .matching import permute, weight_matching
from .theorem41 import claim51_swap, theorem41_path

__all__ = ["PathVertices", "between_dropouts", "check_keep", "claim51_swap", "dropout_connect", "permute",
           "theorem41_path", "to_dropout", "weight_matching"]
