"""Objectives as pure functions of tensors; each docstring states its equation."""

import torch.nn.functional as F


def check_same_shape(prediction, target, what="reconstruction"):
    if prediction.shape != target.shape:
        raise ValueError(
            f"{what} and target must have the same shape, got {tuple(prediction.shape)} "
            f"and {tuple(target.shape)}."
        )


def bce_reconstruction(logits, x):
    """Bernoulli negative log-likelihood per image, averaged over the batch (notebook 02, decoders).

        -log p(x | logits) = -sum_i [ x_i log sigmoid(l_i) + (1 - x_i) log(1 - sigmoid(l_i)) ]

    `logits` are pre-sigmoid decoder outputs; `x` is in [0, 1]. Result in nats per image.
    """
    check_same_shape(logits, x)
    if x.min() < 0 or x.max() > 1:
        raise ValueError("bce_reconstruction needs targets in [0, 1] (use scale='unit' data).")
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.flatten(1).sum(1).mean()


def mse_reconstruction(x_hat, x, reduction="image"):
    """Squared error (notebook 01, section "PCA is the optimal linear autoencoder").

        reduction='image':  (1/B) sum_b sum_i (x_hat_bi - x_bi)^2   (per image, summed over pixels)
        reduction='pixel':  the same divided by the number of pixels (the usual "MSE")

    Up to constants, the 'image' form is the negative log-likelihood of a Gaussian decoder with
    variance 1/2.
    """
    check_same_shape(x_hat, x)
    per_image = (x_hat - x).pow(2).flatten(1).sum(1)
    if reduction == "image":
        return per_image.mean()
    if reduction == "pixel":
        return per_image.mean() / x[0].numel()
    raise ValueError(f"Unknown reduction {reduction!r}: expected 'image' or 'pixel'.")
