"""Ideal particles of the mean-field limit .

A reference population of M particles carries ``rho_t``; tagged particles
ride the same field:

    d theta / dt = -2 xi(t) grad Psi(theta; rho_t),
    Psi(theta; rho) = V(theta) + int U(theta, theta') rho(d theta')

(Mei, Montanari & Nguyen 2018 eq. (12)-(13); the nonlinear dynamics of
Shevchenko & Mondelli's proof of Theorem 1).  Tagged particles started at
SGD's ``theta_i^0`` are the coupled i.i.d. particles ``thetabar_i``.  Errors:
O(1/sqrt(M)) from the population and O(h^p) from the integrator (Euler
p = 1, Heun p = 2, RK4 p = 4).
"""

from __future__ import annotations

import math

import inspect

import numpy as np

from .. import _checks
from .._deprecation import bind_form, warn_renamed
from ..stepping import DivergenceError, GridStepper, get_method, rk_step, simulate
from ..tasks.protocol import check_task
from .sgd import initial_weights, is_net


class ParticleLimit(GridStepper):
    """Particle discretisation of the distributional dynamics.

    The argument order of :class:`~meanfield.twolayer.TwoLayerSGD`: the net (here
    the reference population), then the task.

    Parameters
    ----------
    net : TwoLayerNet or tuple (a_ref, W_ref)
        Reference population, shapes (M,), (M, d): an i.i.d. sample of rho_0
        (e.g. ``InitialLaw().sample(M, d, rng)``).
    task : DataLaw
        A :class:`~meanfield.tasks.GaussianTask` or an
        :class:`~meanfield.tasks.EmpiricalTask` (whose field costs two products
        of size n x d x (M + N) per evaluation).
    tagged : TwoLayerNet or tuple (a_tag, W_tag), optional
        Tagged particles, shapes (N,), (N, d); they feel rho_t but not each other.
    h : float
        Time step.  The state steps on the grid ``t_k = k h`` whatever the
        snapshot times; a snapshot between grid points is a partial step
        from the last one, taken on a copy, so results do not depend on
        where snapshots are taken.
    method : {'euler', 'heun', 'rk4'}
    schedule : callable, optional
        ``xi(t)``; default 1.
    train_a : bool
        False freezes the output weights.
    temperature : float
        ``tau > 0`` adds ``sqrt(4 xi tau) dB`` (the limit of noisy SGD);
        requires method 'euler' (Euler-Maruyama).
    rng : Generator or int
        Brownian increments (only used when temperature > 0).

    Notes
    -----
    The former call ``ParticleLimit(task, a_ref, W_ref, a_tag=None, W_tag=None, ...)``
    still works for one release, with a DeprecationWarning.

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (12)-(13): the distributional dynamics.
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, proof of Theorem 1: the
    nonlinear dynamics of the ideal particles.
    """

    def __init__(self, *args, **kwargs):
        net, task, tagged = _limit_arguments("ParticleLimit", _STEPPER_FORMS, args, kwargs)
        self._setup(net, task, tagged, **kwargs)

    def _setup(self, net, task, tagged=None, *, h=0.05, method="rk4", schedule=None, train_a=True,
               temperature=0.0, rng=0):
        self.task = check_task(task)
        a_ref, W_ref = initial_weights(net, task.d, "ref_")
        if a_ref.size == 0:
            raise ValueError("M must be >= 1 (a_ref is empty)")
        if tagged is None:
            tagged = np.empty(0), np.empty((0, task.d))
        a_tag, W_tag = initial_weights(tagged, task.d, "tag_", "tagged")
        self.M = a_ref.size
        self.state = (np.concatenate([a_ref, a_tag]), np.concatenate([W_ref, W_tag]))
        self.h = _checks.positive("h", h)
        self.method = get_method(method)
        self.schedule = schedule
        self.train_a = bool(train_a)
        self.temperature = _checks.nonneg("temperature", temperature)
        if self.temperature > 0 and self.method.name != "euler":
            raise ValueError("method must be 'euler' when temperature > 0 (Euler-Maruyama)")
        # Child 0 is the grid's Brownian stream (the same as spawn(rng, 1)
        # gave); child 1 seeds the partial steps to off-grid snapshots, one
        # stream per grid step, so they leave the grid's stream untouched.
        self._rng, off = _checks.spawn(rng, 2)
        self._off_seed = off.bit_generator.seed_seq
        self.time = 0.0
        self.step_count = 0

    def _xi(self, t):
        return float(_checks.schedule_value(self.schedule, t))

    def field(self, t, state):
        """``-2 xi(t) grad Psi(theta; rho)`` for every particle, rho = reference rows."""
        A, W = state
        M = self.M
        # the state was checked at construction; an RK stage that left the finite range
        # is a divergence, not a bad input
        if not (np.isfinite(A).all() and np.isfinite(W).all()):
            raise DivergenceError(self.step_count, self.time)
        _, ga, gW = self.task._grad_psi(A, W, A[:M], W[:M])
        f = -2.0 * self._xi(t)
        return (f * ga if self.train_a else np.zeros_like(A)), f * gW

    def step(self, t, dt, partial):
        rng = self._rng
        if partial:  # its own stream per grid step: the grid's stream stays untouched
            seed = np.random.SeedSequence(self._off_seed.entropy,
                                          spawn_key=(*self._off_seed.spawn_key, self.step_count))
            rng = np.random.default_rng(seed)
        A, W = rk_step(self.method, self.field, t, self.state, dt)
        if self.temperature > 0:
            s = math.sqrt(4.0 * self._xi(t) * self.temperature * dt)
            if self.train_a:
                A = A + s * rng.standard_normal(A.shape)
            W = W + s * rng.standard_normal(W.shape)
        if not (np.isfinite(A).all() and np.isfinite(W).all()):
            raise DivergenceError(self.step_count, self.time)
        return A, W

    def snapshot(self):
        A, W = self.current()
        return A[self.M:].copy(), W[self.M:].copy()

    def population(self):
        """Copies of the reference population ``(a, W)`` at the current time."""
        A, W = self.current()
        return A[: self.M].copy(), W[: self.M].copy()

    def risk(self):
        """``R(rho_t)`` with rho_t the reference population's empirical law
        (its diagonal adds an O(1/M) bias; fluctuations are O(1/sqrt(M)))."""
        A, W = self.current()
        return self.task._risk(A[: self.M], W[: self.M])


