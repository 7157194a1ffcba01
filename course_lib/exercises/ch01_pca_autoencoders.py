"""Checkers for the exercises of notebook 01: PCA and autoencoders."""

import torch

from .. import pca
from .checking import assert_close, attempted


def check_pixel_mse(fn):
    """Exercise 01.1: fn(x_hat, x) -> mean squared error per pixel (a float)."""
    g = torch.Generator().manual_seed(1)
    x, x_hat = torch.rand(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    got = attempted(fn, x_hat, x)
    if got is None:
        return False
    assert_close("pixel MSE", float(got), ((x_hat - x) ** 2).mean(), atol=1e-6)
    print("correct: mean over images and pixels of the squared error.")
    return True


def check_pca_projection(fn):
    """Exercise 01.2: fn(x, k) -> reconstruction of x (n, d) from its top-k principal subspace."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(200, 6, generator=g) @ torch.randn(6, 6, generator=g) + 3.0
    for k in (1, 3, 6):
        got = attempted(fn, x.clone(), k)
        if got is None:
            return False
        reference = pca.pca_decode(pca.fit_pca(x, k), pca.pca_encode(pca.fit_pca(x, k), x))
        assert_close(f"reconstruction with k={k}", got, reference, atol=1e-3)
    print("correct: centre, project on the top-k eigenvectors, map back, add the mean.")
    return True


def check_pca_error_formula(fn):
    """Exercise 01.3: fn(eigenvalues_descending, k) -> expected squared error per example of
    the best rank-k linear reconstruction (the sum of the discarded eigenvalues)."""
    eigenvalues = torch.tensor([5.0, 3.0, 2.0, 0.5, 0.25])
    for k in (0, 2, 5):
        got = attempted(fn, eigenvalues.clone(), k)
        if got is None:
            return False
        assert_close(f"error with k={k}", float(got), eigenvalues[k:].sum(), atol=1e-6)
    print("correct: the error is the variance left in the discarded directions.")
    return True


def check_pca_error_2x2(fn):
    """Exercise 01.5: fn(a, b, c) -> the smallest expected squared error of a linear autoencoder
    with a code of size k = 1 on 2-D data with covariance [[a, b], [b, c]]: the smaller eigenvalue,
    (a + c) / 2 - sqrt(((a - c) / 2)^2 + b^2)."""
    for a, b, c in [(3.0, 1.0, 2.0), (1.0, 0.0, 4.0), (2.0, 2.0, 2.0), (5.0, -1.5, 1.0)]:
        got = attempted(fn, a, b, c)
        if got is None:
            return False
        smallest = torch.linalg.eigvalsh(torch.tensor([[a, b], [b, c]], dtype=torch.float64))[0]
        assert_close(f"error for a={a}, b={b}, c={c}", float(got), smallest, atol=1e-6)
    print("correct: with d = 2 and k = 1 the error is the smaller eigenvalue of the covariance, "
          "(a + c)/2 - sqrt(((a - c)/2)^2 + b^2).")
    return True
