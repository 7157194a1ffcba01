"""Improved GAN training (notebook 11): the GAN recipe with the options of Salimans et al. (2016).

`TechniquesConfig` is `gan.GANConfig` plus
- `real_target`, `fake_target`: the discriminator's targets alpha and beta (one-sided label
  smoothing: alpha = 0.9, beta = 0);
- `feature_matching`: the generator matches the mean of D's body features on data instead of
  fooling D (`losses.feature_matching_loss`);
- `minibatch`: "none", "std" (the minibatch standard deviation of Karras et al. 2018) or
  "discrimination" (minibatch discrimination), a layer between D's body and its head.
With every option off the step is `gan.gan_step` itself, so a run equals the plain GAN's run.
Networks are the GAN recipe's ("toy", "mlp", "dcgan"); training is `recipe.train`.
"""

from dataclasses import dataclass

import torch

from . import gan, losses, recipe
from .data import split_evenly, toy_mixture
from .nets import (
    MinibatchDiscrimination,
    MinibatchStd,
    generate,
    sample_noise,
    with_minibatch_layer,
)
from .toy import mode_coverage

MINIBATCH = ("none", "std", "discrimination")
FEATURES = {"toy": 128, "mlp": 256, "dcgan": 64 * 7 * 7}  # width of D's body output per kind


@dataclass(frozen=True)
class TechniquesConfig(gan.GANConfig):
    """A GAN run with the improved-training options (module docstring); defaults: plain GAN."""

    real_target: float = 1.0
    fake_target: float = 0.0
    feature_matching: bool = False
    minibatch: str = "none"
    mbd_kernels: int = 16
    mbd_dim: int = 8

    def __post_init__(self):
        super().__post_init__()
        if self.minibatch not in MINIBATCH:
            raise ValueError(f"Unknown minibatch layer {self.minibatch!r}: expected one of {MINIBATCH}.")
        if not (0 <= self.fake_target < self.real_target <= 1):
            raise ValueError("targets need 0 <= fake_target < real_target <= 1, got "
                             f"{self.fake_target} and {self.real_target}.")

    @property
    def plain(self):
        return (self.real_target, self.fake_target, self.feature_matching,
                self.minibatch) == (1.0, 0.0, False, "none")


def config(kind, data, schedule, **settings):
    """The TechniquesConfig of GAN recipe `kind` for `schedule`: gan.DEFAULTS, then `settings`."""
    return recipe.make_config(TechniquesConfig, {"kind": kind, "schedule": schedule,
                                                 **gan.DEFAULTS[schedule][kind]}, data, **settings)


def build(config):
    generator, discriminator = gan.make_gan(config.kind, config.latent_dim)
    n = FEATURES[config.kind]
    if config.minibatch == "std":
        discriminator = with_minibatch_layer(discriminator, MinibatchStd(), n, 1)
    elif config.minibatch == "discrimination":
        layer = MinibatchDiscrimination(n, config.mbd_kernels, config.mbd_dim)
        discriminator = with_minibatch_layer(discriminator, layer, n, config.mbd_kernels)
    return {"generator": generator, "discriminator": discriminator}


def d_step(generator, discriminator, optimizer, x_real, z, config):
    """One discriminator step against the targets (real_target, fake_target)."""
    with torch.no_grad():
        x_fake = generator(z)
    real_logits, fake_logits = discriminator(x_real), discriminator(x_fake)
    loss = losses.smoothed_discriminator_loss(real_logits, fake_logits, config.real_target,
                                              config.fake_target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"d_loss": loss.detach(), "d_real": torch.sigmoid(real_logits).mean().detach(),
            "d_fake": torch.sigmoid(fake_logits).mean().detach()}


def g_step(generator, discriminator, optimizer, x_real, z, config):
    """One generator step: feature matching, or the non-saturating loss."""
    x_fake = generator(z)
    if config.feature_matching:
        loss = losses.feature_matching_loss(discriminator.features(x_real),
                                            discriminator.features(x_fake))
    else:
        loss = losses.gan_generator_loss_nonsaturating(discriminator(x_fake))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"g_loss": loss.detach()}


def step(modules, optimizers, x, config):
    g, d = modules["generator"], modules["discriminator"]
    if config.plain:  # exactly the GAN recipe's step
        return gan.step(modules, optimizers, x, config)
    for part in split_evenly(x, config.d_steps, "d_steps"):
        out = d_step(g, d, optimizers["discriminator"], part, sample_noise(len(part), config.latent_dim,
                                                                            part.device), config)
    z = sample_noise(len(part), config.latent_dim, x.device)
    out.update(g_step(g, d, optimizers["generator"], part, z, config))
    return out


RECIPES = {kind: recipe.Recipe(f"techniques-{kind}", build, recipe.adam_per_player, step,
                               tensors=recipe.symmetric_data,
                               draws_per_step=lambda config: config.d_steps,
                               snapshot=recipe.fixed_noise_grid, adversarial=True,
                               averaged=("generator",))  # as gan.RECIPES: used when ema_decay is set
           for kind in gan.KINDS}


def run_toy_technique(kind, seed=0, n_eval=2500, n_points=20_000, device="cpu", progress=False,
                      **settings):
    """Train the "toy" recipe with `settings` on the 2-D mixture `kind` ('ring' or 'grid') and score
    n_eval samples at fixed noise with `toy.mode_coverage`. Seeded like `toy.run_toy`, so with every
    option off it is the same run as `toy.run_toy(kind, "gan", ...)`.
    Returns {"coverage", "samples", "modes", "sigma", "history", "generator", "discriminator"}."""
    points, modes, sigma = toy_mixture(kind, n_points, generator=torch.Generator().manual_seed(seed))
    data = recipe.RunData(f"toy-{kind}", points.to(device))
    run = recipe.make_config(TechniquesConfig, {"kind": "toy"}, data, seed=seed, **settings)
    built = recipe.build(RECIPES["toy"], run, device)
    z_fixed = torch.randn(n_eval, run.latent_dim,
                          generator=torch.Generator().manual_seed(seed + 1)).to(device)
    modules, meta = recipe.train(RECIPES["toy"], run, data, device, snapshots=0, progress=progress,
                                 built=built)
    samples = generate(modules["generator"], z_fixed).cpu()
    return {"coverage": mode_coverage(samples, modes, sigma), "samples": samples, "modes": modes,
            "sigma": sigma, "history": meta["history"], **modules}


def load_or_train_technique(kind, x_train, dataset, schedule, device, seed=0, snapshots=8,
                            progress=True, store=None, **settings):
    """The image GAN ('mlp' or 'dcgan') with the options in `settings`, from its checkpoint or
    trained. Returns (generator, discriminator, meta), in eval mode; the generator is the moving
    average of G's weights when the config keeps one (`ema_decay`), as in `gan.load_or_train_gan`."""
    if kind not in ("mlp", "dcgan"):
        raise ValueError(f"Unknown image GAN recipe {kind!r}: expected 'mlp' or 'dcgan'.")
    data = recipe.RunData(dataset, x_train)
    modules, meta = recipe.load_or_train(RECIPES[kind], config(kind, data, schedule, seed=seed,
                                                               **settings),
                                         data, device, snapshots=snapshots, progress=progress,
                                         store=store)
    return recipe.for_sampling(modules), modules["discriminator"], meta
