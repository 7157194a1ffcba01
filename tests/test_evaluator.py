"""The evaluator network: its shapes, training, checkpoint, held-out split, and
`evaluate_samples`, which scores generated images with it."""

import math

import numpy as np
import pytest
import torch

from course_lib import checkpoints, data, evaluator


def gen(seed):
    return torch.Generator().manual_seed(seed)


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
    model = evaluator.Evaluator(num_classes=10).eval()
    x = torch.rand(7, 1, 28, 28, generator=gen(0))
    features, logits = evaluator.embed(model, x, batch_size=3)
    assert features.shape == (7, evaluator.FEATURE_DIM) and logits.shape == (7, 10)
    with torch.no_grad():
        torch.testing.assert_close(features, model.features(x))
        torch.testing.assert_close(logits, model.logits(x))
    model.train()
    evaluator.batched_logits(model, x)
    assert model.training, "the helpers restore the module's mode"
    with pytest.raises(ValueError, match="symmetric_to_unit"):
        evaluator.embed(model, x * 2 - 1)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        evaluator.embed(model, torch.rand(3, 28, 28))


def test_symmetric_to_unit():
    x = torch.tensor([-1.0, 0.0, 1.0, 1.5])
    torch.testing.assert_close(evaluator.symmetric_to_unit(x), torch.tensor([0.0, 0.5, 1.0, 1.0]))


def test_evaluator_learns_a_tiny_synthetic_problem():
    x, y = bar_images(600)
    x_test, y_test = bar_images(300, seed=1)
    torch.manual_seed(0)
    model = evaluator.Evaluator()
    before = evaluator.accuracy(model, x_test, y_test)
    history = evaluator.train_evaluator(model, x, y, steps=40, batch_size=32, lr=2e-3, progress=False)
    assert np.mean(history["loss"][-5:]) < np.mean(history["loss"][:5])
    assert evaluator.accuracy(model, x_test, y_test) > 0.9 > before + 0.3


def fashion_available():
    try:
        data.find_raw_files("fashion-mnist", download=False)
        return True
    except data.DataNotFoundError:
        return False


@pytest.mark.skipif(not fashion_available(), reason="Fashion-MNIST is not on this machine")
def test_load_evaluator_trains_on_fashion_mnist_then_loads_the_same_weights(capsys):
    model, meta = evaluator.load_evaluator("fashion-mnist", schedule="smoke", device="cpu",
                                         progress=False)
    (path,) = checkpoints.saved("evaluator-fashion-mnist-smoke")
    assert f"saved {path}" in capsys.readouterr().out
    assert meta["test_accuracy"] > 0.5  # chance is 0.1; a few hundred steps reach about 0.75
    assert meta["config"]["dataset"] == "fashion-mnist"
    assert meta["classes"] == data.class_names("fashion-mnist")
    again, meta_again = evaluator.load_evaluator("fashion-mnist", schedule="smoke", device="cpu")
    out = capsys.readouterr().out
    assert f"loaded {path}" in out and "test accuracy" in out
    for key in ("config", "history", "test_accuracy", "classes", "seconds"):
        assert meta_again[key] == meta[key], key
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name
    heldout = evaluator.DEFAULTS["smoke"]["heldout"]
    assert meta["config"]["heldout"] == heldout  # trained without the held-out images
    assert meta["config"]["steps"] == len(meta["history"]["loss"]) == evaluator.DEFAULTS["smoke"]["steps"]


# ---- evaluate_samples and the held-out split ------------------------------------------------


def test_evaluate_samples_of_the_real_images_themselves():
    torch.manual_seed(0)
    model = evaluator.Evaluator().eval()
    x, _ = bar_images(200)
    scores = evaluator.evaluate_samples(model, x, x, parzen=(x[:20], x[20:40]))
    assert scores["n"] == 200
    assert abs(scores["fid"]) < 1e-6 and scores["diversity"] == 0.0
    assert scores["precision"] == scores["recall"] == scores["coverage"] == 1.0
    assert scores["density"] == pytest.approx(6 / 5)
    assert 1 <= scores["is"] <= 10 and 0 <= scores["class_entropy"] <= 1
    assert math.isfinite(scores["parzen_ll"]) and scores["parzen_sigma"] > 0
    reference = evaluator.make_reference(model, x)
    shifted = torch.roll(x, 3, dims=3)
    assert evaluator.evaluate_samples(model, shifted, reference) == evaluator.evaluate_samples(
        model, shifted, x)


def test_heldout_split_keeps_the_last_images_apart():
    x, y = torch.arange(1_500.0), torch.arange(1_500)
    (x_fit, y_fit), (x_held, y_held) = evaluator.heldout_split(x, y, schedule="smoke")
    assert len(x_held) == evaluator.DEFAULTS["smoke"]["heldout"] == 1_000
    assert torch.equal(torch.cat([x_fit, x_held]), x) and torch.equal(torch.cat([y_fit, y_held]), y)
    (_, none), (held_only, none_too) = evaluator.heldout_split(x, schedule="smoke")
    assert none is None and none_too is None and torch.equal(held_only, x_held)
    with pytest.raises(ValueError, match="cannot hold out 1000"):
        evaluator.heldout_split(x[:1_000], schedule="smoke")
    with pytest.raises(ValueError, match="differ in length"):
        evaluator.heldout_split(x, y[:10], schedule="smoke")


# ---- non-finite features and images (issue 17, item 7) --------------------------------------------


def test_evaluate_samples_refuses_nan_samples_and_a_broken_evaluator():
    torch.manual_seed(0)
    model = evaluator.Evaluator().eval()
    x, _ = bar_images(40)
    samples = x.clone()
    samples[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"images should be finite, got 1 NaN"):
        evaluator.evaluate_samples(model, samples, x, splits=2)
    with torch.no_grad():
        next(model.parameters())[0].fill_(float("nan"))  # a diverged evaluator
    with pytest.raises(ValueError, match=r"the evaluator's features should be finite"):
        evaluator.evaluate_samples(model, x, x, splits=2)
