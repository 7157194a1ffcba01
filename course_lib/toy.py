"""GANs on 2-D mixtures (notebooks 04 and 08): training runs, discriminator and critic surfaces,
and mode coverage.

Mode coverage follows the protocol of Srivastava et al. (VEEGAN, arXiv:1705.07761), used for the ring of 8 and the
grid of 25 Gaussians: assign each generated sample to its nearest mode; a sample is *high
quality* if it lies within `n_sigma` (3) standard deviations of that mode; a mode is *covered*
if at least `min_count` (1) high-quality samples were assigned to it.
"""

import torch

from . import gan, recipe, wgan
from .data import toy_mixture
from .nets import eval_mode, generate


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


@torch.no_grad()
def discriminator_map(discriminator, lims=(-1.6, 1.6), n=101):
    """D(x) = sigmoid(logit) on an n x n grid over the square `lims` (for 2-D contour plots).

    Returns (xs, ys, probs) with probs of shape (n, n), probs[i, j] = D(xs[j], ys[i]).
    """
    xs = torch.linspace(*lims, n)
    grid_y, grid_x = torch.meshgrid(xs, xs, indexing="ij")
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], 1)
    device = next(discriminator.parameters()).device
    with eval_mode(discriminator):
        probs = torch.sigmoid(discriminator(points.to(device))).reshape(n, n).cpu()
    return xs, xs, probs


@torch.no_grad()
def critic_map(critic, lims=(-1.6, 1.6), n=101):
    """The critic's score f(x) on an n x n grid over the square `lims` (2-D contour plots).

    Returns (xs, ys, scores) with scores of shape (n, n), scores[i, j] = f(xs[j], ys[i]): raw
    scores, not probabilities (compare `discriminator_map`).
    """
    xs = torch.linspace(*lims, n)
    grid_y, grid_x = torch.meshgrid(xs, xs, indexing="ij")
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], 1)
    with eval_mode(critic):
        scores = critic(points.to(next(critic.parameters()).device)).reshape(n, n).cpu()
    return xs, xs, scores


TOY_MODELS = ("gan", "clip", "gp")


def toy_recipe(model, data, settings, seed):
    """(recipe, config) of a toy model: the GAN recipe or a WGAN variant with the "toy" networks."""
    if model == "gan":
        config = recipe.make_config(gan.GANConfig, {"kind": "toy"}, data, seed=seed, **settings)
        return gan.RECIPES["toy"], config
    config = recipe.make_config(wgan.WGANConfig, {"kind": "toy", "variant": model}, data,
                                seed=seed, **settings)
    return wgan.RECIPES_BY_VARIANT[model], config


def run_toy(kind, model, config, seed=0, n_eval=2500, n_snapshots=8, n_points=20_000,
            device="cpu", progress=True, desc=None):
    """Train a GAN ('gan') or a WGAN ('clip' or 'gp') recipe with its "toy" networks on a 2-D
    mixture ('ring' or 'grid', `data.toy_mixture`), keeping snapshots along the way.

    Everything random is seeded by `seed`: the 20,000 training points, the initial networks (the
    same generator for every model), the batches, and the fixed noise of the `n_eval` evaluation
    samples, so runs of different models are compared on equal terms. Each snapshot holds the step,
    the samples G(z_fixed), their `mode_coverage` and the second player's surface on
    the plot square (D(x) for a GAN, f(x) for a critic). Returns a dict with model, history,
    snapshots, modes, sigma, lim, final (the last coverage), generator and critic.
    """
    if model not in TOY_MODELS:
        raise ValueError(f"Unknown toy model {model!r}: expected one of {TOY_MODELS}.")
    points, modes, sigma = toy_mixture(kind, n_points, generator=torch.Generator().manual_seed(seed))
    data = recipe.RunData(f"toy-{kind}", points.to(device))
    run_recipe, config = toy_recipe(model, data, config, seed)
    modules, _ = built = recipe.build(run_recipe, config, device)
    generator, critic = modules["generator"], modules["discriminator" if model == "gan" else "critic"]
    z_fixed = torch.randn(n_eval, config.latent_dim,
                          generator=torch.Generator().manual_seed(seed + 1)).to(device)
    lim = 1.6 if kind == "ring" else 5.6
    surface = discriminator_map if model == "gan" else critic_map
    snapshots = []

    def keep(i, history):
        samples = generate(generator, z_fixed).cpu()
        snapshots.append({"step": i + 1, "samples": samples,
                          "surface": surface(critic, (-lim, lim)),
                          "coverage": mode_coverage(samples, modes, sigma)})

    _, meta = recipe.train(run_recipe, config, data, device, snapshots=0, callback=keep,
                           every=max(1, config.steps // n_snapshots), progress=progress, built=built)
    history = meta["history"]
    return {"model": model, "kind": kind, "history": history, "snapshots": snapshots,
            "modes": modes, "sigma": sigma, "lim": lim, "final": snapshots[-1]["coverage"],
            "generator": generator, "critic": critic, "points": points}
