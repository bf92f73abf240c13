"""Lazy (NTK) regime of Du et al. (2019): infinite-width Gram matrices K^(H)."""

from .gram import GramResult, c_sigma, fc_gram, pair_expectations, resnet_gram

__all__ = ["GramResult", "c_sigma", "fc_gram", "pair_expectations", "resnet_gram"]
