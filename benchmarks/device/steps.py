"""The six steps of benchmarks/device_run.py, their registry and their budget.

Each step is a function ``(ctx, step)`` registered by name with its share of the budget
(:func:`register`); :data:`STEPS` holds them in the order they run.  A step fills
``step.res`` as it measures (an exception keeps what came before), watches
``step.left()`` and calls ``step.stop(why)`` when it does less than asked to stay inside
its share.  :func:`run_steps` gives each its deadline, records an exception and goes on.
Heavy imports (torch, numpy, meanfield) are inside the functions: staging comes first.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from .staging import ROOT, validation_script

#: Shevchenko & Mondelli, Fig. 4: the change in test error when half of the neurons of a
#: two-layer net on MNIST at N = 12800 are dropped.
PAPER_DROPOUT = {"percent": 0.35, "source": "Shevchenko & Mondelli, Fig. 4 (MNIST, two layers, "
                                            "N = 12800)"}
AGREE_TOL = 1e-10

#: The steps share this part of the budget (each its registered share, normalised over the
#: steps that run); the rest is for starting up (imports, the device's first use) and
#: writing the report.
STEP_FRACTION = 0.92

FULL = {"two_layer_N": 12800, "three_layer_N": 3200, "patterns": 200, "batch": 100,
        "alpha": 0.2, "pair_M": (20000, 100000), "agree_rows": 128, "agree_M": 4000,
        "task_rows": 64, "particles": 100000, "T_max": 1.0, "pde_M": 2000, "pde_h": 0.02,
        "n_train": None, "n_test": None, "data_M": (1000, 4000, 16000)}
TINY = {"two_layer_N": 128, "three_layer_N": 64, "patterns": 200, "batch": 100,
        "alpha": 0.2, "pair_M": (200, 500), "agree_rows": 40, "agree_M": 200,
        "task_rows": 16, "particles": 400, "T_max": 0.2, "pde_M": 1000, "pde_h": 0.04,
        "n_train": 2000, "n_test": 1000, "data_M": (50, 200)}
TINY_TESTS = ["tests/test_torch.py::test_one_step_is_alpha_times_n_power_times_autograd_gradient",
              "tests/test_torch.py::test_all_kept_dropout_equals_full_and_batched_equals_single",
              "tests/test_torch_pairs.py::test_device_sums_equal_the_host_sums"]


class Context:
    """What every step reads: the device, the sizes (full or tiny) and the data set, loaded
    once by the first step that needs it."""

    def __init__(self, device, tiny, dataset):
        self.device, self.tiny, self.dataset = device, tiny, dataset
        self.sizes = TINY if tiny else FULL
        self.data = self.data_note = None


# -- the registry --------------------------------------------------------------------------

@dataclass(frozen=True)
class Registered:
    name: str
    share: float
    run: Callable


#: name -> :class:`Registered`, in the order the steps run (that of registration).
STEPS: dict[str, Registered] = {}


def register(name, share):
    """Decorator: the function ``(ctx, step)`` is the step ``name``, with ``share`` of the
    budget (see :data:`STEP_FRACTION`)."""
    def add(fn):
        if name in STEPS:
            raise ValueError(f"step {name!r} is registered twice")
        STEPS[name] = Registered(name, share, fn)
        return fn
    return add


# -- budget --------------------------------------------------------------------------------

class OutOfTime(Exception):
    """Raised inside a loop when its step's share is spent."""


class Step:
    """One step's clock, its figures (``res``, filled as they are measured, so an exception
    keeps what came before) and its notes."""

    def __init__(self, name, share_s, deadline):
        self.name, self.share_s, self.deadline = name, share_s, deadline
        self.res, self.notes, self.stopped = {}, [], []
        self.t0 = time.perf_counter()

    def left(self):
        return self.deadline - time.perf_counter()

    def elapsed(self):
        return time.perf_counter() - self.t0

    def stop(self, msg):
        """The step did less than it was asked to, to stay inside its share."""
        self.stopped.append(msg)
        print(f"  [{self.name}] stopped: {msg}", flush=True)


