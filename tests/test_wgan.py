import math

import pytest
import torch
from scipy.stats import wasserstein_distance
from torch import nn

from course_lib import checkpoints, gan, losses, wgan


class Linear(nn.Module):
    """f(x) = w.x + b on flattened inputs, returning (B,) like the course's critics."""

    def __init__(self, w, b=0.0):
        super().__init__()
        self.w = nn.Parameter(torch.as_tensor(w, dtype=torch.float32))
        self.b = nn.Parameter(torch.tensor(float(b)))

    def forward(self, x):
        return x.flatten(1) @ self.w + self.b


def one_d_critic():
    return gan.mlp_discriminator((1,), hidden=(64, 64))


# ---- losses --------------------------------------------------------------------------------------


def test_critic_and_generator_losses_hand_values():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0, 4.0])
    assert losses.wasserstein_critic_loss(real, fake).item() == pytest.approx(1.0 - 2.0)
    assert losses.wasserstein_generator_loss(fake).item() == pytest.approx(-1.0)


def test_a_critic_that_scores_real_higher_has_a_lower_loss():
    fake = torch.zeros(4)
    assert losses.wasserstein_critic_loss(torch.full((4,), 2.0), fake) < \
        losses.wasserstein_critic_loss(torch.full((4,), 1.0), fake)
    # and the generator's loss falls when the critic scores its samples higher
    assert losses.wasserstein_generator_loss(torch.ones(4)) < losses.wasserstein_generator_loss(fake)


@pytest.mark.parametrize("w", [[3.0, 4.0], [0.6, 0.8], [0.1, 0.0], [0.0, 0.0]])
def test_gradient_penalty_of_a_linear_critic_is_lambda_norm_minus_one_squared(w):
    critic = Linear(w, b=0.7)
    x_real, x_fake = torch.randn(16, 2), torch.randn(16, 2) + 5
    expected = 10.0 * (math.hypot(*w) - 1) ** 2
    assert losses.gradient_penalty(critic, x_real, x_fake, 10.0).item() == pytest.approx(expected,
                                                                                          abs=1e-5)


def test_gradient_penalty_of_a_critic_with_zero_gradient_is_lambda():
    def constant(x):
        return 0.0 * x.flatten(1).sum(1) + 3.0

    x = torch.randn(8, 1, 28, 28)
    assert losses.gradient_penalty(constant, x, -x, weight=10.0).item() == pytest.approx(10.0)


def test_gradient_penalty_is_differentiable_in_the_critic_parameters():
    critic = Linear([3.0, 4.0])
    losses.gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2), 10.0).backward()
    # d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w|| = 20 * 4 * (0.6, 0.8)
    assert torch.allclose(critic.w.grad, torch.tensor([48.0, 64.0]))


def test_interpolate_endpoints_and_shape_errors():
    x_real, x_fake = torch.ones(3, 1, 2, 2), torch.zeros(3, 1, 2, 2)
    out = losses.interpolate(x_real, x_fake, torch.tensor([1.0, 0.0, 0.25]))
    assert out.shape == x_real.shape
    assert out[0].eq(1).all() and out[1].eq(0).all() and out[2].eq(0.25).all()
    with pytest.raises(ValueError, match="one number per example"):
        losses.interpolate(x_real, x_fake, torch.rand(3, 1))
    with pytest.raises(ValueError, match="same shape"):
        losses.interpolate(x_real, x_fake[:2], torch.rand(3))


def test_critic_gradient_norms_of_a_linear_critic():
    norms = losses.critic_gradient_norms(Linear([3.0, 4.0]), torch.randn(5, 2))
    assert torch.allclose(norms, torch.full((5,), 5.0))


# ---- clipping and steps --------------------------------------------------------------------------


def test_clipping_keeps_every_critic_parameter_in_range():
    generator, critic = wgan.make_wgan("dcgan", 8, norm="batch")
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(100)  # far outside [-c, c]
    optimizer = torch.optim.RMSprop(critic.parameters(), lr=5e-5)
    wgan.critic_step(generator, critic, optimizer, torch.rand(4, 1, 28, 28) * 2 - 1,
                     torch.randn(4, 8), clip=0.01)
    values = torch.cat([p.detach().flatten() for p in critic.parameters()])
    assert values.abs().max() <= 0.01
    assert (values.abs() == 0.01).any()  # the bound is reached, not just respected


def test_clip_weights_rejects_a_non_positive_bound():
    with pytest.raises(ValueError, match="positive"):
        wgan.clip_weights(Linear([1.0]), 0.0)


