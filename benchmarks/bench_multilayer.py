"""Multilayer SGD throughput (eq. 4.3): the numba loop against plain numpy in the same process.

Target (issue "Multilayer mean-field networks"): L + 1 = 4 layers, N = 1000,
batch 1, at least 3x the numpy step (:func:`meanfield.multilayer.sgd_step`,
which is what one writes in numpy: forward with the cache, backward through
the layers, ``W -= s N^2 outer(delta, h) / N``).  Also prints the growth
exponent of time per step in N, expected near 2 (two N x N matrices per step).
Both sides consume the same pre-drawn data, sigmoid, d = 20.

With jax installed (the optional ``bench`` extra), a JAX column for comparison
(no target): the same steps as one jit-compiled ``lax.scan`` with ``jax.grad``
of the batch loss, float64, its final weights checked equal to ours (1e-12
relative), timed interleaved with ours.  Measured 2026-12-07, one thread, the
process pinned to one CPU (``_timing.pin_one_cpu``: XLA's runtime otherwise
takes both cores), quiet 2-core AMD EPYC, one run: ours / numpy 3.9 at
N = 1000; ours / JAX 0.97, 2.18, 1.85, 1.84 at N = 250, 500, 1000, 2000.

    python benchmarks/bench_multilayer.py [--steps-scale 1.0] [--no-jax]
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
from _timing import best_of, best_of_each, import_jax, rel_diff  # noqa: E402


def jax_loop(jax, W1, Wl, N):
    """Eq. (4.3), batch 1, sigmoid, in JAX: ``Wm -= s N^2 grad |y - yhat(x)|^2``."""
    jnp = jax.numpy
    W1, Wl = jnp.asarray(W1), jnp.asarray(Wl)

    def loss(Wm, x, y):
        z = W1 @ x
        for m in range(Wm.shape[0]):
            z = Wm[m] @ jax.nn.sigmoid(z) / N
        r = Wl @ jax.nn.sigmoid(z) / N - y
        return jnp.sum(r * r)

    def step(Wm, xys):
        x, y, s = xys
        return Wm - s * N ** 2 * jax.grad(loss)(Wm, x, y), None

    @jax.jit
    def run(Wm, X, Y, S):
        return jax.lax.scan(step, Wm, (X, Y, S))[0]

    return run


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--steps-scale", type=float, default=1.0)
    p.add_argument("--no-jax", action="store_true", help="leave the JAX column out")
    args = p.parse_args(argv)
    import numba
    jax = None if args.no_jax else import_jax(numba.get_num_threads())
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
            Wm = Wm0.copy()
            multilayer_sgd(net.weights[0], Wm, net.weights[-1], X.reshape(steps, 1, d),
                           y.reshape(steps, 1, 1), s, act.kind, act.p)
            return Wm

        def numpy_steps():
            cur = net.copy()
            for k in range(steps):
                sgd_step(cur, X[k:k + 1], y[k:k + 1], s[k])

        Wm_ours = ours()  # compile
        jax_col = " | jax n/a"
        if jax is not None:
            run = jax_loop(jax, net.weights[0], net.weights[-1], N)
            args_j = [jax.device_put(v) for v in (Wm0, X, y.reshape(steps, 1), s)]

            def theirs():
                return jax.block_until_ready(run(*args_j))

            diff = rel_diff(theirs(), Wm_ours)  # compiles
            if not diff <= 1e-12:
                raise SystemExit(f"N={N}: JAX and numba differ by {diff:.3g} (relative)")
            t_ours, t_jax = (t / steps for t in best_of_each([ours, theirs], 3))
            jax_col = (f" | jax {1 / t_jax:8.0f} steps/s (x{t_jax / t_ours:5.2f}, agree to "
                       f"{diff:.1g})")
        else:
            t_ours = best_of(ours, 3) / steps
        t_np = best_of(numpy_steps, 3) / steps
        rows.append((N, t_ours, t_np))
        print(f"N={N:5d}: numba {1 / t_ours:8.0f} steps/s | numpy {1 / t_np:8.0f} steps/s "
              f"(x{t_np / t_ours:5.1f})" + jax_col, flush=True)
    fit = loglog_fit([r[0] for r in rows], [r[1] for r in rows], n_boot=10)
    print(f"growth of time per step in N: exponent {fit.slope:.2f} (N = 250..2000; "
          "O(N^2) work)")
    ratio = next(r[2] / r[1] for r in rows if r[0] == 1000)
    print(f"{'PASS' if ratio >= 3 else 'FAIL'}: numba vs numpy at N = 1000 x{ratio:.1f} "
          "(target x3)")
    return 0 if ratio >= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
