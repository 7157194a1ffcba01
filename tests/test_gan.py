"""GAN recipes (notebooks 04-05): losses, optimal discriminator, mode metric, networks, steps."""

import dataclasses
import math

import pytest
import torch
from torch import nn

from course_lib import checkpoints, data, exercises, gan, losses, nets, recipe, toy, train

# ---- losses against hand-computed values ---------------------------------------------------------
# Logits l with D = sigmoid(l): l = 0 -> D = 1/2; l = log 3 -> D = 3/4; l = -log 3 -> D = 1/4.
LOG3 = math.log(3.0)


def test_discriminator_loss_hand_values():
    real = torch.tensor([0.0, LOG3])  # D(x) = 1/2, 3/4
    fake = torch.tensor([-LOG3, 0.0])  # D(G(z)) = 1/4, 1/2
    # -mean log D(x) - mean log(1 - D(G(z)))
    expected = -(math.log(0.5) + math.log(0.75)) / 2 - (math.log(0.75) + math.log(0.5)) / 2
    assert losses.gan_discriminator_loss(real, fake).item() == pytest.approx(expected, abs=1e-6)


def test_discriminator_loss_at_confusion_is_log4():
    zeros = torch.zeros(7)  # D = 1/2 everywhere: V = -log 4, so the loss is log 4
    assert losses.gan_discriminator_loss(zeros, zeros).item() == pytest.approx(math.log(4), abs=1e-6)


def test_generator_losses_hand_values():
    fake = torch.tensor([-LOG3, LOG3])  # D(G(z)) = 1/4, 3/4
    minimax = (math.log(1 - 0.25) + math.log(1 - 0.75)) / 2  # mean log(1 - D)
    nonsat = -(math.log(0.25) + math.log(0.75)) / 2  # -mean log D
    assert losses.gan_generator_loss_minimax(fake).item() == pytest.approx(minimax, abs=1e-6)
    assert losses.gan_generator_loss_nonsaturating(fake).item() == pytest.approx(nonsat, abs=1e-6)


def test_losses_are_exact_for_extreme_logits():
    fake = torch.tensor([-200.0])  # D(G(z)) = e^-200: log D = -200 exactly, no inf
    assert losses.gan_generator_loss_nonsaturating(fake).item() == pytest.approx(200.0)
    assert losses.gan_generator_loss_minimax(fake).item() == pytest.approx(0.0, abs=1e-12)
    assert torch.isfinite(losses.gan_discriminator_loss(torch.tensor([200.0]), fake))


@pytest.mark.parametrize("d_fake", [1e-3, 0.01, 0.1, 0.3])
def test_nonsaturating_gradient_is_larger_where_d_is_small(d_fake):
    # Gradient with respect to the value D(G(z)): minimax d/dD log(1-D) = -1/(1-D),
    # non-saturating d/dD (-log D) = -1/D; both push D up, the second much harder when D is small.
    logit = torch.tensor([math.log(d_fake / (1 - d_fake))], requires_grad=True)
    (g_mm,) = torch.autograd.grad(losses.gan_generator_loss_minimax(logit), logit)
    (g_ns,) = torch.autograd.grad(losses.gan_generator_loss_nonsaturating(logit), logit)
    # with respect to the logit: minimax -D, non-saturating -(1 - D)
    assert g_mm.item() == pytest.approx(-d_fake, rel=1e-4)
    assert g_ns.item() == pytest.approx(-(1 - d_fake), rel=1e-4)
    assert abs(g_ns.item()) > abs(g_mm.item())
    # and with respect to D itself (chain rule: dl/dD = 1 / (D (1 - D)))
    dl_dd = 1 / (d_fake * (1 - d_fake))
    assert g_mm.item() * dl_dd == pytest.approx(-1 / (1 - d_fake), rel=1e-4)
    assert g_ns.item() * dl_dd == pytest.approx(-1 / d_fake, rel=1e-4)


def test_losses_reject_2d_logits():
    with pytest.raises(ValueError, match="squeeze"):
        losses.gan_generator_loss_nonsaturating(torch.zeros(4, 1))
    with pytest.raises(ValueError, match="real_logits"):
        losses.gan_discriminator_loss(torch.zeros(4, 1), torch.zeros(4))


# ---- the optimal discriminator -----------------------------------------------------------------


