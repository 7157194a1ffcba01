"""The derivation and prediction exercises of notebooks 00-03: each checker accepts the closed form,
rejects typical wrong derivations with an AssertionError, and reports a stub as not attempted."""

import math

import pytest
import torch

from course_lib import exercises


def not_attempted(*args):
    raise NotImplementedError


def entropy_nats(f):
    return -(f * math.log(f) + (1 - f) * math.log(1 - f))


# ---- exercise 00.1: one probability shared by every pixel ---------------------------------------


def test_shared_pixel_nll_correct(capsys):
    assert exercises.check_shared_pixel_nll(lambda f, d: d * entropy_nats(f)) is True
    assert "correct" in capsys.readouterr().out


def test_shared_pixel_nll_fair_coin_is_d_log_2():
    """The reference itself: f = 1/2 gives the fair coin of notebook 00's check cell."""
    assert math.isclose(784 * entropy_nats(0.5), 784 * math.log(2))


@pytest.mark.parametrize("wrong", [
    lambda f, d: d * entropy_nats(f) / math.log(2),  # bits, not nats
    lambda f, d: entropy_nats(f),  # per pixel, not per image
    lambda f, d: -d * f * math.log(f),  # only the pixels that are on
])
def test_shared_pixel_nll_wrong(wrong):
    with pytest.raises(AssertionError, match="NLL per image"):
        exercises.check_shared_pixel_nll(wrong)


def test_shared_pixel_nll_not_attempted(capsys):
    assert exercises.check_shared_pixel_nll(not_attempted) is False
    assert "Not attempted yet" in capsys.readouterr().out


# ---- exercise 00.2: the forward-KL Gaussian of a mixture is moment matching -----------------------


def moment_matching(weights, means, stds):
    m = (weights * means).sum()
    return m, ((weights * (stds**2 + (means - m) ** 2)).sum()).sqrt()


def test_forward_kl_gaussian_correct(capsys):
    assert exercises.check_forward_kl_gaussian(moment_matching) is True
    assert "correct" in capsys.readouterr().out


def test_forward_kl_gaussian_agrees_with_a_numerical_minimum():
    """Independent of the closed form: minimise the forward KL over (m, log s) by gradient descent,
    for the notebook's mixture, on a grid of x."""
    weights = torch.tensor([0.3, 0.7], dtype=torch.float64)
    means = torch.tensor([-2.0, 2.0], dtype=torch.float64)
    stds = torch.tensor([0.6, 0.6], dtype=torch.float64)
    xs = torch.linspace(-12, 12, 4001, dtype=torch.float64)
    p = (weights * torch.distributions.Normal(means, stds).log_prob(xs[:, None]).exp()).sum(1)
    m, log_s = torch.zeros((), dtype=torch.float64, requires_grad=True), \
        torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([m, log_s], lr=0.05)
    for _ in range(1500):
        cross_entropy = -(p * torch.distributions.Normal(m, log_s.exp()).log_prob(xs)).sum() * (xs[1] - xs[0])
        optimizer.zero_grad()
        cross_entropy.backward()
        optimizer.step()
    closed_m, closed_s = moment_matching(weights, means, stds)
    assert abs(m.item() - closed_m.item()) < 1e-3 and abs(log_s.exp().item() - closed_s.item()) < 1e-3


@pytest.mark.parametrize("wrong", [
    lambda w, mu, s: ((w * mu).sum(), (w * s).sum()),  # ignores the spread between the modes
    lambda w, mu, s: (mu[w.argmax()], s[w.argmax()]),  # the heavier mode: what reverse KL picks
    lambda w, mu, s: ((w * mu).sum(), moment_matching(w, mu, s)[1] ** 2),  # the variance, not s
    lambda w, mu, s: (mu.mean(), moment_matching(w, mu, s)[1]),  # unweighted mean
])
def test_forward_kl_gaussian_wrong(wrong):
    with pytest.raises(AssertionError, match="mixture|two numbers"):
        exercises.check_forward_kl_gaussian(wrong)


def test_forward_kl_gaussian_says_when_it_got_the_variance():
    with pytest.raises(AssertionError, match="variance"):
        exercises.check_forward_kl_gaussian(lambda w, mu, s: (moment_matching(w, mu, s)[0],
                                                               moment_matching(w, mu, s)[1] ** 2))


