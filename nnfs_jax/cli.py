"""The `nnfs-jax` command: the package's main jobs from a shell.

    nnfs-jax train          document 002's spiral run (every option has the document's default)
    nnfs-jax search         random search or hill climbing (documents 000, 001)
    nnfs-jax sweep          many trainings in one compiled call
    nnfs-jax gradcheck      manual vs jax.grad vs finite differences, leaf by leaf
    nnfs-jax derivative     numerical derivatives of f(x) = 2x^2 against the exact one
    nnfs-jax experiments    list or run the experiment scripts

Every subcommand takes --seed, --out DIR (figures), --json (one JSON object per line on
stdout) and --quiet (no progress bar; the bar is drawn on stderr only when it is a terminal).
Bad options and bad files end with a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PROG = "nnfs-jax"


class UsageError(Exception):
    """A bad option or file: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: error: {message}")


# --- output ----------------------------------------------------------------------------------


class Output:
    """Where a subcommand's results go: human text, or JSON lines with --json."""

    def __init__(self, as_json: bool):
        self.as_json = as_json

    def text(self, line: str = "") -> None:
        if not self.as_json:
            print(line, flush=True)

    def record(self, obj: dict[str, Any], line: str | None = None) -> None:
        """One result: a JSON line with --json, else `line` (if any) as text."""
        if self.as_json:
            print(json.dumps(obj, default=_json_default), flush=True)
        elif line is not None:
            print(line, flush=True)


def _json_default(value: Any) -> Any:
    try:
        return float(value) if getattr(value, "ndim", 1) == 0 else value.tolist()
    except (AttributeError, TypeError):
        return str(value)


class ProgressBar:
    """A one-line bar on stderr, redrawn in place; silent unless stderr is a terminal."""

    def __init__(self, total: int, label: str, enabled: bool):
        self.total, self.label = max(int(total), 1), label
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        frac = min(max(done / self.total, 0.0), 1.0)
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r{self.label} [{bar}] {100 * frac:5.1f}% {elapsed:6.1f}s {note}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


# --- option parsing helpers ------------------------------------------------------------------


def int_list(text: str) -> list[int]:
    """'64' or '64,32' -> [64] / [64, 32]."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def float_list(text: str) -> list[float]:
    """'0.01,0.1,1' -> [0.01, 0.1, 1.0]."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def out_dir(text: str) -> Path:
    """--out: a folder that exists or can be made; checked before any computation, so a bad
    path does not cost a whole run."""
    path = Path(text)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{existing} exists and is not a folder")
    return path


def common_options(parser: argparse.ArgumentParser, seed_help: str) -> None:
    parser.add_argument("--seed", type=int, default=0, help=seed_help)
    parser.add_argument("--out", type=out_dir, help="write figures (PNG) into this folder")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--float64", action="store_true", help="compute in float64 (default: float32)"
    )


def out_path(args: argparse.Namespace, name: str) -> Path:
    args.out.mkdir(parents=True, exist_ok=True)
    return args.out / name


def optimizer_from(args: argparse.Namespace):
    """The optimizer named by --optimizer, with only the hyperparameters given on the line."""
    from nnfs_jax import optim

    given = {
        "learning_rate": args.lr,
        "decay": args.decay,
        "momentum": args.momentum,
        "epsilon": args.epsilon,
        "rho": args.rho,
        "beta_1": args.beta1,
        "beta_2": args.beta2,
    }
    return optim.get_optimizer(args.optimizer, **{k: v for k, v in given.items() if v is not None})


def optimizer_options(parser: argparse.ArgumentParser, lr_default: float | None) -> None:
    parser.add_argument(
        "--optimizer", default="sgd", help="sgd | adagrad | rmsprop | adam | optax.<name>"
    )
    parser.add_argument(
        "--lr", type=float, default=lr_default, help="learning rate (default: the optimizer's)"
    )
    parser.add_argument("--decay", type=float, help="1/t learning-rate decay")
    parser.add_argument("--momentum", type=float, help="SGD momentum in [0, 1)")
    parser.add_argument("--epsilon", type=float, help="adagrad / rmsprop / adam epsilon")
    parser.add_argument("--rho", type=float, help="rmsprop cache decay")
    parser.add_argument("--beta1", type=float, help="adam beta_1")
    parser.add_argument("--beta2", type=float, help="adam beta_2")