#: The call forms ``(new, former)`` of ParticleLimit and of run_limit.
_STEPPER_FORMS = (("net", "task", "tagged"), ("task", "a_ref", "W_ref", "a_tag", "W_tag"))
_RUN_FORMS = (("net", "task", "times", "tagged"),
              ("task", "a_ref", "W_ref", "times", "a_tag", "W_tag"))


def _limit_arguments(name, forms, args, kwargs):
    """``net, task, tagged`` (and ``times`` for run_limit) of a call in the new form, net
    first, or the former one, task first (with a DeprecationWarning); ``kwargs`` keeps
    the rest."""
    new, former = forms
    old = "a_ref" in kwargs or (bool(args) and "net" not in kwargs and not is_net(args[0]))
    names = former if old else new
    bound = bind_form(name, names, args, kwargs,
                      required=[k for k in names if k not in ("tagged", "a_tag", "W_tag")])
    if old:
        tag = [k for k in ("a_tag", "W_tag") if bound.get(k) is not None]
        if len(tag) == 1:
            raise TypeError(f"{name}: give both a_tag and W_tag, or neither")
        new_call = f"{name}((a_ref, W_ref), task{', times' if 'times' in names else ''}"
        warn_renamed(f"meanfield.twolayer.{name}(task, a_ref, W_ref"
                     f"{', times' if 'times' in names else ''}, a_tag, W_tag)",
                     f"{new_call}, tagged=(a_tag, W_tag))", stacklevel=4)
        bound["net"] = bound["a_ref"], bound["W_ref"]
        bound["tagged"] = (bound["a_tag"], bound["W_tag"]) if tag else None
    out = bound["net"], bound["task"], bound.get("tagged")
    return (*out, bound["times"]) if "times" in names else out