def test_critic_step_reports_the_batch_w_estimate_and_lowers_the_loss():
    torch.manual_seed(0)
    critic = Linear([0.0])
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.1)
    x_real, fake = torch.full((8, 1), 2.0), torch.zeros(8, 1)
    first = wgan.critic_step(nn.Identity(), critic, optimizer, x_real, fake)
    second = wgan.critic_step(nn.Identity(), critic, optimizer, x_real, fake)
    assert first["w_estimate"] == 0.0  # w = 0 scores everything 0
    assert second["w_estimate"] > first["w_estimate"]  # the critic learned to score real higher
    assert first["gp"] == 0.0


def test_wgan_step_uses_n_critic_minibatches_and_returns_all_losses():
    generator, critic = wgan.make_wgan("toy", 8)
    g_opt, c_opt = (torch.optim.Adam(m.parameters(), 1e-4, betas=(0.0, 0.9))
                    for m in (generator, critic))
    out = wgan.wgan_step(generator, critic, g_opt, c_opt, torch.randn(20, 2), 8, n_critic=5,
                         gp_weight=10.0)
    assert set(out) == {"critic_loss", "gp", "w_estimate", "g_loss"}
    assert out["gp"] > 0
    with pytest.raises(ValueError, match="n_critic=3"):
        wgan.wgan_step(generator, critic, g_opt, c_opt, torch.randn(20, 2), 8, n_critic=3)


def test_defaults_follow_the_papers():
    for schedule in ("smoke", "full"):
        clip, gp = (wgan.DEFAULTS[schedule]["dcgan"][v] for v in ("clip", "gp"))
        assert (clip["optimizer"], clip["lr"], clip["clip"], clip["n_critic"]) == \
            ("rmsprop", 5e-5, 0.01, 5)
        assert (gp["optimizer"], gp["lr"], gp["betas"], gp["gp_weight"], gp["n_critic"]) == \
            ("adam", 1e-4, (0.0, 0.9), 10.0, 5)
        assert gp["norm"] != "batch"


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="recipe"):
        wgan.make_wgan("mlp", 8)
    with pytest.raises(ValueError, match="optimizer"):
        wgan.make_optimizer(Linear([1.0]).parameters(), "sgd", 0.1)
    with pytest.raises(ValueError, match="variant"):
        wgan.load_or_train_wgan("spectral", torch.zeros(4, 1, 28, 28), "fashion-mnist", "smoke",
                                "cpu")


# ---- the critic as a distance estimate -----------------------------------------------------------


@pytest.mark.parametrize("shift", [0.5, 1.5])
def test_a_trained_gp_critic_estimates_w1_of_shifted_gaussians(shift):
    """N(0, 1) vs N(shift, 1): W1 = shift (scipy's exact W1 between the two samples). The penalty
    is soft: among critics f(x) = -k x the penalised objective k W1 - lambda (k - 1)^2 peaks at
    k = 1 + W1 / (2 lambda), so a well-trained critic reports W1 (1 + W1 / (2 lambda)), not W1."""
    torch.manual_seed(0)
    p = torch.randn(4000, 1)
    q = torch.randn(4000, 1) + shift
    critic = one_d_critic()
    wgan.train_critic(critic, p, q, steps=600, gp_weight=10.0, seed=0)
    exact = wasserstein_distance(p.squeeze(1).numpy(), q.squeeze(1).numpy())
    assert wgan.estimate_w1(critic, p, q) == pytest.approx(exact * (1 + exact / 20), rel=0.03)


def test_load_or_train_wgan_trains_once_then_loads_the_same_weights():
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    g1, c1, meta1 = wgan.load_or_train_wgan("gp", x, "fashion-mnist", "smoke", "cpu", steps=2,
                                            batch_size=4, snapshots=2, progress=False)
    assert checkpoints.checkpoint_path("wgan-gp", "fashion-mnist", "smoke").exists()
    assert meta1["steps"] == 2 and len(meta1["history"]["w_estimate"]) == 2
    assert meta1["snapshots"]["images"].shape == (2, 64, 1, 28, 28)
    g2, c2, meta2 = wgan.load_or_train_wgan("gp", x[:0], "fashion-mnist", "smoke", "cpu")
    for a, b in zip(g1.state_dict().values(), g2.state_dict().values()):
        assert torch.equal(a, b)
    assert meta2["history"] == meta1["history"]
