"""course_lib's layers stay visible: no import cycle, pure modules import no model, only the table
imports every recipe, and modules and functions stay small enough to read (issue 16's bars)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "course_lib"
MODULES = {path: ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
           for path in sorted(PACKAGE.rglob("*.py"))}
RECIPES = {"pca", "autoencoders", "vae", "cvae", "gan", "cgan", "wgan", "infogan", "evaluator"}
PURE = {"losses", "scores", "checks", "ot", "clustering", "dirac", "modern"}  # tensors in, tensors out
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 40
# Functions allowed to be longer, and why (kept short on purpose: each one is read top to bottom).
LONG_FUNCTIONS = {}


def name_of(path):
    name = MODULES[path]
    return name.removesuffix(".__init__") if name.endswith("__init__") else name


def course_imports(path):
    """The course_lib modules a module imports (from . import x, from .x import y, course_lib.x)."""
    tree, found = ast.parse(path.read_text()), set()
    package = name_of(path).rpartition(".")[0] if path.name != "__init__.py" else name_of(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
            base = ".".join(part for part in base if part)
            if node.module:
                found.add(f"{base}.{node.module}".strip("."))
            else:
                found.update(f"{base}.{alias.name}".strip(".") for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_lib."):
            found.add(node.module.removeprefix("course_lib."))
    known = {name_of(p) for p in MODULES}
    return {name for name in found if name in known} - {name_of(path)}


GRAPH = {name_of(path): course_imports(path) for path in MODULES}


def test_the_import_graph_has_no_cycle():
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import cycle: {' -> '.join(trail + [node])}"
        state[node] = "open"
        for nxt in sorted(GRAPH.get(node, ())):
            visit(nxt, trail + [node])
        state[node] = "done"

    for node in sorted(GRAPH):
        visit(node, [])


@pytest.mark.parametrize("module", sorted(PURE))
def test_pure_modules_import_no_model(module):
    assert not GRAPH[module] & (RECIPES | {"table", "recipe", "train", "toy"}), GRAPH[module]


def test_only_the_table_and_the_command_line_import_every_recipe():
    for module, imports in GRAPH.items():
        if module not in ("table", "__main__") and not module.startswith("exercises"):
            assert not RECIPES <= imports, f"{module} imports every recipe"
    assert RECIPES - {"pca"} <= GRAPH["table"] | {"pca"}
    assert "table" in GRAPH["__main__"]
    for module in RECIPES:
        assert "table" not in GRAPH[module], f"{module} imports the table"


@pytest.mark.parametrize("path", sorted(MODULES), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_are_short(path):
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{path.name}: {len(lines)} lines"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            allowed = LONG_FUNCTIONS.get(f"{name_of(path)}.{node.name}", MAX_FUNCTION_LINES)
            assert length <= allowed, f"{path.name}: {node.name} has {length} lines"
