"""Text to image (notebook 14, part 2): the text encoder, InfoNCE, GAN-CLS's matching-aware loss,
GAN-INT's interpolation, the steps and a tiny training round trip through the loader."""

import math

import pytest
import torch

from course_lib import captions, checkpoints, evaluator
from course_lib import text2image as t2i


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


def test_matching_aware_loss_by_hand():
    real_right, real_wrong, fake_right = [2.0, -1.0], [0.5, 1.5], [-0.3, 0.7]
    by_hand = (-sum(math.log(sigmoid(v)) for v in real_right) / 2  # label 1
               + 0.5 * (-sum(math.log(1 - sigmoid(v)) for v in real_wrong) / 2  # label 0
                        - sum(math.log(1 - sigmoid(v)) for v in fake_right) / 2))  # label 0
    logits = [torch.tensor(v, requires_grad=True) for v in (real_right, real_wrong, fake_right)]
    loss = t2i.matching_aware_discriminator_loss(*logits)
    assert loss.item() == pytest.approx(by_hand, rel=1e-6)
    loss.backward()  # each term's weight and label, read off the gradients
    rr, rw, fr = logits
    assert torch.allclose(rr.grad, -(1 - torch.sigmoid(rr.detach())) / 2)
    assert torch.allclose(rw.grad, 0.5 * torch.sigmoid(rw.detach()) / 2)
    assert torch.allclose(fr.grad, 0.5 * torch.sigmoid(fr.detach()) / 2)
    swapped = t2i.matching_aware_discriminator_loss(*(torch.tensor(v) for v in (real_wrong, real_right,
                                                                                fake_right)))
    assert swapped.item() != pytest.approx(by_hand)
    with pytest.raises(ValueError, match="real_wrong"):
        t2i.matching_aware_discriminator_loss(torch.zeros(3), torch.zeros(3, 1), torch.zeros(3))


def test_interpolation_stays_on_the_segment():
    g = torch.Generator().manual_seed(0)
    t1, t2 = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    assert torch.equal(t2i.interpolate_text(t1, t2, 1.0), t1)
    assert torch.equal(t2i.interpolate_text(t1, t2, 0.0), t2)
    for beta in (0.25, 0.5, 0.9):
        t = t2i.interpolate_text(t1, t2, beta)
        assert torch.allclose(t - t2, beta * (t1 - t2), atol=1e-6)  # on the line, at share beta
        gaps = (t - t1).norm(dim=1) + (t - t2).norm(dim=1)
        assert torch.allclose(gaps, (t1 - t2).norm(dim=1), atol=1e-5)  # between the two ends
    assert torch.equal(t2i.mismatched(torch.arange(4.0)[:, None]).squeeze(1), torch.tensor([3.0, 0, 1, 2]))


def test_encoders_output_unit_vectors():
    torch.manual_seed(0)
    ids = captions.encode(["a wide, dark coat", "bold digit seven, narrow", "a bag, bright and wide"])
    out = t2i.TextEncoder(text_dim=16)(ids)
    assert out.shape == (3, 16) and torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)
    images = t2i.ImageEncoder(16)(torch.rand(4, 1, 28, 28) * 2 - 1)
    assert torch.allclose(images.norm(dim=1), torch.ones(4), atol=1e-5)
    padded = torch.cat([ids[:1], torch.zeros(1, 3, dtype=torch.long)], dim=1)  # padding is ignored
    encoder = t2i.TextEncoder(text_dim=16)
    assert torch.allclose(encoder(ids[:1]), encoder(padded), atol=1e-6)


def test_info_nce_by_hand():
    v = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.6, 0.8]]), dim=1)
    t = torch.nn.functional.normalize(torch.tensor([[0.8, 0.6], [0.0, 1.0]]), dim=1)
    s = (v @ t.T) / 0.5
    rows = [-(s[i, i] - torch.logsumexp(s[i], 0)) for i in range(2)]
    cols = [-(s[i, i] - torch.logsumexp(s[:, i], 0)) for i in range(2)]
    expected = (sum(rows) / 2 + sum(cols) / 2) / 2
    assert t2i.info_nce(v, t, 0.5).item() == pytest.approx(expected.item(), rel=1e-6)


