"""The pure scores: Fréchet distance, Inception score, class diversity, precision / recall /
density / coverage and the Parzen window, on inputs with known answers; and the checkers of
notebook 10's exercises, which compare learners' code with these scores."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from course_lib import exercises, scores


def gen(seed):
    return torch.Generator().manual_seed(seed)


def random_cov(d, seed, scale=1.0):
    a = torch.randn(d, d, generator=gen(seed), dtype=torch.float64)
    return scale * (a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64))


# ---- Fréchet distance ---------------------------------------------------------------------------


def scipy_reference_fd(mu1, s1, mu2, s2):
    """The usual reference computation (as in pytorch-fid), with scipy's general sqrtm."""
    mu1, s1, mu2, s2 = (np.asarray(a, dtype=np.float64) for a in (mu1, s1, mu2, s2))
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if np.iscomplexobj(covmean):
        assert np.abs(covmean.imag).max() < 1e-6
        covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_fd_of_a_feature_set_with_itself_is_zero():
    features = torch.randn(500, 32, generator=gen(0)) * 3 + 1
    assert abs(scores.fid_from_features(features, features)) < 1e-9
    assert abs(scores.fid_from_features(features, features.flip(0))) < 1e-9  # order does not matter


def test_fd_of_a_rank_deficient_covariance_with_itself_is_zero():
    features = torch.randn(20, 64, generator=gen(1))  # 20 points in 64-D: covariance of rank 19
    mu, sigma = scores.gaussian_stats(features)
    assert torch.linalg.matrix_rank(sigma) == 19
    # square roots of the ~1e-16 eigenvalues that stand for 0 contribute ~1e-8 each
    assert abs(scores.frechet_distance(mu, sigma, mu, sigma)) < 1e-6 * float(torch.trace(sigma))


@pytest.mark.parametrize("d", [1, 5, 40])
def test_fd_matches_scipy_sqrtm_on_random_data(d):
    f1 = torch.randn(400, d, generator=gen(d)) @ torch.randn(d, d, generator=gen(d + 1))
    f2 = torch.randn(300, d, generator=gen(d + 2)) * 2 + 0.5
    mu1, s1 = scores.gaussian_stats(f1)
    mu2, s2 = scores.gaussian_stats(f2)
    expected = scipy_reference_fd(mu1, s1, mu2, s2)
    assert scores.fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-7, abs=1e-9)
    # gaussian_stats is numpy's mean and unbiased covariance
    np.testing.assert_allclose(s1.numpy(), np.cov(f1.double().numpy(), rowvar=False), rtol=1e-10,
                               atol=1e-12)


def test_fd_of_gaussians_with_diagonal_covariances_matches_the_closed_form():
    g = gen(3)
    mu1, mu2 = (torch.randn(7, generator=g, dtype=torch.float64) for _ in range(2))
    v1 = torch.rand(7, generator=g, dtype=torch.float64) + 0.1
    v2 = torch.rand(7, generator=g, dtype=torch.float64) * 4 + 0.1
    closed = float((mu1 - mu2).pow(2).sum() + (v1.sqrt() - v2.sqrt()).pow(2).sum())
    got = scores.frechet_distance(mu1, torch.diag(v1), mu2, torch.diag(v2))
    assert got == pytest.approx(closed, rel=1e-10)


def test_fd_of_commuting_covariances_and_of_scaled_covariances():
    # same eigenvectors: FD = ||m1 - m2||^2 + sum (sqrt(l1) - sqrt(l2))^2 in the shared basis
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=gen(4), dtype=torch.float64))
    l1 = torch.tensor([1.0, 2, 3, 4, 5], dtype=torch.float64)
    l2 = torch.tensor([5.0, 1, 0.5, 2, 9], dtype=torch.float64)
    s1, s2 = (q * l1) @ q.T, (q * l2) @ q.T
    zero = torch.zeros(5)
    assert scores.frechet_distance(zero, s1, zero, s2) == pytest.approx(
        float((l1.sqrt() - l2.sqrt()).pow(2).sum()), rel=1e-9)
    # sigma and c^2 sigma: tr(sigma) (1 - c)^2
    s = random_cov(6, 5)
    assert scores.frechet_distance(torch.zeros(6), s, torch.zeros(6), 9 * s) == pytest.approx(
        float(torch.trace(s)) * 4, rel=1e-9)


