"""The Wasserstein GAN recipes: WGAN with weight clipping (notebook 07) and WGAN-GP (notebook 08).

Both train a generator against a *critic* f: the Discriminator of `course_lib.nets` read as a real
score (no sigmoid). The critic maximises E_data f - E_G f, an estimate of W1(data, G) when f is
1-Lipschitz; the two variants differ only in how they keep f Lipschitz:
- "clip": clip every critic parameter to [-c, c] after each critic step; RMSprop(5e-5), c = 0.01,
  n_critic = 5 (Arjovsky, Chintala & Bottou, 2017, Algorithm 1);
- "gp":   add lambda E(||grad f(x_hat)|| - 1)^2 on interpolates x_hat; Adam(1e-4, betas (0, 0.9)),
  lambda = 10, n_critic = 5, no batch norm in the critic (Gulrajani et al., 2017, Algorithm 1).
Recipes: "toy" (MLPs for 2-D points) and "dcgan" (the DCGAN networks of notebook 05, images in
[-1, 1]).
"""

from dataclasses import dataclass

import torch
from torch import nn

from . import checks, losses, recipe
from .data import batch_stream, split_evenly
from .nets import (
    Discriminator,
    ExpectShape,
    dcgan_discriminator,
    dcgan_generator,
    eval_mode,
    init_dcgan_weights,
    sample_noise,
    toy_gan,
)
from .train import fit_modules

VARIANTS = ("clip", "gp")
RECIPES = ("toy", "dcgan")

# The papers' optimisers and constants per variant; the schedule sets lengths and sizes.
VARIANT_SETTINGS = {
    "clip": dict(optimizer="rmsprop", lr=5e-5, betas=None, clip=0.01, gp_weight=None, n_critic=5,
                 norm="batch"),
    "gp": dict(optimizer="adam", lr=1e-4, betas=(0.0, 0.9), clip=None, gp_weight=10.0, n_critic=5,
               norm="layer"),
}
SCHEDULE_SETTINGS = {
    "smoke": {"toy": dict(steps=150, batch_size=128, latent_dim=8),
              "dcgan": dict(steps=30, batch_size=64, latent_dim=64)},
    "full": {"toy": dict(steps=2000, batch_size=128, latent_dim=8),
             "dcgan": dict(steps=2000, batch_size=64, latent_dim=64)},
}
# Where a recipe departs from its variant's settings, and why (notebooks 07 and 08 measure it):
RECIPE_SETTINGS = {
    # The WGAN-GP authors' own 2-D code uses lambda = 0.1 and Adam(1e-3, (0.5, 0.9)): with the
    # paper's image settings our 3x128 toy networks covered only 4 of the 8 ring modes at this length.
    ("toy", "gp"): dict(gp_weight=0.1, lr=1e-3, betas=(0.5, 0.9)),
    # Lengths that keep notebooks 07 and 08 under 10 minutes on 2 CPU cores.
    ("full", "dcgan", "clip"): dict(steps=2500),
    ("full", "dcgan", "gp"): dict(steps=1200),
}
# DEFAULTS[schedule][recipe][variant]: every hyper-parameter of a run (steps = generator steps).
DEFAULTS = {schedule: {recipe: {variant: {**VARIANT_SETTINGS[variant], **sizes,
                                          **RECIPE_SETTINGS.get((recipe, variant), {}),
                                          **RECIPE_SETTINGS.get((schedule, recipe, variant), {})}
                                for variant in VARIANTS}
                       for recipe, sizes in recipes.items()}
            for schedule, recipes in SCHEDULE_SETTINGS.items()}


def _check_variant(variant):
    if variant not in VARIANTS:
        raise ValueError(f"Unknown WGAN variant {variant!r}: expected one of {VARIANTS}.")


def make_wgan(recipe, latent_dim, norm="batch"):
    """(generator, critic) of a recipe. The critic's last layer is linear: its output is a score.

    `norm` is the critic's normalisation for 'dcgan' ('batch', 'layer' or 'none'); WGAN-GP needs
    'layer' or 'none' because batch norm makes each score depend on the rest of the batch.
    The 'toy' critic has no normalisation at all.
    """
    if recipe == "toy":
        return toy_gan(latent_dim)
    if recipe == "dcgan":
        generator = dcgan_generator(latent_dim)
        critic = dcgan_discriminator(norm=norm)
        generator.apply(init_dcgan_weights)
        critic.apply(init_dcgan_weights)
        return generator, critic
    raise ValueError(f"Unknown WGAN recipe {recipe!r}: expected one of {RECIPES}.")


# ---- one training step ---------------------------------------------------------------------------


