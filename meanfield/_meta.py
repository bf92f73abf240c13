"""The package's version and install hint: below every module, so any of them can say it
without importing the package's top level (which reaches every layer, lazily)."""

import subprocess
import sys
from pathlib import Path

__version__ = "0.1.0"

#: How to install torch, everywhere the package says it: the CPU wheel pinned
#: first, since an unpinned ``pip install torch`` on Linux fetches the
#: multi-GB CUDA build.
TORCH_HINT = ("pip install torch==2.13.0 (the CPU wheel; pin it before "
              "pip install 'meanfield[torch]')")


def torch_missing(who) -> bool:
    """Whether torch cannot be imported; if so, say ``WHO: needs torch: HINT`` on stderr
    first (a script that trains with torch then exits 2, before any work)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        print(f"{who}: needs torch: {TORCH_HINT}", file=sys.stderr)
        return True
    return False


#: The checkout holding this package (when it is run from one; not a site-packages install).
CHECKOUT = Path(__file__).resolve().parents[1]


def git_output(root, *args):
    """Standard output of ``git -C root args``, or None when git fails (no git, or
    ``root`` not in a checkout)."""
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def code_commit(root=None):
    """The commit of the code computing a result: 12 hex digits of ``git rev-parse HEAD``,
    with ``+dirty`` when a tracked file is changed or an untracked file is not ignored;
    None outside a git checkout (an installed package).

    Each stored cell and seed names it, so that results resumed across commits say which
    code computed which part of them.
    """
    root = CHECKOUT if root is None else Path(root)
    head = git_output(root, "rev-parse", "HEAD")
    if not head:
        return None
    status = git_output(root, "status", "--porcelain")
    return head.strip()[:12] + ("" if status is not None and not status.strip() else "+dirty")
