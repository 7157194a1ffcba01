"""Checkers for the exercises of notebook 04: GANs."""

import torch

from .. import toy
from .checking import assert_close, attempted


def check_nonsaturating_loss(fn):
    """Exercise 04.1: fn(fake_logits) -> -mean log D(G(z)) with D = sigmoid(logit), a scalar,
    exact even for very negative logits (a discriminator that is sure the samples are fake)."""
    moderate = torch.tensor([-3.0, -0.5, 0.0, 1.0, 4.0])
    extreme = torch.tensor([-150.0, -20.0, 0.0])
    for name, logits in [("moderate logits", moderate), ("very negative logits", extreme)]:
        got = attempted(fn, logits.clone())
        if got is None:
            return False
        got = torch.as_tensor(got, dtype=torch.float64).detach()
        if name == "very negative logits" and not torch.isfinite(got).all():
            raise AssertionError(
                "non-saturating loss: infinite for logit -150. sigmoid(-150) rounds to 0 in float32 "
                "and log(0) = -inf; compute log D from the logit: log sigmoid(l) = -softplus(-l) "
                "(torch.nn.functional.logsigmoid).")
        expected = torch.nn.functional.softplus(-logits.double()).mean()
        assert_close(f"non-saturating loss on {name}", got.reshape(()), expected, atol=1e-5)
    print("correct: -mean log D(G(z)), computed from the logits so it never saturates or overflows.")
    return True


def check_optimal_discriminator_gaussians(fn):
    """Exercise 04.2: fn(x, mu_data, sd_data, mu_g, sd_g) -> D*(x) for p_data = N(mu_data, sd_data^2)
    and p_g = N(mu_g, sd_g^2), elementwise over the tensor x."""
    x = torch.linspace(-3, 5, 33, dtype=torch.float64)
    for mu_d, sd_d, mu_g, sd_g in [(0.0, 1.0, 2.0, 1.0), (1.0, 0.5, 0.0, 2.0), (0.0, 1.0, 0.0, 1.0)]:
        got = attempted(fn, x.clone(), mu_d, sd_d, mu_g, sd_g)
        if got is None:
            return False

        def log_pdf(mu, sd):
            return -0.5 * ((x - mu) / sd) ** 2 - torch.log(torch.tensor(sd, dtype=torch.float64))

        expected = torch.sigmoid(log_pdf(mu_d, sd_d) - log_pdf(mu_g, sd_g))
        assert_close(f"D* for N({mu_d}, {sd_d}^2) vs N({mu_g}, {sd_g}^2)", got, expected, atol=1e-5)
    print("correct: D*(x) = p_data(x) / (p_data(x) + p_g(x)); it is 1/2 where the densities cross.")
    return True


def check_mode_coverage(fn):
    """Exercise 04.3: fn(samples, modes, sigma) -> (modes_covered, high_quality_fraction) under the
    protocol of notebook 04 (nearest mode; high quality within 3 sigma; covered if >= 1 such)."""
    g = torch.Generator().manual_seed(4)
    modes = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    cases = {
        "samples near three of four modes": modes[torch.tensor([0, 1, 2] * 50)]
        + 0.05 * torch.randn(150, 2, generator=g),
        "uniform noise": torch.rand(400, 2, generator=g) * 6 - 0.5,
        "points just inside and just outside 3 sigma": torch.tensor(
            [[0.29, 0.0], [0.31, 0.0], [5.0, 5.29], [0.0, 1.2], [1.5, 0.0]]),
    }
    for name, samples in cases.items():
        got = attempted(fn, samples.clone(), modes.clone(), 0.1)
        if got is None:
            return False
        expected = toy.mode_coverage(samples, modes, 0.1)
        covered, fraction = got
        if int(covered) != expected["modes_covered"]:
            raise AssertionError(f"{name}: {int(covered)} modes covered, expected "
                                 f"{expected['modes_covered']}.")
        assert_close(f"{name}: high-quality fraction", float(fraction),
                     expected["high_quality_fraction"], atol=1e-6)
    print("correct: nearest mode, 3-sigma quality test, a mode counts once it has a good sample.")
    return True
