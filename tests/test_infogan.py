"""InfoGAN (notebook 09): information losses, code sampling, networks, matching accuracy, k-means,
the checkpointed recipe and the exercise checkers."""

import math

import pytest
import torch
from torch import nn

from course_lib import checkpoints, clustering, exercises, infogan, losses

LOG2PI = math.log(2 * math.pi)


# ---- the information loss against hand-computed values -------------------------------------------


def test_categorical_nll_is_cross_entropy_by_hand():
    # row 0: logits (log 3, 0, 0) -> softmax (3/5, 1/5, 1/5), code 0: -log 3/5
    # row 1: logits (0, 0, 0)     -> softmax 1/3 each,       code 2: -log 1/3
    logits = torch.tensor([[math.log(3.0), 0.0, 0.0], [0.0, 0.0, 0.0]])
    expected = (-math.log(3 / 5) - math.log(1 / 3)) / 2
    got = losses.infogan_categorical_nll(logits, torch.tensor([0, 2]))
    assert got.item() == pytest.approx(expected, abs=1e-6)


def test_categorical_bound_reaches_log_k_for_a_perfect_q():
    logits = 50.0 * torch.eye(10)  # Q is certain and right: cross-entropy 0, bound log 10 = H(c)
    nll = losses.infogan_categorical_nll(logits, torch.arange(10))
    assert math.log(10) - nll.item() == pytest.approx(math.log(10), abs=1e-6)
    uniform = losses.infogan_categorical_nll(torch.zeros(10, 10), torch.arange(10))
    assert math.log(10) - uniform.item() == pytest.approx(0.0, abs=1e-6)  # Q ignores x: bound 0


def test_gaussian_nll_by_hand_fixed_and_learned_variance():
    mean = torch.tensor([[0.5, 0.0]])
    codes = torch.tensor([[1.0, 2.0]])
    # fixed sigma = 1: 1/2 (log 2 pi + 0.25) + 1/2 (log 2 pi + 4)
    fixed = losses.infogan_gaussian_nll(mean, torch.zeros(1, 2), codes)
    assert fixed.item() == pytest.approx(0.5 * (LOG2PI + 0.25) + 0.5 * (LOG2PI + 4.0), abs=1e-5)
    # learned: sigma^2 = (1, 4): 1/2 (log 2 pi + 0.25) + 1/2 (log 2 pi + log 4 + 4 / 4)
    learned = losses.infogan_gaussian_nll(mean, torch.tensor([[0.0, math.log(4.0)]]), codes)
    expected = 0.5 * (LOG2PI + 0.25) + 0.5 * (LOG2PI + math.log(4.0) + 1.0)
    assert learned.item() == pytest.approx(expected, abs=1e-5)


def test_gaussian_nll_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mean, logvar, codes = (torch.randn(7, 2, generator=g) for _ in range(3))
    reference = -torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(codes).sum(1).mean()
    assert losses.infogan_gaussian_nll(mean, logvar, codes).item() == pytest.approx(reference.item(),
                                                                                   abs=1e-5)


def test_information_loss_weights_the_two_parts():
    logits = torch.tensor([[math.log(3.0), 0.0, 0.0], [0.0, 0.0, 0.0]])
    cats = torch.tensor([0, 2])
    mean, logvar, codes = torch.tensor([[0.5], [0.0]]), torch.zeros(2, 1), torch.tensor([[1.0], [0.0]])
    cat = (-math.log(3 / 5) - math.log(1 / 3)) / 2
    cont = 0.5 * LOG2PI + 0.5 * (0.25 / 2)  # mean over the batch of 1/2 (log 2 pi + (c - m)^2)
    got = losses.infogan_information_loss(logits, cats, mean, logvar, codes, lambda_cat=1.0,
                                          lambda_cont=0.1)
    assert got.item() == pytest.approx(cat + 0.1 * cont, abs=1e-5)


def test_information_loss_rejects_one_hot_codes_and_bad_shapes():
    with pytest.raises(ValueError, match="integer categories"):
        losses.infogan_categorical_nll(torch.zeros(4, 3), torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="integer codes"):
        losses.infogan_categorical_nll(torch.zeros(2, 3), torch.eye(3)[:2])
    with pytest.raises(ValueError, match="same shape"):
        losses.infogan_gaussian_nll(torch.zeros(4, 2), torch.zeros(4, 2), torch.zeros(4, 1))


# ---- codes and latents ---------------------------------------------------------------------------


