import pytest
import torch
from torch import nn

from course_lib import autoencoders as ae
from course_lib import recipe


def pattern_images(n=256, seed=0):
    """n images in [0, 1], each a random convex mixture of 3 fixed 28x28 patterns."""
    g = torch.Generator().manual_seed(seed)
    patterns = torch.rand(3, 1, 28, 28, generator=g)
    weights = torch.softmax(torch.randn(n, 3, generator=g) * 2, dim=1)
    return torch.einsum("nk,kchw->nchw", weights, patterns)


@pytest.mark.parametrize("arch", ae.ARCHITECTURES)
def test_make_autoencoder_output_shape_and_range(arch):
    torch.manual_seed(0)
    model = ae.make_autoencoder(arch, latent_dim=3)
    x = torch.rand(5, 1, 28, 28)
    x_hat = model(x)
    assert x_hat.shape == x.shape
    assert x_hat.min() >= 0 and x_hat.max() <= 1
    assert model.latent_dim == 3 and model.encoder(x).shape == (5, 3)
    assert isinstance(model.decoder[-1 if arch == "conv" else -2], nn.Sigmoid)


def test_make_autoencoder_unknown_arch():
    with pytest.raises(ValueError, match="resnet") as err:
        ae.make_autoencoder("resnet")
    assert "mlp" in str(err.value) and "conv" in str(err.value)


def test_autoencoder_step_returns_the_pre_step_loss_and_updates():
    torch.manual_seed(0)
    model = ae.make_autoencoder("mlp", latent_dim=2)
    x = pattern_images(8)
    with torch.no_grad():
        expected = (model(x) - x).pow(2).flatten(1).sum(1).mean()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    out = ae.autoencoder_step(model, optimizer, x)
    assert set(out) == {"mse"} and not out["mse"].requires_grad
    torch.testing.assert_close(out["mse"], expected)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def _trained(arch, seed=0, steps=100):
    torch.manual_seed(seed)
    model = ae.make_autoencoder(arch, latent_dim=3)
    x = pattern_images()
    before = ae.reconstruction_mse(model, x)
    data = recipe.RunData("patterns", x)
    config = recipe.make_config(ae.AEConfig, {"arch": arch, "latent_dim": 3}, data, steps=steps,
                                batch_size=32, lr=3e-3, seed=seed)
    _, meta = recipe.train(ae.RECIPE, config, data, "cpu", built=({"model": model}, None),
                           progress=False)
    return model, x, before, meta["history"]


@pytest.mark.parametrize("arch", ae.ARCHITECTURES)
def test_training_lowers_reconstruction_error(arch):
    model, x, before, history = _trained(arch)
    after = ae.reconstruction_mse(model, x)
    assert len(history["mse"]) == 100 and len(history["seconds"]) == 100
    assert not model.training  # left in eval mode
    assert after < 0.5 * before
    # the loss recorded during training is per image (784 pixels), so it ends near 784 * after
    assert sum(history["mse"][-10:]) / 10 < 784 * before * 0.5


def test_training_is_deterministic_under_seed():
    model_a, _, _, history_a = _trained("mlp", seed=1, steps=20)
    model_b, _, _, history_b = _trained("mlp", seed=1, steps=20)
    _, _, _, history_c = _trained("mlp", seed=2, steps=20)
    assert history_a["mse"] == history_b["mse"]
    assert history_a["mse"] != history_c["mse"]
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(pa, pb)


def test_reconstruction_mse_equals_direct_computation():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2500, 1, 28, 28, generator=g)
    shift = torch.rand(1, 1, 28, 28, generator=g) * 0.3

    def reconstruct(xb):
        return (xb * 0.8 + shift).clamp(0, 1)

    direct = ((reconstruct(x) - x) ** 2).mean().item()
    # batch_size 1000 over 2500 images: the last batch is smaller, and must weigh less
    assert ae.reconstruction_mse(reconstruct, x) == pytest.approx(direct, rel=1e-5)
    assert ae.reconstruction_mse(reconstruct, x, batch_size=7) == pytest.approx(direct, rel=1e-5)
    assert ae.reconstruction_mse(lambda xb: xb, x) == 0.0


def test_reconstruction_mse_runs_without_gradients():
    seen = []

    def reconstruct(xb):
        seen.append(torch.is_grad_enabled())
        return xb * 0

    x = torch.full((3, 1, 28, 28), 0.5)
    assert ae.reconstruction_mse(reconstruct, x) == pytest.approx(0.25)
    assert seen == [False]


def test_defaults_per_schedule():
    assert set(ae.DEFAULTS) == {"smoke", "full"}
    for values in ae.DEFAULTS.values():
        assert set(values) == {"steps", "batch_size", "lr"}
    assert ae.DEFAULTS["smoke"]["steps"] < ae.DEFAULTS["full"]["steps"]


def test_load_or_train_autoencoder_trains_once_then_loads_the_same_weights():
    from types import SimpleNamespace

    x = torch.rand(128, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    ds = SimpleNamespace(name="toy", x_train=x)
    first, meta = ae.load_or_train_autoencoder("mlp", 4, ds, "smoke", "cpu", progress=False)
    assert len(meta["history"]["mse"]) == ae.DEFAULTS["smoke"]["steps"]
    second, again = ae.load_or_train_autoencoder("mlp", 4, ds, "smoke", "cpu", progress=False)
    assert again["history"] == meta["history"] and again["device"] == "cpu"
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
