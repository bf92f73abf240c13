"""The package's version and install hint: below every module, so any of them can say it
without importing the package's top level (which reaches every layer, lazily)."""

__version__ = "0.1.0"

#: How to install torch, everywhere the package says it: the CPU wheel pinned
#: first, since an unpinned ``pip install torch`` on Linux fetches the
#: multi-GB CUDA build.
TORCH_HINT = ("pip install torch==2.13.0 (the CPU wheel; pin it before "
              "pip install 'meanfield[torch]')")
