"""Figures for the experiments: each function takes arrays and an output path and writes a PNG.

The only package module that imports matplotlib. It draws on `matplotlib.figure.Figure`
objects rendered by the Agg canvas, never through `pyplot`: nothing global changes (no
backend switch, no pyplot figure registry to leak into or close), nothing opens a window,
and the figure is freed when the function returns. Every function creates the parent
folders of `path` and returns `path` as a `Path`.

Colours follow the documents: classes are drawn with `cmap="brg"`, as in
`plt.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap='brg')`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nnfs_jax.layers import forward

CMAP = "brg"  # the documents' class colours
DOCUMENT_COLORS = ("k", "g", "r", "b", "c")  # document 000's tangent-line colours
PathLike = str | Path


# --- shared pieces ---------------------------------------------------------------------------


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (5.0, 4.0)):
    """A figure with an `nrows x ncols` grid of axes, `size` inches per panel.

    Returns (figure, flat list of axes).
    """
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)  # render with Agg whatever backend pyplot may be using
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, list(axes.ravel())


def save(fig: Figure, path: PathLike, dpi: int = 100) -> Path:
    """Write `fig` to `path` as PNG (parent folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi)
    return path


def class_colors(classes: int) -> list:
    """The colour of each class as the documents' scatter gives it: class c of 0..classes - 1
    at c / (classes - 1) along `brg` (blue, red, green for three classes)."""
    cmap = matplotlib.colormaps[CMAP]
    return [cmap(c / max(classes - 1, 1)) for c in range(classes)]


def draw_scatter(
    ax: Axes,
    X: Any,
    y: Any,
    title: str | None = None,
    s: float = 40,
    classes: int | None = None,
) -> None:
    """The documents' scatter of a 2-D data set, coloured by class, on `ax`.

    classes: how many classes the colours span (default: the largest label + 1, which for
    labels 0..n-1 is what the documents' `c=y, cmap='brg'` gives).
    """
    X, y = np.asarray(X), np.asarray(y)
    if y.ndim == 2:  # one-hot labels: colour by class index
        y = np.argmax(y, axis=1)
    classes = int(y.max()) + 1 if classes is None else classes
    vmax = max(classes - 1, 1)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=s, cmap=CMAP, vmin=0, vmax=vmax, edgecolors="none")
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title)


def draw_lines(
    ax: Axes,
    x: Any,
    series: Mapping[str, Any],
    *,
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    title: str | None = None,
    marker: str | None = None,
    drawstyle: str = "default",
) -> None:
    """One line per entry of `series` on `ax`: label -> y values over `x`, or label ->
    `(x_values, y_values)` for a series with its own x.

    On a log axis, zeros and negatives are left out (matplotlib would drop them anyway).
    """
    for label, values in series.items():
        xs, values = values if isinstance(values, tuple) else (x, values)
        xs, values = np.asarray(xs, dtype=float), np.asarray(values, dtype=float)
        if logy:
            values = np.where(values > 0, values, np.nan)
        ax.plot(xs, values, label=label, marker=marker, drawstyle=drawstyle)
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(series) > 4:  # many lines: the legend beside the axes, not over the data
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    elif any(series):  # a legend only when some line has a label
        ax.legend(fontsize="small")
    ax.grid(True, which="major", alpha=0.3)


# --- data sets -------------------------------------------------------------------------------


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


# --- training --------------------------------------------------------------------------------


def learning_curves(histories: Any, path: PathLike, *, title: str | None = None) -> Path:
    """Loss and accuracy per logged epoch from a `nnfs_jax.train.History`, or from a mapping
    `{label: History}` to overlay several runs. Two panels: loss (left), accuracy (right)."""
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
    resolution: int = 200,
    margin: float = 0.1,
    title: str | None = None,
    predict: Callable[[np.ndarray], Any] | None = None,
) -> Path:
    """The classifier's predicted class over a grid covering `X: (samples, 2)`, with the data
    on top.

    params, activation: as for `nnfs_jax.forward`; predict: instead, any function mapping
    grid points `(n, 2)` to class probabilities `(n, classes)` (or to labels `(n,)`).
    """
    X = np.asarray(X)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.c_[gx.ravel(), gy.ravel()].astype(X.dtype)
    if predict is None:

        def predict(points):
            return forward(params, points, activation)

    out = np.asarray(predict(grid))
    labels = np.argmax(out, axis=1) if out.ndim == 2 else out
    y = np.asarray(y)
    y = np.argmax(y, axis=1) if y.ndim == 2 else y
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
    draw_scatter(ax, X, y, title, s=20, classes=classes)
    return save(fig, path)


# --- derivatives -----------------------------------------------------------------------------


