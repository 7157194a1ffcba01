"""The comparison table of notebook 10 and the command line: one registered loader per row.

Each row of the table is a registered loader: loader(context) -> ModelRow, a sampler of images in
[0, 1]. This is the only module that imports every recipe. A notebook or a new chapter adds a row
with `@register_row("name", requires="course_lib.module", chapter=N)`; a row whose module does not
exist yet is skipped, so the table grows as chapters land. Notebook 10 scores the rows of chapters
up to 11 live (`available_rows(up_to_chapter=11)`); the later chapters' rows are trained by the
command line (`python -m course_lib train MODEL`) and shown as a recorded run.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from . import (
    autoencoders,
    biggan,
    cgan,
    cvae,
    gan,
    infogan,
    modern_gan,
    nets,
    pca,
    stylegan,
    techniques,
    vae,
    vaegan,
    wgan,
)
from .evaluator import accuracy, heldout_split, symmetric_to_unit
from .runtime import by_schedule


@dataclass
class TableContext:
    """What a row loader gets: the data (scale "unit"), schedule, device and seed of the run, and
    the checkpoints.Store its models are loaded from (and whether a missing one may be trained)."""

    ds: object  # data.ImageData with scale "unit"
    schedule: str
    device: torch.device
    seed: int = 0
    store: object = None  # checkpoints.Store; None: $COURSE_CHECKPOINTS, training allowed


@dataclass
class ModelRow:
    """What a row loader returns. sample(n, generator) -> (n, 1, 28, 28) images in [0, 1]."""

    sample: Callable
    seconds: float | None = None  # training time; None when nothing was trained
    device: str = "-"  # where it was trained
    extra: dict = field(default_factory=dict)  # e.g. {"nll": ...} for likelihood models
    labels_for: Callable | None = None  # conditional models: n -> the labels sample(n) asked for
    note: str = ""


@dataclass
class RowSpec:
    name: str
    loader: Callable
    requires: str | None = None
    chapter: int | None = None  # the notebook that teaches the model; None: an early chapter


TABLE_ROWS = {}


def register_row(name, requires=None, chapter=None):
    """Decorator: add a row to the comparison table. `requires` names a module (e.g.
    "course_lib.vae"); the row is skipped while that module does not exist. `chapter`: the
    notebook that teaches the model (rows of chapters after notebook 10 are left out there)."""

    def decorate(loader):
        TABLE_ROWS[name] = RowSpec(name, loader, requires, chapter)
        return loader

    return decorate


def available_rows(up_to_chapter=None):
    """The registered rows whose required module can be imported, in registration order; with
    `up_to_chapter`, only those of that chapter or earlier."""
    return [spec for spec in TABLE_ROWS.values()
            if (spec.requires is None or importlib.util.find_spec(spec.requires) is not None)
            and (up_to_chapter is None or spec.chapter is None or spec.chapter <= up_to_chapter)]


@torch.no_grad()
def _sample_in_chunks(decode, z, chunk=1000):
    return torch.cat([decode(part) for part in z.split(chunk)])


@register_row("real data (held-out train images vs test set)")
def _real_row(ctx):
    _, (x, _) = heldout_split(ctx.ds.x_train, schedule=ctx.schedule)

    def sample(n, generator):
        if n > len(x):
            raise ValueError(f"asked for {n} real images but only {len(x)} held-out training images "
                             "are loaded.")
        return x[torch.randperm(len(x), generator=generator)[:n].to(x.device)]

    return ModelRow(sample, note="the floor: real images the evaluator never trained on")


@register_row("PCA sampler (k = 16)")
def _pca_row(ctx):
    # Fitted on the CPU: pca.pca_sample draws its codes on the CPU (where `generator` lives) and
    # multiplies them by the fitted variances, which must then be on the CPU too.
    start = time.perf_counter()
    fitted = pca.fit_pca(ctx.ds.x_train.cpu(), 16)
    seconds = time.perf_counter() - start

    def sample(n, generator):
        return pca.pca_sample(fitted, n, generator=generator).clamp(0, 1)

    return ModelRow(sample, seconds=seconds, device="cpu", note="notebook 01; samples clamped to [0, 1]")


def load_conv_autoencoder(ctx, latent_dim=16):
    """Notebook 01's conv autoencoder from its checkpoint, trained here if it is missing."""
    model, meta = autoencoders.load_or_train_autoencoder("conv", latent_dim, ctx.ds, ctx.schedule,
                                                         ctx.device, seed=ctx.seed, store=ctx.store)
    return model, meta["seconds"], meta["device"]


