"""VAE and CVAE (notebooks 02-03): known answers for the losses, the estimators and the bounds."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_lib import cvae, exercises, losses, recipe, vae

# ---- the Gaussian KL ------------------------------------------------------------------------------


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(8, 5, generator=g) * 2, torch.randn(8, 5, generator=g)
    reference = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(losses.gaussian_kl(mu, logvar), reference)


def test_gaussian_kl_closed_form_agrees_with_monte_carlo():
    """KL = E_q[log q(z) - log p(z)], estimated with a million samples (float64)."""
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    logvar = torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64)
    n = 1_000_000
    z = mu + (0.5 * logvar).exp() * torch.randn(n, 3, generator=torch.Generator().manual_seed(1),
                                                dtype=torch.float64)
    log_ratio = (losses.gaussian_log_density(z, mu, logvar)
                 - losses.gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)))
    closed = losses.gaussian_kl(mu, logvar).item()
    standard_error = log_ratio.std().item() / math.sqrt(n)
    assert abs(log_ratio.mean().item() - closed) < 4 * standard_error
    assert standard_error < 3e-3 * closed  # the tolerance is tight: 4 standard errors are ~1%


def test_gaussian_kl_zero_only_at_the_prior_and_per_dimension():
    assert torch.equal(losses.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]])
    # 1/2 (1 + 1 - 1 - 0) = 0.5 and 1/2 (0 + 4 - 1 - log 4)
    per_dim = losses.gaussian_kl(mu[..., None], logvar[..., None])
    torch.testing.assert_close(per_dim, torch.tensor([[0.5, 0.5 * (3 - math.log(4.0))]]))
    torch.testing.assert_close(per_dim.sum(-1), losses.gaussian_kl(mu, logvar))
    with pytest.raises(ValueError, match="logvar"):
        losses.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4))


def test_gaussian_log_density_matches_normal():
    g = torch.Generator().manual_seed(2)
    z, mu, logvar = (torch.randn(4, 6, generator=g) for _ in range(3))
    reference = Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    torch.testing.assert_close(losses.gaussian_log_density(z, mu, logvar), reference)


# ---- Bernoulli likelihood and the ELBO -------------------------------------------------------------


def test_bernoulli_log_likelihood_known_values():
    x = (torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(3)) > 0.5).float()
    # logits 0: every pixel has probability 1/2, so log p(x|z) = -784 log 2 for any binary image
    torch.testing.assert_close(losses.bernoulli_log_likelihood(torch.zeros_like(x), x),
                               torch.full((3,), -784 * math.log(2.0)))
    # confident and right: close to 0; agrees with the batch-averaged bce_reconstruction
    logits = (2 * x - 1) * 20
    assert losses.bernoulli_log_likelihood(logits, x).abs().max() < 784 * 3e-9
    logits = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(-losses.bernoulli_log_likelihood(logits, x).mean(),
                               losses.bce_reconstruction(logits, x))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.bernoulli_log_likelihood(logits, x * 2 - 1)


def test_elbo_is_reconstruction_minus_beta_kl():
    g = torch.Generator().manual_seed(4)
    logits, x = torch.randn(2, 1, 28, 28, generator=g), torch.rand(2, 1, 28, 28, generator=g).round()
    mu, logvar = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    rec, kl = losses.bernoulli_log_likelihood(logits, x), losses.gaussian_kl(mu, logvar)
    torch.testing.assert_close(losses.elbo(logits, x, mu, logvar), rec - kl)
    torch.testing.assert_close(losses.elbo(logits, x, mu, logvar, beta=4.0), rec - 4 * kl)


# ---- reparameterization and the gradient estimators ------------------------------------------------


def test_reparameterize_statistics_and_gradients():
    torch.manual_seed(5)
    mu = torch.tensor([[1.0, -2.0]]).repeat(200_000, 1).requires_grad_(True)
    logvar = torch.tensor([[0.0, math.log(0.25)]]).repeat(200_000, 1).requires_grad_(True)
    z = vae.reparameterize(mu, logvar)
    torch.testing.assert_close(z.mean(0), torch.tensor([1.0, -2.0]), atol=0.01, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 0.5]), atol=0.01, rtol=0)
    z.sum().backward()
    assert torch.equal(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    torch.testing.assert_close(logvar.grad, 0.5 * (z - mu).detach())  # dz/dlogvar = sigma eps / 2


def square(z):
    return z.pow(2).sum(-1)


def test_reparameterized_gradient_matches_analytic_gradient():
    """E[sum z^2] = sum (mu^2 + sigma^2): gradient 2 mu and 2 sigma."""
    mu, sigma = torch.tensor([1.0, -0.5, 0.0]), torch.tensor([0.5, 2.0, 1.0])
    g_mu, g_sigma = vae.reparameterized_gradients(square, mu, sigma, 200_000,
                                                  torch.Generator().manual_seed(6))
    assert g_mu.shape == g_sigma.shape == (200_000, 3)
    torch.testing.assert_close(g_mu.mean(0), 2 * mu, atol=0.03, rtol=0)
    torch.testing.assert_close(g_sigma.mean(0), 2 * sigma, atol=0.03, rtol=0)
    # each one-sample estimate of d/dmu is 2 z = 2 (mu + sigma eps): variance exactly 4 sigma^2
    torch.testing.assert_close(g_mu.var(0), 4 * sigma**2, atol=0, rtol=0.02)


def test_reparameterized_gradient_of_a_linear_function_is_exact():
    a = torch.tensor([3.0, -1.0])
    g_mu, g_sigma = vae.reparameterized_gradients(lambda z: z @ a, torch.zeros(2), torch.ones(2), 50)
    assert torch.equal(g_mu, a.expand(50, 2))  # zero variance: every sample gives the gradient
    torch.testing.assert_close(g_sigma.mean(0), torch.zeros(2), atol=0.8, rtol=0)


def test_score_function_is_unbiased_but_far_noisier():
    mu, sigma = torch.tensor([1.0, -0.5]), torch.tensor([1.0, 0.5])
    n = 400_000
    s_mu, s_sigma = vae.score_function_gradients(square, mu, sigma, n, torch.Generator().manual_seed(7))
    r_mu, _ = vae.reparameterized_gradients(square, mu, sigma, n, torch.Generator().manual_seed(7))
    # unbiased: mean within 5 standard errors of the analytic gradient
    torch.testing.assert_close(s_mu.mean(0), 2 * mu, atol=5 * (s_mu.var(0).max() / n) ** 0.5, rtol=0)
    torch.testing.assert_close(s_sigma.mean(0), 2 * sigma, atol=5 * (s_sigma.var(0).max() / n) ** 0.5,
                               rtol=0)
    # 1-D case, mu = sigma = 1, f = z^2 + c: score variance 30 + ..., reparameterized exactly 4
    assert (s_mu.var(0) > 5 * r_mu.var(0)).all()


# ---- the IWAE bound on a model with a known likelihood ---------------------------------------------


def log_normal(v, mean, var):
    """Elementwise log N(v; mean, var) through losses.gaussian_log_density (one dimension)."""
    v, mean = torch.broadcast_tensors(v, torch.as_tensor(mean, dtype=v.dtype))
    return losses.gaussian_log_density(v[..., None], mean[..., None],
                                       torch.full_like(v, math.log(var))[..., None])


def gaussian_toy_log_weights(x, k, q_mean, q_var, noise_var=0.5, seed=0):
    """z ~ N(0, 1), x | z ~ N(z, noise_var), so log p(x) = log N(x; 0, 1 + noise_var) is known.
    Returns (k, N) log weights log p(x|z) + log p(z) - log q(z) with z ~ q = N(q_mean, q_var)."""
    eps = torch.randn(k, len(x), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    z = q_mean + math.sqrt(q_var) * eps
    return log_normal(x, z, noise_var) + log_normal(z, 0.0, 1.0) - log_normal(z, q_mean, q_var)


def test_iwae_bound_on_a_gaussian_model_with_known_log_likelihood():
    x = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    exact = Normal(0.0, math.sqrt(1.5)).log_prob(x)
    # q = the exact posterior N(x / 1.5, 1 / 3): every weight equals p(x), so every bound is exact
    torch.testing.assert_close(losses.iwae_bound(gaussian_toy_log_weights(x, 5, x / 1.5, 1 / 3)), exact)
    # q = the prior N(0, 1), a poor proposal: ELBO < L_5 < L_50 < log p(x) (fixed seed; the mean of
    # 2000 independent bounds per x), and L_k -> log p(x) as k grows
    n = 20_000
    bounds = [losses.iwae_bound(gaussian_toy_log_weights(x.repeat(n), k, 0.0, 1.0, seed=k)).view(n, 3)
              for k in (1, 5, 50)]
    means = [b.mean(0) for b in bounds]
    assert (means[0] < means[1]).all() and (means[1] < means[2]).all() and (means[2] < exact).all()
    elbo = -0.5 * math.log(2 * math.pi * 0.5) - (x**2 + 1) / (2 * 0.5)  # E_prior[log N(x; z, 0.5)]
    standard_error = bounds[0].std(0) / math.sqrt(n)
    assert ((means[0] - elbo).abs() < 4 * standard_error).all()
    many = losses.iwae_bound(gaussian_toy_log_weights(x, 100_000, 0.0, 1.0, seed=9))
    torch.testing.assert_close(many, exact, atol=0.01, rtol=0)


def test_iwae_bound_is_log_mean_exp_and_stable():
    w = torch.tensor([[0.0, -1000.0], [math.log(3.0), -1000.0 + math.log(3.0)]])
    torch.testing.assert_close(losses.iwae_bound(w), torch.tensor([math.log(2.0), -1000 + math.log(2.0)]))
    torch.testing.assert_close(losses.iwae_bound(w[:1]), w[0])  # k = 1: the log weight itself
    with pytest.raises(ValueError, match=r"\(S samples, batch\)"):
        losses.iwae_bound(torch.zeros(3))


# ---- the VAE model and its evaluation ---------------------------------------------------------------


def binary_images(n=64, seed=0):
    """Binary images, each a noisy copy (5% of pixels flipped) of one of 3 fixed random patterns."""
    g = torch.Generator().manual_seed(seed)
    patterns = (torch.rand(3, 1, 28, 28, generator=g) > 0.5).float() * 0.9 + 0.05
    return vae.binarize(patterns[torch.randint(3, (n,), generator=g)], generator=g)


@pytest.mark.parametrize("arch", vae.ARCHITECTURES)
def test_make_vae_shapes(arch):
    torch.manual_seed(0)
    model = vae.make_vae(arch, latent_dim=3)
    x = binary_images(5)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 3)
    logits, mu2, _ = model(x)
    assert logits.shape == x.shape and torch.equal(mu, mu2)
    assert vae.decode_mean(model, torch.zeros(2, 3)).shape == (2, 1, 28, 28)


def test_make_vae_unknown_architecture_and_labels_for_an_unconditional_vae():
    with pytest.raises(ValueError, match="resnet.*'mlp', 'conv'"):
        vae.make_vae("resnet")
    with pytest.raises(ValueError, match="unconditional"):
        vae.elbo_per_image(vae.make_vae("mlp", 2), binary_images(2), torch.tensor([0, 1]))


def test_elbo_below_iwae_bounds_which_tighten_with_k():
    torch.manual_seed(0)
    model = vae.make_vae("mlp", latent_dim=4).eval()
    with torch.no_grad():  # a decoder that depends strongly on z, so q(z|x) is far from p(z|x)
        model.decoder[1].weight.mul_(10)
    x = binary_images(64)
    torch.manual_seed(1)
    elbo = vae.elbo_per_image(model, x).mean()
    bounds = []
    for k in (1, 5, 50):
        torch.manual_seed(2)
        bounds.append(vae.iwae_per_image(model, x, k).mean())
    assert elbo < bounds[1] < bounds[2]
    assert bounds[0] < bounds[1]
    # E[log w] = ELBO: the mean of many log weights agrees with the exact-KL ELBO
    torch.manual_seed(3)
    log_w = vae.iwae_log_weights(model, x[:8], 4000)
    elbos = torch.stack([vae.elbo_per_image(model, x[:8]) for _ in range(400)])
    standard_error = (log_w.var(0) / 4000 + elbos.var(0) / 400).sqrt()
    assert ((log_w.mean(0) - elbos.mean(0)).abs() < 4 * standard_error).all()
    with pytest.raises(ValueError, match="at least 1"):
        vae.iwae_log_weights(model, x, 0)


def test_iwae_log_weights_exact_with_the_sampling_noise_removed(monkeypatch):
    """With z = mu (no noise) each log weight is log p(x|mu) + log p(mu) - log q(mu|x): check the
    batching and, for a conditional VAE, that every sample is decoded under its image's label."""
    torch.manual_seed(0)
    model = cvae.make_cvae(10, arch="mlp", latent_dim=2).eval()
    x, y = binary_images(7), torch.tensor([3, 1, 4, 1, 5, 9, 2])
    monkeypatch.setattr(vae, "reparameterize", lambda mu, logvar: mu)
    with torch.no_grad():
        mu, logvar = model.encode(x, y)
        expected = (losses.bernoulli_log_likelihood(model.decode(mu, y), x)
                    + losses.gaussian_log_density(mu, torch.zeros_like(mu), torch.zeros_like(mu))
                    - losses.gaussian_log_density(mu, mu, logvar))
    for batch_size in (7, 3, 1):
        log_w = vae.iwae_log_weights(model, x, 4, y, batch_size=batch_size)
        assert log_w.shape == (4, 7)
        torch.testing.assert_close(log_w, expected.expand(4, 7))


