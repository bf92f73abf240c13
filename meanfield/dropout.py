"""Dropout networks, written once for every model of the package.

The network protocol
--------------------
Every model implements :class:`Network`: ``N`` neurons in each of
``n_hidden`` hidden layers and ``forward(X, keep=None)``, where ``keep``
gives one kept set ``A_l`` per hidden layer (one array: the same set in
every layer).  The models are the two-layer particle system of eq. (3.1)
(:class:`meanfield.twolayer.TwoLayerNet`), the multilayer net of eqs. (1.1)
and (4.1) (:class:`meanfield.multilayer.MultilayerNet`) and the torch nets
(:class:`meanfield.torch.FullyConnectedNet`, which also takes 0/1 masks, many
patterns at once).  A loss is the caller's: ``loss(net, keep)`` (the exact
population risk, a Monte Carlo risk, a loss on a data set).

The dropout network
-------------------
The dropout network keeps the neurons ``A_l`` of each hidden layer and
replaces the ``1/N`` of the sum over that layer by ``1/|A_l|`` (Shevchenko &
Mondelli, eq. (3.4) for two layers and the network after eq. (4.3)): its
output is the mean over the kept neurons, or, in weight space, the net with
the kept outgoing weights times ``N/|A_l|`` and the others zero.  That
rescaling is :func:`dropout_rescale`, and every backend calls it.

Kept sets are drawn independently of the networks, from their own generator,
as Definition 3.1 requires, by :func:`draw_keep` alone.  The rescaled dropout
of Kuditipudi et al. (Definition 1) and Experiment B of Nguyen, Bréchet &
Mondelli (a tuned scalar on the output of each dropout network, the best of
several draws) is :func:`rescaled_dropout`.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: eq. (3.4), Definition 3.1, eqs. (4.3)-(4.4).
.. [2] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Definition 1, Algorithm 1.
.. [3] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021: Section 6, Experiment B.
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import _checks


@runtime_checkable
class Network(Protocol):
    """What every model of the package implements.

    Attributes
    ----------
    N : int
        Neurons per hidden layer.
    n_hidden : int
        Hidden layers (1 for the two-layer particle system).

    Methods
    -------
    forward(X, keep=None)
        Outputs on the inputs ``X``; with ``keep`` (one kept set per hidden
        layer, see :func:`check_keep`), those of the dropout network.

    References
    ----------
    Shevchenko & Mondelli (2020), eqs. (3.1), (1.1) and (4.1) for the models
    and eq. (3.4) and the network after eq. (4.3) for their dropout networks.
    """

    N: int
    n_hidden: int

    def forward(self, X, keep=None): ...


def dropout_rescale(kept_sum, n_kept):
    """The dropout rescaling: a sum over the kept neurons divided by how many are kept.

    In mean-field scaling a hidden layer enters the next one through
    ``(1/N) sum_i``; the dropout network replaces it by ``(1/|A|) sum_{i in A}``.
    Every backend gets its rescaled quantity here: the kept sum of a layer
    (numpy), the kept 0/1 mask times the layer's gain (torch, ``n_kept`` the
    count of every pattern), the factor ``N/|A|`` on the kept outgoing weights
    (``kept_sum = N``, the paths of :mod:`meanfield.connectivity`), and the
    ``delta/(1 - p)`` of Kuditipudi et al.'s Algorithm 1 (``n_kept = 1 - p``,
    the expected kept fraction).

    Parameters
    ----------
    kept_sum : float or array
        The sum over the kept neurons (or what multiplies ``1/|A|``).
    n_kept : int, float or array
        ``|A|``, broadcast against ``kept_sum``.

    Returns
    -------
    float or array
        ``kept_sum / n_kept``.

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (3.4) and the dropout network after
    eq. (4.3); Kuditipudi et al. (2019), Algorithm 1.
    """
    return kept_sum / n_kept


def check_size(name, size, N) -> int:
    """``size`` as an int in ``[1, N]``; ValueError naming ``name`` otherwise.

    References
    ----------
    Shevchenko & Mondelli (2020), Definition 3.1 (``1 <= |A| <= N``).
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or not 1 <= size <= N:
        raise ValueError(f"{name} must be an integer in [1, N] = [1, {N}]: a kept set's "
                         f"{name} must lie in [1, N], got {size!r}")
    return int(size)


