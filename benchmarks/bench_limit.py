"""One limit-dynamics step (ReLU closed form, M = 10^4, d = 100) against its two GEMMs.

A step needs the Gram matrix W W' (M x M x d) and the product of the kernel
matrix with W (M x M x d); everything else is O(M^2) elementwise work.
Target: one Euler step (one field evaluation) takes at most 3x the time of
those two float64 GEMMs, timed in the same process.

With jax installed (the optional ``bench`` extra), a JAX column for comparison
(no target): the same Euler step from the ReLU arc-cosine closed form written
in JAX (jit, float64, rows in blocks of at most 1000 so that no M x M
temporary is formed), its new state checked equal to ours (1e-12 relative),
timed interleaved with ours.  Measured 2026-12-07 on the shared 2-core machine
(loaded, one thread, three runs): ours / JAX 1.24-1.33 at M = 2000 and
1.07-1.23 at M = 8000, new states agreeing to 1e-16.  Pinned to one CPU (since
2026-12-07, ``_timing.pin_one_cpu``; XLA's runtime had both cores before), quiet,
one run at M = 10000: step / GEMMs 1.52, ours / JAX 1.71.

    python benchmarks/bench_limit.py [--M 10000] [--d 100] [--no-jax]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from meanfield.tasks import teacher_student

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, best_of_each, import_jax, rel_diff  # noqa: E402
from meanfield.twolayer import InitialLaw, ParticleLimit  # noqa: E402


def jax_euler(jax, task, M, h):
    """One Euler step of the particle limit, ReLU teacher-student, isotropic inputs:
    ``theta_i += -2 h grad Psi(theta_i; rho)``, ``Psi = V + (1/M) sum_j U(theta_i, theta_j)``
    with the arc-cosine kernel ``E[relu(<w,x>) relu(<w',x>)] = |w||w'| (sin t + (pi - t)
    cos t) / (2 pi)`` and its gradient ``((pi - t) w' + sin t |w'| w / |w|) / (2 pi)``."""
    jnp = jax.numpy
    t = task.teacher
    V, b = jnp.asarray(t.V), jnp.asarray(t.b)
    blk = max(k for k in range(1, min(M, 1000) + 1) if M % k == 0)

    def sums(W, n, Wr, nr, ar):
        c = jnp.clip((W @ Wr.T) / (n[:, None] * nr[None, :]), -1.0, 1.0)
        th = jnp.arccos(c)
        sn = jnp.sqrt(1.0 - c * c)
        S = ((n[:, None] * nr[None, :]) * (sn + (jnp.pi - th) * c)) @ ar / (2 * jnp.pi)
        G = (((jnp.pi - th) * ar[None, :]) @ Wr
             + (W / n[:, None]) * ((sn * ar[None, :]) @ nr)[:, None]) / (2 * jnp.pi)
        return S, G

    @jax.jit
    def step(A, W):
        n = jnp.linalg.norm(W, axis=1)
        nv = jnp.linalg.norm(V, axis=1)

        def rows(args):
            a, Wb, nb = args
            S, G = sums(Wb, nb, W, n, A)
            ST, GT = sums(Wb, nb, V, nv, b)
            ga = -ST / b.size + S / M
            gW = -a[:, None] * GT / b.size + a[:, None] * G / M
            return a - 2.0 * h * ga, Wb - 2.0 * h * gW

        An, Wn = jax.lax.map(rows, (A.reshape(-1, blk), W.reshape(-1, blk, W.shape[1]),
                                    n.reshape(-1, blk)))
        return An.reshape(A.shape), Wn.reshape(W.shape)

    return step


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--M", type=int, default=10_000)
    p.add_argument("--d", type=int, default=100)
    p.add_argument("--no-jax", action="store_true", help="leave the JAX column out")
    args = p.parse_args(argv)
    import numba
    jax = None if args.no_jax else import_jax(numba.get_num_threads())
    M, d = args.M, args.d
    task = teacher_student(d, "relu", width=4)
    a, W = InitialLaw().sample(M, d, np.random.default_rng(0))
    lim = ParticleLimit((a, W), task, h=0.01, method="euler")

    def step():
        lim.plan(lim.time + 0.01)
        lim.advance(1)

    step()  # compile
    jax_line = "no JAX column (--no-jax, or jax not installed: pip install -e .[bench])"
    if jax is not None:
        one = ParticleLimit((a, W), task, h=0.01, method="euler")
        one.plan(0.01)
        one.advance(1)
        A1, W1 = one.current()
        jstep = jax_euler(jax, task, M, 0.01)
        aj, Wj = jax.device_put(a), jax.device_put(W)

        def theirs():
            return jax.block_until_ready(jstep(aj, Wj))

        Aj, Wj1 = theirs()  # compile
        diff = max(rel_diff(Aj, A1), rel_diff(Wj1, W1))
        if not diff <= 1e-12:
            raise SystemExit(f"JAX and numba Euler steps differ by {diff:.3g} (relative)")
        t_step, t_jax = best_of_each([step, theirs])
        jax_line = (f"JAX Euler step {t_jax:.3f} s (ours x{t_jax / t_step:.2f} faster, agree to "
                    f"{diff:.1g})")
    else:
        t_step = best_of(step)
    G = np.empty((M, M))
    out = np.empty((M, d))

    def gemms():
        np.matmul(W, W.T, out=G)
        np.matmul(G, W, out=out)

    t_gemm = best_of(gemms)
    ratio = t_step / t_gemm
    print(f"M={M}, d={d}: Euler step {t_step:.3f} s, two GEMMs {t_gemm:.3f} s, ratio {ratio:.2f}")
    print(jax_line)
    print(f"{'PASS' if ratio <= 3 else 'FAIL'}: step / GEMMs = {ratio:.2f} (target <= 3)")
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
