"""The vertical and spiral data sets, drawn as document 000 draws them.

Follows 000 ("Running the vertical dataset", "Running the spiral dataset"): `nnfs.init()`, then
`vertical_data(samples=100, classes=3)` and `spiral_data(samples=100, classes=3)` from the same
seeded NumPy stream, each drawn with `plt.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap='brg')`.
Beside them the key-based twins `make_vertical` / `make_spiral`: the same distributions drawn
from a `jax.random` key (other draws, same shapes and statistics), jittable and vmappable.

Prints each data set's shape, dtypes and per-class statistics: the vertical classes are
Gaussian blobs centred at (class / 3, 0.5) with standard deviation 0.1; every spiral point
lies at radius r = linspace(0, 1, samples) whatever the noise (the noise moves the angle).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import numpy as np

import nnfs_jax as nj
from nnfs_jax import plot

NAME = Path(__file__).stem


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI); no effect here")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed and JAX key")
    return parser.parse_args(argv)


def class_stats(X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class mean and standard deviation of the features, and the radius range."""
    classes = np.unique(y)
    radius = np.hypot(X[:, 0], X[:, 1])
    return {
        "counts": np.array([np.sum(y == c) for c in classes]),
        "means": np.array([X[y == c].mean(axis=0) for c in classes]),
        "stds": np.array([X[y == c].std(axis=0) for c in classes]),
        "radius": np.array([radius.min(), radius.max()]),
    }


def describe(name: str, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Print and return a data set's shape, dtypes and class statistics."""
    stats = class_stats(X, y)
    print(f"{name}: X {X.shape} {X.dtype}, y {y.shape} {y.dtype}, per class {stats['counts']}")
    with np.printoptions(precision=3, suppress=True, floatmode="fixed"):
        print(f"  class means {stats['means']}".replace("\n", " "))
        print(f"  class stds  {stats['stds']}".replace("\n", " "))
    print(f"  radius from {stats['radius'][0]:.3f} to {stats['radius'][1]:.3f}")
    return stats


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    samples = 100  # the documents' size; already quick, so --quick changes nothing here

    # Document 000: nnfs.init(), then both data sets from the one seeded stream.
    nj.book_seed(args.seed)
    X_vertical, y_vertical = nj.vertical_data(samples=samples, classes=3)
    X_spiral, y_spiral = nj.spiral_data(samples=samples, classes=3)

    key_vertical, key_spiral = jax.random.split(jax.random.key(args.seed))
    Xk_vertical, yk_vertical = map(np.asarray, nj.make_vertical(key_vertical, samples, 3))
    Xk_spiral, yk_spiral = map(np.asarray, nj.make_spiral(key_spiral, samples, 3))

    stats = {
        "vertical": describe("vertical_data", X_vertical, y_vertical),
        "spiral": describe("spiral_data", X_spiral, y_spiral),
        "make_vertical": describe("make_vertical", Xk_vertical, yk_vertical),
        "make_spiral": describe("make_spiral", Xk_spiral, yk_spiral),
    }

    out = args.out
    figures = [
        plot.scatter(X_vertical, y_vertical, out / "vertical.png", title="vertical_data"),
        plot.scatter(X_spiral, y_spiral, out / "spiral.png", title="spiral_data"),
        plot.scatter_panels(
            {
                "vertical_data (NumPy stream)": (X_vertical, y_vertical),
                "spiral_data (NumPy stream)": (X_spiral, y_spiral),
                "make_vertical (JAX key)": (Xk_vertical, yk_vertical),
                "make_spiral (JAX key)": (Xk_spiral, yk_spiral),
            },
            out / "key_twins.png",
            ncols=2,
        ),
    ]
    print("figures:", *map(str, figures), sep="\n  ")
    return {
        "samples": samples,
        "data": {
            "vertical": (X_vertical, y_vertical),
            "spiral": (X_spiral, y_spiral),
            "make_vertical": (Xk_vertical, yk_vertical),
            "make_spiral": (Xk_spiral, yk_spiral),
        },
        "stats": stats,
        "figures": figures,
    }


if __name__ == "__main__":
    main()