# --- train -----------------------------------------------------------------------------------


def add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the classifier (defaults: document 002's spiral run)",
        description="Train Dense -> ReLU -> Dense -> softmax full-batch. With no options: "
        "spiral data 100 x 3, 2-64-3, SGD lr 1.0, 10,001 epochs, logged every 100, drawn "
        "from NumPy's RNG in the documents' order (document 002's printed log).",
    )
    common_options(p, "NumPy seed for the documents' data and weights (nnfs.init uses 0)")
    p.add_argument("--data", choices=("spiral", "vertical"), default="spiral")
    p.add_argument("--samples", type=positive_int, default=100, help="samples per class")
    p.add_argument("--classes", type=positive_int, default=3)
    p.add_argument("--hidden", type=int_list, default=[64], help="hidden widths, e.g. 64 or 64,64")
    p.add_argument("--scale", type=float, default=0.01, help="initial weights: scale * N(0, 1)")
    p.add_argument(
        "--draw",
        type=positive_int,
        default=2,
        help="which (data, weights) draw after seeding; 002's printed log is the 2nd",
    )
    optimizer_options(p, lr_default=1.0)
    p.add_argument("--epochs", type=positive_int, default=10001)
    p.add_argument("--log-every", type=positive_int, default=100)
    p.add_argument("--grad", choices=("manual", "autodiff"), default="manual")
    p.add_argument("--activation", default="relu", help="relu | sigmoid | linear | step")
    p.set_defaults(run=run_train)


def run_train(args: argparse.Namespace, out: Output) -> int:
    import jax

    import nnfs_jax as nj
    from nnfs_jax.train import LogEntry

    sizes = (2, *args.hidden, args.classes)
    params, X, y = nj.book_setup(
        sizes,
        dataset=args.data,
        samples=args.samples,
        classes=args.classes,
        scale=args.scale,
        seed=args.seed,
        draw=args.draw,
    )
    if args.float64:
        params = jax.tree.map(lambda a: a.astype("float64"), params)
        X = X.astype("float64")
    optimizer = optimizer_from(args)
    n = len(y)
    bar = ProgressBar(args.epochs, "train", not args.quiet and not args.json)

    def report(entry: LogEntry) -> None:
        # Accuracy is a count over n samples; print it as the documents' float64 mean does.
        accuracy = round(entry.accuracy * n) / n
        out.record(
            {
                "epoch": entry.epoch,
                "accuracy": accuracy,
                "loss": entry.loss,
                "learning_rate": entry.learning_rate,
            },
            f"Epoch: {entry.epoch}\nAccuracy: {accuracy}\nLoss: {entry.loss}",
        )
        bar.update(entry.epoch, f"loss {entry.loss:.4f}")

    start = time.perf_counter()
    final, history = nj.train(
        params,
        X,
        y,
        optimizer=optimizer,
        epochs=args.epochs,
        log_every=args.log_every,
        grad=args.grad,
        activation=args.activation,
        progress=report,
    )
    jax.block_until_ready(final)
    jax.effects_barrier()
    seconds = time.perf_counter() - start
    bar.close()
    loss, acc = (
        float(nj.loss(final, X, y, args.activation)),
        float(nj.accuracy(nj.forward(final, X, args.activation), y)),
    )
    out.record(
        {
            "final": True,
            "epochs": args.epochs,
            "accuracy": round(acc * n) / n,
            "loss": loss,
            "seconds": seconds,
        },
        f"Final (after {args.epochs} epochs): accuracy {round(acc * n) / n:.4f}, loss {loss:.6f}"
        f" — {seconds:.2f} s including compilation",
    )
    if args.out:
        from nnfs_jax import plot

        paths = [
            plot.learning_curves(history, out_path(args, "learning_curves.png")),
            plot.decision_boundary(
                final, X, y, out_path(args, "decision_boundary.png"), activation=args.activation
            ),
        ]
        for path in paths:
            out.record({"figure": str(path)}, f"wrote {path}")
    return 0


