"""Mode coverage on 2-D mixtures with known modes (notebook 04, "Measuring mode collapse").

The protocol of Srivastava et al. (VEEGAN, arXiv:1705.07761), used for the ring of 8 and the
grid of 25 Gaussians: assign each generated sample to its nearest mode; a sample is *high
quality* if it lies within `n_sigma` (3) standard deviations of that mode; a mode is *covered*
if at least `min_count` (1) high-quality samples were assigned to it.
"""

import torch


def nearest_mode(samples, modes):
    """Index of the nearest mode for every sample, and the distance to it: (n,), (n,)."""
    samples, modes = _as_points(samples, "samples"), _as_points(modes, "modes")
    if samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples are {samples.shape[1]}-D but modes are {modes.shape[1]}-D.")
    distances = torch.cdist(samples, modes)  # (n, n_modes)
    distance, index = distances.min(dim=1)
    return index, distance


def mode_coverage(samples, modes, sigma, n_sigma=3.0, min_count=1):
    """Modes covered and fraction of high-quality samples (the VEEGAN protocol, above).

    Returns a dict: modes_covered (int), n_modes, high_quality_fraction (in [0, 1]) and
    counts (high-quality samples per mode, a list). For samples from the true mixture the
    high-quality fraction is P(|noise| < 3 sigma) = 1 - exp(-9/2) = 0.989 in 2-D.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    index, distance = nearest_mode(samples, modes)
    high_quality = distance <= n_sigma * sigma
    counts = torch.bincount(index[high_quality], minlength=len(modes))
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "n_modes": len(modes),
        "high_quality_fraction": float(high_quality.float().mean()),
        "counts": counts.tolist(),
    }


def _as_points(x, what):
    x = torch.as_tensor(x).detach().float().cpu()
    if x.dim() != 2 or len(x) == 0:
        raise ValueError(f"{what} should be a non-empty (n, dim) array of points, got shape "
                         f"{tuple(x.shape)}.")
    return x
