"""The path of Theorem 4.1 of Nguyen, Bréchet & Mondelli (2021), built vertex by vertex.

Given two nets theta_0, theta_1 with a bias in every hidden layer (their
eq. 1), for each net the subsets ``I_p`` (``|I_p| >= n_p / 2``) of hidden
layers p = 1..H and the subnetworks ``xi_l`` (eq. 3) for l = 0..H, the path
goes theta_0 -> sparse(theta_0) -> sparse(theta_1) -> theta_1 (Section 5).
Its segments are of three kinds, each exact from its end vertices:

``"a"``
    only the top layer moves: the output is linear along the segment, so a
    loss convex in the output peaks at an end;
``"w0"``
    only incoming weights of neurons whose outgoing weights are zero move
    (or of neurons feeding only such neurons): the output is constant;
``"swap"``
    one of the three steps of Claim 5.1, which exchanges a pure zero neuron
    p with a neuron q of the same layer: (i) p's incoming weights become
    q's, (ii) q's outgoing weights move to p, (iii) q's incoming weights go
    to zero.  In (ii) p and q compute the same activation, so the next
    layer's input is constant.  The swaps of all layers run at once: column
    moves act on all rows alike, so pairs that are equal stay equal.

So the maximum loss along the path is the largest vertex loss, and the
vertices are the two nets and nets whose output is that of one subnetwork
``xi_l``: the bound (4) with the losses ``Q_l`` of Experiment A.

Sparsification of one net, from the top (``Ibar_p`` the complement of
``I_p``, ``S_p`` the first ``|Ibar_p|`` members of ``I_p``):

* layer H: top columns of ``I_H`` set to ``xi_H``'s linear map and those of
  ``Ibar_H`` to zero (``"a"``); ``Ibar_H``'s incoming weights to zero (``"w0"``);
* each l = H-1 .. 1: ``xi_l`` written into the pure zero neurons
  ``Ibar_(l+1..H)`` (``"w0"``); the top switched from ``I_H`` to ``Ibar_H``
  (``"a"``, the vertex computes ``xi_l``); the now idle ``I_(l+1..H)`` made
  pure zero (``"w0"``); ``xi_l`` swapped into ``S_(l+1..H)`` by Claim 5.1
  (three ``"swap"`` steps, the last also zeroing ``Ibar_l``'s incoming
  weights, whose outgoing weights are zero by then).

That is ``2 + 6 (H - 1)`` segments.  Afterwards ``Ibar_p`` is pure zero in
every layer.  When the two nets used different subsets, theta_1's pure zeros
are moved onto theta_0's by one more Claim 5.1 swap (3 segments).  The
connection of the sparse nets writes ``xi_0`` (of theta_0) into the pure
zero part, switches the top to it, rewrites the idle part as sparse(theta_1),
switches back and clears ``xi_0``: 5 segments.  In all
``2 (2 + 6 (H - 1)) + 5`` segments, plus 3 when the subsets differ (25 and
28 for two hidden layers, 49 and 52 for four).

Subnetworks are given without factors, on raw features, as
:func:`meanfield.torch.subnets.subnet_bound` returns them: ``xi_l`` for
l < H is ``[U_(l+1), ..., U_H, U_L]`` with ``U_(l+1)`` of shape
``(m, |I_l| + 1)`` (``|I_0|`` = input dimension; last column the bias),
hidden ``U_p`` of shape ``(m, m + 1)``, ``U_L`` of shape ``(n_out, m)``,
``m = n_p - |I_p|``; ``xi_H = [U_L]`` of shape ``(n_out, |I_H|)``.  The net's
factors (``FullyConnectedNet.factors``) say how a layer's sum is scaled, so a
subnetwork's matrix enters the net divided by its layer's factor.

Layout of a net: that of :mod:`meanfield.connectivity.dropout_paths` with a
bias column in every hidden matrix (``weights[0]`` of shape (N, d + 1),
``weights[m]`` of shape (N, N + 1), ``weights[H]`` of shape (n_out, N)).
"""

from __future__ import annotations

import numpy as np

from ..dropout import check_keep
from .claim51 import swap_steps
from .vertices import PathBuilder, check_net, join


