"""Checkers for the exercises of notebook 04: GANs."""

import math

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


def check_minimax_value_discrete(fn):
    """Exercise 04.5: fn(p_data, p_g) -> V(D*, G) for two distributions on finitely many points
    (probability vectors of equal length): sum_x p_data log D*(x) + p_g log(1 - D*(x)) with
    D* = p_data / (p_data + p_g), a point where a probability is 0 contributing 0 to its term."""
    g = torch.Generator().manual_seed(45)
    weights = torch.rand(6, generator=g, dtype=torch.float64) * torch.tensor([1, 1, 0, 1, 0, 1.0])
    cases = {
        "equal distributions": ([0.25, 0.25, 0.5], [0.25, 0.25, 0.5]),
        "half of the mass on a shared point": ([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]),
        "disjoint supports": ([0.3, 0.7, 0.0, 0.0], [0.0, 0.0, 0.6, 0.4]),
        "two vectors with some zeros": (weights / weights.sum(),
                                        torch.tensor([0.1, 0.0, 0.4, 0.2, 0.3, 0.0], dtype=torch.float64)),
    }
    for name, (p_data, p_g) in cases.items():
        p_data = torch.as_tensor(p_data, dtype=torch.float64)
        p_g = torch.as_tensor(p_g, dtype=torch.float64)
        got = attempted(fn, p_data.clone(), p_g.clone())
        if got is None:
            return False
        got = torch.as_tensor(got, dtype=torch.float64).detach().reshape(())
        if not torch.isfinite(got):
            raise AssertionError(f"{name}: got {got.item()}. A point where p_data or p_g is 0 contributes 0 "
                                 "to that term (0 log 0 = 0: no mass, no contribution); torch computes "
                                 "0 * log 0 as nan, so leave such points out (torch.where) or use torch.xlogy.")
        # The reference takes the other route of section 2: -log 4 + 2 JSD, the JSD from KLs to the mixture.
        m = (p_data + p_g) / 2
        jsd = 0.5 * (torch.xlogy(p_data, p_data) - torch.xlogy(p_data, m)).sum() \
            + 0.5 * (torch.xlogy(p_g, p_g) - torch.xlogy(p_g, m)).sum()
        assert_close(f"V(D*, G) for {name}", got, -math.log(4) + 2 * jsd, atol=1e-6)
    print("correct: V(D*, G) = -log 4 + 2 JSD; -log 4 for equal distributions, 0 for disjoint supports "
          "(JSD = log 2, its largest value, however far apart the supports are).")
    return True
