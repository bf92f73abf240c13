"""Run short SGD, particle-limit, radial-PDE and multilayer runs under several
snapshot schedules and thread counts; check bit-identity within this process
and save the final states for comparison across CPU targets.

Run by tests/test_determinism.py in a subprocess (with ``NUMBA_CPU_NAME`` set
to a target), as ``python _determinism_worker.py OUT.npz``.
"""

import sys

import numba
import numpy as np

from meanfield.activations import ERF, RELU
from meanfield.kernels.gaussian import pair_sums_self
from meanfield.multilayer import MCRisk, init_net
from meanfield.multilayer import run_sgd as run_multilayer
from meanfield.pde import radius_uniform, solve_radial
from meanfield.tasks import isotropic_gaussians, teacher_student
from meanfield.twolayer import InitialLaw, run_limit, run_sgd

SCHEDULES = ([2.0], [0.0, 1.0, 2.0], [0.5, 2.0], [0.33, 2.0])


def same(name, arrays):
    for i, x in enumerate(arrays[1:], 1):
        if not np.array_equal(arrays[0], x):
            n = int((arrays[0] != x).sum())
            raise SystemExit(f"{name}: run {i} differs from run 0 in {n} entries "
                             f"(largest {np.abs(arrays[0] - x).max():.3g})")
    return arrays[0]


def main(out):
    res = {}
    task = teacher_student(8, "relu")
    a, W = InitialLaw().sample(50, task.d, np.random.default_rng(0))
    for B in (1, 4):  # the fused batch-1 loop and the mini-batch loop, serial
        res[f"sgd_B{B}"] = same(f"SGD B={B}", [run_sgd(
            (a, W), task, 0.01, ts, rng=3, batch_size=B, progress=False).W[-1]
            for ts in SCHEDULES])
    # parallel over neurons (N d >= PARALLEL_MIN_WEIGHTS): also the thread count
    a, W = InitialLaw().sample(1500, task.d, np.random.default_rng(1))
    runs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        runs += [run_sgd((a, W), task, 0.002, [t / 5 for t in ts], rng=3, progress=False).W[-1]
                 for ts in SCHEDULES[:2]]
    res["sgd_parallel"] = same("parallel SGD", runs)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    # the reference population's pairs taken once: row sums and column sums in an
    # order of their own, whatever the thread count
    a, W = InitialLaw().sample(200, task.d, np.random.default_rng(2))
    runs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        runs += [run_limit((a, W), task, [t / 4 for t in ts], (a[:10], W[:10]), h=0.05,
                           progress=False).W[-1] for ts in SCHEDULES]
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    res["limit"] = same("particle limit", runs)
    # and across blocks (the field's M = 200 is one block): 60 blocks of 5 rows
    ap, Wp = InitialLaw().sample(300, task.d, np.random.default_rng(6))
    for act, kind in (("relu", RELU), ("erf", ERF)):
        runs = []
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            runs.append(np.concatenate([x.ravel() for x in pair_sums_self(
                kind, Wp, ap, True, block_bytes=8 * 300 * 5)]))
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        res[f"pairs_once_{act}"] = same(f"pairs once ({act})", runs)

    ptask = isotropic_gaussians(20, 0.5, "ramp")
    res["radial"] = same("radial PDE", [solve_radial(
        ptask, radius_uniform(0.5, 1.5), ts, M=200, h=0.05).radii[-1] for ts in SCHEDULES])

    mtask = teacher_student(5, "tanh", width=2)
    net = init_net(5, 20, rng=4)
    mc = MCRisk(mtask, 200, rng=1)
    res["multilayer"] = same("multilayer SGD", [
        np.concatenate([w.ravel() for w in run_multilayer(
            net, mtask, 0.01, [t / 4 for t in ts], mc=mc, rng=5, progress=False).nets[-1].weights])
        for ts in SCHEDULES])
    np.savez(out, **res)


if __name__ == "__main__":
    main(sys.argv[1])
