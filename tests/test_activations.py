import numpy as np
import pytest

from meanfield.activations import get_activation
from tests.conftest import ACTIVATIONS


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivatives_match_finite_differences(name):
    act = get_activation(name)
    # stay away from kinks, where the derivative jumps
    z = np.linspace(-3.1, 3.3, 57)
    z = z[np.min(np.abs(z[:, None] - np.array([0.0, 0.5, 1.5])[None, :]), axis=1) > 1e-2]
    h = 1e-6
    fd1 = (act(z + h) - act(z - h)) / (2 * h)
    fd2 = (act.derivative(z + h) - act.derivative(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), fd1, atol=1e-8)
    np.testing.assert_allclose(act.second_derivative(z), fd2, atol=1e-7)


def test_known_values():
    np.testing.assert_allclose(get_activation("relu")(np.array([-1.0, 2.0])), [0.0, 2.0])
    np.testing.assert_allclose(get_activation("ramp")(np.array([0.0, 1.0, 2.0])), [-2.5, 2.5, 7.5])
    np.testing.assert_allclose(get_activation("softplus")(np.array([0.0, 800.0, -800.0])),
                               [np.log(2.0), 800.0, 0.0])
    np.testing.assert_allclose(get_activation("sigmoid")(np.array([-800.0, 0.0])), [0.0, 0.5])


def test_kinks_are_the_jumps_of_the_derivative():
    for name in ("relu", "ramp"):
        act = get_activation(name)
        for t, jump in act.kinks():
            eps = 1e-9
            assert act.derivative(np.array([t + eps]))[0] - act.derivative(np.array([t - eps]))[0] \
                == pytest.approx(jump)


def test_bad_activation_names_the_argument():
    with pytest.raises(ValueError, match="activation: unknown activation 'swish'; valid"):
        get_activation("swish")
    with pytest.raises(ValueError, match="t1 < t2"):
        get_activation("ramp", t1=2.0, t2=1.0)
    with pytest.raises(ValueError, match="unknown ramp parameters"):
        get_activation("ramp", slope=1.0)


def test_logistic_without_a_branch_has_the_bits_of_the_two_branch_form():
    """sigma(z) = 1/(1 + e^-z) (z >= 0) or e^z/(1 + e^z), computed with e = exp(-|z|) and
    the numerator selected (no jump): the same operations, so the same bits as the two
    branches, for every z, and the values, first and second derivatives built on it."""
    import math

    from numba import njit

    @njit
    def two_branches(x, out):
        for i in range(x.size):
            z = x[i]
            if z >= 0.0:
                out[i] = 1.0 / (1.0 + math.exp(-z))
            else:
                e = math.exp(z)
                out[i] = e / (1.0 + e)

    z = np.concatenate([np.random.default_rng(3).standard_normal(20000) * 8,
                        [0.0, -0.0, 1e-300, -1e-300, 36.7, -36.7, 745.0, -745.0, 800.0, -800.0,
                         np.inf, -np.inf, np.nan]])
    ref = np.empty_like(z)
    two_branches(z, ref)
    act = get_activation("sigmoid")
    np.testing.assert_array_equal(act(z), ref)
    np.testing.assert_array_equal(act.derivative(z), ref * (1.0 - ref))
    np.testing.assert_array_equal(act.second_derivative(z), ref * (1.0 - ref) * (1.0 - 2.0 * ref))
    assert act(np.array([-0.0]))[0] == 0.5 and np.isnan(act(np.array([np.nan]))[0])
