"""Text to image at the course's scale (notebook 14, part 2; Reed et al. 2016, GAN-CLS and GAN-INT).

Two recipes on the skeleton of `course_lib.recipe`:
- "text_encoder": a word-level text encoder (a mean of word embeddings, then a linear map, unit
  length) trained with a small image encoder by the symmetric InfoNCE loss: in a batch of B
  (image, caption) pairs, each caption must pick out its own image among the B, and each image its
  own caption (a contrastive joint embedding in the spirit of the paper's structured one);
- "text_gan": a text-conditional DCGAN on the frozen caption embeddings t. G(z, t) reads
  [z, compress(t)]; D(x, t) = sigmoid(head(phi(x)) + (W t) . phi(x)), the projection term of
  notebook 06 with a vector condition. `variant` picks the discriminator's negatives and G's
  conditions (VARIANTS): "plain" (real-right vs fake), "cls" (adds real images with mismatched
  text: the matching-aware D) and "cls+int" (also trains G on interpolated embeddings).
Captions come from `course_lib.captions` (class + two measured attributes, several phrasings).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import captions, evaluator, losses, nets, recipe

VARIANTS = ("plain", "cls", "cls+int")
VOCAB_SIZE = len(captions.VOCAB)
ENCODER_DEFAULTS = {
    "smoke": dict(steps=60, batch_size=128, lr=2e-3),
    "full": dict(steps=300, batch_size=128, lr=2e-3),
}
# Adam(2e-4, betas=(0.5, 0.999)) and the sizes are notebook 06's CGAN settings.
GAN_DEFAULTS = {
    "smoke": dict(steps=40, batch_size=64, lr_g=2e-4, lr_d=2e-4, noise_dim=64),
    "full": dict(steps=400, batch_size=64, lr_g=2e-4, lr_d=2e-4, noise_dim=64),
}


@dataclass(frozen=True)
class CaptionedData:
    """Training images (B, 1, 28, 28) in [-1, 1] with their labels and descriptions: `phrasings`
    (N, T, L) word ids of every template, `levels` (N, 2) attribute levels, `thresholds` (K, 2)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    phrasings: torch.Tensor
    levels: torch.Tensor
    thresholds: torch.Tensor


def captioned_data(name, x, y, thresholds=None):
    """`CaptionedData` of images x with labels y; the thresholds are x's own per-class medians
    unless given (pass the training set's when describing test images)."""
    thresholds = captions.attribute_thresholds(x, y) if thresholds is None else thresholds
    phrasings, levels = captions.describe_images(x, y, thresholds, name)
    return CaptionedData(name, x, y, phrasings.to(x.device), levels.to(x.device), thresholds)


def pick_phrasing(phrasings, generator=None):
    """(B, T, ...) -> (B, ...): one of the T phrasings per row, drawn at random."""
    picks = torch.randint(phrasings.shape[1], (len(phrasings),), generator=generator)
    return phrasings[torch.arange(len(phrasings)), picks.to(phrasings.device)]


# ---- the text encoder and its contrastive training ---------------------------------------------


class TextEncoder(nn.Module):
    """Word ids (B, L), 0 = padding -> (B, text_dim) unit vectors: the mean of the words'
    embeddings (padding left out), ReLU, a linear map, normalised to length 1."""

    def __init__(self, vocab_size=VOCAB_SIZE, text_dim=64, hidden=128):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab_size, hidden, mode="mean", padding_idx=0)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(hidden, text_dim))
        self.text_dim = text_dim

    def forward(self, ids):
        return F.normalize(self.head(self.bag(ids)), dim=1)


class ImageEncoder(nn.Module):
    """Images (B, 1, 28, 28) -> (B, dim) unit vectors (`nets.conv_encoder`, normalised)."""

    def __init__(self, dim=64):
        super().__init__()
        self.net = nets.conv_encoder(dim)

    def forward(self, x):
        return F.normalize(self.net(x), dim=1)


