"""Paths between two-layer networks, evaluated on the exact population risk.

The seven-segment path of Shevchenko & Mondelli (ICML 2020, Theorem 1(B);
docs/design.md section 5) connects two SGD solutions through their dropout networks; the
straight line and the neuron-aligned straight line are the baselines.  Each
is a :class:`meanfield.connectivity.PathVertices` (vertices ``[W, a[None]]``)
with :class:`PopulationRisk` bound as its loss, so ``path.barrier()``,
``path.dense(...)`` and ``path.vertex_losses()`` are exact risks; the path
itself is built from the weights alone (:func:`meanfield.connectivity.
dropout_connect`).

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: Theorem 1(B), eqs. (3.2) and (3.5).
.. [2] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Lemmas 1 and 2.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from .. import _checks
from ..connectivity import PathVertices, dropout_connect, segment_kind

#: Vertex names of the seven-segment path.
SEVEN_LABELS = ("theta", "dropout(theta) on A", "B1 -> w'_A", "dropout(theta') on B1",
                "A -> w'_A", "dropout(theta') on A", "B -> w'_B", "theta'")


class PopulationRisk:
    """The exact population risk of a two-layer net ``[W, a[None]]``: a loss for paths.

    Along an ``"a"`` segment (only ``a`` moves) the risk is the quadratic of
    :meth:`GaussianTask.risk_coefficients`, exact at every point from two
    kernel sums (:meth:`quadratic`).

    Parameters
    ----------
    task : GaussianTask

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (3.2).
    """

    def __init__(self, task):
        self.task = task

    def __call__(self, weights):
        W, top = weights
        return self.task.risk(top[0], W)

    def quadratic(self, weights0, weights1):
        """``[c0, c1, c2]``: the risk ``c0 + c1 lam + c2 lam^2`` from ``weights0`` to
        ``weights1``, which share ``W``."""
        return self.task.risk_coefficients(weights0[1][0], weights1[1][0], weights0[0])


def _path(task, weights, labels):
    """The path through ``weights`` with its kinds read off the vertices (a segment that
    moves nothing is ``"a"``) and the exact risk as its loss."""
    kinds = [segment_kind(u, v) for u, v in itertools.pairwise(weights)]
    return PathVertices(weights, kinds, labels, PopulationRisk(task))


def _pair(task, a, W, name):
    return _checks.network(a, W, task.d, name)


def _two(task, a, W, a2, W2):
    a, W = _pair(task, a, W, "")
    a2, W2 = _pair(task, a2, W2, "2")
    if a2.size != a.size:
        raise ValueError(f"the two networks must have the same N, got {a.size} and {a2.size}")
    return a, W, a2, W2


def seven_segment_vertices(a, W, a2, W2, A):
    """Vertices ``(a_k, W_k)``, k = 0..7, of the seven-segment path; see :func:`seven_segment_path`.

    Works on any neuron arrays: ``a`` of shape (N,) or (N, n_out) (one output
    vector per neuron) and ``W`` of shape (N, D).  This is the two-layer case
    of :func:`meanfield.connectivity.dropout_connect`.

    Returns
    -------
    a_vertices : numpy.ndarray, shape (8,) + a.shape
    W_vertices : numpy.ndarray, shape (8,) + W.shape
    labels : tuple of str
    """
    N = len(a)
    if a2.shape != a.shape or W2.shape != W.shape or len(W) != N:
        raise ValueError(f"the two networks must have the same shapes, got a {a.shape}, "
                         f"{a2.shape} and W {W.shape}, {W2.shape}")
    top = np.reshape(a, (N, -1)).T
    top2 = np.reshape(a2, (N, -1)).T
    pv = dropout_connect([W, top], [W2, top2], A)
    return (np.stack([v[1].T.reshape(a.shape) for v in pv.weights]),
            np.stack([v[0] for v in pv.weights]), SEVEN_LABELS)


def seven_segment_path(task, a, W, a2, W2, A):
    """The path of Shevchenko & Mondelli, Theorem 1(B), from ``theta`` to ``theta'``.

    With ``c = N/|A|``, ``B`` the complement of ``A`` and ``B1`` the first
    ``|A|`` indices of ``B`` (paired with ``A`` in order), the vertices are
    (docs/design.md section 5)::

        0  theta                    (a, W)
        1  dropout(theta) on A      a_A -> c a_A, a_B -> 0          [a: convex]
        2  B1 moved to w'_A         W_B1 -> W'_A (a_B1 = 0)         [w0: constant]
        3  dropout(theta') on B1    a -> (0 on A, c a'_A on B1)      [a: convex]
        4  A moved to w'_A          W_A -> W'_A (a_A = 0)           [w0: constant]
        5  dropout(theta') on A     a -> (c a'_A on A, 0 on B)       [a: constant, duplicates]
        6  B moved to w'_B          W_B -> W'_B (a_B = 0)           [w0: constant]
        7  theta'                   a -> a'                         [a: convex]

    so the maximum loss is attained at a vertex and ``eps_C <= max(eps_D(theta),
    eps_D(theta'))`` for this A.

    Parameters
    ----------
    task : GaussianTask
    a, W, a2, W2 : numpy.ndarray
        The two networks, same N.
    A : array_like of int
        Index set with ``1 <= |A| <= N/2``, chosen independently of both networks.

    Returns
    -------
    PathVertices
        Vertices ``[W, a[None]]``, kinds ``("a", "w0") * 3 + ("a",)`` (read
        off the vertices, :func:`meanfield.connectivity.segment_kind`), the
        exact risk bound as its loss (:class:`PopulationRisk`).

    Examples
    --------
    >>> import numpy as np
    >>> import meanfield as mf
    >>> from meanfield.dropout import draw_keep
    >>> from meanfield.twolayer import TwoLayerNet, dropout_gap
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> a, W = mf.InitialLaw().sample(40, task.d, np.random.default_rng(0))
    >>> a2, W2 = mf.InitialLaw().sample(40, task.d, np.random.default_rng(1))
    >>> A = draw_keep(40, 20, np.random.default_rng(2))
    >>> path = mf.seven_segment_path(task, a, W, a2, W2, A)
    >>> path.vertex_losses().shape                    # theta, 6 vertices between, theta'
    (8,)
    >>> eps_C = mf.barrier(path)
    >>> gaps = [dropout_gap(TwoLayerNet(task, a, W), A), dropout_gap(TwoLayerNet(task, a2, W2), A)]
    >>> bool(eps_C <= max(gaps) + 1e-12)              # Theorem 1(B) for this A
    True

    References
    ----------
    Shevchenko & Mondelli (2020), Theorem 1(B); it is
    :func:`meanfield.connectivity.dropout_connect` of the two nets.
    """
    a, W, a2, W2 = _two(task, a, W, a2, W2)
    return _path(task, dropout_connect([W, a[None]], [W2, a2[None]], A).weights, SEVEN_LABELS)


def straight_path(task, a, W, a2, W2):
    """The straight line from ``theta`` to ``theta'`` (one ``"general"`` segment).

    Returns
    -------
    PathVertices
        With the exact risk bound as its loss (:class:`PopulationRisk`); its
        one segment is ``"general"`` unless the vertices say more
        (:func:`meanfield.connectivity.segment_kind`: ``"a"`` when ``W' = W``).

    Examples
    --------
    >>> import numpy as np
    >>> import meanfield as mf
    >>> from meanfield.twolayer.paths import straight_path
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> a, W = mf.InitialLaw().sample(40, task.d, np.random.default_rng(0))
    >>> a2, W2 = mf.InitialLaw().sample(40, task.d, np.random.default_rng(1))
    >>> line = straight_path(task, a, W, a2, W2)
    >>> line.kinds
    ('general',)
    >>> bool(mf.barrier(line) >= 0)
    True

    References
    ----------
    Shevchenko & Mondelli (2020), Section 5 (the straight-line baseline).
    """
    a, W, a2, W2 = _two(task, a, W, a2, W2)
    return _path(task, [[W, a[None]], [W2, a2[None]]], ("theta", "theta'"))


def align(a, W, a2, W2):
    """Permutation ``perm`` with ``theta'[perm]`` matched to ``theta`` neuron by neuron.

    Minimises ``sum_i |a_i - a'_perm(i)|^2 + |w_i - w'_perm(i)|^2`` exactly
    (``scipy.optimize.linear_sum_assignment``); this is the W2 coupling of the
    two empirical laws restricted to permutations, which is optimal among all
    couplings for equal-size uniform laws.  Cost O(N^3) time and O(N^2)
    memory: about 3 s at N = 3200, 15 s at N = 6400 on one core.

    References
    ----------
    Shevchenko & Mondelli (2020), Section 5: permuting neurons leaves the
    network function of eq. (3.1) unchanged.
    """
    P = np.column_stack([np.asarray(a, float), np.asarray(W, float)])
    Q = np.column_stack([np.asarray(a2, float), np.asarray(W2, float)])
    if P.shape != Q.shape:
        raise ValueError(f"the two networks must have the same shape, got {P.shape} and {Q.shape}")
    rows, cols = linear_sum_assignment(cdist(P, Q, "sqeuclidean"))
    perm = np.empty_like(cols)
    perm[rows] = cols
    return perm


def aligned_path(task, a, W, a2, W2):
    """The straight line from ``theta`` to ``theta'`` with the neurons of ``theta'`` aligned.

    Permuting neurons leaves the loss unchanged, so the end is still a
    network with the loss of ``theta'``; only the path between changes.

    References
    ----------
    Shevchenko & Mondelli (2020), Section 5 (the aligned baseline); the permutation is
    :func:`align`.
    """
    perm = align(a, W, a2, W2)
    return straight_path(task, a, W, np.asarray(a2)[perm], np.asarray(W2)[perm])