def test_sample_codes_shapes_and_ranges():
    categories, continuous = infogan.sample_codes(5000, 10, 2, generator=torch.Generator().manual_seed(0))
    assert categories.shape == (5000,) and categories.dtype == torch.long
    assert set(categories.tolist()) == set(range(10))
    counts = torch.bincount(categories, minlength=10).float() / 5000
    assert (counts - 0.1).abs().max() < 0.02  # uniform prior
    assert continuous.shape == (5000, 2)
    assert continuous.min() >= -1 and continuous.max() <= 1
    assert continuous.mean(0).abs().max() < 0.05
    assert continuous.var(0).sub(1 / 3).abs().max() < 0.03  # U(-1, 1): variance 1/3


def test_sample_latent_layout_and_one_hot():
    latent, categories, continuous = infogan.sample_latent(
        64, noise_dim=62, generator=torch.Generator().manual_seed(1))
    assert latent.shape == (64, 62 + 10 + 2)
    one_hot = latent[:, 62:72]
    assert torch.equal(one_hot.sum(1), torch.ones(64))
    assert set(one_hot.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(one_hot.argmax(1), categories)
    assert torch.equal(latent[:, 72:], continuous)


def test_sample_latent_is_reproducible_with_a_generator():
    a = infogan.sample_latent(8, 5, generator=torch.Generator().manual_seed(3))[0]
    b = infogan.sample_latent(8, 5, generator=torch.Generator().manual_seed(3))[0]
    assert torch.equal(a, b)


def test_make_latent_rejects_bad_codes():
    with pytest.raises(ValueError, match="integers in 0..9"):
        infogan.make_latent(torch.zeros(2, 4), torch.tensor([0, 10]), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="same batch size"):
        infogan.make_latent(torch.zeros(3, 4), torch.tensor([0, 1]), torch.zeros(2, 2))


def test_category_grid_and_traversal_vary_only_their_code():
    identity = nn.Identity()  # a "generator" that returns its input shows the latents themselves
    noise = torch.randn(3, 4)
    grid = infogan.category_grid(identity, noise, n_categories=5, n_continuous=2)
    assert grid.shape == (15, 4 + 5 + 2)
    assert torch.equal(grid[:, 4:9].argmax(1), torch.arange(5).repeat(3))  # categories across columns
    assert torch.equal(grid[:, :4], noise.repeat_interleave(5, 0))  # same noise along each row
    assert torch.equal(grid[:, 9:], torch.zeros(15, 2))
    values = torch.linspace(-2, 2, 7)
    trav = infogan.continuous_traversal(identity, noise[0], 1, values, n_categories=5, n_continuous=2)
    assert trav.shape == (35, 11)
    assert torch.equal(trav[:, 10], values.repeat(5))  # code 1 takes every value in every row
    assert torch.equal(trav[:, 9], torch.zeros(35))  # the other code stays at 0
    assert torch.equal(trav[:, 4:9].argmax(1), torch.arange(5).repeat_interleave(7))
    assert torch.equal(trav[:, :4], noise[0].expand(35, 4))
    with pytest.raises(ValueError, match="code must be"):
        infogan.continuous_traversal(identity, noise[0], 2, values, n_categories=5, n_continuous=2)


# ---- networks and the step -----------------------------------------------------------------------


@pytest.mark.parametrize("learn_variance, q_width", [(False, 12), (True, 14)])
def test_networks_shapes(learn_variance, q_width):
    torch.manual_seed(0)
    generator, discriminator = infogan.make_infogan(16, learn_variance=learn_variance)
    latent, _, _ = infogan.sample_latent(4, 16)
    x = generator(latent)
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1
    assert discriminator(x).shape == (4,)
    out = discriminator.q(x)
    assert out.shape == (4, q_width)
    logits, mean, logvar = infogan.split_q(out)
    assert logits.shape == (4, 10) and mean.shape == (4, 2) and logvar.shape == (4, 2)
    if not learn_variance:
        assert torch.equal(logvar, torch.zeros(4, 2))  # fixed sigma = 1


def test_scale_noise_scales_only_the_noise_part():
    layer = infogan.ScaleNoise(3, 0.1)
    latent = torch.tensor([[1.0, -2.0, 4.0, 1.0, 0.0, 0.5]])  # 3 noise, then one-hot (2) and 1 code
    expected = torch.tensor([[0.1, -0.2, 0.4, 1.0, 0.0, 0.5]])
    torch.testing.assert_close(layer(latent), expected)
    with pytest.raises(ValueError, match="positive"):
        infogan.ScaleNoise(3, 0.0)


def test_noise_std_is_a_generator_of_scaled_noise():
    # noise_std = s puts ScaleNoise first: G(z) with z ~ N(0, I) is the rest of G at z' = s z, so
    # the prior of the noise is N(0, s^2 I) and every sampler can keep drawing N(0, I)
    torch.manual_seed(0)
    scaled, _ = infogan.make_infogan(16, noise_std=0.1)
    plain, _ = infogan.make_infogan(16)
    assert isinstance(scaled[1], infogan.ScaleNoise) and float(scaled.state_dict()["1.std"]) == pytest.approx(0.1)
    assert not any(isinstance(m, infogan.ScaleNoise) for m in plain)  # the paper's N(0, I): no extra layer
    scaled.eval()
    latent, _, _ = infogan.sample_latent(5, 16)
    z_prime = torch.cat([0.1 * latent[:, :16], latent[:, 16:]], dim=1)
    torch.testing.assert_close(scaled(latent), scaled[2:](z_prime))


def test_q_shares_the_discriminator_body():
    _, discriminator = infogan.make_infogan(16)
    # Q adds only fully connected layers on top of the body's features: no second convolutional net
    assert not any(isinstance(m, nn.Conv2d) for m in discriminator.q_head.modules())
    x = torch.randn(3, 1, 28, 28)
    discriminator.eval()
    torch.testing.assert_close(discriminator.q(x), discriminator.q_from_features(discriminator.features(x)))
    features = discriminator.features(x)
    torch.testing.assert_close(discriminator(x), discriminator.head(features).squeeze(1))


def test_split_q_rejects_a_wrong_width():
    with pytest.raises(ValueError, match="columns"):
        infogan.split_q(torch.zeros(2, 11))


def test_step_updates_all_three_and_reports_a_bounded_mi():
    torch.manual_seed(0)
    generator, discriminator = infogan.make_infogan(8)
    g_opt = torch.optim.Adam(generator.parameters(), 1e-3)
    d_opt = torch.optim.Adam(discriminator.parameters(), 1e-3)
    before = [m[-1].weight.detach().clone() for m in (generator[:2], discriminator.q_head)]
    before.append(discriminator.head.weight.detach().clone())
    out = infogan.infogan_step(generator, discriminator, g_opt, d_opt, torch.rand(16, 1, 28, 28) * 2 - 1,
                               noise_dim=8)
    after = [generator[1].weight, discriminator.q_head[-1].weight, discriminator.head.weight]
    assert all(not torch.equal(b, a) for b, a in zip(before, after))
    assert all(math.isfinite(float(v)) for v in out.values())
    assert float(out["mi_cat"]) <= math.log(10) + 1e-6


def test_generator_step_trains_g_to_make_codes_readable():
    """Only the information term reaches G through Q: its gradient is non-zero for G's weights."""
    torch.manual_seed(1)
    generator, discriminator = infogan.make_infogan(8)
    latent, cats, cont = infogan.sample_latent(8, 8)
    features = discriminator.features(generator(latent))
    loss, _ = infogan.information_loss(discriminator, features, cats, cont)
    loss.backward()
    assert generator[1].weight.grad is not None and generator[1].weight.grad.abs().sum() > 0


# ---- matching accuracy and k-means ---------------------------------------------------------------


def test_matching_accuracy_permuted_perfect_clustering_is_one():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(10, (1000,), generator=g)
    permutation = torch.randperm(10, generator=g)
    assert clustering.matching_accuracy(permutation[labels], labels) == 1.0
    mapping, _ = clustering.best_matching(permutation[labels], labels)
    assert torch.equal(mapping[permutation], torch.arange(10))  # the matching undoes the permutation


def test_matching_accuracy_of_random_labels_is_about_a_tenth():
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(10, (20_000,), generator=g)
    accuracy = clustering.matching_accuracy(torch.randint(10, (20_000,), generator=g), labels)
    assert 0.09 < accuracy < 0.12


def test_matching_is_one_to_one():
    # Both clusters hold mostly label 0: a majority vote would score 4/6, a one-to-one map 3/6.
    clusters, labels = torch.tensor([0, 0, 0, 1, 1, 1]), torch.tensor([0, 0, 1, 0, 0, 1])
    assert clustering.matching_accuracy(clusters, labels) == pytest.approx(0.5)
    mapping, counts = clustering.best_matching(clusters, labels)
    assert sorted(mapping.tolist()) == [0, 1] and counts.sum() == 6


def test_matching_with_more_clusters_than_classes_leaves_some_unmatched():
    clusters, labels = torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 1])
    mapping, _ = clustering.best_matching(clusters, labels)
    assert (mapping == -1).sum() == 1
    assert clustering.matching_accuracy(clusters, labels) == pytest.approx(3 / 4)


