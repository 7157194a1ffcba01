"""Checkers for the exercises of notebook 02: the VAE."""

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
    """Exercise 02.3: fn(log_weights (k, B)) -> L_k = log (1/k) sum_i w_i per column, shape (B,)."""
    g = torch.Generator().manual_seed(23)
    cases = [torch.randn(7, 5, generator=g) * 3,  # an ordinary case
             torch.randn(1, 4, generator=g),  # k = 1: the bound is the single log weight
             torch.randn(50, 3, generator=g) * 5 - 1000.0]  # log weights of an image: exp underflows
    for log_w in cases:
        got = attempted(fn, log_w.clone())
        if got is None:
            return False
        name = f"L_k for k = {log_w.shape[0]}"
        assert_finite(name, got)
        reference = torch.logsumexp(log_w.double(), 0) - torch.log(torch.tensor(float(len(log_w))))
        assert_close(name, got, reference, atol=1e-3)
    print("correct: logsumexp over the k samples minus log k, stable for log weights near -1000.")
    return True
