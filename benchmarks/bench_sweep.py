"""Sweep throughput: 200 small cells on 1 worker (in-process) vs a 2-worker local Dask cluster.

A cell trains two networks (N = 500 or 1000, d = 20, 10000 or 20000 SGD steps)
and measures their dropout gaps: 0.3 to 1 s each.  Starting the cluster and
loading the compiled kernels in each worker costs a few seconds, which cells
this size amortise.

Both runs happen in this process, one after the other, into fresh folders;
the 2-worker time includes starting the cluster.  Target (issue "Experiments
at scale"): speed-up >= 1.6 on a 2-core machine.  The tables of the two runs
are compared for equality as well.

    python benchmarks/bench_sweep.py [--cells 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import pandas as pd

from meanfield.experiments import load_tables, parse_config, run_sweep


def config(n_cells):
    seeds = list(range(n_cells // 2))
    return parse_config({"experiment": "stability",
                         "fixed": {"d": 20, "T": 1.0, "alpha0": 0.05, "half_draws": 1,
                                   "straight_max_N": 0, "aligned_max_N": 0},
                         "grid": {"N": [500, 1000], "seed": seeds}})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", type=int, default=200)
    args = p.parse_args(argv)
    sweep = config(args.cells)
    with tempfile.TemporaryDirectory() as tmp:
        # warm the numba cache of this process so that compilation is not timed
        run_sweep(config(2), os.path.join(tmp, "warm"), workers=1, progress=False)
        times = {}
        for workers in (1, 2):
            folder = os.path.join(tmp, f"w{workers}")
            t0 = time.perf_counter()
            rep = run_sweep(sweep, folder, workers=workers, progress=False)
            times[workers] = time.perf_counter() - t0
            print(f"{workers} worker(s): {rep}")
        one, two = (load_tables(os.path.join(tmp, f"w{w}")) for w in (1, 2))
        same = one.keys() == two.keys() and all(one[k].equals(two[k]) for k in one)
    ratio = times[1] / times[2]
    print(f"cores: {os.cpu_count()}; {args.cells} cells: 1 worker {times[1]:.1f} s, "
          f"2 workers {times[2]:.1f} s (cluster start included): speed-up {ratio:.2f}x "
          f"({'PASS' if ratio >= 1.6 else 'FAIL'} >= 1.6); identical tables: {same}")
    return 0 if ratio >= 1.6 and same else 1


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    raise SystemExit(main())
