"""Torch backend: fully connected networks in mean-field scaling on real data.

The empirical side of Shevchenko & Mondelli, Section 5 :
:class:`FullyConnectedNet` (eq. 1.1 with a 1/N normalisation of every hidden sum),
SGD with the mean-field gradient scaling (:func:`train`), dropout networks
evaluated many patterns at a time (:func:`evaluate`), and the path between
two nets through their dropout networks (:func:`dropout_path`, a
:class:`meanfield.connectivity.PathVertices`; the seven-segment path for
two-layer nets) with its loss on data (:func:`evaluate_path`,
:class:`DataLoss`).  For any fully connected net (also in the standard
parameterisation, with a bias per hidden layer), Experiments A and B of Nguyen,
Bréchet & Mondelli (:func:`experiment_a`, :func:`best_rescaled_dropout`) and the
path of their Theorem 4.1 (:func:`theorem41`); the noise stability that explains
these paths is :mod:`meanfield.connectivity.noise_stability`, on this backend.
The population kernels' pair sums of a Gaussian task on the device, for particle
limits at large M (:func:`on_device`).  Runs on
CUDA when present, with the same code path; deterministic under a seed on the
CPU.

Torch is an optional dependency: ``pip install torch==2.13.0`` (the CPU
wheel; an unpinned torch on Linux is the multi-GB CUDA build), then
``pip install 'meanfield[torch]'``.
"""

try:
    import torch as _torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    from .._meta import TORCH_HINT

    raise ImportError(f"meanfield.torch needs PyTorch: {TORCH_HINT}") from exc

from .dropout import best_rescaled_dropout, evaluate, first_half_masks, random_half_masks
from .models import INIT_LAWS, InitialLaw, FullyConnectedNet, pick_device
from .pairs import on_device
from .paths import (
    DataLoss,
    best_dropout_path,
    dropout_path,
    evaluate_path,
    straight_path,
    theorem41,
)
from .subnets import experiment_a, subnet_bound
from .train import DataStream, TaskStream, TrainConfig, TrainResult, train

__all__ = ["INIT_LAWS", "DataLoss", "DataStream", "InitialLaw", "FullyConnectedNet", "TaskStream",
           "TrainConfig", "TrainResult", "best_dropout_path", "best_rescaled_dropout",
           "dropout_path", "evaluate", "evaluate_path", "experiment_a", "first_half_masks",
           "on_device", "pick_device", "random_half_masks", "straight_path", "subnet_bound",
           "theorem41", "train"]


#: Old name -> new name (one release, with a DeprecationWarning).
_RENAMED = {"InitLaw": "InitialLaw"}


def __getattr__(name):
    from .._deprecation import renamed

    return renamed(__name__, name, _RENAMED, globals())