@torch.no_grad()
def clip_weights(critic, c):
    """Clamp every parameter of the critic to [-c, c] in place (WGAN's crude Lipschitz constraint)."""
    if c <= 0:
        raise ValueError(f"the clipping bound c must be positive, got {c}.")
    for p in critic.parameters():
        p.clamp_(-c, c)


def critic_step(generator, critic, optimizer, x_real, z, clip=None, gp_weight=None):
    """One critic step: descend E_G f - E_data f (+ the gradient penalty), then clip if asked.

    Returns the critic loss, the gradient penalty (0 without one) and w_estimate = E_data f - E_G f
    on this batch, the critic's running estimate of W1 (up to the Lipschitz constant).
    """
    with torch.no_grad():
        x_fake = generator(z)
    real_scores, fake_scores = critic(x_real), critic(x_fake)
    loss = losses.wasserstein_critic_loss(real_scores, fake_scores)
    penalty = torch.zeros((), device=x_real.device)
    if gp_weight:
        penalty = losses.gradient_penalty(critic, x_real, x_fake, gp_weight)
    optimizer.zero_grad(set_to_none=True)
    (loss + penalty).backward()
    optimizer.step()
    if clip is not None:
        clip_weights(critic, clip)
    return {"critic_loss": (loss + penalty).detach(), "gp": penalty.detach(),
            "w_estimate": -loss.detach()}


def generator_step(generator, critic, optimizer, z):
    """One generator step: descend -E_z f(G(z)) through the (fixed) critic."""
    loss = losses.wasserstein_generator_loss(critic(generator(z)))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # also fills the critic's .grad; critic_step clears it before its next update
    optimizer.step()
    return {"g_loss": loss.detach()}


def wgan_step(generator, critic, g_optimizer, c_optimizer, x_real, latent_dim, n_critic=5,
              clip=None, gp_weight=None):
    """One generator iteration: `n_critic` critic steps (x_real is split into n_critic
    minibatches), then one generator step on fresh noise."""
    for x in split_evenly(x_real, n_critic, "n_critic"):
        out = critic_step(generator, critic, c_optimizer, x,
                          sample_noise(len(x), latent_dim, x.device), clip, gp_weight)
    z = sample_noise(len(x), latent_dim, x_real.device)
    out.update(generator_step(generator, critic, g_optimizer, z))
    return out


# ---- training ------------------------------------------------------------------------------------


def make_optimizer(parameters, optimizer, lr, betas=None):
    """RMSprop (WGAN: momentum-free, because momentum made clipped critics unstable) or Adam."""
    if optimizer == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    if optimizer == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=betas)
    raise ValueError(f"Unknown optimizer {optimizer!r}: expected 'rmsprop' or 'adam'.")


def train_critic(critic, sample_p, sample_q, steps, batch_size=256, optimizer="adam", lr=1e-3,
                 betas=(0.5, 0.9), clip=None, gp_weight=10.0, seed=0, callback=None, every=None):
    """Train only a critic between two fixed samples (no generator); returns the history.

    The last w_estimate values estimate W1(p, q) when the critic is (close to) 1-Lipschitz, as with
    the gradient penalty; with clipping they estimate K * W1 for an unknown K (notebook 07).
    `callback(step, history)` runs every `every` steps and after the last one.
    """
    checks.check_finite(checks.check_batch(sample_p, "sample_p"), "sample_p")
    checks.check_finite(checks.check_batch(sample_q, "sample_q"), "sample_q")
    c_optimizer = make_optimizer(critic.parameters(), optimizer, lr, betas)
    rng = torch.Generator().manual_seed(seed)
    batches_p = batch_stream(sample_p, batch_size=batch_size, generator=rng)
    batches_q = batch_stream(sample_q, batch_size=batch_size, generator=rng)

    def step(x_p):
        fake = next(batches_q)
        return critic_step(nn.Identity(), critic, c_optimizer, x_p, fake, clip, gp_weight)

    return fit_modules((critic,), step, batches_p, steps, callback=callback, every=every,
                       desc="critic", progress=False)


@torch.no_grad()
def estimate_w1(critic, sample_p, sample_q, batch_size=4096):
    """E_p f - E_q f over whole samples: the critic's estimate of W1(p, q)."""
    def mean_score(x):
        return torch.cat([critic(part) for part in x.split(batch_size)]).mean()

    return float(mean_score(sample_p) - mean_score(sample_q))


# ---- the recipes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WGANConfig(recipe.RunConfig):
    """A WGAN run: the recipe's networks (`kind`), the variant's optimiser and Lipschitz device,
    and n_critic critic steps per generator step (`steps` counts generator steps)."""

    kind: str = "dcgan"
    variant: str = "gp"
    latent_dim: int = 64
    optimizer: str = "adam"
    lr: float = 1e-4
    betas: tuple = None
    clip: float = None
    gp_weight: float = None
    n_critic: int = 5
    norm: str = "layer"
    ema_decay: float = None  # keep a moving average of G's weights for sampling (None: off)

    def __post_init__(self):
        _check_variant(self.variant)
        if self.kind not in RECIPES:
            raise ValueError(f"Unknown WGAN recipe {self.kind!r}: expected one of {RECIPES}.")


