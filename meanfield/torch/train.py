"""SGD in mean-field scaling for :class:`FullyConnectedNet` (Shevchenko & Mondelli, Section 5).

Every layer is trained.  The gradient of the mini-batch loss is multiplied by
N for the first and the last layer and by N^2 for the layers between (eqs. 3.3
and 4.3), so that each weight moves by O(alpha) per step whatever N is; time
is ``t = k alpha`` after k steps.  Two ways to choose alpha and the horizon:

* fixed horizon (the regime of eq. 3.3): alpha independent of N and a fixed
  number of steps, so ``T = steps * alpha`` is the same for every N;
* the paper's Section 5: ``alpha = alpha0 / N`` and ``k0 * N`` epochs
  (:meth:`TrainConfig.paper`), so that ``k0 * alpha0`` is fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _checks
from ..stepping import DivergenceError, Stepper, simulate
from .losses import as_targets, check_loss, per_sample


class DataStream:
    """Mini-batches from a finite training set: a fresh seeded permutation every epoch.

    The whole set moves to the device once; batches are index views.  A
    trailing partial batch of an epoch is dropped, so every step averages over
    ``batch_size`` samples.  ``X`` and ``y`` may be numpy arrays or tensors (a
    tensor already on ``device`` is not copied through the host).
    """

    def __init__(self, X, y, batch_size=100, seed=0, device="cpu", dtype=torch.float32):
        self.X = torch.as_tensor(X if torch.is_tensor(X) else np.asarray(X), dtype=dtype,
                                 device=device)
        self.y = as_targets(y, device, dtype)
        if self.X.ndim != 2 or len(self.y) != len(self.X):
            raise ValueError(f"X must have shape (n, d) and y shape (n,), got {tuple(self.X.shape)}"
                             f" and {tuple(self.y.shape)}")
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        if self.batch_size > len(self.X):
            raise ValueError(f"batch_size must be at most the {len(self.X)} training samples, "
                             f"got {batch_size}")
        self.per_epoch = len(self.X) // self.batch_size
        self._rng = _checks.generator(seed)
        self._order = None
        self._pos = self.per_epoch

    @property
    def device(self):
        return self.X.device

    @property
    def dtype(self):
        return self.X.dtype

    def to(self, device, dtype):
        """Move the set to ``device`` and real data to ``dtype``, in place, once (the order of
        the batches is kept); returns the stream."""
        self.X = self.X.to(device=device, dtype=dtype)
        self.y = self.y.to(device=device, dtype=dtype if self.y.is_floating_point() else None)
        if self._order is not None:
            self._order = self._order.to(device)
        return self

    def steps_for(self, epochs):
        return int(round(epochs * self.per_epoch))

    def next(self):
        if self._pos == self.per_epoch:
            perm = self._rng.permutation(len(self.X))
            self._order = torch.as_tensor(perm, device=self.X.device)
            self._pos = 0
        idx = self._order[self._pos * self.batch_size:(self._pos + 1) * self.batch_size]
        self._pos += 1
        return self.X[idx], self.y[idx]


class TaskStream:
    """One-pass mini-batches drawn fresh from a task of :mod:`meanfield.tasks`.

    Draws exactly the samples, in the same order, that the numba core's
    :class:`~meanfield.twolayer.TwoLayerSGD` draws from the same ``rng``, so the two
    backends can be compared step by step.
    """

    def __init__(self, task, batch_size=1, rng=0, device="cpu", dtype=torch.float64):
        self.task = task
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        self._rng = _checks.spawn(rng, 2)[0]
        self._block = max(1, (1 << 20) // (task.d * self.batch_size))
        self._device, self._dtype = device, dtype
        self._pos = self._n = 0
        self.per_epoch = None

    @property
    def device(self):
        return torch.device(self._device)

    @property
    def dtype(self):
        return self._dtype

    def to(self, device, dtype):
        """Draw onto ``device`` in ``dtype`` from now on (a block already drawn moves once);
        the samples are the same.  Returns the stream."""
        self._device, self._dtype = torch.device(device), dtype
        if self._n:
            self._X = self._X.to(device=device, dtype=dtype)
            self._y = self._y.to(device=device, dtype=dtype)
        return self

    def steps_for(self, epochs):
        raise ValueError("a one-pass task stream has no epochs; give TrainConfig.steps")

    def next(self):
        if self._pos == self._n:
            X, y = self.task.sample(self._block * self.batch_size, self._rng)
            self._X = torch.as_tensor(X, dtype=self._dtype, device=self._device)
            self._y = torch.as_tensor(y, dtype=self._dtype, device=self._device)
            self._pos, self._n = 0, self._block
        B = self.batch_size
        sl = slice(self._pos * B, (self._pos + 1) * B)
        self._pos += 1
        return self._X[sl], self._y[sl]


@dataclass
class TrainConfig:
    """How to train.

    Attributes
    ----------
    alpha : float
        Step size; time after k steps is ``k * alpha``.
    steps : int, optional
        Number of SGD steps.  Give this or ``epochs``.
    epochs : float, optional
        Passes over a :class:`DataStream` (``steps = round(epochs * n // batch)``).
    loss : str
        ``cross_entropy`` or ``square``.
    snapshots : tuple of float
        Fractions of the run, in [0, 1], at which the callback runs and the
        weights are kept.
    schedule : callable, optional
        ``xi(t)``; the step is ``alpha * xi(k alpha)`` (assumption A1).
    check_every : int
        Steps between checks that the loss is finite (each check waits for
        the device).
    """

    alpha: float
    steps: int | None = None
    epochs: float | None = None
    loss: str = "cross_entropy"
    snapshots: tuple = (0.0, 1.0)
    schedule: object = None
    check_every: int = 50

    def __post_init__(self):
        _checks.positive("alpha", self.alpha)
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps and epochs")
        if self.steps is not None:
            _checks.nonneg_int("steps", self.steps)
        else:
            _checks.nonneg("epochs", self.epochs)
        check_loss(self.loss)
        fr = np.asarray(self.snapshots, dtype=float)
        if fr.ndim != 1 or fr.size == 0 or not np.all((fr >= 0) & (fr <= 1)):
            raise ValueError(f"snapshots must be fractions in [0, 1], got {self.snapshots!r}")
        self.snapshots = tuple(sorted(set(float(f) for f in fr)))
        _checks.positive_int("check_every", self.check_every)

    @classmethod
    def paper(cls, N, alpha0, k0, **kw):
        """Section 5: ``alpha = alpha0 / N`` for ``k0 * N`` epochs."""
        N = _checks.positive_int("N", N)
        return cls(alpha=_checks.positive("alpha0", alpha0) / N,
                   epochs=_checks.positive("k0", k0) * N, **kw)


@dataclass
class TrainResult:
    """What :func:`train` keeps.

    Attributes
    ----------
    times, steps : numpy.ndarray
        Time ``k alpha`` and step k of each snapshot.
    fractions : numpy.ndarray
        The requested fraction of the run of each snapshot.
    states : list of list of numpy.ndarray
        Weights at each snapshot (float64 copies), if kept.
    records : list
        What the callback returned at each snapshot.
    train_loss : numpy.ndarray
        Mean mini-batch loss between consecutive snapshots (NaN before the first).
    """

    times: np.ndarray
    steps: np.ndarray
    fractions: np.ndarray
    states: list = field(default_factory=list)
    records: list = field(default_factory=list)
    train_loss: np.ndarray = None
    config: dict = field(default_factory=dict)


class TorchSGD(Stepper):
    """SGD in mean-field scaling on a :class:`FullyConnectedNet`, in place, as a :class:`Stepper`.

    Time is ``k alpha`` after k steps.  A snapshot is ``(fraction, train_loss,
    weights, record)``: the mean mini-batch loss since the previous snapshot
    (NaN when no step was taken), a float64 copy of the weights (None unless
    ``keep_states``) and what ``callback`` returned (None without one).
    There is no risk: the loss is checked every ``config.check_every`` steps
    (each check waits for the device) and the weights at each snapshot.

    Parameters
    ----------
    net : FullyConnectedNet
    stream : DataStream or TaskStream
        On the net's device and dtype.
    config : TrainConfig
        ``alpha``, ``loss``, ``schedule`` and ``check_every`` are used here.
    callback : callable, optional
        ``callback(net, fraction, t, step) -> object`` at each snapshot, under
        ``torch.no_grad``.
    keep_states : bool
    fractions : sequence of float, optional
        What each snapshot, in order, passes as ``fraction`` (None without).
    """

    compiles = False

    def __init__(self, net, stream, config, *, callback=None, keep_states=False,
                 fractions=None):
        self.net, self.stream, self.config = net, stream, config
        self.callback = callback
        self.keep_states = bool(keep_states)
        self.fractions = fractions
        self._scales = net.scales()
        self._opt = torch.optim.SGD([{"params": [w], "lr": config.alpha * s}
                                     for w, s in zip(net.weights, self._scales)], lr=config.alpha)
        # the loss summed on the device since the last snapshot: reading it waits for the device
        self._sum = torch.zeros((), dtype=torch.float64, device=net.device)
        self._n = 0
        self._snaps = 0
        self.time = 0.0
        self.step_count = 0

    def plan(self, t_target):
        k = round(t_target / self.config.alpha)
        if k < self.step_count:
            raise ValueError(f"times: {t_target} lies before the current time {self.time}")
        return k - self.step_count

    def advance(self, n):
        cfg, opt, net = self.config, self._opt, self.net
        for _ in range(n):
            k = self.step_count
            if cfg.schedule is not None:
                xi = float(_checks.schedule_value(cfg.schedule, np.array([k * cfg.alpha]))[0])
                for g, s in zip(opt.param_groups, self._scales):
                    g["lr"] = cfg.alpha * xi * s
            xb, yb = self.stream.next()
            opt.zero_grad(set_to_none=True)
            loss = per_sample(net(xb), yb, cfg.loss).mean()
            loss.backward()
            opt.step()
            self._sum += loss.detach()
            self._n += 1
            self.step_count = k + 1
            self.time = self.step_count * cfg.alpha
            # on a fixed grid of steps, whatever the snapshots and advance calls
            if self.step_count % cfg.check_every == 0 and not math.isfinite(float(self._sum)):
                k0 = self.step_count - self._n  # the first step since the last snapshot
                raise DivergenceError(k0, k0 * cfg.alpha)

    def snapshot(self):
        k, net = self.step_count, self.net
        t = k * self.config.alpha
        with torch.no_grad():
            ok = all(bool(torch.isfinite(w).all()) for w in net.weights)
        if not ok:
            raise DivergenceError(k, t)
        loss = float(self._sum) / self._n if self._n else math.nan
        self._sum.zero_()
        self._n = 0
        fr = None if self.fractions is None else float(self.fractions[self._snaps])
        self._snaps += 1
        weights = net.numpy_weights() if self.keep_states else None
        record = None
        if self.callback is not None:
            with torch.no_grad():
                record = self.callback(net, fr, t, k)
        return fr, loss, weights, record

    def risk(self):
        return None


def train(net, stream, config, callback=None, keep_states=False, progress=True):
    """Train ``net`` in place by SGD in mean-field scaling.

    Runs :class:`TorchSGD` through :func:`~meanfield.stepping.simulate`.

    Parameters
    ----------
    net : FullyConnectedNet
    stream : DataStream or TaskStream
        Source of mini-batches.  A stream on another device than the net's, or
        with real data in another dtype, is moved there once, in place (see
        ``stream.to``), so that no step copies a batch.
    config : TrainConfig
    callback : callable, optional
        ``callback(net, fraction, t, step) -> object`` at each snapshot, under
        ``torch.no_grad``; the results are kept in ``records``.
    keep_states : bool
        Keep a float64 copy of the weights at each snapshot.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    TrainResult

    Raises
    ------
    DivergenceError
        On a non-finite loss or weight, with ``.partial`` holding the
        snapshots taken so far.
    """
    n = config.steps if config.steps is not None else stream.steps_for(config.epochs)
    if hasattr(stream, "to") and (stream.device != net.device or stream.dtype != net.dtype):
        stream.to(net.device, net.dtype)
    fr = np.asarray(config.snapshots)
    snap_steps = np.round(fr * n).astype(int)
    stepper = TorchSGD(net, stream, config, callback=callback, keep_states=keep_states,
                       fractions=fr)
    cfg = {"alpha": config.alpha, "steps": n, "loss": config.loss,
           "batch_size": stream.batch_size, "N": net.N, "depth": net.depth}

    def collect(rows):
        frs, losses, states, records = zip(*(r.state for r in rows)) if rows else ((),) * 4
        return TrainResult(np.array([r.time for r in rows], dtype=float),
                           np.array([r.step for r in rows], dtype=int),
                           np.array(frs, dtype=float),
                           list(states) if keep_states else [],
                           list(records) if callback is not None else [],
                           np.array(losses) if rows else None, cfg)

    # all n steps are taken even when the last snapshot comes before them
    return simulate(stepper, snap_steps * config.alpha, progress=progress,
                    desc=f"SGD N={net.N} depth={net.depth}", collect=collect,
                    until=n * config.alpha)
