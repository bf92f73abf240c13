"""Negative controls: the pipeline and rule of a judged claim, run where the claimed
behaviour is absent by design, must FAIL (issue 29).  A control that passes is a failing
test: its rule could not tell the claim from its absence.

Each control runs the same functions as the validation script, at tiny sizes, with the one
change that removes the behaviour the claim is about.
"""

import numpy as np
import pytest

from meanfield.analysis import loglog_fit
from meanfield.analysis.claims import RULES
from tests.conftest import validation_script


def _lazy_gram():
    """validation/lazy_gram.py as a module: the controls run its own functions."""
    return validation_script("lazy_gram")


@pytest.fixture(scope="module")
def lazy_fits():
    """The movement fits of lazy_gram (c) (its inputs, streams and fit) at m <= 800."""
    script = _lazy_gram()
    out, _ = script.lazy_vs_mf(script.inputs(), [50, 200, 800], 4)
    return {sc: fit for sc, (_, _, fit) in out.items()}


def test_ntk_rate_rule_fails_on_the_mean_field_movement(lazy_fits):
    """lazy_gram/c/ntk (movement = O(m^-1/2)): on the mean-field net, whose neurons move O(1)
    whatever m, the same rule must fail; on the NTK net it passes at these sizes."""
    rule = RULES["lazy_gram/c/ntk"]
    mf, ntk = lazy_fits["mf"], lazy_fits["ntk"]
    assert not rule.judge(mf.slope, (mf.ci_low, mf.ci_high)), mf
    assert rule.judge(ntk.slope, (ntk.ci_low, ntk.ci_high)), ntk


def test_mean_field_equivalence_rule_fails_on_the_ntk_movement(lazy_fits):
    """lazy_gram/c/mf (movement does not depend on m): on the NTK net, which moves like
    m^-1/2, the equivalence rule must fail; on the mean-field net it passes."""
    rule = RULES["lazy_gram/c/mf"]
    mf, ntk = lazy_fits["mf"], lazy_fits["ntk"]
    assert not rule.judge(ntk.slope, (ntk.ci_low, ntk.ci_high)), ntk
    assert rule.judge(mf.slope, (mf.ci_low, mf.ci_high)), mf


@pytest.fixture(scope="module")
def fixed_size_eps():
    """dropout_rates' pipeline (run_stability, per-network eps_D) with every net also
    dropped to a fixed |A| = 8: eps_D at fixed |A| does not fall with N (3.7)."""
    from meanfield.experiments.stability import run_stability
    from meanfield.twolayer.experiment import StabilityConfig

    Ns = (16, 32, 64, 128)
    cfg = StabilityConfig(task="teacher-student", d=4, activation="erf", Ns=Ns, seeds=4,
                          T=0.5, times=(1.0,), sweep_Ns=Ns, sweep_sizes=(8,), sweep_draws=4,
                          straight_max_N=max(Ns), aligned_max_N=0)
    return run_stability(cfg, progress=False)


def test_rate_rule_fails_on_eps_D_at_fixed_size(fixed_size_eps):
    """dropout_rates/a/erf (eps_D at |A| = N/2 = O(N^-1/2)): at a fixed |A| the first term of
    (3.7), sqrt(log|A| / |A|), stays, and the same rule on the same pipeline must fail."""
    rule = RULES["dropout_rates/a/erf"]
    fixed = fixed_size_eps.per_network("sweep")
    fit = loglog_fit(fixed["N"], fixed["eps_D"], on="means")
    assert not rule.judge(fit.slope, (fit.ci_low, fit.ci_high)), fit


def test_connectivity_rule_fails_on_the_straight_line(fixed_size_eps):
    """dropout_rates/c/erf (eps_C of the seven-segment path = O(N^-1/2)): the straight line
    between the same two nets averages neuron i of one with neuron i of the other, a network
    of another law, so its barrier does not vanish and the same rule must fail."""
    fit = fixed_size_eps.fits()["barrier_straight"]
    assert not RULES["dropout_rates/c/erf"].judge(fit.slope, (fit.ci_low, fit.ci_high)), fit


