"""Connectivity of deep nets: Nguyen, Bréchet & Mondelli (2021), Theorem 4.1, Figures 3-4.

ReLU nets in the standard parameterisation with a bias per hidden layer
(their eq. 1) on Fashion-MNIST (Debian's dataset-fashion-mnist), cross-entropy,
SGD with step 0.1 and mini-batches of 100 for 10 epochs, on a seeded subset of
6000 training and 2000 test images (``--full``: all 60000 / 10000, 20
epochs).  Experiment A re-trains each subnetwork xi_l (hidden widths
``n_p - ceil(n_p / 2)``) with the same step for as many epochs as the net
(the bound holds for any xi and the theorem's infimum is over all of them,
but a longer re-training would favour A over the reference: 3x until
2026-12-07), best of ``draws_a`` subsets; Experiment B keeps a random half of layers >= l with a
Brent-tuned output scale, best of ``draws_b`` draws; on the same kept units B
is also run with the units plainly removed (Section 6's network; rows
``B-plain``, reported beside (a), not judged).

Claims, each judged by its rule in :data:`meanfield.analysis.claims.RULES`
(``docs/validation.md``):

``deep_connectivity/a`` (``at_most`` 1/4): width sweep, 2 hidden layers of
    width 25 .. 800 (``--full``: .. 1600), 3 seeds.  The value is the
    smallest width where the Experiment A bound (max over layers, mean over
    seeds) is within 10% of the trained training loss (``A <= 1.1 L``)
    divided by the smallest width where Experiment B's is; when B is never
    within 10% in the sweep, B's width is taken as the largest of the sweep.
    Experiment B's Brent search for the output scale is unbounded.  Its
    negative control is Experiment B's losses in A's place (no re-optimised
    subnetworks), which fails by construction (a ratio of 1, or no width).
``deep_connectivity/b-vertices`` (``rounding`` 1e-9): one pair of nets with 4
    hidden layers of width 200, the path of Theorem 4.1 built from the two
    nets' Experiment A subnetworks (Section 5).  Every segment keeps the
    network function or moves only the last layer, so the output is linear
    along it and the loss, convex in the output, peaks at a vertex: the value
    is the maximum training loss along the path divided by its maximum at the
    vertices, minus 1.  The path is evaluated in float64 (float64 copies of
    the float32 nets, :func:`meanfield.torch.experiments.deep_paths_cell`),
    at ``n_per_segment`` points per segment from the vertex outputs and, to
    check the construction rather than rely on it, by forward passes at the
    vertices and every segment's midpoint.
``deep_connectivity/b-theorem`` (``at_most`` 1 + 1e-9): the same maximum
    divided by the bound of Theorem 4.1 (eq. (4) with the subnetworks xi_l
    found by Experiment A and epsilon = 0): the larger over the two nets of
    the trained loss and the largest Experiment A loss over layers, all
    re-evaluated in float64 (:func:`meanfield.torch.subnets.subnet_loss`).
    The path's vertices compute the two nets and the subnetworks xi_l (of
    theta for l = 0..H, of theta' for l = 1..H), all terms of the bound, so
    the maximum is at most the bound, and equal to it unless the bound's
    largest term is theta''s xi_0, which the path does not visit.  The maxima
    along path B (through the best rescaled dropout networks), the straight
    line and the line after weight matching are reported beside it
    (``others``).

The two (b) rows replace one rule (max along the path <= bound + 5%,
evaluated in float32); they carry ``old_rule`` and ``old_pass``, its verdict
on this run's (float64) numbers.

``deep_connectivity/layers`` (``at_most`` 1.1), their Figure 3 a-c: one deep FCN
    (quick: L = 4, width 32, 2 nets on 1000 images; default: L = 6, width 64,
    3 nets on 2000; ``--full``: L = 6, width 100, 3 nets on 2000; all 30
    epochs; the paper's L = 11, width 245, 10 nets are :data:`FIG3_SIZES`
    ``"paper"``, for a GPU), Experiments A and B at every layer of each net.
    The value is the mean over the nets of max over l of A_l / L(theta'); its
    control, Experiment B's numbers of the same nets under the same rule, must
    FAIL.
``deep_connectivity/fig3d`` (observation): the pair's paths above as their
    Figure 3 d: the largest training loss along path A, beside paths B,
    straight and aligned and the two nets' trained losses.
``deep_connectivity/sqrt-n`` (observation), Corollary 4.3: 2 hidden layers on
    N training images (quick: 250 .. 1000; default: 500 .. 2000; ``--full``:
    500 .. 4000); widths from 16 on a grid of factor 2, run upwards until
    Experiment A's bound (max over layers, over the net's loss, mean over
    seeds) is within 10%; the interpolated crossing width
    (:func:`meanfield.analysis.width_crossing`) and its log-log slope in N,
    beside 1/2.

Also reported, not judged: (c) the noise-stability quantities of Kuditipudi et
al. (Definitions 2-4; layer cushion, interlayer cushion, activation
contraction, interlayer smoothness under Algorithm 1 with p = 1/2) of a net
like the pair's but without hidden biases (the definitions are for such
nets), over 1000 training images: their distributions (their Figure 3) and
epsilon of Definition 4.

Quick mode (``--quick``, a slow test): widths 25 .. 800, 1 seed, 2000 training
images; a pair of width 60; the Figure 3 and Corollary 4.3 parts add about 2.5
minutes (37 s and 109 s on one thread of the shared machine, 2026-12-07;
``--full``: 218 s and 242 s).

Writes validation/out/deep_connectivity{,_quick}.json (the claim rows, the
verdict, the run time in "seconds"), the tables ``..._sweep.csv`` (Experiments A
and B) and ``..._paths_{path,check,bound}.csv`` (the pair's tables), and
figures; prints each claim with PASS or FAIL and the overall verdict.
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
from meanfield.analysis import experiment_ratios, loglog_fit, width_crossing
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.plotting import (
    experiments_ab_per_layer,
    experiments_ab_vs_width,
    noise_stability_figure,
    save_figure,
    theorem41_paths_figure,
    width_threshold_figure,
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
    common = dict(dataset="fashion-mnist", alpha=0.1, epochs=epochs, sub_epochs=epochs,
                  n_train=n_train, n_test=n_test, draws_a=draws_a, draws_b=draws_b,
                  device="cpu", parameterisation="standard", bias="all", activation="relu")
    return widths, seeds, pair_N, common


_SQRT2_WIDTHS = (16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024)
#: Sizes of Figure 3 a-c (``layers``: depth L, width, nets, training images, epochs,
#: draws of Experiments A and B) and of Corollary 4.3 (``sqrt_n``: training images, widths
#: tried upwards, seeds, epochs, draws of A), per mode; subnetworks train the net's epochs.
#: Both train longer than the width sweep's nets (the paper trains "beyond the point where
#: the dataset is perfectly separated"), the same epochs at every N, and the widths start
#: at 16: below it the nets do not fit the data and A's ratio to their loss is near 1 for
#: that reason.  ``paper`` is the paper's Figure 3 a-b (MNIST: L = 11, width 245, 10 nets,
#: all images, T_A = 20, T_B = 200) and N up to 16000, for a GPU.
FIG3_SIZES = {
    "quick": {"layers": dict(depth=4, N=32, nets=2, n_train=1000, epochs=30.0, draws_a=1,
                             draws_b=10),
              "sqrt_n": dict(n_train=(250, 500, 1000), widths=(16, 32, 64, 128, 256),
                             seeds=(0,), epochs=40.0, draws_a=1)},
    "default": {"layers": dict(depth=6, N=64, nets=3, n_train=2000, epochs=30.0, draws_a=1,
                               draws_b=30),
                "sqrt_n": dict(n_train=(500, 1000, 2000), widths=(16, 32, 64, 128, 256, 512),
                               seeds=(0,), epochs=40.0, draws_a=1)},
    "full": {"layers": dict(depth=6, N=100, nets=3, n_train=2000, epochs=30.0, draws_a=2,
                            draws_b=50),
             "sqrt_n": dict(n_train=(500, 1000, 2000, 4000),
                            widths=(16, 32, 64, 128, 256, 512), seeds=(0,), epochs=40.0,
                            draws_a=1)},
    "paper": {"layers": dict(depth=11, N=245, nets=10, n_train=0, epochs=40.0, draws_a=20,
                             draws_b=200),
              "sqrt_n": dict(n_train=(1000, 2000, 4000, 8000, 16000), widths=_SQRT2_WIDTHS,
                             seeds=(0, 1, 2), epochs=40.0, draws_a=20)},
}


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
    if torch_missing("deep_connectivity"):
        return 2
    from meanfield.torch.experiments import check_settings, deep_cell, deep_paths_cell
    from meanfield.torch.settings import DeepPathSettings, DeepSettings

    t0 = time.time()
    widths, seeds, pair_N, common = settings(args.quick, args.full)
    common["data_path"] = args.data or ""
    # B's nets both ways (Section 6 removes units plainly; the judged B rescales them, the
    # stronger comparator for A): the same kept units, one more output-scale search each
    base = DeepSettings(**common, b_plain=True)
    pair = DeepPathSettings(**common, N=pair_N, seed=0)
    fig3 = FIG3_SIZES["quick" if args.quick else "full" if args.full else "default"]
    try:  # loads the data set once, into the cache the cells read
        check_settings(replace(base, N=widths[-1]))
        check_settings(pair)
        check_settings(layers_settings(base, fig3["layers"]))
        check_settings(sqrt_n_settings(base, fig3["sqrt_n"], max(fig3["sqrt_n"]["n_train"]),
                                       max(fig3["sqrt_n"]["widths"])))
    except DatasetNotFoundError as exc:
        print(f"deep_connectivity: {exc}", file=sys.stderr)
        return 2

    rows = []
    for N in widths:
        for s in seeds:
            t1 = time.time()
            rows.append(deep_cell(replace(base, N=N, seed=s)).assign(N=N, seed=s, depth=3))
            if not args.quiet:
                r = rows[-1].groupby("experiment")["train_loss"].max()
                print(f"width {N:5d} seed {s}: trained {r['trained']:.4f}, A {r['A']:.4f}, "
                      f"B {r['B']:.4f} ({time.time() - t1:.0f} s)", flush=True)
    sweep = pd.concat(rows, ignore_index=True)
    t1 = time.time()
    # the pair's tables: path, check (path A by forward passes) and bound
    paths = {name: t.assign(N=pair_N, depth=pair.depth)
             for name, t in deep_paths_cell(pair).items()}
    if not args.quiet:
        print(f"pair of depth {pair.depth}, width {pair_N}: {time.time() - t1:.0f} s")

    t1 = time.time()
    stability = noise_stability_part(pair, OUT, args)
    if not args.quiet:
        print(f"noise stability: {time.time() - t1:.0f} s")

    stem = "deep_connectivity_quick" if args.quick else \
        "deep_connectivity_full" if args.full else "deep_connectivity"
    OUT.mkdir(exist_ok=True)
    sweep.to_csv(OUT / f"{stem}_sweep.csv", index=False)
    for name, t in paths.items():
        t.to_csv(OUT / f"{stem}_paths_{name}.csv", index=False)
    save_figure(experiments_ab_vs_width(sweep), OUT / f"{stem}_ab_vs_width")
    save_figure(experiments_ab_per_layer(sweep[sweep["N"] == widths[-1]]),
                OUT / f"{stem}_ab_per_layer")
    save_figure(theorem41_paths_figure(paths), OUT / f"{stem}_paths")
    save_figure(stability.pop("figure"), OUT / f"{stem}_noise_stability")

    # (a) per width: max over layers per net, then the mean over seeds
    per_net = sweep.groupby(["N", "seed", "experiment"])["train_loss"].max().unstack()
    per_width = per_net.groupby("N")[[c for c in ("trained", "A", "B", "B-plain")
                                      if c in per_net]].mean()
    n_a, n_b = threshold(per_width, "A"), threshold(per_width, "B")
    n_bp = threshold(per_width, "B-plain") if "B-plain" in per_width else None
    n_b_eff = n_b if n_b is not None else widths[-1]
    # (a)'s negative control: Experiment B in A's place (the re-optimisation of the subnetworks
    # removed, so no advantage by design): the rule must fail (value None when B is never
    # within 10%, else 1)
    control = control_row(
        "deep_connectivity/a", "Experiment B's losses in place of Experiment A's (no "
        "re-optimised subnetworks: the two sides equal by design; "
        + ("B never within 10% in the sweep: no width" if n_b is None
           else f"B within 10% from width {n_b}") + ")",
        None if n_b is None else n_b / n_b_eff)
    claims = [claim_row(
        "deep_connectivity/a",
        "(a) smallest width with Experiment A within 10% of the trained loss / that of "
        "Experiment B (B's: the largest width of the sweep when never within 10%); "
        f"{common['n_train'] or 'all'} training images, {common['epochs']:g} epochs, each "
        f"subnetwork re-trained {common['sub_epochs']:g} epochs; best of {common['draws_a']} "
        f"subsets "
        f"for A and {common['draws_b']} draws for B",
        f"{PAPER}, Figure 4", None if n_a is None else n_a / n_b_eff,
        figure=str(OUT / f"{stem}_ab_vs_width.png"), width_A=n_a, width_B=n_b,
        B_within_sweep=n_b is not None, controls=[control],
        # reported beside it: B with Section 6's plain removal (not judged)
        width_B_plain=n_bp,
        ratio_B_plain=None if n_a is None else n_a / (n_bp or widths[-1]))]
    # (b) path A on the training set, in float64: its points (vertex outputs interpolated
    # along the segments) and the forward passes at vertices and segment midpoints
    bound_rows = paths["bound"][paths["bound"]["experiment"].isin(["A", "trained"])]
    bound = float(bound_rows["train_loss"].max())
    top = bound_rows.loc[bound_rows["train_loss"].idxmax()]
    train_paths = paths["path"][paths["path"]["split"] == "train"]
    maxima = train_paths.groupby("path")["path_loss"].max().to_dict()
    path_a = train_paths[train_paths["path"] == "A"]
    check = paths["check"]
    along, vertices, peak = along_path_a(path_a, check)
    max_along, max_vertex = float(along["path_loss"].max()), float(vertices["path_loss"].max())
    mids = check[check["label"].fillna("") == ""].set_index("s")["path_loss"]
    mid_dev = float((mids - path_a.set_index("s").loc[mids.index, "path_loss"]).abs().max()
                    / max_vertex)
    old = dict(old_rule="max along the path <= bound + 5% (one row for (b))",
               old_pass=bool(max_along <= 1.05 * bound))
    others = {k: v for k, v in maxima.items() if k != "A"}
    fig_paths = str(OUT / f"{stem}_paths.png")
    claims += [
        claim_row("deep_connectivity/b-vertices",
                  "(b) max training loss along the Theorem 4.1 path / its max at the vertices "
                  "- 1 (float64)", f"{PAPER}, Section 5 (proof of Theorem 4.1)",
                  max_along / max_vertex - 1, figure=fig_paths, max_along=max_along,
                  max_vertex=max_vertex, peak_vertex=peak["label"],
                  midpoint_forward_vs_interpolated=mid_dev, **old),
        claim_row("deep_connectivity/b-theorem",
                  "(b) max training loss along the Theorem 4.1 path / the theorem's bound, "
                  "eq. (4) with the subnetworks of Experiment A (float64)",
                  f"{PAPER}, Theorem 4.1 eq. (4) and Figure 3 d", max_along / bound,
                  figure=fig_paths, max_along=max_along, bound=bound,
                  bound_attained_by=f"{top['experiment']} of {top['net']}"
                  + (f" at layer {int(top['layer'])}" if top["experiment"] == "A" else ""),
                  bound_native=float(bound_rows["train_loss_native"].max()),
                  others=others, **old)]
    # Figure 3 a-c, 3 d and Corollary 4.3 (their own nets; 3 d: the pair above)
    t1 = time.time()
    layers_row, _ = layers_part(base, fig3["layers"], OUT, stem, args.quiet)
    t_layers, t1 = time.time() - t1, time.time()
    sqrt_n_row, _ = sqrt_n_part(base, fig3["sqrt_n"], OUT, stem, args.quiet)
    t_sqrt_n = time.time() - t1
    trained_pair = bound_rows.loc[bound_rows["experiment"] == "trained", "train_loss"]
    theorem_row = claims[-1]  # b-theorem, printed below
    claims += [layers_row, fig3d_row(maxima, trained_pair, bound, fig_paths), sqrt_n_row]
    ok = verdict(claims)
    report = {"claims": claims, "pass": ok,
              "mode": "quick" if args.quick else "full" if args.full else "default",
              "settings": {k: v for k, v in common.items() if k != "data_path"},
              "per_width": per_width.reset_index().to_dict(orient="list"),
              "pair": {"N": pair_N, "depth": pair.depth,
                       "n_segments": train_paths.groupby("path")["n_segments"].first()
                       .astype(int).to_dict(),
                       "test_error_max": paths["path"][paths["path"]["split"] == "test"]
                       .groupby("path")["path_error"].max().to_dict()},
              "noise_stability": stability, "seconds": time.time() - t0,
              "fig3_seconds": {"layers": t_layers, "sqrt_n": t_sqrt_n}}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=_plain))
    print(per_width.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"(a) A within 10% from width {n_a}, B from {n_b}")
    print(f"(b) bound {bound:.6g} ({theorem_row['bound_attained_by']}); max along path A "
          f"{max_along:.6g}, at its vertices {max_vertex:.6g} ({peak['label']}); maxima of the "
          "other paths: " + ", ".join(f"{k} {v:.4f}" for k, v in others.items()))
    print(f"(c) noise stability (not judged): epsilon {stability['epsilon']:.3g}, "
          f"interlayer smoothness rho {stability['rho']:.3g}")
    for c in claims:
        res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
        v = "None" if c["value"] is None else f"{c['value']:.6g}"
        print(f"{res:8s} {c['id']}: {v}  ({c['criterion']})"
              + (f" (old rule {c['old_rule']}: {'PASS' if c['old_pass'] else 'FAIL'})"
                 if "old_pass" in c else ""))
    print(f"(a-c) max A / L {layers_row['value']:.4g} (control B: "
          f"{layers_row['controls'][0]['value']:.4g}), {t_layers:.0f} s; (Cor. 4.3) crossing "
          f"widths {sqrt_n_row['crossing']} at N = {sqrt_n_row['n_train']}: "
          f"{sqrt_n_row['fit'] or 'no fit'}, {t_sqrt_n:.0f} s")
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

    cell = replace(pair, bias="input")  # not a deep_paths cell: its check wants bias "all"
    data = cell_data(cell)
    net, _ = train_net(cell, data, cell.init, 100)
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


def layers_settings(base, size, seed=0):
    """The ``deep_cell`` settings of one net of Figure 3 a-c (``size``: ``FIG3_SIZES[mode]
    ["layers"]``)."""
    return replace(base, depth=size["depth"], N=size["N"], n_train=size["n_train"],
                   draws_a=size["draws_a"], draws_b=size["draws_b"], seed=seed,
                   **_epochs(base, size))


def sqrt_n_settings(base, size, n_train, width, seed=0):
    """The ``deep_cell`` settings of one net of the Corollary 4.3 sweep (2 hidden layers;
    Experiment B is not used there, so one draw)."""
    return replace(base, depth=3, N=width, n_train=n_train, draws_a=size["draws_a"],
                   draws_b=1, b_plain=False, seed=seed, **_epochs(base, size))


def _epochs(base, size):
    """The part's epochs (the base's when not given), Experiment A's subnetworks' too."""
    epochs = size.get("epochs", base.epochs)
    return {"epochs": epochs, "sub_epochs": epochs}


def layers_part(base, size, out, stem, quiet=False, cell=None):
    """Figure 3 a-c: Experiments A and B at every layer of ``size["nets"]`` deep nets.

    Returns the claim row ``deep_connectivity/layers`` (with its control, Experiment B's
    numbers under the same rule) and the cells' table (``seed`` names the net).  ``cell``
    runs one net (default: the registered
    :func:`meanfield.torch.experiments.deep_cell`).
    """
    deep_cell = cell or _deep_cell()

    frames = []
    for s in range(size["nets"]):
        t1 = time.time()
        one = layers_settings(base, size, s)
        frames.append(deep_cell(one).assign(N=one.N, seed=s, depth=one.depth))
        if not quiet:
            r = experiment_ratios(frames[-1]).iloc[0]
            print(f"depth {one.depth} width {one.N} net {s}: trained {r['trained']:.4g}, "
                  f"max A / L {r['A_ratio']:.3f} (layer {r['A_layer']}), max B / L "
                  f"{r['B_ratio']:.3f} ({time.time() - t1:.0f} s)", flush=True)
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(out / f"{stem}_layers.csv", index=False)
    figure = out / f"{stem}_layers"
    save_figure(experiments_ab_per_layer(table), figure)
    ratios = experiment_ratios(table)
    per_layer = table[table["experiment"] != "trained"].groupby(
        ["experiment", "layer"])["train_loss"].mean()
    a, b = float(ratios["A_ratio"].mean()), float(ratios["B_ratio"].mean())
    control = control_row("deep_connectivity/layers",
                          "Experiment B's numbers of the same nets (max over l >= 1 of "
                          "B_l / L(theta')): kept neurons with a tuned scale, not re-trained", b)
    row = claim_row(
        "deep_connectivity/layers",
        f"(a-c) max over layers of Experiment A's bound / the trained loss, mean over "
        f"{size['nets']} nets (L = {size['depth']}, width {size['N']}, "
        f"{size['n_train'] or 'all'} training images)",
        f"{PAPER}, Section 5 and Figure 3 a-c (MNIST L = 11 width 245, CIFAR-10 L = 6 width "
        "500, 10 nets: A 'always close to the reference')", a,
        figure=str(figure.with_suffix(".png")), controls=[control],
        nets=size["nets"], depth=size["depth"], width=size["N"], n_train=size["n_train"],
        A_ratio_per_net=ratios["A_ratio"].tolist(), A_layer_per_net=ratios["A_layer"].tolist(),
        B_ratio_per_net=ratios["B_ratio"].tolist(), trained_mean=float(ratios["trained"].mean()),
        A_per_layer=per_layer.get("A", pd.Series(dtype=float)).to_dict(),
        B_per_layer=per_layer.get("B", pd.Series(dtype=float)).to_dict())
    return row, table


def sqrt_n_part(base, size, out, stem, quiet=False, level=1.1, cell=None):
    """Corollary 4.3: for each number of training images, widths upwards until Experiment A
    is within 10% of the trained loss (mean over seeds of the per-net ratio); the crossing
    width's log-log slope in N.  Returns the row ``deep_connectivity/sqrt-n`` and the table
    of ratios per (n_train, width).  ``cell`` as for :func:`layers_part`."""
    deep_cell = cell or _deep_cell()

    ratio_rows, crossings = [], []
    for n in size["n_train"]:
        for w in size["widths"]:
            t1 = time.time()
            cells = [deep_cell(sqrt_n_settings(base, size, n, w, s)).assign(seed=s)
                     for s in size["seeds"]]
            r = experiment_ratios(pd.concat(cells, ignore_index=True))
            ratio_rows.append({"n_train": n, "N": w, "ratio": float(r["A_ratio"].mean()),
                               "trained": float(r["trained"].mean())})
            if not quiet:
                print(f"N = {n} samples, width {w}: max A / L {ratio_rows[-1]['ratio']:.3f} "
                      f"({time.time() - t1:.0f} s)", flush=True)
            if ratio_rows[-1]["ratio"] <= level:
                break
        g = pd.DataFrame([r for r in ratio_rows if r["n_train"] == n])
        crossings.append({"n_train": n, **width_crossing(g["N"], g["ratio"], level)})
    ratios, crossings = pd.DataFrame(ratio_rows), pd.DataFrame(crossings)
    ratios.to_csv(out / f"{stem}_sqrt_n.csv", index=False)
    ok = crossings[crossings["crossing"].notna()]
    fitted = ok[ok["censored"].isna()] if ok["censored"].isna().sum() >= 2 else ok
    fit = loglog_fit(fitted["n_train"], fitted["crossing"]) if len(fitted) >= 2 else None
    figure = out / f"{stem}_sqrt_n"
    save_figure(width_threshold_figure(ratios, crossings, fit, level), figure)
    row = claim_row(
        "deep_connectivity/sqrt-n",
        "(Cor. 4.3) log-log slope in the number of training samples N of the smallest width "
        "(2 hidden layers) with Experiment A within 10% of the trained loss (interpolated)",
        f"{PAPER}, Corollary 4.3 (widths Omega(sqrt(N)) suffice) and Figure 4 (about 200 "
        "neurons for MNIST, 500 for CIFAR-10: 'roughly sqrt(N)')",
        None if fit is None else fit.slope,
        None if fit is None or not np.isfinite(fit.ci_low) else (fit.ci_low, fit.ci_high),
        figure=str(figure.with_suffix(".png")), paper_slope=0.5,
        n_train=crossings["n_train"].tolist(), crossing=_finite(crossings["crossing"]),
        grid_width=_finite(crossings["grid"]),
        censored=[c if isinstance(c, str) else None for c in crossings["censored"]],
        fitted_on=fitted["n_train"].tolist(), seeds=len(size["seeds"]),
        fit="" if fit is None else str(fit))
    return row, ratios


def _finite(values):
    """Plain floats, None where a value is missing (no NaN in the JSON)."""
    return [None if v is None or not np.isfinite(v) else float(v) for v in values]


def _deep_cell():
    from meanfield.torch.experiments import deep_cell

    return deep_cell


def along_path_a(path_a, check):
    """``(along, vertices, peak)``: path A's interpolated points and its forward-pass checks
    as one table, its labelled vertices, and the vertex row of the largest loss.  The two
    tables come from separate files, each indexed 0, 1, ...: one index over both, so the
    peak is one row (a Series), not every row sharing its index."""
    along = pd.concat([path_a, check], ignore_index=True)
    vertices = along[along["label"].fillna("") != ""]
    return along, vertices, vertices.loc[vertices["path_loss"].idxmax()]


def fig3d_row(maxima, trained, bound, figure, test_error_max=None):
    """The row ``deep_connectivity/fig3d``: the pair's paths as their Figure 3 d.

    ``maxima``: the largest training loss along each path (``A``, ``B``, ``straight``,
    ``aligned``); ``trained``: the two nets' training losses; ``bound``: Theorem 4.1's
    bound from Experiment A (all float64)."""
    return claim_row(
        "deep_connectivity/fig3d",
        "(d) max training loss along path A (Theorem 4.1) between the pair; paths B, straight "
        "and aligned beside it", f"{PAPER}, Figure 3 d (CIFAR-10, L = 6: path A 'close to "
        "zero', path B 'a large loss')", float(maxima["A"]), figure=figure,
        path_maxima={k: float(v) for k, v in maxima.items()},
        trained=[float(v) for v in trained], bound=float(bound),
        B_over_A=float(maxima["B"] / maxima["A"]) if "B" in maxima else None,
        **({} if test_error_max is None else {"test_error_max": test_error_max}))


def _plain(v):
    return v.item() if isinstance(v, np.generic) else float(v)


if __name__ == "__main__":
    sys.exit(main())