@register_row("AE decoding z ~ N(0, I)")
def _ae_standard_row(ctx):
    model, seconds, device = load_conv_autoencoder(ctx)

    def sample(n, generator):
        z = torch.randn(n, model.latent_dim, generator=generator).to(ctx.device)
        return _sample_in_chunks(model.decoder, z)

    return ModelRow(sample, seconds=seconds, device=device, note="notebook 01, section 4")


@register_row("AE decoding a Gaussian fitted to its codes")
def _ae_fitted_row(ctx):
    model, seconds, device = load_conv_autoencoder(ctx)
    with torch.no_grad():
        codes = _sample_in_chunks(model.encoder, ctx.ds.x_train[:10_000])
    mean, cov = codes.mean(0), torch.cov(codes.T)
    cholesky = torch.linalg.cholesky(cov + 1e-5 * torch.eye(len(mean), device=cov.device))

    def sample(n, generator):
        eps = torch.randn(n, model.latent_dim, generator=generator).to(ctx.device)
        return _sample_in_chunks(model.decoder, mean + eps @ cholesky.T)

    return ModelRow(sample, seconds=seconds, device=device, note="notebook 01, section 4")


def _vae_nll(model, ctx, y=None, k=50):
    """IWAE-k bound on -log p(x) of a fixed binarization of (part of) the test set, as notebook 02."""
    n = by_schedule(smoke=200, full=2_000, schedule=ctx.schedule)
    x = vae.binarize(ctx.ds.x_test[:n], generator=torch.Generator().manual_seed(ctx.seed))
    y = None if y is None else y[:n]
    return -vae.iwae_per_image(model, x, k, y).mean().item()


@register_row("VAE (conv, k = 16)")
def _vae_row(ctx):
    model, meta = vae.load_or_train_vae("conv", 16, ctx.ds, ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store)

    def sample(n, generator):
        return vae.decode_mean(model, vae.sample_prior(model, n, generator, ctx.device))

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"],
                    extra={"nll": _vae_nll(model, ctx)},
                    note=("notebook 02; Bernoulli means; -log p(x): IWAE-50 upper bound, ELBO-trained, one "
                          "stochastic binarization of the first 200 (smoke) / 2,000 (full) test images"))


@register_row("CVAE (conv, k = 16)")
def _cvae_row(ctx):
    model, meta = cvae.load_or_train_cvae("conv", 16, ctx.ds, ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store)

    def labels_for(n):
        return torch.arange(n) % model.n_classes  # every class equally often

    def sample(n, generator):
        labels = labels_for(n).to(ctx.device)
        return vae.decode_mean(model, vae.sample_prior(model, n, generator, ctx.device), labels)

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"],
                    labels_for=labels_for,
                    extra={"nll": _vae_nll(model, ctx, y=ctx.ds.y_test)},
                    note=("notebook 03; balanced labels; -log p(x | y): IWAE-50 upper bound, ELBO-trained, one "
                          "stochastic binarization of the first 200 (smoke) / 2,000 (full) test images"))


def _generator_row(ctx, generator, meta, note):
    """A row for an unconditional generator z ~ N(0, I) -> image in [-1, 1], mapped to [0, 1]."""
    latent_dim = meta["config"]["latent_dim"]

    @torch.no_grad()
    def sample(n, generator_rng):
        z = torch.randn(n, latent_dim, generator=generator_rng).to(ctx.device)
        return torch.cat([symmetric_to_unit(nets.generate(generator, part)) for part in z.split(1000)])

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"], note=note)


def _gan_row(ctx, recipe, note):
    """An image GAN of notebooks 04-05 from its checkpoint (trained here if missing)."""
    generator, _, meta = gan.load_or_train_gan(recipe, ctx.ds.x_train * 2 - 1, ctx.ds.name,
                                               ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store)
    return _generator_row(ctx, generator, meta, note)