def test_gram_rate_rule_fails_against_the_other_architectures_limit():
    """lazy_gram/a/<fc|resnet> (||G^(H)(0) - K^(H)|| / ||K^(H)|| = O(m^-1/2)): the same nets
    against the other architecture's K^(H), a limit they do not approach, must fail."""
    script = _lazy_gram()
    out = script.gram_convergence(script.inputs(), [125, 250, 500], 6)
    for name in ("FC", "ResNet"):
        fit = out[f"{name} control"][2]
        assert not RULES[f"lazy_gram/a/{name.lower()}"].judge(
            fit.slope, (fit.ci_low, fit.ci_high)), (name, fit)


def test_conv_gram_rate_rule_fails_against_the_limit_without_patches():
    """lazy_gram/a/conv-resnet (Theorem 7.1's ||G^(H)(0) - K^(H)|| / ||K^(H)|| = O(m^-1/2)):
    the same conv nets against the K^(H) of one-pixel patches (q = 1) must fail, while the
    claim passes on the same nets."""
    script = _lazy_gram()
    out = script.conv_gram_convergence(script.conv_inputs(), [125, 250, 500, 1000], 6)
    rule = RULES["lazy_gram/a/conv-resnet"]
    fit, ctl = out["conv ResNet"][2], out["conv ResNet control"][2]
    assert rule.judge(fit.slope, (fit.ci_low, fit.ci_high)), fit
    assert not rule.judge(ctl.slope, (ctl.ci_low, ctl.ci_high)), ctl


def test_dimension_rule_fails_on_a_series_growing_in_d():
    """dropout_rates/d/erf ('does not grow with d'): judged by ratio_interval on per-net
    eps_D at d = 160 over d = 10.  Fed eps_D that grows like d^0.3 (ratio 16^0.3 = 2.3)
    with the script's spread (8 nets a side, log-normal sd 0.4), the rule must fail."""
    from meanfield.analysis import ratio_interval

    rule = RULES["dropout_rates/d/erf"]
    rng = np.random.default_rng(5)
    fails = 0
    for _ in range(200):
        lo_d = 0.05 * np.exp(0.4 * rng.standard_normal(8))
        hi_d = 0.05 * 16 ** 0.3 * np.exp(0.4 * rng.standard_normal(8))
        ratio, interval = ratio_interval(hi_d, lo_d)
        fails += not rule.judge(ratio, tuple(interval))
    assert fails >= 190, fails  # the rule sees growth of 2.3x in at least 95% of draws


def test_kernel_rate_rule_fails_in_mean_field_scaling():
    """lazy_gram/d/ntk (the residuals follow the initial kernel's linear dynamics up to
    O(m^-1/2)): in mean-field scaling the kernel moves with the neurons, so the same rule on
    the same measure must fail; in NTK scaling it passes at these sizes."""
    script = _lazy_gram()
    out = script.kernel_rate(script.inputs(), [50, 200, 800], 3)
    rule = RULES["lazy_gram/d/ntk"]
    ntk, mf = out["ntk"][2], out["mf"][2]
    assert not rule.judge(mf.slope, (mf.ci_low, mf.ci_high)), mf
    assert rule.judge(ntk.slope, (ntk.ci_low, ntk.ci_high)), ntk


def test_kernel_deviation_is_second_order_in_the_step():
    """The linear prediction (I - (eta / n) H(0))^k r(0) is GD to first order in eta: halving
    eta must divide the deviation of the first 3 steps by 4 (a wrong H(0), off by any O(1)
    term, leaves a first-order error that halves instead)."""
    from meanfield.lazy.networks import train_two_layer

    script = _lazy_gram()
    X = script.inputs()
    y = np.tanh(X @ np.random.default_rng(11).standard_normal(X.shape[1]))
    dev = [train_two_layer(X, y, 200, "ntk", "softplus", eta=eta, steps=3, rng=1)
           .kernel_deviation for eta in (1e-3, 5e-4)]
    assert dev[0] < 1e-8
    np.testing.assert_allclose(dev[0] / dev[1], 4.0, rtol=0.02)


