"""Checkers of notebook 14's part 1 exercises (the VAE-GAN): a right answer passes, typical wrong
ones fail, a stub is reported as not attempted."""

import pytest

from course_lib import exercises
from course_lib.exercises.ch14_vaegan import BEST_CONSTANT_CASES, reference_best_constants


def not_attempted(*args):
    raise NotImplementedError


def mean(values, probabilities):
    return sum(v * p for v, p in zip(values, probabilities))


def median(values, probabilities):
    total = 0.0
    for v, p in sorted(zip(values, probabilities)):
        total += p
        if total >= 0.5:
            return v


def mode(values, probabilities):
    return max(zip(probabilities, values))[1]


def test_reference_is_the_mean_and_the_median():
    for values, probabilities in BEST_CONSTANT_CASES:
        squared, absolute = reference_best_constants(values, probabilities)
        assert squared == pytest.approx(mean(values, probabilities), abs=1e-4)
        assert absolute == pytest.approx(median(values, probabilities), abs=1e-4)


def test_best_constants():
    assert exercises.check_best_constants(lambda v, p: (mean(v, p), median(v, p))) is True
    for wrong in (lambda v, p: (median(v, p), mean(v, p)),  # swapped
                  lambda v, p: (mean(v, p), mean(v, p)),  # the mean for both
                  lambda v, p: (mode(v, p), mode(v, p)),  # the most likely value
                  lambda v, p: (sum(v) / len(v), median(v, p)),  # ignores the probabilities
                  lambda v, p: mean(v, p)):  # not a pair
        with pytest.raises(AssertionError):
            exercises.check_best_constants(wrong)
    assert exercises.check_best_constants(not_attempted) is False


def test_vaegan_updates():
    right = {"encoder": {"prior", "llike"}, "decoder": ["llike", "gan"], "discriminator": ("gan",)}
    assert exercises.check_vaegan_updates(lambda: right) is True
    for wrong in ({**right, "discriminator": {"gan", "llike"}},  # D trained to make x~ look close
                  {**right, "encoder": {"prior", "llike", "gan"}},
                  {**right, "decoder": {"llike"}},
                  {**right, "decoder": {"llike", "adversarial"}},  # not a loss name
                  {"encoder": {"prior"}, "decoder": {"gan"}}):  # a network missing
        with pytest.raises(AssertionError):
            exercises.check_vaegan_updates(lambda wrong=wrong: wrong)
    assert exercises.check_vaegan_updates(not_attempted) is False
