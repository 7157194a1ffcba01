"""The moving average of a generator's weights (recipe.update_average, `ema_decay` in the GAN and
WGAN configs): the closed-form update, the warm-up, a run's average against the average of the
weights it went through, training left unchanged, and the loaders returning the average."""

import pytest
import torch
from torch import nn

from course_lib import checkpoints, gan, recipe, wgan


def images(n=32, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_decay_warms_up_then_holds():
    assert recipe.ema_decay_at(0.999, 0) == pytest.approx(0.1)  # (1 + 0) / (10 + 0)
    assert recipe.ema_decay_at(0.999, 8) == pytest.approx(0.5)  # 9 / 18
    assert recipe.ema_decay_at(0.999, 10**6) == 0.999
    assert recipe.ema_decay_at(0.9, 80) == 0.9  # 81/90 = 0.9 exactly


def test_update_is_the_convex_combination_and_copies_buffers():
    average, live = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    with torch.no_grad():
        average.weight.fill_(1.0)
        live.weight.fill_(3.0)
        live.running_mean.fill_(7.0)
    recipe.update_average(average, live, decay=0.75)
    assert torch.allclose(average.weight, torch.full((3,), 0.75 * 1 + 0.25 * 3))
    assert torch.equal(average.running_mean, live.running_mean)
    assert torch.equal(live.weight, torch.full((3,), 3.0))  # the live network is not touched


def test_a_runs_average_is_the_average_of_the_weights_it_went_through():
    x = images()
    run_data = recipe.RunData("tiny", x)
    config = gan.config("dcgan", run_data, "smoke", steps=12, batch_size=8, ema_decay=0.8)
    modules, draw = recipe.build(gan.RECIPES["dcgan"], config, "cpu")
    expected = [p.detach().clone() for p in modules["generator"].parameters()]

    def follow(i, history):  # the reference average, step by step
        decay = recipe.ema_decay_at(0.8, i)
        for kept, p in zip(expected, modules["generator"].parameters()):
            kept.mul_(decay).add_(p.detach(), alpha=1 - decay)

    recipe.train(gan.RECIPES["dcgan"], config, run_data, "cpu", snapshots=0, progress=False,
                 callback=follow, every=1, built=(modules, draw))
    for kept, p in zip(expected, modules["generator_average"].parameters()):
        assert torch.allclose(kept, p, atol=1e-6)
    live = torch.cat([p.flatten() for p in modules["generator"].parameters()])
    averaged = torch.cat([p.flatten() for p in modules["generator_average"].parameters()])
    assert not torch.allclose(live, averaged)  # it is a distinct network


def test_keeping_an_average_leaves_training_unchanged():
    x = images()
    run_data = recipe.RunData("tiny", x)
    trained = {}
    for decay in (None, 0.9):
        config = gan.config("dcgan", run_data, "smoke", steps=5, batch_size=8, ema_decay=decay)
        modules, meta = recipe.train(gan.RECIPES["dcgan"], config, run_data, "cpu", snapshots=0,
                                     progress=False)
        trained[decay] = (modules, meta)
    assert "generator_average" not in trained[None][0]
    assert trained[None][1]["history"]["g_loss"] == trained[0.9][1]["history"]["g_loss"]
    for a, b in zip(trained[None][0]["generator"].parameters(),
                    trained[0.9][0]["generator"].parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("load", [
    lambda x, **s: gan.load_or_train_gan("dcgan", x, "tiny", "smoke", "cpu", steps=3, batch_size=4, **s),
    lambda x, **s: wgan.load_or_train_wgan("gp", x, "tiny", "smoke", "cpu", steps=3, batch_size=4, **s),
])
def test_loaders_return_the_average_and_reload_it(load, tmp_path):
    x = images()
    store = checkpoints.Store(folder=tmp_path)
    generator, _, _ = load(x, ema_decay=0.9, snapshots=0, progress=False, store=store)
    reloaded, _, _ = load(x, ema_decay=0.9, snapshots=0, progress=False,
                          store=checkpoints.Store(folder=tmp_path, train_missing=False))
    plain, _, _ = load(x, ema_decay=None, snapshots=0, progress=False, store=store)
    for a, b in zip(generator.parameters(), reloaded.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(generator.parameters(), plain.parameters()))
    assert not any(p.requires_grad for p in generator.parameters())


def test_the_wgan_optimises_only_its_two_players():
    run_data = recipe.RunData("tiny", images())
    config = wgan.config("gp", run_data, "smoke", ema_decay=0.9)
    modules, _ = recipe.build(wgan.RECIPES_BY_VARIANT["gp"], config, "cpu")
    assert set(wgan.optimizers(config, modules)) == {"generator", "critic"}
