"""Captions for images that have none (notebook 14, section 5): text from the class and two
measured attributes, so that a caption carries more than the label.

Attributes, measurable on any 28x28 image in [-1, 1], real or generated (`measure_attributes`):
- ink:   the mean intensity, on the [0, 1] scale, of the object's pixels (those above OBJECT_LEVEL);
- width: the mean horizontal extent of the object's rows, as a share of the 28 columns (the object
  pixels divided by the rows that hold any, over 28: a w-pixel-wide rectangle has width w / 28).
Each has two levels, split at the training set's per-class median (`attribute_thresholds`), so both
words occur in every class: level 0 ("dark", "narrow"), level 1 ("bright", "wide"); for digits the
ink words are "thin" and "bold".

Grammar: a caption is one of TEMPLATES with the class's noun phrase and the two attribute words,
chosen at random per use:

    caption  := "a" WIDTH "," INK NOUN | "a" NOUN "that is" INK "and" WIDTH
              | INK NOUN "," WIDTH | "a" NOUN "," INK "and" WIDTH
    NOUN     := the dataset's noun phrase of the class ("pullover", "digit seven", ...)

`tokenize` maps a caption to word ids of the fixed vocabulary VOCAB (0 is padding); `parse` maps
it back to (class, (ink level, width level)), refusing anything the grammar cannot produce.
"""

import re

import torch

OBJECT_LEVEL = 0.25  # a pixel belongs to the object when its [0, 1] intensity is above this
ATTRIBUTES = ("ink", "width")
NOUNS = {
    "fashion-mnist": ("t-shirt", "pair of trousers", "pullover", "dress", "coat", "sandal", "shirt",
                      "sneaker", "bag", "ankle boot"),
    "mnist": tuple(f"digit {n}" for n in ("zero", "one", "two", "three", "four", "five", "six",
                                          "seven", "eight", "nine")),
}
WORDS = {  # per dataset: (ink words, width words), each (level 0, level 1)
    "fashion-mnist": (("dark", "bright"), ("narrow", "wide")),
    "mnist": (("thin", "bold"), ("narrow", "wide")),
}
TEMPLATES = (
    "a {width}, {ink} {noun}",
    "a {noun} that is {ink} and {width}",
    "{ink} {noun}, {width}",
    "a {noun}, {ink} and {width}",
)
FILLERS = ("a", "an", "that", "is", "and", ",")


def tokens(text):
    """Lower-case words and commas: "a wide, dark coat" -> ["a", "wide", ",", "dark", "coat"]."""
    return re.findall(r"[a-z\-]+|,", text.lower())


def _vocabulary():
    words = list(FILLERS)
    for dataset, nouns in NOUNS.items():
        for phrase in (*nouns, *(w for pair in WORDS[dataset] for w in pair)):
            words += [w for w in tokens(phrase) if w not in words]
    return ("<pad>", *dict.fromkeys(words))


VOCAB = _vocabulary()
WORD_ID = {word: i for i, word in enumerate(VOCAB)}


def dataset_key(dataset):
    """"fashion-mnist" or "mnist" from a dataset name (or `ds.name`), refusing any other."""
    key = str(dataset).lower()
    if key not in NOUNS:
        raise ValueError(f"no captions for dataset {dataset!r}: known {sorted(NOUNS)}.")
    return key


# ---- measuring ------------------------------------------------------------------------------------


def measure_attributes(images):
    """(N, 1, 28, 28) images in [-1, 1] -> (N, 2) float: [ink, width] per image (module docstring).
    An image without object pixels has ink 0 and width 0. Continuous values: few ties at a median."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"expected images of shape (N, 1, H, W), got {tuple(images.shape)}.")
    unit = ((images.detach().float() + 1) / 2).clamp(0, 1)
    mask = unit > OBJECT_LEVEL
    count = mask.sum((1, 2, 3))
    ink = (unit * mask).sum((1, 2, 3)) / count.clamp(min=1)
    rows = mask.any(3).sum((1, 2))
    width = count / rows.clamp(min=1) / images.shape[3]
    return torch.stack([ink, width], dim=1).cpu()


def attribute_thresholds(images, labels, n_classes=None):
    """(n_classes, 2): the per-class median of each attribute of `images` (the training set)."""
    values, labels = measure_attributes(images), labels.cpu()
    n_classes = n_classes or int(labels.max()) + 1
    return torch.stack([values[labels == c].median(0).values for c in range(n_classes)])


def attribute_levels(attributes, labels, thresholds):
    """(N, 2) long: 1 where an attribute is above its class's threshold (the median), else 0."""
    return (attributes > thresholds[labels.cpu()]).long()


# ---- writing and reading captions ------------------------------------------------------------------


def caption(label, attributes, template, dataset):
    """The caption of class `label` with attribute levels `attributes` = (ink, width), each 0 or 1,
    written with TEMPLATES[template] in the words of `dataset`: caption(2, (0, 1), 0, "fashion-mnist")
    -> "a wide, dark pullover"."""
    key = dataset_key(dataset)
    ink_words, width_words = WORDS[key]
    ink, width = (int(a) for a in attributes)
    text = TEMPLATES[template].format(noun=NOUNS[key][int(label)], ink=ink_words[ink],
                                      width=width_words[width])
    return re.sub(r"^a (?=[aeiou])", "an ", text)  # "an ankle boot"


def random_captions(labels, levels, dataset, generator=None):
    """One caption per image, each with a template drawn at random: a list of strings."""
    picks = torch.randint(len(TEMPLATES), (len(labels),), generator=generator)
    return [caption(y, a, t, dataset) for y, a, t in zip(labels.tolist(), levels.tolist(),
                                                           picks.tolist())]


def parse(text, dataset):
    """(class, (ink level, width level)) of a caption; ValueError for text the grammar cannot make."""
    key = dataset_key(dataset)
    for label in range(len(NOUNS[key])):
        for levels in ((0, 0), (0, 1), (1, 0), (1, 1)):
            if any(text == caption(label, levels, t, key) for t in range(len(TEMPLATES))):
                return label, levels
    raise ValueError(f"{text!r} is not a caption of the grammar for {key}.")


def tokenize(text, length=None):
    """Word ids of a caption (VOCAB), padded with 0 to `length` (default: the longest caption)."""
    ids = [WORD_ID[w] for w in tokens(text)]
    length = length or MAX_LENGTH
    if len(ids) > length:
        raise ValueError(f"{text!r} has {len(ids)} tokens, more than {length}.")
    return ids + [0] * (length - len(ids))


MAX_LENGTH = max(len(tokens(caption(c, (i, w), t, d))) for d in NOUNS for c in range(10)
                 for i in (0, 1) for w in (0, 1) for t in range(len(TEMPLATES)))


def encode(texts):
    """A list of captions -> (N, MAX_LENGTH) long tensor of word ids."""
    return torch.tensor([tokenize(t) for t in texts], dtype=torch.long)


def all_phrasings(labels, levels, dataset):
    """(N, len(TEMPLATES), MAX_LENGTH) word ids: every phrasing of every image's description."""
    return torch.stack([encode([caption(y, a, t, dataset) for y, a in zip(labels.tolist(),
                                                                           levels.tolist())])
                        for t in range(len(TEMPLATES))], dim=1)


def describe_images(images, labels, thresholds, dataset):
    """(word ids of every phrasing (N, T, L), levels (N, 2)) of images with their class labels."""
    levels = attribute_levels(measure_attributes(images), labels, thresholds)
    return all_phrasings(labels.cpu(), levels, dataset), levels