def check_keep(keep, n_hidden, N, sort=True, name="keep"):
    """Kept index sets, one per hidden layer.

    Parameters
    ----------
    keep : array of int, or list of ``n_hidden`` arrays of int
        One array is used for every hidden layer.
    n_hidden, N : int
        Hidden layers and neurons per layer.
    sort : bool
        Sort each set (the paths and the multilayer forward pass want them
        sorted); False keeps the caller's order, which the exact two-layer
        risk sums in.

    Returns
    -------
    list of numpy.ndarray
        ``n_hidden`` integer arrays of distinct indices in ``[0, N)``, each
        with ``1 <= |A_l| <= N``.

    Raises
    ------
    ValueError
        Naming the layer and the valid range.

    References
    ----------
    Shevchenko & Mondelli (2020), Definition 3.1 and eq. (4.4): kept sets
    ``A_l`` of ``1 <= |A_l| <= N`` neurons of each hidden layer.
    """
    sets = keep if isinstance(keep, (list, tuple)) and len(keep) and np.ndim(keep[0]) == 1 \
        else [keep] * n_hidden
    if len(sets) != n_hidden:
        raise ValueError(f"{name} must give one index set per hidden layer ({n_hidden}), "
                         f"got {len(sets)}")
    out = []
    for l, K in enumerate(sets, start=1):
        K = np.asarray(K)
        where = f"{name} for hidden layer {l}"
        if K.ndim != 1 or (K.size and not np.issubdtype(K.dtype, np.integer)):
            raise ValueError(f"{where} must be a 1-D array of integer indices, got {K!r}")
        if not 1 <= K.size <= N:
            raise ValueError(f"{where}: |A| must lie in [1, N] = [1, {N}], got {K.size}")
        if K.min() < 0 or K.max() >= N:
            raise ValueError(f"{where} must hold distinct indices in [0, {N - 1}], got min "
                             f"{K.min()}, max {K.max()}")
        if np.unique(K).size != K.size:
            raise ValueError(f"{where} must hold distinct indices in [0, {N - 1}], "
                             "without duplicate indices")
        out.append(np.sort(K) if sort else K)
    return out


def _half(N):
    if N < 2:
        raise ValueError(f"N must be >= 2 to keep half of the neurons, got {N}")
    return N // 2


def first_half(N, n_hidden=None):
    """The kept set ``{0, ..., N//2 - 1}``: the 'second half removed' pattern of Figure 1.

    Returns one array, or a list of ``n_hidden`` (the same set in every layer).

    References
    ----------
    Shevchenko & Mondelli (2020), Section 5 and Figure 1.
    """
    A = np.arange(_half(_checks.positive_int("N", N)))
    return A if n_hidden is None else [A] * _checks.positive_int("n_hidden", n_hidden)