class DeadlineStream:
    """A training stream that raises :class:`OutOfTime` at the deadline and counts batches;
    everything else is the wrapped stream's."""

    def __init__(self, stream, deadline):
        self._stream, self._deadline, self.count = stream, deadline, 0

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def next(self):
        if time.perf_counter() > self._deadline:
            raise OutOfTime
        self.count += 1
        return self._stream.next()


def sync(device):
    """Wait for the device's queued work (a no-op off CUDA), so that a clock reads it."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device):
    """``(fn(), seconds)``, the device synchronised before and after."""
    sync(device)
    t = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - t


# -- steps -------------------------------------------------------------------------------

@register("torch_tests", share=0.25)
def step_torch_tests(ctx, step):
    """The torch tests with MEANFIELD_TEST_DEVICE = the device, in a child pytest."""
    args = TINY_TESTS if ctx.tiny else ["tests/test_torch.py", "tests/test_torch_pairs.py"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", *args]
    env = dict(os.environ, MEANFIELD_TEST_DEVICE=str(ctx.device), PYTHONUNBUFFERED="1")
    step.res["command"] = " ".join([f"MEANFIELD_TEST_DEVICE={ctx.device}", "python", *cmd[1:]])
    timeout = max(5.0, step.left())
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
        out, rc = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
            else (exc.stdout or "")
        rc = None
        step.stop(f"pytest ran past the step's {timeout:.0f} s and was stopped; the counts "
                  "are of the tests that had finished")
    counts = {}
    summary = [ln for ln in out.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    if summary:
        for n, what in re.findall(r"(\d+) (passed|failed|errors?|skipped|deselected|xfailed|"
                                  r"xpassed)", summary[-1]):
            counts[what.rstrip("s") if what.startswith("error") else what] = int(n)
    else:  # cut short: count the progress characters
        prog = "".join(ln.split("[")[0].strip() for ln in out.splitlines()
                       if re.fullmatch(r"[.FEsxX]+\s*(\[\s*\d+%\])?", ln.strip()))
        counts = {"passed": prog.count("."), "failed": prog.count("F"),
                  "error": prog.count("E"), "skipped": prog.count("s")}
    step.res.update(returncode=rc, passed=counts.get("passed", 0),
                    failed=counts.get("failed", 0), errors=counts.get("error", 0),
                    skipped=counts.get("skipped", 0),
                    failures=[ln for ln in out.splitlines()
                              if ln.startswith(("FAILED ", "ERROR "))][:40],
                    output_tail=out[-3000:])
    if rc not in (0, None):
        raise RuntimeError(f"pytest exit {rc}: {step.res['failed']} failed, "
                           f"{step.res['errors']} errors")


def _load_data(ctx):
    if ctx.data is None:
        from meanfield.tasks.datasets import DatasetNotFoundError, digits, fashion_mnist

        try:
            if ctx.dataset == "digits":
                data, note = digits(), "scikit-learn's digits, as asked (--dataset digits)"
            else:
                data, note = fashion_mnist(), None
        except DatasetNotFoundError as exc:
            if ctx.dataset == "fashion-mnist":
                raise
            data = digits()
            note = (f"Fashion-MNIST not found ({exc}); scikit-learn's digits (d = 64, "
                    f"{len(data.y_train)} training images) stand in: the examples/s and the "
                    "dropout change are not those of the paper's data")
            print(f"  {note}", flush=True)
        if ctx.sizes["n_train"] and data.name != "digits":
            data = data.subset(ctx.sizes["n_train"], ctx.sizes["n_test"], seed=0)
        ctx.data, ctx.data_note = data, note
    return ctx.data, ctx.data_note


def _probe_seconds_per_step(data, depth, N, B, alpha, dev, n_probe=10):
    """Seconds per training step: a warm-up and a first estimate on a throwaway net of the
    same shape, freed (with its stream) on return, before the measured net is built."""
    from meanfield.torch import DataStream, FullyConnectedNet, TrainConfig, train

    warm = FullyConnectedNet(data.d, N, data.n_classes, depth=depth, seed=99, device=dev)
    wstream = DataStream(data.X_train, data.y_train, B, seed=99, device=dev)
    timed(lambda: train(warm, wstream, TrainConfig(alpha=alpha, steps=3), progress=False), dev)
    _, t_probe = timed(lambda: train(warm, wstream, TrainConfig(alpha=alpha, steps=n_probe,
                                                                check_every=n_probe),
                                     progress=False), dev)
    return t_probe / n_probe


def _net_step(ctx, step, depth, N):
    import numpy as np
    import torch

    from meanfield.torch import (DataStream, FullyConnectedNet, TrainConfig, evaluate,
                                 first_half_masks, random_half_masks, train)

    S, dev, res = ctx.sizes, ctx.device, step.res
    data, note = _load_data(ctx)
    if note:
        step.notes.append(note)
    B, alpha, K = S["batch"], S["alpha"], S["patterns"]
    res.update(dataset=data.name, d=data.d, N=N, depth=depth, batch_size=B, alpha=alpha,
               n_train=len(data.y_train), n_test=len(data.y_test), dtype="float32",
               scaling="mean field: gradients x N (first, last layer), x N^2 (middle), "
                       "alpha fixed")
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    per_step = _probe_seconds_per_step(data, depth, N, B, alpha, dev)
    res["probe_seconds_per_step"] = per_step
    net = FullyConnectedNet(data.d, N, data.n_classes, depth=depth, seed=0, device=dev)
    stream = DataStream(data.X_train, data.y_train, B, seed=1, device=dev)
    n_epoch = stream.per_epoch
    allot = 0.65 * step.left()  # the rest for the evaluation
    n_run = n_epoch
    if per_step * n_epoch > allot:
        n_run = max(0, int(allot / per_step))
        step.stop(f"trains {n_run} of the epoch's {n_epoch} steps: the first steps took "
                  f"{per_step * 1e3:.1f} ms each, {per_step * n_epoch:.0f} s for the epoch > "
                  f"{max(0.0, allot):.0f} s")
    guarded = DeadlineStream(stream, time.perf_counter() + allot)
    sync(dev)
    t = time.perf_counter()
    if n_run:
        try:
            train(net, guarded, TrainConfig(alpha=alpha, steps=n_run, snapshots=(1.0,)),
                  progress=False)
        except OutOfTime:
            step.stop(f"training reached the end of its {allot:.0f} s after {guarded.count} "
                      f"of {n_run} steps")
    sync(dev)
    t_train = time.perf_counter() - t
    steps_done = guarded.count
    res.update(train_steps=steps_done, epoch_steps=n_epoch, train_seconds=t_train,
               train_examples_per_s=steps_done * B / t_train if steps_done else math.nan,
               train_epochs=steps_done / n_epoch)
    # evaluation: pattern 0 keeps everything (the full net), 1 the first half (Figure 1),
    # 2.. K + 1 random halves: one batched pass
    L = depth - 1
    masks = torch.cat([torch.ones(1, L, N), first_half_masks(net),
                       random_half_masks(net, K, seed=np.random.default_rng(2))])
    masks = masks.to(dev)  # on the device once; evaluate then copies nothing per slice
    Xte, yte = data.X_test, data.y_test
    n_warm = min(len(yte), 200)  # warm-up and first estimate
    warm_ev, t_warm = timed(lambda: evaluate(net, Xte[:n_warm], yte[:n_warm], masks=masks),
                            dev)
    res["eval_warmup_seconds"] = t_warm
    # the timed pass: slices of the test set (evaluate's own batch), the clock checked
    # between them
    sl = 2000
    tot_err = np.zeros(K + 2)
    tot_loss = np.zeros(K + 2)
    n_eval, t_slice = 0, t_warm * sl / n_warm
    sync(dev)
    t = time.perf_counter()
    while n_eval < len(yte):
        e = min(len(yte), n_eval + sl)
        if time.perf_counter() + t_slice * (e - n_eval) / sl > step.deadline:
            step.stop(f"evaluated {n_eval} of {len(yte)} test images: the next {e - n_eval} "
                      f"would take about {t_slice * (e - n_eval) / sl:.1f} s, "
                      f"{max(0.0, step.left()):.1f} s left")
            break
        t1 = time.perf_counter()
        ev = evaluate(net, Xte[n_eval:e], yte[n_eval:e], masks=masks)
        t_slice = (time.perf_counter() - t1) * sl / (e - n_eval)
        tot_err += ev["error"] * (e - n_eval)
        tot_loss += ev["loss"] * (e - n_eval)
        n_eval = e
    t_eval = time.perf_counter() - t
    if n_eval == 0:  # nothing fitted: the figures of the warm-up slice, said so
        tot_err, tot_loss = warm_ev["error"] * n_warm, warm_ev["loss"] * n_warm
        n_eval, t_eval = n_warm, t_warm
        step.notes.append(f"test figures from the {n_warm} images of the warm-up")
    ev = {"error": tot_err / n_eval, "loss": tot_loss / n_eval}
    err, loss = ev["error"], ev["loss"]
    res.update(eval_images=n_eval, eval_patterns=K + 2, eval_seconds=t_eval,
               eval_examples_per_s=n_eval / t_eval,
               eval_pattern_examples_per_s=n_eval * (K + 2) / t_eval,
               test_error_full=float(err[0]), test_loss_full=float(loss[0]),
               test_error_first_half=float(err[1]),
               test_error_random_half_mean=float(err[2:].mean()),
               dropout_change_percent=float(100 * (err[2:].mean() - err[0])),
               dropout_change_sd_percent=float(100 * err[2:].std(ddof=1)) if K > 1 else 0.0,
               first_half_change_percent=float(100 * (err[1] - err[0])),
               dropout_loss_change=float(loss[2:].mean() - loss[0]))
    if depth == 2:
        res["paper_dropout_change_percent"] = PAPER_DROPOUT["percent"]
        res["paper_source"] = PAPER_DROPOUT["source"]
        res["ours_label"] = (f"{data.name}, two layers, N = {N}, {res['train_epochs']:.2f} "
                             f"epoch(s), mean over {K} random halves")
    if dev.type == "cuda":
        res["peak_memory_gib"] = torch.cuda.max_memory_allocated(dev) / 2**30


@register("two_layer", share=0.11)
def step_two_layer(ctx, step):
    _net_step(ctx, step, 2, ctx.sizes["two_layer_N"])


@register("three_layer", share=0.11)
def step_three_layer(ctx, step):
    _net_step(ctx, step, 3, ctx.sizes["three_layer_N"])


def _isotropic(act, M, seed=0, d=40):
    """bench_pairs.py's setting: Mei et al.'s isotropic task, w ~ N(0, 0.8^2 / d I), a = 1."""
    import numpy as np

    from meanfield.tasks import isotropic_gaussians

    W = np.random.default_rng(seed).normal(0.0, 0.8 / np.sqrt(d), (M, d))
    return isotropic_gaussians(d, 0.5, act), np.ones(M), W


def _ns_per_pair(task, a, W, allot):
    """ns per pair of ``task.grad_psi`` over M columns, on all M rows when that fits ``allot``
    seconds, else on as many rows as fit (first a probe of about 2^22 pairs)."""
    M = len(a)
    r = max(1, min(M, 2**22 // M))
    t = time.perf_counter()
    task.grad_psi(a[:r], W[:r], a, W)
    dt = time.perf_counter() - t
    ns = dt / (r * M) * 1e9
    rows = M if ns * M * M * 1e-9 <= allot else max(r, int(allot / (ns * M * 1e-9)))
    if rows > r:
        reps = 3 if ns * rows * M * 1e-9 < 0.05 * allot else 1
        dt = math.inf
        for _ in range(reps):
            t = time.perf_counter()
            task.grad_psi(a[:rows], W[:rows], a, W)
            dt = min(dt, time.perf_counter() - t)
        ns = dt / (rows * M) * 1e9
    else:
        rows = r
    return {"ns_per_pair": ns, "rows": rows, "M": M, "seconds": dt,
            "full_grad_psi_seconds": ns * M * M * 1e-9}


@register("pair_sums", share=0.18)
def step_pair_sums(ctx, step):
    from meanfield.torch.pairs import on_device
    from meanfield.twolayer.limit import ParticleLimit

    res, Ms = step.res, ctx.sizes["pair_M"]
    res["definition"] = ("wall time of grad_psi / (rows x M): Mei et al.'s isotropic task, "
                         "d = 40, two mixture components (two kernel evaluations per pair), "
                         "frozen a = 1, w ~ N(0, 0.8^2 / d I), as benchmarks/bench_pairs.py")
    items = [(act, M) for act in ("relu", "ramp") for M in Ms]
    weights = {M: M * M for M in Ms}
    for i, (act, M) in enumerate(items):
        task, a, W = _isotropic(act, M)
        dev = on_device(task, ctx.device)
        if M == Ms[0]:
            dev.grad_psi(a[:8], W[:8], a[:256], W[:256])  # first use: kernels, device init
        rest = items[i:]
        # the RK4 step at the largest M takes about 4 ReLU evaluations: a share of its own
        share = step.left() * weights[M] / (sum(weights[m] for _, m in rest)
                                            + 4 * weights[Ms[-1]])
        r = _ns_per_pair(dev, a, W, share)
        res[f"{act}_M{M}"] = r
        print(f"  [pair_sums] {act:4s} M = {M}: {r['ns_per_pair']:.4g} ns/pair over {r['rows']} "
              f"of {M} rows ({r['seconds']:.2f} s)", flush=True)
        if r["rows"] < M:
            step.notes.append(f"{act} at M = {M}: {r['rows']} of {M} rows (all M would take "
                              f"{r['full_grad_psi_seconds']:.1f} s, over the share)")
    M = Ms[-1]
    for act in ("relu", "ramp"):
        res[f"rk4_step_{act}_M{M}_estimate_seconds"] = \
            4 * res[f"{act}_M{M}"]["full_grad_psi_seconds"]
    est = res[f"rk4_step_relu_M{M}_estimate_seconds"]
    if est > 0.9 * step.left():
        step.stop(f"one RK4 step of the ReLU particle limit at M = {M} not run: about "
                  f"{est:.0f} s (4 x grad_psi) > {step.left():.0f} s left")
        return
    task, a, W = _isotropic("relu", M)
    lim = ParticleLimit((a, W), on_device(task, ctx.device), h=0.05, train_a=False)
    lim.plan(0.05)
    t = time.perf_counter()
    lim.advance(1)
    res[f"rk4_step_relu_M{M}_seconds"] = time.perf_counter() - t


def _data_task(ctx):
    """Two-class Fashion-MNIST (0 vs 6: n = 12000, d = 784) as an erf task, or digits 0 vs 1
    when it is not there (or asked for): the data-law limit's task and what it is."""
    from meanfield.tasks import EmpiricalTask
    from meanfield.tasks.datasets import DatasetNotFoundError

    if ctx.dataset == "digits":
        return EmpiricalTask.from_spec("digits:0,1", "erf"), "digits:0,1 (as asked)"
    try:
        return EmpiricalTask.from_spec("fashion-mnist:0,6", "erf"), "fashion-mnist:0,6"
    except DatasetNotFoundError:
        if ctx.dataset == "fashion-mnist":
            raise
    return EmpiricalTask.from_spec("digits:0,1", "erf"), "digits:0,1 (Fashion-MNIST absent)"


