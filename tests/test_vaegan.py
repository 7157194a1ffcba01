"""The VAE-GAN recipe (notebook 14, part 1): the three losses, which network each one updates,
shapes, the sharpness measure and a tiny training round trip through the loader."""

import copy
import math

import pytest
import torch

from course_lib import checkpoints, losses, recipe, vaegan


def tiny_networks(seed=0):
    torch.manual_seed(seed)
    modules = vaegan.make_vaegan(latent_dim=4)
    return modules["vae"], modules["discriminator"]


def images(n=6, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# ---- the losses ------------------------------------------------------------------------------


def test_feature_likelihood_is_zero_for_identical_features():
    f = torch.randn(5, 12)
    assert vaegan.feature_likelihood_loss(f, f.clone()).item() == 0.0


def test_feature_likelihood_hand_value():
    real = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    rec = torch.tensor([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]])
    # image 1: 1/2 (1 + 4) = 2.5; image 2: 1/2 (9 + 16) = 12.5; batch mean 7.5
    assert vaegan.feature_likelihood_loss(real, rec).item() == pytest.approx(7.5)
    # it is -log N(Dis_l(x); Dis_l(x~), I) less the constant (d_l / 2) log 2 pi
    gaussian = -losses.gaussian_log_density(real, rec, torch.zeros_like(rec)).mean()
    assert gaussian.item() == pytest.approx(7.5 + 3 / 2 * math.log(2 * math.pi))
    with pytest.raises(ValueError, match="same shape"):
        vaegan.feature_likelihood_loss(real, rec[:, :2])


