"""The VAE recipe (notebook 02): networks, reparameterized sampling, one ELBO step, IWAE evaluation.

Data convention: pixels are probabilities in [0, 1]. Training uses *dynamic binarization* (every time
an image is drawn, each pixel is set to 1 with probability equal to its grey level), evaluation uses one
fixed stochastic binarization of the test set (`binarize` with a seeded generator). The decoder is
Bernoulli, so the ELBO and the IWAE bound are log-likelihood bounds of binary images, in nats.

The conditional VAE (notebook 03, `course_lib.cvae`) reuses everything here: each function taking
`y=None` passes the labels on to the model's `encode(x, y)` and `decode(z, y)`.
"""

from dataclasses import dataclass

import torch
from torch import nn

from . import checks, losses, nets, recipe

ARCHITECTURES = ("mlp", "conv")
# Per-schedule defaults: smoke keeps CI fast, full gives the numbers quoted in the notebook.
DEFAULTS = {
    "smoke": dict(steps=200, batch_size=64, lr=1e-3, beta=1.0),
    "full": dict(steps=4000, batch_size=128, lr=1e-3, beta=1.0),
}


class VAE(nn.Module):
    """q(z|x) = N(mu, diag(exp(logvar))) from the encoder; p(x|z) = Bernoulli(sigmoid(decoder(z)))."""

    def __init__(self, encoder, decoder, latent_dim, arch=None):
        super().__init__()
        self.encoder, self.decoder, self.latent_dim, self.arch = encoder, decoder, latent_dim, arch

    def encode(self, x):
        """x -> (mu, logvar), each (B, latent_dim): the encoder's 2k outputs, split in two."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        """z -> logits of the Bernoulli pixel probabilities, (B, 1, 28, 28)."""
        return self.decoder(z)

    def forward(self, x):
        """(logits, mu, logvar) with one reparameterized sample z ~ q(z|x)."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


def make_vae(arch="conv", latent_dim=16):
    """An MLP or convolutional VAE: the notebook 01 networks, with the encoder giving 2k numbers."""
    if arch == "mlp":
        return VAE(nets.mlp_encoder(2 * latent_dim), nets.mlp_decoder(latent_dim), latent_dim, arch)
    if arch == "conv":
        return VAE(nets.conv_encoder(2 * latent_dim), nets.conv_decoder(latent_dim), latent_dim, arch)
    raise ValueError(f"Unknown VAE architecture {arch!r}: expected one of {ARCHITECTURES}.")


def reparameterize(mu, logvar):
    """z = mu + sigma * eps with eps ~ N(0, I), sigma = exp(logvar / 2) (notebook 02, section 4).

    The randomness sits in eps, outside the parameters, so gradients flow to mu and logvar.
    """
    return mu + (0.5 * logvar).exp() * torch.randn_like(mu)


def binarize(x, generator=None):
    """A binary image per grey image: pixel i is 1 with probability x_i.

    Without a generator: the global RNG on x's device (dynamic binarization during training).
    With a (CPU) generator: a reproducible draw on any device (the fixed binarized test set).
    """
    if x.min() < 0 or x.max() > 1:
        raise ValueError("binarize needs pixels in [0, 1] (use scale='unit' data).")
    if generator is None:
        return torch.bernoulli(x)
    return (torch.rand(x.shape, generator=generator).to(x.device) < x).float()


def _with_labels(model, y):
    """The extra arguments of encode/decode: none for a VAE, (y,) for a conditional one."""
    conditional = getattr(model, "n_classes", None) is not None
    if conditional and y is None:
        raise ValueError("this is a conditional VAE: pass the class labels y as well.")
    if not conditional and y is not None:
        raise ValueError("this VAE is unconditional: it takes no labels (leave y=None).")
    return () if y is None else (y,)


def vae_step(model, optimizer, x, y=None, beta=1.0, dynamic_binarization=True):
    """One gradient step on the negative ELBO, in nats per image (notebook 02, section 6).

    loss = reconstruction + beta * KL, with reconstruction = -log p(x|z) for one z ~ q(z|x).
    y: class labels, only for the conditional VAE (notebook 03).
    """
    if dynamic_binarization:
        x = binarize(x)  # a fresh binary image every time a grey image is drawn
    logits, mu, logvar = model(x, *_with_labels(model, y))
    reconstruction = -losses.bernoulli_log_likelihood(logits, x).mean()
    kl = losses.gaussian_kl(mu, logvar).mean()
    loss = reconstruction + beta * kl
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach(), "reconstruction": reconstruction.detach(), "kl": kl.detach()}


