"""One limit-dynamics step (ReLU closed form, M = 10^4, d = 100) against its two GEMMs.

A step needs the Gram matrix W W' (M x M x d) and the product of the kernel
matrix with W (M x M x d); everything else is O(M^2) elementwise work.
Target: one Euler step (one field evaluation) takes at most 3x the time of
those two float64 GEMMs, timed in the same process.

    python benchmarks/bench_limit.py [--M 10000] [--d 100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from meanfield.tasks import teacher_student

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of  # noqa: E402
from meanfield.twolayer import InitialLaw, ParticleLimit  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--M", type=int, default=10_000)
    p.add_argument("--d", type=int, default=100)
    args = p.parse_args(argv)
    M, d = args.M, args.d
    task = teacher_student(d, "relu", width=4)
    a, W = InitialLaw().sample(M, d, np.random.default_rng(0))
    lim = ParticleLimit(task, a, W, h=0.01, method="euler")

    def step():
        lim.plan(lim.time + 0.01)
        lim.advance(1)

    step()  # compile
    t_step = best_of(step)
    G = np.empty((M, M))
    out = np.empty((M, d))

    def gemms():
        np.matmul(W, W.T, out=G)
        np.matmul(G, W, out=out)

    t_gemm = best_of(gemms)
    ratio = t_step / t_gemm
    print(f"M={M}, d={d}: Euler step {t_step:.3f} s, two GEMMs {t_gemm:.3f} s, ratio {ratio:.2f}")
    print(f"{'PASS' if ratio <= 3 else 'FAIL'}: step / GEMMs = {ratio:.2f} (target <= 3)")
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