def test_prior_loss_is_the_closed_form_kl():
    mu, sigma = torch.tensor([[1.0, 0.0], [0.0, -2.0]]), torch.tensor([[1.0, 2.0], [0.5, 1.0]])
    logvar = 2 * sigma.log()
    # 1/2 (mu^2 + sigma^2 - 1 - log sigma^2): row 1: 1/2 (1) + 1/2 (4 - 1 - log 4); row 2: ...
    row1 = 0.5 * 1.0 + 0.5 * (4 - 1 - math.log(4))
    row2 = 0.5 * (0.25 - 1 - math.log(0.25)) + 0.5 * 4.0
    assert vaegan.prior_loss(mu, logvar).item() == pytest.approx((row1 + row2) / 2, rel=1e-6)
    assert vaegan.prior_loss(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0


def test_gan_losses_at_zero_logits():
    zero = torch.zeros(4)
    d_loss, g_loss = vaegan.gan_losses(zero, zero, zero)
    assert d_loss.item() == pytest.approx(3 * math.log(2))  # three cross-entropies of a coin
    assert g_loss.item() == pytest.approx(2 * math.log(2))  # two kinds of fakes
    d_sure, g_fooled = vaegan.gan_losses(torch.full((4,), 30.0), torch.full((4,), -30.0),
                                         torch.full((4,), -30.0))
    assert d_sure.item() < 1e-10 and g_fooled.item() == pytest.approx(60.0, rel=1e-6)


def test_network_objectives_assign_the_papers_losses():
    terms = {"prior": torch.tensor(2.0), "llike": torch.tensor(10.0), "d_gan": torch.tensor(1.5),
             "g_gan": torch.tensor(3.0)}
    got = vaegan.network_objectives(terms, gamma=0.1, beta=0.5)
    assert got["encoder"].item() == pytest.approx(0.5 * 2 + 10)
    assert got["decoder"].item() == pytest.approx(0.1 * 10 + 3)
    assert got["discriminator"].item() == pytest.approx(1.5)


# ---- each loss updates only the networks it should ------------------------------------------------


def gradient(loss, network):
    return torch.autograd.grad(loss, list(network.parameters()), retain_graph=True, allow_unused=True)


def nonzero(grads):
    return any(g is not None and g.abs().sum() > 0 for g in grads)


def test_each_loss_reaches_more_networks_than_it_may_update():
    """The hazard the step avoids: L_llike and L_GAN do have gradients in networks they must not
    update (llike in D through Dis_l, the decoder's GAN side in D), and L_prior reaches only E."""
    model, discriminator = tiny_networks()
    terms = vaegan.loss_terms(model, discriminator, images())
    nets = vaegan.networks_of(model, discriminator)
    reach = {term: {name for name, net in nets.items() if nonzero(gradient(terms[term], net))}
             for term in ("prior", "llike", "d_gan", "g_gan")}
    assert reach["prior"] == {"encoder"}
    assert reach["llike"] == {"encoder", "decoder", "discriminator"}
    assert reach["d_gan"] == {"encoder", "decoder", "discriminator"}
    assert reach["g_gan"] == {"encoder", "decoder", "discriminator"}


def step_once(gamma=0.1, beta=1.0, seed=0):
    """One vaegan_step from the same weights and random numbers; returns the gradients applied
    (a copy of every .grad, per network) and the weights after the step."""
    model, discriminator = tiny_networks()
    nets = vaegan.networks_of(model, discriminator)
    optimizers = {name: torch.optim.SGD(net.parameters(), lr=0.1) for name, net in nets.items()}
    torch.manual_seed(seed)
    vaegan.vaegan_step(model, discriminator, optimizers, images(), gamma, beta)
    grads = {name: [p.grad.clone() for p in net.parameters()] for name, net in nets.items()}
    weights = {name: copy.deepcopy(net.state_dict()) for name, net in nets.items()}
    return grads, weights


def same(a, b):
    return all(torch.equal(u, v) for u, v in zip(a, b))


def test_each_network_gets_exactly_the_gradient_of_its_own_objective():
    grads, _ = step_once(gamma=0.1, beta=1.0)
    model, discriminator = tiny_networks()
    torch.manual_seed(0)
    terms = vaegan.loss_terms(model, discriminator, images())  # the same forward pass
    nets = vaegan.networks_of(model, discriminator)
    expected = {"encoder": terms["prior"] + terms["llike"],
                "decoder": 0.1 * terms["llike"] + terms["g_gan"],
                "discriminator": terms["d_gan"]}
    for name, loss in expected.items():
        for got, want in zip(grads[name], gradient(loss, nets[name])):
            assert torch.allclose(got, want, atol=1e-6), name
    # ... and not with any other term that reaches it (L_prior does not reach the decoder or D)
    for name, extra in (("encoder", "g_gan"), ("encoder", "d_gan"), ("decoder", "d_gan"),
                        ("discriminator", "llike"), ("discriminator", "g_gan")):
        wrong = gradient(expected[name] + terms[extra], nets[name])
        assert not all(torch.allclose(g, w, atol=1e-6) for g, w in zip(grads[name], wrong)
                       if w is not None), (name, extra)


def test_gamma_moves_only_the_decoder_and_beta_only_the_encoder():
    base_grads, base = step_once(gamma=0.1, beta=1.0)
    for changed, settings in (("decoder", dict(gamma=5.0, beta=1.0)),
                              ("encoder", dict(gamma=0.1, beta=3.0))):
        grads, weights = step_once(**settings)
        for name in vaegan.NETWORKS:
            unchanged = same(grads[name], base_grads[name]) and same(weights[name].values(),
                                                                     base[name].values())
            assert unchanged == (name != changed), (settings, name)


# ---- shapes, pictures, sharpness -----------------------------------------------------------------


def test_shapes_and_ranges():
    model, discriminator = tiny_networks()
    x = images(5)
    x_rec, mu, logvar = model(x)
    assert x_rec.shape == x.shape and mu.shape == logvar.shape == (5, 4)
    assert x_rec.min() >= -1 and x_rec.max() <= 1
    assert discriminator(x).shape == (5,) and discriminator.features(x).shape == (5, 64 * 7 * 7)
    assert vaegan.reconstruct(model, x).shape == x.shape
    s = vaegan.sample(model, 7, torch.Generator().manual_seed(0))
    assert s.shape == (7, 1, 28, 28) and model.training  # the mode is restored


def test_features_do_not_depend_on_the_rest_of_the_batch():
    _, discriminator = tiny_networks()
    x = images(6)
    assert torch.allclose(discriminator.features(x)[:2], discriminator.features(x[:2]), atol=1e-5)


def test_sharpness():
    flat = torch.full((2, 1, 8, 8), 0.5)
    assert vaegan.sharpness(flat) == 0.0
    stripes = torch.zeros(1, 1, 8, 8)
    stripes[..., ::2] = 1.0  # every horizontal neighbour differs by 1, vertical ones by 0
    assert vaegan.sharpness(stripes) == pytest.approx(1.0)
    blurred = torch.nn.functional.avg_pool2d(stripes, 3, 1, 1)
    assert vaegan.sharpness(blurred) < vaegan.sharpness(stripes)


# ---- the recipe ---------------------------------------------------------------------------------


def test_load_or_train_round_trip():
    x = images(64)
    kwargs = dict(steps=3, batch_size=16, snapshots=2, progress=False, latent_dim=4)
    model, discriminator, meta = vaegan.load_or_train_vaegan(x, "toy-data", "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("vaegan-toy-data-smoke")) == 1
    assert meta["steps"] == 3 and meta["config"]["gamma"] == vaegan.DEFAULTS["smoke"]["gamma"]
    assert set(meta["history"]) >= {"d_loss", "g_loss", "prior", "llike"}
    assert meta["snapshots"]["images"].shape[1:] == (64, 1, 28, 28)
    assert not model.training and not discriminator.training
    model2, discriminator2, _ = vaegan.load_or_train_vaegan(x, "toy-data", "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("vaegan-toy-data-smoke")) == 1  # loaded, not trained again
    for a, b in ((model, model2), (discriminator, discriminator2)):
        assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    other = vaegan.load_or_train_vaegan(x, "toy-data", "smoke", "cpu", **{**kwargs, "gamma": 1.0})
    assert len(checkpoints.saved("vaegan-toy-data-smoke")) == 2  # another config, another file
    assert not all(torch.equal(u, v) for u, v in zip(model.state_dict().values(),
                                                      other[0].state_dict().values()))


def test_config_rejects_unknown_settings_and_defaults_fit_the_budget():
    data = recipe.RunData("toy-data", images(8))
    with pytest.raises(ValueError, match="no setting"):
        vaegan.config(data, "smoke", lambda_gp=1.0)
    assert vaegan.DEFAULTS["smoke"]["steps"] <= 80 and vaegan.DEFAULTS["full"]["steps"] <= 1500
