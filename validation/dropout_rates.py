"""Dropout stability and connectivity of SGD solutions: rates in N and the dimension
(Shevchenko & Mondelli, ICML 2020, Theorem 1).

Theorem 1 bounds, with probability at least 1 - exp(-z^2) and a constant K,

    eps_D <= K [(sqrt(log|A|) + z) / sqrt|A| + sqrt(alpha) (sqrt(D + log N) + z)]   (3.7)
    eps_C <= K [(sqrt(log N) + z) / sqrt N + sqrt(alpha) (sqrt(D + log N) + z)]      (3.8)

for a bounded, differentiable activation (assumption A3), D = d the input
dimension.  Every claim is a row of :func:`meanfield.analysis.claims.claim_row`,
judged by its rule in ``meanfield.analysis.claims.RULES`` (``docs/validation.md``
states the rules).  erf is inside the assumptions and judged; ReLU (not
differentiable at 0, unbounded) is run in the same setting and reported as
beyond them.  tanh is not run (its rules were dropped before any run, see
docs/validation.md): its population kernel has no closed form and goes
through quadrature, about 500 times the cost of erf per pair of neurons
(sigmoid about 200 times), so a single N = 1600 risk takes longer than this
whole script.

Claims, with alpha = 1/N (both terms of each bound of order N^(-1/2) up to
logarithms):

(a) ``dropout_rates/a/<act>[t=...]``: the log-log slope in N of eps_D at
    |A| = N/2 (mean over 4 independent A per network, fitted on the means
    over networks), at t = 0, T/2, T; judged as an upper rate (upper end of
    the slope's 95% interval <= -0.35);
(b) ``dropout_rates/b/<act>[|A|=...]``: at each fixed |A| of the sweep, the
    slope in N of the mean eps_D (mean over 16 draws of A per network);
    judged by equivalence (the 95% interval inside [-0.15, 0.15]).  Averaged
    over A, L_|A| - L_N scales with (1/|A| - 1/N) exactly
    (:func:`meanfield.twolayer.dropout.dropout_bias`; its fluctuations have
    variance proportional to the same factor), so at fixed |A| eps_D does
    depend on N through sqrt(1 - |A|/N), a local slope 0.5 (|A|/N) /
    (1 - |A|/N); the sweep starts at N = 8 max|A|, where that slope is at
    most 0.07;
(c) ``dropout_rates/c/<act>``: the slope in N of the mean eps_C of the
    seven-segment path; judged as an upper rate;
(d) ``dropout_rates/d/erf``: eps_D(d = 160) / eps_D(d = 10) at |A| = N/2,
    at one N, with a step alpha = alpha0 / N small enough that the
    sqrt(alpha) term of (3.7), the only one with D, is negligible; judged by
    "does not grow beyond a margin": the upper end of the ratio's 95% interval
    is at most 1.5 (16^0.15, the equivalence margin of a slope over the
    16-fold step in d); until 2026-12-07 "the lower end <= 1", which passed
    when growth went undetected.  Control: the same nets with eps_D(d = 160)
    multiplied by 16^0.3, a growth like d^0.3 put in at the data's spread.  With
    alpha0 = 1e-3 and z = 1: at N = 400 (full) the first term is
    (sqrt(log 200) + 1) / sqrt(200) = 0.233 and the second
    sqrt(2.5e-6) (sqrt(160 + log 400) + 1) = 0.022 (9%), 0.008 at d = 10;
    at N = 100 (quick) 0.421 and 0.044 (10%), 0.015 at d = 10.  The bound's
    shape thus grows by 5.8% (full) and 6.5% (quick) from d = 10 to 160:
    dimension-free up to that.  The ratio is drawn beside the multilayer one
    of ``validation/multilayer_rates.py`` (Theorem 2, whose leading term grows
    like sqrt(d): sqrt(160 / 10) = 4), read from its JSON ("ratio_d") when
    that script has run.

Rows of (a)-(c) carry ``old_rule`` and ``old_pass``, the verdict under the
rule used before (slope in [-0.65, -0.35] for (a) and (c); for (b) the range
of the means across N below the mean seed standard deviation).

Settings: teacher-student, d = 20, teacher of 4 orthonormal neurons; theta ~
a uniform on [-sqrt 3, sqrt 3] (bounded, as (A4) asks; N(0, 1) until
2026-12-06), w ~ N(0, I/d), and theta' from the same law with an independent
seed; one-pass SGD (3.3), batch 1, T = 1.  Full: N = 100 ... 12800, 10 pairs
per N; the |A| sweep |A| in {25, 50, 100, 200} at N in {1600, 3200, 6400,
12800}; d sweep N = 400, 20 pairs per d (it was N = 800: a d = 160 pair
there takes about 2.3 minutes, 65 CPU minutes for the sweep; see
docs/validation.md, "Sizes of the full run").  Quick (``--quick``): N = 100
... 1600, 6 pairs; |A| in {6, 12, 25} at N in {200, 400, 800, 1600}; d sweep
N = 100, 4 pairs.  Fits are of the means over networks (eps_C is exactly 0
for some pairs) with a percentile bootstrap over networks (pairs for eps_C).

Reported next to the claims: the local slopes of eps_C, N times the exact
dropout shift, eps_C with that shift removed (``eps_C_debiased``, which
isolates the N^(-1/2) term of (3.8)), the straight-line and neuron-aligned
straight-line barriers, the same for theta' from a different initial law
(ReLU), the rescaled dropout of Kuditipudi et al., and the constants K of the
bound shapes.

What to expect: averaged over A, the dropout loss exceeds L_N by (1/|A| -
1/N) (mean_i U(theta_i, theta_i) - mean_{i != j} U(theta_i, theta_j)), of
order 1/N, next to fluctuations of order N^(-1/2) whose size shrinks as the
network fits the teacher.  eps_C, a positive part of a maximum, feels this
shift more than eps_D does: for the well-fitted erf student it steepens the
eps_C slope to about -0.65 over N <= 12800 in an earlier run (a steeper decay than the bound,
which does not contradict it).

Cells are stored (resumable) under validation/out/dropout_rates_cells/<act>,
.../relu_laws and .../erf_d<d> (``dropout_rates_quick_cells`` in quick mode);
tables and figures go to validation/out/dropout_rates_<act>/ and
dropout_rates_d/, and the claims, details and "seconds" to
dropout_rates.json (``_quick`` in quick mode).  Quick mode took 18 minutes
(9 CPU minutes) on a 2-core machine shared at a load of 13, a third of it in
the d = 160 cells (6 pairs then, 4 now).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from meanfield.analysis import dropout_shape, loglog_fit, ratio_interval
from meanfield.analysis.claims import claim_row, control_row, verdict
from meanfield.plotting import dimension_ratios, save_figure
from meanfield.experiments.stability import run_stability, save_stability
from meanfield.experiments import cell_commits
from meanfield.twolayer.experiment import StabilityConfig

OUT = Path(__file__).resolve().parent / "out"
PAPER = "Shevchenko & Mondelli 2020, Thm 1"
ACTIVATIONS = ("erf", "relu")  # tanh: see the module docstring
BAND = (-0.65, -0.35)
OLD_RATE = "slope in [-0.65, -0.35]"
OLD_FLAT = "range of the means across N < seed SD"
DIMS = (10, 160)
GROWTH = 0.3  # the dimension claim's control: eps_D grown like d^0.3 (16^0.3 = 2.3)


def configs(quick):
    """``(common, main, laws, dsweep)`` settings of :class:`StabilityConfig`."""
    if quick:
        main = dict(Ns=(100, 200, 400, 800, 1600), seeds=6, sweep_Ns=(200, 400, 800, 1600),
                    sweep_sizes=(6, 12, 25), straight_max_N=800, aligned_max_N=800)
        laws = dict(Ns=(100, 400, 800), seeds=3)
        dsweep = dict(Ns=(100,), seeds=4)
    else:
        main = dict(Ns=(100, 200, 400, 800, 1600, 3200, 6400, 12800), seeds=10,
                    sweep_Ns=(1600, 3200, 6400, 12800), sweep_sizes=(25, 50, 100, 200),
                    straight_max_N=3200, aligned_max_N=3200)
        laws = dict(Ns=(200, 400, 800, 1600, 3200), seeds=5)
        dsweep = dict(Ns=(400,), seeds=20)
    # a_law uniform: a bounded initial law of a, as assumption (A4) asks
    common = dict(d=20, width=4, T=1.0, alpha0=1.0, times=(0.0, 0.5, 1.0), half_draws=4,
                  sweep_draws=16, rescaled_draws=4, a_law="uniform")
    dsweep = dict(common, **dsweep, alpha0=1e-3, times=(1.0,), straight_max_N=0,
                  aligned_max_N=0, rescaled_draws=0)
    return common, main, laws, dsweep


def _fit(f):
    return [f.slope, f.ci_low, f.ci_high]


def local_slopes(per_pair, col):
    m = per_pair.groupby("N")[col].mean()
    return {f"{a}-{b}": float(np.log(m[b] / m[a]) / np.log(b / a))
            for a, b in zip(m.index[:-1], m.index[1:]) if m[a] > 0 and m[b] > 0}


def size_rows(sweep):
    """Per |A| of the sweep: the slope in N of the mean eps_D, and the old rule's numbers."""
    rows = []
    for size, g in sweep.groupby("size"):
        stats = g.groupby("N")["eps_D"].agg(["mean", "std"])
        rows.append({"size": int(size), "fit": loglog_fit(g["N"], g["eps_D"], on="means"),
                     "range_of_means": float(np.ptp(stats["mean"])),
                     "seed_std": float(stats["std"].mean()),
                     "means": {int(n): float(v) for n, v in stats["mean"].items()}})
    return rows


