"""Checkers for the exercises of notebook 02: the VAE."""

import math

import torch

from .checking import assert_close, assert_finite, attempted


def check_gaussian_kl(fn):
    """Exercise 02.1: fn(mu, logvar) -> KL(N(mu, diag(exp(logvar))) || N(0, I)) per row, shape (B,)."""
    g = torch.Generator().manual_seed(21)
    cases = [(torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)),
             (torch.zeros(3, 4), torch.zeros(3, 4)),
             (torch.randn(4, 1, generator=g) * 3, torch.randn(4, 1, generator=g) * 2)]
    for mu, logvar in cases:
        got = attempted(fn, mu.clone(), logvar.clone())
        if got is None:
            return False
        q = torch.distributions.Normal(mu.double(), (0.5 * logvar.double()).exp())
        reference = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)
        assert_close(f"KL for mu, logvar of shape {tuple(mu.shape)}", got, reference, atol=1e-4)
    print("correct: 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), one value per row.")
    return True


def check_reparameterize(fn):
    """Exercise 02.2: fn(mu, logvar) -> z ~ N(mu, diag(exp(logvar))), differentiable in mu and logvar."""
    n = 20_000
    mu = torch.tensor([[0.0, 2.0, -1.0]]).repeat(n, 1).requires_grad_(True)
    logvar = torch.tensor([[0.0, -2.0, 1.5]]).repeat(n, 1).requires_grad_(True)
    torch.manual_seed(22)
    z = attempted(fn, mu, logvar)
    if z is None:
        return False
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        raise AssertionError(f"expected a tensor of shape {tuple(mu.shape)} (one z per row).")
    assert_close("sample mean of z", z.detach().mean(0), mu[0].detach(), atol=0.06)
    assert_close("sample standard deviation of z (sigma = exp(logvar / 2))", z.detach().std(0),
                 (0.5 * logvar[0].detach()).exp(), atol=0.05)
    if not z.requires_grad:
        raise AssertionError("no gradient flows from z back to mu and logvar: draw eps ~ N(0, I), then "
                             "compute z from mu and logvar (no .detach(), no torch.no_grad()).")
    z.sum().backward()
    if mu.grad is None or logvar.grad is None:
        raise AssertionError("z must depend on both mu and logvar.")
    assert_close("dz/dmu (should be 1)", mu.grad, torch.ones_like(mu), atol=1e-5)
    assert_close("dz/dlogvar (should be sigma * eps / 2 = (z - mu) / 2)", logvar.grad,
                 0.5 * (z - mu).detach(), atol=1e-4)
    print("correct: z = mu + exp(logvar / 2) * eps, and gradients reach mu and logvar.")
    return True


def check_iwae_bound(fn):
    """Exercise 02.3: fn(log_weights (S, B)) -> L_S = log (1/S) sum_i w_i per column, shape (B,),
    for S importance samples per image."""
    g = torch.Generator().manual_seed(23)
    cases = [torch.randn(7, 5, generator=g) * 3,  # an ordinary case
             torch.randn(1, 4, generator=g),  # S = 1: the bound is the single log weight
             torch.randn(50, 3, generator=g) * 5 - 1000.0]  # log weights of an image: exp underflows
    for log_w in cases:
        got = attempted(fn, log_w.clone())
        if got is None:
            return False
        name = f"L_S for S = {log_w.shape[0]}"
        assert_finite(name, got)
        reference = torch.logsumexp(log_w.double(), 0) - torch.log(torch.tensor(float(len(log_w))))
        assert_close(name, got, reference, atol=1e-3)
    print("correct: logsumexp over the S samples minus log S, stable for log weights near -1000.")
    return True


def check_toy_elbo(fn):
    """Exercise 02.5: fn(x, s2, m, v) -> the ELBO, in nats, of the guess q(z | x) = N(m, v) in the
    toy model z ~ N(0, 1), x | z ~ N(z, s2) of section 2, in closed form:
    -1/2 log(2 pi s2) - ((x - m)^2 + v) / (2 s2) - 1/2 (m^2 + v - 1 - log v)."""
    cases = [(1.2, 0.5, 0.0, 1.0),  # the prior as the guess
             (1.2, 0.5, 0.5, 0.49),  # N(0.5, 0.7^2)
             (1.2, 0.5, 0.8, 1 / 3),  # the true posterior: the ELBO is log p(x)
             (-0.7, 2.0, 0.3, 0.2)]
    for x, s2, m, v in cases:
        got = attempted(fn, x, s2, m, v)
        if got is None:
            return False
        reconstruction = -0.5 * math.log(2 * math.pi * s2) - ((x - m) ** 2 + v) / (2 * s2)
        kl = 0.5 * (m**2 + v - 1 - math.log(v))
        assert_close(f"ELBO for x={x}, s2={s2}, m={m}, v={v:.4g}", float(got), reconstruction - kl,
                     atol=1e-5)
    print("correct: reconstruction E_q[log N(x; z, s2)], with E_q[(x - z)^2] = (x - m)^2 + v, minus "
          "KL(N(m, v) || N(0, 1)); for the true posterior it equals log p(x).")
    return True
