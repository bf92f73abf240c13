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


def test_t_intervals_are_scipys():
    """The runs' interval is the least-squares t-interval of scipy.stats.linregress; with
    units at every N it is the t-interval on the per-unit slopes (G - 1 dof)."""
    from scipy import stats

    rng = np.random.default_rng(3)
    N = np.repeat([100.0, 200, 400, 800], 3)
    y = N ** -0.5 * np.exp(0.4 * rng.standard_normal(N.size))
    fit = loglog_fit(N, y)
    ref = stats.linregress(np.log(N), np.log(y))
    q = stats.t.ppf(0.975, N.size - 2)
    assert (fit.slope, fit.intercept) == pytest.approx((ref.slope, ref.intercept), rel=1e-12)
    assert (fit.ci_low, fit.ci_high) == pytest.approx(
        (ref.slope - q * ref.stderr, ref.slope + q * ref.stderr), rel=1e-10)
    assert (fit.method, fit.dof, fit.n_boot) == ("t", 10.0, 0)
    assert str(fit).endswith("(95% t, 10 dof)")
    units = np.tile(np.arange(3), 4)
    joint = loglog_fit(N, y, units=units, level=0.9)
    per_unit = [stats.linregress(np.log(N[units == u]), np.log(y[units == u])).slope
                for u in range(3)]
    ci = stats.ttest_1samp(per_unit, 0.0).confidence_interval(0.9)
    assert joint.slope == pytest.approx(np.mean(per_unit), rel=1e-12)
    assert (joint.ci_low, joint.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert joint.dof == 2.0
    # no degrees of freedom, no interval (the bootstrap gave a zero-width one)
    two = loglog_fit([100, 400], [0.1, 0.05])
    assert two.slope == pytest.approx(-0.5) and np.isnan(two.ci_low) and np.isnan(two.ci_high)
    one_each = loglog_fit([100, 200, 400], [0.1, 0.07, 0.05], on="means")
    assert np.isnan(one_each.ci_low) and np.isnan(one_each.ci_high)


def test_means_interval_is_the_jackknife_of_the_log_means():
    """on="means": slope = sum_k c_k log mean_k, each log mean_k with the jackknife variance
    of its leave-one-out means, Welch-Satterthwaite dof; with units, the delete-one-unit
    jackknife (G - 1 dof)."""
    from scipy import stats

    rng = np.random.default_rng(5)
    Ns = np.array([100.0, 200, 400, 800])
    N = np.repeat(Ns, 5)
    y = N ** -0.5 * rng.exponential(size=N.size) * (rng.random(N.size) > 0.2)
    y[N == 100] = np.maximum(y[N == 100], 1e-3)  # keep every mean > 0
    lx = np.log(Ns)
    c = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    var = []
    for v in Ns:
        g = y[N == v]
        loo = (g.sum() - g) / (g.size - 1)
        assert np.all(loo > 0)
        var.append(4 / 5 * np.sum((np.log(loo) - np.log(loo).mean()) ** 2))
    v = c ** 2 * np.array(var)
    dof = v.sum() ** 2 / np.sum(v ** 2 / 4)
    slope = c @ np.log([y[N == n].mean() for n in Ns])
    half = stats.t.ppf(0.975, dof) * np.sqrt(v.sum())
    fit = loglog_fit(N, y, on="means")
    assert fit.slope == pytest.approx(slope, rel=1e-12) and fit.dof == pytest.approx(dof)
    assert (fit.ci_low, fit.ci_high) == pytest.approx((slope - half, slope + half), rel=1e-10)
    units = np.tile(np.arange(5), 4)
    loo = []
    for u in range(5):
        keep = units != u
        loo.append(c @ np.log([y[keep & (N == n)].mean() for n in Ns]))
    half = stats.t.ppf(0.975, 4) * np.sqrt(4 / 5 * np.sum((np.array(loo) - np.mean(loo)) ** 2))
    joint = loglog_fit(N, y, on="means", units=units)
    assert joint.slope == fit.slope and joint.dof == 4.0
    assert (joint.ci_low, joint.ci_high) == pytest.approx((slope - half, slope + half),
                                                          rel=1e-10)


def test_bootstrap_on_request():
    rng = np.random.default_rng(4)
    N = np.repeat([100.0, 200, 400, 800], 6)
    y = N ** -0.5 * np.exp(0.3 * rng.standard_normal(N.size))
    boot = loglog_fit(N, y, method="bootstrap", n_boot=400, seed=1)
    assert boot == loglog_fit(N, y, method="bootstrap", n_boot=400, seed=1)  # seeded
    assert (boot.method, boot.n_boot) == ("bootstrap", 400) and np.isnan(boot.dof)
    assert boot.ci_low < boot.slope < boot.ci_high
    assert boot.slope == loglog_fit(N, y).slope  # the interval differs, not the fit
    with pytest.raises(ValueError, match="method must be"):
        loglog_fit(N, y, method="bca")
    with pytest.raises(ValueError, match="level must"):
        loglog_fit(N, y, level=95)


def test_exact_power_law_gives_exact_slope():
    N = np.array([1.0, 2, 4, 8])
    fit = loglog_fit(N, 2 * N ** -0.7, n_boot=50)
    assert fit.slope == pytest.approx(-0.7, abs=1e-12)
    assert (fit.ci_low, fit.ci_high) == pytest.approx((-0.7, -0.7), abs=1e-12)


def test_units_resampled_jointly_across_n():
    """Runs that share a seed's reference at every N (sgd_vs_limit) move together: with
    y = c_seed N^(-1/2) each joint resample has slope exactly -1/2, while resampling runs
    within each N mixes seeds across N and gives a wide interval."""
    rng = np.random.default_rng(1)
    Ns, seeds = np.array([250, 500, 1000, 2000]), 6
    c = np.exp(rng.standard_normal(seeds))
    N = np.tile(Ns, seeds)
    unit = np.repeat(np.arange(seeds), Ns.size)
    y = c[unit] * N ** -0.5
    for on in ("runs", "means"):
        joint = loglog_fit(N, y, on=on, units=unit, n_boot=200)
        assert (joint.ci_low, joint.ci_high) == pytest.approx((-0.5, -0.5), abs=1e-12)
        apart = loglog_fit(N, y, on=on, n_boot=200)
        assert apart.ci_high - apart.ci_low > 0.2
    # one unit per seed, drawn with all its runs: a unit missing at some N is an error
    with pytest.raises(ValueError, match="one entry per run"):
        loglog_fit(N, y, units=unit[:-1])


def test_auto_fits_runs_unless_a_run_is_zero():
    N = np.repeat([100.0, 200, 400], 3)
    y = np.exp(np.random.default_rng(2).standard_normal(N.size)) * N ** -0.5
    assert loglog_fit(N, y, on="auto", n_boot=50) == loglog_fit(N, y, on="runs", n_boot=50)
    y[0] = 0.0
    assert loglog_fit(N, y, on="auto", n_boot=50) == loglog_fit(N, y, on="means", n_boot=50)


def test_bad_input():
    with pytest.raises(ValueError, match="> 0"):
        loglog_fit([1, 2], [1, -1])
    with pytest.raises(ValueError, match="two distinct"):
        loglog_fit([2, 2], [1, 1])


def test_fit_of_means_admits_zeros_and_recovers_the_rate():
    rng = np.random.default_rng(2)
    N = np.repeat([100, 400, 1600, 6400], 400)
    # half-normal with an atom at 0 (as eps_C has): E y = c N^-1/2 exactly
    y = np.abs(rng.standard_normal(N.size)) * (rng.random(N.size) > 0.3) * N ** -0.5
    fit = loglog_fit(N, y, on="means", n_boot=300)
    assert abs(fit.slope + 0.5) < 0.05 and fit.ci_low < -0.5 < fit.ci_high
    with pytest.raises(ValueError, match="y must be > 0"):
        loglog_fit(N, y)
    with pytest.raises(ValueError, match=">= 0"):
        loglog_fit([1, 2], [1, -1], on="means")
    with pytest.raises(ValueError, match="on must be"):
        loglog_fit([1, 2], [1, 1], on="median")


def test_bound_shapes_and_fitted_constants():
    from meanfield.analysis import connectivity_shape, dropout_shape, fit_constant

    N = np.array([100, 400, 1600])
    s = dropout_shape(N // 2, N, 1.0 / N, 21, z=1.0)
    expect = ((np.sqrt(np.log(N // 2)) + 1) / np.sqrt(N // 2)
              + np.sqrt(1.0 / N) * (np.sqrt(21 + np.log(N)) + 1))
    np.testing.assert_allclose(s, expect, rtol=1e-14)
    np.testing.assert_allclose(connectivity_shape(N, 0.01, 5), dropout_shape(N, N, 0.01, 5))
    fit = fit_constant(3.0 * s, s)
    assert fit.K_fit == pytest.approx(3.0) and fit.K_envelope == pytest.approx(3.0)
    fit = fit_constant(s * [1.0, 4.0, 0.0], s)  # zeros ignored by the fit, not the envelope
    assert fit.K_fit == pytest.approx(2.0) and fit.K_envelope == pytest.approx(4.0)
    with pytest.raises(ValueError, match="N >= size"):
        dropout_shape(10, 5, 0.1, 3)


def test_ratio_interval():
    from scipy import stats

    from meanfield.analysis import ratio_interval

    rng = np.random.default_rng(1)
    a, b = 2.0 * rng.exponential(size=40), rng.exponential(size=30)
    ratio, (lo, hi) = ratio_interval(a, b, n_boot=500)
    assert ratio == pytest.approx(a.mean() / b.mean())
    assert lo < ratio < hi and lo < 2.0 < hi
    assert ratio_interval(a, b, n_boot=500) == (ratio, [lo, hi])
    # the t-interval: exp(log r -+ t se), se^2 the jackknife variances of the log means
    def jack(v):
        loo = np.log((v.sum() - v) / (v.size - 1))
        return (v.size - 1) / v.size * np.sum((loo - loo.mean()) ** 2)

    va, vb = jack(a), jack(b)
    dof = (va + vb) ** 2 / (va ** 2 / 39 + vb ** 2 / 29)
    half = stats.t.ppf(0.975, dof) * np.sqrt(va + vb)
    assert (lo, hi) == pytest.approx((ratio * np.exp(-half), ratio * np.exp(half)), rel=1e-10)
    _, (blo, bhi) = ratio_interval(a, b, n_boot=500, method="bootstrap")
    assert ratio_interval(a, b, n_boot=500, method="bootstrap") == (ratio, [blo, bhi])  # seeded
    assert blo < ratio < bhi and blo < 2.0 < bhi
    with pytest.raises(ValueError, match="mean\\(a\\) > 0"):
        ratio_interval(-a, b)
    # a sample without spread gives a zero-width interval for that factor only
    assert ratio_interval(np.full(5, 3.0), np.full(4, 1.5), n_boot=50) == (2.0, [2.0, 2.0])
    with pytest.raises(ValueError, match="mean\\(b\\) is 0"):
        ratio_interval(a, np.zeros(3))
    with pytest.raises(ValueError, match="non-empty and finite"):
        ratio_interval([], b)
