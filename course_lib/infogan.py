"""The InfoGAN recipe (notebook 09): latent codes, the Q head, one-step functions, defaults.

The generator sees [z, c]: noise z ~ N(0, I) and a structured code c = (one categorical code with
`n_categories` values, one-hot, and `n_continuous` codes ~ U(-1, 1)) (Chen et al., 2016, arXiv:1606.03657).
The networks are the paper's MNIST networks (appendix C.1: `nets.infogan_generator` and
`nets.infogan_discriminator_body`, a fully connected layer of 1024 units at the end of D's body and
at the start of G), by default at half width to fit a CPU budget, or notebook 05's smaller DCGAN
(`architecture="dcgan"`); the discriminator gets a second head, Q, on the same body, that predicts
the code from an image. Training adds lambda * (-log Q(c | G(z, c))) to the losses of both
players (`losses.infogan_information_loss`), which maximises a lower bound on I(c; G(z, c)).
Images are in [-1, 1] (`scale="symmetric"`).
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import checks, losses, nets, recipe

NOISE_DIM, N_CATEGORIES, N_CONTINUOUS = 62, 10, 2  # the paper's layout for 28x28 digits

ARCHITECTURE, WIDTH = "paper", 0.5  # the paper's MNIST networks at half width (CPU budget)

DEFAULTS = {
    "smoke": dict(steps=80, batch_size=64, lr_g=1e-3, lr_d=2e-4, noise_dim=NOISE_DIM,
                  n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS, lambda_cat=1.0,
                  lambda_cont=0.1, learn_variance=False, noise_std=1.0, architecture=ARCHITECTURE,
                  width=WIDTH),
    # 3,500 steps: the paper's networks at half width train 5,000 in 510-635 s on 2 CPU cores, which
    # put notebook 09 past its 10-minute budget (the recorded digit runs use 5,000: see notebook 09).
    "full": dict(steps=3500, batch_size=64, lr_g=1e-3, lr_d=2e-4, noise_dim=NOISE_DIM,
                 n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS, lambda_cat=1.0,
                 lambda_cont=0.1, learn_variance=False, noise_std=1.0, architecture=ARCHITECTURE,
                 width=WIDTH),
}


# ---- codes and latents ---------------------------------------------------------------------------


def sample_codes(n, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS, device=None, generator=None):
    """Codes from their prior: (categories (n,) uniform in 0..K-1, continuous (n, k) ~ U(-1, 1))."""
    categories = torch.randint(n_categories, (n,), generator=generator).to(device)
    continuous = (torch.rand(n, n_continuous, generator=generator) * 2 - 1).to(device)
    return categories, continuous


def make_latent(noise, categories, continuous, n_categories=N_CATEGORIES):
    """The generator's input [z, one_hot(c_cat), c_cont]: (n, noise_dim + n_categories + k)."""
    if not (len(noise) == len(categories) == len(continuous)):
        raise ValueError(f"noise, categories and continuous codes need the same batch size, got "
                         f"{len(noise)}, {len(categories)} and {len(continuous)}.")
    if categories.dtype.is_floating_point or categories.min() < 0 or categories.max() >= n_categories:
        raise ValueError(f"categories must be integers in 0..{n_categories - 1}.")
    one_hot = nn.functional.one_hot(categories, n_categories).to(noise)
    return torch.cat([noise, one_hot, continuous.to(noise)], dim=1)


def sample_latent(n, noise_dim=NOISE_DIM, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS,
                  device=None, generator=None):
    """(latent, categories, continuous): z ~ N(0, I) and codes from their prior, concatenated."""
    categories, continuous = sample_codes(n, n_categories, n_continuous, generator=generator)
    noise = torch.randn(n, noise_dim, generator=generator)
    latent = make_latent(noise, categories, continuous, n_categories)
    return latent.to(device), categories.to(device), continuous.to(device)