def normal_pdf(x, mu, sd):
    return torch.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def test_optimal_discriminator_two_gaussians():
    # p_data = N(0, 1), p_g = N(2, 1): log p_data - log p_g = 2 - 2x, so D*(x) = sigmoid(2 - 2x).
    x = torch.linspace(-4, 6, 101, dtype=torch.float64)
    d_star = losses.optimal_discriminator(normal_pdf(x, 0, 1), normal_pdf(x, 2, 1))
    torch.testing.assert_close(d_star, torch.sigmoid(2 - 2 * x))
    assert losses.optimal_discriminator(normal_pdf(torch.tensor(1.0), 0, 1),
                                     normal_pdf(torch.tensor(1.0), 2, 1)).item() == pytest.approx(0.5)


def test_optimal_discriminator_is_half_when_densities_match():
    p = torch.rand(10, dtype=torch.float64) + 0.1
    torch.testing.assert_close(losses.optimal_discriminator(p, p), torch.full_like(p, 0.5))
    with pytest.raises(ValueError, match="non-negative"):
        losses.optimal_discriminator(torch.tensor([-0.1]), torch.tensor([1.0]))


def test_value_at_optimal_discriminator_is_minus_log4_plus_2jsd():
    # C(G) = V(D*, G) = -log 4 + 2 JSD(p_data || p_g), checked by quadrature on two Gaussians.
    x = torch.linspace(-12, 14, 200_001, dtype=torch.float64)
    dx = x[1] - x[0]
    p, q = normal_pdf(x, 0, 1), normal_pdf(x, 2, 1.5)
    d = losses.optimal_discriminator(p, q)
    value = ((p * d.log() + q * (1 - d).log()) * dx).sum()
    m = (p + q) / 2
    jsd = 0.5 * ((p * (p / m).log()) * dx).sum() + 0.5 * ((q * (q / m).log()) * dx).sum()
    assert value.item() == pytest.approx(-math.log(4) + 2 * jsd.item(), abs=1e-6)
    assert 0 < jsd.item() < math.log(2)


# ---- the 2-D mode metric -----------------------------------------------------------------------