def draw_keep(N, size, rng, n_hidden=None, n_draws=None, method="choice"):
    """Random kept sets, drawn from their own generator (independent of the networks).

    Parameters
    ----------
    N : int
        Neurons per hidden layer.
    size : int, sequence of int, or float
        ``|A|`` (``"choice"``, ``"ranks"``); the strictly increasing sizes of
        nested sets (``"nested"``); the drop probability ``p`` of each neuron
        (``"bernoulli"``).
    rng : numpy.random.Generator or int
    n_hidden : int, optional
        Hidden layers: a set per layer, independent across layers.  None (two
        layers): one set, not a list.
    n_draws : int, optional
        Independent draws: a list of them.  None: one draw.
    method : {"choice", "ranks", "nested", "bernoulli"}
        How the generator is used; each keeps the random stream of the code
        that used it before, so stored tables do not change:

        ``"choice"``
            each set ``sort(rng.choice(N, size, replace=False))``, draw by
            draw, layer by layer: index arrays.
        ``"ranks"``
            one block ``rng.random((n_draws, n_hidden, N))`` whose argsort
            marks ``size`` neurons a row: boolean masks of that shape (the
            torch patterns, evaluated many at a time).
        ``"nested"``
            one ``rng.permutation(N)``; the sets are its sorted prefixes of
            the given sizes, so ``A_1 ⊂ A_2 ⊂ ...`` and each is a uniform
            subset of its size: a list of index arrays, one per size.
        ``"bernoulli"``
            each neuron kept independently with probability ``1 - p``, ``p =
            size`` (Algorithm 1 of Kuditipudi et al.; ``rng.random(N) >= p``
            per layer): boolean masks, one row per layer.

    Returns
    -------
    numpy.ndarray or list
        As described under ``method``.

    Examples
    --------
    >>> from meanfield.dropout import draw_keep
    >>> draw_keep(10, 5, 0)                          # |A| = 5 of N = 10, sorted
    array([2, 3, 4, 5, 7])
    >>> [A.size for A in draw_keep(10, [2, 5, 8], 0, method="nested")]   # A_1 in A_2 in A_3
    [2, 5, 8]
    >>> draw_keep(10, 5, 0, n_hidden=2, n_draws=3, method="ranks").shape
    (3, 2, 10)

    References
    ----------
    Shevchenko & Mondelli (2020), Definition 3.1 (A independent of theta,
    uniform of its size); Kuditipudi et al. (2019), Algorithm 1.
    """
    N = _checks.positive_int("N", N)
    g = _checks.generator(rng)
    L = 1 if n_hidden is None else _checks.positive_int("n_hidden", n_hidden)
    K = 1 if n_draws is None else _checks.positive_int("n_draws", n_draws)
    if method == "choice":
        size = check_size("size", size, N)
        draws = [[np.sort(g.choice(N, size, replace=False)) for _ in range(L)]
                 for _ in range(K)]
        draws = [d[0] if n_hidden is None else d for d in draws]
        return draws[0] if n_draws is None else draws
    if method == "ranks":
        size = check_size("size", size, N)
        masks = g.random((K, L, N)).argsort(-1) < size
        return masks
    if method == "nested":
        sizes = [check_size(f"sizes[{k}]", s, N) for k, s in enumerate(size)]
        if not sizes or any(b <= a for a, b in itertools.pairwise(sizes)):
            raise ValueError(f"sizes must be a non-empty strictly increasing sequence, "
                             f"got {sizes}")
        perm = g.permutation(N)
        return [np.sort(perm[:s]) for s in sizes]
    if method == "bernoulli":
        if not 0.0 <= size < 1.0:
            raise ValueError(f"p must lie in [0, 1), got {size!r}")
        draws = [np.stack([g.random(N) >= size for _ in range(L)]) for _ in range(K)]
        draws = [d[0] if n_hidden is None else d for d in draws]
        return draws[0] if n_draws is None else draws
    raise ValueError(f"method must be one of choice, ranks, nested, bernoulli, got {method!r}")


def keep_masks(keep, N):
    """0/1 float masks of shape ``(len(keep), N)`` from kept index sets (one per layer).

    References
    ----------
    Shevchenko & Mondelli (2020), the dropout network after eq. (4.3): a mask
    row marks ``A_l``.
    """
    m = np.zeros((len(keep), N))
    for l, K in enumerate(keep):
        m[l, K] = 1.0
    return m


def mask_keep(mask):
    """Kept index sets, one per row of a 0/1 mask of shape (n_hidden, N).

    References
    ----------
    Shevchenko & Mondelli (2020), the dropout network after eq. (4.3).
    """
    return [np.flatnonzero(row) for row in np.asarray(mask)]


def dropout_loss(net, keep, loss):
    """``L_|A|(theta_A)``: the loss of the dropout network of ``net`` on the kept sets ``keep``.

    Parameters
    ----------
    net : Network
    keep : array of int or list of ``net.n_hidden`` arrays
        Checked by :func:`check_keep`, in the caller's order.
    loss : callable
        ``loss(net, keep)``, the caller's loss (``keep`` None: the full net).

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (3.4) and eq. (4.4).
    """
    return loss(net, check_keep(keep, net.n_hidden, net.N, sort=False))


def dropout_gap(net, keep, loss):
    """``eps_D = |L_N(theta) - L_|A|(theta_A)|`` for the caller's ``loss(net, keep)``.

    References
    ----------
    Shevchenko & Mondelli (2020), Definition 3.1 and eq. (4.4).
    """
    return abs(loss(net, None) - dropout_loss(net, keep, loss))


