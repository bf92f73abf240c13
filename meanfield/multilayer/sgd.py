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

from .. import _checks
from ..kernels.multilayer import multilayer_sgd
from ..stepping import DivergenceError, Stepper, check_times, simulate
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

    def gap(self, net, keep, full=None):
        """``(L_|A|(theta_A) - L_N(theta), paired standard error)``.

        ``full``: the full net's :meth:`losses`, when the caller has them (a net
        dropped to several kept sets needs its full forward pass once)."""
        diff = self.losses(net, keep) - (self.losses(net) if full is None else full)
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


class MultilayerSGD(Stepper):
    """One-pass SGD of eq. (4.3) on a copy of a :class:`MultilayerNet`, as a :class:`Stepper`.

    Time is ``t = k alpha`` after k steps; snapshots are copies of the net and
    the risk is ``(mean, standard error)`` from ``mc``.

    Parameters
    ----------
    net : MultilayerNet
        Initial weights (copied, not modified).
    task : object
        Anything with ``d`` and ``sample(n, rng) -> (X, y)``: fresh samples every step.
    alpha : float
        Step scale; ``s_k = alpha xi(k alpha)``.
    mc : MCRisk
        Evaluates the risk at each snapshot.
    batch_size : int
    schedule : callable, optional
        ``xi(t)``; default 1.
    rng : int or Generator
        Seeds the data stream.
    horizon : int, optional
        Steps the run is planned to take.  The stream is drawn in blocks of
        a fixed number of steps counted from step 0, the block that reaches
        ``horizon`` cut there (no samples are drawn past the run), so the
        data, and with them the weights, do not depend on where snapshots
        are taken.  Without it every block is whole.
    """

    def __init__(self, net, task, alpha, *, mc, batch_size=1, schedule=None, rng=0,
                 horizon=None):
        if not isinstance(net, MultilayerNet):
            raise ValueError(f"net must be a MultilayerNet, got {type(net).__name__}")
        self.task = task
        self.mc = mc
        self.alpha = _checks.positive("alpha", alpha)
        self.batch_size = B = _checks.positive_int("batch_size", batch_size)
        self.schedule = schedule
        self._rng = _checks.generator(rng)
        self.horizon = None if horizon is None else _checks.nonneg_int("horizon", horizon)
        self.net = net.copy()
        # the kernel updates the stacked middle layers; the net's matrices are views of them
        self._Wm = np.stack(self.net.weights[1:-1])
        self.net.weights[1:-1] = list(self._Wm)
        self._block = max(1, (1 << 18) // (self.net.d * B))
        self._X = self._y = self._Y = None
        self._pos = self._len = 0
        self._target = 0
        # Weights are checked for finite entries (a pass over them) once per block
        # and at each planned target, not per advance call: at N = 1000 a step
        # costs a few such passes.  A failed check names the first step after the
        # last check that passed.
        self._checked = 0
        self.time = 0.0
        self.step_count = 0

    def plan(self, t_target):
        k = round(t_target / self.alpha)
        if k < self.step_count:
            raise ValueError(f"times: {t_target} lies before the current time {self.time}")
        self._target = k
        return k - self.step_count

    def _draw(self):
        k, m = self.step_count, self._block
        if self.horizon is not None and k < self.horizon:
            m = min(m, self.horizon - k)
        B = self.batch_size
        self._X, self._y = self.task.sample(m * B, self._rng)
        self._Y = _targets(self._y, self.net.d_out) if B == 1 else None
        self._pos, self._len = 0, m

    def _check(self):
        if not np.isfinite(self._Wm).all():
            raise DivergenceError(self._checked, self._checked * self.alpha)
        self._checked = self.step_count

    def advance(self, n):
        net, B, alpha = self.net, self.batch_size, self.alpha
        while n > 0:
            if self._pos == self._len:
                self._draw()
            k, p = self.step_count, self._pos
            m = min(n, self._len - p)
            s = alpha * (np.ones(m) if self.schedule is None else np.asarray(
                _checks.schedule_value(self.schedule, (k + np.arange(m)) * alpha), float))
            X = self._X[p * B:(p + m) * B]
            if B == 1:
                Y = self._Y[p:p + m]
                done = multilayer_sgd(net.weights[0], self._Wm, net.weights[-1],
                                      X.reshape(m, 1, net.d), Y.reshape(m, 1, net.d_out), s,
                                      net.act.kind, net.act.p)
                if done < m:
                    raise DivergenceError(k + done, (k + done) * alpha)
            else:
                y = self._y[p * B:(p + m) * B]
                with np.errstate(over="ignore", invalid="ignore"):
                    for j in range(m):
                        sgd_step(net, X[j * B:(j + 1) * B], y[j * B:(j + 1) * B], s[j])
            self._pos += m
            self.step_count += m
            self.time = self.step_count * alpha
            n -= m
            if self._pos == self._len or self.step_count == self._target:
                self._check()

    def snapshot(self):
        return self.net.copy()

    def risk(self):
        """``(mean, standard error)`` of the Monte Carlo risk."""
        return self.mc.risk(self.net)


def run_sgd(net, task, alpha, times, *, mc, batch_size=1, schedule=None, rng=0, progress=True):
    """Train a copy of ``net`` by eq. (4.3) on fresh samples of ``task``; snapshot at ``times``.

    Runs :class:`MultilayerSGD` through :func:`~meanfield.stepping.simulate`.

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

    Returns
    -------
    MultilayerRun

    Raises
    ------
    DivergenceError
        With ``.partial`` holding the snapshots so far.
    """
    alpha = _checks.positive("alpha", alpha)
    times = check_times(times)
    stepper = MultilayerSGD(net, task, alpha, mc=mc, batch_size=batch_size, schedule=schedule,
                            rng=rng, horizon=round(float(times[-1]) / alpha))
    cfg = {"alpha": alpha, "batch_size": stepper.batch_size, "N": stepper.net.N,
           "L": stepper.net.n_hidden}

    def collect(rows):
        t, k, nets, r = zip(*rows) if rows else ((),) * 4
        r, se = zip(*r) if rows else ((), ())
        return MultilayerRun(np.array(t), np.array(k, int), list(nets), np.array(r),
                             np.array(se), cfg)

    return simulate(stepper, times, progress=progress, desc=f"multilayer SGD N={stepper.net.N}",
                    collect=collect)
