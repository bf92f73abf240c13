"""Dropout networks of a :class:`FullyConnectedNet` and their loss on data, many at a time.

A pattern keeps a set ``A_l`` of neurons in each hidden layer; the kept sums
are rescaled by ``1/|A_l|`` instead of ``1/N`` (:mod:`meanfield.dropout`).
Patterns are 0/1 masks of shape (K, depth - 1, N), from the kept sets of
:mod:`meanfield.dropout`; :func:`evaluate` takes K patterns and returns K
losses from one pass over the data.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: eq. (3.4), the dropout network after eq. (4.3), Figures 1-4.
.. [2] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021: Section 6, Experiment B.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import dropout as _dropout
from ..dropout import draw_keep, first_half, keep_masks
from .losses import as_targets, check_loss, errors, per_sample


def first_half_masks(net):
    """The pattern of Figure 1: keep the first N/2 neurons of every hidden layer.

    Returns a tensor of shape (1, depth - 1, N) (:func:`meanfield.dropout.first_half`).

    References
    ----------
    Shevchenko & Mondelli (2020), Figure 1.
    """
    keep = first_half(net.N, net.n_hidden)
    return torch.from_numpy(keep_masks(keep, net.N).astype(np.float32))[None]


def random_half_masks(net, K, seed):
    """K patterns, each keeping an independent uniform N/2-subset in every hidden layer.

    Returns a tensor of shape (K, depth - 1, N); ``seed`` (int or numpy
    Generator) alone fixes it: :func:`meanfield.dropout.draw_keep` with
    ``method="ranks"``.

    References
    ----------
    Shevchenko & Mondelli (2020), Definition 3.1 and Figures 2 and 4.
    """
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be an integer >= 1, got {K!r}")
    half = first_half(net.N).size
    masks = draw_keep(net.N, half, seed, n_hidden=net.n_hidden, n_draws=K, method="ranks")
    return torch.from_numpy(masks.astype(np.float32))


def evaluate(net, X, y, loss="cross_entropy", masks=None, batch_size=2000, max_elements=2**25):
    """Mean loss and classification error of the full net, or of K dropout networks.

    Parameters
    ----------
    net : FullyConnectedNet
    X : array or tensor, shape (n, d)
    y : array or tensor, shape (n,)
        Integer labels, or real targets for the square loss.
    loss : str
        ``cross_entropy`` or ``square``.
    masks : tensor, shape (K, depth - 1, N), optional
        Dropout patterns (see :meth:`FullyConnectedNet.forward`).
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
    y = as_targets(y, net.device, net.dtype)
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if masks is not None:
        masks, _ = net._masks(masks)  # checked, and on the device once for all batches
    K = 1 if masks is None else len(masks)
    tot_loss = torch.zeros(K, dtype=torch.float64, device=net.device)
    tot_err = torch.zeros(K, dtype=torch.float64, device=net.device)
    for rows, pats, out in _pattern_batches(net, X, masks, batch_size, max_elements):
        yb = y[rows]
        tot_loss[pats] += per_sample(out, yb, loss).sum(-1, dtype=torch.float64)
        tot_err[pats] += errors(out, yb).sum(-1, dtype=torch.float64)
    res = {"loss": (tot_loss / len(X)).cpu().numpy(), "error": (tot_err / len(X)).cpu().numpy()}
    if masks is None:
        return {k: float(v[0]) for k, v in res.items()}
    return res


