"""The radial PDE against the particle limit and SGD (Mei, Montanari & Nguyen 2018, Fig. 1).

Isotropic Gaussian classification (``x | y = +-1 ~ N(0, (1 +- 0.5)^2 I_d)``),
frozen output weights a = 1, initial ``w ~ N(0, 0.8^2 / d I_d)`` (r = |w|
chi-distributed), horizon T = 5: d = 40 with the ramp of Mei et al. and with
ReLU, and d = 20 with the ramp.

* PDE: :func:`meanfield.pde.solve_radial`, M = 2000 quantile nodes, RK4 with
  h = 0.02; its own accuracy is measured against M = 4000, h = 0.01.
* Particle limit, every case: the full-space dynamics of M particles (RK4
  with h = 0.05; the target of the issue is M = 10^5, a GPU's job) with the
  unbiased off-diagonal risk ``E y^2 + 2 mean V + sum_{i != j} U / (M (M - 1))``.
  ReLU: M = ``--particles`` (default 3000).  The ramp: M = ``--ramp-particles``
  (default 1000; its pair kernels, closed forms through bivariate normal
  orthants, cost about 30x the ReLU's per pair), and M / 2, M / 4; one
  initial draw each (quick: two; the two draws' risks at T differ by 0.2%
  at M = 50, and a second draw at full size would double the 46 minutes the
  ramp's particle runs take).  The M-particle flow is the gradient flow of an
  M-neuron net, so it carries that net's finite-width term, about
  E[sigma^2] / M: for the ramp (E[sigma^2] near 15, risk near 0.05) that is
  10-40% of the risk at these M, and 1% needs M near 10^5, which is why the
  issue asks for it.  The ramp's particle risk is therefore also
  extrapolated in M (``L_inf + c / M``).
* SGD: one-pass SGD with frozen a, alpha = 5e-5 (its own bias on the risk is
  about linear in alpha: 3.5e-3, 1.4e-3, 6e-4 at alpha = 8e-4, 4e-4, 2e-4 for
  ReLU at N = 4000), N in {1000, 4000, 16000}, 3 seeds; the risk by Monte Carlo
  on one fixed test sample of 5 10^4 points (ReLU: exact).  The risk of N
  neurons carries a term of order E[sigma^2] / N (its diagonal; E[sigma^2] is
  about 15 for the ramp here), so SGD reaches the PDE only at large N: the fit
  ``L_inf + c / N`` over N is reported too.

Claims (sup over snapshots after the first 5% of the horizon), each judged by
its rule in :data:`meanfield.analysis.claims.RULES` (``docs/validation.md``);
a row's case is the case's name (``pde_vs_sgd/b[ramp, d = 40]``):

``pde_vs_sgd/a/relu`` (observation since 2026-12-07; ``at_most`` 0.01 before):
    the relative gap of the PDE and the particle limit at the largest M used
    (``--particles``), ReLU at d = 40 (the only ReLU case).  With a = 1 frozen
    the ReLU risk falls by 0.93% of R(0) over the whole run, so a 1% tolerance
    is wider than the dynamics: the PDE at rest passed it (its control);
``pde_vs_sgd/a/ramp`` (observation, per ramp case): the same gap for the ramp
    at its largest M, reported: the M-particle flow carries the M-neuron
    net's O(1/M) term (above);
``pde_vs_sgd/a-extrapolated/ramp`` (``at_most`` 0.01, per ramp case): the gap
    of the PDE and the ramp's particle risk extrapolated in M; at quick sizes
    (M <= 200, where the fit is not yet asymptotic to 1%: docs/validation.md)
    the row is ``pde_vs_sgd/a-extrapolated-quick/ramp``, reported;
``pde_vs_sgd/b`` (observation, per case): SGD at the largest N, sup of
    ``|mean - PDE| / (3 seed SD + test SE)``, reported beside its O(1/N)
    term: the fitted ``c / N`` at T at that N (``c_over_N_T``) next to SGD's
    gap to the PDE at T (``gap_T``);
``pde_vs_sgd/c`` (``at_most`` 1, per ramp case; the ReLU case is
    ``pde_vs_sgd/c/relu``, reported, for the reason of ``a/relu``):
    ``|L_inf - PDE| / (0.01 PDE + 3 SE)`` at T, ``L_inf`` of the fit
    ``L_inf + c / N`` over the N and seeds
    and SE the test sample's standard error (one sample serves every N, so
    its error is an offset the fit's interval does not see).  At the sizes
    a CPU allows the 1/N term of (b) (about E[sigma^2] / N, E[sigma^2] near
    15 for the ramp) is many seed SDs, which shrink only as N^-1/2, so the
    extrapolation is what is judged.

Negative controls (``controls`` of the rows; a judged row whose control passes is
reported FAIL): (a) and (a') put in the PDE's place the PDE solved with ``xi = 1.1``
(its time scale 10% off, ``XI_CONTROL``: one more solve per case, a few seconds) and
the PDE at rest (its initial risk at every time); (c), judged at T alone where the
PDE's risk has levelled off, the PDE at rest (a 10% time scale moves the risk at T
by 0.02%, far inside (c)'s tolerance).  For ReLU the risk falls by 0.93% of R(0)
over the whole run, less than the 1% of (a) and (c): both controls pass there, and
those rows FAIL (docs/validation.md, "Negative controls").

(a) for the ramp and (b) were judged before (gap < 0.01; ratio <= 1): their
rows carry ``old_rule`` and ``old_pass``.  With ``--device`` the same rows
judge the large-M particle limits.

Also reported: W1 between the PDE's law of r and the SGD particles' |w| at T,
and the PDE's solve time against the particle limit's.

Quick mode: M = 1000 (ReLU) and 50, 100, 200 (ramp) particles, N up to 4000,
alpha = 1e-4, 2 10^4 test points.

``--device cuda`` runs the pair sums of the particle limits and of the exact
risks with torch on a GPU (:func:`meanfield.torch.pairs.on_device`): the
issue's M = 10^5 is ``--device cuda --particles 100000 --ramp-particles
100000``.  On the CPU the numba kernels (the default) are 3-7x faster than
torch's.

Writes validation/out/pde_vs_sgd{,_quick}.{json,png,pdf} (the JSON: the claim
rows, the verdict, the cases and the run time in "seconds"); prints each claim
with PASS, FAIL or reported, and the overall verdict.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from meanfield.analysis.claims import RULES, claim_row, control_row, verdict
from meanfield.pde import radius_of_gaussian, sample_weights, solve_radial
from meanfield.tasks import isotropic_gaussians
from meanfield.twolayer.limit import ParticleLimit
from meanfield.twolayer.sgd import TwoLayerSGD

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Mei, Montanari & Nguyen 2018, Fig. 1"


#: xi(t) of the negative controls' PDE: the time scale off by 10%
XI_CONTROL = 1.1


def sup_gap(reference, pde, late):
    """``sup |reference - pde| / pde`` over the snapshots ``late`` (a boolean mask)."""
    reference, pde = np.asarray(reference, dtype=float), np.asarray(pde, dtype=float)
    return float(np.max(np.abs(reference - pde)[late] / pde[late]))


def control_pdes(case):
    """The PDE risks the negative controls put in the PDE's place, ``{name: (what, risk)}``:
    the PDE solved with ``xi = XI_CONTROL`` (``"fast"``), and the PDE at rest, its initial
    risk at every time (``"rest"``).  ``case`` is a dict of :func:`run_case`; ``what`` says
    by how much the control's risk differs from the PDE's (the disagreement by design)."""
    pde = np.asarray(case["pde_risk"], dtype=float)
    return {"fast": (f"PDE with xi = {XI_CONTROL:g} (time scale 10% off: its risk differs "
                     f"from the PDE's by up to {case['pde_control_gap']:.2%} after 5% of T, "
                     f"{abs(case['pde_control_risk'][-1] / pde[-1] - 1):.2%} at T)",
                     np.asarray(case["pde_control_risk"], dtype=float)),
            "rest": (f"PDE at rest (R(0) at every time; the PDE's risk falls by "
                     f"{1 - pde[-1] / pde[0]:.2%} of R(0) up to T)", np.full_like(pde, pde[0]))}


def controls_a(claim_id, case, reference):
    """(a)'s controls: ``sup_gap`` of ``reference`` (the particle risk, or its extrapolation
    in M) against each PDE of :func:`control_pdes`, judged by ``claim_id``'s rule."""
    times = np.asarray(case["times"])
    late = times >= 0.05 * times[-1]
    return [control_row(claim_id, what, sup_gap(reference, risk, late))
            for what, risk in control_pdes(case).values()]


