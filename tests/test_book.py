"""The website builds offline from the notebooks (smoke schedule) and shows their figures.

The build itself is the session fixture `built_book` (tests/conftest.py), shared with test_browser.py.
"""

import re
from pathlib import Path

from conftest import build_log

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_with_figures_and_no_tracebacks(built_book):
    assert built_book.result.returncode == 0, build_log(built_book.result)
    html = built_book.html
    assert (html / "index.html").is_file()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = (html / "notebooks" / f"{notebook.stem}.html").read_text()
        assert re.search(r"<img[^>]+\.png", page), f"{notebook.name}: no figure on its page"
        assert "Traceback" not in page, f"{notebook.name}: an output contains a traceback"
        assert "schedule: smoke" in page, f"{notebook.name}: the run line is missing"


def test_book_is_self_contained(built_book):
    """Pages load MathJax and the widget renderer from the site itself, never from a CDN."""
    assert built_book.result.returncode == 0, build_log(built_book.result)
    html = built_book.html
    assert (html / "vendor" / "mathjax" / "tex-mml-chtml.js").is_file(), (
        "MathJax is not vendored: run `bash scripts/vendor_js.sh` (scripts/setup.sh does)"
    )
    for page in html.rglob("*.html"):
        if "vendor" in page.relative_to(html).parts:
            continue
        text = page.read_text()
        remote = re.findall(r"<(?:script|link|img|iframe)[^>]+(?:src|href)=\"(?:https?:)?//[^\"]+", text)
        assert not remote, f"{page.relative_to(html)} loads from the network: {remote}"


def test_bibliography_lists_the_course_papers(built_book):
    """references.bib parses, and the bibliography page (when the toc lists it) shows every entry."""
    assert built_book.result.returncode == 0, build_log(built_book.result)
    keys = re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), re.M)
    assert len(keys) == len(set(keys)) >= 15, "references.bib: duplicate keys or papers missing"
    page = built_book.html / "bibliography.html"
    if page.exists():
        entries = page.read_text().count('role="doc-biblioentry"')
        assert entries == len(keys), f"bibliography.html shows {entries} of {len(keys)} papers"
