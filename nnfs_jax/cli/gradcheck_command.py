"""`nnfs-jax gradcheck`: the documents' hand-written backward pass beside jax.grad and central
differences, leaf by leaf, with a verdict per pair; exit status 1 when a verdict is "fail"."""

from __future__ import annotations

import argparse

from nnfs_jax.cli.common import (
    Output,
    UsageError,
    activation_option,
    common_options,
    int_list,
    non_negative,
    out_path,
    positive,
    positive_int,
)
from nnfs_jax.cli.errors import RunFailed


def add_parser(sub) -> None:
    p = sub.add_parser(
        "gradcheck",
        help="manual vs jax.grad vs finite differences, leaf by leaf",
        description="Compare the documents' hand-written backward pass, jax.grad and central "
        "differences on the documents' spiral data and initialisation (or --random-init). "
        "Each pair of gradients gets a verdict: ok, expected (the differences are explained "
        "by kinks or the loss's clipping) or fail (unexplained, or a gradient NaN or "
        "infinite); any fail ends with exit status 1.",
    )
    common_options(p, "NumPy seed for the documents' data and weights; jax seed with --random-init")
    p.add_argument("--sizes", type=int_list, default=[2, 64, 3], help="layer widths, e.g. 2,64,3")
    p.add_argument("--data", choices=("spiral", "vertical"), default="spiral")
    p.add_argument("--samples", type=positive_int, default=100, help="samples per class")
    p.add_argument(
        "--scale", type=non_negative, default=0.01, help="initial weights: scale * N(0, 1)"
    )
    p.add_argument(
        "--random-init",
        action="store_true",
        help="random weights AND biases from jax.random (moves pre-activations off ReLU's kink)",
    )
    p.add_argument("--h", type=positive, help="finite-difference step, > 0 (default eps ** (1/3))")
    activation_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
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
    verdicts = nj.verdicts(report)
    for v in verdicts:
        out.record(v._asdict())
    out.record(
        {
            "summary": True,
            "dtype": dtype,
            "activation": args.activation,
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
    failed = [v for v in verdicts if v.status == "fail"]
    if failed:
        reasons = sorted({v.reason for v in failed})
        raise RunFailed(
            f"the gradient check failed for {', '.join(v.pair for v in failed)} "
            f"({'; '.join(reasons)})"
        )
    return 0
