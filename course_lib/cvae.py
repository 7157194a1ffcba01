"""The conditional VAE recipe (notebook 03): the label enters encoder and decoder as a one-hot vector.

q(z | x, y) and p(x | z, y), with the prior p(z | y) = N(0, I). Training, the ELBO and the IWAE bound
are the VAE's (`course_lib.vae`: its config, step and loop), called with the labels:
`vae.vae_step(model, optimizer, x, y)`.
"""

import torch
import torch.nn.functional as F
from torch import nn

from . import nets, recipe, vae

ARCHITECTURES = ("mlp", "conv")
DEFAULTS = {
    "smoke": dict(steps=250, batch_size=64, lr=1e-3, beta=1.0),
    "full": dict(steps=4000, batch_size=128, lr=1e-3, beta=1.0),
}


def one_hot(y, n_classes):
    """Labels (B,) of integers in [0, n_classes) -> (B, n_classes) float one-hot rows."""
    y = torch.as_tensor(y)
    if y.dim() != 1 or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"labels should be a 1-D tensor of integers, got dtype {y.dtype} and "
                         f"shape {tuple(y.shape)}.")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0].item()
        raise ValueError(f"label {bad} is out of range: this model knows {n_classes} classes, "
                         f"labels 0 to {n_classes - 1}.")
    return F.one_hot(y.long(), n_classes).float()


class CVAE(nn.Module):
    """Encoder: image features, then [features, one_hot(y)] -> (mu, logvar) of q(z|x, y).
    Decoder: [z, one_hot(y)] -> logits of the Bernoulli p(x|z, y)."""

    def __init__(self, features, head, decoder, latent_dim, n_classes, arch=None):
        super().__init__()
        self.features, self.head, self.decoder = features, head, decoder
        self.latent_dim, self.n_classes, self.arch = latent_dim, n_classes, arch

    def _labels(self, y, batch):
        if len(y) != batch:
            raise ValueError(f"got {batch} images or codes but {len(y)} labels; give one label each.")
        return one_hot(y, self.n_classes).to(self.head[0].weight.device)

    def encode(self, x, y):
        h = torch.cat([self.features(x), self._labels(y, len(x))], dim=1)
        mu, logvar = self.head(h).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z, y):
        return self.decoder(torch.cat([z, self._labels(y, len(z))], dim=1))

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        return self.decode(vae.reparameterize(mu, logvar), y), mu, logvar


def make_cvae(n_classes, arch="conv", latent_dim=16, features=256):
    """A conditional VAE from the notebook 01 building blocks: the image encoder gives `features`
    numbers, a small MLP head adds the label; the decoder reads k + n_classes numbers."""
    if arch == "mlp":
        image_features, decoder = nets.mlp_encoder(features), nets.mlp_decoder
    elif arch == "conv":
        image_features, decoder = nets.conv_encoder(features), nets.conv_decoder
    else:
        raise ValueError(f"Unknown CVAE architecture {arch!r}: expected one of {ARCHITECTURES}.")
    head = nets.mlp([features + n_classes, 256, 2 * latent_dim])
    return CVAE(nn.Sequential(image_features, nn.ReLU()), head, decoder(latent_dim + n_classes),
                latent_dim, n_classes, arch)


def build(config):
    return {"model": make_cvae(config.n_classes, config.arch, config.latent_dim)}


RECIPE = recipe.Recipe("cvae", build, vae.adam, vae.step, tensors=vae.unit_images)


def load_or_train_cvae(arch, latent_dim, ds, schedule, device, seed=0, name=None, progress=True,
                       store=None, **settings):
    """The conditional VAE, as `vae.load_or_train_vae` (same config, with n_classes from the
    data's labels); settings default to this module's DEFAULTS. Returns (model, meta)."""
    settings = {"n_classes": int(ds.y_train.max()) + 1, **DEFAULTS[schedule], **settings}
    return vae.load_or_train_vae(arch, latent_dim, ds, schedule, device, seed=seed, name=name,
                                 progress=progress, run_recipe=RECIPE, store=store, **settings)


@torch.no_grad()
def class_grid(model, z):
    """Decode every code in z (n, k) under every label: (n * n_classes) Bernoulli means, row i
    holding z_i under labels 0, 1, ..., n_classes - 1 (rows: same z; columns: classes)."""
    labels = torch.arange(model.n_classes, device=z.device).repeat(len(z))
    return vae.decode_mean(model, z.repeat_interleave(model.n_classes, dim=0), labels)


@torch.no_grad()
def transfer_style(model, x, y):
    """Encode each image with its own label (the posterior mean of q(z|x, y)), then decode it under
    every label: (len(x) * n_classes) Bernoulli means, one row per image."""
    mu, _ = model.encode(x, y)
    return class_grid(model, mu)


@torch.no_grad()
def elbo_per_class(model, x, batch_size=500):
    """ELBO(x | y) for every image and every label, (N, n_classes) in nats: with a uniform p(y),
    argmax over y is the model's Bayes classifier (notebook 03, "A classifier for free")."""
    columns = []
    for c in range(model.n_classes):
        y = torch.full((len(x),), c, dtype=torch.long, device=x.device)
        columns.append(vae.elbo_per_image(model, x, y, batch_size=batch_size))
    return torch.stack(columns, dim=1)
