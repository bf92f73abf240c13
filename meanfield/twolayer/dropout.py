"""Dropout networks of Shevchenko & Mondelli eq. (3.4), and their rescaled variant.

Index sets ``A`` are 1-D integer arrays into ``range(N)``; they are drawn
independently of the network, from their own generator, as Definition 3.1
requires.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

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


def _size(name, size, N):
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or not 1 <= size <= N:
        raise ValueError(f"{name} must be an integer in [1, N] = [1, {N}], got {size!r}")
    return int(size)


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


def dropout_bias(task, a, W, size, risk=None):
    """``E_A[L_|A|(theta_A)] - L_N(theta)`` over uniform random A of the given size, exactly.

    Averaging eq. (3.4) over A keeps the V term and reweights the U term of
    eq. (3.2): with ``u_ij = U(theta_i, theta_j)`` and ``m = |A|``,

        E_A L_m - L_N = (1/m - 1/N) (mean_i u_ii - mean_{i != j} u_ij),

    a deterministic shift of order ``1/m`` next to the ``m^(-1/2)``
    fluctuations of ``L_m`` around its mean: the self-interaction a neuron
    loses when its neighbours are dropped.

    Parameters
    ----------
    task : GaussianTask
    a, W : numpy.ndarray
    size : int
        ``|A|`` in [1, N].
    risk : float, optional
        ``L_N(theta)`` when already known; saves the O(N^2) pass.
    """
    a, W = _checks.network(a, W, task.d)
    N = a.size
    m = _size("size", size, N)
    if N == 1:
        return 0.0
    L = task.risk(a, W) if risk is None else float(risk)
    # a' U a from the risk itself: L = E y^2 + (2/N) sum V + (1/N^2) a'Ua
    total = N * N * (L - task.ey2) - 2.0 * N * task.V(a, W).sum()
    diag = float(np.sum(a * a * task.self_kernel(W)))
    return (1.0 / m - 1.0 / N) * (diag / N - (total - diag) / (N * (N - 1)))


def first_half(N):
    """The index set ``{0, ..., N//2 - 1}`` (the 'second half removed' pattern)."""
    N = _checks.positive_int("N", N)
    if N < 2:
        raise ValueError(f"N must be >= 2 to keep half of the neurons, got {N}")
    return np.arange(N // 2)


def random_subset(N, size, rng):
    """A uniformly random subset of ``size`` indices of ``range(N)``, sorted."""
    N = _checks.positive_int("N", N)
    size = _size("size", size, N)
    return np.sort(_checks.generator(rng).choice(N, size=size, replace=False))


def nested_subsets(N, sizes, rng):
    """Random nested index sets ``A_1 ⊂ A_2 ⊂ ...`` with ``|A_k| = sizes[k]``.

    The sets are prefixes of one uniform random permutation, so each is a
    uniform random subset of its size and a sweep over ``|A|`` changes one
    thing at a time.

    Parameters
    ----------
    N : int
    sizes : sequence of int
        Strictly increasing, in [1, N].
    rng : numpy.random.Generator or int

    Returns
    -------
    list of numpy.ndarray
        Sorted index arrays, one per size.
    """
    N = _checks.positive_int("N", N)
    sizes = [_size("sizes[%d]" % k, s, N) for k, s in enumerate(sizes)]
    if not sizes or any(b <= a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"sizes must be a non-empty strictly increasing sequence, got {sizes}")
    perm = _checks.generator(rng).permutation(N)
    return [np.sort(perm[:s]) for s in sizes]


@dataclass(frozen=True)
class RescaledDropout:
    """Best rescaled dropout network over several random index sets.

    ``scale`` multiplies the eq. (3.4) network, so ``scale = 1`` is the
    fixed ``N/|A|`` rescaling and the output weights of the best network are
    ``scale * N/|A| * a_A``.
    """

    loss: float
    scale: float
    subset: np.ndarray
    losses: np.ndarray
    scales: np.ndarray
    fixed_losses: np.ndarray


def rescaled_dropout(task, a, W, size, n_draws=20, rng=None, subsets=None):
    """Dropout with an optimised output scale, best of ``n_draws`` subsets (Kuditipudi et al.).

    Kuditipudi et al. (2019), Definition 1 keep half of the units and rescale
    their outputs by a factor chosen for the lowest loss.  For each random A
    of the given size the scale r minimises ``L(r) = L_|A|(r theta_A)`` (a
    applied to the output weights), found with ``scipy.optimize.minimize_scalar``
    (Brent).  For the square loss ``L(r)`` is the exact quadratic of
    :meth:`GaussianTask.risk_coefficients`, so each evaluation costs O(1)
    after two kernel sums, and Brent's parabolic step lands on the minimum.

    Parameters
    ----------
    task : GaussianTask
    a, W : numpy.ndarray
        Network of width N.
    size : int
        ``|A|`` in [1, N].
    n_draws : int
        Number of random subsets tried (Kuditipudi et al. use 20).
    rng : numpy.random.Generator or int
        Source of the subsets (independent of the network).
    subsets : sequence of index arrays, optional
        Use these instead of drawing ``n_draws`` random ones.

    Returns
    -------
    RescaledDropout
    """
    a, W = _checks.network(a, W, task.d)
    N = a.size
    if subsets is None:
        size = _size("size", size, N)
        n_draws = _checks.positive_int("n_draws", n_draws)
        if rng is None:
            raise ValueError("rng is required when subsets are not given")
        gen = _checks.generator(rng)
        subsets = [random_subset(N, size, gen) for _ in range(n_draws)]
    else:
        subsets = [check_subset(A, N) for A in subsets]
        if not subsets:
            raise ValueError("subsets must hold at least one index set")
    losses, scales, fixed = (np.empty(len(subsets)) for _ in range(3))
    for k, A in enumerate(subsets):
        c = task.risk_coefficients(np.zeros(A.size), a[A], W[A])
        if c[2] <= 0.0:  # the kept output is identically zero: every scale is alike
            res_x, res_f = 1.0, float(c[0])
        else:
            res = minimize_scalar(lambda r: c[0] + r * (c[1] + r * c[2]), method="brent")
            res_x, res_f = float(res.x), float(res.fun)
        scales[k], losses[k], fixed[k] = res_x, res_f, float(c.sum())
    best = int(np.argmin(losses))
    return RescaledDropout(float(losses[best]), float(scales[best]), subsets[best], losses,
                           scales, fixed)
