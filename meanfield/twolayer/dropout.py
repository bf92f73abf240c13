"""Dropout of the two-layer particle system: eq. (3.4) of Shevchenko & Mondelli, exactly.

:class:`TwoLayerNet` is the particle system ``theta = (a, W)`` of eq. (3.1)
as a :class:`meanfield.dropout.Network`, its loss the exact population risk
of the task (:func:`population_risk`).  The dropout network, the kept-set
drawer and the rescaled dropout are those of :mod:`meanfield.dropout`; this
module adds what only the exact risk gives: the mean shift over kept sets
(:func:`dropout_bias`) and the optimal output scale in closed form
(:func:`rescaled_dropout`).

Index sets ``A`` are 1-D integer arrays into ``range(N)``; they are drawn
independently of the network, from their own generator, as Definition 3.1
requires.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: eqs. (3.1)-(3.4), Definition 3.1.
.. [2] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Definition 1.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .. import dropout as _dropout
from .._deprecation import bind_form, warn_renamed
from ..dropout import RescaledDropout  # noqa: F401 - its former home; the result type now
from ..dropout import check_size, draw_keep, dropout_rescale, first_half

__all__ = ["TwoLayerNet", "dropout_bias", "dropout_gap", "dropout_loss",
           "first_half", "nested_subsets", "population_risk", "rescaled_dropout"]


def random_subset(N, size, rng):
    """Deprecated name of :func:`meanfield.dropout.draw_keep` (removed in 0.3)."""
    import warnings

    warnings.warn("meanfield.twolayer.random_subset is deprecated: use "
                  "meanfield.dropout.draw_keep", DeprecationWarning, stacklevel=2)
    return draw_keep(N, size, rng)


class TwoLayerNet:
    """The two-layer particle system ``yhat(x) = (1/N) sum_i a_i sigma(<w_i, x>)`` (eq. 3.1).

    A :class:`meanfield.dropout.Network` with one hidden layer; ``sigma`` is
    the task's student activation and the loss the task's exact population
    risk (:meth:`risk`).

    Parameters
    ----------
    task : GaussianTask
    a : numpy.ndarray, shape (N,)
    W : numpy.ndarray, shape (N, d)

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (3.1); its dropout network eq. (3.4).
    """

    n_hidden = 1

    def __init__(self, task, a, W):
        self.task = task
        self.a, self.W = _checks.network(a, W, task.d)

    @property
    def N(self):
        return self.a.size

    @property
    def weights(self):
        """``[W, a[None]]``: the layer layout of :mod:`meanfield.connectivity`."""
        return [self.W, self.a[None]]

    def _kept(self, keep):
        return None if keep is None else \
            _dropout.check_keep(keep, 1, self.N, sort=False, name="A")[0]

    def forward(self, X, keep=None):
        """Outputs on ``X`` (n, d), shape (n,); with ``keep``, of the dropout network (3.4)."""
        A = self._kept(keep)
        a, W = (self.a, self.W) if A is None else (self.a[A], self.W[A])
        act = self.task.activation(np.asarray(X, dtype=np.float64) @ W.T)
        return dropout_rescale(act @ a, a.size)

    def risk(self, keep=None, scale=1.0):
        """The exact population risk ``L_N(theta)`` (eq. 3.2), or ``L_|A|(theta_A)`` (eq. 3.4)
        of the dropout network: the risk of the ``|A|``-neuron network of the kept neurons;
        with ``scale``, of that network with its output multiplied by ``scale``
        (Kuditipudi et al., Definition 1)."""
        A = self._kept(keep)
        a, W = (self.a, self.W) if A is None else (self.a[A], self.W[A])
        return self.task.risk(a if scale == 1.0 else scale * a, W)


def population_risk(net, keep=None, scale=1.0):
    """The two-layer loss: the exact population risk of ``net`` or of its dropout network.

    The ``loss(net, keep)`` of :func:`meanfield.dropout.dropout_loss` and the
    ``loss(net, keep, scale)`` of :func:`meanfield.dropout.rescaled_dropout` for
    :class:`TwoLayerNet` (``scale`` multiplies the output).

    References
    ----------
    Shevchenko & Mondelli (2020), eqs. (3.2) and (3.4); Kuditipudi et al. (2019),
    Definition 1 (the scale).
    """
    return net.risk(keep, scale)


def _old_form(name, args, kwargs):
    """``(net, keep, loss)`` of a call in the former form ``(task, a, W, A)``, with a
    DeprecationWarning; None for a call in the new form."""
    if args and isinstance(args[0], _dropout.Network) or "net" in kwargs:
        return None
    names = ("task", "a", "W", "A")
    bound = dict(zip(names, args))
    bound.update({k: kwargs.pop(k) for k in names if k in kwargs})
    missing = [k for k in names if k not in bound]
    if missing or kwargs or len(args) > 4:
        raise TypeError(f"{name}(net, keep, loss=population_risk): got {len(args)} positional "
                        f"arguments{', missing ' + ', '.join(missing) if missing else ''}")
    warn_renamed(f"meanfield.twolayer.{name}(task, a, W, A)",
                 f"{name}(TwoLayerNet(task, a, W), A)", stacklevel=4)
    return TwoLayerNet(bound["task"], bound["a"], bound["W"]), bound["A"], population_risk


def dropout_loss(*args, **kwargs):
    """``L_|A|(theta_A)`` of eq. (3.4): keep the neurons in A, output ``(1/|A|) sum_{i in A}``.

    :func:`meanfield.dropout.dropout_loss` with the exact population risk as
    the default loss: the same signature ``(net, keep, loss)`` on every backend.
    Equivalent to rescaling the kept output weights by ``N/|A|`` and zeroing the
    others; exact through ``task.risk``.

    Parameters
    ----------
    net : TwoLayerNet
    keep : array_like of int
        The kept neurons A.
    loss : callable, optional
        ``loss(net, keep)``; default :func:`population_risk`.

    Notes
    -----
    The former call ``dropout_loss(task, a, W, A)`` works for one release,
    with a DeprecationWarning.

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (3.4).
    """
    old = _old_form("dropout_loss", args, kwargs)
    return _dropout.dropout_loss(*(old or _new_form(args, kwargs)))


def _new_form(args, kwargs):
    names = ("net", "keep", "loss")
    bound = {**dict(zip(names, args)), **kwargs}
    if len(args) > 3 or set(bound) - set(names) or not {"net", "keep"} <= set(bound):
        raise TypeError(f"expected (net, keep, loss=population_risk), got {len(args)} "
                        f"positional arguments and keywords {sorted(kwargs)}")
    return bound["net"], bound["keep"], bound.get("loss", population_risk)


def dropout_gap(*args, **kwargs):
    r"""``eps_D = |L_N(theta) - L_|A|(theta_A)|`` (Definition 3.1).

    :func:`meanfield.dropout.dropout_gap` with the exact population risk as
    the default loss: the same signature ``(net, keep, loss)`` on every backend.

    .. math::

        \varepsilon_D = \lvert L_N(\theta) - L_{\lvert A\rvert}(\theta_A) \rvert,
        \qquad \hat y_{\lvert A\rvert}(x; \theta_A)
        = \frac{1}{\lvert A\rvert} \sum_{i \in A} a_i\, \sigma(\langle w_i, x\rangle).

    Parameters
    ----------
    net : TwoLayerNet
        The network ``(a, W)`` on its task.
    keep : array_like of int
        The kept neurons A, drawn independently of the network
        (:func:`meanfield.dropout.draw_keep`).
    loss : callable, optional
        ``loss(net, keep)``; default :func:`population_risk`.

    Returns
    -------
    float
        ``eps_D`` for this A, exact.

    Notes
    -----
    The former call ``dropout_gap(task, a, W, A)`` works for one release,
    with a DeprecationWarning.

    Examples
    --------
    >>> import numpy as np
    >>> import meanfield as mf
    >>> from meanfield.dropout import draw_keep
    >>> from meanfield.twolayer import TwoLayerNet, dropout_gap, dropout_loss
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> net = TwoLayerNet(task, *mf.InitialLaw().sample(50, task.d, np.random.default_rng(0)))
    >>> A = draw_keep(50, 25, np.random.default_rng(1))     # a uniform half
    >>> L_A = dropout_loss(net, A)
    >>> bool(np.isclose(dropout_gap(net, A), abs(net.risk() - L_A)))
    True

    References
    ----------
    Shevchenko & Mondelli (2020), Definition 3.1.
    """
    old = _old_form("dropout_gap", args, kwargs)
    return _dropout.dropout_gap(*(old or _new_form(args, kwargs)))


def dropout_bias(task, a, W, size, risk=None):
    """``E_A[L_|A|(theta_A)] - L_N(theta)`` over uniform random A of the given size, exactly.

    Averaging eq. (3.4) over A keeps the V term and reweights the U term of
    eq. (3.2): with ``u_ij = U(theta_i, theta_j)`` and ``m = |A|``,

        E_A L_m - L_N = (1/m - 1/N) (mean_i u_ii - mean_{i != j} u_ij),

    a deterministic shift of order ``1/m`` next to the ``m^(-1/2)``
    fluctuations of ``L_m`` around its mean: the self-interaction a neuron
    loses when its neighbours are dropped.

    Parameters
    ----------
    task : GaussianTask
    a, W : numpy.ndarray
    size : int
        ``|A|`` in [1, N].
    risk : float, optional
        ``L_N(theta)`` when already known; saves the O(N^2) pass.

    Returns
    -------
    float
        The mean shift of the dropout loss over A, exact (no sampling of A).

    Examples
    --------
    The exact shift against the mean over many drawn halves:

    >>> import numpy as np
    >>> import meanfield as mf
    >>> from meanfield.dropout import draw_keep
    >>> from meanfield.twolayer import TwoLayerNet, dropout_loss
    >>> from meanfield.twolayer.dropout import dropout_bias
    >>> task = mf.teacher_student(d=10, activation="relu", width=2)
    >>> a, W = mf.InitialLaw().sample(40, task.d, np.random.default_rng(0))
    >>> bias = dropout_bias(task, a, W, 20)
    >>> draws = draw_keep(40, 20, np.random.default_rng(1), n_draws=400)
    >>> shifts = [dropout_loss(TwoLayerNet(task, a, W), A) - task.risk(a, W) for A in draws]
    >>> se = np.std(shifts) / np.sqrt(len(shifts))
    >>> print(f"exact {bias:.4f}, mean of 400 draws {np.mean(shifts):.4f} +- {se:.4f}")
    exact 0.0084, mean of 400 draws 0.0075 +- 0.0021

    References
    ----------
    Shevchenko & Mondelli (2020), eqs. (3.2) and (3.4).
    """
    a, W = _checks.network(a, W, task.d)
    N = a.size
    m = check_size("size", size, N)
    if N == 1:
        return 0.0
    L = task.risk(a, W) if risk is None else float(risk)
    # a' U a from the risk itself: L = E y^2 + (2/N) sum V + (1/N^2) a'Ua
    total = N * N * (L - task.ey2) - 2.0 * N * task.V(a, W).sum()
    diag = float(np.sum(a * a * task.self_kernel(W)))
    return (1.0 / m - 1.0 / N) * (diag / N - (total - diag) / (N * (N - 1)))


def nested_subsets(N, sizes, rng):
    """Random nested index sets ``A_1 ⊂ A_2 ⊂ ...`` with ``|A_k| = sizes[k]``.

    The sets are prefixes of one uniform random permutation, so each is a
    uniform random subset of its size and a sweep over ``|A|`` changes one
    thing at a time: :func:`meanfield.dropout.draw_keep` with ``method="nested"``.

    Parameters
    ----------
    N : int
    sizes : sequence of int
        Strictly increasing, in [1, N].
    rng : numpy.random.Generator or int

    Returns
    -------
    list of numpy.ndarray
        Sorted index arrays, one per size.

    References
    ----------
    Shevchenko & Mondelli (2020), Definition 3.1 (A uniform, independent of theta).
    """
    return draw_keep(N, sizes, rng, method="nested")


def rescaled_dropout(*args, **kwargs):
    """Dropout with an optimised output scale, the best of several kept sets (Kuditipudi et al.).

    Kuditipudi et al. (2019), Definition 1 keep half of the units and rescale
    their outputs by a factor chosen for the lowest loss.  For each kept set A
    the scale r minimises ``L(r) = L_|A|(r theta_A)`` (a applied to the output
    weights), found with ``scipy.optimize.minimize_scalar`` (Brent).  For the
    exact population risk ``L(r)`` is the quadratic of
    :meth:`GaussianTask.risk_coefficients`, so each evaluation costs O(1) after
    two kernel sums, and Brent's parabolic step lands on the minimum.

    :func:`meanfield.dropout.rescaled_dropout`, the same signature on every
    backend, with the exact population risk as the default loss.

    Parameters
    ----------
    net : TwoLayerNet
        The network ``(a, W)`` of width N on its task.
    keeps : sequence of index arrays
        The kept sets A, drawn independently of the network, e.g.
        ``draw_keep(N, size, rng, n_draws=20)`` (Kuditipudi et al. use 20).
    loss : callable, optional
        ``loss(net, keep, scale)``; default :func:`population_risk` (the
        closed-form quadratic above; another loss goes to the generic search).
    max_scale, bracket
        As in :func:`meanfield.dropout.rescaled_dropout`.

    Returns
    -------
    meanfield.dropout.RescaledDropout
        With the best kept set as ``keep`` (``subset`` before 0.2) and the
        losses at scale 1 as ``fixed_losses``; the output weights of the best
        network are ``scale * N/|A| * a_A``.

    Notes
    -----
    The former call ``rescaled_dropout(task, a, W, size, n_draws=20, rng=None,
    subsets=None)`` works for one release, with a DeprecationWarning: it is
    ``rescaled_dropout(TwoLayerNet(task, a, W), subsets or draw_keep(N, size, rng,
    n_draws=n_draws))``.

    References
    ----------
    Kuditipudi et al. (2019), Definition 1; the search over kept sets and
    scales is :func:`meanfield.dropout.best_scales`.
    """
    if (args and not isinstance(args[0], _dropout.Network)) or "task" in kwargs:
        net, keeps = _old_rescaled(args, kwargs)
        loss = population_risk
    else:
        bound = bind_form("rescaled_dropout", ("net", "keeps", "loss"), args, kwargs,
                          required=("net", "keeps"))
        net, keeps, loss = bound["net"], bound["keeps"], bound.get("loss", population_risk)
    unknown = set(kwargs) - {"max_scale", "bracket"}
    if unknown:
        raise TypeError(f"rescaled_dropout got unexpected keywords {sorted(unknown)}")
    if loss is not population_risk:
        return _dropout.rescaled_dropout(net, keeps, loss, **kwargs)
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net must be a TwoLayerNet (the exact risk is its task's), got "
                         f"{type(net).__name__}")
    task, a, W = net.task, net.a, net.W
    subsets = [_dropout.check_keep(A, 1, net.N, sort=False, name="A")[0] for A in keeps]
    if not subsets:
        raise ValueError("keeps must hold at least one kept set")
    coefs = [task.risk_coefficients(np.zeros(A.size), a[A], W[A]) for A in subsets]
    # L(r) = c0 + r (c1 + r c2); a kept output that is identically zero (c2 = 0) has the
    # same loss at every scale
    objectives = [float(c[0]) if c[2] <= 0.0 else (lambda r, c=c: c[0] + r * (c[1] + r * c[2]))
                  for c in coefs]
    fixed = np.array([float(c.sum()) for c in coefs])
    return _dropout.best_scales(objectives, keeps=subsets, fixed_losses=fixed, **kwargs)


def _old_rescaled(args, kwargs):
    """``(net, keeps)`` of a call in the former form ``(task, a, W, size, n_draws=20,
    rng=None, subsets=None)``, with a DeprecationWarning; ``kwargs`` keeps the rest."""
    names = ("task", "a", "W", "size", "n_draws", "rng", "subsets")
    bound = {"n_draws": 20, "rng": None, "subsets": None,
             **bind_form("rescaled_dropout", names, args, kwargs, required=names[:3])}
    warn_renamed("meanfield.twolayer.dropout.rescaled_dropout(task, a, W, size, n_draws, rng, "
                 "subsets)", "rescaled_dropout(TwoLayerNet(task, a, W), keeps) with keeps = "
                 "subsets or draw_keep(N, size, rng, n_draws=n_draws)", stacklevel=4)
    net = TwoLayerNet(bound["task"], bound["a"], bound["W"])
    if bound["subsets"] is not None:
        return net, bound["subsets"]
    if "size" not in bound:
        raise TypeError("rescaled_dropout(task, a, W, size, ...): missing size")
    size = check_size("size", bound["size"], net.N)
    n_draws = _checks.positive_int("n_draws", bound["n_draws"])
    if bound["rng"] is None:
        raise ValueError("rng is required when subsets are not given")
    return net, draw_keep(net.N, size, bound["rng"], n_draws=n_draws)


def _signature():
    import inspect

    P = inspect.Parameter
    return inspect.Signature([P("net", P.POSITIONAL_OR_KEYWORD), P("keep", P.POSITIONAL_OR_KEYWORD),
                              P("loss", P.POSITIONAL_OR_KEYWORD, default=population_risk)])


dropout_loss.__signature__ = dropout_gap.__signature__ = _signature()
rescaled_dropout.__signature__ = _dropout._rescaled_signature(population_risk)
