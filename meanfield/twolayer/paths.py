"""Piecewise-linear paths between two-layer networks and the loss along them.

The seven-segment path of Shevchenko & Mondelli (Theorem 1(B), DESIGN.md
section 5) connects two SGD solutions through their dropout networks; the
straight line and the neuron-aligned straight line are the baselines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment, minimize_scalar
from scipy.spatial.distance import cdist

from .. import _checks
from ..connectivity import dropout_connect
from ..dropout import check_keep

#: Segment kinds.  On an ``"a"`` segment only output weights move, so the loss
#: is a convex quadratic in the segment parameter and peaks at an end; on a
#: ``"w0"`` segment only hidden weights of neurons with a = 0 move, so the loss
#: is constant; a ``"general"`` segment needs a search for its maximum.
SEGMENT_KINDS = ("a", "w0", "general")


def segment_kind(a0, W0, a1, W1):
    """Kind of the segment between two vertices: one of :data:`SEGMENT_KINDS`."""
    moved = np.any(W0 != W1, axis=1)
    if not moved.any():
        return "a"
    if np.array_equal(a0, a1) and not np.any(a0[moved]):
        return "w0"
    return "general"


@dataclass
class Path:
    """A piecewise-linear path ``s -> theta(s)``, s in [0, K], through K + 1 vertices.

    Between vertices k and k + 1 both ``a`` and ``W`` interpolate linearly:
    ``theta(k + lam) = (1 - lam) theta_k + lam theta_{k+1}``.  Losses are the
    exact population risk of ``task``.

    Attributes
    ----------
    task : GaussianTask
    a : numpy.ndarray, shape (K + 1, N)
    W : numpy.ndarray, shape (K + 1, N, d)
    labels : tuple of str
        One name per vertex.
    kinds : tuple of str
        One of :data:`SEGMENT_KINDS` per segment, read off the vertices.
    """

    task: object
    a: np.ndarray
    W: np.ndarray
    labels: tuple
    kinds: tuple = field(init=False)
    _vloss: np.ndarray | None = field(default=None, init=False, repr=False)
    _coef: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self.a = np.ascontiguousarray(self.a, dtype=np.float64)
        self.W = np.ascontiguousarray(self.W, dtype=np.float64)
        if self.a.ndim != 2 or self.a.shape[0] < 2:
            raise ValueError(f"a must have shape (K + 1, N) with K >= 1, got {self.a.shape}")
        if self.W.shape != self.a.shape + (self.task.d,):
            raise ValueError(f"W must have shape {self.a.shape + (self.task.d,)}, "
                             f"got {self.W.shape}")
        if not (np.isfinite(self.a).all() and np.isfinite(self.W).all()):
            raise ValueError("path vertices must be finite")
        if len(self.labels) != self.a.shape[0]:
            raise ValueError(f"labels must name {self.a.shape[0]} vertices, got {len(self.labels)}")
        self.labels = tuple(self.labels)
        self.kinds = tuple(segment_kind(self.a[k], self.W[k], self.a[k + 1], self.W[k + 1])
                           for k in range(self.n_segments))

    @property
    def n_segments(self) -> int:
        return self.a.shape[0] - 1

    def vertex(self, k):
        """``(a, W)`` of vertex k (copies)."""
        return self.a[k].copy(), self.W[k].copy()

    def _locate(self, s):
        K = self.n_segments
        s = float(s)
        if not 0.0 <= s <= K:
            raise ValueError(f"s must lie in [0, {K}], got {s}")
        k = min(int(s), K - 1)
        return k, s - k

    def point(self, s):
        """``(a, W)`` at path parameter s in [0, K]; vertices are returned exactly."""
        k, lam = self._locate(s)
        if lam == 0.0:
            return self.vertex(k)
        if lam == 1.0:
            return self.vertex(k + 1)
        return ((1.0 - lam) * self.a[k] + lam * self.a[k + 1],
                (1.0 - lam) * self.W[k] + lam * self.W[k + 1])

    def loss(self, s):
        """Exact population risk at path parameter s."""
        return self.task.risk(*self.point(s))

    def vertex_losses(self):
        """Risk at each vertex, shape (K + 1,)."""
        if self._vloss is None:
            self._vloss = np.array([self.task.risk(self.a[k], self.W[k])
                                    for k in range(self.a.shape[0])])
        return self._vloss.copy()

    def quadratic(self, k):
        """``[c0, c1, c2]`` with loss ``c0 + c1 lam + c2 lam^2`` on an ``"a"`` segment k."""
        if self.kinds[k] != "a":
            raise ValueError(f"segment {k} is of kind {self.kinds[k]!r}, not 'a'")
        if k not in self._coef:
            self._coef[k] = self.task.risk_coefficients(self.a[k], self.a[k + 1], self.W[k])
        return self._coef[k]

    def segment_losses(self, k, n_points=33, closed_form=True):
        """Loss at ``n_points`` equispaced points of segment k (both ends included).

        With ``closed_form`` an ``"a"`` segment is evaluated from its exact
        quadratic (two kernel sums for the whole segment); otherwise, and on
        other kinds, every point costs one risk evaluation.

        Returns
        -------
        lam, loss : numpy.ndarray
        """
        if not 0 <= k < self.n_segments:
            raise ValueError(f"k must lie in [0, {self.n_segments - 1}], got {k}")
        n_points = _checks.positive_int("n_points", n_points)
        lam = np.linspace(0.0, 1.0, max(n_points, 2))
        if closed_form and self.kinds[k] == "a":
            c = self.quadratic(k)
            return lam, c[0] + lam * (c[1] + lam * c[2])
        return lam, np.array([self.loss(k + t) for t in lam])

    def dense(self, n_per_segment=33, closed_form=True):
        """Loss along the whole path: ``(s, loss)`` with ``n_per_segment`` points a segment."""
        s, out = [], []
        for k in range(self.n_segments):
            lam, f = self.segment_losses(k, n_per_segment, closed_form)
            keep = slice(None) if k == 0 else slice(1, None)
            s.append(k + lam[keep])
            out.append(f[keep])
        return np.concatenate(s), np.concatenate(out)

    def max_loss(self, n_grid=9, xatol=1e-3):
        """Maximum of the loss over the path, and where it is.

        ``"a"`` and ``"w0"`` segments peak at a vertex (convex quadratic,
        constant), so only vertices are evaluated there.  On a ``"general"``
        segment the loss is evaluated at ``n_grid`` interior points and the
        best one refined by a bounded scalar search to ``xatol`` in lam; this
        is a lower bound on the true maximum that is tight when the loss is
        unimodal on the grid spacing.

        Returns
        -------
        (float, float)
            The maximum loss and its path parameter s.
        """
        vl = self.vertex_losses()
        best = int(np.argmax(vl))
        top, arg = float(vl[best]), float(best)
        for k, kind in enumerate(self.kinds):
            if kind != "general":
                continue
            lam = np.linspace(0.0, 1.0, n_grid + 2)
            f = np.concatenate([[vl[k]], [self.loss(k + t) for t in lam[1:-1]], [vl[k + 1]]])
            j = int(np.argmax(f))
            if 0 < j < lam.size - 1:
                res = minimize_scalar(lambda t: -self.loss(k + t), method="bounded",
                                      bounds=(lam[j - 1], lam[j + 1]),
                                      options={"xatol": xatol})
                if -res.fun > f[j]:
                    f[j], lam[j] = -res.fun, res.x
            if f[j] > top:
                top, arg = float(f[j]), k + float(lam[j])
        return top, arg

    def barrier(self, **kw):
        """``eps_C = max over path - max(L(start), L(end))`` (>= 0)."""
        vl = self.vertex_losses()
        return self.max_loss(**kw)[0] - max(vl[0], vl[-1])


def _pair(task, a, W, name):
    return _checks.network(a, W, task.d, name)


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
    A = check_keep(A, 1, N, sort=False, name="A")[0]
    if 2 * A.size > N:
        raise ValueError(f"|A| must be at most N/2 = {N // 2} so that B can host theta'_A, "
                         f"got {A.size}")
    top = np.reshape(a, (N, -1)).T
    top2 = np.reshape(a2, (N, -1)).T
    pv = dropout_connect([W, top], [W2, top2], A)
    labels = ("theta", "dropout(theta) on A", "B1 -> w'_A", "dropout(theta') on B1",
              "A -> w'_A", "dropout(theta') on A", "B -> w'_B", "theta'")
    return (np.stack([v[1].T.reshape(a.shape) for v in pv.weights]),
            np.stack([v[0] for v in pv.weights]), labels)


def seven_segment_path(task, a, W, a2, W2, A):
    """The path of Shevchenko & Mondelli, Theorem 1(B), from ``theta`` to ``theta'``.

    With ``c = N/|A|``, ``B`` the complement of ``A`` and ``B1`` the first
    ``|A|`` indices of ``B`` (paired with ``A`` in order), the vertices are
    (DESIGN.md section 5)::

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
    Path
    """
    a, W = _pair(task, a, W, "")
    a2, W2 = _pair(task, a2, W2, "2")
    if a2.size != a.size:
        raise ValueError(f"the two networks must have the same N, got {a.size} and {a2.size}")
    return Path(task, *seven_segment_vertices(a, W, a2, W2, A))


def straight_path(task, a, W, a2, W2):
    """The straight line from ``theta`` to ``theta'`` (one general segment)."""
    a, W = _pair(task, a, W, "")
    a2, W2 = _pair(task, a2, W2, "2")
    if a2.size != a.size:
        raise ValueError(f"the two networks must have the same N, got {a.size} and {a2.size}")
    return Path(task, np.stack([a, a2]), np.stack([W, W2]), ("theta", "theta'"))


def align(a, W, a2, W2):
    """Permutation ``perm`` with ``theta'[perm]`` matched to ``theta`` neuron by neuron.

    Minimises ``sum_i |a_i - a'_perm(i)|^2 + |w_i - w'_perm(i)|^2`` exactly
    (``scipy.optimize.linear_sum_assignment``); this is the W2 coupling of the
    two empirical laws restricted to permutations, which is optimal among all
    couplings for equal-size uniform laws.  Cost O(N^3) time and O(N^2)
    memory: about 3 s at N = 3200, 15 s at N = 6400 on one core.
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
    """
    perm = align(a, W, a2, W2)
    return straight_path(task, a, W, np.asarray(a2)[perm], np.asarray(W2)[perm])
