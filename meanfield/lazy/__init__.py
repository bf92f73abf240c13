"""Lazy (NTK) regime of Du et al. (2019): infinite-width Gram matrices K^(H), and
finite-width FC nets and ResNets trained by full-batch GD."""

from .gram import GramResult, c_sigma, fc_gram, pair_expectations, resnet_gram
from .networks import DeepNet, GDResult, init_net, train_gd

__all__ = ["GramResult", "c_sigma", "fc_gram", "pair_expectations", "resnet_gram", "DeepNet",
           "GDResult", "init_net", "train_gd"]
