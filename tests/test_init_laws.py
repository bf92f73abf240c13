"""Bounded initial laws (assumptions (A4) and (B4) of Shevchenko & Mondelli, ICML 2020)."""

import numpy as np
import pytest

from meanfield.multilayer.model import init_net
from meanfield.twolayer import InitialLaw


def test_uniform_output_weights_are_bounded_with_the_gaussian_moments():
    a, W = InitialLaw(0.5, 2.0, 1.0, a_law="uniform").sample(200_000, 5,
                                                             np.random.default_rng(0))
    half = 2.0 * np.sqrt(3.0)
    assert a.min() >= 0.5 - half and a.max() <= 0.5 + half
    assert a.max() > 0.5 + 0.999 * half  # the support is filled, not a narrower law
    # mean and sd within 5 standard errors of (0.5, 2.0)
    assert abs(a.mean() - 0.5) < 5 * 2.0 / np.sqrt(a.size)
    assert abs(a.std() - 2.0) < 0.02
    # w is unchanged: N(0, 1/d I)
    assert abs(W.var() - 1.0 / 5) < 0.01


def test_the_gaussian_default_draws_what_it_drew_before():
    """The default law consumes the generator as before: stored cells keep their numbers."""
    a, W = InitialLaw().sample(10, 3, np.random.default_rng(4))
    g = np.random.default_rng(4)
    np.testing.assert_array_equal(a, g.standard_normal(10))
    np.testing.assert_array_equal(W, (1.0 / np.sqrt(3)) * g.standard_normal((10, 3)))


def test_multilayer_uniform_middle_weights_and_bad_laws():
    net = init_net(4, 300, 3, a_mean=1.0, a_std=1.0, rng=0, a_law="uniform")
    mid = np.concatenate([w.ravel() for w in net.weights[1:]])
    assert mid.min() >= 1.0 - np.sqrt(3.0) and mid.max() <= 1.0 + np.sqrt(3.0)
    assert abs(mid.std() - 1.0) < 0.01
    with pytest.raises(ValueError, match="a_law must be one of gaussian, uniform"):
        init_net(4, 10, 3, a_law="cauchy")
    with pytest.raises(ValueError, match="a_law must be one of gaussian, uniform"):
        InitialLaw(a_law="laplace")


def test_a_law_is_an_added_setting_of_both_experiments():
    """A stored cell of the default (Gaussian) law keeps its id; a uniform cell is another."""
    from meanfield.experiments.config import cell_id, parse_config

    for exp in ("stability", "multilayer"):
        base = {"experiment": exp, "grid": {"N": [20], "seed": [0]}}
        cells = [parse_config(cfg).cells()[0] for cfg in (
            base, {**base, "fixed": {"a_law": "gaussian"}},
            {**base, "fixed": {"a_law": "uniform"}})]
        assert cell_id(exp, cells[0]) == cell_id(exp, cells[1]) != cell_id(exp, cells[2])