def _wgan_row(ctx, variant, note):
    """A WGAN of notebooks 07-08 from its checkpoint (trained here if missing)."""
    generator, _, meta = wgan.load_or_train_wgan(variant, ctx.ds.x_train * 2 - 1, ctx.ds.name,
                                                 ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store)
    return _generator_row(ctx, generator, meta, note)


@register_row("MLP GAN")
def _mlp_gan_row(ctx):
    return _gan_row(ctx, "mlp", "notebook 04")


@register_row("DCGAN")
def _dcgan_row(ctx):
    return _gan_row(ctx, "dcgan", "notebook 05")


def _conditional_gan_row(ctx, kind, note):
    """The CGAN or ACGAN of notebook 06 from its checkpoint (trained here if missing), sampled with
    every class equally often."""
    generator, _, meta = cgan.load_or_train_conditional_gan(
        kind, ctx.ds.x_train * 2 - 1, ctx.ds.y_train, len(ctx.ds.classes), ctx.ds.name,
        ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store)

    def labels_for(n):
        return cgan.balanced_labels(n, generator.n_classes)

    def sample(n, generator_rng):
        images, _ = cgan.sample_balanced(generator, n, ctx.device, generator_rng)
        return symmetric_to_unit(images)

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"],
                    labels_for=labels_for, note=note)


@register_row("CGAN")
def _cgan_row(ctx):
    return _conditional_gan_row(ctx, "cgan", "notebook 06; balanced labels")


@register_row("ACGAN")
def _acgan_row(ctx):
    return _conditional_gan_row(ctx, "acgan", "notebook 06; balanced labels")


@register_row("WGAN (weight clipping)")
def _wgan_clip_row(ctx):
    return _wgan_row(ctx, "clip", "notebook 07")


@register_row("WGAN-GP")
def _wgan_gp_row(ctx):
    return _wgan_row(ctx, "gp", "notebook 08")


