"""Dropout stability against width, two to four layers (Shevchenko & Mondelli, Fig. 4).

Mean-field ReLU nets with 1, 2 and 3 hidden layers (``depth`` = 2, 3, 4 weight
layers), every layer trained with the mean-field gradient scaling (x N for
the first and last layer, x N^2 for the middle ones: the paper's (3.3) and
(4.3)), cross-entropy, mini-batches of 100, one net per (depth, N, seed).  At
the end of training the first half of every hidden layer is kept and
rescaled (Figure 1's dropout network) and the change in test error is
recorded: the paper's Figure 4.  The cells are ``empirical_cell`` of
:mod:`meanfield.torch.experiments`, the code of every torch experiment.

Claims (rules in docs/validation.md):

``empirical_depth/a[depth=L]``: the change in test error decreases with N:
    the upper end of the 95% interval of the log-log slope in N of |change|
    is below 0, per depth.  Control: the same nets dropped to the first 8
    neurons of every hidden layer (a fixed |A| at every N), which must FAIL.
``empirical_depth/paper[depth=L]`` (reported): the mean change at the
    largest N and the fit's value at N = 12800, beside the paper's numbers.

Quick mode (scikit-learn digits, N = 25 ... 200, 3 seeds, alpha = 0.5 for 30
epochs) and the default (Fashion-MNIST, N = 100 ... 800, 3 seeds, alpha = 0.2
for 1 epoch); ``--paper-schedule`` and ``--device cuda`` run Section 5's
schedule up to ``--max-n`` (the paper: 12800).

Writes validation/out/empirical_depth{,_quick}.{json,csv,png,pdf}; prints PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from meanfield._meta import torch_missing
from meanfield.analysis import dropout_change_fits
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.plotting import error_change_vs_n, save_figure
from meanfield.tasks.datasets import DatasetNotFoundError
from meanfield.torch.settings import EmpiricalSettings

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Shevchenko & Mondelli 2020, Section 5 (Fig. 4)"
#: Figure 4's numbers at N = 12800: (depth, task) -> change in test error.
PAPER_12800 = {2: "+0.35% (MNIST)", 3: "+0.4% (MNIST), +1% (CIFAR-10)", 4: "+3.6% (CIFAR-10)"}
DEPTHS = (2, 3, 4)
KEPT = 8  # the control's |A| per hidden layer, at every N


def run_depths(base, depths, Ns, seeds, log=None, cell=None):
    """One ``empirical_cell`` per (depth, N, seed), each with its own seed; one table.

    A cell's seed sets its data order, initial weights and dropout patterns, and the
    fits take the nets as independent runs, so no two cells share a seed.  ``cell`` runs
    one net (default: :func:`meanfield.torch.experiments.empirical_cell`; the GPU's
    ``--paper`` mode passes one that keeps each in a results folder).
    """
    if cell is None:
        from meanfield.torch.experiments import empirical_cell as cell

    rows = []
    for depth in depths:
        for N in Ns:
            for s in seeds:
                one = replace(base, depth=depth, N=N, seed=1_000_000 * depth + 1000 * N + s)
                t1 = time.time()
                rows.append(cell(one).assign(N=N, seed=s, depth=depth))
                if log:
                    end = rows[-1].iloc[-1]
                    log(f"depth {depth} N = {N:5d} seed {s}: test error {end['error_full']:.4f}, "
                        f"change {end['derror_half']:+.4f}, kept {base.kept}: "
                        f"{end.get('derror_kept', float('nan')):+.4f} ({time.time() - t1:.0f} s)")
    return pd.concat(rows, ignore_index=True)


def depth_claims(table, figure=None, setting=None, task="Fashion-MNIST"):
    """The rows of the claims: per depth the slope of |change in test error| in N at the
    end of training, with its fixed-|A| control, and the paper's Figure 4 beside it."""
    end = table[table["fraction"] == table["fraction"].max()]
    largest = int(end["N"].max())
    setting = setting or {}
    claims, fits = [], {}
    for depth, g in end.groupby("depth"):
        depth = int(depth)
        fit = dropout_change_fits(g, col="derror_half")[0].get(float(g["fraction"].iloc[0]))
        controls = []
        if "derror_kept" in g:
            ctl = dropout_change_fits(g, col="derror_kept")[0].get(float(g["fraction"].iloc[0]))
            kept = int(table["kept"].iloc[0]) if "kept" in table else KEPT
            controls.append(control_row(
                "empirical_depth/a", f"the same nets dropped to the first {kept} neurons of "
                "every hidden layer at every N",
                None if ctl is None else ctl.slope,
                None if ctl is None else (ctl.ci_low, ctl.ci_high)))
        fits[depth] = fit
        claims.append(claim_row(
            "empirical_depth/a", f"{task}, {depth} layers: slope in N of |change in test "
                                 "error| after dropping half of every hidden layer, at T",
            PAPER, None if fit is None else fit.slope,
            None if fit is None else (fit.ci_low, fit.ci_high), figure=figure,
            case=f"depth={depth}", controls=controls, **setting))
        last = g[g["N"] == largest]["derror_half"]
        at_paper = (float(np.exp(fit.intercept) * 12800.0 ** fit.slope)
                    if fit is not None else None)
        fit_words = "" if at_paper is None else f", the fit extrapolated to 12800: {at_paper:.2%}"
        claims.append(claim_row(
            "empirical_depth/paper",
            f"{task}, {depth} layers: change in test error at N = {largest} (mean over seeds; "
            f"interval: min and max{fit_words}); the paper at N = 12800: "
            f"{PAPER_12800.get(depth, '-')}",
            PAPER, float(last.mean()), (float(last.min()), float(last.max())),
            figure=figure, case=f"depth={depth}", extrapolated_12800=at_paper, **setting))
    return claims, fits


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="scikit-learn digits, N <= 200, 3 seeds (~1 min)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--data", default=None, help="Fashion-MNIST folder (default: Debian's)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:K (default cpu)")
    p.add_argument("--max-n", type=int, default=None,
                   help="largest N: doubles from the smallest up to it (default 200 quick, "
                        "800 full; the paper: 12800)")
    p.add_argument("--seeds", type=int, default=3, help="nets per (depth, N) (default 3)")
    p.add_argument("--paper-schedule", action="store_true",
                   help="Section 5's schedule: alpha = alpha0 / N for k0 N epochs")
    p.add_argument("--alpha0", type=float, default=20.0,
                   help="alpha0 of --paper-schedule (default 20)")
    p.add_argument("--k0", type=float, default=0.01,
                   help="k0 of --paper-schedule (default 0.01: with alpha0 = 20, the full "
                        "run's alpha = 0.2 for 1 epoch at N = 100)")
    args = p.parse_args(argv)
    n_min = 25 if args.quick else 100
    if args.max_n is not None and args.max_n < 2 * n_min:
        p.error(f"--max-n must be at least {2 * n_min} (two widths), got {args.max_n}")
    if args.seeds < 2:
        p.error(f"--seeds must be at least 2 (an interval needs spread), got {args.seeds}")
    if args.alpha0 <= 0 or args.k0 <= 0:
        p.error(f"--alpha0 and --k0 must be > 0, got {args.alpha0} and {args.k0}")
    if torch_missing("empirical_depth"):
        return 2
    from meanfield.torch.experiments import check_settings

    t0 = time.time()
    max_n = args.max_n or (200 if args.quick else 800)
    Ns = [n_min * 2 ** k for k in range(int(np.log2(max_n / n_min)) + 1)]
    if args.quick:
        base = EmpiricalSettings(dataset="digits", alpha=0.5, epochs=30.0)
    else:
        base = EmpiricalSettings(dataset="fashion-mnist", data_path=args.data or "", alpha=0.2,
                                 epochs=1.0)
    base = replace(base, device=args.device, snapshots=(1.0,), random_halves=0, kept=KEPT)
    if args.paper_schedule:
        base = replace(base, regime="paper", alpha0=args.alpha0, k0=args.k0)
    try:  # loads the data set once, into the cache the cells read
        check_settings(replace(base, N=Ns[-1], depth=max(DEPTHS)))
    except DatasetNotFoundError as exc:
        print(f"empirical_depth: {exc}", file=sys.stderr)
        return 2
    log = None if args.quiet else (lambda m: print(m, flush=True))
    table = run_depths(base, DEPTHS, Ns, range(args.seeds), log).assign(kept=KEPT)
    stem = ("empirical_depth_quick" if args.quick else "empirical_depth") + \
        ("_paper" if args.paper_schedule else "")
    OUT.mkdir(exist_ok=True)
    table.to_csv(OUT / f"{stem}.csv", index=False)
    save_figure(error_change_vs_n(table), OUT / f"{stem}_error_change")
    setting = ({"assumptions": f"setting: Section 5's schedule, alpha = {args.alpha0:g} / N for "
                               f"{args.k0:g} N epochs"} if args.paper_schedule else {})
    claims, fits = depth_claims(table, str(OUT / f"{stem}_error_change.png"), setting,
                                "scikit-learn digits" if args.quick else "Fashion-MNIST")
    end = table[table["fraction"] == table["fraction"].max()]
    summary = end.groupby(["depth", "N"])[["error_full", "error_half", "derror_half",
                                           "derror_kept"]].mean()
    report = {"claims": claims, "pass": verdict(claims), "quick": args.quick,
              "paper_schedule": args.paper_schedule, "Ns": Ns, "seeds": args.seeds,
              "kept": KEPT, "dataset": base.dataset,
              "slopes": {str(d): None if f is None else [f.slope, f.ci_low, f.ci_high]
                         for d, f in fits.items()},
              "per_N_at_T": summary.reset_index().to_dict(orient="list"),
              "seconds": time.time() - t0}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=float))
    print(summary.to_string(float_format=lambda v: f"{v:+.4f}"))
    for c in claims:
        iv = c["interval"] or [float("nan")] * 2
        res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
        val = float("nan") if c["value"] is None else c["value"]
        print(f"{res}  {c['id']}: {val:+.4f} [{iv[0]:+.4f}, {iv[1]:+.4f}]")
        for ctl in c.get("controls", []):
            civ = ctl["interval"] or [float("nan")] * 2
            cval = float("nan") if ctl["value"] is None else ctl["value"]
            print(f"    control ({ctl['control']}): {cval:+.4f} "
                  f"[{civ[0]:+.4f}, {civ[1]:+.4f}] -> "
                  f"{'PASS (the rule cannot tell)' if ctl['pass'] else 'FAIL (as it must)'}")
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if report["pass"] else "FAIL")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
