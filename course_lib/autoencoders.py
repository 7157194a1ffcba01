"""The autoencoder recipe: networks, one training step, defaults per schedule (notebook 01)."""

import torch
from torch import nn

from . import checkpoints, checks, nets
from .data import batch_stream
from .losses import mse_reconstruction
from .runtime import seed_everything
from .train import fit

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


def train_autoencoder(model, x_train, steps, batch_size, lr, seed=0, desc="autoencoder",
                      progress=True):
    """Adam on `autoencoder_step` over shuffled batches of x_train (images in [0, 1]); returns
    the history."""
    checks.check_images(x_train, "unit", "x_train")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = batch_stream(x_train, batch_size=batch_size,
                           generator=torch.Generator().manual_seed(seed))
    model.train()
    history = fit(lambda x: autoencoder_step(model, optimizer, x), batches, steps,
                  desc=desc, progress=progress)
    model.eval()
    return history


@torch.no_grad()
def reconstruction_mse(reconstruct, x, batch_size=1000):
    """Mean squared error per pixel of `reconstruct(x)` against x (images in [0, 1]), in batches."""
    checks.check_images(x, "unit", "x")
    total = 0.0
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        total += mse_reconstruction(reconstruct(xb), xb, reduction="pixel").item() * len(xb)
    return total / len(x)


def load_or_train_autoencoder(arch, latent_dim, ds, schedule, device, seed=0, progress=True):
    """Notebook 01's autoencoder from its checkpoint ("ae-ARCH-K" for this dataset and schedule),
    else trained with DEFAULTS[schedule] and saved. Returns (model in eval mode, meta); meta holds
    the history (with 'seconds') and the device it was trained on."""
    model = make_autoencoder(arch, latent_dim).to(device)

    def train():
        seed_everything(seed)
        history = train_autoencoder(model, ds.x_train, seed=seed, desc=f"{arch} AE",
                                    progress=progress, **DEFAULTS[schedule])
        return {"history": history, "device": str(device)}

    path = checkpoints.checkpoint_path(f"ae-{arch}-{latent_dim}", ds.name, schedule)
    meta, _ = checkpoints.load_or_train(path, {"model": model}, train)
    model.eval()
    return model, meta
