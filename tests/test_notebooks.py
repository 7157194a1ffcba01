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


# ---- exercises: every checked exercise has a solution hidden in Jupyter, Colab and the book -------

CHECKER_CALL = re.compile(r"exercises\.(check_\w+)\(")
SOLUTION_TITLE = "# @title Solution"


def exercise_pairs(path):
    """(exercise cell, the cell after it) for every code cell that hands a stub to a checker."""
    cells = json.loads(path.read_text())["cells"]
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "raise NotImplementedError" in source \
                and CHECKER_CALL.search(source):
            yield cell, (cells[index + 1] if index + 1 < len(cells) else None)


def is_hidden_solution(cell):
    """Hidden on the website (tag hide-cell), in JupyterLab (collapsed source) and in Colab (form
    view showing only the '# @title Solution' line): what scripts/strip_notebooks.py maintains."""
    meta = cell["metadata"]
    return ("hide-cell" in meta.get("tags", []) and meta.get("jupyter", {}).get("source_hidden") is True
            and meta.get("cellView") == "form" and "".join(cell["source"]).startswith(SOLUTION_TITLE))


def test_a_solution_is_recognised_only_when_hidden_everywhere():
    solution = {"cell_type": "code", "source": [f"{SOLUTION_TITLE} (double-click to show it)\n"],
                "metadata": {"tags": ["hide-cell"], "jupyter": {"source_hidden": True}, "cellView": "form"}}
    assert is_hidden_solution(solution)
    for key in ("tags", "jupyter", "cellView"):
        partial = {**solution, "metadata": {k: v for k, v in solution["metadata"].items() if k != key}}
        assert not is_hidden_solution(partial), key
    assert not is_hidden_solution({**solution, "source": ["# Solution\n"]})


@pytest.mark.parametrize("path", NOTEBOOKS,
                         ids=lambda p: p.name)
def test_every_exercise_has_a_hidden_solution_that_asserts_its_checker(path):
    """The solution is the next cell, hidden in every place a learner reads the notebook, and it
    asserts the same checker, so the book build (which runs every cell) fails on a wrong solution."""
    pairs = list(exercise_pairs(path))
    assert pairs, f"{path.name} has no checked exercise"
    for exercise, solution in pairs:
        checker = CHECKER_CALL.search("".join(exercise["source"])).group(1)
        assert solution is not None and is_hidden_solution(solution), (
            f"{path.name}: the solution of the {checker} exercise must follow it, tagged hide-cell and "
            f"starting '{SOLUTION_TITLE}' (run scripts/strip_notebooks.py to hide it in Jupyter and Colab)")
        assert f"assert exercises.{checker}(" in "".join(solution["source"]), (
            f"{path.name}: the solution of {checker} must assert its checker")
