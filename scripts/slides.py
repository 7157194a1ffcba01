"""One reveal.js slide deck per notebook of the book, working offline (run by scripts/slides.sh).

Decks show the outputs of the book's execution: each notebook is matched in the book build's
jupyter-cache (book/_build/.jupyter_cache; the copies in book/_build/jupyter_execute/ lack the
outputs of notebooks that came from the cache). They are written to book/_build/slides/, with the
JavaScript they need copied into book/_build/slides/vendor/ (from book/_extra/vendor/, see
scripts/vendor_js.sh).

A cell's `slideshow.slide_type` metadata decides what is a slide. A notebook with no such metadata
gets one slide per Markdown cell that starts with a heading, and its solution cells (tagged
hide-cell) on a sub-slide below; that metadata is set on the copy in memory, never in notebooks/.

    python scripts/slides.py           # write the decks
    python scripts/slides.py --check   # exit 1 when a notebook has no executed version
    python scripts/slides.py --book DIR   # another built copy of book/ (the tests use it)
"""

import html
import re
import shutil
import sys
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from nbconvert import SlidesExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "scripts" / "slides_reveal.html.j2"
HEADING = re.compile(r"\s*#{1,6}\s")


def toc_notebooks(book):
    """The notebooks the book's _toc.yml lists, in order, as paths like 'notebooks/00_setup_and_data'."""
    entries = re.findall(r"file:\s*(notebooks/[^\s#]+)", (book / "_toc.yml").read_text())
    return [entry.removesuffix(".ipynb") for entry in entries]


def executed_notebooks(book, docnames):
    """{docname: the notebook with its outputs from the book's execution, or None if it has none}."""
    cache_dir = book / "_build" / ".jupyter_cache"
    cache = get_cache(cache_dir) if cache_dir.is_dir() else None
    found = {}
    for docname in docnames:
        nb = nbformat.read(book / f"{docname}.ipynb", as_version=4)
        try:
            found[docname] = cache.merge_match_into_notebook(nb)[1] if cache else None
        except KeyError:  # its code changed since the last build
            found[docname] = None
    return found


def with_default_slides(nb):
    """Headings start slides and solutions go below, unless the notebook has slide metadata."""
    if any("slide_type" in cell.metadata.get("slideshow", {}) for cell in nb.cells):
        return nb
    for cell in nb.cells:
        if cell.cell_type == "markdown" and HEADING.match(cell.source):
            cell.metadata["slideshow"] = {"slide_type": "slide"}
        elif "hide-cell" in cell.metadata.get("tags", []):
            cell.metadata["slideshow"] = {"slide_type": "subslide"}
    return nb


def exporter():
    config = Config()
    config.SlidesExporter.reveal_url_prefix = "vendor/reveal.js"
    config.SlidesExporter.reveal_theme = "white"  # its fonts ship with reveal.js ("simple" fetches them)
    config.SlidesExporter.reveal_number = "c/t"
    config.HTMLExporter.mathjax_url = "vendor/mathjax/tex-mml-chtml.js"
    config.HTMLExporter.require_js_url = "vendor/require.js"
    config.HTMLExporter.widget_renderer_url = "vendor/html-manager/embed.js"
    # The book's cell tags: what the website leaves out, the slides leave out too.
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    return SlidesExporter(config=config, template_file=str(TEMPLATE))


def copy_vendor(vendor, out):
    versions = vendor / "VERSIONS"
    if not versions.exists():
        sys.exit(f"slides: {vendor} is missing: run `bash scripts/vendor_js.sh`")
    target = out / "vendor"
    if (target / "VERSIONS").exists() and (target / "VERSIONS").read_text() == versions.read_text():
        return
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(vendor, target)


def write_index(out, decks):
    items = "\n".join(f'<li><a href="{d}.slides.html">{html.escape(d)}</a></li>' for d in decks)
    (out / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Slides</title></head>\n'
        f"<body><h1>Deep Generative Models, derived and implemented: slides</h1>\n<ul>\n{items}\n</ul>\n"
        "<p>Keys: arrows or space, Esc for the overview, f for full screen, s for the speaker view.</p>"
        "</body></html>\n"
    )


def main(argv):
    book = Path(argv[argv.index("--book") + 1]) if "--book" in argv else ROOT / "book"
    out = book / "_build" / "slides"
    docnames = toc_notebooks(book)
    notebooks = executed_notebooks(book, docnames)
    missing = [d for d, nb in notebooks.items() if nb is None]
    if "--check" in argv:
        for docname in missing:
            print(f"slides: {docname} has no executed version in the book's cache")
        return 1 if missing else 0
    if missing:
        sys.exit(f"slides: build the book first (bash scripts/build_book.sh); not executed: {missing}")
    out.mkdir(parents=True, exist_ok=True)
    copy_vendor(book / "_extra" / "vendor", out)
    slides = exporter()
    for docname, nb in notebooks.items():
        deck = out / f"{Path(docname).name}.slides.html"
        body, _ = slides.from_notebook_node(
            with_default_slides(nb), resources={"metadata": {"name": Path(docname).name}}
        )
        deck.write_text(body)
        print(f"slides: {deck}")
    write_index(out, [Path(d).name for d in docnames])
    print(f"slides: open {out / 'index.html'} (works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
