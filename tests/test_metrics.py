import math

import numpy as np
import pytest
import scipy.linalg
import torch

from course_lib import checkpoints, data, exercises, metrics


def gen(seed):
    return torch.Generator().manual_seed(seed)


def random_cov(d, seed, scale=1.0):
    a = torch.randn(d, d, generator=gen(seed), dtype=torch.float64)
    return scale * (a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64))


# ---- Fréchet distance ---------------------------------------------------------------------------


def scipy_reference_fd(mu1, s1, mu2, s2):
    """The usual reference computation (as in pytorch-fid), with scipy's general sqrtm."""
    mu1, s1, mu2, s2 = (np.asarray(a, dtype=np.float64) for a in (mu1, s1, mu2, s2))
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if np.iscomplexobj(covmean):
        assert np.abs(covmean.imag).max() < 1e-6
        covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_fd_of_a_feature_set_with_itself_is_zero():
    features = torch.randn(500, 32, generator=gen(0)) * 3 + 1
    assert abs(metrics.fid_from_features(features, features)) < 1e-9
    assert abs(metrics.fid_from_features(features, features.flip(0))) < 1e-9  # order does not matter


def test_fd_of_a_rank_deficient_covariance_with_itself_is_zero():
    features = torch.randn(20, 64, generator=gen(1))  # 20 points in 64-D: covariance of rank 19
    mu, sigma = metrics.gaussian_stats(features)
    assert torch.linalg.matrix_rank(sigma) == 19
    # square roots of the ~1e-16 eigenvalues that stand for 0 contribute ~1e-8 each
    assert abs(metrics.frechet_distance(mu, sigma, mu, sigma)) < 1e-6 * float(torch.trace(sigma))


@pytest.mark.parametrize("d", [1, 5, 40])
def test_fd_matches_scipy_sqrtm_on_random_data(d):
    f1 = torch.randn(400, d, generator=gen(d)) @ torch.randn(d, d, generator=gen(d + 1))
    f2 = torch.randn(300, d, generator=gen(d + 2)) * 2 + 0.5
    mu1, s1 = metrics.gaussian_stats(f1)
    mu2, s2 = metrics.gaussian_stats(f2)
    expected = scipy_reference_fd(mu1, s1, mu2, s2)
    assert metrics.fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-7, abs=1e-9)
    # gaussian_stats is numpy's mean and unbiased covariance
    np.testing.assert_allclose(s1.numpy(), np.cov(f1.double().numpy(), rowvar=False), rtol=1e-10,
                               atol=1e-12)


def test_fd_of_gaussians_with_diagonal_covariances_matches_the_closed_form():
    g = gen(3)
    mu1, mu2 = (torch.randn(7, generator=g, dtype=torch.float64) for _ in range(2))
    v1 = torch.rand(7, generator=g, dtype=torch.float64) + 0.1
    v2 = torch.rand(7, generator=g, dtype=torch.float64) * 4 + 0.1
    closed = float((mu1 - mu2).pow(2).sum() + (v1.sqrt() - v2.sqrt()).pow(2).sum())
    got = metrics.frechet_distance(mu1, torch.diag(v1), mu2, torch.diag(v2))
    assert got == pytest.approx(closed, rel=1e-10)


def test_fd_of_commuting_covariances_and_of_scaled_covariances():
    # same eigenvectors: FD = ||m1 - m2||^2 + sum (sqrt(l1) - sqrt(l2))^2 in the shared basis
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=gen(4), dtype=torch.float64))
    l1 = torch.tensor([1.0, 2, 3, 4, 5], dtype=torch.float64)
    l2 = torch.tensor([5.0, 1, 0.5, 2, 9], dtype=torch.float64)
    s1, s2 = (q * l1) @ q.T, (q * l2) @ q.T
    zero = torch.zeros(5)
    assert metrics.frechet_distance(zero, s1, zero, s2) == pytest.approx(
        float((l1.sqrt() - l2.sqrt()).pow(2).sum()), rel=1e-9)
    # sigma and c^2 sigma: tr(sigma) (1 - c)^2
    s = random_cov(6, 5)
    assert metrics.frechet_distance(torch.zeros(6), s, torch.zeros(6), 9 * s) == pytest.approx(
        float(torch.trace(s)) * 4, rel=1e-9)


