"""The report of benchmarks/device_run.py: the machine it ran on, and ``device_run.json`` and
``device_run.md`` (written after every step, so a run cut short keeps what it measured)."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from .steps import PAPER_DROPOUT


def _finite(x):
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_report(out, meta, steps, t_start):
    """Write ``device_run.json`` and ``device_run.md`` to the folder ``out``: ``meta`` (the
    machine, from :func:`machine`), the steps' results (from :func:`.steps.run_steps`) and
    the wall time since ``t_start`` (a ``time.perf_counter()``).  Returns the report."""
    out.mkdir(parents=True, exist_ok=True)
    report = {"meta": meta, "steps": steps,
              "wall_seconds": time.perf_counter() - t_start}
    (out / "device_run.json").write_text(json.dumps(_finite(report), indent=2, default=str))
    md = [f"# device_run: {meta.get('gpu') or meta['device']}", ""]
    md += [f"- {k}: {_fmt(v)}" for k, v in meta.items() if k != "notes"]
    md += [f"- note: {n}" for n in meta.get("notes", [])]
    md += ["", f"Wall time {report['wall_seconds']:.1f} s of a {meta['budget_seconds']:.0f} s "
               "budget.", "", "| step | status | seconds | share (s) |",
           "| --- | --- | --- | --- |"]
    md += [f"| {name} | {s['status']} | {s['seconds']:.1f} | {s['share_seconds']:.0f} |"
           for name, s in steps.items()]
    two = steps.get("two_layer", {}).get("figures", {})
    if "dropout_change_percent" in two:
        md += ["", "Dropout change in test error (half of the neurons dropped):", "",
               f"- {PAPER_DROPOUT['source']}: +{PAPER_DROPOUT['percent']:.2f}%",
               f"- ours ({two['ours_label']}): {two['dropout_change_percent']:+.2f}% "
               f"(sd over patterns {two['dropout_change_sd_percent']:.2f}%; first half "
               f"{two['first_half_change_percent']:+.2f}%)"]
    for name, s in steps.items():
        md += ["", f"## {name}: {s['status']}, {s['seconds']:.1f} s", ""]
        md += [f"- stopped: {m}" for m in s.get("stopped", [])]
        md += [f"- note: {m}" for m in s.get("notes", [])]
        if s.get("error"):
            md += ["", "```", s["error"][-2000:], "```"]
        for k, v in s.get("figures", {}).items():
            if k == "output_tail":
                continue
            if isinstance(v, dict):
                v = ", ".join(f"{a} {_fmt(b)}" for a, b in v.items())
            elif isinstance(v, list):
                v = "[" + ", ".join(_fmt(x) for x in v[:40]) + (", ...]" if len(v) > 40 else "]")
            md.append(f"- {k}: {_fmt(v)}")
    (out / "device_run.md").write_text("\n".join(md) + "\n")
    return report


def machine(device, budget, tiny, stage_notes):
    """The report's ``meta``: the device and GPU, the versions, the host, the budget, the
    command, and the staging's notes."""
    import numba
    import numpy as np
    import torch

    meta = {"device": str(device), "gpu": None, "torch": torch.__version__,
            "cuda": torch.version.cuda, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "host": platform.node(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "budget_seconds": budget, "tiny": tiny,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name] + sys.argv), **stage_notes}
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        meta.update(gpu=torch.cuda.get_device_name(device),
                    gpu_memory_gib=round(p.total_memory / 2**30, 1),
                    compute_capability=f"{p.major}.{p.minor}",
                    multiprocessors=p.multi_processor_count,
                    cudnn=torch.backends.cudnn.version(),
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    return meta
