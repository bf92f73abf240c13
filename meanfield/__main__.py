"""``python -m meanfield``: the same command line as the ``meanfield`` script."""

import sys

from .cli import _module_entry

sys.exit(_module_entry())