@register("data_limit", share=0.08)
def step_data_limit(ctx, step):
    """The particle limit on a data set's empirical law, on the device (issue 31): one
    Euler step (one field evaluation: the products X W' and (r o sigma'(Z))' X over the
    data, torch.DeviceResidualSums) at each M, beside three float64 products of n x d x M
    on the same device (the bound of benchmarks/bench_data_limit.py: within 1.5x), and the
    new state against the host's numba step at the smallest M (relative, below 1e-10)."""
    import numpy as np
    import torch

    from meanfield.torch.pairs import on_device
    from meanfield.twolayer import InitialLaw, ParticleLimit

    res = step.res
    task, what = _data_task(ctx)
    dev_task = on_device(task, ctx.device)
    res["data"] = what
    res["definition"] = ("seconds of one Euler step of the erf particle limit on the data "
                         "set's empirical law (h = 0.1), and of three float64 products of "
                         "n x d x M on the device; ratio = step / products")
    X = torch.as_tensor(task.X, dtype=torch.float64, device=ctx.device)
    last = 0.0
    for k, M in enumerate(ctx.sizes["data_M"]):
        A, W = InitialLaw().sample(M, task.d, np.random.default_rng(M))
        lim = ParticleLimit((A, W), dev_task, h=0.1, method="euler")
        Wt = torch.as_tensor(W, dtype=torch.float64, device=ctx.device)

        def products():
            Z = X @ Wt.T
            X @ Wt.T
            return Z.T @ X

        # a step and the products cost about linearly in M, each timed three times: stop
        # before an M that would overrun the share
        if k and 6 * last * M / ctx.sizes["data_M"][k - 1] > step.left():
            need = 6 * last * M / ctx.sizes["data_M"][k - 1]
            step.stop(f"M = {M} not run: about {need:.0f} s > {step.left():.0f} s left")
            break
        new, _ = timed(lambda: lim.step(0.0, 0.1, False), ctx.device)  # first use
        t_step = min(timed(lambda: lim.step(0.0, 0.1, False), ctx.device)[1] for _ in range(2))
        t_prod = min(timed(products, ctx.device)[1] for _ in range(2))
        row = {"M": M, "n": task.n, "d": task.d, "step_seconds": t_step,
               "three_products_seconds": t_prod, "ratio": t_step / t_prod}
        if k == 0:
            host = ParticleLimit((A, W), task, h=0.1, method="euler").step(0.0, 0.1, False)
            row["agreement"] = max(
                float(np.max(np.abs(np.asarray(new[i]) - host[i])) / np.max(np.abs(host[i])))
                for i in range(2))
            row["agrees"] = bool(row["agreement"] < AGREE_TOL)
        res[f"M{M}"] = row
        last = t_step + t_prod
        print(f"  [data_limit] {what} M = {M}: step {t_step:.3g} s, three products "
              f"{t_prod:.3g} s (ratio {t_step / t_prod:.2f})"
              + (f", host agreement {row['agreement']:.1e}" if k == 0 else ""), flush=True)


