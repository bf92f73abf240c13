"""Checks on the documentation's Markdown sources and rendered HTML.

Shared by ``tests/test_docs_pages.py`` (the sources, rendered with MyST's own
Markdown parser, in the default suite) and ``tests/test_docs.py`` (the HTML of
a full ``sphinx-build``, behind ``-m slow``).

A GitHub-flavoured Markdown table splits a row at every ``|`` that is not
escaped, inside code spans too: a row written as ``| `L_|A|` | (3.4) | code |``
has five cells under a three-cell header, and the renderer silently drops the
last two.  What is left shows as text with a stray backtick.  Mathematics
that did not render leaves a raw ``$`` in the text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DELIMITER = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")


def _cells(line):
    """The cells of a pipe-table row, split as GitHub-flavoured Markdown splits them."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return re.split(r"(?<!\\)\|", s)


def pipe_table_problems(text):
    """``(line number, header cells, row cells, row)`` for every pipe-table row of the
    Markdown ``text`` whose number of cells differs from its header's (fenced code
    blocks skipped)."""
    lines = text.splitlines()
    out, fence, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            mark = stripped[:3]
            fence = None if fence == mark else (fence or mark)
            i += 1
            continue
        if (fence is None and "|" in line and i + 1 < len(lines)
                and _DELIMITER.match(lines[i + 1]) and "-" in lines[i + 1]):
            width = len(_cells(line))
            j = i + 2
            while j < len(lines) and "|" in lines[j] and lines[j].strip():
                n = len(_cells(lines[j]))
                if n != width:
                    out.append((j + 1, width, n, lines[j]))
                j += 1
            i = j
            continue
        i += 1
    return out


class _Page(HTMLParser):
    """Text outside code, preformatted blocks, math and scripts; and the tables' rows."""

    SKIP = {"code", "pre", "script", "style", "kbd", "samp", "math", "textarea"}
    VOID = {"br", "img", "hr", "input", "meta", "link", "col", "wbr", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # open elements: (tag, skipped)
        self.text = []           # (text, enclosing tags)
        self.tables = []         # per table: list of rows, each (is_header, n_cells)
        self._row = None

    def _skipped(self):
        return any(s for _, s in self.stack)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        cls = dict(attrs).get("class") or ""
        skip = (tag in self.SKIP or "math" in cls.split() or "highlight" in cls
                or "sig" in cls.split() or "MathJax" in cls)
        self.stack.append((tag, skip))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = [False, 0]
        elif tag in ("td", "th") and self._row is not None:
            self._row[1] += int(dict(attrs).get("colspan") or 1)
            self._row[0] = self._row[0] or tag == "th" or self._in("thead")

    def _in(self, tag):
        return any(t == tag for t, _ in self.stack)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(tuple(self._row))
            self._row = None
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break

    def handle_data(self, data):
        if data.strip() and not self._skipped():
            self.text.append(data)


def html_problems(html):
    """What is wrong in a rendered page: table rows with a number of cells other than
    their header's, and raw ``$`` or stray backticks in the text outside code and
    mathematics (a formula that did not render, a code span cut by a table split)."""
    page = _Page()
    page.feed(html)
    problems = []
    for k, rows in enumerate(page.tables):
        heads = [n for is_head, n in rows if is_head]
        if not heads:
            continue
        width = heads[0]
        for is_head, n in rows:
            if n != width:
                problems.append(f"table {k}: a row of {n} cells under a header of {width}")
    for chunk in page.text:
        for ch in ("$", "`"):
            if ch in chunk:
                at = chunk.index(ch)
                problems.append(f"raw {ch!r} in the text: {chunk[max(0, at - 40):at + 40]!r}")
    return problems


def markdown_parser():
    """MyST's Markdown parser with the extensions ``docs/conf.py`` enables."""
    import ast
    from pathlib import Path

    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser
    from markdown_it.renderer import RendererHTML

    conf = Path(__file__).resolve().parents[1] / "docs" / "conf.py"
    tree = ast.parse(conf.read_text())
    extensions = []
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "myst_enable_extensions"
                                                 for t in node.targets)):
            extensions = ast.literal_eval(node.value)
    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)
