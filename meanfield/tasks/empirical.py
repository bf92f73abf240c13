"""The empirical law of a data set as a task: exact functionals as means over the data.

For a data set ``(x_p, y_p)``, ``p = 1 .. n``, the law ``(1/n) sum_p delta_(x_p, y_p)``
has bounded labels and bounded inputs, so the mean-field theory applies to it
as to any law (Mei, Montanari & Nguyen 2018; Shevchenko & Mondelli 2020,
assumptions (A1)-(A4)), and every functional is a finite sum:

    V(theta)         = -(a/n) sum_p y_p sigma(<w, x_p>)
    U(theta, theta') =  (a a'/n) sum_p sigma(<w, x_p>) sigma(<w', x_p>)
    Psi(theta; rho)  = -(a/n) sum_p r_p sigma(<w, x_p>),   r_p = y_p - f_rho(x_p)

with ``f_rho(x) = (1/M) sum_j a_j sigma(<w_j, x>)`` the population's output.
So the particle limit's field on M particles costs matrix products of size
n x d x M: ``Z = X W'`` (and ``X W_ref'`` when the population is not a prefix
of the particles), then ``(r * sigma'(Z))' X``.  Everything runs over blocks
of data rows sized to a fixed scratch budget (:data:`SCRATCH`) or given, so memory
is ``O(SCRATCH + (N + M) d)`` whatever n; the cuts (hence the rounding) depend only
on the block size.
"""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

import numpy as np

from .. import _checks
from ..activations import get_activation
from ..kernels import empirical as k_emp
from . import datasets as _datasets
from .protocol import leading_rows

#: Scratch memory of one block (bytes) when ``block`` is None: the rows per block are
#: ``SCRATCH / (16 (N + M))`` (two float64 arrays of rows x particles), rounded down to a
#: multiple of 256 and clipped to [256, 4096]: 4096 rows up to N + M = 2048, 1024 rows at
#: N + M = 8192.  Larger blocks are 15% faster at n = 12000, d = 784, M = 1000 (4096
#: rows against 1024: fewer, larger products).
SCRATCH = 2 ** 27


class DataError(ValueError):
    """Data that no task can be built from (the message says what is wrong and where)."""


def check_data(X, y):
    """``(X, y)`` as C-contiguous float64 arrays of shapes (n, d) and (n,), after one clear
    :class:`DataError` for an empty set, shapes that disagree, non-numeric or non-finite
    entries."""
    arrays = []
    for name, v, ndim, shape in (("X", X, 2, "(n, d)"), ("y", y, 1, "(n,)")):
        v = np.asarray(v)
        if v.dtype.kind not in "biuf":
            raise DataError(f"{name} must hold real numbers, got dtype {v.dtype}")
        if v.ndim != ndim:
            raise DataError(f"{name} must have shape {shape}, got shape {v.shape}")
        arrays.append(np.ascontiguousarray(v, dtype=np.float64))
    X, y = arrays
    if X.shape[0] == 0:
        raise DataError("the data set is empty: X has 0 rows (need n >= 1)")
    if X.shape[1] == 0:
        raise DataError("X has 0 columns (need d >= 1)")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"X and y disagree on n: {X.shape[0]} rows vs {y.shape[0]} labels")
    for name, v in (("X", X), ("y", y)):
        bad = ~np.isfinite(v)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise DataError(f"{name} must be finite: it holds {int(bad.sum())} NaN or inf "
                            f"entries, the first in row {row}")
    return X, y


