"""Checkpoints: atomic writes, a sha256 beside each file, weights-only loading, load-or-train.

A checkpoint is a dict {"models": {name: state_dict}, "meta": {...}} saved with torch.save.
Its sha256 sits beside it in `<file>.sha256`; loading refuses a file whose hash differs.
"""

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import torch


class CheckpointError(RuntimeError):
    """A checkpoint is missing its hash, was modified, or does not fit the model."""


def checkpoint_dir():
    """Where checkpoints live: $COURSE_CHECKPOINTS, else ~/.cache/dgm-course/checkpoints."""
    return Path(
        os.environ.get("COURSE_CHECKPOINTS") or Path.home() / ".cache" / "dgm-course" / "checkpoints"
    )


def checkpoint_path(name, dataset, schedule):
    """One file per model, dataset and schedule, so a smoke model never stands in for a full one."""
    return checkpoint_dir() / f"{name}-{dataset}-{schedule}.pt"


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path, write):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path, models, meta=None):
    """Save {name: nn.Module or state_dict} and a metadata dict atomically; return the sha256."""
    path = Path(path)
    states = {
        name: (m.state_dict() if isinstance(m, torch.nn.Module) else m) for name, m in models.items()
    }
    payload = {"models": states, "meta": dict(meta or {})}
    _atomic_write(path, lambda f: torch.save(payload, f))
    digest = sha256_of(path)
    _atomic_write(Path(f"{path}.sha256"), lambda f: f.write(f"{digest}  {path.name}\n".encode()))
    return digest


def load_checkpoint(path, map_location="cpu"):
    """Load a checkpoint after checking its sha256; only tensors and plain data are unpickled."""
    path, hash_file = Path(path), Path(f"{path}.sha256")
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    if not hash_file.is_file():
        raise CheckpointError(f"{path} has no {hash_file.name} beside it; refusing to load an "
                              "unverified file. Delete the checkpoint to retrain.")
    expected = hash_file.read_text().split()[0]
    actual = sha256_of(path)
    if actual != expected:
        raise CheckpointError(f"{path} was modified or is corrupt: sha256 {actual}, expected "
                              f"{expected}. Delete it (and its .sha256) to retrain.")
    return torch.load(path, map_location=map_location, weights_only=True)


def restore(models, checkpoint):
    """Copy the checkpoint's state dicts into the given modules; a mismatch says which one."""
    saved = checkpoint["models"]
    missing = sorted(set(models) - set(saved))
    if missing:
        raise CheckpointError(f"checkpoint has no weights for {missing}; it holds {sorted(saved)}.")
    for name, module in models.items():
        try:
            module.load_state_dict(saved[name])
        except RuntimeError as err:
            raise CheckpointError(f"weights for {name!r} do not fit the model: {err}") from None


_training_allowed = True


@contextmanager
def training_allowed(allowed):
    """Inside this block load_or_train trains missing models only if `allowed` (the command
    line's `evaluate` uses False: it scores checkpoints, it never trains)."""
    global _training_allowed
    previous, _training_allowed = _training_allowed, allowed
    try:
        yield
    finally:
        _training_allowed = previous


def load_or_train(path, models, train):
    """Load the models from `path` if it exists, else call `train()` and save the result.

    `train()` trains the modules in `models` in place and returns a metadata dict (history,
    timings, ...). Returns (meta, trained) where trained tells whether training ran.
    """
    path = Path(path)
    if path.exists():
        checkpoint = load_checkpoint(path)
        restore(models, checkpoint)
        print(f"loaded {path}")
        return checkpoint["meta"], False
    if not _training_allowed:
        raise CheckpointError(f"No checkpoint at {path}, and training is switched off here; "
                              "train the model first (e.g. python -m course_lib train MODEL).")
    meta = train()
    save_checkpoint(path, models, meta)
    print(f"saved {path}")
    return meta, True
