"""Numba loops for one-pass SGD on ``yhat = (1/N) sum_i a_i sigma(<w_i, x>)``.

Each call runs a whole block of steps (Shevchenko & Mondelli eq. (3.3); the
factor N there cancels the 1/N of the model):

    theta_i <- theta_i + (2 s_k / B) sum_b (y_b - yhat(x_b)) grad_theta_i [a_i sigma(<w_i, x_b>)]
                       + sqrt(4 s_k tau) g,   g ~ N(0, I)   (noisy SGD, tau = temperature)

and returns the number of steps completed: fewer than asked means the
prediction error of the next step was not finite.  Batch size 1 fuses the
update of step k with the forward pass of step k+1 so that ``W`` is read and
written once per step.  Each loop is compiled twice, serial and parallel
over neurons (the pattern of umap-learn's layouts); the driver picks one.
Noise draws from a numpy Generator in a fixed order and forces the serial
loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..activations import act_d1, act_value


def _sgd_b1(a, W, X, Y, s, kind, p, train_a, tau, rng):
    n = X.shape[0]
    N, d = W.shape
    z = np.empty(N)
    yhat = 0.0
    for i in prange(N):
        acc = 0.0
        for j in range(d):
            acc += W[i, j] * X[0, j]
        z[i] = acc
        yhat += a[i] * act_value(kind, p, acc)
    for k in range(n):
        err = Y[k] - yhat / N
        if not math.isfinite(err):
            return k
        c = 2.0 * s[k] * err
        ns = math.sqrt(4.0 * s[k] * tau)
        nxt = k + 1 < n
        kn = k + 1 if nxt else k
        yhat = 0.0
        for i in prange(N):
            zi = z[i]
            gw = c * a[i] * act_d1(kind, p, zi)
            if train_a:
                a[i] += c * act_value(kind, p, zi)
                if tau > 0.0:
                    a[i] += ns * rng.standard_normal()
            acc = 0.0
            for j in range(d):
                wij = W[i, j] + gw * X[k, j]
                if tau > 0.0:
                    wij += ns * rng.standard_normal()
                W[i, j] = wij
                acc += wij * X[kn, j]
            z[i] = acc
            yhat += a[i] * act_value(kind, p, acc)
    return n


def _sgd_batch(a, W, X, Y, s, B, kind, p, train_a, tau, rng):
    nsteps = X.shape[0] // B
    N, d = W.shape
    Z = np.empty((B, N))
    err = np.empty(B)
    for k in range(nsteps):
        base = k * B
        for b in range(B):
            yhat = 0.0
            for i in prange(N):
                acc = 0.0
                for j in range(d):
                    acc += W[i, j] * X[base + b, j]
                Z[b, i] = acc
                yhat += a[i] * act_value(kind, p, acc)
            err[b] = Y[base + b] - yhat / N
            if not math.isfinite(err[b]):
                return k
        c = 2.0 * s[k] / B
        ns = math.sqrt(4.0 * s[k] * tau)
        for i in prange(N):
            ga = 0.0
            for b in range(B):
                zi = Z[b, i]
                ga += err[b] * act_value(kind, p, zi)
                Z[b, i] = c * a[i] * err[b] * act_d1(kind, p, zi)
            for j in range(d):
                acc = W[i, j]
                for b in range(B):
                    acc += Z[b, i] * X[base + b, j]
                if tau > 0.0:
                    acc += ns * rng.standard_normal()
                W[i, j] = acc
            if train_a:
                a[i] += c * ga
                if tau > 0.0:
                    a[i] += ns * rng.standard_normal()
    return nsteps


sgd_b1_serial = njit(cache=True)(_sgd_b1)
sgd_b1_parallel = njit(cache=True, parallel=True)(_sgd_b1)
sgd_batch_serial = njit(cache=True)(_sgd_batch)
sgd_batch_parallel = njit(cache=True, parallel=True)(_sgd_batch)

#: Below this many weights per step the parallel loop's thread start-up costs
#: more than it saves (measured in benchmarks/bench_sgd.py).
PARALLEL_MIN_WEIGHTS = 100_000
