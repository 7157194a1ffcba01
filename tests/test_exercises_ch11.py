"""Checkers of notebook 11's exercises: a right answer passes, typical wrong ones fail, a stub is
reported as not attempted."""

import pytest
import torch

from course_lib import exercises


def not_attempted(*args):
    raise NotImplementedError


def test_smoothed_dstar():
    assert exercises.check_smoothed_dstar(lambda p, q, a, b: (a * p + b * q) / (p + q)) is True
    for wrong in (lambda p, q, a, b: p / (p + q),  # the unsmoothed D*
                  lambda p, q, a, b: a * p / (p + q),  # forgets beta
                  lambda p, q, a, b: (a * p + (1 - b) * q) / (p + q)):  # 1 - beta for beta
        with pytest.raises(AssertionError):
            exercises.check_smoothed_dstar(wrong)
    assert exercises.check_smoothed_dstar(not_attempted) is False


def test_collapsed_fm_loss():
    def right(mu, sigma, c):
        return (mu - c) ** 2 + (mu ** 2 + sigma ** 2 - c ** 2) ** 2

    assert exercises.check_collapsed_fm_loss(right) is True
    for wrong in (lambda mu, s, c: (mu - c) ** 2,  # the mean alone
                  lambda mu, s, c: (mu - c) ** 2 + (mu ** 2 - c ** 2) ** 2,  # forgets sigma
                  lambda mu, s, c: (mu - c) ** 2 + (s ** 2 - c ** 2) ** 2):  # E x^2 taken as sigma^2
        with pytest.raises(AssertionError):
            exercises.check_collapsed_fm_loss(wrong)
    assert exercises.check_collapsed_fm_loss(not_attempted) is False


def test_minibatch_features():
    def right(m):
        return torch.exp(-(m[:, None] - m[None]).abs().sum(3)).sum(1) - 1

    assert exercises.check_minibatch_features(right) is True
    for wrong in (lambda m: torch.exp(-(m[:, None] - m[None]).abs().sum(3)).sum(1),  # keeps j = i
                  lambda m: torch.exp(-(m[:, None] - m[None]).pow(2).sum(3)).sum(1) - 1,  # squared L2
                  lambda m: torch.exp(-(m[:, None] - m[None]).abs().sum(2)).sum(1)[:, :1].expand(
                      len(m), m.shape[1]) - 1):  # sums over the wrong axis
        with pytest.raises(AssertionError):
            exercises.check_minibatch_features(wrong)
    assert exercises.check_minibatch_features(not_attempted) is False


def test_k_plus_one_probability():
    assert exercises.check_k_plus_one_probability(lambda logits: torch.sigmoid(torch.logsumexp(logits, 1))) is True
    for wrong in (lambda logits: (z := logits.exp().sum(1)) / (z + 1),  # overflows: nan for huge logits
                  lambda logits: torch.softmax(logits, 1).max(1).values,  # the class probability
                  lambda logits: torch.sigmoid(logits.max(1).values)):  # drops the other classes
        with pytest.raises(AssertionError):
            exercises.check_k_plus_one_probability(wrong)
    assert exercises.check_k_plus_one_probability(not_attempted) is False


def test_batch_misses_a_mode():
    import math

    def right(K, N):
        return 1 - sum((-1) ** j * math.comb(K, j) * (1 - j / K) ** N for j in range(K + 1))

    assert exercises.check_batch_misses_a_mode(right) is True
    for wrong in (lambda K, N: K * (1 - 1 / K) ** N,  # union bound: only the first inclusion-exclusion term
                  lambda K, N: (1 - 1 / K) ** N,  # the chance that one given mode is missed
                  lambda K, N: 1 - (1 - (1 - 1 / K) ** N) ** K):  # treats the modes' misses as independent
        with pytest.raises(AssertionError):
            exercises.check_batch_misses_a_mode(wrong)
    assert exercises.check_batch_misses_a_mode(not_attempted) is False
