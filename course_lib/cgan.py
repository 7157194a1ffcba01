"""The conditional GAN and ACGAN recipes (notebook 06), built from notebook 05's DCGAN networks.

Both generators read [z, c(y)]: noise z and a code c(y) of the requested class (a one-hot vector,
or a learned embedding), so they are `nets.dcgan_generator(latent_dim=noise_dim + code size)`.
The discriminators differ:
- CGAN  (Mirza & Osindero 2014): D(x | y) sees the label as n_classes extra image planes (plane y
  all ones, the others zeros), i.e. `nets.dcgan_discriminator(in_channels=1 + n_classes)`, and, by
  default, once more at its output through a projection term (Miyato & Koyama 2018);
- ACGAN (Odena, Olah & Shlens 2017): D(x) does not see the label; a second head on the same body
  predicts it, `ACGANDiscriminator(nets.dcgan_discriminator(), class_head)`.

A CGAN step is the GAN step of notebook 04 with the label bound to both players; an ACGAN step adds
the class log-likelihood (course_lib.losses.acgan_*). Generate with `generate_class(G, z, labels)`.
Images are in [-1, 1] (`scale="symmetric"`), like every GAN of the course.
"""

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import checks, gan, losses, nets, recipe, scores
from .nets import IMAGE_SHAPE

KINDS = ("cgan", "acgan")
# Per-schedule defaults, the same for both models. Adam(lr, betas=(0.5, 0.999)) as for the DCGAN.
DEFAULTS = {
    "smoke": dict(steps=80, batch_size=64, lr_g=2e-4, lr_d=2e-4, noise_dim=64),
    "full": dict(steps=3000, batch_size=64, lr_g=2e-4, lr_d=2e-4, noise_dim=64),
}


# ---- labels ------------------------------------------------------------------------------------


def check_labels(y, n_classes, n=None):
    """Validate a batch of class labels: a 1-D integer tensor with values in [0, n_classes) and,
    if `n` is given, exactly n entries (one per image or noise vector). Returns it as int64."""
    y = torch.as_tensor(y)
    if y.dim() != 1 or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"labels should be a 1-D tensor of integers, got dtype {y.dtype} and "
                         f"shape {tuple(y.shape)}.")
    if n is not None and len(y) != n:
        raise ValueError(f"got {n} images or noise vectors but {len(y)} labels; give one label "
                         "each.")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0].item()
        raise ValueError(f"label {bad} is out of range: this model knows {n_classes} classes, "
                         f"labels 0 to {n_classes - 1}.")
    return y.long()


def one_hot(y, n_classes, n=None):
    """Labels (B,) -> (B, n_classes) float one-hot rows (validated by `check_labels`)."""
    return F.one_hot(check_labels(y, n_classes, n), n_classes).float()


def label_planes(y, n_classes, size=IMAGE_SHAPE[1:]):
    """Labels (B,) -> (B, n_classes, H, W): plane y[b] of example b is all ones, the rest zeros.

    Concatenated to the image's channels, this is how a convolutional D(x | y) reads the label:
    every position of the first convolution sees the class.
    """
    return one_hot(y, n_classes)[:, :, None, None].expand(-1, -1, *size)


def balanced_labels(n, n_classes, device=None):
    """0, 1, ..., n_classes - 1, 0, 1, ...: n labels with every class (almost) equally often."""
    return torch.arange(n, device=device) % n_classes


def sample_labels(n, n_classes, device=None):
    """n labels drawn uniformly from [0, n_classes)."""
    return torch.randint(n_classes, (n,), device=device)


# ---- networks ----------------------------------------------------------------------------------


class ConditionalGenerator(nn.Module):
    """G(z, y) = net([z, c(y)]): c(y) is one_hot(y) (embed_dim=None) or a learned embedding
    nn.Embedding(n_classes, embed_dim); `net` reads noise_dim + code-size numbers."""

    def __init__(self, net, noise_dim, n_classes, embed_dim=None):
        super().__init__()
        self.net, self.noise_dim, self.n_classes = net, noise_dim, n_classes
        self.embedding = None if embed_dim is None else nn.Embedding(n_classes, embed_dim)

    def code(self, y, n=None):
        """c(y): (B, n_classes) one-hot rows or (B, embed_dim) learned vectors."""
        if self.embedding is None:
            return one_hot(y, self.n_classes, n).to(next(self.net.parameters()).device)
        return self.embedding(check_labels(y, self.n_classes, n).to(self.embedding.weight.device))

    def forward(self, z, y):
        return self.net(torch.cat([z, self.code(y, len(z))], dim=1))


