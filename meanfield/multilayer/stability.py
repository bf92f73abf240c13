"""Dropout stability and connectivity of multilayer SGD solutions (Shevchenko & Mondelli Thm 2).

``eps_D = |L_|A|(theta_A) - L_N(theta)|`` with kept sets ``A_l`` in every
hidden layer (eq. 4.4) and ``eps_C`` = the largest loss along the path of
:func:`meanfield.connectivity.dropout_connect` minus the larger loss of its
two ends (eq. 4.5).  On that path the loss is a convex quadratic on every
``"a"`` segment and constant on every ``"w0"`` segment, so its maximum is the
largest vertex loss; :func:`path_profile` evaluates it densely to show it.
Every loss is the Monte Carlo risk of :class:`~meanfield.multilayer.sgd.MCRisk`
with its standard error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _checks
from ..connectivity import check_keep, dropout_connect
from .model import MultilayerNet, init_net
from .sgd import MCRisk, run_sgd


def random_keep(N, n_hidden, size, rng):
    """One uniform subset of ``size`` neurons per hidden layer, independent across layers."""
    N = _checks.positive_int("N", N)
    size = _checks.positive_int("size", size)
    if size > N:
        raise ValueError(f"size must lie in [1, {N}], got {size}")
    g = _checks.generator(rng)
    return [np.sort(g.choice(N, size, replace=False)) for _ in range(n_hidden)]


def connect(net, net2, keep):
    """The path (PathVertices) from ``net`` to ``net2`` through their dropout networks on ``keep``.
    """
    if net.activation != net2.activation:
        raise ValueError(f"the two nets must share the activation, got {net.activation!r} and "
                         f"{net2.activation!r}")
    check_keep(keep, net.n_hidden, net.N)
    return dropout_connect(net.weights, net2.weights, keep)


def path_losses(path, activation, mc):
    """Per-sample losses of every vertex on the Monte Carlo sample, shape (K + 1, n).

    A ``"w0"`` segment leaves the network function unchanged, so the vertex
    after it reuses the losses of the vertex before (about half of the
    forward passes; ``tests/test_multilayer.py`` checks the constancy).
    """
    out = []
    for k, w in enumerate(path.weights):
        if k and path.kinds[k - 1] == "w0":
            out.append(out[-1])
        else:
            out.append(mc.losses(MultilayerNet(w, activation)))
    return np.stack(out)


def barrier(path, activation, mc):
    """``(eps_C, standard error, vertex risks)`` of a path whose maximum is at a vertex.

    The standard error is that of the paired difference between the worst
    vertex and the worse end, on the same sample.
    """
    if any(k == "general" for k in path.kinds):
        raise ValueError("barrier() needs a path of 'a' and 'w0' segments (peak at a vertex)")
    ell = path_losses(path, activation, mc)
    risks = ell.mean(axis=1)
    top = int(np.argmax(risks))
    end = 0 if risks[0] >= risks[-1] else len(risks) - 1
    diff = ell[top] - ell[end]
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(diff.size)), risks


def path_profile(path, activation, mc, n_per_segment=9):
    """The risk at ``n_per_segment`` points of each segment, each point by a forward pass.

    Returns a DataFrame with ``s``, ``segment``, ``kind``, ``label`` and ``risk``.
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
    """One cell of the multilayer experiment: a pair of nets at width N, trained to T."""

    d: int = 20
    L: int = 3
    N: int = 400
    activation: str = "sigmoid"
    teacher_activation: str = "tanh"
    width: int = 2
    noise_std: float = 0.0
    a_mean: float = 1.0
    a_std: float = 1.0
    w_std: float = 1.0
    alpha: float = 0.1
    batch_size: int = 10
    T: float = 8.0
    n_mc: int = 4000
    half_draws: int = 3
    path_draws: int = 1
    sizes: tuple = ()
    seed: int = 0

    def check(self):
        from ..tasks import teacher_student

        _checks.positive_int("N", self.N)
        if self.N < 2:
            raise ValueError(f"N must be >= 2 to drop half of the neurons, got {self.N}")
        if self.L < 3:
            raise ValueError(f"L must be >= 3 (L + 1 >= 4 layers, eq. 4.1), got {self.L}")
        _checks.positive("alpha", self.alpha)
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
        init_net(self.d, 2, self.L, activation=self.activation)
        return teacher_student(self.d, self.teacher_activation, width=self.width,
                               noise_std=self.noise_std)


def multilayer_cell(cfg: MultilayerConfig, progress=False):
    """Train a pair (independent initialisations and data), measure eps_D and eps_C at T.

    Returns
    -------
    pandas.DataFrame
        ``table == "dropout"`` rows: one per net, kept size and draw, with
        ``gap`` (signed), ``eps_D = |gap|`` and the paired standard error;
        ``table == "paths"``: one row with ``eps_C``, its standard error, the
        two risks and the number of segments; every row carries ``risk`` and
        ``risk_se`` of its net(s).
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
        net0 = init_net(cfg.d, cfg.N, cfg.L, activation=cfg.activation, a_mean=cfg.a_mean,
                        a_std=cfg.a_std, w_std=cfg.w_std, rng=np.random.default_rng(seeds[i]))
        run = run_sgd(net0, task, cfg.alpha, [cfg.T], mc=mc, batch_size=cfg.batch_size,
                      rng=np.random.default_rng(seeds[2 + i]), progress=progress)
        nets.append((run.nets[-1], run.risk[-1], run.risk_se[-1]))
    rows = []
    g = np.random.default_rng(seeds[4])
    for i, (net, risk, se) in enumerate(nets):
        plan = [(cfg.N // 2, k) for k in range(cfg.half_draws)] + [(int(s), 0) for s in cfg.sizes]
        for size, draw in plan:
            gap, gse = mc.gap(net, random_keep(cfg.N, cfg.L, size, g))
            rows.append({"table": "dropout", "net": i, "size": size, "draw": draw, "gap": gap,
                         "eps_D": abs(gap), "se": gse, "risk": risk, "risk_se": se})
    for draw, ps in enumerate(path_seeds):
        path = connect(nets[0][0], nets[1][0], random_keep(cfg.N, cfg.L, cfg.N // 2,
                                                           np.random.default_rng(ps)))
        eps_c, cse, vrisk = barrier(path, cfg.activation, mc)
        rows.append({"table": "paths", "draw": draw, "eps_C": eps_c, "se": cse,
                     "risk": nets[0][1], "risk2": nets[1][1], "risk_se": nets[0][2],
                     "max_vertex": float(vrisk.max()), "n_segments": path.n_segments})
    return pd.DataFrame(rows)
