"""StyleGAN's ideas at 28x28 (notebook 13; Karras, Laine & Aila 2019; Karras et al. 2020).

A small style-based generator for the course's images, as a recipe (config + build + step):
- a *mapping network* z -> w (an MLP after normalising z), one w (or one per layer, for mixing);
- a *synthesis network* that starts from a learned constant 7x7 input and applies two styled 3x3
  convolutions per resolution (7, 14, 28), each followed by per-pixel noise scaled by a learned
  per-channel weight, a bias, LeakyReLU(0.2) and the layer's style: AdaIN (StyleGAN), or with
  `demodulated=True` a modulated and demodulated convolution (StyleGAN2); a 1x1 convolution and
  tanh give the image in [-1, 1];
- training: the non-saturating loss with R1 on the real data (the paper's choice), style mixing
  regularization, and a running mean w_mean of w for the truncation trick in W.
The discriminator is notebook 12's DCGAN discriminator without batch norm (the "DCGAN + R1" one).
Pure helpers (tensors in, tensors out) come first: `adain`, `demodulate`, `mix_styles`, ...
"""

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import losses, modern, modern_gan, nets, recipe

# Per-schedule defaults. Adam's betas (0, 0.99), equal rates for G and D, R1 with gamma = 10 on the
# non-saturating loss, mixing probability 0.9 and the decay 0.995 of the running mean of w are the
# paper's; lr 1e-3 is the course's DCGAN generator rate. lr_d = 1e-3 beat the DCGAN's 2e-4 on the
# selection split in a one-seed screen of 400 steps (FID about 30 against 58; 2,000 samples).
# full: 900 steps of batch 32, about 4 minutes on one busy CPU thread (about 0.26 s per step).
DEFAULTS = {
    "smoke": dict(steps=40, batch_size=32, lr_g=1e-3, lr_d=1e-3, ema_decay=0.99),
    "full": dict(steps=900, batch_size=32, lr_g=1e-3, lr_d=1e-3, ema_decay=0.99),
}
EPS = 1e-8
# ---- pure helpers ---------------------------------------------------------------------------------


def adain(x, scale, bias, eps=1e-5):
    """Adaptive instance normalization (Huang & Belongie 2017; the StyleGAN layer):

        AdaIN(x_c, y) = y_scale,c * (x_c - mu(x_c)) / sigma(x_c) + y_bias,c,

    mu and sigma over the pixels of each example's channel c. x (B, C, H, W); scale and bias (B, C).
    Whatever statistics x had, channel c of the output has mean bias_c and std |scale_c|."""
    if scale.shape != x.shape[:2] or bias.shape != x.shape[:2]:
        raise ValueError(f"scale and bias should have shape {tuple(x.shape[:2])}, got "
                         f"{tuple(scale.shape)} and {tuple(bias.shape)}.")
    normalized = F.instance_norm(x, eps=eps)
    return scale[:, :, None, None] * normalized + bias[:, :, None, None]


def demodulate(weight, style, eps=EPS):
    """StyleGAN2's weight demodulation: per example b, scale the kernel's input channels by the
    style, w'_jik = s_bi w_jik, then divide each output channel's kernel by the std its output
    would have for inputs of unit variance, sigma_j = sqrt(sum_ik w'_jik^2 + eps).
    weight (C_out, C_in, kh, kw), style (B, C_in) -> per-example kernels (B, C_out, C_in, kh, kw)."""
    if style.dim() != 2 or style.shape[1] != weight.shape[1]:
        raise ValueError(f"style should have shape (batch, {weight.shape[1]}), got {tuple(style.shape)}.")
    modulated = weight[None] * style[:, None, :, None, None]
    sigma = modulated.pow(2).sum(dim=(2, 3, 4), keepdim=True).add(eps).sqrt()
    return modulated / sigma


def modulated_conv2d(x, weight, style, demodulated=True, padding=1):
    """A convolution with a kernel per example (`demodulate`d, or only modulated by the style):
    one grouped convolution with the batch folded into the channels."""
    kernels = demodulate(weight, style) if demodulated else weight[None] * style[:, None, :, None, None]
    batch, c_in = x.shape[:2]
    out = F.conv2d(x.reshape(1, batch * c_in, *x.shape[2:]), kernels.reshape(-1, *weight.shape[1:]),
                   padding=padding, groups=batch)
    return out.reshape(batch, weight.shape[0], *out.shape[2:])


def per_layer(w, n_layers):
    """w (B, w_dim) repeated for every layer, or w (B, n_layers, w_dim) as it is."""
    if w.dim() == 2:
        return w[:, None].expand(-1, n_layers, -1)
    if w.dim() != 3 or w.shape[1] != n_layers:
        raise ValueError(f"w should have shape (batch, w_dim) or (batch, {n_layers}, w_dim), got "
                         f"{tuple(w.shape)}.")
    return w


