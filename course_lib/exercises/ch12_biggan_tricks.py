"""Checkers for the exercises of notebook 12, section 7: BigGAN's tricks (the truncation trick)."""

import math

import torch

from .checking import assert_close, attempted

TRUNCATION_CHOICES = ("precision", "recall")


def check_truncated_variance(fn):
    """Exercise (derivation): fn(psi) -> Var(z) for z ~ N(0, 1) truncated to [-psi, psi], a closed
    form in psi. Reference: the second moment by numerical integration of the density."""
    for psi in (0.25, 0.5, 1.0, 1.5, 2.0, 4.0):
        got = attempted(fn, psi)
        if got is None:
            return False
        z = torch.linspace(-psi, psi, 400_001, dtype=torch.float64)
        density = torch.exp(-z ** 2 / 2)
        expected = torch.trapezoid(z ** 2 * density, z) / torch.trapezoid(density, z)
        assert_close(f"Var(z) at psi={psi}", float(got), float(expected), atol=1e-6)
    print("correct: Var = 1 - 2 psi phi(psi) / (2 Phi(psi) - 1). It falls from 1 (no truncation) "
          "toward psi^2 / 3 (a uniform on [-psi, psi]) as psi shrinks: the samples crowd toward "
          "the mode of p(z).")
    return True


def check_truncation_prediction(fn):
    """Exercise (prediction): fn() -> which of "precision" or "recall" rises as the truncation
    threshold psi shrinks from no truncation to a small value, for a generator that is smooth in z."""
    got = attempted(fn)
    if got is None:
        return False
    if got not in TRUNCATION_CHOICES:
        raise AssertionError(f"answer with one of {TRUNCATION_CHOICES}, got {got!r}.")
    if got != "precision":
        raise AssertionError("not quite: a small psi keeps z near the mode of p(z), where the "
                             "generator was trained most; what does that do to how many samples "
                             "look real, and to how much of the data they cover?")
    print("correct: precision rises (samples from the well-trained middle of the latent space "
          "look real) and recall falls (the rare, unusual images come from the tails of p(z), "
          "which truncation cuts off). Now measure it below.")
    return True


def truncated_variance(psi):
    """The reference closed form (for tests): 1 - 2 psi phi(psi) / (2 Phi(psi) - 1)."""
    phi = math.exp(-psi ** 2 / 2) / math.sqrt(2 * math.pi)
    return 1 - 2 * psi * phi / math.erf(psi / math.sqrt(2))
