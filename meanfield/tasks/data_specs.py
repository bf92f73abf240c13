"""A data task as an experiment setting: the ``task`` string that names a data set, and the
content hash that pins an ``.npz`` file.

An experiment's ``task`` setting names its data law.  Besides the Gaussian
tasks, it may name a data set's empirical law (:class:`~meanfield.tasks.EmpiricalTask`):

* ``digits``, ``digits:I,J`` -- scikit-learn's bundled digits;
* ``fashion-mnist``, ``fashion-mnist:I,J`` -- Debian's ``dataset-fashion-mnist``;
* ``path/to/file.npz`` -- a user's arrays ``X`` (n, d) and ``y`` (n,), with its sha256
  in the setting ``data_sha256``, so that a cell's name (a hash of its settings)
  changes when the file's content does, and a cell is never run on another
  file than the one its settings record.

Each cell builds its task from these strings (:func:`data_law`): settings stay
plain values that a sweep config, a results folder and a Dask worker can hold.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from pathlib import Path

from .datasets import DatasetNotFoundError
from .empirical import DataError, EmpiricalTask

#: The data sets a ``task`` setting can name (``NAME`` or ``NAME:I,J``).
DATASETS = ("digits", "fashion-mnist")

#: The ``task`` forms of a data law, for help texts.
DATA_TASKS_HELP = ("digits[:I,J] | fashion-mnist[:I,J] (two classes as +-1 labels, "
                   "standardised) | FILE.npz (arrays X (n, d) and y (n,), used as given); "
                   "d is then the data's")


def is_data_spec(task) -> bool:
    """Whether the ``task`` setting names a data set or an ``.npz`` file (not a Gaussian task)."""
    spec = str(task).strip()
    return spec.endswith(".npz") or spec.partition(":")[0] in DATASETS


def check_task_setting(task, data_sha256=None) -> bool:
    """Check a cell's ``task`` setting (a Gaussian task's name or a data spec) and its
    ``data_sha256`` (only an ``.npz`` task has one); return whether ``task`` is a data
    spec.  Raises ValueError naming the setting and the accepted values."""
    data = is_data_spec(task)
    if not data and task not in ("teacher-student", "isotropic"):
        raise ValueError(f"task must be 'teacher-student', 'isotropic', digits[:I,J], "
                         f"fashion-mnist[:I,J] or a FILE.npz, got {task!r}")
    check_data_sha256(task, data_sha256)
    return data


def check_data_sha256(task, data_sha256):
    """ValueError when ``data_sha256`` is given for a ``task`` that names no ``.npz`` file."""
    if data_sha256 is not None and not str(task).strip().endswith(".npz"):
        raise ValueError(f"data_sha256 pins an .npz task's file; task {task} is none, "
                         f"so leave data_sha256 out")


def file_sha256(path) -> str:
    """The sha256 of the file ``path`` (hex).

    Raises
    ------
    DataError
        ``path`` is not a readable file (``data: PATH is not a file``).
    """
    return hashlib.sha256(_file_bytes(path)).hexdigest()


def _file_bytes(path) -> bytes:
    """The content of the file ``path``, or DataError in one line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"data: {path} is not a file")
    try:
        return path.read_bytes()
    except OSError as e:
        raise DataError(f"data: {path} cannot be read ({e.strerror or e})") from None