def sample_images(generator, n, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS, rng=None):
    """n images G(z, c) with z and c drawn from their priors (generator in eval mode), on the
    generator's device. The noise size is read from the generator's input shape."""
    latent_dim = generator[0].shape[0]
    device = next(generator.parameters()).device
    latent, _, _ = sample_latent(n, latent_dim - n_categories - n_continuous, n_categories,
                                 n_continuous, device, rng)
    return nets.generate(generator, latent)


# ---- networks ------------------------------------------------------------------------------------


class ScaleNoise(nn.Module):
    """The generator's first step: multiply the noise part of [z, codes] by a fixed `std`.

    G(z, c) with z ~ N(0, I) behind this layer is a generator of z' = std * z ~ N(0, std^2 I), so
    every sampler keeps drawing z ~ N(0, I). The scale is a buffer: it is saved in checkpoints."""

    def __init__(self, noise_dim, std):
        super().__init__()
        if not std > 0:
            raise ValueError(f"the noise's standard deviation must be positive, got {std}.")
        self.noise_dim = noise_dim
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, latent):
        noise, codes = latent[:, :self.noise_dim], latent[:, self.noise_dim:]
        return torch.cat([noise * self.std, codes], dim=1)

    def extra_repr(self):
        return f"noise_dim={self.noise_dim}, std={float(self.std):g}"


class InfoDiscriminator(nets.Discriminator):
    """D and Q on one body: forward(x) is D's logit (a drop-in `nets.Discriminator`);
    q(x) or q_from_features(h) is Q's raw output, split by `split_q`."""

    def __init__(self, body, head, q_head):
        super().__init__(body, head)
        self.q_head = q_head

    def q_from_features(self, features):
        return self.q_head(features)

    def q(self, x):
        return self.q_head(self.body(x))


def q_head(feature_dim, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS, learn_variance=False,
           hidden=128):
    """Features -> Q's output: K categorical logits, k means (and k log-variances if learned).

    One hidden layer of 128 units with batch norm and LeakyReLU, as in the paper's MNIST network."""
    n_out = n_categories + n_continuous * (2 if learn_variance else 1)
    return nn.Sequential(nn.Linear(feature_dim, hidden, bias=False), nn.BatchNorm1d(hidden),
                         nets.leaky_relu(), nn.Linear(hidden, n_out))


def split_q(output, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS):
    """Q's raw output -> (categorical logits (B, K), means (B, k), log-variances (B, k)).

    With fixed variance (output has K + k columns) the log-variances are 0: sigma = 1."""
    cat_logits, rest = output[:, :n_categories], output[:, n_categories:]
    if rest.shape[1] == n_continuous:
        return cat_logits, rest, torch.zeros_like(rest)
    if rest.shape[1] == 2 * n_continuous:
        return cat_logits, rest[:, :n_continuous], rest[:, n_continuous:]
    raise ValueError(f"Q's output has {output.shape[1]} columns; expected {n_categories} + "
                     f"{n_continuous} (fixed variance) or {n_categories} + 2 * {n_continuous}.")


ARCHITECTURES = ("dcgan", "paper")


def make_networks(latent_dim, architecture="dcgan", width=1.0):
    """(generator, discriminator body): notebook 05's DCGAN networks ("dcgan"), or the paper's
    MNIST networks ("paper": `nets.infogan_generator` and `nets.infogan_discriminator_body`),
    every layer's width multiplied by `width` (1: the paper's 64/128 channels and 1024 units)."""
    if architecture == "dcgan":
        return nets.dcgan_generator(latent_dim), nets.dcgan_discriminator_body()
    if architecture != "paper":
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}.")
    c1, c2, hidden = (max(1, round(width * n)) for n in (64, 128, 1024))
    return (nets.infogan_generator(latent_dim, hidden, (c2, c1)),
            nets.infogan_discriminator_body(channels=(c1, c2), hidden=hidden))


