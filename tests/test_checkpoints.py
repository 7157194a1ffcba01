import hashlib
import os

import pytest
import torch
from torch import nn

from course_lib import checkpoints
from course_lib.checkpoints import CheckpointError


def small_net(seed, hidden=5):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_round_trip_restores_identical_weights(tmp_path):
    encoder, decoder = small_net(0), small_net(1)
    path = tmp_path / "ae.pt"
    meta = {"steps": 12, "history": {"loss": [3.0, 2.5, 2.25]}, "note": "tiny", "ok": True}
    checkpoints.save_checkpoint(path, {"encoder": encoder, "decoder": decoder.state_dict()}, meta)
    fresh_encoder, fresh_decoder = small_net(2), small_net(3)
    assert not same_weights(fresh_encoder, encoder)
    checkpoint = checkpoints.load_checkpoint(path)
    checkpoints.restore({"encoder": fresh_encoder, "decoder": fresh_decoder}, checkpoint)
    assert same_weights(fresh_encoder, encoder) and same_weights(fresh_decoder, decoder)
    assert checkpoint["meta"] == meta
    x = torch.randn(4, 3)
    assert torch.equal(fresh_encoder(x), encoder(x))


def test_meta_defaults_to_empty_dict(tmp_path):
    path = tmp_path / "m.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})
    assert checkpoints.load_checkpoint(path)["meta"] == {}


def test_sha256_sidecar(tmp_path):
    path = tmp_path / "sub" / "dir" / "net.pt"  # parents are created
    digest = checkpoints.save_checkpoint(path, {"net": small_net(0)}, {"a": 1})
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == expected == checkpoints.sha256_of(path)
    sidecar = path.parent / "net.pt.sha256"
    assert sidecar.read_text() == f"{expected}  net.pt\n"  # the format sha256sum -c reads


def test_atomic_write_leaves_no_temp_files(tmp_path):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})
    checkpoints.save_checkpoint(path, {"net": small_net(1)})  # overwrite
    assert sorted(os.listdir(tmp_path)) == ["net.pt", "net.pt.sha256"]
    restored = small_net(5)
    checkpoints.restore({"net": restored}, checkpoints.load_checkpoint(path))
    assert same_weights(restored, small_net(1))


def test_failed_write_leaves_no_temp_file_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})
    before = path.read_bytes()

    def broken(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        checkpoints._atomic_write(path, broken)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["net.pt", "net.pt.sha256"]


def test_tampered_file_is_refused(tmp_path):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    with pytest.raises(CheckpointError, match="modified or is corrupt"):
        checkpoints.load_checkpoint(path)


def test_missing_sidecar_is_refused(tmp_path):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})
    (tmp_path / "net.pt.sha256").unlink()
    with pytest.raises(CheckpointError, match="net.pt.sha256"):
        checkpoints.load_checkpoint(path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError):
        checkpoints.load_checkpoint(tmp_path / "nothing.pt")


def test_restore_into_mismatched_architecture_names_the_model(tmp_path):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"encoder": small_net(0), "decoder": small_net(1)})
    checkpoint = checkpoints.load_checkpoint(path)
    with pytest.raises(CheckpointError, match="'decoder'"):
        checkpoints.restore({"encoder": small_net(2), "decoder": small_net(3, hidden=7)}, checkpoint)
    with pytest.raises(CheckpointError, match="'encoder'"):
        checkpoints.restore({"encoder": nn.Linear(3, 2)}, checkpoint)


def test_restore_missing_model_names_it(tmp_path):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"encoder": small_net(0)})
    with pytest.raises(CheckpointError, match=r"\['critic'\]"):
        checkpoints.restore({"encoder": small_net(1), "critic": small_net(2)},
                            checkpoints.load_checkpoint(path))


def test_load_or_train_trains_once_then_loads(tmp_path, capsys):
    path = tmp_path / "ae.pt"
    calls = []

    def make_train(net):
        def train():
            calls.append(1)
            with torch.no_grad():
                for p in net.parameters():
                    p.fill_(0.25)
            return {"history": {"loss": [1.0, 0.5]}, "seconds": 1.5}
        return train

    first = small_net(0)
    meta1, trained1 = checkpoints.load_or_train(path, {"net": first}, make_train(first))
    second = small_net(1)
    meta2, trained2 = checkpoints.load_or_train(path, {"net": second}, make_train(second))
    assert len(calls) == 1
    assert trained1 is True and trained2 is False
    assert meta1 == meta2 == {"history": {"loss": [1.0, 0.5]}, "seconds": 1.5}
    assert all(torch.all(p == 0.25) for p in second.parameters())
    out = capsys.readouterr().out
    assert f"saved {path}" in out and f"loaded {path}" in out


def test_checkpoint_path(isolated_course_env):
    path = checkpoints.checkpoint_path("vae", "fashion-mnist", "smoke")
    assert path.parent == isolated_course_env["checkpoints"]
    assert path == checkpoints.checkpoint_dir() / "vae-fashion-mnist-smoke.pt"
    assert "fashion-mnist" in path.name and "smoke" in path.name
    assert checkpoints.checkpoint_path("vae", "mnist", "full") != path
    assert checkpoints.checkpoint_path("vae", "fashion-mnist", "full") != path
