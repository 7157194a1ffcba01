"""Conditional GAN and ACGAN (notebook 06): losses, labels, shapes, steps, checkpoints, checkers."""

import math

import pytest
import torch

from course_lib import cgan, checkpoints, exercises, losses, recipe

LOG3 = math.log(3.0)

# ---- ACGAN losses against hand-computed values ----------------------------------------------------
# Two classes with class logits (log 3, 0): P(C = 0 | x) = 3/4, P(C = 1 | x) = 1/4.


def test_class_loss_hand_values():
    logits = torch.tensor([[LOG3, 0.0], [LOG3, 0.0]])
    expected = -(math.log(0.75) + math.log(0.25)) / 2  # labels 0 and 1
    assert losses.acgan_class_loss(logits, torch.tensor([0, 1])).item() == pytest.approx(expected)


def test_class_loss_uniform_is_log_k():
    assert losses.acgan_class_loss(torch.zeros(3, 7), torch.tensor([0, 3, 6])).item() == \
        pytest.approx(math.log(7))


def test_discriminator_loss_hand_values():
    real_source, fake_source = torch.tensor([LOG3]), torch.tensor([-LOG3])  # D(x)=3/4, D(G(z))=1/4
    real_class = torch.tensor([[LOG3, 0.0]])  # P(C = 0 | x_real) = 3/4
    fake_class = torch.tensor([[0.0, LOG3]])  # P(C = 0 | x_fake) = 1/4
    # -(L_S + L_C): -log 3/4 - log(1 - 1/4) for the source, -log 3/4 (real, y=0) - log 1/4 (fake, y=0)
    expected = -math.log(0.75) - math.log(0.75) - math.log(0.75) - math.log(0.25)
    got = losses.acgan_discriminator_loss(real_source, fake_source, real_class, fake_class,
                                          torch.tensor([0]), torch.tensor([0]))
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_generator_loss_hand_values():
    fake_source = torch.tensor([-LOG3, LOG3])  # D(G(z)) = 1/4, 3/4
    fake_class = torch.tensor([[LOG3, 0.0], [LOG3, 0.0]])  # P(C = 0) = 3/4
    # non-saturating -mean log D(G(z)), plus -mean log P(C = y | G(z)) for y = (0, 1)
    expected = -(math.log(0.25) + math.log(0.75)) / 2 - (math.log(0.75) + math.log(0.25)) / 2
    got = losses.acgan_generator_loss(fake_source, fake_class, torch.tensor([0, 1]))
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_losses_are_finite_for_confident_heads():
    got = losses.acgan_generator_loss(torch.tensor([-200.0]), torch.tensor([[-150.0, 150.0]]),
                                      torch.tensor([0]))
    assert got.item() == pytest.approx(200.0 + 300.0)


def test_class_loss_rejects_bad_labels():
    with pytest.raises(ValueError, match="0..1"):
        losses.acgan_class_loss(torch.zeros(2, 2), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="one label each"):
        losses.acgan_class_loss(torch.zeros(2, 2), torch.tensor([0]))
    with pytest.raises(ValueError, match="batch, n_classes"):
        losses.acgan_class_loss(torch.zeros(2), torch.tensor([0, 1]))


# ---- labels: validation, one-hot, planes, embedding -----------------------------------------------


@pytest.mark.parametrize("bad, message", [
    (torch.tensor([0, 10]), "label 10 is out of range.*0 to 9"),
    (torch.tensor([-1, 3]), "label -1 is out of range"),
    (torch.tensor([0.0, 1.0]), "1-D tensor of integers"),
    (torch.tensor([[0, 1]]), "1-D tensor of integers"),
    (torch.tensor([True, False]), "1-D tensor of integers"),
])
def test_check_labels_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        cgan.check_labels(bad, 10)


def test_check_labels_wrong_length():
    with pytest.raises(ValueError, match="3 images or noise vectors but 2 labels"):
        cgan.check_labels(torch.tensor([0, 1]), 10, n=3)
    assert cgan.check_labels([1, 2, 3], 10, n=3).dtype == torch.long


