"""Paths between networks, built from weights alone, and what explains them.

The path type and its barrier (:mod:`~meanfield.connectivity.vertices`:
:class:`PathVertices`, :func:`barrier`, :data:`SEGMENT_KINDS`); the paths
through dropout networks of Kuditipudi et al. (Lemmas 1 and 2) in mean-field
scaling, whose two-layer case is the seven-segment path of Shevchenko &
Mondelli (:mod:`~meanfield.connectivity.dropout_paths`); the path of
Theorem 4.1 of Nguyen, Bréchet & Mondelli with the swaps of their Claim 5.1
(:mod:`~meanfield.connectivity.theorem41`, :mod:`~meanfield.connectivity.claim51`);
weight matching (:mod:`~meanfield.connectivity.matching`); and the noise
stability of Kuditipudi et al. (Definitions 2-4), computed with torch
(:mod:`meanfield.connectivity.noise_stability`, imported on its own).

References
----------
.. [1] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019.
.. [2] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks", ICML 2020.
.. [3] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021.
"""

from .claim51 import claim51_swap
from .dropout_paths import (
    algorithm1,
    dropout_connect,
    embed_narrow,
    lemma2_path,
    lemma2_path_same_keep,
    rescaled_dropout_connect,
    theorem1_path,
    theorem3_path,
    to_dropout,
)
from .matching import permute, weight_matching
from .theorem41 import theorem41_path
from .vertices import SEGMENT_KINDS, PathVertices, barrier, check_net, segment_kind

__all__ = ["SEGMENT_KINDS", "PathVertices", "algorithm1", "barrier", "check_net",
           "claim51_swap", "dropout_connect", "embed_narrow", "lemma2_path",
           "lemma2_path_same_keep", "permute", "rescaled_dropout_connect", "segment_kind",
           "theorem1_path", "theorem3_path", "theorem41_path", "to_dropout", "weight_matching"]
