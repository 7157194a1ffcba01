"""Strip outputs, execution counts and run metadata from notebooks, in place.

Cells with the metadata "keep_output": true keep their outputs and get an execution count,
because nbval compares such cells (tag nbval-check-output) and skips cells that look unrun.
Solution cells (tag hide-cell, which hides them on the website) are also hidden where learners
work: collapsed source in JupyterLab/Jupyter (jupyter.source_hidden) and a form view in Colab
(cellView "form", showing the cell's first line, "# @title Solution ...").
Usage: python scripts/strip_notebooks.py notebooks/*.ipynb
"""

import sys

import nbformat

RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def strip(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
        if "hide-cell" in cell.metadata.get("tags", []):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            cell.metadata["cellView"] = "form"
        if cell.cell_type != "code":
            continue
        if cell.metadata.get("keep_output"):
            cell.execution_count = cell.execution_count or 1
        else:
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


if __name__ == "__main__":
    for notebook in sys.argv[1:]:
        strip(notebook)
