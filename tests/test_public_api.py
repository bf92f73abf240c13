"""The public surface: one flat namespace in the manner of POT, imported lazily."""

import importlib
import inspect
import subprocess
import sys

import pytest

import meanfield

#: Names that implement an object of the papers: their docstrings cite it.
PAPER_OBJECTS = ["GaussianTask", "teacher_student", "isotropic_gaussians",
                 "anisotropic_gaussians", "InitialLaw", "SGD", "run_sgd", "ParticleLimit",
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
