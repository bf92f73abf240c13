"""One command for a GPU slot: every device path of the torch side, at the papers' sizes, timed.

Steps (each with a share of the time budget, default 8 minutes; a step that
would overrun its share stops itself and says so, a step that raises is
recorded, and the other steps still run):

1. ``torch_tests``: tests/test_torch.py and tests/test_torch_pairs.py with
   their nets and tensors on the device (``MEANFIELD_TEST_DEVICE``);
2. ``two_layer``: a two-layer mean-field net, N = 12800, one epoch of
   Fashion-MNIST at batch 100 (SGD in the mean-field scaling of Section 5 of
   Shevchenko & Mondelli: gradients x N, alpha = 0.2 as in
   configs/empirical_fashion.toml), then the full net, the first-half
   dropout network and 200 random-half dropout networks on the test set in
   one batched pass; examples/s of training and of evaluation, and the
   dropout change in test error beside the paper's Fig. 4 (+0.35%, MNIST,
   N = 12800).  Without Fashion-MNIST (Debian's ``dataset-fashion-mnist``,
   or ``.devrun/fashion-mnist``) scikit-learn's digits stand in, and the
   report says so;
3. ``three_layer``: the same with three layers at N = 3200 (middle layer
   N x N, gradients x N^2);
4. ``pair_sums``: the particle limit's pair sums on the device
   (:func:`meanfield.torch.pairs.on_device`): ns per pair of ``grad_psi`` for
   ReLU and the ramp at M = 2e4 and 1e5 (the setting of
   benchmarks/bench_pairs.py: Mei et al.'s isotropic task, d = 40, two
   mixture components, frozen a; ns per pair = time / (rows x M), on a subset
   of the rows when all M would not fit the share), and one RK4 step of the
   ReLU particle limit at M = 1e5;
5. ``data_limit``: the particle limit on a data set's empirical law through
   torch (issue 31): one Euler step of the erf limit on two-class
   Fashion-MNIST (0 vs 6, n = 12000, d = 784; digits 0 vs 1 stand in without
   it) at M = 1000, 4000 and 16000, beside three float64 products of n x d x M
   on the device (benchmarks/bench_data_limit.py's bound: within 1.5x), and
   the device's step against the host's numba step at the smallest M;
6. ``agreement``: the same pair sums against the numba kernels on a subset
   (relative agreement, max |device - numba| / max |numba| per output; passes
   below 1e-10), so a device result is also a correct one;
7. ``particle_vs_pde``: a short ReLU particle-limit run at M = 1e5 (RK4,
   h = 0.05) against the radial PDE (M = 2000 nodes, h = 0.02), the
   relative risk difference at every snapshot (the off-diagonal risk of
   validation/pde_vs_sgd.py), as long a run as the share allows, T <= 1.

This file is the command; the parts are beside it in ``benchmarks/device/``:
``staging.py`` (the paths, ``--prepare``, numba's warm-up), ``steps.py`` (the
steps, each registered by name with its share of the budget, and the budget)
and ``report.py``.

Writes ``device_run.json`` and ``device_run.md`` to ``--out`` (after every
step, so a run cut short keeps what it measured), with the GPU's name, the
torch and CUDA versions, every figure and the wall time of each step.

On the GPU machine nothing can be installed and nothing downloaded: the image
has torch, numba, scipy, scikit-learn and pytest but not POT, which no step
imports but the torch tests' CLI couple test needs (W2; meanfield imports POT
only inside ``meanfield.transport.wasserstein2``).  ``--prepare`` (here, with
network) stages POT for that machine's Python (3.12) and Fashion-MNIST in
``.devrun/`` (git ignores it; carry it to the device), and the run picks them
up.  Without them the run still goes (that one test fails; the digits data
set stands in), and the report says so.

    python benchmarks/device_run.py --prepare                     # here, once
    python3 benchmarks/device_run.py --out $OUT/device_run        # on the GPU (carry .devrun)
    python benchmarks/device_run.py --tiny --out /tmp/device_run  # the same steps on the CPU, small

``--paper`` runs, in place of the steps above, the papers' experiments of issue #30 at the
papers' sizes (``benchmarks/device/paper.py``: Shevchenko & Mondelli's Figs. 3 and 4,
Nguyen, Bréchet & Mondelli's Fig. 3 a-c and Corollary 4.3, Kuditipudi et al.), each cell
kept in ``<out>/store``; a call stops starting cells when its budget is spent, and the next
call, given that store back with ``--resume``, goes on from there:

    python3 benchmarks/device_run.py --paper --out $OUT/paper                  # first call
    python3 benchmarks/device_run.py --paper --resume .devrun/paper_store --out $OUT/paper
    python benchmarks/device_run.py --paper --tiny --out /tmp/paper          # on the CPU, small
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from device.report import machine, write_report
from device.staging import ROOT, prepare, stage_environment, warm_numba
from device.steps import STEPS, Context, run_steps

T_START = time.perf_counter()  # the budget counts from here (the imports above are light)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default=None,
                   help="torch device (default: the first CUDA device; cpu with --tiny)")
    p.add_argument("--out", default=str(ROOT / "runs" / "device_run"))
    p.add_argument("--budget", type=float, default=None,
                   help="seconds for the whole run (default 480; 60 with --tiny, 300 with "
                        "--paper --tiny)")
    p.add_argument("--tiny", action="store_true",
                   help="the same steps at small sizes, on the CPU unless --device")
    p.add_argument("--dataset", choices=("auto", "fashion-mnist", "digits"), default=None,
                   help="auto (the default; digits with --tiny): Fashion-MNIST, else digits")
    p.add_argument("--steps", default=None,
                   help=f"comma-separated subset of {','.join(STEPS)}")
    p.add_argument("--prepare", action="store_true",
                   help="stage POT and Fashion-MNIST in .devrun/ for the GPU machine (needs "
                        "pip's network), then exit")
    p.add_argument("--python-version", default="3.12",
                   help="with --prepare: the GPU image's Python (default 3.12)")
    p.add_argument("--paper", action="store_true",
                   help="the papers' experiments at the papers' sizes (benchmarks/device/"
                        "paper.py), resumable, in place of the steps")
    p.add_argument("--parts", default=None,
                   help="with --paper: comma-separated subset of the parts (default: all)")
    p.add_argument("--resume", default=None, metavar="STORE",
                   help="with --paper: an earlier call's <out>/store, whose finished cells "
                        "are read instead of run again")
    p.add_argument("--warm-numba", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if (args.parts or args.resume) and not args.paper:
        p.error("--parts and --resume go with --paper")
    if args.paper and (args.steps or args.dataset):
        p.error("--steps and --dataset do not go with --paper (its parts are --parts; the "
                "data set is Fashion-MNIST, digits with --tiny)")
    if args.budget is not None and args.budget <= 0:
        p.error(f"--budget must be > 0 seconds, got {args.budget}")
    if args.warm_numba:
        stage_environment()
        return warm_numba()
    if args.prepare:
        sys.path.insert(0, str(ROOT))
        return prepare(args.python_version)
    stage_notes = stage_environment()
    import torch

    from meanfield.torch import pick_device

    name = args.device or ("cpu" if args.tiny else "cuda")
    try:
        device = pick_device(name)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
    except ValueError as exc:
        print(f"device_run: --device {name}: {exc} (--tiny runs on the CPU)", file=sys.stderr)
        return 2
    budget = args.budget or (60.0 if args.tiny and not args.paper else
                             300.0 if args.tiny else 480.0)
    if args.paper:
        return _paper(args, device, budget, stage_notes)
    wanted = list(STEPS)
    if args.steps:
        wanted = [s.strip() for s in args.steps.split(",") if s.strip()]
        bad = [s for s in wanted if s not in STEPS]
        if bad:
            print(f"device_run: unknown step(s) {', '.join(bad)}; steps are "
                  f"{', '.join(STEPS)}", file=sys.stderr)
            return 2
    out = Path(args.out)
    ctx = Context(device, args.tiny, args.dataset or ("digits" if args.tiny else "auto"))
    meta = machine(device, budget, args.tiny, stage_notes)
    print(f"device_run on {meta['gpu'] or device}: torch {meta['torch']}, CUDA {meta['cuda']}, "
          f"budget {budget:.0f} s{' (tiny sizes)' if args.tiny else ''}", flush=True)
    # numba's kernels compile in a child beside the first steps, into numba's cache (not with
    # --tiny: on a small machine it would only take cores from the steps)
    warm = None if args.tiny else subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--warm-numba"], cwd=ROOT,
        env=dict(os.environ, POT_BACKEND_DISABLE_PYTORCH="1", CUDA_VISIBLE_DEVICES=""),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_warm = time.perf_counter()

    def after_each(steps):
        if warm is not None and "numba_warmup_seconds" not in meta and \
                warm.poll() is not None:
            meta["numba_warmup_seconds"] = round(time.perf_counter() - t_warm, 1)
            meta["numba_warmup_failures"] = warm.returncode
        write_report(out, meta, steps, T_START)

    steps = run_steps(ctx, wanted, budget, T_START, after_each)
    if warm is not None and warm.poll() is None:
        warm.kill()
        meta["numba_warmup_seconds"] = "unfinished"
    report = write_report(out, meta, steps, T_START)
    print(f"wrote {out / 'device_run.json'} and device_run.md; wall {report['wall_seconds']:.1f} s")
    print((out / "device_run.md").read_text())
    return 0 if all(s["status"] in ("ok", "stopped") for s in steps.values()) else 1


def _paper(args, device, budget, stage_notes):
    from device.paper import PARTS, PaperContext, resume_from, run_paper

    parts = list(PARTS)
    if args.parts:
        parts = [s.strip() for s in args.parts.split(",") if s.strip()]
        bad = [s for s in parts if s not in PARTS]
        if bad or not parts:
            print(f"device_run: unknown part(s) {', '.join(bad) or '(none)'}; parts are "
                  f"{', '.join(PARTS)}", file=sys.stderr)
            return 2
    out = Path(args.out)
    if args.resume:
        try:
            copied = resume_from(args.resume, out)
        except ValueError as exc:
            print(f"device_run: {exc}", file=sys.stderr)
            return 2
        print(f"resumed {copied} stored cells from {args.resume}", flush=True)
    meta = machine(device, budget, args.tiny, stage_notes)
    print(f"device_run --paper on {meta['gpu'] or device}: parts {', '.join(parts)}, "
          f"budget {budget:.0f} s{' (tiny sizes)' if args.tiny else ''}", flush=True)
    ctx = PaperContext(out, device, args.tiny, T_START + budget)
    report = run_paper(ctx, parts, meta)
    print((out / "paper.md").read_text())
    done = all(p["status"] == "complete" for p in report["parts"].values())
    failed = any(p["status"] == "error" for p in report["parts"].values())
    print("all parts complete" if done else
          f"parts left: copy {out / 'store'} back (e.g. to .devrun/paper_store, replacing "
          "it) and run again with --resume .devrun/paper_store")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
