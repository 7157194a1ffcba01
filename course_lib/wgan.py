"""The Wasserstein GAN recipes: WGAN with weight clipping (notebook 07) and WGAN-GP (notebook 08).

Both train a generator against a *critic* f: the Discriminator of `course_lib.gan` read as a real
score (no sigmoid). The critic maximises E_data f - E_G f, an estimate of W1(data, G) when f is
1-Lipschitz; the two variants differ only in how they keep f Lipschitz:
- "clip": clip every critic parameter to [-c, c] after each critic step; RMSprop(5e-5), c = 0.01,
  n_critic = 5 (Arjovsky, Chintala & Bottou, 2017, Algorithm 1);
- "gp":   add lambda E(||grad f(x_hat)|| - 1)^2 on interpolates x_hat; Adam(1e-4, betas (0, 0.9)),
  lambda = 10, n_critic = 5, no batch norm in the critic (Gulrajani et al., 2017, Algorithm 1).
Recipes: "toy" (MLPs for 2-D points) and "dcgan" (the DCGAN networks of notebook 05, images in
[-1, 1]).
"""

import torch
from torch import nn

from . import checkpoints, gan, losses
from .data import batch_stream
from .train import fit

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
    "full": {"toy": dict(steps=3000, batch_size=128, latent_dim=8),
             "dcgan": dict(steps=2000, batch_size=64, latent_dim=64)},
}
# DEFAULTS[schedule][recipe][variant]: every hyper-parameter of a run (steps = generator steps).
DEFAULTS = {schedule: {recipe: {variant: {**VARIANT_SETTINGS[variant], **sizes}
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
        return gan.make_gan("toy", latent_dim)
    if recipe == "dcgan":
        generator = gan.dcgan_generator(latent_dim)
        critic = gan.dcgan_discriminator(norm=norm)
        generator.apply(gan.init_dcgan_weights)
        critic.apply(gan.init_dcgan_weights)
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
    if len(x_real) % n_critic:
        raise ValueError(f"the batch of {len(x_real)} cannot be split into n_critic={n_critic} "
                         "equal minibatches.")
    batch_size = len(x_real) // n_critic
    for x in x_real.split(batch_size):
        out = critic_step(generator, critic, c_optimizer, x,
                          gan.sample_noise(batch_size, latent_dim, x.device), clip, gp_weight)
    z = gan.sample_noise(batch_size, latent_dim, x_real.device)
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


def train_wgan(generator, critic, x_train, steps, batch_size, latent_dim, optimizer, lr,
               betas=None, clip=None, gp_weight=None, n_critic=5, norm=None, seed=0,
               callback=None, every=None, max_seconds=None, desc="WGAN", progress=True):
    """`steps` generator iterations of `wgan_step` over shuffled batches of x_train.

    history has critic_loss, gp, w_estimate (E_data f - E_G f on the last critic minibatch),
    g_loss and seconds, one entry per generator iteration. `norm` is ignored (it is a property of
    the critic, accepted so that a DEFAULTS entry can be passed as **config).
    """
    g_optimizer = make_optimizer(generator.parameters(), optimizer, lr, betas)
    c_optimizer = make_optimizer(critic.parameters(), optimizer, lr, betas)
    batches = batch_stream(x_train, batch_size=batch_size * n_critic,
                           generator=torch.Generator().manual_seed(seed))
    generator.train()
    critic.train()

    def step(x):
        return wgan_step(generator, critic, g_optimizer, c_optimizer, x, latent_dim, n_critic,
                         clip, gp_weight)

    try:
        return fit(step, batches, steps, callback=callback, every=every, desc=desc,
                   progress=progress, max_seconds=max_seconds)
    finally:
        generator.eval()
        critic.eval()


def train_critic(critic, sample_p, sample_q, steps, batch_size=256, optimizer="adam", lr=1e-3,
                 betas=(0.5, 0.9), clip=None, gp_weight=10.0, seed=0):
    """Train only a critic between two fixed samples (no generator); returns the history.

    The last w_estimate values estimate W1(p, q) when the critic is (close to) 1-Lipschitz, as with
    the gradient penalty; with clipping they estimate K * W1 for an unknown K (notebook 07).
    """
    c_optimizer = make_optimizer(critic.parameters(), optimizer, lr, betas)
    rng = torch.Generator().manual_seed(seed)
    batches_p = batch_stream(sample_p, batch_size=batch_size, generator=rng)
    batches_q = batch_stream(sample_q, batch_size=batch_size, generator=rng)

    def step(x_p):
        fake = next(batches_q)
        return critic_step(nn.Identity(), critic, c_optimizer, x_p, fake, clip, gp_weight)

    critic.train()
    try:
        return fit(step, batches_p, steps, desc="critic", progress=False)
    finally:
        critic.eval()


@torch.no_grad()
def estimate_w1(critic, sample_p, sample_q, batch_size=4096):
    """E_p f - E_q f over whole samples: the critic's estimate of W1(p, q)."""
    def mean_score(x):
        return torch.cat([critic(part) for part in x.split(batch_size)]).mean()

    return float(mean_score(sample_p) - mean_score(sample_q))


# ---- checkpointed image models (notebooks 07, 08 and the evaluation chapter) ------------------

CHECKPOINT_NAMES = {"clip": "wgan", "gp": "wgan-gp"}


def load_or_train_wgan(variant, x_train, dataset, schedule, device, seed=0, snapshots=8,
                       name=None, max_seconds=None, progress=True, **overrides):
    """The DCGAN-architecture WGAN of a variant ('clip' or 'gp'), from its checkpoint or trained.

    x_train: images in [-1, 1]. Hyper-parameters are DEFAULTS[schedule]["dcgan"][variant] updated by
    `overrides`. The checkpoint holds {"generator", "critic"}; its meta has the history (with the
    critic's W1 estimate per iteration), seconds, steps, device, config and `snapshots` sample grids
    G(z_fixed) taken during training, as in `gan.load_or_train_gan`. Returns (generator, critic, meta).
    """
    _check_variant(variant)
    config = {**DEFAULTS[schedule]["dcgan"][variant], **overrides}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator, critic = make_wgan("dcgan", config["latent_dim"], config["norm"])
        z_fixed = torch.randn(64, config["latent_dim"])
    generator, critic, z_fixed = generator.to(device), critic.to(device), z_fixed.to(device)
    path = checkpoints.checkpoint_path(name or CHECKPOINT_NAMES[variant], dataset, schedule)

    def train():
        kept = {"steps": [], "seconds": [], "images": []}

        def keep(i, history):
            kept["steps"].append(i + 1)
            kept["seconds"].append(history["seconds"][-1])
            kept["images"].append(gan.generate(generator, z_fixed).cpu())

        every = max(1, config["steps"] // snapshots) if snapshots else None
        torch.manual_seed(seed)
        history = train_wgan(generator, critic, x_train, seed=seed,
                             callback=keep if snapshots else None, every=every,
                             max_seconds=max_seconds, desc=f"WGAN ({variant})", progress=progress,
                             **config)
        kept["images"] = torch.stack(kept["images"]) if kept["images"] else torch.empty(0)
        return {"history": history, "seconds": history["seconds"][-1],
                "steps": len(history["seconds"]), "device": str(device), "variant": variant,
                "config": config, "max_seconds": max_seconds, "snapshots": kept}

    meta, _ = checkpoints.load_or_train(path, {"generator": generator, "critic": critic}, train)
    generator.eval()
    critic.eval()
    return generator, critic, meta
