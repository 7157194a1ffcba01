"""The VAE-GAN (notebook 14, part 1; Larsen, Sønderby, Larochelle & Winther 2016).

A VAE whose pixel likelihood is replaced by a likelihood on a discriminator's features:
- the encoder and the decoder are notebook 02's convolutional VAE networks (`vae.VAE` on
  `nets.conv_encoder` / `nets.conv_decoder`), the decoder ending in tanh for images in [-1, 1];
- the discriminator is notebook 05's DCGAN discriminator (`nets.dcgan_discriminator`); its body's
  output `Dis_l(x)` (`Discriminator.features`) is the layer the likelihood is put on. It uses
  per-image normalisation (`norm="layer"`), so that Dis_l(x) depends on x alone and not on the
  other images of its batch, as a likelihood p(Dis_l(x) | z) must;
- three losses (`prior_loss`, `feature_likelihood_loss`, `gan_losses`), each network updated with
  exactly its own combination (`network_objectives`): encoder beta * L_prior + L_llike, decoder
  gamma * L_llike + L_GAN(generator side), discriminator L_GAN(discriminator side).
`vaegan_step` computes all three gradients from one forward pass before any network moves (the
paper's Algorithm 1), each with `torch.autograd.grad` on its own network's parameters only, so no
loss leaves a gradient in a network it must not update.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import losses, nets, recipe, vae

NETWORKS = ("encoder", "decoder", "discriminator")
# Per-schedule defaults. The rates and Adam's betas are the course's DCGAN ones (gan.DCGAN_BATCH_64: lr_g
# for the encoder and decoder, lr_d for the discriminator), the code size notebook 02's (k = 16).
# gamma = 0.1: a one-seed screen of 0.01, 0.1 and 1 (600 steps, scored on the selection split) put
# 0.01 far behind on FID and recall and 0.1 level with 1 on FID, with a higher precision.
# full: 1000 steps, 140 to 200 s on one thread of a busy 2-core CPU (the budget is 4 minutes).
DEFAULTS = {
    "smoke": dict(steps=50, batch_size=64, latent_dim=16, gamma=0.1, beta=1.0, lr_g=1e-3, lr_d=2e-4),
    "full": dict(steps=1000, batch_size=64, latent_dim=16, gamma=0.1, beta=1.0, lr_g=1e-3, lr_d=2e-4),
}


def make_vaegan(latent_dim=16, d_norm="layer"):
    """{"vae": notebook 02's conv VAE with a tanh decoder, "discriminator": the DCGAN discriminator}."""
    model = vae.VAE(nets.conv_encoder(2 * latent_dim),
                    nets.conv_decoder(latent_dim, out_activation=nn.Tanh), latent_dim, "conv")
    discriminator = nets.dcgan_discriminator(norm=d_norm)
    discriminator.apply(nets.init_dcgan_weights)
    return {"vae": model, "discriminator": discriminator}


# ---- the three losses ------------------------------------------------------------------------------


def prior_loss(mu, logvar):
    """L_prior = KL(q(z|x) || p(z)), averaged over the batch (notebook 02's closed form), in nats."""
    return losses.gaussian_kl(mu, logvar).mean()


def feature_likelihood_loss(real_features, reconstructed_features):
    """L_llike^{Dis_l} = -log p(Dis_l(x) | z) with p a Gaussian of mean Dis_l(x~) and identity
    covariance, up to its constant (d_l / 2) log 2 pi, averaged over the batch:

        L_llike = 1/2 || Dis_l(x) - Dis_l(x~) ||^2,   x~ = Dec(z), z ~ q(z|x).
    """
    losses.check_same_shape(reconstructed_features, real_features, "reconstructed features")
    return 0.5 * (real_features - reconstructed_features).pow(2).flatten(1).sum(1).mean()


def gan_losses(real_logits, reconstructed_logits, prior_logits):
    """The two sides of L_GAN, with the discriminator seeing two kinds of fakes: reconstructions
    x~ = Dec(Enc(x)) and decoded prior samples x_p = Dec(z), z ~ p(z).

        L_GAN = log D(x) + log(1 - D(x~)) + log(1 - D(x_p))            (the paper's equation 9)
        discriminator: minimise -L_GAN (descend the cross-entropy of real 1, both fakes 0)
        decoder:       minimise -log D(x~) - log D(x_p)  (the non-saturating form, notebook 04)
    Returns (discriminator loss, decoder's adversarial loss), batch means."""
    d_loss = (losses.gan_discriminator_loss(real_logits, reconstructed_logits)
              + F.softplus(prior_logits).mean())
    g_loss = (losses.gan_generator_loss_nonsaturating(reconstructed_logits)
              + losses.gan_generator_loss_nonsaturating(prior_logits))
    return d_loss, g_loss


def loss_terms(model, discriminator, x):
    """Every term of one iteration from a single forward pass, as 0-d tensors: prior, llike,
    d_gan and g_gan (see the functions above), plus D(x) and D(x_p) for monitoring."""
    x_rec, mu, logvar = model(x)  # one z ~ q(z|x) per image, reparameterized
    x_prior = model.decode(torch.randn_like(mu))  # z ~ p(z)
    real_features = discriminator.features(x)
    rec_features = discriminator.features(x_rec)
    real_logits = discriminator.head(real_features).squeeze(1)
    rec_logits = discriminator.head(rec_features).squeeze(1)
    prior_logits = discriminator(x_prior)
    d_gan, g_gan = gan_losses(real_logits, rec_logits, prior_logits)
    return {"prior": prior_loss(mu, logvar), "llike": feature_likelihood_loss(real_features, rec_features),
            "d_gan": d_gan, "g_gan": g_gan, "d_real": torch.sigmoid(real_logits).mean(),
            "d_prior": torch.sigmoid(prior_logits).mean()}


def network_objectives(terms, gamma, beta=1.0):
    """What each network descends (the paper's Algorithm 1, beta = 1):
    encoder beta L_prior + L_llike; decoder gamma L_llike + L_GAN (its non-saturating side);
    discriminator L_GAN (its side). gamma weighs reconstruction against fooling D."""
    return {"encoder": beta * terms["prior"] + terms["llike"],
            "decoder": gamma * terms["llike"] + terms["g_gan"],
            "discriminator": terms["d_gan"]}


def networks_of(model, discriminator):
    """{"encoder", "decoder", "discriminator"}: the three networks the optimizers update."""
    return {"encoder": model.encoder, "decoder": model.decoder, "discriminator": discriminator}


def vaegan_step(model, discriminator, optimizers, x, gamma, beta=1.0):
    """One iteration: all three objectives from one forward pass, then each network's gradient of
    its own objective only (autograd.grad with respect to that network's parameters: the other
    losses' gradients are never computed for it, so none can leak in), then the three updates."""
    terms = loss_terms(model, discriminator, x)
    objectives = network_objectives(terms, gamma, beta)
    networks = networks_of(model, discriminator)
    for name, network in networks.items():  # every gradient first, at the same weights
        parameters = list(network.parameters())
        grads = torch.autograd.grad(objectives[name], parameters, retain_graph=True)
        optimizers[name].zero_grad(set_to_none=True)
        for parameter, grad in zip(parameters, grads):
            parameter.grad = grad
    for name in networks:
        optimizers[name].step()
    return {"d_loss": terms["d_gan"].detach(), "g_loss": terms["g_gan"].detach(),
            **{k: terms[k].detach() for k in ("prior", "llike", "d_real", "d_prior")}}


# ---- pictures and a sharpness measure --------------------------------------------------------------


@torch.no_grad()
def reconstruct(model, x):
    """Dec(mu(x)): the decoded posterior mean of each image (in eval mode), images in [-1, 1]."""
    with nets.eval_mode(model):
        return model.decode(model.encode(x)[0])


@torch.no_grad()
def sample(model, n, generator=None, device=None):
    """n decoded prior samples Dec(z), z ~ N(0, I) drawn with `generator`, images in [-1, 1]."""
    with nets.eval_mode(model):
        return model.decode(vae.sample_prior(model, n, generator, device))


def sharpness(images):
    """The mean gradient magnitude of images (N, 1, H, W): the average over pixels of
    sqrt(dx^2 + dy^2), with dx, dy differences of horizontal and vertical neighbours. A blurred
    image has smaller differences between neighbours; compare images on the same scale."""
    dx = images[..., :-1, 1:] - images[..., :-1, :-1]
    dy = images[..., 1:, :-1] - images[..., :-1, :-1]
    return float((dx.pow(2) + dy.pow(2)).sqrt().mean())


# ---- the recipe ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VAEGANConfig(recipe.RunConfig):
    """A VAE-GAN run: code size, gamma (reconstruction against fooling D, in the decoder's loss),
    beta (the KL weight in the encoder's loss; 1 in the paper), Adam(lr_g, betas) for encoder and
    decoder, Adam(lr_d, betas) for the discriminator, and the discriminator's normalisation."""

    latent_dim: int = 16
    gamma: float = 0.1
    beta: float = 1.0
    lr_g: float = 1e-3
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)
    d_norm: str = "layer"


