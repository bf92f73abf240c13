"""The ramp's pair sums against ReLU's, same process: ns per pair of ``grad Psi``.

One evaluation of the field ``grad Psi`` for M particles of Mei, Montanari &
Nguyen's isotropic task (d = 40 or ``--d``, delta = 0.5, frozen a; two mixture components, so
two pair kernels per pair) is timed for ReLU (the vectorised arc-cosine block), the
ramp as :func:`meanfield.kernels.gaussian.pair_sums` computes it (Mehler's series where
``|rho| <= 0.5``, the closed form elsewhere) and the ramp through the closed form
:func:`pl_pair` for every pair (the route before the series), interleaved, best of
``--repeat``.  Prints ns per pair, the ratios to ReLU, the largest differences of the
series route from the closed one, and the share of pairs on the series.  Run with
``NUMBA_NUM_THREADS=1`` for per-core numbers.

    python benchmarks/bench_ramp.py [--M 2000] [--repeat 3] [--d 40]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from meanfield.kernels.block_sums import pair_sums
from meanfield.kernels.piecewise import _SER_RHO, pl_series_ok
from meanfield.tasks import isotropic_gaussians


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--M", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--d", type=int, default=40)
    args = p.parse_args(argv)
    M, d = args.M, args.d
    W = np.random.default_rng(0).normal(0.0, 0.8 / np.sqrt(d), (M, d))
    a = np.ones(M)
    ramp = isotropic_gaussians(d, 0.5, "ramp")
    tasks = {"relu": isotropic_gaussians(d, 0.5, "relu"), "ramp": ramp,
             "ramp closed form": ramp.with_pair_sums(partial(pair_sums, series=False))}
    out = {k: t.grad_psi(a, W, a, W) for k, t in tasks.items()}  # compile / warm up
    best = dict.fromkeys(tasks, np.inf)
    for _ in range(args.repeat):
        for k, t in tasks.items():
            t0 = time.perf_counter()
            t.grad_psi(a, W, a, W)
            best[k] = min(best[k], time.perf_counter() - t0)
    per = {k: v / M ** 2 * 1e9 for k, v in best.items()}
    for k in tasks:
        print(f"{k:17s} {per[k]:8.1f} ns/pair  ({per[k] / per['relu']:5.1f} x ReLU)")
    for name, x, x0 in zip(("Psi", "dPsi/da", "dPsi/dW"), out["ramp"], out["ramp closed form"]):
        print(f"series vs closed form, {name:7s}: max difference {np.max(np.abs(x - x0)):.1e}"
              f" (max |{name}| {np.max(np.abs(x0)):.1e})")
    shares = []
    act = ramp.activation
    for k in range(len(ramp.weights)):
        Wk = ramp._fwd(W, k)
        q = np.einsum("ij,ij->i", Wk, Wk)
        ok = np.array([pl_series_ok(act.kind, act.p, x) for x in q])
        rho = (Wk @ Wk.T) / np.sqrt(np.outer(q, q))
        shares.append(np.mean(np.outer(ok, ok) & (np.abs(rho) <= _SER_RHO)))
    print("pairs on the series, per component: " + ", ".join(f"{x:.4f}" for x in shares))


if __name__ == "__main__":
    main()
