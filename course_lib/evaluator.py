"""The evaluator: the small CNN classifier every image score works in (notebook 10).

No Inception network can be downloaded here, and ImageNet features would suit 28x28 grey images
badly anyway, so every score works in the space of a small CNN classifier (`Evaluator`) trained by
the course on the dataset in use and cached as a checkpoint (`load_evaluator`). Its logits give
p(y | x), its penultimate layer gives 128-d features; `evaluate_samples` feeds them to the pure
functions of `scores` and returns every score of one model as a dict.
"""

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import checks, nets, recipe
from .data import load_image_data
from .runtime import get_device, get_schedule
from .scores import (
    PARZEN_SIGMAS,
    class_histogram,
    density_coverage,
    diversity_score,
    frechet_distance,
    gaussian_stats,
    inception_score,
    knn_radii,
    normalized_entropy,
    parzen_score,
    precision_recall,
)

FEATURE_DIM = 128
# Per-schedule defaults. full: about 5 epochs of the first 50,000 training images at batch 128 (about
# 92 % test accuracy on Fashion-MNIST, about 99 % on MNIST; about 2 minutes on 2 CPU cores).
# smoke: a few hundred steps on a 5,000-image subset (CI: only checks that the code runs).
# The last `heldout` loaded training images are never trained on: they are the selection split
# (choices are made on it) and the real-data row of the table (real images the evaluator never saw).
DEFAULTS = {
    "smoke": dict(train_size=5_000, test_size=1_000, heldout=1_000, steps=120, batch_size=64,
                  lr=2e-3),
    "full": dict(train_size=None, test_size=None, heldout=10_000, steps=1_900, batch_size=128,
                 lr=2e-3),
}


def heldout_split(x, y=None, schedule=None):
    """Split the loaded training images into (fit, held out): the last DEFAULTS[schedule]["heldout"]
    are held out. Returns ((x_fit, y_fit), (x_held, y_held)); the y's are None when y is None.

    The split is by position, so it is the same for every caller that loads the data with the
    evaluator's train_size and seed (as notebook 10 and the command line do).
    """
    schedule = get_schedule(schedule)
    return split_off(x, y, DEFAULTS[schedule]["heldout"],
                     f"the {schedule} schedule's train_size is {DEFAULTS[schedule]['train_size']}")


def split_off(x, y, n, hint=""):
    """((x[:-n], y[:-n]), (x[-n:], y[-n:])), refusing data that does not hold more than n images."""
    if len(x) <= n:
        raise ValueError(f"{len(x)} training images cannot hold out {n}: load more training data"
                         + (f" ({hint})." if hint else "."))
    if y is not None and len(y) != len(x):
        raise ValueError(f"x and y differ in length: {len(x)} images but {len(y)} labels.")
    cut = len(x) - n
    return ((x[:cut], None if y is None else y[:cut]), (x[cut:], None if y is None else y[cut:]))


def conv_block(c_in, c_out):
    """3x3 convolution (same size), batch norm, ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class Evaluator(nn.Module):
    """The course's stand-in for the Inception network: a small CNN classifier of 28x28x1 images.

    Input: images in [0, 1] (scale "unit"; map [-1, 1] outputs with `symmetric_to_unit`).
    features(x): the penultimate layer, (B, 128), after ReLU; logits(x): (B, num_classes).
    """

    def __init__(self, num_classes=10, feature_dim=FEATURE_DIM):
        super().__init__()
        self.num_classes = num_classes
        self.body = nn.Sequential(
            nets.ExpectShape(nets.IMAGE_SHAPE, "image"),
            conv_block(1, 16), nn.MaxPool2d(2),  # 28 -> 14
            conv_block(16, 32), nn.MaxPool2d(2),  # 14 -> 7
            conv_block(32, 64),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, feature_dim), nn.BatchNorm1d(feature_dim), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feature_dim, num_classes))

    def features(self, x):
        return self.body(x)

    def logits(self, x):
        return self.head(self.body(x))

    def forward(self, x):
        return self.logits(x)


def symmetric_to_unit(x):
    """Map images from [-1, 1] (tanh outputs, scale "symmetric") to [0, 1] for the evaluator."""
    return ((x + 1) / 2).clamp(0, 1)


def check_unit_images(x, what="images"):
    """Raise a clear ValueError unless x is a (N, 1, 28, 28) batch of finite pixels in [0, 1]
    (the evaluator's scale)."""
    checks.check_images(x, "unit", what, shape=nets.IMAGE_SHAPE)


def evaluator_step(model, optimizer, x, y):
    """One gradient step on the cross-entropy -log p(y | x) of the true labels."""
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach(), "accuracy": (logits.argmax(1) == y).float().mean()}


