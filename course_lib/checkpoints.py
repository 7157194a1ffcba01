"""Checkpoints: atomic writes, a sha256 beside each file, weights-only loading, load-or-train.

A checkpoint is a dict {"models": {name: state_dict}, "meta": {...}} saved with torch.save.
Its sha256 sits beside it in `<file>.sha256`, written last: a `.pt` without it is an unfinished
save. Loading refuses a file whose hash differs. Files get the usual mode (0666 less the umask),
so a folder of pre-trained checkpoints can be shared with other users.
"""

import hashlib
import os
import pickle
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch


class CheckpointError(RuntimeError):
    """A checkpoint is missing its hash, was modified, or does not fit the model."""


class CheckpointMeta(dict):
    """A loaded checkpoint's metadata (nested dicts too): a missing key raises a CheckpointError
    naming the file, since it means the file is damaged or from another version of the course."""

    def __init__(self, items, path, where="meta"):
        super().__init__((key, CheckpointMeta(value, path, f"{where}[{key!r}]")
                          if isinstance(value, dict) else value) for key, value in items.items())
        self.path, self.where = path, where

    def __missing__(self, key):
        raise CheckpointError(f"{self.path} has no {self.where}[{key!r}]: it is damaged or was "
                              "written by another version of the course; delete it (and its "
                              ".sha256) to train the model again.")


def _plain(meta):
    """CheckpointMeta back to plain dicts, which weights-only loading accepts."""
    return {key: _plain(value) if isinstance(value, dict) else value for key, value in meta.items()}


def checkpoint_dir():
    """Where checkpoints live: $COURSE_CHECKPOINTS, else ~/.cache/dgm-course/checkpoints."""
    return Path(
        os.environ.get("COURSE_CHECKPOINTS") or Path.home() / ".cache" / "dgm-course" / "checkpoints"
    )


def saved(prefix):
    """The checkpoint files whose names start with `prefix` (e.g. "dcgan-fashion-mnist-smoke"),
    sorted: one per config that was trained."""
    return sorted(checkpoint_dir().glob(f"{prefix}-*.pt"))


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def hash_file(path):
    return Path(f"{path}.sha256")


def _interrupt_behind(err):
    """The Ctrl-C that `err` hides, if any: torch.save turns a KeyboardInterrupt into
    'RuntimeError: unexpected pos' while it closes its zip file."""
    while err is not None and not isinstance(err, KeyboardInterrupt):
        err = err.__context__
    return err


def atomic_write(path, write, check=None):
    """Write `path` via a temporary file beside it, which replaces `path` only after `write(f)` and
    `check(temporary path)` (if given) succeed: an error or Ctrl-C leaves the old file (or none) and
    no temporary file. open() honours the umask, unlike mkstemp's fixed 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "xb") as f:
            write(f)
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        interrupt = _interrupt_behind(err)
        if interrupt is not None and interrupt is not err:
            raise interrupt from None
        raise


def check_writable_folder(folder):
    """Raise CheckpointError unless files can be written in `folder` (created later if missing):
    called before training, so an unwritable folder is noticed before the work, not after."""
    folder = existing = Path(folder).absolute()
    problem = None
    try:
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if not existing.is_dir():
            problem = f"{existing} is a file, not a folder"
        else:
            with tempfile.TemporaryFile(dir=existing):  # gone when closed
                pass
    except OSError as err:  # no permission to look or to write, a read-only file system, ...
        problem = f"{existing} cannot be written ({err.strerror or err})"
    if problem:
        raise CheckpointError(f"Cannot use {folder} as the checkpoint folder: {problem}; choose a "
                              "folder you may write with --out or COURSE_CHECKPOINTS.")


def save_checkpoint(path, models, meta=None):
    """Save {name: nn.Module or state_dict} and a metadata dict atomically; return the sha256.

    The old hash goes once the new file is complete, just before it replaces the old one; the new
    hash comes last. So an interrupted save leaves the old pair or a `.pt` without a hash, which
    load_or_train treats as unfinished (never a `.pt` beside a hash that does not match it).
    """
    path = Path(path)
    states = {
        name: (m.state_dict() if isinstance(m, torch.nn.Module) else m) for name, m in models.items()
    }
    payload = {"models": states, "meta": _plain(meta or {})}
    atomic_write(path, lambda f: torch.save(payload, f),
                 check=lambda tmp: hash_file(path).unlink(missing_ok=True))
    digest = sha256_of(path)
    atomic_write(hash_file(path), lambda f: f.write(f"{digest}  {path.name}\n".encode()))
    return digest


def load_checkpoint(path, map_location="cpu"):
    """Load a checkpoint after checking its sha256; only tensors and plain data are unpickled."""
    path, sidecar = Path(path), hash_file(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    if not sidecar.is_file():
        raise CheckpointError(f"{path} has no {sidecar.name} beside it (its save was interrupted, "
                              "or only the .pt was copied); refusing to load an unverified file: "
                              "copy its .sha256 too, or delete the checkpoint to retrain.")
    try:
        expected = (sidecar.read_text().split() or ["(empty)"])[0]
        actual = sha256_of(path)
    except OSError as err:
        raise CheckpointError(f"Cannot read {err.filename or path} ({err.strerror or err}); ask "
                              "its owner to make it readable (chmod a+r), or point "
                              "COURSE_CHECKPOINTS at a folder of your own.") from None
    if actual != expected:
        raise CheckpointError(f"{path} was modified or is corrupt: sha256 {actual}, expected "
                              f"{expected}. Delete it (and its .sha256) to retrain.")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"{path} is not a course checkpoint: it holds more than tensors and "
                              "plain data (perhaps objects that run code when unpickled); never "
                              "load it with weights_only=False: delete it (and its .sha256) "
                              "and train the model again, or get it from its source.") from None
    except Exception as err:  # not a torch file at all (zip, EOF and pickle errors vary)
        raise CheckpointError(f"{path} is not a checkpoint torch can read ({type(err).__name__}); "
                              "delete it (and its .sha256) to train the model again.") from None
    return _checked_layout(path, checkpoint)


def _checked_layout(path, checkpoint):
    """The checkpoint, its meta as a CheckpointMeta, if it has the layout save_checkpoint writes."""
    models = checkpoint.get("models") if isinstance(checkpoint, dict) else None
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    if not (isinstance(models, dict) and all(isinstance(s, dict) for s in models.values())
            and isinstance(meta, dict)):
        raise CheckpointError(f"{path} is not a course checkpoint: expected a dict with 'models' "
                              "(a dict of state dicts) and 'meta' (a dict); delete it (and its "
                              ".sha256) to train the model again.")
    return {**checkpoint, "meta": CheckpointMeta(meta, path)}


def restore(models, checkpoint):
    """Copy the checkpoint's state dicts into the given modules; a mismatch says which one."""
    saved = checkpoint["models"]
    missing = sorted(set(models) - set(saved))
    if missing:
        raise CheckpointError(f"checkpoint has no weights for {missing}; it holds {sorted(saved)}.")
    for name, module in models.items():
        broken = [key for key, value in saved[name].items()  # a diverged model must not be scored
                  if torch.is_tensor(value) and value.is_floating_point()
                  and not bool(torch.isfinite(value).all())]
        if broken:
            raise CheckpointError(f"weights for {name!r} should be finite, got NaN or infinite "
                                  f"values in {broken[:3]}: the model diverged before it was saved. "
                                  "Delete the checkpoint (and its .sha256) to retrain.")
        try:
            module.load_state_dict(saved[name])
        except RuntimeError as err:
            raise CheckpointError(f"weights for {name!r} do not fit the model: {err}") from None


