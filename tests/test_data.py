import gzip
import itertools
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import (
    FASHION_SYSTEM_DIR,
    idx_bytes,
    md5_bytes,
    tiny_dataset_arrays,
    write_gz_files,
    write_idx,
    write_raw_files,
)

from course_lib import data
from course_lib.data import DataIntegrityError, DataNotFoundError, DatasetSource

FILE_NAMES = list(data.SPLIT_FILES.values())


def fake_source(monkeypatch, name, md5, system_dirs=()):
    folder = data.SOURCES[name].folder
    monkeypatch.setitem(data.SOURCES, name, DatasetSource(folder=folder, md5=md5,
                                                          system_dirs=tuple(map(str, system_dirs))))


def no_download(monkeypatch):
    calls = []

    def fake(name, root):
        calls.append(name)
        return None

    monkeypatch.setattr(data, "_download", fake)
    return calls


# ---- names ------------------------------------------------------------------------------------


def test_data_root_follows_course_data(isolated_course_env, monkeypatch, tmp_path):
    assert data.data_root() == isolated_course_env["data"]
    monkeypatch.delenv("COURSE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.data_root() == Path.home() / ".cache" / "dgm-course" / "data"


@pytest.mark.parametrize("name, expected", [
    ("mnist", "mnist"), ("MNIST", "mnist"), ("fashion", "fashion-mnist"),
    ("FASHION-MNIST", "fashion-mnist"), ("Fashion_MNIST", "fashion-mnist"),
    (" fashion mnist ", "fashion-mnist"), ("fashionmnist", "fashion-mnist"),
])
def test_dataset_name_aliases(name, expected):
    assert data.dataset_name(name) == expected


def test_dataset_name_default_and_environment(monkeypatch):
    assert data.dataset_name() == "mnist"
    monkeypatch.setenv("COURSE_DATASET", "Fashion")
    assert data.dataset_name() == "fashion-mnist"


def test_dataset_name_unknown_lists_the_names():
    with pytest.raises(ValueError, match="cifar10") as err:
        data.dataset_name("cifar10")
    assert "mnist" in str(err.value) and "fashion-mnist" in str(err.value)


def test_class_names():
    fashion = data.class_names("fashion")
    assert len(fashion) == 10 and fashion[1] == "Trouser" and "Ankle boot" in fashion
    mnist = data.class_names("mnist")
    assert len(mnist) == 10 and mnist != fashion
    assert data.class_names() == mnist  # default dataset is mnist


# ---- idx files and checksums --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 28, 28), (0, 2)])
def test_read_idx_round_trip(tmp_path, shape):
    array = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    got = data.read_idx(write_idx(tmp_path / "a-idx-ubyte", array))
    assert got.dtype == np.uint8 and got.shape == shape
    np.testing.assert_array_equal(got, array)


def test_read_idx_header_is_big_endian(tmp_path):
    # 300 = 0x0000012C: read little-endian it would be 0x2C010000 and the size check would fail.
    array = np.arange(300, dtype=np.int64).astype(np.uint8)
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 1, 0x2C]) + array.tobytes())
    np.testing.assert_array_equal(data.read_idx(path), array)


@pytest.mark.parametrize("header", [
    bytes([1, 0, 8, 1]), bytes([0, 1, 8, 1]), bytes([0, 0, 9, 1]), bytes([0, 0, 0x0D, 1]),
])
def test_read_idx_bad_magic(tmp_path, header):
    path = tmp_path / "bad"
    path.write_bytes(header + (3).to_bytes(4, "big") + bytes(3))
    with pytest.raises(DataIntegrityError, match="magic"):
        data.read_idx(path)