# ---- the recipe ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluatorConfig(recipe.RunConfig):
    """An evaluator run: Adam(lr) with a cosine decay to 0 over `steps`, on the training images
    less the last `heldout` (the selection split, never trained on)."""

    num_classes: int = 10
    heldout: int = 10_000
    lr: float = 2e-3


def config(ds, schedule, **settings):
    """The EvaluatorConfig for data `ds` (the loaded training images, held-out ones included)."""
    defaults = {k: DEFAULTS[schedule][k] for k in ("heldout", "steps", "batch_size", "lr")}
    return recipe.make_config(EvaluatorConfig, {"schedule": schedule, "num_classes": len(ds.classes),
                                                **defaults}, ds, **settings)


def build(config):
    return {"evaluator": Evaluator(num_classes=config.num_classes)}


def optimizers(config, modules):
    """Adam and its cosine learning-rate schedule (stepped by `step`)."""
    adam = torch.optim.Adam(modules["evaluator"].parameters(), lr=config.lr)
    return {"evaluator": adam,
            "lr_schedule": torch.optim.lr_scheduler.CosineAnnealingLR(adam, T_max=config.steps)}


def step(modules, optimizers, batch, config):
    losses = evaluator_step(modules["evaluator"], optimizers["evaluator"], *batch)
    optimizers["lr_schedule"].step()
    return losses


def fit_split(config, data):
    """What the evaluator trains on: the loaded training images and labels less the held out."""
    return split_off(data.x_train, data.y_train, config.heldout)[0]


def describe(modules, ds):
    """Added to the checkpoint's meta: the test accuracy and the class names."""
    return {"test_accuracy": accuracy(modules["evaluator"], ds.x_test, ds.y_test),
            "classes": list(ds.classes)}


RECIPE = recipe.Recipe("evaluator", build, optimizers, step, tensors=fit_split, describe=describe)


def train_evaluator(model, x_train, y_train, steps, batch_size, lr, seed=0, progress=True):
    """Train `model` in place by the evaluator's recipe, on all of x_train (nothing held out, no
    checkpoint); returns the history."""
    data = recipe.RunData("images", x_train, y_train)
    settings = dict(steps=steps, batch_size=batch_size, lr=lr, seed=seed, heldout=0,
                    num_classes=model.num_classes)
    run = recipe.make_config(EvaluatorConfig, {"schedule": "smoke"}, data, **settings)
    _, meta = recipe.train(dataclasses.replace(RECIPE, describe=None), run, data, _device_of(model),
                           snapshots=0, progress=progress, built=({"evaluator": model}, None))
    model.eval()
    return meta["history"]


def _device_of(module):
    return next(module.parameters()).device


@torch.no_grad()
def embed(evaluator, images, batch_size=500):
    """Features (N, 128) and logits (N, K) of many images, in chunks, on the CPU in float32.

    The evaluator runs in eval mode (batch norm uses its running statistics, no dropout).
    """
    check_unit_images(images)
    device = _device_of(evaluator)
    features, logits = [], []
    with nets.eval_mode(evaluator):
        for chunk in images.split(batch_size):
            f = evaluator.features(chunk.to(device).float())
            features.append(f.cpu())
            logits.append(evaluator.head(f).cpu())
    return checks.check_finite(torch.cat(features), "the evaluator's features"), torch.cat(logits)


def batched_features(evaluator, images, batch_size=500):
    """Penultimate features (N, 128) of many images (see `embed`)."""
    return embed(evaluator, images, batch_size)[0]


def batched_logits(evaluator, images, batch_size=500):
    """Logits (N, K) of many images (see `embed`)."""
    return embed(evaluator, images, batch_size)[1]


def accuracy(evaluator, x, y, batch_size=500):
    """Fraction of images whose most likely class is the label."""
    predicted = batched_logits(evaluator, x, batch_size).argmax(1)
    return float((predicted == y.cpu()).float().mean())


