"""BigGAN's tricks at the course's scale (notebook 12, section 7; Brock, Donahue & Simonyan 2019).

A small class-conditional BigGAN-style model for 28x28 images, as a recipe (config + build + step):
- the generator G(z, y) is notebook 05's DCGAN generator with its batch norms made class-conditional:
  every `ConditionalBatchNorm2d` takes its per-channel gain and bias from a linear map of one shared
  class embedding e(y), concatenated with a chunk of z (the "hierarchical latent": z is split in
  three, one chunk for the first layer and one for each conditional batch norm);
- the discriminator is notebook 06's projection discriminator (`cgan.ConditionalDiscriminator`,
  label planes at the input and the projection term e_y . phi(x) at the output) on the DCGAN body
  without batch norm;
- hinge loss and spectral normalization (`course_lib.modern`) on D and on G's convolutions,
  `orthogonal_regularization` of G's weights, and a moving average of G's weights for sampling.
The truncation trick samples z from a truncated normal (`modern.truncated_noise`): `sample_balanced`.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import cgan, modern, nets, recipe
from .data import split_evenly
from .nets import IMAGE_SHAPE

# Per-schedule defaults. Adam(betas=(0, 0.999)) and the orthogonal-regularization weight 1e-4 are
# the paper's; the sizes, learning rates and weight-average decay are the course's DCGAN ones
# (gan.DCGAN_BATCH_64): lr_g = 1e-3 beat 2e-4 on the selection split in a one-seed screen of 300 steps.
# full: 800 steps, about 165 s on one CPU thread (the section's budget is 3 minutes).
DEFAULTS = {
    "smoke": dict(steps=80, batch_size=64, lr_g=1e-3, lr_d=2e-4, noise_dim=63, ema_decay=0.99),
    "full": dict(steps=800, batch_size=64, lr_g=1e-3, lr_d=2e-4, noise_dim=63, ema_decay=0.99),
}
N_CHUNKS = 3  # z = [z_0, z_1, z_2]: z_0 feeds the first layer, z_1 and z_2 the two batch norms


# ---- class-conditional batch norm with a shared embedding ---------------------------------------


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose gain and bias depend on a condition vector c (B, condition_dim):

        out = (1 + W_gain c) * BN(x) + W_bias c,   per channel, BN without its own gain and bias.

    Both maps start at zero, so the layer starts as plain batch norm (gain 1, bias 0). In BigGAN
    c = [e(y), z_l]: the shared class embedding and this layer's chunk of z."""

    def __init__(self, channels, condition_dim):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain, self.bias = (nn.Linear(condition_dim, channels, bias=False) for _ in range(2))
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x, condition):
        if condition.shape != (len(x), self.gain.in_features):
            raise ValueError(f"the condition should have shape ({len(x)}, {self.gain.in_features}), "
                             f"got {tuple(condition.shape)}.")
        gain = 1 + self.gain(condition)
        return self.norm(x) * gain[:, :, None, None] + self.bias(condition)[:, :, None, None]


def orthogonal_init(layer):
    """BigGAN's initialisation of a linear or convolution layer: an orthogonal weight, zero bias."""
    nn.init.orthogonal_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


class BigGANGenerator(nn.Module):
    """G(z, y) -> image (B, 1, 28, 28) in [-1, 1]: project z_0 to 7x7, then twice conditional batch
    norm (condition [e(y), z_l]), ReLU and a stride-2 transposed convolution (7 -> 14 -> 28), tanh.
    One embedding e (n_classes, embed_dim) is shared by both batch norms. With `spectral`, the
    projection and the convolutions are spectrally normalized (the batch norms' maps are not).
    Has `noise_dim` and `n_classes`, so `cgan.generate_class` and `cgan.class_grid` work on it."""

    def __init__(self, n_classes, noise_dim=63, embed_dim=32, channels=(64, 32), spectral=True):
        super().__init__()
        if noise_dim < N_CHUNKS:
            raise ValueError(f"noise_dim must be at least {N_CHUNKS} (one number per chunk of z).")
        (c1, c2), self.n_classes, self.noise_dim = channels, n_classes, noise_dim
        self.chunks = [len(part) for part in torch.arange(noise_dim).tensor_split(N_CHUNKS)]
        self.embedding = nn.Embedding(n_classes, embed_dim)
        self.check = nets.ExpectShape((noise_dim,), "latent")
        self.project = orthogonal_init(nn.Linear(self.chunks[0], c1 * 7 * 7))
        self.norm1 = ConditionalBatchNorm2d(c1, embed_dim + self.chunks[1])
        self.up1 = orthogonal_init(nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1))  # 7 -> 14
        self.norm2 = ConditionalBatchNorm2d(c2, embed_dim + self.chunks[2])
        self.up2 = orthogonal_init(nn.ConvTranspose2d(c2, IMAGE_SHAPE[0], 4, stride=2, padding=1))
        if spectral:
            for layer in (self.project, self.up1, self.up2):
                modern.spectrally_normalized(layer)

    def forward(self, z, y):
        z = self.check(z)
        e = self.embedding(cgan.check_labels(y, self.n_classes, len(z)).to(z.device))
        z0, z1, z2 = z.split(self.chunks, dim=1)
        h = self.project(z0).view(len(z), -1, 7, 7)
        h = self.up1(F.relu(self.norm1(h, torch.cat([e, z1], dim=1))))
        h = self.up2(F.relu(self.norm2(h, torch.cat([e, z2], dim=1))))
        return torch.tanh(h)