@dataclass(frozen=True)
class Store:
    """Where checkpoints are kept and whether a missing one may be trained: decided once, where a
    run starts (a notebook: $COURSE_CHECKPOINTS; the command line: --out, and `evaluate` never
    trains), then passed down to every load_or_train."""

    folder: Path = None
    train_missing: bool = True

    def __post_init__(self):
        object.__setattr__(self, "folder", Path(self.folder or checkpoint_dir()))


def check_config(path, stored, requested):
    """Raise CheckpointError unless the config stored in a checkpoint equals the one asked for,
    naming the settings that differ (a renamed or copied file must not stand in for another)."""
    stored = _plain(stored) if isinstance(stored, dict) else stored
    if stored == requested:
        return
    if not isinstance(stored, dict):
        raise CheckpointError(f"{path} stores no config; it was written by another version of the "
                              "course: delete it (and its .sha256) to train the model again.")
    differ = sorted(key for key in {*stored, *requested} if stored.get(key) != requested.get(key))
    shown = "; ".join(f"{key}: saved {stored.get(key)!r}, asked {requested.get(key)!r}"
                      for key in differ[:5])
    raise CheckpointError(f"{path} holds a model trained with another config ({shown}); refusing "
                          "to load it in place of the one asked for. Delete the file (and its "
                          ".sha256) to train the model that was asked for.")


def load_or_train(path, models, train, config=None, train_missing=True):
    """Load the models from `path` if it exists, else call `train()` and save the result.

    `train()` trains the modules in `models` in place and returns a metadata dict (history,
    timings, ...), which must hold `config` under "config" when one is given: a loaded
    checkpoint's stored config must then equal it. With train_missing=False a missing (or
    unfinished) checkpoint is an error instead. Returns (meta, trained), trained telling whether
    training ran.
    """
    path = Path(path)
    unfinished = path.exists() and not hash_file(path).exists()
    if path.exists() and not (unfinished and train_missing):
        checkpoint = load_checkpoint(path)
        if config is not None:
            check_config(path, checkpoint["meta"].get("config"), config)
        restore(models, checkpoint)
        print(f"loaded {path}")
        return checkpoint["meta"], False
    if not train_missing:
        raise CheckpointError(f"No checkpoint at {path}, and training is switched off here; "
                              "train the model first (e.g. python -m course_lib train MODEL).")
    if unfinished:
        print(f"{path} has no {hash_file(path).name}: its save was interrupted; training again.")
    check_writable_folder(path.parent)
    meta = train()
    save_checkpoint(path, models, meta)
    print(f"saved {path}")
    return meta, True
