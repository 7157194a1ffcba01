"""Checkers of notebook 13's exercises (style-based generators): a right answer passes, typical
wrong ones fail, a stub is reported as not attempted."""

import pytest
import torch

from course_lib import exercises, stylegan
from course_lib.exercises.ch13_stylegan import demodulation_sigma


def not_attempted(*args):
    raise NotImplementedError


def test_demodulation_sigma():
    def right(weight, style):
        return (weight * style[None, :, None, None]).pow(2).sum(dim=(1, 2, 3)).sqrt()

    assert exercises.check_demodulation_sigma(right) is True
    for wrong in (lambda w, s: (w * s[None, :, None, None]).pow(2).sum(dim=(1, 2, 3)),  # the variance
                  lambda w, s: w.pow(2).sum(dim=(1, 2, 3)).sqrt(),  # ignores the style
                  lambda w, s: (w * s[None, :, None, None]).abs().sum(dim=(1, 2, 3)),  # L1
                  lambda w, s: (w * s[None, :, None, None]).pow(2).sum(dim=(0, 2, 3)).sqrt()):  # wrong axis
        with pytest.raises(AssertionError):
            exercises.check_demodulation_sigma(wrong)
    assert exercises.check_demodulation_sigma(not_attempted) is False


def test_demodulation_sigma_is_what_the_library_divides_by():
    g = torch.Generator().manual_seed(0)
    weight, style = torch.randn(4, 3, 3, 3, generator=g), torch.rand(1, 3, generator=g) + 0.5
    kernels = stylegan.demodulate(weight, style, eps=0.0)[0]
    assert torch.allclose(weight * style[0, None, :, None, None] / kernels,
                          demodulation_sigma(weight, style[0]).float()[:, None, None, None].expand_as(weight))


def test_linear_path_length():
    assert exercises.check_linear_path_length(lambda m: 2 * m.pow(2).sum()) is True
    for wrong in (lambda m: m.pow(2).sum(),  # forgets that b - a has variance 2
                  lambda m: 2 * torch.linalg.matrix_norm(m, 2) ** 2,  # the spectral norm
                  lambda m: 2 * m.sum() ** 2):
        with pytest.raises(AssertionError):
            exercises.check_linear_path_length(wrong)
    assert exercises.check_linear_path_length(not_attempted) is False


def test_linear_path_length_matches_the_library():
    matrix = torch.randn(3, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    a, b = torch.randn(2, 100_000, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    t = torch.rand(100_000, 1, dtype=torch.float64)
    measured = stylegan.path_length(lambda v: v @ matrix.T, a, b, t).mean()
    assert measured.item() == pytest.approx(2 * matrix.pow(2).sum().item(), rel=0.02)


def test_demodulation_prediction():
    assert exercises.check_demodulation_prediction(lambda: "neither") is True
    for wrong in (lambda: "std only", lambda: "mean and std", lambda: "both"):
        with pytest.raises(AssertionError):
            exercises.check_demodulation_prediction(wrong)
    assert exercises.check_demodulation_prediction(not_attempted) is False
