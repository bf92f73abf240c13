"""Named options of each experiment: type, default and help, shared by the CLI and sweeps.

Types are Python types, or ``"ints"`` / ``"floats"`` for lists.
"""

from __future__ import annotations

from .._settings import options_of


class ConfigError(ValueError):
    """A configuration key or value is not accepted; the message names both."""


# name: (type, default, help)
COUPLE_OPTIONS = {
    "task": (str, "teacher-student", "teacher-student | isotropic"),
    "d": (int, 20, "input dimension"),
    "activation": (str, "relu", "student activation: relu, erf, tanh, sigmoid, softplus, ramp"),
    "width": (int, 4, "teacher width (teacher-student)"),
    "delta": (float, 0.5, "class separation (isotropic), in [0, 1)"),
    "noise_std": (float, 0.0, "label noise standard deviation (teacher-student)"),
    "N": (int, 500, "neurons of the SGD network"),
    "M": (int, None, "reference particles carrying rho_t (default max(4 N, 2000), as "
                     "run_coupled)"),
    "alpha": (float, None, "SGD step size (default 1/N)"),
    "T": (float, 2.0, "horizon t = k alpha"),
    "h": (float, 0.05, "limit time step"),
    "method": (str, "rk4", "limit integrator: euler, heun, rk4"),
    "batch_size": (int, 1, "SGD mini-batch size"),
    "frozen_a": (bool, False, "freeze output weights"),
    "snapshots": (int, 21, "number of snapshots in [0, T]"),
    "a_mean": (float, 0.0, "initial a ~ N(a_mean, a_std^2)"),
    "a_std": (float, 1.0, "initial a ~ N(a_mean, a_std^2)"),
    "w_std": (float, 1.0, "initial w ~ N(0, w_std^2 / d I)"),
    "seed": (int, 0, "seed for weights, population and data"),
    # where the pair sums run; a setting of the cell, so the runner runs it where asked
    "device": (str, None, "run the pair sums (the limit's field, exact risks) with torch on "
                          "this device: auto, cpu, cuda or cuda:K; relu, erf and ramp "
                          "students (default: the numba kernels)"),
}

_TRAINING_OPTIONS = {
    "dataset": (str, "digits", "digits | fashion-mnist | mnist"),
    "data_path": (str, "", "folder of the IDX files (fashion-mnist: default the Debian "
                           "package's; mnist: required)"),
    "N": (int, 400, "neurons per hidden layer"),
    "activation": (str, "relu", "hidden activation: relu, erf, tanh, sigmoid, softplus, ramp"),
    "loss": (str, "cross_entropy", "cross_entropy | square"),
    "regime": (str, "fixed", "fixed: alpha and epochs independent of N (eq. 3.3); paper: "
                             "alpha = alpha0 / N for k0 * N epochs (Section 5)"),
    "alpha": (float, 0.2, "SGD step (regime fixed)"),
    "epochs": (float, 3.0, "passes over the training set (regime fixed)"),
    "alpha0": (float, 100.0, "alpha = alpha0 / N (regime paper)"),
    "k0": (float, 0.005, "k0 * N epochs (regime paper)"),
    "batch_size": (int, 100, "mini-batch size"),
    "device": (str, "auto", "auto | cpu | cuda | cuda:K"),
    "seed": (int, 0, "seed of weights, data order and dropout patterns"),
}

#: Figures 1, 2 and 4 of Shevchenko & Mondelli: one trained net per cell.
EMPIRICAL_OPTIONS = dict(
    _TRAINING_OPTIONS,
    depth=(int, 2, "weight layers: 2, 3 or 4 (any >= 2)"),
    init=(str, "gaussian", "law of the initial weights: gaussian | uniform | bimodal"),
    snapshots=("floats", (0.0, 0.35, 0.7, 1.0), "fractions of the run where nets are measured"),
    random_halves=(int, 20, "random halves of each hidden layer evaluated in one pass"),
)

#: Nguyen, Bréchet & Mondelli Experiments A and B (Figures 3 a-c and 4): one trained net.
_NGUYEN_OPTIONS = dict(
    _TRAINING_OPTIONS,
    alpha=(float, 0.1, "SGD step (regime fixed)"),
    parameterisation=(str, "standard", "standard (their eq. 1) | mean_field"),
    bias=(str, "all", "all (a bias per hidden layer, their eq. 1) | input | none"),
    init=(str, "gaussian", "law of the initial weights: gaussian | uniform | bimodal"),
    n_train=(int, 0, "training samples used, a seeded subset (0: all)"),
    n_test=(int, 0, "test samples used, a seeded subset (0: all)"),
    draws_a=(int, 5, "subsets I_l per layer in Experiment A (the paper: 20)"),
    draws_b=(int, 50, "dropout draws per layer in Experiment B (the paper: 200)"),
    sub_epochs=(float, None, "epochs of each re-trained subnetwork (Experiment A); default: "
                             "those of the net (regime fixed)"),
)

