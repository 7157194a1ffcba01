"""Checkers for the exercises of notebook 09: InfoGAN."""

import math

import torch
import torch.nn.functional as F

from .. import clustering
from .checking import assert_close, assert_finite, attempted


def check_categorical_mi_bound(fn):
    """Exercise 09.1: fn(logits (B, K), codes (B,)) -> the estimate of the lower bound
    L_I = H(c) + E log Q(c | x) = log K - cross-entropy for a uniform K-way code (a float),
    exact even when Q is confidently wrong (logits of +-100)."""
    g = torch.Generator().manual_seed(91)
    confident_wrong = torch.zeros(4, 10)
    confident_wrong[:, 0] = 120.0  # Q is sure of category 0 ...
    cases = {
        "random logits": (torch.randn(32, 10, generator=g) * 2, torch.randint(10, (32,), generator=g)),
        "uniform logits (answer 0)": (torch.zeros(8, 5), torch.arange(8) % 5),
        "Q confidently wrong": (confident_wrong, torch.tensor([0, 3, 0, 7])),  # ... twice wrongly
    }
    for name, (logits, codes) in cases.items():
        got = attempted(fn, logits.clone(), codes.clone())
        if got is None:
            return False
        assert_finite(f"bound for {name}", got)
        expected = math.log(logits.shape[1]) - F.cross_entropy(logits.double(), codes)
        assert_close(f"bound for {name}", float(got), expected, atol=1e-4)
    print("correct: log K minus the cross-entropy of Q's logits, computed with log_softmax.")
    return True


def check_gaussian_code_nll(fn):
    """Exercise 09.2: fn(codes, mean, logvar) -> -log N(codes; mean, diag(exp(logvar))) per row,
    shape (B,), summed over the code dimensions."""
    g = torch.Generator().manual_seed(92)
    codes = torch.rand(6, 2, generator=g) * 2 - 1
    cases = {"fixed variance (logvar = 0)": (torch.randn(6, 2, generator=g), torch.zeros(6, 2)),
             "learned variance": (torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)),
             "one code, tiny variance": (torch.randn(6, 1, generator=g), torch.full((6, 1), -6.0))}
    for name, (mean, logvar) in cases.items():
        c = codes[:, :mean.shape[1]]
        got = attempted(fn, c.clone(), mean.clone(), logvar.clone())
        if got is None:
            return False
        c, mean, logvar = c.double(), mean.double(), logvar.double()
        expected = 0.5 * (math.log(2 * math.pi) + logvar + (c - mean) ** 2 / logvar.exp()).sum(1)
        assert_close(f"negative log-likelihood, {name}", got, expected, atol=1e-3)
    print("correct: 1/2 sum_j (log 2 pi + logvar_j + (c_j - mean_j)^2 / exp(logvar_j)) per row.")
    return True


def check_matching_accuracy(fn):
    """Exercise 09.3: fn(clusters, labels) -> accuracy of the best ONE-TO-ONE map from cluster
    indices to labels (each cluster gets a different label), for 1-D integer tensors."""
    g = torch.Generator().manual_seed(93)
    labels = torch.randint(10, (500,), generator=g)
    cases = {
        "a permuted perfect clustering (answer 1)": (torch.randperm(10, generator=g)[labels], labels),
        "two clusters that both hold mostly label 0 (answer 0.5)": (
            torch.tensor([0, 0, 0, 1, 1, 1]), torch.tensor([0, 0, 1, 0, 0, 1])),
        "random clusters": (torch.randint(10, (500,), generator=g), labels),
    }
    for name, (clusters, y) in cases.items():
        got = attempted(fn, clusters.clone(), y.clone())
        if got is None:
            return False
        expected = clustering.matching_accuracy(clusters, y)
        assert_close(f"accuracy for {name}", float(got), expected, atol=1e-6)
    print("correct: count cluster/label pairs, then scipy's linear_sum_assignment (maximize=True).")
    return True


def check_bound_ceiling(fn):
    """Exercise 09.6: fn(sigma) -> the largest value of L_I = H(c) + E log Q(c | x) for one code
    c ~ U(-1, 1) and a Gaussian Q(c | x) = N(mu(x), sigma^2) with a fixed sigma: log 2 - 1/2 log(2 pi sigma^2)."""
    for sigma in (1.0, 0.5, 2.0, 0.1):
        got = attempted(fn, sigma)
        if got is None:
            return False
        # Independent reference: differential entropy of U(-1, 1) by its definition, plus the Gaussian
        # log-density at its own mean (the best Q can do when it predicts c exactly).
        entropy = -math.log(1 / 2)
        best_log_q = torch.distributions.Normal(0.0, sigma).log_prob(torch.tensor(0.0)).item()
        assert_close(f"ceiling of the bound for sigma = {sigma}", float(got), entropy + best_log_q, atol=1e-5)
    print("correct: log 2 - 1/2 log(2 pi sigma^2): below 0 for sigma = 1, positive only for sigma < sqrt(2 / pi).")
    return True