def load_evaluator(dataset=None, schedule=None, device=None, seed=0, progress=True, store=None):
    """The evaluator for a dataset and schedule: loaded from its checkpoint, else trained and saved.

    Loads its own data (DEFAULTS[schedule] decides the subset; `seed` the subset, initialisation
    and batches), so its config, and with it the checkpoint's name, follows from these arguments.
    meta, as for every recipe, plus the test accuracy and the class names.
    Returns (evaluator in eval mode on `device`, meta).
    """
    schedule = get_schedule(schedule)
    device = device if isinstance(device, torch.device) else get_device(device)
    sizes = {k: DEFAULTS[schedule][k] for k in ("train_size", "test_size")}
    ds = load_image_data(dataset, device=device, scale="unit", seed=seed, **sizes)
    modules, meta = recipe.load_or_train(RECIPE, config(ds, schedule, seed=seed), ds, device,
                                         store=store, snapshots=0, progress=progress)
    print(f"evaluator ({ds.name}, {schedule} schedule): test accuracy {meta['test_accuracy']:.2%} "
          f"on {len(ds.x_test)} test images; trained in {meta['seconds']:.0f} s on {meta['device']}")
    return modules["evaluator"], meta


# ---- every score for one model ------------------------------------------------------------------


@dataclass
class Reference:
    """What the scores need from real images, computed once and reused for every row."""

    features: torch.Tensor  # (N, 128)
    histogram: torch.Tensor  # (K,) the evaluator's predicted-class histogram of the real images
    mu: torch.Tensor
    sigma: torch.Tensor
    radii: dict  # k -> (N,) k-NN radii of the real features
    num_classes: int


def make_reference(evaluator, real_x, ks=(3, 5), batch_size=500):
    """Features, Gaussian fit, class histogram and k-NN radii of real images (in [0, 1])."""
    features, logits = embed(evaluator, real_x, batch_size)
    num_classes = logits.shape[1]
    mu, sigma = gaussian_stats(features)
    return Reference(features=features, histogram=class_histogram(logits.argmax(1), num_classes),
                     mu=mu, sigma=sigma, radii={k: knn_radii(features, k) for k in ks},
                     num_classes=num_classes)


def evaluate_samples(evaluator, samples, real_x, splits=10, k_pr=3, k_dc=5, parzen=None,
                     sigmas=PARZEN_SIGMAS, batch_size=500):
    """Every sample-based score of one model, as a dict (notebook 10, the command line, chapters).

    samples: (M, 1, 28, 28) images in [0, 1] (use `symmetric_to_unit` for tanh outputs).
    real_x:  real images in [0, 1], or a `Reference` made from them once by `make_reference`.
    parzen:  optional (x_valid, x_test) real images for the Parzen log-likelihood in pixel space.
    Keys: n, is, is_std, fid, diversity (TV, lower is better), class_entropy, precision, recall,
    density, coverage, and parzen_ll, parzen_sem, parzen_sigma when `parzen` is given.
    """
    reference = real_x if isinstance(real_x, Reference) else make_reference(
        evaluator, real_x, ks=(k_pr, k_dc), batch_size=batch_size)
    features, logits = embed(evaluator, samples, batch_size)
    if logits.shape[1] != reference.num_classes:
        raise ValueError(f"the evaluator has {logits.shape[1]} classes but the reference was made "
                         f"with {reference.num_classes}.")
    is_mean, is_std = inception_score(logits.softmax(1), splits=splits)
    histogram = class_histogram(logits.argmax(1), reference.num_classes)
    scores = {
        "n": len(samples),
        "is": is_mean,
        "is_std": is_std,
        "fid": frechet_distance(reference.mu, reference.sigma, *gaussian_stats(features)),
        "diversity": diversity_score(histogram, reference.histogram),
        "class_entropy": normalized_entropy(histogram),
        **_neighbourhood_scores(reference, features, k_pr, k_dc),
    }
    if parzen is not None:
        scores.update(_parzen_entries(samples, *parzen, sigmas))
    return scores


def _neighbourhood_scores(reference, features, k_pr, k_dc):
    """Precision and recall (k = k_pr), density and coverage (k = k_dc) of sample features."""
    precision, recall = precision_recall(reference.features, features, k_pr,
                                         real_radii=reference.radii.get(k_pr))
    density, coverage = density_coverage(reference.features, features, k_dc,
                                         real_radii=reference.radii.get(k_dc))
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


def _parzen_entries(samples, x_valid, x_test, sigmas):
    """The Parzen log-likelihood of x_test under windows on the samples, sigma chosen on x_valid."""
    result = parzen_score(samples, x_valid, x_test, sigmas)
    return {"parzen_ll": result["ll"], "parzen_sem": result["ll_sem"], "parzen_sigma": result["sigma"]}
