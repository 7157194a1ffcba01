"""The derivation exercises of notebooks 07-10: each checker accepts the closed form, rejects typical
wrong derivations with an AssertionError, and reports a stub as not attempted."""

import math

import pytest
import torch

from course_lib import exercises, losses


def not_attempted(*args):
    raise NotImplementedError


# ---- exercise 07.5: W1 and JSD when part of the mass overlaps ----------------------------------------


def correct_overlap(alpha, theta):
    w1 = (1 - alpha) * abs(theta)
    kl_data = math.log(2 / (1 + alpha))
    kl_model = (alpha * math.log(2 * alpha / (1 + alpha)) if alpha > 0 else 0.0) + (1 - alpha) * math.log(2)
    return w1, 0.5 * (kl_data + kl_model)


def test_overlap_divergences_correct(capsys):
    assert exercises.check_overlap_divergences(correct_overlap) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda alpha, theta: (abs(theta), correct_overlap(alpha, theta)[1]),  # W1 ignores the overlapping share
    lambda alpha, theta: (correct_overlap(alpha, theta)[0], math.log(2)),  # JSD stuck at log 2
    lambda alpha, theta: (correct_overlap(alpha, theta)[0], (1 - alpha) * math.log(2)),  # linear in alpha
])
def test_overlap_divergences_wrong(wrong):
    with pytest.raises(AssertionError, match="W1|JSD"):
        exercises.check_overlap_divergences(wrong)


def test_overlap_divergences_not_attempted(capsys):
    assert exercises.check_overlap_divergences(not_attempted) is False
    assert "Not attempted yet" in capsys.readouterr().out


# ---- exercise 08.5: the penalty of a curved critic ---------------------------------------------------


def correct_quadratic_penalty(a, s, lam):
    return lam * (a**2 * s**2 / 3 - a * s + 1)


def test_quadratic_penalty_correct(capsys):
    assert exercises.check_quadratic_penalty(correct_quadratic_penalty) is True
    assert "correct" in capsys.readouterr().out


def test_quadratic_penalty_closed_form_matches_the_library():
    """The closed form is the library's gradient penalty on the interpolates it describes."""
    a, s, lam = 0.8, 2.0, 10.0
    eps = (torch.arange(20_000, dtype=torch.float64) + 0.5) / 20_000
    x_real, x_fake = torch.zeros(len(eps), 1, dtype=torch.float64), torch.full((len(eps), 1), s, dtype=torch.float64)
    penalty = losses.gradient_penalty(lambda x: -0.5 * a * x.pow(2).sum(1), x_real, x_fake, lam, eps=eps)
    assert penalty.item() == pytest.approx(correct_quadratic_penalty(a, s, lam), rel=1e-6)


@pytest.mark.parametrize("wrong", [
    lambda a, s, lam: lam * (a * s - 1) ** 2,  # the slope at the fake point only
    lambda a, s, lam: lam * (a * s / 2 - 1) ** 2,  # the slope at the midpoint (Jensen's gap forgotten)
    lambda a, s, lam: a**2 * s**2 / 3 - a * s + 1,  # no weight
])
def test_quadratic_penalty_wrong(wrong):
    with pytest.raises(AssertionError, match="penalty"):
        exercises.check_quadratic_penalty(wrong)


def test_quadratic_penalty_not_attempted(capsys):
    assert exercises.check_quadratic_penalty(not_attempted) is False
    assert "Not attempted yet" in capsys.readouterr().out


# ---- exercise 09.6: the ceiling of the continuous-code bound -----------------------------------------


def correct_ceiling(sigma):
    return math.log(2) - 0.5 * math.log(2 * math.pi * sigma**2)


def test_bound_ceiling_correct(capsys):
    assert exercises.check_bound_ceiling(correct_ceiling) is True
    assert "correct" in capsys.readouterr().out
    assert correct_ceiling(1.0) < 0 < correct_ceiling(0.79)  # vacuous at sigma = 1, positive below sqrt(2/pi)


@pytest.mark.parametrize("wrong", [
    lambda sigma: math.log(2) - 0.5 * math.log(2 * math.pi),  # sigma forgotten (right only at sigma = 1)
    lambda sigma: math.log(2) - math.log(2 * math.pi * sigma**2),  # the 1/2 forgotten
    lambda sigma: 0.5 * math.log(2 * math.pi * sigma**2) - math.log(2),  # sign
])
def test_bound_ceiling_wrong(wrong):
    with pytest.raises(AssertionError, match="ceiling"):
        exercises.check_bound_ceiling(wrong)


def test_bound_ceiling_not_attempted(capsys):
    assert exercises.check_bound_ceiling(not_attempted) is False
    assert "Not attempted yet" in capsys.readouterr().out


# ---- exercise 10.5: IS, TV and the poster's score of a collapsed generator ---------------------------


def correct_collapsed(k):
    return 1.0, 1 - 1 / k, float(k)


def test_collapsed_scores_correct(capsys):
    assert exercises.check_collapsed_scores(correct_collapsed) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda k: (1.0, 1 - 1 / k, 1.0),  # the poster's score taken as the IS (the samples' own marginal)
    lambda k: (1.0, 1.0, float(k)),  # TV forgets the mass class 0 already has
    lambda k: (float(k), 1 - 1 / k, float(k)),  # IS of a perfect generator
])
def test_collapsed_scores_wrong(wrong):
    with pytest.raises(AssertionError, match="IS|TV|poster"):
        exercises.check_collapsed_scores(wrong)


def test_collapsed_scores_not_attempted(capsys):
    assert exercises.check_collapsed_scores(not_attempted) is False
    assert "Not attempted yet" in capsys.readouterr().out
