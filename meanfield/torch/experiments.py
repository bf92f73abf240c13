"""Cells of the empirical experiments (Shevchenko & Mondelli, Section 5, Figures 1-4).

``empirical_cell`` trains one net and measures the full and the dropout
networks on the test set at fractions of the run: the rows make Figures 1, 2
and 4.  ``path_cell`` trains a bimodal- and a unimodal-initialised net and evaluates
the dropout path (seven segments for two layers) and the straight lines
between them on the test set, with histograms of both nets' weights: Figure 3.
``deep_cell`` runs Experiments A and B of Nguyen, Bréchet & Mondelli on one
net (their Figures 3 a-c and 4) and ``deep_paths_cell`` the paths between a
pair (Figure 3 d).  Each takes its settings dataclass
(:mod:`meanfield.torch.settings`), which :func:`check_settings` checks before
any work, and returns the cell's table (``path_cell`` and ``deep_paths_cell``:
a dict of named tables, stored one file each); all are registered as sweep experiments
in :mod:`meanfield.experiments.kinds`.  No state is shared between cells but the
loaded data set (read-only).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from .. import _checks
from ..dropout import draw_keep, keep_masks
from ..tasks.datasets import load_dataset
from .dropout import evaluate, first_half_masks, random_half_masks
from .models import FullyConnectedNet, pick_device
from .settings import (REGIMES, SETTINGS, DeepPathSettings, DeepSettings, EmpiricalSettings,
                       PathSettings, TrainingSettings, one_of)
from .train import DataStream, TrainConfig, train


@functools.lru_cache(maxsize=2)
def _data(name, path):
    return load_dataset(name, path or None)


def _as_settings(cell, cls):
    """``cell`` as settings of class ``cls``: a dict of options still works, with a
    DeprecationWarning (the cells took dicts before the settings dataclasses)."""
    if isinstance(cell, cls):
        return cell
    if isinstance(cell, TrainingSettings):
        raise TypeError(f"this cell takes {cls.__name__}, got {type(cell).__name__}")
    warnings.warn(f"a dict of options is deprecated here: pass {cls.__name__}(**options) "
                  f"(meanfield.torch.settings); dicts stop working in 0.3",
                  DeprecationWarning, stacklevel=3)
    return cls(**cell)


def cell_data(settings):
    """The cell's data set, or the seeded subset ``n_train`` / ``n_test`` of it (0: all)."""
    data = _data(settings.dataset, settings.data_path)
    n_train = getattr(settings, "n_train", 0) or None
    n_test = getattr(settings, "n_test", 0) or None
    if n_train is None and n_test is None:
        return data
    return data.subset(n_train, n_test, seed=0)


def train_config(settings):
    """The :class:`TrainConfig` of a cell: ``regime`` ``fixed`` (alpha, epochs) or ``paper``."""
    snaps = tuple(getattr(settings, "snapshots", (0.0, 1.0)))
    if settings.regime == "paper":
        return TrainConfig.paper(settings.N, settings.alpha0, settings.k0, loss=settings.loss,
                                 snapshots=snaps)
    one_of("regime", settings.regime, REGIMES)
    return TrainConfig(alpha=settings.alpha, epochs=settings.epochs, loss=settings.loss,
                       snapshots=snaps)


def check_settings(settings):
    """``settings.check()``, then what needs torch and the data set: the device, the data
    set's files, ``batch_size`` and the subsets against its size, and the size of a run.

    Runs no training; loads the data set (cached for the cells of this process).

    Raises
    ------
    ValueError
        Naming the setting and its valid range.
    FileNotFoundError
        When the data set's files are not where ``data_path`` says
        (:class:`meanfield.tasks.datasets.DatasetNotFoundError`).
    """
    settings.check()
    pick_device(settings.device)
    data = cell_data(settings)
    n = len(data.y_train)
    if settings.batch_size > n:
        raise ValueError(f"batch_size must be at most {n} (the training samples), got "
                         f"{settings.batch_size}")
    # a count typed with too many digits is said here, not after hours of training
    _checks.at_most("epochs * n_train / batch_size (SGD steps)",
                    settings.epochs_run * n / settings.batch_size, _checks.MAX_STEPS,
                    "steps of one run")
    N, depth = settings.N, settings.depth
    _checks.fits_in_memory("the weights of one net",
                           N * (data.d + 2) + (depth - 2) * N * (N + 1) + N * data.n_classes,
                           "N or depth")
    train_config(settings)
    return settings


