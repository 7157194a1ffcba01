"""The recipe skeleton: one train / load_or_train for every model, self-describing checkpoints.

For every model family, a checkpoint is loaded only for exactly the config it was trained with:
other settings, another seed or other training data train (and save) their own model, and a file
renamed to stand in for another config is refused.
"""

import shutil
from types import SimpleNamespace

import pytest
import torch

from course_lib import (
    autoencoders,
    cgan,
    checkpoints,
    cvae,
    evaluator,
    gan,
    infogan,
    recipe,
    vae,
    wgan,
)


def images(n=32, seed=0, symmetric=True):
    x = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    return x * 2 - 1 if symmetric else x


def labels(n=32):
    return torch.arange(n) % 4


def tiny_labelled_data(x):
    """Images in [0, 1] with labels and a test split, as an evaluator trains on."""
    unit = (x + 1) / 2
    return SimpleNamespace(name="tiny", x_train=unit, y_train=labels(len(x)), x_test=unit[:8],
                           y_test=labels(8), classes=list("abcd"))


def load_evaluator_on(x, seed, **settings):
    data = tiny_labelled_data(x)
    run = evaluator.config(data, "smoke", seed=seed, heldout=8, **settings)
    return recipe.load_or_train(evaluator.RECIPE, run, data, "cpu", snapshots=0, progress=False)[1]


# Each family: (prefix of its checkpoint names, load(x, seed, **settings) -> meta, a setting to change)
FAMILIES = {
    "gan": ("dcgan-tiny-smoke", lambda x, seed, **s: gan.load_or_train_gan(
        "dcgan", x, "tiny", "smoke", "cpu", seed=seed, progress=False, snapshots=0, **s)[2],
        {"lr_g": 5e-4}),
    "wgan": ("wgan-gp-tiny-smoke", lambda x, seed, **s: wgan.load_or_train_wgan(
        "gp", x, "tiny", "smoke", "cpu", seed=seed, progress=False, snapshots=0, **s)[2],
        {"gp_weight": 1.0}),
    "cgan": ("cgan-tiny-smoke", lambda x, seed, **s: cgan.load_or_train_cgan(
        x, labels(len(x)), 4, "tiny", "smoke", "cpu", seed=seed, progress=False, snapshots=0,
        **s)[2], {"projection": False}),
    "infogan": ("infogan-tiny-smoke", lambda x, seed, **s: infogan.load_or_train_infogan(
        x, "tiny", "smoke", "cpu", seed=seed, progress=False, snapshots=0, **s)[2],
        {"lambda_cont": 1.0}),
    "vae": ("vae-mlp-2-tiny-smoke", lambda x, seed, **s: vae.load_or_train_vae(
        "mlp", 2, SimpleNamespace(name="tiny", x_train=(x + 1) / 2), "smoke", "cpu", seed=seed,
        progress=False, **s)[1], {"beta": 2.0}),
    "cvae": ("cvae-mlp-2-tiny-smoke", lambda x, seed, **s: cvae.load_or_train_cvae(
        "mlp", 2, SimpleNamespace(name="tiny", x_train=(x + 1) / 2, y_train=labels(len(x))),
        "smoke", "cpu", seed=seed, progress=False, **s)[1], {"beta": 2.0}),
    "autoencoder": ("ae-mlp-2-tiny-smoke", lambda x, seed, **s: autoencoders.load_or_train_autoencoder(
        "mlp", 2, SimpleNamespace(name="tiny", x_train=(x + 1) / 2), "smoke", "cpu", seed=seed,
        progress=False, **s)[1], {"lr": 3e-3}),
}
TINY = {"steps": 2, "batch_size": 4}


@pytest.fixture(params=sorted(FAMILIES))
def family(request):
    return FAMILIES[request.param]


def test_other_settings_seed_or_data_train_their_own_model(family, capsys):
    prefix, load, change = family
    first = load(images(), 0, **TINY)
    assert len(checkpoints.saved(prefix)) == 1 and "saved" in capsys.readouterr().out
    assert load(images(), 0, **TINY)["history"] == first["history"]
    assert "loaded" in capsys.readouterr().out
    changed = load(images(), 0, **TINY, **change)  # not the first model with a wrong config
    (name, value), = change.items()
    assert changed["config"][name] == value and first["config"][name] != value
    assert len(checkpoints.saved(prefix)) == 2 and "saved" in capsys.readouterr().out
    assert load(images(), 1, **TINY)["config"]["seed"] == 1  # another seed: a third file
    assert load(images(seed=5), 0, **TINY)["config"]["data"] != first["config"]["data"]
    assert len(checkpoints.saved(prefix)) == 4  # the first one was never overwritten
    assert load(images(), 0, **TINY)["history"] == first["history"]


def test_a_checkpoint_renamed_to_another_config_is_refused(family):
    prefix, load, _ = family
    load(images(), 0, **TINY)
    (two_steps,) = checkpoints.saved(prefix)
    load(images(), 0, steps=3, batch_size=4)
    (three_steps,) = set(checkpoints.saved(prefix)) - {two_steps}
    shutil.copy(two_steps, three_steps)
    three_steps.with_name(three_steps.name + ".sha256").write_text(
        two_steps.with_name(two_steps.name + ".sha256").read_text())
    with pytest.raises(checkpoints.CheckpointError, match=r"another config \(steps: saved 2, asked 3"):
        load(images(), 0, steps=3, batch_size=4)