def test_one_hot_and_planes():
    y = torch.tensor([2, 0, 1])
    assert torch.equal(cgan.one_hot(y, 3), torch.eye(3)[y])
    planes = cgan.label_planes(y, 3)
    assert planes.shape == (3, 3, 28, 28)
    assert torch.equal(planes[:, :, 13, 7], torch.eye(3)[y])  # every position carries the label
    assert torch.equal(planes.sum((2, 3)), 784 * torch.eye(3)[y])


def test_balanced_labels():
    y = cgan.balanced_labels(25, 10)
    assert torch.equal(torch.bincount(y, minlength=10), torch.tensor([3] * 5 + [2] * 5))


def test_generator_input_is_noise_then_one_hot():
    torch.manual_seed(0)
    g, _ = cgan.make_conditional_gan("cgan", n_classes=10, noise_dim=16)
    seen = {}
    g.net[0].register_forward_hook(lambda module, inputs, out: seen.update(x=inputs[0]))
    z, y = torch.randn(4, 16), torch.tensor([3, 0, 9, 3])
    g(z, y)
    assert seen["x"].shape == (4, 16 + 10)
    assert torch.equal(seen["x"], torch.cat([z, torch.eye(10)[y]], 1))


def test_learned_embedding_shapes():
    torch.manual_seed(0)
    g, d = cgan.make_conditional_gan("acgan", n_classes=5, noise_dim=8, embed_dim=3)
    y = torch.tensor([4, 4, 1])
    code = g.code(y)
    assert code.shape == (3, 3) and torch.equal(code[0], code[1]) and code.requires_grad
    assert g.net[1].in_features == 8 + 3
    x = g(torch.randn(3, 8), y)
    source, classes = d(x)
    assert x.shape == (3, 1, 28, 28) and source.shape == (3,) and classes.shape == (3, 5)


def test_cgan_discriminator_sees_label_planes():
    torch.manual_seed(0)
    _, d = cgan.make_conditional_gan("cgan", n_classes=10)
    assert d.discriminator.body[1].in_channels == 1 + 10
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    d.eval()
    a, b = d(x, torch.zeros(6, dtype=torch.long)), d(x, torch.full((6,), 7))
    assert a.shape == (6,) and not torch.allclose(a, b)  # the logit depends on the label


def test_projection_term():
    torch.manual_seed(0)
    _, plain = cgan.make_conditional_gan("cgan", n_classes=4)
    _, projected = cgan.make_conditional_gan("cgan", n_classes=4, projection=True)
    projected.load_state_dict(plain.state_dict(), strict=False)  # same body and head
    plain.eval()
    projected.eval()
    x, y = torch.rand(5, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 2, 3, 1])
    assert torch.allclose(plain(x, y), projected(x, y), atol=1e-6)  # E starts at 0
    with torch.no_grad():
        projected.projection.weight.normal_()
    planes = torch.cat([x, cgan.label_planes(y, 4)], 1)
    phi = projected.discriminator.features(planes)
    expected = projected.discriminator.head(phi).squeeze(1) + (projected.projection.weight[y] * phi).sum(1)
    assert torch.allclose(projected(x, y), expected, atol=1e-5)


@pytest.mark.parametrize("kind", cgan.KINDS)
def test_bad_labels_give_clear_errors(kind):
    torch.manual_seed(0)
    g, d = cgan.make_conditional_gan(kind, n_classes=10)
    z = torch.randn(4, 64)
    with pytest.raises(ValueError, match="out of range"):
        cgan.generate_class(g, z, torch.tensor([0, 1, 2, 10]))
    with pytest.raises(ValueError, match="4 images or noise vectors but 3 labels"):
        cgan.generate_class(g, z, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="integers"):
        cgan.generate_class(g, z, torch.tensor([0.0, 1.0, 2.0, 3.0]))
    if kind == "cgan":
        with pytest.raises(ValueError, match="2 images or noise vectors but 3 labels"):
            d(torch.zeros(2, 1, 28, 28), torch.tensor([0, 1, 2]))


