"""The GAN recipes: networks, weight init, one-step functions, defaults (notebooks 04 and 05).

Three recipes share the same step functions and training loop:
- "toy":   MLP generator and discriminator for 2-D points (the ring and grid of Gaussians);
- "mlp":   MLP generator and discriminator for 28x28 images (notebook 04);
- "dcgan": the convolutional DCGAN for 28x28 images (notebook 05).

Every discriminator is a `Discriminator(body, head)`: `body` maps an input to a feature vector and
`head` (one linear layer) maps the features to one logit. Later chapters reuse the pieces: an
auxiliary classifier (ACGAN) or a code predictor (InfoGAN) is another head on the same body, a
critic for WGAN-GP is the body built with `norm="none"` or `"layer"` (no batch norm), and a
conditional model feeds the condition as extra inputs (a larger `latent_dim` for a generator,
extra `in_channels` for the DCGAN discriminator, a larger `in_shape` for the MLP one).
Images are in [-1, 1] (`scale="symmetric"`), matching the generators' tanh output.
"""

import math

import torch
from torch import nn

from . import checkpoints, checks, losses
from .data import batch_stream
from .nets import IMAGE_SHAPE, ExpectShape
from .train import check_not_diverged, fit_modules

RECIPES = ("toy", "mlp", "dcgan")
GENERATOR_LOSSES = {
    "nonsaturating": losses.gan_generator_loss_nonsaturating,
    "minimax": losses.gan_generator_loss_minimax,
}
NORMS = ("batch", "layer", "none")

# Per-schedule defaults for each recipe. Adam(lr, betas=(0.5, 0.999)) is the DCGAN choice.
DEFAULTS = {
    "smoke": {
        "toy": dict(steps=300, batch_size=128, lr_g=1e-3, lr_d=1e-3, latent_dim=8),
        "mlp": dict(steps=150, batch_size=64, lr_g=2e-4, lr_d=2e-4, latent_dim=64),
        "dcgan": dict(steps=60, batch_size=64, lr_g=2e-4, lr_d=2e-4, latent_dim=64),
    },
    "full": {
        "toy": dict(steps=3000, batch_size=128, lr_g=1e-3, lr_d=1e-3, latent_dim=8),
        "mlp": dict(steps=5000, batch_size=64, lr_g=2e-4, lr_d=2e-4, latent_dim=64),
        "dcgan": dict(steps=2500, batch_size=64, lr_g=2e-4, lr_d=2e-4, latent_dim=64),
    },
}


# ---- networks ----------------------------------------------------------------------------------


class Discriminator(nn.Module):
    """logit = head(body(x)), one logit per example: D(x) = sigmoid(logit).

    `features(x)` gives the body's output, so other heads can share the body.
    """

    def __init__(self, body, head):
        super().__init__()
        self.body, self.head = body, head

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x)).squeeze(1)


def leaky_relu():
    """LeakyReLU with slope 0.2 for negative inputs (the DCGAN choice)."""
    return nn.LeakyReLU(0.2)


