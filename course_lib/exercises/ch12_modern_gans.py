"""Checkers for the exercises of notebook 12 (modern GANs): the hinge loss's optimal discriminator,
its optimal value (total variation), and the Dirac-GAN's eigenvalues with R1."""

import torch

from .. import dirac
from .checking import assert_close, attempted


def check_hinge_minimizer(fn):
    """Exercise 12.1 (derivation): fn(p_data, p_g) -> the logit l* in [-1, 1] that minimises
    p_data max(0, 1 - l) + p_g max(0, 1 + l) at a point with densities p_data != p_g."""
    logits = torch.linspace(-3, 3, 60_001, dtype=torch.float64)
    for p_data, p_g in [(0.3, 0.1), (0.1, 0.3), (0.0, 0.5), (0.5, 0.0), (0.26, 0.25), (2.0, 3.0)]:
        got = attempted(fn, p_data, p_g)
        if got is None:
            return False
        value = p_data * (1 - logits).clamp(min=0) + p_g * (1 + logits).clamp(min=0)
        best = logits[value <= value.min() + 1e-12]  # every minimiser, on a fine grid
        inside = best[(best >= -1) & (best <= 1)]
        assert_close(f"l* for p_data={p_data}, p_g={p_g}", float(got), float(inside.mean()), atol=1e-3)
    print("correct: l* = sign(p_data - p_g): +1 where data are denser, -1 where samples are; compare "
          "D* = p_data / (p_data + p_g), which keeps the ratio, not just its side.")
    return True


def check_optimal_hinge_loss(fn):
    """Exercise 12.2 (derivation): fn(p_data, p_g), two probability vectors over the same K points
    -> the smallest value of the discriminator's hinge loss, min over l of
    sum_x p_data(x) max(0, 1 - l(x)) + p_g(x) max(0, 1 + l(x))."""
    g = torch.Generator().manual_seed(121)
    cases = [(torch.tensor([0.5, 0.5, 0.0]), torch.tensor([0.0, 0.5, 0.5])),
             (torch.tensor([0.2, 0.3, 0.5]), torch.tensor([0.2, 0.3, 0.5])),
             (torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])),
             tuple(torch.rand(6, generator=g).softmax(0) for _ in range(2))]
    for p_data, p_g in cases:
        got = attempted(fn, p_data.clone(), p_g.clone())
        if got is None:
            return False
        logits = torch.linspace(-2, 2, 4001, dtype=torch.float64)[:, None]  # a grid per point
        value = (p_data * (1 - logits).clamp(min=0) + p_g * (1 + logits).clamp(min=0)).min(0).values
        assert_close(f"optimal hinge loss for p_data={p_data.tolist()}, p_g={p_g.tolist()}", float(got),
                     float(value.sum()), atol=1e-5)
    print("correct: 2 sum_x min(p_data, p_g) = 2 - 2 TV(p_data, p_g). A generator that maximises D's best "
          "loss (the zero-sum game) minimises the total variation distance.")
    return True


def check_r1_eigenvalues(fn):
    """Exercise 12.3 (derivation): fn(gamma, a) -> the two eigenvalues (complex numbers) of the
    Dirac-GAN's Jacobian at (0, 0) with R1 weight gamma, where a = f'(0)."""
    for gamma, a in [(0.3, 0.5), (1.0, 0.5), (3.0, 0.5), (0.0, 1.0), (2.0, 1.0), (0.5, 2.0)]:
        got = attempted(fn, gamma, a)
        if got is None:
            return False
        got = dirac.sort_eigenvalues(torch.as_tensor([complex(v) for v in got]))
        matrix = torch.tensor([[0.0, a], [-a, -gamma]], dtype=torch.float64)
        expected = dirac.sort_eigenvalues(torch.linalg.eigvals(matrix))
        if len(got) != 2:
            raise AssertionError(f"expected two eigenvalues, got {len(got)}.")
        where = f"eigenvalues for gamma={gamma}, f'(0)={a}"
        assert_close(where + " (real parts)", got.real, expected.real, atol=1e-6)
        assert_close(where + " (imaginary parts)", got.imag.abs(), expected.imag.abs(), atol=1e-6)
    print("correct: -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2): negative real parts for every gamma > 0, so "
          "small enough steps converge; gamma = 2 f'(0) is the fastest (critical damping).")
    return True
