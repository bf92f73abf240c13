"""K^(H) for n = 2000 points, H = 10, softplus: meanfield.lazy vs a plain numpy recursion.

The numpy baseline is what one would write first: for every pair, a 2-D
Gauss-Hermite tensor rule (Q x Q nodes) over (u, v) ~ N(0, A_ij), vectorised
over pairs in chunks.  meanfield.lazy tabulates the two expectations in the
correlation (inputs on the sphere) with the package's accurate quadrature and
interpolates.  Both run here, in one process; the difference between them is
printed as the baseline's error (the package's tables are checked to 1e-11).

    python benchmarks/bench_lazy.py [--n 2000] [--H 10] [--Q 24]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from meanfield.lazy import fc_gram


def softplus(x):
    return np.logaddexp(0.0, x)


def dsoftplus(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def numpy_fc_gram(X, H, Q):
    z, w = np.polynomial.hermite_e.hermegauss(Q)
    w = w / w.sum()
    Z1, Z2 = np.meshgrid(z, z, indexing="ij")
    W2 = np.outer(w, w).ravel()
    Z1, Z2 = Z1.ravel(), Z2.ravel()
    cs = 1.0 / np.sum(w * softplus(z) ** 2)

    def expect(K, f):
        n = K.shape[0]
        out = np.empty(n * n)
        q = np.diag(K)
        qi, qj = np.repeat(q, n), np.tile(q, n)
        rho = np.clip(K.ravel() / np.sqrt(qi * qj), -1, 1)
        for s in range(0, n * n, 20000):
            sl = slice(s, s + 20000)
            u = np.sqrt(qi[sl])[:, None] * Z1[None, :]
            v = np.sqrt(qj[sl])[:, None] * (rho[sl, None] * Z1[None, :]
                                              + np.sqrt(1 - rho[sl, None] ** 2) * Z2[None, :])
            out[sl] = (f(u) * f(v)) @ W2
        return out.reshape(n, n)

    K = X @ X.T
    for _ in range(1, H):
        K = cs * expect(K, softplus)
    return cs * K * expect(K, dsoftplus)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--H", type=int, default=10)
    p.add_argument("--Q", type=int, default=24)
    args = p.parse_args(argv)
    X = np.random.default_rng(0).standard_normal((args.n, 20))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    fc_gram(X[:50], 2, "softplus")  # compile / load the kernels outside the timing
    t = time.perf_counter()
    ours = fc_gram(X, args.H, "softplus").K
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    base = numpy_fc_gram(X, args.H, args.Q)
    t_base = time.perf_counter() - t
    rel = np.abs(base - ours).max() / np.abs(ours).max()
    print(f"n = {args.n}, H = {args.H}, softplus: meanfield.lazy {t_ours:.1f} s, numpy "
          f"{args.Q}x{args.Q} Gauss-Hermite {t_base:.1f} s (x{t_base / t_ours:.1f}); "
          f"max |difference| / max |K| = {rel:.1e}")


if __name__ == "__main__":
    main()