def test_read_idx_too_short(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(bytes([0, 0]))
    with pytest.raises(DataIntegrityError):
        data.read_idx(path)


@pytest.mark.parametrize("change", [b"\x00", -1, -5])
def test_read_idx_wrong_size(tmp_path, change):
    good = idx_bytes(np.zeros((2, 3, 4), dtype=np.uint8))
    bad = good + change if isinstance(change, bytes) else good[:change]
    path = tmp_path / "bad"
    path.write_bytes(bad)
    with pytest.raises(DataIntegrityError, match="size"):
        data.read_idx(path)


def test_md5_of_matches_hashlib(tmp_path):
    payload = os.urandom(3 * (1 << 20) + 17)  # crosses the 1 MiB block boundary
    path = tmp_path / "blob"
    path.write_bytes(payload)
    assert data.md5_of(path) == md5_bytes(payload)


def test_verify_file_accepts_and_rejects(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"hello idx")
    expected = md5_bytes(b"hello idx")
    assert data.verify_file(path, expected) is None
    path.write_bytes(b"hello idy")
    with pytest.raises(DataIntegrityError, match="md5") as err:
        data.verify_file(path, expected)
    assert expected in str(err.value) and md5_bytes(b"hello idy") in str(err.value)


# ---- finding files ------------------------------------------------------------------------------


def test_find_raw_files_uses_verified_local_files(monkeypatch, tmp_path):
    raw = tmp_path / "root" / "FashionMNIST" / "raw"
    md5 = write_raw_files(raw, tiny_dataset_arrays())
    fake_source(monkeypatch, "fashion-mnist", md5)
    assert no_download(monkeypatch) == []
    assert data.find_raw_files("fashion", root=tmp_path / "root") == raw


def test_find_raw_files_uses_course_data_by_default(monkeypatch, isolated_course_env):
    raw = isolated_course_env["data"] / "FashionMNIST" / "raw"
    fake_source(monkeypatch, "fashion-mnist", write_raw_files(raw, tiny_dataset_arrays()))
    assert data.find_raw_files("fashion-mnist", download=False) == raw


def test_find_raw_files_rejects_a_corrupted_local_file(monkeypatch, tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    md5 = write_raw_files(raw, tiny_dataset_arrays())
    fake_source(monkeypatch, "fashion-mnist", md5)
    victim = raw / "t10k-labels-idx1-ubyte"
    content = bytearray(victim.read_bytes())
    content[-1] ^= 0xFF
    victim.write_bytes(bytes(content))
    with pytest.raises(DataIntegrityError, match="md5"):
        data.find_raw_files("fashion-mnist", root=tmp_path, download=False)


def test_copy_from_system_dir_decompresses_and_verifies(monkeypatch, tmp_path):
    arrays = tiny_dataset_arrays()
    system = tmp_path / "system"
    md5 = write_gz_files(system, arrays)
    fake_source(monkeypatch, "fashion-mnist", md5, [tmp_path / "nowhere", system])
    root = tmp_path / "root"
    raw = data.find_raw_files("fashion-mnist", root=root, download=False)
    assert raw == root / "FashionMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(FILE_NAMES)  # no temp files, no .gz files
    for name, array in arrays.items():
        assert (raw / name).read_bytes() == idx_bytes(array)
        assert data.md5_of(raw / name) == md5[name]
        np.testing.assert_array_equal(data.read_idx(raw / name), array)
    # The local copy now stands on its own.
    for gz in system.iterdir():
        gz.unlink()
    assert data.find_raw_files("fashion-mnist", root=root, download=False) == raw


def test_copy_from_system_dir_needs_all_four_files(monkeypatch, tmp_path):
    system = tmp_path / "system"
    md5 = write_gz_files(system, tiny_dataset_arrays())
    (system / "t10k-labels-idx1-ubyte.gz").unlink()
    fake_source(monkeypatch, "fashion-mnist", md5, [system])
    with pytest.raises(DataNotFoundError):
        data.find_raw_files("fashion-mnist", root=tmp_path / "root", download=False)


def test_copy_from_system_dir_wrong_md5(monkeypatch, tmp_path):
    system = tmp_path / "system"
    md5 = write_gz_files(system, tiny_dataset_arrays())
    fake_source(monkeypatch, "fashion-mnist", {name: "0" * 32 for name in md5}, [system])
    root = tmp_path / "root"
    with pytest.raises(DataIntegrityError, match="md5") as err:
        data.find_raw_files("fashion-mnist", root=root, download=False)
    assert str(system) in str(err.value)
    raw = root / "FashionMNIST" / "raw"
    assert not raw.exists() or os.listdir(raw) == []


def test_copy_from_system_dir_wrong_md5_late_file_leaves_only_verified_files(monkeypatch, tmp_path):
    system = tmp_path / "system"
    md5 = write_gz_files(system, tiny_dataset_arrays())
    md5["t10k-labels-idx1-ubyte"] = "f" * 32
    fake_source(monkeypatch, "fashion-mnist", md5, [system])
    root = tmp_path / "root"
    with pytest.raises(DataIntegrityError):
        data.find_raw_files("fashion-mnist", root=root, download=False)
    raw = root / "FashionMNIST" / "raw"
    left = os.listdir(raw)
    assert "t10k-labels-idx1-ubyte" not in left
    for name in left:  # whatever is left is a verified file under its final name, no temp file
        assert name in md5
        assert data.md5_of(raw / name) == md5[name]


def test_copy_from_system_dir_corrupt_gz_leaves_nothing_behind(monkeypatch, tmp_path):
    """A truncated .gz must fail as a data-integrity problem and leave no temp file in raw."""
    system = tmp_path / "system"
    md5 = write_gz_files(system, tiny_dataset_arrays())
    first = system / "train-images-idx3-ubyte.gz"
    first.write_bytes(first.read_bytes()[:-30])
    fake_source(monkeypatch, "fashion-mnist", md5, [system])
    root = tmp_path / "root"
    with pytest.raises((DataIntegrityError, EOFError, OSError)) as err:
        data.find_raw_files("fashion-mnist", root=root, download=False)
    raw = root / "FashionMNIST" / "raw"
    assert not raw.exists() or os.listdir(raw) == [], f"left behind: {os.listdir(raw)}"
    assert isinstance(err.value, DataIntegrityError), repr(err.value)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_find_raw_files_nothing_anywhere(monkeypatch, tmp_path, name):
    if name == "fashion-mnist":
        fake_source(monkeypatch, name, data.SOURCES[name].md5, [tmp_path / "no-system-copy"])
    calls = no_download(monkeypatch)
    with pytest.raises(DataNotFoundError) as err:
        data.find_raw_files(name, root=tmp_path / "root", download=False)
    message = str(err.value)
    assert calls == []  # download=False really means no download
    assert "COURSE_DATA" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "download" in message and "online" in message
    assert str(tmp_path / "root" / data.SOURCES[name].folder / "raw") in message
    assert isinstance(err.value, FileNotFoundError)


def test_find_raw_files_tries_download_last(monkeypatch, tmp_path):
    calls = no_download(monkeypatch)
    with pytest.raises(DataNotFoundError):
        data.find_raw_files("mnist", root=tmp_path)
    assert calls == ["mnist"]


# ---- loading ------------------------------------------------------------------------------------


def _fashion_only(monkeypatch, root, arrays):
    """MNIST nowhere (and no download); a synthetic Fashion-MNIST in root."""
    md5 = write_raw_files(Path(root) / "FashionMNIST" / "raw", arrays)
    fake_source(monkeypatch, "fashion-mnist", md5)
    return no_download(monkeypatch)


def test_mnist_falls_back_to_fashion_loudly(monkeypatch, isolated_course_env, capsys):
    arrays = tiny_dataset_arrays()
    calls = _fashion_only(monkeypatch, isolated_course_env["data"], arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a banner, not a warning (a warning shows file paths)
        images = data.load_image_data(device="cpu")  # default dataset: mnist
    assert calls == ["mnist"]
    assert "USING FASHION-MNIST INSTEAD" in capsys.readouterr().out
    assert images.name == "fashion-mnist"
    assert images.classes == data.class_names("fashion-mnist")
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte"]).float().unsqueeze(1) / 255
    torch.testing.assert_close(images.x_train, expected, rtol=0, atol=0)
    np.testing.assert_array_equal(images.y_test.numpy(), arrays["t10k-labels-idx1-ubyte"])


def test_a_failed_download_is_quiet_and_named_in_the_error(monkeypatch, tmp_path, capsys):
    import torchvision.datasets as tvd

    def offline(root, train, download):
        print("Downloading https://example.invalid/train-images-idx3-ubyte.gz")
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    fake_source(monkeypatch, "fashion-mnist", data.SOURCES["fashion-mnist"].md5, [tmp_path / "none"])
    monkeypatch.setattr(tvd, "FashionMNIST", offline)
    with pytest.raises(DataNotFoundError, match="here it failed: RuntimeError: Error downloading"):
        data.find_raw_files("fashion-mnist", root=tmp_path)
    assert "example.invalid" not in capsys.readouterr().out  # torchvision's chatter stays out


def test_no_fallback_when_fashion_was_asked_for(monkeypatch, tmp_path):
    fake_source(monkeypatch, "fashion-mnist", data.SOURCES["fashion-mnist"].md5, [tmp_path / "none"])
    no_download(monkeypatch)
    with pytest.raises(DataNotFoundError, match="fashion-mnist"):
        data.load_image_data("fashion-mnist", device="cpu", root=tmp_path)


def test_no_fallback_when_neither_exists_reports_mnist(monkeypatch, tmp_path):
    fake_source(monkeypatch, "fashion-mnist", data.SOURCES["fashion-mnist"].md5, [tmp_path / "none"])
    no_download(monkeypatch)
    with pytest.raises(DataNotFoundError, match="Could not find mnist"):
        data.load_image_data("mnist", device="cpu", root=tmp_path)


def test_load_image_data_synthetic_shapes_scales_and_subsets(monkeypatch, tmp_path):
    arrays = tiny_dataset_arrays(n_train=40, n_test=20)
    _fashion_only(monkeypatch, tmp_path, arrays)
    unit = data.load_image_data("fashion", device="cpu", train_size=10, test_size=5, root=tmp_path)
    assert unit.x_train.shape == (10, 1, 28, 28) and unit.x_test.shape == (5, 1, 28, 28)
    assert unit.x_train.dtype == torch.float32 and unit.y_train.dtype == torch.int64
    assert unit.scale == "unit" and "10 train / 5 test" in repr(unit)
    # Every kept image is one of the file's images, with its own label, and none twice.
    full_x = torch.from_numpy(arrays["train-images-idx3-ubyte"]).float() / 255
    full_y = torch.from_numpy(arrays["train-labels-idx1-ubyte"]).long()
    rows = [int(torch.nonzero((full_x == img[0]).all(-1).all(-1))[0]) for img in unit.x_train]
    assert len(set(rows)) == 10
    assert torch.equal(unit.y_train, full_y[rows])
    sym = data.load_image_data("fashion", device="cpu", scale="symmetric", train_size=10,
                               test_size=5, root=tmp_path)
    torch.testing.assert_close(sym.x_train, unit.x_train * 2 - 1)
    assert torch.equal(sym.y_test, unit.y_test)
    whole = data.load_image_data("fashion", device="cpu", train_size=1000, root=tmp_path)
    assert len(whole.x_train) == 40 and len(whole.x_test) == 20


def test_load_image_data_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        data.load_image_data("fashion-mnist", device="cpu", scale="zero-one")


@pytest.fixture(scope="module")
def real_fashion_root(tmp_path_factory):
    if not all((FASHION_SYSTEM_DIR / f"{name}.gz").is_file() for name in FILE_NAMES):
        pytest.skip(f"no system copy of Fashion-MNIST in {FASHION_SYSTEM_DIR}")
    return tmp_path_factory.mktemp("real-fashion")


def test_real_fashion_mnist(real_fashion_root):
    images = data.load_image_data("fashion-mnist", device="cpu", train_size=100, test_size=50,
                                  root=real_fashion_root)
    raw = real_fashion_root / "FashionMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(FILE_NAMES)  # copied, decompressed, verified
    assert images.name == "fashion-mnist" and images.classes[1] == "Trouser"
    assert images.x_train.shape == (100, 1, 28, 28) and images.x_test.shape == (50, 1, 28, 28)
    assert images.y_train.shape == (100,) and images.y_test.shape == (50,)
    assert images.x_train.dtype == torch.float32 and images.y_train.dtype == torch.int64
    assert images.x_train.min() == 0 and images.x_train.max() == 1
    assert set(images.y_train.tolist()) <= set(range(10)) and len(set(images.y_train.tolist())) > 5
    assert set(images.y_test.tolist()) <= set(range(10))


def test_real_fashion_mnist_scales_and_seeded_subsets(real_fashion_root):
    def load(**kwargs):
        return data.load_image_data("fashion-mnist", device="cpu", train_size=100, test_size=50,
                                    root=real_fashion_root, **kwargs)

    a, b, sym, other = load(seed=3), load(seed=3), load(seed=3, scale="symmetric"), load(seed=4)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, other.x_train)
    assert sym.x_train.min() == -1 and sym.x_train.max() == 1
    torch.testing.assert_close(sym.x_train, a.x_train * 2 - 1)


# ---- scaling and batches ------------------------------------------------------------------------


def test_scale_images():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8)
    torch.testing.assert_close(data.scale_images(x, "unit"), torch.tensor([0.0, 0.2, 1.0]))
    torch.testing.assert_close(data.scale_images(x, "symmetric"), torch.tensor([-1.0, -0.6, 1.0]))
    floats = torch.tensor([0.0, 0.25, 1.0])
    torch.testing.assert_close(data.scale_images(floats, "unit"), floats)
    torch.testing.assert_close(data.scale_images(floats, "symmetric"), torch.tensor([-1.0, -0.5, 1.0]))
    assert data.scale_images(x, "unit").dtype == torch.float32
    with pytest.raises(ValueError, match="scale"):
        data.scale_images(x, "minus-one-one")


@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (5, 7), (1, 1)])
def test_iterate_batches_covers_every_index_once(n, batch_size):
    x, y = torch.arange(n), torch.arange(n) * 10
    batches = list(data.iterate_batches(x, y, batch_size=batch_size, drop_last=False,
                                        generator=torch.Generator().manual_seed(0)))
    assert len(batches) == math.ceil(n / batch_size)
    assert all(len(xb) == batch_size for xb, _ in batches[:-1])
    seen = torch.cat([xb for xb, _ in batches])
    assert sorted(seen.tolist()) == list(range(n))
    for xb, yb in batches:
        assert torch.equal(yb, xb * 10)  # x and y stay paired


