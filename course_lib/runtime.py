"""Run-time choices shared by every notebook: schedule, device, seed (taught in notebook 00)."""

import os
import random

import numpy as np
import torch

SCHEDULES = ("smoke", "full")
DEVICES = ("cuda", "mps", "cpu")


class DeviceUnavailableError(RuntimeError):
    """A device was asked for that this machine does not have."""


def get_schedule(name=None):
    """The run length: `name`, else $COURSE_SCHEDULE, else 'full'.

    'smoke' runs every notebook in about a minute on a laptop CPU (tiny data, few steps);
    'full' is the real course.
    """
    name = name if name is not None else os.environ.get("COURSE_SCHEDULE", "full")
    name = name.strip().lower()
    if name not in SCHEDULES:
        raise ValueError(
            f"Unknown schedule {name!r}: expected one of {', '.join(SCHEDULES)} "
            "(set COURSE_SCHEDULE=smoke or COURSE_SCHEDULE=full)."
        )
    return name


def by_schedule(smoke, full, schedule=None):
    """Pick the value for the current schedule: `by_schedule(smoke=200, full=5000)`."""
    return {"smoke": smoke, "full": full}[get_schedule(schedule)]


def _available(kind):
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    return True


def get_device(name=None):
    """The device to compute on: `name`, else $COURSE_DEVICE, else CUDA, then MPS, then CPU."""
    name = name if name is not None else os.environ.get("COURSE_DEVICE", "")
    name = str(name).strip().lower()
    if not name or name == "auto":
        return torch.device(next(kind for kind in DEVICES if _available(kind)))
    kind, _, index = name.partition(":")
    if kind not in DEVICES or (index and not index.isdigit()):
        raise ValueError(
            f"Unknown device {name!r}: expected auto, {', '.join(DEVICES)} (e.g. COURSE_DEVICE=cpu)."
        )
    if not _available(kind) or (kind == "cuda" and index and int(index) >= torch.cuda.device_count()):
        raise DeviceUnavailableError(
            f"Device {name!r} was asked for but is not available on this machine; "
            "unset COURSE_DEVICE (or set it to auto) to pick the best available one."
        )
    return torch.device(name)


def seed_everything(seed):
    """Seed Python, NumPy and PyTorch (all devices) so a run can be repeated exactly.

    Returns a `torch.Generator` seeded the same way, for code that wants its own stream.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def describe_run(dataset=None, device=None, schedule=None):
    """Print and return the one line every notebook starts with: schedule, dataset, device."""
    device = device if device is not None else get_device()
    line = f"schedule: {get_schedule(schedule)} | device: {device} | torch {torch.__version__}"
    if dataset is not None:
        line = f"{line} | dataset: {dataset}"
    print(line)
    return line
