"""Evaluating generative models: the evaluator classifier and every score (notebook 10).

No Inception network can be downloaded here, and ImageNet features would suit 28x28 grey images
badly anyway, so every score works in the space of a small CNN classifier (`Evaluator`) trained by
the course on the dataset in use and cached as a checkpoint (`load_evaluator`). Its logits give
p(y | x), its penultimate layer gives 128-d features. On top of them:

- `inception_score`         exp(E_x KL(p(y|x) || p(y)))            (Salimans et al. 2016)
- `frechet_distance`        Fréchet distance of Gaussians fitted to features (Heusel et al. 2017)
- `diversity_score`         total-variation distance between class histograms (defined below)
- `precision_recall`        k-NN balls, k = 3                       (Kynkäänniemi et al. 2019)
- `density_coverage`        k-NN balls, k = 5                       (Naeem et al. 2020)
- `parzen_log_likelihood`   Gaussian kernel density in pixel space  (Goodfellow et al. 2014),
                            misleading in high dimensions           (Theis et al. 2016)
- `evaluate_samples`        all of the above for one model, as a dict.

The last section holds the comparison table of notebook 10: one registered loader per row.
"""

from __future__ import annotations

import importlib.util
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import checkpoints, checks, nets
from .data import batch_stream, load_image_data
from .runtime import get_device, get_schedule
from .train import fit

# ---- the evaluator ------------------------------------------------------------------------------

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
    n = DEFAULTS[get_schedule(schedule)]["heldout"]
    if len(x) <= n:
        raise ValueError(f"{len(x)} training images cannot hold out {n}: load more training data "
                         f"(the {get_schedule(schedule)} schedule's train_size is "
                         f"{DEFAULTS[get_schedule(schedule)]['train_size']}).")
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


