"""Scores of generated images: tensors (features, class probabilities, pixels) in, numbers out.

Pure functions: no network, no evaluator, no recipe. Notebook 10 derives each one; `evaluator`
computes the features and class probabilities they take, and `evaluator.evaluate_samples` applies
all of them to one model.

- `inception_score`         IS = exp(E_x KL(p(y|x) || p(y))),  p(y) = E_x p(y|x)   (Salimans et al. 2016)
- `frechet_distance`        FD = ||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)), the
                            Fréchet distance of Gaussians fitted to features  (Heusel et al. 2017);
                            `gaussian_stats` fits them, `fid_from_features` does both
- `diversity_score`         TV(p, q) = 1/2 sum_k |p_k - q_k| between class histograms (defined below);
                            `class_histogram`, `normalized_entropy` = H(p) / log K
- `precision_recall`        k-NN balls, k = 3: the share of samples inside the real manifold and
                            of real points inside the generated one  (Kynkäänniemi et al. 2019)
- `density_coverage`        k-NN balls of real points only, k = 5     (Naeem et al. 2020)
- `parzen_log_likelihood`   Gaussian kernel density in pixel space    (Goodfellow et al. 2014),
                            misleading in high dimensions             (Theis et al. 2016);
                            `parzen_score` picks its bandwidth on a validation split
"""

import math

import numpy as np
import torch

from . import checks

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
    Why this one rather than the course poster's exp(E_x KL(p(y|x) || q)) (notebook 10, section 4):
    that score is log IS + KL(p || q) in disguise, so confident predictions raise it as much as a
    wrong histogram does, and it is infinite when q misses a class; KL(q || p) is infinite as soon
    as one class is missing and KL(p || q) ignores missing classes, while TV is bounded, symmetric
    and defined for empty classes. Against a histogram of real images it also handles an unbalanced
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
