"""Numba loops for one-pass SGD on ``yhat = (1/N) sum_i a_i sigma(<w_i, x>)``.

Each call runs a whole block of steps (Shevchenko & Mondelli eq. (3.3); the
factor N there cancels the 1/N of the model):

    theta_i <- theta_i + (2 s_k / B) sum_b (y_b - yhat(x_b)) grad_theta_i [a_i sigma(<w_i, x_b>)]
                       + sqrt(4 s_k tau) g,   g ~ N(0, I)   (noisy SGD, tau = temperature)

and returns the number of steps completed: fewer than asked means the
prediction error of the next step was not finite.  Batch size 1 without
noise fuses the update of step k with the forward pass of step k+1 so that
``W`` is read and written once per step: in tiles of rows (:func:`_sgd_b1`,
serial, W up to L2 size) or row by row (:func:`_sgd_b1_rows`, parallel, or
serial for a larger W), the two with the same arithmetic for each weight.
The batch loop is compiled twice, serial and parallel over neurons (the
pattern of umap-learn's layouts); every loop on demand once more for a single
activation; :func:`choose` picks one.
All share one signature ``(a, W, X, Y, s, B, kind, p, train_a, tau, rng)``.
Noise draws from a numpy Generator in a fixed order, in the serial batch loop.
"""

from __future__ import annotations

import math

import numpy as np
import numba
from numba import njit, prange

from .._specialise import build
from ..activations import ERF, RAMP, RELU, TANH, act_d1, act_value

#: The activation a build is specialised for (-1: any, read from the ``kind`` argument).
#: A build for one kind sees it as a compile-time constant, so LLVM drops the
#: other activations' branches from the row loop (1.8x at N = 1000, d = 100).
_KIND = -1

#: Rows per tile of the fused batch-1 loop (a tile of 100-wide rows stays in L1
#: between its update and its forward pass).
TILE = 16


def _sgd_b1(a, W, X, Y, s, B, kind, p, train_a, tau, rng):
    """Batch 1, no noise (B, tau and rng unused): update of step k fused with
    the forward pass of step k + 1, in tiles of TILE rows; the serial build.
    (Built parallel over tiles it ran 10-20% slower than :func:`_sgd_b1_rows`
    on one thread, at N = 100 and 1000.)"""
    kind = kind if _KIND < 0 else _KIND
    n = X.shape[0]
    N, d = W.shape
    z = np.empty(N)
    h = np.empty(N)
    # sigma(z_i) of the forward pass, kept for the update of a_i at the same z_i: one
    # activation call fewer per neuron and step (erf, tanh: a third of a step's time)
    sv = np.empty(N)
    g = np.empty(N)
    live = np.empty(N, np.intp)
    x0 = X[0]
    for i in range(N):
        wi = W[i]
        acc = 0.0
        for j in range(d):
            acc += wi[j] * x0[j]
        z[i] = acc
        sv[i] = act_value(kind, p, acc)
        h[i] = a[i] * sv[i]
    yhat = _sum(h)
    ntiles = (N + TILE - 1) // TILE
    for k in range(n):
        err = Y[k] - yhat / N
        if not math.isfinite(err):
            return k
        c = 2.0 * s[k] * err
        xk = X[k]
        xn = X[k + 1 if k + 1 < n else k]
        for t in range(ntiles):
            i0 = t * TILE
            i1 = min(i0 + TILE, N)
            # The tile's gradients, and the list of its rows with gw != 0
            # (live[i0:m]) built without a branch: an inactive ReLU (or flat
            # ramp) row, about half, is only read, so its cache lines stay
            # clean, and the branch on gw != 0 per row was a coin flip.
            m = i0
            for i in range(i0, i1):
                zi = z[i]
                gw = c * a[i] * act_d1(kind, p, zi)
                if train_a:
                    a[i] += c * sv[i]
                g[i] = gw
                live[m] = i
                m += gw != 0.0
            # The update is elementwise (one rounding per weight, the same in
            # any loop shape), so two rows share each load of x_k: 3 loads
            # per 2 weights instead of 4 (N = 100: 10% fewer cycles per step).
            q = i0
            while q + 1 < m:
                u = W[live[q]]
                v = W[live[q + 1]]
                gu = g[live[q]]
                gv = g[live[q + 1]]
                for j in range(d):
                    xj = xk[j]
                    u[j] += gu * xj
                    v[j] += gv * xj
                q += 2
            if q < m:
                u = W[live[q]]
                gu = g[live[q]]
                for j in range(d):
                    u[j] += gu * xk[j]
            # The dot product is a loop of its own, the same loop as the first
            # forward pass above and in _sgd_batch: fused into the update loop,
            # LLVM vectorised the two reductions differently (it depends on the
            # CPU's vector width), so a run cut into blocks (a snapshot, a
            # resume) differed from an uninterrupted one in the last bits.  The
            # tile's rows are still in L1 from the update.
            for i in range(i0, i1):
                wi = W[i]
                acc = 0.0
                for j in range(d):
                    acc += wi[j] * xn[j]
                z[i] = acc
                sv[i] = act_value(kind, p, acc)
                h[i] = a[i] * sv[i]
        yhat = _sum(h)
    return n


