"""InfoGAN's MNIST networks (Chen et al., 2016, appendix C.1) as the recipe builds them:
`nets.infogan_generator`, `nets.infogan_discriminator_body` and `infogan.make_networks`."""

import pytest
import torch
from torch import nn

from course_lib import infogan, nets


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_generator_layers_and_parameter_count_by_hand():
    generator = nets.infogan_generator(74)
    kinds = [type(m).__name__ for m in generator]
    assert kinds == ["ExpectShape", "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU",
                     "Unflatten", "ConvTranspose2d", "BatchNorm2d", "ReLU", "ConvTranspose2d", "Tanh"]
    # FC 74 -> 1024 (no bias: batch norm follows) + BN; FC 1024 -> 128*7*7 + BN;
    # upconv 128 -> 64 4x4 + BN; upconv 64 -> 1 4x4 with its bias
    expected = (74 * 1024 + 2 * 1024 + 1024 * 6272 + 2 * 6272 + 128 * 64 * 16 + 2 * 64
                + 64 * 16 + 1)
    assert n_params(generator) == expected
    x = generator(torch.randn(3, 74))
    assert x.shape == (3, 1, 28, 28) and x.abs().max() <= 1


def test_discriminator_body_layers_and_parameter_count_by_hand():
    body = nets.infogan_discriminator_body()
    # conv 1 -> 64 4x4 with bias; conv 64 -> 128 4x4 + BN; FC 128*7*7 -> 1024 + BN
    expected = 16 * 64 + 64 + 64 * 128 * 16 + 2 * 128 + 6272 * 1024 + 2 * 1024
    assert n_params(body) == expected
    assert body(torch.randn(3, 1, 28, 28)).shape == (3, 1024)
    assert isinstance(body[-2], nn.BatchNorm1d) and isinstance(body[-1], nn.LeakyReLU)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in body[:3])  # no norm on the raw images


def test_make_networks_scales_every_width():
    generator, body = infogan.make_networks(74, "paper", width=0.5)
    assert generator[1].out_features == 512 and generator[4].out_features == 64 * 7 * 7
    assert generator[8].in_channels == 64 and generator[8].out_channels == 32
    assert body[1].out_channels == 32 and body[3].out_channels == 64 and body[-3].out_features == 512
    dcgan_g, dcgan_body = infogan.make_networks(74, "dcgan")
    assert n_params(dcgan_g) == n_params(nets.dcgan_generator(74))
    assert n_params(dcgan_body) == n_params(nets.dcgan_discriminator_body())
    with pytest.raises(ValueError, match="architecture"):
        infogan.make_networks(74, "resnet")


@pytest.mark.parametrize("architecture, width, features", [("paper", 1.0, 1024), ("paper", 0.5, 512),
                                                           ("dcgan", 1.0, 64 * 7 * 7)])
def test_make_infogan_q_and_d_read_the_body_features(architecture, width, features):
    torch.manual_seed(0)
    generator, discriminator = infogan.make_infogan(16, architecture=architecture, width=width,
                                                    noise_std=0.5)
    assert discriminator.head.in_features == features and discriminator.q_head[0].in_features == features
    latent, _, _ = infogan.sample_latent(4, 16)
    x = generator(latent)
    assert x.shape == (4, 1, 28, 28) and discriminator(x).shape == (4,)
    assert discriminator.q(x).shape == (4, 12)
    assert isinstance(generator[1], infogan.ScaleNoise)
    images = infogan.sample_images(generator, 5)  # the noise size is still read from the input check
    assert images.shape == (5, 1, 28, 28)


def test_recipe_defaults_build_the_configured_networks():
    config = infogan.InfoGANConfig(architecture="paper", width=0.25)
    modules = infogan.build(config)
    assert modules["discriminator"].head.in_features == 256
    assert infogan.DEFAULTS["full"]["architecture"] in infogan.ARCHITECTURES
