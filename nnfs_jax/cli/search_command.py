"""`nnfs-jax search`: document 000's random search or document 001's hill climbing over
weights, printed as the documents print each improvement."""

from __future__ import annotations

import argparse
import math
import time

from nnfs_jax.cli.common import (
    Output,
    activation_option,
    common_options,
    int_list,
    out_path,
    positive,
    positive_int,
)
from nnfs_jax.cli.errors import RunFailed


def add_parser(sub) -> None:
    p = sub.add_parser(
        "search",
        help="random search (000) or hill climbing (001) over weights",
        description="Pure random search draws fresh weights every iteration and keeps the "
        "lowest loss (document 000); hill climbing perturbs the best weights and keeps the "
        "change only if the loss went down (document 001).",
    )
    common_options(p, "jax.random seed (data come from the documents' NumPy RNG, seeded with it)")
    p.add_argument("--method", choices=("random", "hill"), default="random")
    p.add_argument("--data", choices=("vertical", "spiral"), default="vertical")
    p.add_argument("--samples", type=positive_int, default=100, help="samples per class")
    p.add_argument("--classes", type=positive_int, default=3)
    p.add_argument("--hidden", type=int_list, default=[3], help="hidden widths, e.g. 3")
    p.add_argument(
        "--iterations", type=positive_int, help="default 100,000 (random), 10,000 (hill)"
    )
    p.add_argument("--scale", type=positive, default=0.05, help="draws are scale * N(0, 1)")
    p.add_argument("--restarts", type=positive_int, default=1, help="hill climbing restarts")
    activation_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    import jax

    import nnfs_jax as nj
    from nnfs_jax import search

    nj.book_seed(args.seed)
    X, y = nj.BOOK_DATA[args.data](args.samples, args.classes)
    if args.float64:
        X = X.astype("float64")
    sizes = (2, *args.hidden, args.classes)
    key = jax.random.key(args.seed)
    start = time.perf_counter()
    if args.method == "random":
        iterations = args.iterations or 100_000
        result = search.random_search(
            key,
            X,
            y,
            sizes,
            iterations=iterations,
            scale=args.scale,
            activation=args.activation,
        )
    else:
        iterations = args.iterations or 10_000
        result = search.hill_climb(
            key,
            X,
            y,
            sizes,
            iterations=iterations,
            scale=args.scale,
            restarts=args.restarts,
            activation=args.activation,
        )
    jax.block_until_ready(result.loss)
    seconds = time.perf_counter() - start
    imp = result.improvements
    for i, loss, acc in zip(imp.iteration, imp.loss, imp.accuracy, strict=True):
        out.record(
            {"iteration": int(i), "loss": float(loss), "accuracy": float(acc)},
            f"New set of weights found, iteration: {int(i)} loss: {float(loss)} acc: {float(acc)}",
        )
    out.record(
        {
            "final": True,
            "method": args.method,
            "iterations": iterations,
            "loss": float(result.loss),
            "accuracy": float(result.accuracy),
            "seconds": seconds,
        },
        f"Best after {iterations} iterations: loss {float(result.loss):.6f}, accuracy "
        f"{float(result.accuracy):.4f} — {seconds:.2f} s including compilation",
    )
    if args.out:
        from nnfs_jax import plot

        path = plot.search_progress(
            {args.method: (imp.iteration, imp.loss)}, out_path(args, "search.png"), end=iterations
        )
        out.record({"figure": str(path)}, f"wrote {path}")
    if not math.isfinite(float(result.loss)):
        raise RunFailed(
            f"no weights with a finite loss in {iterations} iterations (every loss NaN or "
            "infinite); a smaller --scale may help"
        )
    return 0
