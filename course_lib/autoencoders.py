"""The autoencoder recipe: networks, one training step, defaults per schedule (notebook 01)."""

from dataclasses import dataclass

import torch
from torch import nn

from . import checks, nets, recipe
from .losses import mse_reconstruction

ARCHITECTURES = ("mlp", "conv")
# Per-schedule defaults: smoke keeps CI fast, full gives the results quoted in the notebook.
DEFAULTS = {
    "smoke": dict(steps=150, batch_size=64, lr=1e-3),
    "full": dict(steps=6000, batch_size=128, lr=1e-3),
}


class Autoencoder(nn.Module):
    """x -> z = encoder(x) -> x_hat = decoder(z), pixels in [0, 1] (sigmoid output)."""

    def __init__(self, encoder, decoder, latent_dim):
        super().__init__()
        self.encoder, self.decoder, self.latent_dim = encoder, decoder, latent_dim

    def forward(self, x):
        return self.decoder(self.encoder(x))


def make_autoencoder(arch="conv", latent_dim=16):
    """An MLP or convolutional autoencoder with a `latent_dim`-dimensional code."""
    if arch == "mlp":
        return Autoencoder(nets.mlp_encoder(latent_dim),
                           nets.mlp_decoder(latent_dim, out_activation=nn.Sigmoid), latent_dim)
    if arch == "conv":
        return Autoencoder(nets.conv_encoder(latent_dim),
                           nets.conv_decoder(latent_dim, out_activation=nn.Sigmoid), latent_dim)
    raise ValueError(f"Unknown autoencoder architecture {arch!r}: expected one of {ARCHITECTURES}.")


def autoencoder_step(model, optimizer, x):
    """One gradient step on the squared reconstruction error, summed over pixels."""
    loss = mse_reconstruction(model(x), x)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"mse": loss.detach()}


@torch.no_grad()
def reconstruction_mse(reconstruct, x, batch_size=1000):
    """Mean squared error per pixel of `reconstruct(x)` against x (images in [0, 1]), in batches."""
    checks.check_images(x, "unit", "x")
    total = 0.0
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        total += mse_reconstruction(reconstruct(xb), xb, reduction="pixel").item() * len(xb)
    return total / len(x)


@dataclass(frozen=True)
class AEConfig(recipe.RunConfig):
    """An autoencoder run: architecture, code size and Adam(lr)."""

    arch: str = "conv"
    latent_dim: int = 16
    lr: float = 1e-3


def step(modules, optimizers, x, config):
    return autoencoder_step(modules["model"], optimizers["model"], x)


def unit_images(config, data):
    return (checks.check_images(data.x_train, "unit", "x_train"),)


RECIPE = recipe.Recipe(
    "ae", lambda config: {"model": make_autoencoder(config.arch, config.latent_dim)},
    lambda config, modules: {"model": torch.optim.Adam(modules["model"].parameters(), lr=config.lr)},
    step, tensors=unit_images)


def load_or_train_autoencoder(arch, latent_dim, ds, schedule, device, seed=0, progress=True,
                              store=None, **settings):
    """Notebook 01's autoencoder from the checkpoint its config names ("ae-ARCH-K-..."), else
    trained with DEFAULTS[schedule] (then `settings`) and saved. Returns (model in eval mode,
    meta); meta as for every recipe (config, history with the mse per step, seconds, device)."""
    data = recipe.RunData(ds.name, ds.x_train)
    run_config = recipe.make_config(AEConfig, {"arch": arch, "latent_dim": latent_dim,
                                               "schedule": schedule, **DEFAULTS[schedule]},
                                    data, seed=seed, **settings)
    modules, meta = recipe.load_or_train(RECIPE, run_config, data, device, snapshots=0,
                                         name=f"ae-{arch}-{latent_dim}", progress=progress, store=store)
    return modules["model"], meta
