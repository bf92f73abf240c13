"""Settings dataclasses whose fields carry their own help: one place per setting.

An experiment's settings are a dataclass; each field is made by
:func:`setting`, which stores the help text (and, for lists, the element
type) in the field's metadata.  :func:`options_of` reads them back as the
``name -> (type, default, help)`` table that the command line's flags, the
sweep configs' checks and ``meanfield sweep --list`` are built from, so a new
setting is one new field and nothing else.  Standard library only: the model
packages that define settings import nothing above them.
"""

from __future__ import annotations

import dataclasses


def setting(default, help, *, kind=None, added=False):
    """A dataclass field with its default, its help text and, optionally, its option type.

    Parameters
    ----------
    default
        The field's default (immutable: a number, string, tuple or None).
    help : str
        One line for ``--help`` and ``meanfield sweep --list``; the default is
        appended there unless the text says it (``"(default 1/N)"``).
    kind : {"ints", "floats"} or type, optional
        The option's type; default ``type(default)``, ``"ints"`` for a tuple.
        A list of floats, or a field whose default is None, says it here.
    added : bool
        The setting came after results were stored: at its default it is left out
        of a cell's name (:func:`meanfield.experiments.cell_id`), so folders written
        before it keep their cells.  Its default must reproduce those results.
    """
    return dataclasses.field(default=default,
                             metadata={"help": help, "kind": kind, "added": added})


def options_of(cls, skip=()) -> dict:
    """``{name: (type, default, help)}`` of the fields of settings dataclass ``cls``.

    Raises
    ------
    TypeError
        Naming a field made without :func:`setting` (it would have no help).
    """
    out = {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        if "help" not in f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} has no help text: define it with "
                            f"meanfield._settings.setting(default, help)")
        kind = f.metadata.get("kind")
        if kind is None:
            kind = "ints" if isinstance(f.default, tuple) else type(f.default)
        out[f.name] = (kind, f.default, f.metadata["help"])
    return out


def added_of(cls) -> dict:
    """``{name: default}`` of the fields of ``cls`` made with ``setting(..., added=True)``."""
    return {f.name: f.default for f in dataclasses.fields(cls) if f.metadata.get("added")}


_KIND_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
               "ints": "a list of integers", "floats": "a list of numbers"}


def check_types(settings) -> None:
    """Raise ValueError naming the first field of ``settings`` whose value is not of its
    option's type (:func:`options_of`): an integer (not a bool), a number, a string, a
    bool, or a list (tuple) of them; None only where the default is None.

    The command line and the sweep configs give values of these types already
    (:func:`meanfield.experiments.options.coerce`); this says the same of settings
    made in Python, before any range check compares them.
    """
    for name, (kind, default, _) in options_of(type(settings)).items():
        v = getattr(settings, name)
        if v is None and default is None:
            continue
        if kind in ("ints", "floats"):
            elem = int if kind == "ints" else (int, float)
            ok = isinstance(v, (tuple, list)) and all(
                isinstance(x, elem) and not isinstance(x, bool) for x in v)
        elif kind is float:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        elif kind is int:
            ok = isinstance(v, int) and not isinstance(v, bool)
        else:
            ok = isinstance(v, kind)
        if not ok:
            raise ValueError(f"{name} must be {_KIND_WORDS.get(kind, kind)}, got {v!r}")
