"""Lazy regime of Du et al. (2019): K^(H) as the wide-network limit, the predicted GD rate,
lazy vs mean-field movement, and lambda_min(K^(H)) in depth.

Claims (inputs: n = 20 points on the unit sphere of R^10, softplus, H = 3):

(a) ||G^(H)(0) - K^(H)||_op / ||K^(H)||_op falls like m^(-1/2) at initialisation,
    for the FC net (eq. 2) and the ResNet (eq. 3, c_res = 0.5): PASS when the
    log-log slope over m = 125 ... 4000 (10 nets each) lies in [-0.65, -0.35];
(b) at the largest m, full-batch GD (eta = 1 / lambda_max of the full NTK at
    initialisation) keeps L(k) <= (1 - eta lambda_min(K^(H)) / 2)^k L(0) at
    every step up to k = 100 (Theorems 5.1 and 6.1), FC and ResNet;
(c) two-layer net on the same data (ReLU, teacher tanh(<v, x>)), 200 GD
    steps: the relative movement ||theta(k) - theta(0)|| / ||theta(0)|| falls
    like m^(-1/2) in NTK scaling (slope in [-0.65, -0.35]) and stays put in
    mean-field scaling (|slope| < 0.15), m = 100 ... 6400, 3 seeds.

Also drawn, not judged: lambda_min(K^(H)) against H = 1 ... 12 for FC and
ResNet (Du et al.: no inverse-exponential dependence on H for ResNets), and
the two-layer loss curves of both scalings side by side.

Writes validation/out/lazy_gram{,_quick}.{json,png,pdf} and prints PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from meanfield.analysis import loglog_fit
from meanfield.lazy import fc_gram, init_net, resnet_gram, train_gd
from meanfield.lazy.networks import train_two_layer
from meanfield.plotting import plt, rate_plot, save_figure

OUT = Path(__file__).resolve().parent / "out"
BAND = (-0.65, -0.35)
PAPER = "Du, Lee, Li, Wang & Zhai 2019"


def inputs(n=20, d=10, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def gram_convergence(X, ms, nets, H=3):
    out = {}
    for name, resnet in (("FC", False), ("ResNet", True)):
        K = (resnet_gram(X, H, "softplus", c_res=0.5) if resnet
             else fc_gram(X, H, "softplus")).K
        xs, ys = [], []
        for m in ms:
            for s in range(nets):
                net = init_net(X.shape[1], m, H, "softplus", resnet=resnet, c_res=0.5,
                               rng=1000 * m + s)
                xs.append(m)
                ys.append(np.linalg.norm(net.gram_last(X) - K, 2) / np.linalg.norm(K, 2))
        out[name] = (np.array(xs), np.array(ys), loglog_fit(xs, ys))
    return out


def predicted_rate(X, m, steps=100, H=3):
    y = np.random.default_rng(7).standard_normal(X.shape[0])
    out = {}
    for name, resnet in (("FC", False), ("ResNet", True)):
        gram = resnet_gram(X, H, "softplus", c_res=0.5) if resnet else fc_gram(X, H, "softplus")
        net = init_net(X.shape[1], m, H, "softplus", resnet=resnet, c_res=0.5, rng=3)
        eta = 1.0 / np.linalg.eigvalsh(net.ntk(X))[-1]
        res = train_gd(net, X, y, eta, steps, record_every=steps)
        bound = (1 - eta * gram.lambda_min / 2) ** np.arange(res.loss.size) * res.loss[0]
        out[name] = (res, bound, eta, gram.lambda_min)
    return out


def lazy_vs_mf(X, ms, seeds):
    y = np.tanh(X @ np.random.default_rng(11).standard_normal(X.shape[1]))
    out, curves = {}, {}
    for sc in ("ntk", "mf"):
        xs, ys = [], []
        for m in ms:
            for s in range(seeds):
                run = train_two_layer(X, y, m, sc, eta=0.5, steps=200, rng=s)
                xs.append(m)
                ys.append(run.relative_movement)
                if s == 0:
                    curves[(sc, m)] = run.loss
        out[sc] = (np.array(xs), np.array(ys), loglog_fit(xs, ys))
    return out, curves


def depth(X, Hs):
    return {name: [float((resnet_gram(X, H, "softplus", c_res=0.5) if res
                          else fc_gram(X, H, "softplus")).lambda_min) for H in Hs]
            for name, res in (("FC", False), ("ResNet", True))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="m up to 2000, fewer nets (~30 s)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    t0 = time.time()
    X = inputs()
    ms = [125, 250, 500, 1000, 2000] + ([] if args.quick else [4000])
    conv = gram_convergence(X, ms, 4 if args.quick else 10)
    rate = predicted_rate(X, ms[-1])
    mv, curves = lazy_vs_mf(X, [100, 400, 1600] + ([] if args.quick else [6400]), 3)
    Hs = list(range(1, 13))
    lam = depth(X, Hs)

    claims = []
    for name, (_, _, f) in conv.items():
        claims.append({"claim": f"(a) {name}: ||G^(H)(0) - K^(H)|| / ||K^(H)|| ~ m^(-1/2), "
                                f"slope in [-0.65, -0.35]", "paper": PAPER + ", Defs 5.1/6.1",
                       "value": f.slope, "interval": [f.ci_low, f.ci_high],
                       "pass": BAND[0] <= f.slope <= BAND[1], "figure": "gram_vs_m"})
    for name, (res, bound, eta, lmin) in rate.items():
        ok = bool(np.all(res.loss <= bound))
        claims.append({"claim": f"(b) {name}, m = {ms[-1]}: L(k) <= (1 - eta lambda_min/2)^k L(0) "
                                f"for k <= {res.loss.size - 1}",
                       "paper": PAPER + ", Thms 5.1/6.1",
                       "value": float(np.max(res.loss / bound)), "interval": None, "pass": ok,
                       "figure": "gd_vs_bound"})
    f = mv["ntk"][2]
    claims.append({"claim": "(c) NTK scaling: relative movement ~ m^(-1/2), slope in "
                            "[-0.65, -0.35]", "paper": PAPER + "; Chizat et al. (lazy)",
                   "value": f.slope, "interval": [f.ci_low, f.ci_high],
                   "pass": BAND[0] <= f.slope <= BAND[1], "figure": "movement_vs_m"})
    f = mv["mf"][2]
    claims.append({"claim": "(c) mean-field scaling: relative movement independent of m, "
                            "|slope| < 0.15", "paper": "Mei, Montanari & Nguyen 2018",
                   "value": f.slope, "interval": [f.ci_low, f.ci_high],
                   "pass": abs(f.slope) < 0.15, "figure": "movement_vs_m"})

    stem = "lazy_gram_quick" if args.quick else "lazy_gram"
    OUT.mkdir(exist_ok=True)
    fig, axes = plt.subplots(1, 5, figsize=(24, 3.8))
    for name, (xs, ys, f) in conv.items():
        rate_plot(xs, ys, f, ax=axes[0], label=name, xlabel="m",
                  ylabel="||G(0) - K|| / ||K||")
    for name, (res, bound, eta, lmin) in rate.items():
        axes[1].semilogy(res.loss / res.loss[0], label=f"{name}: GD")
        axes[1].semilogy(bound / res.loss[0], "--", label=f"{name}: (1 - eta lambda/2)^k")
    axes[1].set_xlabel("GD step k")
    axes[1].set_ylabel("L(k) / L(0)")
    axes[1].legend(fontsize=7)
    for sc, (xs, ys, f) in mv.items():
        rate_plot(xs, ys, f, ax=axes[2], label={"ntk": "NTK 1/sqrt(m)", "mf": "mean field 1/m"}[sc],
                  xlabel="m", ylabel="||theta(k) - theta(0)|| / ||theta(0)||")
    for name, vals in lam.items():
        axes[3].semilogy(Hs, vals, "o-", label=name)
    axes[3].set_xlabel("depth H")
    axes[3].set_ylabel("lambda_min(K^(H))")
    axes[3].legend(fontsize=8)
    for (sc, m), loss in sorted(curves.items()):
        if m in (100, 1600):
            axes[4].semilogy(loss, "-" if sc == "ntk" else "--",
                             label=f"{'NTK' if sc == 'ntk' else 'mean field'}, m = {m}")
    axes[4].set_xlabel("GD step")
    axes[4].set_ylabel("training loss (two-layer)")
    axes[4].legend(fontsize=7)
    fig.tight_layout()
    for c in claims:
        c["figure"] = str(OUT / f"{stem}.png")
    save_figure(fig, OUT / stem)
    ok = all(c["pass"] for c in claims)
    report = {"claims": claims, "lambda_min_vs_H": {"H": Hs, **lam},
              "seconds": time.time() - t0, "pass": ok, "quick": args.quick}
    (OUT / f"{stem}.json").write_text(json.dumps(report, indent=2, default=float))
    for c in claims:
        iv = c["interval"]
        print(f"{'PASS' if c['pass'] else 'FAIL'}  {c['claim']}: {c['value']:+.3f}"
              + (f" [{iv[0]:+.3f}, {iv[1]:+.3f}]" if iv else ""))
    print("lambda_min(K^(H)), H = 1..12: FC " + ", ".join(f"{v:.2e}" for v in lam["FC"]))
    print("                               ResNet " + ", ".join(f"{v:.2e}" for v in lam["ResNet"]))
    print(f"time {report['seconds']:.0f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
