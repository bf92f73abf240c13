"""Run the validation scripts and collect their claims into one Markdown report.

Each script in ``validation/`` writes ``validation/out/<name>.json`` (or
``<name>_quick.json`` at quick sizes) holding ``"claims"``: a list of
``{"id", "claim", "paper", "assumptions", "value", "interval", "criterion",
"judged", "pass", "figure"}`` (rows made by
:func:`meanfield.analysis.claims.claim_row`).  This module runs them, side by
side (:func:`run_validation`'s ``jobs``), and tabulates those claims.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from pathlib import Path

from tqdm.auto import tqdm

from . import _checks

SCRIPTS = ("sgd_vs_limit", "dropout_rates", "lazy_gram", "empirical_dropout", "multilayer_rates",
           "deep_connectivity", "pde_vs_sgd")
# Started first, the longest: side by side the run then ends with short ones, not one long
# one alone.
LONGEST_FIRST = ("pde_vs_sgd", "multilayer_rates", "sgd_vs_limit", "dropout_rates",
                 "deep_connectivity", "empirical_dropout", "lazy_gram")
# dropout_rates draws multilayer_rates' d ratio (from its result file) beside its own
AFTER = {"dropout_rates": ("multilayer_rates",)}
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMBA_NUM_THREADS")


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


def _run_scripts(to_run, folder, full, jobs, progress):
    """Run the scripts, ``jobs`` at a time, each with its share of the CPUs as threads;
    return ``{name: (CompletedProcess, seconds)}``."""
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = dict(os.environ)
    for var in _THREAD_VARS:  # a user's own setting wins
        env.setdefault(var, threads)
    futures = {}

    def one(name):
        # a dependency is submitted before its dependents (_run_order), so it is in futures
        wait([futures[dep] for dep in AFTER.get(name, ()) if dep in futures])
        cmd = ([sys.executable, str(folder / f"{name}.py"), "--quiet"]
               + ([] if full else ["--quick"]))
        t0 = time.time()
        return subprocess.run(cmd, capture_output=True, text=True, env=env), time.time() - t0

    with tqdm(total=len(to_run), desc="validate", unit="script", disable=not progress) as bar, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        for name in _run_order(to_run):
            futures[name] = pool.submit(one, name)
        names = {f: n for n, f in futures.items()}
        for future in as_completed(futures.values()):
            bar.set_postfix_str(f"{names[future]} {future.result()[1]:.0f} s")
            bar.update()
    return {n: f.result() for n, f in futures.items()}


def run_validation(full=False, out="validation/out/report.md", only=None, folder=None,
                   scripts=SCRIPTS, reuse=False, jobs=None, progress=False):
    """Run the scripts (quick sizes unless ``full``); write and return the report.

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
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result_of = {n: folder / "out" / (f"{n}.json" if full else f"{n}_quick.json") for n in names}
    to_run = [n for n in names if not (reuse and result_of[n].exists())]
    jobs = (max(1, min(os.cpu_count() or 1, len(to_run))) if jobs is None
            else _checks.positive_int("jobs", jobs))
    runs = _run_scripts(to_run, folder, full, jobs, progress) if to_run else {}
    lines = ["# meanfield validation report", "",
             f"Sizes: {'full' if full else 'quick'}; "
             f"{time.strftime('%Y-%m-%d %H:%M')}. How each claim is judged, and why: "
             "docs/validation.md.", "",
             "| script | id | claim | paper | assumptions | measured | interval | criterion "
             "| result | under the old rule | tightness | figure |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ok, counts = True, {"PASS": 0, "FAIL": 0, "reported": 0}
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
                         f"{_cell(tail[0])}) | | | | | | FAIL | | | |")
            counts["FAIL"] += 1
            continue
        seconds = report.get("seconds", seconds)
        label = name if seconds is None else f"{name} ({seconds:.0f} s)"
        for c in claims:
            res = _result(c)
            counts[res] += 1
            ok &= res != "FAIL"
            interval = c.get("interval")
            iv = f"[{_fmt(interval[0])}, {_fmt(interval[1])}]" if interval else ""
            lines.append(
                f"| {label} | {_cell(c.get('id', ''))} | {_cell(c['claim'])} | "
                f"{_cell(c['paper'])} | {_cell(c.get('assumptions', ''))} | "
                f"{_fmt(c['value'])} | {iv} | {_cell(c.get('criterion', ''))} | {res} | "
                f"{_cell(_old_verdict(c))} | {_cell(c.get('tightness', ''))} | "
                f"{_figure_link(c.get('figure'), folder, out.parent)} |")
    lines += ["", f"Judged claims: {counts['PASS']} passed, {counts['FAIL']} failed; "
                  f"{counts['reported']} reported without a verdict."]
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    return text, ok
