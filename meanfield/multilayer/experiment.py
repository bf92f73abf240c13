"""Dropout stability and connectivity of multilayer SGD solutions (Shevchenko & Mondelli Thm 2).

``eps_D = |L_|A|(theta_A) - L_N(theta)|`` with kept sets ``A_l`` in every
hidden layer (eq. 4.4) and ``eps_C`` = the largest loss along the path of
:func:`meanfield.connectivity.dropout_connect` minus the larger loss of its
two ends (eq. 4.5).  On that path the loss is a convex quadratic on every
``"a"`` segment and constant on every ``"w0"`` segment, so its maximum is the
largest vertex loss; :func:`path_profile` evaluates it densely to show it.
Every loss is the Monte Carlo risk of :class:`~meanfield.multilayer.sgd.MCRisk`
with its standard error: :class:`MCLoss` is that loss for the one path type
and its :func:`~meanfield.connectivity.barrier`.  Kept sets come from
:func:`meanfield.dropout.draw_keep`.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: Theorem 2, eqs. (4.4)-(4.5).
.. [2] R. Kuditipudi et al., "Explaining landscape connectivity of low-cost
   solutions for multilayer nets", NeurIPS 2019: Lemmas 1 and 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _checks
from .._settings import setting
from ..connectivity import barrier, dropout_connect
from ..dropout import check_keep, draw_keep
from .model import MultilayerNet, init_net
from .sgd import MCRisk, _targets, run_sgd


def connect(net, net2, keep):
    """The path (PathVertices) from ``net`` to ``net2`` through their dropout networks on ``keep``.

    References
    ----------
    Shevchenko & Mondelli (2020), Theorem 2(B); Kuditipudi et al. (2019),
    Lemmas 1 and 2 (:func:`meanfield.connectivity.dropout_connect`).
    """
    if net.activation != net2.activation:
        raise ValueError(f"the two nets must share the activation, got {net.activation!r} and "
                         f"{net2.activation!r}")
    check_keep(keep, net.n_hidden, net.N)
    return dropout_connect(net.weights, net2.weights, keep)


class MCLoss:
    """Per-sample square losses on the Monte Carlo sample of ``mc``: a loss for paths.

    ``MCLoss(mc, activation)(weights)`` is the losses, shape (n,), of the
    :class:`MultilayerNet` with those layer matrices; :func:`meanfield.
    connectivity.barrier` then gives ``eps_C`` with the standard error of the
    paired difference.  A ``"w0"`` segment leaves the network function
    unchanged, so the vertex after it reuses the losses of the vertex before
    (``shortcut``; about half of the forward passes, checked in
    ``tests/test_multilayer.py``).

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (4.2) (the risk) and eq. (4.5) (``eps_C``).
    """

    shortcut = True

    def __init__(self, mc, activation):
        self.mc, self.activation = mc, activation
        self._last = None  # (weights, pre-activations z_0 .. z_(L-1)) of the last call
        self.products = 0  # layer products formed, for the tests of the prefix reuse

    def __call__(self, weights):
        """Per-sample losses of the net ``weights``.  Consecutive vertices of a path
        differ in one layer or few: the pre-activations of the layers before the first
        changed matrix are kept from the last call and reused, the same arrays the
        forward pass would compute again (same products, same bits;
        :meth:`MultilayerNet.forward`).  Memory: L arrays of n x N floats."""
        net = MultilayerNet(weights, self.activation)
        W, X = net.weights, self.mc.X
        start = 0
        if self._last is not None and len(self._last[0]) == len(W):
            old, zs_old = self._last
            while start < len(W) - 1 and (W[start] is old[start] or (
                    W[start].shape == old[start].shape
                    and np.array_equal(W[start], old[start]))):
                start += 1
        if start == 0:
            zs = [X @ W[0].T]
            self.products += 1
        else:
            zs = zs_old[:start]
        z = zs[-1]
        for m in range(max(start, 1), len(W)):
            z = net.act(z) @ W[m].T / net.N
            self.products += 1
            if m < len(W) - 1:
                zs.append(z)
        self._last = ([w.copy() for w in W], zs)
        r = z - _targets(self.mc.y, net.d_out)
        return np.sum(r * r, axis=1)


def path_profile(path, activation, mc, n_per_segment=9):
    """The risk at ``n_per_segment`` points of each segment, each point by a forward pass.

    Returns a DataFrame with ``s``, ``segment``, ``kind``, ``label`` and ``risk``
    (:meth:`meanfield.connectivity.PathVertices.profile` on the Monte Carlo sample).

    References
    ----------
    Shevchenko & Mondelli (2020), eq. (4.2) along the path of Theorem 2(B).
    """
    y = mc.y[:, None] if mc.y.ndim == 1 else mc.y

    def outputs(w):
        return MultilayerNet(w, activation).forward(mc.X)

    def measure(out):
        return {"risk": float(np.mean(np.sum((out - y) ** 2, axis=1)))}

    # every point by a forward pass, so the profile checks the construction
    return pd.DataFrame(path.profile(outputs, measure, n_per_segment, shortcut=False))


@dataclass(frozen=True)
class MultilayerConfig:
    """One cell of the multilayer experiment: a pair of nets at width N, trained to T.

    The SGD step is ``alpha``, or ``alpha0 / N`` when ``alpha0 > 0`` (:attr:`step`):
    at fixed ``alpha`` the ``sqrt(alpha)`` terms of Theorem 2's (4.4)-(4.5) do not
    vanish as N grows, at ``alpha = alpha0 / N`` (``T / alpha`` steps, growing
    like N) they fall like N^(-1/2) up to logarithms.
    """

    d: int = setting(20, "input dimension")
    L: int = setting(3, "hidden layers (L + 1 >= 4 layers)")
    N: int = setting(400, "neurons per hidden layer")
    activation: str = setting("sigmoid", "hidden activation (bounded: sigmoid, tanh, erf)")
    teacher_activation: str = setting("tanh", "teacher activation")
    width: int = setting(2, "teacher width")
    noise_std: float = setting(0.0, "label noise standard deviation")
    a_mean: float = setting(1.0, "mean of the initial middle and last weights")
    a_std: float = setting(1.0, "standard deviation of the initial middle and last weights")
    w_std: float = setting(1.0, "first layer w ~ N(0, w_std^2 / d I)")
    a_law: str = setting("gaussian", "law of the middle and last initial weights: gaussian, "
                                     "or uniform (bounded, as (B4) asks; the same mean and sd)",
                         added=True)
    alpha: float = setting(0.1, "SGD step alpha (t = k alpha)")
    alpha0: float = setting(0.0, "when > 0, the SGD step is alpha0 / N in place of alpha "
                               "(Theorem 2's sqrt(alpha) terms then vanish like N^-1/2); 0: alpha",
                            added=True)
    batch_size: int = setting(10, "SGD mini-batch")
    T: float = setting(8.0, "horizon")
    n_mc: int = setting(4000, "Monte Carlo sample of the risk")
    half_draws: int = setting(3, "random kept halves per net")
    path_draws: int = setting(1, "kept sets per pair for eps_C (the pair's eps_C is their mean)",
                              added=True)
    sizes: tuple = setting((), "further kept sizes |A_l| (A_min sweep)")
    seed: int = setting(0, "pair index (seeds both nets, their data and the kept sets)")

    def check(self):
        from ..tasks import teacher_student

        _checks.positive_int("N", self.N)
        if self.N < 2:
            raise ValueError(f"N must be >= 2 to drop half of the neurons, got {self.N}")
        if self.L < 3:
            raise ValueError(f"L must be >= 3 (L + 1 >= 4 layers, eq. 4.1), got {self.L}")
        _checks.positive("alpha", self.alpha)
        if not (np.isfinite(self.alpha0) and self.alpha0 >= 0):
            raise ValueError(f"alpha0 must be >= 0 (0: the step is alpha), got {self.alpha0}")
        _checks.positive("T", self.T)
        _checks.positive_int("batch_size", self.batch_size)
        _checks.positive_int("half_draws", self.half_draws)
        _checks.positive_int("path_draws", self.path_draws)
        _checks.nonneg_int("seed", self.seed)
        if _checks.positive_int("n_mc", self.n_mc) < 2:
            raise ValueError(f"n_mc must be >= 2, got {self.n_mc}")
        for s in self.sizes:
            if not 1 <= int(s) <= self.N:
                raise ValueError(f"sizes must lie in [1, N = {self.N}], got {s}")
        init_net(self.d, 2, self.L, activation=self.activation, a_law=self.a_law)
        return teacher_student(self.d, self.teacher_activation, width=self.width,
                               noise_std=self.noise_std)

    @property
    def step(self):
        """The SGD step: ``alpha0 / N`` when ``alpha0 > 0``, else ``alpha``."""
        return self.alpha0 / self.N if self.alpha0 > 0 else self.alpha


#: Interior points of the straight line between the two nets of a cell
STRAIGHT_POINTS = (0.25, 0.5, 0.75)


def multilayer_cell(cfg: MultilayerConfig, progress=False):
    """Train a pair (independent initialisations and data), measure eps_D and eps_C at T.

    Returns
    -------
    dict
        Two tables, ``{"dropout": ..., "paths": ...}`` (stored one file each,
        :mod:`meanfield.experiments.store`).  ``dropout``: one row per net
        (``net`` 0 or 1), kept size and draw, with ``gap`` (signed),
        ``eps_D = |gap|``, its paired standard error ``se``, and the net's
        ``risk`` and ``risk_se``.  ``paths``: one row per kept set (``draw``,
        ``path_draws`` of them) with ``eps_C``, its standard error ``se``, the
        two risks ``risk`` and ``risk2``, ``risk_se`` of the first net,
        ``max_vertex`` (the largest vertex risk), ``n_segments`` and
        ``barrier_straight`` (the largest risk at t = 1/4, 1/2, 3/4 of the
        straight line between the two nets over the larger end, clipped at 0).
    """
    task = cfg.check()
    root = np.random.SeedSequence([cfg.seed, cfg.N, cfg.d, cfg.L])
    seeds = root.spawn(6)
    # kept sets of the paths: the first is the one cells had before path_draws existed
    path_seeds = [seeds[5]] + root.spawn(cfg.path_draws - 1)
    # one MC sample per task (same for every N and seed), apart from all training data
    mc = MCRisk(task, cfg.n_mc, rng=np.random.SeedSequence([cfg.d, 999]).generate_state(1)[0])
    nets = []
    for i in range(2):
        net0 = init_net(cfg.d, cfg.N, cfg.L, activation=cfg.activation, a_law=cfg.a_law,
                        a_mean=cfg.a_mean,
                        a_std=cfg.a_std, w_std=cfg.w_std, rng=np.random.default_rng(seeds[i]))
        run = run_sgd(net0, task, cfg.step, [cfg.T], mc=mc, batch_size=cfg.batch_size,
                      rng=np.random.default_rng(seeds[2 + i]), progress=progress)
        nets.append((run.nets[-1], run.risk[-1], run.risk_se[-1]))
    drop_rows, path_rows = [], []
    g = np.random.default_rng(seeds[4])
    # the further sizes draw from a stream of their own, so that asking for them leaves the
    # kept halves (and every number of a cell without them) as they were
    g_sizes = np.random.default_rng(np.random.SeedSequence([cfg.seed, cfg.N, cfg.d, cfg.L, 1]))
    for i, (net, risk, se) in enumerate(nets):
        plan = ([(cfg.N // 2, k, g) for k in range(cfg.half_draws)]
                + [(int(s), 0, g_sizes) for s in cfg.sizes])
        full = mc.losses(net)  # once per net, not once per kept set
        for size, draw, gen in plan:
            gap, gse = mc.gap(net, draw_keep(cfg.N, size, gen, n_hidden=cfg.L), full=full)
            drop_rows.append({"net": i, "size": size, "draw": draw, "gap": gap,
                              "eps_D": abs(gap), "se": gse, "risk": risk, "risk_se": se})
    # the straight line between the two nets, beside the path: the control of the eps_C
    # rate (its points average unmatched neurons, a network of another law)
    loss = MCLoss(mc, cfg.activation)
    w1, w2 = nets[0][0].weights, nets[1][0].weights
    straight = max(float(loss([(1 - t) * A + t * B for A, B in zip(w1, w2)]).mean())
                   for t in STRAIGHT_POINTS) - max(nets[0][1], nets[1][1])
    for draw, ps in enumerate(path_seeds):
        path = connect(nets[0][0], nets[1][0], draw_keep(cfg.N, cfg.N // 2,
                                                         np.random.default_rng(ps),
                                                         n_hidden=cfg.L))
        eps_c, cse, vrisk = barrier(path, MCLoss(mc, cfg.activation), with_error=True)
        path_rows.append({"draw": draw, "eps_C": eps_c, "se": cse, "risk": nets[0][1],
                          "risk2": nets[1][1], "risk_se": nets[0][2],
                          "max_vertex": float(vrisk.max()), "n_segments": path.n_segments,
                          "barrier_straight": max(straight, 0.0)})
    return {"dropout": pd.DataFrame(drop_rows), "paths": pd.DataFrame(path_rows)}
