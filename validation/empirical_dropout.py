"""Dropout stability of real networks in mean-field scaling (Shevchenko & Mondelli, Section 5).

Two-layer ReLU nets on Fashion-MNIST (Debian's dataset-fashion-mnist),
cross-entropy, mini-batches of 100, every layer trained with the mean-field
gradient scaling (x N), alpha = 0.2 for 3 epochs at every N (fixed horizon
T = k alpha, the regime of eq. 3.3), N = 100 ... 3200, 3 seeds.

Claims:

(a) the change in test loss after removing the second half of the neurons and
    rescaling the rest, |L_N/2 - L_N| at the end of training, falls with N
    with log-log slope below -0.3 (bootstrap interval reported);
(b) the full network's test error at the largest N, mean over seeds, is below 15%.

Also reported, not judged: the slopes at 0 and 0.7 T, the mean change over 20
random halves, and the change in test error (Figures 1, 2 and 4 of the paper).
Quick mode: N = 100 ... 800, 2 seeds, 2 epochs.

Writes validation/out/empirical_dropout{,_quick}.{json,png,pdf}; prints PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from meanfield import TORCH_HINT
from meanfield.experiments.options import EMPIRICAL_OPTIONS
from meanfield.plotting import dropout_change_vs_n, full_vs_dropout, save_figure
from meanfield.tasks.datasets import DatasetNotFoundError

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Shevchenko & Mondelli 2020, Section 5 (Figs. 1-2)"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="N <= 800, 2 seeds, 2 epochs (~40 s)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--data", default=None, help="Fashion-MNIST folder (default: Debian's)")
    args = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("empirical_dropout: needs torch: " + TORCH_HINT,
              file=sys.stderr)
        return 2
    from meanfield.torch.experiments import check_cell, empirical_cell

    t0 = time.time()
    Ns = [100, 200, 400, 800] + ([] if args.quick else [1600, 3200])
    seeds = range(2 if args.quick else 3)
    base = {k: v[1] for k, v in EMPIRICAL_OPTIONS.items()}
    base.update(dataset="fashion-mnist", data_path=args.data or "", alpha=0.2,
                epochs=2.0 if args.quick else 3.0, device="cpu")
    try:  # loads the data set once, into the cache the cells read
        check_cell(dict(base, N=Ns[-1]))
    except DatasetNotFoundError as exc:
        print(f"empirical_dropout: {exc}", file=sys.stderr)
        return 2
    rows = []
    for N in Ns:
        for s in seeds:
            cell = dict(base, N=N, seed=s)
            t1 = time.time()
            rows.append(empirical_cell(cell).assign(N=N, seed=s, depth=2))
            if not args.quiet:
                end = rows[-1].iloc[-1]
                print(f"N = {N:5d} seed {s}: test error {end['error_full']:.4f}, "
                      f"change in loss {end['dloss_half']:+.5f} ({time.time() - t1:.0f} s)",
                      flush=True)
    table = pd.concat(rows, ignore_index=True)
    stem = "empirical_dropout_quick" if args.quick else "empirical_dropout"
    OUT.mkdir(exist_ok=True)
    table.to_csv(OUT / f"{stem}.csv", index=False)

    fig2, fits = dropout_change_vs_n(table)
    save_figure(fig2, OUT / f"{stem}_change_vs_n")
    save_figure(full_vs_dropout(table), OUT / f"{stem}_full_vs_dropout")
    end = table[table["fraction"] == 1.0]
    fit = fits[1.0]
    err = end[end["N"] == Ns[-1]]["error_full"]
    claims = [
        {"claim": "(a) |L_N/2 - L_N| on the test set at T falls with N, log-log slope < -0.3",
         "paper": PAPER, "value": fit.slope, "interval": [fit.ci_low, fit.ci_high],
         "pass": bool(fit.slope < -0.3), "figure": str(OUT / f"{stem}_change_vs_n.png")},
        {"claim": f"(b) full-network test error at N = {Ns[-1]} (mean over seeds) below 15%",
         "paper": PAPER, "value": float(err.mean()), "interval": [float(err.min()),
                                                                  float(err.max())],
         "pass": bool(err.mean() < 0.15), "figure": str(OUT / f"{stem}_full_vs_dropout.png")},
    ]
    summary = end.groupby("N")[["error_full", "error_half", "dloss_half", "derror_half",
                                "dloss_random_mean"]].mean()
    report = {"claims": claims, "pass": all(c["pass"] for c in claims), "quick": args.quick,
              "slopes": {f"{f:g}T": [v.slope, v.ci_low, v.ci_high] for f, v in fits.items()},
              "per_N_at_T": summary.reset_index().to_dict(orient="list"),
              "seconds": time.time() - t0}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=float))
    print(summary.to_string(float_format=lambda v: f"{v:.5f}"))
    for f, v in fits.items():
        print(f"slope of |change in loss| at {f:g} T: {v.slope:+.3f} [{v.ci_low:+.3f}, "
              f"{v.ci_high:+.3f}]")
    for c in claims:
        iv = c["interval"]
        print(f"{'PASS' if c['pass'] else 'FAIL'}  {c['claim']}: {c['value']:+.4f} "
              f"[{iv[0]:+.4f}, {iv[1]:+.4f}]")
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if report["pass"] else "FAIL")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
