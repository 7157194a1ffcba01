"""Improved GAN training (notebook 11): label smoothing, minibatch layers, feature matching, and the
techniques recipe (with every option off it is the plain GAN recipe, bit for bit)."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import checkpoints, gan, losses, nets, recipe, techniques, toy


def normal_pdf(x, mean, std):
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


# ---- one-sided label smoothing -------------------------------------------------------------------


@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (0.9, 0.0), (0.9, 0.1), (0.7, 0.3)])
def test_smoothed_optimal_discriminator_matches_a_numeric_optimum(alpha, beta):
    """Maximise the pointwise objective over a free logit per x, on two 1-D densities."""
    x = torch.linspace(-4, 5, 181, dtype=torch.float64)
    p_data, p_g = normal_pdf(x, 0.0, 1.0), normal_pdf(x, 1.0, 1.5)
    # the objective is a sum of one term per x, so dividing each term by p_data + p_g keeps every
    # optimum and keeps the tails (tiny densities) from being ignored by the optimiser
    w_data, w_g = p_data / (p_data + p_g), p_g / (p_data + p_g)
    logits = torch.zeros_like(x, requires_grad=True)
    optimizer = torch.optim.LBFGS([logits], lr=1, max_iter=500, tolerance_grad=1e-12,
                                  tolerance_change=1e-14, line_search_fn="strong_wolfe")

    def objective():  # the expected loss, integrated on the grid: -V with soft targets
        optimizer.zero_grad()
        loss = (w_data * F.binary_cross_entropy_with_logits(logits, torch.full_like(x, alpha), reduction="none")
                + w_g * F.binary_cross_entropy_with_logits(logits, torch.full_like(x, beta), reduction="none")).sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    numeric = torch.sigmoid(logits.detach())
    closed_form = losses.smoothed_optimal_discriminator(p_data, p_g, alpha, beta)
    assert torch.allclose(numeric, closed_form, atol=1e-5)
    if alpha == 1.0 and beta == 0.0:
        assert torch.allclose(closed_form, losses.optimal_discriminator(p_data, p_g))


def test_a_positive_fake_target_rewards_samples_where_there_is_no_data():
    # Where p_data = 0, D* = beta: with beta > 0 the generator's samples there are not pushed away.
    d_star = losses.smoothed_optimal_discriminator(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]), 0.9, 0.1)
    assert d_star.tolist() == pytest.approx([0.1, 0.9])
    one_sided = losses.smoothed_optimal_discriminator(torch.tensor([0.0]), torch.tensor([1.0]), 0.9, 0.0)
    assert float(one_sided) == 0.0


def test_smoothed_loss_with_hard_targets_is_the_gan_loss():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(16, generator=g) * 3, torch.randn(16, generator=g) * 3
    assert losses.smoothed_discriminator_loss(real, fake).item() == pytest.approx(
        losses.gan_discriminator_loss(real, fake).item(), abs=1e-6)
    # alpha = 0.9: the loss is minimised at D(x) = 0.9, i.e. logit log 9, not at D = 1
    at = losses.smoothed_discriminator_loss(torch.full((1,), math.log(9)), torch.full((1,), -50.0), 0.9)
    beyond = losses.smoothed_discriminator_loss(torch.full((1,), 6.0), torch.full((1,), -50.0), 0.9)
    assert at < beyond


# ---- minibatch discrimination and the minibatch standard deviation ----------------------------------


def test_minibatch_discrimination_shape_and_permutation_equivariance():
    torch.manual_seed(0)
    layer = nets.MinibatchDiscrimination(12, n_kernels=5, kernel_dim=3)
    f = torch.randn(9, 12)
    out = layer(f)
    assert out.shape == (9, 12 + 5)
    assert torch.equal(out[:, :12], f)
    perm = torch.randperm(9)
    assert torch.allclose(layer(f[perm]), out[perm], atol=1e-6)


def test_minibatch_discrimination_is_extreme_on_a_collapsed_batch():
    torch.manual_seed(1)
    layer = nets.MinibatchDiscrimination(6, n_kernels=4, kernel_dim=2)
    collapsed = torch.randn(1, 6).expand(8, 6)
    o = layer(collapsed)[:, 6:]
    assert torch.allclose(o, torch.full((8, 4), 7.0))  # N - 1 neighbours, each at closeness 1
    o_spread = layer(torch.randn(8, 6) * 5)[:, 6:]
    assert (o_spread < 7.0).all() and (o_spread >= 0).all()


def test_minibatch_std_feature():
    x = torch.tensor([[0.0, 2.0], [2.0, 2.0]])  # per-feature std over the batch: 1 and 0, mean 0.5
    out = nets.MinibatchStd()(x)
    assert out.shape == (2, 3) and torch.allclose(out[:, 2], torch.full((2,), 0.5), atol=1e-4)
    images = torch.randn(1, 3, 7, 7).expand(5, 3, 7, 7)
    out = nets.MinibatchStd()(images)
    assert out.shape == (5, 4, 7, 7) and out[:, 3].abs().max() < 1e-3  # collapsed: 0


# ---- feature matching and the K+1 parameterisation -------------------------------------------------


def test_feature_matching_is_zero_when_the_means_agree():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(32, 10, generator=g)
    fake = torch.randn(16, 10, generator=g)
    fake = fake - fake.mean(0) + real.mean(0)  # other samples, the same mean
    assert losses.feature_matching_loss(real, fake).item() == pytest.approx(0.0, abs=1e-10)
    shifted = fake + torch.tensor([1.0, 2.0] + [0.0] * 8)
    assert losses.feature_matching_loss(real, shifted).item() == pytest.approx(5.0, abs=1e-5)
    real.requires_grad_(True)
    losses.feature_matching_loss(real, shifted.requires_grad_(True)).backward()
    assert real.grad is None  # the data side is a fixed target


def test_k_plus_one_logit_is_a_softmax_with_the_fake_logit_at_zero():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 10, generator=g, dtype=torch.float64) * 4
    full = torch.cat([logits, torch.zeros(6, 1, dtype=torch.float64)], 1).softmax(1)
    d = torch.sigmoid(losses.k_plus_one_logit(logits))
    assert torch.allclose(d, 1 - full[:, -1]) and torch.allclose(d, full[:, :-1].sum(1))
    z = logits.exp().sum(1)
    assert torch.allclose(d, z / (z + 1))
    assert torch.isfinite(losses.k_plus_one_logit(torch.full((2, 10), 500.0))).all()


# ---- the techniques recipe ---------------------------------------------------------------------------

TOY = dict(steps=30, batch_size=32, lr_g=1e-3, lr_d=1e-3, latent_dim=8)


def test_with_every_option_off_a_toy_run_is_the_plain_gan_run():
    ours = techniques.run_toy_technique("ring", seed=3, n_eval=200, n_points=500, **TOY)
    plain = toy.run_toy("ring", "gan", TOY, seed=3, n_eval=200, n_points=500, n_snapshots=1, progress=False)
    assert torch.equal(ours["samples"], plain["snapshots"][-1]["samples"])
    assert ours["coverage"] == plain["final"]


@pytest.mark.parametrize("option", [dict(real_target=0.9), dict(feature_matching=True),
                                    dict(minibatch="std"), dict(minibatch="discrimination"),
                                    dict(minibatch="std", feature_matching=True, d_steps=2)])
def test_every_option_trains_on_points(option):
    run = techniques.run_toy_technique("grid", seed=0, n_eval=100, n_points=500, **TOY, **option)
    assert len(run["history"]["seconds"]) == TOY["steps"]
    assert all(math.isfinite(v) for v in run["history"]["g_loss"])
    assert run["samples"].shape == (100, 2)


def test_bad_options_are_refused():
    data = recipe.RunData("tiny", torch.zeros(4, 2))
    with pytest.raises(ValueError, match="minibatch"):
        techniques.config("toy", data, "smoke", minibatch="batch")
    with pytest.raises(ValueError, match="fake_target < real_target"):
        techniques.config("toy", data, "smoke", real_target=0.5, fake_target=0.5)


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_image_runs_are_checkpointed_per_config(kind):
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    tiny = dict(steps=2, batch_size=4, progress=False, snapshots=0)
    first = techniques.load_or_train_technique(kind, x, "tiny", "smoke", "cpu", minibatch="std", **tiny)
    again = techniques.load_or_train_technique(kind, x, "tiny", "smoke", "cpu", minibatch="std", **tiny)
    assert first[2]["history"] == again[2]["history"]
    techniques.load_or_train_technique(kind, x, "tiny", "smoke", "cpu", feature_matching=True,
                                       minibatch="discrimination", **tiny)
    assert len(checkpoints.saved(f"techniques-{kind}-tiny-smoke")) == 2
    assert first[1](x[:4]).shape == (4,)


def test_plain_image_step_equals_the_gan_step():
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    data = recipe.RunData("tiny", x)
    ours, theirs = techniques.config("mlp", data, "smoke"), gan.config("mlp", data, "smoke")
    out = []
    for run_recipe, run in ((techniques.RECIPES["mlp"], ours), (gan.RECIPES["mlp"], theirs)):
        modules, _ = recipe.build(run_recipe, run, "cpu")
        torch.manual_seed(0)
        out.append(run_recipe.step(modules, run_recipe.optimizers(run, modules), x, run))
    assert {k: float(v) for k, v in out[0].items()} == {k: float(v) for k, v in out[1].items()}
