"""Checkers of notebook 12's section 7 exercises (BigGAN's tricks): a right answer passes, typical
wrong ones fail, a stub is reported as not attempted."""

import math

import pytest
import torch

from course_lib import exercises, modern
from course_lib.exercises.ch12_biggan_tricks import truncated_variance


def not_attempted(*args):
    raise NotImplementedError


def phi(t):
    return math.exp(-t ** 2 / 2) / math.sqrt(2 * math.pi)


def big_phi(t):
    return 0.5 * (1 + math.erf(t / math.sqrt(2)))


def test_truncated_variance():
    def right(psi):
        return 1 - 2 * psi * phi(psi) / (2 * big_phi(psi) - 1)

    assert exercises.check_truncated_variance(right) is True
    for wrong in (lambda psi: 1.0,  # ignores the truncation
                  lambda psi: psi ** 2 / 3,  # a uniform on [-psi, psi]
                  lambda psi: 1 - psi * phi(psi) / (2 * big_phi(psi) - 1),  # one tail only
                  lambda psi: 1 - 2 * psi * phi(psi)):  # forgets to renormalise
        with pytest.raises(AssertionError):
            exercises.check_truncated_variance(wrong)
    assert exercises.check_truncated_variance(not_attempted) is False


def test_truncated_variance_matches_the_sampler():
    for psi in (0.5, 1.0, 2.0):
        z = modern.truncated_noise(200_000, 1, psi, generator=torch.Generator().manual_seed(0))
        assert z.var().item() == pytest.approx(truncated_variance(psi), rel=0.02)


def test_truncation_prediction():
    assert exercises.check_truncation_prediction(lambda: "precision") is True
    for wrong in (lambda: "recall", lambda: "both", lambda: "Precision"):
        with pytest.raises(AssertionError):
            exercises.check_truncation_prediction(wrong)
    assert exercises.check_truncation_prediction(not_attempted) is False
