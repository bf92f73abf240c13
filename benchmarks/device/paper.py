"""``device_run.py --paper``: the papers' experiments of issue #30 at the papers' sizes, on a GPU.

Each part is the validation script's own code (its cell loop and its claim rows), handed a
cell function that keeps every cell in a results folder of its own under ``<out>/store``
(a one-cell sweep of :func:`meanfield.experiments.run_sweep`, named by the cell's id).  A
call stops starting cells when its budget is spent; the folder comes back with ``$OUT``,
and the next call, given it back (``--resume``), reads every finished cell and goes on
from the first missing one.  A part's rows are computed only once all its cells are
stored: a fit over a part of a pre-set design is never reported.

Parts, cheapest first (the paper's sizes where a cell fits one call of a lent machine,
about 8 minutes; where it does not, the knob that was cut is named):

``path``
    Shevchenko & Mondelli, Theorem 1(B) and Fig. 3: validation/empirical_path.py at
    N = 3200 (the paper's), 5 pairs, 10 epochs (the CPU report: 2 pairs, 1 epoch).
``layers``
    Nguyen, Bréchet & Mondelli, Fig. 3 a-c: validation/deep_connectivity.py's
    ``layers_part`` at L = 11, width 245, 10 nets, all 60000 images (the paper's); 10
    epochs and 2 subsets per layer for Experiment A (the paper: 20 and 20, about 40
    minutes a net on one GPU: more than a call).
``fig4``
    Shevchenko & Mondelli, Fig. 4: validation/empirical_depth.py, depths 2, 3 and 4,
    N = 100 ... 12800 (the paper's largest), 3 seeds, Section 5's schedule (alpha = 20 /
    N for 0.01 N epochs: 128 epochs at N = 12800).
``sqrt_n``
    Nguyen, Bréchet & Mondelli, Corollary 4.3: ``sqrt_n_part`` with N = 1000 ... 16000
    training images, widths 16 ... 1024 (factor sqrt 2), 3 seeds, 40 epochs; 5 subsets
    per layer (the paper's 20 would make this part about 4 GPU hours).
``kuditipudi``
    Kuditipudi et al.: validation/kuditipudi.py ``--full`` in a child process.  The
    script is not made of cells, so it does not resume: it runs when at least
    :data:`KUDITIPUDI_MIN_S` of the budget is left, and a run cut short says so.

A cell that a call could not finish although it was started with at least as much time
as is left now is not started again (it would be cut again): the part says which cell
needs a longer call.  ``--tiny`` runs the same parts at small sizes on the CPU
(scikit-learn's digits; kuditipudi's ``--quick``), as the test suite does.

Writes ``paper.json`` and ``paper.md`` to ``--out`` after every part, the parts' tables
and figures beside them, and the store under ``<out>/store``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from .staging import ROOT

VALIDATION = ROOT / "validation"

#: The parts in the order they run.
PARTS = ("path", "layers", "fig4", "sqrt_n", "kuditipudi")

#: The whole-script part starts only with this much of the budget left (seconds; tiny: 0).
KUDITIPUDI_MIN_S = 300.0

#: The parts' sizes.  ``paper``: the papers' sizes where a cell fits a call (the module's
#: docstring names what was cut and why); ``layers`` and ``sqrt_n`` change only the named
#: knobs of deep_connectivity.py's ``FIG3_SIZES["paper"]`` (the paper's own sizes).
#: ``tiny``: seconds on a CPU, for the test suite.
SIZES = {
    "paper": {
        "path": dict(N=3200, pairs=5, epochs=10.0, alpha=0.2),
        "layers": dict(epochs=10.0, draws_a=2, draws_b=50),
        "fig4": dict(Ns=(100, 200, 400, 800, 1600, 3200, 6400, 12800), seeds=3,
                     alpha0=20.0, k0=0.01),
        "sqrt_n": dict(draws_a=5),
    },
    "tiny": {
        "path": dict(N=16, pairs=1, epochs=2.0, alpha=0.5),
        "layers": dict(depth=4, N=16, nets=2, n_train=300, epochs=2.0, draws_a=1, draws_b=3),
        "fig4": dict(Ns=(25, 50), seeds=2, alpha=0.5, epochs=2.0),
        "sqrt_n": dict(n_train=(150, 300), widths=(8, 16, 32), seeds=(0,), epochs=2.0,
                       draws_a=1),
    },
}


def part_size(name, tiny):
    """The sizes part ``name`` runs at (``{}`` for kuditipudi: its script's mode)."""
    size = dict(SIZES["tiny" if tiny else "paper"].get(name, {}))
    if name in ("layers", "sqrt_n") and not tiny:
        size = {**validation_script("deep_connectivity").FIG3_SIZES["paper"][name], **size}
    return size


class OutOfBudget(Exception):
    """The call's budget is spent: no further cell is started."""


class CellTooLong(Exception):
    """A cell was cut off before with at least as much time as is left now."""


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


class StoredCells:
    """A cell function for the validation scripts' loops: each torch cell (a settings
    dataclass of :mod:`meanfield.torch.settings`) is read from its results folder under
    ``root`` when stored there, else run into it (when the budget allows) and read back.

    ``attempts.json`` in ``root`` records, per cell started, the most seconds of budget it
    was started with: a cell started again with no more than that raises
    :class:`CellTooLong` instead of running.
    """

    def __init__(self, root, deadline, clock=time.perf_counter):
        self.root, self.deadline, self.clock = Path(root), deadline, clock
        self.root.mkdir(parents=True, exist_ok=True)
        self.ran = self.loaded = 0

    def _attempts(self):
        path = self.root / "attempts.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def __call__(self, settings):
        from meanfield.experiments import ResultStore, SweepConfig, cell_id, get_experiment
        from meanfield.experiments.store import ONE_TABLE
        from meanfield.torch.settings import SETTINGS

        name = next(k for k, cls in SETTINGS.items() if type(settings) is cls)
        cfg = {k: getattr(settings, k) for k in get_experiment(name).options}
        sweep = SweepConfig(name, fixed=cfg)
        cid = cell_id(name, sweep.cells()[0])
        folder = self.root / cid
        store = ResultStore(folder)
        if (folder / "sweep.json").exists() and store.finished(sweep):
            self.loaded += 1
        else:
            from meanfield.experiments import run_sweep

            left = self.deadline - self.clock()
            if left <= 0:
                raise OutOfBudget()
            attempts = self._attempts()
            if attempts.get(cid, -1.0) >= left:
                raise CellTooLong(f"cell {cid} ({name}) was cut off when started with "
                                  f"{attempts[cid]:.0f} s left; it needs a longer call")
            attempts[cid] = max(left, attempts.get(cid, 0.0))
            (self.root / "attempts.json").write_text(json.dumps(attempts, indent=1))
            report = run_sweep(sweep, folder, workers=1, progress=False)
            if report.interrupted:
                raise KeyboardInterrupt
            if report.failed:
                raise RuntimeError(f"cell {cid} ({name}) failed: "
                                   f"{store.failures()['error'].iloc[0]}")
            self.ran += 1
        tables = store.load_tables(sweep)
        return tables[ONE_TABLE] if set(tables) == {ONE_TABLE} else tables


def _path(ctx, size):
    from meanfield.plotting import path_error_figure, save_figure
    from meanfield.torch.settings import PathSettings

    ep = validation_script("empirical_path")
    base = PathSettings(dataset=ctx.dataset, N=size["N"], alpha=size["alpha"],
                        epochs=size["epochs"], device=ctx.device, kept_sizes=(ep.KEPT_CONTROL,),
                        duration2=ep.DURATION2)
    paths, hists = ep.run_pairs(base, size["pairs"], ctx.log, cell=ctx.cells)
    paths.to_csv(ctx.out / "path.csv", index=False)
    first = paths[(paths["seed"] == 0) & (paths["path"].isin(["dropout", "straight"]))]
    save_figure(path_error_figure(first, hists[0]), ctx.out / "path_fig3")
    summary = ep.path_summary(paths).assign(N=base.N)
    return ep.path_claims(summary, str(ctx.out / "path_fig3.png"), ctx.task)


def _deep_base(ctx):
    from meanfield.torch.settings import DeepSettings

    dc = validation_script("deep_connectivity")
    common = dc.settings(False, True)[3]  # the --full mode's shared values (all images)
    common.update(dataset=ctx.dataset, device=ctx.device)
    return dc, DeepSettings(**common, b_plain=True)


def _layers(ctx, size):
    dc, base = _deep_base(ctx)
    row, _ = dc.layers_part(base, size, ctx.out, "paper", not ctx.verbose, cell=ctx.cells)
    return [row]


def _sqrt_n(ctx, size):
    dc, base = _deep_base(ctx)
    row, _ = dc.sqrt_n_part(base, size, ctx.out, "paper", not ctx.verbose, cell=ctx.cells)
    return [row]


def _fig4(ctx, size):
    from meanfield.plotting import error_change_vs_n, save_figure
    from meanfield.torch.settings import EmpiricalSettings

    ed = validation_script("empirical_depth")
    base = EmpiricalSettings(dataset=ctx.dataset, device=ctx.device, snapshots=(1.0,),
                             random_halves=0, kept=ed.KEPT)
    if "alpha0" in size:
        base = replace(base, regime="paper", alpha0=size["alpha0"], k0=size["k0"])
        setting = {"assumptions": f"setting: Section 5's schedule, alpha = {size['alpha0']:g}"
                                  f" / N for {size['k0']:g} N epochs"}
    else:
        base = replace(base, alpha=size["alpha"], epochs=size["epochs"])
        setting = {}
    table = ed.run_depths(base, ed.DEPTHS, list(size["Ns"]), range(size["seeds"]), ctx.log,
                          cell=ctx.cells).assign(kept=ed.KEPT)
    table.to_csv(ctx.out / "fig4.csv", index=False)
    save_figure(error_change_vs_n(table), ctx.out / "fig4_error_change")
    return ed.depth_claims(table, str(ctx.out / "fig4_error_change.png"), setting, ctx.task)[0]


def _kuditipudi(ctx, size):
    left = ctx.deadline - time.perf_counter()
    if left < (0.0 if ctx.tiny else KUDITIPUDI_MIN_S):
        raise OutOfBudget()
    cmd = [sys.executable, str(VALIDATION / "kuditipudi.py"),
           "--quick" if ctx.tiny else "--full", "--device", ctx.device, "--quiet"]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=left)
    except subprocess.TimeoutExpired as exc:
        raise OutOfBudget() from exc
    stem = "kuditipudi_quick" if ctx.tiny else "kuditipudi_full"
    result = VALIDATION / "out" / f"{stem}.json"
    if proc.returncode not in (0, 1) or not result.exists():
        raise RuntimeError(f"kuditipudi.py exited {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout)[-500:]}")
    shutil.copy(result, ctx.out / "kuditipudi.json")
    return json.loads(result.read_text())["claims"]


