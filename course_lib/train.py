"""A small fit loop around a one-step function (notebook 01 shows it; every chapter uses it)."""

import math
import time
from collections import defaultdict

import torch
from tqdm.auto import tqdm


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite: training stops instead of silently producing garbage."""


class DivergedTrainingError(FloatingPointError):
    """Training ended with finite but exploded losses or a saturated adversary: the model is
    garbage, so it must not be saved. `history` keeps the losses to look at."""

    def __init__(self, message, history=None):
        super().__init__(message)
        self.history = history


# At learning rate 1e3 a GAN ends with losses of 1e8 to 1e17 (healthy full runs: at most 30, a
# WGAN-GP's generator loss), or with the discriminator's loss exactly 0: a float32 cross-entropy is 0
# only for logits beyond about 100, where no gradient reaches the generator (a critic's loss is 0
# only when the critic is constant). A clipped WGAN's losses stay small while its generator's
# weights reach 1e4, so weights are bounded too: Adam and RMSprop move a weight by about lr per
# step; healthy full runs (up to 5,000 steps, lr <= 1e-3) end with every |weight| below 1.4.
LOSS_BOUND = 1e6
SATURATING_LOSSES = ("d_loss", "critic_loss")
WEIGHT_BOUND = 1e3


def _diverged(message, history):
    return DivergedTrainingError(f"training diverged: {message}, so the model was not saved. Train "
                                 "again with lower learning rates.", dict(history))


def check_not_diverged(history, models=None, bound=LOSS_BOUND, saturating=SATURATING_LOSSES,
                       weight_bound=WEIGHT_BOUND, min_window=10):
    """Raise DivergedTrainingError if, over the last tenth of the steps (at least `min_window`),
    the median |value| of some entry of the history exceeds `bound`, or a loss named in
    `saturating` is exactly 0 at every step, or (with `models`, a dict name -> module) some
    parameter exceeds `weight_bound` in absolute value. Returns the history otherwise."""
    n = len(history["seconds"])
    window = min(n, max(min_window, n // 10))
    for name, values in history.items():
        last = sorted(abs(v) for v in values[-window:])
        if name == "seconds" or not last:
            continue
        median = last[len(last) // 2]
        if median > bound:
            raise _diverged(f"the median |{name}| over the last {window} steps is {median:.3g}, "
                            f"beyond {bound:g}", history)
        if name in saturating and last[-1] == 0:
            raise _diverged(f"{name} was exactly 0 at each of the last {window} steps (a "
                            "saturated adversary gives the generator no gradient)", history)
    for name, module in (models or {}).items():
        largest = max((float(p.detach().abs().max()) for p in module.parameters()), default=0.0)
        if largest > weight_bound:
            raise _diverged(f"the {name}'s largest |weight| is {largest:.3g}, beyond "
                            f"{weight_bound:g}", history)
    return history


def fit(step, batches, n_steps, callback=None, every=None, desc="training", progress=True,
        max_seconds=None):
    """Run `step(batch)` for `n_steps` batches drawn from the iterator `batches`.

    `step` does one optimisation step and returns a dict of scalar losses (floats or 0-d
    tensors). Returns the history: a dict of lists, one entry per step, plus 'seconds' (the
    wall time since the start). `callback(step_index, history)` runs every `every` steps and
    after the last one, e.g. to draw a sample grid. `max_seconds` ends training early, after the
    first step that finishes past that much wall time (for comparisons at equal training time);
    the history then has fewer than `n_steps` entries.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}.")
    history = defaultdict(list)
    start = time.perf_counter()
    bar = tqdm(range(n_steps), desc=desc, disable=not progress, mininterval=0.5)
    for i in bar:
        try:
            batch = next(batches)
        except StopIteration:
            raise ValueError(
                f"the batch iterator ran out after {i} of {n_steps} steps; pass an endless "
                "one such as data.batch_stream(...)."
            ) from None
        losses = step(batch)
        record(history, losses, i)
        history["seconds"].append(time.perf_counter() - start)
        last = i == n_steps - 1 or (max_seconds is not None and history["seconds"][-1] > max_seconds)
        if i % 20 == 0 or last:
            bar.set_postfix({k: f"{v:.4g}" for k, v in losses_as_floats(losses).items()})
        if callback is not None and ((every and (i + 1) % every == 0) or last):
            callback(i, history)
        if last:
            break
    bar.close()
    return dict(history)


def record(history, losses, i):
    """Append step i's losses to the history, as floats; a NaN or infinite one stops training."""
    for name, value in losses.items():
        value = float(value)
        if not math.isfinite(value):
            raise NonFiniteLossError(f"step {i}: loss {name!r} is {value}. Training stopped; try a "
                                     "lower learning rate, check the inputs' range, or look at the "
                                     "step function.")
        history[name].append(value)


def fit_modules(modules, step, batches, n_steps, **kwargs):
    """`fit` with every module of `modules` in training mode, and in eval mode afterwards (also
    when training stops with an error), so batch norm uses running statistics when sampling."""
    for module in modules:
        module.train()
    try:
        return fit(step, batches, n_steps, **kwargs)
    finally:
        for module in modules:
            module.eval()


def losses_as_floats(losses):
    return {name: float(value) for name, value in losses.items()}


def smooth(values, window=50):
    """Running mean over the last `window` values (for readable loss curves)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


class Snapshots:
    """Sample grids kept during training (every recipe's load_or_train_* uses it).

    Pass `callback` and `every` to a train function; `draw()` returns the grid, e.g. G(z_fixed).
    `as_dict()` gives {"steps": [...], "seconds": [...], "images": (n, ...) tensor} for the meta.
    With n = 0 nothing is kept (callback and every are None).
    """

    def __init__(self, draw, steps, n):
        self.draw = draw
        self.every = max(1, steps // n) if n else None
        self.callback = self.keep if n else None
        self.steps, self.seconds, self.images = [], [], []

    def keep(self, i, history):
        self.steps.append(i + 1)
        self.seconds.append(history["seconds"][-1])
        self.images.append(self.draw().cpu())

    def as_dict(self):
        images = torch.stack(self.images) if self.images else torch.empty(0)
        return {"steps": self.steps, "seconds": self.seconds, "images": images}
