"""Tasks with zero-mean Gaussian(-mixture) inputs and exact population functionals.

Inputs come from a mixture of centred Gaussians: component ``k`` has
probability ``pi_k`` and covariance ``S_k``.  On component ``k`` the label is

    y = c_k + (1/M_t) sum_m b_m sigma_*(<v_m, x>) + noise_std * eps,

a constant (the class label of Mei, Montanari & Nguyen's isotropic example),
plus an optional two-layer teacher, plus Gaussian noise.  Every mean-field
functional of the student ``sigma_*(x; theta) = a sigma(<w, x>)``
(Mei et al. 2018 eq. (6)-(7); docs/design.md section 2) reduces to bivariate
Gaussian expectations of ``(w'x, v'x)``:

    V(theta)          = -E[y a sigma(<w, x>)]
    U(theta, theta')  =  a a' sum_k pi_k F_k(w, w')
    R(rho)            =  E[y^2] + 2 int V d rho + int int U d rho d rho

and ``L_N(theta) = R(empirical measure of theta)`` (Shevchenko & Mondelli
eq. (3.2)) is computed exactly by :meth:`GaussianTask.risk`, with closed forms
for ReLU and erf and Gauss-Hermite quadrature otherwise
(:mod:`meanfield.kernels.gaussian`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..activations import ERF, RELU, Activation, get_activation
from ..kernels.gaussian import (
    gauss_means,
    pair_diag,
    pair_matrix,
    pair_quadratic,
    pair_sums,
    pair_sums_self,
    quadrature_nodes,
)
from .protocol import leading_rows

#: Default quadrature order (Hermite nodes per axis; Legendre pieces get
#: ``n // 2``).  Measured against the ReLU and erf closed forms over random
#: pairs with |w| up to 5 (tests/test_kernels.py): error <= 5e-7 relative,
#: the worst cases being steep or nearly parallel pairs; ~1e-9 for generic
#: pairs.  Closed forms are used whenever they exist.  Cost: 10-400 us per
#: pair, so exact risks of large nets with tanh/sigmoid/softplus/ramp are slow.
QUAD_ORDER = 48


@dataclass(frozen=True)
class Teacher:
    """Two-layer teacher ``(1/M_t) sum_m b_m sigma_*(<v_m, x>)``."""

    b: np.ndarray
    V: np.ndarray
    activation: Activation


class GaussianTask:
    """Zero-mean Gaussian-mixture task with exact population quantities.

    Use the constructors :func:`teacher_student`, :func:`isotropic_gaussians`
    and :func:`anisotropic_gaussians`.

    Parameters
    ----------
    d : int
        Input dimension.
    activation : str or Activation
        Student activation sigma.
    weights : sequence of float
        Mixture probabilities pi_k (positive, summing to 1).
    covs : sequence
        Per component either a positive float ``s`` (covariance ``s^2 I``) or
        a symmetric positive-definite ``(d, d)`` matrix.
    labels : sequence of float
        Constant part c_k of the label on each component.
    teacher : Teacher, optional
        Teacher network added to the label.
    noise_std : float
        Standard deviation of additive Gaussian label noise.
    quad_order : int
        Gauss-Hermite nodes per axis for activations without closed forms.
    name : str
        Short description used in outputs.

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (6)-(8): V, U, Psi and R.
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, eq. (3.2): L_N(theta) = R
    of the empirical measure.
    """

    def __init__(self, d, activation, weights, covs, labels, teacher=None, noise_std=0.0,
                 quad_order=QUAD_ORDER, name="gaussian"):
        self.d = _checks.positive_int("d", d)
        self.activation = get_activation(activation)
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0 or np.any(w <= 0) or abs(w.sum() - 1.0) > 1e-12:
            raise ValueError(f"weights must be positive and sum to 1, got {weights!r}")
        K = w.size
        if len(covs) != K or len(labels) != K:
            raise ValueError(f"covs and labels must have one entry per component ({K}), "
                             f"got {len(covs)} and {len(labels)}")
        self.weights = w
        self.labels = np.asarray(labels, dtype=np.float64)
        self._scale: list[float | None] = []
        self._chol: list[np.ndarray | None] = []
        for k, c in enumerate(covs):
            if np.ndim(c) == 0:
                self._scale.append(_checks.positive(f"covs[{k}]", c))
                self._chol.append(None)
            else:
                S = np.asarray(c, dtype=np.float64)
                if S.shape != (self.d, self.d) or not np.allclose(S, S.T):
                    raise ValueError(f"covs[{k}] must be a symmetric ({self.d}, {self.d}) "
                                     f"matrix, got shape {S.shape}")
                try:
                    L = np.linalg.cholesky(S)
                except np.linalg.LinAlgError:
                    raise ValueError(f"covs[{k}] must be positive definite") from None
                self._scale.append(None)
                self._chol.append(L)
        if teacher is not None:
            b = np.ascontiguousarray(teacher.b, dtype=np.float64)
            V = np.ascontiguousarray(teacher.V, dtype=np.float64)
            if b.ndim != 1 or V.shape != (b.size, self.d):
                raise ValueError(f"teacher: b must have shape (M,) and V shape (M, {self.d}), "
                                 f"got {b.shape} and {V.shape}")
            teacher = Teacher(b, V, get_activation(teacher.activation))
        self.teacher = teacher
        self.noise_std = _checks.nonneg("noise_std", noise_std)
        n = _checks.positive_int("quad_order", quad_order)
        self._quad = quadrature_nodes(n)
        self.name = name
        self._pair_sums = pair_sums
        self.ey2 = self._second_moment()

    # -- coordinates ------------------------------------------------------
    def _fwd(self, W, k):
        """Rows ``w`` mapped to ``L_k' w`` so that Gram = W S_k W'."""
        s = self._scale[k]
        return W * s if s is not None else W @ self._chol[k]

    def _back(self, G, k):
        """Rows ``g`` (in whitened coordinates) mapped to ``L_k g``."""
        s = self._scale[k]
        return G * s if s is not None else G @ self._chol[k].T

    def _each_pair_once(self, act):
        """Whether pair sums of a population with itself may take each pair once
        (:func:`pair_quadratic`, :func:`pair_sums_self`): a ReLU or erf activation and
        the package's own pair sums (a task given others through
        :meth:`with_pair_sums` keeps them for every sum)."""
        return self._pair_sums is pair_sums and act.kind in (RELU, ERF)

    def _sums(self, act_r, Wr, act_c, Wc, ac, grad):
        """``S_i = sum_k pi_k sum_j ac_j F_k(w_i, wc_j)`` and its gradient in ``w_i``.

        When ``Wc`` is the memory of ``Wr``'s first rows (the particle limit's
        reference population inside its rows, or a population with itself) and
        the pair sums allow it, those rows take each pair once
        (:func:`pair_sums_self`) and only the rows after them sum over every
        column."""
        S = np.zeros(Wr.shape[0])
        GW = np.zeros_like(Wr) if grad else None
        own = (Wc.shape[0] if act_r == act_c and self._each_pair_once(act_r)
               and leading_rows(Wr, Wc) else 0)
        for k, pk in enumerate(self.weights):
            Wr_k = self._fwd(Wr, k)
            if own:
                Fa, F1, G = _self_then_rest(act_r.kind, Wr_k, own, ac, self._quad, grad)
            else:
                Fa, F1, G = self._pair_sums(act_r.kind, act_r.p, act_c.kind, act_c.p, Wr_k,
                                            self._fwd(Wc, k), ac, self._quad, grad)
            S += pk * Fa
            if grad:
                G += 2.0 * F1[:, None] * Wr_k
                GW += pk * self._back(G, k)
        return S, GW

    def _means(self, act, W):
        """Per component ``(E sigma(<w, x>), d/dq)`` with ``q = w' S_k w``."""
        out = []
        for k in range(self.weights.size):
            Wk = self._fwd(W, k)
            q = np.einsum("ij,ij->i", Wk, Wk)
            m = np.empty_like(q)
            dm = np.empty_like(q)
            gauss_means(act.kind, act.p, q, self._quad, m, dm)
            out.append((Wk, m, dm))
        return out

    def _second_moment(self):
        ey2 = self.noise_std ** 2 + float(self.weights @ self.labels ** 2)
        t = self.teacher
        if t is not None:
            Mt = t.b.size
            S, _ = self._sums(t.activation, t.V, t.activation, t.V, t.b, False)
            ey2 += float(t.b @ S) / Mt ** 2
            for k, (_, m, _) in enumerate(self._means(t.activation, t.V)):
                ey2 += 2.0 * self.weights[k] * self.labels[k] * float(t.b @ m) / Mt
        return ey2

    # -- sampling ---------------------------------------------------------
    def sample(self, n, rng):
        """Draw ``n`` i.i.d. pairs ``(X, y)``, ``X`` of shape (n, d).

        The draws from ``rng`` are, in order: component indices (mixtures
        only), the standard normal inputs, the label noise (if any).
        """
        n = _checks.nonneg_int("n", n)
        rng = _checks.generator(rng)
        K = self.weights.size
        comp = rng.choice(K, size=n, p=self.weights) if K > 1 else np.zeros(n, dtype=np.intp)
        X = rng.standard_normal((n, self.d))
        y = self.labels[comp].copy()
        for k in range(K):
            idx = comp == k if K > 1 else slice(None)
            s = self._scale[k]
            if s is not None:
                X[idx] *= s
            else:
                X[idx] = X[idx] @ self._chol[k].T
        t = self.teacher
        if t is not None:
            y += t.activation(X @ t.V.T) @ t.b / t.b.size
        if self.noise_std > 0:
            y += self.noise_std * rng.standard_normal(n)
        return X, y

    # -- functionals --------------------------------------------------------
    # The public functionals check their arrays once (the user's boundary) and call the
    # unchecked _grad_V/_grad_psi/_risk, which inner loops (the particle limit's RK stages)
    # call directly on arrays already checked.
    def grad_V(self, a, W):
        """``V(theta_i)`` with its gradient: returns ``(V, dV/da, dV/dW)``."""
        return self._grad_V(*_checks.network(a, W, self.d))

    def _grad_V(self, a, W):
        dVda = np.zeros_like(a)
        dVdW = np.zeros_like(W)
        t = self.teacher
        if t is not None:
            S, GW = self._sums(self.activation, W, t.activation, t.V, t.b, True)
            dVda -= S / t.b.size
            dVdW -= a[:, None] * GW / t.b.size
        for k, (Wk, m, dm) in enumerate(self._means(self.activation, W)):
            c = self.weights[k] * self.labels[k]
            if c != 0.0:
                dVda -= c * m
                dVdW -= self._back(Wk * (2.0 * c * dm * a)[:, None], k)
        return a * dVda, dVda, dVdW

    def V(self, a, W):
        """``V(theta_i) = -E[y a_i sigma(<w_i, x>)]`` for each neuron, shape (N,)."""
        return self.grad_V(a, W)[0]

    def _pair_mats(self, W1, W2):
        F = np.zeros((W1.shape[0], W2.shape[0]))
        DW = np.zeros(F.shape + (self.d,))
        act = self.activation
        for k, pk in enumerate(self.weights):
            A, B = self._fwd(W1, k), self._fwd(W2, k)
            Q = A @ B.T
            Fk, F1, F12 = (np.empty_like(Q) for _ in range(3))
            pair_matrix(act.kind, act.p, act.kind, act.p, Q, np.einsum("ij,ij->i", A, A),
                        np.einsum("ij,ij->i", B, B), self._quad, Fk, F1, F12)
            F += pk * Fk
            G = 2.0 * F1[:, :, None] * A[:, None, :] + F12[:, :, None] * B[None, :, :]
            DW += pk * self._back(G, k)
        return F, DW

    def U(self, a1, W1, a2, W2):
        """``U(theta_i, theta'_j) = E[sigma_*(x; theta_i) sigma_*(x; theta'_j)]``, (N1, N2)."""
        a1, W1 = _checks.network(a1, W1, self.d, "1")
        a2, W2 = _checks.network(a2, W2, self.d, "2")
        return np.outer(a1, a2) * self._pair_mats(W1, W2)[0]

    def grad1_U(self, a1, W1, a2, W2):
        """Gradient of U in its first argument: ``(dU/da1 (N1, N2), dU/dW1 (N1, N2, d))``."""
        a1, W1 = _checks.network(a1, W1, self.d, "1")
        a2, W2 = _checks.network(a2, W2, self.d, "2")
        F, DW = self._pair_mats(W1, W2)
        return F * a2[None, :], DW * np.outer(a1, a2)[:, :, None]

    def grad_psi(self, a, W, a_ref, W_ref):
        """``Psi(theta_i; rho)`` and its gradient, rho the empirical law of the reference.

        ``Psi(theta; rho) = V(theta) + int U(theta, theta') rho(dtheta')``
        (Mei et al. 2018 eq. (8)).  Returns
        ``(Psi, dPsi/da, dPsi/dW)`` for each row of ``(a, W)``.  Cost: two
        GEMMs of size N x M x d per mixture component plus O(N M) kernel
        evaluations.
        """
        a, W = _checks.network(a, W, self.d)
        a_ref, W_ref = _checks.network(a_ref, W_ref, self.d, "ref_")
        if a_ref.size == 0:
            raise ValueError("a_ref must hold at least one particle")
        return self._grad_psi(a, W, a_ref, W_ref)

    def _grad_psi(self, a, W, a_ref, W_ref):
        M = a_ref.size
        v, dVda, dVdW = self._grad_V(a, W)
        S, GW = self._sums(self.activation, W, self.activation, W_ref, a_ref, True)
        return v + a * S / M, dVda + S / M, dVdW + a[:, None] * GW / M

    def psi(self, a, W, a_ref, W_ref):
        """``Psi(theta_i; rho)`` for each row, see :meth:`grad_psi`."""
        a, W = _checks.network(a, W, self.d)
        a_ref, W_ref = _checks.network(a_ref, W_ref, self.d, "ref_")
        S, _ = self._sums(self.activation, W, self.activation, W_ref, a_ref, False)
        return self._grad_V(a, W)[0] + a * S / a_ref.size

    def risk(self, a, W):
        """Exact population risk of ``yhat = (1/N) sum_i a_i sigma(<w_i, x>)``.

        ``L_N(theta) = E[y^2] + (2/N) sum_i V(theta_i) + (1/N^2) sum_ij U(theta_i, theta_j)``
        (Shevchenko & Mondelli eq. (3.2)).  Exact and finite for any finite
        input, zero and repeated neurons included.  Neurons with ``a_i = 0``
        contribute exactly nothing and are skipped, so a dropout network
        padded with zeros costs ``|A|^2`` kernel evaluations, not ``N^2``.
        """
        return self._risk(*_checks.network(a, W, self.d))

    def _risk(self, a, W):
        N = a.size
        live = a != 0.0
        if not live.all():
            a, W = a[live], W[live]
        if a.size == 0:
            return self.ey2
        kind = self.activation.kind
        if self._each_pair_once(self.activation):
            quad = sum(pk * pair_quadratic(kind, self._fwd(W, k), a)
                       for k, pk in enumerate(self.weights))
        else:
            S, _ = self._sums(self.activation, W, self.activation, W, a, False)
            quad = float(a @ S)
        return self.ey2 + 2.0 * self._grad_V(a, W)[0].sum() / N + quad / N ** 2

    def self_kernel(self, W):
        """``E[sigma(<w_i, x>)^2]`` for each row: the diagonal of the kernel behind U."""
        W = np.ascontiguousarray(W, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != self.d:
            raise ValueError(f"W must have shape (N, {self.d}), got shape {W.shape}")
        out = np.zeros(W.shape[0])
        F = np.empty(W.shape[0])
        act = self.activation
        for k, pk in enumerate(self.weights):
            Wk = self._fwd(W, k)
            pair_diag(act.kind, act.p, np.einsum("ij,ij->i", Wk, Wk), self._quad, F)
            out += pk * F
        return out

    def risk_coefficients(self, a0, a1, W):
        """Coefficients of the risk along a segment that moves only the output weights.

        ``L_N((1 - s) a0 + s a1, W) = c0 + c1 s + c2 s^2`` for all real s, from
        eq. (3.2): V is linear in a and U bilinear, so the risk is a quadratic
        in s, convex because ``c2 = E[(delta yhat)^2] >= 0``.  With ``a0 = 0``
        it gives the risk of the rescaled network ``s a1`` for every s.

        Returns
        -------
        numpy.ndarray
            ``[c0, c1, c2]``.  Cost: two kernel sums over N^2 pairs (one when
            ``a0`` is zero), each pair once for ReLU and erf (:func:`pair_sums_self`).
        """
        a0, W = _checks.network(a0, W, self.d, "0")
        a1, _ = _checks.network(a1, W, self.d, "1")
        N = a0.size
        if N == 0:
            return np.array([self.ey2, 0.0, 0.0])
        da = a1 - a0
        Sd, _ = self._sums(self.activation, W, self.activation, W, da, False)
        lin0 = self._grad_V(a0, W)[0].sum() / N
        if np.any(a0):
            S0, _ = self._sums(self.activation, W, self.activation, W, a0, False)
            # both orders: quadrature kernels are symmetric only to their accuracy,
            # and the direct risk a'Fa sees the symmetric part of F alone
            quad0, cross = float(a0 @ S0), 0.5 * float(a0 @ Sd + da @ S0)
        else:
            quad0 = cross = 0.0
        return np.array([self.ey2 + 2.0 * lin0 + quad0 / N ** 2,
                         2.0 * self._grad_V(da, W)[0].sum() / N + 2.0 * cross / N ** 2,
                         float(da @ Sd) / N ** 2])

    def with_pair_sums(self, pair_sums):
        """A copy whose row sums over pairs (the risk, V with a teacher, Psi and its
        gradient) go through ``pair_sums``, a callable with the contract of
        :func:`meanfield.kernels.gaussian.pair_sums`; for a GPU see
        :func:`meanfield.torch.pairs.on_device`.  U's full matrices stay on the host."""
        twin = copy.copy(self)
        twin._pair_sums = pair_sums
        return twin

    @property
    def scales(self):
        """Per component the scale s of an isotropic covariance ``s^2 I``, or None where the
        component has a full covariance matrix."""
        return tuple(self._scale)

    def describe(self) -> str:
        """The task in words, for figure titles: ``teacher-student, teacher width 4; relu;
        d = 4`` (the repr is for debugging)."""
        return f"{describe_name(self.name)}; {self.activation}; d = {self.d}"

    def __repr__(self):
        sums = "" if self._pair_sums is pair_sums else f", pair_sums={self._pair_sums!r}"
        return f"GaussianTask({self.name}, d={self.d}, activation={self.activation}{sums})"


_NAME_WORDS = {"teacher-student": "teacher-student", "isotropic": "isotropic Gaussians",
               "anisotropic": "anisotropic Gaussians", "gaussian": "Gaussian mixture"}
_PARAM_WORDS = {"width": "teacher width {}", "delta": "delta = {}", "K": "{} components"}


def describe_name(name) -> str:
    """A task's stored name (``GaussianTask.name``, the ``task`` column of the tables) in
    words: ``teacher-student(width=4)`` -> ``teacher-student, teacher width 4``;
    ``isotropic(delta=0.5)`` -> ``isotropic Gaussians, delta = 0.5``.  A name of another
    form is returned as it is."""
    m = re.fullmatch(r"\s*([^()]+?)\s*(?:\((.*)\))?\s*", str(name))
    if m is None:
        return str(name)
    base, args = m.groups()
    parts = [_NAME_WORDS.get(base, base)]
    for arg in filter(None, (a.strip() for a in (args or "").split(","))):
        key, _, value = (p.strip() for p in arg.partition("="))
        parts.append(_PARAM_WORDS.get(key, key + " = {}").format(value) if value else key)
    return ", ".join(parts)


def teacher_student(d, activation="relu", width=4, teacher_activation=None, teacher_b=None,
                    teacher_W=None, noise_std=0.0, input_cov=None, seed=0,
                    quad_order=QUAD_ORDER):
    """Teacher-student task with Gaussian inputs ``x ~ N(0, I_d)``.

    Parameters
    ----------
    d : int
        Input dimension.
    activation : str or Activation
        Student activation.
    width : int
        Teacher width M_t.
    teacher_activation : str or Activation, optional
        Defaults to the student's.
    teacher_b, teacher_W : array, optional
        Teacher output weights (M_t,) and hidden weights (M_t, d).  Defaults:
        ``b = 1`` and orthonormal ``v_m = e_m`` when ``width <= d``, else
        ``v_m ~ N(0, I/d)`` drawn from ``seed``.
    noise_std : float
        Label noise standard deviation.
    input_cov : (d, d) array, optional
        Input covariance (default identity).
    seed : int
        Seed of the random teacher directions (used only when ``width > d``).
    quad_order : int
        Gauss-Hermite order of the pair kernels that have no closed form.

    Returns
    -------
    GaussianTask
        With the exact population functionals (``risk``, ``V``, ``U``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> import meanfield as mf
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> a, W = mf.InitialLaw().sample(50, task.d, np.random.default_rng(0))
    >>> print(f"{task.risk(a, W):.4f}")            # L_N(theta), exact
    0.3059
    >>> X, y = task.sample(3, np.random.default_rng(1))
    >>> X.shape, y.shape
    ((3, 10), (3,))

    References
    ----------
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, Section 3 (data model y =
    f(x) + noise).
    """
    d = _checks.positive_int("d", d)
    width = _checks.positive_int("width", width)
    if teacher_W is None:
        if width <= d:
            # the rows e_1 .. e_width of I_d, without building I_d (d x d: 8 TB at d = 10^6)
            teacher_W = np.zeros((width, d))
            teacher_W[np.arange(width), np.arange(width)] = 1.0
        else:
            teacher_W = np.random.default_rng(seed).standard_normal((width, d)) / np.sqrt(d)
    if teacher_b is None:
        teacher_b = np.ones(width)
    tact = activation if teacher_activation is None else teacher_activation
    teacher = Teacher(np.asarray(teacher_b, float), np.asarray(teacher_W, float),
                      get_activation(tact))
    cov = 1.0 if input_cov is None else input_cov
    return GaussianTask(d, activation, [1.0], [cov], [0.0], teacher=teacher, noise_std=noise_std,
                        quad_order=quad_order, name=f"teacher-student(width={width})")


def isotropic_gaussians(d, delta=0.5, activation="ramp", quad_order=QUAD_ORDER):
    """Isotropic Gaussian classification of Mei, Montanari & Nguyen (2018).

    ``y = +1`` or ``-1`` with probability 1/2; ``x | y = +1 ~ N(0, (1 + delta)^2 I_d)``,
    ``x | y = -1 ~ N(0, (1 - delta)^2 I_d)``; requires ``0 <= delta < 1``.

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, Section 3 (isotropic Gaussians, Fig. 1).
    """
    delta = _checks.nonneg("delta", delta)
    if delta >= 1.0:
        raise ValueError(f"delta must lie in [0, 1), got {delta}")
    return GaussianTask(d, activation, [0.5, 0.5], [1.0 + delta, 1.0 - delta], [1.0, -1.0],
                        quad_order=quad_order, name=f"isotropic(delta={delta})")


def anisotropic_gaussians(covs, labels, weights=None, activation="relu", noise_std=0.0,
                          quad_order=QUAD_ORDER):
    """Mixture of zero-mean anisotropic Gaussians, one label per component.

    ``covs`` is a list of ``(d, d)`` covariance matrices; ``weights`` defaults
    to equal probabilities.

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, Section 3 (anisotropic Gaussians).
    """
    covs = [np.asarray(c, dtype=np.float64) for c in covs]
    if not covs or covs[0].ndim != 2:
        raise ValueError("covs must be a non-empty list of (d, d) matrices")
    K = len(covs)
    weights = np.full(K, 1.0 / K) if weights is None else weights
    return GaussianTask(covs[0].shape[0], activation, weights, covs, labels, noise_std=noise_std,
                        quad_order=quad_order, name=f"anisotropic(K={K})")


def _self_then_rest(kind, W, M, ac, quad, grad):
    """:func:`pair_sums` of every row of ``W`` against its first M rows: those
    rows with each pair once, the rest against all M columns."""
    own = pair_sums_self(kind, W[:M], ac, grad)
    if M == W.shape[0]:
        return own
    rest = pair_sums(kind, 0, kind, 0, W[M:], W[:M], ac, quad, grad)
    return tuple(None if x is None else np.concatenate([x, y]) for x, y in zip(own, rest))
