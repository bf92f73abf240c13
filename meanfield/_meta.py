"""The package's version and install hint: below every module, so any of them can say it
without importing the package's top level (which reaches every layer, lazily)."""

import sys

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