def tangent_lines(
    x: Any,
    fx: Any,
    points: Any,
    slopes: Any,
    path: PathLike,
    *,
    half_width: float = 0.9,
    title: str | None = None,
) -> Path:
    """A curve `(x, fx)` with a tangent line at each point, drawn over
    `[x1 - half_width, x1 + half_width]` as document 000 does (`to_plot = [x1 - 0.9, x1,
    x1 + 0.9]`).

    points: (n, 2) rows `(x1, y1)` on the curve; slopes: (n,) the slope at each.
    """
    points, slopes = np.asarray(points, dtype=float), np.asarray(slopes, dtype=float)
    fig, (ax,) = new_figure(size=(6.0, 4.5))
    ax.plot(np.asarray(x), np.asarray(fx), color="tab:blue")
    for i, ((x1, y1), slope) in enumerate(zip(points, slopes, strict=True)):
        color = DOCUMENT_COLORS[i % len(DOCUMENT_COLORS)]
        b = y1 - slope * x1  # the tangent's intercept, passed explicitly (001 read a global)
        to_plot = np.array([x1 - half_width, x1, x1 + half_width])
        ax.scatter([x1], [y1], c=color)
        ax.plot(to_plot, slope * to_plot + b, c=color, label=f"x = {x1:g}: slope {slope:.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return save(fig, path)


def finite_difference_errors(
    h: Any,
    errors: Mapping[str, Any],
    path: PathLike,
    *,
    guides: Sequence[tuple[str, float, float]] = (),
    title: str | None = None,
) -> Path:
    """Log-log plot of finite-difference errors against the step `h`: `{label: errors}`.

    guides: `(label, slope, anchor_h)` dashed reference lines of the given slope, drawn a
    little above series `label` at the step nearest `anchor_h` and over two decades around it,
    e.g. `("central float64", 2, 1e-3)` for the central difference's truncation error.
    """
    fig, (ax,) = new_figure(size=(6.5, 4.5))
    draw_lines(
        ax,
        h,
        errors,
        xlabel="step h",
        ylabel="|approximation - exact derivative|",
        logx=True,
        logy=True,
        title=title,
        marker=".",
    )
    h = np.asarray(h, dtype=float)
    for label, slope, anchor in guides:
        i = int(np.argmin(np.abs(np.log10(h) - np.log10(anchor))))
        level = 4 * float(np.asarray(errors[label], dtype=float)[i])
        span = h[(h >= h[i] / 10) & (h <= h[i] * 10)]
        ax.plot(span, level * (span / h[i]) ** slope, "k--", lw=0.8)
        ax.annotate(f"slope {slope:g}", (h[i], 2 * level), fontsize="small", ha="right")
    return save(fig, path)


# --- gradients -------------------------------------------------------------------------------


def gradient_errors(
    reports: Any,
    path: PathLike,
    *,
    metric: str = "max_rel",
    floor: float = 1e-20,
) -> Path:
    """Grouped bars of per-leaf gradient errors from `nnfs_jax.GradientReport`s: one bar per
    pair (manual vs autodiff, manual vs numerical, autodiff vs numerical) for each leaf, on a
    log scale. `reports`: one report, or `{panel title: report}` for side-by-side panels.

    metric: "max_rel" or "max_abs". Exact zeros cannot sit on a log axis: they are drawn at
    `floor` and marked "0".
    """
    if hasattr(reports, "errors"):
        reports = {"": reports}
    fig, axes = new_figure(ncols=len(reports), size=(6.0, 4.0))
    for ax, (title, report) in zip(axes, reports.items(), strict=True):
        leaves = list(report.errors)
        pairs = list(report.errors[leaves[0]])
        width = 0.8 / len(pairs)
        for j, pair in enumerate(pairs):
            values = np.array([float(report.errors[leaf][pair][metric]) for leaf in leaves])
            xs = np.arange(len(leaves)) + (j - (len(pairs) - 1) / 2) * width
            ax.bar(xs, np.maximum(values, floor), width, label=pair.replace("_", " "))
            for xpos, value in zip(xs, values, strict=True):
                if value == 0:
                    ax.annotate("0", (xpos, floor), ha="center", va="bottom", fontsize="small")
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(leaves)), leaves, rotation=20, fontsize="small")
        ax.set_ylabel(metric.replace("_", " ") + " error")
        ax.legend(fontsize="small")
        ax.grid(True, axis="y", alpha=0.3)
        if title:
            ax.set_title(title)
    return save(fig, path)


