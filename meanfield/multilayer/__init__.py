"""Multilayer networks in mean-field scaling: model (1.1)/(4.1), SGD (4.3), dropout, paths."""

from .model import MultilayerNet, init_net
from .sgd import MCRisk, MultilayerRun, gradients, run_sgd, sgd_step

__all__ = ["MCRisk", "MultilayerNet", "MultilayerRun", "gradients", "init_net", "run_sgd",
           "sgd_step"]