@dataclasses.dataclass(frozen=True)
class RescaledDropout:
    """The best rescaled dropout network over several kept sets: one result for every backend.

    ``scale`` multiplies the output of the dropout network (eq. (3.4), the
    ``N/|A|`` rescaling included), so ``scale = 1`` is the plain dropout
    network.  Returned by :func:`rescaled_dropout`,
    :func:`meanfield.twolayer.dropout.rescaled_dropout` and
    :func:`meanfield.torch.best_rescaled_dropout`.

    Attributes
    ----------
    loss, scale : float
        The least loss and its scale.
    best : int
        Index of the kept set of least loss.
    losses, scales : numpy.ndarray
        The least loss and its scale per kept set.
    keep : array or None
        The best kept set: an index array (two-layer), a 0/1 mask of shape
        ``(n_hidden, N)`` (torch), or None when the caller gave only the losses.
    fixed_losses : numpy.ndarray or None
        The loss of each dropout network at scale 1, where the backend gives it.

    Notes
    -----
    For one release the former forms still read, with a DeprecationWarning:
    ``best, losses, scales = result`` (the tuple :func:`rescaled_dropout`
    returned), ``result["loss"]``, ``result["mask"]`` (the torch dict) and
    ``result.subset`` (the two-layer dataclass); ``keep`` is the mask and the
    subset.

    References
    ----------
    Kuditipudi et al. (2019), Definition 1; Nguyen, Bréchet & Mondelli
    (2021), Section 6, Experiment B.
    """

    loss: float
    scale: float
    best: int
    losses: np.ndarray
    scales: np.ndarray
    keep: Any = None
    fixed_losses: Any = None

    def __iter__(self):
        from ._deprecation import warn_renamed

        warn_renamed("unpacking rescaled_dropout(...) as (best, losses, scales)",
                     "its fields .best, .losses, .scales")
        return iter((self.best, self.losses, self.scales))

    def __getitem__(self, key):
        from ._deprecation import warn_renamed

        field = {"mask": "keep"}.get(key, key)
        if not isinstance(key, str) or field not in {f.name for f in dataclasses.fields(self)}:
            raise KeyError(key)
        warn_renamed(f"result[{key!r}] of best_rescaled_dropout", f"result.{field}")
        return getattr(self, field)

    @property
    def subset(self):
        """Deprecated name of :attr:`keep` (the two-layer result's kept set)."""
        from ._deprecation import warn_renamed

        warn_renamed("RescaledDropout.subset", "RescaledDropout.keep")
        return self.keep


def rescaled_dropout(*args, **kwargs):
    """The best rescaled dropout network: per kept set the output scale of least loss.

    Kuditipudi et al. (Definition 1) keep half of the units and multiply the
    dropout network's output by a scalar chosen for the lowest loss;
    Experiment B of Nguyen, Bréchet & Mondelli takes the best of several
    random kept sets.  Per kept set, the loss as a function of the scale ``r``
    is minimised by Brent's method without bounds,
    ``scipy.optimize.minimize_scalar(method="brent")``, the search of Nguyen
    et al., Section 6, Experiment B, step (ii) (:func:`best_scales`).

    One signature on every backend: :func:`meanfield.twolayer.dropout.rescaled_dropout`
    (the exact population risk, in closed form) and
    :func:`meanfield.torch.rescaled_dropout` (a loss on data, every draw's
    outputs in one batched pass) take the same arguments.

    Parameters
    ----------
    net : Network
    keeps : sequence
        The kept sets, one per draw (e.g. :func:`draw_keep` with ``n_draws``),
        each as ``loss`` takes it.
    loss : callable
        ``loss(net, keep, scale) -> float``: the loss of the dropout network of
        ``net`` on ``keep`` (eq. (3.4), the ``N/|A|`` rescaling included) with
        its output multiplied by ``scale``.
    max_scale : float, optional
        Opt-in bound, not the paper's search: when Brent's minimiser leaves
        ``[1 / max_scale, max_scale]``, search that interval instead
        (``method="bounded"``).  None (the default) keeps Brent's answer
        wherever it lies.  On data that a dropout network classifies without
        error the cross-entropy falls as the scale grows, and the unbounded
        search returns a large scale and a loss near 0; the paper's search
        is unbounded all the same.
    bracket : tuple, optional
        Brent's starting bracket (scipy's default when None).

    Returns
    -------
    RescaledDropout
        The best kept set's loss and scale, every set's, the best kept set
        ``keep`` and the losses at scale 1 (``fixed_losses``).

    Notes
    -----
    The former call ``rescaled_dropout(objectives, bracket, max_scale, keeps,
    fixed_losses)``, on the losses as functions of the scale, works for one
    release with a DeprecationWarning; it is :func:`best_scales`.

    References
    ----------
    Kuditipudi et al. (2019), Definition 1; Nguyen, Bréchet & Mondelli
    (2021), Section 6, Experiment B.
    """
    from ._deprecation import bind_form, warn_renamed

    if (args and not isinstance(args[0], Network)) or "objectives" in kwargs:
        old = bind_form("rescaled_dropout", _OLD_RESCALED, args, kwargs,
                        required=["objectives"])
        if kwargs:
            raise TypeError(f"rescaled_dropout got unexpected keywords {sorted(kwargs)}")
        warn_renamed("meanfield.dropout.rescaled_dropout(objectives, ...)",
                     "rescaled_dropout(net, keeps, loss) with loss(net, keep, scale), or "
                     "best_scales(objectives, ...) for the losses as functions of the scale")
        return best_scales(**old)
    new = bind_form("rescaled_dropout", ("net", "keeps", "loss"), args, kwargs)
    unknown = set(kwargs) - {"max_scale", "bracket"}
    if unknown:
        raise TypeError(f"rescaled_dropout got unexpected keywords {sorted(unknown)}")
    net, keeps, loss = new["net"], new["keeps"], new["loss"]
    _check_max_scale(kwargs.get("max_scale"))
    if not callable(loss):
        raise ValueError(f"loss must be a callable loss(net, keep, scale), got {loss!r}")
    keeps = list(keeps)
    objectives = [lambda r, k=k: loss(net, k, r) for k in keeps]
    return best_scales(objectives, keeps=keeps,
                       fixed_losses=[loss(net, k, 1.0) for k in keeps], **kwargs)


