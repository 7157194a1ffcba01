"""The BigGAN-style recipe (notebook 12, section 7): conditional batch norm, orthogonal
regularization, the generator, truncated sampling and a tiny training round trip."""

import math

import pytest
import torch

from course_lib import biggan, checkpoints, modern

# ---- class-conditional batch norm ------------------------------------------------------------------


def test_conditional_batch_norm_starts_as_plain_batch_norm():
    torch.manual_seed(0)
    x, condition = torch.randn(8, 5, 3, 3) * 2 + 1, torch.randn(8, 7)
    layer = biggan.ConditionalBatchNorm2d(5, 7)  # both maps start at zero: gain 1, bias 0
    plain = torch.nn.BatchNorm2d(5)
    assert torch.allclose(layer(x, condition), plain(x), atol=1e-6)
    assert torch.allclose(layer.norm.running_mean, plain.running_mean)


def test_conditional_batch_norm_applies_each_class_gain_and_bias():
    torch.manual_seed(1)
    n_classes, channels = 3, 4
    gains = torch.tensor([[0.5, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0], [-1.0, 0.0, 4.0, 2.0]])
    biases = torch.tensor([[0.0, 1.0, -1.0, 2.0], [3.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    layer = biggan.ConditionalBatchNorm2d(channels, n_classes)  # condition: one-hot class rows
    with torch.no_grad():
        layer.gain.weight.copy_((gains - 1).T)  # gain = 1 + W_gain c
        layer.bias.weight.copy_(biases.T)
    x, y = torch.randn(9, channels, 2, 2), torch.arange(9) % n_classes
    out = layer(x, torch.nn.functional.one_hot(y, n_classes).float())
    normalized = torch.nn.functional.batch_norm(x, None, None, training=True, eps=layer.norm.eps)
    for i in range(len(x)):
        expected = normalized[i] * gains[y[i]][:, None, None] + biases[y[i]][:, None, None]
        assert torch.allclose(out[i], expected, atol=1e-5)


def test_conditional_batch_norm_checks_the_condition():
    with pytest.raises(ValueError, match=r"condition should have shape \(2, 3\)"):
        biggan.ConditionalBatchNorm2d(4, 3)(torch.randn(2, 4, 2, 2), torch.randn(2, 5))


# ---- orthogonal regularization ---------------------------------------------------------------------


def test_orthogonal_regularization_is_zero_for_orthogonal_rows():
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(0)))
    assert biggan.orthogonal_regularization(q, 1.0).item() == pytest.approx(0.0, abs=1e-10)
    scaled_rows = torch.diag(torch.tensor([1.0, 2.0, 3.0])) @ q[:3]  # row norms are left free
    assert biggan.orthogonal_regularization(scaled_rows, 1.0).item() == pytest.approx(0.0, abs=1e-9)
    wide = q[:2]  # 2 orthonormal rows of length 6
    assert biggan.orthogonal_regularization(wide, 1.0).item() == pytest.approx(0.0, abs=1e-10)
    tall = q[:, :2] @ torch.diag(torch.tensor([1.0, 2.0]))  # 6 rows in 2-D: they cannot be orthogonal
    direct = ((tall @ tall.T) * (1 - torch.eye(6))).pow(2).sum()
    assert biggan.orthogonal_regularization(tall, 1.0).item() == pytest.approx(direct.item(), rel=1e-5)


def test_orthogonal_regularization_hand_values():
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    # W W^T = [[5, 11], [11, 25]]: off-diagonal 11 twice, R = beta * 2 * 121
    assert biggan.orthogonal_regularization(w, 0.5).item() == pytest.approx(0.5 * 242)
    tall = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    # W W^T off-diagonal: <r0, r1> = 1, <r0, r2> = 0, <r1, r2> = 2: R = 2 * (1 + 0 + 4) = 10
    assert biggan.orthogonal_regularization(tall, 1.0).item() == pytest.approx(10.0)
    kernel = tall.reshape(3, 1, 1, 2)  # a convolution's kernel is read as (out, in * kh * kw)
    assert biggan.orthogonal_regularization(kernel, 1.0).item() == pytest.approx(10.0)


def test_orthogonal_regularization_skips_the_shared_embedding():
    generator = biggan.BigGANGenerator(4, noise_dim=9, embed_dim=5, channels=(8, 4))
    names = {id(p): n for n, p in generator.named_parameters()}
    chosen = [names[id(p)] for p in biggan.regularized_weights(generator)]
    assert "embedding.weight" not in chosen and "project.parametrizations.weight.original" in chosen
    assert "norm1.gain.weight" in chosen and all("bias" != n.split(".")[-1] for n in chosen)


# ---- the generator and sampling ------------------------------------------------------------------


def test_generator_shape_range_and_shared_embedding():
    generator = biggan.BigGANGenerator(10, noise_dim=63, embed_dim=16, channels=(16, 8))
    assert generator.chunks == [21, 21, 21]
    assert generator.norm1.gain.in_features == generator.norm2.gain.in_features == 16 + 21
    assert sum(isinstance(m, torch.nn.Embedding) for m in generator.modules()) == 1
    x = generator(torch.randn(12, 63) * 5, torch.arange(12) % 10)
    assert x.shape == (12, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    with pytest.raises(ValueError, match="latent"):
        generator(torch.randn(2, 64), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="out of range"):
        generator(torch.randn(2, 63), torch.tensor([0, 10]))


def test_discriminator_reads_the_label_and_is_spectrally_normalized():
    discriminator = biggan.projection_discriminator(10)
    logits = discriminator(torch.rand(5, 1, 28, 28) * 2 - 1, torch.arange(5))
    assert logits.shape == (5,)
    convolutions = [m for m in discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convolutions and all(torch.nn.utils.parametrize.is_parametrized(m) for m in convolutions)


@pytest.mark.parametrize("psi", [0.25, 1.0, 2.0])
def test_truncated_sampling_stays_within_psi(psi):
    z = biggan.noise(2000, 9, psi, torch.Generator().manual_seed(0))
    assert z.shape == (2000, 9) and z.abs().max() <= psi
    assert z.abs().max() > 0.9 * psi  # the whole interval is used
    plain = biggan.noise(2000, 9, None, torch.Generator().manual_seed(0))
    assert plain.abs().max() > 2.5


def test_sample_balanced_gives_balanced_labels_and_images():
    generator = biggan.BigGANGenerator(4, noise_dim=9, embed_dim=5, channels=(8, 4)).eval()
    images, labels = biggan.sample_balanced(generator, 10, 0.5, "cpu", torch.Generator().manual_seed(0))
    assert images.shape == (10, 1, 28, 28) and labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    again, _ = biggan.sample_balanced(generator, 10, 0.5, "cpu", torch.Generator().manual_seed(0))
    assert torch.equal(images, again)


def test_one_step_losses_at_a_known_point():
    """With D's head and projection at zero every logit is 0: L_D = 2 (hinge), L_G = 0."""
    generator = biggan.BigGANGenerator(3, noise_dim=6, embed_dim=4, channels=(8, 4))
    discriminator = biggan.projection_discriminator(3, channels=(4, 8), spectral=False)
    torch.nn.init.zeros_(discriminator.discriminator.head.weight)
    torch.nn.init.zeros_(discriminator.discriminator.head.bias)
    optimizers = [torch.optim.SGD(m.parameters(), 0.0) for m in (generator, discriminator)]
    out = biggan.biggan_step(generator, discriminator, *optimizers, torch.rand(8, 1, 28, 28) * 2 - 1,
                             torch.arange(8) % 3, d_steps=2, ortho_beta=1e-4)
    assert float(out["d_loss"]) == pytest.approx(2.0) and float(out["g_loss"]) == pytest.approx(0.0)
    expected = biggan.generator_orthogonal_penalty(generator, 1e-4).item()
    assert float(out["ortho"]) == pytest.approx(expected) and expected > 0


# ---- the recipe ---------------------------------------------------------------------------------


def test_load_or_train_round_trip():
    g_data = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28, generator=g_data) * 2 - 1, torch.arange(64) % 4
    kwargs = dict(steps=3, batch_size=16, snapshots=2, progress=False, noise_dim=9, embed_dim=5,
                  channels=(8, 4), d_channels=(4, 8), ema_decay=0.9)
    g, d, meta = biggan.load_or_train_biggan(x, y, 4, "toy-data", "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("biggan-toy-data-smoke")) == 1
    assert meta["steps"] == 3 and meta["config"]["n_classes"] == 4 and meta["config"]["ortho_beta"] == 1e-4
    assert meta["snapshots"]["images"].shape[1:] == (2 * 4, 1, 28, 28)  # class grids of 2 z
    assert not g.training and not d.training
    assert set(meta["history"]) >= {"d_loss", "g_loss", "ortho"}
    g2, d2, meta2 = biggan.load_or_train_biggan(x, y, 4, "toy-data", "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("biggan-toy-data-smoke")) == 1  # loaded, not trained again
    for a, b in ((g, g2), (d, d2)):
        assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    z = modern.truncated_noise(4, 9, 0.5)
    assert torch.equal(biggan.cgan.generate_class(g, z, torch.arange(4)),
                       biggan.cgan.generate_class(g2, z, torch.arange(4)))


def test_defaults_fit_the_course_budget():
    for schedule, steps in (("smoke", 80), ("full", 800)):
        assert biggan.DEFAULTS[schedule]["steps"] <= steps
    assert biggan.DEFAULTS["full"]["noise_dim"] % biggan.N_CHUNKS == 0
    assert math.isclose(biggan.BigGANConfig().ortho_beta, 1e-4)  # the paper's weight
