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

import numpy as np

from .. import _checks
from ..stepping import DivergenceError, GridStepper, get_method, rk_step, simulate
from ..tasks.protocol import check_task


class ParticleLimit(GridStepper):
    """Particle discretisation of the distributional dynamics.

    Parameters
    ----------
    task : DataLaw
        A :class:`~meanfield.tasks.GaussianTask` or an
        :class:`~meanfield.tasks.EmpiricalTask` (whose field costs two products
        of size n x d x (M + N) per evaluation).
    a_ref, W_ref : array
        Reference population (M,), (M, d): an i.i.d. sample of rho_0.
    a_tag, W_tag : array, optional
        Tagged particles (N,), (N, d); they feel rho_t but not each other.
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

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (12)-(13): the distributional dynamics.
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, proof of Theorem 1: the
    nonlinear dynamics of the ideal particles.
    """

    def __init__(self, task, a_ref, W_ref, a_tag=None, W_tag=None, *, h=0.05, method="rk4",
                 schedule=None, train_a=True, temperature=0.0, rng=0):
        self.task = check_task(task)
        a_ref, W_ref = _checks.network(a_ref, W_ref, task.d, "ref_")
        if a_ref.size == 0:
            raise ValueError("M must be >= 1 (a_ref is empty)")
        if a_tag is None:
            a_tag, W_tag = np.empty(0), np.empty((0, task.d))
        a_tag, W_tag = _checks.network(a_tag, W_tag, task.d, "tag_")
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


def run_limit(task, a_ref, W_ref, times, a_tag=None, W_tag=None, *, progress=True, **kwargs):
    r"""Run :class:`ParticleLimit` and snapshot the tagged particles at ``times``.

    The particles follow the distributional dynamics of Mei, Montanari & Nguyen,

    .. math::

        \frac{\mathrm{d}\bar\theta_i}{\mathrm{d}t}
        = -2 \xi(t)\, \nabla_\theta \Psi(\bar\theta_i; \rho_t),
        \qquad \Psi(\theta; \rho) = V(\theta) + \int U(\theta, \theta')\, \rho(\mathrm{d}\theta'),

    with :math:`\rho_t` the empirical law of the reference population.

    Parameters
    ----------
    task : DataLaw
        A :class:`~meanfield.tasks.GaussianTask` or an :class:`~meanfield.tasks.EmpiricalTask`.
    a_ref, W_ref : numpy.ndarray
        The reference population (M,), (M, d): an i.i.d. sample of :math:`\rho_0`.
    times : array_like
        Non-decreasing snapshot times.
    a_tag, W_tag : numpy.ndarray, optional
        Tagged particles (N,), (N, d), moved by the same field (SGD's initial
        neurons, for the coupling).
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
    >>> lim = mf.run_limit(task, a_ref, W_ref, [0, 0.5, 1.0], h=0.05, progress=False)
    >>> lim.risk.round(4)
    array([0.3155, 0.1937, 0.11  ])
    >>> bool(np.isclose(lim.risk[0], task.risk(a_ref, W_ref)))   # R(rho_0) of the M particles
    True

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (12)-(13).
    """
    stepper = ParticleLimit(task, a_ref, W_ref, a_tag, W_tag, **kwargs)
    cfg = {"M": stepper.M, "h": stepper.h, "method": stepper.method.name,
           "train_a": stepper.train_a, "temperature": stepper.temperature}
    return simulate(stepper, times, progress=progress, desc=f"limit M={stepper.M}", config=cfg,
                    chunk_steps=1)
