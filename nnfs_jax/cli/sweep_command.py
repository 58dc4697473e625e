"""`nnfs-jax sweep`: many trainings of the classifier in one compiled call per shape, every
combination of the axes' values times the seeds, printed as a table sorted by final loss.
Diverged configurations are reported in the table; exit status 1 only when all diverged."""

from __future__ import annotations

import argparse
import time
from typing import Any

from nnfs_jax.cli import processes
from nnfs_jax.cli.common import (
    PLURAL,
    REGULARIZER_OPTIONS,
    Output,
    ProgressBar,
    UsageError,
    activation_option,
    common_options,
    float_list,
    int_list,
    non_negative_list,
    out_path,
    positive,
    positive_int,
    positive_int_list,
    rate_list,
    strength_list,
)
from nnfs_jax.cli.errors import RunFailed

# option (its argparse dest) -> the sweep's axis name
OPTIMIZER_AXES = {
    "lr": "learning_rate",
    "decay": "decay",
    "momentum": "momentum",
    "epsilon": "epsilon",
    "rho": "rho",
    "beta1": "beta_1",
    "beta2": "beta_2",
}
MODEL_AXES = {**REGULARIZER_OPTIONS, "dropout": "dropout"}
OTHER_AXES = {"scale": "scale", "batch_size": "batch_size", "hidden": "hidden"}
AXES = {**OPTIMIZER_AXES, **MODEL_AXES, **OTHER_AXES}
OPTION_OF = {name: dest for dest, name in AXES.items()}
DEFAULT_LR = [0.01, 0.1, 1.0]


def option(dest: str) -> str:
    """An axis' option as typed: 'weight_l2' -> 'weight-l2'."""
    return dest.replace("_", "-")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="train many configurations in one compiled call (a hyperparameter sweep)",
        description="Train the classifier once per configuration: every combination of the "
        "axes' values (comma-separated lists) times --seeds seeds, on the documents' data "
        "(shared, drawn from NumPy's RNG seeded with --seed) or, with --data-per-seed, on "
        "each seed's own draw of the data. Full batch (train's loop) unless --batch-size is "
        "given (fit's mini-batches). Prints the table sorted by final loss.",
    )
    common_options(p, "first seed: the seeds are SEED .. SEED + SEEDS - 1")
    p.add_argument(
        "--optimizer",
        default="sgd",
        help="sgd | adagrad | rmsprop | adam (the book's) | optax.<name>, e.g. optax.sgd",
    )
    p.add_argument(
        "--lr",
        type=non_negative_list,
        help=f"learning rates (default {','.join(map(str, DEFAULT_LR))})",
    )
    p.add_argument("--decay", type=non_negative_list, help="1/t decays, e.g. 0,1e-3")
    p.add_argument("--momentum", type=float_list, help="SGD momentums, e.g. 0,0.5,0.9")
    p.add_argument("--epsilon", type=float_list, help="adagrad / rmsprop / adam epsilons")
    p.add_argument("--rho", type=float_list, help="rmsprop cache decays")
    p.add_argument("--beta1", type=float_list, help="adam beta_1 values")
    p.add_argument("--beta2", type=float_list, help="adam beta_2 values")
    p.add_argument("--scale", type=non_negative_list, default=[0.01], help="initial weight scales")
    p.add_argument(
        "--hidden",
        type=int_list,
        nargs="+",
        default=[[64]],
        help="architectures: hidden widths, e.g. '64' or '64 32,32' (two architectures)",
    )
    model = p.add_argument_group(
        "model axes (the book's chapters 14-15)",
        "Each regularization strength applies to every hidden dense layer and not to the "
        "output layer, as the book sets it: make_model(n, weight_regularizer_l2=(v,) * (n - "
        "1) + (0,)); so all --hidden architectures must then have the same depth. Dropout "
        "follows every hidden activation, its masks from each seed's training key.",
    )
    for dest in REGULARIZER_OPTIONS:
        kind, norm = dest.split("_")
        model.add_argument(
            f"--{option(dest)}",
            dest=dest,
            type=strength_list,
            metavar="S,...",
            help=f"{norm.upper()} strengths on the hidden layers' {PLURAL[kind]}, e.g. 0,5e-4",
        )
    model.add_argument(
        "--dropout", type=rate_list, metavar="RATE,...", help="dropout rates in [0, 1)"
    )
    activation_option(p)
    p.add_argument(
        "--batch-size",
        type=positive_int_list,
        metavar="N,...",
        help="mini-batch sizes (fit's epochs of shuffled batches); default: full batch",
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
    p.add_argument(
        "--log-every", type=positive_int, default=100, help="full batch only (fit logs each epoch)"
    )
    p.add_argument(
        "--budget",
        type=positive,
        default=512,
        help="memory budget per chunk, MiB (fractions too); smaller chunks are checkpointed "
        "more often",
    )
    p.add_argument("--top", type=positive_int, default=10, help="table rows printed (text)")
    p.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        help="save every finished chunk here; the same command again resumes after a crash",
    )
    processes.add_options(p)
    p.add_argument(
        "--heatmap",
        help="the two axes of the heatmap, e.g. lr,momentum or weight-l2,seed (default: the "
        "first two swept)",
    )
    p.set_defaults(run=run)