def config(variant, data, schedule, kind="dcgan", **settings):
    """The WGANConfig of a variant ('clip' or 'gp') and recipe `kind`: DEFAULTS, then `settings`."""
    _check_variant(variant)
    return recipe.make_config(WGANConfig, {"kind": kind, "variant": variant, "schedule": schedule,
                                           **DEFAULTS[schedule][kind][variant]}, data, **settings)


def build(config):
    generator, critic = make_wgan(config.kind, config.latent_dim, config.norm)
    return {"generator": generator, "critic": critic}


def optimizers(config, modules):
    return {name: make_optimizer(modules[name].parameters(), config.optimizer, config.lr, config.betas)
            for name in ("generator", "critic")}


def step(modules, optimizers, x, config):
    return wgan_step(modules["generator"], modules["critic"], optimizers["generator"],
                     optimizers["critic"], x, config.latent_dim, config.n_critic, config.clip,
                     config.gp_weight)


CHECKPOINT_NAMES = {"clip": "wgan", "gp": "wgan-gp"}
RECIPES_BY_VARIANT = {
    variant: recipe.Recipe(name, build, optimizers, step, tensors=recipe.symmetric_data,
                           draws_per_step=lambda config: config.n_critic,
                           snapshot=recipe.fixed_noise_grid, adversarial=True,
                           averaged=("generator",))
    for variant, name in CHECKPOINT_NAMES.items()}


def load_or_train_wgan(variant, x_train, dataset, schedule, device, seed=0, snapshots=8,
                       name=None, progress=True, store=None, **settings):
    """The DCGAN-architecture WGAN of a variant ('clip' or 'gp'), from its checkpoint or trained,
    as `gan.load_or_train_gan` does (the history has the critic's W1 estimate per iteration).
    Returns (generator, critic, meta), in eval mode."""
    _check_variant(variant)
    data = recipe.RunData(dataset, x_train)
    modules, meta = recipe.load_or_train(
        RECIPES_BY_VARIANT[variant], config(variant, data, schedule, seed=seed, **settings), data,
        device, name=name, snapshots=snapshots, progress=progress, store=store)
    return recipe.for_sampling(modules), modules["critic"], meta


# ---- notebook 08: WGAN-GP on 2-D mixtures, critic surfaces, gradient norms ------------------------


def interpolate_gradient_norms(critic, x_real, x_fake, seed=0):
    """||grad f(x_hat)|| at x_hat = eps x_real + (1 - eps) x_fake, eps ~ U(0, 1) per pair: the
    quantity the gradient penalty pushes towards 1 (notebook 08). Returns (B,) on the CPU."""
    eps = torch.rand(len(x_real), generator=torch.Generator().manual_seed(seed))
    x_hat = losses.interpolate(x_real.detach(), x_fake.detach(), eps.to(x_real.device))
    with eval_mode(critic):
        return losses.critic_gradient_norms(critic, x_hat).detach().cpu()


# ---- notebook 07: why Wasserstein (parallel lines, optimal transport, clipped critics) ----------


_ONE_LIPSCHITZ = (nn.LeakyReLU, nn.ReLU, nn.Tanh, nn.Flatten, nn.Identity, nn.Sequential,
                  Discriminator, ExpectShape)


def lipschitz_upper_bound(critic):
    """K >= the Lipschitz constant of an MLP critic (Linear layers and 1-Lipschitz activations):

        |f(u) - f(v)| <= prod_l ||W_l||_2 |u - v|      (notebook 07, section 4),

    the product of the layers' largest singular values. With every entry of W_l (n_out x n_in) in
    [-c, c], ||W_l||_2 <= ||W_l||_F <= c sqrt(n_in n_out): clipping bounds K, but not at 1.
    """
    bound = 1.0
    for module in critic.modules():
        if isinstance(module, nn.Linear):
            bound *= float(torch.linalg.matrix_norm(module.weight.detach(), ord=2))
        elif not isinstance(module, _ONE_LIPSCHITZ):
            raise ValueError(f"lipschitz_upper_bound handles Linear layers and 1-Lipschitz "
                             f"activations only, not {type(module).__name__}.")
    return bound


@torch.no_grad()
def fraction_at_clip(critic, c, rtol=1e-3):
    """Share of the critic's parameters sitting at the clipping bound, |w| >= c (1 - rtol)."""
    values = torch.cat([p.detach().flatten() for p in critic.parameters()])
    return float((values.abs() >= c * (1 - rtol)).float().mean())