def _pattern_batches(net, X, masks, batch_size, max_elements, rescale=True):
    """Yield ``(sample slice, pattern slice, outputs of shape (k, b, n_out))`` over X
    (``rescale``: see :meth:`FullyConnectedNet._apply_masked`).

    ``masks`` (K, depth - 1, N) as :meth:`FullyConnectedNet._masks` returns them (checked, on
    the net's device and dtype), or None for the full net (one "pattern").  A
    two-layer net takes all patterns at once (one matrix product); deeper
    nets take them in chunks so that ``chunk * batch * N <= max_elements``.
    """
    K = 1 if masks is None else len(masks)
    chunk = K if masks is None or net.depth == 2 else \
        max(1, int(max_elements // (batch_size * net.N)))
    W = list(net.weights)
    with torch.no_grad():
        for s in range(0, len(X), batch_size):
            xb = X[s:s + batch_size]
            for c in range(0, K, chunk):
                out = net(xb)[None] if masks is None else \
                    net._apply_masked(W, xb, masks[c:c + chunk], rescale)
                yield slice(s, s + batch_size), slice(c, c + chunk), out


def _outputs(net, X, masks, batch_size=2000, max_elements=2**25, rescale=True):
    """Outputs of K dropout networks on X, shape (K, n, n_out)."""
    X = torch.as_tensor(X, dtype=net.dtype, device=net.device)
    masks, _ = net._masks(masks)
    out = torch.empty(len(masks), len(X), net.n_out, dtype=net.dtype, device=net.device)
    for rows, pats, o in _pattern_batches(net, X, masks, batch_size, max_elements, rescale):
        out[pats, rows] = o
    return out


#: Experiment B's dropout networks: ``rescaled`` (the kept units of each layer times
#: N/|A_p|, Kuditipudi et al.'s Definition 1) or ``plain`` (units removed, Section 6).
B_REMOVALS = ("rescaled", "plain")


def best_rescaled_dropout(net, X, y, layer, draws=200, loss="cross_entropy", seed=0,
                          max_scale=None, removal="rescaled"):
    """Experiment B of Nguyen, Bréchet & Mondelli: dropout from ``layer`` up, with a tuned scale.

    Each draw keeps a uniform half ``A_p`` of the neurons of every hidden
    layer ``p >= layer`` (1-based; layers below are kept whole) and
    multiplies the output by a scalar r found by Brent's method without
    bounds (``scipy.optimize.minimize_scalar(method="brent")``, as in the
    paper) on the loss over (X, y); the best of ``draws`` draws is returned.
    All draws' outputs come from batched passes; the scalar search then only
    rescales stored outputs.

    The network whose output r multiplies is :meth:`FullyConnectedNet.forward`
    with the draw's masks: in every hidden layer ``p >= layer`` the dropped
    neurons output 0 and the kept ones ``N/|A_p|`` times their activation
    (the ``1/N`` of the mean-field sum becomes ``1/|A_p|``, Shevchenko &
    Mondelli eq. (3.4); in the standard parameterisation the same factor
    ``N/|A_p|`` on the kept outputs, a hidden bias not rescaled), the
    features ``f_p`` of Nguyen et al. eq. (1) so masked and rescaled before
    they enter layer ``p + 1``.  Nguyen et al., Section 6, Experiment B,
    describe (i) removing half of the neurons of the layers
    ``p in [l, L-1]`` and (ii) one scalar on the output of the remaining
    network; the factor ``N/|A_p|`` of the top hidden layer is absorbed by
    r.  The factors of the layers below the top are absorbed too, and the
    least loss over r is that of the
    network of Section 6 exactly, when the activation is positively
    homogeneous (ReLU, the paper's) and the hidden layers above the first
    have no bias (``bias="input"`` or ``"none"``): the output is then
    ``prod_p N/|A_p|`` times that of the net with the dropped neurons merely
    zeroed.  With a bias in every hidden layer (``bias="all"``, the ``b_l``
    of eq. (1)) and ``layer < depth - 1``, or another activation, it is a
    different network: the rescaled dropout of Kuditipudi et al.,
    Definition 1, with the factor ``N/|A_p|`` on the kept units of each layer
    (their footnote 1 lets it vary by layer), not the plain removal of
    Section 6.  ``removal="plain"`` is Section 6's network in every case: the
    dropped neurons output 0, the kept ones are left as they are, and r
    multiplies the output.

    Parameters
    ----------
    net : FullyConnectedNet
    X, y : arrays
        The data the loss is taken over (the training set in the paper).
    layer : int
        ``l`` in ``[1, depth - 1]``: dropout in the hidden layers ``l..depth-1``.
    draws : int
        ``T_B`` (200 in the paper).
    loss : str
        ``cross_entropy`` or ``square``.
    seed : int or numpy Generator
        Fixes the kept sets (:func:`random_half_masks`).
    max_scale : float, optional
        Opt-in bounded search, not the paper's
        (:func:`meanfield.dropout.rescaled_dropout`): None (the default)
        keeps Brent's minimiser wherever it lies, so on data the dropout
        network classifies without error the cross-entropy search returns a
        large r and a loss near 0.
    removal : {'rescaled', 'plain'}
        The dropout network whose output r multiplies: the kept units of each
        layer ``p >= layer`` times ``N/|A_p|`` (default), or left unscaled
        (Section 6's removal; ``scale`` is then r itself).

    Returns
    -------
    meanfield.dropout.RescaledDropout
        ``loss`` and ``scale`` of the best draw, its mask ``keep`` (depth - 1,
        N), and ``losses`` and ``scales`` of every draw (length ``draws``).
        (A dict before 0.2: ``result["mask"]`` still reads, with a
        DeprecationWarning.)

    References
    ----------
    .. [1] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions
       connected in deep networks?", NeurIPS 2021: eq. (1) (the network),
       Section 6, Experiment B (T_B = 200, ``minimize_scalar(method="brent")``).
    .. [2] R. Kuditipudi et al., "Explaining landscape connectivity of
       low-cost solutions for multilayer nets", NeurIPS 2019: Definition 1
       and its footnote 1.
    .. [3] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
       stability of SGD solutions for over-parameterized neural networks",
       ICML 2020: eq. (3.4).
    """
    from .paths import DataLoss

    check_loss(loss)
    L = net.depth - 1
    if not isinstance(layer, (int, np.integer)) or not 1 <= layer <= L:
        raise ValueError(f"layer must be an integer in [1, {L}], got {layer!r}")
    if removal not in B_REMOVALS:
        raise ValueError(f"removal must be one of {', '.join(B_REMOVALS)}, got {removal!r}")
    masks = random_half_masks(net, draws, seed)
    masks[:, :layer - 1] = 1.0
    return _best_scales(net, masks, DataLoss(net, X, y, loss), masks, max_scale, (0.5, 2.0),
                        rescale=removal == "rescaled")


def rescaled_dropout(net, keeps, loss, *, max_scale=None, bracket=(0.5, 2.0)):
    """The best rescaled dropout network of ``net`` over the kept sets ``keeps``, on data.

    :func:`meanfield.dropout.rescaled_dropout` on this backend, with its
    signature: per kept set the output scale of least loss on the data of
    ``loss`` (Brent's method without bounds), every draw's outputs from
    batched passes, the scalar search then only rescaling stored outputs.
    :func:`best_rescaled_dropout` draws the kept sets of Experiment B and
    calls it.

    Parameters
    ----------
    net : FullyConnectedNet
    keeps : tensor of shape (K, depth - 1, N), or sequence
        0/1 masks, one pattern per draw (:func:`random_half_masks`), or K kept
        sets, each an index array or one array per hidden layer
        (:func:`meanfield.dropout.draw_keep`).
    loss : DataLoss
        The data set and the loss (:class:`meanfield.torch.DataLoss`; its net
        supplies nothing here).
    max_scale : float, optional
        As in :func:`meanfield.dropout.rescaled_dropout`.
    bracket : tuple
        Brent's starting bracket; (0.5, 2.0), around the plain dropout network.

    Returns
    -------
    meanfield.dropout.RescaledDropout
        ``keep`` is the best draw as given (a mask of shape (depth - 1, N) for
        masks); ``fixed_losses`` the loss of every draw at scale 1.

    References
    ----------
    Nguyen, Bréchet & Mondelli (2021), Section 6, Experiment B; Kuditipudi et
    al. (2019), Definition 1; Shevchenko & Mondelli (2020), eq. (3.4).
    """
    from .paths import DataLoss

    if not isinstance(loss, DataLoss):
        raise ValueError(f"loss must be a meanfield.torch.DataLoss(net, X, y, loss) (the data "
                         f"and the loss), got {type(loss).__name__}")
    if torch.is_tensor(keeps):
        masks = keeps
    else:  # kept sets: their 0/1 patterns
        keeps = list(keeps)
        masks = [keep_masks(_dropout.check_keep(k, net.n_hidden, net.N), net.N) for k in keeps]
        masks = torch.from_numpy(np.stack(masks).astype(np.float32)) if masks else keeps
    if not len(masks):
        raise ValueError("keeps must hold at least one kept set")
    return _best_scales(net, masks, loss, keeps, max_scale, bracket)


def _best_scales(net, masks, loss, keeps, max_scale, bracket, rescale=True):
    """:func:`meanfield.dropout.best_scales` over the dropout networks of ``masks``."""
    out = _outputs(net, loss.X, masks, batch_size=loss.batch_size, rescale=rescale)

    def objective(o):
        return lambda r: float(per_sample(r * o, loss.y, loss.loss).double().mean())

    objectives = [objective(o) for o in out]
    return _dropout.best_scales(objectives, keeps=keeps, bracket=bracket, max_scale=max_scale,
                                fixed_losses=[f(1.0) for f in objectives])
