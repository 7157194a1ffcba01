"""Clustering without labels, and matching clusters to classes (notebook 09)."""

import torch
from scipy.optimize import linear_sum_assignment

from . import checks


def best_matching(clusters, labels, n_clusters=None, n_classes=None):
    """The one-to-one map cluster -> class that agrees with the most labels (Hungarian algorithm).

    Returns (mapping (n_clusters,) with mapping[cluster] = class, counts (n_clusters, n_classes)).
    """
    clusters = torch.as_tensor(clusters).cpu().long()
    labels = torch.as_tensor(labels).cpu().long()
    if clusters.shape != labels.shape or clusters.dim() != 1:
        raise ValueError(f"clusters and labels should be 1-D of the same length, got "
                         f"{tuple(clusters.shape)} and {tuple(labels.shape)}.")
    n_clusters = n_clusters or int(clusters.max()) + 1
    n_classes = n_classes or int(labels.max()) + 1
    counts = torch.zeros(n_clusters, n_classes, dtype=torch.long)
    counts.index_put_((clusters, labels), torch.ones_like(clusters), accumulate=True)
    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    mapping = torch.full((n_clusters,), -1, dtype=torch.long)
    mapping[torch.as_tensor(rows)] = torch.as_tensor(cols)
    return mapping, counts


def matching_accuracy(clusters, labels, n_clusters=None, n_classes=None):
    """Unsupervised classification accuracy: the share of examples whose cluster, mapped to a
    class by the best one-to-one matching (`best_matching`), is their label. A float in [0, 1]."""
    mapping, counts = best_matching(clusters, labels, n_clusters, n_classes)
    matched = counts[mapping >= 0, mapping[mapping >= 0]].sum()
    return float(matched) / float(counts.sum())


def kmeans(x, k, iterations=50, restarts=3, seed=0):
    """Lloyd's k-means on the rows of x (N, d), best of `restarts` seeded k-means++ starts.

    Returns (assignments (N,), centres (k, d), inertia = sum of squared distances to the centres).
    """
    x = checks.check_finite(checks.check_batch(x, "x"), "x").flatten(1).float()
    rng = torch.Generator().manual_seed(seed)
    best = None
    for _ in range(restarts):
        centres = _kmeans_plus_plus(x, k, rng)
        for _ in range(iterations):
            assignments = torch.cdist(x, centres).argmin(1)
            new = torch.stack([x[assignments == j].mean(0) if (assignments == j).any() else centres[j]
                               for j in range(k)])
            if torch.allclose(new, centres):
                break
            centres = new
        assignments = torch.cdist(x, centres).argmin(1)
        inertia = float((x - centres[assignments]).pow(2).sum())
        if best is None or inertia < best[2]:
            best = (assignments, centres, inertia)
    return best


def _kmeans_plus_plus(x, k, rng):
    """k-means++ seeding: each new centre is a point drawn with probability ~ squared distance."""
    centres = [x[torch.randint(len(x), (1,), generator=rng).item()]]
    for _ in range(k - 1):
        d2 = torch.cdist(x, torch.stack(centres)).min(1).values.pow(2).cpu()
        centres.append(x[torch.multinomial(d2 / d2.sum(), 1, generator=rng).item()])
    return torch.stack(centres)
