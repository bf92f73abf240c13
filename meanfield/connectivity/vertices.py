"""The path type: piecewise-linear paths between nets, their losses and their barrier.

A path is the list of its vertices, each the list of layer matrices of a
net, with the kind of every segment between them (:class:`PathVertices`).
The constructions of :mod:`meanfield.connectivity` (Lemmas 1 and 2 of
Kuditipudi et al., the seven-segment path of Shevchenko & Mondelli, the
path of Theorem 4.1 of Nguyen, Bréchet & Mondelli) and the straight lines
build it from weights alone.  Evaluating it is the caller's loss function
(the exact population risk of a two-layer net, a Monte Carlo risk, a loss
on a data set), passed to the methods or bound to the path
(``loss_fn``); :func:`barrier` is the one barrier, ``eps_C``.

A loss is ``loss(weights) -> float``, or an array of per-sample losses
whose mean is the loss (then :func:`barrier` also gives the paired standard
error).  Two optional attributes speed it up where the kind of a segment
allows: ``loss.quadratic(weights0, weights1) -> (c0, c1, c2)``, the loss
``c0 + c1 lam + c2 lam^2`` in closed form along an ``"a"`` segment, and
``loss.shortcut = True``: a vertex after a segment whose output is constant
takes the loss of the vertex before it.

Layout of a net with H hidden layers of N neurons: ``weights[0]`` has shape
(N, D0) (rows: neurons of hidden layer 1), ``weights[m]`` for ``1 <= m < H``
has shape (N, N) (rows: layer m + 1, columns: layer m), or (N, N + 1) in
every middle layer when the hidden layers have biases (the last column),
``weights[H]`` has shape (n_out, N).  A two-layer net ``(a, W)`` is
``[W, a[None]]``.

References
----------
.. [1] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Lemmas 1 and 2.
.. [2] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: Theorem 1(B), eq. (3.5) and eq. (4.5) (``eps_C``).
.. [3] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021: Theorem 4.1 and Claim 5.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _checks

#: The segment kinds, each with what the network output does along it.
#:
#: ``"a"``: only the top layer moves, the output is the linear interpolation
#: of the vertex outputs, so a loss convex in the output (square,
#: cross-entropy) peaks at an end; ``"w0"``: only incoming weights of neurons
#: whose outgoing weights are zero move (or of neurons feeding only such
#: neurons), the output is constant; ``"swap"``: a step of Claim 5.1 of Nguyen
#: et al., the output is constant; ``"general"``: anything else, a forward pass
#: per point and a search for the maximum.
SEGMENT_KINDS = {"a": "linear", "w0": "constant", "swap": "constant", "general": None}


def segment_kind(weights0, weights1):
    """The most specific of :data:`SEGMENT_KINDS` for the segment between two vertices,
    read off them.

    ``"a"`` when no hidden layer's incoming weights move; ``"w0"`` when the top
    layer does not move and every neuron whose incoming weights move has zero
    outgoing weights at both ends (so it feeds nothing anywhere on the
    segment); ``"general"`` otherwise.  This is exact for two-layer nets; in
    deeper nets a construction may know more (a ``"w0"`` step that moves
    neurons feeding only such neurons, a ``"swap"`` step), and says so itself.

    References
    ----------
    Shevchenko & Mondelli (2020), Theorem 1(B): the segments of the
    seven-segment path.
    """
    moved = [np.any(u != v, axis=1) for u, v in zip(weights0[:-1], weights1[:-1])]
    if not any(m.any() for m in moved):
        return "a"
    if np.array_equal(weights0[-1], weights1[-1]) and not any(
            np.any(o0[:, :m.size][:, m]) or np.any(o1[:, :m.size][:, m])
            for m, o0, o1 in zip(moved, weights0[1:], weights1[1:])):
        return "w0"
    return "general"


def _scalar(value):
    """A loss value as one number: per-sample losses by their mean."""
    return value if np.ndim(value) == 0 else float(np.mean(value))


@dataclass
class PathVertices:
    """A piecewise-linear path ``s -> theta(s)``, s in [0, K], through K + 1 nets.

    Between vertices k and k + 1 every layer interpolates linearly:
    ``theta(k + lam) = (1 - lam) theta_k + lam theta_{k+1}``.

    Attributes
    ----------
    weights : list of list of numpy.ndarray
        ``weights[k]`` is the list of layer matrices at vertex k.  Vertices share
        the matrices a step leaves unchanged: treat them as read-only.
    kinds : tuple of str
        One of :data:`SEGMENT_KINDS` per segment.
    labels : tuple of str
        One name per vertex.
    loss_fn : callable, optional
        The loss the methods use when they are given none (module docstring);
        its vertex losses and closed forms are cached.

    References
    ----------
    Kuditipudi et al. (2019), Lemmas 1-2; Shevchenko & Mondelli (2020),
    Theorem 1(B); Nguyen, Bréchet & Mondelli (2021), Theorem 4.1.
    """

    weights: list
    kinds: tuple
    labels: tuple
    loss_fn: object = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        self.weights = list(self.weights)
        self.kinds, self.labels = tuple(self.kinds), tuple(self.labels)
        K = len(self.weights) - 1
        if K < 1:
            raise ValueError(f"a path needs at least two vertices, got {K + 1}")
        if len(self.kinds) != K:
            raise ValueError(f"kinds must name {K} segments, got {len(self.kinds)}")
        if len(self.labels) != K + 1:
            raise ValueError(f"labels must name {K + 1} vertices, got {len(self.labels)}")
        bad = [k for k in self.kinds if k not in SEGMENT_KINDS]
        if bad:
            raise ValueError(f"kinds must be among {', '.join(SEGMENT_KINDS)}, got {bad[0]!r}")
        shapes = [np.shape(w) for w in self.weights[0]]
        for k, ws in enumerate(self.weights[1:], start=1):
            if [np.shape(w) for w in ws] != shapes:
                raise ValueError(f"vertex {k} does not have the layer shapes {shapes} of "
                                 "vertex 0")

    @property
    def n_segments(self):
        return len(self.weights) - 1

    def reversed(self):
        return PathVertices(self.weights[::-1], self.kinds[::-1], self.labels[::-1],
                            self.loss_fn)

    def with_loss(self, loss):
        """The same path (same arrays) with ``loss`` bound as its loss."""
        return PathVertices(self.weights, self.kinds, self.labels, loss)

    def vertex(self, k):
        """Layer matrices of vertex k."""
        return list(self.weights[k])

    def _locate(self, s):
        K = self.n_segments
        s = float(s)
        if not 0.0 <= s <= K:
            raise ValueError(f"s must lie in [0, {K}], got {s}")
        k = min(int(s), K - 1)
        return k, s - k

    def point(self, s):
        """Layer matrices at path parameter s in [0, K]; vertices are returned exactly."""
        k, lam = self._locate(s)
        if lam == 0.0:
            return self.vertex(k)
        if lam == 1.0:
            return self.vertex(k + 1)
        return [(1 - lam) * a + lam * b for a, b in zip(self.weights[k], self.weights[k + 1])]

    def _fn(self, loss):
        fn = self.loss_fn if loss is None else loss
        if fn is None:
            raise ValueError("no loss to evaluate the path with: pass loss (a function of the "
                             "layer matrices) or build the path with loss_fn")
        return fn

    def loss(self, s, loss=None):
        """The loss at path parameter s."""
        return self._fn(loss)(self.point(s))

    def vertex_losses(self, loss=None):
        """Loss at each vertex: shape (K + 1,), or (K + 1, n) for per-sample losses.

        With ``loss.shortcut`` a vertex after a constant-output segment
        (:data:`SEGMENT_KINDS`) reuses the losses of the vertex before it.
        """
        fn = self._fn(loss)
        if fn is self.loss_fn and "vertex" in self._cache:
            return self._cache["vertex"].copy()
        reuse = getattr(fn, "shortcut", False)
        out = []
        for k, w in enumerate(self.weights):
            if reuse and k and SEGMENT_KINDS[self.kinds[k - 1]] == "constant":
                out.append(out[-1])
            else:
                out.append(fn(w))
        out = np.stack(out)
        if fn is self.loss_fn:
            self._cache["vertex"] = out.copy()
        return out

    def quadratic(self, k, loss=None):
        """``[c0, c1, c2]`` with loss ``c0 + c1 lam + c2 lam^2`` on an ``"a"`` segment k.

        Needs a loss with a closed form (``loss.quadratic``).
        """
        if SEGMENT_KINDS[self.kinds[k]] != "linear":
            raise ValueError(f"segment {k} is of kind {self.kinds[k]!r}, not 'a'")
        fn = self._fn(loss)
        if not hasattr(fn, "quadratic"):
            raise ValueError("the loss has no closed form along an 'a' segment (quadratic)")
        if fn is self.loss_fn and ("quadratic", k) in self._cache:
            return self._cache[("quadratic", k)]
        c = fn.quadratic(self.weights[k], self.weights[k + 1])
        if fn is self.loss_fn:
            self._cache[("quadratic", k)] = c
        return c

    def segment_losses(self, k, n_points=33, closed_form=True, loss=None):
        """Loss at ``n_points`` equispaced points of segment k (both ends included).

        With ``closed_form`` an ``"a"`` segment is evaluated from the loss's
        exact quadratic when it has one; otherwise every point costs one
        evaluation of the loss.

        Returns
        -------
        lam, loss : numpy.ndarray
        """
        if not 0 <= k < self.n_segments:
            raise ValueError(f"k must lie in [0, {self.n_segments - 1}], got {k}")
        n_points = _checks.positive_int("n_points", n_points)
        fn = self._fn(loss)
        lam = np.linspace(0.0, 1.0, max(n_points, 2))
        if closed_form and SEGMENT_KINDS[self.kinds[k]] == "linear" and \
                hasattr(fn, "quadratic"):
            c = self.quadratic(k, fn)
            return lam, c[0] + lam * (c[1] + lam * c[2])
        return lam, np.array([fn(self.point(k + t)) for t in lam])

    def dense(self, n_per_segment=33, closed_form=True, loss=None):
        """Loss along the whole path: ``(s, loss)`` with ``n_per_segment`` points a segment."""
        s, out = [], []
        for k in range(self.n_segments):
            lam, f = self.segment_losses(k, n_per_segment, closed_form, loss)
            keep = slice(None) if k == 0 else slice(1, None)
            s.append(k + lam[keep])
            out.append(f[keep])
        return np.concatenate(s), np.concatenate(out)

    def max_loss(self, n_grid=9, xatol=1e-3, loss=None):
        """Maximum of the loss over the path, and where it is.

        Segments of kind ``"a"``, ``"w0"`` and ``"swap"`` peak at a vertex
        (for a loss convex in the output), so only vertices are evaluated
        there.  On a ``"general"`` segment the loss is evaluated at
        ``n_grid`` interior points and the best one refined by a bounded
        scalar search to ``xatol`` in lam; this is a lower bound on the true
        maximum that is tight when the loss is unimodal on the grid spacing.

        Returns
        -------
        (float, float)
            The maximum loss and its path parameter s.
        """
        from scipy.optimize import minimize_scalar

        fn = self._fn(loss)
        vl = self.vertex_losses(fn)
        if vl.ndim == 2:
            vl = vl.mean(axis=1)
        best = int(np.argmax(vl))
        top, arg = float(vl[best]), float(best)
        for k, kind in enumerate(self.kinds):
            if SEGMENT_KINDS[kind] is not None:
                continue
            lam = np.linspace(0.0, 1.0, n_grid + 2)
            f = np.concatenate([[vl[k]], [_scalar(fn(self.point(k + t))) for t in lam[1:-1]],
                                [vl[k + 1]]])
            j = int(np.argmax(f))
            if 0 < j < lam.size - 1:
                res = minimize_scalar(lambda t, k=k: -_scalar(fn(self.point(k + t))),
                                      method="bounded", bounds=(lam[j - 1], lam[j + 1]),
                                      options={"xatol": xatol})
                if -res.fun > f[j]:
                    f[j], lam[j] = -res.fun, res.x
            if f[j] > top:
                top, arg = float(f[j]), k + float(lam[j])
        return top, arg

    def profile(self, outputs, measure, n_per_segment=17, shortcut=True):
        """Measures along the path from the network outputs.

        On ``"a"`` segments the output is the linear interpolation of the
        vertex outputs and on ``"w0"`` and ``"swap"`` segments it is
        constant, so those points cost no forward pass; ``"general"`` points
        call ``outputs``.

        Parameters
        ----------
        outputs : callable
            ``outputs(weights) -> array`` of the network outputs on the data.
        measure : callable
            ``measure(out) -> dict`` of numbers (loss, error, ...).
        n_per_segment : int
            Points per segment, ends included (>= 2).
        shortcut : bool
            False evaluates every point by ``outputs``, to check the
            construction rather than rely on it.

        Returns
        -------
        list of dict
            ``s``, ``segment``, ``kind``, ``label`` (vertices only) and the measures.
        """
        if int(n_per_segment) < 2:
            raise ValueError(f"n_per_segment must be >= 2, got {n_per_segment}")
        vout = [outputs(w) for w in self.weights]
        lam = np.linspace(0.0, 1.0, int(n_per_segment))
        rows = []
        for k, kind in enumerate(self.kinds):
            for j, t in enumerate(lam):
                if k > 0 and j == 0:
                    continue
                if t in (0.0, 1.0) or (shortcut and SEGMENT_KINDS[kind] is not None):
                    out = (1 - t) * vout[k] + t * vout[k + 1]
                else:
                    out = outputs(self.point(k + t))
                label = self.labels[k] if t == 0.0 else self.labels[k + 1] if t == 1.0 else ""
                rows.append({"s": k + float(t), "segment": k, "kind": kind, "label": label,
                             **measure(out)})
        return rows


def barrier(path, loss=None, n_grid=9, xatol=1e-3, with_error=False):
    r"""``eps_C``: the largest loss along the path minus the larger loss of its two ends (>= 0).

    .. math::

        \varepsilon_C = \max_{s \in [0, 1]} L(\pi(s)) - \max\{L(\pi(0)), L(\pi(1))\}.

    Parameters
    ----------
    path : PathVertices
    loss : callable, optional
        The caller's loss (module docstring); the path's ``loss_fn`` when None.
    n_grid, xatol : int, float
        The search on ``"general"`` segments (:meth:`PathVertices.max_loss`).
    with_error : bool
        Also return the standard error and the vertex losses.

    Returns
    -------
    float, or (float, float, numpy.ndarray)
        ``eps_C``, and with ``with_error`` its standard error and the loss at
        each vertex.  For per-sample losses the path must peak at a vertex
        (no ``"general"`` segment); ``eps_C`` is then the mean over the
        sample of the worst vertex's minus the worse end's losses, and the
        standard error that of this paired difference.  An exact loss has
        standard error 0.

    Examples
    --------
    A path whose loss peaks at a vertex: the barrier is read off the vertices.

    >>> import numpy as np
    >>> import meanfield as mf
    >>> from meanfield.dropout import draw_keep
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> a, W = mf.InitialLaw().sample(40, task.d, np.random.default_rng(0))
    >>> a2, W2 = mf.InitialLaw().sample(40, task.d, np.random.default_rng(1))
    >>> path = mf.seven_segment_path(task, a, W, a2, W2, draw_keep(40, 20, 2))
    >>> L = path.vertex_losses()
    >>> bool(np.isclose(mf.barrier(path), max(L.max() - max(L[0], L[-1]), 0.0)))
    True

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (3.5) and eq. (4.5).
    """
    fn = path._fn(loss)
    vl = path.vertex_losses(fn)
    if vl.ndim == 2:
        if any(SEGMENT_KINDS[k] is None for k in path.kinds):
            raise ValueError("barrier() of per-sample losses needs a path whose loss peaks "
                             "at a vertex: 'a', 'w0' and 'swap' segments only")
        risks = vl.mean(axis=1)
        top = int(np.argmax(risks))
        end = 0 if risks[0] >= risks[-1] else len(risks) - 1
        diff = vl[top] - vl[end]
        eps = float(diff.mean())
        return (eps, float(diff.std(ddof=1) / np.sqrt(diff.size)), risks) if with_error \
            else eps
    eps = path.max_loss(n_grid, xatol, fn)[0] - max(vl[0], vl[-1])
    return (eps, 0.0, vl) if with_error else eps


#: ``path.barrier(loss=None, n_grid=9, xatol=1e-3, with_error=False)`` is :func:`barrier`.
PathVertices.barrier = barrier


def check_net(weights, name="weights", biases=True):
    """Validate a weight list ``[W_1, ..., W_{L+1}]`` (copies as float64).

    Every middle matrix is N x N, or N x (N + 1) in all of them when
    ``biases``; the last has N columns.  Raises ValueError naming the layer
    as ``name[m]`` and the shape it must have.
    """
    ws = [np.array(w, dtype=np.float64) for w in weights]
    if len(ws) < 2 or any(w.ndim != 2 for w in ws):
        raise ValueError(f"{name} must be a list of at least 2 matrices")
    N = ws[0].shape[0]
    cols = ws[1].shape[1] if biases and len(ws) > 2 and ws[1].shape[1] in (N, N + 1) else N
    for m, w in enumerate(ws[1:-1], start=1):
        if w.shape != (N, cols):
            raise ValueError(f"{name}[{m}] must have shape ({N}, {N})"
                             + (f", or ({N}, {N + 1}) in every middle layer with biases"
                                if biases else "") + f"; got {w.shape}")
    if ws[-1].shape[1] != N:
        raise ValueError(f"{name}[-1] must have {N} columns, got shape {ws[-1].shape}")
    return ws


class PathBuilder:
    """Vertices appended one step at a time, each the previous with some entries set."""

    def __init__(self, start, label):
        self.weights = [[w.copy() for w in start]]
        self.kinds, self.labels = [], [label]

    @classmethod
    def extending(cls, path):
        """A builder that goes on from the last vertex of ``path`` (a PathVertices)."""
        b = cls(path.weights[-1], path.labels[-1])
        b.weights, b.kinds, b.labels = list(path.weights), list(path.kinds), list(path.labels)
        return b

    def path(self):
        return PathVertices(self.weights, self.kinds, self.labels)

    @property
    def cur(self):
        return self.weights[-1]

    def step(self, kind, label, changes):
        """New vertex: the current one with ``changes`` = [(layer, rows, cols, values)].

        Only the layers that change are copied; the others are the previous
        vertex's arrays (a multilayer path of 27 segments otherwise held 28
        copies of every N x N matrix).
        """
        new = list(self.cur)
        copied = set()
        for layer, rows, cols, vals in changes:
            if layer not in copied:
                new[layer] = new[layer].copy()
                copied.add(layer)
            if cols is None:
                new[layer][rows] = vals
            elif isinstance(rows, slice):
                new[layer][rows, cols] = vals
            else:
                new[layer][np.ix_(rows, cols)] = vals
        self.weights.append(new)
        self.kinds.append(kind)
        self.labels.append(label)


def join(first, mid, last):
    """``first``, then ``mid`` (from first's last vertex to last's first), then ``last``."""
    for a, b in ((first.weights[-1], mid.weights[0]), (mid.weights[-1], last.weights[0])):
        assert all(np.array_equal(u, v) for u, v in zip(a, b)), "the paths do not meet"
    return PathVertices(first.weights + mid.weights[1:-1] + last.weights,
                        first.kinds + mid.kinds + last.kinds,
                        first.labels + mid.labels[1:-1] + last.labels)
