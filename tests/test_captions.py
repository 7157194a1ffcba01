"""Captions from class and measured attributes (notebook 14, part 2): the grammar, the words'
truth on their images, the thresholds and the measurements on hand-made images."""

import itertools

import pytest
import torch

from course_lib import captions, data


def rectangle(width, height, intensity, left=2, top=3):
    """A (1, 1, 28, 28) image in [-1, 1]: a filled rectangle of [0, 1] intensity on black."""
    unit, left, top = torch.zeros(1, 1, 28, 28), min(left, 28 - width), min(top, 28 - height)
    unit[..., top:top + height, left:left + width] = intensity
    return unit * 2 - 1


@pytest.fixture(scope="module")
def fashion():
    return data.load_image_data("fashion-mnist", device="cpu", scale="symmetric", seed=0,
                                train_size=3000, test_size=500)


def test_measure_attributes_on_hand_made_images():
    for width, height, intensity in ((8, 10, 0.6), (20, 4, 1.0), (1, 28, 0.3), (28, 28, 0.8)):
        ink, measured_width = captions.measure_attributes(rectangle(width, height, intensity))[0]
        assert ink.item() == pytest.approx(intensity, abs=1e-6)
        assert measured_width.item() == pytest.approx(width / 28, abs=1e-6)
    two = torch.cat([rectangle(6, 6, 0.5), torch.full((1, 1, 28, 28), -1.0)])  # and a blank one
    assert torch.allclose(captions.measure_attributes(two), torch.tensor([[0.5, 6 / 28], [0.0, 0.0]]))
    faint = rectangle(10, 10, captions.OBJECT_LEVEL / 2)  # below the object level: no object
    assert torch.equal(captions.measure_attributes(faint), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="shape"):
        captions.measure_attributes(torch.zeros(2, 28, 28))


def test_every_caption_parses_back_to_its_class_and_levels():
    for dataset, label, levels, template in itertools.product(
            captions.NOUNS, range(10), itertools.product((0, 1), (0, 1)), range(len(captions.TEMPLATES))):
        text = captions.caption(label, levels, template, dataset)
        assert captions.parse(text, dataset) == (label, levels)
        assert all(word in captions.WORD_ID for word in captions.tokens(text))
        assert captions.tokenize(text)[:len(captions.tokens(text))] == [
            captions.WORD_ID[w] for w in captions.tokens(text)]
    assert captions.caption(2, (0, 1), 0, "fashion-mnist") == "a wide, dark pullover"
    assert captions.caption(9, (1, 0), 1, "fashion-mnist") == "an ankle boot that is bright and narrow"
    assert captions.caption(7, (1, 0), 2, "mnist") == "bold digit seven, narrow"


def test_parse_refuses_text_outside_the_grammar():
    for text in ("a wide, dark digit seven", "a wide, wide pullover", "a pullover", "a huge, dark coat"):
        with pytest.raises(ValueError, match="not a caption"):
            captions.parse(text, "fashion-mnist")
    with pytest.raises(ValueError, match="no captions"):
        captions.caption(0, (0, 0), 0, "cifar10")


def test_tokenize_pads_to_one_length():
    ids = captions.encode(["dark coat, wide", "an ankle boot that is bright and narrow"])
    assert ids.shape == (2, captions.MAX_LENGTH) and ids.dtype == torch.long
    assert (ids[0, 4:] == 0).all() and (ids[1] != 0).sum() == 8
    assert captions.VOCAB[0] == "<pad>" and len(set(captions.VOCAB)) == len(captions.VOCAB)


def test_thresholds_put_both_levels_in_every_class(fashion):
    thresholds = captions.attribute_thresholds(fashion.x_train, fashion.y_train)
    assert thresholds.shape == (10, 2)
    levels = captions.attribute_levels(captions.measure_attributes(fashion.x_train), fashion.y_train,
                                       thresholds)
    for c in range(10):
        share = levels[fashion.y_train == c].float().mean(0)
        assert ((share > 0.3) & (share < 0.7)).all(), (c, share)  # about half above the median


def test_every_attribute_word_matches_its_image(fashion):
    thresholds = captions.attribute_thresholds(fashion.x_train, fashion.y_train)
    x, y = fashion.x_test, fashion.y_test
    measured = captions.measure_attributes(x)
    texts = captions.random_captions(y, captions.attribute_levels(measured, y, thresholds),
                                     fashion.name, torch.Generator().manual_seed(0))
    assert len(set(texts)) > 100  # several phrasings and descriptions
    (dark, bright), (narrow, wide) = captions.WORDS["fashion-mnist"]
    for i, text in enumerate(texts):
        label, (ink, width) = captions.parse(text, fashion.name)
        assert label == y[i].item()
        words = captions.tokens(text)
        above = measured[i] > thresholds[label]
        assert (bright if above[0] else dark) in words and (wide if above[1] else narrow) in words
        assert (ink, width) == (int(above[0]), int(above[1]))


def test_all_phrasings_hold_every_template(fashion):
    thresholds = captions.attribute_thresholds(fashion.x_train, fashion.y_train)
    phrasings, levels = captions.describe_images(fashion.x_test[:5], fashion.y_test[:5], thresholds,
                                                 fashion.name)
    assert phrasings.shape == (5, len(captions.TEMPLATES), captions.MAX_LENGTH)
    for t in range(len(captions.TEMPLATES)):
        words = [captions.VOCAB[i] for i in phrasings[0, t].tolist() if i]
        expected = captions.caption(fashion.y_test[0].item(), levels[0].tolist(), t, fashion.name)
        assert words == captions.tokens(expected)
