"""Checkers of notebook 14's part 2 exercises (text to image): a right answer passes, typical wrong
ones fail, a stub is reported as not attempted."""

import pytest
import torch

from course_lib import exercises
from course_lib import text2image as t2i


def not_attempted(*args):
    raise NotImplementedError


def test_matching_aware_optimum():
    assert exercises.check_matching_aware_optimum(
        lambda right, wrong, fake: right / (right + 0.5 * wrong + 0.5 * fake)) is True
    for wrong_answer in (lambda r, w, f: r / (r + f),  # the plain GAN's optimum
                         lambda r, w, f: r / (r + w + f),  # forgets the 1/2
                         lambda r, w, f: (r + w) / (r + w + f),  # mismatches counted as real
                         lambda r, w, f: 0.5):
        with pytest.raises(AssertionError):
            exercises.check_matching_aware_optimum(wrong_answer)
    assert exercises.check_matching_aware_optimum(not_attempted) is False


def test_matching_aware_optimum_minimises_the_loss():
    """The closed form is where the loss's integrand at one pair is smallest."""
    right, wrong, fake = 0.7, 0.4, 1.1
    d = torch.linspace(0.001, 0.999, 99_801, dtype=torch.float64)
    integrand = -(right * d.log() + 0.5 * (wrong + fake) * (1 - d).log())
    best = d[integrand.argmin()].item()
    assert best == pytest.approx(right / (right + 0.5 * (wrong + fake)), abs=1e-4)


def test_false_mismatch_share():
    def right(counts):
        p = torch.tensor(counts, dtype=torch.float64) / sum(counts)
        return float((p ** 2).sum())

    assert exercises.check_false_mismatch_share(right) is True
    for wrong_answer in (lambda counts: 1 / len(counts),  # only right for equal counts
                         lambda counts: 1 - right(counts),  # the share that differ
                         lambda counts: max(counts) / sum(counts)):
        with pytest.raises(AssertionError):
            exercises.check_false_mismatch_share(wrong_answer)
    assert exercises.check_false_mismatch_share(not_attempted) is False


def test_false_mismatch_share_matches_the_library():
    ids = torch.tensor([0] * 5 + [1] * 15 + [3] * 20)
    assert t2i.share_squared(ids) == pytest.approx((5 ** 2 + 15 ** 2 + 20 ** 2) / 40 ** 2)