def train_evaluator(model, x_train, y_train, steps, batch_size, lr, seed=0, progress=True):
    """Adam with a cosine learning-rate decay to 0 over `steps` steps; returns the history."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    batches = batch_stream(x_train, y_train, batch_size=batch_size,
                           generator=torch.Generator().manual_seed(seed))

    def step(batch):
        losses = evaluator_step(model, optimizer, *batch)
        schedule.step()
        return losses

    model.train()
    history = fit(step, batches, steps, desc="evaluator", progress=progress)
    model.eval()
    return history


def _device_of(module):
    return next(module.parameters()).device


@torch.no_grad()
def embed(evaluator, images, batch_size=500):
    """Features (N, 128) and logits (N, K) of many images, in chunks, on the CPU in float32.

    The evaluator runs in eval mode (batch norm uses its running statistics, no dropout).
    """
    check_unit_images(images)
    was_training = evaluator.training
    evaluator.eval()
    device = _device_of(evaluator)
    features, logits = [], []
    try:
        for chunk in images.split(batch_size):
            f = evaluator.features(chunk.to(device).float())
            features.append(f.cpu())
            logits.append(evaluator.head(f).cpu())
    finally:
        evaluator.train(was_training)
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


def load_evaluator(dataset=None, schedule=None, device=None, seed=0, progress=True):
    """The evaluator for a dataset and schedule: loaded from its checkpoint, else trained and saved.

    The checkpoint is checkpoint_path("evaluator", dataset, schedule), verified by its sha256; its
    meta holds the test accuracy, training time, device and configuration. Training loads its own
    data (DEFAULTS[schedule] decides the subset; `seed` the subset, initialisation and batches), so
    for the course's seed 0 the same key always means the same recipe.
    Returns (evaluator in eval mode on `device`, meta).
    """
    schedule = get_schedule(schedule)
    config = DEFAULTS[schedule]
    device = device if isinstance(device, torch.device) else get_device(device)
    ds = load_image_data(dataset, device=device, scale="unit", train_size=config["train_size"],
                         test_size=config["test_size"], seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Evaluator(num_classes=len(ds.classes)).to(device)

    def train():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            (x_fit, y_fit), _ = heldout_split(ds.x_train, ds.y_train, schedule)
            history = train_evaluator(model, x_fit, y_fit, config["steps"],
                                      config["batch_size"], config["lr"], seed=seed,
                                      progress=progress)
        return {
            "test_accuracy": accuracy(model, ds.x_test, ds.y_test),
            "seconds": history["seconds"][-1],
            "device": str(device),
            "dataset": ds.name,
            "schedule": schedule,
            "config": dict(config),
            "classes": list(ds.classes),
            "history": history,
        }

    path = checkpoints.checkpoint_path("evaluator", ds.name, schedule)
    meta, _ = checkpoints.load_or_train(path, {"evaluator": model}, train)
    if meta.get("config") != config:
        raise checkpoints.CheckpointError(
            f"{path} holds an evaluator trained with {meta.get('config')}, but the {schedule} "
            f"schedule asks for {config}; delete it (and its .sha256) to retrain.")
    model.eval()
    print(f"evaluator ({ds.name}, {schedule} schedule): test accuracy {meta['test_accuracy']:.2%} "
          f"on {len(ds.x_test)} test images; trained in {meta['seconds']:.0f} s on {meta['device']}")
    return model, meta


# ---- Inception score ----------------------------------------------------------------------------


def _as_probabilities(probs):
    probs = checks.check_finite(torch.as_tensor(probs).detach().double().cpu(), "class probabilities")
    if probs.dim() != 2:
        raise ValueError(f"expected class probabilities of shape (N, K), got {tuple(probs.shape)}.")
    if probs.min() < 0 or not torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=probs.dtype),
                                             atol=1e-4):
        raise ValueError("rows should be probabilities (non-negative, summing to 1); "
                         "pass logits.softmax(1), not logits.")
    return probs


def inception_score(probs, splits=10):
    """Classifier Inception Score (Salimans et al. 2016; notebook 10, section "Inception score").

        IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x),

    computed on each of `splits` equal parts of the N predictions (the usual 10), returning the
    mean and standard deviation over the parts. 1 <= IS <= K: 1 when every image gets the same
    prediction, K when predictions are confident and spread evenly over the K classes.
    """
    probs = _as_probabilities(probs)
    if not 1 <= splits <= len(probs):
        raise ValueError(f"splits must be between 1 and the number of samples {len(probs)}, "
                         f"got {splits}.")
    scores = []
    for part in torch.tensor_split(probs, splits):
        marginal = part.mean(0, keepdim=True)
        kl = (torch.special.xlogy(part, part) - torch.special.xlogy(part, marginal)).sum(1)
        scores.append(math.exp(kl.mean().item()))
    return float(np.mean(scores)), float(np.std(scores))


# ---- Fréchet distance ---------------------------------------------------------------------------


def gaussian_stats(features):
    """Mean (d,) and covariance (d, d) of the rows of `features`, in float64 (unbiased, n - 1)."""
    features = checks.check_finite(torch.as_tensor(features).detach().double().cpu(), "features")
    if features.dim() != 2 or len(features) < 2:
        raise ValueError(f"expected at least 2 feature vectors of shape (N, d), got "
                         f"{tuple(features.shape)}.")
    return features.mean(0), torch.cov(features.T).reshape(features.shape[1], features.shape[1])


def sqrtm_psd(matrix):
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition (float64).

    A = V diag(l) V^T  ->  A^(1/2) = V diag(sqrt(max(l, 0))) V^T; rounding can make the smallest
    eigenvalues slightly negative, so they are clamped to 0.
    """
    matrix = torch.as_tensor(matrix, dtype=torch.float64)
    eigenvalues, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * eigenvalues.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet (2-Wasserstein squared) distance between N(mu1, sigma1) and N(mu2, sigma2)
    (Heusel et al. 2017; notebook 10, section "Fréchet distance"):

        FD = ||mu1 - mu2||^2 + tr( sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2) ).

    The matrix square root is taken the numerically careful way, all in float64 and all real:
    sigma1 sigma2 is not symmetric, but it has the same eigenvalues as the symmetric PSD matrix
    M = sigma1^(1/2) sigma2 sigma1^(1/2) (AB and BA share eigenvalues), so
    tr (sigma1 sigma2)^(1/2) = sum_i sqrt(lambda_i(M)), with tiny negative lambda clamped to 0.
    This avoids scipy.linalg.sqrtm's complex intermediate results (whose small imaginary parts
    other implementations have to discard); the tests check both routes agree. With fewer samples
    than dimensions a covariance is singular; the square roots of its ~1e-16 "zero" eigenvalues
    then add errors of about 1e-8 each (so FD of such a set with itself is ~1e-6, not 0).
    """
    mu1, mu2 = (torch.as_tensor(m, dtype=torch.float64).cpu() for m in (mu1, mu2))
    sigma1, sigma2 = (torch.as_tensor(s, dtype=torch.float64).cpu() for s in (sigma1, sigma2))
    for what, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        checks.check_finite(value, what)  # else eigh fails with a LinAlgError
    d = len(mu1)
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"shapes do not match: means {tuple(mu1.shape)}, {tuple(mu2.shape)}; "
                         f"covariances {tuple(sigma1.shape)}, {tuple(sigma2.shape)}.")
    root1 = sqrtm_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0)
    trace_sqrt = eigenvalues.sqrt().sum()
    value = (mu1 - mu2).pow(2).sum() + torch.trace(sigma1) + torch.trace(sigma2) - 2 * trace_sqrt
    return float(value)


def fid_from_features(features1, features2):
    """Fréchet distance between Gaussians fitted to two feature sets ("FID" in our feature space)."""
    return frechet_distance(*gaussian_stats(features1), *gaussian_stats(features2))


# ---- class-distribution diversity ---------------------------------------------------------------


def class_histogram(labels, num_classes):
    """Fraction of the items in each class: (K,) float64 summing to 1."""
    labels = torch.as_tensor(labels).detach().long().cpu().reshape(-1)
    if len(labels) == 0:
        raise ValueError("no labels given.")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels should lie in 0..{num_classes - 1}, got {int(labels.min())}.."
                         f"{int(labels.max())}.")
    return torch.bincount(labels, minlength=num_classes).double() / len(labels)


def diversity_score(generated_hist, reference_hist):
    """Class-distribution diversity (notebook 10, section "Class diversity"): the total-variation
    distance between the evaluator's class histogram of the samples, p, and of real images, q,

        TV(p, q) = 1/2 sum_k |p_k - q_k|   in [0, 1]; lower is better.

    0: the samples hit the classes exactly as often as real images do. Worst: all samples in one
    class, TV = 1 - q_k (0.9 against 10 balanced classes; no histogram is further from q).
    It reads as "the fraction of samples that would have to change class to match the data".
    Why this one: the course sources only say "diversity score"; KL(q || p) is infinite as soon as
    one class is missing and KL(p || q) ignores missing classes, while TV is bounded, symmetric and
    defined for empty classes. Against a histogram of real images it also handles an unbalanced
    dataset, which the entropy of p alone (`normalized_entropy`) cannot. Like IS, it sees classes
    only: it cannot tell twenty copies of one shoe from twenty different shoes.
    Use the evaluator's predictions on real images for q (not the true labels), so its
    classification errors cancel out.
    """
    p = torch.as_tensor(generated_hist, dtype=torch.float64)
    q = torch.as_tensor(reference_hist, dtype=torch.float64)
    if p.shape != q.shape or p.dim() != 1:
        raise ValueError(f"histograms should be two (K,) vectors, got {tuple(p.shape)} and "
                         f"{tuple(q.shape)}.")
    for name, h in (("generated", p), ("reference", q)):
        checks.check_finite(h, f"the {name} histogram")
        if h.min() < 0 or abs(float(h.sum()) - 1) > 1e-6:
            raise ValueError(f"the {name} histogram should be non-negative and sum to 1.")
    return float((p - q).abs().sum() / 2)


def normalized_entropy(hist):
    """Entropy of a class histogram divided by log K: 1 for balanced classes, 0 for one class."""
    p = torch.as_tensor(hist, dtype=torch.float64)
    return float(-torch.special.xlogy(p, p).sum() / math.log(len(p)))


# ---- precision / recall, density / coverage -----------------------------------------------------


def _features(x, what):
    x = checks.check_finite(torch.as_tensor(x).detach().double().cpu(), what)
    if x.dim() != 2 or len(x) < 2:
        raise ValueError(f"{what} should be (N, d) feature vectors with N >= 2, got {tuple(x.shape)}.")
    return x


def knn_radii(features, k, chunk=1024):
    """Distance from each row to its k-th nearest *other* row (the radius of its k-NN ball).

    Distances are computed in float64 after centring (torch.cdist expands ||x||^2 + ||y||^2 - 2xy,
    which loses digits for nearby points far from the origin)."""
    features = _features(features, "features")
    features = features - features.mean(0)
    if not 1 <= k < len(features):
        raise ValueError(f"k must be between 1 and N - 1 = {len(features) - 1}, got {k}.")
    radii = []
    for rows in features.split(chunk):
        distances = torch.cdist(rows, features)
        # the smallest distance is the point to itself (0), so take the (k + 1)-th smallest
        radii.append(distances.topk(k + 1, dim=1, largest=False).values[:, -1])
    return torch.cat(radii)


def ball_membership(queries, centers, radii, chunk=1024):
    """For k-NN balls B(center_i, radius_i): how many balls contain each query (N_q,), and
    whether each ball contains at least one query (N_c,). Distances are computed in chunks.

    Float64 after centring, as in `knn_radii`; radii are widened by a relative 1e-9 so that
    rounding cannot push a point lying exactly on a boundary (the k-th neighbour itself, when
    queries and centers share points) outside."""
    queries, centers = _features(queries, "queries"), _features(centers, "centers")
    origin = centers.mean(0)
    queries, centers = queries - origin, centers - origin
    radii = checks.check_finite(torch.as_tensor(radii, dtype=torch.float64).cpu(), "radii") * (1 + 1e-9)
    if radii.shape != (len(centers),):
        raise ValueError(f"expected one radius per center ({len(centers)}), got {tuple(radii.shape)}.")
    counts = torch.zeros(len(queries), dtype=torch.long)
    covered = torch.zeros(len(centers), dtype=torch.bool)
    for start in range(0, len(queries), chunk):
        inside = torch.cdist(queries[start:start + chunk], centers) <= radii
        counts[start:start + chunk] = inside.sum(1)
        covered |= inside.any(0)
    return counts, covered


def precision_recall(real, fake, k=3, real_radii=None):
    """Improved precision and recall (Kynkäänniemi et al. 2019; notebook 10, section
    "Precision, recall, density, coverage"). The real manifold is the union of the balls around
    each real feature vector with radius = distance to its k-th nearest real neighbour; likewise
    for the generated one.

        precision = fraction of generated points inside the real manifold   (fidelity)
        recall    = fraction of real points inside the generated manifold   (diversity)

    Both depend on k and on the sample sizes: use equal numbers of real and generated points
    (10,000 each in the full schedule, as in the paper's ablations; k = 3 as recommended).
    """
    real, fake = _features(real, "real features"), _features(fake, "generated features")
    real_radii = knn_radii(real, k) if real_radii is None else real_radii
    inside_real, _ = ball_membership(fake, real, real_radii)
    inside_fake, _ = ball_membership(real, fake, knn_radii(fake, k))
    return (inside_real > 0).double().mean().item(), (inside_fake > 0).double().mean().item()


def density_coverage(real, fake, k=5, real_radii=None):
    """Density and coverage (Naeem et al. 2020; notebook 10), using k-NN balls of *real* points only:

        density  = 1/(k M) sum_j sum_i 1[fake_j in B(real_i, r_i)]   (about 1 when fake ~ real;
                   > 1 when samples crowd in dense regions; unbounded, unlike precision)
        coverage = 1/N sum_i 1[some fake_j in B(real_i, r_i)]        (in [0, 1])

    Since only real balls are used, one outlier among the samples cannot inflate them the way a
    huge generated ball inflates recall. k = 5 as recommended; N = M = 10,000 in the full schedule.
    For the *same* point set, every ball holds its centre and k neighbours: density = (k + 1) / k.
    """
    real, fake = _features(real, "real features"), _features(fake, "generated features")
    real_radii = knn_radii(real, k) if real_radii is None else real_radii
    counts, covered = ball_membership(fake, real, real_radii)
    return counts.sum().item() / (k * len(fake)), covered.double().mean().item()


# ---- Parzen-window log-likelihood ---------------------------------------------------------------

PARZEN_SIGMAS = tuple(float(s) for s in np.logspace(-1.5, 0, 10))  # 0.03 ... 1, for [0, 1] pixels


def _flat(x, what):
    x = checks.check_finite(torch.as_tensor(x).detach().float().cpu(), what)
    if x.dim() < 2 or len(x) == 0:
        raise ValueError(f"{what} should be a non-empty batch (N, ...), got {tuple(x.shape)}.")
    return x.reshape(len(x), -1)


def parzen_log_likelihood(x, centers, sigmas, chunk=256):
    """Mean log-likelihood (nats per example) of the rows of x under a Parzen window (Gaussian
    kernel density) estimate centred on `centers` (Goodfellow et al. 2014; notebook 10, "Parzen"):

        log p(x) = logsumexp_i( -||x - c_i||^2 / (2 sigma^2) ) - log n - (d/2) log(2 pi sigma^2)

    `sigmas`: one bandwidth or a sequence; the squared distances are computed once and reused for
    every sigma (in float32: after logsumexp's shift by the maximum, rounding costs < 0.01 nats).
    Returns (means, standard errors), float64 tensors with one entry per sigma.
    """
    x, centers = _flat(x, "x"), _flat(centers, "centers")
    if x.shape[1] != centers.shape[1]:
        raise ValueError(f"x has {x.shape[1]} dimensions but the centers have {centers.shape[1]}.")
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    if (sigmas <= 0).any():
        raise ValueError("every sigma must be positive.")
    n, d = len(centers), x.shape[1]
    per_example = []
    for rows in x.split(chunk):
        sq = torch.cdist(rows, centers).pow(2)  # (chunk, n)
        per_example.append(torch.stack([
            torch.logsumexp(-sq / (2 * s**2), dim=1).double()
            - math.log(n) - d / 2 * math.log(2 * math.pi * s**2)
            for s in sigmas.tolist()]))  # (S, chunk)
    values = torch.cat(per_example, dim=1)  # (S, N)
    return values.mean(1), values.std(1) / math.sqrt(values.shape[1])


def parzen_score(centers, x_valid, x_test, sigmas=PARZEN_SIGMAS):
    """The GAN paper's protocol: choose sigma by grid search for the best mean log-likelihood of a
    validation split, then report the log-likelihood of the test split (mean and standard error).
    Returns dict(sigma, ll, ll_sem, valid_ll) -- in nats per example."""
    valid, _ = parzen_log_likelihood(x_valid, centers, sigmas)
    best = int(valid.argmax())
    sigma = float(torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)[best])
    test, sem = parzen_log_likelihood(x_test, centers, sigma)
    if best in (0, len(valid) - 1) and len(valid) > 1:
        print(f"note: the best Parzen sigma {sigma:.3g} is at the edge of the grid; widen it.")
    return {"sigma": sigma, "ll": float(test[0]), "ll_sem": float(sem[0]),
            "valid_ll": float(valid[best])}


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
    precision, recall = precision_recall(reference.features, features, k_pr,
                                         real_radii=reference.radii.get(k_pr))
    density, coverage = density_coverage(reference.features, features, k_dc,
                                         real_radii=reference.radii.get(k_dc))
    scores = {
        "n": len(samples),
        "is": is_mean,
        "is_std": is_std,
        "fid": frechet_distance(reference.mu, reference.sigma, *gaussian_stats(features)),
        "diversity": diversity_score(histogram, reference.histogram),
        "class_entropy": normalized_entropy(histogram),
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
    }
    if parzen is not None:
        x_valid, x_test = parzen
        result = parzen_score(samples, x_valid, x_test, sigmas)
        scores.update(parzen_ll=result["ll"], parzen_sem=result["ll_sem"],
                      parzen_sigma=result["sigma"])
    return scores


# ---- the comparison table (notebook 10) ---------------------------------------------------------
# Each row of the table is a registered loader: loader(context) -> ModelRow. A chapter adds its
# model with `@register_row("DCGAN", requires="course_lib.gan")`; rows whose recipe module does
# not exist yet are skipped, so the table grows as chapters land.


@dataclass
class TableContext:
    """What a row loader gets: the data (scale "unit"), schedule, device and seed of the run."""

    ds: object  # data.ImageData with scale "unit"
    schedule: str
    device: torch.device
    seed: int = 0


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


TABLE_ROWS = {}


def register_row(name, requires=None):
    """Decorator: add a row to the comparison table. `requires` names a module (e.g.
    "course_lib.vae"); the row is skipped while that module does not exist."""

    def decorate(loader):
        TABLE_ROWS[name] = RowSpec(name, loader, requires)
        return loader

    return decorate


def available_rows():
    """The registered rows whose required module can be imported, in registration order."""
    return [spec for spec in TABLE_ROWS.values()
            if spec.requires is None or importlib.util.find_spec(spec.requires) is not None]


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


@register_row("PCA sampler (k = 16)", requires="course_lib.pca")
def _pca_row(ctx):
    from . import pca

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
    from . import autoencoders

    model, meta = autoencoders.load_or_train_autoencoder("conv", latent_dim, ctx.ds, ctx.schedule,
                                                         ctx.device, seed=ctx.seed)
    seconds = meta["history"]["seconds"][-1] if meta.get("history", {}).get("seconds") else None
    return model, seconds, meta.get("device", "not recorded")


@register_row("AE decoding z ~ N(0, I)", requires="course_lib.autoencoders")
def _ae_standard_row(ctx):
    model, seconds, device = load_conv_autoencoder(ctx)

    def sample(n, generator):
        z = torch.randn(n, model.latent_dim, generator=generator).to(ctx.device)
        return _sample_in_chunks(model.decoder, z)

    return ModelRow(sample, seconds=seconds, device=device, note="notebook 01, section 4")


@register_row("AE decoding a Gaussian fitted to its codes", requires="course_lib.autoencoders")
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
    from . import vae
    from .runtime import by_schedule

    n = by_schedule(smoke=200, full=2_000, schedule=ctx.schedule)
    x = vae.binarize(ctx.ds.x_test[:n], generator=torch.Generator().manual_seed(ctx.seed))
    y = None if y is None else y[:n]
    return -vae.iwae_per_image(model, x, k, y).mean().item()


@register_row("VAE (conv, k = 16)", requires="course_lib.vae")
def _vae_row(ctx):
    from . import vae

    model = vae.make_vae("conv", 16).to(ctx.device)
    meta = vae.load_or_train("vae-conv-16", model, ctx.ds, ctx.schedule, seed=ctx.seed,
                             **vae.DEFAULTS[ctx.schedule])

    def sample(n, generator):
        return vae.decode_mean(model, vae.sample_prior(model, n, generator, ctx.device))

    return ModelRow(sample, seconds=meta["train_seconds"], device=str(ctx.device),
                    extra={"nll": _vae_nll(model, ctx)},
                    note=("notebook 02; Bernoulli means; -log p(x): IWAE-50 upper bound, ELBO-trained, one "
                          "stochastic binarization of the first 200 (smoke) / 2,000 (full) test images"))


@register_row("CVAE (conv, k = 16)", requires="course_lib.cvae")
def _cvae_row(ctx):
    from . import cvae, vae

    model = cvae.make_cvae(len(ctx.ds.classes), arch="conv", latent_dim=16).to(ctx.device)
    meta = vae.load_or_train("cvae", model, ctx.ds, ctx.schedule, seed=ctx.seed,
                             **cvae.DEFAULTS[ctx.schedule])

    def labels_for(n):
        return torch.arange(n) % model.n_classes  # every class equally often

    def sample(n, generator):
        labels = labels_for(n).to(ctx.device)
        return vae.decode_mean(model, vae.sample_prior(model, n, generator, ctx.device), labels)

    return ModelRow(sample, seconds=meta["train_seconds"], device=str(ctx.device),
                    labels_for=labels_for,
                    extra={"nll": _vae_nll(model, ctx, y=ctx.ds.y_test)},
                    note=("notebook 03; balanced labels; -log p(x | y): IWAE-50 upper bound, ELBO-trained, one "
                          "stochastic binarization of the first 200 (smoke) / 2,000 (full) test images"))


def _generator_row(ctx, generator, meta, note):
    """A row for an unconditional generator z ~ N(0, I) -> image in [-1, 1], mapped to [0, 1]."""
    from . import gan

    latent_dim = meta["config"]["latent_dim"]

    @torch.no_grad()
    def sample(n, generator_rng):
        z = torch.randn(n, latent_dim, generator=generator_rng).to(ctx.device)
        return torch.cat([symmetric_to_unit(gan.generate(generator, part)) for part in z.split(1000)])

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"], note=note)


def _gan_row(ctx, recipe, note):
    """An image GAN of notebooks 04-05 from its checkpoint (trained here if missing)."""
    from . import gan

    generator, _, meta = gan.load_or_train_gan(recipe, ctx.ds.x_train * 2 - 1, ctx.ds.name,
                                               ctx.schedule, ctx.device, seed=ctx.seed)
    return _generator_row(ctx, generator, meta, note)


def _wgan_row(ctx, variant, note):
    """A WGAN of notebooks 07-08 from its checkpoint (trained here if missing)."""
    from . import wgan

    generator, _, meta = wgan.load_or_train_wgan(variant, ctx.ds.x_train * 2 - 1, ctx.ds.name,
                                                 ctx.schedule, ctx.device, seed=ctx.seed)
    return _generator_row(ctx, generator, meta, note)


@register_row("MLP GAN", requires="course_lib.gan")
def _mlp_gan_row(ctx):
    return _gan_row(ctx, "mlp", "notebook 04")


@register_row("DCGAN", requires="course_lib.gan")
def _dcgan_row(ctx):
    return _gan_row(ctx, "dcgan", "notebook 05")


def _conditional_gan_row(ctx, kind, note):
    """The CGAN or ACGAN of notebook 06 from its checkpoint (trained here if missing), sampled with
    every class equally often."""
    from . import cgan

    generator, _, meta = cgan.load_or_train_conditional_gan(
        kind, ctx.ds.x_train * 2 - 1, ctx.ds.y_train, len(ctx.ds.classes), ctx.ds.name,
        ctx.schedule, ctx.device, seed=ctx.seed)

    def labels_for(n):
        return cgan.balanced_labels(n, generator.n_classes)

    def sample(n, generator_rng):
        images, _ = cgan.sample_balanced(generator, n, ctx.device, generator_rng)
        return symmetric_to_unit(images)

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"],
                    labels_for=labels_for, note=note)


@register_row("CGAN", requires="course_lib.cgan")
def _cgan_row(ctx):
    return _conditional_gan_row(ctx, "cgan", "notebook 06; balanced labels")


@register_row("ACGAN", requires="course_lib.cgan")
def _acgan_row(ctx):
    return _conditional_gan_row(ctx, "acgan", "notebook 06; balanced labels")


@register_row("WGAN (weight clipping)", requires="course_lib.wgan")
def _wgan_clip_row(ctx):
    return _wgan_row(ctx, "clip", "notebook 07")


@register_row("WGAN-GP", requires="course_lib.wgan")
def _wgan_gp_row(ctx):
    return _wgan_row(ctx, "gp", "notebook 08")


@register_row("InfoGAN", requires="course_lib.infogan")
def _infogan_row(ctx):
    """The InfoGAN of notebook 09, with its codes drawn from their priors."""
    from . import infogan

    generator, _, meta = infogan.load_or_train_infogan(ctx.ds.x_train * 2 - 1, ctx.ds.name,
                                                       ctx.schedule, ctx.device, seed=ctx.seed)

    def sample(n, generator_rng):
        return torch.cat([symmetric_to_unit(infogan.sample_images(generator, part, rng=generator_rng))
                          for part in [1000] * (n // 1000) + [n % 1000] if part])

    return ModelRow(sample, seconds=meta["seconds"], device=meta["device"], note="notebook 09")


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
