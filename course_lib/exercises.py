"""Checkers for the learners' exercises, and a helper to show library source in notebooks.

Each checker takes the learner's function, runs it on cases with known answers and prints
"correct" or raises AssertionError saying what differs. A function that still raises
NotImplementedError is reported as not attempted yet, without failing the notebook.
"""

import inspect

import torch

from . import pca as pca_lib


def show_source(obj):
    """Show the source of a course_lib function or class (notebooks import, they do not copy)."""
    source = inspect.getsource(obj)
    try:
        from IPython.display import Markdown, display

        display(Markdown(f"```python\n{source}```"))
    except ImportError:
        print(source)


def _attempted(fn, *args):
    """Call fn; None if it is still the NotImplementedError stub."""
    try:
        return fn(*args)
    except NotImplementedError:
        print("Not attempted yet: replace `raise NotImplementedError` with your code, then re-run.")
        return None


def _close(name, got, expected, atol):
    got = torch.as_tensor(got, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}.")
    if not torch.allclose(got, expected, atol=atol, rtol=1e-4):
        worst = (got - expected).abs().max().item()
        raise AssertionError(f"{name}: values differ from the reference (largest gap {worst:.3g}).")


def check_pixel_mse(fn):
    """Exercise 01.1: fn(x_hat, x) -> mean squared error per pixel (a float)."""
    g = torch.Generator().manual_seed(1)
    x, x_hat = torch.rand(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    got = _attempted(fn, x_hat, x)
    if got is None:
        return False
    _close("pixel MSE", float(got), ((x_hat - x) ** 2).mean(), atol=1e-6)
    print("correct: mean over images and pixels of the squared error.")
    return True


def check_pca_projection(fn):
    """Exercise 01.2: fn(x, k) -> reconstruction of x (n, d) from its top-k principal subspace."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(200, 6, generator=g) @ torch.randn(6, 6, generator=g) + 3.0
    for k in (1, 3, 6):
        got = _attempted(fn, x.clone(), k)
        if got is None:
            return False
        reference = pca_lib.pca_decode(pca_lib.fit_pca(x, k), pca_lib.pca_encode(pca_lib.fit_pca(x, k), x))
        _close(f"reconstruction with k={k}", got, reference, atol=1e-3)
    print("correct: centre, project on the top-k eigenvectors, map back, add the mean.")
    return True


def check_pca_error_formula(fn):
    """Exercise 01.3: fn(eigenvalues_descending, k) -> expected squared error per example of
    the best rank-k linear reconstruction (the sum of the discarded eigenvalues)."""
    eigenvalues = torch.tensor([5.0, 3.0, 2.0, 0.5, 0.25])
    for k in (0, 2, 5):
        got = _attempted(fn, eigenvalues.clone(), k)
        if got is None:
            return False
        _close(f"error with k={k}", float(got), eigenvalues[k:].sum(), atol=1e-6)
    print("correct: the error is the variance left in the discarded directions.")
    return True