@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (5, 7)])
def test_iterate_batches_drop_last(n, batch_size):
    batches = list(data.iterate_batches(torch.arange(n), batch_size=batch_size, drop_last=True))
    assert len(batches) == n // batch_size
    assert all(len(b) == batch_size for b in batches)
    seen = torch.cat(batches).tolist() if batches else []
    assert len(set(seen)) == len(seen)


def test_iterate_batches_order():
    x = torch.arange(20).reshape(20, 1).float()

    def order(seed):
        g = torch.Generator().manual_seed(seed)
        return torch.cat(list(data.iterate_batches(x, batch_size=5, generator=g)))

    assert torch.equal(order(1), order(1))
    assert not torch.equal(order(1), order(2))
    plain = torch.cat(list(data.iterate_batches(x, batch_size=5, shuffle=False)))
    assert torch.equal(plain, x)


def test_iterate_batches_rejects_bad_arguments():
    with pytest.raises(ValueError, match="differ in length"):
        next(data.iterate_batches(torch.zeros(5), torch.zeros(4), batch_size=2))
    with pytest.raises(ValueError, match="batch_size"):
        next(data.iterate_batches(torch.zeros(5), batch_size=0))


def test_batch_stream_is_endless_and_reshuffles():
    n, batch_size = 10, 4  # 2 full batches per epoch, 2 items dropped each epoch
    x, y = torch.arange(n), torch.arange(n) + 100
    stream = data.batch_stream(x, y, batch_size=batch_size, generator=torch.Generator().manual_seed(0))
    batches = list(itertools.islice(stream, 12))  # 6 epochs
    assert len(batches) == 12
    epochs = []
    for xb, yb in batches:
        assert len(xb) == batch_size and torch.equal(yb, xb + 100)
    for e in range(6):
        items = torch.cat([batches[2 * e][0], batches[2 * e + 1][0]]).tolist()
        assert len(set(items)) == 2 * batch_size  # no repeats within an epoch
        epochs.append(tuple(items))
    assert len(set(epochs)) > 1  # a fresh shuffle each epoch


