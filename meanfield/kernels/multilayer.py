"""Numba loop for one-pass SGD on the multilayer net of eq. (1.1) (Shevchenko & Mondelli eq. 4.3).

``z_1 = W_1 x``, ``z_{l+1} = (1/N) W_{l+1} sigma(z_l)``, ``yhat = (1/N) W_{L+1} sigma(z_L)``;
the middle matrices ``W_2 .. W_L`` (stacked as ``Wm[0 .. L-2]``) take the step
``W <- W - s_k N^2 grad`` of the batch-mean square loss, the first and last
layer stay fixed.  Per step and middle matrix the loop makes one pass that
reads each row for the backward product with the old weights and writes the
row's update in place (numpy needs an outer-product temporary, a scaling
pass and a subtraction pass besides), so the step is bound by about three
passes over the trained weights instead of seven.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..activations import act_d1, act_value


# Reassociation and contraction let LLVM vectorise the dot products; the NaN/Inf
# semantics that divergence detection relies on are kept.
@njit(cache=True, fastmath={"reassoc", "contract"})
def multilayer_sgd(W1, Wm, Wl, X, Y, s, kind, p):
    """Run ``len(s)`` steps in place; returns the number completed.

    Parameters
    ----------
    W1 : (N, d) fixed first layer.
    Wm : (L - 1, N, N) trained middle layers, updated in place.
    Wl : (d_out, N) fixed last layer.
    X : (n, B, d) and Y : (n, B, d_out)
        Mini-batch k is ``X[k], Y[k]``.
    s : (n,) step sizes s_k.
    kind, p : the activation (:mod:`meanfield.activations`).

    Returns
    -------
    int
        Steps done; fewer than ``n`` when the prediction of the next step was
        not finite (that step is not applied).
    """
    n, B, d = X.shape
    N = W1.shape[0]
    nm = Wm.shape[0]
    L = nm + 1
    dout = Wl.shape[0]
    inv_n = 1.0 / N
    Z = np.empty((L, B, N))
    H = np.empty((L, B, N))
    delta = np.empty((B, N))
    below = np.empty((B, N))
    r = np.empty((B, dout))
    for k in range(n):
        for b in range(B):
            for i in range(N):
                acc = 0.0
                for j in range(d):
                    acc += W1[i, j] * X[k, b, j]
                Z[0, b, i] = acc
                H[0, b, i] = act_value(kind, p, acc)
        for m in range(nm):
            for b in range(B):
                for i in range(N):
                    acc = 0.0
                    for j in range(N):
                        acc += Wm[m, i, j] * H[m, b, j]
                    z = acc * inv_n
                    Z[m + 1, b, i] = z
                    H[m + 1, b, i] = act_value(kind, p, z)
        finite = True
        for b in range(B):
            for o in range(dout):
                acc = 0.0
                for j in range(N):
                    acc += Wl[o, j] * H[L - 1, b, j]
                r[b, o] = acc * inv_n - Y[k, b, o]
                finite = finite and math.isfinite(r[b, o])
        if not finite:
            return k
        # delta[b, i] = d loss / d z_L[b, i] for the batch-mean loss
        for b in range(B):
            for i in range(N):
                acc = 0.0
                for o in range(dout):
                    acc += r[b, o] * Wl[o, i]
                delta[b, i] = (2.0 / B) * acc * inv_n * act_d1(kind, p, Z[L - 1, b, i])
        for m in range(nm - 1, -1, -1):
            # W = Wm[m] maps sigma(z_{m+1}) (H[m]) to z_{m+2}; grad = delta^T H[m] / N,
            # and the step s N^2 grad is s N delta^T H[m]
            c = s[k] * N
            need_below = m > 0
            if need_below:
                below[:, :] = 0.0
            for i in range(N):
                if need_below:  # with the old row, before any of the batch's updates
                    for b in range(B):
                        di = delta[b, i]
                        for j in range(N):
                            below[b, j] += di * Wm[m, i, j]
                for b in range(B):
                    cd = c * delta[b, i]
                    for j in range(N):
                        Wm[m, i, j] -= cd * H[m, b, j]
            if need_below:
                for b in range(B):
                    for j in range(N):
                        delta[b, j] = below[b, j] * inv_n * act_d1(kind, p, Z[m, b, j])
    return n
