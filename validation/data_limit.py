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

Setting: erf student (bounded, differentiable: assumption A3), a uniform on
[-sqrt 3, sqrt 3] (bounded: A4), w ~ N(0, I/d), T = 1, RK4 with h = 0.1.
Quick (``--quick``): scikit-learn's digits, classes 0 and 1 (360 images,
d = 64), N = 100 ... 800, M = 2000, 10 seeds.  Default: Fashion-MNIST
classes 0 and 6 (T-shirt and shirt, 12000 images, d = 784; Debian's
``dataset-fashion-mnist``), N = 250 ... 2000, M = 5000, 10 seeds; without
the data set the script says how to install it and exits 2.

Writes validation/out/data_limit{,_quick}.{csv,json,png,pdf}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


import sgd_vs_limit as svl
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.plotting import plt, rate_plot, save_figure
from meanfield.tasks import EmpiricalTask
from meanfield.tasks.datasets import DatasetNotFoundError

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Mei, Misiakiewicz & Montanari 2019 Thm 1 (any data law); Shevchenko & Mondelli 2020"
QUICK = dict(spec="digits:0,1", Ns=(100, 200, 400, 800), M=2000, seeds=10)
FULL = dict(spec="fashion-mnist:0,6", Ns=(250, 500, 1000, 2000), M=5000, seeds=10)


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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="digits 0 vs 1, N <= 800, 10 seeds (about a minute)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    s = QUICK if args.quick else FULL
    try:
        task = EmpiricalTask.from_spec(s["spec"], "erf")
    except DatasetNotFoundError as exc:
        print(f"data_limit: {exc}", file=sys.stderr)
        return 2
    t0 = time.time()
    df = svl.run(list(s["Ns"]), s["seeds"], s["M"], "erf", task=task, alphas=(),
                 progress=not args.quiet)
    fits = svl.fit_all(df, alpha_sweep=False)
    stem = "data_limit_quick" if args.quick else "data_limit"
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
    ok = verdict(claims)
    report = {"claims": claims, "pass": ok, "quick": args.quick, "data": s["spec"],
              "n": int(task.n), "d": int(task.d), "Ns": list(s["Ns"]), "M": s["M"],
              "seeds": s["seeds"],
              "fits": {k: [f.slope, f.ci_low, f.ci_high] for k, f in fits.items()},
              "seconds": time.time() - t0}
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
