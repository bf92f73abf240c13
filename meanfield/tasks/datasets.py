"""Real data sets for the empirical side: scikit-learn's digits, Fashion-MNIST, MNIST.

Every loader returns a :class:`Dataset` of numpy arrays (float32 inputs
standardised per pixel with the training set's mean and standard deviation,
as in Section 5 of Shevchenko & Mondelli; int64 class labels), so that the
torch backend and anything else read the same data.  Nothing is downloaded:
digits ship with scikit-learn, Fashion-MNIST comes from Debian's
``dataset-fashion-mnist`` package, MNIST from IDX files the user gives.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _checks

#: Where Debian's ``dataset-fashion-mnist`` package puts its IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_IDX_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
              "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}

# IDX type codes (third byte of the magic number) -> big-endian numpy dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are not where they were looked for; the message says how to get them."""


@dataclass(frozen=True)
class Dataset:
    """A train/test split of a classification data set.

    Attributes
    ----------
    name : str
    X_train, X_test : numpy.ndarray, float32, shapes (n_train, d) and (n_test, d)
    y_train, y_test : numpy.ndarray, int64
        Class labels in ``0 .. n_classes - 1``.
    n_classes : int
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def d(self) -> int:
        return self.X_train.shape[1]

    def subset(self, n_train=None, n_test=None, seed=0):
        """The first ``n_train`` training and ``n_test`` test samples of a seeded shuffle
        (None: all); the standardisation is kept as it was."""
        g = _checks.generator(seed)
        parts = {}
        for split, n in (("train", n_train), ("test", n_test)):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if n is not None:
                if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or \
                        not 1 <= n <= len(y):
                    raise ValueError(f"n_{split} must be an integer in [1, {len(y)}], got {n!r}")
                idx = np.sort(g.permutation(len(y))[:n])
                X, y = X[idx], y[idx]
            parts[split] = (X, y)
        return Dataset(self.name, *parts["train"], *parts["test"], self.n_classes)

    def __repr__(self):
        return (f"Dataset({self.name!r}, d={self.d}, n_classes={self.n_classes}, "
                f"train={len(self.y_train)}, test={len(self.y_test)})")


def standardise(X_train, X_test):
    """Zero mean, unit variance per feature, with the training set's statistics.

    Features that are constant on the training set (border pixels) are only
    centred: dividing by a zero standard deviation would create infinities.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0.0] = 1.0
    return (((X_train - mean) / std).astype(np.float32),
            ((X_test - mean) / std).astype(np.float32))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a numpy array.

    Raises
    ------
    ValueError
        If the magic number or the size does not match the format.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    head = 4 + 4 * ndim
    shape = tuple(int(s) for s in np.frombuffer(raw[4:head], dtype=">u4"))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    n = int(np.prod(shape)) if shape else 0
    if len(raw) - head != n * dtype.itemsize:
        raise ValueError(f"{path}: header says shape {shape} ({n * dtype.itemsize} bytes of "
                         f"data), file holds {len(raw) - head}")
    return np.frombuffer(raw, dtype=dtype, count=n, offset=head).reshape(shape)


def _find_idx(folder, stem):
    """``folder / stem`` or ``folder / (stem + ".gz")``, whichever is a file, else None."""
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


#: The standard file names (without ``.gz``) of an IDX data set's four files, by role
#: (``train_images``, ``train_labels``, ``test_images``, ``test_labels``).
IDX_FILES = _IDX_FILES
find_idx = _find_idx


def load_idx_folder(folder, name, how_to_get):
    """A :class:`Dataset` from the four standard IDX files in ``folder``.

    ``how_to_get`` ends the error message when a file is missing.
    """
    folder = Path(folder).expanduser()
    found = {k: _find_idx(folder, stem) for k, stem in _IDX_FILES.items()}
    missing = [_IDX_FILES[k] for k, v in found.items() if v is None]
    if missing:
        raise DatasetNotFoundError(
            f"{name}: looked in {folder} for {', '.join(m + '[.gz]' for m in missing)} and "
            f"did not find {'it' if len(missing) == 1 else 'them'}; {how_to_get}")
    arrays = {k: read_idx(v) for k, v in found.items()}
    Xtr = arrays["train_images"].reshape(len(arrays["train_images"]), -1)
    Xte = arrays["test_images"].reshape(len(arrays["test_images"]), -1)
    ytr = arrays["train_labels"].astype(np.int64)
    yte = arrays["test_labels"].astype(np.int64)
    if len(ytr) != len(Xtr) or len(yte) != len(Xte):
        raise ValueError(f"{name}: {len(Xtr)} training images but {len(ytr)} labels, or "
                         f"{len(Xte)} test images but {len(yte)} labels")
    Xtr, Xte = standardise(Xtr, Xte)
    return Dataset(name, Xtr, ytr, Xte, yte, int(max(ytr.max(), yte.max())) + 1)


def fashion_mnist(path=None) -> Dataset:
    """Fashion-MNIST (60 000 train, 10 000 test, 784 pixels, 10 classes).

    Parameters
    ----------
    path : str or Path, optional
        Folder with the four IDX files; default ``$MEANFIELD_FASHION_MNIST`` or
        :data:`FASHION_MNIST_DIR` (Debian's ``dataset-fashion-mnist``).
    """
    folder = path or os.environ.get("MEANFIELD_FASHION_MNIST") or FASHION_MNIST_DIR
    return load_idx_folder(folder, "fashion-mnist",
                           "install them with `sudo apt-get install dataset-fashion-mnist` "
                           "(Debian/Ubuntu) or pass the folder that holds them")


def mnist(path) -> Dataset:
    """MNIST from the four IDX files (gzipped or not) in the folder ``path``."""
    if path is None:
        raise DatasetNotFoundError("mnist: no folder given; pass the folder that holds "
                                   "train-images-idx3-ubyte[.gz] and the three other IDX files")
    return load_idx_folder(path, "mnist", "download the four IDX files of MNIST into that folder")


def digits(test_fraction=0.25, seed=0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images, 64 pixels, 10 classes).

    The split is a seeded permutation: ``test_fraction`` of the images
    (rounded) form the test set.
    """
    from sklearn.datasets import load_digits

    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    X, y = load_digits(return_X_y=True)
    perm = _checks.generator(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = perm[:n_test], perm[n_test:]
    Xtr, Xte = standardise(X[train], X[test])
    return Dataset("digits", Xtr, y[train].astype(np.int64), Xte, y[test].astype(np.int64), 10)


#: name -> loader(path); ``path`` is ignored by loaders that need none.
LOADERS = {
    "digits": lambda path=None: digits(),
    "fashion-mnist": fashion_mnist,
    "mnist": mnist,
}


def load_dataset(name, path=None) -> Dataset:
    """Load a data set by name: ``digits``, ``fashion-mnist`` or ``mnist`` (needs ``path``)."""
    if name not in LOADERS:
        raise ValueError(f"dataset must be one of {', '.join(LOADERS)}, got {name!r}")
    return LOADERS[name](path)


__all__ = ["Dataset", "DatasetNotFoundError", "FASHION_MNIST_DIR", "IDX_FILES", "digits",
           "fashion_mnist", "find_idx", "load_dataset", "load_idx_folder", "mnist", "read_idx",
           "standardise"]