def test_mode_coverage_true_samples_cover_all_ring_modes():
    modes = data.ring_modes()
    points, _ = data.sample_mixture(modes, 2500, 0.05, generator=torch.Generator().manual_seed(0))
    result = toy.mode_coverage(points, modes, 0.05)
    assert result["modes_covered"] == 8 and result["n_modes"] == 8
    # within 3 sigma in 2-D: 1 - exp(-9/2) = 0.989
    assert result["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert sum(result["counts"]) == round(result["high_quality_fraction"] * 2500)


def test_mode_coverage_exact_modes():
    modes = data.grid_modes()
    result = toy.mode_coverage(modes.repeat(100, 1), modes, 0.05)
    assert result["modes_covered"] == 25 and result["high_quality_fraction"] == 1.0
    assert result["counts"] == [100] * 25


def test_mode_coverage_one_mode():
    modes = data.ring_modes()
    points = modes[3] + 0.05 * torch.randn(2500, 2, generator=torch.Generator().manual_seed(1))
    result = toy.mode_coverage(points, modes, 0.05)
    assert result["modes_covered"] == 1
    assert result["counts"][3] == sum(result["counts"]) > 2400


def test_mode_coverage_uniform_noise_is_mostly_low_quality():
    modes = data.ring_modes()
    points = torch.rand(2500, 2, generator=torch.Generator().manual_seed(2)) * 4 - 2
    result = toy.mode_coverage(points, modes, 0.05)
    # 8 discs of radius 0.15 cover 8 pi 0.15^2 / 16 = 3.5% of the square [-2, 2]^2
    assert result["high_quality_fraction"] == pytest.approx(8 * math.pi * 0.15**2 / 16, abs=0.012)
    assert result["modes_covered"] == 8  # with 2,500 points each small disc still gets hit


def test_mode_coverage_threshold_and_min_count():
    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    points = torch.tensor([[0.29, 0.0], [0.31, 0.0], [10.0, 0.0]])
    result = toy.mode_coverage(points, modes, sigma=0.1)
    assert result["counts"] == [1, 1] and result["high_quality_fraction"] == pytest.approx(2 / 3)
    assert toy.mode_coverage(points, modes, 0.1, min_count=2)["modes_covered"] == 0


def test_mode_coverage_errors():
    with pytest.raises(ValueError, match="sigma must be positive"):
        toy.mode_coverage(torch.zeros(3, 2), data.ring_modes(), 0)
    with pytest.raises(ValueError, match="samples are 3-D but modes are 2-D"):
        toy.mode_coverage(torch.zeros(3, 3), data.ring_modes(), 0.05)
    with pytest.raises(ValueError, match=r"\(n, dim\)"):
        toy.mode_coverage(torch.zeros(3), data.ring_modes(), 0.05)


# ---- networks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe", ["mlp", "dcgan"])
def test_image_gan_shapes_and_range(recipe):
    torch.manual_seed(0)
    generator, discriminator = gan.make_gan(recipe, 16)
    x = generator(torch.randn(5, 16) * 10)
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1 and x.abs().max() > 0.5  # tanh output, not squashed to 0
    logits = discriminator(x)
    assert logits.shape == (5,)
    features = discriminator.features(x)
    assert features.dim() == 2 and len(features) == 5
    torch.testing.assert_close(discriminator.head(features).squeeze(1), logits)


def test_toy_gan_shapes():
    generator, discriminator = gan.make_gan("toy", 3)
    points = generator(torch.randn(11, 3))
    assert points.shape == (11, 2)
    assert discriminator(points).shape == (11,)


@pytest.mark.parametrize("recipe", ["mlp", "dcgan"])
def test_wrong_input_sizes_fail_clearly(recipe):
    generator, discriminator = gan.make_gan(recipe, 16)
    with pytest.raises(ValueError, match=r"latent should have shape \(batch, 16\)"):
        generator(torch.zeros(2, 8))
    with pytest.raises(ValueError, match=r"discriminator input should have shape \(batch, 1, 28, 28\)"):
        discriminator(torch.zeros(2, 1, 32, 32))


def test_unknown_names_fail_clearly():
    with pytest.raises(ValueError, match="Unknown GAN recipe 'vae'"):
        gan.make_gan("vae", 4)
    with pytest.raises(ValueError, match="Unknown norm 'instance'"):
        nets.dcgan_discriminator(norm="instance")
    generator, discriminator = gan.make_gan("toy", 2)
    opt = torch.optim.SGD(generator.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="Unknown generator loss 'hinge'"):
        gan.g_step(generator, discriminator, opt, torch.zeros(4, 2), "hinge")


@pytest.mark.parametrize("norm, kind", [("batch", nn.BatchNorm2d), ("layer", nn.GroupNorm),
                                        ("none", None)])
def test_critic_variants_have_no_batch_norm_unless_asked(norm, kind):
    discriminator = nets.dcgan_discriminator(norm=norm, in_channels=3)
    kinds = {type(m) for m in discriminator.modules()}
    assert (nn.BatchNorm2d in kinds) == (norm == "batch")
    if kind is not None:
        assert kind in kinds
    assert discriminator(torch.randn(2, 3, 28, 28)).shape == (2,)  # extra channels (conditioning)


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    generator, discriminator = gan.make_gan("dcgan", 64)
    for model in (generator, discriminator):
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.weight.numel() > 5000:
                assert m.weight.mean().abs() < 0.002 and m.weight.std().item() == pytest.approx(0.02, rel=0.05)
                assert m.bias is None or (m.bias == 0).all()
            if isinstance(m, nn.BatchNorm2d):
                assert (m.weight - 1).abs().max() < 0.1 and (m.bias == 0).all()


# ---- steps and training --------------------------------------------------------------------------


def test_d_step_does_not_touch_the_generator_and_g_step_does_not_touch_d():
    torch.manual_seed(0)
    generator, discriminator = gan.make_gan("toy", 2)
    g_before = [p.clone() for p in generator.parameters()]
    d_opt = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    g_opt = torch.optim.SGD(generator.parameters(), lr=0.1)
    out = gan.d_step(generator, discriminator, d_opt, torch.randn(8, 2), torch.randn(8, 2))
    assert set(out) == {"d_loss", "d_real", "d_fake"} and 0 < out["d_fake"] < 1
    assert all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    d_before = [p.clone() for p in discriminator.parameters()]
    gan.g_step(generator, discriminator, g_opt, torch.randn(8, 2))
    assert all(torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))


def test_gan_step_splits_the_batch_for_k_discriminator_steps():
    generator, discriminator = gan.make_gan("toy", 2)
    calls = []
    original = discriminator.forward
    discriminator.forward = lambda x: calls.append(len(x)) or original(x)
    opt_g = torch.optim.SGD(generator.parameters(), lr=0.01)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.01)
    gan.gan_step(generator, discriminator, opt_g, opt_d, torch.randn(12, 2), 2, d_steps=3)
    assert calls == [4, 4] * 3 + [4]  # 3 x (real, fake), then the generator step
    with pytest.raises(ValueError, match="d_steps=5"):
        gan.gan_step(generator, discriminator, opt_g, opt_d, torch.randn(12, 2), 2, d_steps=5)


