"""The package's layers (docs/architecture.md), checked by import-linter's contracts in
setup.cfg: the checker passes on the tree, fails on an import that reintroduces the old
circle (a model package importing the experiment layer), and the architecture page names
the same layers."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root):
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=300)


def _layers():
    text = (ROOT / "setup.cfg").read_text()
    block = text.split("[importlinter:contract:layers]")[1].split("exhaustive")[0]
    lines = block.split("layers =")[1].strip().splitlines()
    return [[m.strip() for m in line.split("|")] for line in lines]


def test_the_contracts_hold():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in r.stdout


def test_a_model_importing_the_experiment_layer_breaks_the_layers(tmp_path):
    shutil.copytree(ROOT / "meanfield", tmp_path / "meanfield",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    target = tmp_path / "meanfield" / "twolayer" / "experiment.py"
    # the import the last redesign had: the store, from inside a model package
    target.write_text(target.read_text() + "\n\ndef _stored():\n"
                      "    from ..experiments import store\n    return store\n")
    r = _lint(tmp_path)
    assert r.returncode == 1
    assert "meanfield.twolayer is not allowed to import meanfield.experiments" in r.stdout


def test_the_architecture_page_lists_the_contract_layers_in_order():
    page = (ROOT / "docs" / "architecture.md").read_text()
    table = page.split("<!-- layers: generated from setup.cfg -->")[1].split("<!-- /layers -->")[0]
    rows = [re.findall(r"`([\w.]+)`", line) for line in table.strip().splitlines()[2:]]
    assert rows == _layers()
