"""Building blocks of every model: MLPs, conv encoders/decoders (notebook 01), the GAN networks
(notebooks 04 and 05: generators, `Discriminator(body, head)`, DCGAN init), and `eval_mode`.

Every discriminator is a `Discriminator(body, head)`: `body` maps an input to a feature vector and
`head` (one linear layer) maps the features to one logit. Later chapters reuse the pieces: an
auxiliary classifier (ACGAN) or a code predictor (InfoGAN) is another head on the same body, a
critic for WGAN-GP is the body built with `norm="none"` or `"layer"` (no batch norm), and a
conditional model feeds the condition as extra inputs (a larger `latent_dim` for a generator,
extra `in_channels` for the DCGAN discriminator, a larger `in_shape` for the MLP one).
"""

import math
from contextlib import contextmanager

import torch
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


NORMS = ("batch", "layer", "none")


class Discriminator(nn.Module):
    """logit = head(body(x)), one logit per example: D(x) = sigmoid(logit).

    `features(x)` gives the body's output, so other heads can share the body.
    """

    def __init__(self, body, head):
        super().__init__()
        self.body, self.head = body, head

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x)).squeeze(1)


def leaky_relu():
    """LeakyReLU with slope 0.2 for negative inputs (the DCGAN choice)."""
    return nn.LeakyReLU(0.2)


def mlp_generator(latent_dim, out_shape=IMAGE_SHAPE, hidden=(256, 512, 1024), out_activation=nn.Tanh,
                  activation=leaky_relu):
    """z (B, latent_dim) -> x (B, *out_shape): an MLP; tanh output for images in [-1, 1].

    For 2-D points use out_shape=(2,) and out_activation=None (points are not bounded).
    """
    out_dim = math.prod(out_shape)
    layers = [ExpectShape((latent_dim,), "latent"), *mlp([latent_dim, *hidden, out_dim], activation)]
    if out_activation is not None:
        layers.append(out_activation())
    if len(out_shape) > 1:
        layers.append(nn.Unflatten(1, tuple(out_shape)))
    return nn.Sequential(*layers)


def mlp_discriminator(in_shape=IMAGE_SHAPE, hidden=(512, 256)):
    """x (B, *in_shape) -> logit (B,): LeakyReLU(0.2) MLP body, linear head."""
    in_dim = math.prod(in_shape)
    body = nn.Sequential(ExpectShape(in_shape, "discriminator input"), nn.Flatten(),
                         *mlp([in_dim, *hidden], leaky_relu, leaky_relu))
    return Discriminator(body, nn.Linear(hidden[-1], 1))


def dcgan_generator(latent_dim, channels=(64, 32), out_channels=1):
    """z (B, latent_dim) -> image (B, out_channels, 28, 28) in [-1, 1] (notebook 05).

    Project and reshape to 7x7, then two stride-2 transposed convolutions (7 -> 14 -> 28), batch
    norm and ReLU after every layer but the last, tanh output. No pooling, no fully connected
    hidden layers. A conditional generator passes latent_dim = noise size + condition size.
    """
    c1, c2 = channels
    return nn.Sequential(
        ExpectShape((latent_dim,), "latent"),
        nn.Linear(latent_dim, c1 * 7 * 7, bias=False),
        nn.Unflatten(1, (c1, 7, 7)),
        nn.BatchNorm2d(c1), nn.ReLU(),
        nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1, bias=False),  # 7 -> 14
        nn.BatchNorm2d(c2), nn.ReLU(),
        nn.ConvTranspose2d(c2, out_channels, 4, stride=2, padding=1),  # 14 -> 28
        nn.Tanh(),
    )


def _norm2d(norm, channels):
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":  # normalises each example on its own: allowed in a WGAN-GP critic
        return nn.GroupNorm(1, channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"Unknown norm {norm!r}: expected one of {NORMS}.")