def check_cell(cell, kind="empirical"):
    """Validate a cell of experiment ``kind`` without training.

    .. deprecated:: 0.2
        Use ``check_settings(SETTINGS[kind](**cell))``
        (:data:`meanfield.torch.settings.SETTINGS`).
    """
    warnings.warn("check_cell(cell, kind) is deprecated: use check_settings(settings) with the "
                  "experiment's settings dataclass (meanfield.torch.settings.SETTINGS[kind])",
                  DeprecationWarning, stacklevel=2)
    one_of("kind", kind, tuple(SETTINGS))
    check_settings(SETTINGS[kind](**cell))


@contextlib.contextmanager
def _cell_threads():
    """Torch runs with the cell's thread count (numba's, set by the sweep runner), then
    gets its own back."""
    import numba

    previous = torch.get_num_threads()
    torch.set_num_threads(numba.get_num_threads())
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _architecture(settings):
    """Parameterisation and bias of the cell's nets (mean field with an input bias when the
    experiment has no such settings)."""
    return {"parameterisation": getattr(settings, "parameterisation", "mean_field"),
            "bias": getattr(settings, "bias", "input")}


def train_net(settings, data, init, seed, callback=None):
    """Train the net a cell describes (architecture, data stream and schedule from ``settings``)
    from initial law ``init`` and ``seed``; returns the net and its :class:`TrainResult`.
    ``callback`` is passed to :func:`train`."""
    dev = pick_device(settings.device)
    g = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    net = FullyConnectedNet(data.d, settings.N, data.n_classes, depth=settings.depth,
                            activation=settings.activation, init=init, seed=g, device=dev,
                            **_architecture(settings))
    stream = DataStream(data.X_train, data.y_train, settings.batch_size, seed=g, device=dev)
    res = train(net, stream, train_config(settings), callback=callback, progress=False)
    return net, res


def empirical_cell(cell):
    """One trained net: test loss and error of the full and dropout nets at each snapshot.

    Dropout keeps the first half of every hidden layer (Figure 1) and, for
    ``random_halves`` > 0, that many random halves evaluated in one pass.
    ``dloss_half = loss_half - loss_full`` (the change in loss of Figure 2)
    and ``derror_half`` likewise (Figure 4).  With ``kept`` > 0, ``loss_kept``,
    ``error_kept``, ``dloss_kept`` and ``derror_kept`` are those of the dropout
    network keeping the first ``kept`` neurons of every hidden layer (rescaled
    by ``N / kept``): a fixed |A| at every N, where Theorems 1(A) and 2(A)
    bound the change by a term of |A| alone, so it need not fall with N.
    """
    cell = _as_settings(cell, EmpiricalSettings)
    data = cell_data(cell)
    mask_seed = np.random.SeedSequence([int(cell.seed), 11])

    def measure(net, frac, t, step):
        full = evaluate(net, data.X_test, data.y_test, cell.loss)
        half = evaluate(net, data.X_test, data.y_test, cell.loss, masks=first_half_masks(net))
        row = {"fraction": frac, "t": t, "step": step,
               "epoch": step * cell.batch_size / len(data.y_train),
               "loss_full": full["loss"], "error_full": full["error"],
               "loss_half": half["loss"][0], "error_half": half["error"][0]}
        row["dloss_half"] = row["loss_half"] - row["loss_full"]
        row["derror_half"] = row["error_half"] - row["error_full"]
        if cell.kept:
            first = [np.arange(cell.kept)] * net.n_hidden
            kept = evaluate(net, data.X_test, data.y_test, cell.loss,
                            masks=torch.from_numpy(keep_masks(first, net.N))[None])
            row.update(loss_kept=kept["loss"][0], error_kept=kept["error"][0],
                       dloss_kept=kept["loss"][0] - full["loss"],
                       derror_kept=kept["error"][0] - full["error"])
        if cell.random_halves:
            masks = random_half_masks(net, cell.random_halves, np.random.default_rng(mask_seed))
            rnd = evaluate(net, data.X_test, data.y_test, cell.loss, masks=masks)
            row["dloss_random_mean"] = float(np.mean(np.abs(rnd["loss"] - full["loss"])))
            row["dloss_random_max"] = float(np.max(np.abs(rnd["loss"] - full["loss"])))
            row["derror_random_mean"] = float(np.mean(rnd["error"] - full["error"]))
        return row

    with _cell_threads():
        _, res = train_net(cell, data, cell.init, cell.seed, measure)
    table = pd.DataFrame(res.records)
    table["train_loss"] = res.train_loss
    return table


