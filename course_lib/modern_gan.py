"""Today's GAN options on the DCGAN recipe (notebook 12): spectral normalization, the hinge loss,
the R1 penalty and self-attention.

`ModernConfig` is `gan.GANConfig` (kind "dcgan") plus
- `loss`: "nonsaturating" (notebook 04's cross-entropy game) or "hinge" (Lim & Ye 2017; Miyato
  et al. 2018): D descends E max(0, 1 - l(x)) + E max(0, 1 + l(G(z))), G descends -E l(G(z));
- `spectral_norm`: every linear and convolution layer of D divided by its spectral norm (one power
  iteration per training step; `modern.spectrally_normalized`); `spectral_norm_g`: the same in G
  (SAGAN normalises both);
- `r1_gamma`: the R1 penalty (gamma / 2) E_data ||grad_x l(x)||^2 added to D's loss (0: off);
- `attention`: one `nets.SelfAttention` block on the 14x14 feature maps of G and of D;
- `d_norm`: D's normalization layer ("batch" as in the DCGAN; "none" as in SNGAN and R1's models).
With every option at its default the step is `gan.step` itself and the networks are the DCGAN's,
so a run equals the plain DCGAN's run. Training is `recipe.train`; `VARIANTS` names the settings
notebook 12 compares.
"""

from dataclasses import dataclass

import torch

from . import gan, losses, modern, recipe
from .data import split_evenly
from .nets import (
    NORMS,
    dcgan_discriminator,
    dcgan_discriminator_with_attention,
    dcgan_generator,
    dcgan_generator_with_attention,
    init_dcgan_weights,
    sample_noise,
)

LOSSES = ("nonsaturating", "hinge")
R1_GAMMA = 10.0  # the weight Mescheder et al. (2018) use in most of their experiments
VARIANTS = {  # notebook 12's models: each adds options to the DCGAN, at the DCGAN's rates
    "DCGAN": {},
    "SNGAN": dict(loss="hinge", spectral_norm=True, d_norm="none"),
    "DCGAN + R1": dict(r1_gamma=R1_GAMMA, d_norm="none"),
    "SAGAN": dict(loss="hinge", spectral_norm=True, spectral_norm_g=True, attention=True,
                  d_norm="none"),
}


@dataclass(frozen=True)
class ModernConfig(gan.GANConfig):
    """A DCGAN run with the options of the module docstring; the defaults give the plain DCGAN."""

    loss: str = "nonsaturating"
    spectral_norm: bool = False
    spectral_norm_g: bool = False
    r1_gamma: float = 0.0
    attention: bool = False
    d_norm: str = "batch"

    def __post_init__(self):
        super().__post_init__()
        if self.kind != "dcgan":
            raise ValueError(f"The modern options apply to the 'dcgan' recipe, got {self.kind!r}.")
        if self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}: expected one of {LOSSES}.")
        if self.d_norm not in NORMS:
            raise ValueError(f"Unknown norm {self.d_norm!r}: expected one of {NORMS}.")
        if self.r1_gamma < 0:
            raise ValueError(f"r1_gamma must be >= 0 (0: off), got {self.r1_gamma}.")

    @property
    def plain(self):
        return (self.loss, self.spectral_norm, self.spectral_norm_g, self.r1_gamma, self.attention,
                self.d_norm) == ("nonsaturating", False, False, 0.0, False, "batch")


def config(data, schedule, **settings):
    """The ModernConfig for `schedule`: the DCGAN settings of gan.DCGAN_BATCH_64, then `settings`."""
    return recipe.make_config(ModernConfig, {"kind": "dcgan", "schedule": schedule,
                                             **gan.DCGAN_BATCH_64[schedule]}, data, **settings)


def build(config):
    if config.attention:
        generator = dcgan_generator_with_attention(config.latent_dim)
        discriminator = dcgan_discriminator_with_attention(norm=config.d_norm)
        generator.apply(init_dcgan_weights)
        discriminator.apply(init_dcgan_weights)
    elif config.d_norm == "batch":  # exactly the DCGAN recipe's networks and initialisation
        generator, discriminator = gan.make_gan("dcgan", config.latent_dim)
    else:
        generator, discriminator = dcgan_generator(config.latent_dim), dcgan_discriminator(norm=config.d_norm)
        generator.apply(init_dcgan_weights)
        discriminator.apply(init_dcgan_weights)
    if config.spectral_norm:
        modern.spectrally_normalized(discriminator)
    if config.spectral_norm_g:
        modern.spectrally_normalized(generator)
    return {"generator": generator, "discriminator": discriminator}


