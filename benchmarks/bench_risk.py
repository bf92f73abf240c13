"""The exact population risk of a net: each pair of neurons once against the full double sum.

The risk's quadratic term ``sum_ij a_i a_j F(w_i, w_j)`` (Shevchenko & Mondelli,
ICML 2020, eq. (3.2)) is what a dropout subnetwork's eps_D, every point of a
path and every risk snapshot cost.  F is symmetric, so the package sums each
pair once (``pair_quadratic``: half the kernels and half the Gram); the
baseline is the full N x N row sums of ``pair_sums`` and ``a @ Fa``, as before
2026-12-07, timed interleaved in the same process on the same net.  Both agree
to rounding (checked here to 1e-13 relative).  Target (issue #28): at least
1.6x at N = 6400 for ReLU and erf (two halves, less the O(N) work).

Measured 2026-12-07 on the shared 2-core AMD EPYC, one thread
(NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1, pinned with taskset), best of 5
interleaved rounds, three runs: ReLU 2.03, 2.06, 2.17 and erf 1.33, 1.75,
1.77 at N = 6400 (erf's one-pair-once time ranged 180-269 ms over the runs:
the host is shared); at N = 1600 ReLU 1.54-1.76, erf 1.19-1.51.  With two
threads on this machine both sides ran slower than with one (OpenBLAS's and
numba's threads share 2 vCPUs) and the ratios were 1.16-1.67.

    python benchmarks/bench_risk.py [--d 20] [--Ns 1600,6400]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from meanfield.tasks import teacher_student

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of_each  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, default=20)
    p.add_argument("--Ns", default="1600,6400")
    args = p.parse_args(argv)
    Ns = [int(n) for n in args.Ns.split(",")]
    rng = np.random.default_rng(0)
    ok = True
    for act in ("relu", "erf"):
        once = teacher_student(args.d, act, width=4)
        full = teacher_student(args.d, act, width=4)
        full._pair_quadratic = None  # the full double sum through pair_sums
        for N in Ns:
            a = rng.uniform(-1.0, 1.0, N)
            W = rng.normal(0.0, 1.0 / np.sqrt(args.d), (N, args.d))
            r_once, r_full = once.risk(a, W), full.risk(a, W)  # compile, and check
            assert abs(r_once - r_full) <= 1e-13 * abs(r_full), (r_once, r_full)
            t_once, t_full = best_of_each([lambda: once.risk(a, W),
                                           lambda: full.risk(a, W)], 5)
            ratio = t_full / t_once
            ok &= ratio >= 1.6 or N < max(Ns)
            print(f"{act:4s} N = {N:5d}: each pair once {t_once * 1e3:8.1f} ms, full sum "
                  f"{t_full * 1e3:8.1f} ms, ratio {ratio:4.2f}; risks equal to "
                  f"{abs(r_once - r_full) / abs(r_full):.1e}", flush=True)
    print("target (>= 1.6x at the largest N):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
