"""Finite-width deep networks of Du et al. (2019), eqs. (2) and (3), trained by full-batch GD.

Columns are samples: inputs ``X`` are (d, n) inside this module, (n, d) at
the API (one row per point, as in :mod:`meanfield.lazy.gram`).  The loss is
``L(theta) = 1/2 sum_i (f(x_i) - y_i)^2``.  Every layer is trained, output
weights included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import _checks
from ..activations import get_activation
from ..stepping import DivergenceError, Stepper, simulate
from .gram import _check_c_res, _check_q, c_sigma, _patch_windows


class _Layers:
    """What :class:`DeepNet` and :class:`ConvResNet` share: the activation, the depth H
    and width m, and the factor in front of each layer's sigma (eqs. (2) and (3))."""

    def __post_init__(self):
        self.sigma = get_activation(self.activation)
        self.cs = c_sigma(self.sigma)

    @property
    def H(self) -> int:
        return len(self.Ws)

    @property
    def m(self) -> int:
        return self.a.shape[0]

    def _residual(self, h):
        """Whether layer h (counted from 1) adds to its input: a ResNet's layers h >= 2."""
        return h >= 2

    def _scale(self, h):
        """Factor in front of sigma(W^(h) x^(h-1)), h counted from 1."""
        if self._residual(h):
            return self.c_res / (self.H * np.sqrt(self.m))
        return np.sqrt(self.cs / self.m)


@dataclass
class DeepNet(_Layers):
    """A depth-H network of width m in NTK scaling.

    Fully connected (eq. (2)): ``x^(h) = sqrt(c_sigma/m) sigma(W^(h) x^(h-1))``.
    ResNet (eq. (3)): the same first layer, then
    ``x^(h) = x^(h-1) + c_res/(H sqrt m) sigma(W^(h) x^(h-1))``.
    Output ``f(x) = a' x^(H)``.
    """

    Ws: list
    a: np.ndarray
    activation: str = "relu"
    resnet: bool = False
    c_res: float = 0.1
    sigma: object = field(init=False, repr=False)
    cs: float = field(init=False)

    def _residual(self, h):
        return self.resnet and h >= 2

    def forward(self, X):
        """Outputs f (n,) and the cache ``(xs, zs)`` of layer inputs and pre-activations."""
        x = np.asarray(X, dtype=np.float64).T
        xs, zs = [x], []
        for h, W in enumerate(self.Ws, 1):
            z = W @ x
            out = self._scale(h) * self.sigma(z)
            x = x + out if self._residual(h) else out
            xs.append(x)
            zs.append(z)
        return self.a @ x, (xs, zs)

    def loss(self, X, y):
        f, _ = self.forward(X)
        return 0.5 * float(np.sum((f - y) ** 2))

    def gradients(self, X, y):
        """``(loss, [dL/dW^(1), ..., dL/dW^(H)], dL/da)`` by backpropagation."""
        f, (xs, zs) = self.forward(X)
        r = f - np.asarray(y, dtype=np.float64)
        ga = xs[-1] @ r
        delta = np.outer(self.a, r)  # dL/dx^(H), (m, n)
        gW = [None] * self.H
        for h in range(self.H, 0, -1):
            dz = delta * (self._scale(h) * self.sigma.derivative(zs[h - 1]))
            gW[h - 1] = dz @ xs[h - 1].T
            back = self.Ws[h - 1].T @ dz
            delta = delta + back if self._residual(h) else back
        return 0.5 * float(r @ r), gW, ga

    def ntk(self, X):
        """The full Gram matrix of ``df(x_i)/dtheta`` over all layers, (n, n).

        One backward pass per input (``r = e_i``); GD on the square loss is
        stable for ``eta < 2 / lambda_max`` of this matrix.
        """
        X = np.asarray(X, dtype=np.float64)
        rows = []
        for i in range(X.shape[0]):
            f, _ = self.forward(X[i:i + 1])
            _, gW, ga = self.gradients(X[i:i + 1], f - 1.0)  # residual 1: gradient = df
            rows.append(np.concatenate([g.ravel() for g in gW] + [ga]))
        J = np.array(rows)
        return J @ J.T

    def gram_last(self, X):
        """``G^(H)``: the Gram matrix of ``df(x_i)/dW^(H)`` over the inputs, (n, n)."""
        _, (xs, zs) = self.forward(X)
        D = (self.a * self._scale(self.H))[:, None] * self.sigma.derivative(zs[-1])
        return (D.T @ D) * (xs[-2].T @ xs[-2])


