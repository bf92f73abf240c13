"""Sweep configurations: an experiment type, fixed settings and a grid.

A sweep config is a TOML file::

    experiment = "stability"        # one of meanfield.experiments.EXPERIMENTS

    [fixed]                          # settings shared by every cell
    d = 20
    T = 1.0

    [grid]                           # one cell per combination, in this order
    N = [100, 200, 400]
    seed = [0, 1, 2]

Every cell is checked when the config is loaded, so a bad value stops the
sweep before any cell runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from .kinds import get_experiment
from .options import ConfigError, coerce, stored_keys, upgrade_keys

_TOP = ("experiment", "fixed", "grid")


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: ``cells()`` lists every cell's complete settings."""

    experiment: str
    fixed: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)

    def cells(self) -> list[dict]:
        """Every cell: defaults, then fixed settings, then one grid point."""
        options = get_experiment(self.experiment).options
        base = {k: v[1] for k, v in options.items()}
        base.update(self.fixed)
        keys = list(self.grid)
        return [{**base, **dict(zip(keys, point))}
                for point in itertools.product(*(self.grid[k] for k in keys))]

    def to_dict(self) -> dict:
        return {"experiment": self.experiment, "fixed": _plain(self.fixed),
                "grid": {k: [_plain(v) for v in vals] for k, vals in self.grid.items()}}


def _plain(v):
    """JSON-friendly form: tuples become lists (recursively)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def cell_id(experiment, cell) -> str:
    """Stable name of a cell: a hash of its experiment and complete settings.

    An option added to the experiment after cells were stored
    (``Experiment.added``) is left out while it has the value that reproduces
    those cells, so results folders written before it keep their names; a
    renamed option (:data:`~meanfield.experiments.options.RENAMED_OPTIONS`) is
    hashed under its old name and sense, for the same reason.
    """
    exp = get_experiment(experiment)
    added = exp.added
    cell = {k: v for k, v in cell.items() if not (k in added and v == added[k])}
    cell = stored_keys(cell, exp.options)
    text = json.dumps({"experiment": experiment, **_plain(cell)}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def parse_config(data, source="config") -> SweepConfig:
    """Validate a sweep config given as a dict (the parsed TOML); check every cell.

    Raises
    ------
    ConfigError
        Naming the key, the bad value and what is accepted.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a table, got {data!r}")
    for k in data:
        if k not in _TOP:
            raise ConfigError(f"{source}: unknown top-level key {k!r}; accepted: "
                              f"{', '.join(_TOP)}")
    if "experiment" not in data:
        raise ConfigError(f"{source}: missing key 'experiment'")
    exp = get_experiment(data["experiment"])
    fixed = upgrade_keys(data.get("fixed", {}), exp.options, f"{source} [fixed]")
    grid = upgrade_keys(data.get("grid", {}), exp.options, f"{source} [grid]", grid=True)
    for name, part in (("fixed", fixed), ("grid", grid)):
        if not isinstance(part, dict):
            raise ConfigError(f"{source}: [{name}] must be a table, got {part!r}")
        for k in part:
            if k not in exp.options:
                raise ConfigError(f"{source}: unknown key {k!r} in [{name}] for experiment "
                                  f"{exp.name!r}; accepted: {', '.join(exp.options)}")
    both = set(fixed) & set(grid)
    if both:
        raise ConfigError(f"{source}: key(s) {', '.join(sorted(both))} both fixed and gridded")
    fixed = {k: _value(exp, k, v, f"{source} [fixed]") for k, v in fixed.items()}
    checked = {}
    for k, vals in grid.items():
        if not isinstance(vals, list) or not vals:
            raise ConfigError(f"{source}: [grid] key {k!r} must be a non-empty list of values, "
                              f"got {vals!r}")
        checked[k] = tuple(_value(exp, k, v, f"{source} [grid]") for v in vals)
        if len(set(map(repr, checked[k]))) != len(checked[k]):
            raise ConfigError(f"{source}: [grid] key {k!r} repeats a value: {vals!r}")
    sweep = SweepConfig(exp.name, fixed, checked)
    for cell in sweep.cells():
        try:
            exp.check(cell)
        except ValueError as e:
            point = {k: cell[k] for k in checked}
            raise ConfigError(f"{source}: cell {point}: {e}") from None
    return sweep


def _value(exp, k, v, source):
    typ = exp.options[k][0]
    if v is None or (exp.options[k][1] is None and v == "none"):
        return None
    return coerce(k, typ, v, source)


def upgrade_stored(data):
    """A stored sweep config (``sweep.json``) with renamed options under their new names,
    silently: the file is the package's record, not the user's input."""
    if not isinstance(data, dict) or "experiment" not in data:
        return data
    import warnings

    options = get_experiment(data["experiment"]).options
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return {**data, **{part: upgrade_keys(data[part], options, part, grid=part == "grid")
                           for part in ("fixed", "grid") if part in data}}


def upgrade_table(experiment, table):
    """A stored cell's table with renamed option columns under their new names and senses,
    and the columns of options added since it was stored at their defaults (the values
    that reproduce it: ``Experiment.added``), so that old and new cells stack."""
    from .options import renamed_in

    exp = get_experiment(experiment)
    for old, r in renamed_in(exp.options).items():
        if old in table.columns and r.new not in table.columns:
            table[r.new] = table.pop(old).map(r.to_new)
    if len(table.columns) and "cell" in table.columns:  # a cell's table: settings as columns
        for k, default in exp.added.items():
            if k not in table.columns:
                table[k] = json.dumps(default) if isinstance(default, (list, tuple)) else default
    return table


def load_config(path) -> SweepConfig:
    """Read and validate a TOML sweep config (see the module docstring)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from None
    return parse_config(data, str(path))
