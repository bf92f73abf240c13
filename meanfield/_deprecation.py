"""Old public names, kept working for one release with a DeprecationWarning.

A module that renamed a name lists ``old -> new`` and ends with
``def __getattr__(name): return renamed(__name__, name, _RENAMED, globals())``;
docs/changelog.md lists every rename.
"""

from __future__ import annotations

import warnings

#: The release that removes the old names.
REMOVED_IN = "0.3"


def warn_renamed(old, new, stacklevel=3, note=""):
    """Warn that ``old`` (a dotted name) is deprecated in favour of ``new``."""
    warnings.warn(f"{old} is deprecated: use {new}{note} (the old name will be removed in "
                  f"{REMOVED_IN})", DeprecationWarning, stacklevel=stacklevel)


def renamed(module, name, table, namespace):
    """The module-level ``__getattr__`` of a module whose names ``table`` renamed: the new
    object under the old name, with a DeprecationWarning; AttributeError for other names."""
    if name in table:
        warn_renamed(f"{module}.{name}", f"{module}.{table[name]}", stacklevel=4)
        return namespace[table[name]]
    raise AttributeError(f"module {module!r} has no attribute {name!r}")


def renamed_keyword(old, new):
    """Decorator: the keyword ``old`` of a function still works for one release, as ``new``,
    with a DeprecationWarning; giving both is a TypeError."""
    import functools

    def wrap(func):
        @functools.wraps(func)
        def call(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{func.__name__}() got both {old}= (deprecated) and {new}=")
                warn_renamed(f"{func.__name__}({old}=...)", f"{func.__name__}({new}=...)")
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)
        return call
    return wrap


def bind_form(name, names, args, kwargs, required=None):
    """Bind the positional ``args`` and the keywords of ``kwargs`` named in ``names`` (a call
    form of ``name``): a dict of the bound values; the keywords bound are removed from
    ``kwargs``, the others stay for the caller.  ``required`` (default: all of ``names``)
    must be bound; TypeError as Python's own for too many, repeated or missing arguments."""
    if len(args) > len(names):
        raise TypeError(f"{name} takes {len(names)} positional arguments, got {len(args)}")
    bound = dict(zip(names, args))
    for k in names:
        if k in kwargs:
            if k in bound:
                raise TypeError(f"{name} got multiple values for argument {k!r}")
            bound[k] = kwargs.pop(k)
    missing = [k for k in (names if required is None else required) if k not in bound]
    if missing:
        raise TypeError(f"{name}({', '.join(names)}): missing {', '.join(missing)}")
    return bound