def size_control(claim_id, row, Ns):
    """The control of a rate in N of eps_D at |A| = N/2: eps_D at the fixed |A| of ``row``
    (a row of :func:`size_rows`) in N, where the first term of (3.7),
    sqrt(log|A| / |A|), stays; ``Ns`` the sweep's widths.  A list of one control row."""
    f = row["fit"]
    return [control_row(claim_id, f"eps_D at a fixed |A| = {row['size']}: slope in N "
                        f"(N = {Ns[0]} ... {Ns[-1]})", f.slope, (f.ci_low, f.ci_high))]


def straight_control(claim_id, fits, max_N):
    """The control of eps_C's rate in N: the barrier of the straight line between the same
    two nets (``fits["barrier_straight"]``, at N <= ``max_N``), whose midpoint is another
    network altogether (neuron i of one averaged with neuron i of the other), so its barrier
    does not vanish as N grows.  A list of one control row, or none without that fit."""
    fs = fits.get("barrier_straight")
    return [] if fs is None else [control_row(
        claim_id, f"the straight line between the same two nets (N <= {max_N}): slope in N",
        fs.slope, (fs.ci_low, fs.ci_high))]


def size_fit(sweep):
    """The slope in |A| of eps_D at the largest N of the |A| sweep (last time), each network
    a unit (it is seen at every |A|): claim (e)."""
    n_max = sweep["N"].max()
    g = sweep[(sweep["N"] == n_max) & (sweep["t"] == sweep["t"].max())]
    units = g["seed"].astype(str) + "-" + g["net"].astype(str)
    return loglog_fit(g["size"], g["eps_D"], units=units), int(n_max)