def test_an_unknown_setting_names_the_known_ones():
    with pytest.raises(ValueError, match="GANConfig has no setting lr; its settings are: .*lr_d"):
        gan.load_or_train_gan("dcgan", images(), "tiny", "smoke", "cpu", lr=1e-3)


def test_checkpoint_names_carry_recipe_data_schedule_and_config_hash():
    data = recipe.RunData("tiny", images())
    config = gan.config("dcgan", data, "smoke", **TINY)
    path = recipe.checkpoint_path(gan.RECIPES["dcgan"], config)
    assert path.parent == checkpoints.checkpoint_dir()
    assert path.name.startswith("dcgan-tiny-smoke-") and path.suffix == ".pt"
    assert recipe.checkpoint_path(gan.RECIPES["dcgan"], gan.config("dcgan", data, "smoke", **TINY)) == path
    for other in (gan.config("dcgan", data, "smoke", steps=3, batch_size=4),
                  gan.config("dcgan", data, "full", **TINY),
                  gan.config("dcgan", recipe.RunData("tiny", images(seed=1)), "smoke", **TINY)):
        assert recipe.checkpoint_path(gan.RECIPES["dcgan"], other) != path


def test_the_config_fingerprints_the_training_data():
    x = torch.randint(0, 256, (32, 1, 28, 28), generator=torch.Generator().manual_seed(0)) / 255
    assert recipe.fingerprint(x) == recipe.fingerprint(x.clone())
    assert recipe.fingerprint(x * 2 - 1) == recipe.fingerprint(x)  # the same images, GAN-scaled
    y = x.clone()
    y[5, 0, 3, 3] = (y[5, 0, 3, 3] * 255 + (1 if y[5, 0, 3, 3] < 1 else -1)) / 255  # one level
    assert recipe.fingerprint(y) != recipe.fingerprint(x)
    assert recipe.fingerprint(x[:31]) != recipe.fingerprint(x)
    points = torch.randn(100, 2)
    assert recipe.fingerprint(points) != recipe.fingerprint(points + 1e-4)  # not images: exact
    fields = recipe.data_fields(recipe.RunData("tiny", x))
    assert fields == {"dataset": "tiny", "train_size": 32, "data": recipe.fingerprint(x)}


def test_a_checkpoint_without_a_stored_config_is_refused(tmp_path):
    path = tmp_path / "old.pt"
    model = torch.nn.Linear(2, 1)
    checkpoints.save_checkpoint(path, {"model": model}, {"seconds": 1.0})
    with pytest.raises(checkpoints.CheckpointError, match="stores no config"):
        checkpoints.load_or_train(path, {"model": model}, lambda: {}, config={"steps": 1})


def test_train_gives_every_model_the_same_meta_record():
    data = recipe.RunData("tiny", images())
    config = gan.config("dcgan", data, "smoke", **TINY)
    modules, meta = recipe.train(gan.RECIPES["dcgan"], config, data, "cpu", snapshots=2,
                                 progress=False)
    assert set(meta) == {"recipe", "config", "history", "steps", "seconds", "device", "torch",
                         "snapshots"}
    assert meta["steps"] == 2 and meta["seconds"] == meta["history"]["seconds"][-1]
    assert meta["config"] == recipe.config_dict(config) and meta["recipe"] == "dcgan"
    assert meta["snapshots"]["steps"] == [1, 2]
    assert not any(module.training for module in modules.values())


def test_build_is_seeded_and_leaves_the_callers_random_state_alone():
    data = recipe.RunData("tiny", images())
    config = gan.config("dcgan", data, "smoke", **TINY)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first, _ = recipe.build(gan.RECIPES["dcgan"], config, "cpu")
    assert torch.equal(torch.rand(3), expected)
    second, _ = recipe.build(gan.RECIPES["dcgan"], config, "cpu")
    for a, b in zip(first["generator"].state_dict().values(), second["generator"].state_dict().values()):
        assert torch.equal(a, b)


def test_a_store_names_the_folder_and_may_forbid_training(tmp_path):
    store = checkpoints.Store(tmp_path / "lecturer", train_missing=False)
    with pytest.raises(checkpoints.CheckpointError, match="training is switched off"):
        gan.load_or_train_gan("dcgan", images(), "tiny", "smoke", "cpu", store=store, **TINY)
    assert not (tmp_path / "lecturer").exists()  # nothing was trained, nothing written
    trained = gan.load_or_train_gan("dcgan", images(), "tiny", "smoke", "cpu", progress=False,
                                    store=checkpoints.Store(tmp_path / "lecturer"), **TINY)[2]
    assert len(list((tmp_path / "lecturer").glob("dcgan-tiny-smoke-*.pt"))) == 1
    assert not checkpoints.saved("dcgan-tiny-smoke")  # not in $COURSE_CHECKPOINTS
    loaded = gan.load_or_train_gan("dcgan", images(), "tiny", "smoke", "cpu", store=store, **TINY)[2]
    assert loaded["history"] == trained["history"]
