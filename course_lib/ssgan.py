"""The semi-supervised GAN (notebook 11): a K-class classifier that is also the discriminator.

Salimans et al. (2016): the discriminator outputs K class logits l_k(x); "fake" is a (K+1)-th
class whose logit is fixed at 0, so D(x) = P(real | x) = Z(x) / (Z(x) + 1), Z = sum_k exp l_k(x)
(`losses.k_plus_one_logit`). Its loss is the cross-entropy on the few labelled images plus the GAN
loss on unlabelled images and samples (`losses.ssgan_discriminator_loss`); the generator uses
feature matching on the classifier's last hidden layer. `supervised_only=True` trains the same
network on the labelled images alone (the baseline), with no generator; with `per_class=0` too, on
every training image with its label (the all-labels ceiling).

Every training item is a pair: an unlabelled image and a labelled one (the `per_class` labelled
images per class, chosen by `labelled_indices` from the seed, repeated to the length of the data),
stacked as two channels, with the labelled image's label: one `batch_stream` draws both.
"""

from dataclasses import dataclass

import torch
from torch import nn

from . import losses, recipe
from .nets import IMAGE_SHAPE, ExpectShape, eval_mode, mlp_generator, sample_noise

# Per schedule. Chosen on the selection split (evaluator.heldout_split, Fashion-MNIST, seed 0), never on
# the test set: with 1,500 steps an unsupervised weight of 0.5 (as in the paper's code) beat 1.0 and a
# learning rate of 3e-3; a wider network, hidden=(1000, 500, 250), scored higher but took twice as long.
DEFAULTS = {
    "smoke": dict(steps=60, batch_size=50),
    "full": dict(steps=1500, batch_size=100),
}


class GaussianNoise(nn.Module):
    """x + sigma * N(0, I) while training; the identity in eval mode."""

    def __init__(self, sigma):
        super().__init__()
        self.sigma = sigma

    def forward(self, x):
        return x + self.sigma * torch.randn_like(x) if self.training and self.sigma else x

    def extra_repr(self):
        return f"sigma={self.sigma}"


class Classifier(nn.Module):
    """Image (B, 1, 28, 28) -> K logits: an MLP with Gaussian noise on its input and hidden layers
    (the paper's MNIST classifier, smaller). `features(x)` is the last hidden layer."""

    def __init__(self, n_classes=10, hidden=(500, 250, 250), noise=(0.3, 0.5)):
        super().__init__()
        sizes, layers = (IMAGE_SHAPE[1] * IMAGE_SHAPE[2], *hidden), []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU(), GaussianNoise(noise[1])]
        self.body = nn.Sequential(ExpectShape(IMAGE_SHAPE, "image"), nn.Flatten(),
                                  GaussianNoise(noise[0]), *layers)
        self.head = nn.Linear(hidden[-1], n_classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))


@dataclass(frozen=True)
class SSGANConfig(recipe.RunConfig):
    """A semi-supervised GAN run (or, with supervised_only, its labelled-only baseline)."""

    n_classes: int = 10
    per_class: int = 10  # 0: every training image is labelled (the all-labels reference)
    supervised_only: bool = False
    lr: float = 1e-3
    betas: tuple = (0.5, 0.999)
    latent_dim: int = 100
    hidden: tuple = (500, 250, 250)
    noise: tuple = (0.3, 0.5)
    unsupervised_weight: float = 0.5  # the weight of the unsupervised part in the paper's code
    feature_matching: bool = True
    labelled: str = ""  # fingerprint of the labelled set (indices and labels)


def labelled_indices(y, per_class, n_classes, seed):
    """`per_class` indices of each class 0..n_classes-1 in the labels y, drawn by `seed`; every
    index when per_class is 0 (all images labelled)."""
    g = torch.Generator().manual_seed(seed)
    y = y.cpu()
    if per_class == 0:
        return torch.arange(len(y))
    chosen = []
    for k in range(n_classes):
        where = (y == k).nonzero().squeeze(1)
        if len(where) < per_class:
            raise ValueError(f"class {k} has {len(where)} images, fewer than per_class={per_class}.")
        chosen.append(where[torch.randperm(len(where), generator=g)[:per_class]])
    return torch.cat(chosen)