def path_cell(cell):
    """Two nets (``init1`` and ``init2`` laws, independent seeds; the second trained for
    ``duration2`` times as long), the paths between them.

    Returns two tables, ``{"path": ..., "hist": ...}`` (stored one file each):
    ``path`` gives loss and error at points of each path: ``dropout``
    (:func:`dropout_path` with one random kept half per hidden layer, the same
    in both nets; the seven-segment path for ``depth = 2``), ``straight``, for
    two-layer nets up to ``aligned_max_N`` ``aligned``, and for each k of
    ``kept_sizes`` ``dropout-<k>``: the same construction through dropout
    networks keeping k random neurons per hidden layer.  ``hist`` gives
    histograms of the first-layer and of the output weights of both nets.
    """
    cell = _as_settings(cell, PathSettings)
    from .paths import dropout_path, evaluate_path, straight_path

    data = cell_data(cell)
    with _cell_threads():
        seed = int(cell.seed)
        net1, _ = train_net(cell, data, cell.init1, 2 * seed)
        # T' = duration2 T: Theorem 1(B) lets the two runs differ in length as in law
        cell2 = replace(cell, epochs=cell.epochs * cell.duration2, k0=cell.k0 * cell.duration2)
        net2, _ = train_net(cell2, data, cell.init2, 2 * seed + 1)
        N = cell.N
        g = np.random.default_rng(np.random.SeedSequence([seed, 13]))
        A = draw_keep(N, N // 2, g, n_hidden=cell.depth - 1)
        paths = {"dropout": dropout_path(net1, net2, A),
                 "straight": straight_path(net1, net2)}
        for k in cell.kept_sizes:  # own streams: the half above is drawn as before
            gk = np.random.default_rng(np.random.SeedSequence([seed, 13, int(k)]))
            paths[f"dropout-{k}"] = dropout_path(
                net1, net2, draw_keep(N, int(k), gk, n_hidden=cell.depth - 1))
        if N <= cell.aligned_max_N and cell.depth == 2:
            paths["aligned"] = straight_path(net1, net2, aligned=True)
        rows = [evaluate_path(p, net1, data.X_test, data.y_test, cell.loss,
                              cell.n_per_segment).assign(path=name, n_segments=p.n_segments)
                for name, p in paths.items()]
        hist = []
        for which, net in (("theta1", net1), ("theta2", net2)):
            W = net.numpy_weights()
            W1, Wout = W[0], W[-1]
            for layer, w in (("first", W1.ravel() * np.sqrt(W1.shape[1])),
                             ("output", Wout.ravel())):
                counts, edges = np.histogram(w, bins=60)
                hist.append(pd.DataFrame({"net": which, "layer": layer, "bin_lo": edges[:-1],
                                          "bin_hi": edges[1:], "count": counts}))
    return {"path": pd.concat(rows, ignore_index=True), "hist": pd.concat(hist, ignore_index=True)}


def _sub_config(cell):
    """Training of Experiment A's subnetworks: the cell's alpha for ``sub_epochs``."""
    return TrainConfig(alpha=cell.alpha, epochs=cell.sub_epochs_run, loss=cell.loss)


def _experiments_ab(cell, net, data, seed, layers_b):
    """Experiment A (every layer) and B (``layers_b``) of one net on the training set."""
    from .subnets import experiment_a

    a = experiment_a(net, data.X_train, data.y_train, draws=cell.draws_a,
                     config=_sub_config(cell), loss=cell.loss,
                     seed=np.random.default_rng(_ab_seeds(seed)[0]), batch_size=cell.batch_size)
    return a, _experiment_b(cell, net, data, seed, layers_b)


def _ab_seeds(seed):
    """The seeds of Experiments A and B of the net of ``seed``."""
    return np.random.SeedSequence([int(seed), 17]).spawn(2)


def _experiment_b(cell, net, data, seed, layers, removal="rescaled"):
    """Experiment B at ``layers`` (:func:`~meanfield.torch.dropout.best_rescaled_dropout`,
    its dropout networks ``removal``): the same kept units for either removal."""
    from .dropout import best_rescaled_dropout

    gb = _ab_seeds(seed)[1].spawn(net.depth)
    return {layer: best_rescaled_dropout(net, data.X_train, data.y_train, layer,
                                         draws=cell.draws_b, loss=cell.loss,
                                         seed=np.random.default_rng(gb[layer]), removal=removal)
            for layer in layers}


def deep_cell(cell):
    """Experiments A and B of Nguyen, Bréchet & Mondelli on one trained net (training set).

    Rows: ``experiment`` in {``trained``, ``A``, ``B``}, ``layer`` (A: 0..L-1,
    B: 1..L-1 in their numbering, L = depth), ``train_loss`` (of the
    net, the best re-trained subnetwork, the best rescaled dropout network);
    with ``b_plain``, also ``B-plain``: Experiment B on the same kept units
    plainly removed (Section 6's network).
    Subnetworks train with the cell's alpha for ``sub_epochs`` epochs (default:
    as many as the net had), on the training set, like the net.
    """
    cell = _as_settings(cell, DeepSettings)
    data = cell_data(cell)
    with _cell_threads():
        net, _ = train_net(cell, data, cell.init, cell.seed)
        test = evaluate(net, data.X_test, data.y_test, cell.loss)
        rows = [{"experiment": "trained", "layer": -1,
                 "train_loss": evaluate(net, data.X_train, data.y_train, cell.loss)["loss"],
                 "test_loss": test["loss"], "test_error": test["error"]}]
        a, b = _experiments_ab(cell, net, data, cell.seed, range(1, net.depth))
        rows += [{"experiment": "A", "layer": layer, "train_loss": r["loss"]}
                 for layer, r in enumerate(a)]
        rows += [{"experiment": "B", "layer": layer, "train_loss": r.loss, "scale": r.scale}
                 for layer, r in b.items()]
        if cell.b_plain:  # the same draws of kept units (same seeds), plainly removed
            bp = _experiment_b(cell, net, data, cell.seed, range(1, net.depth), "plain")
            rows += [{"experiment": "B-plain", "layer": layer, "train_loss": r.loss,
                      "scale": r.scale} for layer, r in bp.items()]
    return pd.DataFrame(rows)


def deep_paths_cell(cell):
    """Two nets (seeds ``2 seed`` and ``2 seed + 1``) and the paths between them (Figure 3 d).

    Paths: ``A`` (Theorem 4.1 from each net's Experiment A), ``B`` (through
    each net's best rescaled dropout network of Experiment B at layer 1),
    ``straight`` and ``aligned`` (after weight matching).  Returns three tables,
    ``{"path": ..., "check": ..., "bound": ...}`` (stored one file each).
    ``path`` gives ``path_loss`` and ``path_error`` (``loss`` names the
    loss function) on the training and the test set
    (``split``) along each path, at its vertices (``label``) and
    ``n_per_segment`` points of every segment; ``t`` is the position in [0, 1].
    ``check`` gives path ``A`` on the training set at the
    vertices and the midpoint of every segment, each by a forward pass (the
    ``path`` table takes the points of its segments from the vertex outputs,
    :func:`meanfield.torch.paths.evaluate_path`), which checks the construction.
    ``bound`` gives each net's trained loss and Experiments A and B per layer
    (``scale``: Experiment B's rescaling, on its rows only).

    The nets train in their dtype (float32 by default), and the paths and the
    bound rows of ``trained`` and ``A`` are evaluated in float64 (copies of the
    nets; the vertices and the subnetworks ``xi_l`` are float64 already), so
    that the maximum along path A and the bound of Theorem 4.1 compare to
    rounding.  ``train_loss_native`` keeps the values in the nets' dtype
    (Experiment A's as it trained, on standardised features).
    """
    cell = _as_settings(cell, DeepPathSettings)
    from .paths import best_dropout_path, evaluate_path, straight_path, theorem41
    from .subnets import subnet_loss

    data = cell_data(cell)
    seed = int(cell.seed)
    X_train, y_train = data.X_train, data.y_train
    with _cell_threads():
        nets, bounds, bound_rows = [], [], []
        for which, s in (("theta", 2 * seed), ("theta'", 2 * seed + 1)):
            net, _ = train_net(cell, data, cell.init, s)
            a, b = _experiments_ab(cell, net, data, s, [1])
            nets.append(net)
            bounds.append((a, b[1]))
            net64 = copy.deepcopy(net).to(torch.float64)
            bound_rows.append({"net": which, "experiment": "trained", "layer": -1,
                               "train_loss": evaluate(net64, X_train, y_train,
                                                      cell.loss)["loss"],
                               "train_loss_native": evaluate(net, X_train, y_train,
                                                             cell.loss)["loss"]})
            bound_rows += [{"net": which, "experiment": "A", "layer": layer,
                            "train_loss": subnet_loss(net64, X_train, y_train, layer,
                                                      r["subset"], r["xi"], cell.loss),
                            "train_loss_native": r["loss"]} for layer, r in enumerate(a)]
            bound_rows.append({"net": which, "experiment": "B", "layer": 1,
                               "train_loss": b[1].loss, "train_loss_native": b[1].loss,
                               "scale": b[1].scale})
        paths = {"A": theorem41(nets[0], nets[1], bounds[0][0], bounds[1][0]),
                 "B": best_dropout_path(nets[0], nets[1], bounds[0][1], bounds[1][1]),
                 "straight": straight_path(nets[0], nets[1]),
                 "aligned": straight_path(nets[0], nets[1], aligned=True)}
        ref = copy.deepcopy(nets[0]).to(torch.float64)  # the architecture, in float64
        frames = {"path": [], "check": []}

        def profile(path, name, split, table, n_per_segment, shortcut=True):
            X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
            prof = evaluate_path(path, ref, X, y, cell.loss, n_per_segment, shortcut) \
                .rename(columns={"loss": "path_loss", "error": "path_error"})
            frames[table].append(prof.assign(path=name, split=split,
                                             n_segments=path.n_segments,
                                             t=prof["s"] / path.n_segments))

        for name, path in paths.items():
            for split in ("train", "test"):
                profile(path, name, split, "path", cell.n_per_segment)
        profile(paths["A"], "A", "train", "check", 3, shortcut=False)
    return {**{table: pd.concat(f, ignore_index=True) for table, f in frames.items()},
            "bound": pd.DataFrame(bound_rows)}
