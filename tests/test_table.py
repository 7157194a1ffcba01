"""The comparison table: registered rows, the real-data, PCA and generator rows, and its
Markdown."""

import pytest
import torch
from test_evaluator import bar_images, gen

from course_lib import data, nets, table


def test_registered_rows_need_their_module():
    @table.register_row("test row present", requires="course_lib.pca")
    def present(ctx):
        return table.ModelRow(lambda n, g: torch.zeros(n, 1, 28, 28))

    @table.register_row("test row absent", requires="course_lib.no_such_recipe")
    def absent(ctx):
        raise AssertionError("never called")

    try:
        names = [spec.name for spec in table.available_rows()]
        assert "test row present" in names and "test row absent" not in names
        assert names[0].startswith("real data")
    finally:
        del table.TABLE_ROWS["test row present"], table.TABLE_ROWS["test row absent"]


def test_rows_can_be_limited_to_the_chapters_up_to_one():
    @table.register_row("test row of chapter 13", chapter=13)
    def later(ctx):
        raise AssertionError("never called")

    try:
        early = {spec.name: spec for spec in table.available_rows(up_to_chapter=11)}
        everything = {spec.name for spec in table.available_rows()}
        assert "test row of chapter 13" in everything and "test row of chapter 13" not in early
        assert "DCGAN + minibatch discrimination" in early and "DCGAN" in early  # chapter 11; no chapter
        assert all(spec.chapter is None or spec.chapter <= 11 for spec in early.values())
        assert set(early) < everything
    finally:
        del table.TABLE_ROWS["test row of chapter 13"]


def test_real_and_pca_rows_sample_unit_images():
    x, y = bar_images(1_300)
    ds = data.ImageData("fashion-mnist", [str(c) for c in range(10)], x, y, x[:50], y[:50], "unit")
    context = table.TableContext(ds=ds, schedule="smoke", device=torch.device("cpu"))
    rows = {spec.name: spec for spec in table.available_rows()}
    real = rows["real data (held-out train images vs test set)"].loader(context)
    first = real.sample(20, gen(0))
    assert first.shape == (20, 1, 28, 28) and torch.equal(first, real.sample(20, gen(0)))
    held_out = x[-1_000:]  # the images the smoke evaluator never trains on
    assert all(any(torch.equal(image, other) for other in held_out) for image in first)
    assert not any(any(torch.equal(image, other) for other in x[:300]) for image in first)
    with pytest.raises(ValueError, match="only 1000 held-out"):
        real.sample(1_001, gen(0))
    pca_row = rows["PCA sampler (k = 16)"].loader(context)
    samples = pca_row.sample(40, gen(1))
    assert samples.shape == (40, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    assert pca_row.seconds >= 0 and pca_row.device == "cpu"


def test_generator_rows_map_tanh_outputs_to_unit_images_reproducibly():
    x, y = bar_images(20)
    ds = data.ImageData("fashion-mnist", [str(c) for c in range(10)], x, y, x, y, "unit")
    context = table.TableContext(ds=ds, schedule="smoke", device=torch.device("cpu"))
    generator = nets.dcgan_generator(8).eval()
    row = table._generator_row(context, generator, {"config": {"latent_dim": 8}, "seconds": 3.0,
                                                    "device": "cpu"}, "a note")
    samples = row.sample(1500, gen(0))  # more than one chunk of 1000
    assert samples.shape == (1500, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    assert torch.equal(samples, row.sample(1500, gen(0)))
    z = torch.randn(1500, 8, generator=gen(0))
    assert torch.allclose(samples, (nets.generate(generator, z) + 1) / 2)
    assert (row.seconds, row.device, row.labels_for) == (3.0, "cpu", None)


def test_table_markdown_leaves_out_empty_columns():
    markdown = table.table_markdown({
        "a": {"is": 9.123, "fid": 1.0, "seconds": None, "device": "cpu"},
        "b": {"is": 2.0, "fid": 30.456, "seconds": 12.3, "device": "cuda"},
    })
    lines = markdown.splitlines()
    assert lines[0] == "| model | IS ↑ | FID ↓ | training (s) | device |"
    assert lines[2] == "| a | 9.12 | 1.00 | - | cpu |"
    assert lines[3] == "| b | 2.00 | 30.46 | 12 | cuda |"


def test_the_minibatch_discrimination_row_is_the_dcgan_recipe_with_one_option(monkeypatch):
    """Notebook 11's row trains (or loads) the DCGAN of the same schedule and seed as the DCGAN row,
    with only the minibatch-discrimination layer added, on the same images in [-1, 1]."""
    from course_lib import techniques

    spec = table.TABLE_ROWS["DCGAN + minibatch discrimination"]
    assert spec.requires == "course_lib.techniques" and spec in table.available_rows()
    x, y = bar_images(20)
    ds = data.ImageData("fashion-mnist", [str(c) for c in range(10)], x, y, x, y, "unit")
    context = table.TableContext(ds=ds, schedule="smoke", device=torch.device("cpu"), seed=3)
    calls = []

    def fake(kind, x_train, dataset, schedule, device, **settings):
        calls.append((kind, x_train, dataset, schedule, settings))
        return nets.dcgan_generator(8).eval(), None, {"config": {"latent_dim": 8}, "seconds": 1.0, "device": "cpu"}

    monkeypatch.setattr(techniques, "load_or_train_technique", fake)
    row = spec.loader(context)
    kind, x_train, dataset, schedule, settings = calls[0]
    assert (kind, dataset, schedule, settings["seed"]) == ("dcgan", "fashion-mnist", "smoke", 3)
    assert torch.equal(x_train, x * 2 - 1)
    assert {k: v for k, v in settings.items() if k not in ("seed", "store")} == dict(
        minibatch="discrimination", mbd_kernels=8, mbd_dim=4)
    assert row.sample(4, gen(0)).shape == (4, 1, 28, 28)
