"""Run the validation scripts and collect their claims into one Markdown report.

Each script in ``validation/`` writes ``validation/out/<name>.json`` (or
``<name>_quick.json`` at quick sizes) holding ``"claims"``: a list of
``{"id", "claim", "paper", "assumptions", "value", "interval", "criterion",
"judged", "pass", "figure"}`` (rows made by
:func:`meanfield.analysis.claims.claim_row`).  This module runs them, side by
side (:func:`run_validation`'s ``jobs``), and tabulates those claims under a header
that says where they were computed (:func:`provenance`): the commit and whether the
tree was clean, the CPU, the threads each script ran with and the versions of the
numerical libraries.  The same facts go to a JSON file beside the report.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from tqdm.auto import tqdm

from . import _checks
from ._io import atomic_write
from ._meta import git_output as _git

SCRIPTS = ("sgd_vs_limit", "dropout_rates", "lazy_gram", "empirical_dropout", "multilayer_rates",
           "deep_connectivity", "kuditipudi", "data_limit", "pde_vs_sgd", "empirical_depth",
           "empirical_path")
# Started first, the longest: side by side the run then ends with short ones, not one long
# one alone.
LONGEST_FIRST = ("pde_vs_sgd", "multilayer_rates", "sgd_vs_limit", "dropout_rates",
                 "deep_connectivity", "empirical_depth", "data_limit", "kuditipudi",
                 "empirical_path", "empirical_dropout", "lazy_gram")
#: The scripts that take ``--device`` (torch or its pair sums on a GPU); the others run on
#: the CPU whatever ``device`` says.
DEVICE_SCRIPTS = ("data_limit", "empirical_depth", "empirical_path", "kuditipudi", "pde_vs_sgd")
#: The scripts that run on a data law a user names (``--task``): their results then go to
#: ``<name>[_quick]_<task slug>.json``.
TASK_SCRIPTS = ("data_limit",)
# dropout_rates draws multilayer_rates' d ratio (from its result file) beside its own
AFTER = {"dropout_rates": ("multilayer_rates",)}
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMBA_NUM_THREADS")
# distributions whose versions the results depend on (POT: the 'ot' module); read from
# their metadata, not imported (torch takes seconds to import)
_VERSIONED = ("numpy", "scipy", "numba", "torch", "POT")


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def provenance(root=None, threads=None) -> dict:
    """Where a validation run is computed: a dict of plain values (JSON-ready).

    Keys: ``commit`` (``git rev-parse HEAD`` of ``root``, None outside a git
    checkout), ``clean`` (no line in ``git status --porcelain``: no change
    to a tracked file and no untracked file outside .gitignore; None outside
    a checkout), ``dirty_paths`` (up to 20 of those lines), ``cpu_model``
    (/proc/cpuinfo), ``cores`` (``os.cpu_count()``), ``cores_usable`` (the
    process's CPU affinity), ``platform``, ``python``, ``versions`` (numpy,
    scipy, numba, torch and POT from their installed metadata, None when not
    installed) and ``threads`` (as given).

    Parameters
    ----------
    root : path, optional
        The checkout (default: the one holding this package).
    threads : dict, optional
        The threads each script ran with, e.g. ``{script: {"OMP_NUM_THREADS": "1",
        ...}}``, recorded as given.
    """
    root = Path(__file__).resolve().parents[1] if root is None else Path(root)
    commit = _git(root, "rev-parse", "HEAD")
    commit = commit.strip() if commit else None
    status = _git(root, "status", "--porcelain") if commit else None
    lines = [line for line in status.splitlines() if line.strip()] if status else []
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {"commit": commit, "clean": None if status is None else not lines,
            "dirty_paths": lines[:20], "cpu_model": _cpu_model(), "cores": os.cpu_count(),
            "cores_usable": usable, "platform": platform.platform(),
            "python": platform.python_version(),
            "versions": {d: _version(d) for d in _VERSIONED}, "threads": threads or {}}


def _provenance_line(prov, computed=None):
    """The report header's sentence on :func:`provenance`; ``computed`` (the records of
    the results, by script) gives the threads of reused results that have a record."""
    if prov["commit"] is None:
        code = "not a git checkout (commit unknown)"
    else:
        code = (f"commit {prov['commit'][:12]}, "
                + ("clean tree" if prov["clean"] else
                   f"uncommitted changes ({len(prov['dirty_paths'])}"
                   f"{'+' if len(prov['dirty_paths']) == 20 else ''} paths)"))
    runs = {json.dumps(v, sort_keys=True) for v in prov["threads"].values() if v != "reused"}
    if len(runs) == 1:
        thr = ", ".join(f"{k}={v}" for k, v in json.loads(runs.pop()).items())
    else:
        thr = "per script in the JSON" if runs else "none run (all reused)"
    reused = sorted(n for n, v in prov["threads"].items() if v == "reused")
    by_threads = {}  # the threads a reused result's record names (None: no record of them)
    for n in reused:
        t = ((computed or {}).get(n) or {}).get("threads")
        key = ", ".join(f"{k}={v}" for k, v in t.items()) if isinstance(t, dict) and t else None
        by_threads.setdefault(key, []).append(n)
    if by_threads:
        thr += "; reused results ran earlier: " + "; ".join(
            ", ".join(ns) + (f" with {key}" if key else ", threads not recorded")
            for key, ns in by_threads.items())
    versions = ", ".join(f"{k} {v or 'absent'}" for k, v in prov["versions"].items())
    return (f"Computed at {code}; {prov['cpu_model']}, {prov['cores']} cores "
            f"({prov['cores_usable']} usable); threads: {thr}; {versions}; "
            f"Python {prov['python']}.")


def validation_dir() -> Path:
    here = Path(__file__).resolve().parents[1] / "validation"
    if not all((here / f"{name}.py").exists() for name in SCRIPTS):
        raise ValueError(f"validation scripts not found in {here}: 'meanfield validate' runs "
                         f"from a source checkout (pip install -e .)")
    return here


def _cell(text):
    """Table-cell text: a '|' (as in |A| or |L_N - R|) would end the cell."""
    return str(text).replace("|", "\\|")


def _fmt(v):
    """Three decimals, or three significant digits where those would hide the value (a
    relative gap of 4e-4, a deviation of 1e-12, a ratio of 250)."""
    if v is None:
        return ""
    if isinstance(v, float):
        if v == 0:
            return "0"
        return f"{v:+.3f}" if 0.01 <= abs(v) < 10 else f"{v:.3g}"
    return str(v)


def _old_verdict(c):
    """The row's verdict under the rule it replaced, with that rule (empty when unchanged)."""
    if "old_rule" not in c:
        return ""
    return f"{'PASS' if c.get('old_pass') else 'FAIL'} ({c['old_rule']})"


