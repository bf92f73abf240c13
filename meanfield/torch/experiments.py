"""Cells of the empirical experiments (Shevchenko & Mondelli, Section 5, Figures 1-4).

``empirical_cell`` trains one net and measures the full and the dropout
networks on the test set at fractions of the run: the rows make Figures 1, 2
and 4.  ``path_cell`` trains a bimodal- and a unimodal-initialised net and evaluates
the dropout path (seven segments for two layers) and the straight lines
between them on the test set, with histograms of both nets' weights: Figure 3.
Both are registered as sweep experiments in :mod:`meanfield.experiments.kinds`.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import pandas as pd
import torch

from .. import _checks
from ..tasks.datasets import load_dataset
from .dropout import evaluate, first_half_masks, random_half_masks
from .models import InitLaw, MeanFieldNet, pick_device
from .train import DataStream, TrainConfig, train


@functools.lru_cache(maxsize=2)
def _data(name, path):
    return load_dataset(name, path or None)


def train_config(cell):
    """The :class:`TrainConfig` of a cell: ``regime`` ``fixed`` (alpha, epochs) or ``paper``."""
    N = _checks.positive_int("N", cell["N"])
    snaps = tuple(cell.get("snapshots", (0.0, 1.0)))
    if cell["regime"] == "fixed":
        return TrainConfig(alpha=cell["alpha"], epochs=cell["epochs"], loss=cell["loss"],
                           snapshots=snaps)
    if cell["regime"] == "paper":
        return TrainConfig.paper(N, cell["alpha0"], cell["k0"], loss=cell["loss"],
                                 snapshots=snaps)
    raise ValueError(f"regime must be 'fixed' or 'paper', got {cell['regime']!r}")


def check_cell(cell, kind="empirical"):
    """Validate a cell without training (the data set must be loadable)."""
    train_config(cell)
    data = _data(cell["dataset"], cell["data_path"])
    _checks.positive_int("batch_size", cell["batch_size"])
    if cell["batch_size"] > len(data.y_train):
        raise ValueError(f"batch_size must be at most {len(data.y_train)}, got "
                         f"{cell['batch_size']}")
    _checks.nonneg_int("seed", cell["seed"])
    pick_device(cell["device"])
    init = cell["init1"] if kind == "path" else cell["init"]
    MeanFieldNet(data.d, 2, data.n_classes, depth=cell["depth"], activation=cell["activation"],
                 init=init, device="cpu")
    if kind == "empirical":
        _checks.nonneg_int("random_halves", cell["random_halves"])
    elif kind == "deep":
        _checks.positive_int("draws_a", cell["draws_a"])
        _checks.positive_int("draws_b", cell["draws_b"])
        if cell["sub_epochs"] is not None:
            _checks.positive("sub_epochs", cell["sub_epochs"])
        elif cell["regime"] != "fixed":
            raise ValueError("sub_epochs must be given when regime is 'paper'")
    else:
        InitLaw(cell["init2"])
        if _checks.positive_int("n_per_segment", cell["n_per_segment"]) < 2:
            raise ValueError(f"n_per_segment must be >= 2, got {cell['n_per_segment']}")
    if cell["N"] < 2:
        raise ValueError(f"N must be >= 2 to drop half of the neurons, got {cell['N']}")


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


def _train_one(cell, data, init, seed, callback=None):
    dev = pick_device(cell["device"])
    g = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    net = MeanFieldNet(data.d, cell["N"], data.n_classes, depth=cell.get("depth", 2),
                       activation=cell["activation"], init=init, seed=g, device=dev)
    stream = DataStream(data.X_train, data.y_train, cell["batch_size"], seed=g, device=dev)
    res = train(net, stream, train_config(cell), callback=callback, progress=False)
    return net, res


def empirical_cell(cell):
    """One trained net: test loss and error of the full and dropout nets at each snapshot.

    Dropout keeps the first half of every hidden layer (Figure 1) and, for
    ``random_halves`` > 0, that many random halves evaluated in one pass.
    ``dloss_half = loss_half - loss_full`` (the change in loss of Figure 2)
    and ``derror_half`` likewise (Figure 4).
    """
    data = _data(cell["dataset"], cell["data_path"])
    mask_seed = np.random.SeedSequence([int(cell["seed"]), 11])

    def measure(net, frac, t, step):
        full = evaluate(net, data.X_test, data.y_test, cell["loss"])
        half = evaluate(net, data.X_test, data.y_test, cell["loss"], masks=first_half_masks(net))
        row = {"fraction": frac, "t": t, "step": step,
               "epoch": step * cell["batch_size"] / len(data.y_train),
               "loss_full": full["loss"], "error_full": full["error"],
               "loss_half": half["loss"][0], "error_half": half["error"][0]}
        row["dloss_half"] = row["loss_half"] - row["loss_full"]
        row["derror_half"] = row["error_half"] - row["error_full"]
        if cell["random_halves"]:
            masks = random_half_masks(net, cell["random_halves"], np.random.default_rng(mask_seed))
            rnd = evaluate(net, data.X_test, data.y_test, cell["loss"], masks=masks)
            row["dloss_random_mean"] = float(np.mean(np.abs(rnd["loss"] - full["loss"])))
            row["dloss_random_max"] = float(np.max(np.abs(rnd["loss"] - full["loss"])))
            row["derror_random_mean"] = float(np.mean(rnd["error"] - full["error"]))
        return row

    with _cell_threads():
        _, res = _train_one(cell, data, cell["init"], cell["seed"], measure)
    table = pd.DataFrame(res.records)
    table["train_loss"] = res.train_loss
    return table


def path_cell(cell):
    """Two nets (``init1`` and ``init2`` laws, independent seeds), the paths between them.

    Rows with ``table == "path"`` give loss and error at points of each
    path: ``dropout`` (:func:`dropout_path` with one random kept half per
    hidden layer, the same in both nets; the seven-segment path for
    ``depth = 2``), ``straight``, and for two-layer nets up to
    ``aligned_max_N`` ``aligned``.  Rows with ``table == "hist"`` give
    histograms of the first-layer and of the output weights of both nets.
    """
    from .paths import dropout_path, straight_path

    data = _data(cell["dataset"], cell["data_path"])
    with _cell_threads():
        seed = int(cell["seed"])
        net1, _ = _train_one(cell, data, cell["init1"], 2 * seed)
        net2, _ = _train_one(cell, data, cell["init2"], 2 * seed + 1)
        N = cell["N"]
        g = np.random.default_rng(np.random.SeedSequence([seed, 13]))
        A = [g.choice(N, N // 2, replace=False) for _ in range(cell["depth"] - 1)]
        paths = {"dropout": dropout_path(net1, net2, A),
                 "straight": straight_path(net1, net2)}
        if N <= cell["aligned_max_N"] and cell["depth"] == 2:
            paths["aligned"] = straight_path(net1, net2, aligned=True)
        rows = [p.evaluate(data.X_test, data.y_test, cell["loss"], cell["n_per_segment"])
                .assign(path=name, n_segments=p.n_segments)
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
    return pd.concat([pd.concat(rows, ignore_index=True).assign(table="path"),
                      pd.concat(hist, ignore_index=True).assign(table="hist")],
                     ignore_index=True)


def deep_cell(cell):
    """Experiments A and B of Nguyen, Bréchet & Mondelli on one trained net (training set).

    Rows: ``experiment`` in {``trained``, ``A``, ``B``}, ``layer`` (A: 0..L-1,
    B: 1..L-1 in their numbering, L = depth), ``train_loss`` (of the
    net, the best re-trained subnetwork, the best rescaled dropout network).
    Subnetworks train with the cell's alpha for ``sub_epochs`` epochs (default:
    as many as the net had), on the training set, like the net.
    """
    from .dropout import best_rescaled_dropout
    from .subnets import subnet_bound

    data = _data(cell["dataset"], cell["data_path"])
    with _cell_threads():
        net, _ = _train_one(cell, data, cell["init"], cell["seed"])
        X, y = data.X_train, data.y_train
        rows = [{"experiment": "trained", "layer": -1,
                 "train_loss": evaluate(net, X, y, cell["loss"])["loss"]}]
        sub_epochs = cell["sub_epochs"] if cell["sub_epochs"] is not None else cell["epochs"]
        sub_cfg = TrainConfig(alpha=cell["alpha"], epochs=sub_epochs, loss=cell["loss"])
        g = np.random.SeedSequence([int(cell["seed"]), 17]).spawn(2 * net.depth)
        for layer in range(net.depth):  # 0 .. L-1 with L = depth
            res = subnet_bound(net, X, y, layer, draws=cell["draws_a"], config=sub_cfg,
                               loss=cell["loss"], seed=np.random.default_rng(g[layer]),
                               batch_size=cell["batch_size"])
            rows.append({"experiment": "A", "layer": layer, "train_loss": res["loss"]})
        for layer in range(1, net.depth):
            res = best_rescaled_dropout(net, X, y, layer, draws=cell["draws_b"],
                                        loss=cell["loss"],
                                        seed=np.random.default_rng(g[net.depth + layer]))
            rows.append({"experiment": "B", "layer": layer, "train_loss": res["loss"],
                         "scale": res["scale"]})
    return pd.DataFrame(rows)