# --- search ----------------------------------------------------------------------------------


def add_search(sub) -> None:
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
    p.add_argument("--scale", type=float, default=0.05, help="draws are scale * N(0, 1)")
    p.add_argument("--restarts", type=positive_int, default=1, help="hill climbing restarts")
    p.set_defaults(run=run_search)


def run_search(args: argparse.Namespace, out: Output) -> int:
    import jax

    import nnfs_jax as nj
    from nnfs_jax import search
    from nnfs_jax.train import BOOK_DATA

    nj.book_seed(args.seed)
    X, y = BOOK_DATA[args.data](args.samples, args.classes)
    if args.float64:
        X = X.astype("float64")
    sizes = (2, *args.hidden, args.classes)
    key = jax.random.key(args.seed)
    start = time.perf_counter()
    if args.method == "random":
        iterations = args.iterations or 100_000
        result = search.random_search(key, X, y, sizes, iterations=iterations, scale=args.scale)
    else:
        iterations = args.iterations or 10_000
        result = search.hill_climb(
            key, X, y, sizes, iterations=iterations, scale=args.scale, restarts=args.restarts
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
    return 0


# --- sweep -----------------------------------------------------------------------------------


def add_sweep(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="train many configurations in one compiled call (a hyperparameter sweep)",
        description="Train the classifier once per configuration: every combination of the "
        "axes' values (comma-separated lists) times --seeds seeds, on the documents' data "
        "(shared, drawn from NumPy's RNG seeded with --seed) or, with --data-per-seed, on "
        "each seed's own draw of the data. Prints the table sorted by final loss.",
    )
    common_options(p, "first seed: the seeds are SEED .. SEED + SEEDS - 1")
    p.add_argument("--optimizer", choices=("sgd", "adagrad", "rmsprop", "adam"), default="sgd")
    p.add_argument("--lr", type=float_list, default=[0.01, 0.1, 1.0], help="learning rates")
    p.add_argument("--decay", type=float_list, help="1/t decays, e.g. 0,1e-3")
    p.add_argument("--momentum", type=float_list, help="SGD momentums, e.g. 0,0.5,0.9")
    p.add_argument("--epsilon", type=float_list, help="adagrad / rmsprop / adam epsilons")
    p.add_argument("--rho", type=float_list, help="rmsprop cache decays")
    p.add_argument("--beta1", type=float_list, help="adam beta_1 values")
    p.add_argument("--beta2", type=float_list, help="adam beta_2 values")
    p.add_argument("--scale", type=float_list, default=[0.01], help="initial weight scales")
    p.add_argument(
        "--hidden",
        type=int_list,
        nargs="+",
        default=[[64]],
        help="architectures: hidden widths, e.g. '64' or '64 32,32' (two architectures)",
    )
    p.add_argument("--seeds", type=positive_int, default=4, help="seeds per configuration")
    p.add_argument("--data", choices=("spiral", "vertical"), default="spiral")
    p.add_argument("--samples", type=positive_int, default=100, help="samples per class")
    p.add_argument("--classes", type=positive_int, default=3)
    p.add_argument(
        "--data-per-seed",
        action="store_true",
        help="each seed draws its own data (jax.random) instead of sharing the documents' draw",
    )
    p.add_argument("--epochs", type=positive_int, default=1001)
    p.add_argument("--log-every", type=positive_int, default=100)
    p.add_argument("--budget", type=positive_int, default=512, help="memory budget per chunk, MiB")
    p.add_argument("--top", type=positive_int, default=10, help="table rows printed (text)")
    p.add_argument(
        "--heatmap",
        help="the two axes of the heatmap, e.g. lr,momentum (default: the first two swept)",
    )
    p.set_defaults(run=run_sweep)


SWEEP_AXES = {
    "lr": "learning_rate",
    "decay": "decay",
    "momentum": "momentum",
    "epsilon": "epsilon",
    "rho": "rho",
    "beta1": "beta_1",
    "beta2": "beta_2",
    "scale": "scale",
}


def run_sweep(args: argparse.Namespace, out: Output) -> int:
    import functools

    import jax
    import numpy as np

    import nnfs_jax as nj
    from nnfs_jax.sweep import DIVERGE_ABOVE, configurations, hyperparameter_names, sweep
    from nnfs_jax.train import BOOK_DATA

    takes = set(hyperparameter_names(args.optimizer)) | {"scale"}
    axes = {}
    for option, name in SWEEP_AXES.items():
        values = getattr(args, option)
        if values is None:
            continue
        if name not in takes:
            raise UsageError(f"--{option}: the {args.optimizer} optimizer has no {name}")
        axes[name] = values
    axes["hidden"] = [tuple(h) for h in args.hidden]
    if args.data_per_seed:
        make = {"spiral": nj.make_spiral, "vertical": nj.make_vertical}[args.data]
        data = functools.partial(make, samples=args.samples, classes=args.classes)
    else:
        nj.book_seed(args.seed)
        X, y = BOOK_DATA[args.data](args.samples, args.classes)
        data = (X.astype("float64") if args.float64 else X, y)
    seeds = list(range(args.seed, args.seed + args.seeds))
    heatmap = _heatmap_axes(args.heatmap, axes)
    configs = configurations(axes, optimizer=args.optimizer, seeds=seeds)
    bar = ProgressBar(len(configs), "sweep", not args.quiet and not args.json)

    def report(p) -> None:
        bar.update(p.configs_done, f"chunk {p.chunk}/{p.chunks}")

    start = time.perf_counter()
    result = sweep(
        data,
        axes,
        optimizer=args.optimizer,
        seeds=seeds,
        epochs=args.epochs,
        log_every=args.log_every,
        memory_budget=args.budget * 2**20,
        progress=report,
    )
    seconds = time.perf_counter() - start
    bar.close()
    rows = result.table()
    names = [SWEEP_AXES_BY_NAME.get(k, k) for k in (*axes, "seed")]
    out.text(
        f"{len(rows)} configurations, {args.epochs} epochs each, in {seconds:.2f} s including "
        f"compilation ({result.chunks} chunk(s)); best first:"
    )
    out.text(" ".join(f"{n:>10}" for n in names) + f" {'loss':>10} {'accuracy':>9} {'diverged':>9}")
    for row in rows:
        text = None
        if row["rank"] < args.top or row["rank"] == len(rows) - 1:
            cells = " ".join(f"{_cell(row[k]):>10}" for k in (*axes, "seed"))
            diverged = "" if row["diverged_at"] is None else f"epoch {row['diverged_at']}"
            text = f"{cells} {row['final_loss']:10.6f} {row['accuracy']:9.4f} {diverged:>9}"
        out.record(row, text)
    diverged = int(np.sum(result.diverged))
    out.record(
        {
            "final": True,
            "configs": len(rows),
            "diverged": diverged,
            "epochs": args.epochs,
            "chunks": result.chunks,
            "devices": jax.device_count(),
            "seconds": seconds,
        },
        f"{diverged} of {len(rows)} configurations diverged (loss NaN, inf, or above "
        f"{DIVERGE_ABOVE:g}x its starting value)"
        if diverged
        else None,
    )
    if args.out:
        from nnfs_jax import plot

        paths = [
            result.to_csv(out_path(args, "sweep.csv")),
            result.to_jsonl(out_path(args, "sweep.jsonl")),
        ]
        paths += plot.sweep_figures(result, args.out, heatmap=heatmap)
        for path in paths:
            out.record({"file": str(path)}, f"wrote {path}")
    return 0


SWEEP_AXES_BY_NAME = {name: option for option, name in SWEEP_AXES.items()}


def _cell(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _heatmap_axes(text: str | None, axes: dict) -> tuple[str, str] | None:
    """The heatmap's (x, y) axis names from '--heatmap lr,momentum', checked against the
    axes swept; None to let the figure pick."""
    if text is None:
        return None
    options = [t.strip() for t in text.split(",")]
    if len(options) != 2 or any(o not in SWEEP_AXES and o != "hidden" for o in options):
        raise UsageError(
            f"--heatmap: expected two of {', '.join([*SWEEP_AXES, 'hidden'])}, e.g. lr,momentum;"
            f" got {text!r}"
        )
    names = tuple(SWEEP_AXES.get(o, o) for o in options)
    for option, name in zip(options, names, strict=True):
        if name not in axes:
            raise UsageError(f"--heatmap: --{option} is not swept (give it values)")
    return names


# --- gradcheck -------------------------------------------------------------------------------


def add_gradcheck(sub) -> None:
    p = sub.add_parser(
        "gradcheck",
        help="manual vs jax.grad vs finite differences, leaf by leaf",
        description="Compare the documents' hand-written backward pass, jax.grad and central "
        "differences on the documents' spiral data and initialisation (or --random-init).",
    )
    common_options(p, "NumPy seed for the documents' data and weights; jax seed with --random-init")
    p.add_argument("--sizes", type=int_list, default=[2, 64, 3], help="layer widths, e.g. 2,64,3")
    p.add_argument("--data", choices=("spiral", "vertical"), default="spiral")
    p.add_argument("--samples", type=positive_int, default=100, help="samples per class")
    p.add_argument("--scale", type=float, default=0.01, help="initial weights: scale * N(0, 1)")
    p.add_argument(
        "--random-init",
        action="store_true",
        help="random weights AND biases from jax.random (moves pre-activations off ReLU's kink)",
    )
    p.add_argument("--h", type=float, help="finite-difference step (default eps ** (1/3))")
    p.add_argument("--activation", default="relu")
    p.set_defaults(run=run_gradcheck)


def run_gradcheck(args: argparse.Namespace, out: Output) -> int:
    import jax

    import nnfs_jax as nj

    if len(args.sizes) < 2:
        raise UsageError("--sizes: expected at least two widths, e.g. 2,64,3")
    params, X, y = nj.book_setup(
        args.sizes,
        dataset=args.data,
        samples=args.samples,
        classes=args.sizes[-1],
        scale=args.scale,
        seed=args.seed,
        draw=1,
    )
    dtype = "float64" if args.float64 else "float32"
    if args.random_init:
        k_weights, k_biases = jax.random.split(jax.random.key(args.seed))
        params = nj.init_params(k_weights, args.sizes, args.scale)
        bias_keys = jax.random.split(k_biases, len(params))
        params = [
            dict(p, biases=args.scale * jax.random.normal(k, p["biases"].shape))
            for p, k in zip(params, bias_keys, strict=True)
        ]
    params = jax.tree.map(lambda a: a.astype(dtype), params)
    report = nj.compare_gradients(params, X.astype(dtype), y, args.h, args.activation)
    for leaf, pairs in report.errors.items():
        for pair, err in pairs.items():
            out.record(
                {
                    "leaf": leaf,
                    "pair": pair,
                    "max_abs": float(err["max_abs"]),
                    "max_rel": float(err["max_rel"]),
                }
            )
    out.record(
        {
            "summary": True,
            "dtype": dtype,
            "h": float(report.h),
            "kinks": int(report.kinks),
            "saturated": int(report.saturated),
        },
        nj.format_comparison(report),
    )
    if args.out:
        from nnfs_jax import plot

        path = plot.gradient_errors(report, out_path(args, "gradient_errors.png"))
        out.record({"figure": str(path)}, f"wrote {path}")
    return 0


# --- derivative ------------------------------------------------------------------------------


def _functions() -> dict[str, Callable]:
    import jax.numpy as jnp

    return {
        "2x^2": lambda x: 2 * x**2,
        "x^3": lambda x: x**3,
        "sin": jnp.sin,
        "exp": jnp.exp,
    }


def add_derivative(sub) -> None:
    p = sub.add_parser(
        "derivative",
        help="numerical derivatives of f(x) = 2x^2 (documents 000, 001) against jax.grad",
        description="The documents' tangent-line derivative (y2 - y1) / (x2 - x1) with "
        "x2 = x1 + delta, beside the exact derivative from jax.grad, then the forward and "
        "central difference errors as the step shrinks from 1 to 1e-12.",
    )
    common_options(p, "unused (no randomness); accepted for symmetry")
    p.add_argument("--function", choices=("2x^2", "x^3", "sin", "exp"), default="2x^2")
    p.add_argument("--at", type=float_list, default=[0, 1, 2, 3, 4], help="points, e.g. 0,1,2")
    p.add_argument("--delta", type=float, default=0.0001, help="the documents' p2_delta")
    p.set_defaults(run=run_derivative)


def run_derivative(args: argparse.Namespace, out: Output) -> int:
    import jax
    import jax.numpy as jnp
    import numpy as np

    if not args.delta > 0:
        raise UsageError(f"--delta: expected a positive step, got {args.delta}")
    f = _functions()[args.function]
    dtype = jnp.float64 if args.float64 else jnp.float32
    df = jax.grad(f)
    points, slopes = [], []
    for x1 in args.at:
        x1 = jnp.asarray(x1, dtype)
        x2 = x1 + jnp.asarray(args.delta, dtype)
        y1, y2 = f(x1), f(x2)
        slope = float((y2 - y1) / (x2 - x1))
        points.append((float(x1), float(y1)))
        slopes.append(slope)
        out.record(
            {"x": float(x1), "approximate": slope, "exact": float(df(x1))},
            f"({float(x1)}, {float(y1)}) ({float(x2)}, {float(y2)})\n"
            f"Approximate derivative for f(x) where x = {float(x1)} is {slope} "
            f"(exact: {float(df(x1))})",
        )
    x0 = jnp.asarray(args.at[min(1, len(args.at) - 1)], dtype)
    exact = float(df(x0))
    steps = 10.0 ** -np.arange(0, 13)
    errors = {"forward": [], "central": []}
    out.text(f"\nerror of the difference quotients at x = {float(x0)} ({jnp.dtype(dtype).name}):")
    out.text(f"{'h':>8} {'forward':>12} {'central':>12}")
    for h in steps:
        hh = jnp.asarray(h, dtype)
        forward = float((f(x0 + hh) - f(x0)) / hh)
        central = float((f(x0 + hh) - f(x0 - hh)) / (2 * hh))
        errors["forward"].append(abs(forward - exact))
        errors["central"].append(abs(central - exact))
        out.record(
            {
                "h": float(h),
                "forward_error": abs(forward - exact),
                "central_error": abs(central - exact),
            },
            f"{h:8.0e} {abs(forward - exact):12.3e} {abs(central - exact):12.3e}",
        )
    if args.out:
        from nnfs_jax import plot

        xs = np.linspace(min(args.at) - 1, max(args.at) + 1, 400)
        paths = [
            plot.tangent_lines(
                xs, np.asarray(f(jnp.asarray(xs))), points, slopes, out_path(args, "tangents.png")
            ),
            plot.finite_difference_errors(steps, errors, out_path(args, "fd_errors.png")),
        ]
        for path in paths:
            out.record({"figure": str(path)}, f"wrote {path}")
    return 0


# --- experiments -----------------------------------------------------------------------------


def experiments_dir() -> Path:
    """The repository's experiments/ folder (or $NNFS_JAX_EXPERIMENTS)."""
    env = os.environ.get("NNFS_JAX_EXPERIMENTS")
    folder = Path(env) if env else Path(__file__).resolve().parent.parent / "experiments"
    if not folder.is_dir():
        raise UsageError(
            f"experiments: no experiments folder at {folder} (they ship with the source "
            "checkout; set NNFS_JAX_EXPERIMENTS to its path)"
        )
    return folder


def experiment_scripts() -> dict[str, Path]:
    return {p.stem: p for p in sorted(experiments_dir().glob("e[0-9][0-9]_*.py"))}


def add_experiments(sub) -> None:
    p = sub.add_parser(
        "experiments",
        help="list or run the experiment scripts (one per topic of the documents)",
        description="'list' shows the scripts; 'run NAME [NAME ...]' or 'run all' runs them "
        "(a name may be its number, e.g. e07 or 7).",
    )
    p.add_argument("action", choices=("list", "run"))
    p.add_argument("names", nargs="*", help="scripts to run, or 'all'")
    p.add_argument("--quick", action="store_true", help="the scripts' small CI settings")
    p.add_argument("--out", type=out_dir, default=Path("out"), help="figures go to OUT/<script>")
    p.add_argument("--seed", type=int, help="passed on to each script")
    p.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_experiments)


def _resolve(name: str, scripts: dict[str, Path]) -> str:
    if name in scripts:
        return name
    number = name.removeprefix("e").zfill(2)
    matches = [s for s in scripts if s.startswith(f"e{number}_")]
    if len(matches) != 1:
        raise UsageError(f"experiments: unknown experiment {name!r}; see '{PROG} experiments list'")
    return matches[0]


def run_experiments(args: argparse.Namespace, out: Output) -> int:
    scripts = experiment_scripts()
    if args.action == "list":
        for name, path in scripts.items():
            doc = (_module_doc(path) or "").strip().splitlines()
            out.record(
                {"name": name, "summary": doc[0] if doc else ""},
                f"{name:<36} {doc[0] if doc else ''}",
            )
        return 0
    if not args.names:
        raise UsageError("experiments run: name the scripts to run, or 'all'")
    names = list(scripts) if args.names == ["all"] else [_resolve(n, scripts) for n in args.names]
    bar = ProgressBar(len(names), "experiments", not args.quiet and not args.json)
    for i, name in enumerate(names):
        bar.update(i, name)
        argv = ["--out", str(args.out / name)]
        argv += ["--quick"] if args.quick else []
        argv += ["--seed", str(args.seed)] if args.seed is not None else []
        start = time.perf_counter()
        out.text(f"== {name}")
        # With --json, stdout carries only JSON lines: the scripts' own prints go to stderr.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            result = _load(scripts[name]).main(argv)
        out.record(
            {"experiment": name, "seconds": time.perf_counter() - start, "result": result},
            f"== {name} done in {time.perf_counter() - start:.1f} s",
        )
    bar.update(len(names))
    bar.close()
    return 0


def _module_doc(path: Path) -> str | None:
    import ast

    return ast.get_docstring(ast.parse(path.read_text()))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"nnfs_jax_experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- entry point -----------------------------------------------------------------------------


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (add_train, add_search, add_sweep, add_gradcheck, add_derivative, add_experiments):
        add(sub)
    return parser


def _version() -> str:
    from nnfs_jax import __version__

    return f"{PROG} {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad options or files)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "float64", False):
            import jax

            jax.config.update("jax_enable_x64", True)
        status = args.run(args, Output(args.json))
    except UsageError as err:
        print(_one_line(str(err)), file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as err:
        # Validation errors from the library name the bad argument; one line is enough.
        # NNFS_JAX_TRACEBACK=1 shows the whole traceback instead (for debugging).
        if os.environ.get("NNFS_JAX_TRACEBACK"):
            raise
        command = getattr(locals().get("args"), "command", "")
        print(_one_line(f"{PROG} {command}: error: {err}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status


def _one_line(message: str) -> str:
    return " ".join(message.split())


if __name__ == "__main__":
    sys.exit(main())
