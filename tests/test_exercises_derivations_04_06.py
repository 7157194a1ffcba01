"""The derivation exercises of notebooks 04-06: each checker accepts the closed form, rejects typical
wrong answers with an AssertionError that says what differs, and reports a stub as not attempted."""

import math

import pytest
import torch

from course_lib import exercises


def not_attempted(*args):
    raise NotImplementedError


# ---- exercise 04.5: V(D*, G) for two distributions on finitely many points --------------------------


def correct_minimax_value(p_data, p_g):
    total = p_data + p_g
    data_term = torch.where(p_data > 0, p_data * torch.log(p_data / total), torch.zeros_like(p_data))
    g_term = torch.where(p_g > 0, p_g * torch.log(p_g / total), torch.zeros_like(p_g))
    return (data_term + g_term).sum().item()


def test_minimax_value_correct(capsys):
    assert exercises.check_minimax_value_discrete(correct_minimax_value) is True
    assert "correct" in capsys.readouterr().out
    # the same answer written with torch.xlogy, returned as a tensor
    assert exercises.check_minimax_value_discrete(
        lambda p, q: (torch.xlogy(p, p / (p + q)) + torch.xlogy(q, q / (p + q))).sum()) is True


@pytest.mark.parametrize("wrong", [
    lambda p, q: correct_minimax_value(p, q) / 2 - math.log(2),  # -log 4 + JSD: the factor 2 forgotten
    lambda p, q: correct_minimax_value(p, q) + math.log(4),  # 2 JSD without the -log 4
    lambda p, q: torch.where(p > 0, p * torch.log(p / (p + q)), torch.zeros_like(p)).sum(),  # data term only
])
def test_minimax_value_wrong(wrong):
    with pytest.raises(AssertionError, match="V\\(D\\*, G\\)"):
        exercises.check_minimax_value_discrete(wrong)


def test_minimax_value_names_zero_log_zero():
    naive = lambda p, q: (p * torch.log(p / (p + q)) + q * torch.log(q / (p + q))).sum()  # noqa: E731
    with pytest.raises(AssertionError, match="0 log 0"):
        exercises.check_minimax_value_discrete(naive)


def test_minimax_value_not_attempted(capsys):
    assert exercises.check_minimax_value_discrete(not_attempted) is False
    assert "Not attempted" in capsys.readouterr().out


# ---- exercise 05.5: weights of a dense layer over those of a transposed convolution -----------------


def correct_weight_sharing_factor(c_in, c_out, size_in, size_out, kernel):
    return size_in**2 * size_out**2 / kernel**2


def test_weight_sharing_factor_correct(capsys):
    assert exercises.check_weight_sharing_factor(correct_weight_sharing_factor) is True
    assert "correct" in capsys.readouterr().out
    assert correct_weight_sharing_factor(64, 32, 7, 14, 4) == pytest.approx(600.25)


@pytest.mark.parametrize("wrong", [
    lambda c_in, c_out, s_in, s_out, k: c_in * c_out * s_in**2 * s_out**2 / k**2,  # channels do not cancel
    lambda c_in, c_out, s_in, s_out, k: s_in * s_out / k,  # sides, not areas
    lambda c_in, c_out, s_in, s_out, k: k**2 / (s_in**2 * s_out**2),  # upside down
])
def test_weight_sharing_factor_wrong(wrong):
    with pytest.raises(AssertionError, match="kernel"):
        exercises.check_weight_sharing_factor(wrong)


def test_weight_sharing_factor_not_attempted(capsys):
    assert exercises.check_weight_sharing_factor(not_attempted) is False
    assert "Not attempted" in capsys.readouterr().out


# ---- exercise 06.5: the conditional value of a generator that ignores its label ----------------------


def correct_lazy_generator_value(n_classes):
    return math.log(n_classes) - (1 + 1 / n_classes) * math.log(n_classes + 1)


def test_lazy_generator_value_correct(capsys):
    assert exercises.check_lazy_generator_value(correct_lazy_generator_value) is True
    assert "correct" in capsys.readouterr().out
    assert correct_lazy_generator_value(1) == pytest.approx(-math.log(4))


@pytest.mark.parametrize("wrong", [
    lambda k: -math.log(4),  # the unconditional game's verdict: a perfect generator
    lambda k: math.log(k / (k + 1)),  # the real pairs' term only
    lambda k: math.log(k) - 2 * math.log(k + 1),  # the fakes land on class y's support with probability 1, not 1/K
])
def test_lazy_generator_value_wrong(wrong):
    with pytest.raises(AssertionError, match="V\\(D\\*, G\\) for K"):
        exercises.check_lazy_generator_value(wrong)


def test_lazy_generator_value_not_attempted(capsys):
    assert exercises.check_lazy_generator_value(not_attempted) is False
    assert "Not attempted" in capsys.readouterr().out