# ---- the recipe ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VAEConfig(recipe.RunConfig):
    """A VAE run: architecture, code size, Adam(lr), and beta (1: the true ELBO). With n_classes
    set it is notebook 03's conditional VAE (`course_lib.cvae`), trained on (image, label) pairs."""

    arch: str = "conv"
    latent_dim: int = 16
    n_classes: int = None
    lr: float = 1e-3
    beta: float = 1.0


def config(arch, latent_dim, data, schedule, **settings):
    """The VAEConfig of an architecture and code size for `schedule`: DEFAULTS, then `settings`."""
    return recipe.make_config(VAEConfig, {"arch": arch, "latent_dim": latent_dim,
                                          "schedule": schedule, **DEFAULTS[schedule]}, data,
                              **settings)


def adam(config, modules):
    return {"model": torch.optim.Adam(modules["model"].parameters(), lr=config.lr)}


def step(modules, optimizers, batch, config):
    x, y = (batch, None) if config.n_classes is None else batch
    return vae_step(modules["model"], optimizers["model"], x, y, beta=config.beta)


def unit_images(config, data):
    """The training tensors: images in [0, 1], with their labels for a conditional VAE."""
    x = checks.check_images(data.x_train, "unit", "x_train")
    return (x,) if config.n_classes is None else (x, data.y_train)


RECIPE = recipe.Recipe("vae", lambda config: {"model": make_vae(config.arch, config.latent_dim)},
                       adam, step, tensors=unit_images)


def load_or_train_vae(arch, latent_dim, ds, schedule, device, seed=0, name=None, progress=True,
                      run_recipe=RECIPE, store=None, **settings):
    """The VAE of `arch` and `latent_dim`, loaded from the checkpoint its config names, else
    trained on ds.x_train (images in [0, 1]) and saved. Returns (model in eval mode, meta); meta
    as for every recipe (config, history with loss, reconstruction and kl per step, seconds, ...)."""
    data = recipe.RunData(ds.name, ds.x_train, getattr(ds, "y_train", None))
    run_config = config(arch, latent_dim, data, schedule, seed=seed, **settings)
    modules, meta = recipe.load_or_train(run_recipe, run_config, data, device, snapshots=0,
                                         name=name or f"{run_recipe.name}-{arch}-{latent_dim}",
                                         progress=progress, store=store)
    return modules["model"], meta


# ---- evaluation: bounds on log p(x), in nats per image -----------------------------------------


def _batches(x, y, batch_size):
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size], None if y is None else y[start : start + batch_size]


