"""The dropout path between nets from different initial laws (Shevchenko & Mondelli, Fig. 3).

Theorem 1(B) connects two SGD solutions trained from different initial laws
rho_0 != rho_0' for different times T != T'; Figure 3 shows it at N = 3200 on
MNIST: a net theta_1 started from a bimodal law and theta_2 from a unimodal
one, the classification error along the seven-segment path through their
dropout networks (one random half A, the same in both), against the larger
end error plus the change from dropout (the red dashed level).  Here:
two-layer mean-field ReLU nets on Fashion-MNIST (quick: scikit-learn digits),
``path_cell`` of :mod:`meanfield.torch.experiments` (bimodal against Gaussian
initial weights, independent seeds and data orders; the second net trains
for 2/3 as many epochs, so T' = 2T/3).

Claim (rule in docs/validation.md):

``empirical_path/a``: the largest test error along the dropout path minus
    (the larger end error + the larger change in test error of the path's two
    dropout networks) is at most 0 (to rounding), for the worst pair.
    Control: the same construction through dropout networks keeping 4 random
    neurons per hidden layer, against the level of the half path: must FAIL.
``empirical_path/straight`` (reported): the straight line's excess over the
    larger end error.

Quick mode: digits, N = 200, 2 pairs, alpha = 0.5 for 30 epochs (~30 s).
Default: Fashion-MNIST, N = 3200, 2 pairs, alpha = 0.2 for 1 epoch.

Writes validation/out/empirical_path{,_quick}.{json,csv,png,pdf}; prints PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from meanfield._meta import torch_missing
from meanfield.analysis import dropout_path_level
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.plotting import path_error_figure, save_figure
from meanfield.tasks.datasets import DatasetNotFoundError
from meanfield.torch.settings import PathSettings

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Shevchenko & Mondelli 2020, Theorem 1(B) and Section 5 (Fig. 3)"
KEPT_CONTROL = 4  # neurons per hidden layer of the control's dropout networks
DURATION2 = 2 / 3  # T' / T: the second net's run is shorter (Theorem 1(B) allows T != T')


def path_summary(paths):
    """Per pair (``seed``): the half path's level and excess in error and in loss, the
    control path's and the straight line's excess over the half path's error level."""
    rows = []
    for seed, g in paths.groupby("seed"):
        half = g[g["path"] == "dropout"]
        err, loss = dropout_path_level(half, "error"), dropout_path_level(half, "loss")
        row = {"seed": int(seed), "ends": err["ends"], "drop": err["drop"],
               "level": err["level"], "peak": err["peak"], "excess": err["excess"],
               "drop_loss": loss["drop"], "excess_vs_loss_level":
                   err["peak"] - (err["ends"] + max(loss["drop"], 0.0)),
               "loss_excess": loss["excess"]}
        for name in (f"dropout-{KEPT_CONTROL}", "straight"):
            other = g[g["path"] == name]
            if len(other):
                row[f"excess_{name}"] = float(other["error"].max()) - err["level"]
                row[f"peak_{name}"] = float(other["error"].max())
        rows.append(row)
    return pd.DataFrame(rows)


def run_pairs(base, pairs, log=None, cell=None):
    """``path_cell`` of pairs 0 .. pairs - 1 (``seed``): the stacked path tables and the
    list of weight-histogram tables.  ``cell`` runs one pair (default:
    :func:`meanfield.torch.experiments.path_cell`; the GPU's ``--paper`` mode passes one
    that keeps each in a results folder)."""
    if cell is None:
        from meanfield.torch.experiments import path_cell as cell

    paths, hists = [], []
    for s in range(pairs):
        t1 = time.time()
        out = cell(replace(base, seed=s))
        paths.append(out["path"].assign(seed=s))
        hists.append(out["hist"].assign(seed=s))
        if log:
            log(f"pair {s}: {time.time() - t1:.0f} s")
    return pd.concat(paths, ignore_index=True), hists