def info_nce(image_embeddings, text_embeddings, temperature=0.1):
    """Symmetric InfoNCE: with s_ij = v_i . t_j / temperature, the mean of the cross-entropies of
    picking caption i for image i (rows) and image i for caption i (columns)."""
    logits = image_embeddings @ text_embeddings.T / temperature
    target = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


@dataclass(frozen=True)
class EncoderConfig(recipe.RunConfig):
    """A text-encoder run: embedding sizes, the InfoNCE temperature and Adam's learning rate."""

    text_dim: int = 64
    hidden: int = 128
    temperature: float = 0.1
    lr: float = 2e-3


def build_encoders(config):
    return {"text": TextEncoder(len(captions.VOCAB), config.text_dim, config.hidden),
            "image": ImageEncoder(config.text_dim)}


def encoder_optimizers(config, modules):
    params = [p for m in modules.values() for p in m.parameters()]
    return {"encoders": torch.optim.Adam(params, lr=config.lr)}


def encoder_step(modules, optimizers, batch, config):
    """One InfoNCE step on a batch of images, each with one of its phrasings drawn at random."""
    x, phrasings = batch
    text = modules["text"](pick_phrasing(phrasings))
    logits_loss = info_nce(modules["image"](x), text, config.temperature)
    optimizers["encoders"].zero_grad(set_to_none=True)
    logits_loss.backward()
    optimizers["encoders"].step()
    return {"loss": logits_loss.detach()}


ENCODER_RECIPE = recipe.Recipe("text_encoder", build_encoders, encoder_optimizers, encoder_step,
                               tensors=lambda config, data: (data.x_train, data.phrasings))


def load_or_train_text_encoder(data, schedule, device, seed=0, store=None, progress=True,
                               **settings):
    """The (text encoder, image encoder, meta) for `CaptionedData` data: loaded, else trained."""
    config = recipe.make_config(EncoderConfig, {"schedule": schedule, "seed": seed,
                                                **ENCODER_DEFAULTS[schedule]}, data, **settings)
    modules, meta = recipe.load_or_train(ENCODER_RECIPE, config, data, device, store=store,
                                         snapshots=0, progress=progress)
    return modules["text"], modules["image"], meta


@torch.no_grad()
def embed_phrasings(text_encoder, phrasings, chunk=4096):
    """(N, T, L) word ids -> (N, T, text_dim) unit caption embeddings (encoder in eval mode)."""
    flat = phrasings.reshape(-1, phrasings.shape[-1])
    with nets.eval_mode(text_encoder):
        out = torch.cat([text_encoder(part) for part in flat.split(chunk)])
    return out.view(*phrasings.shape[:2], -1)


@torch.no_grad()
def retrieval(text_encoder, image_encoder, data, generator=None):
    """Text -> image retrieval on `CaptionedData` (test images): for each image's caption (one
    phrasing drawn at random), the nearest image by cosine similarity. Returns the share whose
    nearest image has the described class, the share that also has both described attribute
    levels, and what chance would give for each (sum over descriptions of their squared shares)."""
    with nets.eval_mode(text_encoder, image_encoder):
        t = text_encoder(pick_phrasing(data.phrasings, generator))
        nearest = (t @ image_encoder(data.x_train).T).argmax(1)
    y, levels = data.y_train, data.levels
    same_class = y[nearest] == y
    described = y * 4 + levels[:, 0] * 2 + levels[:, 1]  # one id per (class, ink, width)
    return {"class": same_class.float().mean().item(),
            "class_and_attributes": (described[nearest] == described).float().mean().item(),
            "chance_class": share_squared(y), "chance_class_and_attributes": share_squared(described)}


def share_squared(ids):
    """sum_c (n_c / N)^2: the chance that two images drawn at random share the id."""
    counts = torch.bincount(ids.cpu()).double()
    return float(((counts / counts.sum()) ** 2).sum())


# ---- the text-conditional GAN -----------------------------------------------------------------


