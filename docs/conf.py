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
    "sphinxarg.ext",
    "sphinxcontrib.bibtex",
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
    # the top navigation holds every entry of the root toctree up to the Changelog
    # (API reference and Changelog included); the rest sit under "More"
    "header_links_before_dropdown": 8,
    "navbar_align": "left",
    "navbar_end": ["theme-switcher"],
    "navbar_persistent": ["search-button"],
    # the wide tables (equation map, verdicts, options) get the whole width
    "secondary_sidebar_items": {"**": ["page-toc"], "theory": [], "cli": [],
                                "validation/report": [], "index": []},
}
# pages without sub-pages need no section navigation on the left
html_sidebars = {page: [] for page in (
    "index", "quickstart", "cli", "theory", "validation_report", "validation/report",
    "changelog", "install", "cite", "references", "contributing", "design", "architecture")}
html_static_path = ["_static"]
# code shown whole: long lines wrap, and the article column uses the page width
html_css_files = ["meanfield.css"]

# MyST: the Markdown pages (design notes, theory map, architecture, user guide).
# dollarmath and amsmath typeset $...$, $$...$$ and LaTeX environments with MathJax.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_dmath_double_inline = True

# one bibliography (references.bib), cited as {cite:t}`SM2020` and listed on references.md
bibtex_bibfiles = ["references.bib"]
bibtex_reference_style = "author_year"
bibtex_default_style = "plain"
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
    # modules whose names the guides use beyond their package's __all__: these pages
    # list only the names the package page does not
    ("twolayer.dropout", "Two-layer dropout: the bias, nested and rescaled subsets"),
    ("twolayer.paths", "Two-layer paths: seven segments, straight and aligned lines"),
    ("twolayer.experiment", "The two-layer stability experiment of Theorem 1: settings "
                            "and cells"),
    ("experiments.stability", "Running the two-layer stability experiment"),
]

#: Modules without an ``__all__`` whose pages list only these names (the module's
#: other public names are helpers of the sweep runner).
API_NAMES = {
    "twolayer.experiment": ["StabilityConfig", "StabilityResult", "stability_cell",
                            "path_cell", "train_pair", "connect_pair"],
    "experiments.stability": ["run_stability", "save_stability", "stability_sweep"],
}

#: Names kept out of the API pages: constants that are messages, not API.
API_SKIP = {"TORCH_HINT"}


def _public_names(module):
    """``__all__`` of ``module``, or its public functions and classes, minus modules."""
    names = API_NAMES.get(module.__name__.removeprefix("meanfield."))
    names = getattr(module, "__all__", None) if names is None else names
    if names is None:
        names = [n for n, v in vars(module).items()
                 if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
                 and getattr(v, "__module__", None) == module.__name__]
    out = []
    parent = module.__name__.rpartition(".")[0]
    shown = set()
    if parent != "meanfield" and parent in sys.modules and any(
            f"meanfield.{m}" == parent for m, _ in API_MODULES):
        shown = set(getattr(sys.modules[parent], "__all__", ()))
    for n in names:
        value = getattr(module, n)
        if isinstance(value, types.ModuleType) or n in API_SKIP or n in shown:
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
    lines += [f"   ~meanfield.{n}" for n in own if n not in API_SKIP]
    lines += ["", ".. toctree::", "   :maxdepth: 1", ""]
    lines += [f"   {mod}" for mod, _ in API_MODULES]
    _write_if_changed(API_DIR / "index.rst", "\n".join(lines) + "\n")
    expected = {f"meanfield.{n}.rst" for n in own if n not in API_SKIP}
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
        # the verdicts first: the totals of the latest full report under the title
        title, _, rest = source[0].partition("\n")
        source[0] = f"{title}\n\n{_report_totals(REPORT.read_text())}\n{rest}"


def _report_totals(text):
    """One line: the verdicts of the report ``text``, linking to its page."""
    _, rows, rest = _report_rows(text)
    judged = [r for r in rows if r["result"] in ("PASS", "FAIL")]
    claims = [r for r in judged if not _check(r)]
    n_pass = sum(r["result"] == "PASS" for r in claims)
    sizes = next((ln.split(".")[0] for ln in rest if ln.startswith("Sizes:")), "")
    return (f"```{{admonition}} The latest full report ({sizes.removeprefix('Sizes: ')})\n"
            f"**{n_pass} of {len(claims)} judged claims pass, {len(claims) - n_pass} fail; "
            f"{len(judged) - len(claims)} checks apart; "
            f"{len(rows) - len(judged)} rows are reported without a verdict.**  "
            f"Each claim with its verdict, measurement and figure: "
            f"{{doc}}`validation/report`.\n```\n")


