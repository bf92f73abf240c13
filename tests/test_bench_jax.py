"""The JAX columns of the benchmarks (the optional ``bench`` extra): each JAX function
computes what the package computes, at small sizes; and the package itself never
imports jax (so the suite and the package stay usable without it)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def _python(code):
    """Run ``code`` in a fresh interpreter from the repository root."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_meanfield_imports_no_jax():
    """Every module of the package imports without loading jax (POT, for one, loads
    its JAX backend when jax is importable: the package imports POT only inside
    functions)."""
    code = ("import pkgutil, importlib, sys, meanfield\n"
            "for m in pkgutil.walk_packages(meanfield.__path__, 'meanfield.'):\n"
            "    if m.name != 'meanfield.__main__':\n"
            "        importlib.import_module(m.name)\n"
            "bad = sorted(k for k in sys.modules if k == 'jax' or k.startswith('jax.'))\n"
            "print(len(sys.modules), bad)\n"
            "sys.exit(1 if bad else 0)\n")
    proc = _python(code)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert int(proc.stdout.split()[0]) > 100  # the walk did import the package


def _bench(name):
    """benchmarks/<name>.py as a module (it puts benchmarks/ on sys.path for _timing)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def jax():
    pytest.importorskip("jax", reason="jax not installed: pip install -e .[bench]")
    sys.path.insert(0, str(BENCH))
    try:
        from _timing import import_jax
    finally:
        sys.path.remove(str(BENCH))
    return import_jax()  # float64


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_sgd_jax_loop_equals_kernel(jax, act):
    """bench_sgd's lax.scan and the numba kernel: the same 400 steps of eq. (3.3),
    final weights equal to 1e-12 relative, after moving by far more than that."""
    from meanfield.kernels import sgd as k_sgd
    from meanfield.tasks import teacher_student
    from meanfield.twolayer import InitialLaw

    b = _bench("bench_sgd")
    N, d, steps = 100, 100, 400
    rng = np.random.default_rng(3)
    task = teacher_student(d, act, width=4)
    a0, W0 = InitialLaw().sample(N, d, rng)
    X, Y = task.sample(steps, rng)
    alpha = 1.0 / N
    a, W = a0.copy(), W0.copy()
    kind = task.activation.kind
    k_sgd.choose(N, d, 1, 0.0, kind)(a, W, X, Y, np.full(steps, alpha), 1, kind,
                                     task.activation.p, True, 0.0, rng)
    aj, Wj = b.jax_loop(jax, N, alpha, act)(a0, W0, X, Y)
    assert b.rel_diff(a, a0) > 1e-3 and b.rel_diff(W, W0) > 1e-4
    assert b.rel_diff(aj, a) <= 1e-12 and b.rel_diff(Wj, W) <= 1e-12
    # and the comparison sees a change of one step size in 1e4
    aj2, _ = b.jax_loop(jax, N, alpha * (1 + 1e-4), act)(a0, W0, X, Y)
    assert b.rel_diff(aj2, a) > 1e-8


def test_limit_jax_euler_equals_particle_limit(jax):
    """bench_limit's ReLU arc-cosine Euler step (rows in blocks) and ParticleLimit's."""
    from meanfield.tasks import teacher_student
    from meanfield.twolayer import InitialLaw, ParticleLimit

    b = _bench("bench_limit")
    M, d, h = 1200, 20, 0.05  # two blocks of 600 rows
    task = teacher_student(d, "relu", width=4)
    a, W = InitialLaw().sample(M, d, np.random.default_rng(1))
    lim = ParticleLimit(task, a, W, h=h, method="euler")
    lim.plan(h)
    lim.advance(1)
    A1, W1 = lim.current()
    Aj, Wj = b.jax_euler(jax, task, M, h)(a, W)
    assert b.rel_diff(W1, W) > 1e-4
    assert b.rel_diff(Aj, A1) <= 1e-12 and b.rel_diff(Wj, W1) <= 1e-12


def test_multilayer_jax_loop_equals_kernel(jax):
    """bench_multilayer's jax.grad loop and the numba multilayer loop, 30 steps."""
    from meanfield.kernels.multilayer import multilayer_sgd
    from meanfield.multilayer import init_net
    from meanfield.tasks import teacher_student

    b = _bench("bench_multilayer")
    N, d, L, steps = 60, 10, 3, 30
    rng = np.random.default_rng(2)
    task = teacher_student(d, "tanh", width=2)
    net = init_net(d, N, L, activation="sigmoid", rng=rng)
    X, y = task.sample(steps, rng)
    s = np.full(steps, 0.5 / N)
    Wm0 = np.stack(net.weights[1:-1])
    Wm = Wm0.copy()
    multilayer_sgd(net.weights[0], Wm, net.weights[-1], X.reshape(steps, 1, d),
                   y.reshape(steps, 1, 1), s, net.act.kind, net.act.p)
    Wj = b.jax_loop(jax, net.weights[0], net.weights[-1], N)(Wm0, X, y.reshape(steps, 1), s)
    assert b.rel_diff(Wm, Wm0) > 1e-4
    assert b.rel_diff(Wj, Wm) <= 1e-12