def check_activation(act, common, main, progress, tag):
    res = run_stability(StabilityConfig(activation=act, **common, **main), progress=progress,
                        folder=OUT / f"dropout_rates{tag}_cells" / act)
    fits = res.fits()
    fig = OUT / f"dropout_rates{tag}_{act}"
    summary, _ = save_stability(res, fig)
    eps_d = {k: f for k, f in fits.items() if k.startswith("eps_D")}
    sizes = size_rows(res.per_network("sweep"))
    pairs = res.per_pair()
    Ns = sorted(res.per_network("sweep")["N"].unique())

    def fixed_size_control(claim_id, r):
        return size_control(claim_id, r, Ns)

    claims = [claim_row(f"dropout_rates/a/{act}", f"{act}: eps_D at |A| = N/2, t = {k[8:]}: "
                        "slope in N", PAPER + ", (3.7)", f.slope, (f.ci_low, f.ci_high),
                        str(fig / "dropout_vs_n.png"), case=k[6:],
                        controls=fixed_size_control(f"dropout_rates/a/{act}", sizes[0]),
                        old_rule=OLD_RATE, old_pass=bool(BAND[0] <= f.slope <= BAND[1]))
              for k, f in eps_d.items()]
    fe, n_max = size_fit(res.per_network("sweep"))
    claims.append(claim_row(
        f"dropout_rates/e/{act}", f"{act}: eps_D in |A| at N = {n_max} (|A| = "
        f"{sizes[0]['size']} ... {sizes[-1]['size']}): slope in |A|", PAPER + ", (3.7)",
        fe.slope, (fe.ci_low, fe.ci_high), str(fig / "dropout_vs_size.png"),
        controls=fixed_size_control(f"dropout_rates/e/{act}", sizes[-1])))
    # the control of the equivalence rule (b): eps_D at |A| = N/2, which does fall with N
    key = max(eps_d, key=lambda k: float(k[8:]))
    t_last, f_half = key[8:], eps_d[key]
    claims += [claim_row(f"dropout_rates/b/{act}", f"{act}: eps_D at |A| = {r['size']}: slope "
                         f"in N (N = {Ns[0]} ... {Ns[-1]})", PAPER + ", (3.7)",
                         r["fit"].slope, (r["fit"].ci_low, r["fit"].ci_high),
                         str(fig / "dropout_vs_size.png"), case=f"|A|={r['size']}",
                         controls=[control_row(
                             f"dropout_rates/b/{act}", f"eps_D at |A| = N/2 (t = {t_last}): "
                             "slope in N, where it falls", f_half.slope,
                             (f_half.ci_low, f_half.ci_high))],
                         old_rule=OLD_FLAT, old_pass=bool(r["range_of_means"] < r["seed_std"]),
                         range_of_means=r["range_of_means"], seed_std=r["seed_std"])
               for r in sizes]
    f = fits["eps_C"]
    claims.append(claim_row(f"dropout_rates/c/{act}", f"{act}: eps_C of the seven-segment path "
                            "(mean over pairs): slope in N", PAPER + ", (3.8)", f.slope,
                            (f.ci_low, f.ci_high), str(fig / "connectivity_vs_n.png"),
                            controls=straight_control(f"dropout_rates/c/{act}", fits,
                                                      main["straight_max_N"]),
                            old_rule=OLD_RATE, old_pass=bool(BAND[0] <= f.slope <= BAND[1])))
    report = {
        "claims": claims,
        "eps_D": {k: _fit(f) for k, f in eps_d.items()},
        "eps_D_by_size": [{**{k: v for k, v in r.items() if k != "fit"}, "slope": _fit(r["fit"])}
                          for r in sizes],
        "eps_C": _fit(f),
        "eps_D_in_size": _fit(fe),
        "eps_C_local_slopes": local_slopes(pairs, "eps_C"),
        "eps_C_zero_fraction": float((res.paths["eps_C"] == 0).mean()),
        "eps_C_debiased": _fit(fits["eps_C_debiased"]),
        "N_times_bias": {int(n): float(v) for n, v in
                         (pairs["N"] * (pairs["bias_1"] + pairs["bias_2"]) / 2)
                         .groupby(pairs["N"]).mean().items()},
        "barriers_mean": pairs.groupby("N")[["eps_C", "barrier_straight",
                                             "barrier_aligned"]].mean().to_dict(),
        "rescaled_minus_full_mean": pairs.groupby("N")[["rescaled_1", "rescaled_2"]]
        .mean().mean(axis=1).to_dict(),
        "fits_baselines": {k: _fit(f) for k, f in fits.items() if k.startswith("barrier")},
        "bound_K": summary.get("bound_K"),
        "final_risk_mean": float(pairs[["L_1", "L_2"]].mean().mean()),
        "complete": res.complete, "failed_cells": len(res.failed),
    }
    if progress:
        print(f"--- {act}: mean final risk {report['final_risk_mean']:.4f}")
        for r in sizes:
            print(f"  (b) |A|={r['size']:4d}: means across N "
                  + ", ".join(f"{n}: {v:.2e}" for n, v in r["means"].items())
                  + f"; {r['fit']}")
        print("  (c) eps_C local slopes "
              + ", ".join(f"{k}: {v:+.2f}" for k, v in report["eps_C_local_slopes"].items()))
        print(f"      without the dropout bias: {fits['eps_C_debiased']}; N x bias "
              + ", ".join(f"{n}: {v:.2f}" for n, v in report["N_times_bias"].items()))
        for k in ("barrier_straight", "barrier_aligned"):
            if k in fits:
                print(f"      {k:16s} {fits[k]}")
    return report


