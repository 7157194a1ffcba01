import math

import pytest
import torch
from scipy.stats import wasserstein_distance
from torch import nn

from course_lib import checkpoints, gan, losses, nets, ot, toy, wgan


class Linear(nn.Module):
    """f(x) = w.x + b on flattened inputs, returning (B,) like the course's critics."""

    def __init__(self, w, b=0.0):
        super().__init__()
        self.w = nn.Parameter(torch.as_tensor(w, dtype=torch.float32))
        self.b = nn.Parameter(torch.tensor(float(b)))

    def forward(self, x):
        return x.flatten(1) @ self.w + self.b


def one_d_critic():
    return nets.mlp_discriminator((1,), hidden=(64, 64))


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
    assert len(checkpoints.saved("wgan-gp-fashion-mnist-smoke")) == 1
    assert meta1["steps"] == 2 and len(meta1["history"]["w_estimate"]) == 2
    assert meta1["snapshots"]["images"].shape == (2, 64, 1, 28, 28)
    assert meta1["config"]["variant"] == "gp" and meta1["config"]["steps"] == 2
    g2, c2, meta2 = wgan.load_or_train_wgan("gp", x, "fashion-mnist", "smoke", "cpu", steps=2,
                                            batch_size=4, snapshots=2, progress=False)
    assert len(checkpoints.saved("wgan-gp-fashion-mnist-smoke")) == 1  # loaded, not trained again
    for a, b in zip(g1.state_dict().values(), g2.state_dict().values()):
        assert torch.equal(a, b)
    assert meta2["history"] == meta1["history"]


# ---- notebook 08: critic surfaces, gradient norms on interpolates, toy runs, exercises ------------


def test_critic_map_of_a_linear_critic_is_the_plane():
    xs, ys, scores = toy.critic_map(Linear([2.0, -1.0], b=0.5), lims=(-1.0, 1.0), n=5)
    assert scores.shape == (5, 5)
    expected = 2.0 * xs[None, :] - 1.0 * ys[:, None] + 0.5  # scores[i, j] = f(xs[j], ys[i])
    assert torch.allclose(scores, expected, atol=1e-6)


def test_interpolate_gradient_norms_of_known_critics():
    x_real, x_fake = torch.randn(64, 2), torch.randn(64, 2) + 3
    norms = wgan.interpolate_gradient_norms(Linear([3.0, 4.0]), x_real, x_fake)
    assert norms.shape == (64,) and torch.allclose(norms, torch.full((64,), 5.0))
    # f(x) = 2 |x - c| with c far away has gradient norm exactly 2 everywhere on the lines
    distance = nn.Sequential()
    distance.forward = lambda x: 2 * (x - torch.tensor([50.0, 50.0])).norm(dim=1)
    distance.register_parameter("dummy", nn.Parameter(torch.zeros(1)))
    assert torch.allclose(wgan.interpolate_gradient_norms(distance, x_real, x_fake),
                          torch.full((64,), 2.0))


def test_run_toy_keeps_snapshots_and_rejects_unknown_models():
    config = dict(wgan.DEFAULTS["smoke"]["toy"]["gp"], steps=4)
    run = toy.run_toy("ring", "gp", config, n_eval=100, n_snapshots=2, n_points=1000, progress=False)
    assert [s["step"] for s in run["snapshots"]] == [2, 4]
    assert run["snapshots"][-1]["samples"].shape == (100, 2)
    assert run["final"]["n_modes"] == 8 and len(run["history"]["w_estimate"]) == 4
    assert run["snapshots"][0]["surface"][2].shape == (101, 101)
    gan_config = dict(gan.DEFAULTS["smoke"]["toy"], steps=2)
    gan_run = toy.run_toy("grid", "gan", gan_config, n_eval=50, n_snapshots=1, n_points=1000,
                           progress=False)
    assert gan_run["final"]["n_modes"] == 25
    probs = gan_run["snapshots"][0]["surface"][2]
    assert probs.min() >= 0 and probs.max() <= 1  # the GAN's surface is D(x), a probability
    with pytest.raises(ValueError, match="toy model"):
        toy.run_toy("ring", "vae", config)


