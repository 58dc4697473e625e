"""Figures of a `SweepResult`: a metric over two axes as a heatmap (mean ± spread over seeds),
the learning curves of the best and worst configurations, and the best model's decision
boundary."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnfs_jax import checks
from nnfs_jax.logs import Curves
from nnfs_jax.plot.figures import PathLike, new_figure, save
from nnfs_jax.plot.training_figures import decision_boundary, learning_curves

METRICS = ("final_loss", "final_accuracy", "final_validation_loss", "final_validation_accuracy")


def axis_label(name: str, value: Any) -> str:
    """A configuration value as a tick label: hidden widths `64-64`, per-layer values
    `0.0005/0` (one per layer), numbers `%g`, a batch size of None `full`."""
    if name == "hidden" and isinstance(value, tuple):
        return "-".join(map(str, value))
    if isinstance(value, tuple):
        return "/".join(f"{v:g}" for v in value)
    if value is None:
        return "full" if name == "batch_size" else "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def heatmap_axes(result: Any, axes: tuple[str, str] | None = None) -> tuple[str, str]:
    """The two axes a heatmap shows: `axes`, or the first two swept, or the one swept against
    the seed (the seed against itself when nothing was swept)."""
    swept = result.swept_axes()
    x_axis, y_axis = axes or ((*swept, "seed", "seed")[:2] if swept else ("seed", "seed"))
    return (x_axis, "seed") if x_axis == y_axis else (x_axis, y_axis)


def sweep_heatmap(
    result: Any,
    path: PathLike,
    *,
    axes: tuple[str, str] | None = None,
    metric: str = "final_loss",
    title: str | None = None,
) -> Path:
    """A sweep's `metric` (one of `METRICS`; the validation ones need validation data) over two
    axes `(x, y)` (default: `heatmap_axes`): each cell coloured by the mean over the seeds and
    any other axes, with "mean ± standard deviation" written in it and the number of
    diverged configurations ("n div") where there are any (left out of mean and spread)."""
    x_axis, y_axis = heatmap_axes(result, axes)
    xs, ys, mean, spread, diverged = result.grid(x_axis, y_axis, metric)
    label = metric.replace("_", " ")
    fig, (ax,) = new_figure(size=(max(1.2 * len(xs) + 3.0, 6.5), 0.7 * len(ys) + 2.5))
    image = ax.imshow(np.ma.masked_invalid(mean), cmap="viridis", aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label=f"{label} (mean)")
    ax.set_xticks(range(len(xs)), [axis_label(x_axis, v) for v in xs])
    ax.set_yticks(range(len(ys)), [axis_label(y_axis, v) for v in ys])
    ax.set_xlabel(x_axis)
    ax.set_ylabel(y_axis)
    for iy in range(len(ys)):
        for ix in range(len(xs)):
            value = mean[iy, ix]
            text = "" if np.isnan(value) else f"{value:.4g}\n±{spread[iy, ix]:.2g}"
            if diverged[iy, ix]:
                text += f"\n{int(diverged[iy, ix])} div"
            # dark text on the bright end of viridis, light text on the dark end
            bright = not np.isnan(value) and image.norm(value) > 0.6
            color = "k" if bright else "w"
            ax.text(ix, iy, text, ha="center", va="center", fontsize="x-small", color=color)
    pooled = [a for a in result.swept_axes() if a not in (x_axis, y_axis)]
    over = ", ".join(["seeds", *pooled]) if "seed" not in (x_axis, y_axis) else ", ".join(pooled)
    title = title or f"{label}: mean ± spread" + (f" over {over}" if over else "")
    ax.set_title(textwrap.fill(title, 70), fontsize="medium")
    return save(fig, path)


def ranking(result: Any, metric: str = "final_loss") -> list[int]:
    """Configuration indices best first by `metric` (lowest loss, highest accuracy); diverged
    configurations and missing values last."""
    if metric not in METRICS or getattr(result, metric) is None:
        raise checks.InputError(
            f"metric: expected one of {METRICS} (with data for it), got {metric!r}"
        )
    values = np.asarray(getattr(result, metric), float)
    score = values if metric.endswith("loss") else -values
    score = np.where(result.diverged | np.isnan(score), np.inf, score)
    return [int(i) for i in np.argsort(score, kind="stable")]


def sweep_figures(
    result: Any,
    out: PathLike,
    *,
    heatmap: tuple[str, str] | None = None,
    metric: str = "final_loss",
) -> list[Path]:
    """A `SweepResult`'s figures in folder `out`: `sweep_heatmap.png` (`metric` over the axes
    `heatmap`, see `sweep_heatmap`), `sweep_curves.png` (learning curves of the best and the
    worst configuration by `metric` that did not diverge, the best's validation curves, and
    the first diverged one's) and `sweep_boundary.png` (the best model's decision boundary on
    its training data, for softmax classifiers of 2-D inputs). Returns the paths written."""
    out = Path(out)
    order = ranking(result, metric)  # checks `metric` before anything is drawn
    paths = [sweep_heatmap(result, out / "sweep_heatmap.png", axes=heatmap, metric=metric)]
    swept = result.swept_axes()
    fine = [i for i in order if not result.diverged[i]]
    bad = [i for i in order if result.diverged[i]]
    picked = {"best": fine[:1], "worst": fine[1:][-1:], "diverged": bad[:1]}
    curves, described = {}, []
    for name, indices in picked.items():
        for i in indices:
            history = result.history_of(i)
            curves[name] = history
            described.append(f"{name}: {describe(result.configs[i], swept)}")
            if name == "best" and result.validation_data is not None:
                curves["best, validation"] = Curves(
                    history.epoch, history.validation_loss, history.validation_accuracy
                )
    title = "\n".join(textwrap.fill(line, 110) for line in described)
    paths.append(learning_curves(curves, out / "sweep_curves.png", title=title or None))
    if not fine:  # every configuration diverged: no model worth drawing
        return paths
    best = fine[0]
    model = result.model_of(best)
    n_inputs = np.shape(result.params[best][0]["weights"])[0]
    if model.head.name == "softmax" and n_inputs == 2:
        _, X, y, _ = result.setup(best)  # its training data (a generator's draw for its seed)
        paths.append(
            decision_boundary(
                result.params[best],
                X,
                y,
                out / "sweep_boundary.png",
                model=model,
                title=f"best: {describe(result.configs[best], swept)}",
            )
        )
    return paths


def describe(config: dict, axes: Sequence[str]) -> str:
    """`name=value, ...` of the swept axes and the seed of one configuration."""
    return ", ".join(f"{k}={axis_label(k, config[k])}" for k in [*axes, "seed"])
