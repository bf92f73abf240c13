"""Experiments at scale: sweep configs, a Dask runner and a resumable results store."""

from .config import SweepConfig, cell_id, load_config, parse_config
from .kinds import EXPERIMENTS, Experiment, get_experiment
from .options import ConfigError
from .runner import SweepReport, execute_cell, run_sweep
from .store import ResultStore, load

__all__ = ["SweepConfig", "load_config", "parse_config", "cell_id", "EXPERIMENTS", "Experiment",
           "get_experiment", "ConfigError", "run_sweep", "execute_cell", "SweepReport",
           "ResultStore", "load"]
