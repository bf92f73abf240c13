"""The validation scripts that train with torch say how to install it, and exit 2 before
any work, where torch is not installed (CI without the torch extra; a user's bare venv)."""

import sys

import pytest

from tests.conftest import validation_script

TORCH_SCRIPTS = ("deep_connectivity", "empirical_depth", "empirical_dropout", "empirical_path",
                 "kuditipudi")


@pytest.mark.parametrize("name", TORCH_SCRIPTS)
def test_a_torch_script_without_torch_prints_the_pinned_install_and_exits_2(
        name, monkeypatch, capsys):
    script = validation_script(name)
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert script.main(["--quick", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{name}: needs torch: pip install torch==2.13.0 (the CPU wheel; pin it "
                   f"before pip install 'meanfield[torch]')"]