def test_fd_of_large_samples_approaches_the_population_value():
    n, d = 50_000, 3
    mu2, v2 = torch.tensor([1.0, 0.0, -1.0]), torch.tensor([4.0, 1.0, 0.25])
    f1 = torch.randn(n, d, generator=gen(6))
    f2 = torch.randn(n, d, generator=gen(7)) * v2.sqrt() + mu2
    closed = float(mu2.pow(2).sum() + (1 - v2.sqrt()).pow(2).sum())  # 3.25
    assert scores.fid_from_features(f1, f2) == pytest.approx(closed, abs=0.05)


def test_sqrtm_psd_squares_back():
    s = random_cov(8, 8)
    root = scores.sqrtm_psd(s)
    torch.testing.assert_close(root @ root, s)
    torch.testing.assert_close(root, root.T)


def test_fd_shape_errors():
    with pytest.raises(ValueError, match="shapes do not match"):
        scores.frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(4), torch.eye(4))
    with pytest.raises(ValueError, match="at least 2"):
        scores.gaussian_stats(torch.zeros(1, 3))


# ---- Inception score ----------------------------------------------------------------------------


def test_is_is_k_for_confident_uniformly_spread_predictions():
    probs = torch.eye(10).repeat(100, 1)  # every split of 100 rows holds 10 of each class
    mean, std = scores.inception_score(probs, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_is_is_one_for_identical_predictions():
    probs = torch.softmax(torch.randn(1, 10, generator=gen(0)), 1).repeat(1000, 1)
    mean, std = scores.inception_score(probs)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)
    one_class = torch.zeros(200, 10)
    one_class[:, 3] = 1
    assert scores.inception_score(one_class)[0] == pytest.approx(1.0)


def test_is_of_a_symmetric_two_class_example():
    # half the rows (p, 1-p), half (1-p, p): p(y) = 1/2, KL = log 2 - H(p), IS = 2 exp(-H(p))
    p = 0.8
    probs = torch.tensor([[p, 1 - p], [1 - p, p]]).repeat(50, 1)
    entropy = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert scores.inception_score(probs, splits=1)[0] == pytest.approx(2 * math.exp(-entropy))


def test_is_lies_between_1_and_k_and_splits_give_a_std():
    probs = torch.softmax(2 * torch.randn(1000, 10, generator=gen(1)), 1)
    mean, std = scores.inception_score(probs)
    assert 1 < mean < 10 and std > 0


def test_is_rejects_logits_and_bad_splits():
    with pytest.raises(ValueError, match="softmax"):
        scores.inception_score(torch.randn(20, 10, generator=gen(2)))
    with pytest.raises(ValueError, match="splits"):
        scores.inception_score(torch.eye(10)[:5], splits=10)


# ---- class diversity ----------------------------------------------------------------------------


def test_diversity_is_zero_for_the_real_histogram_and_worst_for_one_class():
    real_labels = torch.randint(10, (5000,), generator=gen(0))
    q = scores.class_histogram(real_labels, 10)
    assert scores.diversity_score(q, q) == 0.0
    single = scores.class_histogram(torch.full((100,), 4), 10)
    worst = scores.diversity_score(single, q)
    assert worst == pytest.approx(1 - q[4].item())
    uniform = torch.full((10,), 0.1, dtype=torch.float64)
    assert scores.diversity_score(single, uniform) == pytest.approx(0.9)
    for p in torch.rand(20, 10, generator=gen(1), dtype=torch.float64) ** 4:
        # no histogram is further from uniform than a single class
        assert scores.diversity_score(p / p.sum(), uniform) <= 0.9 + 1e-12


def test_diversity_counts_the_mass_that_must_move():
    p = torch.tensor([0.5, 0.5, 0.0, 0.0])
    q = torch.tensor([0.25, 0.25, 0.25, 0.25])
    assert scores.diversity_score(p, q) == pytest.approx(0.5)