def _check_net(weights, name):
    """:func:`check_net`, and a bias column in every middle matrix."""
    ws = check_net(weights, name)
    N = ws[0].shape[0]
    for m, w in enumerate(ws[1:-1], start=1):
        if w.shape != (N, N + 1):
            raise ValueError(f"{name}[{m}] must have shape ({N}, {N + 1}): Theorem 4.1's path "
                             f"needs a bias in every hidden layer (FullyConnectedNet bias='all'); "
                             f"got {w.shape}")
    return ws


def _check_subsets(subsets, H, N, name):
    out = check_keep(list(subsets), H, N)
    for p, I in enumerate(out, start=1):
        if 2 * I.size < N:
            raise ValueError(f"{name}[{p - 1}] must hold at least N/2 = {N / 2:g} neurons, "
                             f"got {I.size}")
    return out


def _check_xis(xis, subsets, ws, name):
    """Shapes of xi_0..xi_H against the net (subsets: I_1..I_H)."""
    H = len(ws) - 1
    N, D0 = ws[0].shape
    n_out = ws[-1].shape[0]
    if len(xis) != H + 1:
        raise ValueError(f"{name} must hold H + 1 = {H + 1} subnetworks xi_0..xi_{H}, "
                         f"got {len(xis)}")
    out = []
    for l, xi in enumerate(xis):
        xi = [np.asarray(u, dtype=np.float64) for u in xi]
        K = D0 - 1 if l == 0 else subsets[l - 1].size
        m = [N - subsets[p - 1].size for p in range(l + 1, H + 1)]
        shapes = ([(m[0], K + 1)] if l < H else []) + \
            [(m[i], m[i - 1] + 1) for i in range(1, len(m))] + [(n_out, m[-1] if m else K)]
        if [u.shape for u in xi] != shapes:
            raise ValueError(f"{name}[{l}] must have the shapes {shapes}, got "
                             f"{[u.shape for u in xi]}")
        out.append(xi)
    return out


class _Net:
    """Index sets of one net and the builder its vertices go into."""

    def __init__(self, weights, subsets, factors, name):
        self.H = len(weights) - 1
        self.N = weights[0].shape[0]
        self.c = [float(f) for f in factors]
        if len(self.c) != self.H + 1 or not all(np.isfinite(self.c)) or min(self.c) <= 0:
            raise ValueError(f"factors must be {self.H + 1} positive numbers, got {factors!r}")
        self.I = subsets  # I[p - 1] for hidden layer p
        self.Ibar = [np.setdiff1d(np.arange(self.N), I) for I in subsets]
        self.S = [I[:b.size] for I, b in zip(self.I, self.Ibar)]
        self.b = PathBuilder(weights, name)
        self.name = name

    def embed(self, xi, l, slots):
        """Changes that write ``xi_l`` into the rows ``slots[p - 1]`` of layers p = l+1..H
        (and, last, the top columns ``slots[H - 1]``)."""
        H = self.H
        changes = []
        for k, p in enumerate(range(l + 1, H + 1)):
            U = xi[k] / self.c[p - 1]
            W = self.b.cur[p - 1]
            rows = np.zeros((slots[p - 1].size, W.shape[1]))
            cols = (np.arange(W.shape[1] - 1) if p == 1 else
                    self.I[l - 1] if p == l + 1 else slots[p - 2])
            rows[:, cols] = U[:, :-1]
            rows[:, -1] = U[:, -1]
            changes.append((p - 1, slots[p - 1], None, rows))
        top = xi[-1] / self.c[H]
        return changes, top

    def top_to(self, cols, values, label):
        """``"a"``: the top layer reads ``cols`` with ``values`` and nothing else."""
        new = np.zeros_like(self.b.cur[self.H])
        new[:, cols] = values
        self.b.step("a", label, [(self.H, slice(None), None, new)])

    def sparsify(self, xis):
        """theta -> sparse(theta): the module docstring's steps."""
        H = self.H
        _, top = self.embed(xis[H], H, self.I)
        self.top_to(self.I[H - 1], top, f"xi_{H}({self.name})")
        self.b.step("w0", f"sparse({self.name}) at layer {H}",
                    [(H - 1, self.Ibar[H - 1], None, 0.0)])
        for l in range(H - 1, 0, -1):
            changes, top = self.embed(xis[l], l, self.Ibar)
            self.b.step("w0", f"xi_{l} written into the free neurons", changes)
            self.top_to(self.Ibar[H - 1], top, f"xi_{l}({self.name})")
            self.b.step("w0", f"layers {l + 1}..{H} of I cleared",
                        [(p - 1, self.I[p - 1], None, 0.0) for p in range(l + 1, H + 1)])
            moves = [(np.array([], dtype=int),) * 2] * l + \
                [(self.Ibar[p - 1], self.S[p - 1]) for p in range(l + 1, H + 1)]
            swap_steps(self.b, moves, f"xi_{l} swapped into I",
                       extra_zero=[(l - 1, self.Ibar[l - 1], None, 0.0)])
            self.b.labels[-1] = f"sparse({self.name}) at layers >= {l}"
        return self