def make_infogan(noise_dim=NOISE_DIM, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS,
                 learn_variance=False, noise_std=1.0, architecture="dcgan", width=1.0):
    """(generator, InfoDiscriminator): the networks of `make_networks` plus the Q head, DCGAN init.

    noise_std=1 is the paper's z ~ N(0, I). Any other value puts ScaleNoise(noise_dim, noise_std)
    right after the generator's input-shape check, so that its noise is z ~ N(0, noise_std^2 I)
    (notebook 09, exercise 5: a smaller scale gives the categorical code a head start)."""
    generator, body = make_networks(noise_dim + n_categories + n_continuous, architecture, width)
    if noise_std != 1.0:
        generator.insert(1, ScaleNoise(noise_dim, noise_std))
    feature_dim = body(torch.zeros(2, 1, 28, 28)).shape[1]
    discriminator = InfoDiscriminator(body, nn.Linear(feature_dim, 1),
                                      q_head(feature_dim, n_categories, n_continuous, learn_variance))
    generator.apply(nets.init_dcgan_weights)
    discriminator.apply(nets.init_dcgan_weights)
    return generator, discriminator


# ---- one training step ---------------------------------------------------------------------------


def information_loss(discriminator, features, categories, continuous, n_categories=N_CATEGORIES,
                     lambda_cat=1.0, lambda_cont=1.0):
    """(lambda L_info, L_cat): Q's weighted information loss on the body features of generated
    images whose codes were (categories, continuous), and the categorical cross-entropy alone."""
    cat_logits, mean, logvar = split_q(discriminator.q_from_features(features), n_categories,
                                       continuous.shape[1])
    loss = losses.infogan_information_loss(cat_logits, categories, mean, logvar, continuous,
                                           lambda_cat, lambda_cont)
    return loss, losses.infogan_categorical_nll(cat_logits, categories)


def infogan_step(generator, discriminator, g_optimizer, d_optimizer, x_real, noise_dim=NOISE_DIM,
                 n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS, lambda_cat=1.0,
                 lambda_cont=1.0):
    """One InfoGAN iteration: a step of D and Q, then a step of G, each on fresh codes.

    D and Q (one optimizer, one body) descend  L_D + lambda L_info  on real and generated images;
    G descends  L_G (non-saturating) + lambda L_info  through the fixed D and Q. The same
    information term in both losses: G makes its codes easy to read, Q learns to read them.
    Returns the losses and mi_cat = log K - L_cat, the lower bound on I(c_cat; G(z, c)).
    """
    batch, device = len(x_real), x_real.device
    latent, categories, continuous = sample_latent(batch, noise_dim, n_categories, n_continuous, device)
    with torch.no_grad():
        x_fake = generator(latent)  # G is held fixed in D's step
    real_logits = discriminator(x_real)
    features = discriminator.features(x_fake)  # one pass through the body serves D's head and Q
    fake_logits = discriminator.head(features).squeeze(1)
    d_loss = losses.gan_discriminator_loss(real_logits, fake_logits)
    d_info, _ = information_loss(discriminator, features, categories, continuous, n_categories,
                                 lambda_cat, lambda_cont)
    d_optimizer.zero_grad(set_to_none=True)
    (d_loss + d_info).backward()
    d_optimizer.step()

    latent, categories, continuous = sample_latent(batch, noise_dim, n_categories, n_continuous, device)
    features = discriminator.features(generator(latent))
    g_loss = losses.gan_generator_loss_nonsaturating(discriminator.head(features).squeeze(1))
    g_info, cat_nll = information_loss(discriminator, features, categories, continuous, n_categories,
                                       lambda_cat, lambda_cont)
    g_optimizer.zero_grad(set_to_none=True)
    (g_loss + g_info).backward()  # also fills D's and Q's .grad; D's next step clears it
    g_optimizer.step()
    return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "info_loss": g_info.detach(),
            "mi_cat": math.log(n_categories) - cat_nll.detach(),
            "d_real": torch.sigmoid(real_logits).mean().detach(),
            "d_fake": torch.sigmoid(fake_logits).mean().detach()}


