"""Checkers for the exercises of notebook 06: the conditional GAN and ACGAN."""

import torch
import torch.nn.functional as F

from .checking import assert_close, assert_finite, assert_refuses_bad_labels, attempted


def check_label_planes(fn):
    """Exercise 06.1: fn(y, n_classes) -> (B, n_classes, 28, 28) float planes, plane y[b] of
    example b all ones and the others zeros; labels outside 0..n_classes-1 raise ValueError."""
    y = torch.tensor([2, 0, 3, 3])
    got = attempted(fn, y.clone(), 4)
    if got is None:
        return False
    expected = torch.eye(4)[y][:, :, None, None].expand(-1, -1, 28, 28)
    assert_close("label planes", torch.as_tensor(got).float(), expected, atol=0)
    assert_refuses_bad_labels(lambda bad: fn(bad, 4), 4)
    print("correct: one constant plane per class, and a clear error for a label out of range.")
    return True


def check_acgan_discriminator_loss(fn):
    """Exercise 06.2: fn(real_source, fake_source, real_class, fake_class, y_real, y_fake) ->
    -(L_S + L_C) averaged over the batch, a scalar (source logits (B,), class logits (B, K))."""
    g = torch.Generator().manual_seed(62)
    cases = [(torch.randn(6, generator=g) * 2, torch.randn(6, generator=g) * 2,
              torch.randn(6, 5, generator=g) * 2, torch.randn(6, 5, generator=g) * 2,
              torch.randint(5, (6,), generator=g), torch.randint(5, (6,), generator=g)),
             (torch.tensor([-120.0, 5.0]), torch.tensor([-80.0, 130.0]),  # sure and wrong: no log(0)
              torch.tensor([[120.0, 0.0], [0.0, 0.0]]), torch.tensor([[0.0, -110.0], [1.0, 2.0]]),
              torch.tensor([1, 0]), torch.tensor([1, 1]))]
    for i, (rs, fs, rc, fc, yr, yf) in enumerate(cases):
        got = attempted(fn, rs.clone(), fs.clone(), rc.clone(), fc.clone(), yr.clone(), yf.clone())
        if got is None:
            return False
        got = torch.as_tensor(got, dtype=torch.float64).detach().reshape(())
        assert_finite(f"case {i + 1}", got)
        expected = (F.softplus(-rs.double()).mean() + F.softplus(fs.double()).mean()
                    + F.cross_entropy(rc.double(), yr) + F.cross_entropy(fc.double(), yf))
        assert_close(f"ACGAN discriminator loss, case {i + 1}", got, expected, atol=1e-5)
    print("correct: the real-vs-fake cross-entropy plus the class cross-entropy of real AND fake images.")
    return True


def check_projection_logit(fn):
    """Exercise 06.3: fn(features (B, n_features), weight (n_features,), bias (), embedding
    (K, n_features), y (B,)) -> the projection discriminator's logits (B,):
    weight . phi(x) + bias + embedding[y] . phi(x)."""
    g = torch.Generator().manual_seed(63)
    phi, w = torch.randn(5, 7, generator=g), torch.randn(7, generator=g)
    b, emb = torch.tensor(0.3), torch.randn(4, 7, generator=g)
    y = torch.tensor([0, 3, 3, 1, 2])
    got = attempted(fn, phi.clone(), w.clone(), b.clone(), emb.clone(), y.clone())
    if got is None:
        return False
    expected = phi @ w + b + (emb[y] * phi).sum(1)
    assert_close("projection logits", torch.as_tensor(got).detach(), expected, atol=1e-5)
    print("correct: an unconditional logit plus the inner product of the class embedding and the features.")
    return True


def check_lazy_generator_value(fn):
    """Exercise 06.5: fn(n_classes) -> V(D*, G) of the conditional game for K equally likely classes
    with disjoint supports and a generator that ignores its label (draws from the data's marginal):
    log K - (1 + 1/K) log(K + 1)."""
    g = torch.Generator().manual_seed(65)
    for n_classes in (1, 2, 3, 10, 100):
        got = attempted(fn, n_classes)
        if got is None:
            return False
        # Reference by sums over a finite set: class y lives on its own three points, with weights of its own.
        within = torch.rand(n_classes, 3, generator=g, dtype=torch.float64) + 0.1
        p_x_given_y = torch.block_diag(*(w / w.sum() for w in within))  # (K, 3K): row y is p_data(. | y)
        p_x = p_x_given_y.mean(0)  # the marginal, which the lazy generator draws for every label
        total = p_x_given_y + p_x
        v = torch.xlogy(p_x_given_y, p_x_given_y / total) + torch.xlogy(p_x, p_x / total)
        assert_close(f"V(D*, G) for K = {n_classes}", float(got), v.sum(1).mean(), atol=1e-6)
    print("correct: log K - (1 + 1/K) log(K + 1): -log 4 for K = 1, rising towards 0 (the value of disjoint "
          "supports) as K grows. An unconditional discriminator would call the same generator perfect (-log 4).")
    return True
