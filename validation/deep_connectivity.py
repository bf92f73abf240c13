"""Connectivity of deep nets: Nguyen, Bréchet & Mondelli (2021), Theorem 4.1, Figures 3-4.

ReLU nets in the standard parameterisation with a bias per hidden layer
(their eq. 1) on Fashion-MNIST (Debian's dataset-fashion-mnist), cross-entropy,
SGD with step 0.1 and mini-batches of 100 for 10 epochs, on a seeded subset of
6000 training and 2000 test images (``--full``: all 60000 / 10000, 20
epochs).  Experiment A re-trains each subnetwork xi_l (hidden widths
``n_p - ceil(n_p / 2)``) with the same step for 3x the epochs (the bound
holds for any xi, and the theorem's infimum is over all of them), best of
``draws_a`` subsets; Experiment B keeps a random half of layers >= l with a
Brent-tuned output scale, best of ``draws_b`` draws.

Claims:

(a) width sweep, 2 hidden layers of width 25 .. 800 (``--full``: .. 1600),
    3 seeds: the smallest width where the Experiment A bound (max over
    layers, mean over seeds) is within 10% of the trained training loss
    (``A <= 1.1 L``) is at most a quarter of the smallest width where
    Experiment B's is.  When B is never within 10% in the sweep, its width is
    taken as beyond the sweep, so A's must be at most a quarter of the
    largest width;
(b) one pair of nets with 4 hidden layers of width 200: the maximum training
    loss along the path of Theorem 4.1 (built from the two nets' Experiment A
    subnetworks) is at most the bound of Theorem 4.1 (the larger of the two
    nets' trained losses and Experiment A maxima) plus 5%.  The maxima along
    path B (through the best rescaled dropout networks), the straight line
    and the line after weight matching are reported beside it.

Also reported, not judged: (c) the noise-stability quantities of Kuditipudi et
al. (Definitions 2-4; layer cushion, interlayer cushion, activation
contraction, interlayer smoothness under Algorithm 1 with p = 1/2) of a net
like the pair's but without hidden biases (the definitions are for such
nets), over 1000 training images: their distributions (their Figure 3) and
epsilon of Definition 4.

Quick mode (``--quick``, a slow test): widths 25 .. 800, 1 seed, 2000 training
images; a pair of width 60.

Writes validation/out/deep_connectivity{,_quick}.{csv,json} and figures; prints
PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from meanfield import TORCH_HINT
from meanfield.experiments.options import DEEP_OPTIONS, DEEP_PATH_OPTIONS
from meanfield.plotting import (
    experiments_ab_per_layer,
    experiments_ab_vs_width,
    noise_stability_figure,
    save_figure,
    theorem41_paths_figure,
)
from meanfield.tasks.datasets import DatasetNotFoundError

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Nguyen, Bréchet & Mondelli 2021"


def settings(quick, full):
    """Widths, seeds and the shared cell values of each mode."""
    if quick:
        widths, seeds, n_train, n_test, epochs = [25, 50, 100, 200, 400, 800], [0], 2000, 1000, \
            10.0
        pair_N, draws_a, draws_b = 60, 2, 30
    elif full:
        widths, seeds, n_train, n_test, epochs = [25, 50, 100, 200, 400, 800, 1600], [0, 1, 2], \
            0, 0, 20.0
        pair_N, draws_a, draws_b = 500, 20, 200
    else:
        widths, seeds, n_train, n_test, epochs = [25, 50, 100, 200, 400, 800], [0, 1, 2], \
            6000, 2000, 10.0
        pair_N, draws_a, draws_b = 200, 3, 50
    common = dict(dataset="fashion-mnist", alpha=0.1, epochs=epochs, sub_epochs=3 * epochs,
                  n_train=n_train, n_test=n_test, draws_a=draws_a, draws_b=draws_b,
                  device="cpu", parameterisation="standard", bias="all", activation="relu")
    return widths, seeds, pair_N, common


def threshold(per_width, col, tol=0.10):
    """Smallest width whose mean ``col`` is within ``tol`` (relative) of the trained loss."""
    ok = per_width[per_width[col] <= (1 + tol) * per_width["trained"]]
    return int(ok.index.min()) if len(ok) else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sweep (~1 min)")
    mode.add_argument("--full", action="store_true", help="the paper's sizes (hours)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--data", default=None, help="Fashion-MNIST folder (default: Debian's)")
    args = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("deep_connectivity: needs torch: " + TORCH_HINT,
              file=sys.stderr)
        return 2
    from meanfield.torch.experiments import check_cell, deep_cell, deep_paths_cell

    t0 = time.time()
    widths, seeds, pair_N, common = settings(args.quick, args.full)
    common["data_path"] = args.data or ""
    base = dict({k: v[1] for k, v in DEEP_OPTIONS.items()}, **common)
    pair = dict({k: v[1] for k, v in DEEP_PATH_OPTIONS.items()}, **common, N=pair_N, seed=0)
    try:  # loads the data set once, into the cache the cells read
        check_cell(dict(base, N=widths[-1]), "deep")
        check_cell(pair, "deep_paths")
    except DatasetNotFoundError as exc:
        print(f"deep_connectivity: {exc}", file=sys.stderr)
        return 2

    rows = []
    for N in widths:
        for s in seeds:
            t1 = time.time()
            rows.append(deep_cell(dict(base, N=N, seed=s)).assign(N=N, seed=s, depth=3))
            if not args.quiet:
                r = rows[-1].groupby("experiment")["train_loss"].max()
                print(f"width {N:5d} seed {s}: trained {r['trained']:.4f}, A {r['A']:.4f}, "
                      f"B {r['B']:.4f} ({time.time() - t1:.0f} s)", flush=True)
    sweep = pd.concat(rows, ignore_index=True)
    t1 = time.time()
    paths = deep_paths_cell(pair).assign(N=pair_N, depth=pair["depth"])
    if not args.quiet:
        print(f"pair of depth {pair['depth']}, width {pair_N}: {time.time() - t1:.0f} s")

    t1 = time.time()
    stability = noise_stability_part(pair, OUT, args)
    if not args.quiet:
        print(f"noise stability: {time.time() - t1:.0f} s")

    stem = "deep_connectivity_quick" if args.quick else \
        "deep_connectivity_full" if args.full else "deep_connectivity"
    OUT.mkdir(exist_ok=True)
    sweep.to_csv(OUT / f"{stem}_sweep.csv", index=False)
    paths.to_csv(OUT / f"{stem}_paths.csv", index=False)
    save_figure(experiments_ab_vs_width(sweep), OUT / f"{stem}_ab_vs_width")
    save_figure(experiments_ab_per_layer(sweep[sweep["N"] == widths[-1]]),
                OUT / f"{stem}_ab_per_layer")
    save_figure(theorem41_paths_figure(paths), OUT / f"{stem}_paths")
    save_figure(stability.pop("figure"), OUT / f"{stem}_noise_stability")

    # (a) per width: max over layers per net, then the mean over seeds
    per_net = sweep.groupby(["N", "seed", "experiment"])["train_loss"].max().unstack()
    per_width = per_net.groupby("N")[["trained", "A", "B"]].mean()
    n_a, n_b = threshold(per_width, "A"), threshold(per_width, "B")
    limit = (n_b if n_b is not None else widths[-1]) / 4
    claim_a = {"claim": "(a) smallest width with Experiment A within 10% of the trained loss "
                        "<= 1/4 of that of Experiment B",
               "paper": f"{PAPER}, Figure 4", "value": n_a, "B": n_b, "limit": limit,
               "pass": bool(n_a is not None and n_a <= limit),
               "figure": str(OUT / f"{stem}_ab_vs_width.png")}
    # (b) the maximum along each path on the training set
    bound_rows = paths[paths["table"] == "bound"]
    bound = float(bound_rows[bound_rows["experiment"].isin(["A", "trained"])]["train_loss"].max())
    train_paths = paths[(paths["table"] == "path") & (paths["split"] == "train")]
    maxima = train_paths.groupby("path")["path_loss"].max().to_dict()
    claim_b = {"claim": "(b) max training loss along the Theorem 4.1 path <= its bound + 5%",
               "paper": f"{PAPER}, Theorem 4.1 and Figure 3 d", "value": maxima["A"],
               "bound": bound, "limit": 1.05 * bound, "pass": bool(maxima["A"] <= 1.05 * bound),
               "others": {k: v for k, v in maxima.items() if k != "A"},
               "figure": str(OUT / f"{stem}_paths.png")}
    claims = [claim_a, claim_b]
    report = {"claims": claims, "pass": all(c["pass"] for c in claims),
              "mode": "quick" if args.quick else "full" if args.full else "default",
              "settings": {k: v for k, v in common.items() if k != "data_path"},
              "per_width": per_width.reset_index().to_dict(orient="list"),
              "pair": {"N": pair_N, "depth": pair["depth"],
                       "n_segments": train_paths.groupby("path")["n_segments"].first()
                       .astype(int).to_dict(),
                       "test_error_max": paths[(paths["table"] == "path")
                                               & (paths["split"] == "test")]
                       .groupby("path")["path_error"].max().to_dict()},
              "noise_stability": stability, "seconds": time.time() - t0}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=_plain))
    print(per_width.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"(a) A within 10% from width {n_a}, B from {n_b} (limit for A: {limit:g})")
    print(f"(b) bound {bound:.4f}; maxima along the paths: "
          + ", ".join(f"{k} {v:.4f}" for k, v in maxima.items()))
    print(f"(c) noise stability (not judged): epsilon {stability['epsilon']:.3g}, "
          f"interlayer smoothness rho {stability['rho']:.3g}")
    for c in claims:
        print(f"{'PASS' if c['pass'] else 'FAIL'}  {c['claim']}: {c['value']}")
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if report["pass"] else "FAIL")
    return 0 if report["pass"] else 1


def noise_stability_part(pair, out, args):
    """(c): one net like the pair's without hidden biases; Kuditipudi's quantities."""
    from meanfield.torch.experiments import cell_data, train_net
    from meanfield.connectivity.noise_stability import (
        interlayer_smoothness,
        noise_stability,
        noise_stability_epsilon,
    )

    cell = dict(pair, bias="input")
    data = cell_data(cell)
    net, _ = train_net(cell, data, cell["init"], 100)
    X = data.X_train[:1000]
    q = noise_stability(net, X)
    smooth = interlayer_smoothness(net, X, p=0.5, draws=4)
    fig = noise_stability_figure(q, smooth, layer=2)
    mu = q["layer_cushion"].min(axis=0)
    return {"figure": fig, "N": net.N, "depth": net.depth,
            "epsilon": noise_stability_epsilon(q, net.N), "rho": smooth["rho"],
            "layer_cushion_min": mu.tolist(),
            "interlayer_cushion_min": q["min_interlayer_cushion"].min(axis=0).tolist(),
            "activation_contraction_max": float(q["activation_contraction"].max())}


def _plain(v):
    return v.item() if isinstance(v, np.generic) else float(v)


if __name__ == "__main__":
    sys.exit(main())
