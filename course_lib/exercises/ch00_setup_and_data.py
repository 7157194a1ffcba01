"""Checkers for the exercises of notebook 00: setup and data."""

import math

import torch

from .checking import assert_close, attempted


def check_shared_pixel_nll(fn):
    """Exercise 00.1: fn(fraction_on, d) -> the average negative log-likelihood per training image,
    in nats, of d binary pixels sharing one probability p, at its maximum-likelihood value
    (p = fraction_on, the fraction of training pixels that are on): d times a coin's entropy."""
    for f, d in [(0.5, 784), (0.13, 784), (0.3, 10), (0.9, 100)]:
        got = attempted(fn, f, d)
        if got is None:
            return False
        expected = -d * (f * math.log(f) + (1 - f) * math.log(1 - f))
        assert_close(f"NLL per image for fraction_on={f}, d={d}", float(got), expected, atol=1e-4)
    print("correct: p = fraction of pixels on, and the NLL is d times the entropy of that coin "
          "(d log 2 for a fair coin).")
    return True


def _moments(weights, means, stds):
    m = (weights * means).sum()
    return m, ((weights * (stds**2 + means**2)).sum() - m**2).sqrt()


def check_forward_kl_gaussian(fn):
    """Exercise 00.2: fn(weights, means, stds) of a 1-D Gaussian mixture -> (m, s), the mean and
    standard deviation of the Gaussian N(m, s^2) minimising KL(mixture || N(m, s^2)): the
    mixture's own mean and standard deviation (moment matching)."""
    cases = [([0.3, 0.7], [-2.0, 2.0], [0.6, 0.6]),  # the mixture of the notebook's figure
             ([1.0], [1.5], [0.4]),  # one component: the Gaussian itself
             ([0.2, 0.5, 0.3], [-3.0, 0.0, 4.0], [1.0, 0.5, 2.0])]
    for case in cases:
        weights, means, stds = (torch.tensor(v, dtype=torch.float64) for v in case)
        got = attempted(fn, weights.clone(), means.clone(), stds.clone())
        if got is None:
            return False
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise AssertionError("return two numbers: (m, s), the mean and the standard deviation.")
        m, s = _moments(weights, means, stds)
        name = f"mixture with weights {case[0]}, means {case[1]}, stds {case[2]}"
        assert_close(f"mean m for the {name}", float(got[0]), m, atol=1e-4)
        if abs(float(got[1]) - s.item() ** 2) < 1e-4 and abs(s.item() - 1) > 1e-2:
            raise AssertionError(f"standard deviation s for the {name}: you returned the variance "
                                 "s^2; return its square root.")
        assert_close(f"standard deviation s for the {name}", float(got[1]), s, atol=1e-4)
    print("correct: maximum likelihood (forward KL) matches the mixture's mean and variance, "
          "including the spread between its modes.")
    return True