def different_laws(common, laws, progress, tag):
    """Aligned and straight barriers when theta' starts from another initial law (ReLU)."""
    res = run_stability(StabilityConfig(activation="relu", law2=(0.5, 0.5, 1.5),
                                        **{**common, "half_draws": 1, "rescaled_draws": 0},
                                        **laws, straight_max_N=max(laws["Ns"]),
                                        aligned_max_N=max(laws["Ns"])), progress=progress,
                        folder=OUT / f"dropout_rates{tag}_cells" / "relu_laws")
    pairs = res.per_pair()
    fits = res.fits()
    out = {"means": pairs.groupby("N")[["eps_C", "barrier_straight",
                                        "barrier_aligned"]].mean().to_dict(),
           "fits": {k: _fit(f) for k, f in fits.items()
                    if k in ("eps_C", "barrier_straight", "barrier_aligned")}}
    if progress:
        print("--- relu, theta' from law (a_mean, a_std, w_std) = (0.5, 0.5, 1.5):")
        for k, v in out["fits"].items():
            print(f"      {k:16s} slope {v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]")
    return out


def bound_terms(size, N, alpha, d, z=1.0):
    """The two terms of (3.7) over K: ``(sqrt(log|A|) + z) / sqrt|A|`` and the sqrt(alpha) one."""
    first = float(dropout_shape(size, N, 0.0, d, z))
    return first, float(dropout_shape(size, N, alpha, d, z)) - first