def test_forward_kl_gaussian_not_attempted():
    assert exercises.check_forward_kl_gaussian(not_attempted) is False


# ---- exercise 01.5: PCA error of a 2 x 2 covariance in closed form --------------------------------


def test_pca_error_2x2_correct(capsys):
    assert exercises.check_pca_error_2x2(
        lambda a, b, c: (a + c) / 2 - math.sqrt(((a - c) / 2) ** 2 + b**2)) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda a, b, c: (a + c) / 2 + math.sqrt(((a - c) / 2) ** 2 + b**2),  # the kept eigenvalue
    lambda a, b, c: min(a, c),  # ignores the covariance b
    lambda a, b, c: (a + c) / 2 - math.sqrt(((a - c) / 2) ** 2 + abs(b)),  # b not squared
])
def test_pca_error_2x2_wrong(wrong):
    with pytest.raises(AssertionError, match="error for a="):
        exercises.check_pca_error_2x2(wrong)


def test_pca_error_2x2_not_attempted():
    assert exercises.check_pca_error_2x2(not_attempted) is False


# ---- exercise 02.5: the toy model's ELBO in closed form -------------------------------------------


def closed_form_elbo(x, s2, m, v):
    reconstruction = -0.5 * math.log(2 * math.pi * s2) - ((x - m) ** 2 + v) / (2 * s2)
    return reconstruction - 0.5 * (m**2 + v - 1 - math.log(v))


def test_toy_elbo_correct(capsys):
    assert exercises.check_toy_elbo(closed_form_elbo) is True
    assert "correct" in capsys.readouterr().out


def test_toy_elbo_is_log_px_at_the_true_posterior():
    """The reference's sanity: with q the posterior N(x / (1 + s2), s2 / (1 + s2)) the bound is exact."""
    x, s2 = 1.2, 0.5
    log_px = torch.distributions.Normal(0.0, math.sqrt(1 + s2)).log_prob(torch.tensor(x)).item()
    assert math.isclose(closed_form_elbo(x, s2, x / (1 + s2), s2 / (1 + s2)), log_px, abs_tol=1e-6)


def test_toy_elbo_agrees_with_monte_carlo():
    g = torch.Generator().manual_seed(0)
    x, s2, m, v = -0.7, 2.0, 0.3, 0.2
    z = m + math.sqrt(v) * torch.randn(400_000, generator=g, dtype=torch.float64)
    normal = torch.distributions.Normal
    log_w = (normal(z, math.sqrt(s2)).log_prob(torch.tensor(x, dtype=torch.float64))
             + normal(0.0, 1.0).log_prob(z) - normal(m, math.sqrt(v)).log_prob(z))
    assert abs(log_w.mean().item() - closed_form_elbo(x, s2, m, v)) < 4 * log_w.std().item() / 400_000**0.5


@pytest.mark.parametrize("wrong", [
    lambda x, s2, m, v: closed_form_elbo(x, s2, m, v) + v / (2 * s2),  # forgot the guess's variance
    lambda x, s2, m, v: closed_form_elbo(x, s2, m, v) + 2 * 0.5 * (m**2 + v - 1 - math.log(v)),  # +KL
    lambda x, s2, m, v: closed_form_elbo(x, s2, m, math.sqrt(v)),  # standard deviation for variance
])
def test_toy_elbo_wrong(wrong):
    with pytest.raises(AssertionError, match="ELBO for x="):
        exercises.check_toy_elbo(wrong)


def test_toy_elbo_not_attempted():
    assert exercises.check_toy_elbo(not_attempted) is False


# ---- exercise 03.5: how much a label lowers the NLL ---------------------------------------------


def test_nll_given_label_correct(capsys):
    assert exercises.check_nll_given_label(lambda nll, p, K: nll - math.log(K) - math.log(p)) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda nll, p, K: nll - math.log(K),  # the bound of section 1, taken as exact
    lambda nll, p, K: nll + math.log(K) + math.log(p),  # signs flipped
    lambda nll, p, K: nll - math.log(p),  # forgot the prior p(y) = 1/K
])
def test_nll_given_label_wrong(wrong):
    with pytest.raises(AssertionError, match=r"-log p\(x \| y\)"):
        exercises.check_nll_given_label(wrong)


def test_nll_given_label_not_attempted():
    assert exercises.check_nll_given_label(not_attempted) is False
