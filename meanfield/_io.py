"""Files written whole or not at all: the one place the package writes result files.

Every result file (a sweep's cells, a command's tables, summaries and figures)
goes through :func:`atomic_write` or :func:`staged_folder`, so a process
stopped at any moment leaves the old file or the new one, never a part.  It
sits below every other module (standard library only), so that models,
experiments and the command line share it without importing each other.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0o022)  # reading the umask means setting it; put it back at once
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write(path, data):
    """Write ``data`` (bytes or str) to ``path`` through a temporary file in the same folder
    and ``os.replace``: a reader, or a process killed at any moment, sees the old file
    or the new one whole, never a part."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes it 0600: give it the mode open() would
            os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@contextlib.contextmanager
def staged_folder(out):
    """A temporary folder in ``out`` whose files are moved into ``out`` one by one with
    ``os.replace`` when the block succeeds (figures: matplotlib writes in place)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=".write-", suffix=".tmp"))
    try:
        yield tmp
        for p in sorted(tmp.iterdir()):
            os.replace(p, out / p.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
