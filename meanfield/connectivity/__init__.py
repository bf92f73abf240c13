"""Path constructions between networks that do not depend on the network's backend."""

from .dropout_paths import (PathVertices, between_dropouts, check_keep, dropout_connect,
                            to_dropout)

__all__ = ["PathVertices", "between_dropouts", "check_keep", "dropout_connect", "to_dropout"]
