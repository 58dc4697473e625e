"""Figures of data: 2-D data sets coloured by class as the documents draw them, and image grids
(Fashion-MNIST, digits) with captions, such as a model's mistakes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnfs_jax import checks
from nnfs_jax.plot.figures import PathLike, draw_scatter, new_figure, save


def scatter(X: Any, y: Any, path: PathLike, *, title: str | None = None) -> Path:
    """One 2-D data set `X: (samples, 2)` coloured by its labels `y`."""
    fig, (ax,) = new_figure()
    draw_scatter(ax, X, y, title)
    return save(fig, path)


def scatter_panels(
    panels: Mapping[str, tuple[Any, Any]], path: PathLike, *, ncols: int | None = None
) -> Path:
    """Several data sets side by side: `{title: (X, y)}`, one panel each, in order, `ncols`
    to a row (default: all in one row)."""
    ncols = len(panels) if ncols is None else ncols
    fig, axes = new_figure(ncols=ncols, nrows=-(-len(panels) // ncols))
    for ax, (title, (X, y)) in zip(axes, panels.items(), strict=False):
        draw_scatter(ax, X, y, title)
    for ax in axes[len(panels) :]:  # unused cells of the last row
        ax.set_axis_off()
    return save(fig, path)


def image_grid(
    images: Any,
    captions: Sequence[str],
    path: PathLike,
    *,
    ncols: int = 8,
    title: str | None = None,
    cmap: str = "gray",
) -> Path:
    """Images in a grid, each with its caption underneath, `ncols` to a row.

    images: (n, height, width), or (n, height * width) for square images flattened one row per
    sample (Fashion-MNIST's (n, 784)); all drawn on one grey scale spanning their values, so
    that the book's [-1, 1] pixels and raw 0..255 ones both show as they are.
    """
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise checks.InputError(
                f"images: rows of {images.shape[1]} pixels are not square images"
            )
        images = images.reshape(len(images), side, side)
    if len(captions) != len(images):
        raise checks.InputError(f"captions: expected {len(images)}, got {len(captions)}")
    ncols = max(1, min(ncols, len(images)))
    nrows = max(1, -(-len(images) // ncols))
    fig, axes = new_figure(ncols=ncols, nrows=nrows, size=(1.5, 1.75))
    lo, hi = (float(images.min()), float(images.max())) if len(images) else (0.0, 1.0)
    for ax, image, caption in zip(axes, images, captions, strict=False):
        ax.imshow(image, cmap=cmap, vmin=lo, vmax=hi)
        ax.set_xlabel(caption, fontsize="x-small")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(images) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return save(fig, path)


def misclassified(
    images: Any,
    y_true: Any,
    y_pred: Any,
    names: Sequence[str],
    path: PathLike,
    *,
    limit: int = 32,
    ncols: int = 8,
    title: str | None = None,
) -> Path:
    """The first `limit` images whose predicted class differs from the true one, captioned
    "true -> predicted" with the class names (e.g. `FASHION_MNIST_LABELS`)."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    wrong = np.flatnonzero(y_true != y_pred)[:limit]
    captions = [f"{names[y_true[i]]} -> {names[y_pred[i]]}" for i in wrong]
    if title is None:
        title = f"{np.sum(y_true != y_pred)} of {len(y_true)} misclassified; the first {len(wrong)}"
    return image_grid(np.asarray(images)[wrong], captions, path, ncols=ncols, title=title)