def test_batch_stream_batch_size_equal_to_length():
    stream = data.batch_stream(torch.arange(4), batch_size=4)
    for _ in range(3):
        assert sorted(next(stream).tolist()) == [0, 1, 2, 3]


def test_batch_stream_rejects_batch_larger_than_data():
    with pytest.raises(ValueError, match="larger than the dataset"):
        next(data.batch_stream(torch.arange(5), batch_size=6))


# ---- 2-D mixtures -------------------------------------------------------------------------------


def test_ring_modes():
    modes = data.ring_modes()
    assert modes.shape == (8, 2) and modes.dtype == torch.float32
    torch.testing.assert_close(modes.norm(dim=1), torch.ones(8))
    angles = torch.atan2(modes[:, 1].double(), modes[:, 0].double()) % (2 * math.pi)
    expected = torch.arange(8, dtype=torch.float64) * 2 * math.pi / 8
    # atan2 gives 2*pi - tiny for angle 0 at worst; compare on the circle
    gap = torch.remainder(angles - expected + math.pi, 2 * math.pi) - math.pi
    assert gap.abs().max() < 1e-6
    distances = torch.cdist(modes, modes) + torch.eye(8) * 10
    torch.testing.assert_close(distances.min(), torch.tensor(2 * math.sin(math.pi / 8)))


