"""Cells of the empirical experiments (Shevchenko & Mondelli, Section 5, Figures 1-4).

``empirical_cell`` trains one net and measures the full and the dropout
networks on the test set at fractions of the run: the rows make Figures 1, 2
and 4.  ``path_cell`` trains a bimodal- and a unimodal-initialised net and evaluates
the dropout path (seven segments for two layers) and the straight lines
between them on the test set, with histograms of both nets' weights: Figure 3.
Both are registered as sweep experiments in :mod:`meanfield.experiments.kinds`.
"""

from __future__ import annotations

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
    init = cell["init"] if kind == "empirical" else cell["init1"]
    MeanFieldNet(data.d, 2, data.n_classes, depth=cell["depth"], activation=cell["activation"],
                 init=init, device="cpu")
    if kind == "empirical":
        _checks.nonneg_int("random_halves", cell["random_halves"])
    else:
        InitLaw(cell["init2"])
        if _checks.positive_int("n_per_segment", cell["n_per_segment"]) < 2:
            raise ValueError(f"n_per_segment must be >= 2, got {cell['n_per_segment']}")
    if cell["N"] < 2:
        raise ValueError(f"N must be >= 2 to drop half of the neurons, got {cell['N']}")


def _threads():
    import numba
    return numba.get_num_threads()


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
    previous = torch.get_num_threads()
    torch.set_num_threads(_threads())
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

    try:
        _, res = _train_one(cell, data, cell["init"], cell["seed"], measure)
    finally:
        torch.set_num_threads(previous)
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
    previous = torch.get_num_threads()
    torch.set_num_threads(_threads())
    try:
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
            for layer, w in (("first", W1.ravel() * np.sqrt(W1.shape[1])), ("output", Wout.ravel())):
                counts, edges = np.histogram(w, bins=60)
                hist.append(pd.DataFrame({"net": which, "layer": layer, "bin_lo": edges[:-1],
                                          "bin_hi": edges[1:], "count": counts}))
    finally:
        torch.set_num_threads(previous)
    return pd.concat([pd.concat(rows, ignore_index=True).assign(table="path"),
                      pd.concat(hist, ignore_index=True).assign(table="hist")],
                     ignore_index=True)
