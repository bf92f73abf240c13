"""Same bits whatever the snapshot schedule, block cut or thread count; agreement
to a stated tolerance across CPU targets (vector widths).

Each target runs tests/_determinism_worker.py in a subprocess with
``NUMBA_CPU_NAME`` set, so numba compiles the kernels for that target: a result
that depends on the vector width (fastmath reassociation) is caught on any CI
machine, not only on one whose CPU happens to trigger it.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).with_name("_determinism_worker.py")

#: Across CPU targets the kernels round differently (FMA or not, the order of
#: vectorised sums); the README promises agreement to this relative tolerance
#: on short runs (measured: 4e-16 between generic x86-64 and AVX-512 builds).
CROSS_CPU_RTOL = 1e-12


def _targets():
    """The host build, generic x86-64 (SSE2: no FMA, 2-wide vectors) and the
    widest vector target the host can run other than its own tuning."""
    from llvmlite import binding as llvm

    feats = llvm.get_host_cpu_features()
    targets = [None]
    if "x86" in llvm.get_process_triple() or "x86_64" in llvm.get_process_triple():
        targets.append("generic")
        if feats.get("avx512f"):
            targets.append("skylake-avx512")
        elif feats.get("avx2") and feats.get("fma"):
            targets.append("haswell")
    else:
        targets.append("generic")
    return targets


def _start(target, out):
    env = dict(os.environ)
    env.pop("NUMBA_CPU_NAME", None)
    if target:
        env["NUMBA_CPU_NAME"] = target
    env.setdefault("NUMBA_NUM_THREADS", "2")
    return subprocess.Popen([sys.executable, str(WORKER), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run_all(targets, folder):
    """Each target's worker, all started at once: most of a worker's time is numba
    compiling every kernel for its target, single-threaded, so side by side they take
    about the time of the slowest instead of the sum."""
    procs = {t: _start(t, folder / f"{t or 'host'}.npz") for t in targets}
    results = {}
    try:
        for t, proc in procs.items():
            out, _ = proc.communicate(timeout=900)
            assert proc.returncode == 0, f"target {t or 'host'}: {out}"
            results[t] = dict(np.load(folder / f"{t or 'host'}.npz"))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    return results


def _compare(results):
    host = results.pop(None)
    for target, res in results.items():
        for name, x in res.items():
            err = np.abs(x - host[name]).max() / np.abs(host[name]).max()
            assert err <= CROSS_CPU_RTOL, (target, name, err)


def test_results_do_not_depend_on_blocks_threads_or_vector_width(tmp_path):
    """Within a process: SGD (fused batch-1 loop, mini-batch loop, parallel loop
    at 1 and 2 threads), the particle limit, the radial PDE and multilayer SGD
    give identical bits for four snapshot schedules.  Across targets, the host
    build against generic x86-64 (SSE2, no FMA: the other end of what a CI machine
    may have): equal to CROSS_CPU_RTOL relative to each array's largest entry."""
    _compare(_run_all(_targets()[:2], tmp_path))


@pytest.mark.slow  # a third numba build of every kernel (about 50 s on a fresh clone)
def test_results_agree_on_the_widest_vector_target(tmp_path):
    """The host build against the widest vector target the host runs (AVX-512 or
    AVX2 with FMA) other than its own tuning."""
    targets = _targets()
    if len(targets) < 3:
        pytest.skip("no wider vector target than the host's on this CPU")
    _compare(_run_all([None, targets[2]], tmp_path))
