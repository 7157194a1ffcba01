"""Checkers for the exercises of notebook 13: style-based generators (StyleGAN, StyleGAN2)."""

import torch

from .checking import assert_close, attempted

DEMODULATION_CHOICES = ("mean and std", "std only", "neither")


def demodulation_sigma(weight, style):
    """The reference (for tests): sigma_j = sqrt(sum_{i,k} (s_i w_jik)^2), one per output channel."""
    weight, style = torch.as_tensor(weight, dtype=torch.float64), torch.as_tensor(style, dtype=torch.float64)
    return (weight * style[None, :, None, None]).pow(2).sum(dim=(1, 2, 3)).sqrt()


def check_demodulation_sigma(fn):
    """Exercise (derivation): fn(weight (C_out, C_in, kh, kw), style (C_in,)) -> (C_out,) the std
    of each output channel of the modulated convolution for iid unit-variance inputs."""
    g = torch.Generator().manual_seed(13)
    cases = [(torch.tensor([[[[1.0]], [[2.0]]], [[[0.0]], [[3.0]]]], dtype=torch.float64),
              torch.tensor([2.0, 0.5], dtype=torch.float64))]
    for shape in ((4, 3, 3, 3), (2, 5, 1, 1), (6, 2, 3, 3)):
        cases.append((torch.randn(*shape, generator=g, dtype=torch.float64),
                      torch.rand(shape[1], generator=g, dtype=torch.float64) * 2 - 0.5))
    for weight, style in cases:
        got = attempted(fn, weight.clone(), style.clone())
        if got is None:
            return False
        assert_close(f"sigma for a kernel of shape {tuple(weight.shape)}", got,
                     demodulation_sigma(weight, style), atol=1e-6)
    print("correct: out_j = sum_ik s_i w_jik x_ik with iid unit-variance x has variance "
          "sum_ik (s_i w_jik)^2; demodulation divides the kernel by its square root.")
    return True


def check_linear_path_length(fn):
    """Exercise (derivation): fn(M) -> the expected path length E ||M (b - a)||^2 of the linear map
    g(v) = M v under lerp between two independent a, b ~ N(0, I): 2 ||M||_F^2."""
    g = torch.Generator().manual_seed(13)
    cases = [torch.eye(3, dtype=torch.float64), torch.tensor([[1.0, 2.0]], dtype=torch.float64)]
    cases += [torch.randn(*shape, generator=g, dtype=torch.float64) for shape in ((5, 4), (2, 7))]
    for matrix in cases:
        got = attempted(fn, matrix.clone())
        if got is None:
            return False
        assert_close(f"the path length of a {tuple(matrix.shape)} matrix", float(got),
                     float(2 * matrix.pow(2).sum()), atol=1e-6)
    print("correct: the step is delta M (b - a) whatever t is, so each path gives ||M (b - a)||^2; "
          "b - a ~ N(0, 2I), so its mean is 2 tr(M^T M) = 2 ||M||_F^2.")
    return True


def check_demodulation_prediction(fn):
    """Exercise (prediction): fn() -> which per-channel statistics of a demodulated convolution's
    output are fixed whatever the input, as AdaIN fixes both: one of DEMODULATION_CHOICES."""
    got = attempted(fn)
    if got is None:
        return False
    if got not in DEMODULATION_CHOICES:
        raise AssertionError(f"answer with one of {DEMODULATION_CHOICES}, got {got!r}.")
    if got != "neither":
        raise AssertionError("not quite: demodulation divides the weights by a number computed from "
                             "the weights and the style alone. What happens to the output if the "
                             "input is multiplied by 3?")
    print("correct: neither. Demodulation never looks at the activations: it assumes iid "
          "unit-variance inputs, so an input three times larger gives an output three times "
          "larger, and nothing removes a mean the input brings. Now run the cell below.")
    return True