class ConditionalDiscriminator(nn.Module):
    """D(x | y) = sigmoid(logit): `discriminator` (a `nets.Discriminator`) reads the image with the
    label planes concatenated as extra channels, (B, 1 + n_classes, 28, 28).

    projection=True adds a projection term (Miyato & Koyama 2018): with features phi of the body,
    logit = head(phi) + E_y . phi, E a learned (n_classes, features) embedding, started at 0.
    """

    def __init__(self, discriminator, n_classes, projection=False):
        super().__init__()
        self.discriminator, self.n_classes = discriminator, n_classes
        self.projection = None
        if projection:
            self.projection = nn.Embedding(n_classes, discriminator.head.in_features)
            nn.init.zeros_(self.projection.weight)

    def forward(self, x, y):
        y = check_labels(y, self.n_classes, len(x)).to(x.device)
        planes = label_planes(y, self.n_classes, x.shape[2:])
        features = self.discriminator.features(torch.cat([x, planes], dim=1))
        logit = self.discriminator.head(features).squeeze(1)
        if self.projection is not None:
            logit = logit + (self.projection(y) * features).sum(1)
        return logit


class ACGANDiscriminator(nn.Module):
    """One body, two heads: (source logit (B,), class logits (B, n_classes)).

    D(S = real | x) = sigmoid(source logit), P(C = c | x) = softmax(class logits)_c.
    """

    def __init__(self, discriminator, class_head):
        super().__init__()
        self.discriminator, self.class_head = discriminator, class_head
        self.n_classes = class_head.out_features

    def forward(self, x):
        features = self.discriminator.features(x)
        return self.discriminator.head(features).squeeze(1), self.class_head(features)


def make_conditional_gan(kind, n_classes, noise_dim=64, embed_dim=None, projection=False):
    """(generator, discriminator) of 'cgan' or 'acgan' from notebook 05's DCGAN networks, with the
    DCGAN initialisation. embed_dim=None feeds G a one-hot label, else a learned embedding;
    projection=True adds the projection term to the CGAN's discriminator."""
    if kind not in KINDS:
        raise ValueError(f"Unknown conditional GAN {kind!r}: expected one of {KINDS}.")
    if projection and kind != "cgan":
        raise ValueError("projection=True is an option of the CGAN's discriminator only; the "
                         "ACGAN's discriminator does not read the label.")
    code_dim = n_classes if embed_dim is None else embed_dim
    generator = ConditionalGenerator(nets.dcgan_generator(noise_dim + code_dim), noise_dim,
                                     n_classes, embed_dim)
    if kind == "cgan":
        discriminator = ConditionalDiscriminator(
            nets.dcgan_discriminator(in_channels=IMAGE_SHAPE[0] + n_classes), n_classes, projection)
    else:
        body_features = nets.dcgan_discriminator().head.in_features
        discriminator = ACGANDiscriminator(nets.dcgan_discriminator(),
                                           nn.Linear(body_features, n_classes))
    generator.apply(nets.init_dcgan_weights)
    discriminator.apply(nets.init_dcgan_weights)  # leaves nn.Embedding alone: E starts at 0
    return generator, discriminator


# ---- one training step ---------------------------------------------------------------------------


def cgan_step(generator, discriminator, g_optimizer, d_optimizer, x_real, y, noise_dim):
    """One CGAN iteration = notebook 04's `gan.d_step` and `gan.g_step` with the label bound to both
    players: the fakes are asked for the labels y of the real batch, so p(y) is the data's."""
    g_given_y = functools.partial(generator, y=y)
    d_given_y = functools.partial(discriminator, y=y)
    z = nets.sample_noise(len(x_real), noise_dim, x_real.device)
    out = gan.d_step(g_given_y, d_given_y, d_optimizer, x_real, z)
    z = nets.sample_noise(len(x_real), noise_dim, x_real.device)
    out.update(gan.g_step(g_given_y, d_given_y, g_optimizer, z))
    return out