# ---------------------------------------------------------------------------
# The quick start shows what its first command writes: the build runs it (at the
# command's default sizes; at small sizes under MEANFIELD_GALLERY_SMALL=1) into
# docs/_generated/quickstart/ and the page includes its figure and the head of
# its CSV.  It reruns only when the command changes.

GENERATED = HERE / "_generated"
QUICKSTART_ARGS = (["couple", "--N", "100", "--M", "400", "--T", "1", "--snapshots", "11"]
                   if SMALL else ["couple"])


def _quickstart_outputs():
    import shlex

    out = GENERATED / "quickstart"
    command = "meanfield " + shlex.join(QUICKSTART_ARGS) + " --out runs/first"
    stamp = out / "command.txt"
    if not (stamp.exists() and stamp.read_text().strip() == command
            and (out / "risk.png").exists() and (out / "results.csv").exists()):
        import contextlib
        import io

        from meanfield.cli import main

        out.mkdir(parents=True, exist_ok=True)
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            rc = main([*QUICKSTART_ARGS, "--quiet", "--out", str(out)])
        if rc != 0:
            raise RuntimeError(f"the quick start's command failed: {command}")
        # the message as a user sees it: the folder they named, not the build's
        message = text.getvalue().replace(str(out), "runs/first")
        (out / "message.txt").write_text(message)
        stamp.write_text(command + "\n")
    rows = [line.split(",") for line in (out / "results.csv").read_text().splitlines()[:6]]
    shown = [rows[0]] + [[f"{float(v):.4g}" if v else v for v in row] for row in rows[1:]]
    (out / "results_head.csv").write_text("\n".join(",".join(r) for r in shown) + "\n")


_quickstart_outputs()


# ---------------------------------------------------------------------------
# The latest full validation report leads with its verdicts: docs/validation/
# report.md is a 12-column table; its page is rebuilt at read time into a
# totals line, the judged claims with their verdict next to the claim, the
# constructions checked to rounding, the observations reported without a
# verdict, the figures inline, and the full table behind a details toggle.

def _report_rows(text):
    """The report table of ``text`` as dicts keyed by its header, and the other lines."""
    lines = text.splitlines()
    head, rows, rest = None, [], []
    for line in lines:
        if line.startswith("|") and head is None:
            head = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        elif line.startswith("|---"):
            continue
        elif line.startswith("|") and head is not None:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            rows.append(dict(zip(head, cells)))
        else:
            rest.append(line)
    return head, rows, rest


def _check(row):
    """Why a report row is a check, not a claim (the report's column, or the rule's)."""
    from meanfield.analysis.claims import check_reason

    return row.get("check") or check_reason(row["id"])