def test_unknown_kind():
    with pytest.raises(ValueError, match="expected one of"):
        cgan.make_conditional_gan("infogan", 10)
    with pytest.raises(ValueError, match="CGAN's discriminator only"):
        cgan.make_conditional_gan("acgan", 10, projection=True)


def test_class_grid_layout():
    torch.manual_seed(0)
    g, _ = cgan.make_conditional_gan("cgan", n_classes=4, noise_dim=8)
    z = torch.randn(3, 8)
    grid = cgan.class_grid(g, z)
    assert grid.shape == (12, 1, 28, 28)
    # row 2, column 1 is z_2 asked for class 1
    assert torch.allclose(grid[2 * 4 + 1], cgan.generate_class(g, z[2:3], torch.tensor([1]))[0],
                          atol=1e-6)
    assert g.training  # generate_class restores the mode
    images, labels = cgan.sample_balanced(g, 10, generator_rng=torch.Generator().manual_seed(0))
    assert images.shape == (10, 1, 28, 28) and torch.equal(labels, cgan.balanced_labels(10, 4))


# ---- one step, training, checkpoints ------------------------------------------------------------


@pytest.mark.parametrize("kind", cgan.KINDS)
def test_step_updates_both_players(kind):
    torch.manual_seed(0)
    g, d = cgan.make_conditional_gan(kind, n_classes=3, noise_dim=8)
    g_opt, d_opt = torch.optim.Adam(g.parameters(), 1e-3), torch.optim.Adam(d.parameters(), 1e-3)
    g_before = [p.detach().clone() for p in g.parameters()]
    d_before = [p.detach().clone() for p in d.parameters()]
    out = cgan.STEPS[kind](g, d, g_opt, d_opt, torch.rand(8, 1, 28, 28) * 2 - 1,
                           torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), 8)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(out)
    assert all(math.isfinite(float(v)) for v in out.values())
    assert any(not torch.equal(a, b) for a, b in zip(g_before, g.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, d.parameters()))
    if kind == "acgan":  # the class head learns too
        assert not torch.equal(d_before[-2], d.class_head.weight)


def test_acgan_losses_with_blank_heads():
    # Heads with zero weights: every logit is 0, D = 1/2 and P(C | x) = 1/K, so the losses are
    # L_D = log 4 + 2 log K and L_G = log 2 + log K, whatever the images.
    torch.manual_seed(0)
    g, d = cgan.make_conditional_gan("acgan", n_classes=10, noise_dim=8)
    for head in (d.discriminator.head, d.class_head):
        torch.nn.init.zeros_(head.weight)
        torch.nn.init.zeros_(head.bias)
    g_opt, d_opt = torch.optim.SGD(g.parameters(), 0.0), torch.optim.SGD(d.parameters(), 0.0)
    out = cgan.acgan_step(g, d, g_opt, d_opt, torch.rand(16, 1, 28, 28) * 2 - 1,
                          torch.arange(16) % 10, 8)
    assert float(out["d_loss"]) == pytest.approx(math.log(4) + 2 * math.log(10), abs=1e-5)
    assert float(out["g_loss"]) == pytest.approx(math.log(2) + math.log(10), abs=1e-5)


def test_load_or_train_round_trip():
    g_data = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28, generator=g_data) * 2 - 1, torch.arange(64) % 4
    kwargs = dict(steps=4, batch_size=16, snapshots=2, progress=False)
    g, d, meta = cgan.load_or_train_acgan(x, y, 4, "toy-data", "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("acgan-toy-data-smoke")) == 1
    assert meta["steps"] == 4 and meta["seconds"] > 0 and meta["device"] == "cpu"
    assert meta["config"]["n_classes"] == 4 and meta["config"]["noise_dim"] == 64
    assert g.net[1].in_features == 64 + 4  # G reads the noise and the one-hot label
    assert meta["config"]["projection"] is False  # the CGAN's default only
    assert meta["snapshots"]["images"].shape == (2, 2 * 4, 1, 28, 28)
    assert not g.training and not d.training
    g2, _, meta2 = cgan.load_or_train_acgan(x, y, 4, "toy-data", "smoke", "cpu", **kwargs)
    assert meta2["steps"] == 4
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), g2.state_dict().values()))


