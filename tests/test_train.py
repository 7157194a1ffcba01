import itertools
import math

import pytest
import torch

from course_lib import train
from course_lib.train import NonFiniteLossError, fit, smooth


def counting_step(batch):
    return {"loss": float(batch), "double": torch.tensor(2.0 * batch)}


def test_fit_records_one_value_per_step_per_key():
    history = fit(counting_step, itertools.count(), 7, progress=False)
    assert set(history) == {"loss", "double", "seconds"}
    assert history["loss"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert history["double"] == [2.0 * v for v in history["loss"]]
    assert all(type(v) is float for v in history["double"])  # 0-d tensors become floats
    seconds = history["seconds"]
    assert len(seconds) == 7 and seconds[0] >= 0
    assert all(b >= a for a, b in zip(seconds, seconds[1:]))
    assert type(history) is dict


def test_fit_draws_exactly_n_steps_batches():
    batches = iter(range(100))
    fit(counting_step, batches, 10, progress=False)
    assert next(batches) == 10


@pytest.mark.parametrize("every, n_steps, expected", [
    (3, 10, [2, 5, 8, 9]),
    (5, 10, [4, 9]),
    (None, 4, [3]),
    (1, 3, [0, 1, 2]),
    (20, 5, [4]),
])
def test_fit_callback_steps(every, n_steps, expected):
    calls = []

    def callback(i, history):
        calls.append(i)
        assert len(history["loss"]) == i + 1  # sees the history up to and including step i

    fit(counting_step, itertools.count(), n_steps, callback=callback, every=every, progress=False)
    assert calls == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_fit_stops_on_non_finite_loss(bad):
    def step(i):
        return {"ok": 1.0, "kl": bad if i == 4 else 0.5}

    with pytest.raises(NonFiniteLossError, match="step 4") as err:
        fit(step, itertools.count(), 10, progress=False)
    assert "'kl'" in str(err.value)
    assert isinstance(err.value, FloatingPointError)


def test_fit_stops_on_nan_tensor_loss():
    steps_run = []

    def step(i):
        steps_run.append(i)
        return {"loss": torch.tensor(float("nan")) if i == 4 else torch.tensor(1.0)}

    with pytest.raises(NonFiniteLossError, match=r"step 4: loss 'loss' is nan"):
        fit(step, itertools.count(), 10, progress=False)
    assert steps_run == [0, 1, 2, 3, 4]


def test_fit_exhausted_iterator():
    with pytest.raises(ValueError, match="ran out after 3 of 5 steps"):
        fit(counting_step, iter(range(3)), 5, progress=False)


@pytest.mark.parametrize("n_steps", [0, -1])
def test_fit_rejects_non_positive_steps(n_steps):
    with pytest.raises(ValueError, match="n_steps"):
        fit(counting_step, itertools.count(), n_steps, progress=False)


def test_fit_minimises_a_quadratic():
    # f(w) = |w - target|^2 with SGD at lr 0.1: w_t - target = 0.8^t (w_0 - target)
    target = torch.tensor([1.0, -2.0, 3.0])
    w = torch.zeros(3, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)

    def step(_):
        loss = (w - target).pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return {"loss": loss.detach()}

    history = fit(step, itertools.repeat(None), 30, progress=False)
    losses = history["loss"]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[0] == pytest.approx(14.0)
    assert losses[-1] == pytest.approx(14.0 * 0.64 ** 29, rel=1e-3)
    torch.testing.assert_close(w.detach(), target * (1 - 0.8 ** 30))


def test_fit_with_progress_bar(capsys):
    history = fit(counting_step, itertools.count(), 3, desc="unit-test", progress=True)
    assert history["loss"] == [0.0, 1.0, 2.0]


def test_losses_as_floats():
    got = train.losses_as_floats({"a": torch.tensor(1.5), "b": 2})
    assert got == {"a": 1.5, "b": 2.0} and all(type(v) is float for v in got.values())


def test_smooth_hand_computed():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert smooth(values, window=2) == pytest.approx([1.0, 1.5, 2.5, 3.5, 4.5, 5.5])
    assert smooth(values, window=3) == pytest.approx([1.0, 1.5, 2.0, 3.0, 4.0, 5.0])
    assert smooth(values, window=1) == pytest.approx(values)
    assert smooth(values, window=100) == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    assert smooth([]) == []


def test_smooth_matches_reference_running_mean():
    values = torch.randn(300, generator=torch.Generator().manual_seed(0)).tolist()
    window = 50
    reference = [sum(values[max(0, i - window + 1): i + 1]) / min(i + 1, window)
                 for i in range(len(values))]
    assert smooth(values, window) == pytest.approx(reference, abs=1e-9)


def test_fit_stops_after_the_first_step_past_max_seconds_and_calls_back():
    calls = []
    history = fit(lambda batch: {"loss": batch}, iter(range(10)), 10,
                  callback=lambda i, h: calls.append(i), max_seconds=0.0, progress=False)
    assert history["loss"] == [0.0]
    assert calls == [0]


def test_fit_modules_trains_in_train_mode_and_leaves_eval_mode_even_on_error():
    net = torch.nn.BatchNorm1d(2)
    modes = []
    train.fit_modules((net,), lambda batch: modes.append(net.training) or {"loss": 0.0}, iter(range(3)), 3,
                progress=False)
    assert modes == [True, True, True] and not net.training
    with pytest.raises(NonFiniteLossError):
        train.fit_modules((net,), lambda batch: {"loss": float("nan")}, iter(range(3)), 3, progress=False)
    assert not net.training


# ---- diverged runs (issue 17, item 6) -------------------------------------------------------------


def gan_history(n, d_loss=0.7, g_loss=2.0):
    return {"d_loss": [d_loss] * n, "g_loss": [g_loss] * n, "seconds": [0.1 * i for i in range(n)]}


def test_check_not_diverged_passes_healthy_histories():
    history = gan_history(500)
    history["g_loss"][-1] = 1e9  # one spike at the end is not a diverged run
    history["d_loss"][-10:] = [0.0] * 10  # nor a few exact zeros within a longer window
    assert train.check_not_diverged(history) is history
    assert train.check_not_diverged(gan_history(3, d_loss=1e-8)) is not None  # short runs too


@pytest.mark.parametrize("history, message", [
    (gan_history(500, g_loss=2.2e15), r"the median \|g_loss\| over the last 50 steps is 2.2e\+15, "
                                      r"beyond 1e\+06"),
    (gan_history(30, d_loss=0.0), r"d_loss was exactly 0 at each of the last 10 steps"),
    ({"critic_loss": [0.0] * 20, "seconds": [0.0] * 20}, r"critic_loss was exactly 0"),
])
def test_check_not_diverged_refuses_exploded_or_saturated_runs(history, message):
    with pytest.raises(train.DivergedTrainingError, match=message) as err:
        train.check_not_diverged(history)
    assert err.value.history == history and isinstance(err.value, FloatingPointError)


def test_check_not_diverged_bounds_the_weights():
    net = torch.nn.Linear(2, 1)
    train.check_not_diverged(gan_history(20), {"generator": net})
    with torch.no_grad():
        net.weight[0, 0] = -2e4  # a clipped WGAN's generator at lr 1e3: small losses, huge weights
    with pytest.raises(train.DivergedTrainingError, match=r"the generator's largest \|weight\| is "
                                                          r"2e\+04, beyond 1000"):
        train.check_not_diverged(gan_history(20), {"generator": net})
