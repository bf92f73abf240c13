"""Experiments at scale: sweep configs, a Dask runner and a resumable results store.

The names below are imported on first use (PEP 562), so that the command
line's parser, which needs only :mod:`.options`, starts without compiling
or importing the numerical modules.
"""

import importlib

_WHERE = {"SweepConfig": "config", "cell_id": "config", "load_config": "config",
          "parse_config": "config", "EXPERIMENTS": "kinds", "Experiment": "kinds",
          "get_experiment": "kinds", "ConfigError": "options", "SweepReport": "runner",
          "execute_cell": "runner", "run_sweep": "runner", "ResultStore": "store",
          "load": "store", "load_results": "store", "load_tables": "store", "cell_commits": "store",
          "run_stability": "stability",
          "stability_sweep": "stability"}

__all__ = ["SweepConfig", "load_config", "parse_config", "cell_id", "EXPERIMENTS", "Experiment",
           "get_experiment", "ConfigError", "run_sweep", "execute_cell", "SweepReport",
           "ResultStore", "load_results", "load_tables", "cell_commits", "run_stability",
           "stability_sweep"]


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
