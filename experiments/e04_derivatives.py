"""Numerical derivatives of f(x) = 2x^2 with tangent lines, and how far finite differences go.

Follows 000 and 001 ("Calculating the derivative (slope of tangent line)"): at x = 0, 1, ..., 4
take x2 = x1 + p2_delta with p2_delta = 0.0001, print `(x1, y1) (x2, y2)` and
`Approximate derivative for f(x) where x = {x1} is {approximate_derivative}`, and draw each
tangent over [x1 - 0.9, x1 + 0.9] with its intercept b passed explicitly (001's
`approximate_tan_line` reads a global `b`; that slip is not reproduced). Beside each estimate,
the exact derivative 4x from `jax.grad`. Computed in float64, so the numbers are the
documents' Python floats; `y1` prints as a float (the documents' `f(x1)` of an int is an int).

Beyond the documents: the error of the forward difference `(f(x + h) - f(x)) / h` and the
central difference `(f(x + h) - f(x - h)) / 2h` against the exact derivative, as h goes from 1
to 1e-12, in float32 and float64 (the divisor is the step actually taken after rounding, as the
documents' `x2 - x1`). On a log-log plot the error falls along the truncation line (slope 1
forward, 2 central) until round-off takes over (slope -1: cancellation in f(x + h) - f(x)
costs eps * |f| / h). For f(x) = 2x^2 the central difference has no truncation error at all
(it is exact for quadratics; at x = 3 even the rounding cancels and every central difference
comes out exactly 12, so that curve is empty on the log axis), so sin(x) at x = 1 shows the
central difference's slope 2 as well. Exact zeros are counted in the printout.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import plot

NAME = Path(__file__).stem
P2_DELTA = 0.0001

# Where each regime holds, as ranges of log10(h), for the slopes printed and returned.
REGIMES = {
    "float64": {"forward": (-6, -3), "central": (-4, -2), "round-off": (-12, -8)},
    "float32": {"forward": (-2.5, -1), "central": (-2, -1), "round-off": (-6, -3.5)},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps h (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="unused: nothing here is random")
    return parser.parse_args(argv)


def f(x):
    """The documents' function, 2x^2 (works on Python numbers and JAX arrays alike)."""
    return 2 * x**2


def tangent_replay() -> dict:
    """The documents' loop over x = 0..4, in float64, with jax.grad's exact slope beside it."""
    points, slopes, exact = [], [], []
    df = jax.grad(f)
    for i in range(5):
        x1 = jnp.float64(i)
        x2 = x1 + P2_DELTA
        y1, y2 = f(x1), f(x2)
        print((i, float(y1)), (float(x2), float(y2)))
        approximate_derivative = float((y2 - y1) / (x2 - x1))
        print(f"Approximate derivative for f(x) where x = {i} is {approximate_derivative}")
        exact.append(float(df(x1)))
        print(f"  jax.grad(f)({i}) = {exact[-1]} (4x)")
        points.append((i, float(y1)))
        slopes.append(approximate_derivative)
    return {"points": points, "approximate": slopes, "exact": exact}


def differences(
    fn: Callable, x0: float, h: np.ndarray, dtype
) -> tuple[np.ndarray, np.ndarray, float]:
    """Forward and central differences of `fn` at `x0` for every step in `h`, computed in
    `dtype`, and the exact derivative (float64 `jax.grad`). NaN where the step rounds to 0."""
    x, steps = jnp.asarray(x0, dtype), jnp.asarray(h, dtype)
    x2 = x + steps
    forward = (fn(x2) - fn(x)) / (x2 - x)
    xp, xm = x + steps, x - steps
    central = (fn(xp) - fn(xm)) / (xp - xm)
    exact = float(jax.grad(fn)(jnp.float64(x0)))
    return np.asarray(forward, np.float64), np.asarray(central, np.float64), exact