# ---- the recipe ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InfoGANConfig(recipe.RunConfig):
    """An InfoGAN run: the code layout, the information weights, the Q head's variance and the
    scale of the noise input (see make_infogan), Adam per player (Q trains with D)."""

    noise_dim: int = NOISE_DIM
    n_categories: int = N_CATEGORIES
    n_continuous: int = N_CONTINUOUS
    lambda_cat: float = 1.0
    lambda_cont: float = 0.1
    learn_variance: bool = False
    noise_std: float = 1.0
    architecture: str = "dcgan"
    width: float = 1.0
    lr_g: float = 1e-3
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)


def config(data, schedule, **settings):
    """The InfoGANConfig for `schedule`: DEFAULTS, then `settings`."""
    return recipe.make_config(InfoGANConfig, {"schedule": schedule, **DEFAULTS[schedule]}, data,
                              **settings)


def build(config):
    generator, discriminator = make_infogan(config.noise_dim, config.n_categories,
                                            config.n_continuous, config.learn_variance,
                                            config.noise_std, config.architecture, config.width)
    return {"generator": generator, "discriminator": discriminator}


def step(modules, optimizers, x, config):
    return infogan_step(modules["generator"], modules["discriminator"], optimizers["generator"],
                        optimizers["discriminator"], x, config.noise_dim, config.n_categories,
                        config.n_continuous, config.lambda_cat, config.lambda_cont)


def category_snapshots(modules, config, columns=8):
    """Snapshots of G at fixed (z, c): row i of each grid has categorical code i, the continuous
    codes at 0, and the same `columns` noise vectors in every row."""
    k = config.n_categories
    z_fixed = torch.randn(columns, config.noise_dim).repeat(k, 1)
    latent = make_latent(z_fixed, torch.arange(k).repeat_interleave(columns),
                         torch.zeros(columns * k, config.n_continuous), k)
    latent = latent.to(recipe.device_of(modules["generator"]))
    return lambda: nets.generate(modules["generator"], latent)


def image_data(config, data):
    return (checks.check_images(data.x_train, "symmetric", "x_train"),)


RECIPE = recipe.Recipe("infogan", build, recipe.adam_per_player, step, tensors=image_data,
                       snapshot=category_snapshots, adversarial=True)


def load_or_train_infogan(x_train, dataset, schedule, device, seed=0, snapshots=8, name=None,
                          progress=True, store=None, **settings):
    """The InfoGAN, loaded from its checkpoint, else trained (notebook 09; the comparison table),
    as every recipe's load_or_train does; the discriminator carries Q; the snapshots are
    `category_snapshots`. Returns (generator, discriminator, meta), in eval mode. Sample with
    `sample_images`."""
    data = recipe.RunData(dataset, x_train)
    modules, meta = recipe.load_or_train(RECIPE, config(data, schedule, seed=seed, **settings), data,
                                         device, name=name, snapshots=snapshots, progress=progress, store=store)
    return modules["generator"], modules["discriminator"], meta


# ---- reading the codes: traversals, predicted categories, matching -------------------------------


def category_grid(generator, noise, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS):
    """G(z_r, c_cat = j, c_cont = 0) for every noise row r and category j: (R * K, 1, 28, 28),
    row-major, so `show_images(..., nrow=K)` puts the categories across the columns."""
    rows = len(noise)
    categories = torch.arange(n_categories, device=noise.device).repeat(rows)
    latent = make_latent(noise.repeat_interleave(n_categories, 0), categories,
                         torch.zeros(rows * n_categories, n_continuous, device=noise.device),
                         n_categories)
    return nets.generate(generator, latent)


