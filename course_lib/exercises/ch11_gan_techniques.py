"""Checkers for the exercises of notebook 11: improving GAN training, and the semi-supervised GAN."""

import torch

from .. import losses
from .checking import assert_close, assert_finite, attempted


def check_smoothed_dstar(fn):
    """Exercise 11.3 (derivation): fn(p_data, p_g, alpha, beta) -> the optimal discriminator at a
    point with densities p_data, p_g when D's targets are alpha (data) and beta (samples)."""
    cases = [(0.3, 0.1, 0.9, 0.0), (0.2, 0.2, 1.0, 0.0), (0.0, 0.5, 0.9, 0.1), (0.5, 0.0, 0.9, 0.1),
             (0.05, 0.4, 0.8, 0.2)]
    for p_data, p_g, alpha, beta in cases:
        got = attempted(fn, p_data, p_g, alpha, beta)
        if got is None:
            return False
        # reference: maximise the pointwise objective on a fine grid of D values
        d = torch.linspace(1e-6, 1 - 1e-6, 200_001, dtype=torch.float64)
        value = (p_data * (alpha * d.log() + (1 - alpha) * (1 - d).log())
                 + p_g * (beta * d.log() + (1 - beta) * (1 - d).log()))
        assert_close(f"D* for p_data={p_data}, p_g={p_g}, alpha={alpha}, beta={beta}", float(got),
                     float(d[value.argmax()]), atol=1e-4)
    print("correct: D* = (alpha p_data + beta p_g) / (p_data + p_g); where p_data = 0 it is beta, so "
          "with beta > 0 the generator is not pushed away from places with no data.")
    return True


def check_collapsed_fm_loss(fn):
    """Exercise 11.1 (derivation): fn(mu, sigma, c) -> the feature-matching loss (expected features)
    of a generator that always outputs c, for data N(mu, sigma^2) and features f(x) = (x, x^2)."""
    for mu, sigma, c in [(0.0, 1.0, 0.0), (1.0, 0.5, 1.0), (2.0, 1.0, 0.5), (-1.0, 2.0, 3.0)]:
        got = attempted(fn, mu, sigma, c)
        if got is None:
            return False
        real = torch.tensor([mu, mu ** 2 + sigma ** 2], dtype=torch.float64)  # E f(x) on data
        fake = torch.tensor([c, c ** 2], dtype=torch.float64)  # f of the constant output
        expected = losses.feature_matching_loss(real[None], fake[None])
        assert_close(f"loss for mu={mu}, sigma={sigma}, c={c}", float(got), expected, atol=1e-6)
    print("correct: (mu - c)^2 + (mu^2 + sigma^2 - c^2)^2. With the mean alone (f(x) = x) c = mu "
          "gives 0: a collapsed generator matches; the second feature makes collapse cost sigma^4.")
    return True


def check_minibatch_features(fn):
    """Exercise 11.2: fn(m) with m of shape (N, B, C) (each sample's B kernel rows) -> o of shape
    (N, B), o[i, b] = sum over j != i of exp(-||m[i, b] - m[j, b]||_1)."""
    g = torch.Generator().manual_seed(113)
    spread = torch.randn(7, 4, 3, generator=g)
    cases = {"random rows": spread, "a collapsed batch (answer N - 1 everywhere)":
             spread[:1].expand(5, 4, 3).clone(), "one sample (answer 0)": spread[:1].clone()}
    for name, m in cases.items():
        got = attempted(fn, m.clone())
        if got is None:
            return False
        expected = torch.stack([torch.exp(-(m[i] - m).abs().sum(2)).sum(0) - 1 for i in range(len(m))])
        assert_close(f"o for {name}", got, expected, atol=1e-5)
    print("correct: pairwise L1 distances per kernel, exp(-distance), summed over the other samples.")
    return True


def check_k_plus_one_probability(fn):
    """Exercise 11.5: fn(class_logits (B, K)) -> D(x) = Z / (Z + 1), Z = sum_k exp l_k, shape (B,),
    finite and exact for logits of +-500."""
    g = torch.Generator().manual_seed(114)
    cases = {"random logits": torch.randn(6, 10, generator=g) * 3,
             "huge logits (D -> 1)": torch.full((2, 10), 500.0),
             "very negative logits (D -> 10 e^-500, underflows to 0)": torch.full((2, 10), -500.0)}
    for name, logits in cases.items():
        got = attempted(fn, logits.clone())
        if got is None:
            return False
        assert_finite(f"D for {name}", got)
        expected = torch.sigmoid(torch.logsumexp(logits.double(), 1))
        assert_close(f"D for {name}", got, expected, atol=1e-6)
    print("correct: D = sigmoid(logsumexp(l)), since Z / (Z + 1) = sigmoid(log Z).")
    return True


def check_batch_misses_a_mode(fn):
    """Exercise 11.4 (derivation): fn(K, N) -> the probability that a minibatch of N independent draws
    from K equally likely modes misses at least one mode. Reference: a dynamic programme over the
    number of modes seen so far (no inclusion-exclusion), and the cases N < K (certain) and K = 1."""
    for n_modes, n in [(8, 16), (8, 32), (8, 128), (25, 32), (25, 128), (25, 512), (8, 4), (1, 3)]:
        got = attempted(fn, n_modes, n)
        if got is None:
            return False
        seen = torch.zeros(n_modes + 1, dtype=torch.float64)
        seen[0] = 1.0  # P(j modes seen) after 0 draws
        for _ in range(n):
            stay = seen * torch.arange(n_modes + 1, dtype=torch.float64) / n_modes
            seen = stay + torch.cat([seen.new_zeros(1), seen[:-1] * (1 - torch.arange(n_modes) / n_modes)])
        assert_close(f"P(a batch of {n} misses one of {n_modes} modes)", float(got), float(1 - seen[-1]),
                     atol=1e-6)
    print("correct: sum_{j>=1} (-1)^(j+1) C(K, j) (1 - j/K)^N (inclusion-exclusion over the missed modes). On "
          "the 5x5 grid a batch of 64 misses a mode in most steps and one of 256 rarely; on the ring of 8 a "
          "batch of 16 misses one in most steps and one of 64 almost never.")
    return True
