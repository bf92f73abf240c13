"""Wasserstein distances between particle clouds, through POT."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist


@dataclass(frozen=True)
class W2:
    """A W2 distance and how it was obtained."""

    value: float
    exact: bool
    method: str


def wasserstein2(X, Y, *, method="auto", exact_max=3000, n_projections=512, seed=0):
    """W2 between the uniform empirical laws of the rows of X and Y.

    The exact value comes from POT's network simplex (``ot.emd2``) with its
    iteration cap raised to ``100 n m``; if the solver still reports no
    optimum a RuntimeError is raised rather than a truncated value returned.

    Parameters
    ----------
    X, Y : array, shapes (n, D) and (m, D)
    method : {'auto', 'exact', 'sliced'}
        'auto' is exact up to ``exact_max`` points per cloud, sliced beyond.
    exact_max : int
        Largest cloud for which 'auto' solves the exact problem.
    n_projections, seed : int
        For the sliced distance (POT's Monte Carlo over directions); it is a
        lower bound of W2, not an estimate of it.

    Returns
    -------
    W2
        ``(value, exact, method)``: the distance, whether it is exact, and
        'exact' or 'sliced'.

    Examples
    --------
    Two clouds that differ by a shift ``v``: W2 is ``|v|``.

    >>> import numpy as np
    >>> from meanfield.transport import wasserstein2
    >>> X = np.random.default_rng(0).standard_normal((30, 3))
    >>> r = wasserstein2(X, X + [0.3, 0.4, 0.0])
    >>> round(r.value, 6), r.exact
    (0.5, True)
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1] or not len(X) or not len(Y):
        raise ValueError(f"X and Y must be non-empty (n, D) arrays with the same D, got "
                         f"{X.shape} and {Y.shape}")
    if method not in ("auto", "exact", "sliced"):
        raise ValueError(f"method must be 'auto', 'exact' or 'sliced', got {method!r}")
    # here, not at the top: POT imports torch when it is installed (~2 s), and every
    # command that imports the two-layer package (even for its --help) paid for it
    import ot

    n, m = len(X), len(Y)
    if method == "sliced" or (method == "auto" and max(n, m) > exact_max):
        v = ot.sliced_wasserstein_distance(X, Y, n_projections=n_projections, p=2, seed=seed)
        return W2(float(v), False, "sliced")
    # differences, not |x|^2 + |y|^2 - 2 x.y: identical clouds must give exactly 0
    C = cdist(X, Y, "sqeuclidean")
    cost, log = ot.emd2(np.full(n, 1.0 / n), np.full(m, 1.0 / m), C,
                        numItermax=max(100_000, 100 * n * m), log=True)
    if log.get("result_code", 1) != 1 or log.get("warning"):
        raise RuntimeError(f"exact W2: POT's solver did not reach the optimum "
                           f"({log.get('warning')}); use method='sliced'")
    return W2(float(np.sqrt(max(cost, 0.0))), True, "exact")
