"""Checkers for the learners' exercises, one module per notebook, and `show_source`.

Each checker takes the learner's function, runs it on cases with known answers and prints
"correct" or raises AssertionError saying what differs. A function that still raises
NotImplementedError is reported as not attempted yet, without failing the notebook
(the shared machinery is in `checking`).

Notebooks write `from course_lib import exercises` then `exercises.check_...(fn)`, so every
checker is re-exported here.
"""

import importlib
import inspect
import pkgutil

# Every check_ function of every chapter module (ch00_..., ch01_..., ...) is re-exported here, so a
# chapter adds an exercise by adding a checker to its own module.
CHAPTERS = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name[:2] == "ch" and info.name[2:4].isdigit())
__all__ = ["show_source"]
for _chapter in CHAPTERS:
    _module = importlib.import_module(f".{_chapter}", __name__)
    for _name in sorted(vars(_module)):
        if _name.startswith("check_") and callable(getattr(_module, _name)):
            globals()[_name] = getattr(_module, _name)
            __all__.append(_name)


def show_source(obj):
    """Show the source of a course_lib function or class (notebooks import, they do not copy)."""
    source = inspect.getsource(obj)
    try:
        from IPython.display import Markdown, display  # optional: plain text outside Jupyter

        display(Markdown(f"```python\n{source}```"))
    except ImportError:
        print(source)