class TextConditionalGenerator(nn.Module):
    """G(z, t) = DCGAN generator([z, compress(t)]), compress = Linear + LeakyReLU(0.2) (the
    paper compresses the text embedding the same way before concatenating it with z)."""

    def __init__(self, noise_dim=64, text_dim=64, code_dim=32):
        super().__init__()
        self.noise_dim, self.text_dim = noise_dim, text_dim
        self.compress = nn.Sequential(nn.Linear(text_dim, code_dim), nn.LeakyReLU(0.2))
        self.net = nets.dcgan_generator(noise_dim + code_dim)

    def forward(self, z, t):
        return self.net(torch.cat([z, self.compress(t)], dim=1))


class TextConditionalDiscriminator(nn.Module):
    """logit(x, t) = head(phi(x)) + (W t) . phi(x): the DCGAN body phi and the projection term of
    notebook 06 with the caption embedding t as the condition (W starts at 0). `features` and
    `score` are exposed so one pass through the body serves real images with two texts."""

    def __init__(self, text_dim=64, channels=(32, 64)):
        super().__init__()
        self.discriminator = nets.dcgan_discriminator(1, channels)
        self.projection = nn.Linear(text_dim, self.discriminator.head.in_features, bias=False)

    def features(self, x):
        return self.discriminator.features(x)

    def score(self, features, t):
        return self.discriminator.head(features).squeeze(1) + (self.projection(t) * features).sum(1)

    def forward(self, x, t):
        return self.score(self.features(x), t)


def make_text_gan(noise_dim=64, text_dim=64):
    """(generator, discriminator) with the DCGAN initialisation; D's projection starts at 0."""
    generator, discriminator = TextConditionalGenerator(noise_dim, text_dim), \
        TextConditionalDiscriminator(text_dim)
    generator.apply(nets.init_dcgan_weights)
    discriminator.apply(nets.init_dcgan_weights)
    nn.init.zeros_(discriminator.projection.weight)
    return generator, discriminator


def matching_aware_discriminator_loss(real_right, real_wrong, fake_right):
    """GAN-CLS's discriminator loss, from logits (one per example):

        L_D = -log D(x, t) - 1/2 [log(1 - D(x, t_wrong)) + log(1 - D(G(z, t), t))]

    real_right: real images with their captions (label 1); real_wrong: real images with another
    image's caption and fake_right: generated images with the caption they were made for (label 0)."""
    for logits, what in ((real_right, "real_right"), (real_wrong, "real_wrong"),
                         (fake_right, "fake_right")):
        losses.check_logits(logits, what)
    return F.softplus(-real_right).mean() + (F.softplus(real_wrong).mean()
                                             + F.softplus(fake_right).mean()) / 2


def interpolate_text(t1, t2, beta=0.5):
    """GAN-INT's condition beta t1 + (1 - beta) t2: a point of the segment between two embeddings."""
    return beta * t1 + (1 - beta) * t2


def mismatched(t):
    """Another image's caption for every row: the batch's embeddings shifted by one row."""
    return t.roll(1, dims=0)


def text_d_step(generator, discriminator, d_optimizer, x, t, matching_aware):
    """One D step: plain (real-right vs fake-right) or matching-aware (adds real-wrong)."""
    with torch.no_grad():
        fake = generator(nets.sample_noise(len(x), generator.noise_dim, x.device), t)
    features = discriminator.features(x)
    real_right, fake_right = discriminator.score(features, t), discriminator(fake, t)
    out = {"d_real": torch.sigmoid(real_right).mean().detach(),
           "d_fake": torch.sigmoid(fake_right).mean().detach()}
    if matching_aware:
        real_wrong = discriminator.score(features, mismatched(t))
        loss = matching_aware_discriminator_loss(real_right, real_wrong, fake_right)
        out["d_wrong"] = torch.sigmoid(real_wrong).mean().detach()
    else:
        loss = losses.gan_discriminator_loss(real_right, fake_right)
    d_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    d_optimizer.step()
    return {"d_loss": loss.detach(), **out}


