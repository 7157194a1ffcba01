"""One skeleton for every model: a recipe is a config plus `build` and `step`.

- A *config* is a frozen dataclass holding everything that defines a run: the networks' sizes,
  the training settings, the seed and the data (dataset name, number of training images and a
  fingerprint of their values). Two runs with equal configs give the same model.
- `build(config) -> {name: module}` makes the networks (seeded by `train`, not by the recipe).
- `step(modules, optimizers, batch, config) -> {loss name: value}` is one training iteration.

`train(recipe, config, data, device)` runs any recipe; `load_or_train` loads the checkpoint that
`config` names (its file name carries a hash of the config, and the file stores the config) or
trains and saves it. A checkpoint whose stored config differs from the one asked for is refused.
From a notebook, a DCGAN update is three hops away: the recipe (gan.py) -> `gan_step` -> the loss.
"""

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from . import checkpoints, checks
from .data import batch_stream
from .nets import generate
from .train import Snapshots, check_not_diverged, fit_modules


@dataclass(frozen=True)
class Recipe:
    """How to train one model family; see the module docstring."""

    name: str  # the checkpoint name's first part, e.g. "dcgan"
    build: Callable  # config -> {name: nn.Module}
    optimizers: Callable  # (config, modules) -> {name: torch.optim.Optimizer}
    step: Callable  # (modules, optimizers, batch, config) -> {loss name: 0-d tensor or float}
    tensors: Callable = lambda config, data: (data.x_train,)  # what the batches are drawn from
    draws_per_step: Callable = lambda config: 1  # batches of batch_size one step consumes
    snapshot: Callable = None  # (modules, config) -> draw(), a grid to keep during training
    adversarial: bool = False  # check that training did not diverge before saving
    describe: Callable = None  # (modules, data) -> dict added to meta after training (e.g. accuracy)
    averaged: tuple = ()  # modules whose weights are also kept as a moving average (config.ema_decay)


@dataclass(frozen=True)
class RunConfig:
    """The fields every config has: the schedule, the seed, the training data (dataset name,
    number of images and a fingerprint of their values, filled in by `make_config`), and an
    optional wall-clock limit (a run cut short is another model, so it is part of the config)."""

    schedule: str = "full"
    seed: int = 0
    dataset: str = ""
    train_size: int = 0
    data: str = ""
    max_seconds: float = None
    steps: int = 1
    batch_size: int = 64


def adam_per_player(config, modules, players=("generator", "discriminator")):
    """Adam(config.lr_g) for the generator and Adam(config.lr_d) for the other player, both
    with config.betas (the DCGAN choice (0.5, 0.999) by default)."""
    rates = dict(zip(players, (config.lr_g, config.lr_d)))
    return {name: torch.optim.Adam(modules[name].parameters(), lr=rate, betas=tuple(config.betas))
            for name, rate in rates.items()}


def device_of(module):
    return next(module.parameters()).device


# ---- the moving average of a network's weights (notebook 05) ---------------------------------------


def average_name(name):
    """The key of module `name`'s weight average in a recipe's modules, e.g. "generator_average"."""
    return f"{name}_average"


def averaged_names(recipe, config):
    """The modules of `recipe` that this config averages: none unless config.ema_decay is set."""
    return recipe.averaged if getattr(config, "ema_decay", None) else ()


def ema_decay_at(decay, step):
    """The decay used at update `step` (0, 1, ...): min(decay, (1 + step) / (10 + step)), so the
    first updates do not keep the random initial weights in the average for thousands of steps."""
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_average(average, live, decay):
    """average <- decay * average + (1 - decay) * live, for every parameter. Buffers (batch
    norm's running statistics) are copied from the live network."""
    for kept, new in zip(average.parameters(), live.parameters()):
        kept.lerp_(new, 1 - decay)
    for kept, new in zip(average.buffers(), live.buffers()):
        kept.copy_(new)


def for_sampling(modules, name="generator"):
    """The network to sample from: the weight average of `name` when the run kept one, else `name`."""
    return modules.get(average_name(name), modules[name])


def symmetric_data(config, data):
    """The training tensors of an unconditional GAN: data.x_train, images in [-1, 1] or points."""
    return (checks.check_images_or_points(data.x_train, "symmetric", "x_train"),)


def fixed_noise_grid(modules, config, n=64):
    """Snapshots of the generator at n fixed noise vectors (drawn once, from the run's seed)."""
    generator = for_sampling(modules)
    z = torch.randn(n, config.latent_dim).to(device_of(generator))
    return lambda: generate(generator, z)


