"""Dropout networks of a :class:`MeanFieldNet` and their loss on data, many at a time.

A pattern keeps a set ``A_l`` of neurons in each hidden layer; the kept sums
are rescaled by ``1/|A_l|`` instead of ``1/N`` (Shevchenko & Mondelli, eq.
3.4 and the dropout network after eq. 4.3).  :func:`evaluate` takes K
patterns and returns K losses from one pass over the data.
"""

from __future__ import annotations

import numpy as np
import torch

from .losses import check_loss, errors, per_sample


def _half(N):
    if N < 2:
        raise ValueError(f"N must be >= 2 to drop half of the neurons, got {N}")
    return N // 2


def first_half_masks(net):
    """The pattern of Figure 1: keep the first N/2 neurons of every hidden layer, shape (1, L, N)."""
    m = torch.zeros(1, net.depth - 1, net.N)
    m[..., :_half(net.N)] = 1.0
    return m


def random_half_masks(net, K, seed):
    """K patterns, each keeping an independent uniform N/2-subset in every hidden layer.

    Returns a tensor of shape (K, depth - 1, N); ``seed`` (int or numpy
    Generator) alone fixes it.
    """
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be an integer >= 1, got {K!r}")
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    keep = _half(net.N)
    ranks = rng.random((K, net.depth - 1, net.N)).argsort(-1)
    return torch.from_numpy((ranks < keep).astype(np.float32))


def evaluate(net, X, y, loss="cross_entropy", masks=None, batch_size=2000, max_elements=2**25):
    """Mean loss and classification error of the full net, or of K dropout networks.

    Parameters
    ----------
    net : MeanFieldNet
    X : array or tensor, shape (n, d)
    y : array or tensor, shape (n,)
        Integer labels, or real targets for the square loss.
    loss : str
        ``cross_entropy`` or ``square``.
    masks : tensor, shape (K, depth - 1, N), optional
        Dropout patterns (see :meth:`MeanFieldNet.forward`).
    batch_size : int
        Samples per forward pass.
    max_elements : int
        Bound on the size of one activation tensor; patterns are split into
        chunks so that ``chunk * batch * N`` stays below it.

    Returns
    -------
    dict
        ``loss`` and ``error``: floats without masks, numpy arrays of shape
        (K,) with them (error is NaN for real targets).
    """
    check_loss(loss)
    X = torch.as_tensor(X, dtype=net.dtype, device=net.device)
    if X.ndim != 2 or X.shape[1] != net.d:
        raise ValueError(f"X must have shape (n, {net.d}), got {tuple(X.shape)}")
    y = torch.as_tensor(y, device=net.device)
    if y.is_floating_point():
        y = y.to(net.dtype)
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    K = 1 if masks is None else (len(masks) if torch.as_tensor(masks).ndim == 3 else 1)
    if masks is not None and torch.as_tensor(masks).ndim == 2:
        masks = torch.as_tensor(masks)[None]
    if masks is not None and net.depth > 2:
        chunk = max(1, int(max_elements // (batch_size * net.N)))
    else:
        chunk = K
    tot_loss = torch.zeros(K, dtype=torch.float64, device=net.device)
    tot_err = torch.zeros(K, dtype=torch.float64, device=net.device)
    with torch.no_grad():
        for s in range(0, len(X), batch_size):
            xb, yb = X[s:s + batch_size], y[s:s + batch_size]
            for c in range(0, K, chunk):
                out = net(xb) if masks is None else net(xb, masks[c:c + chunk])
                if out.ndim == 2:
                    out = out[None]
                tot_loss[c:c + chunk] += per_sample(out, yb, loss).sum(-1, dtype=torch.float64)
                tot_err[c:c + chunk] += errors(out, yb).sum(-1, dtype=torch.float64)
    res = {"loss": (tot_loss / len(X)).cpu().numpy(), "error": (tot_err / len(X)).cpu().numpy()}
    if masks is None:
        return {k: float(v[0]) for k, v in res.items()}
    return res
