"""The documentation's Markdown pages render whole: tables keep their columns, formulas render.

Fast checks of the sources (the full Sphinx build is ``tests/test_docs.py``,
behind ``-m slow``): every pipe-table row has as many cells as its header (a
``|`` inside a code span splits a row and the renderer drops the cells past
the header's), and each page rendered with MyST's own parser, with the
extensions of ``docs/conf.py``, has no raw ``$`` or stray backtick in its
text.  Skipped when myst-parser is not installed.
"""

import importlib.util
from pathlib import Path

import pytest

from _docs_checks import html_problems, markdown_parser, pipe_table_problems

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)


def test_pages_found():
    names = {p.relative_to(ROOT / "docs").as_posix() for p in PAGES}
    assert {"index.md", "theory.md", "guide/rates.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT / "docs").as_posix())
def test_pipe_tables_keep_their_columns(page):
    problems = pipe_table_problems(page.read_text())
    assert not problems, "\n".join(f"{page.name}:{ln}: {n} cells under a header of {w}: {row}"
                                   for ln, w, n, row in problems)


@pytest.mark.skipif(importlib.util.find_spec("myst_parser") is None,
                    reason="myst-parser is not installed: pip install -e '.[docs]'")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT / "docs").as_posix())
def test_rendered_page_has_no_raw_math_or_cut_code(page):
    html = markdown_parser().render(page.read_text())
    problems = html_problems(html)
    assert not problems, "\n".join(problems)


def test_checks_catch_a_split_row_and_raw_dollars():
    text = "| a | b | c |\n|---|---|---|\n| `L_|A|` | (3.4) | x |\n| ok | ok | ok |\n"
    assert [p[:3] for p in pipe_table_problems(text)] == [(3, 3, 5)]
    assert pipe_table_problems(text.replace("L_|A|", "L_\\|A\\|")) == []
    if importlib.util.find_spec("myst_parser") is not None:
        md = markdown_parser()
        assert any("'`'" in p for p in html_problems(md.render(text)))
        assert html_problems(md.render("Risk $L_N(\\theta)$ and `a $ b`.\n")) == []
        assert any("'$'" in p for p in html_problems(md.render("Risk $L_N(\\theta).\n")))
    assert html_problems("<table><thead><tr><th>a</th><th>b</th></tr></thead>"
                         "<tr><td>1</td></tr></table>")
