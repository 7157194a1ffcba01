"""The command line: model names, listing, refusing to train under `evaluate`, and one-line
errors (exit code 2, no traceback, no file left behind) for every bad invocation."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_lib import __main__ as cli
from course_lib import table


def test_model_key_is_a_readable_slug():
    assert cli.model_key("PCA sampler (k = 16)") == "pca-sampler-k-16"
    assert cli.model_key("AE decoding z ~ N(0, I)") == "ae-decoding-z-n-0-i"


def test_every_row_has_a_distinct_key():
    keys = [cli.model_key(spec.name) for spec in table.available_rows()]
    assert len(keys) == len(set(keys)) and "pca-sampler-k-16" in keys


def test_list_names_every_available_row(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for spec in table.available_rows():
        assert spec.name in out


def test_unknown_model_lists_the_choices(capsys):
    assert cli.main(["evaluate", "no-such-model", "--schedule", "smoke",
                     "--dataset", "fashion-mnist"]) == 2
    assert "pca-sampler-k-16" in capsys.readouterr().err


def test_evaluate_never_trains(tmp_path, capsys):
    pytest.importorskip("torchvision")
    environment = dict(os.environ)
    code = cli.main(["evaluate", "pca-sampler-k-16", "--schedule", "smoke",
                     "--dataset", "fashion-mnist", "--out", str(tmp_path)])
    assert code == 2
    assert dict(os.environ) == environment, "options are passed down, never written to the environment"
    assert "training is switched off" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.pt")), "evaluate must not train (here: the evaluator)"


# ---- every expected failure: one line, exit code 2, no traceback, nothing left behind -----------

BASE = ["train", "pca-sampler-k-16", "--schedule", "smoke", "--dataset", "fashion-mnist",
        "--device", "cpu"]


@pytest.fixture(scope="module")
def fashion_root(tmp_path_factory):
    """A data root holding the decompressed Fashion-MNIST files (decompressed once per module)."""
    from course_lib import data

    root = tmp_path_factory.mktemp("cli-data")
    try:
        data.find_raw_files("fashion-mnist", root=root, download=False)
    except data.DataNotFoundError:
        pytest.skip("no system copy of Fashion-MNIST")
    return root


@pytest.fixture
def cli_env(tmp_path, monkeypatch, fashion_root):
    """Data from `fashion_root`; `out` and `tmp`: this test's folders."""
    monkeypatch.setenv("COURSE_DATA", str(fashion_root))
    return {"out": tmp_path / "out", "data": fashion_root, "tmp": tmp_path}


def invoke(argv, capsys):
    """Run the command line in-process: (exit code, stderr). An escaping exception fails the test."""
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code
    except KeyboardInterrupt:  # would stop the whole test session
        pytest.fail("KeyboardInterrupt escaped the command line")
    return code, capsys.readouterr().err


def files_under(*folders):
    return sorted(str(p) for folder in folders if folder.exists() for p in folder.rglob("*"))


def evaluator_checkpoint(out, meta=None, payload=None):
    """Put a smoke evaluator checkpoint for Fashion-MNIST in `out` (its meta or whole payload
    replaced), with a matching sha256: damaged content, not a damaged file."""
    from course_lib import checkpoints, data, evaluator, recipe

    sizes = {k: evaluator.DEFAULTS["smoke"][k] for k in ("train_size", "test_size")}
    ds = data.load_image_data("fashion-mnist", device="cpu", scale="unit", seed=0, **sizes)
    run = evaluator.config(ds, "smoke")  # the config the command line asks for, so its file name
    path = recipe.checkpoint_path(evaluator.RECIPE, run, folder=out)
    good = {"test_accuracy": 0.8, "seconds": 1.0, "device": "cpu", "config": recipe.config_dict(run)}
    if payload is None:
        checkpoints.save_checkpoint(path, {"evaluator": evaluator.Evaluator(10)},
                                    good if meta is None else meta(good))
    else:
        out.mkdir(parents=True, exist_ok=True)
        torch.save(payload, path)
        Path(f"{path}.sha256").write_text(f"{checkpoints.sha256_of(path)}  {path.name}\n")
    return path