def mlp_layers(sizes, activation):
    """Linear layers of the given sizes, each followed by `activation()`."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation()]
    return layers


def mlp_generator(latent_dim, out_shape=IMAGE_SHAPE, hidden=(256, 512, 1024), out_activation=nn.Tanh,
                  activation=leaky_relu):
    """z (B, latent_dim) -> x (B, *out_shape): an MLP; tanh output for images in [-1, 1].

    For 2-D points use out_shape=(2,) and out_activation=None (points are not bounded).
    """
    out_dim = math.prod(out_shape)
    layers = [ExpectShape((latent_dim,), "latent"), *mlp_layers([latent_dim, *hidden], activation),
              nn.Linear(hidden[-1], out_dim)]
    if out_activation is not None:
        layers.append(out_activation())
    if len(out_shape) > 1:
        layers.append(nn.Unflatten(1, tuple(out_shape)))
    return nn.Sequential(*layers)


def mlp_discriminator(in_shape=IMAGE_SHAPE, hidden=(512, 256)):
    """x (B, *in_shape) -> logit (B,): LeakyReLU(0.2) MLP body, linear head."""
    in_dim = math.prod(in_shape)
    body = nn.Sequential(ExpectShape(in_shape, "discriminator input"), nn.Flatten(),
                         *mlp_layers([in_dim, *hidden], leaky_relu))
    return Discriminator(body, nn.Linear(hidden[-1], 1))


def dcgan_generator(latent_dim, channels=(64, 32), out_channels=1):
    """z (B, latent_dim) -> image (B, out_channels, 28, 28) in [-1, 1] (notebook 05).

    Project and reshape to 7x7, then two stride-2 transposed convolutions (7 -> 14 -> 28), batch
    norm and ReLU after every layer but the last, tanh output. No pooling, no fully connected
    hidden layers. A conditional generator passes latent_dim = noise size + condition size.
    """
    c1, c2 = channels
    return nn.Sequential(
        ExpectShape((latent_dim,), "latent"),
        nn.Linear(latent_dim, c1 * 7 * 7, bias=False),
        nn.Unflatten(1, (c1, 7, 7)),
        nn.BatchNorm2d(c1), nn.ReLU(),
        nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1, bias=False),  # 7 -> 14
        nn.BatchNorm2d(c2), nn.ReLU(),
        nn.ConvTranspose2d(c2, out_channels, 4, stride=2, padding=1),  # 14 -> 28
        nn.Tanh(),
    )


def _norm2d(norm, channels):
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":  # normalises each example on its own: allowed in a WGAN-GP critic
        return nn.GroupNorm(1, channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"Unknown norm {norm!r}: expected one of {NORMS}.")


def dcgan_discriminator_body(in_channels=1, channels=(32, 64), norm="batch"):
    """Image (B, in_channels, 28, 28) -> features (B, channels[1] * 7 * 7).

    Two stride-2 convolutions (28 -> 14 -> 7) with LeakyReLU(0.2); no norm on the first layer
    (it sees the raw images), `norm` ('batch', 'layer' or 'none') on the second.
    """
    c1, c2 = channels
    return nn.Sequential(
        ExpectShape((in_channels, *IMAGE_SHAPE[1:]), "discriminator input"),
        nn.Conv2d(in_channels, c1, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 28 -> 14
        nn.Conv2d(c1, c2, 4, stride=2, padding=1, bias=norm == "none"),  # 14 -> 7
        _norm2d(norm, c2), nn.LeakyReLU(0.2),
        nn.Flatten(),
    )


def dcgan_discriminator(in_channels=1, channels=(32, 64), norm="batch"):
    """Image (B, in_channels, 28, 28) -> logit (B,): the DCGAN body and a linear head."""
    body = dcgan_discriminator_body(in_channels, channels, norm)
    return Discriminator(body, nn.Linear(channels[1] * 7 * 7, 1))


@torch.no_grad()
def init_dcgan_weights(module):
    """DCGAN initialisation, for `model.apply(init_dcgan_weights)`: every convolution and linear
    weight ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02), all biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def make_gan(recipe, latent_dim):
    """(generator, discriminator) of a recipe: 'toy' (2-D points), 'mlp' or 'dcgan' (images)."""
    if recipe == "toy":
        return (mlp_generator(latent_dim, (2,), hidden=(128, 128, 128), out_activation=None,
                              activation=nn.ReLU),
                mlp_discriminator((2,), hidden=(128, 128, 128)))
    if recipe == "mlp":
        return mlp_generator(latent_dim), mlp_discriminator()
    if recipe == "dcgan":
        generator, discriminator = dcgan_generator(latent_dim), dcgan_discriminator()
        generator.apply(init_dcgan_weights)
        discriminator.apply(init_dcgan_weights)
        return generator, discriminator
    raise ValueError(f"Unknown GAN recipe {recipe!r}: expected one of {RECIPES}.")


