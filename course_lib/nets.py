"""Building blocks for 28x28x1 images: MLPs and small conv encoders/decoders (notebook 01)."""

import math

from torch import nn

IMAGE_SHAPE = (1, 28, 28)


class ExpectShape(nn.Module):
    """Check the trailing shape of the input, so a wrong shape fails here with a clear message."""

    def __init__(self, shape, what="input"):
        super().__init__()
        self.shape, self.what = tuple(shape), what

    def forward(self, x):
        if tuple(x.shape[1:]) != self.shape:
            raise ValueError(
                f"{self.what} should have shape (batch, {', '.join(map(str, self.shape))}), "
                f"got {tuple(x.shape)}."
            )
        return x

    def extra_repr(self):
        return f"shape={self.shape}"


def mlp(sizes, activation=nn.ReLU, out_activation=None):
    """Linear layers of the given sizes with `activation` between them: mlp([784, 256, 16])."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    if out_activation is not None:
        layers.append(out_activation())
    return nn.Sequential(*layers)


def mlp_encoder(out_dim, hidden=(512, 256)):
    """Image (B, 1, 28, 28) -> vector (B, out_dim)."""
    d = math.prod(IMAGE_SHAPE)
    return nn.Sequential(ExpectShape(IMAGE_SHAPE, "image"), nn.Flatten(), *mlp([d, *hidden, out_dim]))


def mlp_decoder(in_dim, hidden=(256, 512), out_activation=None):
    """Vector (B, in_dim) -> image (B, 1, 28, 28); logits unless `out_activation` is given."""
    d = math.prod(IMAGE_SHAPE)
    return nn.Sequential(
        ExpectShape((in_dim,), "latent"),
        *mlp([in_dim, *hidden, d], out_activation=out_activation),
        nn.Unflatten(1, IMAGE_SHAPE),
    )


def conv_encoder(out_dim, channels=(32, 64)):
    """Image (B, 1, 28, 28) -> (B, out_dim): two stride-2 convolutions (28 -> 14 -> 7), then linear."""
    c1, c2 = channels
    return nn.Sequential(
        ExpectShape(IMAGE_SHAPE, "image"),
        nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(c2 * 7 * 7, out_dim),
    )


def conv_decoder(in_dim, channels=(64, 32), out_activation=None):
    """(B, in_dim) -> image (B, 1, 28, 28): linear to 7x7, then two stride-2 transposed convs."""
    c1, c2 = channels
    layers = [
        ExpectShape((in_dim,), "latent"),
        nn.Linear(in_dim, c1 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (c1, 7, 7)),
        nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(c2, 1, 4, stride=2, padding=1),
    ]
    if out_activation is not None:
        layers.append(out_activation())
    return nn.Sequential(*layers)


def count_parameters(module):
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
