"""Notebooks define only what a learner writes (issue 16).

A notebook that re-implements library code drifts from it: the text explains one version, the
tests check the other. So every top-level `def` (and `class`) in a notebook's code cells is
compared with `course_lib`, read with `ast` (nothing is imported or run):

- by name: it must not reuse a public module-level name of any `course_lib` module (a function,
  class or constant whose name does not start with "_");
- by body: a function's body, normalised with `ast.dump` (no line numbers, the docstring dropped,
  the function's name and arguments not compared), must not equal the body of any function or
  method of `course_lib`.

The one exemption is an exercise. An exercise cell (the learner's stub, and the solution in the
cell tagged `hide-cell` below it) defines the function the learner writes and hands it to its
checker in the same cell: `exercises.check_...(fn)`. Only functions passed by name to such a call
in their own cell are exempt, so a helper that merely sits in an exercise cell is still checked,
and the exercise's name may match the library's (the learner writes `gaussian_kl` in notebook
02; `losses.gaussian_kl` is the library's version, shown afterwards). Small one-off helpers with
their own names and bodies (a plot, a printout) are allowed.
"""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LIBRARY = sorted((ROOT / "course_lib").rglob("*.py"))
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def body_key(function):
    """ast.dump of the function's body without its docstring: equal for equal code, whatever the
    function's name, its docstring, or where it sits in its file."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


# Bodies too short to be a copy (a stub, an empty method) are not compared.
TRIVIAL = {body_key(ast.parse(stub).body[0])
           for stub in ("def f(): pass", "def f(): ...", "def f(): raise NotImplementedError")}


def module_level_names(tree):
    for node in tree.body:
        if isinstance(node, DEFINITIONS):
            yield node.name
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            yield from (t.id for t in targets if isinstance(t, ast.Name))


def library_index():
    """({public name: [module path]}, {body key: [module path:function name]}) over course_lib."""
    names, bodies = {}, {}
    for path in LIBRARY:
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(), filename=where)
        for name in module_level_names(tree):
            if not name.startswith("_"):
                names.setdefault(name, []).append(where)
        for node in ast.walk(tree):
            if isinstance(node, FUNCTIONS) and body_key(node) not in TRIVIAL:
                bodies.setdefault(body_key(node), []).append(f"{where}:{node.name}")
    return names, bodies


LIBRARY_NAMES, LIBRARY_BODIES = library_index()


def code_cells(path):
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            yield index, "".join(cell["source"])


def checked_by_exercise(tree):
    """Names passed as arguments to an `exercises.check_...(...)` call in this cell."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "exercises" \
                and node.func.attr.startswith("check_"):
            names.update(arg.id for arg in node.args if isinstance(arg, ast.Name))
    return names


def duplicates(path):
    """One line per notebook definition that repeats course_lib, outside exercises."""
    found = []
    for index, source in code_cells(path):
        tree = ast.parse(source, filename=f"{path.name} cell {index}")
        exempt = checked_by_exercise(tree)
        for node in tree.body:
            if not isinstance(node, DEFINITIONS) or node.name in exempt:
                continue
            if node.name in LIBRARY_NAMES:
                found.append(f"cell {index}: {node.name} is also defined in "
                             f"{', '.join(LIBRARY_NAMES[node.name])}")
            if isinstance(node, FUNCTIONS) and body_key(node) in LIBRARY_BODIES:
                found.append(f"cell {index}: {node.name} has the body of "
                             f"{', '.join(LIBRARY_BODIES[body_key(node)])}")
    return found


def test_the_index_sees_the_library():
    assert {"run_toy", "show_images", "eval_mode", "DEFAULTS"} <= set(LIBRARY_NAMES)
    assert len(LIBRARY_BODIES) > 100


def test_a_copy_is_found_and_an_exercise_is_exempt(tmp_path):
    source = (ROOT / "course_lib" / "plots.py").read_text()
    copied = next(node for node in ast.parse(source).body
                  if isinstance(node, ast.FunctionDef) and node.name == "plot_points")
    renamed = ast.unparse(copied).replace("def plot_points(", "def draw_cloud(", 1)
    cells = [renamed,  # same body under another name
             "def show_images(x):\n    return x\n",  # a library name
             "def show_images(x):\n    return x\n\n\nexercises.check_show(show_images)\n",  # exercise
             "def helper(x):\n    return x + 1\n"]  # a one-off helper
    notebook = {"cells": [{"cell_type": "code", "source": cell} for cell in cells]}
    path = tmp_path / "99_copy.ipynb"
    path.write_text(json.dumps(notebook))
    found = duplicates(path)
    assert len(found) == 2, found
    assert found[0].startswith("cell 0: draw_cloud has the body of course_lib/plots.py:plot_points")
    assert found[1].startswith("cell 1: show_images is also defined in course_lib/plots.py")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_defines_only_what_a_learner_writes(path):
    found = duplicates(path)
    assert not found, (f"{path.name} re-implements course_lib: call the library instead (or, for an "
                       "exercise, pass the function to its exercises.check_... call):\n"
                       + "\n".join(found))
