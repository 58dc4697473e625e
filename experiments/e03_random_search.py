"""Weights without gradients: 000's random search and 001's hill climbing, on two data sets.

Follows 000 ("brute-force search over 100,000 random hidden-layer weight-bias combinations"):
a 2-3-3 network (Dense, ReLU, Dense, softmax, categorical cross-entropy) whose every weight and
bias is drawn afresh as `0.05 * np.random.randn(...)` at each iteration, keeping the draw with
the lowest loss (`search.random_search`; 000 compares against `lower_loss` but assigns
`lowest_loss`, so its threshold never moves: the intent, a running minimum, is what runs). And
001 ("Hackers method"): start from Dense(2, 3) / Dense(3, 3) with `0.01 * randn` weights and
add `0.05 * randn` to the best parameters each iteration, keeping the result only when the loss
went down (`search.hill_climb`), 10,000 iterations on `vertical_data(samples=100, classes=3)`.

Both print every improvement as the documents do ('New set of weights found, iteration: ...
loss: ... acc: ...'). Each method runs on both data sets: hill climbing solves the vertical
data (accuracy above 0.9) and neither solves the spiral (about 0.4), as the book finds.
The draws come from a `jax.random` key (`--seed`), not from NumPy's stream, so the iterations
at which improvements happen differ from a NumPy run's (the documents print none to compare).
`--quick`: 10,000 random draws and 2,000 climbing steps instead of 100,000 and 10,000.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax

import nnfs_jax as nj
from nnfs_jax import plot
from nnfs_jax.search import SearchResult, hill_climb, random_search

NAME = Path(__file__).stem
SIZES = (2, 3, 3)
SHOWN = 12  # improvements printed per run in full; the rest are counted


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed and JAX key")
    return parser.parse_args(argv)


def report(title: str, result: SearchResult) -> dict:
    """Print a search's improvements in the documents' format (the first and last few when
    there are many) and its outcome; return the numbers."""
    lines = result.improvements.lines()
    print(f"\n# {title}: {len(lines)} improvements")
    shown = lines if len(lines) <= SHOWN else [*lines[: SHOWN // 2], "...", *lines[-SHOWN // 2 :]]
    print(*shown, sep="\n")
    loss, accuracy = float(result.loss), float(result.accuracy)
    print(f"best: loss {loss:.7f}, accuracy {accuracy:.4f}")
    return {
        "loss": loss,
        "accuracy": accuracy,
        "improvements": result.improvements,
        "params": result.params,
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    draws = 10_000 if args.quick else 100_000
    steps = 2_000 if args.quick else 10_000

    nj.book_seed(args.seed)  # nnfs.init(); then 000's order: vertical, then spiral
    data = {
        "vertical": nj.vertical_data(samples=100, classes=3),
        "spiral": nj.spiral_data(samples=100, classes=3),
    }
    key_random, key_climb = jax.random.split(jax.random.key(args.seed))

    runs = {}
    for name, (X, y) in data.items():
        found = random_search(key_random, X, y, SIZES, iterations=draws, scale=0.05)
        runs[f"random search, {name}"] = report(
            f"000: random search, {draws} fresh draws, {name} data", found
        )
    for name, (X, y) in data.items():
        climbed = hill_climb(key_climb, X, y, SIZES, iterations=steps, scale=0.05)
        runs[f"hill climbing, {name}"] = report(
            f"001: hill climbing, {steps} steps, {name} data", climbed
        )

    out = args.out
    figures = [
        plot.search_progress(
            {
                label: (run["improvements"].iteration, run["improvements"].loss)
                for label, run in runs.items()
            },
            out / "search_progress.png",
            end={label: draws if "random" in label else steps for label in runs},
            title="lowest loss so far (each step: an improvement)",
        ),
        plot.decision_boundary(
            runs["hill climbing, vertical"]["params"],
            *data["vertical"],
            out / "hill_climbing_vertical.png",
            title=f"hill climbing on vertical data, {steps} steps",
        ),
        plot.decision_boundary(
            runs["random search, spiral"]["params"],
            *data["spiral"],
            out / "random_search_spiral.png",
            title=f"random search on spiral data, {draws} draws",
        ),
    ]
    print("\nfigures:", *map(str, figures), sep="\n  ")
    return {"runs": runs, "data": data, "draws": draws, "steps": steps, "figures": figures}


if __name__ == "__main__":
    main()
