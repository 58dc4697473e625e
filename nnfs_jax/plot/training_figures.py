"""Figures of training: learning curves from `train`'s `History` or `fit`'s `FitHistory`, a
classifier's decision boundary over the plane, search progress, and curves in general."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnfs_jax import checks
from nnfs_jax import model as model_lib
from nnfs_jax.plot.figures import PathLike, class_colors, draw_lines, draw_scatter, new_figure, save

BOUNDARY_HEADS = ("softmax", "sigmoid")  # the heads whose predictions are classes


def learning_curves(histories: Any, path: PathLike, *, title: str | None = None) -> Path:
    """Loss and accuracy per logged epoch from a `nnfs_jax.History` (`train`), a `FitHistory`
    (`fit`) or its `.validation` curves, or from a mapping `{label: history}` to overlay
    several runs. Two panels: loss (left), accuracy (right)."""
    if hasattr(histories, "epoch"):
        histories = {"": histories}
    fig, (ax_loss, ax_acc) = new_figure(ncols=2)
    for label, history in histories.items():
        epochs = np.asarray(history.epoch)
        ax_loss.plot(epochs, np.asarray(history.loss), label=label or None)
        ax_acc.plot(epochs, np.asarray(history.accuracy), label=label or None)
    for ax, name in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        if any(histories):
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return save(fig, path)


def decision_boundary(
    params: Any,
    X: Any,
    y: Any,
    path: PathLike,
    *,
    activation: str | Sequence[str] = "relu",
    model: model_lib.Model | None = None,
    resolution: int = 200,
    margin: float = 0.1,
    title: str | None = None,
    predict: Callable[[np.ndarray], Any] | None = None,
) -> Path:
    """The classifier's predicted class over a grid covering `X: (samples, 2)`, with the data
    on top.

    params, activation, model: as for `nnfs_jax.forward` (the documents' classifier, or any
    model with a softmax head, or a sigmoid head with one output: class `output > 0.5`).
    predict: instead, any function mapping grid points `(n, 2)` to class probabilities
    `(n, classes)`, to one probability `(n, 1)`, or to labels `(n,)`.
    """
    if predict is None and model is not None and model.head.name not in BOUNDARY_HEADS:
        raise checks.InputError(
            f"model: a decision boundary needs a classifier head {BOUNDARY_HEADS}, "
            f"got {model.head.name!r}"
        )
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise checks.InputError(f"X: expected points (samples, 2), got shape {X.shape}")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.c_[gx.ravel(), gy.ravel()].astype(X.dtype)
    if predict is None:

        def predict(points):
            return model_lib.forward(params, points, activation, model=model)

    labels = _classes(np.asarray(predict(grid)))
    y = np.asarray(y)
    y = np.argmax(y, axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    classes = max(int(y.max()), int(labels.max())) + 1
    fig, (ax,) = new_figure(size=(5.5, 5.0))
    ax.contourf(
        gx,
        gy,
        labels.reshape(gx.shape),
        levels=np.arange(classes + 1) - 0.5,
        colors=class_colors(classes),  # the regions in the points' colours
        alpha=0.25,
    )
    title = textwrap.fill(title, 55) if title else None  # a long title on a narrow figure
    draw_scatter(ax, X, y, title, s=20, classes=classes)
    return save(fig, path)


def _classes(out: np.ndarray) -> np.ndarray:
    """Class labels from probabilities (argmax), one probability (> 0.5) or labels."""
    if out.ndim == 2 and out.shape[1] == 1:  # a sigmoid head: the book's (output > 0.5) * 1
        return (out[:, 0] > 0.5).astype(np.int64)
    if out.ndim == 2:
        return np.argmax(out, axis=1)
    return out.astype(np.int64)


def lines(
    x: Any,
    series: Mapping[str, Any],
    path: PathLike,
    *,
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    title: str | None = None,
    marker: str | None = None,
) -> Path:
    """Curves on one pair of axes: `{label: y values over x}` (e.g. the drift between two
    runs), or `{label: (x_values, y_values)}` for a series sampled elsewhere."""
    fig, (ax,) = new_figure(size=(9.0 if len(series) > 4 else 6.0, 4.0))  # room for a legend
    draw_lines(
        ax,
        x,
        series,
        xlabel=xlabel,
        ylabel=ylabel,
        logx=logx,
        logy=logy,
        title=title,
        marker=marker,
    )
    return save(fig, path)


def search_progress(
    runs: Mapping[str, tuple[Any, Any]],
    path: PathLike,
    *,
    end: int | Mapping[str, int] | None = None,
    title: str | None = None,
) -> Path:
    """Lowest loss so far against iteration for searches: `{label: (iterations, losses)}`,
    where the arrays list the improvements (the iterations at which a new lowest loss was
    found, and that loss). Drawn as steps: the loss holds until the next improvement, and
    after the last one until `end`, the search's length (one for all, or `{label: length}`)."""
    fig, (ax,) = new_figure(size=(6.0, 4.0))
    for label, (iterations, losses) in runs.items():
        iterations = np.asarray(iterations, dtype=float)
        losses = np.asarray(losses, dtype=float)
        last = end.get(label) if isinstance(end, Mapping) else end
        if last is not None and iterations.size and iterations[-1] < last:
            iterations, losses = np.append(iterations, last), np.append(losses, losses[-1])
        ax.plot(iterations, losses, drawstyle="steps-post", marker=".", label=label)
    ax.set_xscale("symlog", linthresh=1)  # improvements bunch up early: iteration 0 included
    ax.set_xlabel("iteration")
    ax.set_ylabel("lowest loss so far")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return save(fig, path)