def controls_c(case, L_inf, se):
    """(c)'s control: ``|L_inf - R_T| / (0.01 R_T + 3 se)`` with ``R_T`` the PDE at rest's
    risk (its initial risk) in the PDE's place, judged by the rule of ``pde_vs_sgd/c``.

    (c) compares at T alone, where the PDE's risk has levelled off (it moves by 0.04% of
    itself from t = 4 to 5 for the ramp), so the time-scale control of (a) changes it by
    0.02%, far inside the rule's tolerance (1% + 3 test SE): not a disagreement (c) should
    see.  What (c) can see is the level reached; its control is the PDE that does not move.
    """
    what, risk = control_pdes(case)["rest"]
    R_T = float(risk[-1])
    return [control_row("pde_vs_sgd/c", what, abs(L_inf - R_T) / (0.01 * R_T + 3 * se))]


def mc_risk(task, W, X, y, chunk=4000):
    """``mean (y - (1/N) sum_i sigma(<w_i, x>))^2`` over the test sample, and its standard
    error."""
    act = task.activation
    sq = np.empty(len(y))
    for s in range(0, len(y), chunk):
        out = act(X[s:s + chunk] @ W.T).mean(axis=1)
        sq[s:s + chunk] = (y[s:s + chunk] - out) ** 2
    return float(sq.mean()), float(sq.std() / math.sqrt(len(y)))


