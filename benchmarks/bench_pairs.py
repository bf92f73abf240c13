"""Pair sums of the particle limit: torch on a device against the numba kernels, same process.

One evaluation of the field ``grad Psi`` for M particles of Mei, Montanari &
Nguyen's isotropic task (d = 40, frozen a) is M^2 pair kernels plus two GEMMs.
For ReLU and the ramp this times it with the numba kernels (the default) and
with :func:`meanfield.torch.pairs.on_device` on ``--device`` (default: CUDA
when present, else the CPU), prints nanoseconds per pair, the ratio, and what
one RK4 step (4 evaluations) would take at M = 10^5 at that rate.  On a CPU
torch is expected to lose (its elementwise passes are not fused); the device
path is for GPUs, where ``pde_vs_sgd.py --device cuda`` runs M = 10^5.

    python benchmarks/bench_pairs.py [--M 2000] [--device auto]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from meanfield.tasks import isotropic_gaussians
from meanfield.torch.pairs import on_device

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--M", type=int, default=2000)
    p.add_argument("--device", default="auto")
    args = p.parse_args(argv)
    M, d = args.M, 40
    W = np.random.default_rng(0).normal(0.0, 0.8 / np.sqrt(d), (M, d))
    a = np.ones(M)
    for act in ("relu", "ramp"):
        host = isotropic_gaussians(d, 0.5, act)
        dev = on_device(host, args.device)
        times = {}
        for name, task in (("numba", host), (str(dev._pair_sums.device), dev)):
            task.grad_psi(a, W, a, W)  # compile / warm up
            times[name] = best_of(lambda t=task: t.grad_psi(a, W, a, W), 3)
        (n_host, t_host), (n_dev, t_dev) = times.items()
        per = {k: v / M ** 2 * 1e9 for k, v in times.items()}
        print(f"{act:5s} M = {M}: {n_host} {per[n_host]:7.1f} ns/pair | torch on {n_dev} "
              f"{per[n_dev]:7.1f} ns/pair | ratio (numba time / device time) "
              f"{t_host / t_dev:5.2f}; one RK4 step at M = 1e5: numba "
              f"{4 * per[n_host] * 1e10 / 1e9:.0f} s, {n_dev} {4 * per[n_dev] * 1e10 / 1e9:.0f} s",
              flush=True)


if __name__ == "__main__":
    main()