def _sgd_b1_rows(a, W, X, Y, s, B, kind, p, train_a, tau, rng):
    """Batch 1, no noise (B, tau and rng unused): update of step k fused with
    the forward pass of step k + 1, one row at a time: the parallel build (rows
    split among threads), and the serial one beyond TILED_MAX_WEIGHTS.  Same
    bits as :func:`_sgd_b1`, row for row."""
    kind = kind if _KIND < 0 else _KIND
    n = X.shape[0]
    N, d = W.shape
    z = np.empty(N)
    h = np.empty(N)
    sv = np.empty(N)  # sigma(z_i), as in _sgd_b1
    x0 = X[0]
    for i in prange(N):
        wi = W[i]
        acc = 0.0
        for j in range(d):
            acc += wi[j] * x0[j]
        z[i] = acc
        sv[i] = act_value(kind, p, acc)
        h[i] = a[i] * sv[i]
    yhat = _sum(h)
    for k in range(n):
        err = Y[k] - yhat / N
        if not math.isfinite(err):
            return k
        c = 2.0 * s[k] * err
        # Row views measured faster than 2-D indexing.  The row loop compiles
        # to 512-bit FMAs (checked in the assembly); what limits it is the
        # stream of W through L2/L3 once per step (benchmarks/bench_sgd.py).
        xk = X[k]
        xn = X[k + 1 if k + 1 < n else k]
        for i in prange(N):
            zi = z[i]
            gw = c * a[i] * act_d1(kind, p, zi)
            if train_a:
                a[i] += c * sv[i]
            wi = W[i]
            # An inactive ReLU (or flat ramp) row (gw == 0, about half) is only
            # read, so its cache lines stay clean and are not written back.
            if gw != 0.0:
                for j in range(d):
                    wi[j] += gw * xk[j]
            # The dot product is a loop of its own, the same loop as the first
            # forward pass above and in _sgd_batch: fused into the update loop,
            # LLVM vectorised the two reductions differently (it depends on the
            # CPU's vector width), so a run cut into blocks (a snapshot, a
            # resume) differed from an uninterrupted one in the last bits.
            acc = 0.0
            for j in range(d):
                acc += wi[j] * xn[j]
            z[i] = acc
            sv[i] = act_value(kind, p, acc)
            h[i] = a[i] * sv[i]
        yhat = _sum(h)
    return n


