"""The Examples sections of the main public names run as written (doctest).

The names are the entry points of the user guide; each docstring's example
is small (N <= 50) so that the whole file runs in seconds once the numba
kernels are cached.  A name listed here without an Examples section fails.
"""

import doctest
import importlib

import pytest

#: The documented entry points whose examples run.
NAMES = [
    "meanfield.tasks.gaussian.teacher_student",
    "meanfield.twolayer.coupling.run_coupled",
    "meanfield.twolayer.limit.run_limit",
    "meanfield.twolayer.dropout.dropout_gap",
    "meanfield.twolayer.dropout.dropout_bias",
    "meanfield.twolayer.paths.seven_segment_path",
    "meanfield.twolayer.paths.straight_path",
    "meanfield.connectivity.vertices.barrier",
    "meanfield.transport.wasserstein2",
    "meanfield.dropout.draw_keep",
    "meanfield.analysis.bounds.dropout_shape",
    "meanfield.stepping.get_method",
]


def _object(name):
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("name", NAMES)
def test_docstring_examples_run(name):
    obj = _object(name)
    assert "Examples\n    --------" in (obj.__doc__ or ""), f"{name} has no Examples section"
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, globs={})
    examples = sum(len(t.examples) for t in tests)
    assert examples >= 2, f"{name}: {examples} examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