def init_net(d, m, H, activation="relu", *, resnet=False, c_res=0.1, rng=None) -> DeepNet:
    """Standard Gaussian initialisation: every entry of W^(h) and a is N(0, 1)."""
    d = _checks.positive_int("d", d)
    m = _checks.positive_int("m", m)
    H = _checks.positive_int("H", H)
    if resnet:
        _check_c_res(c_res)
    g = _checks.generator(0 if rng is None else rng)
    Ws = [g.standard_normal((m, d))] + [g.standard_normal((m, m)) for _ in range(H - 1)]
    return DeepNet(Ws, g.standard_normal(m), activation, resnet, c_res)


def patches(x, q):
    """Du et al.'s phi: ``x`` (channels, n, p) to its patches (q channels, n p), stride 1,
    zero beyond the edges; column ``i p + l`` is the patch around pixel l of input i."""
    q = _check_q(q)
    c, n, p = x.shape
    out = np.zeros((q, c, n, p))
    for o, lo, hi in _patch_windows(p, q):
        out[o + q // 2, :, :, lo:hi] = x[:, :, lo + o:hi + o]
    return out.reshape(q * c, n * p)


@dataclass
class ConvResNet(_Layers):
    """The convolutional ResNet of Du et al. (2019), Section 3, at initialisation.

    ``x^(1) = sqrt(c_sigma/m) sigma(W^(1) phi(x))``, then
    ``x^(h) = x^(h-1) + c_res/(H sqrt m) sigma(W^(h) phi(x^(h-1)))`` for h >= 2,
    each ``(m, p)`` (m channels, p pixels), and ``f(x) = <a, x^(H)>`` with ``a``
    (m, p); ``phi`` takes the patches of width ``q`` (:func:`patches`).

    References
    ----------
    Du, Lee, Li, Wang & Zhai, ICML 2019, Section 3 and Theorem 7.1.
    """

    Ws: list
    a: np.ndarray
    activation: str = "relu"
    c_res: float = 0.1
    q: int = 3
    sigma: object = field(init=False, repr=False)
    cs: float = field(init=False)

    def forward(self, X):
        """Outputs f (n,) and the cache ``(xs, zs)``: layer inputs (channels, n, p) and
        pre-activations (m, n p)."""
        X = np.asarray(X, dtype=np.float64)
        shape = (self.Ws[0].shape[1] // self.q, self.a.shape[1])
        if X.ndim != 3 or X.shape[1:] != shape:
            raise ValueError(f"X must have shape (n, channels, pixels) = (n, {shape[0]}, "
                             f"{shape[1]}) for this net, got {X.shape}")
        n, _, p = X.shape
        x = np.ascontiguousarray(X.transpose(1, 0, 2))
        xs, zs = [x], []
        for h, W in enumerate(self.Ws, 1):
            z = W @ patches(x, self.q)
            out = (self._scale(h) * self.sigma(z)).reshape(self.m, n, p)
            x = x + out if self._residual(h) else out
            xs.append(x)
            zs.append(z)
        return np.einsum("kl,kil->i", self.a, x), (xs, zs)

    def gram_last(self, X):
        """``G^(H)``: the Gram matrix of ``df(x_i)/dW^(H)`` over the inputs, (n, n).

        ``df(x_i)/dW^(H) = s A_i phi_i'`` with ``A_i = a o sigma'(Z_i)`` (m, p) and
        ``phi_i`` the patches of ``x_i^(H-1)``, so the entry (i, j) is
        ``s^2 sum_(l,r) (A_i' A_j)_lr (phi_i' phi_j)_lr``."""
        _, (xs, zs) = self.forward(X)
        n, _, p = np.shape(X)
        A = (np.tile(self.a, (1, n)) * self.sigma.derivative(zs[-1]))
        phi = patches(xs[-2], self.q)
        M = (A.T @ A) * (phi.T @ phi)
        return self._scale(self.H) ** 2 * M.reshape(n, p, n, p).sum(axis=(1, 3))


def init_conv_net(channels, p, m, H, activation="relu", *, c_res=0.1, q=3,
                  rng=None) -> ConvResNet:
    """Standard Gaussian initialisation (every entry of W^(h) and a is N(0, 1)) of a
    :class:`ConvResNet` on images of ``channels`` x ``p`` pixels, ``m`` channels per layer."""
    channels = _checks.positive_int("channels", channels)
    p = _checks.positive_int("p", p)
    m = _checks.positive_int("m", m)
    H = _checks.positive_int("H", H)
    q = _check_q(q)
    _check_c_res(c_res)
    g = _checks.generator(0 if rng is None else rng)
    Ws = [g.standard_normal((m, q * channels))] + [g.standard_normal((m, q * m))
                                                    for _ in range(H - 1)]
    return ConvResNet(Ws, g.standard_normal((m, p)), activation, c_res, q)


@dataclass
class GDResult:
    """Full-batch GD run: loss per step, and per recorded step the movement
    ``(1/sqrt m) ||W^(h)(k) - W^(h)(0)||_F`` of each layer and ``lambda_min(G^(H)(k))``."""

    loss: np.ndarray
    steps: np.ndarray
    movement: np.ndarray
    gram_lambda_min: np.ndarray

    @property
    def times(self):
        """Recorded GD steps (the 'time' of a discrete run)."""
        return self.steps


class GradientDescent(Stepper):
    """Full-batch gradient descent ``theta <- theta - eta grad L`` on every layer of a
    :class:`DeepNet`, in place, as a :class:`Stepper` whose time is the step count.

    The loss of every state reached is kept in ``losses``.  A snapshot is
    ``(loss, movement)`` with movement ``(1/sqrt m) ||W^(h)(k) - W^(h)(0)||_F``
    per layer, and the risk is ``lambda_min(G^(H)(k))``.

    Parameters
    ----------
    net : DeepNet
        Trained in place.
    X : array_like
        Inputs (n, d).
    y : array_like
        Targets (n,).
    eta : float
        Step size; GD diverges above about ``2 / lambda_max`` of the NTK.
    """

    def __init__(self, net, X, y, eta):
        self.net = net
        self.X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.eta = _checks.positive("eta", eta)
        self.W0 = [W.copy() for W in net.Ws]
        self.losses = []  # L(theta(k)) for every step k taken
        self._grad = None  # (step, loss, dL/dW, dL/da) at the current weights
        self.time = 0.0
        self.step_count = 0

    def _gradients(self):
        """Loss and gradients at the current weights, once per step."""
        k = self.step_count
        if self._grad is None or self._grad[0] != k:
            with np.errstate(over="ignore", invalid="ignore"):
                L, gW, ga = self.net.gradients(self.X, self.y)
            if not np.isfinite(L):  # eta above 2 / lambda_max of the NTK, typically
                raise DivergenceError(k, k)
            self._grad = (k, L, gW, ga)
        return self._grad[1:]

    def plan(self, t_target):
        k = round(t_target)
        if k < self.step_count:
            raise ValueError(f"times: {t_target} lies before the current step {self.step_count}")
        return k - self.step_count

    def advance(self, n):
        net, eta = self.net, self.eta
        for _ in range(n):
            L, gW, ga = self._gradients()
            self.losses.append(L)
            for W, g in zip(net.Ws, gW):
                W -= eta * g
            net.a -= eta * ga
            self.step_count += 1
            self.time = float(self.step_count)

    def snapshot(self):
        L = self._gradients()[0]
        with np.errstate(over="ignore", invalid="ignore"):
            moved = [np.linalg.norm(W - self.W0[h]) / np.sqrt(self.net.m)
                     for h, W in enumerate(self.net.Ws)]
        return L, moved

    def risk(self):
        """``lambda_min(G^(H))``, NaN when the Gram matrix is not finite."""
        with np.errstate(over="ignore", invalid="ignore"):
            G = self.net.gram_last(self.X)
        return float(np.linalg.eigvalsh(G)[0]) if np.isfinite(G).all() else math.nan

    def result(self, rows):
        """The :class:`GDResult` of snapshot rows from :func:`~meanfield.stepping.simulate`."""
        loss = list(self.losses)
        if rows and rows[-1].step == len(loss):  # the run ends at a snapshot: its loss too
            loss.append(rows[-1].state[0])
        return GDResult(np.array(loss), np.array([r.step for r in rows]),
                        np.array([r.state[1] for r in rows]), np.array([r.risk for r in rows]))


def train_gd(net: DeepNet, X, y, eta, steps, record_every=10) -> GDResult:
    """Full-batch gradient descent ``theta <- theta - eta grad L`` on every layer, in place.

    Runs :class:`GradientDescent` through :func:`~meanfield.stepping.simulate`,
    with a snapshot every ``record_every`` steps and at the last.

    Raises
    ------
    DivergenceError
        When the loss stops being finite; ``.partial`` holds the run so far.
    """
    steps = _checks.nonneg_int("steps", steps)
    record_every = _checks.positive_int("record_every", record_every)
    stepper = GradientDescent(net, X, y, eta)
    times = np.unique(np.append(np.arange(0, steps + 1, record_every), steps))
    return simulate(stepper, times, progress=False, desc="GD", collect=stepper.result)


@dataclass
class TwoLayerRun:
    """Two-layer GD run in one scaling: loss per step and relative movement
    ``||theta(k) - theta(0)|| / ||theta(0)||`` (a and W together) at the end."""

    scaling: str
    m: int
    loss: np.ndarray
    relative_movement: float
    #: ``max_k ||r(k) - (I - (step / n) H(0))^k r(0)|| / ||r(0)||``: how far the residuals
    #: leave the linear dynamics of the kernel at initialisation (Du et al., Section 4)
    kernel_deviation: float = float("nan")


def train_two_layer(X, y, m, scaling="ntk", activation="relu", eta=0.5, steps=200, rng=0):
    """Full-batch GD on ``L = (1/2n) sum_i (f(x_i) - y_i)^2`` in NTK or mean-field scaling.

    NTK: ``f = (1/sqrt m) sum_r a_r sigma(<w_r, x>)``, step ``eta``.
    Mean field (docs/design.md section 1): ``f = (1/m) sum_r a_r sigma(<w_r, x>)``,
    step ``eta m`` (the factor N of eq. (3.3)), so each neuron moves O(1)
    whatever m.  Same initialisation for both: a_r, w_r i.i.d. N(0, 1), N(0, I/d).

    The run's ``kernel_deviation`` compares the residuals ``r(k) = f(x_i) - y_i``
    with the linear dynamics of the kernel at initialisation,
    ``(I - (step / n) H(0))^k r(0)``, ``H(0)`` the Gram matrix of the gradients
    of the outputs in (a, W): the dynamics of Du et al.'s proofs, exact in the
    limit where H(k) stays at H(0).

    References
    ----------
    S. S. Du, J. D. Lee, H. Li, L. Wang and X. Zhai, "Gradient descent finds
    global minima of deep neural networks", ICML 2019, Section 4 (the residual
    dynamics y - u(k+1) = (I - eta H(k)) (y - u(k))).
    """
    if scaling not in ("ntk", "mf"):
        raise ValueError(f"scaling must be 'ntk' or 'mf', got {scaling!r}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    m = _checks.positive_int("m", m)
    eta = _checks.positive("eta", eta)
    steps = _checks.nonneg_int("steps", steps)
    sig = get_activation(activation)
    g = _checks.generator(rng)
    n, d = X.shape
    a = g.standard_normal(m)
    W = g.standard_normal((m, d)) / np.sqrt(d)
    theta0 = np.concatenate([a, W.ravel()])
    scale, step = (1.0 / np.sqrt(m), eta) if scaling == "ntk" else (1.0 / m, eta * m)
    Z = W @ X.T
    # the kernel H(0) = J J^T of df(x_i)/d(a, W) at initialisation; GD on (1/2n) |r|^2
    # moves the residuals by -(step / n) H r to first order
    S, D = sig(Z), a[:, None] * sig.derivative(Z)
    H0 = scale ** 2 * (S.T @ S + (D.T @ D) * (X @ X.T))
    lam, V = np.linalg.eigh(H0)
    decay = 1.0 - (step / n) * lam
    losses, deviation, r0 = [], 0.0, None
    for k in range(steps + 1):
        Z = W @ X.T                                  # (m, n)
        r = scale * (a @ sig(Z)) - y                 # residuals
        losses.append(0.5 * float(r @ r) / n)
        if r0 is None:
            r0, c0 = r, V.T @ r
        deviation = max(deviation, float(np.linalg.norm(r - V @ (decay ** k * c0))))
        ga = scale * (sig(Z) @ r) / n
        gW = scale * ((a[:, None] * sig.derivative(Z) * r[None, :]) @ X) / n
        a = a - step * ga
        W = W - step * gW
    theta = np.concatenate([a, W.ravel()])
    return TwoLayerRun(scaling, m, np.array(losses),
                       float(np.linalg.norm(theta - theta0) / np.linalg.norm(theta0)),
                       deviation / float(np.linalg.norm(r0)))
