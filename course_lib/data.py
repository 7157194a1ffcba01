"""Datasets: MNIST / Fashion-MNIST as on-device tensors, and 2-D Gaussian mixtures (notebook 00).

Image files are found in this order (the first that works wins):
1. local files: `<root>/<MNIST|FashionMNIST>/raw/*-ubyte`, where root is $COURSE_DATA;
2. system copies: Debian's `dataset-fashion-mnist` ships re-compressed `.gz` files under
   /usr/share/datasets/fashion-mnist; they are decompressed into the local folder and the
   *decompressed* files are verified (the `.gz` checksums differ from torchvision's);
3. torchvision's download (needs internet).
Every file is checked against the md5 of its decompressed form before it is used.
"""

import contextlib
import gzip
import hashlib
import io
import math
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import checks
from .checkpoints import atomic_write
from .runtime import get_device

SPLIT_FILES = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "test-images": "t10k-images-idx3-ubyte",
    "test-labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class DatasetSource:
    folder: str  # torchvision's folder name under the data root
    md5: dict  # md5 of each decompressed file, by file name
    system_dirs: tuple = ()


SOURCES = {
    "mnist": DatasetSource(
        folder="MNIST",
        md5={
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
    ),
    "fashion-mnist": DatasetSource(
        folder="FashionMNIST",
        md5={
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}
ALIASES = {"fashion": "fashion-mnist", "fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist"}
SCALES = ("unit", "symmetric")


class DataNotFoundError(FileNotFoundError):
    """No copy of a dataset could be found or downloaded."""


class DataIntegrityError(ValueError):
    """A data file exists but is not the file it should be (wrong checksum or header)."""


class DataFolderError(OSError):
    """The data folder cannot be used: a file where a folder should be, no permission, disk full."""


def data_root():
    """Where datasets live: $COURSE_DATA, else ~/.cache/dgm-course/data."""
    return Path(os.environ.get("COURSE_DATA") or Path.home() / ".cache" / "dgm-course" / "data")


def dataset_name(name=None):
    """The canonical dataset name: `name`, else $COURSE_DATASET, else 'mnist'."""
    name = name if name is not None else os.environ.get("COURSE_DATASET", "mnist")
    key = name.strip().lower().replace(" ", "-")
    key = ALIASES.get(key, key)
    if key not in SOURCES:
        raise ValueError(
            f"Unknown dataset {name!r}: expected one of {', '.join(SOURCES)} "
            "(set COURSE_DATASET=mnist or COURSE_DATASET=fashion-mnist)."
        )
    return key


def class_names(name=None):
    """The dataset's own class names (torchvision's), so text never hard-codes them."""
    import torchvision.datasets as tvd

    cls = tvd.MNIST if dataset_name(name) == "mnist" else tvd.FashionMNIST
    return list(cls.classes)


def md5_of(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def verify_file(path, expected_md5):
    """Raise DataIntegrityError unless `path` has the expected md5."""
    actual = md5_of(path)
    if actual != expected_md5:
        raise DataIntegrityError(
            f"{path} is corrupt or not the expected file: md5 {actual}, expected {expected_md5}. "
            "Delete it and run again to fetch a fresh copy."
        )


def _raw_dir(name, root):
    return Path(root) / SOURCES[name].folder / "raw"


def _verified_local(name, root):
    """The raw folder if all four files are there (verified), else None."""
    raw = _raw_dir(name, root)
    files = [raw / f for f in SPLIT_FILES.values()]
    if not all(f.is_file() for f in files):
        return None
    for f in files:
        verify_file(f, SOURCES[name].md5[f.name])
    return raw


def _decompress_verified(gz, target, expected_md5):
    """Decompress gz into target only if the result has the expected md5; never leave a partial file
    (atomic_write removes its temporary file on any error or Ctrl-C)."""

    def decompress(dst):
        try:
            with gzip.open(gz, "rb") as src:
                shutil.copyfileobj(src, dst)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            raise DataIntegrityError(f"system copy {gz} could not be decompressed: {err}") from None

    def verify(tmp):
        actual = md5_of(tmp)
        if actual != expected_md5:
            raise DataIntegrityError(
                f"system copy {gz} decompresses to md5 {actual}, expected {expected_md5}: the "
                "installed package is damaged; reinstall it, or use another source (see the "
                "README's Data section)."
            )

    atomic_write(target, decompress, check=verify)


def _copy_from_system(name, root):
    """Decompress a system copy (e.g. Debian's) into the local raw folder; None if there is none."""
    for system_dir in SOURCES[name].system_dirs:
        gz_files = [Path(system_dir) / f"{f}.gz" for f in SPLIT_FILES.values()]
        if not all(f.is_file() for f in gz_files):
            continue
        raw = _raw_dir(name, root)
        raw.mkdir(parents=True, exist_ok=True)
        for gz in gz_files:
            _decompress_verified(gz, raw / gz.stem, SOURCES[name].md5[gz.stem])
        return raw
    return None


class DownloadFailed(Exception):
    """torchvision could not download a dataset (offline, mirror down, ...)."""


def _download(name, root):
    """torchvision's download into the same layout. Its progress and mirror messages are kept out
    of the notebook's output; a failure raises DownloadFailed with the reason, which is reported
    only if no other copy is found (find_raw_files)."""
    import torchvision.datasets as tvd

    cls = tvd.MNIST if name == "mnist" else tvd.FashionMNIST
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            for train in (True, False):
                cls(str(root), train=train, download=True)
    except Exception as err:  # offline, mirror down, ...: report it with the alternatives
        raise DownloadFailed(" ".join(f"{type(err).__name__}: {err}".split())[:300]) from None
    return _verified_local(name, root)


def find_raw_files(name=None, root=None, download=True):
    """The folder holding the four verified, decompressed idx files of a dataset."""
    name, root = dataset_name(name), Path(root) if root is not None else data_root()
    steps = [_verified_local, _copy_from_system] + ([_download] if download else [])
    download_failure = ""
    for step in steps:
        try:
            raw = step(name, root)
        except DownloadFailed as err:
            download_failure, raw = f" (here it failed: {err})", None
        except OSError as err:  # reading or writing the data folder failed, not a missing dataset
            raise DataFolderError(
                f"Cannot read or write {err.filename or _raw_dir(name, root)} "
                f"({err.strerror or err}); the data folder must be a folder you may write: set "
                "COURSE_DATA to one (e.g. COURSE_DATA=$HOME/dgm-data)."
            ) from None
        if raw is not None:
            return raw
    system = ", ".join(SOURCES[name].system_dirs) or "none known for this dataset"
    raise DataNotFoundError(
        f"Could not find {name}. Three ways to get it:\n"
        f"  1. put the four decompressed idx files ({', '.join(SPLIT_FILES.values())}) "
        f"in {_raw_dir(name, root)} (set COURSE_DATA to use another root);\n"
        f"  2. install a system copy (searched: {system}); on Debian/Ubuntu "
        "`apt-get install dataset-fashion-mnist` provides Fashion-MNIST;\n"
        f"  3. go online: torchvision downloads it on first use{download_failure}.\n"
        "Or choose the other dataset with COURSE_DATASET=fashion-mnist or COURSE_DATASET=mnist."
    )


def read_idx(path):
    """Read an idx file (the MNIST format) into a uint8 numpy array, checking its header."""
    data = Path(path).read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataIntegrityError(f"{path} is not an unsigned-byte idx file (bad magic number).")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(data) - offset != math.prod(shape):
        raise DataIntegrityError(f"{path}: header says shape {shape} but the file size disagrees.")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def scale_images(x, scale):
    """Map uint8 pixels (or [0,1] floats) to 'unit' = [0,1] or 'symmetric' = [-1,1] floats."""
    if scale not in SCALES:
        raise ValueError(f"Unknown scale {scale!r}: expected one of {SCALES}.")
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    else:  # 0..255 floats would come out 255 times too bright
        x = checks.check_pixels(x, "unit", "images to scale", advice=(
            "Pass uint8 pixels 0..255 or floats in [0, 1]; convert 0..255 floats with "
            "x.round().to(torch.uint8).")).float()
    return x if scale == "unit" else x * 2 - 1


@dataclass
class ImageData:
    """A whole image dataset as tensors on one device: x is (N, 1, 28, 28) float, y is (N,) long."""

    name: str
    classes: list
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    scale: str

    def __repr__(self):
        return (
            f"ImageData({self.name}: {len(self.x_train)} train / {len(self.x_test)} test images "
            f"of shape {tuple(self.x_train.shape[1:])}, scale={self.scale}, "
            f"device={self.x_train.device}, {len(self.classes)} classes)"
        )


def _subset(x, y, n, generator):
    if n is None or n >= len(x):
        return x, y
    idx = torch.randperm(len(x), generator=generator)[:n]
    return x[idx], y[idx]


def _resolve_with_fallback(name, root):
    """Find the files; fall back from MNIST to a local Fashion-MNIST loudly instead of failing."""
    try:
        return name, find_raw_files(name, root)
    except DataNotFoundError as mnist_error:
        if name != "mnist":
            raise
        try:
            raw = find_raw_files("fashion-mnist", root, download=False)
        except DataNotFoundError:
            raise mnist_error from None
    banner = (
        "MNIST is not available here (offline?), but Fashion-MNIST is: USING FASHION-MNIST INSTEAD. "
        "Set COURSE_DATASET=fashion-mnist to silence this, or see the README to get MNIST."
    )
    print("!" * 80 + "\n" + banner + "\n" + "!" * 80)  # printed, not a warning: no file paths
    return "fashion-mnist", raw


def load_image_data(name=None, device=None, scale="unit", train_size=None, test_size=None,
                    seed=0, root=None):
    """Load MNIST or Fashion-MNIST onto `device` as one tensor per split.

    train_size / test_size keep a random subset (seeded), for smoke runs.
    """
    if scale not in SCALES:
        raise ValueError(f"Unknown scale {scale!r}: expected one of {SCALES}.")
    name, raw = _resolve_with_fallback(dataset_name(name), root if root is not None else data_root())
    arrays = {key: torch.from_numpy(read_idx(raw / f).copy()) for key, f in SPLIT_FILES.items()}
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = _subset(arrays["train-images"], arrays["train-labels"], train_size, generator)
    x_test, y_test = _subset(arrays["test-images"], arrays["test-labels"], test_size, generator)
    device = get_device(device) if not isinstance(device, torch.device) else device

    def images(x):
        return scale_images(x.unsqueeze(1), scale).to(device)

    return ImageData(
        name=name,
        classes=class_names(name),
        x_train=images(x_train),
        y_train=y_train.long().to(device),
        x_test=images(x_test),
        y_test=y_test.long().to(device),
        scale=scale,
    )


def iterate_batches(x, y=None, batch_size=128, shuffle=True, drop_last=True, generator=None):
    """One epoch of (x, y) batches (or x batches when y is None), drawn by index on x's device."""
    if y is not None and len(y) != len(x):
        raise ValueError(f"x and y differ in length: {len(x)} images but {len(y)} labels.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    n = len(x)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(x.device)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield x[idx] if y is None else (x[idx], y[idx])


def split_evenly(x, parts, what="parts"):
    """x split into `parts` equal minibatches (one per adversary step of a GAN iteration)."""
    if len(x) % parts:
        raise ValueError(f"the batch of {len(x)} cannot be split into {what}={parts} equal "
                         "minibatches.")
    return x.split(len(x) // parts)


def batch_stream(x, y=None, batch_size=128, generator=None):
    """Endless shuffled batches, epoch after epoch: `next(stream)` inside a step-based loop."""
    if len(x) < batch_size:
        raise ValueError(f"batch_size {batch_size} is larger than the dataset ({len(x)} items).")
    while True:
        yield from iterate_batches(x, y, batch_size, shuffle=True, drop_last=True, generator=generator)


# ---- 2-D Gaussian mixtures with known modes (notebooks 04 and 08) ---------------------------

RING_SIGMA = 0.05  # VEEGAN uses 0.01; 0.05 keeps each mode a visible blob in a scatter plot
GRID_SIGMA = 0.05


def ring_modes(n_modes=8, radius=1.0):
    """Mode centres evenly spaced on a circle. endpoint=False: 0 and 2*pi are the same angle."""
    angles = np.linspace(0, 2 * np.pi, n_modes, endpoint=False)
    return torch.tensor(np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius,
                        dtype=torch.float32)


def grid_modes(values=(-4.0, -2.0, 0.0, 2.0, 4.0)):
    """Mode centres on a square grid: every (a, b) with a, b in `values` (25 by default)."""
    v = torch.tensor(values, dtype=torch.float32)
    return torch.cartesian_prod(v, v)


def sample_mixture(modes, n, sigma, generator=None):
    """n points from an equal-weight mixture of isotropic Gaussians; returns (points, mode index)."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    which = torch.randint(len(modes), (n,), generator=generator)
    noise = torch.randn(n, modes.shape[1], generator=generator) * sigma
    return modes[which] + noise, which


def toy_mixture(kind, n, generator=None):
    """('ring' | 'grid') -> (points, modes, sigma) with the course's default spreads."""
    if kind == "ring":
        modes, sigma = ring_modes(), RING_SIGMA
    elif kind == "grid":
        modes, sigma = grid_modes(), GRID_SIGMA
    else:
        raise ValueError(f"Unknown toy mixture {kind!r}: expected 'ring' or 'grid'.")
    points, _ = sample_mixture(modes, n, sigma, generator)
    return points, modes, sigma
