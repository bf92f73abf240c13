import numpy as np
import pytest

from meanfield.analysis import loglog_fit


def test_interval_covers_the_true_slope_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    N = np.repeat([100, 200, 400, 800, 1600], 10)
    hits, widths = 0, []
    for r in range(100):
        y = 3.0 * N ** -0.5 * np.exp(0.1 * rng.standard_normal(N.size))
        fit = loglog_fit(N, y, n_boot=300, seed=r)
        hits += fit.ci_low < -0.5 < fit.ci_high
        widths.append(fit.ci_high - fit.ci_low)
    # nominal 95%; 100 replicates give a binomial sd of 2.2 points
    assert 86 <= hits <= 100
    # OLS slope sd = 0.1 / (sd(log N) sqrt(50)) = 0.0144, so the 95% width ~ 0.057
    assert np.median(widths) == pytest.approx(0.057, rel=0.2)
    assert fit.predict(100) == pytest.approx(np.exp(fit.intercept) * 100 ** fit.slope)


def test_exact_power_law_gives_exact_slope():
    N = np.array([1.0, 2, 4, 8])
    fit = loglog_fit(N, 2 * N ** -0.7, n_boot=50)
    assert fit.slope == pytest.approx(-0.7, abs=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="> 0"):
        loglog_fit([1, 2], [1, -1])
    with pytest.raises(ValueError, match="two distinct"):
        loglog_fit([2, 2], [1, 1])
