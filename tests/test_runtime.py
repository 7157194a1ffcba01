import random

import numpy as np
import pytest
import torch

from course_lib import runtime


def test_schedule_defaults_to_full():
    assert runtime.get_schedule() == "full"


def test_schedule_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_SCHEDULE", "smoke")
    assert runtime.get_schedule() == "smoke"


def test_explicit_schedule_beats_environment(monkeypatch):
    monkeypatch.setenv("COURSE_SCHEDULE", "smoke")
    assert runtime.get_schedule("full") == "full"


@pytest.mark.parametrize("raw, expected", [("SMOKE", "smoke"), (" Full ", "full"), ("sMoKe", "smoke")])
def test_schedule_is_case_insensitive(raw, expected, monkeypatch):
    assert runtime.get_schedule(raw) == expected
    monkeypatch.setenv("COURSE_SCHEDULE", raw)
    assert runtime.get_schedule() == expected


def test_unknown_schedule_lists_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_SCHEDULE", "quick")
    with pytest.raises(ValueError, match="quick") as err:
        runtime.get_schedule()
    assert "smoke" in str(err.value) and "full" in str(err.value)


def test_by_schedule_picks_the_value(monkeypatch):
    assert runtime.by_schedule(smoke=1, full=2) == 2
    assert runtime.by_schedule(smoke=1, full=2, schedule="smoke") == 1
    monkeypatch.setenv("COURSE_SCHEDULE", "smoke")
    assert runtime.by_schedule(smoke=1, full=2) == 1
    with pytest.raises(ValueError):
        runtime.by_schedule(smoke=1, full=2, schedule="medium")


def test_get_device_auto_matches_availability():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if runtime._available("mps") else "cpu")
    assert runtime.get_device().type == expected
    assert runtime.get_device("auto").type == expected


def test_get_device_cpu_from_argument_and_environment(monkeypatch):
    assert runtime.get_device("cpu") == torch.device("cpu")
    assert runtime.get_device(" CPU ") == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert runtime.get_device() == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu", "tpu", "cuda0x"])
def test_get_device_unknown_name(name):
    with pytest.raises(ValueError, match="Unknown device"):
        runtime.get_device(name)


def test_get_device_unknown_name_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "gpu")
    with pytest.raises(ValueError, match="cpu"):
        runtime.get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available on this machine")
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_get_device_cuda_unavailable(name):
    with pytest.raises(RuntimeError, match="not available"):
        runtime.get_device(name)


def _draws():
    return (torch.randn(5), np.random.rand(5), [random.random() for _ in range(5)])


def test_seed_everything_repeats_every_generator():
    gen_a = runtime.seed_everything(123)
    torch_a, np_a, py_a = _draws()
    from_gen_a = torch.randn(5, generator=gen_a)
    gen_b = runtime.seed_everything(123)
    torch_b, np_b, py_b = _draws()
    from_gen_b = torch.randn(5, generator=gen_b)
    assert torch.equal(torch_a, torch_b)
    np.testing.assert_array_equal(np_a, np_b)
    assert py_a == py_b
    assert torch.equal(from_gen_a, from_gen_b)
    runtime.seed_everything(124)
    torch_c, np_c, py_c = _draws()
    assert not torch.equal(torch_a, torch_c)
    assert not np.array_equal(np_a, np_c)
    assert py_a != py_c


def test_seed_everything_matches_the_libraries_own_seeding():
    runtime.seed_everything(7)
    got = _draws()
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    expected = _draws()
    assert torch.equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert got[2] == expected[2]


@pytest.mark.parametrize("seed", [-1, 1.5, "3"])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="non-negative"):
        runtime.seed_everything(seed)


def test_describe_run_line(capsys):
    line = runtime.describe_run(dataset="fashion-mnist", device=torch.device("cpu"), schedule="smoke")
    assert line.startswith("schedule: smoke | device: cpu | torch ")
    assert line.endswith(" | dataset: fashion-mnist")
    assert capsys.readouterr().out.strip() == line
