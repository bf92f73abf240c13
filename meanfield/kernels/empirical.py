"""The elementwise part of the particle limit's field on a data set, fused in one pass.

For a block of rows with pre-activations ``Z = X_b W'`` (b, P), where the
first M columns are the population, :func:`residual_rows` computes in place,
row by row:

    S[p, j] = sigma(Z[p, j])
    r[p]    = y[p] - (1/M) sum_{j < M} a_ref[j] S[p, j]        (r = y when M = 0)
    Z[p, j] = sigma'(Z[p, j]) r[p]

so that ``S' r`` and ``Z' X_b`` are the block's contributions to the field
(:class:`meanfield.tasks.EmpiricalTask`).  One pass instead of four numpy
passes and two temporaries; rows run in parallel, each row on one thread with
its sum over j in order, so the bits depend on neither the thread count nor
the vector width.
"""

from __future__ import annotations

from numba import prange

from .._specialise import build
from ..activations import act_d1, act_value

_KIND = -1


def _residual_rows(p, Z, y, a_ref, M, S, r):
    kind = _KIND
    P = Z.shape[1]
    for i in prange(Z.shape[0]):
        f = 0.0
        for j in range(M):
            s = act_value(kind, p, Z[i, j])
            S[i, j] = s
            f += a_ref[j] * s
        for j in range(M, P):
            S[i, j] = act_value(kind, p, Z[i, j])
        ri = y[i] - f / M if M > 0 else y[i]
        r[i] = ri
        for j in range(P):
            Z[i, j] = act_d1(kind, p, Z[i, j]) * ri


def residual_rows(kind, p, Z, y, a_ref, M, S, r):
    """Fill ``S = sigma(Z)``, the residuals ``r`` and ``Z <- sigma'(Z) * r[:, None]``
    (see the module docstring); ``Z`` and ``S`` C-contiguous (b, P), ``M <= P``."""
    build(_residual_rows, parallel=True, kind=kind)(p, Z, y, a_ref, M, S, r)
