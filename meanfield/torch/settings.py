"""Settings of the torch experiments: one frozen dataclass per experiment, no torch needed.

Each field carries its help text (:func:`meanfield._settings.setting`); the
sweep configs' keys, their defaults and ``meanfield sweep --list KIND`` are
read from these fields, and :meth:`TrainingSettings.check` says a bad value
(naming the setting and its valid range) before any work.  This module
imports neither torch nor the data sets, so the keys of a torch experiment
can be listed and checked where torch is not installed; what needs torch or
the data (the device, the data set's files and size) is checked by
:func:`meanfield.torch.experiments.check_settings`.

==============================  ============================  ==========================
settings                        sweep experiment              cell
==============================  ============================  ==========================
:class:`EmpiricalSettings`      ``empirical``                 ``empirical_cell``
:class:`PathSettings`           ``empirical_path``            ``path_cell``
:class:`DeepSettings`           ``deep_connectivity``         ``deep_cell``
:class:`DeepPathSettings`       ``deep_paths``                ``deep_paths_cell``
==============================  ============================  ==========================

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: Section 5 (Figures 1-4; the ``paper`` regime, alpha = alpha0 / N
   for k0 N epochs).
.. [2] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected in
   deep networks?", NeurIPS 2021: Experiments A and B (their Figures 3 a-c and
   4), Theorem 4.1 (their Figure 3 d).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _checks
from .._settings import check_types, setting

#: Laws of the initial weights (:class:`meanfield.torch.InitialLaw`).
INIT_LAWS = ("gaussian", "uniform", "bimodal")
#: ``mean_field`` (Shevchenko & Mondelli eq. 1.1) or ``standard`` (Nguyen et al. eq. 1).
PARAMETERISATIONS = ("mean_field", "standard")
#: Where the nets have biases: nowhere, on the input, or in every hidden layer.
BIASES = ("none", "input", "all")
#: Loss functions on data (:mod:`meanfield.torch.losses`).
LOSSES = ("cross_entropy", "square")
#: Step and length of training: ``fixed`` (alpha, epochs) or ``paper`` (alpha0 / N, k0 N).
REGIMES = ("fixed", "paper")


def one_of(name, value, valid):
    """``value``, after raising ValueError naming ``name`` and ``valid`` when it is not one."""
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(valid)}, got {value!r}")
    return value


def _at_least(name, value, low, why=""):
    _checks.nonneg_int(name, value) if low == 0 else _checks.positive_int(name, value)
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}{why}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class TrainingSettings:
    """What every torch experiment's cell trains: data set, net width, loss and schedule.

    Not an experiment itself: the experiments below add their nets' depth and
    initial laws and what they measure.  ``regime = "fixed"`` trains with step
    ``alpha`` for ``epochs`` passes at every N (the scaling of Shevchenko &
    Mondelli's eq. 3.3); ``"paper"`` with ``alpha0 / N`` for ``k0 N`` passes
    (their Section 5).
    """

    dataset: str = setting("digits", "digits | fashion-mnist | mnist")
    data_path: str = setting("", "folder of the IDX files (fashion-mnist: default the Debian "
                                 "package's; mnist: required)")
    N: int = setting(400, "neurons per hidden layer")
    activation: str = setting("relu", "hidden activation: relu, erf, tanh, sigmoid, softplus, "
                                      "ramp")
    loss: str = setting("cross_entropy", "cross_entropy | square")
    regime: str = setting("fixed", "fixed: alpha and epochs independent of N (eq. 3.3); paper: "
                                   "alpha = alpha0 / N for k0 * N epochs (Section 5)")
    alpha: float = setting(0.2, "SGD step (regime fixed)")
    epochs: float = setting(3.0, "passes over the training set (regime fixed)")
    alpha0: float = setting(100.0, "alpha = alpha0 / N (regime paper)")
    k0: float = setting(0.005, "k0 * N epochs (regime paper)")
    batch_size: int = setting(100, "mini-batch size")
    device: str = setting("auto", "auto | cpu | cuda | cuda:K")
    seed: int = setting(0, "seed of weights, data order and dropout patterns")

    def check(self):
        """Raise ValueError naming the first bad setting and its valid values; returns self.

        Runs nothing and needs neither torch nor the data set (whose size
        bounds ``batch_size``: :func:`meanfield.torch.experiments.check_settings`).
        """
        from ..activations import get_activation
        from ..tasks.datasets import LOADERS

        check_types(self)
        one_of("dataset", self.dataset, tuple(LOADERS))
        _at_least("N", self.N, 2, " to drop half of the neurons")
        get_activation(self.activation)
        one_of("loss", self.loss, LOSSES)
        one_of("regime", self.regime, REGIMES)
        # both regimes' settings, whichever runs: a bad value is a typo either way
        _checks.positive("alpha", self.alpha)
        _checks.nonneg("epochs", self.epochs)
        _checks.positive("alpha0", self.alpha0)
        _checks.positive("k0", self.k0)
        _checks.positive_int("batch_size", self.batch_size)
        _checks.nonneg_int("seed", self.seed)
        _at_least("depth", getattr(self, "depth", 2), 2, " (weight layers)")
        return self

    @property
    def epochs_run(self):
        """Passes over the training set of this cell's nets: ``epochs``, or ``k0 N`` (paper)."""
        return self.epochs if self.regime == "fixed" else self.k0 * self.N


@dataclass(frozen=True)
class EmpiricalSettings(TrainingSettings):
    """One trained net, its full and dropout losses at fractions of the run.

    Shevchenko & Mondelli, Figures 1, 2 and 4 (sweep experiment ``empirical``).
    """

    depth: int = setting(2, "weight layers: 2, 3 or 4 (any >= 2)")
    init: str = setting("gaussian", "law of the initial weights: gaussian | uniform | bimodal")
    snapshots: tuple = setting((0.0, 0.35, 0.7, 1.0), "fractions of the run where nets are "
                                                      "measured", kind="floats")
    random_halves: int = setting(20, "random halves of each hidden layer evaluated in one pass")
    kept: int = setting(0, "also measure the dropout network keeping the first `kept` neurons "
                           "of every hidden layer, the same |A| at every N (0: not measured)",
                       added=True)

    def check(self):
        super().check()
        one_of("init", self.init, INIT_LAWS)
        _checks.nonneg_int("kept", self.kept)
        if self.kept > self.N // 2:
            raise ValueError(f"kept must be at most N // 2 = {self.N // 2} (a dropout network "
                             f"keeps at most half of every hidden layer), got {self.kept}")
        fr = self.snapshots
        if not isinstance(fr, (tuple, list)) or not fr or not all(
                isinstance(f, (int, float)) and not isinstance(f, bool) and 0 <= f <= 1
                for f in fr):
            raise ValueError(f"snapshots must be fractions in [0, 1], at least one, got {fr!r}")
        _checks.nonneg_int("random_halves", self.random_halves)
        return self


@dataclass(frozen=True)
class _NguyenSettings(TrainingSettings):
    """Nets of Nguyen, Bréchet & Mondelli: standard parameterisation, a bias per layer."""

    alpha: float = setting(0.1, "SGD step (regime fixed)")
    parameterisation: str = setting("standard", "standard (their eq. 1) | mean_field")
    bias: str = setting("all", "all (a bias per hidden layer, their eq. 1) | input | none")
    init: str = setting("gaussian", "law of the initial weights: gaussian | uniform | bimodal")
    n_train: int = setting(0, "training samples used, a seeded subset (0: all)")
    n_test: int = setting(0, "test samples used, a seeded subset (0: all)")
    draws_a: int = setting(5, "subsets I_l per layer in Experiment A (the paper: 20)")
    draws_b: int = setting(50, "dropout draws per layer in Experiment B (the paper: 200)")
    sub_epochs: float | None = setting(None, "epochs of each re-trained subnetwork "
                                             "(Experiment A); default: those of the net "
                                             "(regime fixed)", kind=float)
    b_plain: bool = setting(False, "also run Experiment B with the plain removal of the "
                                   "paper's Section 6 (rows 'B-plain': units removed, nothing "
                                   "rescaled below the output scale) beside the rescaled B "
                                   "(rows 'B': kept units x N/|A_p|, Kuditipudi et al.'s "
                                   "Definition 1)", added=True)

    def check(self):
        super().check()
        one_of("parameterisation", self.parameterisation, PARAMETERISATIONS)
        one_of("bias", self.bias, BIASES)
        one_of("init", self.init, INIT_LAWS)
        if not isinstance(self.b_plain, bool):
            raise ValueError(f"b_plain must be true or false, got {self.b_plain!r}")
        _checks.nonneg_int("n_train", self.n_train)
        _checks.nonneg_int("n_test", self.n_test)
        _checks.positive_int("draws_a", self.draws_a)
        _checks.positive_int("draws_b", self.draws_b)
        if self.sub_epochs is not None:
            _checks.positive("sub_epochs", self.sub_epochs)
        elif self.regime != "fixed":
            raise ValueError("sub_epochs must be given (a number > 0) when regime is 'paper'")
        return self

    @property
    def sub_epochs_run(self):
        """Epochs of Experiment A's subnetworks: ``sub_epochs``, default ``epochs``."""
        return self.epochs if self.sub_epochs is None else self.sub_epochs


@dataclass(frozen=True)
class DeepSettings(_NguyenSettings):
    """Experiments A and B of Nguyen, Bréchet & Mondelli on one trained net.

    Their Figures 3 a-c and 4 (sweep experiment ``deep_connectivity``).
    """

    depth: int = setting(3, "weight layers (3: two hidden layers, as in their Figure 4)")


@dataclass(frozen=True)
class DeepPathSettings(_NguyenSettings):
    """A pair of deep nets and the paths between them (Theorem 4.1 and baselines).

    Nguyen, Bréchet & Mondelli, Figure 3 d (sweep experiment ``deep_paths``).
    """

    depth: int = setting(5, "weight layers (5: four hidden layers)")
    n_per_segment: int = setting(17, "points evaluated on each segment (only straight lines "
                                     "cost forward passes)")

    def check(self):
        super().check()
        if self.bias != "all":
            raise ValueError("bias must be 'all' for the path of Theorem 4.1 (a bias per hidden "
                             f"layer), got {self.bias!r}")
        if self.b_plain:
            raise ValueError("b_plain must be false for the paths' cell: path B runs through "
                             "the rescaled dropout networks")
        _at_least("n_per_segment", self.n_per_segment, 2)
        return self


@dataclass(frozen=True)
class PathSettings(TrainingSettings):
    """A bimodal- and a unimodal-initialised net and the paths between them.

    Shevchenko & Mondelli, Figure 3 (sweep experiment ``empirical_path``).
    """

    depth: int = setting(2, "weight layers (2: the seven-segment path; more: its multilayer "
                            "form)")
    init1: str = setting("bimodal", "initial law of the first net")
    init2: str = setting("gaussian", "initial law of the second net")
    n_per_segment: int = setting(9, "points evaluated on each segment")
    duration2: float = setting(1.0, "the second net's training time as a fraction of the "
                                    "first's (T' = duration2 T: epochs, or k0, scaled)",
                               added=True)
    kept_sizes: tuple = setting((), "further |A| per hidden layer: each adds the dropout path "
                                    "'dropout-<k>' through dropout networks keeping k neurons",
                                kind="ints", added=True)
    aligned_max_N: int = setting(1600, "largest N with the neuron-aligned straight line "
                                       "(O(N^3))")

    def check(self):
        super().check()
        one_of("init1", self.init1, INIT_LAWS)
        one_of("init2", self.init2, INIT_LAWS)
        _at_least("n_per_segment", self.n_per_segment, 2)
        _checks.nonneg_int("aligned_max_N", self.aligned_max_N)
        _checks.positive("duration2", self.duration2)
        ks = self.kept_sizes
        if not isinstance(ks, (tuple, list)) or not all(
                isinstance(k, (int,)) and not isinstance(k, bool) and 1 <= k <= self.N // 2
                for k in ks):
            raise ValueError(f"kept_sizes must be integers in [1, N // 2 = {self.N // 2}], "
                             f"got {ks!r}")
        return self


#: The torch experiments' settings, by the names a sweep config gives the experiments.
SETTINGS = {"empirical": EmpiricalSettings, "empirical_path": PathSettings,
            "deep_connectivity": DeepSettings, "deep_paths": DeepPathSettings}

__all__ = ["BIASES", "DeepPathSettings", "DeepSettings", "EmpiricalSettings", "INIT_LAWS",
           "LOSSES", "PARAMETERISATIONS", "PathSettings", "REGIMES", "SETTINGS",
           "TrainingSettings", "one_of"]