def _figure_link(fig, folder, report_dir):
    """Copy a claim's figure (PNG) next to the report and return a relative Markdown link."""
    if not fig:
        return ""
    path = Path(fig)
    if not path.is_absolute():
        path = folder / "out" / path
    if path.suffix != ".png":
        path = path.with_name(path.name + ".png")
    if not path.exists():
        return path.name
    # scripts write figures of the same name into per-case folders (dropout_rates_erf/,
    # dropout_rates_relu/): the folder is part of the copy's name, so none overwrites another
    # (a folder named "figures" says nothing: the one above it names the run)
    parent = path.parent.parent if path.parent.name == "figures" else path.parent
    name = path.name if parent.name == "out" else f"{parent.name}-{path.name}"
    dest = report_dir / "figures" / name
    if dest.resolve() != path.resolve():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return f"[{Path(name).stem}](figures/{name})"


def _result(c):
    if not c.get("judged", True) or c.get("pass") is None:
        return "reported"
    return "PASS" if c["pass"] else "FAIL"


def _controls(c):
    """The row's negative controls with their verdicts (each must FAIL); "none yet" for a
    judged claim without one."""
    from .analysis.claims import check_reason

    controls = c.get("controls") or []
    if not controls:
        return "none yet" if c.get("judged", True) and c.get("pass") is not None and not (
            c.get("check") or check_reason(c.get("id", ""))) else ""
    words = []
    for x in controls:
        iv = x.get("interval")
        verdict = ("n/a" if x.get("pass") is None else
                   "PASS (the rule cannot tell: the claim fails)" if x["pass"] else "FAIL")
        words.append(f"{x['control']}: {_fmt(x.get('value'))}"
                     + (f" [{_fmt(iv[0])}, {_fmt(iv[1])}]" if iv else "") + f", {verdict}")
    return "; ".join(words)


#: Suffixes left out of the data archive: figures (the report's are copied beside it) and
#: the stores' lock files.
_NOT_DATA = (".png", ".pdf", ".svg", ".lock")