def run_limit(*args, progress=True, **kwargs):
    r"""Run :class:`ParticleLimit` from the reference population ``net`` on ``task``;
    snapshot the tagged particles at ``times``.

    The argument order of :func:`~meanfield.twolayer.run_sgd`: the net, the
    data, then the snapshot times.

    The particles follow the distributional dynamics of Mei, Montanari & Nguyen,

    .. math::

        \frac{\mathrm{d}\bar\theta_i}{\mathrm{d}t}
        = -2 \xi(t)\, \nabla_\theta \Psi(\bar\theta_i; \rho_t),
        \qquad \Psi(\theta; \rho) = V(\theta) + \int U(\theta, \theta')\, \rho(\mathrm{d}\theta'),

    with :math:`\rho_t` the empirical law of the reference population.

    Parameters
    ----------
    net : TwoLayerNet or tuple (a_ref, W_ref)
        The reference population, shapes (M,), (M, d): an i.i.d. sample of
        :math:`\rho_0`.
    task : DataLaw
        A :class:`~meanfield.tasks.GaussianTask` or an :class:`~meanfield.tasks.EmpiricalTask`.
    times : array_like
        Non-decreasing snapshot times.
    tagged : TwoLayerNet or tuple (a_tag, W_tag), optional
        Tagged particles, shapes (N,), (N, d), moved by the same field (SGD's
        initial neurons, for the coupling).
    progress : bool
        Progress bar.
    **kwargs
        ``h``, ``method``, ``schedule``, ``train_a``, ``temperature``, ``rng`` of
        :class:`ParticleLimit`.

    Returns
    -------
    TwoLayerRun
        The tagged particles at ``times`` (``a``, ``W``), and ``risk``:
        :math:`R(\rho_t)` from the reference population (the risk of the M-neuron
        net, so it carries that net's O(1/M) diagonal term).

    Examples
    --------
    >>> import numpy as np
    >>> import meanfield as mf
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> a_ref, W_ref = mf.InitialLaw().sample(200, task.d, np.random.default_rng(0))
    >>> lim = mf.run_limit((a_ref, W_ref), task, [0, 0.5, 1.0], h=0.05, progress=False)
    >>> lim.risk.round(4)
    array([0.3155, 0.1937, 0.11  ])
    >>> bool(np.isclose(lim.risk[0], task.risk(a_ref, W_ref)))   # R(rho_0) of the M particles
    True

    Notes
    -----
    The former call ``run_limit(task, a_ref, W_ref, times, a_tag=None, W_tag=None, ...)``
    still works for one release, with a DeprecationWarning.

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (12)-(13).
    """
    net, task, tagged, times = _limit_arguments("run_limit", _RUN_FORMS, args, kwargs)
    stepper = ParticleLimit(net, task, tagged, **kwargs)
    cfg = {"M": stepper.M, "h": stepper.h, "method": stepper.method.name,
           "train_a": stepper.train_a, "temperature": stepper.temperature}
    return simulate(stepper, times, progress=progress, desc=f"limit M={stepper.M}", config=cfg,
                    chunk_steps=1)


# what help() and the docs show: the new forms (the former ones are read by _limit_arguments)
ParticleLimit.__init__.__signature__ = inspect.signature(ParticleLimit._setup)
run_limit.__signature__ = inspect.Signature(
    [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in _RUN_FORMS[0][:3]]
    + [inspect.Parameter("tagged", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
       inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=True),
       inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])
