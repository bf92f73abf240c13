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


@pytest.mark.slow
def test_dropout_rates_quick_claims_a_and_b():
    """Quick sizes (N <= 1600) are too small for claim (c) with erf: the O(1/N)
    dropout shift still steepens its slope there (see the script's docstring)."""
    import json

    spec = importlib.util.spec_from_file_location("dropout_rates",
                                                  ROOT / "validation" / "dropout_rates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--quiet"])
    report = json.loads((mod.OUT / "dropout_rates_quick.json").read_text())
    for act in ("relu", "erf"):
        assert report[act]["pass"]["a"] and report[act]["pass"]["b"]
    assert report["relu"]["pass"]["c"]


@pytest.mark.slow
def test_lazy_gram_quick_passes():
    spec = importlib.util.spec_from_file_location("lazy_gram",
                                                  ROOT / "validation" / "lazy_gram.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--quick", "--quiet"]) == 0