def test_binarize():
    x = torch.full((2000, 1, 28, 28), 0.3)
    b = vae.binarize(x, generator=torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) == {0.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 0.005
    assert torch.equal(b, vae.binarize(x, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(vae.binarize(torch.ones(3, 4)), torch.ones(3, 4))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.binarize(x - 1)


def test_vae_step_returns_the_pre_step_loss_and_training_lowers_it():
    torch.manual_seed(0)
    model = vae.make_vae("mlp", latent_dim=2)
    x = binary_images(128)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the step must not change the model
    torch.manual_seed(5)
    out = vae.vae_step(model, optimizer, x, beta=2.0, dynamic_binarization=False)
    torch.manual_seed(5)
    logits, mu, logvar = model(x)
    expected_rec = -losses.bernoulli_log_likelihood(logits, x).mean()
    torch.testing.assert_close(out["reconstruction"], expected_rec)
    torch.testing.assert_close(out["loss"], expected_rec + 2.0 * losses.gaussian_kl(mu, logvar).mean())
    data = recipe.RunData("binary", x)
    config = recipe.make_config(vae.VAEConfig, {"arch": "mlp", "latent_dim": 2}, data, steps=60,
                                batch_size=32, lr=3e-3)
    _, meta = recipe.train(vae.RECIPE, config, data, "cpu", built=({"model": model}, None),
                           progress=False)
    history = meta["history"]
    assert set(history) == {"loss", "reconstruction", "kl", "seconds"} and len(history["loss"]) == 60
    assert sum(history["loss"][-10:]) < 0.8 * sum(history["loss"][:10])
    assert not model.training


def test_latent_grid_and_interpolate():
    grid = vae.latent_grid(5, quantile=0.1)
    assert grid.shape == (25, 2)
    top_left, bottom_right = grid[0], grid[-1]
    assert top_left[0] < 0 < top_left[1] and bottom_right[0] > 0 > bottom_right[1]
    torch.testing.assert_close(grid.max(), torch.tensor(Normal(0.0, 1.0).icdf(torch.tensor(0.9)).item()))
    path = vae.interpolate(torch.zeros(3), torch.ones(3) * 2, steps=5)
    torch.testing.assert_close(path[:, 0], torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0]))


# ---- the conditional VAE ------------------------------------------------------------------------------


@pytest.fixture
def small_cvae():
    torch.manual_seed(0)
    return cvae.make_cvae(10, arch="mlp", latent_dim=3).eval()


def test_same_z_under_different_labels_gives_different_images(small_cvae):
    z = torch.randn(1, 3).repeat(10, 1)
    images = vae.decode_mean(small_cvae, z, torch.arange(10))
    differences = (images[:, None] - images[None]).abs().flatten(2).amax(2)
    off_diagonal = differences[~torch.eye(10, dtype=torch.bool)]
    assert (off_diagonal > 1e-4).all()
    # ...and the same (z, y) gives the same image
    torch.testing.assert_close(vae.decode_mean(small_cvae, z[:2], torch.tensor([4, 4])),
                               images[[4, 4]])


@pytest.mark.parametrize("labels", [[0, 10], [-1, 3]])
def test_label_out_of_range_is_a_clear_error(small_cvae, labels):
    with pytest.raises(ValueError, match=r"out of range.*10 classes, labels 0 to 9"):
        small_cvae.decode(torch.zeros(2, 3), torch.tensor(labels))
    with pytest.raises(ValueError, match="out of range"):
        small_cvae.encode(torch.zeros(2, 1, 28, 28), torch.tensor(labels))


def test_bad_labels_are_clear_errors(small_cvae):
    with pytest.raises(ValueError, match="integers"):
        small_cvae.decode(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="2 images or codes but 3 labels"):
        small_cvae.decode(torch.zeros(2, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="conditional VAE: pass the class labels"):
        vae.elbo_per_image(small_cvae, torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="Unknown CVAE architecture"):
        cvae.make_cvae(10, arch="gan")
    torch.testing.assert_close(cvae.one_hot(torch.tensor([2, 0]), 3),
                               torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))


def test_class_grid_and_style_transfer_layout(small_cvae):
    z = torch.randn(2, 3)
    grid = cvae.class_grid(small_cvae, z)
    assert grid.shape == (20, 1, 28, 28)
    torch.testing.assert_close(grid[13], vae.decode_mean(small_cvae, z[1:2], torch.tensor([3]))[0])
    x, y = binary_images(2), torch.tensor([5, 7])
    mu, _ = small_cvae.encode(x, y)
    transferred = cvae.transfer_style(small_cvae, x, y)
    torch.testing.assert_close(transferred[10 + 2], vae.decode_mean(small_cvae, mu[1:2], torch.tensor([2]))[0])


def test_elbo_per_class_and_cvae_training(small_cvae):
    x = binary_images(64)
    y = torch.arange(64) % 10
    table = cvae.elbo_per_class(small_cvae, x[:4])
    assert table.shape == (4, 10) and torch.isfinite(table).all()
    data = recipe.RunData("binary", x, y)
    config = recipe.make_config(vae.VAEConfig, {"arch": "mlp", "latent_dim": 2, "n_classes": 10},
                                data, steps=40, batch_size=32, lr=3e-3)
    _, meta = recipe.train(cvae.RECIPE, config, data, "cpu", built=({"model": small_cvae}, None),
                           progress=False)
    history = meta["history"]
    assert sum(history["loss"][-5:]) < sum(history["loss"][:5])


# ---- exercise checkers (notebooks 02 and 03) ------------------------------------------------------


def not_attempted(*args):
    raise NotImplementedError


def test_check_gaussian_kl():
    assert exercises.check_gaussian_kl(losses.gaussian_kl) is True
    assert exercises.check_gaussian_kl(not_attempted) is False
    for wrong in (lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(-1),  # forgot the 1/2
                  lambda mu, lv: 0.5 * (mu**2 + (2 * lv).exp() - 1 - 2 * lv).sum(-1),  # lv as log std
                  lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum()):  # summed over the batch
        with pytest.raises(AssertionError, match="KL"):
            exercises.check_gaussian_kl(wrong)


def test_check_reparameterize():
    assert exercises.check_reparameterize(vae.reparameterize) is True
    assert exercises.check_reparameterize(not_attempted) is False
    with pytest.raises(AssertionError, match="standard deviation"):  # exp(logvar) used as sigma
        exercises.check_reparameterize(lambda mu, lv: mu + lv.exp() * torch.randn_like(mu))
    with pytest.raises(AssertionError, match="no gradient"):  # not reparameterized
        exercises.check_reparameterize(lambda mu, lv: torch.normal(mu, (0.5 * lv).exp()).detach())


def test_check_iwae_bound():
    assert exercises.check_iwae_bound(losses.iwae_bound) is True
    assert exercises.check_iwae_bound(not_attempted) is False
    with pytest.raises(AssertionError, match="non-finite"):  # naive: underflows at -1000
        exercises.check_iwae_bound(lambda w: w.exp().mean(0).log())
    with pytest.raises(AssertionError, match="L_S"):  # forgot - log S
        exercises.check_iwae_bound(lambda w: w.logsumexp(0))


def test_check_condition_input():
    assert exercises.check_condition_input(lambda z, y, k: torch.cat([z, cvae.one_hot(y, k)], 1))
    assert exercises.check_condition_input(not_attempted) is False
    with pytest.raises(AssertionError, match="expected a ValueError"):  # torch's RuntimeError
        exercises.check_condition_input(
            lambda z, y, k: torch.cat([z, torch.nn.functional.one_hot(y, k).float()], 1))
    with pytest.raises(AssertionError, match="conditioned input"):
        exercises.check_condition_input(lambda z, y, k: torch.cat([cvae.one_hot(y, k), z], 1))


def test_check_class_posterior():
    def right(elbos, log_prior):
        joint = elbos + log_prior
        return joint - joint.logsumexp(1, keepdim=True)

    assert exercises.check_class_posterior(right) is True
    assert exercises.check_class_posterior(not_attempted) is False
    with pytest.raises(AssertionError, match="non-finite"):  # exp(-300) underflows in float32
        exercises.check_class_posterior(
            lambda e, lp: ((e + lp).exp() / (e + lp).exp().sum(1, keepdim=True)).log())
    with pytest.raises(AssertionError, match="log p"):  # ignored the prior
        exercises.check_class_posterior(lambda e, lp: e - e.logsumexp(1, keepdim=True))


def test_check_transfer_style():
    def right(model, x, y_source, y_target):
        return vae.decode_mean(model, model.encode(x, y_source)[0], y_target)

    assert exercises.check_transfer_style(right) is True
    assert exercises.check_transfer_style(not_attempted) is False
    with pytest.raises(AssertionError, match="transferred"):  # encoded with the target label
        exercises.check_transfer_style(
            lambda m, x, ys, yt: vae.decode_mean(m, m.encode(x, yt)[0], yt))


# ---- checkpoints: what notebook 10 needs ------------------------------------------------------------


def test_load_or_train_saves_time_and_config_then_loads(isolated_course_env):
    from course_lib import checkpoints, data

    x = binary_images(64)
    ds = data.ImageData(name="toy", classes=[str(c) for c in range(10)], x_train=x,
                        y_train=torch.arange(64) % 10, x_test=x[:8], y_test=torch.arange(8), scale="unit")
    settings = dict(steps=5, batch_size=16, lr=1e-3, progress=False)
    model, meta = cvae.load_or_train_cvae("mlp", 2, ds, "smoke", "cpu", **settings)
    (path,) = checkpoints.saved("cvae-mlp-2-toy-smoke")
    assert path.parent == isolated_course_env["checkpoints"] and path.is_file()
    assert meta["seconds"] == meta["history"]["seconds"][-1] > 0
    assert meta["config"] == dict(arch="mlp", latent_dim=2, n_classes=10, steps=5, batch_size=16, lr=1e-3,
                                  beta=1.0, seed=0, train_size=64, dataset="toy", schedule="smoke",
                                  data=recipe.fingerprint(x), max_seconds=None)
    fresh, again = cvae.load_or_train_cvae("mlp", 2, ds, "smoke", "cpu", **settings)  # loads
    assert again["seconds"] == meta["seconds"] and not fresh.training
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(a, b)
