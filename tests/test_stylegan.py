"""The small StyleGAN (notebook 13): AdaIN, weight demodulation, style mixing, noise inputs, the
truncation trick in W, path lengths, the generator and a tiny training round trip."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import checkpoints, stylegan

# ---- AdaIN and demodulation -----------------------------------------------------------------------


def test_adain_output_has_the_style_statistics_whatever_came_in():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 9, 9, generator=g) * torch.tensor([0.1, 5.0, 30.0])[:, None, None] + 7
    scale = torch.tensor([[2.0, 0.5, 1.0]]).repeat(4, 1) * torch.arange(1.0, 5.0)[:, None]
    bias = torch.randn(4, 3, generator=g)
    out = stylegan.adain(x, scale, bias, eps=0.0)
    assert torch.allclose(out.mean(dim=(2, 3)), bias, atol=1e-4)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), scale.abs(), rtol=1e-4)
    # the input's own per-channel statistics are gone: rescaling or shifting x changes nothing
    assert torch.allclose(stylegan.adain(3 * x - 2, scale, bias, eps=0.0), out, atol=1e-4)


def test_adain_checks_the_style_shape():
    with pytest.raises(ValueError, match="scale and bias"):
        stylegan.adain(torch.randn(2, 3, 4, 4), torch.ones(2, 4), torch.zeros(2, 4))


def test_demodulation_gives_unit_output_std_for_unit_variance_inputs():
    g = torch.Generator().manual_seed(1)
    weight = torch.randn(5, 4, 3, 3, generator=g, dtype=torch.float64)
    style = torch.rand(2, 4, generator=g, dtype=torch.float64) * 3 + 0.1
    x = torch.randn(2, 4, 200, 200, generator=g, dtype=torch.float64)  # iid N(0, 1) inputs
    out = stylegan.modulated_conv2d(x, weight, style, demodulated=True, padding=0)
    assert torch.allclose(out.std(dim=(2, 3)), torch.ones(2, 5, dtype=torch.float64), atol=0.02)
    plain = stylegan.modulated_conv2d(x, weight, style, demodulated=False, padding=0)
    closed_form = (weight[None] * style[:, None, :, None, None]).pow(2).sum(dim=(2, 3, 4)).sqrt()
    assert torch.allclose(plain.std(dim=(2, 3)), closed_form, rtol=0.02)  # what demodulation divides by


def test_demodulate_closed_form_and_per_example_kernels():
    weight = torch.tensor([[[[1.0]], [[2.0]]], [[[0.0]], [[3.0]]]])  # (2 out, 2 in, 1, 1)
    style = torch.tensor([[1.0, 1.0], [2.0, 0.5]])
    kernels = stylegan.demodulate(weight, style, eps=0.0)
    assert kernels.shape == (2, 2, 2, 1, 1)
    assert torch.allclose(kernels[0, 0].flatten(), torch.tensor([1.0, 2.0]) / math.sqrt(5))
    assert torch.allclose(kernels[1, 0].flatten(), torch.tensor([2.0, 1.0]) / math.sqrt(5))
    assert torch.allclose(kernels[1, 1].flatten(), torch.tensor([0.0, 1.0]))
    x = torch.randn(2, 2, 6, 6)
    one = stylegan.modulated_conv2d(x, weight, style, padding=0)
    for b in range(2):  # the grouped convolution equals one convolution per example
        assert torch.allclose(one[b:b + 1], F.conv2d(x[b:b + 1], kernels[b], padding=0), atol=1e-6)


def test_demodulated_layer_equals_adain_normalization_in_expectation():
    """For iid unit-variance inputs both make each output channel's std equal to 1 (times the
    AdaIN scale): demodulation is the same normalization, done on the weights."""
    torch.manual_seed(2)
    weight, style = torch.randn(6, 8, 3, 3), torch.rand(1, 8) + 0.5
    x = torch.randn(1, 8, 120, 120)
    demodulated = stylegan.modulated_conv2d(x, weight, style, padding=0)
    instance = stylegan.adain(F.conv2d(x * style[:, :, None, None], weight), torch.ones(1, 6), torch.zeros(1, 6))
    assert torch.allclose(demodulated.std(dim=(2, 3)), instance.std(dim=(2, 3)), atol=0.03)


# ---- style mixing, noise, truncation, interpolation -----------------------------------------------


def test_mix_styles_switches_at_the_crossover():
    w1, w2 = torch.zeros(3, 4), torch.ones(3, 4)
    for crossover in range(0, 7):
        mixed = stylegan.mix_styles(w1, w2, crossover, 6)
        assert mixed.shape == (3, 6, 4)
        assert (mixed[:, :crossover] == 0).all() and (mixed[:, crossover:] == 1).all()
    per_layer = torch.arange(6.0)[None, :, None].expand(2, 6, 3)
    mixed = stylegan.mix_styles(per_layer, -per_layer, 2, 6)
    assert mixed[0, :, 0].tolist() == [0.0, 1.0, -2.0, -3.0, -4.0, -5.0]
    with pytest.raises(ValueError, match="crossover"):
        stylegan.mix_styles(w1, w2, 7, 6)


def test_noise_injection_with_zero_weight_is_the_identity():
    layer = stylegan.NoiseInjection(3)
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(layer(x), x)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.0, 1.0, 2.0]))
    noise = torch.randn(2, 1, 5, 5)
    out = layer(x, noise)
    assert torch.equal(out[:, 0], x[:, 0]) and torch.allclose(out[:, 2], x[:, 2] + 2 * noise[:, 0])


def test_truncate_w_interpolates_towards_the_mean():
    w, w_mean = torch.randn(5, 4), torch.randn(4)
    assert torch.allclose(stylegan.truncate_w(w, w_mean, 0.0), w_mean.expand(5, 4))
    assert torch.allclose(stylegan.truncate_w(w, w_mean, 1.0), w)
    half = stylegan.truncate_w(w, w_mean, 0.5)
    assert torch.allclose((half - w_mean).norm(dim=1), 0.5 * (w - w_mean).norm(dim=1))


def test_slerp_keeps_unit_norm_and_moves_at_constant_angle():
    a, b = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 2.0, 0.0]])
    for t in (0.0, 0.25, 0.5, 1.0):
        point = stylegan.slerp(a, b, torch.tensor([[t]]))
        assert point.norm().item() == pytest.approx(1.0, abs=1e-6)
        assert point[0, :2].tolist() == pytest.approx([math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)],
                                                      abs=1e-6)


def test_path_length_of_a_linear_map_is_its_closed_form():
    torch.manual_seed(3)
    matrix = torch.randn(7, 4, dtype=torch.float64)
    a, b = torch.randn(10, 4, dtype=torch.float64), torch.randn(10, 4, dtype=torch.float64)
    t = torch.rand(10, 1, dtype=torch.float64)
    values = stylegan.path_length(lambda v: v @ matrix.T, a, b, t, eps=1e-4)
    assert torch.allclose(values, ((b - a) @ matrix.T).pow(2).sum(1), rtol=1e-6)
    # averaged over independent a, b ~ N(0, I): E ||M (b - a)||^2 = 2 ||M||_F^2
    a, b = torch.randn(2, 200_000, 4, dtype=torch.float64)
    mean = stylegan.path_length(lambda v: v @ matrix.T, a, b, 0.5).mean()
    assert mean.item() == pytest.approx(2 * matrix.pow(2).sum().item(), rel=0.02)


def test_trimmed_mean_drops_the_extremes():
    values = torch.cat([torch.ones(98), torch.tensor([-1000.0, 1000.0])])
    assert stylegan.trimmed_mean(values) == pytest.approx(1.0)


# ---- the generator ---------------------------------------------------------------------------------


def small_generator(**kwargs):
    return stylegan.StyleGenerator(latent_dim=8, w_dim=6, mapping_layers=2, channels=(8, 6, 4), **kwargs)


@pytest.mark.parametrize("demodulated", [False, True])
def test_generator_shape_range_layers_and_noise(demodulated):
    torch.manual_seed(4)
    generator = small_generator(demodulated=demodulated)
    assert generator.n_layers == 6 and generator.resolutions == [7, 7, 14, 14, 28, 28]
    z = torch.randn(5, 8) * 10
    x = generator(z)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    w = generator.z_to_w(z)
    assert w.shape == (5, 6)
    noise = generator.make_noise(5, generator=torch.Generator().manual_seed(0))
    assert [tuple(n.shape) for n in noise] == [(5, 1, r, r) for r in generator.resolutions]
    same = generator.synthesize(w, noise)
    assert torch.equal(same, generator.synthesize(w[:, None].expand(-1, 6, -1), noise))
    with pytest.raises(ValueError, match="latent"):
        generator(torch.randn(2, 9))


def test_generator_noise_acts_only_through_its_weights():
    torch.manual_seed(5)
    generator = small_generator()  # noise weights start at zero: noise changes nothing
    w = generator.z_to_w(torch.randn(3, 8))
    assert torch.equal(generator.synthesize(w), generator.synthesize(w))
    with torch.no_grad():
        generator.layers[-1].noise.weight.fill_(1.0)
    assert not torch.equal(generator.synthesize(w), generator.synthesize(w))


def test_mixed_styles_reach_their_layers():
    """Changing a style changes the image only through the layers that read it."""
    torch.manual_seed(6)
    generator = small_generator()
    w1, w2 = generator.z_to_w(torch.randn(2, 8)).split(1)
    noise = generator.make_noise(1)
    base = generator.synthesize(w1, noise)
    assert torch.equal(generator.synthesize(stylegan.mix_styles(w1, w2, 6, 6), noise), base)
    assert not torch.equal(generator.synthesize(stylegan.mix_styles(w1, w2, 5, 6), noise), base)


def test_w_mean_tracking_and_sampling():
    generator = small_generator()
    w = torch.ones(4, 6) * 2
    generator.track_w_mean(w, beta=0.5)
    assert torch.allclose(generator.w_mean, torch.ones(6))
    at_mean = stylegan.sample(generator, 4, w_psi=0.0, rng=torch.Generator().manual_seed(0))
    assert at_mean.shape == (4, 1, 28, 28)
    again = stylegan.sample(generator, 4, w_psi=0.0, rng=torch.Generator().manual_seed(1))
    assert torch.equal(at_mean, again)  # psi = 0 ignores z; zero noise weights ignore the noise
    truncated = stylegan.sample(generator, 4, z_psi=0.5, rng=torch.Generator().manual_seed(0))
    assert truncated.shape == (4, 1, 28, 28)


def test_perceptual_path_length_runs_in_both_spaces_and_is_repeatable():
    generator = small_generator()
    features = lambda x: x.flatten(1)[:, :50]  # noqa: E731  (any function of the image)
    for space in ("z", "w"):
        values = stylegan.perceptual_path_length(generator, features, 5, space, chunk=3,
                                                 rng=torch.Generator().manual_seed(0))
        again = stylegan.perceptual_path_length(generator, features, 5, space, chunk=3,
                                                rng=torch.Generator().manual_seed(0))
        assert values.shape == (5,) and (values >= 0).all() and torch.equal(values, again)
    with pytest.raises(ValueError, match="space"):
        stylegan.perceptual_path_length(generator, features, 5, "x")


# ---- the recipe ---------------------------------------------------------------------------------


def test_load_or_train_round_trip():
    x = torch.rand(48, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    kwargs = dict(steps=3, batch_size=8, snapshots=2, progress=False, latent_dim=8, w_dim=6,
                  mapping_layers=2, channels=(8, 6, 4), d_channels=(4, 8), ema_decay=0.9)
    g, d, meta = stylegan.load_or_train_stylegan(x, "toy-data", "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("stylegan-toy-data-smoke")) == 1
    assert meta["steps"] == 3 and meta["config"]["mixing_prob"] == 0.9 and meta["config"]["r1_gamma"] == 10.0
    assert set(meta["history"]) >= {"d_loss", "g_loss", "r1"}
    assert not g.training and not d.training and g.w_mean.abs().sum() > 0
    g2, d2, _ = stylegan.load_or_train_stylegan(x, "toy-data", "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("stylegan-toy-data-smoke")) == 1  # loaded, not trained again
    for a, b in ((g, g2), (d, d2)):
        assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    z, noise = torch.randn(2, 8), g.make_noise(2)
    assert torch.equal(g.synthesize(g.z_to_w(z), noise), g2.synthesize(g2.z_to_w(z), noise))


def test_config_checks_and_defaults():
    with pytest.raises(ValueError, match="mixing_prob"):
        stylegan.StyleGANConfig(mixing_prob=1.5)
    assert stylegan.StyleGANConfig().betas == (0.0, 0.99)  # the paper's Adam
    assert stylegan.DEFAULTS["smoke"]["steps"] <= 60
