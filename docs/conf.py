"""Sphinx configuration for the meanfield documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (after
``pip install -e '.[docs]'``).  The API pages are generated from
``meanfield.__all__`` and the ``__all__`` of each public subpackage at every
build (into ``docs/api/``, git-ignored), so they cannot drift from the code.
The gallery (``examples/``) runs with sphinx-gallery; set
``MEANFIELD_GALLERY_SMALL=1`` to run it at its smallest sizes, and
``MEANFIELD_GALLERY_RUN=0`` to build without running it.
"""

import importlib.util
import inspect
import os
import re
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import meanfield  # noqa: E402

project = "meanfield"
author = "the meanfield authors"
copyright = "the meanfield authors, BSD-3-Clause"
release = version = meanfield.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "validation.md",
                    "sg_execution_times.rst"]

html_theme = "pydata_sphinx_theme"
html_title = f"meanfield {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

# MyST: the Markdown pages (design notes, theory map, architecture, user guide).
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc / autosummary / numpydoc
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# References sections render as written (authors, title, venue, equation);
# numpydoc's docstring validation is off: the build fails on real Sphinx
# warnings (broken references, bad markup), not on numpydoc style checks.
numpydoc_validation_checks = set()
# Module docstrings list their papers as numbered citations without citing
# them in the text; numpydoc renders them, Sphinx would call them unreferenced.
suppress_warnings = ["ref.citation"]

# autosummary's one-line summaries end at the first ". "; the docstrings
# abbreviate "eq.", "eqs.", "et al.", "i.i.d.", "e.g.", "i.e." and write
# ranges as "W_2 .. W_L", none of which ends a sentence.
import sphinx.ext.autosummary as _autosummary  # noqa: E402

_autosummary.periods_re = re.compile(
    r"(?<!\beq)(?<!\beqs)(?<!\bal)(?<!\bi\.i\.d)(?<!\be\.g)(?<!\bi\.e)(?<!\.)\.(?:\s+)")

# sphinx-gallery
SMALL = os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0")
RUN = os.environ.get("MEANFIELD_GALLERY_RUN", "1") not in ("", "0")
HAVE_TORCH = importlib.util.find_spec("torch") is not None
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # without torch the torch example is shown, not run
    "filename_pattern": r"/plot_" if HAVE_TORCH else r"/plot_(?!torch)",
    "plot_gallery": "True" if RUN else "False",
    "run_stale_examples": False,          # the default: only changed examples rerun
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": None,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
}

# ---------------------------------------------------------------------------
# API pages, generated from __all__ at each build.

API_DIR = HERE / "api"

#: Public subpackages and modules, in reading order, each with a one-line title.
API_MODULES = [
    ("tasks", "Data laws with exact population risks"),
    ("twolayer", "Two-layer networks: SGD, the limit, coupling, dropout, paths"),
    ("dropout", "The network protocol and dropout"),
    ("connectivity", "Paths between networks and their barriers"),
    ("multilayer", "Multilayer networks (Theorem 2)"),
    ("pde", "The radial PDE of isotropic data"),
    ("lazy", "The lazy (kernel) regime"),
    ("torch", "The torch backend: real networks on real data"),
    ("stepping", "Steppers and the time-stepping driver"),
    ("analysis", "Rates, extrapolation and bound shapes"),
    ("plotting", "Figures"),
    ("experiments", "Sweeps: configs, the Dask runner, the results store"),
    ("transport", "Optimal transport between particle clouds"),
    ("tasks.datasets", "Real data sets"),
]


def _public_names(module):
    """``__all__`` of ``module``, or its public functions and classes, minus modules."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
                 and getattr(v, "__module__", None) == module.__name__]
    out = []
    for n in names:
        value = getattr(module, n)
        if isinstance(value, types.ModuleType):
            continue
        out.append(n)
    return sorted(out, key=str.lower)


def _canonical(name):
    """Where ``meanfield.<name>`` is documented: its public subpackage."""
    where = meanfield._WHERE.get(name)
    return f"meanfield.{where}.{name}" if where else f"meanfield.{name}"


def _write_if_changed(path, text):
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_api_pages():
    """The API pages, and no stale page of a name that left an ``__all__``."""
    import importlib

    API_DIR.mkdir(exist_ok=True)
    top = [n for n in meanfield.__all__
           if n not in meanfield._SUBMODULES and not n.startswith("__")]
    lines = ["API reference", "=============", "",
             "Generated from the docstrings.  The names a user needs are importable from",
             "``meanfield`` itself (``import meanfield as mf; mf.teacher_student(...)``);",
             "each links to the page of the subpackage that defines it.  Every name in a",
             "subpackage's ``__all__`` has its own page below.", "",
             "The top level: ``meanfield``", "-----------------------------", "",
             ".. autosummary::", "   :nosignatures:", ""]
    lines += [f"   ~{_canonical(n)}" for n in top if n in meanfield._WHERE]
    # the names defined in meanfield itself get pages of their own
    own = [n for n in top if n not in meanfield._WHERE]
    lines += ["", ".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
    lines += [f"   ~meanfield.{n}" for n in own]
    lines += ["", ".. toctree::", "   :maxdepth: 1", ""]
    lines += [f"   {mod}" for mod, _ in API_MODULES]
    _write_if_changed(API_DIR / "index.rst", "\n".join(lines) + "\n")
    expected = {f"meanfield.{n}.rst" for n in own}
    for mod, title in API_MODULES:
        module = importlib.import_module(f"meanfield.{mod}")
        head = f"``meanfield.{mod}``: {title}"
        body = [head, "=" * len(head), "", f".. automodule:: meanfield.{mod}",
                "   :no-members:", "", f".. currentmodule:: meanfield.{mod}", "",
                ".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
        body += [f"   {n}" for n in _public_names(module)]
        _write_if_changed(API_DIR / f"{mod}.rst", "\n".join(body) + "\n")
        expected.update(f"meanfield.{mod}.{n}.rst" for n in _public_names(module))
    generated = API_DIR / "generated"
    if generated.is_dir():
        for page in generated.glob("*.rst"):
            if page.name not in expected:
                page.unlink()


write_api_pages()

# ---------------------------------------------------------------------------
# The validation report page: docs/validation_report.md, then the rules of
# docs/validation.md (how the claims are judged) when it exists, and the
# latest full report docs/validation/report.md as a page of its own when it
# has been generated (``meanfield validate --full``).

REPORT = HERE / "validation" / "report.md"
exclude_patterns += [str(p.relative_to(HERE)) for p in sorted((HERE / "validation").glob("**/*"))
                     if p.suffix in (".md", ".rst") and p != REPORT]


def _shift_headings(text):
    """Markdown ``text`` with every heading one level down (code blocks untouched)."""
    out, fence = [], False
    for line in text.splitlines():
        if line.startswith(("```", "~~~")):
            fence = not fence
        out.append("#" + line if line.startswith("#") and not fence else line)
    return "\n".join(out)


def _validation_page(app, docname, source):
    if docname != "validation_report":
        return
    rules = HERE / "validation.md"
    if rules.exists():
        text = rules.read_text()
        if not REPORT.exists():
            # not generated in this checkout: name the path instead of linking it
            text = text.replace("[docs/validation/report.md](validation/report.md)",
                                "`docs/validation/report.md` (not generated in this checkout)")
        source[0] += "\n" + _shift_headings(text) + "\n"
    if REPORT.exists():
        source[0] += ("\n```{toctree}\n:maxdepth: 1\n\n"
                      "The latest full report <validation/report>\n```\n")


def setup(app):
    app.connect("source-read", _validation_page)
