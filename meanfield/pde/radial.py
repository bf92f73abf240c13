"""The radial PDE of the mean-field dynamics for isotropic data (Mei, Montanari & Nguyen,
PNAS 2018, Section 3).

For a task whose inputs are isotropic Gaussians on every mixture component
(``x | k ~ N(0, s_k^2 I_d)`` with label ``l_k``, no teacher; e.g. Mei,
Montanari & Nguyen's classification task :func:`meanfield.tasks.isotropic_gaussians`),
frozen output weights ``a_i = a`` and a rotation-invariant initial law, rho_t
stays rotation invariant and is carried by the law of ``r = |w|``:

    d rho_t(r)/dt = 2 xi(t) d/dr ( rho_t(r) d/dr psi(r; rho_t) ),
    psi(r; rho) = v(r) + int u(r, r') rho(dr'),

with ``v(r) = -a sum_k pi_k l_k E[sigma(s_k r g)]`` (V of eq. (8) of Mei et al.
depends on w through |w| alone) and ``u`` the average of U over the angle
between two uniform directions: by :mod:`meanfield.pde.hermite`,
``u(r, r') = F(r) . F(r')`` with features
``F_(k,j)(r) = a sqrt(pi_k m_j) c_j(s_k r)`` (even j up to the truncation K).
The risk is ``R(rho) = E[y^2] + 2 int v drho + |int F drho|^2``.

Scheme: the monotone quantile map.  A particle's radius moves with velocity
``-2 xi(t) psi'(r; rho_t)``, a function of r alone, so the flow keeps the
order of radii and the quantile function ``X(p, t)`` of rho_t obeys the same
ODE at every p.  It is discretised at the M midpoints ``p_j = (j - 1/2) / M``
(each carrying mass 1/M: mass is conserved exactly), integrals against rho_t
become the midpoint rule in p (error O(M^-2) when X(., t) is smooth on
[0, 1], as for laws with compact support), and time is integrated by an
explicit Runge-Kutta method (RK4 by default, O(h^4)).  The cost per step is
O(M K) with no pairwise sum.  Radii are kept >= 0 (a radius reaching 0 is
reflected, as |w| is when w passes through the origin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .. import _checks
from ..stepping import (
    DivergenceError,
    GridStepper,
    check_times,
    get_method,
    rk_step,
    simulate,
)
from .hermite import hermite_coefficients, sphere_moments, truncation


def isotropic_components(task):
    """``(pi_k, s_k, l_k)`` of a task whose mixture components are all isotropic."""
    scales = getattr(task, "scales", None)
    if scales is None or any(s is None for s in scales) or task.teacher is not None:
        raise ValueError("the radial PDE needs a task whose components are all isotropic "
                         "Gaussians (covariance s^2 I) without a teacher, e.g. "
                         f"isotropic_gaussians; got {task!r}")
    return np.asarray(task.weights), np.asarray(scales, dtype=float), np.asarray(task.labels)


class RadialKernel:
    """``v``, ``psi'`` and the risk of a rotation-invariant law of radii (module docstring).

    Parameters
    ----------
    task : GaussianTask
        Isotropic components only (:func:`isotropic_components`).
    a : float
        The frozen output weight of every neuron.
    tol : float
        Truncation of the angle expansion: the first left-out moment
        ``m_(K+2)`` is at most ``tol`` (the kernel's error is at most
        ``tol E[sigma(s r g)^2]``), K at most ``k_max``.
    """

    def __init__(self, task, a=1.0, tol=1e-14, k_max=400, quad_order=200):
        self.task = task
        self.pi, self.s, self.labels = isotropic_components(task)
        self.a = float(a)
        if not math.isfinite(self.a):
            raise ValueError(f"a must be a finite number, got {a!r}")
        self.K, self.tail = truncation(task.d, tol, k_max)
        m = sphere_moments(task.d, self.K)
        self._even = np.arange(0, self.K + 1, 2)
        self._w = np.sqrt(m[self._even])
        self.quad_order = quad_order
        self.ey2 = task.ey2

    def _coeffs(self, r):
        """Per component: c_j(s r) and s c_j'(s r) for the even j kept."""
        out = []
        for s in self.s:
            C, dC = hermite_coefficients(self.task.activation, s * r, self.K, self.quad_order)
            out.append((C[:, self._even], s * dC[:, self._even]))
        return out

    def features(self, r):
        """``F(r)``, ``F'(r)`` and ``v(r)``, ``v'(r)`` at radii r (shapes (n, n_feat), (n,))."""
        r = np.asarray(r, dtype=np.float64)
        F, dF = [], []
        v = np.zeros(r.shape)
        dv = np.zeros(r.shape)
        for pk, lk, (C, dC) in zip(self.pi, self.labels, self._coeffs(r)):
            w = self.a * math.sqrt(pk) * self._w
            F.append(C * w)
            dF.append(dC * w)
            v -= self.a * pk * lk * C[:, 0]
            dv -= self.a * pk * lk * dC[:, 0]
        return np.hstack(F), np.hstack(dF), v, dv

    def u(self, r, r2):
        """The rotation-averaged kernel ``u(r_i, r2_j)``, shape (len(r), len(r2))."""
        return self.features(np.atleast_1d(r))[0] @ self.features(np.atleast_1d(r2))[0].T

    def v(self, r):
        """``v(r) = V(w)`` for ``|w| = r``."""
        return self.features(np.atleast_1d(r))[2]

    def velocity(self, X):
        """``-psi'(X_j; rho)`` with rho the equal-weight law of the radii X, and the risk."""
        F, dF, v, dv = self.features(X)
        mu = F.mean(axis=0)
        risk = self.ey2 + 2.0 * v.mean() + float(mu @ mu)
        return -(dv + dF @ mu), risk

    def risk(self, X):
        """``R(rho)`` for the equal-weight law of the radii X."""
        return self.velocity(X)[1]