def test_discriminator_learns_optimal_d_on_1d_gaussians():
    # A D trained on fixed samples of N(0,1) vs N(2,1) approaches D*(x) = sigmoid(2 - 2x).
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(4000, 1, generator=g), torch.randn(4000, 1, generator=g) + 2
    discriminator = nets.mlp_discriminator((1,), hidden=(16,))
    opt = torch.optim.Adam(discriminator.parameters(), lr=0.02)
    for _ in range(300):
        loss = losses.gan_discriminator_loss(discriminator(real), discriminator(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = torch.linspace(-1, 3, 41)[:, None]
    with torch.no_grad():
        learned = torch.sigmoid(discriminator(x))
    assert (learned - torch.sigmoid(2 - 2 * x[:, 0])).abs().max() < 0.06


def test_train_gan_toy_history_and_time_budget():
    points, _, _ = data.toy_mixture("ring", 512, generator=torch.Generator().manual_seed(0))
    ring = recipe.RunData("ring", points)
    config = gan.config("toy", ring, "smoke", steps=6, batch_size=32, latent_dim=2)
    seen = []
    modules, meta = recipe.train(gan.RECIPES["toy"], config, ring, "cpu", snapshots=0,
                                 callback=lambda i, h: seen.append(i), every=4, progress=False)
    history = meta["history"]
    assert seen == [3, 5]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "seconds"} <= set(history)
    assert all(len(v) == 6 for v in history.values())
    assert not any(module.training for module in modules.values())
    seen.clear()
    config = dataclasses.replace(config, steps=10_000, max_seconds=0.0)
    _, meta = recipe.train(gan.RECIPES["toy"], config, ring, "cpu", snapshots=0,
                           callback=lambda i, h: seen.append(i), progress=False)
    assert len(meta["history"]["d_loss"]) == 1 and seen == [0]  # stopped after the first step


def test_generate_restores_mode_and_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    generator, _ = gan.make_gan("dcgan", 8)
    generator.train()
    z = torch.randn(4, 8)
    x = nets.generate(generator, z)
    assert generator.training and x.shape == (4, 1, 28, 28)
    path = tmp_path / "dcgan.pt"
    checkpoints.save_checkpoint(path, {"generator": generator}, {"seconds": 1.5})
    fresh, _ = gan.make_gan("dcgan", 8)
    meta, trained = checkpoints.load_or_train(path, {"generator": fresh}, lambda: {})
    assert not trained and meta["seconds"] == 1.5
    torch.testing.assert_close(nets.generate(fresh, z), nets.generate(generator, z))


def test_discriminator_map_grid():
    discriminator = nets.mlp_discriminator((2,), hidden=(4,))
    xs, ys, probs = toy.discriminator_map(discriminator, (-1, 1), n=5)
    assert probs.shape == (5, 5) and ((probs > 0) & (probs < 1)).all()
    with torch.no_grad():
        expected = torch.sigmoid(discriminator(torch.tensor([[xs[4], ys[1]]])))
    assert probs[1, 4].item() == pytest.approx(expected.item(), abs=1e-6)


# ---- exercise checkers (notebooks 04 and 05) -----------------------------------------------------


def not_attempted(*args):
    raise NotImplementedError


def test_check_nonsaturating_loss():
    assert exercises.check_nonsaturating_loss(losses.gan_generator_loss_nonsaturating) is True
    assert exercises.check_nonsaturating_loss(lambda logit: -torch.nn.functional.logsigmoid(logit).mean())
    assert exercises.check_nonsaturating_loss(not_attempted) is False
    with pytest.raises(AssertionError, match="logsigmoid"):  # right formula, but overflows
        exercises.check_nonsaturating_loss(lambda logit: -torch.log(torch.sigmoid(logit)).mean())
    with pytest.raises(AssertionError, match="moderate logits"):  # the minimax loss instead
        exercises.check_nonsaturating_loss(losses.gan_generator_loss_minimax)


def test_check_optimal_discriminator_gaussians():
    def right(x, mu_d, sd_d, mu_g, sd_g):
        p_data = torch.exp(-0.5 * ((x - mu_d) / sd_d) ** 2) / sd_d
        p_g = torch.exp(-0.5 * ((x - mu_g) / sd_g) ** 2) / sd_g
        return losses.optimal_discriminator(p_data, p_g)

    assert exercises.check_optimal_discriminator_gaussians(right) is True
    assert exercises.check_optimal_discriminator_gaussians(not_attempted) is False
    with pytest.raises(AssertionError, match="D\\* for N"):  # forgot the 1/sd normalisation
        exercises.check_optimal_discriminator_gaussians(
            lambda x, a, s, b, t: right(x, a, 1.0, b, 1.0) if s == t else
            torch.sigmoid(-0.5 * ((x - a) / s) ** 2 + 0.5 * ((x - b) / t) ** 2))
    with pytest.raises(AssertionError):  # p_g / (p_data + p_g): the roles swapped
        exercises.check_optimal_discriminator_gaussians(lambda x, a, s, b, t: 1 - right(x, a, s, b, t))


def test_check_mode_coverage():
    def right(samples, modes, sigma):
        result = toy.mode_coverage(samples, modes, sigma)
        return result["modes_covered"], result["high_quality_fraction"]

    assert exercises.check_mode_coverage(right) is True
    assert exercises.check_mode_coverage(not_attempted) is False
    with pytest.raises(AssertionError, match="modes covered"):  # counts modes with any sample
        exercises.check_mode_coverage(
            lambda s, m, sg: (len(torch.unique(toy.nearest_mode(s, m)[0])), right(s, m, sg)[1]))
    with pytest.raises(AssertionError, match="modes covered|high-quality fraction"):  # 2 sigma
        exercises.check_mode_coverage(lambda s, m, sg: right(s, m, sg * 2 / 3))


def test_check_conv_transpose_size():
    assert exercises.check_conv_transpose_size(lambda n, k, s, p: (n - 1) * s - 2 * p + k) is True
    assert exercises.check_conv_transpose_size(not_attempted) is False
    with pytest.raises(AssertionError, match="PyTorch gives"):  # the convolution's formula
        exercises.check_conv_transpose_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1)
    with pytest.raises(AssertionError, match="PyTorch gives"):
        exercises.check_conv_transpose_size(lambda n, k, s, p: n * s)  # right only for k = s + 2p