def theorem41_path(weights0, weights1, subsets0, subsets1, xis0, xis1, factors):
    """The piecewise-linear path of Theorem 4.1 from theta_0 to theta_1.

    Parameters
    ----------
    weights0, weights1 : list of numpy.ndarray
        The two nets (module docstring layout, biases in every hidden layer).
    subsets0, subsets1 : list of H integer arrays
        ``I_1..I_H`` of each net, at least half of each layer (Experiment A's
        best draws).
    xis0, xis1 : list of H + 1 subnetworks
        ``xi_0..xi_H`` of each net (module docstring); ``xi_l`` reads the
        features ``I_l``.  The connection in the middle uses theta_0's ``xi_0``.
    factors : list of float
        The factor on each layer's sum (``FullyConnectedNet.factors()``).

    Returns
    -------
    PathVertices
        Kinds ``"a"``, ``"w0"`` and ``"swap"``; the loss peaks at a vertex.
    """
    W0, W1 = _check_net(weights0, "weights0"), _check_net(weights1, "weights1")
    if [w.shape for w in W0] != [w.shape for w in W1]:
        raise ValueError("the two nets must have the same layer shapes")
    H, N = len(W0) - 1, W0[0].shape[0]
    I0 = _check_subsets(subsets0, H, N, "subsets0")
    I1 = _check_subsets(subsets1, H, N, "subsets1")
    if [a.size for a in I0] != [a.size for a in I1]:
        raise ValueError("subsets0 and subsets1 must have the same sizes per layer "
                         f"(the subnetworks' widths), got {[a.size for a in I0]} and "
                         f"{[a.size for a in I1]}")
    X0, X1 = _check_xis(xis0, I0, W0, "xis0"), _check_xis(xis1, I1, W1, "xis1")
    first = _Net(W0, I0, factors, "theta").sparsify(X0)
    last = _Net(W1, I1, factors, "theta'").sparsify(X1)
    if any(not np.array_equal(a, b) for a, b in zip(first.I, last.I)):
        # theta_1's pure zeros (its Ibar) onto theta_0's: active neurons of theta_0's
        # Ibar move into the pure zero neurons of theta_1's Ibar that theta_0 keeps
        moves = [(np.setdiff1d(b0, b1), np.setdiff1d(b1, b0))
                 for b0, b1 in zip(first.Ibar, last.Ibar)]
        swap_steps(last.b, moves, "pure zeros aligned with theta's")
    Ibar = first.Ibar
    S1 = last.b.cur  # sparse(theta'), its pure zeros on Ibar
    bridge = _Net(first.b.cur, first.I, factors, first.b.labels[-1])
    mid = bridge.b
    changes, top = bridge.embed(X0[0], 0, Ibar)
    mid.step("w0", "xi_0 written into the free neurons", changes)
    bridge.top_to(Ibar[H - 1], top, "xi_0")
    mid.step("w0", "the rest rewritten as sparse(theta')",
             [(p - 1, first.I[p - 1], None, S1[p - 1][first.I[p - 1]])
              for p in range(1, H + 1)])
    bridge.top_to(first.I[H - 1], S1[H][:, first.I[H - 1]], "sparse(theta')")
    mid.step("w0", "xi_0 cleared", [(p - 1, Ibar[p - 1], None, 0.0) for p in range(1, H + 1)])
    return join(first.b.path(), mid.path(), last.b.path().reversed())
