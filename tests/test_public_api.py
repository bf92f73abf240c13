"""The public surface: one flat namespace in the manner of POT, imported lazily."""

import importlib
import inspect
import subprocess
import sys

import pytest

import meanfield

#: Names that implement an object of the papers: their docstrings cite it.
PAPER_OBJECTS = ["GaussianTask", "teacher_student", "isotropic_gaussians",
                 "anisotropic_gaussians", "InitialLaw", "TwoLayerSGD", "run_sgd", "ParticleLimit",
                 "run_limit", "coupling_distances", "run_coupled", "seven_segment_path",
                 "TwoLayerNet",
                 "PopulationRisk", "Network", "draw_keep", "dropout_rescale", "dropout_loss",
                 "dropout_gap", "rescaled_dropout", "PathVertices", "barrier"]


def test_every_public_name_resolves_to_its_definition():
    for name in meanfield.__all__:
        if name == "torch" and importlib.util.find_spec("torch") is None:
            continue
        obj = getattr(meanfield, name)
        if name in meanfield._WHERE:
            module = importlib.import_module(f"meanfield.{meanfield._WHERE[name]}")
            assert getattr(module, name) is obj, name
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        meanfield.nonsense  # noqa: B018


@pytest.mark.parametrize("name", PAPER_OBJECTS)
def test_paper_objects_have_numpydoc_references(name):
    doc = inspect.getdoc(getattr(meanfield, name))
    assert "References\n----------" in doc, name


def test_import_meanfield_compiles_and_imports_nothing_heavy():
    code = ("import sys, meanfield\n"
            "print(sorted(m for m in ('numba', 'scipy', 'pandas', 'torch', 'distributed',"
            " 'matplotlib', 'ot') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]", res.stdout


#: Run first in a subprocess: torch is not installed (its import fails).
_NO_TORCH = ("import sys\n"
             "class NoTorch:\n"
             "    def find_spec(self, name, path=None, target=None):\n"
             "        if name == 'torch' or name.startswith('torch.'):\n"
             "            raise ModuleNotFoundError(\"No module named 'torch'\")\n"
             "sys.meta_path.insert(0, NoTorch())\n")


def test_star_import_works_without_torch():
    """``from meanfield import *`` raised ImportError where torch is not installed (torch was
    in __all__); a name of meanfield.torch that needs torch still says how to install it,
    and the torch experiments' settings (no torch needed) import."""
    code = (_NO_TORCH +
            "from meanfield import *\n"
            "import meanfield\n"
            "assert 'torch' not in meanfield.__all__ and callable(run_coupled)\n"
            "from meanfield.torch.settings import DeepSettings\n"
            "assert DeepSettings(N=30).check().depth == 3\n"
            "try:\n    meanfield.torch.FullyConnectedNet\nexcept ImportError as e:\n"
            "    assert 'pip install torch==' in str(e), e\nelse:\n    raise SystemExit(1)\n"
            "try:\n    from meanfield.torch import train\nexcept ImportError as e:\n"
            "    assert 'pip install torch==' in str(e), e\nelse:\n    raise SystemExit(1)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_torch_experiments_without_torch_list_their_keys_and_exit_2_with_the_hint(tmp_path):
    """Without torch, 'sweep --list empirical' prints the keys (read from the settings
    dataclass, no torch needed); a torch sweep stops before any work, one line, exit 2."""
    cfg = tmp_path / "e.toml"
    cfg.write_text('experiment = "deep_paths"\n[grid]\nN = [20, 40]\n')
    code = (_NO_TORCH +
            "from meanfield.cli import main\n"
            "assert main(['sweep', '--list', 'empirical']) == 0\n"
            f"assert main(['sweep', {str(cfg)!r}, '--out', {str(tmp_path / 'o')!r}]) == 2\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "random_halves" in r.stdout and "snapshots" in r.stdout
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "needs torch" in err[0] and "pip install torch==" in err[0], err
    assert not (tmp_path / "o").exists()


def test_old_names_warn_and_still_work():
    import meanfield
    import meanfield.twolayer.experiment as st
    from meanfield.experiments.stability import run_stability

    with pytest.warns(DeprecationWarning, match="coupling_distances"):
        assert meanfield.measure is meanfield.coupling_distances
    with pytest.warns(DeprecationWarning, match="load_results"):
        assert meanfield.load is meanfield.load_results
    with pytest.warns(DeprecationWarning, match="meanfield.experiments.stability"):
        assert st.run_stability is run_stability
    with pytest.warns(DeprecationWarning, match="draw_keep"):
        from meanfield.twolayer import random_subset
        assert list(random_subset(10, 3, 0)) == list(meanfield.draw_keep(10, 3, 0))
