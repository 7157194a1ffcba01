"""Checkers for the exercises of notebook 03: the conditional VAE."""

import math

import torch

from .. import cvae, vae
from .checking import assert_close, assert_finite, assert_refuses_bad_labels, attempted


def check_condition_input(fn):
    """Exercise 03.1: fn(z, y, n_classes) -> [z, one_hot(y)] of shape (B, k + n_classes); labels
    outside 0..n_classes-1 raise ValueError."""
    g = torch.Generator().manual_seed(31)
    z, y = torch.randn(5, 3, generator=g), torch.tensor([0, 4, 2, 2, 1])
    got = attempted(fn, z.clone(), y.clone(), 5)
    if got is None:
        return False
    assert_close("conditioned input", got, torch.cat([z, torch.eye(5)[y]], 1), atol=1e-6)
    assert_refuses_bad_labels(lambda bad: fn(z[:2], bad, 5), 5)
    print("correct: z followed by the one-hot label, and a clear error for a label out of range.")
    return True


def check_class_posterior(fn):
    """Exercise 03.2: fn(elbos (N, K), log_prior (K,)) -> log p(y | x) (N, K), using ELBO(x | y)
    in place of log p(x | y) in Bayes' rule."""
    g = torch.Generator().manual_seed(32)
    elbos = torch.randn(6, 4, generator=g) * 5 - 300.0  # realistic sizes: exp(-300) underflows in float32
    log_prior = torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    got = attempted(fn, elbos.clone(), log_prior.clone())
    if got is None:
        return False
    assert_finite("log p(y | x)", got)
    joint = elbos.double() + log_prior.double()
    assert_close("log p(y | x)", got, joint - joint.logsumexp(1, keepdim=True), atol=1e-4)
    print("correct: log p(y|x) = ELBO(x|y) + log p(y) - logsumexp over y of the same.")
    return True


def check_transfer_style(fn):
    """Exercise 03.3: fn(model, x, y_source, y_target) -> the Bernoulli means of p(x | z, y_target)
    at z = the posterior mean of q(z | x, y_source)."""
    torch.manual_seed(33)
    model = cvae.make_cvae(4, arch="mlp", latent_dim=3).eval()
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(33))
    y_source, y_target = torch.tensor([0, 1, 2, 3, 0]), torch.tensor([3, 3, 0, 1, 2])
    with torch.no_grad():
        reference = vae.decode_mean(model, model.encode(x, y_source)[0], y_target)
    got = attempted(fn, model, x, y_source, y_target)
    if got is None:
        return False
    assert_close("transferred images", torch.as_tensor(got).detach(), reference, atol=1e-5)
    print("correct: encode with the image's own label, decode the posterior mean with the new one.")
    return True


def check_nll_given_label(fn):
    """Exercise 03.5: fn(nll, posterior, n_classes) -> -log p(x | y) in nats, for an image with
    -log p(x) = nll whose label y has posterior probability p(y | x) = posterior, with n_classes
    equally frequent classes: by Bayes' rule, nll - log n_classes - log posterior."""
    cases = [(100.0, 1.0, 10),  # a certain label saves exactly log K
             (100.0, 0.1, 10),  # p(y | x) = p(y): the label says nothing new
             (87.5, 0.6, 10),
             (50.0, 0.01, 4)]  # an unlikely label for this image costs nats
    for nll, posterior, n_classes in cases:
        got = attempted(fn, nll, posterior, n_classes)
        if got is None:
            return False
        expected = nll - math.log(n_classes) - math.log(posterior)
        assert_close(f"-log p(x | y) for nll={nll}, posterior={posterior}, n_classes={n_classes}",
                     float(got), expected, atol=1e-6)
    print("correct: -log p(x|y) = -log p(x) - log K - log p(y|x): the label saves log K nats only "
          "when p(y|x) = 1, nothing when p(y|x) = 1/K, and costs nats below that.")
    return True