def acgan_d_step(generator, discriminator, d_optimizer, x_real, y_real, z, y_fake):
    """One ACGAN discriminator step: ascend L_S + L_C (descend losses.acgan_discriminator_loss)."""
    with torch.no_grad():
        x_fake = generator(z, y_fake)  # G is held fixed
    real_source, real_class = discriminator(x_real)
    fake_source, fake_class = discriminator(x_fake)
    loss = losses.acgan_discriminator_loss(real_source, fake_source, real_class, fake_class,
                                           y_real, y_fake)
    d_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    d_optimizer.step()
    return {"d_loss": loss.detach(),
            "d_real": torch.sigmoid(real_source).mean().detach(),
            "d_fake": torch.sigmoid(fake_source).mean().detach(),
            "class_acc_real": (real_class.argmax(1) == y_real).float().mean(),
            "class_acc_fake": (fake_class.argmax(1) == y_fake).float().mean()}


def acgan_g_step(generator, discriminator, g_optimizer, z, y_fake):
    """One ACGAN generator step: ascend L_C - L_S, with the non-saturating source term
    (descend losses.acgan_generator_loss)."""
    fake_source, fake_class = discriminator(generator(z, y_fake))
    loss = losses.acgan_generator_loss(fake_source, fake_class, y_fake)
    g_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    g_optimizer.step()
    return {"g_loss": loss.detach()}


def acgan_step(generator, discriminator, g_optimizer, d_optimizer, x_real, y, noise_dim):
    """One ACGAN iteration: a D step, then a G step on fresh noise, both asking for labels drawn
    uniformly (the class head must then learn every class on the fakes too)."""
    n, device, n_classes = len(x_real), x_real.device, discriminator.n_classes
    out = acgan_d_step(generator, discriminator, d_optimizer, x_real, y,
                       nets.sample_noise(n, noise_dim, device), sample_labels(n, n_classes, device))
    out.update(acgan_g_step(generator, discriminator, g_optimizer,
                            nets.sample_noise(n, noise_dim, device),
                            sample_labels(n, n_classes, device)))
    return out


STEPS = {"cgan": cgan_step, "acgan": acgan_step}


# ---- generating ----------------------------------------------------------------------------------


@torch.no_grad()
def generate_class(generator, z, labels):
    """G(z, labels) in eval mode (batch norm uses its running statistics), restoring the mode after:
    one image per row of z, of the class in `labels` (validated: one integer label per row)."""
    labels = check_labels(labels, generator.n_classes, len(z)).to(z.device)
    with nets.eval_mode(generator):
        return generator(z, labels)


def class_grid(generator, z):
    """Every noise vector of z (n, noise_dim) under every class: (n * n_classes) images, row i
    holding z_i as class 0, 1, ..., n_classes - 1 (rows: same z; columns: classes)."""
    labels = torch.arange(generator.n_classes, device=z.device).repeat(len(z))
    return generate_class(generator, z.repeat_interleave(generator.n_classes, dim=0), labels)


@torch.no_grad()
def sample_balanced(generator, n, device=None, generator_rng=None, chunk=1000):
    """n images with balanced labels (`balanced_labels`): returns (images, labels)."""
    z = torch.randn(n, generator.noise_dim, generator=generator_rng).to(device)
    labels = balanced_labels(n, generator.n_classes, device)
    images = torch.cat([generate_class(generator, zc, yc)
                        for zc, yc in zip(z.split(chunk), labels.split(chunk))])
    return images, labels


# ---- the recipes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CGANConfig(recipe.RunConfig):
    """A CGAN or ACGAN run (`kind`): DCGAN networks for `n_classes` classes, Adam per player.
    `noise_dim` is the size of the noise z to draw (the generator also reads the label's code)."""

    kind: str = "cgan"
    n_classes: int = 10
    noise_dim: int = 64
    embed_dim: int = None
    projection: bool = False
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown conditional GAN {self.kind!r}: expected one of {KINDS}.")


def config(kind, data, schedule, **settings):
    """The CGANConfig of `kind` for `schedule`: DEFAULTS, the data's number of classes, the
    projection term for the CGAN, then `settings`."""
    if kind not in KINDS:
        raise ValueError(f"Unknown conditional GAN {kind!r}: expected one of {KINDS}.")
    defaults = {"kind": kind, "schedule": schedule, "projection": kind == "cgan",
                "n_classes": int(data.y_train.max()) + 1, **DEFAULTS[schedule]}
    return recipe.make_config(CGANConfig, defaults, data, **settings)


