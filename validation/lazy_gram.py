"""Lazy regime of Du et al. (2019): K^(H) as the wide-network limit, the predicted GD rate,
lazy vs mean-field movement, and lambda_min(K^(H)) in depth.

Claims (inputs: n = 20 points on the unit sphere of R^10, softplus, H = 3),
each judged by its rule in ``meanfield.analysis.claims.RULES`` (stated in
``docs/validation.md``):

(a) ``lazy_gram/a/fc``, ``lazy_gram/a/resnet``: ||G^(H)(0) - K^(H)||_op /
    ||K^(H)||_op = O(m^(-1/2)) at initialisation, for the FC net (eq. 2) and
    the ResNet (eq. 3, c_res = 0.5): log-log slope over m = 125 ... 4000
    (quick: m <= 2000), judged as an upper bound (upper end of the slope's
    95% interval <= -0.35).  40 nets per m: the ratio of one net scatters by
    50-70% of its mean, and with 4 (quick) or 10 nets (full) the interval's
    upper end came out at -0.34 and -0.23 (quick) and -0.345 (ResNet, 10
    nets, m <= 4000) with slopes of -0.45 to -0.6;
    ``lazy_gram/a/conv-resnet``: the same for the convolutional ResNet of
    Section 3 (Definition 7.1, Theorem 7.1; :func:`meanfield.lazy.conv_resnet_gram`)
    on 20 images of 3 channels x 8 pixels with ``||x_i||_F = 1``, patches of 3
    pixels, erf, c_res = 0.5, H = 3, m = 125 ... 2000 channels (quick: 1000), 40
    nets per m; its control is the same G^(H)(0) against the K^(H) of patches of
    one pixel (q = 1), a limit they do not approach.
(b) ``lazy_gram/b/fc``, ``lazy_gram/b/resnet``: at m = 4000 (quick: 1000,
    which keeps quick mode about as fast as with one GD run at 2000), full-batch
    GD at eta = lambda_min(K^(H)) / n^2, the order of the step of Theorem
    5.1 (Theorem 6.1 allows H^2 times more for the ResNet), keeps
    L(k) <= (1 - eta lambda_min(K^(H)) / 2)^k L(0): the maximum over
    k <= 100 of the ratio (1 at k = 0) is at most 1.  The step is small
    (about 3e-6 for FC and 3e-7 for the ResNet, lambda_min(K^(3)) being
    1.2e-3 and 1.0e-4): 100 steps lower the loss by 1% or less and
    the bound by 2e-7 and 1e-9 of L(0), so this row checks little more than
    that the loss does not rise; the ratio at k = 100 is in the row
    (``ratio_last``);
    ``lazy_gram/b-large/<fc|resnet>`` (observation): the same ratio at the
    large step eta = 1 / lambda_max of the full NTK at initialisation, beyond
    the theorems' step, which (b) judged before;
(c) two-layer net on the same data (ReLU, teacher tanh(<v, x>)), 200 GD
    steps, m = 100 ... 6400 (quick: m <= 1600), 3 seeds: the relative
    movement ||theta(k) - theta(0)|| / ||theta(0)||
    ``lazy_gram/c/ntk``: in NTK scaling is O(m^(-1/2)) (upper end of the
    slope's interval <= -0.35, Chizat et al.'s lazy training);
    ``lazy_gram/c/mf``: in mean-field scaling does not depend on m (the
    slope's whole 95% interval inside [-0.15, 0.15]).

(d) ``lazy_gram/d/ntk``: Du et al.'s residual dynamics (Section 4): on the
    same data, a two-layer softplus net in NTK scaling, 200 GD steps at
    eta = 0.5, m = 100 ... 6400 (quick: m <= 1600), 3 seeds: the largest
    relative distance of the residuals from (I - (eta / n) H(0))^k r(0) is
    O(m^(-1/2)) (upper end of the slope's interval <= -0.35); its control,
    the same measure in mean-field scaling, must fail.  Labelled "setting":
    the widths are far below Theorem 5.1's.

Rows whose rule changed carry ``old_rule`` and ``old_pass``: (a) and (c) ntk
the slope's point in [-0.65, -0.35], (c) mf |slope| < 0.15 (the point), (b)
the bound at eta = 1 / lambda_max.

(e) ``lazy_gram/e/fc``: lambda_min(K^(H)) against H = 1 ... 12 for FC and
    ResNet (Du et al.: width exponential in H for FC, polynomial for the
    ResNet): the FC's falls at least 2x per layer over H = 2 ... 12 (largest
    ratio of consecutive depths <= 0.5); its control, the ResNet's series
    under the same rule, must fail.

Also drawn, not judged: the two-layer loss curves of both scalings side by
side.

Writes validation/out/lazy_gram{,_quick}.{json,png,pdf} (the JSON with the
claims, the verdict and "seconds") and prints PASS/FAIL per judged claim,
"reported" per observation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from meanfield.analysis import loglog_fit
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.lazy import (
    conv_resnet_gram,
    fc_gram,
    init_conv_net,
    init_net,
    resnet_gram,
    train_gd,
)
from meanfield.lazy.networks import train_two_layer
from meanfield.plotting import plt, rate_plot, save_figure

OUT = Path(__file__).resolve().parent / "out"
BAND = (-0.65, -0.35)
NETS = 40
#: the conv ResNet's activation: smooth and analytic as Theorem 7.1 asks, with closed-form
#: pair expectations (its (n p)^2 pixel pairs have unequal variances at the edges, where
#: softplus's quadrature costs about 1.6 ms a pair: 2 minutes for K^(3) at n = 20, p = 8)
CONV_ACT = "erf"
OLD_BAND = "slope in [-0.65, -0.35]"
PAPER = "Du, Lee, Li, Wang & Zhai 2019"


def inputs(n=20, d=10, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def gram_convergence(X, ms, nets, H=3):
    """``{name: (m, ratio, fit)}`` for FC and ResNet, and under ``"<name> control"`` the
    same nets' G^(H)(0) against the *other* architecture's K^(H) (a limit they do not
    approach, so no decay in m)."""
    Ks = {"FC": fc_gram(X, H, "softplus").K,
          "ResNet": resnet_gram(X, H, "softplus", c_res=0.5).K}
    out = {}
    for name, resnet in (("FC", False), ("ResNet", True)):
        K, K_other = Ks[name], Ks["ResNet" if name == "FC" else "FC"]
        xs, ys, yc = [], [], []
        for m in ms:
            for s in range(nets):
                net = init_net(X.shape[1], m, H, "softplus", resnet=resnet, c_res=0.5,
                               rng=1000 * m + s)
                G = net.gram_last(X)
                xs.append(m)
                ys.append(np.linalg.norm(G - K, 2) / np.linalg.norm(K, 2))
                yc.append(np.linalg.norm(G - K_other, 2) / np.linalg.norm(K_other, 2))
        out[name] = (np.array(xs), np.array(ys), loglog_fit(xs, ys))
        out[f"{name} control"] = (np.array(xs), np.array(yc), loglog_fit(xs, yc))
    return out


def conv_inputs(n=20, channels=3, p=8, seed=0):
    """Images of ``channels`` x ``p`` pixels with ``||x_i||_F = 1`` (Theorem 7.1)."""
    X = np.random.default_rng(seed).standard_normal((n, channels, p))
    return X / np.linalg.norm(X.reshape(n, -1), axis=1)[:, None, None]


def conv_gram_convergence(X, ms, nets, H=3):
    """Theorem 7.1's matrix: ``{"conv ResNet": (m, ratio, fit), "conv ResNet control": ...}``
    for erf conv ResNets (q = 3) at initialisation, the control being the same G^(H)(0)
    against the K^(H) of patches without their neighbours (q = 1), a limit they do not
    approach."""
    K = conv_resnet_gram(X, H, CONV_ACT, c_res=0.5).K
    K1 = conv_resnet_gram(X, H, CONV_ACT, c_res=0.5, q=1).K
    xs, ys, yc = [], [], []
    for m in ms:
        for s in range(nets):
            G = init_conv_net(X.shape[1], X.shape[2], m, H, CONV_ACT, c_res=0.5,
                              rng=1000 * m + s).gram_last(X)
            xs.append(m)
            ys.append(np.linalg.norm(G - K, 2) / np.linalg.norm(K, 2))
            yc.append(np.linalg.norm(G - K1, 2) / np.linalg.norm(K1, 2))
    return {"conv ResNet": (np.array(xs), np.array(ys), loglog_fit(xs, ys)),
            "conv ResNet control": (np.array(xs), np.array(yc), loglog_fit(xs, yc))}


def predicted_rate(X, m, steps=100, H=3):
    """GD from one initialisation at two steps: ``"small"``, eta = lambda_min(K^(H)) / n^2
    (Theorem 5.1's order), and ``"large"``, eta = 1 / lambda_max(NTK(0)).

    Returns ``{name: ({step: (GDResult, bound, eta)}, lambda_min)}``, the bound
    being ``(1 - eta lambda_min / 2)^k L(0)`` at every step k.
    """
    y = np.random.default_rng(7).standard_normal(X.shape[0])
    n = X.shape[0]
    out = {}
    for name, resnet in (("FC", False), ("ResNet", True)):
        gram = resnet_gram(X, H, "softplus", c_res=0.5) if resnet else fc_gram(X, H, "softplus")
        runs = {}
        for step in ("small", "large"):
            net = init_net(X.shape[1], m, H, "softplus", resnet=resnet, c_res=0.5, rng=3)
            eta = (gram.lambda_min / n ** 2 if step == "small"
                   else 1.0 / np.linalg.eigvalsh(net.ntk(X))[-1])
            res = train_gd(net, X, y, eta, steps, record_every=steps)
            bound = (1 - eta * gram.lambda_min / 2) ** np.arange(res.loss.size) * res.loss[0]
            runs[step] = (res, bound, eta)
        out[name] = (runs, gram.lambda_min)
    return out


def lazy_vs_mf(X, ms, seeds):
    y = np.tanh(X @ np.random.default_rng(11).standard_normal(X.shape[1]))
    out, curves = {}, {}
    for sc in ("ntk", "mf"):
        xs, ys = [], []
        for m in ms:
            for s in range(seeds):
                # a stream per (m, seed), as in (a): with rng = s the nets of one seed
                # shared a prefix of their weights across m, and the fit took them as
                # independent runs
                run = train_two_layer(X, y, m, sc, eta=0.5, steps=200, rng=1000 * m + s)
                xs.append(m)
                ys.append(run.relative_movement)
                if s == 0:
                    curves[(sc, m)] = run.loss
        out[sc] = (np.array(xs), np.array(ys), loglog_fit(xs, ys))
    return out, curves


def kernel_rate(X, ms, seeds):
    """Du et al.'s residual dynamics: the largest relative distance of the residuals from
    (I - (eta / n) H(0))^k r(0) over 200 GD steps of a two-layer softplus net, in NTK
    scaling (the claim, (d)) and mean-field scaling (its control)."""
    y = np.tanh(X @ np.random.default_rng(11).standard_normal(X.shape[1]))
    out = {}
    for sc in ("ntk", "mf"):
        xs, ys = [], []
        for m in ms:
            for s in range(seeds):
                run = train_two_layer(X, y, m, sc, "softplus", eta=0.5, steps=200,
                                      rng=np.random.default_rng([m, s, 4]))
                xs.append(m)
                ys.append(run.kernel_deviation)
        out[sc] = (np.array(xs), np.array(ys), loglog_fit(xs, ys))
    return out


def depth(X, Hs):
    return {name: [float((resnet_gram(X, H, "softplus", c_res=0.5) if res
                          else fc_gram(X, H, "softplus")).lambda_min) for H in Hs]
            for name, res in (("FC", False), ("ResNet", True))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="m up to 2000, GD at m = 1000 (about 2.5 min)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    t0 = time.time()
    X = inputs()
    ms = [125, 250, 500, 1000, 2000] + ([] if args.quick else [4000])
    conv = gram_convergence(X, ms, NETS)
    # an m = 4000 conv net costs about 5 s (two 4000 x 12000 layers): m <= 2000 keeps the
    # row near a minute at full size
    conv.update(conv_gram_convergence(conv_inputs(), ms[:4] if args.quick else ms[:5], NETS))
    m_gd = 1000 if args.quick else ms[-1]  # two GD runs of 100 steps cost m^2
    rate = predicted_rate(X, m_gd)
    ms_two = [100, 400, 1600] + ([] if args.quick else [6400])
    mv, curves = lazy_vs_mf(X, ms_two, 3)
    kr = kernel_rate(X, ms_two, 3)
    Hs = list(range(1, 13))
    lam = depth(X, Hs)

    claims = []
    for name in ("FC", "ResNet"):
        f, fc_ = conv[name][2], conv[f"{name} control"][2]
        other = "ResNet" if name == "FC" else "FC"
        claims.append(claim_row(
            f"lazy_gram/a/{name.lower()}",
            f"(a) {name}: ||G^(H)(0) - K^(H)|| / ||K^(H)|| = O(m^(-1/2)) (slope in m)",
            PAPER + ", Defs 5.1/6.1", f.slope, (f.ci_low, f.ci_high), "gram_vs_m",
            controls=[control_row(f"lazy_gram/a/{name.lower()}", f"the same G^(H)(0) against "
                                  f"the {other}'s K^(H): slope in m", fc_.slope,
                                  (fc_.ci_low, fc_.ci_high))],
            old_rule=OLD_BAND, old_pass=bool(BAND[0] <= f.slope <= BAND[1])))
    f, fc_ = conv["conv ResNet"][2], conv["conv ResNet control"][2]
    claims.append(claim_row(
        "lazy_gram/a/conv-resnet",
        "(a) convolutional ResNet (20 images of 3 channels x 8 pixels, patches of 3, erf): "
        "||G^(H)(0) - K^(H)|| / ||K^(H)|| = O(m^(-1/2)) (slope in m, m channels)",
        PAPER + ", Def 7.1, Thm 7.1", f.slope, (f.ci_low, f.ci_high), "gram_vs_m",
        controls=[control_row("lazy_gram/a/conv-resnet", "the same G^(H)(0) against the "
                              "K^(H) of patches of 1 pixel (q = 1): slope in m", fc_.slope,
                              (fc_.ci_low, fc_.ci_high))]))
    for name, (runs, lmin) in rate.items():
        theorem = "Thm 5.1" if name == "FC" else "Thm 6.1"
        old_ok = bool(np.all(runs["large"][0].loss <= runs["large"][1]))
        for step, rule in (("small", "b"), ("large", "b-large")):
            res, bound, eta = runs[step]
            what = "lambda_min / n^2" if step == "small" else "1 / lambda_max(NTK(0))"
            claims.append(claim_row(
                f"lazy_gram/{rule}/{name.lower()}",
                f"({rule}) {name}, m = {m_gd}: max over k <= {res.loss.size - 1} of "
                f"L(k) / ((1 - eta lambda_min/2)^k L(0)), eta = {what} = {eta:.3g}",
                PAPER + f", {theorem}", float(np.max(res.loss / bound)), None, "gd_vs_bound",
                eta=float(eta), lambda_min=float(lmin),
                ratio_last=float(res.loss[-1] / bound[-1]),
                old_rule="L(k) <= (1 - eta lambda_min/2)^k L(0) for k <= 100 at "
                         "eta = 1 / lambda_max", old_pass=old_ok))
    f, fm = mv["ntk"][2], mv["mf"][2]
    claims.append(claim_row(
        "lazy_gram/c/ntk", "(c) NTK scaling: relative movement = O(m^(-1/2)) (slope in m)",
        PAPER + "; Chizat et al. (lazy)", f.slope, (f.ci_low, f.ci_high), "movement_vs_m",
        controls=[control_row("lazy_gram/c/ntk", "the mean-field net's movement: slope in m",
                              fm.slope, (fm.ci_low, fm.ci_high))],
        old_rule=OLD_BAND, old_pass=bool(BAND[0] <= f.slope <= BAND[1])))
    claims.append(claim_row(
        "lazy_gram/c/mf", "(c) mean-field scaling: relative movement independent of m "
        "(slope in m)", "Mei, Montanari & Nguyen 2018", fm.slope, (fm.ci_low, fm.ci_high),
        "movement_vs_m", controls=[control_row("lazy_gram/c/mf", "the NTK net's movement: "
                                               "slope in m", f.slope, (f.ci_low, f.ci_high))],
        old_rule="|slope| < 0.15 (the point)", old_pass=bool(abs(fm.slope) < 0.15)))
    f, fm = kr["ntk"][2], kr["mf"][2]
    claims.append(claim_row(
        "lazy_gram/d/ntk", "(d) NTK scaling: max_k |r(k) - (I - eta H(0))^k r(0)| / |r(0)| = "
        "O(m^(-1/2)), two-layer softplus, 200 GD steps (slope in m)", PAPER + ", Section 4",
        f.slope, (f.ci_low, f.ci_high), "kernel_deviation_vs_m",
        controls=[control_row("lazy_gram/d/ntk", "the same deviation in mean-field scaling: "
                              "slope in m", fm.slope, (fm.ci_low, fm.ci_high))]))

    ratios = {name: [v[i + 1] / v[i] for i in range(1, len(v) - 1)] for name, v in lam.items()}
    claims.append(claim_row(
        "lazy_gram/e/fc", f"(e) FC: lambda_min(K^(H)) exponentially small in H (largest ratio "
        f"of consecutive depths, H = {Hs[1]} ... {Hs[-1]})", PAPER + ", Thms 5.1 vs 6.1",
        float(max(ratios["FC"])), None, "lambda_min_vs_H",
        controls=[control_row("lazy_gram/e/fc", "the ResNet's K^(H) under the same rule",
                              float(max(ratios["ResNet"])))]))
    stem = "lazy_gram_quick" if args.quick else "lazy_gram"
    OUT.mkdir(exist_ok=True)
    fig, axes = plt.subplots(1, 7, figsize=(34, 3.8))
    for name, (xs, ys, f) in conv.items():
        rate_plot(xs, ys, f, ax=axes[0], xlabel="m", ylabel="||G(0) - K|| / ||K||",
                  label=name.replace("control", "vs the other K (control)"))
    for ax, step, title in ((axes[1], "small", "eta = lambda_min(K) / n^2 (Theorem 5.1's order)"),
                            (axes[2], "large", "eta = 1 / lambda_max(NTK(0)) (beyond it)")):
        for name, (runs, lmin) in rate.items():
            res, bound, eta = runs[step]
            ax.plot(res.loss / res.loss[0], label=f"{name}: GD")
            ax.plot(bound / res.loss[0], "--", label=f"{name}: (1 - eta lambda_min/2)^k")
        if step == "large":
            ax.set_yscale("log")
        ax.set_xlabel("GD step k")
        ax.set_ylabel("L(k) / L(0)")
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=7)
    for sc, (xs, ys, f) in mv.items():
        rate_plot(xs, ys, f, ax=axes[3], label={"ntk": "NTK 1/sqrt(m)", "mf": "mean field 1/m"}[sc],
                  xlabel="m", ylabel="||theta(k) - theta(0)|| / ||theta(0)||")
    for name, vals in lam.items():
        axes[4].semilogy(Hs, vals, "o-", label=name)
    axes[4].set_xlabel("depth H")
    axes[4].set_ylabel("lambda_min(K^(H))")
    axes[4].legend(fontsize=8)
    for (sc, m), loss in sorted(curves.items()):
        if m in (100, 1600):
            axes[5].semilogy(loss, "-" if sc == "ntk" else "--",
                             label=f"{'NTK' if sc == 'ntk' else 'mean field'}, m = {m}")
    axes[5].set_xlabel("GD step")
    axes[5].set_ylabel("training loss (two-layer)")
    axes[5].legend(fontsize=7)
    for sc, (xs, ys, f) in kr.items():
        rate_plot(xs, ys, f, ax=axes[6], xlabel="m",
                  label={"ntk": "NTK (claim d)", "mf": "mean field (control)"}[sc],
                  ylabel="max_k |r(k) - (I - eta H(0))^k r(0)| / |r(0)|")
    axes[6].set_title("residuals against the kernel at initialisation (softplus)", fontsize=8)
    fig.tight_layout()
    for c in claims:
        c["figure"] = str(OUT / f"{stem}.png")
    save_figure(fig, OUT / stem)
    ok = verdict(claims)
    report = {"claims": claims, "lambda_min_vs_H": {"H": Hs, **lam},
              "kernel_deviation_means": {sc: {int(m): float(ys[xs == m].mean())
                                              for m in np.unique(xs)}
                                         for sc, (xs, ys, _) in kr.items()},
              "seconds": time.time() - t0, "pass": ok, "quick": args.quick}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=float))
    for c in claims:
        iv = c["interval"]
        res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
        print(f"{res:8s} {c['id']}: {c['value']:+.4f}"
              + (f" [{iv[0]:+.3f}, {iv[1]:+.3f}]" if iv else "")
              + (f" (old rule {c['old_rule']}: {'PASS' if c['old_pass'] else 'FAIL'})"
                 if "old_rule" in c else "")
              + "".join(f"; control {x['control']}: {x['value']:+.3f} "
                        f"{'PASS' if x['pass'] else 'FAIL'}" for x in c.get("controls", [])))
    print("lambda_min(K^(H)), H = 1..12: FC " + ", ".join(f"{v:.2e}" for v in lam["FC"]))
    print("                               ResNet " + ", ".join(f"{v:.2e}" for v in lam["ResNet"]))
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
