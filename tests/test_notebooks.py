"""Notebook hygiene: outputs stripped, one parameters cell each, every notebook in the book.

(The notebooks themselves run once, in the book build: tests/test_book.py. One notebook by hand:
`pytest --nbval-lax --nbval-current-env notebooks/NN_name.ipynb`.)
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_name_is_numbered(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "notebooks are named NN_name.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    """Committed notebooks carry no outputs, except cells marked keep_output for nbval to compare."""
    for cell in code_cells(path):
        keep = cell["metadata"].get("keep_output", False)
        assert keep or not cell["outputs"], (
            f"{path.name}: a cell has outputs; run `make strip` (nbstripout) before committing:\n"
            + "".join(cell["source"])[:200]
        )
        assert cell["execution_count"] is None or keep, f"{path.name}: execution counts not stripped"
        if keep:
            assert "nbval-check-output" in cell["metadata"].get("tags", []), (
                f"{path.name}: a keep_output cell should be tagged nbval-check-output"
            )
            assert cell["outputs"], f"{path.name}: a keep_output cell has no recorded output (make record)"
            assert cell["execution_count"], f"{path.name}: nbval skips a kept cell with no execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell(path):
    tagged = [c for c in code_cells(path) if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters'"
    assert "get_schedule()" in "".join(tagged[0]["source"]), "parameters depend on the schedule"


def test_book_lists_every_notebook_in_order():
    toc = (ROOT / "book" / "_toc.yml").read_text()
    listed = re.findall(r"file:\s*notebooks/(\S+)", toc)
    assert listed == [p.stem for p in NOTEBOOKS]