@dataclass(frozen=True)
class RunData:
    """What a model trains on: `x_train` (and `y_train` for conditional models) from the dataset
    called `name`. `data.ImageData` fits too."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor = None


def fingerprint(x):
    """A short hash of a tensor's values: configs name their training data by it, so a model
    trained on other images (another subset or size) is never loaded in its place. Images in
    [0, 1] or [-1, 1] are hashed as their 256 pixel levels, so the same images give the same
    fingerprint at either scale (x * 2 - 1 need not round exactly like the loader's scaling)."""
    x = x.detach().to("cpu", torch.float32)
    if x.dim() == 4 and x.numel() and -1 <= x.min() and x.max() <= 1:
        x = torch.round(((x + 1) / 2 if x.min() < 0 else x) * 255).to(torch.uint8)
    return hashlib.sha256(x.contiguous().numpy().tobytes()).hexdigest()[:12]


def data_fields(data):
    """The config fields that name the training data: dataset, train_size and data (fingerprint)."""
    return {"dataset": data.name, "train_size": len(data.x_train), "data": fingerprint(data.x_train)}


def make_config(config_class, defaults, data, **settings):
    """config_class(**defaults, **data_fields(data), **settings), with a clear error for a
    setting the recipe does not have."""
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"{config_class.__name__} has no setting {', '.join(unknown)}; its "
                         f"settings are: {', '.join(sorted(known))}.")
    return config_class(**{**defaults, **data_fields(data), **settings})


def config_dict(config):
    """The config as plain JSON data (tuples become lists), as it is stored in a checkpoint."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def checkpoint_path(recipe, config, name=None, folder=None):
    """<folder>/<name>-<dataset>-<schedule>-<hash of the config>.pt (folder: the checkpoint dir by
    default): one file per config, so a run with other settings, data or seed never overwrites
    or stands in for another."""
    settings = config_dict(config)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    stem = f"{name or recipe.name}-{settings.get('dataset', 'data')}-{settings['schedule']}"
    return Path(folder or checkpoints.checkpoint_dir()) / f"{stem}-{digest}.pt"


def build(recipe, config, device):
    """The recipe's modules on `device`, initialised from config.seed without touching the
    caller's random state; also returns the snapshot drawer (or None)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        modules = {name: module.to(device) for name, module in recipe.build(config).items()}
        for name in averaged_names(recipe, config):  # starts equal to the network it averages
            modules[average_name(name)] = copy.deepcopy(modules[name]).requires_grad_(False)
        draw = recipe.snapshot(modules, config) if recipe.snapshot else None
    return modules, draw


def train(recipe, config, data, device, snapshots=8, callback=None, every=None, progress=True,
          built=None):
    """Build (unless `built`, a `build` result, is given) and train a recipe; returns (modules, meta).

    meta, the same for every model: recipe, config, history (losses and wall seconds per step),
    steps, seconds (training alone, without building or saving), device, torch version and
    `snapshots` grids drawn during training ({"steps", "seconds", "images"}).
    `callback(step, history)` runs every `every` steps and after the last one.
    """
    modules, draw = built or build(recipe, config, device)
    optimizers = recipe.optimizers(config, modules)
    batches = batch_stream(*recipe.tensors(config, data),
                           batch_size=config.batch_size * recipe.draws_per_step(config),
                           generator=torch.Generator().manual_seed(config.seed))
    kept = Snapshots(draw, config.steps, snapshots if draw else 0)
    max_seconds = config.max_seconds

    def at_intervals(i, history):
        last = i + 1 == config.steps or (max_seconds is not None
                                         and history["seconds"][-1] > max_seconds)
        for period, act in ((kept.every, kept.callback), (every, callback)):
            if act is not None and ((period and (i + 1) % period == 0) or last):
                act(i, history)

    torch.manual_seed(config.seed)
    history = fit_modules(modules.values(), averaging_step(recipe, config, modules, optimizers),
                          batches, config.steps, callback=at_intervals, every=1, desc=recipe.name,
                          progress=progress, max_seconds=max_seconds)
    if recipe.adversarial:  # a diverged model is never saved, and never scored
        check_not_diverged(history, modules)
    meta = {"recipe": recipe.name, "config": config_dict(config), "history": history,
            "steps": len(history["seconds"]), "seconds": history["seconds"][-1],
            "device": str(device), "torch": str(torch.__version__), "snapshots": kept.as_dict()}
    if recipe.describe:
        meta.update(recipe.describe(modules, data))
    return modules, meta


def averaging_step(recipe, config, modules, optimizers):
    """batch -> losses: the recipe's step, then an update of every weight average it keeps."""
    averaged, updates = averaged_names(recipe, config), iter(range(config.steps))

    def step(batch):
        losses = recipe.step(modules, optimizers, batch, config)
        if averaged:
            decay = ema_decay_at(config.ema_decay, next(updates))
            for name in averaged:
                update_average(modules[average_name(name)], modules[name], decay)
        return losses
    return step


def load_or_train(recipe, config, data, device, name=None, store=None, **train_options):
    """The recipe's modules for exactly `config`: loaded from their checkpoint if one exists (its
    stored config must equal `config`), else trained with `train` and saved. `store`
    (a checkpoints.Store) says where checkpoints live and whether a missing one may be trained.
    Returns (modules in eval mode, meta)."""
    store = store or checkpoints.Store()
    built = build(recipe, config, device)
    modules, path = built[0], checkpoint_path(recipe, config, name, store.folder)

    def fit():
        return train(recipe, config, data, device, built=built, **train_options)[1]

    meta, _ = checkpoints.load_or_train(path, modules, fit, config=config_dict(config),
                                        train_missing=store.train_missing)
    for module in modules.values():
        module.eval()
    return modules, meta


def field_default(value):
    """A dataclass default for a mutable or shared value (e.g. a tuple of channel sizes)."""
    return field(default_factory=lambda: value)