def test_check_dcgan_init():
    assert exercises.check_dcgan_init(nets.init_dcgan_weights) is True
    assert exercises.check_dcgan_init(not_attempted) is False

    def forgot_batch_norm(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nets.init_dcgan_weights(m)

    with pytest.raises(AssertionError, match="BatchNorm2d"):
        exercises.check_dcgan_init(forgot_batch_norm)

    def std_one_tenth(m):
        nets.init_dcgan_weights(m)
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0, 0.1)

    with pytest.raises(AssertionError, match="Conv2d"):
        exercises.check_dcgan_init(std_one_tenth)


def test_check_slerp():
    def slerp(z0, z1, t):
        omega = torch.arccos(torch.dot(z0 / z0.norm(), z1 / z1.norm()))
        return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)

    assert exercises.check_slerp(slerp) is True
    assert exercises.check_slerp(not_attempted) is False
    with pytest.raises(AssertionError, match="slerp at t=0.25"):
        exercises.check_slerp(lambda z0, z1, t: (1 - t) * z0 + t * z1)  # the straight line


def test_load_or_train_gan_saves_meta_and_reloads(capsys):
    x = torch.rand(40, 1, 28, 28) * 2 - 1
    kwargs = dict(steps=4, batch_size=8, latent_dim=6, progress=False)
    g1, d1, meta = gan.load_or_train_gan("dcgan", x, "fashion-mnist", "smoke", "cpu", snapshots=2, **kwargs)
    assert "saved" in capsys.readouterr().out
    assert meta["steps"] == 4 and meta["seconds"] > 0 and meta["device"] == "cpu"
    assert meta["config"]["latent_dim"] == 6 and meta["config"]["lr_g"] == gan.DEFAULTS["smoke"]["dcgan"]["lr_g"]  # defaults kept
    assert meta["snapshots"]["steps"] == [2, 4]
    assert meta["snapshots"]["images"].shape == (2, 64, 1, 28, 28)
    assert len(checkpoints.saved("dcgan-fashion-mnist-smoke")) == 1
    g2, _, meta2 = gan.load_or_train_gan("dcgan", x, "fashion-mnist", "smoke", "cpu", snapshots=2, **kwargs)
    assert "loaded" in capsys.readouterr().out and meta2["steps"] == 4
    z = torch.randn(3, 6)
    torch.testing.assert_close(nets.generate(g2, z), nets.generate(g1, z))
    with pytest.raises(ValueError, match="Unknown image GAN recipe 'toy'"):
        gan.load_or_train_gan("toy", x, "fashion-mnist", "smoke", "cpu")


