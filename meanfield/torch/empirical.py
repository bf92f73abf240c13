"""The particle limit's field on a data set's empirical law, on a torch device.

On the empirical law of ``(X, y)`` (:class:`meanfield.tasks.EmpiricalTask`) the field
of M particles is three products of n x d x M (two when the population is the
state's leading rows, as in the particle limit), ``Z = X W'`` and
``(sigma'(Z) r)' X`` with the residuals ``r = y - sigma(Z_ref) a_ref / M``:
a GPU's work at Fashion-MNIST's n = 12000, d = 784 and M in the thousands.
:class:`DeviceResidualSums` does these sums on a device, in float64, over blocks of
rows, with the host's contract (:meth:`EmpiricalTask._residual_sums`); the data stay
on the device between calls.  :func:`meanfield.torch.on_device` gives a task
whose sums run here.

References
----------
S. Mei, A. Montanari and P.-M. Nguyen, "A mean field view of the landscape of
two-layer neural networks", PNAS 2018, eqs. (8) and (12)-(13).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import _checks
from ..activations import get_activation
from .models import pick_device

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _value_and_slope(act):
    """``(sigma, sigma')`` of ``act`` as torch functions, with the host's conventions at
    kinks (:func:`meanfield.activations.act_d1`: the derivative 0 at ReLU's 0 and at the
    ramp's t1 and t2)."""
    name = act.name
    if name == "relu":
        return torch.relu, lambda z: (z > 0).to(z.dtype)
    if name == "erf":
        return torch.erf, lambda z: _TWO_OVER_SQRT_PI * torch.exp(-z * z)
    if name == "tanh":
        return torch.tanh, lambda z: 1.0 - torch.tanh(z) ** 2
    if name == "sigmoid":
        return torch.sigmoid, lambda z: torch.sigmoid(z) * (1.0 - torch.sigmoid(z))
    if name == "softplus":  # log(1 + e^z) without torch's linear cut-off above z = 20
        return lambda z: torch.logaddexp(z, torch.zeros_like(z)), torch.sigmoid
    s1, s2, t1, t2 = act.params
    slope = (s2 - s1) / (t2 - t1)
    return (lambda z: s1 + (s2 - s1) * torch.clamp((z - t1) / (t2 - t1), 0.0, 1.0),
            lambda z: ((z > t1) & (z < t2)).to(z.dtype) * slope)


class DeviceResidualSums:
    """The field sums of :class:`meanfield.tasks.EmpiricalTask` on a torch device (float64).

    Called as ``sums(W, a_ref, W_ref, prefix, grad)``, it returns
    ``S = (1/n) sum_p r_p sigma(<w_i, x_p>)`` and, with ``grad``,
    ``G = (1/n) sum_p r_p sigma'(<w_i, x_p>) x_p`` for each row ``w_i`` of ``W``, with
    ``r = y - f_rho`` the residuals of the population ``(a_ref, W_ref)`` (``prefix``:
    ``W_ref`` is the leading rows of ``W``); numpy in, numpy out.

    Parameters
    ----------
    X, y : arrays (n, d) and (n,)
        The data set, copied to the device once.
    activation : Activation or str
    device : str or torch.device
        ``auto``, ``cpu``, ``cuda`` or ``cuda:K`` (:func:`meanfield.torch.pick_device`).
    block : int, optional
        Data rows per block (default: rows so that a ``rows x P`` array is about 2^26
        entries, 512 MB; a block holds three such arrays at a time).

    References
    ----------
    Mei, Montanari & Nguyen, PNAS 2018, eq. (8) (Psi on the empirical law: V and U as
    sums over the data) and eqs. (12)-(13) (the field of the distributional dynamics).
    """

    def __init__(self, X, y, activation, device="auto", block=None):
        self.device = pick_device(device)
        # copies (a task's arrays are read-only; on a GPU the copy is the transfer)
        self.X = torch.tensor(np.asarray(X, dtype=np.float64), device=self.device)
        self.y = torch.tensor(np.asarray(y, dtype=np.float64), device=self.device)
        self.activation = get_activation(activation) if isinstance(activation, str) \
            else activation
        self._sigma, self._slope = _value_and_slope(self.activation)
        self.block = None if block is None else _checks.positive_int("block", block)

    def __repr__(self):
        return f"DeviceResidualSums(device={self.device}, n={len(self.y)})"

    def _rows(self, P):
        if self.block is not None:
            return int(self.block)
        return int(max(64, min(len(self.y), 2 ** 26 // max(P, 1))))

    def __call__(self, W, a_ref, W_ref, prefix, grad):
        """``(S, G)`` (see the class); ``G`` None unless ``grad``."""
        dev, n = self.device, len(self.y)

        def put(A):
            return torch.as_tensor(np.ascontiguousarray(A, dtype=np.float64), device=dev)

        Wt = put(W)
        P = Wt.shape[0]
        M = 0 if a_ref is None else a_ref.size
        if M:
            at = put(a_ref)
            Wr = None if prefix else put(W_ref)
        S = torch.zeros(P, dtype=torch.float64, device=dev)
        G = torch.zeros(P, self.X.shape[1], dtype=torch.float64, device=dev) if grad else None
        step = self._rows(P)
        with torch.no_grad():
            for s in range(0, n, step):
                Xb = self.X[s:s + step]
                Z = Xb @ Wt.T
                sZ = self._sigma(Z)
                r = self.y[s:s + step]
                if M:
                    f = sZ[:, :M] @ at if prefix else self._sigma(Xb @ Wr.T) @ at
                    r = r - f / M
                S += r @ sZ
                if grad:
                    G += (self._slope(Z) * r[:, None]).T @ Xb
        S = (S / n).cpu().numpy()
        return S, ((G / n).cpu().numpy() if grad else None)