def particle_risk(task, W):
    """The off-diagonal (unbiased) estimate of R(rho) from M particles, a = 1, and the full
    risk of the M-neuron net (its diagonal included), from one pass of pair sums: no
    M x M matrix is formed, so M = 10^5 fits in memory."""
    M = W.shape[0]
    a = np.ones(M)
    full = task.risk(a, W)
    base = task.ey2 + 2 * task.V(a, W).mean()
    diag = task.self_kernel(W).sum()  # sum_i U(theta_i, theta_i)
    return float(base + ((full - base) * M ** 2 - diag) / (M * (M - 1))), float(full)


def particle_run(task, law, M, times, seed, progress=False):
    """The particle limit (RK4, h = 0.05) from M weights drawn from ``law``; at each time the
    off-diagonal risk (:func:`particle_risk`) and the full risk of the M-neuron net."""
    W = sample_weights(law, M, task.d, seed)
    stepper = ParticleLimit((np.ones(M), W), task, h=0.05, train_a=False)
    off, full = [], []
    with tqdm(total=float(times[-1]), desc=f"particles M={M}", unit="t", disable=not progress,
              bar_format="{l_bar}{bar}| {n:.3g}/{total:.3g} [{elapsed}<{remaining}]") as bar:
        for t in times:
            for _ in range(stepper.plan(float(t))):
                stepper.advance(1)
                bar.update(stepper.time - bar.n)
            o, f = particle_risk(task, stepper.population()[1])
            off.append(o)
            full.append(f)
    return {"off": off, "full": full}