# --- generic curves --------------------------------------------------------------------------


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
        ax.plot(
            iterations,
            losses,
            drawstyle="steps-post",
            marker=".",
            label=label,
        )
    ax.set_xscale("symlog", linthresh=1)  # improvements bunch up early: iteration 0 included
    ax.set_xlabel("iteration")
    ax.set_ylabel("lowest loss so far")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return save(fig, path)


# --- images ----------------------------------------------------------------------------------


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
            raise ValueError(f"images: rows of {images.shape[1]} pixels are not square images")
        images = images.reshape(len(images), side, side)
    if len(captions) != len(images):
        raise ValueError(f"captions: expected {len(images)}, got {len(captions)}")
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


# --- sweeps ----------------------------------------------------------------------------------


def _axis_label(value: Any) -> str:
    if isinstance(value, tuple):  # hidden widths
        return "-".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_heatmap(
    xs: Sequence,
    ys: Sequence,
    mean: Any,
    spread: Any,
    path: PathLike,
    *,
    xlabel: str,
    ylabel: str,
    metric: str = "final loss",
    diverged: Any = None,
    title: str | None = None,
) -> Path:
    """A sweep's `metric` over two axes: each cell coloured by the mean over seeds (and any
    other axes), with "mean ± standard deviation" written in it, and the number of diverged
    configurations ("n div") where there are any. mean, spread, diverged: (len(ys), len(xs))."""
    mean, spread = np.asarray(mean, float), np.asarray(spread, float)
    fig, (ax,) = new_figure(size=(1.2 * len(xs) + 3.0, 0.7 * len(ys) + 2.5))
    image = ax.imshow(np.ma.masked_invalid(mean), cmap="viridis", aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label=f"{metric} (mean)")
    ax.set_xticks(range(len(xs)), [_axis_label(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_axis_label(v) for v in ys])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for iy in range(len(ys)):
        for ix in range(len(xs)):
            value = mean[iy, ix]
            text = "" if np.isnan(value) else f"{value:.4g}\n±{spread[iy, ix]:.2g}"
            if diverged is not None and np.asarray(diverged)[iy, ix]:
                text += f"\n{int(np.asarray(diverged)[iy, ix])} div"
            # dark text on the bright end of viridis, light text on the dark end
            bright = not np.isnan(value) and image.norm(value) > 0.6
            ax.text(
                ix,
                iy,
                text,
                ha="center",
                va="center",
                fontsize="x-small",
                color="k" if bright else "w",
            )
    ax.set_title(title or f"{metric}: mean ± spread over seeds")
    return save(fig, path)


def sweep_figures(result: Any, out: PathLike, *, heatmap: tuple[str, str] | None = None) -> list:
    """A `SweepResult`'s figures in folder `out`: `sweep_heatmap.png` (final loss over two
    axes, by default the first two swept, else the one swept against the seed),
    `sweep_curves.png` (learning curves of the best and the worst configuration that did not
    diverge, and of the first diverged one) and `sweep_boundary.png` (the best model's
    decision boundary, on its data when its inputs are 2-D). Returns the paths written."""
    out = Path(out)
    paths = []
    swept = result.swept_axes()
    x_axis, y_axis = heatmap or ([*swept, "seed", "seed"][:2] if swept else ("seed", "seed"))
    if x_axis == y_axis:
        y_axis = "seed"
    xs, ys, mean, std, diverged = result.grid(x_axis, y_axis)
    paths.append(
        sweep_heatmap(
            xs,
            ys,
            mean,
            std,
            out / "sweep_heatmap.png",
            xlabel=x_axis,
            ylabel=y_axis,
            diverged=diverged,
        )
    )
    order = [int(i) for i in result.order()]
    fine = [i for i in order if not result.diverged[i]]
    curves = {}
    if fine:
        curves[f"best: {_describe(result.configs[fine[0]], swept)}"] = fine[0]
        if len(fine) > 1:
            curves[f"worst: {_describe(result.configs[fine[-1]], swept)}"] = fine[-1]
    bad = [i for i in order if result.diverged[i]]
    if bad:
        curves[f"diverged: {_describe(result.configs[bad[0]], swept)}"] = bad[0]
    paths.append(
        learning_curves(
            {label: result.history_of(i) for label, i in curves.items()},
            out / "sweep_curves.png",
        )
    )
    best = order[0]
    _, X, y, _ = result.setup(best)
    if np.shape(X)[1] == 2:
        paths.append(
            decision_boundary(
                result.params[best],
                X,
                y,
                out / "sweep_boundary.png",
                activation=result.activation,
                title=f"best: {_describe(result.configs[best], swept)}",
            )
        )
    return paths


def _describe(config: dict, axes: Sequence[str]) -> str:
    shown = [*axes, "seed"]
    return ", ".join(f"{k}={_axis_label(config[k])}" for k in shown)
