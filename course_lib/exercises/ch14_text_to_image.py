"""Checkers for the exercises of notebook 14, part 2: text to image with GAN-CLS."""

import torch

from .checking import assert_close, attempted

OPTIMUM_CASES = ((1.0, 0.5, 0.5), (2.0, 0.0, 1.0), (0.3, 1.2, 0.1), (1.0, 0.0, 1.0), (0.0, 1.0, 1.0),
                 (0.5, 0.25, 2.0))
COUNT_CASES = ((10, 10, 10, 10), (1, 1), (5, 0, 15), (3,), (6000,) * 10, (1, 2, 3, 4, 5, 6, 7))


def matching_aware_optimum(p_right, p_wrong, p_fake):
    """The reference: D*(x, t) = p_right / (p_right + (p_wrong + p_fake) / 2)."""
    return p_right / (p_right + (p_wrong + p_fake) / 2)


def check_matching_aware_optimum(fn):
    """Exercise (derivation): fn(p_right, p_wrong, p_fake) -> the D(x, t) that minimises GAN-CLS's
    discriminator loss at one pair (x, t), given the densities of that pair as a matching real pair
    p_data(x, t), as a mismatched real pair p_data(x) p_data(t), and as a generated pair
    p_g(x | t) p_data(t)."""
    for case in OPTIMUM_CASES:
        got = attempted(fn, *case)
        if got is None:
            return False
        assert_close(f"D* at (p_right, p_wrong, p_fake) = {case}", float(got),
                     matching_aware_optimum(*case), atol=1e-6)
    print("correct: D* = p_right / (p_right + (p_wrong + p_fake) / 2). Even a perfect generator "
          "(p_fake = p_right) leaves D* = 2/3 on a pair that no mismatch produces (p_wrong = 0), "
          "and pushes D* below 1/2 where mismatched pairs are dense: D keeps judging the text.")
    return True


def false_mismatch_share(counts):
    """The reference: sum_c (n_c / N)^2."""
    p = torch.as_tensor(counts, dtype=torch.float64)
    return float(((p / p.sum()) ** 2).sum())


def check_false_mismatch_share(fn):
    """Exercise (derivation): fn(counts) -> the probability that a "wrong" caption, the caption of
    another training image drawn independently and uniformly, gives the same description as the
    image's own, when description c is held by counts[c] of the N training images."""
    for counts in COUNT_CASES:
        got = attempted(fn, list(counts))
        if got is None:
            return False
        assert_close(f"share for counts {counts[:8]}", float(got), false_mismatch_share(counts),
                     atol=1e-9)
    print("correct: P(same) = sum_c p_c^2 with p_c = n_c / N (both images of the pair fall in "
          "c). With K equally common descriptions it is 1/K: that share of GAN-CLS's 'wrong' "
          "pairs are in fact right, label noise in D's third term.")
    return True