def test_normalized_entropy_and_histogram():
    assert scores.normalized_entropy(torch.full((10,), 0.1)) == pytest.approx(1.0)
    assert scores.normalized_entropy(torch.eye(10)[2]) == 0.0
    torch.testing.assert_close(scores.class_histogram(torch.tensor([0, 2, 2, 1]), 3),
                               torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        scores.class_histogram(torch.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="sum to 1"):
        scores.diversity_score(torch.tensor([0.5, 0.2]), torch.tensor([0.5, 0.5]))


# ---- precision / recall / density / coverage ----------------------------------------------------


def test_knn_radii_on_a_line():
    points = torch.tensor([[0.0], [1.0], [3.0], [6.0]])
    torch.testing.assert_close(scores.knn_radii(points, 1), torch.tensor([1.0, 1.0, 2.0, 3.0],
                                                                           dtype=torch.float64))
    torch.testing.assert_close(scores.knn_radii(points, 2), torch.tensor([3.0, 2.0, 3.0, 5.0],
                                                                           dtype=torch.float64))
    with pytest.raises(ValueError, match="k must be"):
        scores.knn_radii(points, 4)


def test_hand_computed_example():
    real = torch.arange(5.0).reshape(5, 1)  # k = 1: every radius is 1
    fake = torch.tensor([[0.5], [10.0]])  # 0.5 lies in the balls of 0 and 1; 10 in none
    assert scores.density_coverage(real, fake, k=1) == pytest.approx((2 / 2, 2 / 5))
    # precision 1/2; recall 1: the outlier's ball (radius 9.5) swallows every real point,
    # the weakness of recall that coverage fixes
    assert scores.precision_recall(real, fake, k=1) == pytest.approx((0.5, 1.0))


@pytest.mark.parametrize("d", [2, 64])
def test_identical_sets_score_one(d):
    x = torch.randn(1000, d, generator=gen(d)) * 3 + 5
    assert scores.precision_recall(x, x, k=3) == (1.0, 1.0)
    density, coverage = scores.density_coverage(x, x, k=5)
    assert coverage == 1.0
    assert density == pytest.approx(6 / 5, abs=1e-12)  # each ball holds its centre and 5 neighbours


def test_independent_samples_of_one_distribution_score_about_one():
    real, fake = torch.randn(2000, 4, generator=gen(0)), torch.randn(2000, 4, generator=gen(1))
    precision, recall = scores.precision_recall(real, fake)
    density, coverage = scores.density_coverage(real, fake)
    assert precision > 0.9 and recall > 0.9 and coverage > 0.9
    assert density == pytest.approx(1.0, abs=0.1)


def test_disjoint_sets_score_zero():
    real = torch.randn(500, 8, generator=gen(2))
    fake = torch.randn(500, 8, generator=gen(3)) + 100
    assert scores.precision_recall(real, fake) == (0.0, 0.0)
    assert scores.density_coverage(real, fake) == (0.0, 0.0)


def test_mode_dropping_lowers_recall_and_coverage_but_not_precision():
    g = gen(4)
    centres = torch.tensor([[-20.0, 0.0], [20.0, 0.0]])
    real = torch.randn(2000, 2, generator=g) + centres[torch.arange(2000) % 2]
    fake = torch.randn(1000, 2, generator=g) + centres[0]  # only the left mode
    precision, recall = scores.precision_recall(real, fake)
    density, coverage = scores.density_coverage(real, fake)
    assert precision > 0.9 and abs(recall - 0.5) < 0.05 and abs(coverage - 0.5) < 0.05
    assert density > 0.8


# ---- Parzen window ------------------------------------------------------------------------------


def test_parzen_with_one_center_is_a_gaussian_log_density():
    x = torch.randn(7, 3, generator=gen(0))
    center = torch.randn(1, 3, generator=gen(1))
    for sigma in (0.5, 2.0):
        expected = torch.distributions.Normal(center, sigma).log_prob(x).sum(1).mean()
        mean, sem = scores.parzen_log_likelihood(x, center, sigma)
        assert mean.shape == (1,) and float(mean[0]) == pytest.approx(float(expected), rel=1e-6)


def test_parzen_estimate_approaches_the_true_log_likelihood_as_n_grows():
    x_valid = torch.randn(1000, 1, generator=gen(2))
    x_test = torch.randn(1000, 1, generator=gen(3))
    true = torch.distributions.Normal(0.0, 1.0).log_prob(x_test).mean().item()  # same test points
    sigmas = np.logspace(-1.5, 0.5, 15)
    errors = []
    for n in (30, 300, 3000):
        centers = torch.randn(n, 1, generator=gen(n))
        errors.append(abs(scores.parzen_score(centers, x_valid, x_test, sigmas)["ll"] - true))
    assert errors[0] > errors[2] and errors[1] > errors[2]
    assert errors[2] < 0.02


def test_parzen_score_picks_sigma_on_validation():
    centers = torch.randn(500, 2, generator=gen(4))
    x_valid, x_test = torch.randn(300, 2, generator=gen(5)), torch.randn(300, 2, generator=gen(6))
    sigmas = [0.05, 0.3, 3.0]
    result = scores.parzen_score(centers, x_valid, x_test, sigmas)
    valid, _ = scores.parzen_log_likelihood(x_valid, centers, sigmas)
    assert result["sigma"] == 0.3 and result["valid_ll"] == pytest.approx(float(valid.max()))
    with pytest.raises(ValueError, match="dimensions"):
        scores.parzen_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 4), 1.0)