def not_attempted_08(*args):
    raise NotImplementedError


def correct_penalty_08(critic, x_real, x_fake, eps, weight):
    return losses.gradient_penalty(critic, x_real, x_fake, weight, eps=eps)


def correct_one_sided_08(critic, x_real, x_fake, eps, weight):
    x_hat = losses.interpolate(x_real, x_fake, eps)
    norms = losses.critic_gradient_norms(critic, x_hat, create_graph=True)
    return weight * torch.relu(norms - 1).pow(2).mean()


def test_gradient_penalty_checker_accepts_the_library_and_rejects_mistakes(capsys):
    from course_lib import exercises

    assert exercises.check_gradient_penalty(correct_penalty_08) is True
    assert "correct" in capsys.readouterr().out
    assert exercises.check_gradient_penalty(not_attempted_08) is False

    def no_graph(critic, x_real, x_fake, eps, weight):
        x_hat = losses.interpolate(x_real, x_fake, eps)
        return weight * (losses.critic_gradient_norms(critic, x_hat) - 1).pow(2).mean()

    def squared_norm(critic, x_real, x_fake, eps, weight):  # (||g||^2 - 1)^2
        x_hat = losses.interpolate(x_real, x_fake, eps).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return weight * (grad.flatten(1).pow(2).sum(1) - 1).pow(2).mean()

    def at_real_points(critic, x_real, x_fake, eps, weight):
        return correct_penalty_08(critic, x_real, x_real, eps, weight)

    with pytest.raises(AssertionError, match="create_graph"):
        exercises.check_gradient_penalty(no_graph)
    for wrong in (squared_norm, at_real_points, correct_one_sided_08):
        with pytest.raises(AssertionError, match="gradient penalty"):
            exercises.check_gradient_penalty(wrong)


def test_one_sided_penalty_checker():
    from course_lib import exercises

    assert exercises.check_one_sided_penalty(correct_one_sided_08) is True
    assert exercises.check_one_sided_penalty(not_attempted_08) is False
    with pytest.raises(AssertionError, match="one-sided penalty, linear critic with"):
        exercises.check_one_sided_penalty(correct_penalty_08)  # penalises |w| = 0.5 too


def test_soft_penalty_optimum_checker():
    from course_lib import exercises

    assert exercises.check_soft_penalty_optimum(lambda w1, lam: (1 + w1 / (2 * lam),
                                                                 w1 * (1 + w1 / (2 * lam)))) is True
    assert exercises.check_soft_penalty_optimum(not_attempted_08) is False
    with pytest.raises(AssertionError, match="k_star"):
        exercises.check_soft_penalty_optimum(lambda w1, lam: (1.0, w1))  # the hard constraint
    with pytest.raises(AssertionError, match="estimate"):
        exercises.check_soft_penalty_optimum(lambda w1, lam: (1 + w1 / (2 * lam), w1))


# ---- notebook 07: divergences of the parallel lines, optimal transport, clipped critics ----------


@pytest.mark.parametrize("theta", [0.5, -2.0, 1e-6])
def test_parallel_lines_divergences_off_zero(theta):
    d = ot.parallel_lines_divergences(theta)
    assert d["w1"] == pytest.approx(abs(theta))
    assert d["js"] == pytest.approx(math.log(2)) and d["kl"] == math.inf and d["tv"] == 1.0


def test_parallel_lines_divergences_at_zero_are_zero():
    assert ot.parallel_lines_divergences(0.0) == {"w1": 0.0, "js": 0.0, "kl": 0.0, "tv": 0.0}


