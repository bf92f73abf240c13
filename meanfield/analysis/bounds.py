"""Shapes of the bounds (3.7) and (3.8) of Shevchenko & Mondelli, with fitted constants.

Theorem 1 bounds hold with an unknown constant K (exponential in T).  The
functions here give the N-, |A|-, alpha- and D-dependence; :func:`fit_constant`
finds the K that matches measurements, so the shapes can be compared with
the data without assuming K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _arrays(**kw):
    out = {k: np.asarray(v, dtype=float) for k, v in kw.items()}
    for k, v in out.items():
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{k} must be finite")
    return out


def dropout_shape(size, N, alpha, D, z=1.0):
    r"""``(sqrt(log|A|) + z) / sqrt|A| + sqrt(alpha) (sqrt(D + log N) + z)``, eq. (3.7) over K.

    Theorem 1(A) of Shevchenko & Mondelli bounds ``eps_D`` by ``K`` times

    .. math::

        \frac{\sqrt{\log \lvert A\rvert} + z}{\sqrt{\lvert A\rvert}}
        + \sqrt{\alpha}\,\big(\sqrt{D + \log N} + z\big)

    with probability at least :math:`1 - e^{-z^2}`.

    Parameters
    ----------
    size : array_like
        ``|A|`` >= 1.
    N : array_like
        Network width, >= size.
    alpha : array_like
        SGD step size, >= 0.
    D : int
        The input dimension d: in (3.7) a neuron's parameters ``theta_i = (a_i, w_i)``
        lie in ``R^(D+1)``, so ``D = d`` (not d + 1).
    z : float
        Confidence parameter: the bound holds with probability 1 - exp(-z^2).

    Returns
    -------
    numpy.ndarray
        The shape, broadcast over the arguments.

    Examples
    --------
    At ``|A| = N/2`` and ``alpha = 1/N`` the shape falls like ``N^(-1/2)`` up to logarithms:

    >>> import numpy as np
    >>> from meanfield.analysis import dropout_shape
    >>> N = np.array([100, 400, 1600])
    >>> s = dropout_shape(N // 2, N, 1 / N, D=20)
    >>> np.round(s, 3)
    array([1.017, 0.538, 0.283])
    >>> np.round(np.diff(np.log(s)) / np.diff(np.log(N)), 2)     # local slopes
    array([-0.46, -0.46])
    """
    v = _arrays(size=size, N=N, alpha=alpha, D=D, z=z)
    if np.any(v["size"] < 1) or np.any(v["N"] < v["size"]):
        raise ValueError("size must be >= 1 and N >= size")
    if np.any(v["alpha"] < 0) or np.any(v["D"] < 1) or np.any(v["z"] < 0):
        raise ValueError("alpha must be >= 0, D >= 1 and z >= 0")
    return ((np.sqrt(np.log(v["size"])) + v["z"]) / np.sqrt(v["size"])
            + np.sqrt(v["alpha"]) * (np.sqrt(v["D"] + np.log(v["N"])) + v["z"]))


def connectivity_shape(N, alpha, D, z=1.0):
    """``(sqrt(log N) + z) / sqrt N + sqrt(alpha) (sqrt(D + log N) + z)``, eq. (3.8) over K."""
    return dropout_shape(N, N, alpha, D, z)


@dataclass(frozen=True)
class BoundFit:
    """Constant K of a bound ``y <= K shape``.

    ``K_fit`` is the least-squares fit of ``log y = log K + log shape`` (the
    geometric-mean ratio); ``K_envelope`` is the smallest K with
    ``y <= K shape`` for every measurement.
    """

    K_fit: float
    K_envelope: float


def fit_constant(y, shape) -> BoundFit:
    """Fit K in ``y ~ K shape`` from measurements ``y >= 0`` (zeros are ignored by K_fit)."""
    y = np.asarray(y, dtype=float).ravel()
    shape = np.asarray(shape, dtype=float).ravel()
    if y.shape != shape.shape or y.size == 0:
        raise ValueError(f"y and shape must have the same non-zero length, got {y.size} "
                         f"and {shape.size}")
    if np.any(shape <= 0) or np.any(y < 0) or not np.all(np.isfinite(y)):
        raise ValueError("shape must be > 0 and y finite and >= 0")
    pos = y > 0
    if not pos.any():
        raise ValueError("y has no positive entry to fit K to")
    k_fit = float(np.exp(np.mean(np.log(y[pos] / shape[pos]))))
    return BoundFit(k_fit, float(np.max(y / shape)))