# ---- exercise checkers (notebook 10) ------------------------------------------------------------


def not_attempted(*args):
    raise NotImplementedError


def correct_is(probs):
    marginal = probs.mean(0, keepdim=True)
    kl = (probs * (torch.log(probs + 1e-30) - torch.log(marginal + 1e-30))).sum(1)
    return kl.mean().exp()


@pytest.mark.parametrize("wrong", [
    lambda p: correct_is(p).log(),  # forgot exp
    lambda p: (p.mean(0, keepdim=True) * (p.mean(0, keepdim=True).log() - (p + 1e-30).log())
               ).sum(1).mean().exp(),  # KL the wrong way round
    lambda p: torch.tensor(float(p.shape[1])),  # K
])
def test_check_inception_score(wrong):
    assert exercises.check_inception_score(correct_is) is True
    assert exercises.check_inception_score(not_attempted) is False
    with pytest.raises(AssertionError, match="IS for"):
        exercises.check_inception_score(wrong)


@pytest.mark.parametrize("wrong", [
    lambda m1, v1, m2, v2: ((v1 - v2) ** 2).sum() + ((m1 - m2) ** 2).sum(),  # no square roots
    lambda m1, v1, m2, v2: ((v1.sqrt() - v2.sqrt()) ** 2).sum(),  # no mean term
    lambda m1, v1, m2, v2: (m1 - m2).norm() + ((v1.sqrt() - v2.sqrt()) ** 2).sum(),  # not squared
])
def test_check_frechet_diagonal(wrong):
    def correct(m1, v1, m2, v2):
        return ((m1 - m2) ** 2).sum() + ((v1.sqrt() - v2.sqrt()) ** 2).sum()

    assert exercises.check_frechet_diagonal(correct) is True
    assert exercises.check_frechet_diagonal(not_attempted) is False
    with pytest.raises(AssertionError, match="Fréchet distance"):
        exercises.check_frechet_diagonal(wrong)


def coverage_with(radius_index, use_fake_balls=False):
    def coverage(real, fake, k):
        centres = fake if use_fake_balls else real
        queries = real if use_fake_balls else fake
        radii = torch.cdist(centres, centres).sort(1).values[:, radius_index(k)]
        inside = torch.cdist(queries, centres) <= radii
        if use_fake_balls:
            return inside.any(1).float().mean()
        return inside.any(0).float().mean()

    return coverage


@pytest.mark.parametrize("wrong", [
    coverage_with(lambda k: k - 1),  # k-th smallest distance counts the point itself
    coverage_with(lambda k: k, use_fake_balls=True),  # recall-style: balls around the samples
])
def test_check_coverage(wrong):
    assert exercises.check_coverage(coverage_with(lambda k: k)) is True
    assert exercises.check_coverage(not_attempted) is False
    with pytest.raises(AssertionError, match="coverage for"):
        exercises.check_coverage(wrong)


# ---- non-finite features and images (issue 17, item 7) --------------------------------------------


def test_scores_refuse_non_finite_features():
    real = torch.randn(50, 4, generator=gen(0))
    fake = torch.randn(50, 4, generator=gen(1))
    fake[7, 2] = float("nan")
    message = r"generated features should be finite, got 1 NaN and 0 infinite value\(s\) among 200"
    with pytest.raises(ValueError, match=message):  # used to return plausible numbers
        scores.precision_recall(real, fake)
    with pytest.raises(ValueError, match=message):
        scores.density_coverage(real, fake)
    with pytest.raises(ValueError, match=r"features should be finite"):  # used to raise LinAlgError
        scores.fid_from_features(real, fake)
    mu, sigma = scores.gaussian_stats(real)
    with pytest.raises(ValueError, match=r"sigma2 should be finite, got 0 NaN and 4 infinite"):
        scores.frechet_distance(mu, sigma, mu, sigma.index_fill(0, torch.tensor([1]), float("inf")))