def test_fd_of_large_samples_approaches_the_population_value():
    n, d = 50_000, 3
    mu2, v2 = torch.tensor([1.0, 0.0, -1.0]), torch.tensor([4.0, 1.0, 0.25])
    f1 = torch.randn(n, d, generator=gen(6))
    f2 = torch.randn(n, d, generator=gen(7)) * v2.sqrt() + mu2
    closed = float(mu2.pow(2).sum() + (1 - v2.sqrt()).pow(2).sum())  # 3.25
    assert metrics.fid_from_features(f1, f2) == pytest.approx(closed, abs=0.05)


def test_sqrtm_psd_squares_back():
    s = random_cov(8, 8)
    root = metrics.sqrtm_psd(s)
    torch.testing.assert_close(root @ root, s)
    torch.testing.assert_close(root, root.T)


def test_fd_shape_errors():
    with pytest.raises(ValueError, match="shapes do not match"):
        metrics.frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(4), torch.eye(4))
    with pytest.raises(ValueError, match="at least 2"):
        metrics.gaussian_stats(torch.zeros(1, 3))


# ---- Inception score ----------------------------------------------------------------------------


def test_is_is_k_for_confident_uniformly_spread_predictions():
    probs = torch.eye(10).repeat(100, 1)  # every split of 100 rows holds 10 of each class
    mean, std = metrics.inception_score(probs, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_is_is_one_for_identical_predictions():
    probs = torch.softmax(torch.randn(1, 10, generator=gen(0)), 1).repeat(1000, 1)
    mean, std = metrics.inception_score(probs)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)
    one_class = torch.zeros(200, 10)
    one_class[:, 3] = 1
    assert metrics.inception_score(one_class)[0] == pytest.approx(1.0)


def test_is_of_a_symmetric_two_class_example():
    # half the rows (p, 1-p), half (1-p, p): p(y) = 1/2, KL = log 2 - H(p), IS = 2 exp(-H(p))
    p = 0.8
    probs = torch.tensor([[p, 1 - p], [1 - p, p]]).repeat(50, 1)
    entropy = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert metrics.inception_score(probs, splits=1)[0] == pytest.approx(2 * math.exp(-entropy))


def test_is_lies_between_1_and_k_and_splits_give_a_std():
    probs = torch.softmax(2 * torch.randn(1000, 10, generator=gen(1)), 1)
    mean, std = metrics.inception_score(probs)
    assert 1 < mean < 10 and std > 0


def test_is_rejects_logits_and_bad_splits():
    with pytest.raises(ValueError, match="softmax"):
        metrics.inception_score(torch.randn(20, 10, generator=gen(2)))
    with pytest.raises(ValueError, match="splits"):
        metrics.inception_score(torch.eye(10)[:5], splits=10)


# ---- class diversity ----------------------------------------------------------------------------


def test_diversity_is_zero_for_the_real_histogram_and_worst_for_one_class():
    real_labels = torch.randint(10, (5000,), generator=gen(0))
    q = metrics.class_histogram(real_labels, 10)
    assert metrics.diversity_score(q, q) == 0.0
    single = metrics.class_histogram(torch.full((100,), 4), 10)
    worst = metrics.diversity_score(single, q)
    assert worst == pytest.approx(1 - q[4].item())
    uniform = torch.full((10,), 0.1, dtype=torch.float64)
    assert metrics.diversity_score(single, uniform) == pytest.approx(0.9)
    for p in torch.rand(20, 10, generator=gen(1), dtype=torch.float64) ** 4:
        # no histogram is further from uniform than a single class
        assert metrics.diversity_score(p / p.sum(), uniform) <= 0.9 + 1e-12


