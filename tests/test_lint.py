"""The repository passes ``ruff check`` with the rules of pyproject.toml's [tool.ruff.lint]."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed: pip install -e '.[test]'")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-fix",
                           "--output-format", "concise", str(ROOT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"ruff check exited {proc.returncode}:\n{proc.stdout}{proc.stderr}",
                    pytrace=False)
