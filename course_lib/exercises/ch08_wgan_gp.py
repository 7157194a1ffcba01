"""Checkers for the exercises of notebook 08: WGAN-GP."""

import torch
from torch import nn

from .. import losses
from .checking import assert_close, attempted


def _penalty_cases():
    """(name, critic, x_real, x_fake, eps) with known gradients, for the exercises of notebook 08."""
    g = torch.Generator().manual_seed(81)
    linear = nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[0.3, 0.4]]))  # ||w|| = 0.5
        linear.bias.fill_(0.2)
    steep = nn.Linear(2, 1)
    with torch.no_grad():
        steep.weight.copy_(torch.tensor([[1.2, -1.6]]))  # ||w|| = 2
    torch.manual_seed(82)
    mlp = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    with torch.no_grad():
        mlp[0].weight.mul_(3.0)  # gradient norms on both sides of 1
    images = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 1))
    cases = []
    for name, critic, shape in [("linear critic with |w| = 0.5", linear, (2,)),
                                ("linear critic with |w| = 2", steep, (2,)),
                                ("small MLP critic", mlp, (2,)),
                                ("critic of 1x4x4 images", images, (1, 4, 4))]:
        x_real = torch.randn(32, *shape, generator=g)
        x_fake = torch.randn(32, *shape, generator=g) + 1.0
        eps = torch.rand(32, generator=g)
        cases.append((name, lambda x, c=critic: c(x).squeeze(1), critic, x_real, x_fake, eps))
    return cases


def _check_penalty(fn, reference, what):
    for name, score, critic, x_real, x_fake, eps in _penalty_cases():
        got = attempted(fn, score, x_real.clone(), x_fake.clone(), eps.clone(), 10.0)
        if got is None:
            return False
        if not torch.is_tensor(got) or got.dim() != 0:
            raise AssertionError(f"{name}: return one number (a 0-d tensor), got {got!r}.")
        expected = reference(score, x_real, x_fake, eps, 10.0)
        assert_close(f"{what}, {name}", got.detach(), expected.detach(), atol=1e-4)
        if not got.requires_grad:
            raise AssertionError(
                f"{name}: the {what} cannot be back-propagated into the critic's weights. Compute the "
                "input gradient with torch.autograd.grad(..., create_graph=True) so that the penalty "
                "is itself differentiable (a gradient of a gradient).")
        params = list(critic.parameters())
        got_grads = torch.autograd.grad(got, params, allow_unused=True)
        expected_grads = torch.autograd.grad(expected, params, allow_unused=True)
        for p, g_got, g_exp in zip(params, got_grads, expected_grads):
            g_got = torch.zeros_like(p) if g_got is None else g_got
            g_exp = torch.zeros_like(p) if g_exp is None else g_exp
            assert_close(f"gradient of the {what} with respect to the critic's weights, {name}",
                         g_got, g_exp, atol=1e-4)
    return True


def _one_sided(score, x_real, x_fake, eps, weight):
    x_hat = losses.interpolate(x_real, x_fake, eps)
    norms = losses.critic_gradient_norms(score, x_hat, create_graph=True)
    return weight * (norms - 1).clamp(min=0).pow(2).mean()


def check_gradient_penalty(fn):
    """Exercise 08.1: fn(critic, x_real, x_fake, eps, weight) -> the WGAN-GP penalty
    weight * mean_b (||grad f(x_hat_b)|| - 1)^2 at x_hat_b = eps_b x_real_b + (1 - eps_b) x_fake_b,
    a 0-d tensor that can be back-propagated into the critic's weights. Inputs may be images."""
    if not _check_penalty(fn, lambda s, xr, xf, e, w: losses.gradient_penalty(s, xr, xf, w, eps=e),
                          "gradient penalty"):
        return False
    print("correct: interpolate, take the input gradient with create_graph=True, penalise (norm - 1)^2.")
    return True


def check_one_sided_penalty(fn):
    """Exercise 08.2: fn(critic, x_real, x_fake, eps, weight) -> the one-sided penalty
    weight * mean_b max(0, ||grad f(x_hat_b)|| - 1)^2 (only norms above 1 are penalised)."""
    if not _check_penalty(fn, _one_sided, "one-sided penalty"):
        return False
    print("correct: like the gradient penalty, but norms below 1 cost nothing.")
    return True


def check_soft_penalty_optimum(fn):
    """Exercise 08.3: fn(w1, lam) -> (k_star, estimate): among critics f(x) = -k x for
    N(0, 1) vs N(w1, 1), the slope maximising k w1 - lam (k - 1)^2, and the critic's estimate
    E_p f - E_q f = k_star w1."""
    for w1, lam in [(1.5, 10.0), (0.5, 10.0), (2.0, 1.0), (0.1, 0.1)]:
        got = attempted(fn, w1, lam)
        if got is None:
            return False
        k_star, estimate = (float(v) for v in got)
        ks = torch.linspace(0, 30, 300_001, dtype=torch.float64)
        best = ks[(ks * w1 - lam * (ks - 1) ** 2).argmax()].item()
        assert_close(f"k_star for W1 = {w1}, lambda = {lam}", k_star, best, atol=1e-3)
        assert_close(f"estimate for W1 = {w1}, lambda = {lam}", estimate, best * w1, atol=1e-3)
    print("correct: k* = 1 + W1 / (2 lambda), so the estimate is W1 (1 + W1 / (2 lambda)) > W1.")
    return True


def check_quadratic_penalty(fn):
    """Exercise 08.5: fn(a, s, lam) -> the gradient penalty lam * E[(|f'(x_hat)| - 1)^2] of the critic
    f(x) = -a x^2 / 2 (a > 0) between a point mass at 0 (data) and a point mass at s > 0 (generator), on
    interpolates x_hat = eps * 0 + (1 - eps) * s with eps ~ U[0, 1]: a closed form in a, s and lam."""
    u = (torch.arange(400_000, dtype=torch.float64) + 0.5) / 400_000  # midpoints of [0, 1]
    for a, s, lam in [(1.0, 1.0, 10.0), (0.75, 2.0, 10.0), (3.0, 0.5, 1.0), (0.1, 4.0, 0.1)]:
        got = attempted(fn, a, s, lam)
        if got is None:
            return False
        # Independent reference: the expectation over x_hat ~ U[0, s] by numerical integration.
        expected = lam * ((a * s * u - 1) ** 2).mean().item()
        assert_close(f"penalty for a = {a}, s = {s}, lambda = {lam}", float(got), expected, atol=1e-6)
    print("correct: lambda (a^2 s^2 / 3 - a s + 1), smallest (lambda / 4) at a s = 3/2 and never 0: "
          "a critic whose slope changes along the segment cannot have slope 1 all along it.")
    return True
