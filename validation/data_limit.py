"""SGD against its mean-field limit on a real data set's empirical law.

Claim (Mei, Misiakiewicz & Montanari 2019, Theorem 1, for any data law with
bounded labels and sub-Gaussian inputs; the empirical law of a finite data
set is one): with SGD and the ideal particles coupled through their initial
weights and alpha = 1/N,

    sup_t |L_N(theta^k) - R(rho_t)|   and   sup_t max_i |theta_i^k - thetabar_i(k alpha)|

are O(N^(-1/2)) up to logarithms.  Here the data law is the uniform law on
two classes of a real data set (labels +1 and -1, pixels standardised on the
kept rows: ``meanfield.tasks.EmpiricalTask``), so the risk, the field and the
limit are exact sums over the data set, not Monte Carlo estimates.

Rows (rules in ``meanfield.analysis.claims.RULES``, stated in
docs/validation.md, "Real data"):

* ``data_limit/risk[<data>]``: the risk gap's log-log slope in N, judged as an
  upper rate (upper end of the 95% interval <= -0.35);
* ``data_limit/coupling[<data>]``: the coupling distance's slope, the same rule.

Each carries its control: SGD at a fixed alpha = 0.05 at every N, from the
same initial weights, against the same limit (the sqrt(alpha) term of the
bound does not vanish), which must FAIL.  The pipeline is
``validation/sgd_vs_limit.py``'s (its ``run`` and ``fit_all``): one
reference population of M particles per seed carries rho_t, seeds are the
units of a jackknife t-interval.

On the same data, Shevchenko & Mondelli's Theorem 1 (bounded labels and a
sub-Gaussian gradient in w under the data law, (A2): a finite data set with
labels +-1 has both) with alpha = 1/N makes both terms of (3.7) and (3.8)
O(N^(-1/2)) up to logarithms, D = d:

* ``data_limit/dropout[<data>]``: the slope in N of eps_D at |A| = N/2 at
  t = T (4 independent A per net; fitted on the means over nets), judged as
  an upper rate; control: eps_D at a fixed |A| = 12 (16 nested draws per
  net) in N, where the first term of (3.7), sqrt(log|A| / |A|), stays;
* ``data_limit/connectivity[<data>]``: the slope in N of eps_C of the
  seven-segment path through A (mean over pairs), judged as an upper rate;
  control: the barrier of the straight line between the same two nets.

The pipeline is ``validation/dropout_rates.py``'s (``run_stability`` with the
data set as the ``task`` setting, its ``size_rows``, ``size_control``,
``straight_control`` and ``local_slopes``); the pairs are theta and theta'
trained from independent draws of the same initial law, with their own SGD
samples.

Setting: erf student (bounded, differentiable: assumption A3), a uniform on
[-sqrt 3, sqrt 3] (bounded: A4), w ~ N(0, I/d), T = 1, RK4 with the step
:func:`limit_step` resolves (halved from 0.1 until one more halving changes R(rho_t)
by at most 1e-3 and moves no tagged particle by more than 1e-2; digits: 0.025;
Fashion-MNIST: 0.00625 or below, which makes its default run a GPU job).
Quick (``--quick``): scikit-learn's digits, classes 0 and 1 (360 images,
d = 64), N = 100 ... 800, M = 2000, 10 seeds; the stability rows at N = 100
... 1600, 10 pairs.  Default: Fashion-MNIST classes 0 and 6 (T-shirt and
shirt, 12000 images, d = 784; Debian's ``dataset-fashion-mnist``), N = 250
... 2000, M = 5000, 10 seeds; the stability rows at N = 125 ... 1000, 5 pairs
(about 10 CPU minutes: one pair at N = 1000 takes about 54 s on one
thread, more than half of it the straight line's barrier).  Without the data
set the script says how to install it and exits 2.

``--stability-only`` runs the dropout and connectivity rows alone (SGD nets,
no limit); the result's ``parts`` says which experiments ran.

Writes validation/out/data_limit{,_quick}.{csv,json,png,pdf}; each finished
seed's rows under validation/out/data_limit{,_quick}_seeds/ (a stopped run
resumes at the first seed missing, the data set's SHA-256 in the key); the
stability cells (resumable) under validation/out/data_limit{,_quick}_cells/ and their
tables and figures under validation/out/data_limit{,_quick}_stability/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


import dropout_rates as dr
import numpy as np
import sgd_vs_limit as svl
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.experiments.stability import run_stability, save_stability
from meanfield.plotting import plt, rate_plot, save_figure
from meanfield.tasks import DataError, data_law, file_sha256
from meanfield.tasks.data_specs import task_slug
from meanfield.tasks.datasets import DatasetNotFoundError
from meanfield.twolayer import resolved_step
from meanfield.twolayer.experiment import StabilityConfig

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Mei, Misiakiewicz & Montanari 2019 Thm 1 (any data law); Shevchenko & Mondelli 2020"
SM = "Shevchenko & Mondelli 2020, Thm 1"
# ``stability``: the grid of the dropout and connectivity rows (N >= 8 FIXED_SIZE at every N)
QUICK = dict(spec="digits:0,1", Ns=(100, 200, 400, 800), M=2000, seeds=10,
             stability=dict(Ns=(100, 200, 400, 800, 1600), seeds=10))
FULL = dict(spec="fashion-mnist:0,6", Ns=(250, 500, 1000, 2000), M=5000, seeds=10,
            stability=dict(Ns=(125, 250, 500, 1000), seeds=5))
FIXED_SIZE = 12  # the |A| of the dropout row's control


def stability_config(spec, d, Ns, seeds, data_sha256=None):
    """The :class:`StabilityConfig` of the dropout and connectivity rows on data ``spec``.

    erf (A3), a uniform on [-sqrt 3, sqrt 3] (bounded: A4), alpha = 1/N, T = 1;
    eps_D at t = T only (the judged time), 4 draws of A of size N/2 per net; the
    control's fixed |A| = ``FIXED_SIZE`` at every N (16 nested draws per net) and the
    straight line at every N; no aligned line (O(N^3)) and no rescaled dropout.
    """
    return StabilityConfig(task=spec, data_sha256=data_sha256, d=d, activation="erf",
                           a_law="uniform", T=1.0,
                           alpha0=1.0, times=(1.0,), half_draws=4, Ns=tuple(Ns), seeds=seeds,
                           sweep_Ns=tuple(Ns), sweep_sizes=(FIXED_SIZE,), sweep_draws=16,
                           straight_max_N=max(Ns), aligned_max_N=0, rescaled_draws=0)


def _nan_fit_row(cid, claim, paper, fits, key, figure, data, controls, **extra):
    """A claim row from ``fits[key]``; NaN (judged FAIL) where there is no fit (a mean of
    0 at some N leaves the log-log fit undefined)."""
    f = fits.get(key)
    value, iv = (np.nan, (np.nan, np.nan)) if f is None else (f.slope, (f.ci_low, f.ci_high))
    return claim_row(cid, claim, paper, value, iv, figure, case=data, controls=controls,
                     **extra)


def stability_claims(res, data, fig):
    """The rows ``data_limit/dropout[data]`` and ``data_limit/connectivity[data]`` of a
    :class:`~meanfield.twolayer.experiment.StabilityResult` run by :func:`stability_config`,
    each with its control, and the numbers reported beside them: ``(claims, details)``.

    ``fig`` is the folder of ``save_stability``'s figures.

    References
    ----------
    .. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout stability
       of SGD solutions for over-parameterized neural networks", ICML 2020, Theorem 1,
       eqs. (3.7)-(3.8).
    """
    fits = res.fits()
    nets = res.per_network()
    t_last = nets["t"].max()
    key = f"eps_D t={t_last:g}"
    sweep = res.per_network("sweep")
    sizes = dr.size_rows(sweep)
    Ns = sorted(int(n) for n in sweep["N"].unique())
    straight_max = int(res.paths.dropna(subset=["barrier_straight"])["N"].max())
    pairs = res.per_pair()
    zero_eps_C = [int(n) for n, m in pairs.groupby("N")["eps_C"].mean().items() if m <= 0]
    claims = [
        _nan_fit_row("data_limit/dropout", f"{data}, erf: eps_D at |A| = N/2, t = {t_last:g}: "
                     f"slope in N (N = {Ns[0]} ... {Ns[-1]})", SM + ", (3.7)", fits, key,
                     str(Path(fig) / "dropout_vs_n.png"), data,
                     dr.size_control("data_limit/dropout", sizes[0], Ns)),
        _nan_fit_row("data_limit/connectivity", f"{data}, erf: eps_C of the seven-segment path "
                     f"(mean over pairs): slope in N (N = {Ns[0]} ... {Ns[-1]})",
                     SM + ", (3.8)", fits, "eps_C", str(Path(fig) / "connectivity_vs_n.png"),
                     data, dr.straight_control("data_limit/connectivity", fits, straight_max),
                     zero_mean_at_N=zero_eps_C),
    ]
    last = nets[nets["t"] == t_last]
    details = {
        "Ns": Ns, "pairs_per_N": int(pairs.groupby("N").size().min()),
        "eps_D_half_means": {int(n): float(v) for n, v in
                             last.groupby("N")["eps_D"].mean().items()},
        "eps_D_fixed_size_means": sizes[0]["means"], "fixed_size": sizes[0]["size"],
        "means": pairs.groupby("N")[["eps_C", "barrier_straight", "L_1", "L_2"]]
        .mean().to_dict(),
        "eps_C_zero_fraction": float((res.paths["eps_C"] == 0).mean()),
        "eps_C_local_slopes": dr.local_slopes(pairs, "eps_C"),
        "fits": {k: dr._fit(f) for k, f in fits.items()},
        "final_risk_mean": float(pairs[["L_1", "L_2"]].mean().mean()),
        "complete": res.complete, "failed_cells": len(res.failed),
    }
    return claims, details


def run_stability_rows(spec, d, grid, stem, progress, data_sha256=None):
    """Run (or resume) the stability cells of ``grid`` on data ``spec``, save their tables
    and figures and return :func:`stability_claims`."""
    cfg = stability_config(spec, d, **grid, data_sha256=data_sha256)
    cells = OUT / f"{stem}_cells" / task_slug(spec, data_sha256)
    res = run_stability(cfg, progress=progress, folder=cells)
    fig = OUT / f"{stem}_stability"
    save_stability(res, fig)
    return stability_claims(res, spec, fig)


def _claims(fits, data, png):
    rows = []
    for key, what in (("risk_gap", "sup_t |L_N(theta^k) - R(rho_t)|"),
                      ("max_dist", "sup_t max_i |theta_i^k - thetabar_i(k alpha)|")):
        cid = "data_limit/risk" if key == "risk_gap" else "data_limit/coupling"
        f, c = fits[key], fits[f"control_{key}"]
        rows.append(claim_row(
            cid, f"{data}, erf: {what} = O(N^(-1/2)) with alpha = 1/N (slope in N)", PAPER,
            f.slope, (f.ci_low, f.ci_high), png, case=data,
            controls=[control_row(cid, f"SGD at a fixed alpha = {svl.CONTROL_ALPHA}: slope in N",
                                  c.slope, (c.ci_low, c.ci_high))]))
    return rows


def result_stem(quick, task=None, data_sha256=None):
    """The name of the results of a run on ``task`` (None: the mode's data set):
    ``data_limit[_quick]`` and, for another task, ``_`` and its
    :func:`~meanfield.tasks.data_specs.task_slug`."""
    stem = "data_limit_quick" if quick else "data_limit"
    return stem if task is None else f"{stem}_{task_slug(task, data_sha256)}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="digits 0 vs 1: N <= 800, 10 seeds; stability N <= 1600, 10 pairs "
                        "(a few minutes)")
    p.add_argument("--task", default=None,
                   help="the data law: digits[:I,J], fashion-mnist[:I,J] or FILE.npz (arrays "
                        "X (n, d) and y (n,) with labels in [-1, 1]) at the mode's sizes "
                        "(default: the mode's data set); results go to data_limit[_quick]_"
                        "<task>.*")
    p.add_argument("--device", default=None,
                   help="run the limit's field sums with torch on this device (auto, cpu, "
                        "cuda, cuda:K): the default run's 40 field evaluations per seed of "
                        "8750 particles on 12000 images take about an hour per seed on a CPU "
                        "core (default: the numba/BLAS sums)")
    p.add_argument("--stability-only", action="store_true",
                   help="only the dropout and connectivity rows (SGD nets, no limit): the "
                        "SGD-vs-limit rows of the default run need the limit at a step that "
                        "resolves it on Fashion-MNIST, a GPU job (docs/validation.md, 'The "
                        "limit's step on real data')")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    s = dict(QUICK if args.quick else FULL)
    stem = "data_limit_quick" if args.quick else "data_limit"
    sha = None
    if args.task is not None:
        s["spec"] = args.task.strip()
    try:
        if s["spec"].endswith(".npz"):
            sha = file_sha256(s["spec"])
        task = data_law(s["spec"], "erf", sha)
    except (DatasetNotFoundError, DataError) as exc:
        print(f"data_limit: {exc}", file=sys.stderr)
        return 2
    if args.task is not None:
        stem = result_stem(args.quick, s["spec"], sha)
    if args.device is not None:
        try:
            from meanfield.torch.pairs import on_device
        except ImportError:
            from meanfield._meta import TORCH_HINT

            print(f"data_limit: --device needs torch: {TORCH_HINT}", file=sys.stderr)
            return 2
        try:
            task = on_device(task, args.device)
        except ValueError as exc:
            print(f"data_limit: --device {args.device}: {exc}", file=sys.stderr)
            return 2
    t0 = time.time()
    if args.stability_only:
        claims, stab = run_stability_rows(s["spec"], int(task.d), s["stability"], stem,
                                          not args.quiet, sha)
        stab["seconds"] = time.time() - t0
        return _finish(claims, args, s, task, sha, stem, t0, fits={}, stab=stab)
    h, checks = limit_step(task, s["Ns"], s["M"])
    if not args.quiet:
        print(f"the limit's step: h = {h:g} (" + "; ".join(
            f"h = {c['h']:g} against h / 2: |dR| <= {c['risk_change']:.1e}, move "
            f"{c['move']:.1e}" for c in checks) + ")", flush=True)
    df = svl.run(list(s["Ns"]), s["seeds"], s["M"], "erf", task=task, alphas=(), h=h,
                 progress=not args.quiet, store=OUT / f"{stem}_seeds")
    fits = svl.fit_all(df, alpha_sweep=False)
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / f"{stem}.csv", index=False)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    main_, ctl = df[df["arm"] == "main"], df[df["arm"] == "fixed-alpha"]
    rate_plot(main_["N"], main_["risk_gap"], fits["risk_gap"], label="risk gap", ax=ax)
    rate_plot(main_["N"], main_["max_dist"], fits["max_dist"], label="coupling distance", ax=ax)
    rate_plot(ctl["N"], ctl["max_dist"], fits["control_max_dist"],
              label=f"control (alpha = {svl.CONTROL_ALPHA}): coupling distance", ax=ax)
    ax.set_ylabel("sup over snapshots")
    ax.set_title(f"SGD vs its limit on {task.describe()} (n = {task.n}, d = {task.d}), erf, "
                 f"M = {s['M']}", fontsize=8)
    ax.legend(fontsize=6)
    png = str(save_figure(fig, OUT / stem)[0])
    claims = _claims(fits, s["spec"], png)
    t1 = time.time()
    stab_claims, stab = run_stability_rows(s["spec"], int(task.d), s["stability"], stem,
                                           not args.quiet, sha)
    stab["seconds"] = time.time() - t1
    claims += stab_claims
    return _finish(claims, args, s, task, sha, stem, t0, fits=fits, stab=stab,
                   limit={"Ns": list(s["Ns"]), "M": s["M"], "seeds": s["seeds"], "h": h,
                          "step_checks": checks})


def limit_step(task, Ns, M):
    """The limit's RK4 step by the rule of docs/validation.md ("The limit's step on real
    data"): halved from 0.1 until one more halving changes R(rho_t) at every snapshot by
    at most 1e-3 and moves no tagged particle by more than 1e-2, on seed 0's reference
    population (M particles) with the largest N's initial weights tagged.
    ``(h, checks)``: see :func:`meanfield.twolayer.resolved_step`."""
    ref, starts, _ = svl.seed_draws(0, list(Ns), M, task.d)
    return resolved_step(ref, task, svl.snapshot_times(1.0), starts[-1], h=0.1,
                         risk_tol=1e-3, move_tol=1e-2)


def _finish(claims, args, s, task, sha, stem, t0, fits, stab, limit=None):
    """Write the result JSON, print each row and its controls; the exit status.
    ``limit``: the SGD-vs-limit part's design (Ns, M, seeds, h, step_checks), None where
    only the stability rows ran (``parts`` in the JSON says which ran)."""
    ok = verdict(claims)
    report = {"claims": claims, "pass": ok, "quick": args.quick, "data": s["spec"],
              "data_sha256": sha, "device": args.device,
              "parts": ["stability"] if limit is None else ["limit", "stability"],
              "n": int(task.n), "d": int(task.d), **(limit or {}),
              "fits": {k: [f.slope, f.ci_low, f.ci_high] for k, f in fits.items()},
              "stability": stab, "seconds": time.time() - t0}
    OUT.mkdir(exist_ok=True)
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=float))
    for c in claims:
        res = "PASS" if c["pass"] else "FAIL"
        ctl_ = "; ".join(f"control {x['control']}: {x['value']:+.3f} "
                         f"[{x['interval'][0]:+.3f}, {x['interval'][1]:+.3f}] "
                         f"{'PASS' if x['pass'] else 'FAIL'}" for x in c["controls"])
        print(f"{res}: {c['id']}: slope {c['value']:+.3f} [{c['interval'][0]:+.3f}, "
              f"{c['interval'][1]:+.3f}]; {ctl_}")
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