@pytest.mark.parametrize("theta, sigma", [(0.3, 0.2), (1.0, 1.0), (-0.5, 0.4)])
def test_blurred_lines_js_matches_scipy_quadrature(theta, sigma):
    from scipy.integrate import quad
    from scipy.stats import norm

    def integrand(x):
        p, q = norm.pdf(x, 0, sigma), norm.pdf(x, theta, sigma)
        m = (p + q) / 2
        return 0.5 * p * math.log(p / m) + 0.5 * q * math.log(q / m)

    expected, _ = quad(integrand, -12 * sigma + min(0, theta), 12 * sigma + max(0, theta), limit=200)
    d = ot.blurred_lines_divergences(theta, sigma)
    assert d["js"] == pytest.approx(expected, rel=1e-6, abs=1e-10)
    assert d["kl"] == pytest.approx(theta**2 / (2 * sigma**2)) and d["w1"] == pytest.approx(abs(theta))


def test_blurred_lines_js_limits():
    assert ot.blurred_lines_divergences(0.0, 0.1)["js"] == pytest.approx(0.0, abs=1e-12)
    assert ot.blurred_lines_divergences(1.0, 0.01)["js"] == pytest.approx(math.log(2), abs=1e-9)
    with pytest.raises(ValueError, match="positive"):
        ot.blurred_lines_divergences(1.0, 0.0)


def test_transport_plan_hand_example():
    # p: 1/2 at 0 and 1/2 at 1; q: 1/2 at 0.5 and 1/2 at 2. Monotone plan: 0 -> 0.5, 1 -> 2.
    w1, plan = ot.transport_plan([0.0, 1.0], [0.5, 0.5], [0.5, 2.0], [0.5, 0.5])
    assert w1 == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert abs(plan - torch.tensor([[0.5, 0.0], [0.0, 0.5]]).numpy()).max() < 1e-9


def test_transport_plan_and_dual_agree_with_scipy_in_1d_and_each_other_in_2d():
    import numpy as np

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=7), rng.normal(size=5) + 1
    a, b = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(5))
    exact = wasserstein_distance(x, y, a, b)
    assert ot.transport_plan(x, a, y, b)[0] == pytest.approx(exact, rel=1e-7)
    assert ot.kantorovich_potential(x, a, y, b)[0] == pytest.approx(exact, rel=1e-7)
    x2, y2 = rng.normal(size=(6, 2)), rng.normal(size=(4, 2))
    a2, b2 = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(4))
    w1, plan = ot.transport_plan(x2, a2, y2, b2)
    w1_dual, f_x, f_y = ot.kantorovich_potential(x2, a2, y2, b2)
    assert w1_dual == pytest.approx(w1, rel=1e-7)
    assert plan.sum(1) == pytest.approx(a2) and plan.sum(0) == pytest.approx(b2)
    points, values = np.vstack([x2, y2]), np.concatenate([f_x, f_y])
    dist = np.linalg.norm(points[:, None] - points[None], axis=2)
    assert (np.abs(values[:, None] - values[None]) <= dist + 1e-8).all()  # 1-Lipschitz


def test_transport_plan_rejects_bad_masses_and_shapes():
    with pytest.raises(ValueError, match="summing to 1"):
        ot.transport_plan([0.0, 1.0], [0.5, 0.6], [0.0], [1.0])
    with pytest.raises(ValueError, match="2 points"):
        ot.transport_plan([0.0, 1.0, 2.0], [0.5, 0.5], [0.0], [1.0])


def test_w1_from_cdfs_matches_scipy():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, generator=g), 2 * torch.randn(170, generator=g) + 1
    assert ot.w1_from_cdfs(x, y) == pytest.approx(wasserstein_distance(x.numpy(), y.numpy()),
                                                    rel=1e-9)
    assert ot.w1_from_cdfs([0.0], [3.0]) == pytest.approx(3.0)


