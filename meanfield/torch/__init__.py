"""Torch backend: fully connected networks in mean-field scaling on real data.

The empirical side of Shevchenko & Mondelli, Section 5 (DESIGN.md section 2):
:class:`MeanFieldNet` (eq. 1.1 with a 1/N normalisation of every hidden sum),
SGD with the mean-field gradient scaling (:func:`train`), dropout networks
evaluated many patterns at a time (:func:`evaluate`), and the path between
two nets through their dropout networks, evaluated on data
(:func:`dropout_path`; the seven-segment path for two-layer nets).  Runs on
CUDA when present, with the same code path; deterministic under a seed on the
CPU.

Torch is an optional dependency: ``pip install meanfield[torch]`` (on a
machine with a local CPU wheel, ``pip install torch==2.13.0`` first).
"""

try:
    import torch as _torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError("meanfield.torch needs PyTorch: pip install 'meanfield[torch]' "
                      "(or pip install torch)") from exc

from .dropout import evaluate, first_half_masks, random_half_masks
from .models import INIT_LAWS, InitLaw, MeanFieldNet, pick_device
from .paths import DataPath, dropout_path, straight_path
from .train import DataStream, TaskStream, TrainConfig, TrainResult, train

__all__ = ["DataPath", "DataStream", "INIT_LAWS", "InitLaw", "MeanFieldNet", "TaskStream",
           "TrainConfig", "TrainResult", "evaluate", "first_half_masks", "pick_device",
           "random_half_masks", "dropout_path", "straight_path", "train"]
