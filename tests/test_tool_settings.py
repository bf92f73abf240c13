"""Tools that read setup.cfg get the project's settings, and the metadata stays in
pyproject.toml."""

import configparser
import re
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


def test_ci_runs_exactly_the_readme_test_command():
    """.ci/run calls the README's test command, word for word."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.DOTALL)
    tests = [b for b in blocks if "pytest" in b and b.startswith("python3 -m venv")]
    assert len(tests) == 1, tests
    ci = [line for line in (root / ".ci" / "run").read_text().splitlines()
          if line.startswith("python3 -m venv")]
    assert ci == [tests[0]]