def test_ring_modes_other_sizes():
    modes = data.ring_modes(n_modes=5, radius=2.0)
    assert modes.shape == (5, 2)
    torch.testing.assert_close(modes.norm(dim=1), torch.full((5,), 2.0))
    torch.testing.assert_close(modes[0], torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(modes.sum(0), torch.zeros(2), atol=1e-5, rtol=0)


def test_grid_modes():
    modes = data.grid_modes()
    assert modes.shape == (25, 2)
    values = (-4.0, -2.0, 0.0, 2.0, 4.0)
    assert {tuple(p) for p in modes.tolist()} == set(itertools.product(values, values))


def test_sample_mixture_statistics():
    modes, sigma, n = data.ring_modes(), 0.05, 40_000
    points, which = data.sample_mixture(modes, n, sigma, generator=torch.Generator().manual_seed(0))
    assert points.shape == (n, 2) and which.shape == (n,)
    offsets = points - modes[which]
    assert offsets.norm(dim=1).max() < 6 * sigma
    std = offsets.std(dim=0)
    assert torch.allclose(std, torch.full((2,), sigma), rtol=0.03)  # std error ~0.4 %
    assert offsets.mean(0).abs().max() < 4 * sigma / math.sqrt(n)
    counts = torch.bincount(which, minlength=8).float()
    assert (counts - n / 8).abs().max() < 5 * math.sqrt(n / 8)


def test_sample_mixture_is_seeded():
    modes = data.grid_modes()

    def draw(seed):
        return data.sample_mixture(modes, 50, 0.1, generator=torch.Generator().manual_seed(seed))

    (pa, wa), (pb, wb), (pc, _) = draw(5), draw(5), draw(6)
    assert torch.equal(pa, pb) and torch.equal(wa, wb) and not torch.equal(pa, pc)


@pytest.mark.parametrize("sigma", [0.0, -0.1])
def test_sample_mixture_rejects_non_positive_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        data.sample_mixture(data.ring_modes(), 10, sigma)


@pytest.mark.parametrize("kind, n_modes, sigma", [("ring", 8, data.RING_SIGMA),
                                                  ("grid", 25, data.GRID_SIGMA)])
def test_toy_mixture(kind, n_modes, sigma):
    points, modes, got_sigma = data.toy_mixture(kind, 500, generator=torch.Generator().manual_seed(0))
    assert points.shape == (500, 2) and modes.shape == (n_modes, 2) and got_sigma == sigma
    nearest = torch.cdist(points, modes).min(dim=1).values
    assert nearest.max() < 6 * sigma


def test_toy_mixture_unknown_kind():
    with pytest.raises(ValueError, match="spiral"):
        data.toy_mixture("spiral", 10)


def test_gzip_helper_sanity(tmp_path):
    # the fake system copies above rely on this: .gz decompresses to exactly the idx bytes
    arrays = tiny_dataset_arrays(n_train=2, n_test=1)
    md5 = write_gz_files(tmp_path, arrays)
    for name, array in arrays.items():
        raw = gzip.decompress((tmp_path / f"{name}.gz").read_bytes())
        assert raw == idx_bytes(array) and md5_bytes(raw) == md5[name]


# ---- the data folder: file modes, interrupted decompression, unusable folders -------------------


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_decompressed_files_honour_the_umask(monkeypatch, tmp_path):
    """A data folder shared with other users stays readable (mkstemp made every file 0600)."""
    system = tmp_path / "system"
    fake_source(monkeypatch, "fashion-mnist", write_gz_files(system, tiny_dataset_arrays()), [system])
    old = os.umask(0o022)
    try:
        raw = data.find_raw_files("fashion-mnist", root=tmp_path / "root", download=False)
    finally:
        os.umask(old)
    assert {(raw / name).stat().st_mode & 0o777 for name in FILE_NAMES} == {0o644}


@pytest.mark.parametrize("when", ["while copying", "while verifying"])
def test_ctrl_c_during_decompression_leaves_no_file(monkeypatch, tmp_path, when):
    """Ctrl-C while decompressing the system copy used to leave a temporary file in raw/ for good."""
    system = tmp_path / "system"
    md5 = write_gz_files(system, tiny_dataset_arrays())
    fake_source(monkeypatch, "fashion-mnist", md5, [system])
    root = tmp_path / "root"

    def copy_then_interrupt(src, dst, *args):
        dst.write(src.read(100))  # part of the file is on disk when the interrupt comes
        raise KeyboardInterrupt

    def interrupted_md5(path):
        raise KeyboardInterrupt

    if when == "while copying":
        monkeypatch.setattr(data.shutil, "copyfileobj", copy_then_interrupt)
    else:
        monkeypatch.setattr(data, "md5_of", interrupted_md5)
    before = files_under(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        data.find_raw_files("fashion-mnist", root=root, download=False)
    assert files_under(tmp_path) == before
    monkeypatch.undo()  # a later run works as if nothing had happened
    fake_source(monkeypatch, "fashion-mnist", md5, [system])
    assert sorted(os.listdir(data.find_raw_files("fashion-mnist", root=root, download=False))) == \
        sorted(FILE_NAMES)


@pytest.mark.parametrize("root_below", ["a-file", "a-file/sub"])
def test_data_folder_that_is_a_file_is_reported(monkeypatch, tmp_path, root_below):
    system = tmp_path / "system"
    fake_source(monkeypatch, "fashion-mnist", write_gz_files(system, tiny_dataset_arrays()), [system])
    (tmp_path / "a-file").write_text("not a folder")
    before = files_under(tmp_path)
    with pytest.raises(data.DataFolderError, match="Not a directory.*set COURSE_DATA"):
        data.find_raw_files("fashion-mnist", root=tmp_path / root_below, download=False)
    assert files_under(tmp_path) == before


def test_unwritable_data_folder_is_reported(monkeypatch, tmp_path):
    system = tmp_path / "system"
    fake_source(monkeypatch, "fashion-mnist", write_gz_files(system, tiny_dataset_arrays()), [system])

    root, real_mkdir = tmp_path / "root", Path.mkdir

    def denied(folder, *args, **kwargs):  # as in a read-only folder (root, here, may write anywhere)
        if str(folder).startswith(str(root)):
            raise PermissionError(13, "Permission denied", str(folder))
        return real_mkdir(folder, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(data.DataFolderError, match="Permission denied.*COURSE_DATA"):
        data.find_raw_files("fashion-mnist", root=root, download=False)


def test_unreadable_local_file_is_reported(monkeypatch, tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    fake_source(monkeypatch, "fashion-mnist", write_raw_files(raw, tiny_dataset_arrays()))

    def denied(path):  # another user's 0600 file
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data, "md5_of", denied)
    with pytest.raises(data.DataFolderError, match="Cannot read or write .*Permission denied"):
        data.find_raw_files("fashion-mnist", root=tmp_path, download=False)