RUN = {"path": _path, "layers": _layers, "fig4": _fig4, "sqrt_n": _sqrt_n,
       "kuditipudi": _kuditipudi}


class PaperContext:
    """What every part reads: the device, the data set, the cell store and the deadline."""

    def __init__(self, out, device, tiny, deadline, verbose=True):
        self.out, self.device, self.tiny = Path(out), str(device), tiny
        self.dataset = "digits" if tiny else "fashion-mnist"
        self.task = "scikit-learn digits" if tiny else "Fashion-MNIST"
        self.deadline, self.verbose = deadline, verbose
        self.cells = StoredCells(self.out / "store", deadline)
        self.log = (lambda m: print(m, flush=True)) if verbose else None


def resume_from(store, out):
    """Copy the cells of an earlier call's store (``store``) into ``<out>/store``: the
    finished cells' folders and the record of attempts; a folder already there is kept."""
    src, dst = Path(store), Path(out) / "store"
    if not src.is_dir():
        raise FileNotFoundError(f"--resume {store}: no such folder")
    if src.resolve() == dst.resolve():
        return 0
    dst.mkdir(parents=True, exist_ok=True)
    copied = 0
    for item in src.iterdir():
        target = dst / item.name
        if item.is_dir() and not target.exists():
            shutil.copytree(item, target)
            copied += 1
        elif item.name == "attempts.json" and not target.exists():
            shutil.copy(item, target)
    return copied


