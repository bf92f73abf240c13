"""Kuditipudi et al. (2019): dropout stability, Lemma 3, Theorems 1 and 3, noise stability.

The paper's nets (3-layer conv nets on MNIST, VGG-11 on CIFAR-10) are not
available here.  In their place: fully connected ReLU nets with 3 hidden
layers (d = 4 weight layers), no hidden biases (an input bias only: the
noise-stability definitions are for nets without them), the standard
parameterisation, cross-entropy, trained by SGD (step 0.1, mini-batches of
100) without dropout, on a seeded subset of 6000 Fashion-MNIST training
images (Debian's dataset-fashion-mnist; ``--quick``: scikit-learn's digits,
so that the test suite runs it without that package).  Every row says which
data set stands in.  ``ln C`` is the loss of the uniform prediction.

Claims, each judged by its rule in :data:`meanfield.analysis.claims.RULES`
(``docs/validation.md``), each with its negative control in the row
(``controls``, rows of :func:`meanfield.analysis.claims.control_row`; the
test suite asserts that every control fails):

``kuditipudi/dropout-width`` (``decay``): Definition 1 at p = 1/2 (their
    Figure 2 left): per net, the best of 20 random dropout networks that
    keep exactly floor(h (1 - p)) units of every hidden layer (rescaled by
    h / kept); its training-loss change against the width h, log-log slope
    over widths x seeds.  Control: the same nets kept to a fixed count of
    units per layer at every width.
``kuditipudi/lemma3`` (``at_most`` 0.2): Algorithm 1 with p = 0.2 on layers
    2..d of theta_A; along the straight segment to each draw's dropout
    network, the largest loss minus L(theta_A), over ln C - L(theta_A); the
    lower quartile over the draws (the lemma holds with probability >= 1/4).
    Control: the segment's other end is theta_B (the direct line).
``kuditipudi/theorem3`` (``at_most`` 0.2): the path through a narrow net
    theta* (:func:`meanfield.connectivity.theorem3_path`, 18 segments; the
    paper counts 13), its largest loss over the larger end's, in units of
    the way to ln C.  Controls: the direct line; the same path through an
    untrained theta*.

Checks (constructions; a failure is a bug): ``theorem1-vertices`` and
``theorem1-bound`` (Lemma 1 + Lemma 2, :func:`meanfield.connectivity.
theorem1_path`, 30 segments, by forward passes on a grid inside every
segment, float64), ``theorem3-vertices`` (Lemma 2's segments of the path
through theta*).  Observations: the best-of-20 change against p, the direct
line beside the paper's 2.34 / 10%, and the noise-stability quantities
(Definitions 2-4) drawn as their Figure 3 left, per layer.

Writes validation/out/kuditipudi{,_quick,_full}.{json,csv} and figures;
prints each row with its verdict and its control's, and the overall verdict.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from meanfield._meta import torch_missing
from meanfield.analysis import loglog_fit
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.torch.settings import DeepSettings
from meanfield.plotting import kuditipudi_figure, noise_stability_figure, save_figure
from meanfield.tasks.datasets import DatasetNotFoundError

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Kuditipudi et al. 2019"
P_LEMMA3 = 0.2  # their Figure 2 centre and Section 6


def settings(quick, full):
    """Sizes of each mode (quick: digits, seconds; default: the report's ~10 min on 2 cores;
    full: larger, for a GPU with --device)."""
    if quick:
        return dict(dataset="digits", n_train=0, epochs=30.0, widths=[16, 32, 64, 128],
                    seeds=[0, 1], pair_N=64, h_star=8, fixed_kept=8, draws_lemma3=10,
                    n_grid=9, n_check=0, check_grid=5, n_noise=300, smooth_draws=16,
                    p_grid=[0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
    if full:
        return dict(dataset="fashion-mnist", n_train=0, epochs=20.0,
                    widths=[32, 64, 128, 256, 512, 1024], seeds=[0, 1, 2], pair_N=512,
                    h_star=32, fixed_kept=16, draws_lemma3=20, n_grid=11, n_check=10000,
                    check_grid=9, n_noise=2000, smooth_draws=64,
                    p_grid=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    return dict(dataset="fashion-mnist", n_train=6000, epochs=10.0,
                widths=[32, 64, 128, 256, 512], seeds=[0, 1, 2], pair_N=256, h_star=16,
                fixed_kept=16, draws_lemma3=20, n_grid=9, n_check=2000, check_grid=9,
                n_noise=1000, smooth_draws=64, p_grid=[0.1, 0.2, 0.3, 0.5, 0.7, 0.9])


def stand_in(s):
    return ("Fashion-MNIST" if s["dataset"] == "fashion-mnist" else "scikit-learn digits") + \
        " stands in for MNIST / CIFAR-10 (FC ReLU nets, 3 hidden layers)"


def cell_of(s, N, device, **changes):
    """The training settings of :func:`meanfield.torch.experiments.train_net`
    (:class:`meanfield.torch.settings.DeepSettings`)."""
    return DeepSettings(**{**dict(
        dataset=s["dataset"], data_path=s.get("data_path", ""), n_train=s["n_train"],
        n_test=0 if s["n_train"] == 0 else 1000, N=N, depth=4, epochs=s["epochs"], alpha=0.1,
        batch_size=100, bias="input", parameterisation="standard", activation="relu",
        device=device), **changes})


def best_of(net, X, y, size, draws, seed):
    """Training losses of ``draws`` random dropout networks keeping ``size`` units of every
    hidden layer (Definition 1's rescaling h / size), and their masks (draws, H, N)."""
    import torch

    from meanfield.dropout import draw_keep
    from meanfield.torch import evaluate

    masks = draw_keep(net.N, size, np.random.default_rng(seed), n_hidden=net.n_hidden,
                      n_draws=draws, method="ranks")
    m = torch.from_numpy(masks.astype(np.float64))
    return evaluate(net, X, y, masks=m)["loss"], masks


def theta_i_losses(net, X, y, mask):
    """Losses of Definition 1's theta_i (dropout at hidden layers >= i) for i = 1..H."""
    import torch

    from meanfield.torch import evaluate

    m = torch.from_numpy(np.repeat(mask[None].astype(np.float64), net.n_hidden, 0))
    for i in range(net.n_hidden):
        m[i, :i] = 1.0
    return evaluate(net, X, y, masks=m)["loss"]


def lemma3_draws(net, X, y, p, draws, n_grid, seed):
    """Algorithm 1 draws on ``net``: the kept masks and the profile of each straight segment."""
    from meanfield.connectivity import PathVertices, algorithm1
    from meanfield.dropout import draw_keep
    from meanfield.torch import evaluate_path

    g = np.random.default_rng(seed)
    W = net.numpy_weights()
    kept, frames = [], []
    for k in range(draws):
        K = draw_keep(net.N, p, g, n_hidden=net.n_hidden, method="bernoulli")
        seg = PathVertices([W, algorithm1(W, K, p)], ("general",), ("theta", "Algorithm 1"))
        prof = evaluate_path(seg, net, X, y, n_per_segment=n_grid)
        kept.append(K)
        frames.append(prof.assign(draw=k, t=prof["s"]))
    return kept, pd.concat(frames, ignore_index=True)


def excess(max_loss, ref, chance):
    """How far a path's largest loss rises above ``ref``, in units of the way to ln C."""
    return (max_loss - ref) / (chance - ref)


def median_interval(minima, level=0.95):
    """Distribution-free interval of the median of the per-draw minima (order statistics of
    a Binomial(n, 1/2)), as (low, high)."""
    from scipy.stats import binom

    v = np.sort(np.asarray(minima))
    n = v.size
    lo = int(binom.ppf((1 - level) / 2, n, 0.5))
    lo = max(lo, 1)
    return float(v[lo - 1]), float(v[n - lo])


def through(netA, netB, narrow, side_a, side_b, h):
    """The Theorem 3 path from ``netA`` to ``netB`` through ``narrow`` (width h, on the first h
    units of every layer): each side's lowest Algorithm 1 segment among its draws
    ``(kept, rise)`` that leave h units free in every layer."""
    from meanfield.connectivity import embed_narrow, theorem3_path

    N = netA.N
    picks = []
    for kept, rise in (side_a, side_b):
        ok = [k for k in range(len(kept)) if (kept[k].sum(1) + h <= N).all()]
        if not ok:
            raise RuntimeError(f"no Algorithm 1 draw leaves h* = {h} units free in every layer")
        picks.append(kept[min(ok, key=lambda k: rise.iloc[k])])
    slots = [np.arange(h)] * netA.n_hidden
    emb = embed_narrow(narrow.numpy_weights(), N, slots)
    return theorem3_path(netA.numpy_weights(), picks[0], netB.numpy_weights(), picks[1], emb,
                         slots, P_LEMMA3)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="digits, seconds (the test suite)")
    mode.add_argument("--full", action="store_true",
                      help="all of Fashion-MNIST, widths to 1024 (for a GPU: --device cuda)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    p.add_argument("--data", default=None, help="Fashion-MNIST folder (default: Debian's)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if torch_missing("kuditipudi"):
        return 2
    import torch

    from meanfield.connectivity import theorem1_path
    from meanfield.connectivity.noise_stability import (
        interlayer_smoothness,
        noise_stability,
        noise_stability_epsilon,
    )
    from meanfield.dropout import mask_keep
    from meanfield.torch import FullyConnectedNet, evaluate, evaluate_path, straight_path
    from meanfield.torch.experiments import cell_data, check_settings, train_net

    t0 = time.time()
    s = settings(args.quick, args.full)
    s["data_path"] = args.data or ""
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    try:
        check_settings(cell_of(s, 2, "cpu"))
    except DatasetNotFoundError as exc:
        print(f"kuditipudi: {exc}", file=sys.stderr)
        return 2
    data = cell_data(cell_of(s, 2, "cpu"))
    X, y = data.X_train, data.y_train
    chance = math.log(data.n_classes)
    setting = stand_in(s)

    # --- Definition 1 against width (Figure 2 left), with the fixed-count control
    nets, rows = {}, []
    for N in s["widths"]:
        for seed in s["seeds"]:
            net, _ = train_net(cell_of(s, N, args.device), data, "gaussian", seed)
            L = evaluate(net, X, y)["loss"]
            half, masks = best_of(net, X, y, N // 2, 20,
                                  [N, seed, 1])
            fixed, _ = best_of(net, X, y, min(s["fixed_kept"], N), 20, [N, seed, 2])
            rows.append({"N": N, "seed": seed, "loss": L, "dloss": half.min() - L,
                         "dloss_fixed": fixed.min() - L})
            if N == s["pair_N"] and seed in (0, 1):
                nets[seed] = (net, L, masks[int(np.argmin(half))])
            say(f"width {N:5d} seed {seed}: L {L:.4f}, best-of-20 change {rows[-1]['dloss']:+.4f}"
                f" (fixed {s['fixed_kept']}: {rows[-1]['dloss_fixed']:+.4f})")
    sweep = pd.DataFrame(rows)
    clipped = int((sweep["dloss"] <= 0).sum())
    fit = loglog_fit(sweep["N"], np.maximum(sweep["dloss"], 1e-6))
    fit_c = loglog_fit(sweep["N"], np.maximum(sweep["dloss_fixed"], 1e-6))

    (netA, LA, maskA), (netB, LB, maskB) = nets[0], nets[1]
    N = s["pair_N"]
    by_p = []
    for q in s["p_grid"]:
        size = max(1, math.floor(N * (1 - q)))
        losses, _ = best_of(netA, X, y, size, 20, [N, 0, 3, int(100 * q)])
        by_p.append({"p": q, "kept": size, "dloss": float(losses.min() - LA)})
    by_p = pd.DataFrame(by_p)

    say(f"sweep: {time.time() - t0:.0f} s")
    # --- Lemma 3 (Figure 2 centre) on both nets; control: the direct line
    keptA, segA = lemma3_draws(netA, X, y, P_LEMMA3, s["draws_lemma3"], s["n_grid"], [0, 4])
    keptB, segB = lemma3_draws(netB, X, y, P_LEMMA3, s["draws_lemma3"], s["n_grid"], [1, 4])
    riseA = segA.groupby("draw")["loss"].max() - LA
    riseB = segB.groupby("draw")["loss"].max() - LB
    q25 = float(np.quantile(riseA, 0.25, method="inverted_cdf"))
    line = evaluate_path(straight_path(netA, netB), netA, X, y, n_per_segment=33)
    line_max, line_err = float(line["loss"].max()), float(line["error"].max())
    ctrl_l3 = excess(line_max, LA, chance)

    say(f"lemma 3: {time.time() - t0:.0f} s")
    # --- noise stability of theta_A (Definitions 2-4, Figure 3 left)
    Xn = X[:s["n_noise"]]
    qns = noise_stability(netA, Xn)
    smooth = interlayer_smoothness(netA, Xn, p=P_LEMMA3, draws=s["smooth_draws"])
    eps_ns = noise_stability_epsilon(qns, netA.N)
    minima = smooth["per_sample"].min(axis=1)
    rho_lo, rho_hi = median_interval(minima)

    say(f"noise stability: {time.time() - t0:.0f} s")
    # --- Theorem 3: the path through a narrow theta*; controls: direct line, untrained theta*
    h = s["h_star"]
    star_cell = cell_of(s, h, args.device, epochs=3 * s["epochs"])
    star, _ = train_net(star_cell, data, "gaussian", 100)
    L_star = evaluate(star, X, y)["loss"]
    raw = FullyConnectedNet(data.d, h, data.n_classes, depth=4, bias="input",
                            parameterisation="standard", seed=101, device="cpu")

    path3 = through(netA, netB, star, (keptA, riseA), (keptB, riseB), h)
    prof3 = evaluate_path(path3, netA, X, y, n_per_segment=s["n_grid"])
    ref3 = max(LA, LB)
    max3 = float(prof3["loss"].max())
    path3_raw = through(netA, netB, raw, (keptA, riseA), (keptB, riseB), h)
    max3_raw = float(evaluate_path(path3_raw, netA, X, y, n_per_segment=s["n_grid"])["loss"]
                     .max())
    ctrl_t3 = {"direct line": excess(line_max, ref3, chance),
               "untrained theta*": excess(max3_raw, ref3, chance)}

    say(f"theorem 3: {time.time() - t0:.0f} s")
    # --- checks in float64 on the check subset: Theorem 1 (Lemma 1 + Lemma 2), Theorem 3's
    # Lemma 2 segments; forward passes at every grid point (shortcut=False)
    n_check = s["n_check"] or len(y)
    Xc, yc = X[:n_check], y[:n_check]
    ref64 = FullyConnectedNet(data.d, N, data.n_classes, depth=4, bias="input",
                              parameterisation="standard", dtype=torch.float64, device="cpu")
    nets64 = [FullyConnectedNet(data.d, N, data.n_classes, depth=4, bias="input",
                                parameterisation="standard", dtype=torch.float64,
                                device="cpu").load_numpy(n.numpy_weights()) for n in (netA, netB)]
    keeps = [mask_keep(m) for m in (maskA, maskB)]
    path1 = theorem1_path(nets64[0].numpy_weights(), nets64[1].numpy_weights(), *keeps)
    prof1 = evaluate_path(path1, ref64, Xc, yc, n_per_segment=s["check_grid"], shortcut=False)
    L64 = [evaluate(n, Xc, yc)["loss"] for n in nets64]
    eps_d = [float(theta_i_losses(n, Xc, yc, m).max() - L) for n, m, L in
             zip(nets64, (maskA, maskB), L64)]
    max1 = float(prof1["loss"].max())
    vert1 = float(prof1[prof1["label"].fillna("") != ""]["loss"].max())
    bound1 = max(L64) + max(eps_d)
    prof3c = evaluate_path(path3, ref64, Xc, yc, n_per_segment=s["check_grid"], shortcut=False)
    inner = prof3c[(prof3c["s"] >= 1) & (prof3c["s"] <= path3.n_segments - 1)]
    vert3 = float(inner[inner["label"].fillna("") != ""]["loss"].max())

    say(f"checks: {time.time() - t0:.0f} s")
    # --- rows
    stem = "kuditipudi_quick" if args.quick else "kuditipudi_full" if args.full else "kuditipudi"
    OUT.mkdir(exist_ok=True)
    fig_main = OUT / f"{stem}"
    paths_tab = pd.concat([
        prof3.assign(path=f"through theta* (h* = {h}, {path3.n_segments} seg.)",
                     t=prof3["s"] / path3.n_segments),
        prof1.assign(path=f"Lemma 1 + Lemma 2 ({path1.n_segments} seg., check subset)",
                     t=prof1["s"] / path1.n_segments),
        line.assign(path="direct line", t=line["s"])], ignore_index=True)
    save_figure(kuditipudi_figure(sweep, by_p, segA, paths_tab, chance), fig_main)
    figs_ns = []
    for layer in range(2, netA.depth):
        stem_l = OUT / f"{stem}_noise_stability_layer{layer}"
        save_figure(noise_stability_figure(qns, smooth, layer=layer), stem_l)
        figs_ns.append(str(stem_l) + ".png")
    fig = str(fig_main) + ".png"
    claims = [
        claim_row("kuditipudi/dropout-width",
                  f"Definition 1 at p = 1/2: best-of-20 training-loss change falls with width "
                  f"h = {s['widths'][0]}..{s['widths'][-1]} ({len(s['seeds'])} seeds); "
                  f"{setting}", f"{PAPER}, Definition 1, Figure 2 left; Definition 4 "
                  "(h_min^-1/2) with Lemma 3", fit.slope, (fit.ci_low, fit.ci_high), figure=fig,
                  clipped=clipped,
                  controls=[control_row("kuditipudi/dropout-width",
                                        f"fixed kept count {s['fixed_kept']} per layer at "
                                        "every width: slope in width", fit_c.slope,
                                        (fit_c.ci_low, fit_c.ci_high))]),
        claim_row("kuditipudi/lemma3",
                  f"Lemma 3: the straight segment from theta_A (h = {N}) to Algorithm 1's "
                  f"dropout network (p = {P_LEMMA3}) stays low: lower quartile over "
                  f"{s['draws_lemma3']} draws of its rise over L(theta_A), in units of "
                  f"ln C - L(theta_A); {setting}", f"{PAPER}, Lemma 3, Figure 2 centre",
                  excess(q25, 0.0, chance - LA), figure=fig,
                  median=float(excess(riseA.median(), 0.0, chance - LA)),
                  theta_B_quartile=float(excess(np.quantile(riseB, 0.25,
                                                            method="inverted_cdf"),
                                                0.0, chance - LB)),
                  sqrt_p_eps=math.sqrt(P_LEMMA3) * eps_ns, loss_theta=LA,
                  controls=[control_row("kuditipudi/lemma3", "the segment's other end is "
                                        "theta_B (the direct line)", ctrl_l3)]),
        claim_row("kuditipudi/theorem3",
                  f"Theorem 3: the path through a narrow theta* (h* = {h}, L = {L_star:.3f}) "
                  f"stays low: its rise over max(L(theta_A), L(theta_B)) in units of the way "
                  f"to ln C; {setting}", f"{PAPER}, Theorem 3, Figure 2 right, Figure 3 right",
                  excess(max3, ref3, chance), figure=fig, n_segments=path3.n_segments,
                  max_along=max3, loss_star=L_star, ends=[LA, LB],
                  controls=[control_row("kuditipudi/theorem3", k, v)
                            for k, v in ctrl_t3.items()]),
        claim_row("kuditipudi/theorem1-vertices",
                  f"Lemma 1 + Lemma 2 path ({path1.n_segments} segments), {s['check_grid']} "
                  f"points per segment by forward passes, {n_check} training points, float64: "
                  f"max along / max at vertices - 1; {setting}", f"{PAPER}, Theorem 1, Lemmas 1-2",
                  max1 / vert1 - 1, figure=fig, max_along=max1, max_vertex=vert1),
        claim_row("kuditipudi/theorem1-bound",
                  "Lemma 1 + Lemma 2 path: max along / (max(L(theta_A), L(theta_B)) + eps), "
                  f"eps the measured dropout stability (masked forward passes); {setting}",
                  f"{PAPER}, Theorem 1, Definition 1", max1 / bound1, figure=fig,
                  eps=eps_d, ends=L64),
        claim_row("kuditipudi/theorem3-vertices",
                  "path through theta*: max on Lemma 2's segments (forward passes, float64) / "
                  f"max(L(theta_A1), L(theta*), L(theta_B1)) - 1; {setting}",
                  f"{PAPER}, Theorem 3, Lemma 2",
                  float(inner["loss"].max()) / vert3 - 1, figure=fig),
        claim_row("kuditipudi/dropout-p",
                  f"best-of-20 training-loss change against p at h = {N}: "
                  + ", ".join(f"p {r.p:g}: {r.dloss:+.3f}" for r in by_p.itertuples())
                  + f"; {setting}", f"{PAPER}, Figure 2 left",
                  float(by_p.loc[by_p["p"] == 0.5, "dloss"].iloc[0])
                  if (by_p["p"] == 0.5).any() else None, figure=fig),
        claim_row("kuditipudi/straight-line",
                  f"direct line theta_A -> theta_B: max training loss (max error "
                  f"{100 * line_err:.1f}%); paper's VGG-11 line: 2.34 and 10% accuracy; "
                  f"ln C = {chance:.3f}; {setting}", f"{PAPER}, Section 6 and D.2", line_max,
                  figure=fig),
        claim_row("kuditipudi/noise-stability",
                  f"Definition 4's epsilon of theta_A (h = {N}, {s['n_noise']} training points;"
                  f" rho from {s['smooth_draws']} Algorithm 1 draws, p = {P_LEMMA3}); {setting}",
                  f"{PAPER}, Definitions 2-4, Figure 3 left", eps_ns, figure=figs_ns[0],
                  rho=smooth["rho"], rho_median_interval=[rho_lo, rho_hi],
                  rho_interval_ratio=rho_hi / rho_lo,
                  layer_cushion_min=qns["layer_cushion"].min(axis=0).tolist(),
                  layer_cushion_median=np.median(qns["layer_cushion"], axis=0).tolist(),
                  interlayer_cushion_min=qns["min_interlayer_cushion"].min(axis=0).tolist(),
                  activation_contraction_max=float(qns["activation_contraction"].max()),
                  figures=figs_ns),
    ]
    ok = verdict(claims)
    seconds = time.time() - t0
    sweep.to_csv(OUT / f"{stem}_sweep.csv", index=False)
    report = {"claims": claims, "pass": ok, "seconds": seconds,
              "mode": "quick" if args.quick else "full" if args.full else "default",
              "settings": {k: v for k, v in s.items() if k != "data_path"},
              "slope_fixed_control": [fit_c.slope, fit_c.ci_low, fit_c.ci_high],
              "by_p": by_p.to_dict(orient="list")}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=_plain))
    for c in claims:
        res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
        v = "None" if c["value"] is None else f"{c['value']:.6g}"
        iv = "" if c["interval"] is None else f" [{c['interval'][0]:.3g}, {c['interval'][1]:.3g}]"
        ctl = "".join(f"; control {x['control']}: {'PASS' if x['pass'] else 'FAIL'}"
                      for x in c.get("controls", []))
        print(f"{res:8s} {c['id']}: {v}{iv}{ctl}")
    print(f"time {seconds:.0f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def _plain(v):
    return v.item() if isinstance(v, np.generic) else float(v)


if __name__ == "__main__":
    sys.exit(main())