# --- initial laws of the radius --------------------------------------------------

def radius_uniform(lo, hi):
    """r uniform on [lo, hi] (0 <= lo < hi)."""
    lo, hi = _checks.nonneg("lo", lo), float(hi)
    if not hi > lo:
        raise ValueError(f"hi must be > lo = {lo}, got {hi}")
    return stats.uniform(loc=lo, scale=hi - lo)


def radius_point(r0, width):
    """A point mass at r0 smoothed: N(r0, width^2) cut to r >= 0."""
    r0, width = _checks.positive("r0", r0), _checks.positive("width", width)
    return stats.truncnorm(-r0 / width, np.inf, loc=r0, scale=width)


def radius_of_gaussian(d, std=1.0):
    """``|w|`` for w ~ N(0, std^2 / d I_d): ``std / sqrt(d)`` times a chi variable (d degrees)."""
    d = _checks.positive_int("d", d)
    return stats.chi(d, scale=_checks.positive("std", std) / math.sqrt(d))


def sample_weights(law, n, d, rng):
    """n weight vectors in R^d with radii from ``law`` and uniform directions."""
    rng = np.random.default_rng(rng)
    r = law.rvs(size=n, random_state=rng)
    u = rng.standard_normal((n, d))
    return u * (r / np.linalg.norm(u, axis=1))[:, None]


# --- the solver -----------------------------------------------------------------

@dataclass
class RadialSolution:
    """Snapshots of the radial law: times, quantile radii (T, M) and the risk R(rho_t)."""

    times: np.ndarray
    radii: np.ndarray
    risk: np.ndarray
    config: dict = field(default_factory=dict)

    def density(self, k, bins=60, range=None):
        """Histogram density of the law of r at snapshot k: ``(edges, density)``; it
        integrates to 1 (each quantile particle carries mass 1/M)."""
        X = self.radii[k]
        dens, edges = np.histogram(X, bins=bins, range=range,
                                   weights=np.full(X.size, 1.0 / X.size), density=True)
        return edges, dens

    def mean_radius(self):
        return self.radii.mean(axis=1)

    def w1(self, k, radii):
        """W1 between the law at snapshot k and the empirical law of ``radii`` (1-D, exact for
        the two discrete laws, POT's ``wasserstein_1d``)."""
        import ot

        return float(ot.wasserstein_1d(self.radii[k], np.asarray(radii, dtype=float), p=1))


