"""meanfield: the numerical side of mean-field theory of neural networks.

The names a user needs are importable from here (``import meanfield as mf;
mf.teacher_student(...)``), the rest one level down, in the manner of POT:

* :mod:`meanfield.tasks`: data distributions with exact population risks.
* :mod:`meanfield.twolayer`: SGD (Shevchenko & Mondelli eq. 3.3), the
  particle limit (Mei, Montanari & Nguyen eqs. 12-13), their coupling, the
  seven-segment path.
* :mod:`meanfield.dropout`: the network protocol ``forward(X, keep)``,
  dropout (eq. 3.4), kept sets, rescaled dropout: once for every model.
* :mod:`meanfield.connectivity`: the path type, ``barrier``, the paths of
  Kuditipudi et al. and of Nguyen, Bréchet & Mondelli, noise stability.
* :mod:`meanfield.multilayer` (eqs. 4.1, 4.3), :mod:`meanfield.pde` (the
  radial PDE), :mod:`meanfield.lazy` (Du et al.), :mod:`meanfield.torch`
  (real networks, optional).
* :mod:`meanfield.stepping` (the one time-stepping driver),
  :mod:`meanfield.analysis` (rates and the tables verdicts use),
  :mod:`meanfield.plotting` (drawing only), :mod:`meanfield.experiments`
  (sweeps), :mod:`meanfield.transport`.

Everything is imported on first use, so ``import meanfield`` is instant and
compiles nothing.
"""

import importlib

import warnings

from ._meta import TORCH_HINT, __version__  # noqa: F401 - the package's own names

#: Top-level name -> the module that defines it.
_WHERE = {
    **dict.fromkeys(["GaussianTask", "teacher_student", "isotropic_gaussians",
                     "anisotropic_gaussians"], "tasks"),
    **dict.fromkeys(["InitialLaw", "TwoLayerSGD", "run_sgd", "ParticleLimit", "run_limit",
                     "run_coupled", "coupling_distances", "seven_segment_path", "TwoLayerNet",
                     "PopulationRisk"],
                    "twolayer"),
    **dict.fromkeys(["Network", "draw_keep", "dropout_rescale", "dropout_loss", "dropout_gap",
                     "rescaled_dropout"], "dropout"),
    **dict.fromkeys(["PathVertices", "barrier"], "connectivity"),
    **dict.fromkeys(["Stepper", "simulate", "DivergenceError", "TwoLayerRun"], "stepping"),
    **dict.fromkeys(["loglog_fit", "extrapolate"], "analysis"),
    **dict.fromkeys(["run_sweep", "load_config", "run_stability", "load_results"],
                    "experiments"),
    "solve_radial": "pde",
    "MultilayerNet": "multilayer",
    "wasserstein2": "transport",
}
_SUBMODULES = ("tasks", "twolayer", "dropout", "connectivity", "multilayer", "pde", "lazy",
               "stepping", "analysis", "plotting", "experiments", "transport", "torch")

# meanfield.torch is left out of __all__: it needs torch (optional), and
# ``from meanfield import *`` must work without it; ``meanfield.torch`` still resolves.
__all__ = sorted(["__version__", "TORCH_HINT", *_WHERE,
                  *(m for m in _SUBMODULES if m != "torch")])

#: Old name -> new name: they work for one release, with a DeprecationWarning.
_RENAMED = {"load": "load_results", "measure": "coupling_distances",
            "Trajectory": "TwoLayerRun"}
#: Old names whose call form changed too: they resolve to their own deprecated form, which
#: warns when called (``SGD(task, a0, W0, alpha)`` is ``TwoLayerSGD((a0, W0), task, alpha)``).
_OLD_FORMS = {"SGD": "twolayer"}


def __getattr__(name):
    if name in _RENAMED:
        warnings.warn(f"meanfield.{name} is deprecated: use meanfield.{_RENAMED[name]} (the "
                      f"old name will be removed in 0.3)", DeprecationWarning, stacklevel=2)
        return __getattr__(_RENAMED[name])
    if name in _OLD_FORMS:
        return getattr(importlib.import_module(f".{_OLD_FORMS[name]}", __name__), name)
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
