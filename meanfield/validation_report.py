"""Run the validation scripts and collect their claims into one Markdown report.

Each script in ``validation/`` writes ``validation/out/<name>.json`` (or
``<name>_quick.json`` at quick sizes) holding ``"claims"``: a list of
``{"claim", "paper", "value", "interval", "pass", "figure"}``.  This module
runs them one after the other and tabulates those claims.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

SCRIPTS = ("sgd_vs_limit", "dropout_rates", "lazy_gram", "empirical_dropout", "multilayer_rates",
           "deep_connectivity", "pde_vs_sgd")


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
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:+.3f}" if abs(v) < 10 else f"{v:.3g}"
    return str(v)


def run_validation(full=False, out="validation/out/report.md", only=None, folder=None,
                   scripts=SCRIPTS):
    """Run the scripts (quick sizes unless ``full``); write and return the report.

    ``folder`` and ``scripts`` default to the checkout's ``validation/`` and
    :data:`SCRIPTS`.

    Returns
    -------
    (str, bool)
        The Markdown text and whether every claim passed and every script ran.
    """
    folder = validation_dir() if folder is None else Path(folder)
    names = list(only) if only else list(scripts)
    unknown = [n for n in names if n not in scripts]
    if unknown:
        raise ValueError(f"--only must name scripts among {', '.join(scripts)}, got {unknown}")
    lines = ["# meanfield validation report", "",
             f"Sizes: {'full (published)' if full else 'quick'}; "
             f"{time.strftime('%Y-%m-%d %H:%M')}", "",
             "| script | claim | paper | measured | interval | result | figure |",
             "|---|---|---|---|---|---|---|"]
    ok = True
    for name in names:
        cmd = ([sys.executable, str(folder / f"{name}.py"), "--quiet"]
               + ([] if full else ["--quick"]))
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.time() - t0
        result = folder / "out" / (f"{name}.json" if full else f"{name}_quick.json")
        try:
            claims = json.loads(result.read_text())["claims"]
        except (OSError, ValueError, KeyError):
            ok = False
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            lines.append(f"| {name} | (script failed, exit {proc.returncode}: {tail[0]}) "
                         f"| | | | FAIL | |")
            continue
        for c in claims:
            ok &= bool(c["pass"])
            interval = c.get("interval")
            iv = f"[{_fmt(interval[0])}, {_fmt(interval[1])}]" if interval else ""
            fig = c.get("figure") or ""
            fig = f"[{Path(fig).name}]({Path(fig).resolve()})" if fig else ""
            lines.append(f"| {name} ({seconds:.0f} s) | {_cell(c['claim'])} | "
                         f"{_cell(c['paper'])} | {_fmt(c['value'])} | {iv} | "
                         f"{'PASS' if c['pass'] else 'FAIL'} | {fig} |")
    text = "\n".join(lines) + "\n"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text, ok
