"""Shared test setup: no test touches the user's home, and matplotlib never opens a window."""

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

# Agg for this process only. Not via os.environ["MPLBACKEND"]: subprocesses (e.g. Jupyter kernels
# started by the book build) would inherit it, and ipykernel then skips its inline backend, so
# notebooks would show no figures.
matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

# Tiny tensors gain nothing from intra-op threads, and two threads on a 2-core machine that is
# busy with anything else (a notebook, CI) make every small op wait on the slower core.
torch.set_num_threads(1)

FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The website, built ONCE per test session under the smoke schedule. The build is the suite's
    only run of the notebooks (each on a fresh kernel); tests/test_book.py checks each ran cleanly.

    Builds a copy of book/, so the tests never touch a real build or its execution cache. Returns
    `root` (the copied book), `html` (its book/_build/html) and `result` (the finished build process);
    the tests assert on the result, so a failed build fails them with its log.
    COURSE_TEST_BUILT_BOOK=<a book folder already built> skips the build and checks that one, e.g.
    `COURSE_TEST_BUILT_BOOK=book pytest tests/test_browser.py` after `bash scripts/build_book.sh`.
    """
    if os.environ.get("COURSE_TEST_BUILT_BOOK"):
        book = Path(os.environ["COURSE_TEST_BUILT_BOOK"]).resolve()
        done = subprocess.CompletedProcess(args=[], returncode=0, stdout="", stderr="")
        return SimpleNamespace(root=book, html=book / "_build" / "html", result=done)
    if not JUPYTER_BOOK.exists():
        pytest.skip("jupyter-book is not installed (pip install -e '.[dev]')")
    tmp = tmp_path_factory.mktemp("book-build")
    book = tmp / "book"
    shutil.copytree(ROOT / "book", book, symlinks=False, ignore=shutil.ignore_patterns("_build"))
    env = dict(os.environ, COURSE_SCHEDULE="smoke", COURSE_CHECKPOINTS=str(tmp / "ckpt"))
    env.pop("MPLBACKEND", None)  # the kernels' inline backend must draw the figures (see above)
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(book), "--warningiserror", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=3600,
    )
    return SimpleNamespace(root=book, html=book / "_build" / "html", result=result)


def build_log(result):
    """The end of a build's output, for assertion messages."""
    return result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(autouse=True)
def isolated_course_env(tmp_path, monkeypatch):
    """Point data and checkpoints at this test's tmp folder; forget the user's run choices."""
    data, checkpoints = tmp_path / "course-data", tmp_path / "course-checkpoints"
    monkeypatch.setenv("COURSE_DATA", str(data))
    monkeypatch.setenv("COURSE_CHECKPOINTS", str(checkpoints))
    for var in ("COURSE_SCHEDULE", "COURSE_DEVICE", "COURSE_DATASET"):
        monkeypatch.delenv(var, raising=False)
    return {"data": data, "checkpoints": checkpoints}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def idx_bytes(array):
    """The idx (MNIST format) encoding of a uint8 array: magic 0,0,8,ndim then big-endian dims."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write_idx(path, array):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(idx_bytes(array))
    return path


def md5_bytes(data):
    return hashlib.md5(data).hexdigest()


def tiny_dataset_arrays(n_train=12, n_test=6, seed=0):
    """Four small idx arrays laid out like MNIST's files: {file name: uint8 array}."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, (n_train,), dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, (n_test,), dtype=np.uint8),
    }


def write_raw_files(folder, arrays):
    """Write decompressed idx files into `folder`; returns {file name: md5}."""
    return {name: md5_bytes(write_idx(Path(folder) / name, a).read_bytes()) for name, a in arrays.items()}


def write_gz_files(folder, arrays):
    """Write gzip-compressed idx files (`<name>.gz`) into `folder`; returns {name: md5 of raw}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for name, a in arrays.items():
        data = idx_bytes(a)
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        md5[name] = md5_bytes(data)
    return md5
