"""Checkers of notebook 12's exercises (modern GANs): a right answer passes, typical wrong ones
fail, a stub is reported as not attempted."""

import cmath
import math

import pytest
import torch

from course_lib import exercises


def not_attempted(*args):
    raise NotImplementedError


def test_hinge_minimizer():
    assert exercises.check_hinge_minimizer(lambda p, q: math.copysign(1.0, p - q)) is True
    for wrong in (lambda p, q: p / (p + q),  # notebook 04's D*
                  lambda p, q: (p - q) / (p + q),  # a ratio, not its sign
                  lambda p, q: math.copysign(1.0, q - p)):  # the sides swapped
        with pytest.raises(AssertionError):
            exercises.check_hinge_minimizer(wrong)
    assert exercises.check_hinge_minimizer(not_attempted) is False


def test_optimal_hinge_loss():
    assert exercises.check_optimal_hinge_loss(lambda p, q: 2 * torch.minimum(p, q).sum()) is True
    for wrong in (lambda p, q: 1 - 0.5 * (p - q).abs().sum(),  # 1 - TV: the factor 2 dropped
                  lambda p, q: 0.5 * (p - q).abs().sum(),  # the distance itself
                  lambda p, q: torch.minimum(p, q).sum()):  # half the value
        with pytest.raises(AssertionError):
            exercises.check_optimal_hinge_loss(wrong)
    assert exercises.check_optimal_hinge_loss(not_attempted) is False


def test_r1_eigenvalues():
    def right(gamma, a):
        root = cmath.sqrt(gamma ** 2 / 4 - a ** 2)
        return (-gamma / 2 + root, -gamma / 2 - root)

    assert exercises.check_r1_eigenvalues(right) is True
    for wrong in (lambda g, a: (1j * a, -1j * a),  # forgets the penalty
                  lambda g, a: (-g + cmath.sqrt(g ** 2 - a ** 2), -g - cmath.sqrt(g ** 2 - a ** 2)),  # gamma, not gamma/2
                  lambda g, a: (-g / 2 + cmath.sqrt(g ** 2 / 4 + a ** 2), -g / 2 - cmath.sqrt(g ** 2 / 4 + a ** 2))):
        with pytest.raises(AssertionError):
            exercises.check_r1_eigenvalues(wrong)
    assert exercises.check_r1_eigenvalues(not_attempted) is False
