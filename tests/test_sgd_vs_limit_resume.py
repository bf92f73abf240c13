"""validation/sgd_vs_limit.py keeps each finished seed: a stopped run resumes at the first
seed missing and gives the numbers of an uninterrupted run, bit for bit."""

import pandas as pd
import pytest

from tests.conftest import validation_script

TINY = dict(Ns=[20, 40], M=100, d=5, T=0.2, h=0.1, progress=False, alphas=(0.01,))


@pytest.fixture(scope="module")
def script():
    return validation_script("sgd_vs_limit")


def test_a_stopped_run_resumes_with_the_same_numbers(script, tmp_path, monkeypatch):
    whole = script.run(seeds=2, **TINY)
    store = tmp_path / "seeds"
    first = script.run(seeds=1, store=store, **TINY)          # stopped after seed 0
    pd.testing.assert_frame_equal(first, whole[whole["seed"] == 0].reset_index(drop=True))
    folders = list(store.iterdir())
    assert len(folders) == 1 and (folders[0] / "erf-seed0.json").exists()
    assert not (folders[0] / "erf-seed1.json").exists()
    calls = []
    real = script.run_sgd

    def counted(start, task, alpha, *args, **kwargs):
        calls.append(len(start[0]))
        return real(start, task, alpha, *args, **kwargs)

    monkeypatch.setattr(script, "run_sgd", counted)
    resumed = script.run(seeds=2, store=store, **TINY)
    pd.testing.assert_frame_equal(resumed, whole, check_exact=True)
    # seed 0 was read back: only seed 1's SGD runs (2 main, 2 controls, 1 sweep step)
    assert len(calls) == 5
    # other settings do not read these seeds
    other = script.run(seeds=1, store=store, **{**TINY, "T": 0.1})
    assert len(list(store.iterdir())) == 2 and len(other) == len(first)


def test_a_half_written_seed_is_never_read(script, tmp_path):
    store = tmp_path / "seeds"
    script.run(seeds=1, store=store, **TINY)
    folder = next(store.iterdir())
    # what a process killed while writing leaves: a temporary name, not the seed's file
    (folder / ".erf-seed1.json.x.tmp").write_text('[{"seed": 1, "N": 20}]')
    out = script.run(seeds=2, store=store, **TINY)
    assert sorted(out["seed"].unique()) == [0, 1] and len(out) == 2 * len(out[out["seed"] == 0])
    with pytest.raises(ValueError, match="task=None"):
        script.run(seeds=1, store=store, task=object(), **TINY)


def test_a_data_set_run_resumes_and_keys_on_the_data(script, tmp_path, monkeypatch):
    """data_limit's seeds (an EmpiricalTask) are kept too: a second run reads them back bit
    for bit without running the limit, and other rows or labels are other settings."""
    import numpy as np

    from meanfield.tasks import EmpiricalTask

    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 4))
    task = EmpiricalTask(X, np.sign(X[:, 0]), "erf")
    kw = {**TINY, "alphas": ()}
    store = tmp_path / "seeds"
    whole = script.run(seeds=1, store=store, task=task, **kw)
    monkeypatch.setattr(script, "run_limit", lambda *a, **k: pytest.fail("ran the limit"))
    again = script.run(seeds=1, store=store, task=task, **kw)
    pd.testing.assert_frame_equal(again, whole, check_exact=True)
    assert len(list(store.iterdir())) == 1
    # the settings name the data's d (4), not the unused d argument (TINY's 5)
    import json

    assert json.loads((next(store.iterdir()) / "settings.json").read_text())["d"] == 4
    flipped = EmpiricalTask(X, -np.sign(X[:, 0]), "erf")
    with pytest.raises(pytest.fail.Exception, match="ran the limit"):
        script.run(seeds=1, store=store, task=flipped, **kw)
    assert len(list(store.iterdir())) == 2
def test_a_numpy_seed_count_is_a_count(script):
    """run(seeds=np.int64(1)) raised "'numpy.int64' object is not iterable"."""
    import numpy as np

    pd.testing.assert_frame_equal(script.run(seeds=np.int64(1), **TINY),
                                  script.run(seeds=1, **TINY), check_exact=True)


def test_each_seed_names_the_commit_that_computed_it(script, tmp_path, monkeypatch):
    """A seed kept at one commit and read back at another keeps its commit (the rows'
    'commit' column and the script's JSON), instead of passing for the later commit's."""
    store = tmp_path / "seeds"
    monkeypatch.setattr(script, "_commit", lambda: "aaaaaaaaaaaa")
    first = script.run(seeds=1, store=store, **TINY)
    monkeypatch.setattr(script, "_commit", lambda: "bbbbbbbbbbbb")
    both = script.run(seeds=2, store=store, **TINY)
    assert set(first["commit"]) == {"aaaaaaaaaaaa"}
    assert both.groupby("seed")["commit"].unique().map(list).to_dict() == {
        0: ["aaaaaaaaaaaa"], 1: ["bbbbbbbbbbbb"]}
    assert script.seed_commits(both) == {"erf": {"aaaaaaaaaaaa": [0], "bbbbbbbbbbbb": [1]}}
