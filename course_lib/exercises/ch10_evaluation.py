"""Checkers for the exercises of notebook 10: evaluating generative models."""

import torch

from .. import scores
from .checking import assert_close, attempted


def check_inception_score(fn):
    """Exercise 10.1: fn(probs) -> exp(mean_x KL(p(y|x) || p(y))) for an (N, K) tensor of class
    probabilities, with p(y) the mean of the rows (one split)."""
    g = torch.Generator().manual_seed(101)
    cases = {
        "random predictions": torch.softmax(3 * torch.randn(50, 10, generator=g), dim=1),
        "identical predictions (answer 1)": torch.softmax(torch.randn(1, 4, generator=g), 1).repeat(8, 1),
        "confident and balanced (answer K = 5)": torch.eye(5).repeat(4, 1),
    }
    for name, probs in cases.items():
        got = attempted(fn, probs.clone())
        if got is None:
            return False
        assert_close(f"IS for {name}", float(got), scores.inception_score(probs, splits=1)[0], atol=1e-4)
    print("correct: IS = exp(E_x KL(p(y|x) || p(y))), between 1 and the number of classes.")
    return True


def check_frechet_diagonal(fn):
    """Exercise 10.2: fn(mu1, var1, mu2, var2) -> Fréchet distance between two Gaussians with
    diagonal covariances diag(var1), diag(var2)."""
    g = torch.Generator().manual_seed(102)
    mu1, mu2 = torch.randn(6, generator=g), torch.randn(6, generator=g)
    var1, var2 = torch.rand(6, generator=g) * 3 + 0.1, torch.rand(6, generator=g) * 3 + 0.1
    for name, args in {"equal means": (mu1, var1, mu1, var2), "equal variances": (mu1, var1, mu2, var1),
                       "general case": (mu1, var1, mu2, var2)}.items():
        got = attempted(fn, *(a.clone() for a in args))
        if got is None:
            return False
        m1, v1, m2, v2 = (a.double() for a in args)
        reference = scores.frechet_distance(m1, torch.diag(v1), m2, torch.diag(v2))
        assert_close(f"Fréchet distance, {name}", float(got), reference, atol=1e-4)
    print("correct: ||mu1 - mu2||^2 + sum_i (sqrt(var1_i) - sqrt(var2_i))^2.")
    return True


def check_coverage(fn):
    """Exercise 10.3: fn(real, fake, k) -> coverage: the fraction of real points whose k-NN ball
    (radius: distance to the k-th nearest *other* real point) contains at least one fake point."""
    g = torch.Generator().manual_seed(103)
    real = torch.arange(5.0).reshape(5, 1)
    cases = [("real = 0,1,2,3,4 and fake = 0.5, 10 with k = 1 (answer 0.4)", real,
              torch.tensor([[0.5], [10.0]]), 1)]
    a = torch.randn(60, 3, generator=g)
    cases += [("random points, k = 5", a, torch.randn(40, 3, generator=g) + 1.0, 5),
              ("random points, k = 2", a, torch.randn(80, 3, generator=g) * 2, 2)]
    for name, r, f, k in cases:
        got = attempted(fn, r.clone(), f.clone(), k)
        if got is None:
            return False
        assert_close(f"coverage for {name}", float(got), scores.density_coverage(r, f, k)[1], atol=1e-6)
    print("correct: a real point is covered when some sample lies inside its k-NN ball.")
    return True


def check_collapsed_scores(fn):
    """Exercise 10.5: fn(K) -> (IS, TV, poster score) of a generator whose samples the evaluator puts
    into class 0 with certainty, against K balanced real classes (reference histogram 1/K each); the
    poster's diversity score is exp(E_x KL(p(y|x) || p*(y))) with p* the reference histogram."""
    for k in (2, 3, 10, 7):
        got = attempted(fn, k)
        if got is None:
            return False
        try:
            inception, tv, poster = (float(v) for v in got)
        except (TypeError, ValueError):
            raise AssertionError(f"return three numbers, (IS, TV, poster score); got {got!r}.") from None
        # Independent reference: score 3K such samples with the library and by the definitions.
        probs = torch.zeros(3 * k, k, dtype=torch.float64)
        probs[:, 0] = 1.0
        reference = torch.full((k,), 1 / k, dtype=torch.float64)
        expected_is = scores.inception_score(probs, splits=1)[0]
        expected_tv = scores.diversity_score(scores.class_histogram(probs.argmax(1), k), reference)
        kl = (torch.special.xlogy(probs, probs) - torch.special.xlogy(probs, reference)).sum(1)
        expected_poster = kl.mean().exp().item()
        assert_close(f"IS for K = {k}", inception, expected_is, atol=1e-6)
        assert_close(f"TV for K = {k}", tv, expected_tv, atol=1e-6)
        assert_close(f"poster's diversity score for K = {k}", poster, expected_poster, atol=1e-6)
    print("correct: IS = 1 and TV = 1 - 1/K flag the collapse; the poster's score is K, exactly what a perfect "
          "generator gets.")
    return True
