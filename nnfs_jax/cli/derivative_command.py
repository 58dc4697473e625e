"""`nnfs-jax derivative`: documents 000 and 001's tangent-line derivative of f(x) = 2x^2
beside the exact one, and how forward and central differences err as the step shrinks."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from nnfs_jax.cli.common import Output, common_options, float_list, out_path, positive


def _functions() -> dict[str, Callable]:
    import jax.numpy as jnp

    return {
        "2x^2": lambda x: 2 * x**2,
        "x^3": lambda x: x**3,
        "sin": jnp.sin,
        "exp": jnp.exp,
    }


def add_parser(sub) -> None:
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
    p.add_argument("--delta", type=positive, default=0.0001, help="the documents' p2_delta (> 0)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    import jax
    import jax.numpy as jnp
    import numpy as np

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
