import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes

from course_lib import plots


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_image_grid_layout():
    images = torch.rand(6, 1, 5, 4, generator=torch.Generator().manual_seed(0))
    grid = plots.image_grid(images, nrow=3, padding=2, scale="unit")
    # 2 rows x 3 columns of 5x4 images with 2-pixel padding around each
    assert grid.shape == (2 * (5 + 2) + 2, 3 * (4 + 2) + 2)
    assert isinstance(grid, np.ndarray)
    np.testing.assert_allclose(grid[2:7, 2:6], images[0, 0].numpy())  # first image, top left
    np.testing.assert_allclose(grid[9:14, 8:12], images[4, 0].numpy())  # row 1, column 1
    assert (grid[:2] == 1).all() and (grid[:, :2] == 1).all()  # white padding


@pytest.mark.parametrize("scale", ["unit", "symmetric", "auto"])
def test_image_grid_values_in_unit_interval(scale):
    g = torch.Generator().manual_seed(1)
    images = torch.rand(4, 1, 6, 6, generator=g) * 3 - 1.5  # deliberately out of range
    grid = plots.image_grid(images, nrow=2, scale=scale)
    assert grid.min() >= 0 and grid.max() <= 1


def test_image_grid_scales():
    half = torch.full((2, 1, 3, 3), 0.5)
    np.testing.assert_allclose(plots.image_grid(half, padding=0, scale="unit"), 0.5)
    zeros = torch.zeros(2, 1, 3, 3)
    np.testing.assert_allclose(plots.image_grid(zeros, padding=0, scale="symmetric"), 0.5)
    np.testing.assert_allclose(plots.image_grid(zeros, padding=0, scale="auto"), 0.0)  # unit
    symmetric = torch.tensor([-1.0, 0.0, 1.0]).reshape(1, 1, 1, 3).repeat(2, 1, 1, 1)
    np.testing.assert_allclose(plots.image_grid(symmetric, padding=0, scale="symmetric"),
                               [[0.0, 0.5, 1.0, 0.0, 0.5, 1.0]])


def test_image_grid_auto_detects_symmetric():
    minus_ones = -torch.ones(4, 1, 3, 3)
    np.testing.assert_array_equal(plots.image_grid(minus_ones, nrow=2, padding=0), 0.0)
    np.testing.assert_array_equal(plots.image_grid(minus_ones, nrow=2, padding=0, scale="unit"), 0.0)
    ones = torch.ones(4, 1, 3, 3)
    np.testing.assert_array_equal(plots.image_grid(ones, nrow=2, padding=0), 1.0)


def test_image_grid_accepts_numpy_and_grad_tensors():
    x = torch.rand(2, 1, 3, 3, requires_grad=True)
    np.testing.assert_allclose(plots.image_grid(x, padding=0), plots.image_grid(x.detach().numpy(),
                                                                               padding=0))


@pytest.mark.parametrize("shape", [(1, 28, 28), (28, 28), (2, 1, 1, 28, 28)])
def test_image_grid_rejects_wrong_rank(shape):
    with pytest.raises(ValueError, match="batch, channels, height, width"):
        plots.image_grid(torch.zeros(shape))


def test_image_grid_rejects_unknown_scale():
    with pytest.raises(ValueError, match="scale"):
        plots.image_grid(torch.zeros(1, 1, 2, 2), scale="minmax")


def test_show_images_returns_axes():
    ax = plots.show_images(torch.rand(10, 1, 28, 28), nrow=5, title="samples")
    assert isinstance(ax, Axes) and ax.get_title() == "samples"
    shown = ax.get_images()[0].get_array()
    assert shown.shape == (2 * 30 + 2, 5 * 30 + 2)
    fig, existing = plt.subplots()
    assert plots.show_images(torch.rand(3, 1, 28, 28), ax=existing) is existing
    plt.close(fig)


def test_plot_losses():
    history = {"loss": [3.0, 2.0, 1.0, 0.5], "kl": [1.0, 1.0, 0.8, 0.7], "seconds": [0.1, 0.2, 0.3, 0.4]}
    ax = plots.plot_losses(history, window=2)
    assert isinstance(ax, Axes)
    assert len(ax.get_lines()) == 4  # raw and smoothed for each key, none for 'seconds'
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["loss", "kl"]
    smoothed = [line for line in ax.get_lines() if line.get_label() == "loss"][0]
    np.testing.assert_allclose(smoothed.get_ydata(), [3.0, 2.5, 1.5, 0.75])
    only = plots.plot_losses(history, keys=["kl"])
    assert len(only.get_lines()) == 2


