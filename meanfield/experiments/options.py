"""Named options of each experiment: type, default and help, shared by the CLI and sweeps.

The options are read from the experiment's settings dataclass, in its model
package, whose fields carry their help (:func:`meanfield._settings.options_of`):
``name -> (type, default, help)``, types being Python types or ``"ints"`` /
``"floats"`` for lists.  This module imports no model package until asked.
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass
from typing import Callable

from .._settings import options_of


class ConfigError(ValueError):
    """A configuration key or value is not accepted; the message names both."""


def couple_options():
    """Options of :class:`~meanfield.twolayer.coupling.CoupleSettings`, one per field."""
    from ..twolayer.coupling import CoupleSettings

    return options_of(CoupleSettings)


@dataclass(frozen=True)
class RenamedOption:
    """An option's former name, accepted for one release with a FutureWarning.

    ``to_new`` maps a value given under the old name to the new option's;
    ``to_old`` maps back, so that :func:`~meanfield.experiments.config.cell_id`
    hashes a cell under the name and sense its stored cells were written with.
    """

    new: str
    to_new: Callable
    to_old: Callable


#: Old option name -> its new name; applies to the option tables that hold the new name.
#: ``frozen_a`` (couple, before 0.2): the same switch as Python's ``train_a``, inverted.
RENAMED_OPTIONS = {"frozen_a": RenamedOption("train_a", operator.not_, operator.not_)}


def renamed_in(options) -> dict:
    """The entries of :data:`RENAMED_OPTIONS` whose new name is one of ``options``."""
    return {old: r for old, r in RENAMED_OPTIONS.items() if r.new in options}


def upgrade_keys(data, options, source, grid=False, flags=False):
    """``data`` (a dict of option values) with old option names replaced by the new ones.

    Each old name found gives a FutureWarning (end users see it by default)
    naming ``source``; an old name given beside its new name raises
    :class:`ConfigError`.  ``grid``: the values are lists, converted one by one;
    ``flags``: the keys are command-line flags (the messages spell them so).
    """
    renamed = renamed_in(options)
    if not isinstance(data, dict) or not renamed.keys() & data.keys():
        return data
    out = dict(data)
    for old, r in renamed.items():
        if old not in out:
            continue
        if flags:  # a bool flag given: the new flag that says the same
            was, use = _flag(old, True), _flag(r.new, r.to_new(True))
        else:
            was, use = f"key {old!r}", (f"{r.new!r}" + (" = not " + old if r.to_new(True)
                                                          is False else ""))
        if r.new in out:
            raise ConfigError(f"{source}: give {use} only ({was} is its deprecated name)")
        v = out.pop(old)
        out[r.new] = ([_converted(r, x) for x in v] if grid and isinstance(v, list)
                      else _converted(r, v))
        warnings.warn(f"{source}: {was} is deprecated (removed in 0.3): use {use} instead",
                      FutureWarning, stacklevel=3)
    return out


def _converted(r, v):
    """A bool under the old name in the new sense; anything else as given (coerce rejects it,
    naming the new key)."""
    return r.to_new(v) if isinstance(v, bool) else v


def _flag(name, value):
    return "--" + ("" if value else "no-") + name.replace("_", "-")


def stored_keys(cell, options) -> dict:
    """``cell`` under the option names and senses its stored cells were written with (the
    inverse of :func:`upgrade_keys`), for a cell id that does not change with a rename."""
    renamed = renamed_in(options)
    if not renamed:
        return cell
    out = dict(cell)
    for old, r in renamed.items():
        if r.new in out:
            out[old] = r.to_old(out.pop(r.new))
    return out


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


#: Old option tables (name -> settings dataclass and module): read from the dataclasses,
#: with a DeprecationWarning, for one release.
_DEPRECATED = {"COUPLE_OPTIONS": ("twolayer.coupling", "CoupleSettings"),
               "EMPIRICAL_OPTIONS": ("torch.settings", "EmpiricalSettings"),
               "DEEP_OPTIONS": ("torch.settings", "DeepSettings"),
               "DEEP_PATH_OPTIONS": ("torch.settings", "DeepPathSettings"),
               "PATH_OPTIONS": ("torch.settings", "PathSettings")}


def __getattr__(name):
    if name not in _DEPRECATED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    where, cls = _DEPRECATED[name]
    warnings.warn(f"{name} is deprecated: use meanfield._settings.options_of("
                  f"meanfield.{where}.{cls}) (removed in 0.3)", DeprecationWarning,
                  stacklevel=2)
    return options_of(getattr(importlib.import_module(f"meanfield.{where}"), cls))
