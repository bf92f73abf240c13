"""Lazy (NTK) regime of Du et al. (2019): infinite-width Gram matrices K^(H), and
finite-width FC nets and ResNets trained by full-batch GD, and the convolutional ResNet's
K^(H) with its finite-width Gram matrix at initialisation."""

from .gram import (
    GramResult,
    c_sigma,
    conv_resnet_gram,
    fc_gram,
    pair_expectations,
    patch_gram,
    resnet_gram,
)
from .networks import ConvResNet, DeepNet, GDResult, init_conv_net, init_net, train_gd

__all__ = ["GramResult", "c_sigma", "conv_resnet_gram", "fc_gram", "pair_expectations",
           "patch_gram", "resnet_gram", "ConvResNet", "DeepNet", "GDResult", "init_conv_net",
           "init_net", "train_gd"]
