"""Checkers for the exercises of notebook 07: WGAN."""

import math

import torch
from scipy.stats import wasserstein_distance

from .checking import assert_close, attempted, report_not_attempted


def check_w1_sorted(fn):
    """Exercise 07.1: fn(x, y) -> W1 between two 1-D samples of the same size (a float)."""
    g = torch.Generator().manual_seed(7)
    cases = {
        "two shifted samples": (torch.randn(50, generator=g), torch.randn(50, generator=g) + 2.0),
        "same centre, different spreads": (torch.randn(37, generator=g),
                                           3 * torch.randn(37, generator=g) + 0.2),
        "identical samples in a different order": (torch.arange(6.0), torch.arange(6.0).flip(0)),
    }
    for name, (x, y) in cases.items():
        got = attempted(fn, x.clone(), y.clone())
        if got is None:
            return False
        expected = wasserstein_distance(x.numpy(), y.numpy())
        assert_close(f"W1 for {name}", float(got), expected, atol=1e-5)
    print("correct: sort both samples and average |x_(i) - y_(i)| (the monotone coupling).")
    return True


def check_clip_weights(fn):
    """Exercise 07.2: fn(module, c) clamps every parameter of `module` to [-c, c] in place."""
    g = torch.Generator().manual_seed(8)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LeakyReLU(0.2), torch.nn.Linear(4, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    before = [p.detach().clone() for p in net.parameters()]
    tensors = [p for p in net.parameters()]
    try:
        fn(net, 0.03)
    except NotImplementedError:
        report_not_attempted()
        return False
    if any(a is not b for a, b in zip(tensors, net.parameters())):
        raise AssertionError("clip the parameters in place (p.clamp_ under torch.no_grad()); "
                             "do not replace them, or the optimizer keeps updating the old ones.")
    for p, b in zip(net.parameters(), before):
        if p.requires_grad is False:
            raise AssertionError("the parameters should still require gradients after clipping.")
        assert_close("clipped parameters", p.detach(), b.clamp(-0.03, 0.03), atol=1e-7)
    print("correct: every parameter clamped to [-c, c] in place; values inside are unchanged.")
    return True


def check_js_discrete(fn):
    """Exercise 07.3: fn(p, q) -> JS(p || q) in nats for two discrete distributions (1-D tensors),
    with 0 log 0 = 0."""
    cases = {
        "disjoint supports": (torch.tensor([0.5, 0.5, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.3, 0.7]),
                              math.log(2)),
        "equal distributions": (torch.tensor([0.2, 0.3, 0.5]), torch.tensor([0.2, 0.3, 0.5]), 0.0),
        "partial overlap": (torch.tensor([0.5, 0.5, 0.0]), torch.tensor([0.0, 0.5, 0.5]),
                            0.5 * math.log(2)),
        "full support": (torch.tensor([0.1, 0.6, 0.3]), torch.tensor([0.4, 0.4, 0.2]), None),
    }
    for name, (p, q, expected) in cases.items():
        got = attempted(fn, p.clone(), q.clone())
        if got is None:
            return False
        if expected is None:
            m = (p + q) / 2
            expected = float(0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum())
        got = float(got)
        if not math.isfinite(got):
            raise AssertionError(f"{name}: got {got}; terms with p_i = 0 contribute 0 (0 log 0 = 0), "
                                 "drop them instead of computing 0 * log 0 = nan.")
        assert_close(f"JS for {name}", got, expected, atol=1e-6)
    print("correct: JS = 1/2 KL(p || m) + 1/2 KL(q || m); log 2 whenever the supports are disjoint.")
    return True


def check_overlap_divergences(fn):
    """Exercise 07.5: fn(alpha, theta) -> (W1, JSD in nats) between P_0 (the segment at x = 0) and
    P = alpha P_0 + (1 - alpha) P_theta (a share alpha on the data's segment, the rest at x = theta)."""
    cases = [(0.0, 0.5), (0.0, -2.0), (0.3, 0.5), (0.3, -2.0), (0.75, 1.0), (1.0, 3.0)]
    for alpha, theta in cases:
        got = attempted(fn, alpha, theta)
        if got is None:
            return False
        try:
            w1, jsd = (float(v) for v in got)
        except (TypeError, ValueError):
            raise AssertionError(f"return two numbers, (w1, jsd); got {got!r}.") from None
        # Independent references: W1 between the horizontal positions (the vertical ones are the same
        # U[0, 1] in both laws), and the JSD between the masses on the two segments.
        expected_w1 = wasserstein_distance([0.0], [0.0, theta], v_weights=[alpha, 1 - alpha])
        p, m = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([alpha, 1 - alpha], dtype=torch.float64)
        mid = (p + m) / 2
        expected_jsd = float(0.5 * torch.special.xlogy(p, p / mid).nansum()
                             + 0.5 * torch.special.xlogy(m, m / mid).nansum())
        case = f"alpha = {alpha}, theta = {theta}"
        assert_close(f"W1 for {case}", w1, expected_w1, atol=1e-6)
        if not math.isfinite(jsd):
            raise AssertionError(f"JSD for {case}: got {jsd}; a share of 0 contributes 0 (0 log 0 = 0).")
        assert_close(f"JSD for {case}", jsd, expected_jsd, atol=1e-6)
    print("correct: W1 = (1 - alpha)|theta| shrinks as the stray mass comes closer; the JSD depends on alpha "
          "alone, log 2 at alpha = 0 whatever theta.")
    return True