def pack_results(folder, dest, names=SCRIPTS) -> list:
    """Write the data behind a full report, every full-size result of the scripts
    ``names`` under ``folder/out`` (each script's JSON and CSV files and its cell stores,
    not its figures nor the ``_quick`` runs), into the archive ``dest`` (``.tar.xz``).

    Unpacked into a checkout's ``validation/out/`` (``tar -xJf dest -C validation/out``),
    it holds every row's per-seed (per-cell) numbers: a reader re-fits a row from its
    tables, ``meanfield validate --full --reuse`` tabulates the stored results again,
    and the scripts that keep cell stores (``dropout_rates``, ``multilayer_rates``,
    ``data_limit``'s stability rows) re-fit from them when run again, the others running
    their cells anew.  A task script's runs on a user's data (``--task``) are left out.
    The archive is the same bytes for the same files (sorted names, no owner, time stamps
    zeroed, mode 644), so a re-pack of unchanged results is no change to commit.

    Returns
    -------
    list of str
        The archived paths, relative to ``folder/out``.
    """
    out = Path(folder) / "out"
    files = sorted(
        p for p in out.rglob("*")
        if p.is_file() and not p.name.endswith(_NOT_DATA)
        and "__pycache__" not in p.parts
        and any(_is_full_result(p.relative_to(out).parts[0], n) for n in names))
    rel = [p.relative_to(out).as_posix() for p in files]

    def plain(info):
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        info.mode = 0o644
        return info

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with tarfile.open(tmp, "w:xz", preset=9) as tar:
        for path, name in zip(files, rel):
            tar.add(path, arcname=name, recursive=False, filter=plain)
    tmp.replace(dest)  # a stopped pack leaves the last archive whole
    return rel


#: The folders of a task script's own full run (its runs on another data law, named
#: ``<name>_<task slug>...``, are not part of the report's data).
_TASK_FOLDERS = ("_cells", "_stability")


def _is_full_result(top, name):
    """Whether ``top`` (an entry of ``validation/out``) is a full-size output of the script
    ``name``: ``name.json``, ``name_cells``, ``name_A2``..., not ``name_quick...``, nor,
    for a task script, a run on another data law."""
    if top.split(".", 1)[0] == name:
        return True
    if name in TASK_SCRIPTS:
        return top in tuple(name + f for f in _TASK_FOLDERS)
    return top.startswith(name + "_") and not top.startswith(name + "_quick")


def _record_path(result):
    """``<result stem>.provenance.json`` beside a script's result file."""
    result = Path(result)
    return result.with_name(result.stem + ".provenance.json")