def sweep_axes(args: argparse.Namespace) -> dict[str, list]:
    """The axes from the options, checked against the optimizer before any work."""
    from nnfs_jax.sweeping.grammar import hyperparameter_names

    takes = hyperparameter_names(args.optimizer)  # also checks the name
    axes = {}
    for dest, name in OPTIMIZER_AXES.items():
        values = getattr(args, dest)
        if values is None and dest == "lr" and name in takes:
            values = DEFAULT_LR
        if values is None:
            continue
        if name not in takes:
            raise UsageError(
                f"--{option(dest)}: the {args.optimizer} optimizer has no {name} (it takes "
                f"{', '.join(takes) or 'none'})"
            )
        axes[name] = values
    axes["scale"] = args.scale
    hidden = [tuple(h) for h in args.hidden]
    axes["hidden"] = hidden
    for dest, name in REGULARIZER_OPTIONS.items():
        values = getattr(args, dest)
        if values is None:
            continue
        depths = {len(h) for h in hidden}
        if len(depths) > 1:
            raise UsageError(
                f"--{option(dest)}: the strengths apply to the hidden layers, so every --hidden "
                f"architecture needs the same number of hidden layers; got {args.hidden}"
            )
        depth = depths.pop()
        axes[name] = [(v,) * depth + (0.0,) for v in values]
    if args.dropout is not None:
        axes["dropout"] = args.dropout
    if args.batch_size is not None:
        axes["batch_size"] = args.batch_size
    return axes


def run(args: argparse.Namespace, out: Output) -> int:
    import functools

    processes.check_process_id(args)
    axes = sweep_axes(args)
    if args.processes is not None and args.processes > 1:
        return processes.launch(args)
    if processes.joined(args) and not processes.supervised():
        return processes.supervise(args)  # one line, not XLA's abort, if a peer dies
    processes.setup(args)  # devices, and joining the run: before any JAX computation
    import jax
    import numpy as np

    import nnfs_jax as nj
    from nnfs_jax.sweeping.driver import DIVERGE_ABOVE

    if not processes.is_first():  # one process prints and writes: the first
        out, args.out, args.quiet = Output(args.json, silent=True), None, True
    heatmap = _heatmap_axes(args.heatmap, axes)
    if args.data_per_seed:
        make = {"spiral": nj.make_spiral, "vertical": nj.make_vertical}[args.data]
        data = functools.partial(make, samples=args.samples, classes=args.classes)
    else:
        nj.book_seed(args.seed)
        X, y = nj.BOOK_DATA[args.data](args.samples, args.classes)
        data = (X.astype("float64") if args.float64 else X, y)
    seeds = list(range(args.seed, args.seed + args.seeds))
    configs = nj.configurations(axes, optimizer=args.optimizer, seeds=seeds)
    bar = ProgressBar(len(configs), "sweep", not args.quiet and not args.json)

    def report(p) -> None:
        bar.update(p.configs_done, f"chunk {p.chunk}/{p.chunks}")

    start = time.perf_counter()
    result = nj.sweep(
        data,
        axes,
        optimizer=args.optimizer,
        seeds=seeds,
        epochs=args.epochs,
        log_every=args.log_every,
        activation=args.activation,
        memory_budget=int(args.budget * 2**20),
        progress=report,
        checkpoint_dir=args.checkpoint_dir,
    )
    seconds = time.perf_counter() - start
    bar.close()
    rows = result.table()
    columns = [*axes, "seed"]
    out.text(
        f"{len(rows)} configurations, {args.epochs} epochs each, in {seconds:.2f} s including "
        f"compilation ({result.chunks} chunk(s)); best first:"
    )
    header = " ".join(f"{option(OPTION_OF.get(k, k)):>10}" for k in columns)
    out.text(f"{header} {'loss':>10} {'accuracy':>9} {'diverged':>9}")
    for row in rows:
        text = None
        if row["rank"] < args.top or row["rank"] == len(rows) - 1:
            cells = " ".join(f"{_cell(k, row[k]):>10}" for k in columns)
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
            "processes": jax.process_count(),
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
        if diverged < len(rows):
            # With every configuration diverged the tables say it all (and the best model's
            # decision boundary would be drawn from NaN weights).
            paths += plot.sweep_figures(result, args.out, heatmap=heatmap)
        for path in paths:
            out.record({"file": str(path)}, f"wrote {path}")
    if diverged == len(rows):
        raise RunFailed(
            f"all {len(rows)} configurations diverged (loss NaN, inf, or above "
            f"{DIVERGE_ABOVE:g}x its starting value); lower learning rates may help"
        )
    return 0


def _cell(name: str, value: Any) -> str:
    """A table cell: a model axis shows its hidden layers' value (the table's '5e-04/0' per
    layer), a number as %g."""
    if name in REGULARIZER_OPTIONS.values() and isinstance(value, str):
        return value.split("/")[0]
    return f"{value:g}" if isinstance(value, float) else str(value)


def _heatmap_axes(text: str | None, axes: dict) -> tuple[str, str] | None:
    """The heatmap's (x, y) axis names from '--heatmap lr,momentum', checked against the
    axes swept ('seed' too); None to let the figure pick."""
    if text is None:
        return None
    known = [option(dest) for dest in AXES]
    options = [t.strip().replace("_", "-") for t in text.split(",")]
    if len(options) != 2 or any(o not in known and o != "seed" for o in options):
        raise UsageError(
            f"--heatmap: expected two of {', '.join([*known, 'seed'])}, e.g. lr,momentum; "
            f"got {text!r}"
        )
    names = tuple("seed" if o == "seed" else AXES[o.replace("-", "_")] for o in options)
    for opt, name in zip(options, names, strict=True):
        if name != "seed" and name not in axes:
            raise UsageError(f"--heatmap: --{opt} is not swept (give it values)")
    return names