def test_activations_of_the_recipes():
    generator, discriminator = gan.make_gan("mlp", 8)
    assert any(isinstance(m, nn.LeakyReLU) for m in generator) and not any(
        isinstance(m, nn.ReLU) for m in generator)
    assert all(m.negative_slope == 0.2 for m in discriminator.modules() if isinstance(m, nn.LeakyReLU))
    toy_generator, _ = gan.make_gan("toy", 8)
    assert any(isinstance(m, nn.ReLU) for m in toy_generator)
    dc_generator, dc_discriminator = gan.make_gan("dcgan", 8)  # DCGAN: ReLU in G, LeakyReLU in D
    assert any(isinstance(m, nn.ReLU) for m in dc_generator)
    assert not any(isinstance(m, nn.ReLU) for m in dc_discriminator.modules())
    assert isinstance(dc_generator[-1], nn.Tanh)


def test_snapshots_keep_a_grid_every_steps_over_n_and_at_the_end():
    from course_lib.train import fit

    draws = iter(range(100))
    kept = train.Snapshots(lambda: torch.full((2, 2), float(next(draws))), steps=10, n=4)
    assert kept.every == 2
    fit(lambda batch: {"loss": batch}, iter(range(11)), 11, callback=kept.callback,
        every=kept.every, progress=False)
    out = kept.as_dict()
    assert out["steps"] == [2, 4, 6, 8, 10, 11]
    assert out["images"].shape == (6, 2, 2) and out["images"][:, 0, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert len(out["seconds"]) == 6 and out["seconds"] == sorted(out["seconds"])
    none = train.Snapshots(lambda: torch.zeros(1), steps=10, n=0)
    assert none.callback is None and none.every is None
    assert none.as_dict()["images"].numel() == 0


# ---- input checks and diverged runs (issue 17) ---------------------------------------------------


def test_train_gan_refuses_unit_images_and_non_finite_points():
    def train(kind, x):
        run_data = recipe.RunData("bad", x)
        config = gan.config(kind, run_data, "smoke", steps=1, batch_size=4, latent_dim=4)
        recipe.train(gan.RECIPES[kind], config, run_data, "cpu", progress=False)

    with pytest.raises(ValueError, match=r"x_train should have values in \[-1, 1\] \(scale "
                                         r"'symmetric'\), got values in \[0, 1\], none below 0"):
        train("mlp", (torch.rand(8, 1, 28, 28) > 0.5).float())
    with pytest.raises(ValueError, match=r"should be floating point.*scale_images"):
        train("mlp", torch.zeros(8, 1, 28, 28, dtype=torch.uint8))
    points = torch.randn(8, 2)
    points[3, 1] = float("nan")
    with pytest.raises(ValueError, match=r"x_train should be finite, got 1 NaN"):
        train("toy", points)


def test_load_or_train_gan_refuses_to_save_a_diverged_run():
    # lr = 1e3: no NaN, but D's loss is exactly 0 and G's loss about 1e9 (reported as issue 17)
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with pytest.raises(train.DivergedTrainingError, match="training diverged: .* so the model was "
                                                          "not saved") as err:
        gan.load_or_train_gan("dcgan", x, "fashion-mnist", "smoke", "cpu", steps=20, batch_size=8,
                              lr_g=1e3, lr_d=1e3, snapshots=0, progress=False)
    assert len(err.value.history["d_loss"]) == 20  # the losses are kept for a look
    assert not checkpoints.saved("dcgan-fashion-mnist-smoke")


def test_load_or_train_wgan_refuses_to_save_an_exploded_clipped_generator():
    # clipping keeps the critic's scores and so every loss small; the generator's weights explode
    from course_lib import wgan

    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with pytest.raises(train.DivergedTrainingError, match=r"the generator's largest \|weight\|"):
        wgan.load_or_train_wgan("clip", x, "fashion-mnist", "smoke", "cpu", steps=5, batch_size=4,
                                lr=1e3, snapshots=0, progress=False)
    assert not checkpoints.saved("wgan-fashion-mnist-smoke")
