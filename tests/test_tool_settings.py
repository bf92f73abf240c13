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


def test_flake8_and_pycodestyle_check_ruffs_rules():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]

    def codes(tool, key):
        return {c.strip() for c in cfg.get(tool, key).split(",") if c.strip()}

    assert codes("flake8", "select") == set(lint["select"])
    # E127, E128 and E704 are rules ruff has only in preview
    assert codes("flake8", "extend-ignore") - {"E127", "E128", "E704"} == set(lint["ignore"])
    assert set(lint["ignore"]) <= codes("pycodestyle", "ignore")