def run_paper(ctx, parts, meta):
    """Run ``parts`` in order; after each, write ``paper.json`` and ``paper.md``.  Returns
    the report."""
    report = {"meta": meta, "parts": {}}
    for name in parts:
        t0 = time.perf_counter()
        ran0, loaded0 = ctx.cells.ran, ctx.cells.loaded
        size = part_size(name, ctx.tiny)
        entry = {"status": "complete", "claims": [], "error": None,
                 "size": {k: list(v) if isinstance(v, tuple) else v for k, v in size.items()}}
        try:
            entry["claims"] = RUN[name](ctx, size)
        except OutOfBudget:
            entry["status"] = "unfinished"
        except CellTooLong as exc:
            entry["status"], entry["error"] = "needs a longer call", str(exc)
        except Exception as exc:  # noqa: BLE001 - one part's failure is reported, the rest run
            entry["status"], entry["error"] = "error", f"{type(exc).__name__}: {exc}"
        entry["cells_run"] = ctx.cells.ran - ran0
        entry["cells_read"] = ctx.cells.loaded - loaded0
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        report["parts"][name] = entry
        write_paper_report(ctx.out, report)
        if ctx.log:
            ctx.log(f"part {name}: {entry['status']} ({entry['cells_run']} cells run, "
                    f"{entry['cells_read']} read, {entry['seconds']:.0f} s)")
    return report