class RadialFlow(GridStepper):
    """The quantile radii of the radial PDE (module docstring) as a :class:`Stepper`.

    Snapshots are the sorted radii (M,) and the risk is ``R(rho_t)``.

    Parameters
    ----------
    kernel : RadialKernel
    X0 : numpy.ndarray
        Initial quantile radii (M,), >= 0; copied.
    h : float
        Time step: the radii step on the grid ``t_k = k h``, and a snapshot
        between grid points is a partial step on a copy, so results do not
        depend on where snapshots are taken.
    method : {'euler', 'heun', 'rk4'}
    schedule : callable, optional
        ``xi(t)``, default 1.
    """

    def __init__(self, kernel, X0, *, h=0.01, method="rk4", schedule=None):
        self.kernel = kernel
        self.state = np.array(X0, dtype=np.float64)
        self.h = _checks.positive("h", h)
        self.method = get_method(method)
        self.schedule = schedule
        self.time = 0.0
        self.step_count = 0

    def _rhs(self, t, y):
        if not np.all(np.isfinite(y[0])):  # an RK stage overflowed: let the step fail
            return (np.full_like(y[0], np.nan),)
        xi = float(_checks.schedule_value(self.schedule, t))
        return (2.0 * xi * self.kernel.velocity(np.abs(y[0]))[0],)

    def step(self, t, dt, partial):
        (Y,) = rk_step(self.method, self._rhs, t, (self.state,), dt)
        if not np.all(np.isfinite(Y)):
            raise DivergenceError(self.step_count, t)
        return np.abs(Y)

    def snapshot(self):
        # Reflections at 0 are the only way the order changes.  The sorted
        # copy is the snapshot; the state keeps its order, whose summation
        # order the next steps' means then do not depend on the snapshots.
        return np.sort(self.current())

    def risk(self):
        """``R(rho_t)`` of the sorted radii (the snapshot's summation order)."""
        return self.kernel.risk(self.snapshot())


def solve_radial(task, law, times, *, M=2000, a=1.0, h=0.01, method="rk4", schedule=None,
                 progress=False, tol=1e-14):
    """Integrate the radial PDE from the law ``law`` of the radius and snapshot at ``times``.

    Runs :class:`RadialFlow` through :func:`~meanfield.stepping.simulate`.

    Parameters
    ----------
    task : GaussianTask
        With isotropic components (:func:`isotropic_components`).
    law : scipy.stats frozen distribution on [0, inf)
        Initial law of r (:func:`radius_uniform`, :func:`radius_point`,
        :func:`radius_of_gaussian`, or any with a ``ppf``).
    times : array_like
        Non-decreasing snapshot times >= 0.
    M : int
        Quantile nodes.
    a : float
        Frozen output weight.
    h : float
        Time step: the radii step on the grid ``t_k = k h``, and a snapshot
        between grid points is a partial step on a copy, so results do not
        depend on where snapshots are taken.
    method : {'euler', 'heun', 'rk4'}
    schedule : callable, optional
        ``xi(t)``, default 1.
    progress : bool
        Show a progress bar.

    Returns
    -------
    RadialSolution

    Raises
    ------
    DivergenceError
        With ``.partial`` holding the snapshots so far.
    """
    M = _checks.positive_int("M", M)
    h = _checks.positive("h", h)
    tab = get_method(method)
    times = check_times(times)
    kernel = RadialKernel(task, a=a, tol=tol)
    X = np.asarray(law.ppf((np.arange(M) + 0.5) / M), dtype=np.float64)
    if not np.all(np.isfinite(X)) or np.any(X < 0):
        raise ValueError("law must be a distribution on [0, inf) with a finite ppf")
    config = {"M": M, "a": a, "h": h, "method": tab.name, "K": kernel.K, "tail": kernel.tail,
              "d": task.d, "task": str(task)}

    def collect(rows):
        return RadialSolution(np.array([r.time for r in rows]),
                              np.array([r.state for r in rows]).reshape(len(rows), M),
                              np.array([r.risk for r in rows]), config)

    return simulate(RadialFlow(kernel, X, h=h, method=tab, schedule=schedule), times,
                    progress=progress, desc="radial PDE", collect=collect)
