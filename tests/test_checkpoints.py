import hashlib
import os
import sys
from pathlib import Path

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
        checkpoints.atomic_write(path, broken)
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


def test_store_and_saved(isolated_course_env):
    assert checkpoints.Store().folder == checkpoints.checkpoint_dir() == isolated_course_env["checkpoints"]
    assert checkpoints.Store("elsewhere").folder == Path("elsewhere")
    folder = checkpoints.checkpoint_dir()
    folder.mkdir(parents=True)
    for name in ("vae-mnist-smoke-b.pt", "vae-mnist-smoke-a.pt", "vae-mnist-full-a.pt", "vae-mnist-smoke-a.pt.sha256"):
        (folder / name).write_text("")
    assert [p.name for p in checkpoints.saved("vae-mnist-smoke")] == ["vae-mnist-smoke-a.pt", "vae-mnist-smoke-b.pt"]


# ---- shared folders, interrupted saves, foreign files, damaged metadata ------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_honour_the_umask(tmp_path, umask, mode):
    """Another user can read a shared checkpoint folder (mkstemp made every file 0600)."""
    old = os.umask(umask)
    try:
        checkpoints.save_checkpoint(tmp_path / "net.pt", {"net": small_net(0)})
    finally:
        os.umask(old)
    for name in ("net.pt", "net.pt.sha256"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name


class InterruptedFile:
    """A file that raises KeyboardInterrupt once `limit` bytes were written: Ctrl-C mid-save."""

    def __init__(self, f, limit):
        self.f, self.limit, self.written = f, limit, 0

    def write(self, data):
        self.written += len(data)
        if self.written > self.limit:
            raise KeyboardInterrupt
        return self.f.write(data)

    def flush(self):
        self.f.flush()


@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.95])
def test_ctrl_c_inside_torch_save_is_an_interrupt_and_keeps_the_old_pair(tmp_path, monkeypatch,
                                                                         fraction):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0, hidden=5_000)})  # 100 kB: several writes
    limit = int(fraction * path.stat().st_size)
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, f: real_save(obj, InterruptedFile(f, limit)))
    with pytest.raises(BaseException) as err:
        checkpoints.save_checkpoint(path, {"net": small_net(1, hidden=5_000)})
    assert type(err.value) is KeyboardInterrupt, repr(err.value)  # was "RuntimeError: unexpected pos"
    assert sorted(os.listdir(tmp_path)) == ["net.pt", "net.pt.sha256"]
    restored = small_net(5, hidden=5_000)
    checkpoints.restore({"net": restored}, checkpoints.load_checkpoint(path))
    assert same_weights(restored, small_net(0, hidden=5_000))


def interrupt_at_line(n):
    """A tracer that raises KeyboardInterrupt at the n-th line run in checkpoints.py (once)."""
    count = [0]

    def local(frame, event, arg):
        if event == "line":
            count[0] += 1
            if count[0] == n:
                raise KeyboardInterrupt
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename == checkpoints.__file__ else None

    return tracer


def test_ctrl_c_at_any_line_of_a_save_never_blocks_a_later_run(tmp_path):
    """Interrupt save_checkpoint at each of its lines in turn: afterwards no temporary file is left,
    and load_or_train loads the old or the new weights, or trains again; a model is never refused as
    corrupt (before: a complete .pt beside the old or no .sha256, refused until deleted by hand)."""
    old_net, new_net, retrained = small_net(0), small_net(1), small_net(2)
    n, interrupted = 0, True
    while interrupted:
        n += 1
        folder = tmp_path / str(n)
        path = folder / "net.pt"
        checkpoints.save_checkpoint(path, {"net": old_net})
        previous = sys.gettrace()
        sys.settrace(interrupt_at_line(n))
        try:
            checkpoints.save_checkpoint(path, {"net": new_net})
            interrupted = False
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(previous)
        assert set(os.listdir(folder)) <= {"net.pt", "net.pt.sha256"}, (n, os.listdir(folder))
        try:  # where training is switched off, a lone .pt is refused as an interrupted save
            checkpoints.load_checkpoint(path)
        except CheckpointError as err:
            assert "interrupted" in str(err), (n, err)

        net = small_net(3)

        def train(net=net):
            net.load_state_dict(retrained.state_dict())
            return {}

        _, trained = checkpoints.load_or_train(path, {"net": net}, train)
        assert any(same_weights(net, m) for m in (old_net, new_net, retrained)), n
        assert trained == same_weights(net, retrained), n
        assert sorted(os.listdir(folder)) == ["net.pt", "net.pt.sha256"], n
    assert n > 20, "the tracer saw too few lines to test every step"