@register("agreement", share=0.07)
def step_agreement(ctx, step):
    import numpy as np

    from meanfield.activations import get_activation
    from meanfield.kernels.gaussian import pair_sums, quadrature_nodes
    from meanfield.torch.pairs import DevicePairSums, on_device

    S, res = ctx.sizes, step.res
    quad = quadrature_nodes(48)
    sums = DevicePairSums(ctx.device)
    rng = np.random.default_rng(7)
    R, M, d = S["agree_rows"], S["agree_M"], 40
    Wr = rng.normal(0, 1, (R, d)) * rng.uniform(0.1, 2.0, (R, 1)) / np.sqrt(d)
    Wc = rng.normal(0, 1, (M, d)) / np.sqrt(d)
    Wr[3] = 0.0  # zero-norm neurons: their one-dimensional kernels go to the host
    Wc[5] = 0.0
    ac = rng.normal(size=M)
    res["setting"] = (f"pair_sums with gradients, {R} x {M} pairs, d = {d}, spread norms, one "
                      "zero row and column; then grad_psi of the isotropic task on "
                      f"{S['task_rows']} rows x M = {S['pair_M'][0]}")
    worst = 0.0
    pairs = [("relu", "relu"), ("ramp", "ramp"), ("relu", "ramp"), ("ramp", "relu"),
             ("erf", "erf")]
    # first calls compile the numba kernels (unless a cache holds them): not timed
    t = time.perf_counter()
    for p, q in pairs:
        A, B = get_activation(p), get_activation(q)
        pair_sums(A.kind, A.p, B.kind, B.p, Wr[:2], Wc[:2], ac[:2], quad, True)
        sums(A.kind, A.p, B.kind, B.p, Wr[:2], Wc[:2], ac[:2], quad, True)
    for act in ("relu", "ramp"):
        task, a, W = _isotropic(act, 4)
        task.grad_psi(a, W, a, W)
    res["warmup_seconds"] = time.perf_counter() - t
    for i, (p, q) in enumerate(pairs):
        A, B = get_activation(p), get_activation(q)
        t = time.perf_counter()
        host = pair_sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, quad, True)
        t_host = time.perf_counter() - t
        t = time.perf_counter()
        dev = sums(A.kind, A.p, B.kind, B.p, Wr, Wc, ac, quad, True)
        t_dev = time.perf_counter() - t
        rel = max(float(np.abs(x - y).max() / np.abs(y).max()) for x, y in zip(dev, host))
        worst = max(worst, rel)
        res[f"{p}/{q}"] = {"relative": rel, "numba_seconds": t_host, "device_seconds": t_dev}
        if step.left() < 2 * (t_host + t_dev) and i + 1 < len(pairs):
            step.stop(f"compared {i + 1} of {len(pairs)} activation pairs")
            break
    rows, Mt = S["task_rows"], S["pair_M"][0]
    for act in ("relu", "ramp"):
        if step.left() < 5:
            step.stop(f"grad_psi of the task not compared for {act}")
            break
        task, a, W = _isotropic(act, Mt)
        t = time.perf_counter()
        host = task.grad_psi(a[:rows], W[:rows], a, W)
        t_host = time.perf_counter() - t
        t = time.perf_counter()
        dev = on_device(task, ctx.device).grad_psi(a[:rows], W[:rows], a, W)
        t_dev = time.perf_counter() - t
        rel = max(float(np.abs(x - y).max() / np.abs(y).max()) for x, y in zip(dev, host))
        worst = max(worst, rel)
        res[f"grad_psi_{act}_M{Mt}"] = {
            "relative": rel, "rows": rows, "numba_ns_per_pair": t_host / (rows * Mt) * 1e9,
            "device_ns_per_pair": t_dev / (rows * Mt) * 1e9}
    res.update(max_relative=worst, tolerance=AGREE_TOL, passed=bool(worst < AGREE_TOL))
    if not worst < AGREE_TOL:
        raise AssertionError(f"device and numba pair sums differ by {worst:.3g} relative "
                             f"(> {AGREE_TOL:g})")


