"""benchmarks/device_run.py (the GPU slot's one command) at --tiny sizes on the CPU, and the
torch backend's training and evaluation loops on a device that is not the host."""

import ast
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed: pip install torch==2.13.0 "
                                            "(CPU wheel) or pip install 'meanfield[torch]'")

from torch.overrides import TorchFunctionMode  # noqa: E402

from meanfield.torch import (DataStream, FullyConnectedNet, TrainConfig, evaluate,  # noqa: E402
                             random_half_masks, train)
from meanfield.torch.dropout import _pattern_batches  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STEPS = ["torch_tests", "two_layer", "three_layer", "pair_sums", "data_limit", "agreement",
         "particle_vs_pde"]


def _numbers(x, path=""):
    """Every number in a JSON tree, with its path."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield path, x
    elif isinstance(x, str) and x in ("nan", "inf", "-inf"):  # how the report writes them
        yield path, float(x)


@pytest.mark.slow  # 42 s on a fresh clone: the device script's every step, end to end
def test_tiny_run_reports_every_step_with_finite_figures(tmp_path):
    out = tmp_path / "dr"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device_run.py"), "--tiny",
                           "--out", str(out), "--budget", "240"],  # 40 s with numba's cache
                          cwd=ROOT, capture_output=True, text=True, timeout=400)
    wall = time.perf_counter() - t
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rep = json.loads((out / "device_run.json").read_text())
    assert rep["meta"]["device"] == "cpu" and rep["meta"]["tiny"] is True
    assert rep["meta"]["torch"] == torch.__version__
    assert list(rep["steps"]) == STEPS
    for name, step in rep["steps"].items():
        assert step["status"] in ("ok", "stopped"), (name, step["error"], step["stopped"])
        assert step["seconds"] > 0 and step["error"] is None
        bad = [(p, v) for p, v in _numbers(step["figures"]) if not math.isfinite(v)]
        assert not bad, (name, bad)
    s = {name: step["figures"] for name, step in rep["steps"].items()}
    assert s["torch_tests"]["passed"] > 0 and s["torch_tests"]["failed"] == 0
    for name in ("two_layer", "three_layer"):
        f = s[name]
        assert f["train_steps"] > 0 and f["train_examples_per_s"] > 0
        assert f["eval_examples_per_s"] > 0 and f["eval_patterns"] == 202
        assert 0 <= f["test_error_full"] <= 1
    assert s["two_layer"]["paper_dropout_change_percent"] == 0.35
    for key in ("relu_M200", "relu_M500", "ramp_M200", "ramp_M500"):
        assert s["pair_sums"][key]["ns_per_pair"] > 0
    assert s["agreement"]["passed"] is True and s["agreement"]["max_relative"] < 1e-10
    f = s["particle_vs_pde"]
    assert len(f["relative_difference"]) == len(f["times"]) >= 2
    assert f["max_relative_difference"] < 0.02  # M = 400 particles; the PDE is the law's
    md = (out / "device_run.md").read_text()
    assert "+0.35%" in md and "| agreement | ok |" in md
    # the run's own clock agrees with ours (the report is written at the end)
    assert rep["wall_seconds"] <= wall


@pytest.mark.slow  # about 50 s: numba's host step and torch's first use
def test_data_limit_step_on_the_cpu_device(monkeypatch):
    """The device script's data-law limit step (issue 31's GPU figure), run alone at tiny
    sizes on the CPU device on digits: an Euler step and the three products timed at each
    M, and the device step equal to the host's numba step (below 1e-10 relative)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from device.steps import Context, run_steps

    ctx = Context(torch.device("cpu"), True, "digits")
    out = run_steps(ctx, ["data_limit"], budget=120.0, t_start=time.perf_counter())
    assert out["data_limit"]["status"] == "ok", out["data_limit"]["error"]
    res = out["data_limit"]["figures"]
    assert res["data"] == "digits:0,1 (as asked)"
    for M in (50, 200):
        row = res[f"M{M}"]
        assert row["step_seconds"] > 0 and row["three_products_seconds"] > 0
        assert row["n"] == 274 and row["d"] == 64  # digits 0 and 1, the training part
    assert res["M50"]["agrees"] and res["M50"]["agreement"] < 1e-10


