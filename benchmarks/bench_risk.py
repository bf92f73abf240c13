"""The exact population risk of a net: each pair of neurons once against the full double sum.

The risk's quadratic term ``sum_ij a_i a_j F(w_i, w_j)`` (Shevchenko & Mondelli,
ICML 2020, eq. (3.2)) is what a dropout subnetwork's eps_D, every point of a
path and every risk snapshot cost.  F is symmetric, so the package sums each
pair once (``pair_quadratic``: half the kernels and half the Gram); the
baseline is the full N x N row sums of ``pair_sums`` and ``a @ Fa``, as the risk
took them before 2026-12-07, timed interleaved in the same process on the same
net (the quadratic term alone: the rest of the risk is O(N)).  Both agree
to rounding (checked here to 1e-13 relative).  Target (issue #28): at least
1.6x at N = 6400 for ReLU and erf (two halves, less the O(N) work).

Measured 2026-12-07 on the shared 2-core AMD EPYC, one thread
(NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1, pinned with taskset), best of 5
interleaved rounds, three runs of the quadratic term alone: ReLU 2.10, 1.94,
2.10 and erf 1.72, 1.66, 1.77 at N = 6400; at N = 1600 ReLU 1.56-1.72, erf
1.47-1.53.  (Timed through the whole risk, three earlier runs: ReLU 2.03-2.17,
erf 1.33-1.77, erf's one-pair-once time ranging 180-269 ms: the host is
shared.)  With two threads on this machine both sides ran slower than with one
(OpenBLAS's and numba's threads share 2 vCPUs) and the ratios were 1.16-1.67.

    python benchmarks/bench_risk.py [--d 20] [--Ns 1600,6400]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from meanfield.activations import get_activation
from meanfield.kernels.gaussian import pair_quadratic, pair_sums, quadrature_nodes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of_each  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, default=20)
    p.add_argument("--Ns", default="1600,6400")
    args = p.parse_args(argv)
    Ns = [int(n) for n in args.Ns.split(",")]
    rng = np.random.default_rng(0)
    quad = quadrature_nodes(48)  # unused by ReLU and erf; pair_sums takes it
    ok = True
    for act in ("relu", "erf"):
        kind, p_ = get_activation(act).kind, get_activation(act).p
        for N in Ns:
            a = rng.uniform(-1.0, 1.0, N)
            W = rng.normal(0.0, 1.0 / np.sqrt(args.d), (N, args.d))

            def once():
                return pair_quadratic(kind, W, a)

            def full():  # the full N x N row sums, as the risk took them before
                return float(a @ pair_sums(kind, p_, kind, p_, W, W, a, quad, False)[0])

            q_once, q_full = once(), full()  # compile, and check
            assert abs(q_once - q_full) <= 1e-13 * abs(q_full), (q_once, q_full)
            t_once, t_full = best_of_each([once, full], 5)
            ratio = t_full / t_once
            ok &= ratio >= 1.6 or N < max(Ns)
            print(f"{act:4s} N = {N:5d}: each pair once {t_once * 1e3:8.1f} ms, full sum "
                  f"{t_full * 1e3:8.1f} ms, ratio {ratio:4.2f}; sums equal to "
                  f"{abs(q_once - q_full) / abs(q_full):.1e}", flush=True)
    print("target (>= 1.6x at the largest N):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
