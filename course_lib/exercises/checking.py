"""What every checker shares: call the learner's function, compare with a reference.

A function that still raises NotImplementedError is reported as not attempted yet, without
failing the notebook; any other exception is the learner's bug and propagates.
"""

import torch


def report_not_attempted():
    print("Not attempted yet: replace `raise NotImplementedError` with your code, then re-run.")


def attempted(fn, *args):
    """Call fn; None if it is still the NotImplementedError stub."""
    try:
        return fn(*args)
    except NotImplementedError:
        report_not_attempted()
        return None


def assert_close(name, got, expected, atol):
    """AssertionError naming `name` unless got and expected share a shape and are close."""
    got = torch.as_tensor(got, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}.")
    if not torch.allclose(got, expected, atol=atol, rtol=1e-4):
        worst = (got - expected).abs().max().item()
        raise AssertionError(f"{name}: values differ from the reference (largest gap {worst:.3g}).")


def assert_finite(name, got):
    if not torch.isfinite(torch.as_tensor(got)).all():
        raise AssertionError(f"{name}: got a non-finite value (inf or nan); work in log space "
                             "(torch.logsumexp) instead of exponentiating.")


def assert_refuses_bad_labels(call, n_classes, what="labels"):
    """AssertionError unless call(labels) raises ValueError for labels outside 0..n_classes-1
    (torch's own errors, or a silent wrap-around, do not name the valid range)."""
    for bad in ([0, n_classes], [-1, 1]):
        try:
            call(torch.tensor(bad))
        except ValueError:
            continue
        except Exception as err:
            raise AssertionError(f"{what} {bad} with {n_classes} classes raised {type(err).__name__}, "
                                 "expected a ValueError that names the valid range.") from None
        raise AssertionError(f"{what} {bad} with {n_classes} classes should raise ValueError "
                             f"(valid: 0 to {n_classes - 1}).")
