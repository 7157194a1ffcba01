"""The website builds offline from the notebooks (smoke schedule) and shows their figures.

The build itself is the session fixture `built_book` (tests/conftest.py), shared with test_browser.py.
It is the suite's one run of every notebook: each on a fresh kernel, stopping at the first cell
error, as `pytest --nbval-lax` would. test_notebook_runs_without_error reports each notebook's
failing cell, and compares the cells tagged nbval-check-output with their recorded output, as nbval
does; nbval itself stays for checking one notebook by hand (README, "For contributors").
"""

import re
from pathlib import Path

import nbformat
import pytest
from conftest import build_log

get_cache = pytest.importorskip("jupyter_cache", reason="jupyter-book is missing: pip install -e '.[dev]'").get_cache

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def executed_notebook(built_book, name):
    """The notebook as the build executed it (outputs from the build's jupyter-cache), or None when
    it did not run through. (The build's _build/jupyter_execute copies lack outputs on a cache hit.)"""
    source = nbformat.read(built_book.root / "notebooks" / name, as_version=4)
    try:
        return get_cache(built_book.root / "_build" / ".jupyter_cache").merge_match_into_notebook(source)[1]
    except KeyError:
        return None


def failure_report(built_book, name):
    """The failing cell and its traceback, which myst-nb saves under reports/; else the build's log."""
    report = built_book.html / "reports" / "notebooks" / name.replace(".ipynb", ".err.log")
    if not report.exists():
        return build_log(built_book.result)
    return ANSI_COLOUR.sub("", report.read_text())


def comparable(outputs):
    """Outputs as nbval compares them: consecutive streams of one name joined, counts dropped."""
    result = []
    for out in outputs:
        if out.output_type != "stream":
            result.append({"output_type": out.output_type, "data": dict(out.get("data", {}))})
        elif result and result[-1].get("name") == out.name:
            result[-1]["text"] += out.text
        else:
            result.append({"name": out.name, "text": out.text})
    return result


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_error(built_book, notebook):
    """Every cell ran without error in the build, and the nbval-check-output cells printed as recorded."""
    executed = executed_notebook(built_book, notebook.name)
    assert executed is not None, (
        f"{notebook.name} failed in the book build:\n{failure_report(built_book, notebook.name)}"
    )
    recorded = nbformat.read(built_book.root / "notebooks" / notebook.name, as_version=4)
    for cell, ran in zip(recorded.cells, executed.cells):
        if "nbval-check-output" in cell.metadata.get("tags", []):
            assert comparable(ran.outputs) == comparable(cell.outputs), (
                f"{notebook.name}: a cell tagged nbval-check-output printed other than it "
                f"recorded (if that is intended, `make record`):\n{cell.source}"
            )


def test_book_builds_with_figures_and_no_tracebacks(built_book):
    assert built_book.result.returncode == 0, build_log(built_book.result)
    html = built_book.html
    assert (html / "index.html").is_file()
    for notebook in NOTEBOOKS:
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