def test_lipschitz_upper_bound_of_a_linear_critic_is_its_norm():
    critic = nn.Sequential(nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        critic[0].weight.copy_(torch.tensor([[3.0, 4.0]]))
    assert wgan.lipschitz_upper_bound(critic) == pytest.approx(5.0)


def test_lipschitz_upper_bound_of_a_fully_clipped_mlp_is_the_a_priori_bound():
    critic = one_d_critic()  # 1 -> 64 -> 64 -> 1
    with torch.no_grad():
        for p in critic.parameters():
            p.fill_(0.01)  # every entry at +c: rank one, ||W||_2 = c sqrt(n_in n_out)
    assert wgan.lipschitz_upper_bound(critic) == pytest.approx(0.01**3 * 8 * 64 * 8, rel=1e-5)
    with pytest.raises(ValueError, match="Conv2d"):
        wgan.lipschitz_upper_bound(wgan.make_wgan("dcgan", 8)[1])


def test_a_clipped_critic_divided_by_its_bound_never_beats_the_exact_w1():
    """KR duality: f / K_hat is 1-Lipschitz, so its estimate is a lower bound on W1 of the samples."""
    torch.manual_seed(0)
    p, q = torch.randn(2000, 1), torch.randn(2000, 1) + 1.0
    critic = one_d_critic()
    wgan.train_critic(critic, p, q, steps=200, optimizer="rmsprop", lr=1e-3, betas=None, clip=0.01,
                      gp_weight=None)
    exact = wasserstein_distance(p.squeeze(1).numpy(), q.squeeze(1).numpy())
    estimate = wgan.estimate_w1(critic, p, q)
    assert 0 < estimate / wgan.lipschitz_upper_bound(critic) <= exact
    assert wgan.fraction_at_clip(critic, 0.01) > 0.5  # the clipped weights pile up at the bound


def test_fraction_at_clip_counts_parameters_at_the_bound():
    critic = nn.Linear(3, 1)  # 4 parameters
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.01, -0.01, 0.005]]))
        critic.bias.fill_(0.0)
    assert wgan.fraction_at_clip(critic, 0.01) == pytest.approx(0.5)


# ---- the checkers of notebook 07's exercises ----------------------------------------------------


def _stub_07(*args):
    raise NotImplementedError


def test_check_w1_sorted():
    from course_lib import exercises

    assert exercises.check_w1_sorted(lambda x, y: (x.sort().values - y.sort().values).abs().mean())
    assert exercises.check_w1_sorted(_stub_07) is False
    with pytest.raises(AssertionError, match="W1"):
        exercises.check_w1_sorted(lambda x, y: (x - y).abs().mean())  # unsorted pairing
    with pytest.raises(AssertionError, match="W1"):
        exercises.check_w1_sorted(lambda x, y: (x.mean() - y.mean()).abs())  # difference of means


def test_check_clip_weights():
    from course_lib import exercises

    def right(module, c):
        with torch.no_grad():
            for p in module.parameters():
                p.clamp_(-c, c)

    def rescales(module, c):  # scales into the box instead of clipping
        with torch.no_grad():
            for p in module.parameters():
                p.mul_(c / p.abs().max())

    def replaces(module, c):
        for layer in module:
            if isinstance(layer, nn.Linear):
                layer.weight = nn.Parameter(layer.weight.detach().clamp(-c, c))
                layer.bias = nn.Parameter(layer.bias.detach().clamp(-c, c))

    assert exercises.check_clip_weights(right) is True
    assert exercises.check_clip_weights(_stub_07) is False
    with pytest.raises(AssertionError, match="clipped parameters"):
        exercises.check_clip_weights(rescales)
    with pytest.raises(AssertionError, match="in place"):
        exercises.check_clip_weights(replaces)
    with pytest.raises(AssertionError):
        exercises.check_clip_weights(lambda module, c: None)  # does nothing


def test_check_js_discrete():
    from course_lib import exercises

    def right(p, q):
        m = (p + q) / 2
        return sum(0.5 * a[a > 0] @ (a[a > 0] / m[a > 0]).log() for a in (p, q))

    def naive(p, q):  # 0 * log 0 = nan
        m = (p + q) / 2
        return 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()

    assert exercises.check_js_discrete(right) is True
    assert exercises.check_js_discrete(_stub_07) is False
    with pytest.raises(AssertionError, match="0 log 0"):
        exercises.check_js_discrete(naive)
    with pytest.raises(AssertionError, match="JS"):
        exercises.check_js_discrete(lambda p, q: 2 * right(p, q))  # the GAN's 2 JS
