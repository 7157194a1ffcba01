"""Pictures: image grids, loss curves, latent scatter plots (notebook 00 introduces them), the
sample grids kept during training, and the snapshots of a 2-D toy run (notebooks 04 and 08)."""

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from .train import smooth


def image_grid(images, nrow=8, padding=2, scale="auto"):
    """(B, 1, H, W) tensor -> (H', W') numpy array in [0, 1], ready for imshow.

    scale: 'unit' ([0,1] pixels), 'symmetric' ([-1,1]) or 'auto' (symmetric if any pixel < 0).
    """
    images = torch.as_tensor(images).detach().float().cpu()
    if images.dim() != 4:
        raise ValueError(f"image_grid expects (batch, channels, height, width), got {tuple(images.shape)}.")
    if scale == "auto":
        scale = "symmetric" if images.min() < 0 else "unit"
    if scale == "symmetric":
        images = (images + 1) / 2
    elif scale != "unit":
        raise ValueError(f"Unknown scale {scale!r}: expected 'unit', 'symmetric' or 'auto'.")
    grid = make_grid(images.clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)
    return grid[0].numpy()


def show_images(images, nrow=8, title=None, ax=None, scale="auto", size=0.6):
    """Draw a grid of images; returns the matplotlib Axes."""
    grid = image_grid(images, nrow=nrow, scale=scale)
    if ax is None:
        rows = int(np.ceil(len(images) / nrow))
        _, ax = plt.subplots(figsize=(max(2.0, size * nrow), max(2.0, size * rows)))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_losses(history, keys=None, window=50, ax=None, title="training losses"):
    """Raw (faint) and smoothed losses per step, one line per key of the history."""
    keys = keys or [k for k in history if k != "seconds"]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        line, = ax.plot(history[key], alpha=0.25)
        ax.plot(smooth(history[key], window), color=line.get_color(), label=key)
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_latent_scatter(z, labels, class_names, ax=None, title="latent space", size=3):
    """2-D codes coloured by class, with the dataset's class names in the legend."""
    z = torch.as_tensor(z).detach().cpu().numpy()
    labels = torch.as_tensor(labels).detach().cpu().numpy()
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"plot_latent_scatter expects (n, 2) codes, got {z.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    cmap = plt.get_cmap("tab10")
    for c, name in enumerate(class_names):
        keep = labels == c
        ax.scatter(z[keep, 0], z[keep, 1], s=size, color=cmap(c % 10), label=name, alpha=0.7)
    ax.legend(markerscale=4, fontsize=7, loc="best")
    ax.set_title(title)
    return ax


def plot_points(points, modes=None, ax=None, title=None, size=2):
    """A 2-D point cloud (e.g. a toy mixture), with the true modes as red crosses."""
    points = torch.as_tensor(points).detach().cpu().numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(points[:, 0], points[:, 1], s=size, alpha=0.5)
    if modes is not None:
        modes = torch.as_tensor(modes).cpu().numpy()
        ax.scatter(modes[:, 0], modes[:, 1], marker="x", color="red", s=40, label="modes")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def label_columns(ax, names, first=None, pixels=28, padding=2):
    """Class names above the columns of an image grid drawn by `show_images` (`first`: an extra
    name for a leading column, e.g. "input")."""
    columns = ([first] if first else []) + list(names)
    for c, name in enumerate(columns):
        ax.text(padding + c * (pixels + padding) + pixels / 2, -3, name, ha="center", va="bottom",
                fontsize=7, rotation=30)
    return ax


def show_snapshots(snapshots, n_images=16, label="step", title=None, width=10):
    """One row of images per snapshot kept during training (a meta's "snapshots": steps, seconds,
    images), each titled with its step and wall time; `n_images` per row (None: all of them)."""
    n_rows = len(snapshots["steps"])
    if not n_rows:
        raise ValueError("no snapshots to show: the model was trained with snapshots=0.")
    per_row = len(snapshots["images"][0][:n_images])
    fig, axes = plt.subplots(n_rows, 1, figsize=(width, n_rows * (width / per_row + 0.125) + 0.5),
                             squeeze=False)
    for ax, step, seconds, images in zip(axes[:, 0], snapshots["steps"], snapshots["seconds"],
                                         snapshots["images"]):
        show_images(images[:n_images], nrow=per_row, ax=ax)
        ax.set_title(f"{label} {step} ({seconds:.0f} s)", fontsize=8, loc="left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# What the colours of a 2-D toy run's surface mean: D(x) of a GAN is a probability, f(x) of a
# critic an unbounded score.
SURFACE_STYLE = {
    "gan": dict(levels=np.linspace(0, 1, 11), label="D(x): red = 'real', blue = 'fake'"),
    "critic": dict(levels=20, label="f(x): red = high, blue = low"),
}


def show_toy_run(run, title=None, n=8, ncols=4):
    """A `toy.run_toy` result over training: n snapshots evenly spread from first to last, each with
    the samples (black) over the second player's surface (colour) and the true modes (gold)."""
    style = SURFACE_STYLE["gan" if run["model"] == "gan" else "critic"]
    chosen = np.linspace(0, len(run["snapshots"]) - 1, n).round().astype(int)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.3 * nrows), squeeze=False)
    for ax, index in zip(axes.flat, chosen):
        surface = _toy_panel(ax, run, run["snapshots"][index], style["levels"])
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    fig.colorbar(surface, ax=axes, shrink=0.8, label=style["label"])
    if title:
        fig.suptitle(title)
    return fig


def _toy_panel(ax, run, snap, levels):
    xs, ys, values = snap["surface"]
    surface = ax.contourf(xs, ys, values, levels=levels, cmap="RdBu_r")
    ax.scatter(snap["samples"][:, 0], snap["samples"][:, 1], s=1, c="k", alpha=0.4)
    ax.scatter(run["modes"][:, 0], run["modes"][:, 1], marker="x", c="gold", s=25)
    cov = snap["coverage"]
    ax.set_title(f"step {snap['step']}: {cov['modes_covered']}/{cov['n_modes']} modes, "
                 f"{cov['high_quality_fraction']:.0%} HQ", fontsize=9)
    ax.set_xlim(-run["lim"], run["lim"])
    ax.set_ylim(-run["lim"], run["lim"])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return surface