def discriminator_loss(real_logits, fake_logits, config):
    """D's loss without its penalty: the hinge loss or the cross-entropy of notebook 04."""
    if config.loss == "hinge":
        return modern.hinge_discriminator_loss(real_logits, fake_logits)
    return losses.gan_discriminator_loss(real_logits, fake_logits)


def generator_loss(fake_logits, config):
    """G's loss: -E l(G(z)) for the hinge game, else the config's generator loss (non-saturating)."""
    if config.loss == "hinge":
        return modern.hinge_generator_loss(fake_logits)
    return gan.GENERATOR_LOSSES[config.generator_loss](fake_logits)


def discriminator_update(discriminator, optimizer, x_real, x_fake, loss_fn, r1_gamma=0.0):
    """One update of D on a real and a fake batch: loss_fn(real_logits, fake_logits), plus R1 on
    the real batch when r1_gamma > 0 (also the StyleGAN recipe's D step). Returns what is logged."""
    real_logits, fake_logits = discriminator(x_real), discriminator(x_fake)
    loss = loss_fn(real_logits, fake_logits)
    out = {"d_loss": loss.detach(), "d_real": torch.sigmoid(real_logits).mean().detach(),
           "d_fake": torch.sigmoid(fake_logits).mean().detach()}
    if r1_gamma:
        penalty = modern.r1_penalty(discriminator, x_real, r1_gamma)
        out["r1"] = penalty.detach()
        loss = loss + penalty
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return out


def d_step(generator, discriminator, optimizer, x_real, z, config):
    """One discriminator step: its loss, plus R1 on the real batch when r1_gamma > 0."""
    with torch.no_grad():
        x_fake = generator(z)
    return discriminator_update(discriminator, optimizer, x_real, x_fake,
                                lambda real, fake: discriminator_loss(real, fake, config), config.r1_gamma)


def g_step(generator, discriminator, optimizer, z, config):
    """One generator step through the (fixed) discriminator."""
    loss = generator_loss(discriminator(generator(z)), config)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"g_loss": loss.detach()}


def step(modules, optimizers, x, config):
    if config.plain:  # exactly the GAN recipe's step
        return gan.step(modules, optimizers, x, config)
    g, d = modules["generator"], modules["discriminator"]
    for part in split_evenly(x, config.d_steps, "d_steps"):
        out = d_step(g, d, optimizers["discriminator"], part,
                     sample_noise(len(part), config.latent_dim, part.device), config)
    z = sample_noise(len(part), config.latent_dim, x.device)
    out.update(g_step(g, d, optimizers["generator"], z, config))
    return out


RECIPE = recipe.Recipe("modern-dcgan", build, recipe.adam_per_player, step,
                       tensors=recipe.symmetric_data, draws_per_step=lambda config: config.d_steps,
                       snapshot=recipe.fixed_noise_grid, adversarial=True,
                       averaged=("generator",))  # as gan.RECIPES: used when ema_decay is set


def load_or_train_modern(x_train, dataset, schedule, device, seed=0, snapshots=8, name=None,
                         progress=True, store=None, **settings):
    """The DCGAN with the options in `settings` (e.g. **VARIANTS["SNGAN"]), loaded from its
    checkpoint, else trained. Returns (generator, discriminator, meta) in eval mode; the generator
    is the moving average of G's weights when the config keeps one (`ema_decay`), as in
    `gan.load_or_train_gan`."""
    data = recipe.RunData(dataset, x_train)
    modules, meta = recipe.load_or_train(RECIPE, config(data, schedule, seed=seed, **settings), data,
                                         device, name=name, snapshots=snapshots, progress=progress,
                                         store=store)
    return recipe.for_sampling(modules), modules["discriminator"], meta


def spectral_norms(network):
    """The spectral norm of every linear and convolution weight of `network` (as the layer uses it,
    W / sigma for a normalised layer), computed exactly on the reshaped weight: {name: norm}."""
    norms = {}
    for name, module in network.named_modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            with torch.no_grad():
                weight = module.weight
                matrix = modern.as_matrix(weight.transpose(0, 1) if isinstance(
                    module, torch.nn.ConvTranspose2d) else weight)
                norms[name] = float(torch.linalg.matrix_norm(matrix, 2))
    return norms