def projection_discriminator(n_classes, channels=(32, 64), spectral=True):
    """Notebook 06's projection discriminator (`cgan.ConditionalDiscriminator`, projection=True)
    on the DCGAN body without batch norm, its convolutions and head spectrally normalized."""
    body = nets.dcgan_discriminator(IMAGE_SHAPE[0] + n_classes, channels, norm="none")
    return cgan.ConditionalDiscriminator(modern.spectrally_normalized(body) if spectral else body,
                                         n_classes, projection=True)


# ---- orthogonal regularization ---------------------------------------------------------------------


def orthogonal_regularization(weight, beta=1e-4):
    """BigGAN's orthogonal regularization of one weight: R = beta ||W W^T * (1 - I)||_F^2, W the
    weight as a matrix (`modern.as_matrix`: one row per output unit or filter). Only the
    off-diagonal entries, the inner products between different rows, are penalised; the rows'
    norms are left free. 0 for a matrix with orthogonal rows. A tall W (more rows than columns)
    uses the smaller Gram matrix: ||W W^T||_F^2 = ||W^T W||_F^2, less the diagonal sum_i ||w_i||^4."""
    matrix = modern.as_matrix(weight)
    if matrix.shape[0] > matrix.shape[1]:
        return beta * ((matrix.T @ matrix).pow(2).sum() - matrix.pow(2).sum(1).pow(2).sum())
    gram = matrix @ matrix.T
    return beta * (gram - torch.diag_embed(torch.diagonal(gram))).pow(2).sum()


def regularized_weights(generator):
    """The weights orthogonal regularization applies to: every parameter of G with at least two
    dimensions except the shared class embedding (as in the authors' code)."""
    return [p for name, p in generator.named_parameters()
            if p.dim() >= 2 and not name.startswith("embedding")]


def generator_orthogonal_penalty(generator, beta):
    """The sum of `orthogonal_regularization` over `regularized_weights(generator)`."""
    return sum(orthogonal_regularization(w, beta) for w in regularized_weights(generator))


# ---- one training step ---------------------------------------------------------------------------


def hinge_d_step(generator, discriminator, d_optimizer, x_real, y):
    """One discriminator step on the hinge loss, the fakes asked for the real batch's labels y."""
    with torch.no_grad():
        x_fake = generator(nets.sample_noise(len(x_real), generator.noise_dim, x_real.device), y)
    real_logits, fake_logits = discriminator(x_real, y), discriminator(x_fake, y)
    loss = modern.hinge_discriminator_loss(real_logits, fake_logits)
    d_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    d_optimizer.step()
    return {"d_loss": loss.detach(), "logit_real": real_logits.mean().detach(),
            "logit_fake": fake_logits.mean().detach()}


def hinge_g_step(generator, discriminator, g_optimizer, y, ortho_beta):
    """One generator step: the hinge generator loss plus G's orthogonal regularization."""
    z = nets.sample_noise(len(y), generator.noise_dim, y.device)
    adversarial = modern.hinge_generator_loss(discriminator(generator(z, y), y))
    penalty = generator_orthogonal_penalty(generator, ortho_beta) if ortho_beta else 0.0
    g_optimizer.zero_grad(set_to_none=True)
    (adversarial + penalty).backward()
    g_optimizer.step()
    return {"g_loss": adversarial.detach(), "ortho": torch.as_tensor(penalty).detach()}


