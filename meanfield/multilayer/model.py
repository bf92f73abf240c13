"""The multilayer mean-field network of Shevchenko & Mondelli in the form of eq. (1.1).

``z1 = W_1 x`` (fixed random features, ``sigma0`` the identity of eq. 4.1 with
``theta0_i = w_i``), ``z_{l+1} = (1/N) W_{l+1} sigma(z_l)`` for the trained
middle layers l = 1..L-1, and ``yhat = (1/N) W_{L+1} sigma(z_L)`` with a fixed
last layer, vector outputs allowed.  ``L + 1 >= 4`` layers (eq. 4.1): at least
two trained N x N matrices.

Weights are kept as a list ``[W_1 (N, d), W_2 .. W_L (N, N), W_{L+1} (d_out, N)]``,
the layout of :mod:`meanfield.connectivity`, so the dropout paths apply as
they are.  The dropout network keeps ``A_l`` in hidden layer l and replaces
the ``1/N`` of the sum over that layer by ``1/|A_l|`` (after eq. 4.3):
:class:`MultilayerNet` is a :class:`meanfield.dropout.Network`.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: eqs. (1.1), (4.1), (4.3) and the dropout network after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..activations import get_activation
from ..connectivity.vertices import check_net
from ..dropout import check_keep, dropout_rescale


def check_weights(weights):
    """:func:`~meanfield.connectivity.vertices.check_net` without biases, for eq. (4.1).

    Also needs L + 1 >= 4 layers and finite entries.  Raises ValueError
    naming the layer.
    """
    if len(weights) < 4:
        raise ValueError(f"the model needs L + 1 >= 4 layers (eq. 4.1), got {len(weights)} "
                         "matrices")
    ws = check_net(weights, biases=False)
    if not all(np.isfinite(w).all() for w in ws):
        raise ValueError("weights must be finite")
    return ws


@dataclass
class MultilayerNet:
    """Weights and activation of an eq. (1.1) network.

    Attributes
    ----------
    weights : list of numpy.ndarray
        ``[W_1, ..., W_{L+1}]``; only ``W_2 .. W_L`` are trained.
    activation : str
        ``sigma_l`` for every hidden layer (a name of :mod:`meanfield.activations`).
    """

    weights: list
    activation: str = "tanh"

    def __post_init__(self):
        self.weights = check_weights(self.weights)
        self.act = get_activation(self.activation)

    @property
    def N(self):
        return self.weights[0].shape[0]

    @property
    def d(self):
        return self.weights[0].shape[1]

    @property
    def d_out(self):
        return self.weights[-1].shape[0]

    @property
    def n_hidden(self):
        """L, the number of hidden layers."""
        return len(self.weights) - 1

    def copy(self):
        return MultilayerNet([w.copy() for w in self.weights], self.activation)

    def forward(self, X, keep=None, cache=False):
        """Outputs ``yhat`` of shape (n, d_out); with ``keep``, of the dropout network.

        ``keep`` holds one kept set per hidden layer (one array: the same in
        all, :func:`meanfield.dropout.check_keep`); the sum over each hidden
        layer is then the kept sum over ``|A_l|`` (:func:`meanfield.dropout.
        dropout_rescale`).  With ``cache`` also returns the pre-activations
        ``z_1 .. z_L``.

        References
        ----------
        Shevchenko & Mondelli (2020), eq. (1.1) and the dropout network after
        eq. (4.3).
        """
        W = self.weights
        K = None if keep is None else check_keep(keep, self.n_hidden, self.N)
        if K is not None and not cache:
            return self._forward_kept(np.asarray(X, dtype=np.float64), K)
        z = np.asarray(X, dtype=np.float64) @ W[0].T
        zs = [z]
        for m in range(1, len(W)):
            h = self.act(z)
            if K is None:
                z = h @ W[m].T / self.N
            else:
                k = K[m - 1]
                z = dropout_rescale(h[:, k] @ W[m][:, k].T, k.size)
            zs.append(z)
        return (z, zs[:-1]) if cache else z


    def _forward_kept(self, X, K):
        """:meth:`forward` of the dropout network computing only the kept units: a unit
        of hidden layer l outside ``K[l-1]`` enters no later sum, so its pre-activation
        is never formed.  Each kept unit's pre-activation is the same dot product (over
        the previous layer's kept units) as in the full pass; the middle products cost
        n |A_l| |A_(l+1)| instead of n |A_l| N."""
        W = self.weights
        z = X @ W[0][K[0]].T
        for m in range(1, len(W)):
            k = K[m - 1]
            rows = W[m] if m == len(W) - 1 else W[m][K[m]]
            z = dropout_rescale(self.act(z) @ rows[:, k].T, k.size)
        return z


def init_net(d, N, L=3, d_out=1, activation="sigmoid", a_mean=1.0, a_std=1.0, w_std=1.0, rng=0,
             a_law="gaussian"):
    """i.i.d. initial weights, independent of N: ``W_1 ~ N(0, w_std^2 / d)``,
    middle and last entries of mean ``a_mean`` and sd ``a_std``: Gaussian, or with
    ``a_law="uniform"`` uniform on ``a_mean +- sqrt(3) a_std``, the bounded support
    that (B4) asks for.

    Why the defaults: with zero-mean middle weights every hidden unit of layer
    >= 2 starts at ``O(N^(-1/2))`` and, with ``sigma(0) = 0`` (tanh), the net
    has no gradient to leave it; even with ``sigma(0) != 0`` the first
    x-dependent gradient is ``O(N^(-1/2))``, so the mean-field dynamics stays
    at the initial risk for a time that grows with N.  A nonzero mean and an
    activation with ``sigma(0) != 0`` (sigmoid) make the limit move at once.

    Parameters
    ----------
    L : int
        Hidden layers, >= 3 (L + 1 >= 4 layers).
    """
    d = _checks.positive_int("d", d)
    N = _checks.positive_int("N", N)
    L = _checks.positive_int("L", L)
    if L < 3:
        raise ValueError(f"L must be >= 3 (L + 1 >= 4 layers, eq. 4.1), got {L}")
    d_out = _checks.positive_int("d_out", d_out)
    g = _checks.generator(rng)
    W = [g.standard_normal((N, d)) * (w_std / np.sqrt(d))]
    _checks.a_law(a_law)
    W += [a_mean + _checks.standardised_draws(a_law, (N, N), g) * a_std for _ in range(L - 1)]
    W.append(a_mean + _checks.standardised_draws(a_law, (d_out, N), g) * a_std)
    return MultilayerNet(W, activation)
