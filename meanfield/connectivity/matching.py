"""Weight matching: permute the hidden neurons of one net to align it with another.

The baseline of Nguyen, Bréchet & Mondelli (NeurIPS 2021), Section 6:
layer-wise optimal assignment of neurons, by coordinate descent over the
hidden layers until no permutation changes, then the straight line.  For
hidden layer l with permutation ``P_l`` of the second net's neurons, the
assignment maximises the inner product of the weights into and out of the
layer given the permutations of its neighbours,
``<W_in, P_l W'_in P_{l-1}^T> + <W_out, P_{l+1} W'_out P_l^T>``
(``scipy.optimize.linear_sum_assignment``).  The descent starts from a
bottom-up matching of incoming weights; each step cannot decrease the total
inner product, so it stops, at a local optimum in general (the problem is
NP-hard beyond one hidden layer).  Permuting hidden neurons leaves
the network function unchanged, in standard and mean-field scaling alike.
A bias column (past the neurons of the layer below) goes with its row and is
part of the incoming weights that are matched.

Layout: that of :mod:`meanfield.connectivity.dropout_paths` (``weights[0]``
rows are the neurons of hidden layer 1; the last matrix is the top layer).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def permute(weights, perms):
    """The net ``weights`` with hidden layer l's neurons reordered by ``perms[l]``.

    Neuron i of the result is neuron ``perms[l][i]`` of the input.
    """
    W = [np.asarray(w, dtype=np.float64).copy() for w in weights]
    if len(perms) != len(W) - 1:
        raise ValueError(f"perms must hold one permutation per hidden layer ({len(W) - 1}), "
                         f"got {len(perms)}")
    for l, p in enumerate(perms):
        p = np.asarray(p)
        if np.sort(p).tolist() != list(range(W[l].shape[0])):
            raise ValueError(f"perms[{l}] must be a permutation of 0..{W[l].shape[0] - 1}")
        W[l] = W[l][p]
        W[l + 1] = _cols(W[l + 1], p)
    return W


def _cols(M, p):
    """M with its first len(p) columns (neurons) reordered by p; bias columns stay last."""
    return M[:, np.r_[p, len(p):M.shape[1]]]


def weight_matching(weights, weights2, max_sweeps=100, rng=0):
    """Permutations of ``weights2``'s hidden neurons that align it with ``weights``.

    Parameters
    ----------
    weights, weights2 : list of numpy.ndarray
        Two nets of the same shapes.
    max_sweeps : int
        Bound on the passes over the layers (each in a random order).
    rng : int or Generator
        Order of the layers in each pass.

    Returns
    -------
    perms : list of numpy.ndarray
        One per hidden layer; ``permute(weights2, perms)`` is the aligned net.
    sweeps : int
        Passes made; the last changed nothing (unless ``max_sweeps`` was hit).
    """
    A = [np.asarray(w, dtype=np.float64) for w in weights]
    B = [np.asarray(w, dtype=np.float64) for w in weights2]
    if [a.shape for a in A] != [b.shape for b in B]:
        raise ValueError("the two nets must have the same layer shapes")
    H = len(A) - 1
    # start bottom-up from the incoming weights alone: for a permuted copy this
    # is already exact (each row's best match is itself), and it gives the
    # descent a start that does not depend on the arbitrary neuron order
    perms = []
    for l in range(H):
        Bin = B[l] if l == 0 else _cols(B[l], perms[l - 1])
        perms.append(linear_sum_assignment(A[l] @ Bin.T, maximize=True)[1])
    g = np.random.default_rng(rng)
    for sweep in range(1, int(max_sweeps) + 1):
        changed = False
        for l in g.permutation(H):
            Bin = B[l] if l == 0 else _cols(B[l], perms[l - 1])
            Bout = B[l + 1] if l == H - 1 else B[l + 1][perms[l + 1]]
            n = len(A[l])
            sim = A[l] @ Bin.T + A[l + 1][:, :n].T @ Bout[:, :n]
            _, cols = linear_sum_assignment(sim, maximize=True)
            if not np.array_equal(cols, perms[l]):
                # keep the old assignment on ties, so the descent cannot cycle
                if sim[np.arange(len(cols)), cols].sum() > sim[np.arange(len(cols)),
                                                                perms[l]].sum() + 1e-12:
                    perms[l] = cols
                    changed = True
        if not changed:
            return perms, sweep
    return perms, int(max_sweeps)