def config(data, schedule, **settings):
    """The VAEGANConfig for `schedule`: DEFAULTS, then `settings` (seed, steps, gamma, ...)."""
    return recipe.make_config(VAEGANConfig, {"schedule": schedule, **DEFAULTS[schedule]}, data,
                              **settings)


def build(config):
    return make_vaegan(config.latent_dim, config.d_norm)


def optimizers(config, modules):
    """One Adam per network: lr_g for the encoder and the decoder, lr_d for the discriminator."""
    networks = networks_of(modules["vae"], modules["discriminator"])
    rates = {"encoder": config.lr_g, "decoder": config.lr_g, "discriminator": config.lr_d}
    return {name: torch.optim.Adam(network.parameters(), lr=rates[name], betas=tuple(config.betas))
            for name, network in networks.items()}


def step(modules, optimizers, x, config):
    return vaegan_step(modules["vae"], modules["discriminator"], optimizers, x, config.gamma,
                       config.beta)


def prior_snapshots(modules, config, n=64):
    """Snapshots of the decoder at n fixed prior codes (drawn once, from the run's seed)."""
    z = torch.randn(n, config.latent_dim).to(recipe.device_of(modules["vae"]))
    return lambda: nets.generate(modules["vae"].decoder, z)


RECIPE = recipe.Recipe("vaegan", build, optimizers, step, tensors=recipe.symmetric_data,
                       snapshot=prior_snapshots, adversarial=True)


def load_or_train_vaegan(x_train, dataset, schedule, device, seed=0, snapshots=8, name=None,
                         progress=True, store=None, **settings):
    """The VAE-GAN, loaded from the checkpoint its config names, else trained on x_train (images
    in [-1, 1]) and saved. Returns (model, discriminator, meta) in eval mode: `model` is a
    `vae.VAE` whose decoder outputs images in [-1, 1] (use `reconstruct` and `sample`, not
    `vae.decode_mean`, which applies a sigmoid for Bernoulli logits)."""
    data = recipe.RunData(dataset, x_train)
    modules, meta = recipe.load_or_train(RECIPE, config(data, schedule, seed=seed, **settings), data,
                                         device, name=name, snapshots=snapshots, progress=progress,
                                         store=store)
    return modules["vae"], modules["discriminator"], meta
