"""Input checks (course_lib.checks) and the public functions that call them (issue 17, item 9)."""

from types import SimpleNamespace

import pytest
import torch

from course_lib import autoencoders, checkpoints, checks, cvae, data, vae

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("scale, x", [
    ("unit", torch.tensor([[0.0, 1.0]])),  # the ends of the range are valid
    ("unit", torch.tensor([[0.0, 1.0005]], dtype=torch.float64)),  # rounding, any float dtype
    ("symmetric", torch.tensor([[-1.0, 1.0]])),
    ("symmetric", torch.zeros(2, 3)),  # all mid-grey: nothing says [0, 1]
    ("uint8", torch.tensor([[0, 255]], dtype=torch.uint8)),
])
def test_check_images_accepts_valid_batches(scale, x):
    assert checks.check_images(x, scale) is x


@pytest.mark.parametrize("scale, x, message", [
    ("unit", torch.tensor([[0.0, 255.0]]), r"x should have values in \[0, 1\] \(scale 'unit'\), "
                                           r"got values in \[0, 255\]"),
    ("unit", torch.tensor([[-1.0, 1.0]]), r"values in \[0, 1\].*got values in \[-1, 1\]"),
    ("symmetric", torch.tensor([[0.0, 1.0]]), r"values in \[-1, 1\].*none below 0: these look like "
                                             r"\[0, 1\] images"),
    ("symmetric", torch.tensor([[0.0, NAN]]), r"x should be finite, got 1 NaN and 0 infinite"),
    ("unit", torch.tensor([[0.5, -INF]]), r"x should be finite, got 0 NaN and 1 infinite"),
    ("unit", torch.tensor([[0, 255]], dtype=torch.uint8), r"floating point for scale 'unit', got "
                                                          r"torch.uint8.*data.scale_images"),
    ("uint8", torch.tensor([[0.0, 1.0]]), r"x should be torch.uint8 for scale 'uint8'"),
    ("unit", torch.zeros(0, 2), r"non-empty batch"),
    ("unit", torch.zeros(3), r"non-empty batch of shape \(N, ...\), got shape \(3,\)"),
    ("unit", [[0.0, 1.0]], r"x should be a torch tensor, got list"),
    ("grey", torch.zeros(1, 2), r"scale should be one of \('unit', 'symmetric', 'uint8'\)"),
])
def test_check_images_refuses_bad_batches(scale, x, message):
    with pytest.raises(ValueError, match=message):
        checks.check_images(x, scale, "x")


def test_check_images_shape_and_finite():
    with pytest.raises(ValueError, match=r"images should have shape \(N, 1, 28, 28\), got \(2, 28, 28\)"):
        checks.check_images(torch.zeros(2, 28, 28), "unit", shape=(1, 28, 28))
    checks.check_finite(torch.tensor([1, 2]), "integers")  # integers are always finite
    with pytest.raises(ValueError, match=r"features should be finite, got 2 NaN and 0 infinite "
                                         r"value\(s\) among 4"):
        checks.check_finite(torch.tensor([[NAN, 1.0], [2.0, NAN]]), "features")


# ---- data.scale_images -------------------------------------------------------------------------


def test_scale_images_refuses_0_to_255_floats():
    pixels = torch.tensor([0, 51, 255], dtype=torch.uint8)
    torch.testing.assert_close(data.scale_images(pixels, "unit"), torch.tensor([0.0, 0.2, 1.0]))
    with pytest.raises(ValueError, match=r"images to scale should have values in \[0, 1\].*got "
                                         r"values in \[0, 255\]\. Pass uint8 pixels"):
        data.scale_images(pixels.float(), "symmetric")  # used to return values up to 255
    with pytest.raises(ValueError, match="floating point"):
        data.scale_images(pixels.long(), "unit")  # int64 0..255 used to come out as 0..255 floats
    with pytest.raises(ValueError, match="should be finite"):
        data.scale_images(torch.tensor([0.5, NAN]), "unit")
    floats = torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)
    torch.testing.assert_close(data.scale_images(floats, "symmetric"), torch.tensor([-1.0, -0.5, 1.0]))


# ---- [0, 1] models refuse [-1, 1] data ---------------------------------------------------------


def test_vae_and_autoencoder_training_refuse_symmetric_images():
    x = torch.rand(16, 1, 28, 28) * 2 - 1  # GAN-scaled data
    message = r"x_train should have values in \[0, 1\] \(scale 'unit'\).*scale='unit'"
    ds = SimpleNamespace(name="gan-scaled", x_train=x, y_train=torch.arange(16) % 10)
    settings = dict(steps=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=message):
        vae.load_or_train_vae("mlp", 2, ds, "smoke", "cpu", **settings)
    with pytest.raises(ValueError, match=message):
        cvae.load_or_train_cvae("mlp", 2, ds, "smoke", "cpu", **settings)
    with pytest.raises(ValueError, match=message):
        autoencoders.load_or_train_autoencoder("mlp", 2, ds, "smoke", "cpu", **settings)


# ---- checkpoints with non-finite weights (item 7) ----------------------------------------------


@pytest.mark.parametrize("bad", [NAN, INF])
def test_restore_refuses_non_finite_weights(tmp_path, bad):
    net = torch.nn.Linear(2, 1)
    with torch.no_grad():
        net.weight[0, 1] = bad
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": net}, {"test_accuracy": 0.9})
    fresh = torch.nn.Linear(2, 1)
    before = fresh.weight.detach().clone()
    with pytest.raises(checkpoints.CheckpointError, match=r"weights for 'net' should be finite, got "
                                                          r"NaN or infinite values in \['weight'\]"):
        checkpoints.restore({"net": fresh}, checkpoints.load_checkpoint(path))
    assert torch.equal(fresh.weight, before)  # nothing half-loaded