def _verdict(passed):
    return "reported" if passed is None else "PASS" if passed else "FAIL"


def write_paper_report(out, report):
    """``paper.json`` and ``paper.md`` (a row per claim, its controls' verdicts beside it)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "paper.json").write_text(json.dumps(report, indent=2, default=_plain))
    lines = ["# The papers' experiments on the device (`device_run.py --paper`)", "",
             f"Device: {report['meta'].get('device')}; budget "
             f"{report['meta'].get('budget_seconds')} s. Rows are computed only for a part "
             "whose cells are all stored.", "",
             "| part | status | cells run / read | row | value | verdict | controls |",
             "|---|---|---|---|---|---|---|"]
    for name, p in report["parts"].items():
        cells = f"{p['cells_run']} / {p['cells_read']}"
        status = p["status"] + (f": {p['error']}" if p["error"] else "")
        if not p["claims"]:
            lines.append(f"| {name} | {status} | {cells} | - | - | - | - |")
        for c in p["claims"]:
            value = "-" if c.get("value") is None else f"{c['value']:.4g}"
            controls = ", ".join(_verdict(k["pass"]) for k in c.get("controls", [])) or "-"
            row = c["id"] + (f" [{c['case']}]" if c.get("case") else "")
            lines.append(f"| {name} | {status} | {cells} | `{row}` | {value} | "
                         f"{_verdict(c.get('pass'))} | {controls} |")
    (out / "paper.md").write_text("\n".join(lines) + "\n")


def _plain(v):
    """JSON for numpy scalars and paths."""
    if hasattr(v, "item"):
        return v.item()
    return str(v)