def _sgd_batch(a, W, X, Y, s, B, kind, p, train_a, tau, rng):
    """Mini-batches of B, with noise when tau > 0 (then call the serial build:
    the Generator is not thread-safe, and a prange body that calls it is
    silently run serially by numba, parallel build or not)."""
    kind = kind if _KIND < 0 else _KIND
    nsteps = X.shape[0] // B
    N, d = W.shape
    Z = np.empty((B, N))
    h = np.empty(N)
    err = np.empty(B)
    for k in range(nsteps):
        base = k * B
        for b in range(B):
            xb = X[base + b]
            for i in prange(N):
                wi = W[i]
                acc = 0.0
                for j in range(d):
                    acc += wi[j] * xb[j]
                Z[b, i] = acc
                h[i] = a[i] * act_value(kind, p, acc)
            err[b] = Y[base + b] - _sum(h) / N
            if not math.isfinite(err[b]):
                return k
        c = 2.0 * s[k] / B
        for i in prange(N):
            ga = 0.0
            for b in range(B):
                zi = Z[b, i]
                ga += err[b] * act_value(kind, p, zi)
                Z[b, i] = c * a[i] * err[b] * act_d1(kind, p, zi)
            wi = W[i]
            for b in range(B):
                g = Z[b, i]
                xb = X[base + b]
                for j in range(d):
                    wi[j] += g * xb[j]
            if train_a:
                a[i] += c * ga
        if tau > 0.0:
            ns = math.sqrt(4.0 * s[k] * tau)
            for i in range(N):
                if train_a:
                    a[i] += ns * rng.standard_normal()
                for j in range(d):
                    W[i, j] += ns * rng.standard_normal()
    return nsteps


@njit(cache=True, fastmath={"reassoc", "contract"})
def _sum(h):
    """Serial sum of the per-neuron outputs.  A ``prange`` reduction would add
    the threads' partial sums in an order that depends on the thread count."""
    s = 0.0
    for i in range(h.size):
        s += h[i]
    return s


# Reassociation and contraction only: the NaN/Inf semantics that divergence
# detection relies on are kept (no 'nnan'/'ninf').
_FM = {"reassoc", "contract"}


def _build(f, parallel, kind=-1):
    return build(f, parallel, kind, fastmath=_FM)


sgd_b1_serial = _build(_sgd_b1, False)
sgd_b1_parallel = _build(_sgd_b1_rows, True)
sgd_batch_serial = _build(_sgd_batch, False)
sgd_batch_parallel = _build(_sgd_batch, True)

#: Below this many weights per step the parallel loop's thread start-up costs
#: more than it saves (measured in benchmarks/bench_sgd.py).
PARALLEL_MIN_WEIGHTS = 10_000

#: Activations whose serial and parallel builds give the same bits (each
#: specialised build and the build for any kind; tests/test_sgd.py checks it).
#: For the logistic ones (sigmoid, softplus) the specialised parallel builds
#: round differently from the serial ones in a few last bits, so for them the
#: choice between the two stays a matter of size alone.
SERIAL_EQUALS_PARALLEL = (RELU, ERF, TANH, RAMP)

#: Above this many weights the serial batch-1 loop goes row by row
#: (:func:`_sgd_b1_rows`), the same bits: with W beyond L2 the tiled loop was
#: 25% slower (N = 10000, d = 100, one thread: 1210 against 1600 steps/s; it
#: first touches the active rows out of order), at N = 1000 it is as fast.
TILED_MAX_WEIGHTS = 100_000


def choose(N, d, batch_size, temperature, kind=None):
    """The loop SGD uses: the fused batch-1 loop without noise, else the batch
    loop (any B; serial when there is noise); parallel over neurons when a
    step has at least PARALLEL_MIN_WEIGHTS weight updates and numba has more
    than one thread (with one, the parallel loop only adds its start-up per
    step: N = 100, d = 100 ran 25% slower), the latter only for activations in
    SERIAL_EQUALS_PARALLEL, so that the thread count never changes results.
    The serial batch-1 loop is the tiled one up to TILED_MAX_WEIGHTS weights,
    the row loop above.  With ``kind`` (an activation code) the loop is built
    for that activation alone (compiled on first use, then cached on disk); it
    must then be called with that kind."""
    if temperature > 0:
        f, parallel = _sgd_batch, False
    else:
        parallel = N * d * batch_size >= PARALLEL_MIN_WEIGHTS and (
            numba.get_num_threads() > 1
            or (kind is not None and kind not in SERIAL_EQUALS_PARALLEL))
        if batch_size > 1:
            f = _sgd_batch
        else:
            f = _sgd_b1 if not parallel and N * d <= TILED_MAX_WEIGHTS else _sgd_b1_rows
    return _build(f, parallel, -1 if kind is None else kind)
