"""nnfs_jax against an earlier nnfs_jax, side by side in one process: the benchmark workloads
(W1-W5, the 64-configuration sweep, Fashion-MNIST) timed interleaved, before and after.

    git worktree add /tmp/before <commit>
    python benchmarks/compare.py --before /tmp/before [--only W3,W4] [--repeats 5] [--json out.json]

The earlier package is copied to a temporary folder under the name `nnfs_jax_before` (its own
imports rewritten), so both versions run in the same process on the same arrays: each repeat
runs the earlier version then this one, and the table gives the medians and the median of the
paired ratios (after / before), with the compile time (first call minus the median) apart and
`os.getloadavg()` printed. Run it on a quiet machine: nothing else running.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W5-512", "FMNIST")


def load_before(checkout: Path):
    """The package of an earlier checkout, importable as `nnfs_jax_before`."""
    folder = Path(tempfile.mkdtemp(prefix="nnfs_jax_before_"))
    target = folder / "nnfs_jax_before"
    shutil.copytree(checkout / "nnfs_jax", target)
    for path in target.rglob("*.py"):
        path.write_text(re.sub(r"\bnnfs_jax\b", "nnfs_jax_before", path.read_text()))
    sys.path.insert(0, str(folder))
    return importlib.import_module("nnfs_jax_before")


def api(package, name: str):
    """`train`, `fit`, `sweep`, `random_search`, `hill_climb` of either version (the earlier
    one kept them in modules of those names)."""
    value = getattr(package, name)
    if callable(value):
        return value
    return getattr(value, name)


def workloads(before, after, quick: bool):
    """{name: (description, {version: call})}, every call on the same arrays."""
    import jax

    after.book_seed(0)
    vertical = after.vertical_data(100, 3)
    spiral_params, X, y = after.book_setup()
    key = jax.random.key(0)
    epochs = 1001 if quick else 10001
    out = {}

    def versions(fn):
        return {"before": lambda: fn(before), "after": lambda: fn(after)}

    out["W1"] = (
        "random search, vertical 2-3-3, 100,000 candidates",
        versions(
            lambda p: api(p, "random_search")(key, *vertical, (2, 3, 3), iterations=100_000).loss
        ),
    )
    out["W2"] = (
        "hill climbing, vertical 2-3-3, 10,000 iterations",
        versions(lambda p: api(p, "hill_climb")(key, *vertical, (2, 3, 3), iterations=10_000).loss),
    )
    out["W3"] = (
        f"SGD lr 1.0, spiral 100x3, 2-64-3, {epochs:,} epochs (document 002)",
        versions(
            lambda p: api(p, "train")(
                spiral_params, X, y, optimizer=p.optim.sgd(1.0), epochs=epochs
            )[0]
        ),
    )
    axes = {"learning_rate": [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0]}
    out["W4"] = (
        f"sweep, 64 configurations (8 lr x 8 seeds) of W3, {epochs:,} epochs",
        versions(lambda p: api(p, "sweep")((X, y), axes, seeds=8, epochs=epochs).final_loss),
    )
    big_epochs = 100 if quick else 1000
    for name, hidden in (("W5", 64), ("W5-512", 512)):
        after.book_seed(0)
        big_X, big_y = after.spiral_data(10_000 if not quick else 1000, 3)
        big_params = after.init_params_book((2, hidden, 3))
        out[name] = (
            f"SGD lr 1.0, spiral {len(big_y) // 3}x3, 2-{hidden}-3, {big_epochs} epochs",
            versions(
                lambda p, bp=big_params, bX=big_X, by=big_y: api(p, "train")(
                    bp, bX, by, optimizer=p.optim.sgd(1.0), epochs=big_epochs
                )[0]
            ),
        )
    try:
        data = after.load_fashion_mnist()
    except Exception as err:  # not installed: the row says so
        print(f"FMNIST skipped: {err}")
    else:
        X_train, y_train, X_test, y_test = data
        if quick:
            X_train, y_train, X_test, y_test = (
                X_train[:6000],
                y_train[:6000],
                X_test[:1000],
                y_test[:1000],
            )
        params = after.init_params(jax.random.key(0), (784, 128, 128, 10))

        def fashion(p):
            model = p.make_model(3)
            fit = api(p, "fit")
            return fit(
                params,
                X_train,
                y_train,
                model=model,
                optimizer=p.optim.adam(decay=1e-3),
                epochs=10,
                key=jax.random.key(1),
                batch_size=128,
                validation_data=(X_test, y_test),
            )[0]

        out["FMNIST"] = (
            "Fashion-MNIST, the chapter-19 model, 10 epochs, batch 128",
            versions(fashion),
        )
    return out


def measure(calls, repeats: int):
    """First-call seconds and the steady times of interleaved repeats, per version."""
    import jax

    def timed(fn):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        return time.perf_counter() - start

    first = {version: timed(fn) for version, fn in calls.items()}
    times = {version: [] for version in calls}
    for _ in range(repeats):
        for version, fn in calls.items():
            times[version].append(timed(fn))
    return first, times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--before", type=Path, required=True, help="a checkout of the earlier commit"
    )
    parser.add_argument("--only", help=f"comma-separated workloads of {', '.join(WORKLOADS)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if not (args.before / "nnfs_jax" / "__init__.py").is_file():
        parser.error(f"--before: {args.before} is not a checkout of nnfs_jax")
    only = set(WORKLOADS if args.only is None else args.only.split(","))
    if only - set(WORKLOADS):
        parser.error(f"--only: unknown workloads {sorted(only - set(WORKLOADS))}")
    sys.path.insert(0, str(ROOT))
    before = load_before(args.before)
    import nnfs_jax as after

    rows = []
    print(f"load average before: {os.getloadavg()}")
    print(
        f"{'workload':<8} {'before s':>9} {'after s':>9} {'after/before':>13} "
        f"{'compile before':>15} {'compile after':>14}  what"
    )
    for name, (what, calls) in workloads(before, after, args.quick).items():
        if name not in only:
            continue
        first, times = measure(calls, args.repeats)
        median = {v: statistics.median(t) for v, t in times.items()}
        ratio = statistics.median(
            a / b for a, b in zip(times["after"], times["before"], strict=True)
        )
        compile_ = {v: max(first[v] - median[v], 0.0) for v in times}
        rows.append(
            {
                "workload": name,
                "what": what,
                "median": median,
                "ratio": ratio,
                "compile": compile_,
                "times": times,
            }
        )
        print(
            f"{name:<8} {median['before']:>9.3f} {median['after']:>9.3f} {ratio:>13.3f} "
            f"{compile_['before']:>15.2f} {compile_['after']:>14.2f}  {what}",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        import json

        args.json.write_text(json.dumps({"loadavg": os.getloadavg(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