DEEP_OPTIONS = dict(
    _NGUYEN_OPTIONS,
    depth=(int, 3, "weight layers (3: two hidden layers, as in their Figure 4)"),
)

#: Nguyen, Bréchet & Mondelli Figure 3 d: a pair of nets and the paths between them.
DEEP_PATH_OPTIONS = dict(
    _NGUYEN_OPTIONS,
    depth=(int, 5, "weight layers (5: four hidden layers)"),
    n_per_segment=(int, 17, "points evaluated on each segment (only straight lines cost "
                             "forward passes)"),
)

#: Figure 3: a pair of nets and the paths between them.
PATH_OPTIONS = dict(
    _TRAINING_OPTIONS,
    depth=(int, 2, "weight layers (2: the seven-segment path; more: its multilayer form)"),
    init1=(str, "bimodal", "initial law of the first net"),
    init2=(str, "gaussian", "initial law of the second net"),
    n_per_segment=(int, 9, "points evaluated on each segment"),
    aligned_max_N=(int, 1600, "largest N with the neuron-aligned straight line (O(N^3))"),
)

def stability_options():
    """Options of :class:`~meanfield.twolayer.experiment.StabilityConfig`, one per field,
    with the help text each field carries."""
    from ..twolayer.experiment import StabilityConfig

    return options_of(StabilityConfig)


def multilayer_options():
    """Options of :class:`~meanfield.multilayer.experiment.MultilayerConfig`, one per field."""
    from ..multilayer.experiment import MultilayerConfig

    return options_of(MultilayerConfig)


def shown_default(typ, default, toml=False):
    """``default`` as help shows it: as a flag takes it, or (``toml``) as a TOML value."""
    if default is None:
        return '"none"' if toml else "none"
    if typ is bool:
        return str(default).lower()
    if typ in ("ints", "floats"):
        if toml:
            return "[" + ", ".join(map(str, default)) + "]"
        return ",".join(map(str, default)) or "none"
    if typ is str:
        return '"' + default + '"' if toml else default or '""'
    return str(default)


def option_help(typ, default, hlp, toml=False):
    """``hlp`` with the option's default said once: appended, unless ``hlp`` says it
    already (``"(default 1/N)"``) or the option is a flag (``toml`` False), off unless given."""
    if "default" in hlp or (typ is bool and not toml):
        return hlp
    return f"{hlp} (default {shown_default(typ, default, toml)})"


#: One line per experiment type (the ``experiment`` key of a sweep config), for the
#: command line's help; read without importing the experiments.
EXPERIMENT_SUMMARIES = {
    "couple": "one-pass SGD and its coupled mean-field limit (as 'meanfield couple')",
    "stability": "dropout stability eps_D and connectivity eps_C of one two-layer pair "
                 "(N, seed) (as 'meanfield stability')",
    "pair_path": "one path (seven, straight or aligned) between a trained two-layer pair, "
                 "evaluated densely (as 'meanfield path')",
    "multilayer": "eps_D and eps_C of a pair of L + 1 >= 4 layer nets (Theorem 2)",
    "empirical": "a torch net on real data: full vs dropout loss and error (Figures 1, 2, 4); "
                 "needs torch",
    "empirical_path": "a pair of torch nets on real data and the paths between them "
                      "(Figure 3); needs torch",
    "deep_connectivity": "Nguyen, Bréchet & Mondelli Experiments A and B on one deep net "
                         "(their Figures 3 a-c, 4); needs torch",
    "deep_paths": "Nguyen, Bréchet & Mondelli: the paths between a pair of deep nets "
                  "(their Figure 3 d); needs torch",
}


def coerce(name, typ, v, source):
    """Check a TOML value ``v`` against an option type; return the value to use.

    Raises
    ------
    ConfigError
        Naming ``source``, the key, the expected type and the value.
    """
    if typ in ("ints", "floats"):
        ok = isinstance(v, (list, tuple)) and all(
            isinstance(x, int if typ == "ints" else (int, float)) and not isinstance(x, bool)
            for x in v)
        if not ok:
            raise ConfigError(f"{source}: key {name!r} must be a list of "
                              f"{'integers' if typ == 'ints' else 'numbers'}, got {v!r}")
        return tuple(v)
    if typ is float and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
        raise ConfigError(f"{source}: key {name!r} must be {typ.__name__}, got {v!r}")
    return v