def test_training_rejects_mismatched_labels():
    data = recipe.RunData("toy", torch.zeros(5, 1, 28, 28), torch.zeros(4).long())
    config = cgan.config("cgan", data, "smoke", n_classes=3, steps=1, batch_size=2, noise_dim=8)
    with pytest.raises(ValueError, match="5 images or noise vectors but 4 labels"):
        recipe.train(cgan.RECIPES["cgan"], config, data, "cpu", progress=False)


# ---- per-class evaluation ------------------------------------------------------------------------


def test_per_class_scores_known_answers():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 4, generator=g, dtype=torch.float64)
    real_labels = torch.arange(300) % 3
    # samples: exactly the real features (FD 0, spread 1), predicted right for 2 of every 4 in class 0
    predicted = real_labels.clone()
    predicted[torch.nonzero(real_labels == 0).flatten()[::2]] = 1
    s = cgan.per_class_scores(real, predicted, real_labels, real, real_labels, 3)
    assert s["share"].tolist() == pytest.approx([0.5, 1.0, 1.0])
    assert s["fd"].abs().max() < 1e-6
    assert s["spread"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    # samples that are half the real ones' size: spread 1/4 in every class
    s = cgan.per_class_scores(real * 0.5, real_labels, real_labels, real, real_labels, 3)
    assert s["spread"].tolist() == pytest.approx([0.25] * 3)
    assert (s["fd"] > 0).all()


# ---- exercise checkers ---------------------------------------------------------------------------


def _not_implemented(*args):
    raise NotImplementedError


def test_check_label_planes():
    assert exercises.check_label_planes(lambda y, k: cgan.label_planes(y, k))
    assert exercises.check_label_planes(_not_implemented) is False
    with pytest.raises(AssertionError, match="label planes"):  # transposed planes
        exercises.check_label_planes(lambda y, k: cgan.label_planes(y, k).transpose(2, 3) * 0.5)
    with pytest.raises(AssertionError, match="ValueError"):  # no range check: F.one_hot's RuntimeError
        exercises.check_label_planes(
            lambda y, k: torch.nn.functional.one_hot(y, k).float()[:, :, None, None].expand(-1, -1, 28, 28))


def test_check_acgan_discriminator_loss():
    assert exercises.check_acgan_discriminator_loss(losses.acgan_discriminator_loss)
    assert exercises.check_acgan_discriminator_loss(_not_implemented) is False

    def real_class_only(rs, fs, rc, fc, yr, yf):  # forgets the class term of the fakes
        return losses.gan_discriminator_loss(rs, fs) + losses.acgan_class_loss(rc, yr)

    with pytest.raises(AssertionError, match="ACGAN discriminator loss"):
        exercises.check_acgan_discriminator_loss(real_class_only)

    def naive(rs, fs, rc, fc, yr, yf):  # log of a rounded sigmoid: infinite for confident heads
        d_real, d_fake = torch.sigmoid(rs), torch.sigmoid(fs)
        return (-torch.log(d_real).mean() - torch.log(1 - d_fake).mean()
                - torch.log(rc.softmax(1)[torch.arange(len(yr)), yr]).mean()
                - torch.log(fc.softmax(1)[torch.arange(len(yf)), yf]).mean())

    with pytest.raises(AssertionError):
        exercises.check_acgan_discriminator_loss(naive)


def test_check_projection_logit():
    def right(phi, w, b, emb, y):
        return phi @ w + b + (emb[y] * phi).sum(1)

    assert exercises.check_projection_logit(right)
    assert exercises.check_projection_logit(_not_implemented) is False
    with pytest.raises(AssertionError, match="projection logits"):  # forgets the unconditional term
        exercises.check_projection_logit(lambda phi, w, b, emb, y: (emb[y] * phi).sum(1))