def test_matching_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        clustering.matching_accuracy(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.long))


def test_kmeans_recovers_separated_blobs():
    g = torch.Generator().manual_seed(2)
    centres = torch.randn(4, 5, generator=g) * 10
    labels = torch.arange(4).repeat(50)
    x = centres[labels] + 0.1 * torch.randn(200, 5, generator=g)
    assignments, found, inertia = clustering.kmeans(x, 4, seed=0)
    assert clustering.matching_accuracy(assignments, labels) == 1.0
    assert found.shape == (4, 5)
    assert inertia == pytest.approx(float((x - found[assignments]).pow(2).sum()), rel=1e-4)


def test_kmeans_is_seeded():
    x = torch.randn(300, 3, generator=torch.Generator().manual_seed(3))
    a = clustering.kmeans(x, 5, seed=7)[0]
    assert torch.equal(a, clustering.kmeans(x, 5, seed=7)[0])


# ---- the checkpointed recipe ---------------------------------------------------------------------


def test_load_or_train_infogan_saves_then_loads(capsys):
    x = torch.rand(128, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    g1, d1, meta = infogan.load_or_train_infogan(x, "tiny", "smoke", "cpu", steps=4, batch_size=16,
                                                 snapshots=2, progress=False)
    assert meta["steps"] == 4 and meta["seconds"] > 0 and meta["device"] == "cpu"
    assert meta["config"]["noise_dim"] == 62 and meta["config"]["n_categories"] == 10
    assert meta["snapshots"]["images"].shape == (2, 80, 1, 28, 28)
    assert len(checkpoints.saved("infogan-tiny-smoke")) == 1
    g2, d2, meta2 = infogan.load_or_train_infogan(x, "tiny", "smoke", "cpu", steps=4, batch_size=16,
                                                  snapshots=2, progress=False)
    assert "loaded" in capsys.readouterr().out
    assert meta2["steps"] == 4
    for a, b in zip(g1.state_dict().values(), g2.state_dict().values()):
        assert torch.equal(a, b)
    images = infogan.sample_images(g2, 5)
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1
    again = [infogan.sample_images(g2, 5, rng=torch.Generator().manual_seed(1)) for _ in range(2)]
    assert torch.equal(again[0], again[1])  # a seeded generator gives the same samples


# ---- exercise checkers ---------------------------------------------------------------------------


def not_attempted(*args):
    raise NotImplementedError


def correct_mi_bound(logits, codes):
    return math.log(logits.shape[1]) - torch.nn.functional.cross_entropy(logits, codes).item()


def test_mi_bound_checker(capsys):
    assert exercises.check_categorical_mi_bound(correct_mi_bound) is True
    assert "correct" in capsys.readouterr().out
    assert exercises.check_categorical_mi_bound(not_attempted) is False


@pytest.mark.parametrize("wrong", [
    lambda logits, codes: torch.nn.functional.cross_entropy(logits, codes),  # the loss, not the bound
    lambda logits, codes: math.log(10) - torch.nn.functional.cross_entropy(logits, codes),  # K fixed
    lambda logits, codes: math.log(logits.shape[1])  # naive log of the softmax: -inf when Q is sure
    + torch.log(torch.softmax(logits, 1)[torch.arange(len(codes)), codes]).mean(),
])
def test_mi_bound_checker_wrong(wrong):
    with pytest.raises(AssertionError, match="bound"):
        exercises.check_categorical_mi_bound(wrong)


def correct_gaussian_nll(codes, mean, logvar):
    return -torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(codes).sum(1)


def test_gaussian_code_nll_checker(capsys):
    assert exercises.check_gaussian_code_nll(correct_gaussian_nll) is True
    assert "correct" in capsys.readouterr().out
    assert exercises.check_gaussian_code_nll(not_attempted) is False


@pytest.mark.parametrize("wrong", [
    lambda c, m, lv: 0.5 * ((c - m) ** 2).sum(1),  # squared error only: ignores the variance
    lambda c, m, lv: correct_gaussian_nll(c, m, lv).mean(),  # averaged over the batch
    lambda c, m, lv: -torch.distributions.Normal(m, lv.exp()).log_prob(c).sum(1),  # sigma = exp(logvar)
])
def test_gaussian_code_nll_checker_wrong(wrong):
    with pytest.raises(AssertionError, match="log-likelihood"):
        exercises.check_gaussian_code_nll(wrong)


def correct_matching(clusters, labels):
    return clustering.matching_accuracy(clusters, labels)


def majority_vote(clusters, labels):  # many-to-one: each cluster takes its most common label
    return sum(int(torch.bincount(labels[clusters == c]).max()) for c in clusters.unique()) / len(labels)


def test_matching_checker(capsys):
    assert exercises.check_matching_accuracy(correct_matching) is True
    assert "correct" in capsys.readouterr().out
    assert exercises.check_matching_accuracy(not_attempted) is False


@pytest.mark.parametrize("wrong", [
    majority_vote,
    lambda clusters, labels: float((clusters == labels).float().mean()),  # no matching at all
])
def test_matching_checker_wrong(wrong):
    with pytest.raises(AssertionError, match="accuracy"):
        exercises.check_matching_accuracy(wrong)
