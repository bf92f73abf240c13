"""Input validation shared by the public API.  Every error names the argument
and the accepted range (docs/design.md, Conventions)."""

from __future__ import annotations

import numbers
import re

import numpy as np


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def nonneg_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


#: Most time steps one run takes: beyond it a run would not end in a person's lifetime on
#: any CPU (about 1e7 steps a second at the smallest sizes).
MAX_STEPS = 10 ** 12

#: Widest teacher: the task's constant sums width^2 teacher pairs when it is built.
MAX_TEACHER_WIDTH = 10_000


def at_most(name: str, value, limit, why: str):
    """``value``, after raising ValueError naming ``name``, the limit and ``why`` when it is
    above ``limit`` (a size typed with too many digits: said before any work)."""
    if value > limit:
        raise ValueError(f"{name} must be <= {_number(limit)} ({why}), got {_number(value)}")
    return value


def _number(x):
    """An integer in full (a width of 10001 is not "1e+04"), a float to 3 digits."""
    return str(x) if isinstance(x, numbers.Integral) else f"{x:.3g}"


def fits_in_memory(what: str, n_floats, names: str, share=0.5) -> None:
    """Raise ValueError when ``n_floats`` float64 numbers (``what``, sized by the settings
    ``names``) would take more than ``share`` of this machine's memory: said before any
    work, where numpy would otherwise fail (or the system swap) half-way through."""
    import os

    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf: assume 16 GiB
        total = 16 * 2 ** 30
    need = 8.0 * float(n_floats)
    if need > share * total:
        raise ValueError(f"{what} would take {need / 2 ** 30:.3g} GiB, more than "
                         f"{share:.0%} of this machine's {total / 2 ** 30:.3g} GiB; make "
                         f"{names} smaller")


def positive(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}") from None
    if not np.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def nonneg(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if not np.isfinite(v) or v < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def network(a, W, d: int, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate two-layer parameters: ``a`` of shape (N,), ``W`` of shape (N, d)."""
    pa, pw = (f"{name}a", f"{name}W")
    a = np.ascontiguousarray(a, dtype=np.float64)
    W = np.ascontiguousarray(W, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{pa} must have shape (N,), got shape {a.shape}")
    if W.ndim != 2 or W.shape[1] != d:
        raise ValueError(f"{pw} must have shape (N, {d}), got shape {W.shape}")
    if W.shape[0] != a.shape[0]:
        raise ValueError(f"{pa} and {pw} disagree on N: {a.shape[0]} vs {W.shape[0]}")
    if not (np.isfinite(a).all() and np.isfinite(W).all()):
        raise ValueError(f"{pa} and {pw} must be finite")
    return a, W


def generator(rng) -> np.random.Generator:
    """Accept a Generator or an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy.random.Generator or an integer seed >= 0, got {rng!r}")


def spawn(rng, n: int) -> list[np.random.Generator]:
    """``n`` independent Generators from a Generator or an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng.spawn(n)
    generator(rng)  # validates the seed
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(rng)).spawn(n)]


def schedule_value(schedule, t):
    """``xi(t)`` of a step-size schedule (A1) at times ``t`` (scalar or array).

    ``schedule`` may be vectorised or scalar-only; None means ``xi = 1``.
    Raises ValueError unless every value is finite and >= 0.
    """
    t = np.asarray(t, dtype=np.float64)
    if schedule is None:
        return np.ones_like(t)
    try:
        xi = np.broadcast_to(np.asarray(schedule(t), dtype=np.float64), t.shape)
    except (TypeError, ValueError):
        xi = np.array([float(schedule(ti)) for ti in t.ravel()]).reshape(t.shape)
    ok = np.isfinite(xi) & (xi >= 0)
    if not ok.all():
        bad = np.flatnonzero(~ok.ravel())[0]
        raise ValueError(f"schedule must return finite values >= 0, got "
                         f"xi({t.ravel()[bad]:.6g}) = {xi.ravel()[bad]}")
    return xi


#: Laws of initial output (and middle) weights: ``gaussian``, or ``uniform``, of bounded support
#: as Shevchenko & Mondelli's assumptions (A4) and (B4) ask.
A_LAWS = ("gaussian", "uniform")


#: What a ``device`` argument may name: torch's CPU, its default GPU or GPU K, or ``auto``
#: (the GPU when one is present).
DEVICE_PATTERN = r"auto|cpu|cuda(:\d+)?"


def device(value, name: str = "device") -> str:
    """``value`` if it names a device of :data:`DEVICE_PATTERN`, else ValueError naming
    ``name`` and the accepted forms (checked before torch is imported or any work starts)."""
    if not isinstance(value, str) or not re.fullmatch(DEVICE_PATTERN, value):
        raise ValueError(f"{name} must be auto, cpu, cuda or cuda:K, got {value!r}")
    return value


def a_law(law):
    """``law`` if it is one of :data:`A_LAWS`, else ValueError naming them."""
    if law not in A_LAWS:
        raise ValueError(f"a_law must be one of {', '.join(A_LAWS)}, got {law!r}")
    return law


def standardised_draws(law, shape, rng):
    """Draws of mean 0 and variance 1 from ``law`` (:data:`A_LAWS`): standard normal, or
    uniform on [-sqrt 3, sqrt 3]."""
    if a_law(law) == "uniform":
        return np.sqrt(3.0) * rng.uniform(-1.0, 1.0, shape)
    return rng.standard_normal(shape)
