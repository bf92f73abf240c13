"""Path constructions between networks that do not depend on the network's backend."""

from .dropout_paths import (PathVertices, between_dropouts, check_keep, dropout_connect,
                            to_dropout)
from .matching import permute, weight_matching

__all__ = ["PathVertices", "between_dropouts", "check_keep", "dropout_connect", "permute",
           "to_dropout", "weight_matching"]
