"""The GAN recipes (notebooks 04 and 05): configs, networks per recipe, one-step functions.

Three recipes share the same step functions and the course's one training loop (`recipe.train`):
- "toy":   MLP generator and discriminator for 2-D points (the ring and grid of Gaussians);
- "mlp":   MLP generator and discriminator for 28x28 images (notebook 04);
- "dcgan": the convolutional DCGAN for 28x28 images (notebook 05).
The networks are in `course_lib.nets`. Images are in [-1, 1] (`scale="symmetric"`), matching the
generators' tanh output. From a notebook: `RECIPES[kind]` -> `gan_step` -> `losses`.
"""

from dataclasses import dataclass

import torch

from . import losses, recipe
from .data import split_evenly
from .nets import (
    dcgan_discriminator,
    dcgan_generator,
    init_dcgan_weights,
    mlp_discriminator,
    mlp_generator,
    sample_noise,
    toy_gan,
)

KINDS = ("toy", "mlp", "dcgan")
GENERATOR_LOSSES = {
    "nonsaturating": losses.gan_generator_loss_nonsaturating,
    "minimax": losses.gan_generator_loss_minimax,
}

# Per-schedule settings for each recipe (the rest are GANConfig's defaults). The DCGAN departs from
# the paper's Adam(2e-4), batches of 128: G at 1e-3 with samples from an average of G's weights
# (recorded run "dcgan_refinements", equal steps), then batches of 32 with D at 4e-4, which reach the
# batch-64 recipe's FID in half the CPU time (recorded run "dcgan_cpu_budgets"). Both chosen on the
# selection split over 3 seeds with benchmarks/quality_per_minute.py.
DEFAULTS = {
    "smoke": {
        "toy": dict(steps=300, batch_size=128, lr_g=1e-3, lr_d=1e-3, latent_dim=8),
        "mlp": dict(steps=150, batch_size=64, lr_g=2e-4, lr_d=2e-4, latent_dim=64),
        "dcgan": dict(steps=60, batch_size=32, lr_g=1e-3, lr_d=4e-4, latent_dim=64, ema_decay=0.99),
    },
    "full": {
        "toy": dict(steps=3000, batch_size=128, lr_g=1e-3, lr_d=1e-3, latent_dim=8),
        "mlp": dict(steps=5000, batch_size=64, lr_g=2e-4, lr_d=2e-4, latent_dim=64),
        "dcgan": dict(steps=2000, batch_size=32, lr_g=1e-3, lr_d=4e-4, latent_dim=64, ema_decay=0.99),
    },
}

# The DCGAN settings notebook 12's variants build on (modern_gan.config; the BigGAN-style and VAE-GAN
# recipes took their rates and batch size): notebook 05's recipe before its batch-32 schedule.
# Notebook 12's recorded comparisons ran these, so its variants keep them.
DCGAN_BATCH_64 = {
    "smoke": dict(steps=60, batch_size=64, lr_g=1e-3, lr_d=2e-4, latent_dim=64, ema_decay=0.99),
    "full": dict(steps=2500, batch_size=64, lr_g=1e-3, lr_d=2e-4, latent_dim=64, ema_decay=0.99),
}


def make_gan(recipe, latent_dim):
    """(generator, discriminator) of a recipe: 'toy' (2-D points), 'mlp' or 'dcgan' (images)."""
    if recipe == "toy":
        return toy_gan(latent_dim)
    if recipe == "mlp":
        return mlp_generator(latent_dim), mlp_discriminator()
    if recipe == "dcgan":
        generator, discriminator = dcgan_generator(latent_dim), dcgan_discriminator()
        generator.apply(init_dcgan_weights)
        discriminator.apply(init_dcgan_weights)
        return generator, discriminator
    raise ValueError(f"Unknown GAN recipe {recipe!r}: expected one of {KINDS}.")


# ---- one training step ---------------------------------------------------------------------------


def d_step(generator, discriminator, d_optimizer, x_real, z):
    """One discriminator step: ascend V(D, G), i.e. descend the real-vs-fake cross-entropy."""
    with torch.no_grad():
        x_fake = generator(z)  # G is held fixed: no gradient flows into it
    real_logits, fake_logits = discriminator(x_real), discriminator(x_fake)
    loss = losses.gan_discriminator_loss(real_logits, fake_logits)
    d_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    d_optimizer.step()
    return {"d_loss": loss.detach(),
            "d_real": torch.sigmoid(real_logits).mean().detach(),  # D(x), should stay high
            "d_fake": torch.sigmoid(fake_logits).mean().detach()}  # D(G(z)) before the G step


