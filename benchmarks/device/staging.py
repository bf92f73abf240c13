"""The machine, before meanfield is imported: the repository and ``.devrun`` on the paths,
``--prepare``'s staging of POT and Fashion-MNIST, and numba's kernels warmed in a child."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VALIDATION = ROOT / "validation"
#: What ``--prepare`` stages (git ignores it: /.devrun/ in .gitignore); carried to the device.
STAGE = ROOT / ".devrun"


def stage_environment():
    """Point this process (and its pytest child) at the repository and at ``.devrun``; keep
    POT, if a test imports it, from loading JAX, CuPy or TensorFlow (JAX would take most of
    the GPU's memory).  Returns notes for the report."""
    for key in ("JAX", "CUPY", "TENSORFLOW"):
        os.environ.setdefault(f"POT_BACKEND_DISABLE_{key}", "1")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    site = STAGE / "site"
    if site.is_dir():
        sys.path.append(str(site))  # after the image's own packages
    fm = STAGE / "fashion-mnist"
    if fm.is_dir() and not os.environ.get("MEANFIELD_FASHION_MNIST"):
        os.environ["MEANFIELD_FASHION_MNIST"] = str(fm)
    # no step imports POT (meanfield imports it only inside transport.wasserstein2 and the
    # radial PDE's w1); of the torch tests, the CLI couple test needs it (W2)
    spec = importlib.util.find_spec("ot")
    if spec is None or spec.origin is None:
        notes = {"pot": "POT is not installed: the torch tests' CLI couple test (W2 through "
                        "POT) fails; --prepare stages it"}
        staged = False
    else:
        where = Path(spec.origin).parent
        version = next((d.version for d in importlib.metadata.distributions(
            path=[str(where.parent)]) if (d.metadata["Name"] or "").lower() == "pot"), "?")
        notes = {"pot": f"POT {version} at {where} (not imported here; the torch tests' CLI "
                        "couple test uses it)"}
        staged = site.is_dir() and where.resolve().is_relative_to(site.resolve())
    # PYTHONPATH comes before the child's own packages: the staged POT goes there only when
    # it is the one this process finds (the image has none)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        + ([str(site)] if staged else []))
    return notes


def prepare(python_version="3.12"):
    """Stage POT (for the GPU image's Python) and Fashion-MNIST in .devrun/, ignored by git."""
    STAGE.mkdir(exist_ok=True)  # /.devrun/ is in .gitignore
    version = importlib.metadata.version("pot")
    site = STAGE / "site"
    shutil.rmtree(site, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--only-binary=:all:",
           "--target", str(site), "--python-version", python_version, "--implementation", "cp",
           *[a for p in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
                         "manylinux2014_x86_64") for a in ("--platform", p)],
           f"pot=={version}"]
    print("+", " ".join(cmd), flush=True)
    rc = subprocess.run(cmd).returncode
    if rc != 0:
        print(f"device_run --prepare: pip could not stage POT {version} (exit {rc})",
              file=sys.stderr)
        return rc
    # POT 0.9.7's wheel holds a 170 MB extension that is almost all symbols: stripped it is
    # 1 MB, and the staging fits the 64 MiB the device carries
    strip = shutil.which("strip")
    for so in site.rglob("*.so*"):
        if strip:
            subprocess.run([strip, "--strip-unneeded", str(so)], check=False)
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    from meanfield.tasks.datasets import FASHION_MNIST_DIR, IDX_FILES, find_idx

    src = Path(os.environ.get("MEANFIELD_FASHION_MNIST") or FASHION_MNIST_DIR)
    found = [find_idx(src, stem) for stem in IDX_FILES.values()]
    dst = STAGE / "fashion-mnist"
    if all(found):
        dst.mkdir(exist_ok=True)
        for f in found:
            shutil.copy2(f, dst / f.name)
        print(f"staged Fashion-MNIST from {src}")
    else:
        print(f"Fashion-MNIST is not in {src}: `apt-get install dataset-fashion-mnist` and run "
              "--prepare again, or the GPU run uses scikit-learn's digits")
    size = sum(f.stat().st_size for f in STAGE.rglob("*") if f.is_file()) / 2**20
    print(f"{STAGE}: {size:.1f} MiB (the device carries at most 64 MiB with the tree)")
    if size > 60:
        print("device_run --prepare: too large to carry (is `strip` installed?)",
              file=sys.stderr)
        return 1
    return 0


def warm_numba():
    """Compile (into numba's cache) the host kernels the steps and the torch tests call: on a
    fresh machine that is a minute or more, most of it the ramp's pair kernels.  Runs in a
    child process beside the first step; each piece is tried on its own."""
    import numpy as np

    from meanfield.activations import get_activation
    from meanfield.kernels.gaussian import bvn_upper, pair_sums, quadrature_nodes
    from meanfield.tasks import isotropic_gaussians, teacher_student

    quad = quadrature_nodes(48)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 4))
    jobs = [lambda p=p, q=q: pair_sums(*(x for a in (p, q) for x in (get_activation(a).kind,
                                                                     get_activation(a).p)),
                                       W, W, np.ones(3), quad, True)
            for p, q in (("relu", "relu"), ("ramp", "ramp"), ("relu", "ramp"), ("ramp", "relu"),
                         ("erf", "erf"))]
    jobs.append(lambda: bvn_upper(0.1, 0.2, 0.3))
    for act in ("relu", "ramp", "erf"):
        def task_job(act=act):
            task = isotropic_gaussians(4, 0.5, act)
            task.grad_psi(np.ones(3), W, np.ones(3), W)
            task.risk(np.ones(3), W)
            task.self_kernel(W)
        jobs.append(task_job)

    def pde_job():
        from meanfield.pde import radius_of_gaussian, solve_radial

        solve_radial(isotropic_gaussians(4, 0.5, "relu"), radius_of_gaussian(4, 0.8),
                     [0.0, 0.02], M=20, h=0.02)
    jobs.append(pde_job)
    for act in ("relu", "erf"):
        def sgd_job(act=act):
            from meanfield.twolayer import run_sgd

            task = teacher_student(4, act, width=2)
            run_sgd((np.ones(3), W), task, 0.1, [0.0, 0.2], rng=0, progress=False)
        jobs.append(sgd_job)
    failed = 0
    for job in jobs:
        try:
            job()
        except Exception:  # noqa: BLE001 - the step that needs it will say what is wrong
            failed += 1
    return failed


def validation_script(name):
    """``validation/<name>.py`` as a module (its folder on ``sys.path`` while it loads: a
    script may import a sibling)."""
    sys.path.insert(0, str(VALIDATION))
    try:
        spec = importlib.util.spec_from_file_location(f"validation_{name}",
                                                      VALIDATION / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(VALIDATION))
    return module
