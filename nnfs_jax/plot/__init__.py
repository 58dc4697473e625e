"""Figures for the experiments: each function takes arrays (or a result) and an output path and
writes a PNG, atomically, creating the parent folders; it returns the path as a `Path`.

The only package modules that import matplotlib. They draw on `matplotlib.figure.Figure`
objects rendered by the Agg canvas, never through `pyplot`: nothing global changes (no backend
switch, no figure registry to leak into), nothing opens a window, and the figure is freed when
the function returns. Classes are coloured as the documents colour them, `cmap="brg"`.

Modules: `figures` (shared pieces), `data_figures` (data sets, image grids),
`training_figures` (learning curves, decision boundaries, searches, curves),
`derivative_figures` (tangents, finite differences, gradient errors), `sweeps` (sweeps).
"""

from nnfs_jax.plot.data_figures import image_grid, misclassified, scatter, scatter_panels
from nnfs_jax.plot.derivative_figures import (
    finite_difference_errors,
    gradient_errors,
    tangent_lines,
)
from nnfs_jax.plot.figures import (
    CMAP,
    DOCUMENT_COLORS,
    class_colors,
    draw_lines,
    draw_scatter,
    new_figure,
    save,
)
from nnfs_jax.plot.sweeps import METRICS, axis_label, ranking, sweep_figures, sweep_heatmap
from nnfs_jax.plot.training_figures import (
    decision_boundary,
    learning_curves,
    lines,
    search_progress,
)

__all__ = [
    "CMAP",
    "DOCUMENT_COLORS",
    "METRICS",
    "axis_label",
    "class_colors",
    "decision_boundary",
    "draw_lines",
    "draw_scatter",
    "finite_difference_errors",
    "gradient_errors",
    "image_grid",
    "learning_curves",
    "lines",
    "misclassified",
    "new_figure",
    "ranking",
    "save",
    "scatter",
    "scatter_panels",
    "search_progress",
    "sweep_figures",
    "sweep_heatmap",
    "tangent_lines",
]