def mix_styles(w1, w2, crossover, n_layers):
    """Style mixing: the styles of layers 0 .. crossover - 1 from w1, those of layers crossover ..
    n_layers - 1 from w2. w1, w2: (B, w_dim) or per layer (B, n_layers, w_dim). Returns per-layer w."""
    if not 0 <= crossover <= n_layers:
        raise ValueError(f"crossover must lie in 0..{n_layers}, got {crossover}.")
    first = (torch.arange(n_layers, device=w1.device) < crossover)[None, :, None]
    return torch.where(first, per_layer(w1, n_layers), per_layer(w2, n_layers))


def truncate_w(w, w_mean, psi):
    """The truncation trick in W: w' = w_mean + psi (w - w_mean). psi = 1 leaves w, psi = 0 gives
    the average w_mean for every sample."""
    return w_mean + psi * (w - w_mean)


def lerp(a, b, t):
    """Linear interpolation a + t (b - a), t (B, 1) or a number."""
    return a + t * (b - a)


def slerp(a, b, t):
    """Spherical interpolation between the directions of a and b (unit vectors out), as the
    StyleGAN paper interpolates in Z: the angle grows linearly with t."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    cos = (a * b).sum(-1, keepdim=True).clamp(-1, 1)
    ortho = F.normalize(b - cos * a, dim=-1)
    angle = t * torch.acos(cos)
    return a * torch.cos(angle) + ortho * torch.sin(angle)


def path_length(g, a, b, t, eps=1e-4, interpolate=lerp):
    """Squared distance per unit step along interpolation paths, one value per row:

        || g(interp(a, b, t + eps)) - g(interp(a, b, t)) ||^2 / eps^2 .

    Its mean over random pairs (a, b) and t ~ U(0, 1) is the perceptual path length (PPL) when g
    maps a latent to an image's features. For a linear g(v) = M v and lerp it is ||M (b - a)||^2."""
    before, after = g(interpolate(a, b, t)), g(interpolate(a, b, t + eps))
    return (after - before).flatten(1).pow(2).sum(1) / eps ** 2


def normalize_2nd_moment(z, eps=EPS):
    """z / sqrt(mean(z^2)) per row: the mapping network's first step (z then lies on a sphere)."""
    return z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + eps)


# ---- the networks ---------------------------------------------------------------------------------


class MappingNetwork(nn.Module):
    """z (B, latent_dim) -> w (B, w_dim): normalise z, then `layers` linear layers with LeakyReLU."""

    def __init__(self, latent_dim=64, w_dim=64, layers=4):
        super().__init__()
        self.check = nets.ExpectShape((latent_dim,), "latent")
        self.net = nets.mlp([latent_dim] + [w_dim] * layers, nets.leaky_relu, nets.leaky_relu)
        for layer in self.net:  # He initialisation: w keeps the scale of the normalised z
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(layer.bias)

    def forward(self, z):
        return self.net(normalize_2nd_moment(self.check(z)))


