"""The validation scripts' quick modes (minutes): ``pytest -m slow``."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from meanfield import TORCH_HINT

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    """Import validation/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "validation" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_sgd_vs_limit_quick_passes():
    mod = _script("sgd_vs_limit")
    assert mod.main(["--quick", "--quiet"]) == 0


@pytest.mark.slow
def test_dropout_rates_quick_claims_a_and_b():
    """Quick sizes (N <= 1600) are too small for claim (c) with erf: the O(1/N)
    dropout shift still steepens its slope there (see the script's docstring)."""
    import json

    mod = _script("dropout_rates")
    mod.main(["--quick", "--quiet"])
    report = json.loads((mod.OUT / "dropout_rates_quick.json").read_text())
    for act in ("relu", "erf"):
        assert report[act]["pass"]["a"] and report[act]["pass"]["b"]
    assert report["relu"]["pass"]["c"]


@pytest.mark.slow
def test_lazy_gram_quick_passes():
    mod = _script("lazy_gram")
    assert mod.main(["--quick", "--quiet"]) == 0


def _needs_torch_and_fashion_mnist():
    from meanfield.tasks.datasets import FASHION_MNIST_DIR

    pytest.importorskip("torch", reason=f"torch not installed: {TORCH_HINT}")
    if not FASHION_MNIST_DIR.is_dir():
        pytest.skip("Fashion-MNIST not installed: sudo apt-get install dataset-fashion-mnist")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["empirical_dropout", "deep_connectivity"])
def test_fashion_mnist_scripts_quick_pass(name):
    _needs_torch_and_fashion_mnist()
    mod = _script(name)
    assert mod.main(["--quick", "--quiet"]) == 0


@pytest.mark.slow
def test_multilayer_rates_quick_runs_and_reports_every_claim():
    """Quick sizes run end to end; the claims' verdicts are the script's to report."""
    import json

    mod = _script("multilayer_rates")
    mod.main(["--quick", "--quiet"])
    report = json.loads((mod.OUT / "multilayer_rates_quick_A2.json").read_text())
    assert len(report["claims"]) == 4 and np.isfinite(report["ratio_d"]["ratio"])


@pytest.mark.slow
def test_pde_vs_sgd_quick_runs_and_reports_every_claim():
    """Quick sizes run end to end; the ReLU particle-limit claim holds at M = 1000."""
    import json

    mod = _script("pde_vs_sgd")
    mod.main(["--quick", "--quiet"])
    report = json.loads((mod.OUT / "pde_vs_sgd_quick.json").read_text())
    claims = {c["claim"].split(":")[0]: c for c in report["claims"]}
    assert len(claims) == 11 and claims["(a) relu, d = 40"]["pass"]