def test_depth_rule_fails_on_the_resnet_kernel():
    """lazy_gram/e/fc (lambda_min(K^(H)) falls at least 2x per layer for the FC net): the
    ResNet's kernel, whose lambda_min falls polynomially, must fail the same rule.  Depths
    1 ... 7 (the script's 12 take 27 s; the ResNet's ratio already reaches 0.73 by H = 7)."""
    script = _lazy_gram()
    lam = script.depth(script.inputs(), list(range(1, 8)))
    worst = {name: max(v[i + 1] / v[i] for i in range(1, len(v) - 1))
             for name, v in lam.items()}
    rule = RULES["lazy_gram/e/fc"]
    assert rule.judge(worst["FC"]) and not rule.judge(worst["ResNet"]), worst

@pytest.fixture(scope="module")
def kuditipudi_nets():
    """validation/kuditipudi.py's functions on digits at tiny sizes: nets of widths 16-64
    (2 seeds, 10 epochs), the width-32 pair and an untrained narrow net of width 4."""
    pytest.importorskip("torch")

    from meanfield.torch import FullyConnectedNet, evaluate
    from meanfield.torch.experiments import cell_data, train_net

    script = validation_script("kuditipudi")
    s = dict(script.settings(True, False), epochs=10.0)
    data = cell_data(script.cell_of(s, 2, "cpu"))
    X, y = data.X_train, data.y_train
    nets = {(N, seed): train_net(script.cell_of(s, N, "cpu"), data, "gaussian", seed)[0]
            for N in (16, 32, 64) for seed in (0, 1)}
    raw = FullyConnectedNet(data.d, 4, data.n_classes, depth=4, bias="input",
                            parameterisation="standard", seed=101, device="cpu")
    losses = {k: evaluate(n, X, y)["loss"] for k, n in nets.items()}
    return script, nets, raw, losses, X, y, np.log(data.n_classes)


def test_kuditipudi_width_rule_fails_at_a_fixed_kept_count(kuditipudi_nets):
    """kuditipudi/dropout-width (the best-of-20 change at p = 1/2 falls with h): the same
    nets kept to 8 units per layer at every width (rescaled by h / 8) must fail the rule."""
    from meanfield.analysis import loglog_fit

    script, nets, _, losses, X, y, _ = kuditipudi_nets
    rows = []
    for (N, seed), net in nets.items():
        fixed, _ = script.best_of(net, X, y, 8, 20, [N, seed, 2])
        rows.append((N, max(fixed.min() - losses[(N, seed)], 1e-6)))
    Ns, dl = np.array(rows).T
    fit = loglog_fit(Ns, dl)
    assert not RULES["kuditipudi/dropout-width"].judge(fit.slope, (fit.ci_low, fit.ci_high)), fit


def test_kuditipudi_segment_rule_fails_on_the_direct_line(kuditipudi_nets):
    """kuditipudi/lemma3 and kuditipudi/theorem3 (a path's rise in units of the way to
    ln C <= 0.2): the straight line between two independently trained nets must fail both."""
    from meanfield.torch import evaluate_path, straight_path

    script, nets, _, losses, X, y, chance = kuditipudi_nets
    A, B = nets[(32, 0)], nets[(32, 1)]
    top = float(evaluate_path(straight_path(A, B), A, X, y, n_per_segment=17)["loss"].max())
    ref = max(losses[(32, 0)], losses[(32, 1)])
    assert not RULES["kuditipudi/lemma3"].judge(script.excess(top, losses[(32, 0)], chance))
    assert not RULES["kuditipudi/theorem3"].judge(script.excess(top, ref, chance))


