"""The command line: model names, listing, and refusing to train under `evaluate`."""

import pytest

from course_lib import __main__ as cli
from course_lib import metrics


def test_model_key_is_a_readable_slug():
    assert cli.model_key("PCA sampler (k = 16)") == "pca-sampler-k-16"
    assert cli.model_key("AE decoding z ~ N(0, I)") == "ae-decoding-z-n-0-i"


def test_every_row_has_a_distinct_key():
    keys = [cli.model_key(spec.name) for spec in metrics.available_rows()]
    assert len(keys) == len(set(keys)) and "pca-sampler-k-16" in keys


def test_list_names_every_available_row(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for spec in metrics.available_rows():
        assert spec.name in out


def test_unknown_model_lists_the_choices():
    with pytest.raises(SystemExit, match="pca-sampler-k-16"):
        cli.main(["evaluate", "no-such-model", "--schedule", "smoke", "--dataset", "fashion-mnist"])


def test_evaluate_never_trains(tmp_path, capsys, monkeypatch):
    pytest.importorskip("torchvision")
    monkeypatch.setattr(cli.os, "environ", dict(cli.os.environ))  # options write the environment
    code = cli.main(["evaluate", "pca-sampler-k-16", "--schedule", "smoke",
                     "--dataset", "fashion-mnist", "--out", str(tmp_path)])
    assert code == 2
    assert "training is switched off" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.pt")), "evaluate must not train (here: the evaluator)"
