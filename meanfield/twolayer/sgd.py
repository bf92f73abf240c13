"""One-pass SGD of Shevchenko & Mondelli eq. (3.3) as a :class:`Stepper`."""

from __future__ import annotations

import inspect

import numpy as np

from .. import _checks
from .._deprecation import bind_form, warn_renamed
from ..kernels import sgd as k_sgd
from ..stepping import DivergenceError, Stepper, simulate
from ..tasks.protocol import check_task


def step_sizes(alpha, schedule, k0, n):
    """``s_k = alpha * xi(k alpha)`` for ``k = k0 .. k0 + n - 1`` (assumption (A1))."""
    if schedule is None:
        return np.full(n, alpha)
    xi = _checks.schedule_value(schedule, (k0 + np.arange(n)) * alpha)
    return alpha * np.ascontiguousarray(xi)


def initial_weights(net, d, prefix="0", name="net"):
    """``(a, W)`` of ``net``: a :class:`~meanfield.twolayer.TwoLayerNet` or a pair
    ``(a, W)`` (what :meth:`InitialLaw.sample` returns), checked against dimension ``d``
    (errors name the arrays ``{prefix}a`` / ``{prefix}W`` and the argument ``name``)."""
    from .dropout import TwoLayerNet

    if isinstance(net, TwoLayerNet):
        net = net.a, net.W
    if not isinstance(net, (tuple, list)) or len(net) != 2:
        raise ValueError(f"{name} must be a TwoLayerNet or a pair (a, W) of weight arrays, "
                         f"got {type(net).__name__}")
    return _checks.network(net[0], net[1], d, prefix)


def is_net(obj):
    """Whether ``obj`` is a net of the two-layer call forms (a TwoLayerNet or a pair): what
    tells the new call forms, net first, from the former ones, task first."""
    from .dropout import TwoLayerNet

    return isinstance(obj, (TwoLayerNet, tuple, list))