def test_kuditipudi_theorem3_rule_fails_through_an_untrained_narrow_net(kuditipudi_nets):
    """kuditipudi/theorem3: the same path (Lemma 3 segments, Lemma 2 twice) through an
    untrained theta* of the same width must fail (that the path through a trained theta*
    passes is the quick run's claim, tests/test_validation_slow.py)."""
    from meanfield.torch import evaluate_path

    script, nets, raw, losses, X, y, chance = kuditipudi_nets
    A, B = nets[(32, 0)], nets[(32, 1)]
    sides = [script.lemma3_draws(n, X, y, script.P_LEMMA3, 6, 5, [k, 4])
             for k, n in enumerate((A, B))]
    sides = [(kept, seg.groupby("draw")["loss"].max()) for kept, seg in sides]
    ref = max(losses[(32, 0)], losses[(32, 1)])
    rule = RULES["kuditipudi/theorem3"]
    path = script.through(A, B, raw, sides[0], sides[1], 4)
    top = float(evaluate_path(path, A, X, y, n_per_segment=5)["loss"].max())
    assert not rule.judge(script.excess(top, ref, chance)), top


def _script(name):
    """validation/<name>.py as a module: the controls run its own functions."""
    return validation_script(name)


def _pde_case(script, act, M=100):
    """A case of validation/pde_vs_sgd.py's run_case as its controls read it: the radial PDE
    of the script's task (d = 40, Delta = 0.5, w ~ N(0, 0.8^2 / d I)) and the control's PDE
    (xi = XI_CONTROL), at M quantile nodes (M = 100 agrees with M = 1000 to 2e-5)."""
    from meanfield.pde import radius_of_gaussian, solve_radial
    from meanfield.tasks import isotropic_gaussians

    times = np.linspace(0.0, 5.0, 6)
    task, law = isotropic_gaussians(40, 0.5, act), radius_of_gaussian(40, 0.8)
    pde = solve_radial(task, law, times, M=M, h=0.04).risk
    fast = solve_radial(task, law, times, M=M, h=0.04, schedule=lambda t: script.XI_CONTROL).risk
    return {"times": times.tolist(), "pde_risk": pde.tolist(), "pde_control_risk": fast.tolist(),
            "pde_control_gap": script.sup_gap(pde, fast, times >= 0.25)}


def test_pde_rules_fail_on_the_ramp_pde_with_its_time_scale_off():
    """pde_vs_sgd/a-extrapolated/ramp (sup relative gap to the PDE after 5% of T <= 0.01): a
    particle limit that agrees with the PDE (here the PDE at twice the nodes, within 1e-4)
    passes, and the same reference against the PDE with xi = 1.1 (4% off at t = 1) or at
    rest must fail; pde_vs_sgd/c (at T) must fail against the PDE at rest."""
    script = _script("pde_vs_sgd")
    case = _pde_case(script, "ramp")
    ref = _pde_case(script, "ramp", M=200)["pde_risk"]
    times = np.asarray(case["times"])
    rule = RULES["pde_vs_sgd/a-extrapolated/ramp"]
    assert rule.judge(script.sup_gap(ref, case["pde_risk"], times >= 0.25))
    controls = script.controls_a("pde_vs_sgd/a-extrapolated/ramp", case, ref)
    assert len(controls) == 2 and not any(c["pass"] for c in controls), controls
    assert case["pde_control_gap"] > 0.03  # the disagreement by design, 4x the rule's 1%
    # (c) with a perfect L_inf and the quick run's test-sample SE (5e-4)
    (rest,) = script.controls_c(case, case["pde_risk"][-1], 5e-4)
    assert rest["pass"] is False, rest  # a bool, as the JSON needs