class NoiseInjection(nn.Module):
    """x + weight_c * noise: one N(0, 1) value per pixel, shared by the channels, scaled by a learned
    weight per channel (zero at the start, so the layer starts as the identity)."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))

    def forward(self, x, noise=None):
        if noise is None:
            noise = torch.randn(len(x), 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        return x + self.weight[None, :, None, None] * noise


class StyledConv(nn.Module):
    """(bilinear upsampling x2), a 3x3 convolution, noise, bias, LeakyReLU(0.2) and the style of w:
    AdaIN with (scale, bias) = (1 + A_s w, A_b w) after the activation (StyleGAN), or with
    `demodulated` a convolution modulated by s = 1 + A w and demodulated (StyleGAN2)."""

    def __init__(self, c_in, c_out, w_dim, demodulated=False, upsample=False):
        super().__init__()
        self.demodulated, self.upsample, self.c_out = demodulated, upsample, c_out
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3) / math.sqrt(9 * c_in))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.noise = NoiseInjection(c_out)
        self.affine = nn.Linear(w_dim, c_in if demodulated else 2 * c_out)
        nn.init.normal_(self.affine.weight, 0.0, 1 / math.sqrt(w_dim))  # styles vary as much as w
        nn.init.zeros_(self.affine.bias)

    def forward(self, x, w, noise=None):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        style = self.affine(w)
        if self.demodulated:
            x = modulated_conv2d(x, self.weight, 1 + style)
        else:
            x = F.conv2d(x, self.weight, padding=1)
        x = F.leaky_relu(self.noise(x, noise) + self.bias[None, :, None, None], 0.2)
        if not self.demodulated:
            x = adain(x, 1 + style[:, :self.c_out], style[:, self.c_out:])
        return x


class StyleGenerator(nn.Module):
    """G(z) = synthesize(z_to_w(z)) -> image (B, 1, 28, 28) in [-1, 1]. The synthesis network
    starts from a learned constant (channels[0], 7, 7); resolution r = 7, 14, 28 has two
    StyledConv layers with channels[i] channels, each taking its own style (n_layers of them)
    and its own noise. `w_mean` is the running mean of w kept during training."""

    def __init__(self, latent_dim=64, w_dim=64, mapping_layers=4, channels=(64, 32, 16),
                 demodulated=False):
        super().__init__()
        self.latent_dim, self.w_dim = latent_dim, w_dim
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers)
        self.constant = nn.Parameter(torch.randn(1, channels[0], 7, 7))
        layers, c_prev = [], channels[0]
        for i, c in enumerate(channels):
            layers += [StyledConv(c_prev, c, w_dim, demodulated, upsample=i > 0),
                       StyledConv(c, c, w_dim, demodulated)]
            c_prev = c
        self.layers = nn.ModuleList(layers)
        self.resolutions = [7 * 2 ** (i // 2) for i in range(len(layers))]
        self.to_image = nn.Conv2d(c_prev, nets.IMAGE_SHAPE[0], 1)
        self.register_buffer("w_mean", torch.zeros(w_dim))

    n_layers = property(lambda self: len(self.layers))

    def z_to_w(self, z):
        return self.mapping(z)

    def make_noise(self, n, device=None, generator=None):
        """One noise image (n, 1, r, r) per layer, drawn from `generator` (a torch.Generator)."""
        return [torch.randn(n, 1, r, r, generator=generator).to(device) for r in self.resolutions]

    def synthesize(self, w, noise=None):
        """Images from w (B, w_dim), or one style per layer (B, n_layers, w_dim); noise: a list of
        one tensor per layer (`make_noise`), or None for fresh noise."""
        w = per_layer(w, self.n_layers)
        x = self.constant.expand(len(w), -1, -1, -1)
        for i, layer in enumerate(self.layers):
            x = layer(x, w[:, i], None if noise is None else noise[i])
        return torch.tanh(self.to_image(x))

    def forward(self, z):
        return self.synthesize(self.z_to_w(z))

    @torch.no_grad()
    def track_w_mean(self, w, beta=0.995):
        """w_mean <- beta w_mean + (1 - beta) mean(w), once per training step (as the paper does)."""
        self.w_mean.lerp_(w.detach().mean(0), 1 - beta)


# ---- sampling and the perceptual path length -----------------------------------------------------


@torch.no_grad()
def sample(generator, n, w_psi=None, z_psi=None, rng=None, chunk=500):
    """n images: z ~ N(0, I) or truncated to [-z_psi, z_psi] (truncation in Z, as BigGAN's), mapped
    to w, then truncated in W towards w_mean with w_psi (None: not); noise inputs drawn from rng too."""
    device = recipe.device_of(generator)
    z = (modern.truncated_noise(n, generator.latent_dim, z_psi, generator=rng) if z_psi
         else torch.randn(n, generator.latent_dim, generator=rng)).to(device)
    images = []
    for part in z.split(chunk):
        w = generator.z_to_w(part)
        if w_psi is not None:
            w = truncate_w(w, generator.w_mean, w_psi)
        images.append(generator.synthesize(w, generator.make_noise(len(part), device, generator=rng)))
    return torch.cat(images)


@torch.no_grad()
def perceptual_path_length(generator, features, n, space="w", eps=1e-4, rng=None, chunk=250,
                           dtype=torch.float64):
    """`path_length` of n random paths: z-pairs interpolated by slerp (space "z") or their w by
    lerp (space "w"), t ~ U(0, 1), the same noise at both ends of a step; g = features of the
    image (e.g. the evaluator's, which FID uses). Computed in float64 (a copy of the generator),
    so the difference of two nearby images is not lost to rounding. Returns the n values."""
    if space not in ("z", "w"):
        raise ValueError(f"space must be 'z' or 'w', got {space!r}.")
    g = copy.deepcopy(generator).to(dtype)
    device, values = recipe.device_of(g), []
    for size in [chunk] * (n // chunk) + ([n % chunk] if n % chunk else []):
        z = torch.randn(2, size, g.latent_dim, generator=rng, dtype=dtype).to(device)
        t = torch.rand(size, 1, generator=rng, dtype=dtype).to(device)
        noise = [x.to(device, dtype) for x in g.make_noise(size, generator=rng)]
        if space == "z":
            values.append(path_length(lambda v, noise=noise: features(g.synthesize(g.z_to_w(v), noise)),
                                      z[0], z[1], t, eps, slerp))
        else:
            values.append(path_length(lambda v, noise=noise: features(g.synthesize(v, noise)),
                                      g.z_to_w(z[0]), g.z_to_w(z[1]), t, eps, lerp))
    return torch.cat(values).cpu()


def trimmed_mean(values, low=0.01, high=0.99):
    """The mean between the low and high quantiles (the paper's PPL drops both 1 % tails)."""
    values = torch.as_tensor(values, dtype=torch.float64)
    lo, hi = torch.quantile(values, low), torch.quantile(values, high)
    return float(values[(values >= lo) & (values <= hi)].mean())


# ---- one training step ---------------------------------------------------------------------------


def training_styles(generator, n, mixing_prob, device):
    """Per-layer w for a batch of n fakes: with probability mixing_prob, two latents switched at a
    crossover drawn uniformly from 1 .. n_layers - 1 (style mixing regularization); also
    returns the first latent's w (for the running mean)."""
    w = generator.z_to_w(nets.sample_noise(n, generator.latent_dim, device))
    if float(torch.rand(())) < mixing_prob:
        other = generator.z_to_w(nets.sample_noise(n, generator.latent_dim, device))
        crossover = int(torch.randint(1, generator.n_layers, ()))
        return mix_styles(w, other, crossover, generator.n_layers), w
    return per_layer(w, generator.n_layers), w


def d_step(generator, discriminator, optimizer, x_real, config):
    """One discriminator step: the cross-entropy of notebook 04 plus R1 on the real batch."""
    with torch.no_grad():
        x_fake = generator.synthesize(training_styles(generator, len(x_real), config.mixing_prob,
                                                      x_real.device)[0])
    return modern_gan.discriminator_update(discriminator, optimizer, x_real, x_fake,
                                           losses.gan_discriminator_loss, config.r1_gamma)


def g_step(generator, discriminator, optimizer, n, config, device):
    """One generator step (non-saturating loss), then the update of the running mean of w."""
    styles, w = training_styles(generator, n, config.mixing_prob, device)
    loss = losses.gan_generator_loss_nonsaturating(discriminator(generator.synthesize(styles)))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    generator.track_w_mean(w, config.w_mean_beta)
    return {"g_loss": loss.detach()}


# ---- the recipe ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StyleGANConfig(recipe.RunConfig):
    """A small StyleGAN run: G's sizes (AdaIN or demodulation), D's channels, Adam per player, R1's
    weight (0: off), mixing probability, decays of the mean of w and of G's average (None: off)."""

    latent_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 4
    channels: tuple = (64, 32, 16)
    demodulated: bool = False
    d_channels: tuple = (32, 64)
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    betas: tuple = (0.0, 0.99)
    r1_gamma: float = 10.0
    mixing_prob: float = 0.9
    w_mean_beta: float = 0.995
    ema_decay: float = None

    def __post_init__(self):
        if not 0 <= self.mixing_prob <= 1:
            raise ValueError(f"mixing_prob must lie in [0, 1], got {self.mixing_prob}.")
        if self.r1_gamma < 0:
            raise ValueError(f"r1_gamma must be >= 0 (0: off), got {self.r1_gamma}.")


def config(data, schedule, **settings):
    """The StyleGANConfig for `schedule`: DEFAULTS, then `settings`."""
    return recipe.make_config(StyleGANConfig, {"schedule": schedule, **DEFAULTS[schedule]}, data,
                              **settings)


def build(config):
    generator = StyleGenerator(config.latent_dim, config.w_dim, config.mapping_layers,
                               tuple(config.channels), config.demodulated)
    discriminator = nets.dcgan_discriminator(channels=tuple(config.d_channels), norm="none")
    discriminator.apply(nets.init_dcgan_weights)
    return {"generator": generator, "discriminator": discriminator}


def step(modules, optimizers, x, config):
    g, d = modules["generator"], modules["discriminator"]
    out = d_step(g, d, optimizers["discriminator"], x, config)
    out.update(g_step(g, d, optimizers["generator"], len(x), config, x.device))
    return out


RECIPE = recipe.Recipe("stylegan", build, recipe.adam_per_player, step, tensors=recipe.symmetric_data,
                       snapshot=recipe.fixed_noise_grid, adversarial=True, averaged=("generator",))


def load_or_train_stylegan(x_train, dataset, schedule, device, seed=0, snapshots=8, name=None,
                           progress=True, store=None, **settings):
    """The small StyleGAN, loaded from its checkpoint, else trained and saved (x_train in [-1, 1]).
    Returns (generator, discriminator, meta) in eval mode; the generator is the moving average of
    G's weights when the config keeps one (`ema_decay`), with the live network's w_mean."""
    data = recipe.RunData(dataset, x_train)
    modules, meta = recipe.load_or_train(RECIPE, config(data, schedule, seed=seed, **settings), data,
                                         device, name=name, snapshots=snapshots, progress=progress,
                                         store=store)
    return recipe.for_sampling(modules), modules["discriminator"], meta
