"""Figures of derivatives and gradients: tangent lines on a curve (document 000), the errors of
finite differences against the step, and per-leaf errors between gradient methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnfs_jax.plot.figures import DOCUMENT_COLORS, PathLike, draw_lines, new_figure, save


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
