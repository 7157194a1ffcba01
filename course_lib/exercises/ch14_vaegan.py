"""Checkers for the exercises of notebook 14, part 1: the VAE-GAN."""

import torch

from .checking import assert_close, attempted

# (pixel values, their probabilities): a pixel that is dark in most images and bright in the rest,
# one that is bright more often, one with a rare middle grey, and one with unequal gaps.
BEST_CONSTANT_CASES = (
    ((0.0, 1.0), (0.6, 0.4)),
    ((-1.0, 1.0), (0.3, 0.7)),
    ((0.0, 0.5, 1.0), (0.45, 0.1, 0.45)),
    ((0.0, 0.2, 1.0), (0.2, 0.2, 0.6)),
    ((0.1, 0.3, 0.9, 1.0), (0.35, 0.05, 0.2, 0.4)),
)
NETWORKS = ("encoder", "decoder", "discriminator")
LOSSES = ("prior", "llike", "gan")
UPDATES = {"encoder": {"prior", "llike"}, "decoder": {"llike", "gan"}, "discriminator": {"gan"}}


def reference_best_constants(values, probabilities):
    """(the minimiser of E (x - c)^2, the minimiser of E |x - c|) for a discrete distribution,
    found numerically on a fine grid of c (for tests and the checker)."""
    x, p = torch.tensor(values, dtype=torch.float64), torch.tensor(probabilities, dtype=torch.float64)
    c = torch.linspace(float(x.min()), float(x.max()), 200_001, dtype=torch.float64)[:, None]
    squared = (p * (x - c).pow(2)).sum(1)
    absolute = (p * (x - c).abs()).sum(1)
    return float(c[squared.argmin(), 0]), float(c[absolute.argmin(), 0])


def check_best_constants(fn):
    """Exercise (derivation): fn(values, probabilities) -> (c_squared, c_absolute), the constant
    predictions of a pixel that minimise the expected squared error and the expected absolute
    error, for a pixel taking `values` with `probabilities`. Checked against a numeric minimiser."""
    for values, probabilities in BEST_CONSTANT_CASES:
        got = attempted(fn, list(values), list(probabilities))
        if got is None:
            return False
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise AssertionError(f"return a pair (c_squared, c_absolute), got {got!r}.")
        expected = reference_best_constants(values, probabilities)
        where = f"values {values} with probabilities {probabilities}"
        assert_close(f"c_squared for {where}", float(got[0]), expected[0], atol=1e-4)
        assert_close(f"c_absolute for {where}", float(got[1]), expected[1], atol=1e-4)
    print("correct: the squared error is minimised by the mean, a grey level that the pixel may "
          "never take; the absolute error by the median, one of the values it does take. A "
          "factorised Gaussian likelihood is a squared error, so its best prediction is the mean.")
    return True


def check_vaegan_updates(fn):
    """Exercise (prediction): fn() -> {network: set of losses} saying which of the losses
    "prior", "llike", "gan" each of "encoder", "decoder", "discriminator" is updated with."""
    got = attempted(fn)
    if got is None:
        return False
    if not isinstance(got, dict) or set(got) != set(NETWORKS):
        raise AssertionError(f"return a dict with the keys {NETWORKS}, got {got!r}.")
    for network in NETWORKS:
        chosen = set(got[network])
        if not chosen <= set(LOSSES):
            raise AssertionError(f"{network}: name losses from {LOSSES}, got {sorted(chosen)}.")
        if chosen != UPDATES[network]:
            raise AssertionError(f"{network}: not quite. Ask of each loss whether moving this "
                                 f"network's weights along its gradient serves the network's goal "
                                 f"(encode well and stay close to the prior; reconstruct and fool "
                                 f"D; tell real from fake).")
    print("correct: encoder <- L_prior + L_llike; decoder <- gamma L_llike + L_GAN (fooling D); "
          "discriminator <- L_GAN only. L_llike's gradient reaches D too (through Dis_l), but D "
          "must not use it: D would learn features that make reconstructions look close.")
    return True