def continuous_traversal(generator, noise, code, values, n_categories=N_CATEGORIES,
                         n_continuous=N_CONTINUOUS):
    """Vary continuous code `code` over `values`, everything else fixed: one row per category
    (with the same noise (noise_dim,) in every row), one column per value; (K * V, 1, 28, 28)."""
    if not 0 <= code < n_continuous:
        raise ValueError(f"code must be in 0..{n_continuous - 1}, got {code}.")
    values = torch.as_tensor(values, dtype=noise.dtype, device=noise.device)
    n_values = len(values)
    continuous = torch.zeros(n_categories * n_values, n_continuous, device=noise.device)
    continuous[:, code] = values.repeat(n_categories)
    categories = torch.arange(n_categories, device=noise.device).repeat_interleave(n_values)
    latent = make_latent(noise.reshape(1, -1).expand(len(categories), -1), categories, continuous,
                         n_categories)
    return nets.generate(generator, latent)


@torch.no_grad()
def predict_codes(discriminator, x, n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS,
                  batch_size=1000):
    """Q's reading of images x: (category = argmax of the logits (N,), means of the continuous
    codes (N, k)), in eval mode, in batches."""
    categories, means = [], []
    with nets.eval_mode(discriminator):
        for chunk in x.split(batch_size):
            logits, mean, _ = split_q(discriminator.q(chunk), n_categories, n_continuous)
            categories.append(logits.argmax(1))
            means.append(mean)
    return torch.cat(categories), torch.cat(means)


def code_entropy(n_categories=N_CATEGORIES):
    """H(c) of a uniform categorical code in nats: log K (the ceiling of the bound mi_cat)."""
    return float(np.log(n_categories))


# ---- what a continuous code does: simple image statistics along a traversal ----------------------


def image_statistics(images):
    """Measurable properties of images (B, 1, 28, 28) in [-1, 1], treating (x + 1) / 2 as ink:
    ink (mean intensity, in [0, 1]), width and height (2 x the standard deviation of the ink's
    column and row positions, in pixels) and slant (how far the ink's x moves per pixel upwards:
    > 0 leans right). Returns {name: (B,) tensor}."""
    ink = ((images.squeeze(1) + 1) / 2).clamp(0, 1)
    mass = ink.sum((1, 2)).clamp_min(1e-6)
    coords = torch.arange(ink.shape[-1], dtype=ink.dtype, device=ink.device)
    x, y = coords.view(1, 1, -1), coords.view(1, -1, 1)
    mx = (ink * x).sum((1, 2)) / mass
    my = (ink * y).sum((1, 2)) / mass
    dx, dy = x - mx.view(-1, 1, 1), y - my.view(-1, 1, 1)
    vx, vy = (ink * dx**2).sum((1, 2)) / mass, (ink * dy**2).sum((1, 2)) / mass
    cxy = (ink * dx * dy).sum((1, 2)) / mass
    return {"ink": mass / ink[0].numel(), "width": 2 * vx.sqrt(), "height": 2 * vy.sqrt(),
            "slant": -cxy / vy.clamp_min(1e-6)}  # rows count downwards: a right lean has cxy < 0


def code_effects(generator, code, values=(-2.0, -1.0, 0.0, 1.0, 2.0), n=200, seed=0,
                 n_categories=N_CATEGORIES, n_continuous=N_CONTINUOUS):
    """How each `image_statistics` changes with continuous code `code`: for n random (z, c), set
    the code to each value (everything else fixed) and return {statistic: (correlation with the
    code value, mean change from the first to the last value)}."""
    latent_dim = generator[0].shape[0]
    device = next(generator.parameters()).device
    latent, _, _ = sample_latent(n, latent_dim - n_categories - n_continuous, n_categories,
                                 n_continuous, device, torch.Generator().manual_seed(seed))
    column = latent_dim - n_continuous + code
    stats, codes = [], []
    for value in values:
        latent[:, column] = value
        stats.append(image_statistics(nets.generate(generator, latent)))
        codes.append(torch.full((n,), float(value), device=device))
    codes = torch.cat(codes)
    effects = {}
    for name in stats[0]:
        s = torch.cat([st[name] for st in stats])
        corr = torch.corrcoef(torch.stack([codes, s]))[0, 1]
        effects[name] = (float(corr), float((stats[-1][name] - stats[0][name]).mean()))
    return effects