def path_claims(summary, figure=None, task="Fashion-MNIST"):
    """The rows: the worst pair's excess, with the 4-neuron control, and the straight line."""
    worst = summary.loc[summary["excess"].idxmax()]
    n = int(summary["N"].iloc[0]) if "N" in summary else "?"
    ctl_col = f"excess_dropout-{KEPT_CONTROL}"
    controls = []
    if ctl_col in summary:
        controls.append(control_row(
            "empirical_path/a", f"the same construction through dropout networks keeping "
            f"{KEPT_CONTROL} random neurons per hidden layer, against the level of the half path",
            float(summary[ctl_col].max())))
    claims = [claim_row(
        "empirical_path/a", f"{task}, N = {n}: max test error along the dropout path - (max "
        "end error + max dropout change in test error), worst pair", PAPER, float(worst["excess"]),
        figure=figure, controls=controls, pairs=len(summary),
        level=float(worst["level"]), peak=float(worst["peak"]), ends=float(worst["ends"]),
        drop=float(worst["drop"]), drop_loss=float(worst["drop_loss"]),
        excess_vs_loss_level=float(summary["excess_vs_loss_level"].max()))]
    if "excess_straight" in summary:
        claims.append(claim_row(
            "empirical_path/straight", f"{task}, N = {n}: straight line: max test error - max "
            "end error (worst pair)", PAPER,
            float((summary["peak_straight"] - summary["ends"]).max()), figure=figure))
    return claims


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="scikit-learn digits, N = 200 (~30 s)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--data", default=None, help="Fashion-MNIST folder (default: Debian's)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:K (default cpu)")
    p.add_argument("--N", type=int, default=None,
                   help="neurons of the hidden layer (default 200 quick, 3200 full)")
    p.add_argument("--pairs", type=int, default=2, help="pairs of nets (default 2)")
    p.add_argument("--epochs", type=float, default=None,
                   help="training epochs of each net (default 30 quick, 1 full)")
    args = p.parse_args(argv)
    if args.N is not None and args.N < 2 * KEPT_CONTROL:
        p.error(f"--N must be at least {2 * KEPT_CONTROL}, got {args.N}")
    if args.pairs < 1:
        p.error(f"--pairs must be at least 1, got {args.pairs}")
    if args.epochs is not None and args.epochs <= 0:
        p.error(f"--epochs must be > 0, got {args.epochs}")
    if torch_missing("empirical_path"):
        return 2
    from meanfield.torch.experiments import check_settings

    t0 = time.time()
    if args.quick:
        base = PathSettings(dataset="digits", N=200, alpha=0.5, epochs=30.0)
    else:
        base = PathSettings(dataset="fashion-mnist", data_path=args.data or "", N=3200,
                            alpha=0.2, epochs=1.0)
    base = replace(base, device=args.device, kept_sizes=(KEPT_CONTROL,), duration2=DURATION2,
                   N=args.N or base.N, epochs=args.epochs or base.epochs)
    try:
        check_settings(base)
    except DatasetNotFoundError as exc:
        print(f"empirical_path: {exc}", file=sys.stderr)
        return 2
    paths, hists = run_pairs(base, args.pairs,
                             None if args.quiet else (lambda m: print(m, flush=True)))
    stem = "empirical_path_quick" if args.quick else "empirical_path"
    OUT.mkdir(exist_ok=True)
    paths.to_csv(OUT / f"{stem}.csv", index=False)
    first = paths[(paths["seed"] == 0) & (paths["path"].isin(["dropout", "straight"]))]
    hist0 = hists[0]
    save_figure(path_error_figure(first, hist0), OUT / f"{stem}_fig3")
    summary = path_summary(paths).assign(N=base.N)
    claims = path_claims(summary, str(OUT / f"{stem}_fig3.png"),
                         "scikit-learn digits" if args.quick else "Fashion-MNIST")
    report = {"claims": claims, "pass": verdict(claims), "quick": args.quick,
              "N": base.N, "pairs": args.pairs, "dataset": base.dataset,
              "epochs": base.epochs, "alpha": base.alpha,
              "per_pair": summary.to_dict(orient="list"), "seconds": time.time() - t0}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=float))
    print(summary.to_string(float_format=lambda v: f"{v:+.4f}"))
    for c in claims:
        res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
        print(f"{res}  {c['id']}: {c['value']:+.4f}")
        for ctl in c.get("controls", []):
            print(f"    control ({ctl['control']}): {ctl['value']:+.4f} -> "
                  f"{'PASS (the rule cannot tell)' if ctl['pass'] else 'FAIL (as it must)'}")
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if report["pass"] else "FAIL")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
