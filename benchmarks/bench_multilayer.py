"""Multilayer SGD throughput (eq. 4.3): the numba loop against plain numpy in the same process.

Target (issue "Multilayer mean-field networks"): L + 1 = 4 layers, N = 1000,
batch 1, at least 3x the numpy step (:func:`meanfield.multilayer.sgd_step`,
which is what one writes in numpy: forward with the cache, backward through
the layers, ``W -= s N^2 outer(delta, h) / N``).  Also prints the growth
exponent of time per step in N, expected near 2 (two N x N matrices per step).
Both sides consume the same pre-drawn data, sigmoid, d = 20.

    python benchmarks/bench_multilayer.py [--steps-scale 1.0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from meanfield.analysis import loglog_fit
from meanfield.kernels.multilayer import multilayer_sgd
from meanfield.multilayer import init_net, sgd_step
from meanfield.tasks import teacher_student

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--steps-scale", type=float, default=1.0)
    args = p.parse_args(argv)
    d, L = 20, 3
    task = teacher_student(d, "tanh", width=2)
    rows = []
    for N in (250, 500, 1000, 2000):
        steps = max(10, int(args.steps_scale * 2e8 / N ** 2))
        rng = np.random.default_rng(0)
        net = init_net(d, N, L, activation="sigmoid", rng=rng)
        X, y = task.sample(steps, rng)
        s = np.full(steps, 0.1 / N)  # small enough that the weights stay O(1) throughout
        Wm0 = np.stack(net.weights[1:-1])
        act = net.act

        def ours():
            multilayer_sgd(net.weights[0], Wm0.copy(), net.weights[-1], X.reshape(steps, 1, d),
                           y.reshape(steps, 1, 1), s, act.kind, act.p)

        def numpy_steps():
            cur = net.copy()
            for k in range(steps):
                sgd_step(cur, X[k:k + 1], y[k:k + 1], s[k])

        ours()  # compile
        t_ours = best_of(ours, 3) / steps
        t_np = best_of(numpy_steps, 3) / steps
        rows.append((N, t_ours, t_np))
        print(f"N={N:5d}: numba {1 / t_ours:8.0f} steps/s | numpy {1 / t_np:8.0f} steps/s "
              f"(x{t_np / t_ours:5.1f})", flush=True)
    fit = loglog_fit([r[0] for r in rows], [r[1] for r in rows], n_boot=10)
    print(f"growth of time per step in N: exponent {fit.slope:.2f} (N = 250..2000; "
          "O(N^2) work)")
    ratio = next(r[2] / r[1] for r in rows if r[0] == 1000)
    print(f"{'PASS' if ratio >= 3 else 'FAIL'}: numba vs numpy at N = 1000 x{ratio:.1f} "
          "(target x3)")
    return 0 if ratio >= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