def dcgan_discriminator_body(in_channels=1, channels=(32, 64), norm="batch"):
    """Image (B, in_channels, 28, 28) -> features (B, channels[1] * 7 * 7).

    Two stride-2 convolutions (28 -> 14 -> 7) with LeakyReLU(0.2); no norm on the first layer
    (it sees the raw images), `norm` ('batch', 'layer' or 'none') on the second.
    """
    c1, c2 = channels
    return nn.Sequential(
        ExpectShape((in_channels, *IMAGE_SHAPE[1:]), "discriminator input"),
        nn.Conv2d(in_channels, c1, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 28 -> 14
        nn.Conv2d(c1, c2, 4, stride=2, padding=1, bias=norm == "none"),  # 14 -> 7
        _norm2d(norm, c2), nn.LeakyReLU(0.2),
        nn.Flatten(),
    )


def dcgan_discriminator(in_channels=1, channels=(32, 64), norm="batch"):
    """Image (B, in_channels, 28, 28) -> logit (B,): the DCGAN body and a linear head."""
    body = dcgan_discriminator_body(in_channels, channels, norm)
    return Discriminator(body, nn.Linear(channels[1] * 7 * 7, 1))


@torch.no_grad()
def init_dcgan_weights(module):
    """DCGAN initialisation, for `model.apply(init_dcgan_weights)`: every convolution and linear
    weight ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02), all biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


@torch.no_grad()
def generate(generator, z):
    """G(z) in eval mode (batch norm uses its running statistics), restoring the mode after."""
    with eval_mode(generator):
        return generator(z)


@contextmanager
def eval_mode(*modules):
    """Inside the block every module is in eval mode (batch norm uses its running statistics,
    dropout is off); afterwards each gets back the mode it had, also after an error."""
    was_training = [module.training for module in modules]
    try:
        for module in modules:
            module.eval()
        yield
    finally:
        for module, mode in zip(modules, was_training):
            module.train(mode)


def sample_noise(n, latent_dim, device=None):
    """z ~ N(0, I): (n, latent_dim)."""
    return torch.randn(n, latent_dim, device=device)


def toy_gan(latent_dim, hidden=(128, 128, 128)):
    """(generator, discriminator) for 2-D points: ReLU MLP generator with a linear output (points
    are not bounded), LeakyReLU MLP discriminator (notebooks 04 and 08)."""
    return (mlp_generator(latent_dim, (2,), hidden=hidden, out_activation=None, activation=nn.ReLU),
            mlp_discriminator((2,), hidden=hidden))


# ---- layers that let D see a whole minibatch (notebook 11) -----------------------------------------


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016): features f (N, A) -> [f, o] (N, A + B).

    M_i = f_i T reshaped to (B, C) with a learned tensor T (A x B x C); for each of the B kernels,
    c_b(i, j) = exp(-||M_ib - M_jb||_1) and o_b(x_i) = sum_{j != i} c_b(i, j). A batch of equal
    samples gives the largest value, N - 1 per kernel: D can see a collapsed batch.
    """

    def __init__(self, in_features, n_kernels=16, kernel_dim=8):
        super().__init__()
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, n_kernels * kernel_dim) * 0.1)

    def forward(self, f):
        m = (f @ self.T).view(len(f), self.n_kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        l1 = torch.cdist(m, m, p=1)  # (B, N, N): L1 distance between samples, per kernel
        o = torch.exp(-l1).sum(2).t() - 1.0  # (N, B); drop j = i, whose closeness is exp(0) = 1
        return torch.cat([f, o], dim=1)


class MinibatchStd(nn.Module):
    """The minibatch standard-deviation feature (Karras et al. 2018): x (N, ...) -> x with one more
    feature (a column for vectors, a channel for images) holding the batch's average standard
    deviation, mean over features of std over the batch. 0 for a collapsed batch."""

    def forward(self, x):
        std = (x.var(0, unbiased=False) + 1e-8).sqrt().mean() if len(x) > 1 else x.new_zeros(())
        extra = std.expand(len(x), 1, *x.shape[2:])
        return torch.cat([x, extra], dim=1)


def with_minibatch_layer(discriminator, layer, n_features, extra):
    """A `Discriminator` whose head first applies `layer` (MinibatchStd or MinibatchDiscrimination)
    to the body's features: `features(x)` is unchanged (feature matching uses it), and the head
    reads the n_features + extra outputs."""
    return Discriminator(discriminator.body, nn.Sequential(layer, nn.Linear(n_features + extra, 1)))


class SelfAttention(nn.Module):
    """Self-attention on feature maps (SAGAN, Zhang et al. 2019): x (N, C, H, W) -> x + gamma * o.

    With query q = W_q x and key k = W_k x (C // 8 channels each) and value v = W_v x, every position
    i attends to all n = H W positions: beta_i = softmax_j(q_i . k_j), o_i = W_o sum_j beta_ij v_j.
    gamma is learned and starts at 0, so the layer starts as the identity. `last_attention` keeps
    the latest beta (N, n, n) for plotting. Cost: n^2 dot products, quadratic in the positions.
    """

    def __init__(self, channels, key_channels=None):
        super().__init__()
        key_channels = key_channels or max(1, channels // 8)
        self.query, self.key = (nn.Conv2d(channels, key_channels, 1) for _ in range(2))
        self.value, self.out = nn.Conv2d(channels, channels, 1), nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))
        self.last_attention = None

    def forward(self, x):
        q, k, v = (layer(x).flatten(2) for layer in (self.query, self.key, self.value))  # (N, c, n)
        beta = torch.softmax(q.transpose(1, 2) @ k, dim=2)  # (N, n, n): row i sums to 1 over j
        self.last_attention = beta.detach()
        o = (v @ beta.transpose(1, 2)).view_as(x)  # o_i = sum_j beta_ij v_j
        return x + self.gamma * self.out(o)


