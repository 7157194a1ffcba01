import json
import re
from pathlib import Path

import pytest
import torch

from course_lib import exercises

ROOT = Path(__file__).resolve().parents[1]


def not_attempted(*args):
    raise NotImplementedError


# ---- exercise 01.1 ------------------------------------------------------------------------------


def correct_pixel_mse(x_hat, x):
    return ((x_hat - x) ** 2).mean().item()


def test_pixel_mse_correct(capsys):
    assert exercises.check_pixel_mse(correct_pixel_mse) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda x_hat, x: ((x_hat - x) ** 2).flatten(1).sum(1).mean(),  # per image, not per pixel
    lambda x_hat, x: (x_hat - x).abs().mean(),  # absolute error
    lambda x_hat, x: ((x_hat - x) ** 2).mean() ** 0.5,  # root
])
def test_pixel_mse_wrong(wrong):
    with pytest.raises(AssertionError, match="pixel MSE"):
        exercises.check_pixel_mse(wrong)


def test_pixel_mse_not_attempted(capsys):
    assert exercises.check_pixel_mse(not_attempted) is False
    assert "Not attempted yet" in capsys.readouterr().out


# ---- exercise 01.2 ------------------------------------------------------------------------------


def correct_projection(x, k):
    """Independent reference: SVD of the centred data in float64."""
    xd = x.double()
    mean = xd.mean(0)
    _, _, vt = torch.linalg.svd(xd - mean, full_matrices=False)
    v = vt[:k]
    return ((xd - mean) @ v.T @ v + mean).float()


def test_pca_projection_correct():
    assert exercises.check_pca_projection(correct_projection) is True


@pytest.mark.parametrize("wrong", [
    lambda x, k: x,  # no projection at all (right only for k = d)
    lambda x, k: (x @ torch.linalg.svd(x, full_matrices=False)[2][:k].T
                  @ torch.linalg.svd(x, full_matrices=False)[2][:k]),  # forgot to centre
    lambda x, k: correct_projection(x, k) - x.mean(0),  # forgot to add the mean back
    lambda x, k: correct_projection(x, k)[:, :-1],  # wrong shape
])
def test_pca_projection_wrong(wrong):
    with pytest.raises(AssertionError, match="reconstruction with k="):
        exercises.check_pca_projection(wrong)


def test_pca_projection_not_attempted():
    assert exercises.check_pca_projection(not_attempted) is False


# ---- exercise 01.3 ------------------------------------------------------------------------------


def test_pca_error_formula_correct():
    assert exercises.check_pca_error_formula(lambda ev, k: ev[k:].sum()) is True
    assert exercises.check_pca_error_formula(lambda ev, k: float(sum(ev.tolist()[k:]))) is True


@pytest.mark.parametrize("wrong", [
    lambda ev, k: ev[:k].sum(),  # the kept variance
    lambda ev, k: ev[k + 1:].sum(),  # off by one
    lambda ev, k: ev[k:].sum() / len(ev),  # per dimension
])
def test_pca_error_formula_wrong(wrong):
    with pytest.raises(AssertionError, match="error with k="):
        exercises.check_pca_error_formula(wrong)


def test_pca_error_formula_not_attempted():
    assert exercises.check_pca_error_formula(not_attempted) is False


def test_other_exceptions_propagate():
    def broken(*args):
        raise TypeError("learner's bug")

    with pytest.raises(TypeError, match="learner's bug"):
        exercises.check_pixel_mse(broken)


def test_show_source_prints_without_ipython(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_ipython(name, *args, **kwargs):
        if name.startswith("IPython"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipython)
    exercises.show_source(exercises.check_pixel_mse)
    out = capsys.readouterr().out
    assert out.startswith("def check_pixel_mse(fn):")


# ---- the package: every name the notebooks use, and small modules ---------------------------------


def notebook_exercise_names():
    """(notebook, name) for every `exercises.name` and `from course_lib.exercises import name`."""
    found = []
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        names = re.findall(r"\bexercises\.([A-Za-z_]\w*)", code)
        for imported in re.findall(r"from course_lib\.exercises import ([\w, ]+)", code):
            names += [n.strip() for n in imported.split(",")]
        found += [(notebook.name, name) for name in names]
    return found


def test_every_name_the_notebooks_use_exists():
    used = notebook_exercise_names()
    assert len({name for _, name in used}) >= 31  # 30 checkers (3 per notebook 01-10) + show_source
    missing = [(nb, name) for nb, name in used if not hasattr(exercises, name)]
    assert missing == []


def test_no_exercises_module_exceeds_400_lines():
    modules = sorted(Path(exercises.__file__).parent.glob("*.py"))
    assert len(modules) >= 11  # __init__ and one module per chapter with exercises
    too_long = {m.name: n for m in modules if (n := len(m.read_text().splitlines())) > 400}
    assert too_long == {}
