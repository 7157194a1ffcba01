"""PCA: the optimal linear autoencoder and the course's first sampling baseline (notebook 01)."""

from dataclasses import dataclass

import torch

from . import checks


@dataclass
class PCA:
    mean: torch.Tensor  # (d,)
    components: torch.Tensor  # (k, d), orthonormal rows, largest variance first
    variances: torch.Tensor  # (d,) every eigenvalue of the covariance, descending
    shape: tuple  # shape of one example, to map vectors back to images

    @property
    def k(self):
        return len(self.components)


def fit_pca(x, k):
    """Principal subspace of the rows of x (any trailing shape), by eigendecomposition of the
    covariance in float64. Keeps `k` components and every eigenvalue (for the error formula)."""
    checks.check_finite(checks.check_batch(x, "x"), "x")
    flat = x.reshape(len(x), -1).double()
    d = flat.shape[1]
    if not 1 <= k <= d:
        raise ValueError(f"k must be between 1 and the dimension {d}, got {k}.")
    mean = flat.mean(0)
    centered = flat - mean
    cov = centered.T @ centered / len(flat)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)  # ascending order
    order = eigenvalues.argsort(descending=True)
    return PCA(
        mean=mean.float(),
        components=eigenvectors[:, order[:k]].T.contiguous().float(),
        variances=eigenvalues[order].clamp_min(0).float(),
        shape=tuple(x.shape[1:]),
    )


def pca_encode(pca, x):
    """z = V (x - mean): coordinates in the principal subspace, (n, k)."""
    return (x.reshape(len(x), -1).float() - pca.mean.to(x.device)) @ pca.components.to(x.device).T


def pca_decode(pca, z):
    """x = mean + V^T z, reshaped to the data's shape."""
    flat = z @ pca.components.to(z.device) + pca.mean.to(z.device)
    return flat.reshape(len(z), *pca.shape)


def pca_sample(pca, n, generator=None):
    """The PCA sampling baseline: z ~ N(0, diag(top-k eigenvalues)), decoded to data space."""
    std = pca.variances[: pca.k].sqrt()
    z = torch.randn(n, pca.k, generator=generator).to(std.device) * std
    return pca_decode(pca, z)