def multilayer_ratio(quick):
    """``ratio_d`` of validation/multilayer_rates' JSON (quick mode: its quick run first) and the
    file it came from, or ``(None, None)``."""
    stems = ["multilayer_rates_quick", "multilayer_rates"] if quick else ["multilayer_rates"]
    for stem in stems:
        files = sorted((p for p in OUT.glob(f"{stem}*.json")
                        if re.fullmatch(rf"{stem}(_A\d+)?\.json", p.name)),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        for p in files:
            ratio = json.loads(p.read_text()).get("ratio_d")
            if ratio and np.isfinite(ratio.get("ratio", np.nan)):
                return ratio, p.name
    return None, None


def _grown_ratio(nets):
    """The control of claim (d): the measured nets at d_max scaled by (d_max / d_min)^GROWTH,
    so eps_D grows like d^GROWTH by construction, at the data's own spread."""
    grown = nets[DIMS[1]] * (DIMS[1] / DIMS[0]) ** GROWTH
    ratio, iv = ratio_interval(grown, nets[DIMS[0]])
    return ratio, iv


def dimension_sweep(dsweep, progress, tag, quick):
    """eps_D at |A| = N/2 for erf at d = 10 and 160, alpha = alpha0 / N: claim (d)."""
    nets = {}
    for d in DIMS:
        res = run_stability(StabilityConfig(activation="erf", **{**dsweep, "d": d}),
                            progress=progress, folder=OUT / f"dropout_rates{tag}_cells"
                            / f"erf_d{d}")
        g = res.per_network()
        nets[d] = g[g["t"] == g["t"].max()]["eps_D"].to_numpy()
    N = dsweep["Ns"][0]
    alpha = dsweep["alpha0"] / N
    ratio, iv = ratio_interval(nets[DIMS[1]], nets[DIMS[0]])
    terms = {d: bound_terms(N // 2, N, alpha, d) for d in DIMS}
    shape = sum(terms[DIMS[1]]) / sum(terms[DIMS[0]])
    rows = [{"label": f"two-layer (Thm 1), erf: N = {N}, d = {DIMS[1]} vs {DIMS[0]}, "
                      f"alpha = {dsweep['alpha0']:g} / N",
             "ratio": ratio, "interval": iv, "shape": shape,
             "shape_label": f"(3.7) at these settings: {shape:.2f}"}]
    ml, source = multilayer_ratio(quick)
    note = None
    if ml is None:
        note = ("multilayer ratio not available: run validation/multilayer_rates.py"
                + (" --quick" if quick else ""))
    else:
        d0, d1 = ml["d"]
        rows.append({"label": f"multilayer (Thm 2), sigmoid: N = {ml['N']}, d = {d1} vs {d0}",
                     "ratio": ml["ratio"], "interval": ml["interval"],
                     "shape": ml["sqrt_d_shape"],
                     "shape_label": f"(4.4)'s first term at z = 0: sqrt({d1} / {d0}) = "
                                    f"{ml['sqrt_d_shape']:.2f}"})
    fig = dimension_ratios(rows, note=note)
    png = save_figure(fig, OUT / f"dropout_rates{tag}_d" / "dimension_ratios")[0]
    claim = claim_row(
        "dropout_rates/d/erf", f"erf: eps_D(d = {DIMS[1]}) / eps_D(d = {DIMS[0]}) at |A| = N/2, "
        f"N = {N}, alpha = {dsweep['alpha0']:g} / N, T = {dsweep['T']:g}", PAPER + ", (3.7)",
        ratio, iv, str(png), bound_shape_ratio=shape,
        bound_terms={str(d): list(t) for d, t in terms.items()},
        old_rule="lower end of the ratio's 95% interval <= 1", old_pass=bool(iv[0] <= 1.0),
        controls=[control_row(
            "dropout_rates/d/erf", f"the same nets with a growth d^{GROWTH:g} put in: "
            f"eps_D(d = {DIMS[1]}) x ({DIMS[1]} / {DIMS[0]})^{GROWTH:g} against eps_D(d = "
            f"{DIMS[0]})", *_grown_ratio(nets))])
    out = {"claims": [claim], "N": N, "alpha": alpha, "ratio": ratio, "interval": iv,
           "eps_D_mean": {str(d): float(v.mean()) for d, v in nets.items()},
           "networks": {str(d): int(v.size) for d, v in nets.items()},
           "bound_terms": {str(d): list(t) for d, t in terms.items()},
           "bound_shape_ratio": shape, "multilayer_ratio_d": ml, "multilayer_source": source}
    if progress:
        print(f"--- erf, d sweep at N = {N}, alpha = {alpha:.3g}: eps_D mean "
              + ", ".join(f"d = {d}: {v:.3e}" for d, v in out["eps_D_mean"].items())
              + f"; ratio {ratio:.3f} [{iv[0]:.3f}, {iv[1]:.3f}], bound shape {shape:.3f}"
              + (f"; multilayer ({source}) {ml['ratio']:.3f}" if ml else ""))
    return out


def _line(c):
    res = "reported" if c["pass"] is None else "PASS" if c["pass"] else "FAIL"
    iv = c["interval"]
    old = (f"  (old rule: {'PASS' if c['old_pass'] else 'FAIL'})" if "old_pass" in c else "")
    return (f"{res:8s} {c['id']:34s} {c['value']:+.3f}"
            + (f" [{iv[0]:+.3f}, {iv[1]:+.3f}]" if iv else "") + old)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="N up to 1600, 6 pairs; d sweep at N = 100, 4 pairs")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    common, main_grid, laws, dsweep = configs(args.quick)
    tag = "_quick" if args.quick else ""
    t0 = time.time()
    OUT.mkdir(exist_ok=True)
    reports = {act: check_activation(act, common, main_grid, not args.quiet, tag)
               for act in ACTIVATIONS}
    reports["different_laws"] = different_laws(common, laws, not args.quiet, tag)
    reports["d_sweep"] = dimension_sweep(dsweep, not args.quiet, tag, args.quick)
    claims = [c for k in (*ACTIVATIONS, "d_sweep") for c in reports[k]["claims"]]
    ok = verdict(claims)
    cells = OUT / f"dropout_rates{tag}_cells"
    reports.update({"claims": claims, "quick": args.quick, "pass": ok,
                    # which code computed the stored cells (a run resumed across commits)
                    "cell_commits": {f.name: cell_commits(f) for f in sorted(cells.iterdir())
                                     if (f / "sweep.json").is_file()},
                    "seconds": time.time() - t0})
    (OUT / f"dropout_rates{tag}.json").write_text(json.dumps(reports, indent=2, default=float))
    for c in claims:
        print(_line(c))
    print(f"time {reports['seconds']:.0f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