def test_plot_latent_scatter():
    z = torch.randn(30, 2)
    labels = torch.arange(30) % 3
    ax = plots.plot_latent_scatter(z, labels, ["a", "b", "c"])
    assert isinstance(ax, Axes)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    assert [len(c.get_offsets()) for c in ax.collections] == [10, 10, 10]


@pytest.mark.parametrize("shape", [(30, 3), (30,), (30, 2, 1)])
def test_plot_latent_scatter_rejects_non_2d_codes(shape):
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plots.plot_latent_scatter(torch.zeros(shape), torch.zeros(30, dtype=torch.long), ["a"])


def test_plot_points():
    points = torch.randn(50, 2)
    ax = plots.plot_points(points, title="ring")
    assert isinstance(ax, Axes) and ax.get_title() == "ring" and len(ax.collections) == 1
    modes = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    ax = plots.plot_points(points, modes=modes)
    assert len(ax.collections) == 2
    np.testing.assert_allclose(ax.collections[1].get_offsets(), modes.numpy())


def test_label_columns_one_name_per_column():
    ax = plots.show_images(torch.rand(6, 1, 28, 28), nrow=3)
    plots.label_columns(ax, ["a", "b"], first="input")
    texts = ax.texts
    assert [t.get_text() for t in texts] == ["input", "a", "b"]
    # centred over columns 0, 1, 2 of 28-pixel images with 2-pixel padding
    assert [t.get_position()[0] for t in texts] == [16.0, 46.0, 76.0]
    plt.close(ax.figure)


def _snapshots(n_rows, per_snapshot):
    return {"steps": list(range(10, 10 * n_rows + 1, 10)), "seconds": [1.0] * n_rows,
            "images": torch.rand(n_rows, per_snapshot, 1, 28, 28) * 2 - 1}


def test_show_snapshots_one_row_per_snapshot():
    fig = plots.show_snapshots(_snapshots(3, 64), title="run")
    assert len(fig.axes) == 3 and all(len(ax.get_images()) == 1 for ax in fig.axes)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["step 10 (1 s)", "step 20 (1 s)",
                                                             "step 30 (1 s)"]
    assert fig.axes[0].get_images()[0].get_array().shape == (30 + 2, 16 * 30 + 2)  # first 16
    assert fig._suptitle.get_text() == "run"
    plt.close(fig)


def test_show_snapshots_all_images_and_label():
    fig = plots.show_snapshots(_snapshots(1, 20), n_images=None, label="iteration")
    assert len(fig.axes) == 1 and fig.axes[0].get_title(loc="left") == "iteration 10 (1 s)"
    assert fig.axes[0].get_images()[0].get_array().shape == (30 + 2, 20 * 30 + 2)
    plt.close(fig)


def test_show_snapshots_rejects_empty():
    with pytest.raises(ValueError, match="snapshots=0"):
        plots.show_snapshots({"steps": [], "seconds": [], "images": torch.empty(0)})


def _toy_run(model, n_snapshots):
    xs = torch.linspace(-1.6, 1.6, 5)
    coverage = {"modes_covered": 3, "n_modes": 8, "high_quality_fraction": 0.5}
    snapshots = [{"step": 10 * (i + 1), "samples": torch.randn(50, 2),
                  "surface": (xs, xs, torch.rand(5, 5)), "coverage": coverage}
                 for i in range(n_snapshots)]
    return {"model": model, "snapshots": snapshots, "modes": torch.randn(8, 2), "lim": 1.6}


@pytest.mark.parametrize("model, n, ncols, rows", [("gan", 8, 4, 2), ("gp", 4, 4, 1), ("clip", 3, 2, 2)])
def test_show_toy_run_panels(model, n, ncols, rows):
    run = _toy_run(model, 9)
    fig = plots.show_toy_run(run, "title", n=n, ncols=ncols)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == n and len(fig.axes) == rows * ncols + 1  # + the colour bar
    steps = [int(ax.get_title().split(":")[0].split()[1]) for ax in panels]
    assert steps[0] == 10 and steps[-1] == 90 and steps == sorted(steps)  # first to last snapshot
    assert panels[0].get_title() == "step 10: 3/8 modes, 50% HQ"
    assert fig._suptitle.get_text() == "title"
    colorbar = fig.axes[-1]
    expected = "D(x)" if model == "gan" else "f(x)"
    assert colorbar.get_ylabel().startswith(expected)
    plt.close(fig)