class TwoLayerSGD(Stepper):
    """One-pass SGD for ``yhat = (1/N) sum_i a_i sigma(<w_i, x>)``.

    ``theta_i <- theta_i + (2 s_k / B) sum_b (y_b - yhat(x_b)) grad[a_i sigma(<w_i, x_b>)]``
    with ``s_k = alpha xi(k alpha)`` (eq. (3.3); time ``t = k alpha``),
    optionally plus ``sqrt(4 s_k tau) N(0, I)`` (noisy SGD at temperature
    ``tau``, whose limit adds ``2 xi tau Laplacian(rho)`` to the PDE).

    The two-layer counterpart of :class:`meanfield.multilayer.sgd.MultilayerSGD`
    and :class:`meanfield.torch.train.TorchSGD`, with their argument order
    ``(net, task, alpha)``; ``SGD(task, a0, W0, alpha)`` is its former name.

    Parameters
    ----------
    net : TwoLayerNet or tuple (a0, W0)
        Initial weights, shapes (N,) and (N, d); copied.
    task : DataLaw
        Data distribution (sampled) and exact risk (snapshots): a
        :class:`~meanfield.tasks.GaussianTask`, or an
        :class:`~meanfield.tasks.EmpiricalTask` (samples drawn uniformly with
        replacement from its data set).
    alpha : float
        Step-size scale, > 0.
    schedule : callable, optional
        ``xi(t) >= 0``, vectorised or scalar; default 1.
    batch_size : int
        Samples per step (the update averages over them).
    temperature : float
        Noise level tau >= 0.
    train_a : bool
        False freezes the output weights.
    rng : Generator or int
        Seeds two independent streams: data and noise.  The data stream is
        consumed in fixed blocks, so trajectories do not depend on where
        snapshots are taken.

    References
    ----------
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, eq. (3.3) and assumption (A1).
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, noisy SGD (temperature tau).
    """

    def __init__(self, net, task, alpha, *, schedule=None, batch_size=1, temperature=0.0,
                 train_a=True, rng=0):
        self.task = check_task(task)
        a0, W0 = initial_weights(net, task.d)
        if a0.size == 0:
            raise ValueError("N must be >= 1 (a0 is empty)")
        self.a = a0.copy()
        self.W = W0.copy()
        self.alpha = _checks.positive("alpha", alpha)
        self.schedule = schedule
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        self.temperature = _checks.nonneg("temperature", temperature)
        self.train_a = bool(train_a)
        self._data_rng, self._noise_rng = _checks.spawn(rng, 2)
        N, d = self.W.shape
        self._block = max(1, (1 << 20) // (d * self.batch_size))
        self._X = np.empty((0, d))
        self._Y = np.empty(0)
        self._pos = 0
        self._kernel = k_sgd.choose(N, d, self.batch_size, self.temperature,
                                    self.task.activation.kind)
        self.time = 0.0
        self.step_count = 0

    def plan(self, t_target):
        k = int(round(t_target / self.alpha))
        if k < self.step_count:
            raise ValueError(f"times: {t_target} lies before the current time {self.time}")
        return k - self.step_count

    def advance(self, n):
        B = self.batch_size
        while n > 0:
            if self._pos == self._Y.size // B:
                self._X, self._Y = self.task.sample(self._block * B, self._data_rng)
                self._pos = 0
            m = min(n, self._Y.size // B - self._pos)
            X = self._X[self._pos * B:(self._pos + m) * B]
            Y = self._Y[self._pos * B:(self._pos + m) * B]
            s = step_sizes(self.alpha, self.schedule, self.step_count, m)
            act = self.task.activation
            done = self._kernel(self.a, self.W, X, Y, s, B, act.kind, act.p, self.train_a,
                                self.temperature, self._noise_rng)
            self.step_count += done
            self.time = self.step_count * self.alpha
            self._pos += done
            n -= done
            if done < m or not (np.isfinite(self.a).all() and np.isfinite(self.W).all()):
                raise DivergenceError(self.step_count, self.time)

    def snapshot(self):
        return self.a.copy(), self.W.copy()

    def risk(self):
        return self.task.risk(self.a, self.W)


class SGD(TwoLayerSGD):
    """Deprecated form of :class:`TwoLayerSGD`: ``SGD(task, a0, W0, alpha, ...)`` is
    ``TwoLayerSGD((a0, W0), task, alpha, ...)`` (removed in 0.3).

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (3.3).
    """

    def __init__(self, task, a0, W0, alpha, **kwargs):
        warn_renamed("meanfield.twolayer.SGD(task, a0, W0, alpha)",
                     "meanfield.twolayer.TwoLayerSGD((a0, W0), task, alpha)")
        super().__init__((a0, W0), task, alpha, **kwargs)


_NEW_FORM = ("net", "task", "alpha", "times")
_OLD_FORM = ("task", "a0", "W0", "alpha", "times")


def _sgd_arguments(args, kwargs):
    """``net, task, alpha, times`` of a :func:`run_sgd` call, in the new form or the former
    ``(task, a0, W0, alpha, times)`` (with a DeprecationWarning); ``kwargs`` keeps the rest."""
    old = "a0" in kwargs or (bool(args) and "net" not in kwargs and not is_net(args[0]))
    bound = bind_form("run_sgd", _OLD_FORM if old else _NEW_FORM, args, kwargs)
    if old:
        warn_renamed("meanfield.twolayer.run_sgd(task, a0, W0, alpha, times)",
                     "run_sgd((a0, W0), task, alpha, times)", stacklevel=4)
        return (bound["a0"], bound["W0"]), bound["task"], bound["alpha"], bound["times"]
    return bound["net"], bound["task"], bound["alpha"], bound["times"]


def run_sgd(*args, progress=True, **kwargs):
    """Run :class:`TwoLayerSGD` from ``net`` on ``task``; snapshot at ``times`` (rounded to
    multiples of alpha).

    The signature of :func:`meanfield.multilayer.run_sgd`: the initial net, the
    data, the step scale, the snapshot times.

    Parameters
    ----------
    net : TwoLayerNet or tuple (a0, W0)
        Initial weights (not modified), e.g. ``InitialLaw().sample(N, d, rng)``.
    task : DataLaw
    alpha : float
        Step-size scale.
    times : array_like
        Non-decreasing snapshot times.
    progress : bool
    **kwargs
        ``schedule``, ``batch_size``, ``temperature``, ``train_a``, ``rng`` of
        :class:`TwoLayerSGD`.

    Returns
    -------
    TwoLayerRun
        Its ``risk`` is the exact ``L_N(theta^k)``.

    Raises
    ------
    DivergenceError
        With the snapshots so far.

    Notes
    -----
    The former call ``run_sgd(task, a0, W0, alpha, times, ...)`` still works
    for one release, with a DeprecationWarning.

    References
    ----------
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, eq. (3.3).
    """
    net, task, alpha, times = _sgd_arguments(args, kwargs)
    stepper = TwoLayerSGD(net, task, alpha, **kwargs)
    cfg = {"alpha": stepper.alpha, "batch_size": stepper.batch_size,
           "temperature": stepper.temperature, "train_a": stepper.train_a, "N": stepper.a.size}
    return simulate(stepper, times, progress=progress, desc=f"SGD N={stepper.a.size}",
                    config=cfg)


run_sgd.__signature__ = inspect.Signature(
    [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in _NEW_FORM]
    + [inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=True),
       inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])
