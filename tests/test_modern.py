"""Notebook 12's building blocks against known answers: hinge losses on hand-computed logits, R1 on
a function with a known gradient, power iteration against the exact spectral norm, a spectrally
normalised layer's norm, and truncated noise's range and distribution."""

import math

import pytest
import torch
from torch import nn

from course_lib import modern


def test_hinge_losses_on_hand_computed_logits():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, 0.0, 1.0])
    # real: max(0, 1 - l) = 0, 0.5, 2 -> mean 2.5 / 3; fake: max(0, 1 + l) = 0, 1, 2 -> mean 1
    assert modern.hinge_discriminator_loss(real, fake).item() == pytest.approx(2.5 / 3 + 1.0)
    assert modern.hinge_generator_loss(fake).item() == pytest.approx(2.0 / 3)


def test_hinge_loss_gives_no_gradient_beyond_the_margin():
    real = torch.tensor([1.5, 0.2], requires_grad=True)
    fake = torch.tensor([-1.5, -0.2], requires_grad=True)
    modern.hinge_discriminator_loss(real, fake).backward()
    assert real.grad.tolist() == [0.0, -0.5] and fake.grad.tolist() == [0.0, 0.5]


def test_hinge_loss_rejects_two_dimensional_logits():
    with pytest.raises(ValueError, match="1-D"):
        modern.hinge_discriminator_loss(torch.zeros(4, 1), torch.zeros(4))


def test_r1_is_half_gamma_times_the_squared_gradient_norm():
    torch.manual_seed(0)
    linear = nn.Linear(5, 1)
    x = torch.randn(8, 5)
    expected = 10.0 / 2 * linear.weight.pow(2).sum()
    assert modern.r1_penalty(linear, x, gamma=10.0).item() == pytest.approx(expected.item(), rel=1e-6)
    # a quadratic l(x) = |x|^2 has gradient 2x: R1 = gamma / 2 * mean |2x|^2
    quadratic = lambda x: x.pow(2).sum(1)  # noqa: E731
    expected = 1.0 / 2 * (2 * x).pow(2).sum(1).mean()
    assert modern.r1_penalty(quadratic, x, gamma=1.0).item() == pytest.approx(expected.item(), rel=1e-6)


def test_r1_reaches_the_discriminators_parameters():
    linear = nn.Linear(3, 1)
    modern.r1_penalty(linear, torch.randn(4, 3)).backward()
    assert torch.allclose(linear.weight.grad, 10.0 * linear.weight.detach())


@pytest.mark.parametrize("shape", [(6, 4), (8, 3, 3, 3)])
def test_power_iteration_converges_to_the_spectral_norm(shape):
    weight = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    exact = torch.linalg.matrix_norm(weight.reshape(shape[0], -1), 2)
    sigma, _ = modern.power_iteration(weight, iterations=200)
    assert sigma.item() == pytest.approx(exact.item(), rel=1e-8)


def test_power_iteration_continues_from_its_vector():
    weight = torch.randn(10, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    _, u = modern.power_iteration(weight, iterations=1)
    for _ in range(199):  # one iteration per "training step", as spectral normalization does
        sigma, u = modern.power_iteration(weight, iterations=1, u=u)
    assert sigma.item() == pytest.approx(torch.linalg.matrix_norm(weight, 2).item(), rel=1e-8)


def test_power_iteration_rejects_a_vector():
    with pytest.raises(ValueError, match="2 dimensions"):
        modern.power_iteration(torch.ones(3))


def test_a_spectrally_normalised_layer_has_norm_one():
    torch.manual_seed(0)
    network = modern.spectrally_normalized(nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 1)))
    for _ in range(30):  # each forward pass in training mode runs one power iteration
        network(torch.randn(2, 20))
    for layer in (network[0], network[2]):
        assert torch.linalg.matrix_norm(layer.weight, 2).item() == pytest.approx(1.0, abs=1e-3)


def test_truncated_noise_stays_inside_and_is_a_truncated_normal():
    psi = 0.5
    z = modern.truncated_noise(20_000, 10, psi, generator=torch.Generator().manual_seed(0))
    assert z.shape == (20_000, 10) and z.abs().max().item() <= psi
    # truncated N(0, 1) on [-a, a]: variance 1 - 2 a phi(a) / (2 Phi(a) - 1)
    phi = math.exp(-psi ** 2 / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(psi / math.sqrt(2))
    assert z.var().item() == pytest.approx(1 - 2 * psi * phi / mass, rel=0.01)
    # its CDF at 0.25: (Phi(0.25) - Phi(-psi)) / mass
    cdf = (0.5 * (1 + math.erf(0.25 / math.sqrt(2))) - 0.5 * (1 - mass)) / mass
    assert (z <= 0.25).float().mean().item() == pytest.approx(cdf, abs=0.005)


def test_truncated_noise_rejects_a_non_positive_threshold():
    with pytest.raises(ValueError, match="positive"):
        modern.truncated_noise(4, 2, 0.0)


def test_self_attention_keeps_the_shape_and_starts_as_the_identity():
    from course_lib.nets import SelfAttention

    torch.manual_seed(0)
    layer, x = SelfAttention(16), torch.randn(3, 16, 7, 7)
    assert torch.equal(layer(x), x)  # gamma = 0 at initialisation
    rows = layer.last_attention.sum(2)
    assert layer.last_attention.shape == (3, 49, 49) and torch.allclose(rows, torch.ones_like(rows))
    with torch.no_grad():
        layer.gamma.fill_(1.0)
    assert layer(x).shape == x.shape and not torch.allclose(layer(x), x)


def test_self_attention_with_uniform_weights_averages_the_positions():
    from course_lib.nets import SelfAttention

    layer, x = SelfAttention(4, key_channels=1), torch.randn(2, 4, 3, 3)
    with torch.no_grad():
        for conv in (layer.query, layer.key):  # q . k = 0 everywhere: beta_ij = 1 / n
            conv.weight.zero_(), conv.bias.zero_()
        for conv in (layer.value, layer.out):  # identity 1x1 convolutions
            conv.weight.copy_(torch.eye(4).view(4, 4, 1, 1)), conv.bias.zero_()
        layer.gamma.fill_(1.0)
    mean = x.mean((2, 3), keepdim=True)
    assert torch.allclose(layer(x), x + mean.expand_as(x), atol=1e-6)


@pytest.mark.parametrize("padding", [0, 1])
def test_conv_operator_norm_is_the_norm_of_the_convolution_as_a_matrix(padding):
    g = torch.Generator().manual_seed(3)
    kernel = torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64)
    shape = (2, 5, 5)
    basis = torch.eye(50, dtype=torch.float64).view(50, *shape)  # the convolution applied to e_1..e_50
    matrix = torch.nn.functional.conv2d(basis, kernel, padding=padding).flatten(1).T
    exact = torch.linalg.matrix_norm(matrix, 2)
    estimate = modern.conv_operator_norm(kernel, shape, iterations=500, padding=padding, generator=g)
    assert estimate.item() == pytest.approx(exact.item(), rel=1e-6)
    # the reshaped kernel's norm is another number; the operator's is at most sqrt(3 * 3) times it
    reshaped = torch.linalg.matrix_norm(modern.as_matrix(kernel), 2)
    assert estimate <= 3 * reshaped + 1e-9