def test_data_limit_jax_euler_equals_particle_limit(jax):
    """bench_data_limit's JAX step (rows zero-padded to whole blocks) and ParticleLimit's
    on an empirical law, and both equal to the plain numpy step."""
    from meanfield.tasks import EmpiricalTask
    from meanfield.twolayer import InitialLaw, ParticleLimit

    b = _bench("bench_data_limit")
    n, d, M, h = 501, 12, 40, 0.1
    rng = np.random.default_rng(4)
    X = rng.standard_normal((n, d))
    task = EmpiricalTask(X, np.sign(X[:, 0]), "erf")
    A, W = InitialLaw().sample(M, d, rng)
    ours = ParticleLimit(task, A, W, h=h, method="euler").step(0.0, h, False)
    ref = b.numpy_euler(task, A, W, h)
    assert b.rel_diff(ours[1], W) > 1e-4
    for block in (n, 100):  # one block; five blocks and 99 rows of padding
        Aj, Wj = b.jax_euler(jax, task, h, block)(A, W)
        assert b.rel_diff(Aj, ours[0]) <= 1e-12 and b.rel_diff(Wj, ours[1]) <= 1e-12
        assert b.rel_diff(Aj, ref[0]) <= 1e-12 and b.rel_diff(Wj, ref[1]) <= 1e-12


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_getaffinity"),
                    reason="CPU affinity is Linux-only")
def test_one_thread_comparison_pins_the_process_to_one_cpu():
    """With one thread, the benchmarks' JAX column runs on one CPU like numba: XLA's
    runtime otherwise spreads its fusions over every core (2.3-2.6 CPU s per 1.2 s wall
    at N = 10000 on 2 cores). Threads started before and after the call are pinned."""
    code = ("import os, sys, threading\n"
            f"sys.path.insert(0, {str(BENCH)!r})\n"
            "from _timing import import_jax\n"
            "ev = threading.Event()\n"
            "t = threading.Thread(target=ev.wait); t.start()\n"
            "before = os.sched_getaffinity(0)\n"
            "import_jax(1)\n"
            "late = []\n"
            "u = threading.Thread(target=lambda: late.append(os.sched_getaffinity(0)))\n"
            "u.start(); u.join()\n"
            "tasks = [os.sched_getaffinity(int(x)) for x in os.listdir('/proc/self/task')]\n"
            "ev.set(); t.join()\n"
            "print(len(before), sorted({len(a) for a in tasks}), len(late[0]))\n")
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # every thread (the one started before the call included) and a later one: one CPU
    assert proc.stdout.split(" ", 1)[1].strip() == "[1] 1", proc.stdout