class Opener:
    """Unpickling this object would create a file: the marker of code run by a foreign pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def no_meta_key(meta):
    return {k: v for k, v in meta.items() if k != "test_accuracy"}


# (id, arguments added to BASE, environment, set-up, expected words; early: fails before any work)
BAD_INVOCATIONS = [
    ("schedule", ["--schedule", "weekly"], {}, None, "--schedule", True),
    ("dataset", ["--dataset", "cifar"], {}, None, "Unknown dataset 'cifar'", True),
    ("device-unknown", ["--device", "tpu"], {}, None, "Unknown device 'tpu'", True),
    ("device-malformed", ["--device", "cpu:x"], {}, None, "Unknown device 'cpu:x'", True),
    ("device-absent", ["--device", "mps"], {}, None, "'mps' was asked for", True),
    ("out-is-a-file", ["--out", "{tmp}/a-file"], {}, "file", "is a file", True),
    ("out-below-a-file", ["--out", "{tmp}/a-file/sub"], {}, "file", "is a file", True),
    ("out-in-proc", ["--out", "/proc/course-out"], {}, None, "cannot be written", True),
    ("samples-0", ["--samples", "0"], {}, None, "--samples", True),
    ("samples-negative", ["--samples", "-5"], {}, None, "--samples", True),
    ("samples-too-few", ["--samples", "9"], {}, None, "at least 10", True),
    ("samples-text", ["--samples", "many"], {}, None, "--samples", True),
    ("seed-negative", ["--seed", "-1"], {}, None, "--seed", True),
    ("seed-too-large", ["--seed", str(2**64)], {}, None, "--seed", True),
    ("model", ["--model-placeholder"], {}, None, "Unknown model 'no-such-model'", True),
    ("data-is-a-file", [], {"COURSE_DATA": "{tmp}/a-file"}, "file", "data folder", False),
    ("data-in-proc", [], {"COURSE_DATA": "/proc/course-data"}, None, "data folder", False),
    ("meta-missing-key", [], {}, "meta", "has no meta['test_accuracy']", False),
    ("meta-not-a-dict", [], {}, "meta-list", "not a course checkpoint", False),
    ("foreign-pickle", [], {}, "pickle", "never load it with weights_only=False", False),
    ("not-a-torch-file", [], {}, "text", "not a course checkpoint", False),
    ("unreadable-checkpoint", [], {}, "unreadable", "Cannot read", False),
    ("lone-pt-under-evaluate", ["--evaluate"], {}, "lone", "save was interrupted", False),
]


@pytest.mark.parametrize("case", BAD_INVOCATIONS, ids=[c[0] for c in BAD_INVOCATIONS])
def test_bad_invocation_is_one_line_exit_2_and_leaves_nothing(case, cli_env, capsys, monkeypatch):
    from course_lib import checkpoints, data

    name, extra, env, setup, words, early = case
    tmp, out = cli_env["tmp"], cli_env["out"]
    if "proc" in name and not Path("/proc/self").exists():
        pytest.skip("no /proc here")
    if name == "device-absent" and torch.backends.mps.is_available():
        pytest.skip("MPS is available here")
    argv = [*BASE, "--out", str(out)]
    if setup == "file":
        (tmp / "a-file").write_text("not a folder")
    elif setup == "meta":
        evaluator_checkpoint(out, meta=no_meta_key)
    elif setup == "meta-list":
        evaluator_checkpoint(out, payload={"models": {}, "meta": [1, 2]})
    elif setup == "pickle":
        evaluator_checkpoint(out, payload={"models": {}, "meta": {"x": Opener(tmp / "marker")}})
    elif setup == "text":
        path = evaluator_checkpoint(out)
        path.write_text("not a torch file")
        Path(f"{path}.sha256").write_text(f"{checkpoints.sha256_of(path)}  {path.name}\n")
    elif setup == "unreadable":  # as another user's 0600 file reads (root may read anything)
        evaluator_checkpoint(out)

        def denied(path):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(checkpoints, "sha256_of", denied)
    elif setup == "lone":
        Path(f"{evaluator_checkpoint(out)}.sha256").unlink()
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(tmp=tmp))
    if "--model-placeholder" in extra:
        argv[1], extra = "no-such-model", []
    if "--evaluate" in extra:
        argv[0], extra = "evaluate", []
    argv += [arg.format(tmp=tmp) for arg in extra]
    if early:  # a bad option must be refused before any data is loaded or model trained
        def work(*args, **kwargs):
            raise AssertionError("work began before the options were checked")

        monkeypatch.setattr(data, "load_image_data", work)
    before = files_under(tmp, cli_env["data"])

    code, err = invoke(argv, capsys)

    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in lines[0] and "Traceback" not in err
    assert files_under(tmp, cli_env["data"]) == before, "a file was left behind"
    assert not (tmp / "marker").exists(), "the foreign pickle ran code"


def test_samples_is_used_as_given(cli_env, capsys):
    """--samples 10 scores 10 samples (0 used to become 1,000 without a word)."""
    import json

    out = cli_env["out"]
    evaluator_checkpoint(out)  # an untrained evaluator: this test is about the count, not scores
    assert cli.main([*BASE, "--out", str(out), "--samples", "10"]) == 0
    scores = json.loads((out / "pca-sampler-k-16-fashion-mnist-smoke.json").read_text())
    assert scores["n"] == 10


def test_interrupt_is_reported_as_an_interrupt(cli_env, capsys, monkeypatch):
    from course_lib import evaluator

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluator, "load_evaluator", interrupted)
    code, err = invoke([*BASE, "--out", str(cli_env["out"])], capsys)
    assert code == 130 and err.strip().splitlines() == [err.strip()] and "interrupted" in err


@pytest.mark.parametrize("extra, words", [(["--samples", "0"], "--samples"),
                                          (["--device", "mps"], "'mps' was asked for")])
def test_real_command_line_prints_one_line_and_exits_2(tmp_path, extra, words):
    """The same through `python -m course_lib`, as a user runs it."""
    if "mps" in extra and torch.backends.mps.is_available():
        pytest.skip("MPS is available here")
    env = dict(os.environ, COURSE_DATA=str(tmp_path / "data"), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "course_lib", *BASE, "--out", str(tmp_path / "out"),
                           *extra], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert words in done.stderr
    assert list(tmp_path.iterdir()) == []
