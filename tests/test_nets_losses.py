import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import losses, nets


@pytest.mark.parametrize("make", [nets.mlp_encoder, nets.conv_encoder])
@pytest.mark.parametrize("dim", [2, 16])
def test_encoder_shapes(make, dim):
    torch.manual_seed(0)
    z = make(dim)(torch.rand(3, 1, 28, 28))
    assert z.shape == (3, dim) and z.dtype == torch.float32


@pytest.mark.parametrize("make", [nets.mlp_decoder, nets.conv_decoder])
@pytest.mark.parametrize("dim", [2, 16])
def test_decoder_shapes(make, dim):
    torch.manual_seed(0)
    assert make(dim)(torch.randn(3, dim)).shape == (3, 1, 28, 28)


@pytest.mark.parametrize("make", [nets.mlp_decoder, nets.conv_decoder])
def test_decoder_out_activation(make):
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(1)) * 10
    torch.manual_seed(0)
    logits = make(8)(z)
    assert logits.min() < 0 or logits.max() > 1  # plain logits are not squashed...
    torch.manual_seed(0)
    probs = make(8, out_activation=nn.Sigmoid)(z)
    torch.testing.assert_close(probs, torch.sigmoid(logits))  # ...same weights, then sigmoid


@pytest.mark.parametrize("make", [nets.mlp_encoder, nets.conv_encoder])
@pytest.mark.parametrize("shape", [(2, 784), (2, 28, 28), (2, 3, 28, 28), (2, 1, 32, 32)])
def test_encoder_rejects_wrong_shape(make, shape):
    with pytest.raises(ValueError, match=r"image should have shape \(batch, 1, 28, 28\)") as err:
        make(4)(torch.zeros(shape))
    assert str(tuple(shape)) in str(err.value)


@pytest.mark.parametrize("make", [nets.mlp_decoder, nets.conv_decoder])
def test_decoder_rejects_wrong_latent_size(make):
    with pytest.raises(ValueError, match=r"latent should have shape \(batch, 4\)"):
        make(4)(torch.zeros(2, 5))


def test_expect_shape_passes_input_through():
    check = nets.ExpectShape((3, 2))
    x = torch.randn(5, 3, 2)
    assert check(x) is x
    assert "shape=(3, 2)" in repr(check)


def test_mlp_layer_structure():
    net = nets.mlp([5, 7, 3, 2])
    kinds = [type(layer) for layer in net]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    sizes = [(layer.in_features, layer.out_features) for layer in net if isinstance(layer, nn.Linear)]
    assert sizes == [(5, 7), (7, 3), (3, 2)]
    net = nets.mlp([4, 2], activation=nn.Tanh, out_activation=nn.Sigmoid)
    assert [type(layer) for layer in net] == [nn.Linear, nn.Sigmoid]
    net = nets.mlp([4, 6, 2], activation=nn.Tanh)
    assert [type(layer) for layer in net] == [nn.Linear, nn.Tanh, nn.Linear]


def test_count_parameters():
    assert nets.count_parameters(nn.Linear(3, 2)) == 8
    assert nets.count_parameters(nets.mlp([784, 256, 16])) == 784 * 256 + 256 + 256 * 16 + 16
    frozen = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    frozen[0].requires_grad_(False)
    assert nets.count_parameters(frozen) == 3  # only trainable parameters count


def test_conv_encoder_parameter_count():
    # conv 1->32 (4x4) + conv 32->64 (4x4) + linear 64*7*7 -> d
    d = 10
    expected = (16 * 32 + 32) + (32 * 64 * 16 + 64) + (64 * 49 * d + d)
    assert nets.count_parameters(nets.conv_encoder(d)) == expected


# ---- losses -------------------------------------------------------------------------------------


def test_bce_of_zero_logits_is_log_two_per_pixel():
    logits = torch.zeros(4, 1, 28, 28)
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    got = losses.bce_reconstruction(logits, x)
    torch.testing.assert_close(got, torch.tensor(784 * math.log(2)))


def test_bce_equals_bernoulli_negative_log_likelihood():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64) * 3
    x = (torch.rand(3, 1, 4, 4, generator=g, dtype=torch.float64) > 0.5).double()
    p = 1 / (1 + torch.exp(-logits))
    log_lik = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=(1, 2, 3))
    torch.testing.assert_close(losses.bce_reconstruction(logits, x), -log_lik.mean())
    # averaging over the batch: the loss of a batch is the mean of the per-image losses
    singles = torch.stack([losses.bce_reconstruction(logits[i:i + 1], x[i:i + 1]) for i in range(3)])
    torch.testing.assert_close(losses.bce_reconstruction(logits, x), singles.mean())


def test_bce_is_stable_for_large_logits():
    logits = torch.tensor([[100.0, -100.0]])
    x = torch.tensor([[1.0, 0.0]])
    got = losses.bce_reconstruction(logits, x)
    assert torch.isfinite(got) and got < 1e-30
    wrong = losses.bce_reconstruction(logits, 1 - x)
    torch.testing.assert_close(wrong, torch.tensor(200.0))


@pytest.mark.parametrize("bad", [-0.01, 1.01])
def test_bce_rejects_targets_outside_unit_interval(bad):
    x = torch.full((2, 3), 0.5)
    x[1, 2] = bad
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.bce_reconstruction(torch.zeros(2, 3), x)


def test_bce_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        losses.bce_reconstruction(torch.zeros(2, 1, 28, 28), torch.zeros(2, 784))


def test_mse_hand_computed():
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.tensor([[[[1.0, 2.0], [0.0, 0.0]]], [[[0.0, 0.0], [0.0, 3.0]]]])
    # per image: 1 + 4 = 5 and 9; mean over images 7; per pixel 7 / 4
    torch.testing.assert_close(losses.mse_reconstruction(x_hat, x), torch.tensor(7.0))
    torch.testing.assert_close(losses.mse_reconstruction(x_hat, x, "pixel"), torch.tensor(1.75))


def test_mse_image_and_pixel_relation():
    g = torch.Generator().manual_seed(2)
    x, x_hat = torch.rand(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    image = losses.mse_reconstruction(x_hat, x, reduction="image")
    pixel = losses.mse_reconstruction(x_hat, x, reduction="pixel")
    torch.testing.assert_close(pixel * 784, image)
    torch.testing.assert_close(pixel, F.mse_loss(x_hat, x))


def test_mse_rejects_bad_reduction_and_shapes():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="reduction"):
        losses.mse_reconstruction(x, x, reduction="sum")
    with pytest.raises(ValueError, match="same shape"):
        losses.mse_reconstruction(torch.zeros(2, 4), x)