def text_g_step(generator, discriminator, g_optimizer, t, interpolate, beta):
    """One G step: the non-saturating loss on G(z, t), plus, for GAN-INT, the same loss on
    G(z', t_int), t_int = interpolate_text(t, another caption, beta)."""
    def adversarial(condition):
        z = nets.sample_noise(len(condition), generator.noise_dim, condition.device)
        return losses.gan_generator_loss_nonsaturating(discriminator(generator(z, condition),
                                                                     condition))
    loss = adversarial(t)
    if interpolate:
        loss = loss + adversarial(interpolate_text(t, mismatched(t), beta))
    g_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    g_optimizer.step()
    return {"g_loss": loss.detach()}


@dataclass(frozen=True)
class TextGANConfig(recipe.RunConfig):
    """A text-conditional GAN run: `variant` (VARIANTS), sizes, GAN-INT's beta, Adam per player,
    and `texts`, the fingerprint of the caption embeddings it trains on (they name the encoder)."""

    variant: str = "cls"
    noise_dim: int = 64
    text_dim: int = 64
    beta: float = 0.5
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)
    texts: str = ""

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"Unknown variant {self.variant!r}: expected one of {VARIANTS}.")


def build_text_gan(config):
    generator, discriminator = make_text_gan(config.noise_dim, config.text_dim)
    return {"generator": generator, "discriminator": discriminator}


def text_gan_step(modules, optimizers, batch, config):
    """A D step then a G step, each caption one of its image's phrasings drawn at random."""
    x, texts = batch
    t = pick_phrasing(texts)
    out = text_d_step(modules["generator"], modules["discriminator"], optimizers["discriminator"],
                      x, t, config.variant != "plain")
    out.update(text_g_step(modules["generator"], modules["discriminator"],
                           optimizers["generator"], t, config.variant == "cls+int", config.beta))
    return out


@dataclass(frozen=True)
class EmbeddedData:
    """Training images in [-1, 1] and `texts` (N, T, text_dim), their phrasings' embeddings."""

    name: str
    x_train: torch.Tensor
    texts: torch.Tensor


GAN_RECIPE = recipe.Recipe("text_gan", build_text_gan, recipe.adam_per_player, text_gan_step,
                           tensors=lambda config, data: (data.x_train, data.texts), adversarial=True)


def load_or_train_text_gan(variant, data, schedule, device, seed=0, store=None, progress=True,
                           **settings):
    """The text GAN `variant` trained on `EmbeddedData` data: (generator, discriminator, meta)."""
    defaults = {"schedule": schedule, "seed": seed, "variant": variant,
                "text_dim": data.texts.shape[-1], "texts": recipe.fingerprint(data.texts),
                **GAN_DEFAULTS[schedule]}
    config = recipe.make_config(TextGANConfig, defaults, data, **settings)
    modules, meta = recipe.load_or_train(GAN_RECIPE, config, data, device, store=store,
                                         snapshots=0, progress=progress)
    return modules["generator"], modules["discriminator"], meta


@torch.no_grad()
def generate_from_text(generator, z, t, chunk=1000):
    """G(z, t) in eval mode, in chunks: one image per row of z and t."""
    with nets.eval_mode(generator):
        return torch.cat([generator(zc, tc) for zc, tc in zip(z.split(chunk), t.split(chunk))])


def caption_scores(judge, samples, labels, levels, thresholds):
    """How well samples follow their captions: the share the evaluator puts in the described
    class, and per attribute the share whose measured level is the described one (chance 1/2)."""
    got = captions.attribute_levels(captions.measure_attributes(samples), labels, thresholds)
    agree = (got == levels.cpu()).float().mean(0)
    return {"class_share": evaluator.accuracy(judge, evaluator.symmetric_to_unit(samples), labels),
            "ink_agrees": float(agree[0]), "width_agrees": float(agree[1])}
