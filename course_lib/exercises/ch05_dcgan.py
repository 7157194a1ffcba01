"""Checkers for the exercises of notebook 05: DCGAN."""

import math

import torch
from torch import nn

from .. import nets
from .checking import assert_close, attempted, report_not_attempted


def check_conv_transpose_size(fn):
    """Exercise 05.1: fn(size, kernel, stride, padding) -> output size of nn.ConvTranspose2d."""
    for size, kernel, stride, padding in [(7, 4, 2, 1), (14, 4, 2, 1), (1, 7, 1, 0), (4, 3, 2, 1),
                                          (5, 5, 3, 2)]:
        got = attempted(fn, size, kernel, stride, padding)
        if got is None:
            return False
        layer = nn.ConvTranspose2d(1, 1, kernel, stride=stride, padding=padding)
        expected = layer(torch.zeros(1, 1, size, size)).shape[-1]
        if int(got) != expected:
            raise AssertionError(f"size {size}, kernel {kernel}, stride {stride}, padding {padding}: "
                                 f"got {got}, PyTorch gives {expected}.")
    print("correct: (size - 1) * stride - 2 * padding + kernel; 7 -> 14 -> 28 in the DCGAN.")
    return True


def check_dcgan_init(fn):
    """Exercise 05.2: fn(module), used as model.apply(fn), gives the DCGAN initialisation:
    conv / transposed conv / linear weights ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02), biases 0."""
    torch.manual_seed(5)
    model = nn.Sequential(nets.dcgan_generator(64, (128, 64)),
                          nets.dcgan_discriminator(channels=(64, 128)))
    try:
        model.apply(fn)
    except NotImplementedError:
        report_not_attempted()
        return False
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            w = m.weight.detach()
            if w.numel() >= 1000 and not (abs(w.mean()) < 0.005 and abs(w.std() - 0.02) < 0.003):
                raise AssertionError(f"{name} ({type(m).__name__}): weight mean {w.mean():.4f}, std "
                                     f"{w.std():.4f}; expected about 0 and 0.02.")
        if isinstance(m, nn.BatchNorm2d):
            w = m.weight.detach()
            if not (abs(w.mean() - 1) < 0.02 and w.std() < 0.05 and w.std() > 0.005):
                raise AssertionError(f"{name} (BatchNorm2d): scale mean {w.mean():.3f}, std "
                                     f"{w.std():.3f}; expected about 1 and 0.02.")
        bias = getattr(m, "bias", None)
        if isinstance(bias, torch.Tensor) and bias.abs().max() > 0:
            raise AssertionError(f"{name} ({type(m).__name__}): biases should start at 0.")
    print("correct: N(0, 0.02) weights, N(1, 0.02) batch-norm scales, zero biases.")
    return True


def check_slerp(fn):
    """Exercise 05.3: fn(z0, z1, t) -> spherical interpolation between vectors z0 and z1 (1-D)
    at fraction t in [0, 1]: sin((1-t) w)/sin(w) z0 + sin(t w)/sin(w) z1, cos w = <z0, z1>/(|z0||z1|)."""
    g = torch.Generator().manual_seed(6)
    z0, z1 = torch.randn(64, generator=g, dtype=torch.float64), torch.randn(64, generator=g,
                                                                          dtype=torch.float64)
    omega = torch.arccos((z0 @ z1) / (z0.norm() * z1.norm()))
    for t in (0.0, 0.25, 0.5, 1.0):
        got = attempted(fn, z0.clone(), z1.clone(), t)
        if got is None:
            return False
        expected = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
        assert_close(f"slerp at t={t}", torch.as_tensor(got, dtype=torch.float64), expected, atol=1e-5)
    print("correct: the path keeps the norm of typical Gaussian samples; the straight line does not.")
    return True


def check_weight_sharing_factor(fn):
    """Exercise 05.5: fn(c_in, c_out, size_in, size_out, kernel) -> the number of weights (no biases)
    of a fully connected layer from c_in maps of side size_in to c_out maps of side size_out, divided
    by that of a transposed convolution between the same maps with a kernel x kernel kernel."""
    for c_in, c_out, size_in, size_out, kernel in [(64, 32, 7, 14, 4), (32, 1, 14, 28, 4), (3, 5, 4, 8, 3),
                                                   (16, 16, 1, 7, 7)]:
        got = attempted(fn, c_in, c_out, size_in, size_out, kernel)
        if got is None:
            return False
        # Count the weights of the two real layers (on the meta device: shapes only, no memory).
        dense = nn.Linear(c_in * size_in**2, c_out * size_out**2, bias=False, device="meta")
        conv = nn.ConvTranspose2d(c_in, c_out, kernel, bias=False, device="meta")
        expected = dense.weight.numel() / conv.weight.numel()
        assert_close(f"c_in {c_in}, c_out {c_out}, sides {size_in} -> {size_out}, kernel {kernel}",
                     float(got), expected, atol=1e-9)
    print("correct: (size_in^2 size_out^2) / kernel^2, whatever the channels: a dense layer has a weight "
          "per pair of positions, a convolution one kernel shared by all of them.")
    return True


def _averaged_orbit_radius(beta, omega, steps=40_000):
    """Reference by simulation: run the moving average along the orbit e^{i omega s} for many
    steps (from the orbit's start, so the start is forgotten) and return its final distance to 0."""
    average = 1.0 + 0.0j
    rotation = complex(math.cos(omega), math.sin(omega))
    point = 1.0 + 0.0j
    for _ in range(steps):
        point *= rotation
        average = beta * average + (1 - beta) * point
    return abs(average)


def check_orbit_shrink(fn):
    """Exercise 05.6: fn(beta, omega) -> |average - c| / r in the steady state, for parameters that
    circle the equilibrium c at radius r, turning omega radians per step, averaged with decay beta."""
    for beta, omega in [(0.5, math.pi), (0.9, 0.5), (0.99, 2 * math.pi / 50), (0.999, 2 * math.pi / 100),
                        (0.99, 2 * math.pi / 1000)]:
        got = attempted(fn, beta, omega)
        if got is None:
            return False
        assert_close(f"beta {beta}, omega {omega:.4f}", float(got),
                     _averaged_orbit_radius(beta, omega), atol=1e-4)
    print("correct: (1 - beta) / |1 - beta e^{-i omega}|; it is small once the average's window "
          "1 / (1 - beta) spans many turns of the orbit, and close to 1 when it spans a small part of one.")
    return True