def data_law(task, activation="relu", sha256=None) -> EmpiricalTask:
    """The :class:`~meanfield.tasks.EmpiricalTask` that a ``task`` setting names.

    Parameters
    ----------
    task : str
        ``digits[:I,J]``, ``fashion-mnist[:I,J]`` (:meth:`EmpiricalTask.from_spec`) or
        ``path/to/file.npz`` (:meth:`EmpiricalTask.from_npz`).
    activation : str
        The student's activation.
    sha256 : str, optional
        The ``.npz`` file's sha256 as the settings record it (:func:`file_sha256`):
        required for a file, refused for a data set.

    Raises
    ------
    DataError
        One line naming the setting: a bad spec, a data set that is not installed
        (with the command that installs it), a file that is missing, not an npz of
        X and y, holds bad data, or whose content is not the one ``sha256`` records.
    """
    spec = str(task).strip()
    if not spec.endswith(".npz"):
        if sha256 is not None:
            raise DataError(f"data_sha256 pins an .npz task's file; task {spec} names a "
                            f"data set, so leave data_sha256 out")
        try:
            return _dataset_law(spec, str(activation),
                                os.environ.get("MEANFIELD_FASHION_MNIST"))
        except (DatasetNotFoundError, DataError) as e:
            raise DataError(f"task {spec}: {str(e).removeprefix('task: ')}") from None
    if sha256 is None:
        raise DataError(f"data_sha256: an .npz task needs its file's sha256 (meanfield.tasks."
                        f"file_sha256, or sha256sum {spec}), so that a changed file is a new "
                        f"cell; got none for task {spec}")
    # every call: the content, not a time stamp, says it is the same; and one read is both
    # hashed and parsed, so a file rewritten in between cannot pass under the old hash
    content = _file_bytes(spec)
    now = hashlib.sha256(content).hexdigest()
    if now != str(sha256).lower():
        raise DataError(f"data: {spec} has changed: its sha256 is {now[:12]}..., the "
                        f"settings record {str(sha256)[:12]}... (data_sha256); restore the "
                        f"file, or run on the new one in a new output folder")
    key = (spec, str(activation), now)
    with _NPZ_LOCK:  # a store's worker threads may build cells side by side
        task = _NPZ_LAWS.pop(key, None)
        if task is None:  # the checks of every cell, then the runs, parse it once
            task = EmpiricalTask.from_npz(spec, str(activation), content=content)
        _NPZ_LAWS[key] = task  # now the most recently used
        while len(_NPZ_LAWS) > 4:
            _NPZ_LAWS.pop(next(iter(_NPZ_LAWS)))
    return task


#: (spec, activation, sha256) -> the task of that content, the four last used
_NPZ_LAWS: dict = {}
_NPZ_LOCK = threading.Lock()


def task_slug(task, data_sha256=None) -> str:
    """A file-name-safe name of a ``task`` setting: ``digits:0,1`` -> ``digits_0-1``; an
    ``.npz`` file -> its stem and the first 8 hex digits of ``data_sha256`` (two files of
    one name, or one file rewritten, get two names)."""
    spec = str(task).strip()
    if spec.endswith(".npz"):
        stem = Path(spec).stem or "data"
        slug = f"{stem}-{str(data_sha256)[:8]}" if data_sha256 else stem
    else:
        slug = spec.replace(":", "_").replace(",", "-")
    return re.sub(r"[^A-Za-z0-9._-]", "_", slug)  # spaces, slashes, quotes: none in a name


def check_data_dimension(task, d, law):
    """Raise ValueError unless the setting ``d`` is the dimension of ``law``, the data law that
    the setting ``task`` names: a cell's stored table, its memory checks and the bounds'
    shapes read ``d``, so a data task's must be its data's (the command line fills it in)."""
    if d != law.d:
        raise ValueError(f"d must be the data's dimension for task {task}: set d = {law.d} "
                         f"(got {d})")


@functools.lru_cache(maxsize=4)
def _dataset_law(spec, activation, fashion_dir):
    """An installed data set's task, kept for the next call with the same arguments (a
    check, then the run, build it in one process; Fashion-MNIST takes seconds to read).
    ``fashion_dir`` (``$MEANFIELD_FASHION_MNIST``) is in the key: it picks the files.  The
    task is immutable (read-only arrays), so one object serves every caller."""
    return EmpiricalTask.from_spec(spec, activation)


__all__ = ["DATASETS", "DATA_TASKS_HELP", "is_data_spec", "check_task_setting",
           "check_data_sha256", "file_sha256", "data_law", "task_slug",
           "check_data_dimension"]
