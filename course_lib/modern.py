"""Building blocks of today's GANs (notebook 12): the hinge loss, the R1 penalty, the power
iteration behind spectral normalization, spectral normalization of a whole network, and truncated
noise (BigGAN's truncation trick). Tensors in, tensors out, except `spectrally_normalized`, which
wraps a network's layers with PyTorch's own parametrization."""

import torch
import torch.nn.functional as F
from torch import nn

from .losses import check_logits, critic_gradient_norms, wasserstein_generator_loss


def hinge_discriminator_loss(real_logits, fake_logits):
    """The discriminator's hinge loss (Lim & Ye 2017; Miyato et al. 2018):

        L_D = E_data[ max(0, 1 - l(x)) ] + E_z[ max(0, 1 + l(G(z))) ]

    on raw outputs l (no sigmoid): real outputs are pushed above +1, fake ones below -1, and an
    example already beyond its margin gives no gradient."""
    check_logits(real_logits, "real_logits")
    check_logits(fake_logits, "fake_logits")
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_generator_loss(fake_logits):
    """The generator's side of the hinge game: L_G = -E_z[ l(G(z)) ], the WGAN generator's loss."""
    check_logits(fake_logits, "fake_logits")
    return wasserstein_generator_loss(fake_logits)


def r1_penalty(discriminator, x_real, gamma=10.0):
    """R1 (Mescheder et al. 2018): (gamma / 2) E_data[ || grad_x l(x) ||^2 ] on real data only,
    toward zero (WGAN-GP pushes the norm toward 1 on interpolates). Differentiable with respect
    to the discriminator's parameters. For a linear l(x) = w.x it is exactly (gamma / 2) ||w||^2."""
    norms = critic_gradient_norms(discriminator, x_real, create_graph=True)
    return gamma / 2 * norms.pow(2).mean()


def as_matrix(weight):
    """A layer's weight as the matrix spectral normalization works on: (out, everything else);
    a convolution's kernel (out, in, kh, kw) becomes (out, in * kh * kw)."""
    if weight.dim() < 2:
        raise ValueError(f"A weight matrix or kernel needs at least 2 dimensions, got shape "
                         f"{tuple(weight.shape)}.")
    return weight.reshape(len(weight), -1)


@torch.no_grad()
def power_iteration(weight, iterations=1, u=None):
    """Estimate sigma(W), the largest singular value of `weight` (as `as_matrix`), by power
    iteration: v <- W^T u / |W^T u|, u <- W v / |W v|, sigma = u^T W v. Returns (sigma, u); pass
    u back in to continue, as spectral normalization does with one iteration per training step."""
    matrix = as_matrix(weight)
    if u is None:
        u = torch.randn(len(matrix), dtype=matrix.dtype, device=matrix.device)
    for _ in range(iterations):
        v = F.normalize(matrix.T @ u, dim=0)
        u = F.normalize(matrix @ v, dim=0)
    return u @ matrix @ v, u


def spectrally_normalized(network):
    """`network` with every Linear and Conv layer wrapped by torch's spectral_norm parametrization
    (its weight is W / sigma(W), sigma from one power iteration per forward pass in training)."""
    for module in network.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.utils.parametrizations.spectral_norm(module)
    return network


def truncated_noise(n, latent_dim, psi, generator=None, device=None):
    """z of shape (n, latent_dim), each entry from N(0, 1) truncated to [-psi, psi] (BigGAN's
    truncation trick), drawn exactly by the inverse CDF: z = Phi^-1(U), U ~ U(Phi(-psi), Phi(psi))."""
    if not psi > 0:
        raise ValueError(f"The truncation threshold psi must be positive, got {psi}.")
    low = torch.special.ndtr(torch.tensor(-float(psi), dtype=torch.float64))
    u = torch.rand(n, latent_dim, generator=generator, dtype=torch.float64)
    z = torch.special.ndtri(low + (1 - 2 * low) * u).clamp(-psi, psi)
    return z.to(device=device, dtype=torch.float32)


@torch.no_grad()
def conv_operator_norm(kernel, input_shape, iterations=100, padding=0, generator=None):
    """The operator norm of the stride-1 convolution x -> conv2d(x, kernel, padding) on inputs of
    shape (C, H, W): the largest singular value of the linear map itself, by power iteration with
    the operator (conv2d) and its adjoint (conv_transpose2d with the same kernel). Spectral
    normalization divides by the norm of `as_matrix(kernel)` instead, which is not this number."""
    x = torch.randn(1, *input_shape, generator=generator, dtype=kernel.dtype, device=kernel.device)
    for _ in range(iterations):
        x = F.normalize(x.flatten(), dim=0).view_as(x)
        x = F.conv_transpose2d(F.conv2d(x, kernel, padding=padding), kernel, padding=padding)
    x = F.normalize(x.flatten(), dim=0).view_as(x)
    return F.conv2d(x, kernel, padding=padding).norm()
