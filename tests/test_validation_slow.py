"""The validation scripts' quick modes (minutes): ``pytest -m slow``."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sgd_vs_limit_quick_passes():
    spec = importlib.util.spec_from_file_location("sgd_vs_limit",
                                                  ROOT / "validation" / "sgd_vs_limit.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--quick", "--quiet"]) == 0
