"""The data-law protocol: what SGD, the particle limit and the connectivity tools ask of a task.

A task is a law of ``(x, y)`` together with the mean-field functionals of the
student ``sigma_*(x; theta) = a sigma(<w, x>)``:

    V(theta)          = -E[y sigma_*(x; theta)]
    U(theta, theta')  =  E[sigma_*(x; theta) sigma_*(x; theta')]
    Psi(theta; rho)   =  V(theta) + int U(theta, theta') rho(dtheta')
    R(rho)            =  E[y^2] + 2 int V drho + int int U drho drho

(Mei, Montanari & Nguyen 2018 eqs. (6)-(8)).  The Gaussian tasks
(:class:`~meanfield.tasks.GaussianTask`) compute them in closed form or by
quadrature; :class:`~meanfield.tasks.EmpiricalTask` as exact means over a
data set.  Anything that implements :class:`DataLaw` runs through SGD
(eq. (3.3) of Shevchenko & Mondelli), the particle limit, the coupling, the
dropout and path tools.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..activations import Activation

#: The members a task must have, in the order :func:`check_task` reports them.
MEMBERS = ("d", "activation", "name", "ey2", "sample", "risk", "grad_V", "V", "U", "grad1_U",
           "grad_psi", "psi", "self_kernel", "risk_coefficients", "describe", "_risk",
           "_grad_psi")


@runtime_checkable
class DataLaw(Protocol):
    """A law of ``(x, y)`` with the mean-field functionals of a two-layer net.

    Networks are passed as ``(a, W)``, shapes (N,) and (N, d), and stand for
    ``yhat(x) = (1/N) sum_i a_i sigma(<w_i, x>)``.

    Attributes
    ----------
    d : int
        Input dimension.
    activation : Activation
        The student's sigma (SGD's kernels read ``kind`` and ``p``).
    name : str
        Short name stored in result tables.
    ey2 : float
        ``E[y^2]``, the risk of the zero network.

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (6)-(8): V, U, Psi and R.
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, eq. (3.2):
    ``L_N(theta)`` is R of the neurons' empirical law.
    """

    d: int
    activation: Activation
    name: str
    ey2: float

    def sample(self, n, rng) -> tuple[np.ndarray, np.ndarray]:
        """``n`` i.i.d. pairs ``(X (n, d), y (n,))`` drawn from ``rng`` (SGD's data stream)."""

    def risk(self, a, W) -> float:
        """``L_N(theta) = E[(y - yhat(x))^2]``, exactly (eq. (3.2))."""

    def grad_V(self, a, W) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(V, dV/da, dV/dW)`` per neuron."""

    def V(self, a, W) -> np.ndarray:
        """``V(theta_i)`` per neuron."""

    def U(self, a1, W1, a2, W2) -> np.ndarray:
        """``U(theta_i, theta'_j)``, shape (N1, N2)."""

    def grad1_U(self, a1, W1, a2, W2) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of U in its first argument: ``(dU/da1 (N1, N2), dU/dW1 (N1, N2, d))``."""

    def grad_psi(self, a, W, a_ref, W_ref) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(Psi, dPsi/da, dPsi/dW)`` per row of ``(a, W)``, rho the reference's empirical law:
        the particle limit's field is ``-2 xi grad Psi``."""

    def psi(self, a, W, a_ref, W_ref) -> np.ndarray:
        """``Psi(theta_i; rho)`` per row."""

    def self_kernel(self, W) -> np.ndarray:
        """``E[sigma(<w_i, x>)^2]`` per row (the diagonal of U without the output weights)."""

    def risk_coefficients(self, a0, a1, W) -> np.ndarray:
        """``[c0, c1, c2]`` with ``L_N((1 - s) a0 + s a1, W) = c0 + c1 s + c2 s^2``."""

    def describe(self) -> str:
        """The task in words, for figure titles."""

    def _risk(self, a, W) -> float:
        """:meth:`risk` on arrays already checked (the particle limit's inner loop)."""

    def _grad_psi(self, a, W, a_ref, W_ref):
        """:meth:`grad_psi` on arrays already checked (the particle limit's RK stages)."""


def leading_rows(W, W_ref):
    """Whether ``W_ref`` is the memory of ``W``'s first rows (the particle limit passes
    the reference as ``W[:M]``; a population against itself passes ``W``): the same
    numbers by construction, so a task may treat those rows as the reference."""
    return (W_ref.ndim == W.ndim == 2 and 0 < W_ref.shape[0] <= W.shape[0]
            and W_ref.shape[1] == W.shape[1] and W_ref.dtype == W.dtype
            and W_ref.strides == W.strides and W_ref.ctypes.data == W.ctypes.data)


def check_task(task, name="task"):
    """Return ``task`` if it implements :class:`DataLaw`, else raise a TypeError naming
    what is missing (the entry check of SGD, the particle limit and the coupling)."""
    missing = [m for m in MEMBERS if not hasattr(task, m)]
    if missing:
        raise TypeError(f"{name} must implement meanfield.tasks.DataLaw (a GaussianTask or an "
                        f"EmpiricalTask); {type(task).__name__} lacks {', '.join(missing)}")
    return task


__all__ = ["DataLaw", "MEMBERS", "check_task"]
