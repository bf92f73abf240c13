"""Tools that read setup.cfg get the project's settings, and the metadata stays in
pyproject.toml."""

import configparser
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_setup_cfg_line_length_is_ruffs_and_holds_no_metadata():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["line-length"]
    for tool in ("flake8", "pycodestyle"):
        assert cfg.getint(tool, "max-line-length") == ruff
    assert not {"metadata", "options"} & set(cfg.sections())