def test_diversity_counts_the_mass_that_must_move():
    p = torch.tensor([0.5, 0.5, 0.0, 0.0])
    q = torch.tensor([0.25, 0.25, 0.25, 0.25])
    assert metrics.diversity_score(p, q) == pytest.approx(0.5)


def test_normalized_entropy_and_histogram():
    assert metrics.normalized_entropy(torch.full((10,), 0.1)) == pytest.approx(1.0)
    assert metrics.normalized_entropy(torch.eye(10)[2]) == 0.0
    torch.testing.assert_close(metrics.class_histogram(torch.tensor([0, 2, 2, 1]), 3),
                               torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        metrics.class_histogram(torch.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.diversity_score(torch.tensor([0.5, 0.2]), torch.tensor([0.5, 0.5]))


# ---- precision / recall / density / coverage ----------------------------------------------------


def test_knn_radii_on_a_line():
    points = torch.tensor([[0.0], [1.0], [3.0], [6.0]])
    torch.testing.assert_close(metrics.knn_radii(points, 1), torch.tensor([1.0, 1.0, 2.0, 3.0],
                                                                           dtype=torch.float64))
    torch.testing.assert_close(metrics.knn_radii(points, 2), torch.tensor([3.0, 2.0, 3.0, 5.0],
                                                                           dtype=torch.float64))
    with pytest.raises(ValueError, match="k must be"):
        metrics.knn_radii(points, 4)


def test_hand_computed_example():
    real = torch.arange(5.0).reshape(5, 1)  # k = 1: every radius is 1
    fake = torch.tensor([[0.5], [10.0]])  # 0.5 lies in the balls of 0 and 1; 10 in none
    assert metrics.density_coverage(real, fake, k=1) == pytest.approx((2 / 2, 2 / 5))
    # precision 1/2; recall 1: the outlier's ball (radius 9.5) swallows every real point,
    # the weakness of recall that coverage fixes
    assert metrics.precision_recall(real, fake, k=1) == pytest.approx((0.5, 1.0))


@pytest.mark.parametrize("d", [2, 64])
def test_identical_sets_score_one(d):
    x = torch.randn(1000, d, generator=gen(d)) * 3 + 5
    assert metrics.precision_recall(x, x, k=3) == (1.0, 1.0)
    density, coverage = metrics.density_coverage(x, x, k=5)
    assert coverage == 1.0
    assert density == pytest.approx(6 / 5, abs=1e-12)  # each ball holds its centre and 5 neighbours


def test_independent_samples_of_one_distribution_score_about_one():
    real, fake = torch.randn(2000, 4, generator=gen(0)), torch.randn(2000, 4, generator=gen(1))
    precision, recall = metrics.precision_recall(real, fake)
    density, coverage = metrics.density_coverage(real, fake)
    assert precision > 0.9 and recall > 0.9 and coverage > 0.9
    assert density == pytest.approx(1.0, abs=0.1)


def test_disjoint_sets_score_zero():
    real = torch.randn(500, 8, generator=gen(2))
    fake = torch.randn(500, 8, generator=gen(3)) + 100
    assert metrics.precision_recall(real, fake) == (0.0, 0.0)
    assert metrics.density_coverage(real, fake) == (0.0, 0.0)


def test_mode_dropping_lowers_recall_and_coverage_but_not_precision():
    g = gen(4)
    centres = torch.tensor([[-20.0, 0.0], [20.0, 0.0]])
    real = torch.randn(2000, 2, generator=g) + centres[torch.arange(2000) % 2]
    fake = torch.randn(1000, 2, generator=g) + centres[0]  # only the left mode
    precision, recall = metrics.precision_recall(real, fake)
    density, coverage = metrics.density_coverage(real, fake)
    assert precision > 0.9 and abs(recall - 0.5) < 0.05 and abs(coverage - 0.5) < 0.05
    assert density > 0.8


# ---- Parzen window ------------------------------------------------------------------------------


def test_parzen_with_one_center_is_a_gaussian_log_density():
    x = torch.randn(7, 3, generator=gen(0))
    center = torch.randn(1, 3, generator=gen(1))
    for sigma in (0.5, 2.0):
        expected = torch.distributions.Normal(center, sigma).log_prob(x).sum(1).mean()
        mean, sem = metrics.parzen_log_likelihood(x, center, sigma)
        assert mean.shape == (1,) and float(mean[0]) == pytest.approx(float(expected), rel=1e-6)


def test_parzen_estimate_approaches_the_true_log_likelihood_as_n_grows():
    x_valid = torch.randn(1000, 1, generator=gen(2))
    x_test = torch.randn(1000, 1, generator=gen(3))
    true = torch.distributions.Normal(0.0, 1.0).log_prob(x_test).mean().item()  # same test points
    sigmas = np.logspace(-1.5, 0.5, 15)
    errors = []
    for n in (30, 300, 3000):
        centers = torch.randn(n, 1, generator=gen(n))
        errors.append(abs(metrics.parzen_score(centers, x_valid, x_test, sigmas)["ll"] - true))
    assert errors[0] > errors[2] and errors[1] > errors[2]
    assert errors[2] < 0.02


def test_parzen_score_picks_sigma_on_validation():
    centers = torch.randn(500, 2, generator=gen(4))
    x_valid, x_test = torch.randn(300, 2, generator=gen(5)), torch.randn(300, 2, generator=gen(6))
    sigmas = [0.05, 0.3, 3.0]
    result = metrics.parzen_score(centers, x_valid, x_test, sigmas)
    valid, _ = metrics.parzen_log_likelihood(x_valid, centers, sigmas)
    assert result["sigma"] == 0.3 and result["valid_ll"] == pytest.approx(float(valid.max()))
    with pytest.raises(ValueError, match="dimensions"):
        metrics.parzen_log_likelihood(torch.zeros(2, 3), torch.zeros(2, 4), 1.0)


# ---- the evaluator ------------------------------------------------------------------------------


def bar_images(n, seed=0):
    """A tiny synthetic problem: class c is a bright horizontal bar on rows 2c+4..2c+5, plus noise."""
    g = gen(seed)
    y = torch.randint(10, (n,), generator=g)
    x = torch.rand(n, 1, 28, 28, generator=g) * 0.3
    for c in range(10):
        x[y == c, :, 2 * c + 4 : 2 * c + 6, 4:24] = 1.0
    return x, y


def test_evaluator_shapes_and_batched_helpers_agree():
    torch.manual_seed(0)
    model = metrics.Evaluator(num_classes=10).eval()
    x = torch.rand(7, 1, 28, 28, generator=gen(0))
    features, logits = metrics.embed(model, x, batch_size=3)
    assert features.shape == (7, metrics.FEATURE_DIM) and logits.shape == (7, 10)
    with torch.no_grad():
        torch.testing.assert_close(features, model.features(x))
        torch.testing.assert_close(logits, model.logits(x))
    model.train()
    metrics.batched_logits(model, x)
    assert model.training, "the helpers restore the module's mode"
    with pytest.raises(ValueError, match="symmetric_to_unit"):
        metrics.embed(model, x * 2 - 1)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        metrics.embed(model, torch.rand(3, 28, 28))


def test_symmetric_to_unit():
    x = torch.tensor([-1.0, 0.0, 1.0, 1.5])
    torch.testing.assert_close(metrics.symmetric_to_unit(x), torch.tensor([0.0, 0.5, 1.0, 1.0]))


def test_evaluator_learns_a_tiny_synthetic_problem():
    x, y = bar_images(600)
    x_test, y_test = bar_images(300, seed=1)
    torch.manual_seed(0)
    model = metrics.Evaluator()
    before = metrics.accuracy(model, x_test, y_test)
    history = metrics.train_evaluator(model, x, y, steps=40, batch_size=32, lr=2e-3, progress=False)
    assert np.mean(history["loss"][-5:]) < np.mean(history["loss"][:5])
    assert metrics.accuracy(model, x_test, y_test) > 0.9 > before + 0.3


def fashion_available():
    try:
        data.find_raw_files("fashion-mnist", download=False)
        return True
    except data.DataNotFoundError:
        return False


@pytest.mark.skipif(not fashion_available(), reason="Fashion-MNIST is not on this machine")
def test_load_evaluator_trains_on_fashion_mnist_then_loads_the_same_weights(capsys):
    model, meta = metrics.load_evaluator("fashion-mnist", schedule="smoke", device="cpu",
                                         progress=False)
    path = checkpoints.checkpoint_path("evaluator", "fashion-mnist", "smoke")
    assert path.is_file() and f"saved {path}" in capsys.readouterr().out
    assert meta["test_accuracy"] > 0.5  # chance is 0.1; a few hundred steps reach about 0.75
    assert meta["dataset"] == "fashion-mnist" and meta["classes"] == data.class_names("fashion-mnist")
    again, meta_again = metrics.load_evaluator("fashion-mnist", schedule="smoke", device="cpu")
    out = capsys.readouterr().out
    assert f"loaded {path}" in out and "test accuracy" in out
    assert meta_again == meta
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name
    heldout = metrics.DEFAULTS["smoke"]["heldout"]
    assert meta["config"]["heldout"] == heldout  # trained without the held-out images
    try:  # a checkpoint made with other settings is refused, never loaded as if it were this one
        metrics.DEFAULTS["smoke"]["heldout"] = heldout + 1
        with pytest.raises(checkpoints.CheckpointError, match="delete it"):
            metrics.load_evaluator("fashion-mnist", schedule="smoke", device="cpu")
    finally:
        metrics.DEFAULTS["smoke"]["heldout"] = heldout


# ---- evaluate_samples and the table -------------------------------------------------------------


def test_evaluate_samples_of_the_real_images_themselves():
    torch.manual_seed(0)
    model = metrics.Evaluator().eval()
    x, _ = bar_images(200)
    scores = metrics.evaluate_samples(model, x, x, parzen=(x[:20], x[20:40]))
    assert scores["n"] == 200
    assert abs(scores["fid"]) < 1e-6 and scores["diversity"] == 0.0
    assert scores["precision"] == scores["recall"] == scores["coverage"] == 1.0
    assert scores["density"] == pytest.approx(6 / 5)
    assert 1 <= scores["is"] <= 10 and 0 <= scores["class_entropy"] <= 1
    assert math.isfinite(scores["parzen_ll"]) and scores["parzen_sigma"] > 0
    reference = metrics.make_reference(model, x)
    shifted = torch.roll(x, 3, dims=3)
    assert metrics.evaluate_samples(model, shifted, reference) == metrics.evaluate_samples(
        model, shifted, x)


def test_registered_rows_need_their_module():
    @metrics.register_row("test row present", requires="course_lib.pca")
    def present(ctx):
        return metrics.ModelRow(lambda n, g: torch.zeros(n, 1, 28, 28))

    @metrics.register_row("test row absent", requires="course_lib.no_such_recipe")
    def absent(ctx):
        raise AssertionError("never called")

    try:
        names = [spec.name for spec in metrics.available_rows()]
        assert "test row present" in names and "test row absent" not in names
        assert names[0].startswith("real data")
    finally:
        del metrics.TABLE_ROWS["test row present"], metrics.TABLE_ROWS["test row absent"]


def test_heldout_split_keeps_the_last_images_apart():
    x, y = torch.arange(1_500.0), torch.arange(1_500)
    (x_fit, y_fit), (x_held, y_held) = metrics.heldout_split(x, y, schedule="smoke")
    assert len(x_held) == metrics.DEFAULTS["smoke"]["heldout"] == 1_000
    assert torch.equal(torch.cat([x_fit, x_held]), x) and torch.equal(torch.cat([y_fit, y_held]), y)
    (_, none), (held_only, none_too) = metrics.heldout_split(x, schedule="smoke")
    assert none is None and none_too is None and torch.equal(held_only, x_held)
    with pytest.raises(ValueError, match="cannot hold out 1000"):
        metrics.heldout_split(x[:1_000], schedule="smoke")
    with pytest.raises(ValueError, match="differ in length"):
        metrics.heldout_split(x, y[:10], schedule="smoke")


def test_real_and_pca_rows_sample_unit_images():
    x, y = bar_images(1_300)
    ds = data.ImageData("fashion-mnist", [str(c) for c in range(10)], x, y, x[:50], y[:50], "unit")
    context = metrics.TableContext(ds=ds, schedule="smoke", device=torch.device("cpu"))
    rows = {spec.name: spec for spec in metrics.available_rows()}
    real = rows["real data (held-out train images vs test set)"].loader(context)
    first = real.sample(20, gen(0))
    assert first.shape == (20, 1, 28, 28) and torch.equal(first, real.sample(20, gen(0)))
    held_out = x[-1_000:]  # the images the smoke evaluator never trains on
    assert all(any(torch.equal(image, other) for other in held_out) for image in first)
    assert not any(any(torch.equal(image, other) for other in x[:300]) for image in first)
    with pytest.raises(ValueError, match="only 1000 held-out"):
        real.sample(1_001, gen(0))
    pca_row = rows["PCA sampler (k = 16)"].loader(context)
    samples = pca_row.sample(40, gen(1))
    assert samples.shape == (40, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    assert pca_row.seconds >= 0 and pca_row.device == "cpu"


def test_generator_rows_map_tanh_outputs_to_unit_images_reproducibly():
    from course_lib import gan

    x, y = bar_images(20)
    ds = data.ImageData("fashion-mnist", [str(c) for c in range(10)], x, y, x, y, "unit")
    context = metrics.TableContext(ds=ds, schedule="smoke", device=torch.device("cpu"))
    generator = gan.dcgan_generator(8).eval()
    row = metrics._generator_row(context, generator, {"config": {"latent_dim": 8}, "seconds": 3.0,
                                                      "device": "cpu"}, "a note")
    samples = row.sample(1500, gen(0))  # more than one chunk of 1000
    assert samples.shape == (1500, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    assert torch.equal(samples, row.sample(1500, gen(0)))
    z = torch.randn(1500, 8, generator=gen(0))
    assert torch.allclose(samples, (gan.generate(generator, z) + 1) / 2)
    assert (row.seconds, row.device, row.labels_for) == (3.0, "cpu", None)


def test_table_markdown_leaves_out_empty_columns():
    table = metrics.table_markdown({
        "a": {"is": 9.123, "fid": 1.0, "seconds": None, "device": "cpu"},
        "b": {"is": 2.0, "fid": 30.456, "seconds": 12.3, "device": "cuda"},
    })
    lines = table.splitlines()
    assert lines[0] == "| model | IS ↑ | FID ↓ | training (s) | device |"
    assert lines[2] == "| a | 9.12 | 1.00 | - | cpu |"
    assert lines[3] == "| b | 2.00 | 30.46 | 12 | cuda |"


# ---- exercise checkers (notebook 10) ------------------------------------------------------------


def not_attempted(*args):
    raise NotImplementedError


def correct_is(probs):
    marginal = probs.mean(0, keepdim=True)
    kl = (probs * (torch.log(probs + 1e-30) - torch.log(marginal + 1e-30))).sum(1)
    return kl.mean().exp()


@pytest.mark.parametrize("wrong", [
    lambda p: correct_is(p).log(),  # forgot exp
    lambda p: (p.mean(0, keepdim=True) * (p.mean(0, keepdim=True).log() - (p + 1e-30).log())
               ).sum(1).mean().exp(),  # KL the wrong way round
    lambda p: torch.tensor(float(p.shape[1])),  # K
])
def test_check_inception_score(wrong):
    assert exercises.check_inception_score(correct_is) is True
    assert exercises.check_inception_score(not_attempted) is False
    with pytest.raises(AssertionError, match="IS for"):
        exercises.check_inception_score(wrong)


@pytest.mark.parametrize("wrong", [
    lambda m1, v1, m2, v2: ((v1 - v2) ** 2).sum() + ((m1 - m2) ** 2).sum(),  # no square roots
    lambda m1, v1, m2, v2: ((v1.sqrt() - v2.sqrt()) ** 2).sum(),  # no mean term
    lambda m1, v1, m2, v2: (m1 - m2).norm() + ((v1.sqrt() - v2.sqrt()) ** 2).sum(),  # not squared
])
def test_check_frechet_diagonal(wrong):
    def correct(m1, v1, m2, v2):
        return ((m1 - m2) ** 2).sum() + ((v1.sqrt() - v2.sqrt()) ** 2).sum()

    assert exercises.check_frechet_diagonal(correct) is True
    assert exercises.check_frechet_diagonal(not_attempted) is False
    with pytest.raises(AssertionError, match="Fréchet distance"):
        exercises.check_frechet_diagonal(wrong)


def coverage_with(radius_index, use_fake_balls=False):
    def coverage(real, fake, k):
        centres = fake if use_fake_balls else real
        queries = real if use_fake_balls else fake
        radii = torch.cdist(centres, centres).sort(1).values[:, radius_index(k)]
        inside = torch.cdist(queries, centres) <= radii
        if use_fake_balls:
            return inside.any(1).float().mean()
        return inside.any(0).float().mean()

    return coverage


@pytest.mark.parametrize("wrong", [
    coverage_with(lambda k: k - 1),  # k-th smallest distance counts the point itself
    coverage_with(lambda k: k, use_fake_balls=True),  # recall-style: balls around the samples
])
def test_check_coverage(wrong):
    assert exercises.check_coverage(coverage_with(lambda k: k)) is True
    assert exercises.check_coverage(not_attempted) is False
    with pytest.raises(AssertionError, match="coverage for"):
        exercises.check_coverage(wrong)


# ---- non-finite features and images (issue 17, item 7) --------------------------------------------


def test_scores_refuse_non_finite_features():
    real = torch.randn(50, 4, generator=gen(0))
    fake = torch.randn(50, 4, generator=gen(1))
    fake[7, 2] = float("nan")
    message = r"generated features should be finite, got 1 NaN and 0 infinite value\(s\) among 200"
    with pytest.raises(ValueError, match=message):  # used to return plausible numbers
        metrics.precision_recall(real, fake)
    with pytest.raises(ValueError, match=message):
        metrics.density_coverage(real, fake)
    with pytest.raises(ValueError, match=r"features should be finite"):  # used to raise LinAlgError
        metrics.fid_from_features(real, fake)
    mu, sigma = metrics.gaussian_stats(real)
    with pytest.raises(ValueError, match=r"sigma2 should be finite, got 0 NaN and 4 infinite"):
        metrics.frechet_distance(mu, sigma, mu, sigma.index_fill(0, torch.tensor([1]), float("inf")))


def test_evaluate_samples_refuses_nan_samples_and_a_broken_evaluator():
    torch.manual_seed(0)
    model = metrics.Evaluator().eval()
    x, _ = bar_images(40)
    samples = x.clone()
    samples[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"images should be finite, got 1 NaN"):
        metrics.evaluate_samples(model, samples, x, splits=2)
    with torch.no_grad():
        next(model.parameters())[0].fill_(float("nan"))  # a diverged evaluator
    with pytest.raises(ValueError, match=r"the evaluator's features should be finite"):
        metrics.evaluate_samples(model, x, x, splits=2)