def g_step(generator, discriminator, g_optimizer, z, generator_loss="nonsaturating"):
    """One generator step through the (fixed) discriminator: descend the generator loss."""
    if generator_loss not in GENERATOR_LOSSES:
        raise ValueError(f"Unknown generator loss {generator_loss!r}: expected one of "
                         f"{tuple(GENERATOR_LOSSES)}.")
    loss = GENERATOR_LOSSES[generator_loss](discriminator(generator(z)))
    g_optimizer.zero_grad(set_to_none=True)
    loss.backward()  # also fills D's .grad; d_step clears it before D's next update
    g_optimizer.step()
    return {"g_loss": loss.detach()}


def gan_step(generator, discriminator, g_optimizer, d_optimizer, x_real, latent_dim, d_steps=1,
             generator_loss="nonsaturating"):
    """One iteration of the GAN algorithm: `d_steps` discriminator steps (x_real is split into
    d_steps minibatches), then one generator step on fresh noise."""
    for x in split_evenly(x_real, d_steps, "d_steps"):
        out = d_step(generator, discriminator, d_optimizer, x,
                     sample_noise(len(x), latent_dim, x.device))
    z = sample_noise(len(x), latent_dim, x_real.device)
    out.update(g_step(generator, discriminator, g_optimizer, z, generator_loss))
    return out


# ---- the recipes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GANConfig(recipe.RunConfig):
    """A GAN run: the recipe's networks, Adam(lr, betas) per player (the DCGAN choice), `d_steps`
    discriminator steps per generator step, the generator's loss, and the decay of the moving
    average of G's weights that samples are drawn from (None: samples come from G itself)."""

    kind: str = "dcgan"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)
    latent_dim: int = 64
    d_steps: int = 1
    generator_loss: str = "nonsaturating"
    ema_decay: float = None  # keep a moving average of G's weights for sampling (None: off)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown GAN recipe {self.kind!r}: expected one of {KINDS}.")
        if self.generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"Unknown generator loss {self.generator_loss!r}: expected one of "
                             f"{tuple(GENERATOR_LOSSES)}.")


def config(kind, data, schedule, **settings):
    """The GANConfig of recipe `kind` for `schedule`: DEFAULTS, then `settings` (seed, steps, ...)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown GAN recipe {kind!r}: expected one of {KINDS}.")
    return recipe.make_config(GANConfig, {"kind": kind, "schedule": schedule,
                                          **DEFAULTS[schedule][kind]}, data, **settings)


def build(config):
    generator, discriminator = make_gan(config.kind, config.latent_dim)
    return {"generator": generator, "discriminator": discriminator}


def step(modules, optimizers, x, config):
    return gan_step(modules["generator"], modules["discriminator"], optimizers["generator"],
                    optimizers["discriminator"], x, config.latent_dim, config.d_steps,
                    config.generator_loss)


CHECKPOINT_NAMES = {"toy": "gan-toy", "mlp": "gan-mlp", "dcgan": "dcgan"}
RECIPES = {kind: recipe.Recipe(name, build, recipe.adam_per_player, step, tensors=recipe.symmetric_data,
                               draws_per_step=lambda config: config.d_steps,
                               snapshot=recipe.fixed_noise_grid, adversarial=True,
                               averaged=("generator",))
           for kind, name in CHECKPOINT_NAMES.items()}


def load_or_train_gan(kind, x_train, dataset, schedule, device, seed=0, snapshots=8, name=None,
                      progress=True, store=None, **settings):
    """The image GAN of a recipe ('mlp' or 'dcgan'), loaded from its checkpoint, else trained.

    The config is `config(kind, ...)` with `seed` and `settings`; the checkpoint is the one that
    config names (`checkpoint_of`; `name` replaces the recipe's name in the file name).
    meta, as for every recipe: config, history, seconds, steps, device, torch version and
    `snapshots` grids of G at fixed noise. Returns (generator, discriminator, meta), in eval mode;
    the generator is the moving average of G's weights when the config keeps one (`ema_decay`).
    """
    if kind not in ("mlp", "dcgan"):
        raise ValueError(f"Unknown image GAN recipe {kind!r}: expected 'mlp' or 'dcgan'.")
    data = recipe.RunData(dataset, x_train)
    modules, meta = recipe.load_or_train(RECIPES[kind], config(kind, data, schedule, seed=seed,
                                                               **settings),
                                         data, device, name=name, snapshots=snapshots,
                                         progress=progress, store=store)
    return recipe.for_sampling(modules), modules["discriminator"], meta


def checkpoint_of(kind, x_train, dataset, schedule, seed=0, **settings):
    """The file where `load_or_train_gan` with these arguments keeps its model (it may not exist
    yet): a notebook can ask whether an earlier notebook trained it."""
    data = recipe.RunData(dataset, x_train)
    return recipe.checkpoint_path(RECIPES[kind], config(kind, data, schedule, seed=seed, **settings))