def slope(h: np.ndarray, errors: np.ndarray, log10_range: tuple[float, float]) -> float:
    """Least-squares slope of log10(error) against log10(h) within `log10_range`; NaN when
    fewer than 3 errors there are non-zero (an exact difference has no slope)."""
    lh = np.log10(h)
    keep = (lh >= log10_range[0]) & (lh <= log10_range[1]) & (errors > 0) & np.isfinite(errors)
    if keep.sum() < 3:
        return float("nan")
    return float(np.polyfit(lh[keep], np.log10(errors[keep]), 1)[0])


def error_study(name: str, fn: Callable, x0: float, h: np.ndarray) -> dict:
    """Errors of both differences in both precisions; prints a few rows and the slopes."""
    errors, slopes, best = {}, {}, {}
    for precision, dtype in (("float32", jnp.float32), ("float64", jnp.float64)):
        forward, central, exact = differences(fn, x0, h, dtype)
        for kind, estimate in (("forward", forward), ("central", central)):
            errors[f"{kind} {precision}"] = np.abs(estimate - exact)
        regime = REGIMES[precision]
        slopes[precision] = {
            "forward": slope(h, errors[f"forward {precision}"], regime["forward"]),
            "central": slope(h, errors[f"central {precision}"], regime["central"]),
            "forward round-off": slope(h, errors[f"forward {precision}"], regime["round-off"]),
            "central round-off": slope(h, errors[f"central {precision}"], regime["round-off"]),
        }
        best[precision] = {
            kind: float(h[np.nanargmin(np.where(err > 0, err, np.nan))])
            for kind in ("forward", "central")
            for err in [errors[f"{kind} {precision}"]]
        }
    print(f"\n{name}: |difference - exact derivative| (exact {exact!r} from jax.grad)")
    print(f"{'h':>8} " + " ".join(f"{label:>17}" for label in errors))
    for k in range(0, 13):
        i = int(np.argmin(np.abs(np.log10(h) + k)))
        print(f"{h[i]:8.0e} " + " ".join(f"{err[i]:17.3e}" for err in errors.values()))
    print("(nan: the step rounds to zero, x + h == x)")
    for label, err in errors.items():
        print(f"{label}: exact (error 0) at {int(np.sum(err == 0))} of {h.size} steps h")
    for precision, s in slopes.items():
        print(
            f"{precision}: slopes forward {s['forward']:.3f} (truncation, expect 1), "
            f"central {s['central']:.3f} (expect 2), round-off {s['forward round-off']:.3f} / "
            f"{s['central round-off']:.3f} (expect -1); best h forward "
            f"{best[precision]['forward']:.0e}, central {best[precision]['central']:.0e}"
        )
    return {"errors": errors, "slopes": slopes, "best_h": best, "exact": exact}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    per_decade = 4 if args.quick else 16
    h = np.logspace(0, -12, 12 * per_decade + 1)

    with jax.enable_x64(True):
        replay = tangent_replay()
        quadratic = error_study("f(x) = 2x^2 at x = 3", f, 3.0, h)
        sine = error_study("sin(x) at x = 1", jnp.sin, 1.0, h)

    x = np.arange(0, 5, 0.001)
    out = args.out
    figures = [
        plot.tangent_lines(
            x, f(x), replay["points"], replay["approximate"], out / "tangents.png",
            title="f(x) = 2x^2, p2_delta = 0.0001",
        ),
        plot.finite_difference_errors(
            h, quadratic["errors"], out / "fd_error_2x2.png",
            guides=[("forward float64", 1, 1e-3), ("forward float64", -1, 1e-10)],
            title="f(x) = 2x^2 at x = 3 (central: exact)",
        ),
        plot.finite_difference_errors(
            h, sine["errors"], out / "fd_error_sin.png",
            guides=[
                ("forward float64", 1, 1e-3),
                ("central float64", 2, 1e-3),
                ("central float64", -1, 1e-10),
            ],
            title="sin(x) at x = 1",
        ),
    ]  # fmt: skip
    print("\nfigures:", *map(str, figures), sep="\n  ")
    return {"tangents": replay, "quadratic": quadratic, "sine": sine, "h": h, "figures": figures}


if __name__ == "__main__":
    main()
