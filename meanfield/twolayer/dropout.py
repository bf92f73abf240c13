"""Dropout networks of Shevchenko & Mondelli eq. (3.4)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import _checks


def check_subset(A, N) -> np.ndarray:
    """Validate a dropout index set: integers in [0, N), no duplicates, 1 <= |A| <= N."""
    A = np.asarray(A)
    if A.ndim != 1 or (A.size and not np.issubdtype(A.dtype, np.integer)):
        raise ValueError(f"A must be a 1-D array of integer indices, got {A!r}")
    if not 1 <= A.size <= N:
        raise ValueError(f"|A| must lie in [1, N] = [1, {N}], got {A.size}")
    if A.min() < 0 or A.max() >= N:
        raise ValueError(f"A must hold indices in [0, {N - 1}], got min {A.min()}, max {A.max()}")
    if np.unique(A).size != A.size:
        raise ValueError("A must not contain duplicate indices")
    return A


def dropout_loss(task, a, W, A):
    """``L_|A|(theta_A)`` of eq. (3.4): keep the neurons in A, output ``(1/|A|) sum_{i in A}``.

    Equivalent to rescaling the kept output weights by ``N/|A|`` and zeroing the
    others; exact through ``task.risk``.
    """
    a, W = _checks.network(a, W, task.d)
    A = check_subset(A, a.size)
    return task.risk(a[A], W[A])


def dropout_gap(task, a, W, A):
    """``eps_D = |L_N(theta) - L_|A|(theta_A)|`` (Definition 3.1)."""
    return abs(task.risk(a, W) - dropout_loss(task, a, W, A))


def random_subset(N, size, rng):
    """A uniformly random subset of ``size`` indices of ``range(N)``, sorted."""
    N = _checks.positive_int("N", N)
    if not isinstance(size, numbers.Integral) or not 1 <= size <= N:
        raise ValueError(f"size must be an integer in [1, N] = [1, {N}], got {size!r}")
    return np.sort(_checks.generator(rng).choice(N, size=int(size), replace=False))
