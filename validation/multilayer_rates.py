"""Multilayer dropout stability and connectivity against Theorem 2 of Shevchenko & Mondelli.

L + 1 = 4 layers (eq. 1.1: fixed first layer W_1 x, trained W_2 and W_3, fixed
last layer), sigmoid, initial middle/last weights uniform on 1 +- sqrt 3
(mean 1, sd 1, bounded as (B4) asks; N(1, 1) until 2026-12-06), teacher
tanh(<v_1, x>) + tanh(<v_2, x>) with x ~ N(0, I_d), one-pass SGD (4.3) to
T = 20 (the judged scaled-alpha sweep with one sample per step, as (4.3)
has it, since 2026-12-06; the fixed-alpha observations with mini-batches of
10); risks by Monte Carlo on 4000 fixed points
(standard errors in the table).  Each cell trains a pair of nets with
independent initialisations and data.  eps_C of one pair is exactly 0
whenever the path peaks at an end (a third of the pairs with one kept set),
so its mean needs more pairs than eps_D does: at d = 10 two independent sets
of 10 pairs (two kept sets each) gave eps_C slopes of -0.825 [-1.120, -0.612]
and -0.455 [-0.706, -0.186], hence 20 pairs.  Each pair's eps_C is the mean
over 2 kept sets by default (``--path-draws K``: K sets, the first being the
one a single set draws; the same mean with a smaller variance, since the
sets' eps_C correlate at 0.3 within a pair; each further set adds the path,
about 40% of a cell's time at N = 1600).

Every claim is judged by its rule in ``meanfield.analysis.claims.RULES``
(``docs/validation.md`` states them).  The bounds (4.4)-(4.5) are, with
probability at least 1 - exp(-z^2),

    eps_D <= K (sqrt(d) + z) / sqrt(A_min) + K sqrt(log N / N)
             + K sqrt(alpha) (sqrt(d + log N) + z),
    eps_C <= K (sqrt(d + log N) + z) / sqrt(N) + K sqrt(alpha) (sqrt(d + log N) + z),

so a decay like N^(-1/2) in N is the theorem's only when alpha -> 0 with N.

Fixed alpha = 0.1 (full: d in {10, 40, 160}, N = 200 ... 1600, 10 pairs;
quick: d in {10, 40}, N = 100 ... 400, 2 pairs).  The sqrt(alpha) terms do
not vanish, so the slopes are observations:

(a) ``multilayer_rates/a/fixed-alpha[d=...]``: log-log slope in N of eps_D
    with |A_l| = N/2 in every hidden layer (mean over 3 random kept sets
    per net), fitted on the nets;
(b) ``multilayer_rates/b/fixed-alpha[d=...]``: slope of the mean eps_C of
    the path through the dropout networks (meanfield.connectivity.
    dropout_connect, 27 segments), fitted on the means over pairs; where
    the mean is exactly 0 at some N the slope is undefined and the row says
    so.

Scaled alpha = alpha0 / N, alpha0 = 20, T = 20 fixed (so T / alpha = N
steps: alpha = 0.1 at N = 200, the fixed setting; full: d = 10, N = 100 ...
1600, 20 pairs; quick: d = 10, N = 100 ... 800, 6 pairs): every term of
(4.4)-(4.5) falls like N^(-1/2) up to logarithms (A_min = N/2), and

(a) ``multilayer_rates/a/scaled-alpha[d=10]``: the eps_D slope,
(b) ``multilayer_rates/b/scaled-alpha[d=10]``: the eps_C slope (means),

are judged as upper bounds (upper end of the slope's 95% interval <= -0.35).
The full sweep ends at N = 1600, the size set before the first full run; it
was cut to 800 for time in that run and restored on 2026-12-07, before its
N = 1600 cells ran (docs/validation.md, "The multilayer N-rate at its
design size").  An N = 3200 cell would take about 7 min per net.

(e) ``multilayer_rates/e/scaled-alpha[d=10]``: Theorem 2(A) in A_min: each
    scaled-alpha cell also drops every hidden layer to |A_l| in {10, 20, 40}
    (one kept set per net and size); at N = 800 the slope of eps_D in A_min
    over {10, 20, 40, 400}, nets as units, judged as an upper bound (at
    N = 800 in both modes: the size it was judged at first).  Its
    control, also shown beside (a) scaled-alpha: eps_D at the fixed
    |A_l| = 20 fitted in N.

(c) ``multilayer_rates/c`` (observation): eps_D(d_max) / eps_D(d_min) at
    the largest N of the fixed-alpha sweep (A_min = N/2; full: d = 160 vs
    10, quick: 40 vs 10) with a bootstrap interval, beside sqrt(d_max /
    d_min), the shape of the leading term of (4.4) (also under "ratio_d" in
    the JSON).  Also reported: the risk extrapolated to N -> infinity
    (L_inf + c N^(-1/2), an extrapolation, not the exact limit).

Rows whose rule changed carry ``old_rule`` and ``old_pass``: the slope's
point in [-0.7, -0.3] judged the fixed-alpha rows before (and is given for
the scaled rows too).

Cells run through the sweep runner into
validation/out/multilayer_rates{,_quick}{,_A<K>}/ (fixed alpha) and
..._scaled/ (alpha0 / N), resumable; pass --scheduler to use a Dask
cluster.  Full run (sizes set on 2026-12-01 to fit one working session of
about 2 hours on this 2-core machine beside the other scripts, before any
full-size run under the current rules; they were N <= 3200 with 20 pairs
fixed, N <= 1600 scaled, about 4 hours): the fixed sweep is 120 cells (an
N = 1600 cell about 55 s), the scaled one 80 (an N = 800 cell about 30 s).  Quick
mode: 239 s of CPU time with one worker (measured 2026-12-01).  Writes
validation/out/<stem>.json (claims, the verdict, "ratio_d", "seconds"; with
the default --path-draws also multilayer_rates{,_quick}.json, which
``meanfield validate`` reads) and prints the claims with PASS, FAIL or
"reported".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from meanfield.analysis import extrapolate, loglog_fit, multilayer_summary, ratio_interval
from meanfield.analysis.claims import add_controls, claim_row, control_row, verdict
from meanfield.experiments import cell_commits, load_tables, parse_config, run_sweep
from meanfield.plotting import multilayer_figures, save_figure
from meanfield.plotting import multilayer_rates as multilayer_rates_figure

OUT = Path(__file__).resolve().parent / "out"
BAND = (-0.7, -0.3)
OLD_RULE = "slope in [-0.7, -0.3]"
PAPER = "Shevchenko & Mondelli 2020, Thm 2 (4.4)-(4.5)"
ALPHA = 0.1
ALPHA0 = 20.0
T = 20.0
PATH_DRAWS = 2
#: further kept sizes |A_l| of the scaled-alpha sweep (claim (e)): none is N/2 of its Ns
SIZES = (10, 20, 40)
#: the N of claim (e)
E_N = 800
CONTROL_SIZE = 20


def _sweep(ds, Ns, seeds, path_draws, sizes=(), batch_size=10, **step):
    """The multilayer sweep at fixed ``alpha`` or ``alpha0`` (the step alpha0 / N)."""
    return parse_config({"experiment": "multilayer",
                         "fixed": {"L": 3, **step, "batch_size": batch_size, "T": T,
                                   # bounded middle and last weights, as (B4) asks
                                   "a_law": "uniform",
                                   "n_mc": 4000, "half_draws": 3,
                                   # only when asked for: the stored single-set sweep
                                   # has no such key and would refuse the config
                                   **({"path_draws": path_draws} if path_draws > 1 else {}),
                                   **({"sizes": list(sizes)} if sizes else {})},
                         "grid": {"d": ds, "N": Ns, "seed": seeds}})


def _slopes(per_net, pairs, d):
    """Fits of eps_D (on the nets) and of eps_C (on the means; None with the Ns where
    every pair's eps_C is 0, the slope then being undefined)."""
    fit_d = loglog_fit(per_net[per_net["d"] == d]["N"], per_net[per_net["d"] == d]["eps_D"])
    g = pairs[pairs["d"] == d]
    means = g.groupby("N")["eps_C"].mean()
    if (means > 0).all():
        return fit_d, loglog_fit(g["N"], g["eps_C"].clip(lower=0), on="means"), []
    return fit_d, None, [int(n) for n in means[means <= 0].index]


def _rate_rows(setting, what, per_net, pairs, ds, figure):
    rows = []
    for d in ds:
        fit_d, fit_c, zero = _slopes(per_net, pairs, d)
        rows.append(claim_row(
            f"multilayer_rates/a/{setting}", f"(a) eps_D (|A_l| = N/2) at {what}: slope in N",
            PAPER + ", (4.4)", fit_d.slope, (fit_d.ci_low, fit_d.ci_high), figure,
            case=f"d={d}", old_rule=OLD_RULE,
            old_pass=bool(BAND[0] <= fit_d.slope <= BAND[1])))
        if fit_c is None:
            rows.append(claim_row(
                f"multilayer_rates/b/{setting}",
                f"(b) eps_C (mean over pairs) at {what}: slope in N undefined, eps_C = 0 for "
                f"every pair at N = {zero}", PAPER + ", (4.5)", float("nan"), None, figure,
                case=f"d={d}", old_rule=OLD_RULE, old_pass=False))
        else:
            rows.append(claim_row(
                f"multilayer_rates/b/{setting}",
                f"(b) eps_C (mean over pairs) at {what}: slope in N", PAPER + ", (4.5)",
                fit_c.slope, (fit_c.ci_low, fit_c.ci_high), figure, case=f"d={d}",
                old_rule=OLD_RULE, old_pass=bool(BAND[0] <= fit_c.slope <= BAND[1])))
    return rows


def _size_rows(tables, d, figure, fit_a):
    """Claim (e): eps_D in A_min at N = E_N (or the largest N below), nets as units; the
    fixed-|A_l| control
    (eps_D at |A_l| = CONTROL_SIZE in N), also attached to (a)'s row ``fit_a``."""
    drop = tables["dropout"][tables["dropout"]["d"] == d]
    per = drop.groupby(["N", "seed", "net", "size"], as_index=False)["eps_D"].mean()
    n_max = per["N"][per["N"] <= E_N].max()
    top = per[per["N"] == n_max]
    units = top["seed"].astype(str) + "-" + top["net"].astype(str)
    fe = loglog_fit(top["size"], top["eps_D"], units=units)
    fixed = per[per["size"] == CONTROL_SIZE]
    fc = loglog_fit(fixed["N"], fixed["eps_D"], on="means")
    sizes = sorted(int(s) for s in top["size"].unique())

    def ctl(claim_id):
        return [control_row(claim_id, f"eps_D at a fixed |A_l| = {CONTROL_SIZE}: slope in N "
                            f"({fixed['N'].min()} ... {fixed['N'].max()})", fc.slope,
                            (fc.ci_low, fc.ci_high))]

    add_controls(fit_a, ctl("multilayer_rates/a/scaled-alpha"))
    return claim_row(
        "multilayer_rates/e/scaled-alpha", f"(e) eps_D in A_min at N = {n_max}, alpha = "
        f"{ALPHA0:g} / N (|A_l| = {', '.join(map(str, sizes))}): slope in A_min",
        PAPER + ", (4.4), Theorem 2(A)", fe.slope, (fe.ci_low, fe.ci_high), figure,
        case=f"d={d}", controls=ctl("multilayer_rates/e/scaled-alpha"))


def _means(per_net, pairs):
    return {"eps_D_mean": per_net.groupby(["d", "N"])["eps_D"].mean().unstack().to_dict(),
            "eps_C_mean": pairs.groupby(["d", "N"])["eps_C"].mean().unstack().to_dict()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="fixed alpha: d in {10, 40}, N <= 400, 2 pairs; alpha0 / N: d = 10, "
                        "N <= 800, 6 pairs (about 4 min)")
    p.add_argument("--path-draws", type=int, default=PATH_DRAWS,
                   help="kept sets per pair for eps_C, averaged (default 2; writes to "
                        "multilayer_rates_A<K>, or multilayer_rates for K = 1)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--scheduler", default=None)
    args = p.parse_args(argv)
    t0 = time.time()
    ds = [10, 40] if args.quick else [10, 40, 160]
    Ns = [100, 200, 400] if args.quick else [200, 400, 800, 1600]
    ds_s = [10]
    Ns_s = [100, 200, 400, 800] if args.quick else [100, 200, 400, 800, 1600]
    seeds = list(range(2 if args.quick else 10))
    seeds_s = list(range(6 if args.quick else 20))
    if args.path_draws < 1:
        print(f"multilayer_rates: --path-draws must be an integer >= 1, got {args.path_draws}",
              file=sys.stderr)
        return 2
    stem = "multilayer_rates_quick" if args.quick else "multilayer_rates"
    stem += f"_A{args.path_draws}" if args.path_draws > 1 else ""
    runs = {"fixed": (_sweep(ds, Ns, seeds, args.path_draws, alpha=ALPHA), OUT / stem),
            # one sample per step, as (4.3) has it (the judged rows)
            "scaled": (_sweep(ds_s, Ns_s, seeds_s, args.path_draws, sizes=SIZES,
                              batch_size=1, alpha0=ALPHA0),
                       OUT / f"{stem}_scaled")}
    # the judged sweep first: a run stopped for time keeps the cells that matter most (the
    # fixed-alpha sweep, observations only, is the longer: 30 cells of 2-3 CPU minutes at
    # N = 1600)
    for sweep, folder in (runs["scaled"], runs["fixed"]):
        rep = run_sweep(sweep, folder, workers=args.workers, scheduler=args.scheduler,
                        progress=not args.quiet)
        if rep.failed or rep.interrupted:
            print(f"multilayer_rates: {rep}", file=sys.stderr)
            return 1
    # {"dropout": ..., "paths": ...} of each sweep
    tables, tables_s = (load_tables(folder) for _, folder in runs.values())
    per_net, pairs = multilayer_summary(tables)
    per_net_s, pairs_s = multilayer_summary(tables_s)
    figs = multilayer_figures(tables, OUT / stem / "figures")
    fig = multilayer_rates_figure(tables_s)
    fig.axes[0].set_title(fig.axes[0].get_title() + f"; alpha = {ALPHA0:g} / N, T = {T:g}",
                          fontsize=8)
    fig_s = save_figure(fig, OUT / f"{stem}_scaled" / "figures" / "multilayer_rates_scaled")[0]
    claims = (_rate_rows("fixed-alpha", f"alpha = {ALPHA:g}, T = {T:g}", per_net, pairs, ds,
                         str(figs[0]))
              + _rate_rows("scaled-alpha", f"alpha = {ALPHA0:g} / N, T = {T:g}", per_net_s,
                           pairs_s, ds_s, str(fig_s)))
    for d in ds_s:
        row_a = next(c for c in claims if c["id"] == f"multilayer_rates/a/scaled-alpha[d={d}]")
        claims.append(_size_rows(tables_s, d, str(fig_s), row_a))
        row_b = next(c for c in claims if c["id"] == f"multilayer_rates/b/scaled-alpha[d={d}]")
        g = pairs_s[pairs_s["d"] == d]
        if "barrier_straight" in g and g["barrier_straight"].notna().all():
            fs = loglog_fit(g["N"], g["barrier_straight"], on="means")
            add_controls(row_b, [control_row(
                "multilayer_rates/b/scaled-alpha", "the straight line between the same two "
                "nets: slope in N", fs.slope, (fs.ci_low, fs.ci_high))])
    top = per_net[per_net["N"] == Ns[-1]]
    ratio, iv = ratio_interval(top[top["d"] == ds[-1]]["eps_D"].to_numpy(),
                               top[top["d"] == ds[0]]["eps_D"].to_numpy())
    shape = float(np.sqrt(ds[-1] / ds[0]))
    # (4.4)'s first term is (sqrt(d) + z) / sqrt(A_min): its ratio is 4.00 only at z = 0
    shape_z1 = float((np.sqrt(ds[-1]) + 1.0) / (np.sqrt(ds[0]) + 1.0))
    claims.append(claim_row(
        "multilayer_rates/c", f"(c) eps_D(d = {ds[-1]}) / eps_D(d = {ds[0]}) at N = {Ns[-1]}, "
        f"alpha = {ALPHA:g} (|A_l| = N/2), beside the shape of (4.4)'s first term, "
        f"(sqrt({ds[-1]}) + z) / (sqrt({ds[0]}) + z): {shape:.2f} at z = 0, {shape_z1:.2f} at "
        "z = 1", PAPER + ", (4.4)", ratio, iv, str(figs[0]),
        sqrt_d_shape=shape, sqrt_d_shape_z1=shape_z1))
    ext = {int(d): extrapolate(g["N"], g["risk"]) for d, g in per_net.groupby("d")}
    ext_s = {int(d): extrapolate(g["N"], g["risk"]) for d, g in per_net_s.groupby("d")}
    ok = verdict(claims)
    report = {"claims": claims, "pass": ok, "quick": args.quick,
              "ratio_d": {"d": [ds[0], ds[-1]], "N": Ns[-1], "ratio": ratio, "interval": iv,
                          "sqrt_d_shape": shape, "sqrt_d_shape_z1": shape_z1},
              "risk_extrapolation": {d: [e.y_inf, e.ci_low, e.ci_high] for d, e in ext.items()},
              **_means(per_net, pairs),
              "scaled_alpha": {"alpha0": ALPHA0, "T": T, "d": ds_s, "N": Ns_s,
                               "risk_extrapolation": {d: [e.y_inf, e.ci_low, e.ci_high]
                                                      for d, e in ext_s.items()},
                               **_means(per_net_s, pairs_s)},
              # which code computed the stored cells (a run resumed across commits)
              "cell_commits": {k: cell_commits(folder) for k, (_, folder) in runs.items()},
              "seconds": time.time() - t0}
    OUT.mkdir(exist_ok=True)
    text = json.dumps(report, indent=2, default=float)
    (OUT / f"{stem}.json").write_text(text)
    if args.path_draws == PATH_DRAWS:  # the file 'meanfield validate' reads
        (OUT / ("multilayer_rates_quick.json" if args.quick else "multilayer_rates.json")
         ).write_text(text)
    for name, (pn, pr) in ((f"alpha = {ALPHA:g}", (per_net, pairs)),
                           (f"alpha = {ALPHA0:g} / N", (per_net_s, pairs_s))):
        print(f"{name}: eps_D (|A_l| = N/2), mean over nets:")
        print(pn.groupby(["d", "N"])["eps_D"].mean().unstack().to_string(float_format="%.5f"))
        print(f"{name}: eps_C, mean over pairs:")
        print(pr.groupby(["d", "N"])["eps_C"].mean().unstack().to_string(float_format="%.5f"))
    for name, ex in ((f"alpha = {ALPHA:g}", ext), (f"alpha = {ALPHA0:g} / N", ext_s)):
        for d, e in ex.items():
            print(f"{name}, d = {d}: risk {e}")
    for c in claims:
        res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
        iv = c["interval"]
        print(f"{res:8s} {c['id']}: {c['value']:+.3f}"
              + (f" [{iv[0]:+.3f}, {iv[1]:+.3f}]" if iv else "")
              + (f" (old rule {c['old_rule']}: {'PASS' if c['old_pass'] else 'FAIL'})"
                 if "old_pass" in c else ""))
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