#: The arguments of the former ``rescaled_dropout(objectives, ...)``, in order.
_OLD_RESCALED = ("objectives", "bracket", "max_scale", "keeps", "fixed_losses")


def best_scales(objectives, *, keeps=None, fixed_losses=None, bracket=None, max_scale=None):
    """Per kept set the output scale of least loss, the losses given as functions of the scale.

    The search of :func:`rescaled_dropout` (Brent's method without bounds,
    Nguyen et al., Section 6, Experiment B, step (ii)), for a caller that has
    the loss of each dropout network as a function of the scale ``r``.

    Parameters
    ----------
    objectives : sequence
        Per kept set, ``f(r) -> float``, or a float where the loss does not
        depend on ``r`` (a dropout network with zero output: its scale is 1).
    keeps : sequence, optional
        The kept set of each objective: the result's ``keep`` is the best one.
    fixed_losses : array_like, optional
        The loss of each dropout network at scale 1, passed on to the result.
    bracket, max_scale
        As in :func:`rescaled_dropout`.

    Returns
    -------
    RescaledDropout

    References
    ----------
    Kuditipudi et al. (2019), Definition 1; Nguyen, Bréchet & Mondelli
    (2021), Section 6, Experiment B.
    """
    _check_max_scale(max_scale)
    from scipy.optimize import minimize_scalar

    losses, scales = np.empty(len(objectives)), np.empty(len(objectives))
    for k, f in enumerate(objectives):
        if not callable(f):
            scales[k], losses[k] = 1.0, float(f)
            continue
        res = minimize_scalar(f, method="brent", bracket=bracket)
        if max_scale is not None and not 1.0 / max_scale <= res.x <= max_scale:
            res = minimize_scalar(f, method="bounded", bounds=(1.0 / max_scale, max_scale))
        scales[k], losses[k] = res.x, res.fun
    if not len(losses):
        raise ValueError("objectives must hold at least one kept set")
    if keeps is not None and len(keeps) != len(objectives):
        raise ValueError(f"keeps must give one kept set per objective ({len(objectives)}), "
                         f"got {len(keeps)}")
    best = int(np.argmin(losses))
    return RescaledDropout(float(losses[best]), float(scales[best]), best, losses, scales,
                           None if keeps is None else keeps[best],
                           None if fixed_losses is None else np.asarray(fixed_losses))


def _check_max_scale(max_scale):
    if max_scale is not None and not (np.isfinite(max_scale) and max_scale > 1.0):
        raise ValueError(f"max_scale must be None or a finite number > 1, got {max_scale!r}")


def _rescaled_signature(loss=None):
    """``(net, keeps, loss, *, max_scale=None, bracket=None)``: the signature
    :func:`rescaled_dropout` has on every backend (what help() and the docs show), with
    the backend's default ``loss`` where it has one."""
    import inspect

    P = inspect.Parameter
    return inspect.Signature(
        [P("net", P.POSITIONAL_OR_KEYWORD), P("keeps", P.POSITIONAL_OR_KEYWORD),
         P("loss", P.POSITIONAL_OR_KEYWORD, **({} if loss is None else {"default": loss})),
         P("max_scale", P.KEYWORD_ONLY, default=None), P("bracket", P.KEYWORD_ONLY, default=None)])


rescaled_dropout.__signature__ = _rescaled_signature()
