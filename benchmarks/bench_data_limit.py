"""One particle-limit step on a data set's empirical law against its matrix products.

On n rows in d dimensions, the field of M particles (erf student) needs the
products ``Z = X W'`` (n x d x M) and ``(r * sigma'(Z))' X`` (M x n x d), plus
``X W_ref'`` when the population is not the state itself: three products of
n x d x M at most (EmpiricalTask uses two: the population is the state's
leading rows).  Target (issue 31): one Euler step (one field evaluation) within
1.5x the time of three float64 products of that size, timed in the same process.
Also timed: a plain numpy baseline (no blocks: the whole n x M matrix at once,
scipy's erf), whose new state is checked equal to ours (1e-10 relative).

With jax installed (the optional ``bench`` extra), a JAX column for comparison
(no target): the same Euler step written in JAX (jit, float64, ``jax.lax.scan``
over blocks of at most 2000 rows, zero-padded, so that no n x M temporary is
formed), its new state checked equal to ours (1e-12 relative) before it is
timed interleaved with ours; one line per M after the table.

Data: two-class Fashion-MNIST (classes 0 and 6: n = 12000, d = 784) when Debian's
``dataset-fashion-mnist`` is installed, else Gaussian data of that shape (said in
the output).

    python benchmarks/bench_data_limit.py [--M 1000 4000] [--repeat 2] [--no-jax]

Measured 2026-12-06 on the shared 2-core development machine (loaded; best of 2,
interleaved), two-class Fashion-MNIST: M = 1000: step 6.7 s, three products
9.2 s (ratio 0.73), two products 5.3 s (1.27), numpy 9.1 s (ours 1.35x faster);
M = 4000: 25.2 s, 30.2 s (0.83), 20.4 s (1.24), numpy 29.9 s (1.19x); new states
equal to numpy's to 5e-16 relative.  M = 16000 (2026-12-07, quiet, two threads,
one run, ``--M 16000 --repeat 1 --no-jax``): step 22.6 s, three products 27.2 s
(0.83), two products 16.7 s (1.36), numpy 31.5 s (ours 1.39x faster); equal to
numpy's to 5.4e-16.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of_each, import_jax, rel_diff  # noqa: E402

from meanfield.tasks import EmpiricalTask  # noqa: E402
from meanfield.tasks.datasets import DatasetNotFoundError  # noqa: E402
from meanfield.twolayer import InitialLaw, ParticleLimit  # noqa: E402


def load(n, d):
    try:
        return EmpiricalTask.from_spec("fashion-mnist:0,6", "erf"), "fashion-mnist:0,6"
    except DatasetNotFoundError:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, d))
        return EmpiricalTask(X, np.sign(X[:, 0]), "erf"), f"Gaussian data (n={n}, d={d})"


def numpy_euler(task, A, W, h):
    """One Euler step ``theta += -2 h grad Psi(theta; rho)``, rho = all particles, written
    straight in numpy: ``Psi = -(a/n) sum_p (y_p - f_rho(x_p)) erf(<w, x_p>)``."""
    from scipy.special import erf

    X, y, n, M = task.X, task.y, task.n, A.size
    Z = X @ W.T
    S = erf(Z)
    r = y - S @ A / M
    ga = -(S.T @ r) / n
    D = (2.0 / np.sqrt(np.pi)) * np.exp(-Z * Z) * r[:, None]
    gW = -A[:, None] * (D.T @ X) / n
    return A - 2 * h * ga, W - 2 * h * gW


def jax_euler(jax, task, h, block=2000):
    """:func:`numpy_euler` in JAX: one jit-compiled function of ``(A, W)``.  The rows
    are zero-padded to a multiple of ``block`` and summed block by block in a
    ``lax.scan``; a zero row with label 0 adds nothing (erf(0) = 0, residual 0)."""
    jnp = jax.numpy
    n = task.n
    blk = min(block, n)
    pad = -n % blk
    Xb = jnp.asarray(np.concatenate([task.X, np.zeros((pad, task.d))]).reshape(-1, blk, task.d))
    yb = jnp.asarray(np.concatenate([task.y, np.zeros(pad)]).reshape(-1, blk))

    @jax.jit
    def step(A, W):
        M = A.size

        def rows(acc, xy):
            X, y = xy
            Z = X @ W.T
            S = jax.scipy.special.erf(Z)
            r = y - S @ A / M
            D = (2.0 / jnp.sqrt(jnp.pi)) * jnp.exp(-Z * Z) * r[:, None]
            return (acc[0] + S.T @ r, acc[1] + D.T @ X), None

        (sa, sW), _ = jax.lax.scan(rows, (jnp.zeros_like(A), jnp.zeros_like(W)), (Xb, yb))
        return A + 2 * h * sa / n, W + 2 * h * A[:, None] * sW / n

    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--M", type=int, nargs="+", default=[1000, 4000])
    p.add_argument("--n", type=int, default=12000, help="rows of the Gaussian stand-in")
    p.add_argument("--d", type=int, default=784, help="dimension of the Gaussian stand-in")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--no-numpy", action="store_true", help="skip the numpy baseline")
    p.add_argument("--no-jax", action="store_true", help="leave the JAX column out")
    args = p.parse_args(argv)
    import numba
    jax = None if args.no_jax else import_jax(numba.get_num_threads())
    task, what = load(args.n, args.d)
    X = task.X
    print(f"data: {what}; n = {task.n}, d = {task.d}; erf student; rows per block: "
          + ", ".join(f"{task.rows_per_block(M)} at M = {M}" for M in args.M))
    print(f"{'M':>6} {'step s':>8} {'3 prod s':>9} {'ratio':>6} {'2 prod s':>9} {'ratio':>6} "
          f"{'numpy s':>8} {'speed-up':>8} {'rel diff':>9}")
    rows, jax_lines = [], []
    jstep = None if jax is None else jax_euler(jax, task, 0.1)
    for M in args.M:
        A, W = InitialLaw().sample(M, task.d, np.random.default_rng(M))
        lim = ParticleLimit((A, W), task, h=0.1, method="euler")

        def step():
            return lim.step(0.0, 0.1, False)

        def products(k):
            def run():
                Z = X @ W.T
                if k == 3:
                    X @ W.T
                return Z.T @ X
            return run

        fns = [step, products(3), products(2)]
        if not args.no_numpy:
            fns.append(lambda: numpy_euler(task, A, W, 0.1))
        if jstep is not None:
            Aj, Wj = jax.device_put(A), jax.device_put(W)

            def theirs():
                return jax.block_until_ready(jstep(Aj, Wj))

            ours, ref = step(), theirs()  # compiles both
            jdiff = max(rel_diff(ref[0], ours[0]), rel_diff(ref[1], ours[1]))
            if not jdiff <= 1e-12:
                raise SystemExit(f"M={M}: JAX and numba Euler steps differ by {jdiff:.3g} "
                                 "(relative)")
            fns.append(theirs)
        ts = best_of_each(fns, repeat=args.repeat)
        if jstep is not None:
            t_jax = ts.pop()
            jax_lines.append(f"M={M}: JAX Euler step {t_jax:.3f} s (ours x{t_jax / ts[0]:.2f} "
                             f"faster, agree to {jdiff:.1g})")
        diff = float("nan")
        if not args.no_numpy:
            ours, ref = step(), numpy_euler(task, A, W, 0.1)
            diff = max(rel_diff(ours[0], ref[0]), rel_diff(ours[1], ref[1]))
            assert diff < 1e-10, diff
        t_np = ts[3] if len(ts) > 3 else float("nan")
        print(f"{M:>6} {ts[0]:>8.3f} {ts[1]:>9.3f} {ts[0] / ts[1]:>6.2f} {ts[2]:>9.3f} "
              f"{ts[0] / ts[2]:>6.2f} {t_np:>8.3f} {t_np / ts[0]:>8.2f} {diff:>9.1e}")
        rows.append((M, *ts))
    for line in jax_lines or ["no JAX column (--no-jax, or jax not installed: "
                              "pip install -e .[bench])"]:
        print(line)
    return rows


if __name__ == "__main__":
    main()