# ---- InfoGAN's MNIST networks (Chen et al., 2016, appendix C.1) -----------------------------------


def infogan_generator(latent_dim, hidden=1024, channels=(128, 64), out_channels=1):
    """z (B, latent_dim) -> image (B, out_channels, 28, 28) in [-1, 1]: InfoGAN's MNIST generator.

    FC `hidden` BN ReLU -> FC channels[0] x 7 x 7 BN ReLU -> upconv channels[1] 4x4 s2 BN ReLU
    -> upconv out_channels 4x4 s2, tanh: notebook 05's DCGAN generator with a fully connected
    hidden layer in front and wider layers (the paper: hidden 1024, channels (128, 64)).
    """
    c1, c2 = channels
    return nn.Sequential(
        ExpectShape((latent_dim,), "latent"),
        nn.Linear(latent_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, c1 * 7 * 7, bias=False), nn.BatchNorm1d(c1 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (c1, 7, 7)),
        nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1, bias=False),  # 7 -> 14
        nn.BatchNorm2d(c2), nn.ReLU(),
        nn.ConvTranspose2d(c2, out_channels, 4, stride=2, padding=1),  # 14 -> 28
        nn.Tanh(),
    )


def infogan_discriminator_body(in_channels=1, channels=(64, 128), hidden=1024):
    """Image (B, in_channels, 28, 28) -> features (B, hidden): InfoGAN's MNIST discriminator body.

    conv channels[0] 4x4 s2 LeakyReLU -> conv channels[1] 4x4 s2 BN LeakyReLU -> FC `hidden` BN
    LeakyReLU (the paper: channels (64, 128), hidden 1024). D's head and Q's head both read
    these `hidden` features.
    """
    c1, c2 = channels
    return nn.Sequential(
        ExpectShape((in_channels, *IMAGE_SHAPE[1:]), "discriminator input"),
        nn.Conv2d(in_channels, c1, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 28 -> 14
        nn.Conv2d(c1, c2, 4, stride=2, padding=1, bias=False),  # 14 -> 7
        nn.BatchNorm2d(c2), nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(c2 * 7 * 7, hidden, bias=False), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2),
    )


# ---- SAGAN-style networks (notebook 12): the DCGAN networks with one attention block at 14x14 ---


def with_layer_after(sequential, index, layer):
    """A new nn.Sequential: the layers of `sequential` with `layer` inserted after position `index`."""
    layers = list(sequential)
    return nn.Sequential(*layers[: index + 1], layer, *layers[index + 1:])


def dcgan_generator_with_attention(latent_dim, channels=(64, 32), out_channels=1):
    """The DCGAN generator with a `SelfAttention` block on its 14x14 feature maps (after the first
    transposed convolution, its batch norm and ReLU): z (B, latent_dim) -> image (B, 1, 28, 28)."""
    return with_layer_after(dcgan_generator(latent_dim, channels, out_channels), 7,
                            SelfAttention(channels[1]))


def dcgan_discriminator_with_attention(in_channels=1, channels=(32, 64), norm="batch"):
    """The DCGAN discriminator with a `SelfAttention` block on its 14x14 feature maps (after the
    first convolution and its LeakyReLU): image (B, in_channels, 28, 28) -> logit (B,)."""
    body = with_layer_after(dcgan_discriminator_body(in_channels, channels, norm), 2,
                            SelfAttention(channels[0]))
    return Discriminator(body, nn.Linear(channels[1] * 7 * 7, 1))