def test_device_run_imports_no_private_name_of_meanfield():
    """device_run.py and its parts (benchmarks/device/) import no private name of meanfield
    (``from meanfield.x import _y``, ``import meanfield._x``)."""
    files = [ROOT / "benchmarks" / "device_run.py",
             *sorted((ROOT / "benchmarks" / "device").glob("*.py"))]
    assert len(files) >= 4
    private = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("meanfield"):
                mods, names = node.module.split("."), [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                mods = [m for a in node.names if a.name.startswith("meanfield")
                        for m in a.name.split(".")]
                names = []
            else:
                continue
            private += [f"{f.name}: {n}" for n in mods + names if n.startswith("_")]
    assert not private, private


class FakeDevice(TorchFunctionMode):
    """Torch code on the ``meta`` device as if it were a GPU: a tensor the code makes on the
    host and mixes with the device's fails as it would on a GPU; values read back to the host
    (``float``, ``bool``, ``.item()``, ``.cpu()``) are made up and counted, and so are copies
    from the host to the device."""

    READS = {"__float__": 0.5, "item": 0.5, "__bool__": True, "__int__": 1, "__index__": 1}
    COPIES = ("to", "copy_", "as_tensor", "tensor", "asarray", "from_numpy", "cuda")

    def __init__(self):
        super().__init__()
        self.reads, self.copies = [], []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        first = args[0] if args else kwargs.get("data")
        on_dev = torch.is_tensor(first) and first.device.type == "meta"
        if on_dev and name in self.READS:
            self.reads.append(name)
            return self.READS[name]
        if on_dev and (name in ("cpu", "numpy", "tolist")
                       or (name == "to" and "cpu" in map(str, list(args[1:]) + [
                           kwargs.get("device")]))):
            self.reads.append(name)
            return torch.zeros(first.shape, dtype=first.dtype)
        out = func(*args, **kwargs)
        if torch.is_tensor(out) and out.device.type == "meta":
            src = args[1] if name == "copy_" else first
            if name in self.COPIES and not (torch.is_tensor(src) and src.device.type == "meta"):
                self.copies.append(name)  # host data onto the device
        return out


def _data(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, 3, n)  # float64, as numpy gives


@pytest.mark.parametrize("depth", [2, 3])
def test_training_steps_neither_copy_from_nor_wait_for_the_host(depth):
    """On a device other than the host, a float32 net trained from float64 host data: the
    stream moves once (then once per epoch, its permutation), the steps read nothing back
    until the loss check, and weights, gradients, outputs and the stream are float32 on the
    device.  Doubling the steps adds no reads and only the new epochs' copies."""
    X, y = _data()
    counts = []
    for steps in (60, 120):  # 2 and 4 epochs of 30 batches
        net = FullyConnectedNet(5, 8, 3, depth=depth, device="meta", dtype=torch.float32)
        stream = DataStream(X, y, 10, seed=0)  # on the host: train moves it
        mode = FakeDevice()
        with mode:
            train(net, stream, TrainConfig(alpha=0.1, steps=steps, check_every=1000),
                  progress=False)
            out = net(X[:7])
        counts.append((len(mode.reads), len(mode.copies)))
        assert stream.X.device.type == "meta" and stream.X.dtype == torch.float32
        assert stream.y.device.type == "meta" and stream.y.dtype == torch.int64
        for w in net.weights:
            assert (w.device.type, w.dtype) == ("meta", torch.float32)
            assert (w.grad.device.type, w.grad.dtype) == ("meta", torch.float32)
        assert (out.device.type, out.dtype) == ("meta", torch.float32)
    (r60, c60), (r120, c120) = counts
    # reads: the finiteness checks of the two snapshots and the last loss, whatever the steps
    assert r60 == r120 == 2 * depth + 1, counts
    # copies: X and y once, each epoch's order (2 epochs, then 4), the 7 inputs of `out`
    assert c60 == 2 + 2 + 1 and c120 == c60 + 2, counts


@pytest.mark.parametrize("depth", [2, 3])
def test_batched_dropout_evaluation_copies_the_masks_once(depth):
    """evaluate() with 6 host masks over 43 batches: X, y and the masks reach the device
    once, and only the two totals come back; the outputs of each batch are the net's dtype
    on the device."""
    X, y = _data()
    net = FullyConnectedNet(5, 8, 3, depth=depth, device="meta", dtype=torch.float32)
    masks = random_half_masks(net, 6, seed=1)
    mode = FakeDevice()
    with mode:
        res = evaluate(net, X, y, masks=masks, batch_size=7, max_elements=60)
        m, _ = net._masks(masks)
        outs = [o for _, _, o in _pattern_batches(net, torch.as_tensor(X, device="meta",
                                                                       dtype=net.dtype),
                                                  m, 7, 60)]
    assert res["loss"].shape == (6,)
    assert len(mode.reads) == 2  # the loss and error totals, at the end
    assert len(mode.copies) == 3 + 2, mode.copies  # X, y, masks; then the masks and X above
    assert len(outs) >= 43 and all((o.device.type, o.dtype) == ("meta", torch.float32)
                                   for o in outs)


PAPER_CELLS = {"path": 1, "layers": 2, "fig4": 12, "sqrt_n": 4}  # at --tiny sizes


def _paper(out, parts, clock=None, deadline=float("inf"), resume=None):
    """One call of the --paper mode, in this process, at tiny sizes; its report."""
    from device.paper import PaperContext, resume_from, run_paper

    if resume is not None:
        resume_from(resume, out)
    ctx = PaperContext(out, torch.device("cpu"), True, deadline, verbose=False)
    if clock is not None:
        ctx.cells.clock = clock
    return run_paper(ctx, parts, {"device": "cpu", "budget_seconds": deadline})


def _claims(report):
    return {(c["id"], c.get("case")): (c["value"], c["pass"])
            for p in report["parts"].values() for c in p["claims"]}


def test_paper_mode_resumes_from_the_store_where_a_call_stopped(monkeypatch, tmp_path):
    """``device_run.py --paper`` at tiny sizes (issue 30's GPU mode): a call whose budget
    runs out after 5 cells stores them and reports the parts it could not finish without
    rows; the next call, given that store, reads those 5, runs the other 14, and its rows
    equal an uninterrupted call's, number for number; a cell that was cut off with as much
    time as is left is not started again."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    parts = list(PAPER_CELLS)
    ran = [0]

    def clock():  # the budget is 5 cells: "seconds" are cells run so far
        return ran[0]

    from device import paper

    real_call = paper.StoredCells.__call__

    def counting(self, settings):
        before = self.ran
        out = real_call(self, settings)
        ran[0] += self.ran - before
        return out

    monkeypatch.setattr(paper.StoredCells, "__call__", counting)
    first = _paper(tmp_path / "a", parts, clock, deadline=5)
    status = {k: (p["status"], p["cells_run"]) for k, p in first["parts"].items()}
    assert status == {"path": ("complete", 1), "layers": ("complete", 2),
                      "fig4": ("unfinished", 2), "sqrt_n": ("unfinished", 0)}
    assert not first["parts"]["fig4"]["claims"] and first["parts"]["path"]["claims"]
    assert "| fig4 | unfinished | 2 / 0 | - |" in (tmp_path / "a" / "paper.md").read_text()

    second = _paper(tmp_path / "b", parts, resume=tmp_path / "a" / "store")
    assert {k: (p["cells_run"], p["cells_read"]) for k, p in second["parts"].items()} == {
        "path": (0, 1), "layers": (0, 2), "fig4": (10, 2), "sqrt_n": (4, 0)}
    assert all(p["status"] == "complete" for p in second["parts"].values())
    whole = _paper(tmp_path / "c", parts)
    assert {k: p["cells_run"] for k, p in whole["parts"].items()} == PAPER_CELLS
    assert _claims(second) == _claims(whole)
    ids = {k[0] for k in _claims(whole)}
    assert {"empirical_path/a", "deep_connectivity/layers", "empirical_depth/a[depth=4]",
            "deep_connectivity/sqrt-n"} <= ids
    fig4 = [c for c in second["parts"]["fig4"]["claims"] if c["id"].startswith("empirical_depth/a")]
    assert len(fig4) == 3 and all(c["controls"] for c in fig4)

    # every cell returned: none is left in the record of attempts
    assert json.loads((tmp_path / "a" / "store" / "attempts.json").read_text()) == {}
    # a cell cut off (its attempt left on record) with 100 "seconds" of budget is not
    # started again with up to 1.2 x 100 left; with more it is
    path_cell = next(f.name for f in (tmp_path / "a" / "store").iterdir()
                     if f.is_dir() and '"empirical_path"' in (f / "sweep.json").read_text())
    for left, status, runs in ((120.0, "needs a longer call", 0), (121.0, "complete", 1)):
        store = tmp_path / f"d{left}" / "store"
        store.mkdir(parents=True)
        (store / "attempts.json").write_text(json.dumps({path_cell: 100.0}))
        again = _paper(tmp_path / f"d{left}", ["path"], lambda: 0.0, deadline=left)
        p = again["parts"]["path"]
        assert (p["status"], p["cells_run"]) == (status, runs), p
        if runs == 0:
            assert path_cell in p["error"] and not p["claims"]
        else:
            assert p["claims"] and p["error"] is None


def test_paper_mode_never_reports_an_earlier_kuditipudi_run(monkeypatch, tmp_path):
    """The kuditipudi part runs the script in a child; a child that dies without writing its
    rows is an error, whatever an earlier run left in validation/out."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from device import paper

    fake = tmp_path / "validation"
    (fake / "out").mkdir(parents=True)
    (fake / "kuditipudi.py").write_text("import sys\nsys.exit(1)\n")
    stale = fake / "out" / "kuditipudi_quick.json"
    stale.write_text(json.dumps({"claims": [{"id": "kuditipudi/lemma3", "value": 0.1,
                                             "pass": True}]}))
    monkeypatch.setattr(paper, "VALIDATION", fake)
    rep = _paper(tmp_path / "o", ["kuditipudi"])["parts"]["kuditipudi"]
    assert rep["status"] == "error" and "exited 1" in rep["error"] and not rep["claims"]
    assert not stale.exists()


def _device_run(*args, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device_run.py"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args, says", [
    (["--parts", "path"], "--parts and --resume go with --paper"),
    (["--paper", "--steps", "agreement"], "--steps and --dataset do not go with --paper"),
    (["--paper", "--tiny", "--parts", "path,fig5"], "unknown part(s) fig5; parts are path"),
    (["--paper", "--tiny", "--resume", "/nonexistent/store"],
     "--resume /nonexistent/store: no such folder"),
    (["--paper", "--tiny", "--resume", "benchmarks"], "no stored cells there"),
    (["--paper", "--tiny", "--budget", "0"], "--budget must be > 0"),
])
def test_paper_mode_refuses_bad_arguments_with_exit_2(tmp_path, args, says):
    proc = _device_run(*args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "o" / "store").exists()


@pytest.mark.slow  # 30 s: kuditipudi.py --quick in a child
def test_paper_mode_from_the_command_line_runs_kuditipudi_and_writes_its_rows(tmp_path):
    out = tmp_path / "paper"
    proc = _device_run("--paper", "--tiny", "--parts", "path,kuditipudi", "--out", str(out),
                       timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rep = json.loads((out / "paper.json").read_text())
    assert [k for k in rep["parts"]] == ["path", "kuditipudi"]
    kud = {c["id"]: c for c in rep["parts"]["kuditipudi"]["claims"]}
    judged = [c for c in kud.values() if c["judged"] and not c["check"] and c["controls"]]
    assert len(judged) >= 3 and all(not k["pass"] for c in judged for k in c["controls"])
    assert (out / "kuditipudi.json").exists() and "all parts complete" in proc.stdout
    assert rep["parts"]["path"]["commits"] and rep["meta"]["budget_seconds"] == 300
    md = (out / "paper.md").read_text()
    assert "| kuditipudi | complete | 0 / 0 | `kuditipudi/lemma3` |" in md