@torch.no_grad()
def encode_all(model, x, y=None, batch_size=1000):
    """(mu, logvar) of q(z|x) for a whole set (images in [0, 1]), in batches."""
    checks.check_images(x, "unit", "x")
    parts = [model.encode(xb, *_with_labels(model, yb)) for xb, yb in _batches(x, y, batch_size)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


@torch.no_grad()
def elbo_per_image(model, x, y=None, batch_size=500):
    """ELBO(x) for every image (one z sample each, exact KL), (N,) in nats. x must be binary for
    the result to bound the log-likelihood of x."""
    checks.check_images(x, "unit", "x")
    values = []
    for xb, yb in _batches(x, y, batch_size):
        logits, mu, logvar = model(xb, *_with_labels(model, yb))
        values.append(losses.elbo(logits, xb, mu, logvar))
    return torch.cat(values)


def _log_weights(model, x, n_samples, y):
    """(S, B) log importance weights for one batch, S = n_samples."""
    mu, logvar = model.encode(x, *_with_labels(model, y))
    z = reparameterize(mu.expand(n_samples, *mu.shape), logvar.expand(n_samples, *logvar.shape))  # (S, B, k)
    labels = () if y is None else (y.repeat(n_samples),)
    logits = model.decode(z.reshape(-1, mu.shape[1]), *labels)
    log_px_z = losses.bernoulli_log_likelihood(logits, x.repeat(n_samples, 1, 1, 1)).view(n_samples, len(x))
    log_pz = losses.gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
    log_qz = losses.gaussian_log_density(z, mu, logvar)
    return log_px_z + log_pz - log_qz


@torch.no_grad()
def iwae_log_weights(model, x, n_samples, y=None, batch_size=None):
    """(S, N) log importance weights log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x), with
    z_1..z_S ~ q(z|x) drawn independently for each of the N images; S = n_samples (notebook 02,
    section 7)."""
    if n_samples < 1:
        raise ValueError(f"n_samples (the number S of importance samples) must be at least 1, "
                         f"got {n_samples}.")
    checks.check_images(x, "unit", "x")
    batch_size = batch_size or max(1, 5000 // n_samples)  # about 5000 decoded images at a time
    return torch.cat([_log_weights(model, xb, n_samples, yb) for xb, yb in _batches(x, y, batch_size)], 1)


def iwae_per_image(model, x, n_samples, y=None, batch_size=None):
    """The IWAE bound L_S(x) <= log p(x) for every image, (N,) in nats (S = n_samples per image)."""
    return losses.iwae_bound(iwae_log_weights(model, x, n_samples, y, batch_size))


# ---- pictures ------------------------------------------------------------------------------------


@torch.no_grad()
def decode_mean(model, z, y=None):
    """The Bernoulli means sigmoid(logits): what a VAE image usually shows (not a sample of p(x|z))."""
    return torch.sigmoid(model.decode(z, *_with_labels(model, y)))


def sample_prior(model, n, generator=None, device=None):
    """n codes z ~ p(z) = N(0, I), drawn on the CPU with `generator` and moved to `device`."""
    device = device if device is not None else next(model.parameters()).device
    return torch.randn(n, model.latent_dim, generator=generator).to(device)


def interpolate(z_a, z_b, steps=10):
    """Codes on the straight line from z_a to z_b (both ends included), (steps, d)."""
    t = torch.linspace(0, 1, steps, device=z_a.device)[:, None]
    return (1 - t) * z_a + t * z_b


def latent_grid(n=15, quantile=0.03, device=None):
    """An n x n grid of 2-D codes at Gaussian quantiles in [quantile, 1 - quantile], row by row
    from the top-left: equal prior mass between neighbours (as in Kingma & Welling, 2014, Fig. 4)."""
    q = torch.linspace(quantile, 1 - quantile, n, dtype=torch.float64)
    values = torch.distributions.Normal(0.0, 1.0).icdf(q).float()
    z1, z2 = torch.meshgrid(values, values.flip(0), indexing="xy")  # z2 grows upwards
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], 1).to(device)


# ---- the toy gradient estimators of section 4 ---------------------------------------------------


def _leaves(mu, sigma, n):
    return (mu.detach().expand(n, *mu.shape).clone().requires_grad_(True),
            sigma.detach().expand(n, *sigma.shape).clone().requires_grad_(True))


def reparameterized_gradients(f, mu, sigma, n, generator=None):
    """n one-sample estimates of the gradient of E_{z ~ N(mu, diag sigma^2)}[f(z)] with respect to
    (mu, sigma), through z = mu + sigma * eps (the pathwise or reparameterization estimator).

    f maps (n, d) codes to (n,) values. Returns (grad_mu, grad_sigma), each (n, d).
    """
    m, s = _leaves(mu, sigma, n)
    eps = torch.randn(m.shape, generator=generator)
    f(m + s * eps).sum().backward()
    return m.grad, s.grad


def score_function_gradients(f, mu, sigma, n, generator=None):
    """The same gradient by the score-function (REINFORCE) estimator: f(z) * grad log q(z), with
    z ~ N(mu, diag sigma^2) drawn without gradient. Needs only values of f, never its gradient."""
    m, s = _leaves(mu, sigma, n)
    z = (m + s * torch.randn(m.shape, generator=generator)).detach()
    log_q = losses.gaussian_log_density(z, m, 2 * s.log())
    (f(z).detach() * log_q).sum().backward()
    return m.grad, s.grad