def test_pick_phrasing_takes_one_row_of_each():
    phrasings = torch.arange(3 * 4 * 2).view(3, 4, 2)
    picked = t2i.pick_phrasing(phrasings, torch.Generator().manual_seed(0))
    assert picked.shape == (3, 2)
    for i in range(3):
        assert any(torch.equal(picked[i], phrasings[i, k]) for k in range(4))


def test_the_variants_train_the_discriminator_on_their_negatives():
    torch.manual_seed(0)
    g, d = t2i.make_text_gan(noise_dim=6, text_dim=5)
    g_opt, d_opt = (torch.optim.Adam(m.parameters(), 1e-3) for m in (g, d))
    x, t = torch.rand(6, 1, 28, 28) * 2 - 1, torch.nn.functional.normalize(torch.randn(6, 5), dim=1)
    assert "d_wrong" not in t2i.text_d_step(g, d, d_opt, x, t, matching_aware=False)
    assert "d_wrong" in t2i.text_d_step(g, d, d_opt, x, t, matching_aware=True)
    calls = []
    g.register_forward_hook(lambda module, args, out: calls.append(args[1]))
    t2i.text_g_step(g, d, g_opt, t, interpolate=True, beta=0.5)
    assert len(calls) == 2 and torch.allclose(calls[1], (t + t.roll(1, 0)) / 2)
    with pytest.raises(ValueError, match="Unknown variant"):
        t2i.TextGANConfig(variant="int")


def test_load_or_train_round_trip():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(48, 1, 28, 28, generator=g) * 2 - 1, torch.arange(48) % 3
    data = t2i.captioned_data("fashion-mnist", x, y)
    assert data.phrasings.shape == (48, len(captions.TEMPLATES), captions.MAX_LENGTH)
    kwargs = dict(steps=3, batch_size=8, progress=False, text_dim=8, hidden=16)
    text, image, _ = t2i.load_or_train_text_encoder(data, "smoke", "cpu", **kwargs)
    text2, _, _ = t2i.load_or_train_text_encoder(data, "smoke", "cpu", **kwargs)
    assert len(checkpoints.saved("text_encoder-fashion-mnist-smoke")) == 1
    assert all(torch.equal(a, b) for a, b in zip(text.state_dict().values(), text2.state_dict().values()))
    found = t2i.retrieval(text, image, data)
    assert 0 <= found["class"] <= 1 and found["chance_class"] == pytest.approx(1 / 3, abs=0.01)
    embedded = t2i.EmbeddedData(data.name, x, t2i.embed_phrasings(text, data.phrasings))
    assert embedded.texts.shape == (48, len(captions.TEMPLATES), 8)
    settings = dict(steps=2, batch_size=8, progress=False, noise_dim=4)
    gen, disc, meta = t2i.load_or_train_text_gan("cls+int", embedded, "smoke", "cpu", **settings)
    gen2, disc2, meta2 = t2i.load_or_train_text_gan("cls+int", embedded, "smoke", "cpu", **settings)
    assert len(checkpoints.saved("text_gan-fashion-mnist-smoke")) == 1  # loaded, not trained again
    assert meta["config"]["variant"] == "cls+int" and meta["steps"] == 2
    for a, b in ((gen, gen2), (disc, disc2)):
        assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    z, t = torch.randn(5, 4), embedded.texts[:5, 0]
    samples = t2i.generate_from_text(gen, z, t)
    assert samples.shape == (5, 1, 28, 28) and torch.equal(samples, t2i.generate_from_text(gen2, z, t))
    scores = t2i.caption_scores(evaluator.Evaluator(num_classes=3), samples, y[:5], data.levels[:5],
                                data.thresholds)
    assert set(scores) == {"class_share", "ink_agrees", "width_agrees"}