def _write_record(result, prov, threads, seconds, device, task):
    """Record where the result just written was computed (the commit, the tree's state,
    threads, versions, device, task, wall time), beside it: a later ``--reuse`` at
    another commit tabulates it under the commit that made it."""
    record = {"result_sha256": _sha256(result), "commit": prov["commit"], "clean": prov["clean"],
              "dirty_paths": prov["dirty_paths"], "threads": threads,
              "versions": prov["versions"], "cpu_model": prov["cpu_model"], "device": device,
              "task": task, "wall_seconds": seconds,
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write(_record_path(result), json.dumps(record, indent=1) + "\n")


def _sha256(path):
    from .tasks import file_sha256  # imported when used, as in _task_slug

    return file_sha256(path)


def _stamp(path):
    """What tells a result file rewritten from the one before a run: its time and size."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _read_record(result):
    """The record :func:`_write_record` left beside ``result``, or None (a result from
    before records were kept, or from a script run by hand, also one run by hand over a
    result that had a record: the record names the SHA-256 of the result it describes)."""
    try:
        record = json.loads(_record_path(result).read_text())
        sha = record.get("result_sha256")  # records of 2026-12-07 before it: taken as read
        if sha is not None and sha != _sha256(result):
            return None
        return record
    except (OSError, ValueError, AttributeError):
        return None


def _elsewhere(prov, record):
    """'' when a result was computed at the report's commit on a clean tree; else the
    commit it was computed at, or that it was not recorded."""
    if record is None:
        return "commit not recorded"
    if record.get("commit") == prov["commit"] and record.get("clean") and prov["clean"]:
        return ""
    commit = (record.get("commit") or "unknown")[:12]
    return f"commit {commit}" + ("" if record.get("clean") else ", uncommitted changes")


def _seed_note(report, record):
    """``["seeds from commits a (k), b (l)"]`` when a result's seeds or cells came from
    other code than its record's commit alone (a run resumed across commits); else [].

    Read from the result JSON: ``seed_commits`` (``{group: {commit: [seeds]}}``, kept
    seeds) and ``cell_commits`` (``{sweep: {commit: number of cells}}``, sweep stores).
    A commit with ``+dirty`` never counts as the record's own.
    """
    own = (record or {}).get("commit") or ""
    notes = []
    for key, what in (("seed_commits", "seeds"), ("cell_commits", "cells")):
        groups = report.get(key)
        if not isinstance(groups, dict):
            continue
        count = {}
        for by_commit in groups.values():
            for commit, ids in (by_commit or {}).items():
                count[commit] = count.get(commit, 0) + (ids if isinstance(ids, int)
                                                        else len(ids))
        if not count or (len(count) == 1 and own and own.startswith(next(iter(count)))):
            continue
        notes.append(f"{what} from commits "
                     + ", ".join(f"{c} ({k})" for c, k in sorted(count.items())))
    return notes


def _elsewhere_line(prov, computed):
    """The header's sentence on results computed elsewhere than the report's commit."""
    other = {n: w for n, r in computed.items() if (w := _elsewhere(prov, r))}
    if not other:
        return ""
    return (" Results computed elsewhere, tabulated here: "
            + "; ".join(f"{n} ({w})" for n, w in other.items()) + ".")


def _task_slug(task):
    """The slug of a ``--task`` (its file read and hashed when it names an .npz), or
    ValueError in one line: the scripts are not started on a task that cannot load."""
    from .tasks import DataError, data_law, file_sha256, is_data_spec
    from .tasks.data_specs import task_slug

    spec = str(task).strip()
    if not is_data_spec(spec):
        raise ValueError(f"--task must be digits[:I,J], fashion-mnist[:I,J] or a FILE.npz, "
                         f"got {task!r}")
    try:
        sha = file_sha256(spec) if spec.endswith(".npz") else None
        data_law(spec, "erf", sha)  # read once here: bad classes, data or a missing data set
        return task_slug(spec, sha)
    except DataError as e:
        raise ValueError(f"--task: {e}") from None


def _run_order(names):
    """``names`` longest first, each after the scripts it reads (:data:`AFTER`): a script
    waits only for one already started, so no worker waits for a script still queued."""
    rank = {n: i for i, n in enumerate(LONGEST_FIRST)}
    order = []
    for name in sorted(names, key=lambda n: rank.get(n, len(rank))):
        for dep in AFTER.get(name, ()):
            if dep in names and dep not in order:
                order.append(dep)
        if name not in order:
            order.append(name)
    return order


def _script_env(jobs):
    """The environment of each script: the thread variables set to its share of the CPUs
    (``CPUs // jobs``) where the user's environment does not set them."""
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = dict(os.environ)
    for var in _THREAD_VARS:  # a user's own setting wins
        env.setdefault(var, threads)
    return env


def _run_scripts(to_run, folder, full, jobs, progress, task=None, device=None,
                 device_scripts=DEVICE_SCRIPTS):
    """Run the scripts, ``jobs`` at a time, each with its share of the CPUs as threads
    (and ``--task task`` when given); return ``{name: (CompletedProcess, seconds)}``.

    A script starts when a worker is free and the scripts it reads (:data:`AFTER`) have
    ended, the first such in :func:`_run_order`; no worker waits on another script (one
    did, holding a core idle while ``dropout_rates`` waited for ``multilayer_rates``)."""
    env = _script_env(jobs)

    def one(name):
        cmd = ([sys.executable, str(folder / f"{name}.py"), "--quiet"]
               + ([] if full else ["--quick"]) + ([] if task is None else ["--task", task])
               + (["--device", device] if device is not None and name in device_scripts
                  else []))
        t0 = time.time()
        return subprocess.run(cmd, capture_output=True, text=True, env=env), time.time() - t0

    pending, running, done = _run_order(to_run), {}, {}
    with tqdm(total=len(to_run), desc="validate", unit="script", disable=not progress) as bar, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            for name in list(pending):
                if len(running) >= jobs:
                    break
                if all(dep in done or dep not in to_run for dep in AFTER.get(name, ())):
                    pending.remove(name)
                    running[pool.submit(one, name)] = name
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                done[name] = future.result()
                bar.set_postfix_str(f"{name} {done[name][1]:.0f} s")
                bar.update()
    return done


def run_validation(full=False, out="validation/out/report.md", only=None, folder=None,
                   scripts=SCRIPTS, reuse=False, jobs=None, progress=False, allow_dirty=False,
                   task=None, task_scripts=TASK_SCRIPTS, device=None,
                   device_scripts=DEVICE_SCRIPTS):
    """Run the scripts (quick sizes unless ``full``); write and return the report.

    The report's header and a JSON file beside it (``out`` with the suffix
    ``.json``: ``{"provenance", "scripts", "pass", "counts"}``) record
    :func:`provenance`: the commit, whether the tree was clean, the CPU, the
    thread variables each script ran with (``"reused"`` for a stored result
    tabulated again) and the library versions.

    Each claim is one row: its id, the claim, the paper and equation, whether
    its setting is inside the theorem's assumptions, the measured value with
    its interval, the criterion (:data:`meanfield.analysis.claims.RULES`),
    PASS/FAIL (or "reported" for an observation), the verdict under the rule
    it replaced (rows with ``old_rule``), the tightness and the figure, copied
    into ``figures/`` beside the report.

    Parameters
    ----------
    full : bool
        The full sizes instead of the quick ones.
    out : path
        The report file.
    only : list of str, optional
        Run only these scripts.
    folder : path, optional
        The scripts' folder (default: the checkout's ``validation/``).
    scripts : tuple of str
        The scripts known (default :data:`SCRIPTS`).
    reuse : bool
        Tabulate a script's stored result instead of running it again when
        its result file exists (a stopped full run goes on where it stopped).
    jobs : int, optional
        Scripts run side by side (default: the number of CPUs, at most the
        number of scripts), each with ``CPUs // jobs`` threads unless the
        environment sets ``OMP_NUM_THREADS``, ``NUMBA_NUM_THREADS`` and the
        like.  The longest start first; ``dropout_rates`` starts after
        ``multilayer_rates`` ends, whose result it draws beside its own.
    progress : bool
        A progress bar over the scripts (on standard error).
    allow_dirty : bool
        Let a full run (``full=True``) go on from a tree with uncommitted
        changes or outside a git checkout; otherwise it raises ValueError
        before running anything, since its report could not name the code
        that made it.  Quick runs record the state and never refuse.
    task : str, optional
        A data law (``digits[:I,J]``, ``fashion-mnist[:I,J]`` or ``FILE.npz``) for the
        scripts that take one (``task_scripts``, default :data:`TASK_SCRIPTS`): they
        run on it at the mode's sizes, and only they run (``only`` must name no other).
    device : str, optional
        ``cpu``, ``cuda`` or ``cuda:K``: passed as ``--device`` to the scripts that take
        one (``device_scripts``, default :data:`DEVICE_SCRIPTS`); the report says so.

    Returns
    -------
    (str, bool)
        The Markdown text and whether every judged claim passed and every
        script ran.
    """
    folder = validation_dir() if folder is None else Path(folder)
    names = list(only) if only else list(scripts)
    unknown = [n for n in names if n not in scripts]
    if unknown:
        raise ValueError(f"--only must name scripts among {', '.join(scripts)}, got {unknown}")
    slug = None
    if task is not None:
        other = [n for n in names if n not in task_scripts] if only else []
        if other:
            raise ValueError(f"--task runs the scripts that take a data law "
                             f"({', '.join(task_scripts)}); --only {other[0]} takes none")
        names = [n for n in (only or task_scripts)]
        slug = _task_slug(task)
    if jobs is not None:  # every argument is checked before git or a script runs
        _checks.positive_int("jobs", jobs)
    if device is not None:
        _checks.device(device, "--device")
    prov = provenance()
    if full and not allow_dirty and not prov["clean"]:
        where = ("is not a git checkout" if prov["commit"] is None else
                 f"has uncommitted changes ({', '.join(p.strip() for p in prov['dirty_paths'][:3])}"
                 f"{', ...' if len(prov['dirty_paths']) > 3 else ''})")
        raise ValueError(f"a full validation run records the commit it ran, and the tree "
                         f"{where}: commit or stash first, or allow a dirty tree explicitly "
                         f"(allow_dirty=True; meanfield validate --full --allow-dirty)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result_of = {n: folder / "out" / (f"{n}{'' if full else '_quick'}"
                                      f"{'' if slug is None else '_' + slug}.json")
                 for n in names}
    to_run = [n for n in names if not (reuse and result_of[n].exists())]
    jobs = (max(1, min(os.cpu_count() or 1, len(to_run))) if jobs is None
            else _checks.positive_int("jobs", jobs))
    before = {n: _stamp(result_of[n]) for n in to_run}
    runs = (_run_scripts(to_run, folder, full, jobs, progress, task, device, device_scripts)
            if to_run else {})
    env = _script_env(jobs)
    prov["threads"] = {n: ({v: env[v] for v in _THREAD_VARS} if n in runs else "reused")
                       for n in names}
    for name, (proc, seconds) in runs.items():
        # a FAIL verdict (exit 1) still wrote its result; a script that crashed left the
        # result of an earlier run, if any, which keeps the record (or the lack of one) it had
        if _stamp(result_of[name]) not in (None, before[name]):
            _write_record(result_of[name], prov, prov["threads"][name], seconds, device, task)
    computed = {n: _read_record(result_of[n]) for n in names}
    lines = ["# meanfield validation report", "",
             f"Sizes: {'full' if full else 'quick'}"
             f"{'' if task is None else f' on the data law {task}'}"
             f"{'' if device is None else f', torch on {device} where a script takes it'}; "
             f"{time.strftime('%Y-%m-%d %H:%M')}. {_provenance_line(prov, computed)}"
             f"{_elsewhere_line(prov, computed)} How each claim is judged, and why: "
             "docs/validation.md.", "",
             "| script | id | claim | paper | assumptions | measured | interval | criterion "
             "| result | under the old rule | tightness | figure | check | control |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    from .analysis.claims import check_reason

    # claims could fail if the paper's claim were false; checks (constructions, sanity
    # gates, t = 0 rows) could not for that reason, and are counted apart
    ok, counts = True, {"PASS": 0, "FAIL": 0, "reported": 0, "check PASS": 0, "check FAIL": 0}
    summary = {}
    for name in names:
        result = result_of[name]
        proc, seconds = runs.get(name, (None, None))
        try:
            report = json.loads(result.read_text())
            claims = report["claims"]
        except (OSError, ValueError, KeyError):
            ok = False
            tail = ((proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc else
                    ["unreadable stored result"]) or ["no output"]
            lines.append(f"| {name} | | (script failed, exit {proc and proc.returncode}: "
                         f"{_cell(tail[0])}) | | | | | | FAIL | | | | | |")
            counts["FAIL"] += 1
            summary[name] = {"result": str(result), "failed": True,
                             "exit": proc and proc.returncode}
            continue
        seconds = report.get("seconds", seconds)
        summary[name] = {"result": str(result), "seconds": seconds, "reused": name not in runs,
                         "pass": report.get("pass"), "computed_at": computed[name]}
        where = _elsewhere(prov, computed[name])
        notes = ([] if seconds is None else [f"{seconds:.0f} s"]) + ([where] if where else [])
        notes += _seed_note(report, computed[name])
        label = name + (f" ({'; '.join(notes)})" if notes else "")
        for c in claims:
            res = _result(c)
            check = c.get("check") or check_reason(c.get("id", "")) if res != "reported" else None
            counts[f"check {res}" if check else res] += 1
            ok &= res != "FAIL"
            interval = c.get("interval")
            iv = f"[{_fmt(interval[0])}, {_fmt(interval[1])}]" if interval else ""
            lines.append(
                f"| {label} | {_cell(c.get('id', ''))} | {_cell(c['claim'])} | "
                f"{_cell(c['paper'])} | {_cell(c.get('assumptions', ''))} | "
                f"{_fmt(c['value'])} | {iv} | {_cell(c.get('criterion', ''))} | {res} | "
                f"{_cell(_old_verdict(c))} | {_cell(c.get('tightness', ''))} | "
                f"{_figure_link(c.get('figure'), folder, out.parent)} | {_cell(check or '')} | "
                f"{_cell(_controls(c))} |")
    if full and task is None:  # a run on a user's data keeps its files where they are
        archive = out.with_name("data.tar.xz")
        pack_results(folder, archive, names)
        lines += ["", f"The data behind every row (each script's result and its cells' "
                      f"tables): [{archive.name}]({archive.name}); `tar -xJf {archive.name} -C "
                      f"validation/out` in a checkout, then `meanfield validate --full "
                      f"--reuse` tabulates them again (README, \"Reproducibility\")."]
    lines += ["", f"Judged claims: {counts['PASS']} passed, {counts['FAIL']} failed; "
                  f"checks (rows that could not fail for the claim's reason): "
                  f"{counts['check PASS']} passed, {counts['check FAIL']} failed; "
                  f"{counts['reported']} reported without a verdict."]
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(
        {"provenance": prov, "full": full, "task": task, "task_slug": slug, "device": device,
         "scripts": summary, "counts": counts, "pass": ok},
        indent=1) + "\n")
    return text, ok
