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
limits at large M, and a data set's field sums likewise (:func:`on_device`,
:class:`DeviceResidualSums`).  Runs on
CUDA when present, with the same code path; deterministic under a seed on the
CPU.

Torch is an optional dependency: ``pip install torch==2.13.0`` (the CPU
wheel; an unpinned torch on Linux is the multi-GB CUDA build), then
``pip install 'meanfield[torch]'``.  The settings of the torch experiments
(:class:`EmpiricalSettings`, :class:`PathSettings`, :class:`DeepSettings`,
:class:`DeepPathSettings`, with their checks) need no torch, so ``meanfield
sweep --list empirical`` and a config's checks work without it; every other
name here imports torch on first use, and says how to install it where it is
missing.
"""

import importlib
import importlib.util
import sys
import types

#: Where each public name lives; resolved on first use (PEP 562), so that the
#: settings of the torch experiments (:mod:`.settings`, which needs no torch) are
#: read without importing torch, and a name that needs torch says how to install it.
_WHERE = {
    **dict.fromkeys(["best_rescaled_dropout", "evaluate", "first_half_masks",
                     "random_half_masks", "rescaled_dropout"], "dropout"),
    **dict.fromkeys(["INIT_LAWS", "InitialLaw", "FullyConnectedNet", "pick_device"], "models"),
    "on_device": "pairs",
    "DeviceResidualSums": "empirical",
    **dict.fromkeys(["DataLoss", "best_dropout_path", "dropout_path", "evaluate_path",
                     "straight_path", "theorem41"], "paths"),
    **dict.fromkeys(["experiment_a", "subnet_bound"], "subnets"),
    **dict.fromkeys(["DataStream", "TaskStream", "TrainConfig", "TrainResult", "train"],
                    "train"),
    **dict.fromkeys(["EmpiricalSettings", "PathSettings", "DeepSettings",
                     "DeepPathSettings"], "settings"),
}

__all__ = sorted(_WHERE, key=str.lower)

#: Old name -> new name (one release, with a DeprecationWarning).
_RENAMED = {"InitLaw": "InitialLaw"}


def _has_torch():
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def __getattr__(name):
    if name in _RENAMED:
        from .._deprecation import warn_renamed

        new = _RENAMED[name]
        warn_renamed(f"{__name__}.{name}", f"{__name__}.{new}")
        return globals()[new] if new in globals() else __getattr__(new)
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f".{_WHERE[name]}", __name__)
    except ImportError as exc:
        if _has_torch():  # an error of its own, not a missing torch
            raise
        from .._meta import TORCH_HINT

        raise ImportError(f"meanfield.torch.{name} needs PyTorch: {TORCH_HINT}") from exc
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """This package, whose public names win over its modules' names: importing the module
    ``train.py`` (which the import system then sets as the attribute ``train``) leaves
    ``meanfield.torch.train`` the function, as when this package imported every module."""

    def __setattr__(self, name, value):
        if name in _WHERE and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
