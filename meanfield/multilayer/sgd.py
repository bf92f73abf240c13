"""One-pass SGD of eq. (4.3) for the multilayer net, and its Monte Carlo population risk.

``W_m <- W_m - s_k N^2 grad_{W_m} |y_k - yhat(x_k)|^2`` for the middle layers
m = 2..L, first and last layer fixed, ``s_k = alpha xi(k alpha)``; with a
mini-batch the gradient is averaged over it.  Time is ``t = k alpha``.

With batch 1 a step is matrix-vector work bound by passes over the N x N
weights, and :func:`meanfield.kernels.multilayer.multilayer_sgd` does it in
about three passes where numpy needs seven (5.4x at N = 1000 on two idle cores,
``benchmarks/bench_multilayer.py``).  With larger batches a step is
matrix-matrix work, which BLAS does as well as a loop could, so
:func:`sgd_step` (plain numpy, also the benchmark's baseline) runs it.

The population risk of eq. (4.2) has no closed form beyond the first layer:
:class:`MCRisk` evaluates it on one fixed sample drawn from the task, and
reports the Monte Carlo standard error next to every value (paired, for
differences such as eps_D, since both terms use the same sample).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .. import _checks
from ..kernels.multilayer import multilayer_sgd
from ..stepping import DivergenceError
from .model import MultilayerNet


def _targets(y, d_out):
    y = np.asarray(y, dtype=np.float64)
    y = y[:, None] if y.ndim == 1 else y
    if y.shape[1] != d_out:
        raise ValueError(f"the task's labels have {y.shape[1]} components, the net {d_out}")
    return y


def gradients(net, X, Y):
    """Gradients of ``mean_b |y_b - yhat(x_b)|^2`` with respect to ``W_2 .. W_L``.

    Returns
    -------
    loss : float
    grads : list of numpy.ndarray
        One per trained matrix, shapes (N, N).
    """
    W, N = net.weights, net.N
    Y = _targets(Y, net.d_out)
    out, zs = net.forward(X, cache=True)
    B = len(Y)
    r = out - Y
    loss = float(np.mean(np.sum(r * r, axis=1)))
    delta = (2.0 / B) * r  # d loss / d yhat
    grads = []
    for m in range(len(W) - 1, 0, -1):
        # delta: d loss / d (W[m] sigma(z_m) / N), with z_m = zs[m - 1] (0-based W index m)
        if m < len(W) - 1:
            grads.append(delta.T @ net.act(zs[m - 1]) / N)
        if m == 1:
            break
        delta = (delta @ W[m]) / N * net.act.derivative(zs[m - 1])
    return loss, grads[::-1]


def sgd_step(net, X, Y, s):
    """One step of eq. (4.3) with step ``s`` (mini-batch average) in plain numpy; returns the
    batch loss.  :func:`run_sgd` uses it for batches > 1."""
    loss, grads = gradients(net, X, Y)
    N2 = float(net.N) ** 2
    for m, g in enumerate(grads, start=1):
        g *= s * N2
        net.weights[m] -= g
    return loss


class MCRisk:
    """Population risk (4.2) on a fixed Monte Carlo sample from ``task``.

    Parameters
    ----------
    task : object
        Anything with ``d`` and ``sample(n, rng) -> (X, y)``.
    n : int
        Sample size; the standard error of every value is reported.
    rng : int or Generator
        Seeds the sample (keep it apart from the training data's seed).
    """

    def __init__(self, task, n=20000, rng=12345):
        self.n = _checks.positive_int("n", n)
        if self.n < 2:
            raise ValueError(f"n must be >= 2 for a standard error, got {n}")
        self.X, self.y = task.sample(self.n, _checks.generator(rng))

    def losses(self, net, keep=None):
        """Per-sample square losses, shape (n,)."""
        r = net.forward(self.X, keep) - _targets(self.y, net.d_out)
        return np.sum(r * r, axis=1)

    def risk(self, net, keep=None):
        """``(mean, standard error)`` of the loss of the net (or its dropout network)."""
        ell = self.losses(net, keep)
        return float(ell.mean()), float(ell.std(ddof=1) / np.sqrt(self.n))

    def gap(self, net, keep):
        """``(L_|A|(theta_A) - L_N(theta), paired standard error)``."""
        diff = self.losses(net, keep) - self.losses(net)
        return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(self.n))


@dataclass
class MultilayerRun:
    """Snapshots of a multilayer SGD run.

    Attributes
    ----------
    times, steps : numpy.ndarray
    nets : list of MultilayerNet
    risk, risk_se : numpy.ndarray
        Monte Carlo risk at each snapshot and its standard error.
    """

    times: np.ndarray
    steps: np.ndarray
    nets: list
    risk: np.ndarray
    risk_se: np.ndarray
    config: dict = field(default_factory=dict)


def run_sgd(net, task, alpha, times, *, mc, batch_size=1, schedule=None, rng=0, progress=True):
    """Train a copy of ``net`` by eq. (4.3) on fresh samples of ``task``; snapshot at ``times``.

    Parameters
    ----------
    net : MultilayerNet
        Initial weights (not modified).
    alpha : float
        Step scale; ``s_k = alpha xi(k alpha)``.
    times : array_like
        Non-decreasing snapshot times (rounded to multiples of alpha).
    mc : MCRisk
        Evaluates the risk at each snapshot.
    rng : int or Generator
        Seeds the data stream.

    Raises
    ------
    DivergenceError
        With ``.partial`` holding the snapshots so far.
    """
    if not isinstance(net, MultilayerNet):
        raise ValueError(f"net must be a MultilayerNet, got {type(net).__name__}")
    alpha = _checks.positive("alpha", alpha)
    B = _checks.positive_int("batch_size", batch_size)
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or np.any(times < 0) or np.any(np.diff(times) < 0):
        raise ValueError(f"times must be a non-empty non-decreasing list of times >= 0, "
                         f"got {times}")
    steps = np.round(times / alpha).astype(int)
    g = _checks.generator(rng)
    cur = net.copy()
    # the kernel updates the stacked middle layers; the net's matrices are views of them
    Wm = np.stack(cur.weights[1:-1])
    cur.weights[1:-1] = list(Wm)
    block = max(1, (1 << 18) // (cur.d * B))
    rows = []
    cfg = {"alpha": alpha, "batch_size": B, "N": cur.N, "L": cur.n_hidden}

    def partial():
        t, k, nets, r, se = (zip(*rows) if rows else ((),) * 5)
        return MultilayerRun(np.array(t), np.array(k, int), list(nets), np.array(r),
                             np.array(se), cfg)

    k = 0
    bar = tqdm(total=int(steps[-1]), disable=not progress, desc=f"multilayer SGD N={cur.N}",
               leave=False, mininterval=0.5)
    try:
        for target in steps:
            while k < target:
                n = min(block, target - k)
                X, y = task.sample(n * B, g)
                s = alpha * (np.ones(n) if schedule is None else np.asarray(
                    _checks.schedule_value(schedule, (k + np.arange(n)) * alpha), float))
                if B == 1:
                    Y = _targets(y, cur.d_out)
                    done = multilayer_sgd(cur.weights[0], Wm, cur.weights[-1],
                                          X.reshape(n, 1, cur.d), Y.reshape(n, 1, cur.d_out),
                                          s, cur.act.kind, cur.act.p)
                    if done < n:
                        raise DivergenceError(k + done, (k + done) * alpha, partial())
                else:
                    with np.errstate(over="ignore", invalid="ignore"):
                        for j in range(n):
                            sgd_step(cur, X[j * B:(j + 1) * B], y[j * B:(j + 1) * B], s[j])
                if not np.isfinite(Wm).all():
                    raise DivergenceError(k, k * alpha, partial())
                k += n
                bar.update(n)
            with np.errstate(over="ignore", invalid="ignore"):
                r, se = mc.risk(cur)
            if not np.isfinite(r):
                raise DivergenceError(k, k * alpha, partial())
            rows.append((k * alpha, k, cur.copy(), r, se))
    finally:
        bar.close()
    return partial()