# ---- the 1-D / 2-D theory helpers --------------------------------------------------------------


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), from the two densities at x (notebook 04)."""
    p_data, p_g = torch.as_tensor(p_data), torch.as_tensor(p_g)
    if (p_data < 0).any() or (p_g < 0).any():
        raise ValueError("densities must be non-negative.")
    return p_data / (p_data + p_g)


# ---- one training step ---------------------------------------------------------------------------


def sample_noise(n, latent_dim, device=None):
    """z ~ N(0, I): (n, latent_dim)."""
    return torch.randn(n, latent_dim, device=device)


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
    if len(x_real) % d_steps:
        raise ValueError(f"the batch of {len(x_real)} cannot be split into d_steps={d_steps} "
                         "equal minibatches.")
    batch_size = len(x_real) // d_steps
    for x in x_real.split(batch_size):
        out = d_step(generator, discriminator, d_optimizer, x,
                     sample_noise(batch_size, latent_dim, x.device))
    z = sample_noise(batch_size, latent_dim, x_real.device)
    out.update(g_step(generator, discriminator, g_optimizer, z, generator_loss))
    return out


# ---- training ------------------------------------------------------------------------------------


def train_gan(generator, discriminator, x_train, steps, batch_size, lr_g, lr_d, latent_dim,
              d_steps=1, generator_loss="nonsaturating", betas=(0.5, 0.999), seed=0,
              callback=None, every=None, max_seconds=None, desc="GAN", progress=True):
    """Adam on `gan_step` over shuffled batches of x_train; returns the history.

    history has d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z)) and seconds, one entry
    per iteration. `callback(step, history)` runs every `every` iterations (e.g. to keep
    snapshots). `max_seconds` stops early once that much wall-clock time has passed (for
    comparisons at equal training time); history then has fewer than `steps` entries.
    x_train: images in [-1, 1] (N, C, H, W), or points (N, d) for the toy recipe.
    """
    checks.check_images_or_points(x_train, "symmetric", "x_train")
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas)
    batches = batch_stream(x_train, batch_size=batch_size * d_steps,
                           generator=torch.Generator().manual_seed(seed))

    def step(x):
        return gan_step(generator, discriminator, g_optimizer, d_optimizer, x, latent_dim,
                        d_steps, generator_loss)

    return fit_modules((generator, discriminator), step, batches, steps, callback=callback,
                       every=every, desc=desc, progress=progress, max_seconds=max_seconds)


@torch.no_grad()
def generate(generator, z):
    """G(z) in eval mode (batch norm uses its running statistics), restoring the mode after."""
    was_training = generator.training
    generator.eval()
    x = generator(z)
    generator.train(was_training)
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
    was_training = discriminator.training
    discriminator.eval()
    probs = torch.sigmoid(discriminator(points.to(device))).reshape(n, n).cpu()
    discriminator.train(was_training)
    return xs, xs, probs


# ---- checkpointed models (notebooks 04, 05 and the evaluation chapter) ------------------------

class Snapshots:
    """Sample grids kept during training (every recipe's load_or_train_* uses it).

    Pass `callback` and `every` to a train function; `draw()` returns the grid, e.g. G(z_fixed).
    `as_dict()` gives {"steps": [...], "seconds": [...], "images": (n, ...) tensor} for the meta.
    With n = 0 nothing is kept (callback and every are None).
    """

    def __init__(self, draw, steps, n):
        self.draw = draw
        self.every = max(1, steps // n) if n else None
        self.callback = self.keep if n else None
        self.steps, self.seconds, self.images = [], [], []

    def keep(self, i, history):
        self.steps.append(i + 1)
        self.seconds.append(history["seconds"][-1])
        self.images.append(self.draw().cpu())

    def as_dict(self):
        images = torch.stack(self.images) if self.images else torch.empty(0)
        return {"steps": self.steps, "seconds": self.seconds, "images": images}


CHECKPOINT_NAMES = {"mlp": "gan-mlp", "dcgan": "dcgan"}


def load_or_train_gan(recipe, x_train, dataset, schedule, device, seed=0, snapshots=8,
                      name=None, max_seconds=None, progress=True, **overrides):
    """The image GAN of a recipe ('mlp' or 'dcgan'), loaded from its checkpoint, else trained.

    Hyper-parameters are DEFAULTS[schedule][recipe], updated by `overrides`. The checkpoint is
    checkpoint_path(name or CHECKPOINT_NAMES[recipe], dataset, schedule) with modules
    {"generator", "discriminator"}; its meta holds the history, the training time in seconds,
    the number of steps, the device, the config, and `snapshots` sample grids G(z_fixed) taken
    during training (meta["snapshots"] = {"steps": [...], "seconds": [...], "images": tensor}).
    Returns (generator, discriminator, meta), both networks in eval mode.
    """
    if recipe not in CHECKPOINT_NAMES:
        raise ValueError(f"Unknown image GAN recipe {recipe!r}: expected one of "
                         f"{tuple(CHECKPOINT_NAMES)}.")
    config = {**DEFAULTS[schedule][recipe], **overrides}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator, discriminator = make_gan(recipe, config["latent_dim"])
        z_fixed = torch.randn(64, config["latent_dim"])
    generator, discriminator = generator.to(device), discriminator.to(device)
    z_fixed = z_fixed.to(device)
    path = checkpoints.checkpoint_path(name or CHECKPOINT_NAMES[recipe], dataset, schedule)

    def train():
        kept = Snapshots(lambda: generate(generator, z_fixed), config["steps"], snapshots)
        torch.manual_seed(seed)
        history = train_gan(generator, discriminator, x_train, seed=seed, callback=kept.callback,
                            every=kept.every, max_seconds=max_seconds, desc=f"{recipe} GAN",
                            progress=progress, **config)
        # a diverged model is never saved, and never scored
        check_not_diverged(history, {"generator": generator, "discriminator": discriminator})
        return {"history": history, "seconds": history["seconds"][-1],
                "steps": len(history["seconds"]), "device": str(device), "recipe": recipe,
                "config": config, "max_seconds": max_seconds, "snapshots": kept.as_dict()}

    meta, _ = checkpoints.load_or_train(path, {"generator": generator,
                                               "discriminator": discriminator}, train)
    generator.eval()
    discriminator.eval()
    return generator, discriminator, meta
