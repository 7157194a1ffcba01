"""Citations: every {cite} key in the notebooks and book pages is an entry of book/references.bib,
and every notebook cites the papers it builds on (the book build also fails on an unknown key)."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = sorted((ROOT / "book").glob("*.md"))
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def bib_keys():
    return set(re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "book" / "references.bib").read_text(), re.M))


def cited_keys(text):
    return {key.strip() for keys in CITE.findall(text) for key in keys.split(",")}


def markdown_of(path):
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_the_pattern_reads_every_form_of_the_role():
    text = "as {cite}`a2014` and {cite:t}`b2015, c2016` show; {cite:p}`d`"
    assert cited_keys(text) == {"a2014", "b2015", "c2016", "d"}
    assert len(bib_keys()) > 20


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=lambda p: p.name)
def test_every_cited_key_is_in_the_bibliography(path):
    unknown = cited_keys(markdown_of(path)) - bib_keys()
    assert not unknown, f"{path.name} cites {sorted(unknown)}, which book/references.bib lacks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_cites_its_sources(path):
    assert cited_keys(markdown_of(path)), f"{path.name} cites no paper with a {{cite}} role"