@register("particle_vs_pde", share=0.18)
def step_particle_vs_pde(ctx, step):
    import numpy as np

    from meanfield.pde import radius_of_gaussian, sample_weights, solve_radial
    from meanfield.tasks import isotropic_gaussians
    from meanfield.torch.pairs import on_device
    from meanfield.twolayer.limit import ParticleLimit

    S, res = ctx.sizes, step.res
    particle_risk = validation_script("pde_vs_sgd").particle_risk
    d, M, h = 40, S["particles"], 0.05
    task = isotropic_gaussians(d, 0.5, "relu")
    dev = on_device(task, ctx.device)
    law = radius_of_gaussian(d, 0.8)
    times = np.round(np.arange(0.0, S["T_max"] + 1e-9, 2 * h), 10)
    res.update(activation="relu", d=d, M=M, h=h, method="rk4", T_planned=float(times[-1]),
               pde_nodes=S["pde_M"], pde_h=S["pde_h"],
               risk="off-diagonal particle risk (validation/pde_vs_sgd.py particle_risk)")
    t = time.perf_counter()
    pde = solve_radial(task, law, times, M=S["pde_M"], h=S["pde_h"])
    res["pde_seconds"] = time.perf_counter() - t
    W = sample_weights(law, M, d, 1)
    t = time.perf_counter()  # first calls: numba kernels (unless cached), the device
    particle_risk(dev, W[:64])
    small = ParticleLimit((np.ones(64), W[:64]), dev, h=h, train_a=False)
    small.plan(h)
    small.advance(1)
    res["warmup_seconds"] = time.perf_counter() - t
    # the risk at M (one pass of pair sums without gradients) from a probe of its rows; the
    # smallest useful run, 3 risks and 2 steps, is about 15 of them: fewer particles if that
    # does not fit (said so)
    r = max(1, min(M, 2**22 // M))
    t = time.perf_counter()
    dev.psi(np.ones(r), W[:r], np.ones(M), W)
    t_est = (time.perf_counter() - t) * M / r
    if 15 * t_est > step.left():
        M_fit = max(64, int(M * math.sqrt(step.left() / (15 * t_est)) // 100 * 100))
        step.stop(f"{M_fit} particles instead of {M}: one risk at M = {M} would take about "
                  f"{t_est:.0f} s, the shortest run 15 of them > {step.left():.0f} s left")
        M, W = M_fit, W[:M_fit]
        res["M"] = M
    lim = ParticleLimit((np.ones(M), W), dev, h=h, train_a=False)
    t = time.perf_counter()
    off, full = particle_risk(dev, lim.population()[1])
    t_risk = time.perf_counter() - t
    got_t, got_off, got_full, step_s = [0.0], [off], [full], []
    # a step is 4 evaluations of grad_psi, each about 1.5 of the risk's pair sums (which
    # need no gradient); measured after the first step
    t_step = 6.0 * t_risk
    for k, target in enumerate(times[1:], start=1):
        n = lim.plan(float(target))
        if step.left() < n * t_step + 1.2 * t_risk:
            step.stop(f"ran to t = {got_t[-1]:g} of T = {times[-1]:g}: the next {n} steps and "
                      f"risk take about {n * t_step + t_risk:.0f} s, {step.left():.0f} s left")
            break
        for _ in range(n):
            t = time.perf_counter()
            lim.advance(1)
            step_s.append(time.perf_counter() - t)
            t_step = max(step_s[-1], 0.5 * t_step)
        t = time.perf_counter()
        off, full = particle_risk(dev, lim.population()[1])
        t_risk = time.perf_counter() - t
        got_t.append(float(target))
        got_off.append(off)
        got_full.append(full)
    ref = pde.risk[:len(got_t)]
    rel = np.abs(np.array(got_off) - ref) / ref
    res.update(times=got_t, particle_risk=got_off, particle_risk_full=got_full,
               pde_risk=ref.tolist(), relative_difference=rel.tolist(),
               max_relative_difference=float(rel.max()), T_reached=got_t[-1],
               rk4_steps=len(step_s),
               rk4_step_seconds_mean=float(np.mean(step_s)) if step_s else math.nan,
               risk_seconds=t_risk)


# -- running them ------------------------------------------------------------------------

def run_steps(ctx, wanted, budget, t_start, after_each=None):
    """Run the registered steps named in ``wanted`` (in the registry's order) inside
    ``budget`` seconds from ``t_start`` (a ``time.perf_counter()``).

    A step gets its share of :data:`STEP_FRACTION` of the budget; its deadline is the end
    of its share counted from ``t_start`` plus the start-up part, at least half its share
    from now, and never past the budget.  A step with a second or less left is skipped,
    one that raises is recorded with its traceback, and the others still run.  After each
    step ``after_each(results)`` is called (to write the report so far).  Returns
    ``{name: {status, seconds, share_seconds, figures, notes, stopped, error}}``.
    """
    plan = [STEPS[n] for n in STEPS if n in wanted]
    total = sum(r.share for r in plan)  # a subset of the steps shares the whole budget
    scale = STEP_FRACTION * budget / total  # seconds per unit of share
    results, cum = {}, 0.0
    end = t_start + budget
    for reg in plan:
        name = reg.name
        cum += reg.share
        now = time.perf_counter()
        share_s = reg.share * scale
        deadline = min(end, max(t_start + (1 - STEP_FRACTION) * budget + cum * scale,
                                now + 0.5 * share_s))
        st = Step(name, share_s, deadline)
        status, err = "ok", None
        print(f"[{name}] {max(0.0, st.left()):.0f} s", flush=True)
        if st.left() <= 1:
            status = "skipped"
            st.notes.append("no time left in the budget")
        else:
            try:
                reg.run(ctx, st)
            except Exception as exc:  # noqa: BLE001 - recorded; the other steps still run
                status, err = "error", traceback.format_exc()
                print(f"  [{name}] error: {exc!r}", flush=True)
            if status == "ok" and st.stopped:
                status = "stopped"
        if ctx.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()
        results[name] = {"status": status, "seconds": st.elapsed(), "share_seconds": share_s,
                         "figures": st.res, "notes": st.notes, "stopped": st.stopped,
                         "error": err}
        print(f"[{name}] {status} in {st.elapsed():.1f} s", flush=True)
        if after_each is not None:
            after_each(results)
    return results