def test_lone_pt_is_trained_again_or_refused_under_evaluate(tmp_path, capsys):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})
    (tmp_path / "net.pt.sha256").unlink()
    with pytest.raises(CheckpointError, match="interrupted"):
        checkpoints.load_or_train(path, {"net": small_net(1)}, lambda: {}, train_missing=False)
    net = small_net(1)
    meta, trained = checkpoints.load_or_train(path, {"net": net}, lambda: {"again": True})
    assert trained and meta == {"again": True}
    assert "interrupted; training again" in capsys.readouterr().out
    assert checkpoints.load_checkpoint(path)["meta"] == {"again": True}


class Opener:
    """Unpickling this object would create a file: the marker of code run by a foreign pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def with_valid_hash(path):
    Path(f"{path}.sha256").write_text(f"{checkpoints.sha256_of(path)}  {path.name}\n")
    return path


def test_foreign_pickle_is_refused_as_not_a_course_checkpoint(tmp_path):
    """Its hash matches (whoever placed it made one), but it is refused without running its code,
    and the message says never to load it with weights_only=False (torch's own suggests it)."""
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    torch.save({"models": {}, "meta": {"x": Opener(marker)}}, path)
    with pytest.raises(CheckpointError, match="not a course checkpoint") as err:
        checkpoints.load_checkpoint(with_valid_hash(path))
    assert "never load it with weights_only=False" in str(err.value)
    assert "will likely succeed" not in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    [1, 2, 3],
    {"models": {"net": {}}},  # no meta
    {"models": {"net": {}}, "meta": [1, 2]},
    {"models": [1], "meta": {}},
    {"models": {"net": 3}, "meta": {}},
])
def test_wrong_layout_is_refused_as_not_a_course_checkpoint(tmp_path, payload):
    path = tmp_path / "odd.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="not a course checkpoint"):
        checkpoints.load_checkpoint(with_valid_hash(path))


def test_file_torch_cannot_read_is_refused(tmp_path):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})
    path.write_bytes(path.read_bytes()[:100])  # a truncated zip, re-hashed
    with pytest.raises(CheckpointError, match="delete it"):
        checkpoints.load_checkpoint(with_valid_hash(path))


def test_missing_meta_key_names_the_checkpoint_and_the_key(tmp_path):
    path = tmp_path / "net.pt"
    meta = {"seconds": 1.5, "history": {"loss": [1.0]}}
    checkpoints.save_checkpoint(path, {"net": small_net(0)}, meta)
    loaded = checkpoints.load_checkpoint(path)["meta"]
    assert loaded == meta and loaded["history"]["loss"] == [1.0] and loaded.get("device") is None
    with pytest.raises(CheckpointError, match=r"net.pt has no meta\['device'\]: it is damaged"):
        loaded["device"]
    with pytest.raises(CheckpointError, match=r"no meta\['history'\]\['kl'\]"):
        loaded["history"]["kl"]
    checkpoints.save_checkpoint(path, {"net": small_net(0)}, loaded)  # a loaded meta saves again
    assert checkpoints.load_checkpoint(path)["meta"] == meta


def test_unreadable_checkpoint_says_what_to_do(tmp_path, monkeypatch):
    path = tmp_path / "net.pt"
    checkpoints.save_checkpoint(path, {"net": small_net(0)})

    def denied(p):  # another user's 0600 file; root, running these tests, may read anything
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(checkpoints, "sha256_of", denied)
    with pytest.raises(CheckpointError, match=r"Cannot read .*net.pt \(Permission denied\).*chmod"):
        checkpoints.load_checkpoint(path)


def test_load_or_train_checks_the_folder_before_training(tmp_path):
    """An unwritable checkpoint folder is reported before training, not after it."""
    (tmp_path / "a-file").write_text("not a folder")
    calls = []
    with pytest.raises(CheckpointError, match="is a file, not a folder"):
        checkpoints.load_or_train(tmp_path / "a-file" / "net.pt", {"net": small_net(0)},
                                  lambda: calls.append(1) or {})
    assert calls == []