@register_row("InfoGAN")
def _infogan_row(ctx):
    """The InfoGAN of notebook 09, with its codes drawn from their priors."""
    generator, _, meta = infogan.load_or_train_infogan(ctx.ds.x_train * 2 - 1, ctx.ds.name,
                                                       ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store)

    def sample(n, generator_rng):
        return torch.cat([symmetric_to_unit(infogan.sample_images(generator, part, rng=generator_rng))
                          for part in [1000] * (n // 1000) + [n % 1000] if part])

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"], note="notebook 09")


# Notebook 11's techniques give distinct generators; each row costs notebook 10 a DCGAN training
# (notebook 10 runs before 11), so only the one whose samples differed most from the plain DCGAN's in
# the recorded image benchmark (higher precision on every seed) is a row. Options as notebook 11's.
MINIBATCH_DISCRIMINATION = dict(minibatch="discrimination", mbd_kernels=8, mbd_dim=4)


@register_row("DCGAN + minibatch discrimination", requires="course_lib.techniques", chapter=11)
def _dcgan_minibatch_row(ctx):
    """Notebook 05's DCGAN (same schedule and settings) with a minibatch-discrimination layer in D."""
    generator, _, meta = techniques.load_or_train_technique(
        "dcgan", ctx.ds.x_train * 2 - 1, ctx.ds.name, ctx.schedule, ctx.device, seed=ctx.seed,
        store=ctx.store, **MINIBATCH_DISCRIMINATION)
    return _generator_row(ctx, generator, meta, "notebook 11; the DCGAN recipe with B = 8, C = 4")


# Notebook 12's models at the batch-64 DCGAN's budget (2,500 steps; the BigGAN-style model its own
# recipe's 800): notebook 12 itself trains them for fewer steps, so these rows come from the
# command line and notebook 10 shows them as a recorded run.
def _modern_row(ctx, variant, note):
    generator, _, meta = modern_gan.load_or_train_modern(
        ctx.ds.x_train * 2 - 1, ctx.ds.name, ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store,
        **modern_gan.VARIANTS[variant])
    return _generator_row(ctx, generator, meta, note)


@register_row("SNGAN (spectral norm + hinge)", requires="course_lib.modern_gan", chapter=12)
def _sngan_row(ctx):
    return _modern_row(ctx, "SNGAN", "notebook 12; the DCGAN's networks, D without batch norm")


@register_row("DCGAN + R1", requires="course_lib.modern_gan", chapter=12)
def _r1_row(ctx):
    return _modern_row(ctx, "DCGAN + R1", "notebook 12; gamma = 10, D without batch norm")


@register_row("SAGAN-style (self-attention, SN in G and D)", requires="course_lib.modern_gan", chapter=12)
def _sagan_row(ctx):
    return _modern_row(ctx, "SAGAN", "notebook 12; one attention block at 14x14 in G and D")


@register_row("BigGAN-style (class-conditional)", requires="course_lib.biggan", chapter=12)
def _biggan_row(ctx):
    generator, _, meta = biggan.load_or_train_biggan(
        ctx.ds.x_train * 2 - 1, ctx.ds.y_train, len(ctx.ds.classes), ctx.ds.name, ctx.schedule,
        ctx.device, seed=ctx.seed, store=ctx.store)

    def sample(n, generator_rng):
        images, _ = biggan.sample_balanced(generator, n, device=ctx.device, generator_rng=generator_rng)
        return symmetric_to_unit(images)

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"],
                    labels_for=lambda n: cgan.balanced_labels(n, generator.n_classes),
                    note="notebook 12; balanced labels, no truncation")


@register_row("StyleGAN-style (mapping network, AdaIN, noise inputs)", requires="course_lib.stylegan",
              chapter=13)
def _stylegan_row(ctx):
    generator, _, meta = stylegan.load_or_train_stylegan(
        ctx.ds.x_train * 2 - 1, ctx.ds.name, ctx.schedule, ctx.device, seed=ctx.seed, store=ctx.store)

    def sample(n, generator_rng):
        return symmetric_to_unit(stylegan.sample(generator, n, rng=generator_rng))

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"],
                    note="notebook 13; no truncation")


@register_row("VAE-GAN (conv, k = 16)", requires="course_lib.vaegan", chapter=14)
def _vaegan_row(ctx):
    model, _, meta = vaegan.load_or_train_vaegan(ctx.ds.x_train * 2 - 1, ctx.ds.name, ctx.schedule,
                                                 ctx.device, seed=ctx.seed, store=ctx.store)

    def sample(n, generator_rng):
        return torch.cat([symmetric_to_unit(vaegan.sample(model, part, generator_rng, ctx.device))
                          for part in [1000] * (n // 1000) + [n % 1000] if part])

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"],
                    note="notebook 14; decoded prior samples")


TABLE_COLUMNS = (  # key, header, format
    ("is", "IS ↑", "{:.2f}"),
    ("fid", "FID ↓", "{:.2f}"),
    ("diversity", "diversity (TV) ↓", "{:.3f}"),
    ("precision", "precision ↑", "{:.3f}"),
    ("recall", "recall ↑", "{:.3f}"),
    ("density", "density", "{:.3f}"),
    ("coverage", "coverage ↑", "{:.3f}"),
    ("parzen_ll", "Parzen LL (nats)", "{:.0f}"),
    ("class_share", "requested class ↑", "{:.3f}"),
    ("nll", "−log p(x) bound, IWAE-50 (nats)", "{:.1f}"),
    ("seconds", "training (s)", "{:.0f}"),
    ("device", "device", "{}"),
)


def requested_class_share(evaluator, row, samples):
    """For a conditional model, the share of its samples that the evaluator assigns to the class
    they were generated for (notebooks 03 and 06); None for unconditional rows."""
    if row.labels_for is None:
        return None
    return accuracy(evaluator, samples, row.labels_for(len(samples)))


def table_markdown(results):
    """A Markdown table of {row name: scores dict}; columns that no row has are left out."""
    columns = [c for c in TABLE_COLUMNS if any(r.get(c[0]) is not None for r in results.values())]
    lines = ["| model | " + " | ".join(header for _, header, _ in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for name, scores in results.items():
        cells = ["-" if scores.get(key) is None else fmt.format(scores[key])
                 for key, _, fmt in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
