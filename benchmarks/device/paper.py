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
    epochs, 2 subsets per layer for Experiment A and 50 dropout draws for B
    (``FIG3_SIZES["paper"]``: 40 epochs, 20 subsets and 200 draws, about 8000 epochs
    of training a net, more than a call).
``fig4``
    Shevchenko & Mondelli, Fig. 4: validation/empirical_depth.py, depths 2, 3 and 4,
    N = 100 ... 12800 (the paper's largest), 3 seeds, Section 5's schedule (alpha = 20 /
    N for 0.01 N epochs: 128 epochs at N = 12800).  A 4-layer cell at N = 12800 is
    about 1.5e16 flops (two 12800 x 12800 layers, 7.7e6 examples): at least 5 minutes
    in float32 on an H100 at its peak, untimed here; if no call can hold it, the part
    says "needs a longer call", and that cell needs training that resumes inside a cell
    (not built).
``sqrt_n``
    Nguyen, Bréchet & Mondelli, Corollary 4.3: ``sqrt_n_part`` with N = 1000 ... 16000
    training images, widths 16 ... 1024 (factor sqrt 2), 3 seeds, 40 epochs; 5 subsets
    per layer (the paper's 20 would make this part about 4 GPU hours).
``kuditipudi``
    Kuditipudi et al.: validation/kuditipudi.py ``--full`` in a child process (its
    files are copied into ``--out``; ``--tiny`` runs ``--quick``, which rewrites
    validation/out/kuditipudi_quick.*).  The script is not made of cells, so it does
    not resume: it starts when at least :data:`KUDITIPUDI_MIN_S` of the budget is left,
    and a run stopped at the end of the budget says so (give it a call of its own).

The budget (``--budget``) decides when no further cell starts; a cell started before
runs to its end, so the device's time limit must leave room for the longest cell (480 s
of budget in a 600 s call).  A cell that a call could not finish is started again only
with more than :data:`RETRY_FACTOR` times the budget it had: else the part says which
cell needs a longer call.  ``paper.json`` names the code commit of each part's cells.
``--tiny`` runs the same parts at small sizes on the CPU (scikit-learn's digits;
kuditipudi's ``--quick``), as the test suite does.

Writes ``paper.json`` and ``paper.md`` to ``--out`` after every part, the parts' tables
and figures beside them, and the store under ``<out>/store``.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

from .staging import ROOT, VALIDATION, validation_script

#: The parts in the order they run.
PARTS = ("path", "layers", "fig4", "sqrt_n", "kuditipudi")

#: The whole-script part starts only with this much of the budget left (seconds; tiny: 0).
KUDITIPUDI_MIN_S = 300.0

#: A cell cut off when started with t seconds of budget left is started again only with
#: more than this times t left (a call's start-up varies by seconds).
RETRY_FACTOR = 1.2

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
    """A cell was cut off before with about as much time as is left now."""


class KuditipudiCut(Exception):
    """The kuditipudi script ran out of the call's time (it does not resume)."""


def _attempts(root):
    """``{cell id: budget seconds it was started with}`` of cells started and not returned."""
    path = Path(root) / "attempts.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _set_attempt(root, cid, left):
    """Record that cell ``cid`` starts with ``left`` seconds (the larger of two records),
    or with ``left=None`` that it returned."""
    attempts = _attempts(root)
    if left is None:
        attempts.pop(cid, None)
    else:
        attempts[cid] = max(left, attempts.get(cid, 0.0))
    (Path(root) / "attempts.json").write_text(json.dumps(attempts, indent=1))


class StoredCells:
    """A cell function for the validation scripts' loops: each torch cell (a settings
    dataclass of :mod:`meanfield.torch.settings`) is read from its results folder under
    ``root`` when stored there, else run into it (when the budget allows) and read back.

    ``attempts.json`` in ``root`` records, per cell started and not yet returned (a call
    killed at its time limit leaves it there), the seconds of budget it was started with:
    such a cell is started again only with more than :data:`RETRY_FACTOR` times that left,
    else :class:`CellTooLong` says it needs a longer call.  ``commits`` collects the code
    commit each cell read or run was computed with.
    """

    def __init__(self, root, deadline, clock=time.perf_counter):
        self.root, self.deadline, self.clock = Path(root), deadline, clock
        self.root.mkdir(parents=True, exist_ok=True)
        self.ran = self.loaded = 0
        self.commits = set()

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
            before = _attempts(self.root).get(cid)
            if before is not None and left <= RETRY_FACTOR * before:
                raise CellTooLong(f"cell {cid} ({name}) was cut off when started with "
                                  f"{before:.0f} s of budget left; it needs a longer call")
            _set_attempt(self.root, cid, left)
            try:
                report = run_sweep(sweep, folder, workers=1, progress=False)
            finally:  # returned (done, failed or interrupted): not a cell cut off by time
                _set_attempt(self.root, cid, None)
            if report.interrupted:
                raise KeyboardInterrupt
            if report.failed:
                raise RuntimeError(f"cell {cid} ({name}) failed: "
                                   f"{store.failures()['error'].iloc[0]}")
            self.ran += 1
        self.commits.add(str((store.record(cid) or {}).get("commit")))
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
    stem = "kuditipudi_quick" if ctx.tiny else "kuditipudi_full"
    result = VALIDATION / "out" / f"{stem}.json"
    result.unlink(missing_ok=True)  # an earlier run's rows are never reported as this one's
    cmd = [sys.executable, str(VALIDATION / "kuditipudi.py"),
           "--quick" if ctx.tiny else "--full", "--device", ctx.device, "--quiet"]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              timeout=left if math.isfinite(left) else None)
    except subprocess.TimeoutExpired as exc:
        raise KuditipudiCut(f"kuditipudi.py was stopped after {left:.0f} s, unfinished (it "
                            "does not resume: give it a call of its own, --parts "
                            "kuditipudi)") from exc
    # exit 1 is its FAIL verdict, with the rows written; a crash writes none
    if proc.returncode not in (0, 1) or not result.exists():
        raise RuntimeError(f"kuditipudi.py exited {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout)[-500:]}")
    for f in (VALIDATION / "out").glob(f"{stem}*"):
        if f.is_file():
            shutil.copy(f, ctx.out / f.name.replace(stem, "kuditipudi", 1))
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
    """Copy the cell folders of an earlier call's store (``store``, that call's
    ``<out>/store``) into ``<out>/store`` (a folder already there is kept) and merge its
    record of attempts.  Returns the number of cell folders copied; raises ValueError when
    ``store`` holds no cell folder."""
    src, dst = Path(store), Path(out) / "store"
    if not src.is_dir():
        raise ValueError(f"--resume {store}: no such folder")
    cells = [item for item in src.iterdir() if (item / "sweep.json").is_file()]
    if not cells:
        raise ValueError(f"--resume {store}: no stored cells there (give the store folder "
                         f"of an earlier call, its <out>/store)")
    if src.resolve() == dst.resolve():
        return 0
    dst.mkdir(parents=True, exist_ok=True)
    copied = 0
    for item in cells:
        if not (dst / item.name).exists():
            shutil.copytree(item, dst / item.name)
            copied += 1
    if (src / "attempts.json").exists():
        for cid, left in _attempts(src).items():
            _set_attempt(dst, cid, left)
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
        report["parts"][name] = dict(entry, status="running", cells_run=0, cells_read=0)
        write_paper_report(ctx.out, report)  # a call killed in this part says which it was
        ctx.cells.commits.clear()  # the code of this part's cells
        try:
            entry["claims"] = RUN[name](ctx, size)
        except OutOfBudget:
            entry["status"] = "unfinished"
        except KuditipudiCut as exc:
            entry["status"], entry["error"] = "unfinished", str(exc)
        except CellTooLong as exc:
            entry["status"], entry["error"] = "needs a longer call", str(exc)
        except Exception as exc:  # noqa: BLE001 - one part's failure is reported, the rest run
            entry["status"], entry["error"] = "error", f"{type(exc).__name__}: {exc}"
            entry["traceback"] = traceback.format_exc(limit=-4)
        entry["cells_run"] = ctx.cells.ran - ran0
        entry["cells_read"] = ctx.cells.loaded - loaded0
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        entry["commits"] = sorted(ctx.cells.commits)
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