def pairs(config, data):
    """(pairs (N, 2, 28, 28): unlabelled image, labelled image; labels (N,)) for `batch_stream`."""
    index = labelled_indices(data.y_train, config.per_class, config.n_classes, config.seed)
    g = torch.Generator().manual_seed(config.seed + 1)
    tiled = index[torch.randint(len(index), (len(data.x_train),), generator=g)].to(data.x_train.device)
    return torch.cat([data.x_train, data.x_train[tiled]], dim=1), data.y_train[tiled]


def build(config):
    modules = {"classifier": Classifier(config.n_classes, config.hidden, config.noise)}
    if not config.supervised_only:
        modules["generator"] = mlp_generator(config.latent_dim, hidden=(256, 512))
    return modules


def optimizers(config, modules):
    return {name: torch.optim.Adam(module.parameters(), lr=config.lr, betas=tuple(config.betas))
            for name, module in modules.items()}


def update(optimizer, loss):
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def step(modules, optimizers, batch, config):
    """Supervised only: cross-entropy on the labelled images. Else one K+1 discriminator step and
    one generator step (feature matching, or the non-saturating loss through log Z)."""
    (x_pair, y), classifier = batch, modules["classifier"]
    x_unlabelled, x_labelled = x_pair[:, :1], x_pair[:, 1:]
    if config.supervised_only:
        loss = nn.functional.cross_entropy(classifier(x_labelled), y)
        update(optimizers["classifier"], loss)
        return {"supervised": loss.detach()}
    generator = modules["generator"]
    z = sample_noise(len(y), config.latent_dim, y.device)
    with torch.no_grad():
        x_fake = generator(z)
    loss, supervised, unsupervised = losses.ssgan_discriminator_loss(
        classifier(x_labelled), y, classifier(x_unlabelled), classifier(x_fake),
        config.unsupervised_weight)
    update(optimizers["classifier"], loss)
    x_fake = generator(sample_noise(len(y), config.latent_dim, y.device))
    if config.feature_matching:
        g_loss = losses.feature_matching_loss(classifier.features(x_unlabelled), classifier.features(x_fake))
    else:
        g_loss = losses.gan_generator_loss_nonsaturating(losses.k_plus_one_logit(classifier(x_fake)))
    update(optimizers["generator"], g_loss)
    return {"supervised": supervised.detach(), "unsupervised": unsupervised.detach(),
            "g_loss": g_loss.detach()}


RECIPE = recipe.Recipe("ssgan", build, optimizers, step, tensors=pairs)


@torch.no_grad()
def accuracy(classifier, x, y, batch_size=1000):
    """Fraction of images whose largest logit is the label (classifier in eval mode: no noise)."""
    with eval_mode(classifier):
        predicted = torch.cat([classifier(part).argmax(1) for part in x.split(batch_size)])
    return float((predicted == y).float().mean())


def config(data, schedule, **settings):
    """The SSGANConfig for `schedule` (DEFAULTS, then `settings`), naming the labelled set."""
    run = recipe.make_config(SSGANConfig, {"schedule": schedule, **DEFAULTS[schedule]}, data, **settings)
    index = labelled_indices(data.y_train, run.per_class, run.n_classes, run.seed)
    chosen = torch.stack([index, data.y_train.cpu()[index]]).float()
    return recipe.make_config(SSGANConfig, {"schedule": schedule, **DEFAULTS[schedule]}, data,
                              labelled=recipe.fingerprint(chosen), **settings)


def load_or_train_ssgan(x_train, y_train, dataset, schedule, device, seed=0, progress=True,
                        store=None, **settings):
    """The semi-supervised classifier (or, with supervised_only=True, the baseline) trained on
    x_train (images in [-1, 1]) with `per_class` labels per class taken from y_train; loaded from
    its checkpoint when one exists. Returns (classifier, generator or None, meta), in eval mode."""
    data = recipe.RunData(dataset, x_train, y_train)
    modules, meta = recipe.load_or_train(RECIPE, config(data, schedule, seed=seed, **settings), data,
                                         device, snapshots=0, progress=progress, store=store)
    return modules["classifier"], modules.get("generator"), meta