def build(config):
    generator, discriminator = make_conditional_gan(config.kind, config.n_classes, config.noise_dim,
                                                    config.embed_dim, config.projection)
    return {"generator": generator, "discriminator": discriminator}


def step(modules, optimizers, batch, config):
    x, y = batch
    return STEPS[config.kind](modules["generator"], modules["discriminator"],
                              optimizers["generator"], optimizers["discriminator"], x, y,
                              config.noise_dim)


def labelled_data(config, data):
    """(images in [-1, 1], labels) of the training set, checked."""
    check_labels(data.y_train, config.n_classes, len(data.x_train))
    return checks.check_images(data.x_train, "symmetric", "x_train"), data.y_train


def class_grid_snapshots(modules, config):
    """Snapshots of G at 2 fixed noise vectors under every class (`class_grid`)."""
    z = torch.randn(2, config.noise_dim).to(recipe.device_of(modules["generator"]))
    return lambda: class_grid(modules["generator"], z)


RECIPES = {kind: recipe.Recipe(kind, build, recipe.adam_per_player, step, tensors=labelled_data,
                               snapshot=class_grid_snapshots, adversarial=True)
           for kind in KINDS}


def load_or_train_conditional_gan(kind, x_train, y_train, n_classes, dataset, schedule, device,
                                  seed=0, snapshots=8, name=None, progress=True, store=None,
                                  **settings):
    """The CGAN or ACGAN (`kind`), loaded from its checkpoint, else trained and saved, as
    `gan.load_or_train_gan` does (x_train in [-1, 1], y_train their labels; the snapshots are
    class grids of 2 fixed noise vectors). Returns (generator, discriminator, meta), in eval mode;
    generate with `generate_class(generator, z, labels)`."""
    data = recipe.RunData(dataset, x_train, y_train)
    run_config = config(kind, data, schedule, seed=seed, n_classes=n_classes, **settings)
    modules, meta = recipe.load_or_train(RECIPES[kind], run_config, data, device, name=name,
                                         snapshots=snapshots, progress=progress, store=store)
    return modules["generator"], modules["discriminator"], meta


def load_or_train_cgan(x_train, y_train, n_classes, dataset, schedule, device, seed=0, **kwargs):
    """`load_or_train_conditional_gan("cgan", ...)`."""
    return load_or_train_conditional_gan("cgan", x_train, y_train, n_classes, dataset, schedule,
                                         device, seed=seed, **kwargs)


def load_or_train_acgan(x_train, y_train, n_classes, dataset, schedule, device, seed=0, **kwargs):
    """`load_or_train_conditional_gan("acgan", ...)`."""
    return load_or_train_conditional_gan("acgan", x_train, y_train, n_classes, dataset, schedule,
                                         device, seed=seed, **kwargs)


# ---- per-class evaluation (notebook 06, section 5) ----------------------------------------------


def per_class_scores(features, predicted, labels, real_features, real_labels, n_classes):
    """Per requested class c: the share of samples the evaluator assigns to c, the Fréchet distance
    between evaluator features of samples asked for c and of real images of class c (within-class
    quality and diversity), and the spread ratio tr Cov(sample features) / tr Cov(real features)
    (below 1: the samples of class c vary less than real images of c).

    features (N, d), predicted (N,), labels (N,): the samples' features, evaluator classes and
    requested classes; real_features (M, d), real_labels (M,): the real images'. Returns a dict of
    (n_classes,) float64 tensors: "share", "fd", "spread".
    """
    labels = check_labels(labels, n_classes, len(features)).cpu()
    real_labels = check_labels(real_labels, n_classes, len(real_features)).cpu()
    features, real_features = features.cpu().double(), real_features.cpu().double()
    share, fd, spread = [], [], []
    for c in range(n_classes):
        mine, real = features[labels == c], real_features[real_labels == c]
        share.append((predicted.cpu()[labels == c] == c).double().mean())
        fd.append(scores.fid_from_features(mine, real))
        spread.append(torch.trace(torch.cov(mine.T)) / torch.trace(torch.cov(real.T)))
    return {"share": torch.stack(share), "fd": torch.tensor(fd, dtype=torch.float64),
            "spread": torch.stack(spread)}