def test_pde_relu_rows_are_reported_because_the_pde_at_rest_passes_a_1_percent_rule():
    """pde_vs_sgd/a/relu and /c/relu were judged at_most 0.01 (a relative gap) and at_most 1
    ((c)'s ratio) until 2026-12-07.  With a = 1 frozen the ReLU risk falls by under 1% of
    R(0) in the whole run, so the PDE at rest (its initial risk at every time) passed the
    gap rule: the rule could not tell, and the rows are reported, not judged.  Guards both
    halves: if the former rule ever fails on the PDE at rest, the rows can be judged again."""
    from meanfield.analysis.claims import Rule

    script = _script("pde_vs_sgd")
    case = _pde_case(script, "relu")
    former = Rule("at_most", 0.01, "inside", "former pde_vs_sgd/a/relu")
    rest = [c for c in script.controls_a("pde_vs_sgd/a-extrapolated/ramp", case,
                                         case["pde_risk"]) if "rest" in c["control"]]
    assert rest and all(former.judge(c["value"]) for c in rest), rest
    assert not RULES["pde_vs_sgd/a/relu"].judged and not RULES["pde_vs_sgd/c/relu"].judged


def test_empirical_dropout_rule_fails_at_a_fixed_kept_count():
    """empirical_dropout/a (|L_N/2 - L_N| decreases with N: upper end of the slope's interval
    < 0): the same cells (empirical_cell, a seed per (N, seed)) with the first 8 neurons kept
    at every N (kept, rescaled by N / 8) are an 8-neuron net whatever N, and the same
    fit and rule must fail.  Digits, N = 16 ... 128, 3 seeds, 5 epochs."""
    import dataclasses

    import pandas as pd

    pytest.importorskip("torch")
    from meanfield.analysis import dropout_change_fits
    from meanfield.torch.experiments import empirical_cell
    from meanfield.torch.settings import EmpiricalSettings

    base = EmpiricalSettings(alpha=0.2, epochs=5.0, random_halves=0, snapshots=(1.0,),
                             device="cpu", kept=8)
    table = pd.concat([empirical_cell(dataclasses.replace(base, N=N, seed=1000 * N + s))
                       .assign(N=N, seed=s) for N in (16, 32, 64, 128) for s in range(3)])
    rule = RULES["empirical_dropout/a"]
    fit = dropout_change_fits(table, col="dloss_kept")[0][1.0]  # +0.15 [-0.02, +0.33]
    assert not rule.judge(fit.slope, (fit.ci_low, fit.ci_high)), fit
    half = dropout_change_fits(table)[0][1.0]  # the claim's N/2 on the same nets: -1.16
    assert rule.judge(half.slope, (half.ci_low, half.ci_high)), half


def test_kept_is_checked():
    """kept must lie in [0, N // 2]: the error names it and the range."""
    from meanfield.torch.experiments import check_settings
    from meanfield.torch.settings import EmpiricalSettings

    with pytest.raises(ValueError, match=r"kept must be at most N // 2 = 4 .*got 5"):
        check_settings(EmpiricalSettings(N=8, kept=5, device="cpu"))


def test_deep_connectivity_rule_fails_with_experiment_b_in_a_place():
    """deep_connectivity/a (A's 10% width <= 1/4 of B's): on the stored quick run's per-width
    means (2026-12-06) the claim passes (A from width 100, B never: 100 / 800), and with B's
    losses in A's place (no re-optimised subnetworks) the script's threshold gives no width,
    which fails; with B within 10% from 400 the control is 1, which fails too."""
    import pandas as pd

    script = _script("deep_connectivity")
    rule = RULES["deep_connectivity/a"]
    per_width = pd.DataFrame(
        {"trained": [0.268, 0.246, 0.209, 0.191, 0.159, 0.131],
         "A": [0.436, 0.301, 0.215, 0.139, 0.067, 0.030],
         "B": [1.410, 0.684, 0.689, 0.520, 0.378, 0.242]},
        index=pd.Index([25, 50, 100, 200, 400, 800], name="N"))
    n_a, n_b = script.threshold(per_width, "A"), script.threshold(per_width, "B")
    assert (n_a, n_b) == (100, None) and rule.judge(n_a / 800)
    assert not rule.judge(n_b)  # the control: B in A's place, no width
    reached = per_width.assign(B=per_width["B"].where(per_width.index < 400, 0.1))
    n_b = script.threshold(reached, "B")
    assert n_b == 400 and not rule.judge(script.threshold(reached, "B") / n_b)
