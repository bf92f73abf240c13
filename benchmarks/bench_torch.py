"""Torch backend: 200 dropout patterns in one batched pass vs a Python loop over them,
Experiment B's 200 draws batched vs one at a time, and (with --train) the time of a
training run.

Batched evaluation (:func:`meanfield.torch.evaluate` with a (K, L, N) mask)
shares the first layer, the costly one when d is large, between the K
patterns; a two-layer net's K outputs then come from one matrix product.  The
baseline evaluates each pattern with its own forward pass, as a loop over
patterns would.  Both run in this process on the same net and data
(Fashion-MNIST-sized: d = 784, 10 classes, 2000 test points), and their
losses are checked equal.  Target (issue "Torch backend"): >= 5x on the CPU.

``--train N`` times one epoch of training on Fashion-MNIST-shaped random data
(60 000 x 784, batch 100) at width N; on a CUDA machine that is the GPU
timing asked for, at N = 12800.

    python benchmarks/bench_torch.py [--patterns 200] [--N 1600] [--train 12800]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from _timing import best_of
from meanfield.torch import (DataStream, FullyConnectedNet, TrainConfig, evaluate, pick_device,
                             random_half_masks, train)


def bench_patterns(depth, N, K, n=2000, d=784, device="cpu"):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, 10, n)
    net = FullyConnectedNet(d, N, 10, depth=depth, seed=1, device=device)
    masks = random_half_masks(net, K, seed=2)
    batched = evaluate(net, X, y, masks=masks)
    loop = [evaluate(net, X, y, masks=masks[k:k + 1])["loss"][0] for k in range(K)]
    np.testing.assert_allclose(batched["loss"], loop, rtol=1e-4)
    t_batch = best_of(lambda: evaluate(net, X, y, masks=masks), repeat=3)
    t_loop = best_of(lambda: [evaluate(net, X, y, masks=masks[k:k + 1]) for k in range(K)],
                     repeat=1)
    return t_loop, t_batch


def bench_experiment_b(N, K, n=2000, d=784, depth=3, device="cpu"):
    """Experiment B (dropout from layer 1 up, Brent-tuned scale): batched vs one draw at a time."""
    from scipy.optimize import minimize_scalar

    from meanfield.torch.dropout import _outputs, best_rescaled_dropout
    from meanfield.torch.losses import per_sample

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, 10, n)
    net = FullyConnectedNet(d, N, 10, depth=depth, seed=1, device=device)
    yt = torch.as_tensor(y)

    def loop():
        masks = random_half_masks(net, K, seed=0)
        out = []
        for k in range(K):
            o = _outputs(net, X, masks[k:k + 1])[0]
            res = minimize_scalar(lambda r: float(per_sample(r * o, yt, "cross_entropy").mean()),
                                  method="brent", bracket=(0.5, 2.0))
            out.append(res.fun)
        return np.array(out)

    batched = best_rescaled_dropout(net, X, y, 1, draws=K, seed=0, max_scale=None)
    np.testing.assert_allclose(batched.losses, loop(), rtol=1e-4)
    t_batch = best_of(lambda: best_rescaled_dropout(net, X, y, 1, draws=K, seed=0,
                                                    max_scale=None), repeat=1)
    t_loop = best_of(loop, repeat=1)
    return t_loop, t_batch


def bench_train(N, device, epochs=1.0, depth=2):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60000, 784)).astype(np.float32)
    y = rng.integers(0, 10, 60000)
    dev = pick_device(device)
    net = FullyConnectedNet(784, N, 10, depth=depth, seed=1, device=dev)
    stream = DataStream(X, y, 100, seed=0, device=dev)
    cfg = TrainConfig(alpha=0.05, epochs=epochs)
    train(net, stream, TrainConfig(alpha=0.05, steps=20), progress=False)  # warm-up
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    train(net, stream, cfg, progress=False)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--patterns", type=int, default=200)
    p.add_argument("--N", type=int, default=1600)
    p.add_argument("--device", default="auto")
    p.add_argument("--train", type=int, default=None, metavar="N",
                   help="also time one training epoch at width N")
    args = p.parse_args(argv)
    dev = pick_device(args.device)
    print(f"device {dev}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    ok = True
    for depth in (2, 3):
        t_loop, t_batch = bench_patterns(depth, args.N, args.patterns, device=dev)
        ratio = t_loop / t_batch
        target = depth == 2
        ok &= ratio >= 5 or not target
        print(f"depth {depth}, N = {args.N}, {args.patterns} patterns on 2000 points: loop "
              f"{t_loop:.2f} s, batched {t_batch:.2f} s: {ratio:.1f}x"
              + (f" ({'PASS' if ratio >= 5 else 'FAIL'} >= 5)" if target else " (not judged)"))
    t_loop, t_batch = bench_experiment_b(400, args.patterns, device=dev)
    print(f"Experiment B, depth 3, N = 400, {args.patterns} draws on 2000 points: one at a time "
          f"{t_loop:.2f} s, batched {t_batch:.2f} s: {t_loop / t_batch:.1f}x (not judged)")
    if args.train:
        sec = bench_train(args.train, dev)
        print(f"training, two-layer N = {args.train}: one epoch (600 steps of 100) in "
              f"{sec:.1f} s on {dev}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
