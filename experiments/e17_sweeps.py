"""Hyperparameter sweeps, each grid of configurations trained in one `nj.sweep` call.

(a) Fashion-MNIST with the book's chapter-19 model (784-128-128-10, ReLU, softmax with
categorical cross-entropy, `Optimizer_Adam(decay=1e-3)`, batches of 128 reshuffled every
epoch, the test set as validation data), swept over the learning rate x the L2 weight
regularization of the two hidden layers (`weight_regularizer_l2=(l2, l2, 0)`: the output layer
is left alone, as the book regularizes only hidden layers) x 4 seeds. Every configuration is
the run `nj.fit` would train alone (`result.replay(i)` retrains it; the vmapped program rounds
differently, so in float32 the two drift apart as these runs amplify round-off, while in
float64 they agree to ~1e-9); seed s initialises the weights (`init_params`, 0.01 x a standard
normal) and shuffles the batches from `nj.seed_keys(s)`. Without Debian's
`dataset-fashion-mnist` part (a) is skipped with the install line.

(b) The chapter-14 spiral (`spiral_data(100, 3)` after `nnfs.init()`, the test spiral drawn
after it), 2-64-3 with Adam lr 0.02 decay 5e-7 as in e11, full batch (every configuration is
`nj.train`'s run, the dropout masks from seed s's training key), swept over the hidden layer's
L2 weight regularization x the dropout rate after it x 4 seeds.

Both print the mean ± standard deviation over the seeds of the final validation accuracy for
every cell of the grid, the best cell, and the best single runs; both draw the grid as a
heatmap (`plot.sweep_heatmap(..., metric="final_validation_accuracy")`). Full size: (a) the
60,000 / 10,000 images, 3 learning rates x 3 L2 strengths x 4 seeds, 5 epochs (best cell:
learning rate 0.003 without L2, 0.874 ± 0.003; L2 up to 5e-4 changes little in 5 epochs);
(b) 4 L2 x 4 dropout x 4 seeds, 10,001 epochs (best cell: neither, 0.814 ± 0.028; any dropout
costs 0.15-0.27 on 300 points). About 2 minutes on 2 CPU cores. `--quick`: (a) on the first
1,000 / 500 images for 2 epochs, 2 x 2 x 4; (b) 201 epochs, 2 x 2 x 4.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import nnfs_jax as nj
from nnfs_jax import optim, plot

NAME = Path(__file__).stem
SEEDS = 4
METRIC = "final_validation_accuracy"
INSTALL = (
    "Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist "
    "(or point NNFS_JAX_FASHION_MNIST to a folder with its four IDX files)"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny grids and subsets (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed; first sweep seed")
    return parser.parse_args(argv)


def print_grid(result: nj.SweepResult, x_axis: str, y_axis: str) -> dict:
    """The validation accuracy's mean ± standard deviation over the seeds per cell, and the
    best cell (highest mean); returns the best cell's values and numbers."""
    xs, ys, mean, std, diverged = result.grid(x_axis, y_axis, METRIC)
    width = 17
    print(f"validation accuracy, mean ± sd over {SEEDS} seeds ({y_axis} down, {x_axis} across)")
    print(" " * width + "".join(f"{plot.axis_label(x_axis, x):>{width}}" for x in xs))
    for iy, y_value in enumerate(ys):
        cells = "".join(
            f"{f'{mean[iy, ix]:.4f} ± {std[iy, ix]:.4f}':>{width}}"
            + ("" if not diverged[iy, ix] else f" ({diverged[iy, ix]} div)")
            for ix in range(len(xs))
        )
        print(f"{plot.axis_label(y_axis, y_value):>{width}}{cells}")
    iy, ix = np.unravel_index(np.nanargmax(mean), mean.shape)
    best = {
        x_axis: xs[ix],
        y_axis: ys[iy],
        "mean": float(mean[iy, ix]),
        "std": float(std[iy, ix]),
    }
    print(
        f"best cell: {x_axis}={plot.axis_label(x_axis, xs[ix])}, "
        f"{y_axis}={plot.axis_label(y_axis, ys[iy])}: validation accuracy "
        f"{best['mean']:.4f} ± {best['std']:.4f}"
    )
    return best


def print_best_runs(result: nj.SweepResult, top: int = 5) -> list[dict]:
    """The `top` single runs by final validation accuracy, as `result.table()` rows."""
    rows = sorted(result.table(), key=lambda r: -np.nan_to_num(r["validation_accuracy"], nan=-1))
    axes = [*result.swept_axes(), "seed"]
    header = "".join(f"{a:>22}" for a in axes)
    print(f"best runs:\n{header}{'loss':>9}{'acc':>8}{'val loss':>10}{'val acc':>9}")
    for row in rows[:top]:
        config = result.configs[row["index"]]
        cells = "".join(f"{plot.axis_label(a, config[a]):>22}" for a in axes)
        print(
            f"{cells}{row['final_loss']:>9.4f}{row['accuracy']:>8.4f}"
            f"{row['validation_loss']:>10.4f}{row['validation_accuracy']:>9.4f}"
        )
    return rows[:top]


