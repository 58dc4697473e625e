"""The pieces every figure shares: a figure on the Agg canvas, its atomic save, the documents'
class colours, and the scatter and line drawing the figure modules build on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nnfs_jax import files

CMAP = "brg"  # the documents' class colours
DOCUMENT_COLORS = ("k", "g", "r", "b", "c")  # document 000's tangent-line colours
PathLike = str | Path


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (5.0, 4.0)):
    """A figure with an `nrows x ncols` grid of axes, `size` inches per panel.

    Returns (figure, flat list of axes).
    """
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)  # render with Agg whatever backend pyplot may be using
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, list(axes.ravel())


def save(fig: Figure, path: PathLike, dpi: int = 100) -> Path:
    """Write `fig` to `path` as PNG, atomically (parent folders created): a run killed while
    saving leaves the previous file, never a truncated one. Returns the path."""
    path = Path(path)
    files.atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi), make_parents=True)
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
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot labels: colour by class index
        y = np.argmax(y, axis=1)
    y = y.reshape(-1)  # (samples, 1) binary targets
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
