"""The semi-supervised GAN (notebook 11): the labelled set, the K+1 loss, the recipe and its baseline."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import checkpoints, losses, recipe, ssgan


def tiny(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % 3


def test_labelled_indices_pick_per_class_images_by_seed():
    _, y = tiny()
    index = ssgan.labelled_indices(y, 4, 3, seed=0)
    assert len(index) == 12 and len(set(index.tolist())) == 12
    assert torch.bincount(y[index], minlength=3).tolist() == [4, 4, 4]
    assert torch.equal(index, ssgan.labelled_indices(y, 4, 3, seed=0))
    assert not torch.equal(index, ssgan.labelled_indices(y, 4, 3, seed=1))
    with pytest.raises(ValueError, match="fewer than per_class"):
        ssgan.labelled_indices(y, 30, 3, seed=0)


def test_pairs_hold_an_unlabelled_and_a_labelled_image():
    x, y = tiny()
    data = recipe.RunData("tiny", x, y)
    run = ssgan.config(data, "smoke", n_classes=3, per_class=2)
    x_pair, labels = ssgan.pairs(run, data)
    assert x_pair.shape == (60, 2, 28, 28) and torch.equal(x_pair[:, :1], x)
    index = ssgan.labelled_indices(y, 2, 3, run.seed)
    assert set(labels.tolist()) <= set(y[index].tolist())
    # every labelled image is one of the chosen six, with its own label
    for image, label in zip(x_pair[:, 1], labels):
        match = [i for i in index.tolist() if torch.equal(x[i, 0], image)]
        assert match and y[match[0]] == label


def test_ssgan_loss_hand_value():
    logits = torch.tensor([[0.0, 0.0], [math.log(3), 0.0]])  # Z = 2 and 4: D = 2/3 and 4/5
    fake = torch.tensor([[-10.0, math.log(0.5)]])  # Z ~ 0.5: D ~ 1/3
    total, supervised, unsupervised = losses.ssgan_discriminator_loss(
        logits, torch.tensor([0, 0]), logits, fake, unsupervised_weight=0.5)
    assert supervised.item() == pytest.approx(F.cross_entropy(logits, torch.tensor([0, 0])).item())
    z_fake = math.exp(-10) + 0.5
    expected = -(math.log(2 / 3) + math.log(4 / 5)) / 2 - math.log(1 - z_fake / (z_fake + 1))
    assert unsupervised.item() == pytest.approx(expected, abs=1e-6)
    assert total.item() == pytest.approx(supervised.item() + 0.5 * expected, abs=1e-6)


def test_classifier_noise_only_while_training():
    torch.manual_seed(0)
    net = ssgan.Classifier(n_classes=4, hidden=(16, 8))
    x = tiny(4)[0]
    assert net(x).shape == (4, 4) and net.features(x).shape == (4, 8)
    net.eval()
    assert torch.equal(net(x), net(x))
    net.train()
    assert not torch.equal(net(x), net(x))


@pytest.mark.parametrize("supervised_only", [False, True])
def test_both_modes_train_and_are_checkpointed(supervised_only):
    x, y = tiny()
    settings = dict(n_classes=3, per_class=2, steps=3, batch_size=6, hidden=(16, 8), latent_dim=4,
                    supervised_only=supervised_only, progress=False)
    classifier, generator, meta = ssgan.load_or_train_ssgan(x, y, "tiny", "smoke", "cpu", **settings)
    assert (generator is None) == supervised_only
    assert len(meta["history"]["supervised"]) == 3
    assert ("unsupervised" in meta["history"]) != supervised_only
    again = ssgan.load_or_train_ssgan(x, y, "tiny", "smoke", "cpu", **settings)[2]
    assert again["history"] == meta["history"]
    ssgan.load_or_train_ssgan(x, y, "tiny", "smoke", "cpu", seed=1, **settings)
    assert len(checkpoints.saved("ssgan-tiny-smoke")) == 2
    assert 0.0 <= ssgan.accuracy(classifier, x, y) <= 1.0


def test_other_labels_name_another_config():
    x, y = tiny()
    a = ssgan.config(recipe.RunData("tiny", x, y), "smoke", n_classes=3, per_class=2)
    b = ssgan.config(recipe.RunData("tiny", x, y.roll(1)), "smoke", n_classes=3, per_class=2)
    assert a.labelled != b.labelled


def test_accuracy_counts_the_largest_logit():
    net = ssgan.Classifier(n_classes=3, hidden=(8,))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.head.bias.copy_(torch.tensor([0.0, 1.0, 0.0]))
    x, y = tiny(6)
    assert ssgan.accuracy(net, x, y) == pytest.approx(2 / 6)


def test_the_generator_may_fool_d_instead_of_matching_features():
    x, y = tiny()
    _, generator, meta = ssgan.load_or_train_ssgan(x, y, "tiny", "smoke", "cpu", n_classes=3, per_class=2,
                                                   steps=2, batch_size=6, hidden=(16, 8), latent_dim=4,
                                                   feature_matching=False, progress=False)
    assert generator is not None and meta["config"]["feature_matching"] is False
    assert all(math.isfinite(v) for v in meta["history"]["g_loss"])


def test_per_class_zero_labels_every_image():
    """The all-labels reference: per_class=0 takes every training image with its own label."""
    x, y = tiny()
    assert torch.equal(ssgan.labelled_indices(y, 0, 3, seed=5), torch.arange(60))
    data = recipe.RunData("tiny", x, y)
    run = ssgan.config(data, "smoke", n_classes=3, per_class=0, supervised_only=True)
    assert run.labelled != ssgan.config(data, "smoke", n_classes=3, per_class=2, supervised_only=True).labelled
    x_pair, labels = ssgan.pairs(run, data)
    for image, label in zip(x_pair[:, 1], labels):
        match = [i for i in range(60) if torch.equal(x[i, 0], image)]
        assert match and y[match[0]] == label
    assert len({tuple(image.flatten()[:5].tolist()) for image in x_pair[:, 1]}) > 20  # not a few images