def biggan_step(generator, discriminator, g_optimizer, d_optimizer, x_real, y, d_steps=1,
                ortho_beta=1e-4):
    """One iteration: `d_steps` hinge discriminator steps (x_real, y split into d_steps
    minibatches), then one generator step for the last minibatch's labels."""
    for x, labels in zip(split_evenly(x_real, d_steps, "d_steps"), split_evenly(y, d_steps, "d_steps")):
        out = hinge_d_step(generator, discriminator, d_optimizer, x, labels)
    out.update(hinge_g_step(generator, discriminator, g_optimizer, labels, ortho_beta))
    return out


# ---- sampling with the truncation trick --------------------------------------------------------


def noise(n, noise_dim, psi=None, generator_rng=None):
    """z (n, noise_dim): N(0, I) when psi is None, else the truncated normal on [-psi, psi]."""
    if psi is None:
        return torch.randn(n, noise_dim, generator=generator_rng)
    return modern.truncated_noise(n, noise_dim, psi, generator=generator_rng)


@torch.no_grad()
def sample_balanced(generator, n, psi=None, device=None, generator_rng=None, chunk=1000):
    """n images with balanced labels (`cgan.balanced_labels`) from z ~ `noise(..., psi)`: the
    truncation trick for psi > 0, plain sampling for psi=None. Returns (images, labels)."""
    z = noise(n, generator.noise_dim, psi, generator_rng).to(device)
    labels = cgan.balanced_labels(n, generator.n_classes, device)
    return torch.cat([cgan.generate_class(generator, zc, yc)
                      for zc, yc in zip(z.split(chunk), labels.split(chunk))]), labels


# ---- the recipe ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BigGANConfig(recipe.RunConfig):
    """A BigGAN-style run: G's sizes (noise, shared embedding, channels), D's channels, spectral
    normalization of G (D always has it), the orthogonal-regularization weight (0: off), Adam per
    player, `d_steps` D steps per G step and the decay of G's weight average (None: off)."""

    n_classes: int = 10
    noise_dim: int = 63
    embed_dim: int = 32
    channels: tuple = (64, 32)
    d_channels: tuple = (32, 64)
    spectral_g: bool = True
    ortho_beta: float = 1e-4
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.0, 0.999)
    d_steps: int = 1
    ema_decay: float = None


def config(data, schedule, **settings):
    """The BigGANConfig for `schedule`: DEFAULTS, the data's number of classes, then `settings`."""
    defaults = {"schedule": schedule, "n_classes": int(data.y_train.max()) + 1, **DEFAULTS[schedule]}
    return recipe.make_config(BigGANConfig, defaults, data, **settings)


def build(config):
    generator = BigGANGenerator(config.n_classes, config.noise_dim, config.embed_dim,
                                tuple(config.channels), config.spectral_g)
    return {"generator": generator,
            "discriminator": projection_discriminator(config.n_classes, tuple(config.d_channels))}


def step(modules, optimizers, batch, config):
    x, y = batch
    return biggan_step(modules["generator"], modules["discriminator"], optimizers["generator"],
                       optimizers["discriminator"], x, y, config.d_steps, config.ortho_beta)


RECIPE = recipe.Recipe("biggan", build, recipe.adam_per_player, step, tensors=cgan.labelled_data,
                       draws_per_step=lambda config: config.d_steps,
                       snapshot=cgan.class_grid_snapshots, adversarial=True, averaged=("generator",))


def load_or_train_biggan(x_train, y_train, n_classes, dataset, schedule, device, seed=0, snapshots=8,
                         name=None, progress=True, store=None, **settings):
    """The BigGAN-style model, loaded from its checkpoint, else trained and saved, as
    `cgan.load_or_train_cgan` does (x_train in [-1, 1], y_train their labels). Returns
    (generator, discriminator, meta) in eval mode; the generator is the weight average when the
    config keeps one. Sample with `sample_balanced(generator, n, psi)`."""
    data = recipe.RunData(dataset, x_train, y_train)
    run_config = config(data, schedule, seed=seed, n_classes=n_classes, **settings)
    modules, meta = recipe.load_or_train(RECIPE, run_config, data, device, name=name,
                                         snapshots=snapshots, progress=progress, store=store)
    return recipe.for_sampling(modules), modules["discriminator"], meta