def run_case(name, d, act, times, Ns, seeds, M_part, n_test, alpha, quick, log, device=None,
             progress=False):
    task = isotropic_gaussians(d, 0.5, act)
    # pair sums (particle limit, exact risks) on a torch device when asked for
    ptask = task
    if device is not None:
        from meanfield.torch.pairs import on_device

        ptask = on_device(task, device)
    law = radius_of_gaussian(d, 0.8)
    late = times >= 0.05 * times[-1]
    t0 = time.time()
    pde = solve_radial(task, law, times, M=1000 if quick else 2000, h=0.04 if quick else 0.02)
    t_pde = time.time() - t0
    # the negative controls' PDE: the same solve with its time scale off by 10%
    fast = solve_radial(task, law, times, M=1000 if quick else 2000, h=0.04 if quick else 0.02,
                        schedule=lambda t: XI_CONTROL)
    fine = solve_radial(task, law, times, M=2000 if quick else 4000, h=0.02 if quick else 0.01)
    pde_err = float(np.max(np.abs(pde.risk - fine.risk)[late] / fine.risk[late]))
    out = {"name": name, "d": d, "activation": act, "times": times.tolist(),
           "pde_risk": pde.risk.tolist(), "pde_seconds": t_pde, "pde_self_error": pde_err,
           "pde_K": pde.config["K"], "pde_tail": pde.config["tail"],
           "pde_control_risk": fast.risk.tolist(),
           "pde_control_gap": sup_gap(pde.risk, fast.risk, late)}
    log(f"{name}: PDE {t_pde:.1f} s (K = {pde.config['K']}), relative change against M x2, "
        f"h / 2: {pde_err:.2e}")
    Ms, reps = M_part[act]
    runs = {}
    t0 = time.time()
    for M in Ms:
        for rep in range(reps):
            runs[M, rep] = particle_run(ptask, law, M, times, seed=1 + rep, progress=progress)
    t_part = time.time() - t0
    M_top = Ms[-1]
    risks = runs[M_top, 0]["off"]
    rel = np.abs(np.array(risks) - pde.risk) / pde.risk
    out.update(particle_M=M_top, particle_risk=risks, particle_seconds=t_part,
               particle_rel=float(rel[late].max()),
               particle_runs={f"{M}/{rep}": v for (M, rep), v in runs.items()})
    log(f"{name}: particle limit M = {list(Ms)} x {reps}: {t_part:.0f} s; at M = {M_top} sup "
        f"relative difference {rel[late].max():.4f}")
    if len(Ms) > 1:
        from meanfield.analysis import extrapolate

        # the M-particle flow is the gradient flow of an M-neuron net: its risk exceeds the
        # limit's by about c / M (c near E[sigma^2], 15 for the ramp here)
        ext = [extrapolate([M for (M, _) in runs], [v["full"][j] for v in runs.values()],
                           power=1.0) for j in range(len(times))]
        L = np.array([e.y_inf for e in ext])
        rel_ext = np.abs(L - pde.risk) / pde.risk
        out.update(particle_extrapolated=L.tolist(),
                   particle_extrapolated_T=[ext[-1].y_inf, ext[-1].ci_low, ext[-1].ci_high],
                   particle_extrapolated_rel=float(rel_ext[late].max()),
                   particle_c_T=ext[-1].c)
        log(f"{name}: particle limit extrapolated in M (L_inf + c / M): at T "
            f"{L[-1]:.5f} [{ext[-1].ci_low:.5f}, {ext[-1].ci_high:.5f}], c = {ext[-1].c:.2f} "
            f"(PDE {pde.risk[-1]:.5f}); sup relative difference {rel_ext[late].max():.4f}")
    rng = np.random.default_rng(12345)
    Xt, yt = task.sample(n_test, rng)
    sgd = {}
    for N in Ns:
        runs, radii = [], []
        for s in seeds:
            W0 = sample_weights(law, N, d, 1000 * N + s)
            stepper = TwoLayerSGD((np.ones(N), W0), task, alpha, train_a=False, rng=s)
            risk = []
            for t in times:
                stepper.advance(stepper.plan(float(t)))
                value, se = mc_risk(task, stepper.W, Xt, yt) if act != "relu" \
                    else (ptask.risk(stepper.a, stepper.W), 0.0)
                risk.append(value)
            runs.append(risk)
            radii.append(np.linalg.norm(stepper.W, axis=1))
        runs = np.array(runs)  # se: the test sample's, at T for the last seed
        sgd[N] = {"mean": runs.mean(0).tolist(), "sd": runs.std(0, ddof=1).tolist(),
                  "test_se": se, "at_T": runs[:, -1].tolist(),
                  "w1_T": float(np.mean([pde.w1(-1, r) for r in radii]))}
        log(f"{name}: SGD N = {N}: risk at T {runs[:, -1].mean():.5f} +- "
            f"{runs[:, -1].std(ddof=1):.5f} (PDE {pde.risk[-1]:.5f}); W1 of |w| at T "
            f"{sgd[N]['w1_T']:.4f}")
    # the risk of N neurons exceeds that of their law by about E[sigma^2] / N (its
    # diagonal); the large-N limit of SGD, L_inf + c / N fitted over N, is what the PDE
    # describes
    from meanfield.analysis import extrapolate

    fit = extrapolate([N for N in Ns for _ in sgd[N]["at_T"]],
                      [v for N in Ns for v in sgd[N]["at_T"]], power=1.0)
    out["sgd_extrapolated_T"] = [fit.y_inf, fit.ci_low, fit.ci_high]
    out["sgd_c_T"] = fit.c
    log(f"{name}: SGD extrapolated to N = inf (L_inf + c / N) at T: {fit.y_inf:.5f} "
        f"[{fit.ci_low:.5f}, {fit.ci_high:.5f}] (PDE {pde.risk[-1]:.5f})")
    top = sgd[Ns[-1]]
    dev = np.abs(np.array(top["mean"]) - pde.risk)
    allowed = 3 * np.array(top["sd"]) + top["test_se"]
    out.update(sgd={str(k): v for k, v in sgd.items()},
               sgd_ratio=float(np.max(dev[late] / allowed[late])), pde=pde, radii_T=radii[0])
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (about 5 min)")
    p.add_argument("--particles", type=int, default=None,
                   help="particles of the ReLU particle limit (default 3000, quick 1000)")
    p.add_argument("--ramp-particles", type=int, default=None,
                   help="largest M of the ramp particle limits (default 1000, quick 200; "
                        "M / 2 and M / 4 run too)")
    p.add_argument("--device", default=None,
                   help="run the pair sums (particle limits, exact risks) with torch on this "
                        "device: auto, cpu, cuda or cuda:K (default: the numba kernels)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    for flag, v in (("--particles", args.particles), ("--ramp-particles", args.ramp_particles)):
        if v is not None and v < 8:
            print(f"pde_vs_sgd: {flag} must be an integer >= 8, got {v}", file=sys.stderr)
            return 2
    if args.device is not None:
        try:
            from meanfield.torch.pairs import DevicePairSums

            DevicePairSums(args.device)
        except (ImportError, ValueError) as exc:
            print(f"pde_vs_sgd: --device {args.device}: {exc}", file=sys.stderr)
            return 2
    log = (lambda *a: None) if args.quiet else (lambda m: print(m, flush=True))
    t0 = time.time()
    T = 5.0
    times = np.linspace(0.0, T, 6)
    Ns = [250, 1000, 4000] if args.quick else [1000, 4000, 16000]
    seeds = [0, 1, 2]
    top = args.ramp_particles or (200 if args.quick else 1000)
    M_part = {"relu": ((args.particles or (1000 if args.quick else 3000),), 1),
              "ramp": ((top // 4, top // 2, top), 2 if args.quick else 1)}
    n_test = 20_000 if args.quick else 50_000
    cases = [("ramp, d = 40", 40, "ramp"), ("relu, d = 40", 40, "relu"),
             ("ramp, d = 20", 20, "ramp")]
    alpha = 1e-4 if args.quick else 5e-5
    results = [run_case(*c, times, Ns, seeds, M_part, n_test, alpha, args.quick, log,
                        device=args.device, progress=not args.quiet)
               for c in cases]

    from meanfield.plotting import pde_vs_sgd_figure, save_figure

    stem = "pde_vs_sgd_quick" if args.quick else "pde_vs_sgd"
    OUT.mkdir(exist_ok=True)
    save_figure(pde_vs_sgd_figure(results), OUT / stem)
    old_a = "sup relative gap at the largest M < 0.01 (judged)"
    claims = []
    for r in results:
        row = dict(claim=f"(a) {r['name']}: sup relative gap of the PDE and the particle limit "
                         f"(M = {r['particle_M']}) after 5% of the horizon",
                   paper=PAPER, value=r["particle_rel"], figure=str(OUT / f"{stem}.png"),
                   M=r["particle_M"],
                   note="the issue asks for M >= 1e5 (a GPU run, --device); this is the M used")
        if r["activation"] == "relu":
            claims.append(claim_row("pde_vs_sgd/a/relu", **row, controls=controls_a(
                "pde_vs_sgd/a/relu", r, r["particle_risk"])))
        else:
            claims.append(claim_row("pde_vs_sgd/a/ramp", case=r["name"], old_rule=old_a,
                                    old_pass=bool(r["particle_rel"] < 0.01), **row))
    # at quick sizes the fit is pre-asymptotic (docs/validation.md): reported, with the
    # verdict the full-size rule would give
    a_ext = "pde_vs_sgd/a-extrapolated" + ("-quick" if args.quick else "") + "/ramp"
    a_ext_full = RULES["pde_vs_sgd/a-extrapolated/ramp"]
    claims += [claim_row(
        a_ext,
        f"(a') {r['name']}: sup relative gap of the PDE and the particle limit extrapolated in "
        f"M (L_inf + c / M over M = {M_part['ramp'][0]}, {M_part['ramp'][1]} draw(s) each) "
        "after 5% of the horizon",
        PAPER, r["particle_extrapolated_rel"], figure=str(OUT / f"{stem}.png"), case=r["name"],
        interval_T=r["particle_extrapolated_T"],
        # judged by the full-size rule at quick sizes too, as old_pass is
        controls=controls_a("pde_vs_sgd/a-extrapolated/ramp", r, r["particle_extrapolated"]),
        **({"old_rule": a_ext_full.text + " (judged at quick sizes too)",
            "old_pass": a_ext_full.judge(r["particle_extrapolated_rel"])} if args.quick else {}))
        for r in results if "particle_extrapolated_rel" in r]
    for r in results:
        N_max = max(map(int, r["sgd"]))  # Ns[-1]
        top_N = r["sgd"][str(N_max)]
        sgd_T, pde_T = float(np.mean(top_N["at_T"])), r["pde_risk"][-1]
        claims.append(claim_row(
            "pde_vs_sgd/b",
            f"(b) {r['name']}: SGD at N = {N_max}, sup of |mean - PDE| / (3 seed SD + test "
            "SE) after 5% of the horizon, beside its O(1/N) term c / N at T",
            PAPER, r["sgd_ratio"], figure=str(OUT / f"{stem}.png"), case=r["name"],
            N=N_max, sgd_T=sgd_T, pde_T=pde_T, gap_T=sgd_T - pde_T,
            c_over_N_T=r["sgd_c_T"] / N_max,
            old_rule="sup |mean - PDE| / (3 SD + test SE) <= 1 (judged)",
            old_pass=bool(r["sgd_ratio"] <= 1.0)))
    for r in results:
        L, lo, hi = r["sgd_extrapolated_T"]
        pde_T = r["pde_risk"][-1]
        se = r["sgd"][str(max(map(int, r["sgd"])))]["test_se"]  # shared by every N: not in
        # the fit's interval
        ratio = abs(L - pde_T) / (0.01 * pde_T + 3 * se)
        # ReLU's risk moves by under 1% in the whole run: reported (docs/validation.md)
        claims.append(claim_row(
            "pde_vs_sgd/c/relu" if r["name"].startswith("relu") else "pde_vs_sgd/c",
            f"(c) {r['name']}: |L_inf - PDE| / (0.01 PDE + 3 test-sample SE) at T, L_inf of "
            "SGD extrapolated in N (L_inf + c / N)", PAPER, ratio,
            figure=str(OUT / f"{stem}.png"), case=r["name"], relative=abs(L - pde_T) / pde_T,
            L_inf=L, interval_L_inf=[lo, hi], pde=pde_T, controls=controls_c(r, L, se)))
    for r in results:
        r.pop("pde"), r.pop("radii_T")
    ok = verdict(claims)
    report = {"claims": claims, "pass": ok, "quick": args.quick, "device": args.device,
              "cases": results, "seconds": time.time() - t0}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=float))
    for c in claims:
        res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
        extra = (f" (c / N at T {c['c_over_N_T']:.5f}, SGD - PDE at T {c['gap_T']:+.5f})"
                 if "c_over_N_T" in c else "")
        print(f"{res:8s} {c['id']}: {c['value']:.4f}{extra}"
              + (f" (old rule {c['old_rule']}: {'PASS' if c['old_pass'] else 'FAIL'})"
                 if "old_pass" in c else ""))
        for k in c.get("controls", []):
            print(f"         control ({k['control']}): {k['value']:.4f}: "
                  + ("PASS (the rule cannot tell)" if k["pass"] else "FAIL, as it must"))
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