def _verdict_page(text):
    head, rows, rest = _report_rows(text)
    if not rows or "result" not in head:
        return text
    title = next((ln for ln in rest if ln.startswith("# ")), "# Validation report")
    # the report's own totals line is replaced by the one above the tables
    info = [ln for ln in rest if ln.strip() and not ln.startswith(("#", "Judged claims:"))]
    judged = [r for r in rows if r["result"] in ("PASS", "FAIL")]
    checks = [r for r in judged if _check(r)]
    claims = [r for r in judged if r not in checks]
    observed = [r for r in rows if r not in judged]

    def verdict(r):
        cls = {"PASS": "verdict-pass", "FAIL": "verdict-fail"}.get(r["result"], "verdict-reported")
        return f'<span class="{cls}">{r["result"]}</span>'

    def esc(cell):
        import html

        return html.escape(cell.replace("\\|", "|"))

    def table(rs, cols, caption):
        out = [f'<table class="table verdicts"><caption>{caption}</caption><thead><tr>']
        out += [f"<th>{c}</th>" for c, _ in cols] + ["</tr></thead><tbody>"]
        for r in rs:
            out.append("<tr>" + "".join(f"<td>{f(r)}</td>" for _, f in cols) + "</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    def measured(r):
        value = esc(r.get("measured", ""))
        interval = esc(r.get("interval", ""))
        return f"{value} {interval}".strip()

    def claim(r):
        return f'{esc(r["claim"])}<br><code class="claim-id">{esc(r["id"])}</code>'

    cols = [("verdict", verdict), ("claim", claim),
            ("paper", lambda r: esc(r["paper"])), ("measured [interval]", measured),
            ("criterion", lambda r: esc(r["criterion"]))]
    obs_cols = [("", verdict), ("observation", claim),
                ("why not judged", lambda r: esc(r["assumptions"] if r["assumptions"] != "inside"
                                                 else r["criterion"])),
                ("measured [interval]", measured)]
    parts = [title, ""]
    c_pass = sum(r["result"] == "PASS" for r in claims)
    k_pass = sum(r["result"] == "PASS" for r in checks)
    parts += [f"**Claims: {c_pass} of {len(claims)} pass, {len(claims) - c_pass} fail.**  "
              f"Checks, which could not fail for the claim's reason: {k_pass} of "
              f"{len(checks)} pass.  {len(observed)} rows are reported without a verdict.", ""]
    parts += info + [""]
    parts += ["## Claims", "",
              "Statements of the papers judged by their rule "
              "({mod}`meanfield.analysis.claims`), inside the theorems' assumptions.", "",
              "```{raw} html", table(claims, cols, "Judged claims"), "```", ""]
    if checks:
        check_cols = cols + [("why a check", lambda r: esc(_check(r)))]
        parts += ["## Checks", "",
                  "Rows that could not fail for the reason the paper's claim is interesting: "
                  "constructions that hold by the lemmas, sanity gates of ours, bounds "
                  "vacuous at the step used, t = 0.  A failing check is a bug; a passing "
                  "one is no evidence for the paper.", "",
                  "```{raw} html", table(checks, check_cols, "Checks"), "```", ""]
    parts += ["## Observations", "",
              "Settings beyond a theorem's assumptions, or quantities reported beside a bound "
              "that does not vanish there: measured and shown, not judged.", "",
              "```{raw} html", table(observed, obs_cols, "Reported without a verdict"), "```", ""]
    figures = []
    for r in rows:
        m = re.search(r"\(([^)]+\.png)\)", r.get("figure", ""))
        if m and m.group(1) not in figures:
            figures.append(m.group(1))
    if figures:
        parts += ["## Figures", ""]
        for f in figures:
            name = Path(f).stem
            parts += [f"```{{figure}} {f}", f":alt: {name}", ":width: 75%", "",
                      f"`{name}`", "```", ""]
    full = [ln for ln in text.splitlines() if ln.startswith("|")]
    parts += ["## The full table", "",
              "Every column of the report as written (script and its run time, "
              "assumptions, the verdict under the rule a new one replaced, tightness).", "",
              "```{raw} html", "<details><summary>Show the full table (12 columns)</summary>",
              "```", "", *full, "", "```{raw} html", "</details>", "```", ""]
    return "\n".join(parts)


def _report_page(app, docname, source):
    if docname == "validation/report":
        source[0] = _verdict_page(source[0])


# ---------------------------------------------------------------------------
# The CLI reference (sphinx-argparse) parses a command's description and epilog as
# reStructuredText: the help's plain '|A|' would be a substitution, and the indented
# example of 'sweep --help' a block quote.  Both are shown as the terminal shows them.

def _patch_argparse():
    import sphinxarg.ext as ext
    from docutils import nodes

    def as_shown(text):
        if any(line.startswith("  ") for line in text.splitlines()):
            return nodes.literal_block(text, text)
        return nodes.paragraph(text, text)

    def render_list(items, markdown_help, settings=None):
        out = []
        for x in items:
            if isinstance(x, str):
                out.append(as_shown(x))
            elif isinstance(x, nodes.definition):
                out.extend(x.children)
        return out

    ext.ArgParseDirective._nested_parse_paragraph = lambda self, text: as_shown(text)
    ext.render_list = render_list


_patch_argparse()


def setup(app):
    app.connect("source-read", _validation_page)
    app.connect("source-read", _report_page)