def fashion_mnist(args, quick: bool) -> tuple[dict | None, list[Path]]:
    """Part (a); (None, []) when the data set is not installed."""
    print("# (a) Fashion-MNIST: learning rate x hidden-layer L2 x seeds, batch 128")
    try:
        X, y, X_test, y_test = nj.load_fashion_mnist()
    except FileNotFoundError:
        print(f"(a) skipped: {INSTALL}\n")
        return None, []
    if quick:
        X, y, X_test, y_test = X[:1000], y[:1000], X_test[:500], y_test[:500]
        rates, strengths, epochs = [0.001, 0.003], [0.0, 5e-4], 2
    else:
        rates, strengths, epochs = [0.0003, 0.001, 0.003], [0.0, 1e-4, 5e-4], 5
    axes = {
        "hidden": [(128, 128)],  # the widths (a sweep's default is 64 per hidden layer)
        "learning_rate": rates,
        "weight_regularizer_l2": [(s, s, 0.0) for s in strengths],  # the hidden layers only
    }
    seeds = list(range(args.seed, args.seed + SEEDS))
    print(
        f"784-128-128-10, Adam decay 1e-3, {len(rates)} x {len(strengths)} x {SEEDS} seeds, "
        f"{epochs} epochs, {len(X)} training and {len(X_test)} test images"
    )
    start = time.perf_counter()
    result = nj.sweep(
        (X, y),
        axes,
        model=nj.make_model(3),
        optimizer=optim.adam(decay=1e-3),
        seeds=seeds,
        epochs=epochs,
        batch_size=128,
        validation_data=(X_test, y_test),
        # The planner budgets activations for the whole training set at once (about 2 GB for
        # 4 models of 60,000 samples); batches of 128 need a small part of that.
        memory_budget=3 << 30,
    )
    seconds = time.perf_counter() - start
    print(f"{len(result)} configurations in {seconds:.1f} s (compilation included)")
    best = print_grid(result, "learning_rate", "weight_regularizer_l2")
    top = print_best_runs(result)
    print()
    out = args.out
    figures = [
        plot.sweep_heatmap(
            result,
            out / "fashion_heatmap.png",
            axes=("learning_rate", "weight_regularizer_l2"),
            metric=METRIC,
            title="Fashion-MNIST: validation accuracy, mean ± sd over 4 seeds",
        ),
        best_curves(result, out / "fashion_curves.png", "Fashion-MNIST"),
    ]
    numbers = {
        "result": result,
        "best_cell": best,
        "best_runs": top,
        "epochs": epochs,
        "seconds": seconds,
        "test_data": (X_test, y_test),
    }
    return numbers, figures


def best_curves(result: nj.SweepResult, path: Path, name: str) -> Path:
    """The learning curves (training and validation) of the best run by validation accuracy."""
    best = int(plot.ranking(result, METRIC)[0])
    history = result.history_of(best)
    validation = history._replace(
        loss=history.validation_loss, accuracy=history.validation_accuracy
    )
    label = ", ".join(
        f"{a}={plot.axis_label(a, result.configs[best][a])}" for a in result.swept_axes()
    )
    return plot.learning_curves(
        {"training": history, "validation": validation},
        path,
        title=f"{name}, best run: {label}, seed {result.configs[best]['seed']}",
    )


def spiral(args, quick: bool) -> tuple[dict, list[Path]]:
    """Part (b)."""
    print("# (b) spiral 2-64-3: hidden-layer L2 x dropout x seeds, full batch")
    nj.book_seed(args.seed)
    X, y = nj.spiral_data(100, 3)
    X_test, y_test = nj.spiral_data(100, 3)
    if quick:
        strengths, rates, epochs = [0.0, 5e-4], [0.0, 0.1], 201
    else:
        strengths, rates, epochs = [0.0, 1e-4, 5e-4, 1e-3], [0.0, 0.05, 0.1, 0.2], 10001
    axes = {
        "weight_regularizer_l2": [(s, 0.0) for s in strengths],  # the hidden layer only
        "dropout": rates,
    }
    print(
        f"Adam lr 0.02 decay 5e-7, {len(strengths)} x {len(rates)} x {SEEDS} seeds, {epochs} epochs"
    )
    start = time.perf_counter()
    result = nj.sweep(
        (X, y),
        axes,
        model=nj.make_model(2),
        optimizer=optim.adam(learning_rate=0.02, decay=5e-7),
        seeds=list(range(args.seed, args.seed + SEEDS)),
        epochs=epochs,
        log_every=100,
        validation_data=(X_test, y_test),
    )
    seconds = time.perf_counter() - start
    print(f"{len(result)} configurations in {seconds:.1f} s (compilation included)")
    best = print_grid(result, "weight_regularizer_l2", "dropout")
    top = print_best_runs(result)
    print()
    out = args.out
    winner = int(plot.ranking(result, METRIC)[0])
    figures = [
        plot.sweep_heatmap(
            result,
            out / "spiral_heatmap.png",
            axes=("weight_regularizer_l2", "dropout"),
            metric=METRIC,
            title="spiral: validation accuracy, mean ± sd over 4 seeds",
        ),
        best_curves(result, out / "spiral_curves.png", "spiral"),
        plot.decision_boundary(
            result.params[winner],
            X_test,
            y_test,
            out / "spiral_boundary.png",
            model=result.model_of(winner),
            title="best run on the test spiral, "
            f"acc {result.final_validation_accuracy[winner]:.3f}",
        ),
    ]
    numbers = {
        "result": result,
        "best_cell": best,
        "best_runs": top,
        "epochs": epochs,
        "seconds": seconds,
        "data": (X, y, X_test, y_test),
    }
    return numbers, figures


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    fashion, fashion_figures = fashion_mnist(args, args.quick)
    spiral_numbers, spiral_figures = spiral(args, args.quick)
    figures = fashion_figures + spiral_figures
    print("figures:", *map(str, figures), sep="\n  ")
    return {"fashion": fashion, "spiral": spiral_numbers, "figures": figures}


if __name__ == "__main__":
    main()
