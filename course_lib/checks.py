"""Checks of the data given to public functions, with the same wording everywhere (notebook 00).

Each check raises a ValueError in one sentence pattern: "<what> should <expected>, got <actual>.
<What to do>." Images come in three scales: 'unit' = floats in [0, 1] (VAEs, autoencoders, the
evaluator), 'symmetric' = floats in [-1, 1] (every GAN: its generator ends in tanh), and 'uint8'
= raw pixels 0..255 as read from the dataset files. `data.scale_images` converts between them.
"""

import math

import torch

SCALE_RANGES = {"unit": (0.0, 1.0), "symmetric": (-1.0, 1.0), "uint8": (0, 255)}
# Rounding may step this far outside a float range, e.g. (x + 1) / 2 of a tanh output.
TOLERANCE = 1e-3
HOW_TO_SCALE = {
    "unit": ("Load the data with scale='unit' (data.scale_images(x, 'unit') converts uint8 pixels), "
             "map tanh outputs with evaluator.symmetric_to_unit(x), or clamp a linear model's samples "
             "with x.clamp(0, 1)."),
    "symmetric": ("Load the data with scale='symmetric' (data.scale_images(x, 'symmetric') converts "
                  "uint8 pixels; [0, 1] images become x * 2 - 1)."),
    "uint8": "Pass the pixels as read from the dataset files (torch.uint8).",
}


def check_tensor(x, what):
    """Raise a ValueError unless x is a torch tensor."""
    if not torch.is_tensor(x):
        raise ValueError(f"{what} should be a torch tensor, got {type(x).__name__}. "
                         "Convert it with torch.as_tensor(x).")
    return x


def count_non_finite(x):
    """'2 NaN and 1 infinite value(s) among 784' -- for error messages."""
    return (f"{int(torch.isnan(x).sum())} NaN and {int(torch.isinf(x).sum())} infinite value(s) "
            f"among {x.numel()}")


def check_finite(x, what):
    """Raise a ValueError unless every entry of the tensor x is finite (no NaN, no infinity)."""
    x = check_tensor(x, what)
    if (x.is_floating_point() or x.is_complex()) and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{what} should be finite, got {count_non_finite(x)}. Look at where they "
                         "come from: a diverged model, a bad input or a division by zero.")
    return x


def check_scale(scale):
    if scale not in SCALE_RANGES:
        raise ValueError(f"scale should be one of {tuple(SCALE_RANGES)}, got {scale!r}.")


def check_pixels(x, scale, what="images", advice=None):
    """Raise a ValueError unless the pixels of x (any shape) fit `scale`: torch.uint8 for 'uint8';
    finite floating point values (any float dtype, any device) in [0, 1] or [-1, 1] for 'unit' or
    'symmetric', up to TOLERANCE outside for rounding. `advice` replaces the default what-to-do."""
    check_scale(scale)
    x = check_tensor(x, what)
    advice = advice or HOW_TO_SCALE[scale]
    wanted_float = scale != "uint8"
    if x.is_floating_point() != wanted_float or (not wanted_float and x.dtype != torch.uint8):
        kind = "floating point" if wanted_float else "torch.uint8"
        raise ValueError(f"{what} should be {kind} for scale {scale!r}, got {x.dtype}. {advice}")
    if not wanted_float or x.numel() == 0:
        return x
    low, high = float(x.min()), float(x.max())  # a NaN shows in both, an inf in one
    if not (math.isfinite(low) and math.isfinite(high)):
        check_finite(x, what)
    bottom, top = SCALE_RANGES[scale]
    if low < bottom - TOLERANCE or high > top + TOLERANCE:
        raise ValueError(f"{what} should have values in [{bottom:g}, {top:g}] (scale {scale!r}), got "
                         f"values in [{low:.4g}, {high:.4g}]. {advice}")
    return x


def check_batch(x, what):
    """Raise a ValueError unless x is a tensor holding a non-empty batch (N, ...)."""
    x = check_tensor(x, what)
    if x.dim() < 2 or len(x) == 0:
        raise ValueError(f"{what} should be a non-empty batch of shape (N, ...), got shape "
                         f"{tuple(x.shape)}.")
    return x


def check_images(x, scale, what="images", shape=None):
    """Raise a ValueError unless x is a non-empty batch (N, ...) of images in `scale` (see
    `check_pixels`); `shape`, if given, is the shape of one image, e.g. (1, 28, 28).

    A 'symmetric' batch with no value below 0 and some above 0 is refused as a 'unit' batch: a
    data set of real images holds black pixels (-1 in that scale), and a tanh generator trained
    on [0, 1] data would leave half of its output range unused.
    """
    check_batch(x, what)
    if shape is not None and tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(f"{what} should have shape (N, {', '.join(map(str, shape))}), got "
                         f"{tuple(x.shape)}.")
    check_pixels(x, scale, what)
    if scale == "symmetric":
        low, high = float(x.min()), float(x.max())
        if low >= 0 and high > 0:
            raise ValueError(f"{what} should have values in [-1, 1] (scale 'symmetric'), got values "
                             f"in [{low:.4g}, {high:.4g}], none below 0: these look like [0, 1] "
                             f"images. {HOW_TO_SCALE['symmetric']}")
    return x


def check_images_or_points(x, scale, what="training data"):
    """Images (N, C, H, W) must be in `scale`; other data (e.g. 2-D points) must be finite."""
    if check_batch(x, what).dim() == 4:
        return check_images(x, scale, what)
    return check_finite(x, what)