class EmpiricalTask:
    """The empirical law of a data set ``(X, y)``, with exact functionals.

    SGD (eq. (3.3) of Shevchenko & Mondelli) draws ``(x, y)`` uniformly with
    replacement from the rows: one-pass SGD on the empirical law.  The risk
    ``L_N(theta)``, V, U, Psi and their gradients are means over the n rows,
    computed in blocks of ``block`` rows (see the module docstring).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs.  They are used as given: the mean-field scaling wants
        ``|x|^2`` of order d (e.g. per-feature standardised data, see
        :meth:`from_arrays`).
    y : array_like, shape (n,)
        Labels or regression targets.
    activation : str or Activation
        The student's sigma.
    name : str
        Short name stored in result tables.
    block : int, optional
        Data rows per block; default: as many as fit :data:`SCRATCH` bytes of
        scratch for the particles at hand (256 to 4096 rows).  Results depend on
        the block only to rounding (the order of the sums over blocks); at a
        fixed block they are reproducible bit for bit.

    Raises
    ------
    DataError
        Empty set, shapes that disagree, NaN or inf (a ValueError).

    Examples
    --------
    >>> import numpy as np
    >>> import meanfield as mf
    >>> from meanfield.tasks import EmpiricalTask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 5)); y = np.sign(X[:, 0])
    >>> task = EmpiricalTask(X, y, "erf", name="halfspace")
    >>> a, W = mf.InitialLaw().sample(20, task.d, np.random.default_rng(1))
    >>> from meanfield.activations import get_activation
    >>> yhat = get_activation("erf")(X @ W.T) @ a / 20
    >>> bool(np.isclose(task.risk(a, W), np.mean((y - yhat) ** 2)))
    True

    References
    ----------
    Mei, Montanari & Nguyen, "A mean field view of the landscape of two-layer
    neural networks", PNAS 2018, eqs. (6)-(8) (V, U, Psi, R) and (12)-(13) (the
    distributional dynamics, whose field ``grad_psi`` gives).
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, eqs. (3.2)-(3.3).
    """

    def __init__(self, X, y, activation="relu", *, name="data", block=None):
        self.X, self.y = check_data(X, y)
        self.X.flags.writeable = False
        self.y.flags.writeable = False
        self.n, self.d = self.X.shape
        self.activation = get_activation(activation)
        self.name = str(name)
        self.block = None if block is None else _checks.positive_int("block", block)
        self.ey2 = float(self.y @ self.y) / self.n
        self._device_sums = None

    @property
    def sums_device(self) -> str:
        """Where the field's sums run: ``"cpu"`` (numba and BLAS), or the torch device of
        the sums :meth:`with_residual_sums` installed (its rounding is not the CPU's)."""
        s = self._device_sums
        return "cpu" if s is None else str(getattr(s, "device", type(s).__name__))

    def with_residual_sums(self, sums):
        """A copy whose field sums (Psi, its gradient and V) go through ``sums``, a
        callable ``(W, a_ref, W_ref, prefix, grad) -> (S, G)`` with the contract of
        :class:`meanfield.torch.DeviceResidualSums`; for a GPU,
        :func:`meanfield.torch.on_device`.  The risks and U stay on the host."""
        twin = copy.copy(self)
        twin._device_sums = sums
        return twin

    # -- constructors -------------------------------------------------------
    @classmethod
    def from_arrays(cls, X, y, activation="relu", *, standardise=False, name="data",
                    block=None):
        """A task from arrays; ``standardise=True`` centres each feature and scales it to unit
        variance (features constant on the data are only centred), as the data-set
        loaders do (:func:`meanfield.tasks.datasets.standardise`)."""
        X, y = check_data(X, y)
        if standardise:
            X = _standardise(X)
        return cls(X, y, activation, name=name, block=block)

    @classmethod
    def from_npz(cls, path, activation="relu", *, standardise=False, name=None, block=None,
                 content=None):
        """A task from an ``.npz`` file holding arrays ``X`` (n, d) and ``y`` (n,)
        (``numpy.savez("my.npz", X=X, y=y)``).

        ``content``, when given, is the file's bytes as already read (and hashed) by the
        caller: they are parsed instead of reading ``path`` again, which names the file in
        messages and the task.

        Raises
        ------
        DataError
            The file is missing, is not an npz, lacks X or y, or holds bad data.
        """
        path = Path(path).expanduser()
        if content is None and not path.is_file():
            raise DataError(f"data: {path} is not a file")
        try:
            f = np.load(path if content is None else io.BytesIO(content), allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):
                raise DataError(f"data: {path} is a .npy array, not an .npz of X and y")
            with f:
                missing = [k for k in ("X", "y") if k not in f.files]
                if missing:
                    raise DataError(f"data: {path} must hold arrays named X and y; it lacks "
                                    f"{' and '.join(missing)} (it holds "
                                    f"{', '.join(f.files) or 'nothing'})")
                X, y = f["X"], f["y"]
        except DataError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise DataError(f"data: {path} is not an .npz file of arrays X and y "
                            f"({type(e).__name__}: {e})") from None
        try:
            return cls.from_arrays(X, y, activation, standardise=standardise,
                                   name=name or path.stem, block=block)
        except DataError as e:
            raise DataError(f"data: {path}: {e}") from None

    @classmethod
    def from_dataset(cls, name, classes=None, activation="relu", *, n=None, seed=0, path=None,
                     block=None):
        """A task on an installed data set's training split: ``digits`` (scikit-learn) or
        ``fashion-mnist`` (Debian's ``dataset-fashion-mnist``; ``path`` overrides the folder).

        Parameters
        ----------
        name : {'digits', 'fashion-mnist'}
        classes : pair of int, optional
            Two classes: the first gets label +1, the second -1.  None: every image,
            with the class index, centred and scaled to unit variance, as a regression
            target.
        activation : str or Activation
        n : int, optional
            Keep the first n rows of a seeded shuffle (``seed``); default all.
        path : str or Path, optional
            Folder of the Fashion-MNIST IDX files.

        The kept inputs are standardised per pixel on the kept rows (constant pixels
        only centred), so SGD and the limit see the same data, each input of squared
        norm about d, the scale of the mean-field theory.

        Raises
        ------
        DatasetNotFoundError
            Fashion-MNIST is not installed (the message says how to install it).
        DataError
            Classes out of range or equal, n out of range.
        """
        if name not in ("digits", "fashion-mnist"):
            raise DataError(f"dataset must be 'digits' or 'fashion-mnist', got {name!r}")
        data = _datasets.digits() if name == "digits" else _datasets.fashion_mnist(path)
        X, lab = data.X_train, data.y_train
        if classes is None:
            keep = np.ones(lab.size, dtype=bool)
            y = lab.astype(np.float64)
            tag = name
        else:
            c = _classes(classes, data.n_classes)
            keep = (lab == c[0]) | (lab == c[1])
            y = np.where(lab == c[0], 1.0, -1.0)
            tag = f"{name}:{c[0]},{c[1]}"
        idx = np.flatnonzero(keep)
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or \
                    not 1 <= n <= idx.size:
                raise DataError(f"n must be an integer in [1, {idx.size}] for {tag}, got {n!r}")
            idx = np.sort(_checks.generator(seed).permutation(idx)[:n])
        y = y[idx]
        if classes is None:
            sd = y.std()
            y = (y - y.mean()) / (sd if sd > 0 else 1.0)
        return cls(_standardise(X[idx]), y, activation, name=tag, block=block)

    @classmethod
    def from_spec(cls, spec, activation="relu", **kwargs):
        """A task from a command-line spec: ``digits``, ``digits:0,1``, ``fashion-mnist:0,6``
        (see :meth:`from_dataset`) or ``path/to/file.npz`` (see :meth:`from_npz`)."""
        spec = str(spec).strip()
        if spec.endswith(".npz"):
            return cls.from_npz(spec, activation, **kwargs)
        name, _, cl = spec.partition(":")
        classes = None
        if cl:
            try:
                classes = tuple(int(c) for c in cl.split(","))
            except ValueError:
                raise DataError(f"task: classes in {spec!r} must be two integers, e.g. "
                                f"{name}:0,6") from None
        return cls.from_dataset(name, classes, activation, **kwargs)

    # -- sampling -----------------------------------------------------------
    def sample(self, n, rng):
        """``n`` rows drawn uniformly with replacement: ``(X (n, d), y (n,))``.

        One draw from ``rng``: ``rng.integers(0, self.n, n)``.
        """
        n = _checks.nonneg_int("n", n)
        idx = _checks.generator(rng).integers(0, self.n, size=n)
        return self.X[idx], self.y[idx]

    # -- blocked sums over the data -----------------------------------------
    def rows_per_block(self, P):
        """Data rows per block for ``P`` particles (``block``, or the :data:`SCRATCH` rule)."""
        if self.block is not None:
            return self.block
        return int(min(4096, max(256, SCRATCH // (16 * max(P, 1)) // 256 * 256)))

    def _blocks(self, P):
        b = self.rows_per_block(P)
        for s in range(0, self.n, b):
            e = min(s + b, self.n)
            yield slice(s, e), self.X[s:e]

    def _outputs(self, A, W, N):
        """``sigma(X W') A / N`` over every row: (n, k) for A of shape (N', k)."""
        out = np.empty((self.n, A.shape[1]))
        act = self.activation
        for rows, Xb in self._blocks(W.shape[0]):
            out[rows] = act(Xb @ W.T) @ A
        return out / N

    def _residual_sums(self, W, a_ref, W_ref, prefix, grad):
        """``(1/n) sum_p r_p sigma(z_pi)`` and ``(1/n) sum_p r_p sigma'(z_pi) x_p`` with
        ``r = y - f_rho`` (``r = y`` without a population, ``a_ref is None``).

        ``prefix``: the population is the first M rows of W (the particle limit's
        state), so one product ``X W'`` serves both the population's output and the
        field (two products in all, else three).
        """
        if self._device_sums is not None:
            return self._device_sums(W, a_ref, W_ref, prefix, grad)
        act = self.activation
        P = W.shape[0]
        S = np.zeros(P)
        M = 0 if a_ref is None else a_ref.size
        if not grad:
            for rows, Xb in self._blocks(P):
                sZ = act(Xb @ W.T)
                r = self.y[rows]
                if M:
                    f = sZ[:, :M] @ a_ref if prefix else act(Xb @ W_ref.T) @ a_ref
                    r = r - f / M
                S += r @ sZ
            return S / self.n, None
        G = np.zeros((P, self.d))
        b = min(self.rows_per_block(P), self.n)
        Zbuf, Sbuf, rbuf = np.empty((b, P)), np.empty((b, P)), np.empty(b)
        none = np.zeros(0)
        for rows, Xb in self._blocks(P):
            k = Xb.shape[0]
            Z, sZ, r = Zbuf[:k], Sbuf[:k], rbuf[:k]
            np.matmul(Xb, W.T, out=Z)
            y = self.y[rows]
            if M and not prefix:  # the population's output from a product of its own
                y = y - act(Xb @ W_ref.T) @ a_ref / M
            # sZ = sigma(Z), r = y - f_rho, Z <- sigma'(Z) r: one fused pass
            k_emp.residual_rows(act.kind, act.p, Z, y, a_ref if prefix and M else none,
                                M if prefix else 0, sZ, r)
            S += r @ sZ
            G += Z.T @ Xb
        return S / self.n, G / self.n

    # -- functionals --------------------------------------------------------
    def grad_V(self, a, W):
        """``V(theta_i) = -(a_i/n) sum_p y_p sigma(<w_i, x_p>)`` with its gradient:
        ``(V, dV/da, dV/dW)``."""
        return self._grad_V(*_checks.network(a, W, self.d))

    def _grad_V(self, a, W):
        S, G = self._residual_sums(W, None, None, False, True)
        return -a * S, -S, -a[:, None] * G

    def V(self, a, W):
        """``V(theta_i)`` for each neuron, shape (N,)."""
        a, W = _checks.network(a, W, self.d)
        return -a * self._residual_sums(W, None, None, False, False)[0]

    def _kernel_sums(self, W1, W2, grad):
        """``(1/n) sum_p sigma(z1_pi) sigma(z2_pj)`` (N1, N2) and, with ``grad``,
        ``(1/n) sum_p sigma'(z1_pi) sigma(z2_pj) x_p`` (N1, N2, d)."""
        act = self.activation
        N1, N2 = W1.shape[0], W2.shape[0]
        F = np.zeros((N1, N2))
        DW = np.zeros((N1 * N2, self.d)) if grad else None
        for _, Xb in self._blocks(N1 + N2):
            Z1 = Xb @ W1.T
            S2 = act(Xb @ W2.T)
            F += act(Z1).T @ S2
            if grad:
                DS = act.derivative(Z1)[:, :, None] * S2[:, None, :]
                DW += DS.reshape(Xb.shape[0], N1 * N2).T @ Xb
        F /= self.n
        return F, (DW.reshape(N1, N2, self.d) / self.n if grad else None)

    def U(self, a1, W1, a2, W2):
        """``U(theta_i, theta'_j) = (a_i a'_j / n) sum_p sigma(<w_i, x_p>) sigma(<w'_j, x_p>)``,
        shape (N1, N2)."""
        a1, W1 = _checks.network(a1, W1, self.d, "1")
        a2, W2 = _checks.network(a2, W2, self.d, "2")
        return np.outer(a1, a2) * self._kernel_sums(W1, W2, False)[0]

    def grad1_U(self, a1, W1, a2, W2):
        """Gradient of U in its first argument: ``(dU/da1 (N1, N2), dU/dW1 (N1, N2, d))``.
        Memory ``block * N1 * N2`` floats: for small nets (tests, diagnostics)."""
        a1, W1 = _checks.network(a1, W1, self.d, "1")
        a2, W2 = _checks.network(a2, W2, self.d, "2")
        F, DW = self._kernel_sums(W1, W2, True)
        return F * a2[None, :], DW * np.outer(a1, a2)[:, :, None]

    def grad_psi(self, a, W, a_ref, W_ref):
        """``Psi(theta_i; rho)`` and its gradient, rho the reference's empirical law.

        ``Psi(theta; rho) = V(theta) + int U(theta, theta') rho(dtheta')
        = -(a/n) sum_p (y_p - f_rho(x_p)) sigma(<w, x_p>)`` (Mei et al. 2018 eq. (8)).
        Returns ``(Psi, dPsi/da, dPsi/dW)``.  Cost: three products of size
        n x d x (rows), two when ``W_ref`` is the leading rows of ``W`` (as in the
        particle limit).
        """
        a, W = _checks.network(a, W, self.d)
        a_ref, W_ref = _checks.network(a_ref, W_ref, self.d, "ref_")
        if a_ref.size == 0:
            raise ValueError("a_ref must hold at least one particle")
        return self._grad_psi(a, W, a_ref, W_ref)

    def _grad_psi(self, a, W, a_ref, W_ref):
        S, G = self._residual_sums(W, a_ref, W_ref, leading_rows(W, W_ref), True)
        return -a * S, -S, -a[:, None] * G

    def psi(self, a, W, a_ref, W_ref):
        """``Psi(theta_i; rho)`` for each row, see :meth:`grad_psi`."""
        a, W = _checks.network(a, W, self.d)
        a_ref, W_ref = _checks.network(a_ref, W_ref, self.d, "ref_")
        if a_ref.size == 0:
            raise ValueError("a_ref must hold at least one particle")
        return -a * self._residual_sums(W, a_ref, W_ref, False, False)[0]

    def risk(self, a, W):
        """``L_N(theta) = (1/n) sum_p (y_p - yhat(x_p))^2``, exactly (eq. (3.2) of Shevchenko
        & Mondelli on the empirical law).  Neurons with ``a_i = 0`` are skipped."""
        return self._risk(*_checks.network(a, W, self.d))

    def _risk(self, a, W):
        N = a.size
        live = a != 0.0
        if not live.all():
            a, W = a[live], W[live]
        if a.size == 0:
            return self.ey2
        r = self.y - self._outputs(a[:, None], W, N)[:, 0]
        return float(r @ r) / self.n

    def self_kernel(self, W):
        """``(1/n) sum_p sigma(<w_i, x_p>)^2`` for each row."""
        W = np.ascontiguousarray(W, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != self.d:
            raise ValueError(f"W must have shape (N, {self.d}), got shape {W.shape}")
        out = np.zeros(W.shape[0])
        act = self.activation
        for _, Xb in self._blocks(W.shape[0]):
            s = act(Xb @ W.T)
            out += np.einsum("pi,pi->i", s, s)
        return out / self.n

    def risk_coefficients(self, a0, a1, W):
        """``[c0, c1, c2]`` with ``L_N((1 - s) a0 + s a1, W) = c0 + c1 s + c2 s^2``:
        ``c0 = mean (y - yhat0)^2``, ``c1 = -2 mean (y - yhat0) dyhat``,
        ``c2 = mean dyhat^2``, with yhat0 and dyhat the outputs of ``a0`` and ``a1 - a0``
        (Shevchenko & Mondelli eq. (3.2): V linear in a, U bilinear)."""
        a0, W = _checks.network(a0, W, self.d, "0")
        a1, _ = _checks.network(a1, W, self.d, "1")
        N = a0.size
        if N == 0:
            return np.array([self.ey2, 0.0, 0.0])
        out = self._outputs(np.stack([a0, a1 - a0], axis=1), W, N)
        r, dy = self.y - out[:, 0], out[:, 1]
        return np.array([float(r @ r), -2.0 * float(r @ dy), float(dy @ dy)]) / self.n

    def describe(self) -> str:
        """The task in words, for figure titles: ``fashion-mnist:0,6 (n = 12000); erf;
        d = 784``."""
        return f"{self.name} (n = {self.n}); {self.activation}; d = {self.d}"

    def __repr__(self):
        return (f"EmpiricalTask({self.name}, n={self.n}, d={self.d}, "
                f"activation={self.activation})")


def _standardise(X):
    """Per-feature zero mean and unit variance (constant features only centred), in float64."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0.0] = 1.0
    return (X - mean) / std


def _classes(classes, n_classes):
    try:
        c = tuple(int(v) for v in classes)
    except (TypeError, ValueError):
        c = ()
    if len(c) != 2 or c[0] == c[1] or not all(0 <= v < n_classes for v in c):
        raise DataError(f"classes must be two distinct integers in [0, {n_classes - 1}], "
                        f"got {classes!r}")
    return c


__all__ = ["SCRATCH", "DataError", "EmpiricalTask", "check_data"]
