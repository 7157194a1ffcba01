"""Notebook 12's recipe: with every option off it is the DCGAN recipe bit for bit; spectral
normalization, the hinge loss, R1 and self-attention each do what they say; checkpoints round-trip."""

import pytest
import torch

from course_lib import checkpoints, gan, modern, modern_gan, nets, recipe


def tiny_images(n=8, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def one_step(run_recipe, run, x):
    modules, _ = recipe.build(run_recipe, run, "cpu")
    optimizers = run_recipe.optimizers(run, modules)
    torch.manual_seed(0)
    out = run_recipe.step(modules, optimizers, x, run)
    return modules, {k: float(v) for k, v in out.items()}


def test_with_every_option_off_the_step_is_the_dcgan_step_bit_for_bit():
    x = tiny_images()
    data = recipe.RunData("tiny", x)
    ours = modern_gan.config(data, "smoke")  # built on gan.DCGAN_BATCH_64, not on notebook 05's defaults
    theirs = gan.config("dcgan", data, "smoke", **gan.DCGAN_BATCH_64["smoke"])
    assert ours.plain
    modules_ours, out_ours = one_step(modern_gan.RECIPE, ours, x)
    modules_theirs, out_theirs = one_step(gan.RECIPES["dcgan"], theirs, x)
    assert out_ours == out_theirs
    for name in ("generator", "discriminator"):
        for a, b in zip(modules_ours[name].state_dict().values(), modules_theirs[name].state_dict().values()):
            assert torch.equal(a, b)


def test_spectral_norm_makes_the_discriminators_layers_norm_one():
    x = tiny_images(64)
    data = recipe.RunData("tiny", x)
    run = modern_gan.config(data, "smoke", steps=20, batch_size=16, **modern_gan.VARIANTS["SNGAN"])
    modules, _ = recipe.train(modern_gan.RECIPE, run, data, "cpu", snapshots=0, progress=False)
    norms = modern_gan.spectral_norms(modules["discriminator"])
    assert len(norms) == 3 and all(abs(v - 1) < 0.02 for v in norms.values()), norms
    plain, _ = recipe.train(modern_gan.RECIPE, modern_gan.config(data, "smoke", steps=2, batch_size=16),
                            data, "cpu", snapshots=0, progress=False)
    assert any(abs(v - 1) > 0.2 for v in modern_gan.spectral_norms(plain["discriminator"]).values())


def test_the_hinge_option_uses_the_hinge_losses(monkeypatch):
    calls = []

    def spy(function):
        def wrapped(*args):
            value = function(*args)
            calls.append((function.__name__, float(value.detach())))
            return value
        return wrapped

    for name in ("hinge_discriminator_loss", "hinge_generator_loss"):
        monkeypatch.setattr(modern, name, spy(getattr(modern, name)))
    x = tiny_images()
    run = modern_gan.config(recipe.RunData("tiny", x), "smoke", loss="hinge")
    _, out = one_step(modern_gan.RECIPE, run, x)
    assert [c[0] for c in calls] == ["hinge_discriminator_loss", "hinge_generator_loss"]
    assert out["d_loss"] == calls[0][1] and out["g_loss"] == calls[1][1]


def test_the_r1_option_adds_the_penalty_to_the_discriminators_loss():
    x = tiny_images()
    data = recipe.RunData("tiny", x)
    run = modern_gan.config(data, "smoke", r1_gamma=10.0, d_norm="none")
    modules, _ = recipe.build(modern_gan.RECIPE, run, "cpu")
    d = modules["discriminator"]
    expected = modern.r1_penalty(d, x, 10.0).item()  # before the step changes D
    _, out = one_step(modern_gan.RECIPE, run, x)
    assert out["r1"] == pytest.approx(expected, rel=1e-5) and out["r1"] > 0


def test_attention_networks_shapes_and_attention_maps():
    torch.manual_seed(0)
    g, d = nets.dcgan_generator_with_attention(16), nets.dcgan_discriminator_with_attention(norm="none")
    images = g(torch.randn(3, 16))
    assert images.shape == (3, 1, 28, 28) and d(images).shape == (3,)
    attention = [m for m in g.modules() if isinstance(m, nets.SelfAttention)]
    assert len(attention) == 1 and attention[0].last_attention.shape == (3, 196, 196)


def test_bad_options_are_refused():
    data = recipe.RunData("tiny", tiny_images(2))
    with pytest.raises(ValueError, match="Unknown loss"):
        modern_gan.config(data, "smoke", loss="wasserstein")
    with pytest.raises(ValueError, match="'dcgan'"):
        modern_gan.config(data, "smoke", kind="mlp")
    with pytest.raises(ValueError, match="r1_gamma"):
        modern_gan.config(data, "smoke", r1_gamma=-1.0)


def test_a_checkpoint_round_trips_through_load_or_train_modern(tmp_path):
    x = tiny_images(16)
    tiny = dict(steps=2, batch_size=4, progress=False, snapshots=0, store=checkpoints.Store(folder=tmp_path))
    first = modern_gan.load_or_train_modern(x, "tiny", "smoke", "cpu", **tiny, **modern_gan.VARIANTS["SAGAN"])
    loaded = modern_gan.load_or_train_modern(x, "tiny", "smoke", "cpu", progress=False, snapshots=0,
                                             store=checkpoints.Store(folder=tmp_path, train_missing=False),
                                             steps=2, batch_size=4, **modern_gan.VARIANTS["SAGAN"])
    assert first[2]["history"] == loaded[2]["history"]
    z = torch.randn(5, first[2]["config"]["latent_dim"])
    assert torch.equal(nets.generate(first[0], z), nets.generate(loaded[0], z))
    with torch.no_grad():
        assert torch.equal(first[1](x[:4]), loaded[1](x[:4]))
    assert len(list(tmp_path.glob("modern-dcgan-tiny-smoke-*.pt"))) == 1
