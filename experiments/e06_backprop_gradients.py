"""The backward pass of documents 002 and 003, checked three ways, leaf by leaf.

Follows 003 ("Object Orientated Implementation of Backpropagation" and its "Bonus: Backward
Propagation Results"): `nnfs.init()`, `spiral_data(samples=100, classes=3)`, Layer_Dense(2, 3)
and Layer_Dense(3, 3) with `0.10 * np.random.randn`, ReLU between, the fused softmax +
cross-entropy backward `(p - y) / samples`, then dense2, ReLU and dense1 backward. The bonus
prints (softmax output, loss, dinputs, dense2 dweights and dbiases, dense1 dweights and
dbiases) are composed here from nnfs_jax's pieces (`network.forward_cache`,
`losses.softmax_crossentropy_backward`, `layers.dense_backward`, `layers.relu_backward`) and
printed in the document's format; they equal `grad_manual`'s. The softmax output and the loss
are document 004's printed ones (the same seed and set-up): loss 1.098445.

Then `compare_gradients` sets the manual gradient (001/002/003's rules), `jax.grad` (001) and
central finite differences (000) side by side for that 2-3-3 network and (not with `--quick`)
for 002's 2-64-3 network at its starting point (`nj.book_setup()`), in float32 and float64,
printing `format_comparison`'s table and drawing the per-leaf errors. Manual and autodiff agree
to round-off (~1e-7 relative in float32, ~1e-15 in float64). Finite differences agree far less
well on the first layer: at initialisation many first-layer pre-activations sit within h of
the ReLU kink (the spiral's points near the origin; the table counts them), and a central
difference straddling the kink sees half the slope. In float64, with its smaller h, fewer do.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import nnfs_jax as nj
from nnfs_jax import layers, losses, network, plot

NAME = Path(__file__).stem


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 2-3-3 network (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="nnfs.init() seed")
    return parser.parse_args(argv)


def setup_003(seed: int) -> tuple[list, np.ndarray, np.ndarray]:
    """003's start: nnfs.init(), spiral_data(100, 3), Layer_Dense(2, 3), Layer_Dense(3, 3)."""
    nj.book_seed(seed)
    X, y = nj.spiral_data(samples=100, classes=3)
    return nj.init_params_book((2, 3, 3), 0.1), X, y


def bonus(params: list, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """003's backward pass from nnfs_jax's pieces, printed as its "Bonus" cell prints it."""
    model = nj.make_model(2)  # Dense -> ReLU -> Dense -> softmax, the documents' classifier
    dense1_cache, dense2_cache = network.forward_cache(params, jnp.asarray(X), model)
    output = dense2_cache.output  # loss_activation.output
    labels = jnp.asarray(y, jnp.int32)
    loss = jnp.mean(losses.categorical_crossentropy(output, labels))
    dinputs = losses.softmax_crossentropy_backward(output, labels)
    dense2 = layers.dense_backward(dinputs, dense2_cache.inputs, params[1]["weights"])
    relu_dinputs = layers.relu_backward(dense2.dinputs, dense1_cache.z)
    dense1 = layers.dense_backward(relu_dinputs, dense1_cache.inputs, params[0]["weights"])
    printed = {
        "Softmax Output (first 5):": np.asarray(output[:5]),
        "Loss:": np.float32(loss),
        "dInputs (Softmax Loss Combo) (first 5):": np.asarray(dinputs[:5]),
        "Dense2 dWeights (first 5):": np.asarray(dense2.dweights).flatten()[:5],
        "Dense2 dBiases:": np.asarray(dense2.dbiases),
        "Dense1 dWeights (first 5):": np.asarray(dense1.dweights).flatten()[:5],
        "Dense1 dBiases:": np.asarray(dense1.dbiases),
    }
    for title, value in printed.items():
        print(title)
        print(value)
    grads = [
        {"weights": dense1.dweights, "biases": dense1.dbiases},
        {"weights": dense2.dweights, "biases": dense2.dbiases},
    ]
    # grad_manual runs the same rules compiled as one program: equal up to float32 round-off.
    gap = max_difference(grads, nj.grad_manual(params, X, y))
    print(f"max |difference| from grad_manual: {gap:.3e}")
    return {
        "softmax_first5": printed["Softmax Output (first 5):"],
        "loss": float(loss),
        "dinputs_first5": printed["dInputs (Softmax Loss Combo) (first 5):"],
        "dense2_dweights_first5": printed["Dense2 dWeights (first 5):"],
        "dense2_dbiases": printed["Dense2 dBiases:"],
        "dense1_dweights_first5": printed["Dense1 dWeights (first 5):"],
        "dense1_dbiases": printed["Dense1 dBiases:"],
        "grads": grads,
    }


def max_difference(a: list, b: list) -> float:
    """Largest |a - b| over all leaves of two gradient pytrees."""
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return max(float(jnp.max(jnp.abs(u - v))) for u, v in pairs)


def compare(name: str, params: list, X: np.ndarray, y: np.ndarray) -> dict:
    """compare_gradients in float32 and in float64 (the same numbers, widened)."""
    reports = {}
    print(f"\n## {name}, float32")
    reports["float32"] = nj.compare_gradients(params, X, y)
    print(nj.format_comparison(reports["float32"]))
    with jax.enable_x64(True):
        print(f"\n## {name}, float64")
        params64 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), params)
        reports["float64"] = nj.compare_gradients(params64, np.asarray(X, np.float64), y)
        print(nj.format_comparison(reports["float64"]))
    return reports


def as_floats(report: nj.GradientReport) -> dict:
    """A report's errors and counts as plain Python numbers."""
    errors = jax.tree.map(float, report.errors)
    return {"errors": errors, "kinks": int(report.kinks), "saturated": int(report.saturated)}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)

    print("# 003: the backward pass from nnfs_jax's pieces (Bonus cell)")
    params, X, y = setup_003(args.seed)
    result = {"bonus": bonus(params, X, y)}

    jacobian = nj.grad_manual(params, X, y, fused=False)
    gap = max_difference(jacobian, result["bonus"]["grads"])
    print(f"fused (p - y) / n vs the softmax Jacobian route: max |difference| {gap:.3e}")
    result["fused_vs_jacobian"] = gap

    print("\n# Manual vs jax.grad vs central differences")
    reports = {"2-3-3 (003)": compare("2-3-3 (003)", params, X, y)}
    if not args.quick:  # each network and precision costs a compilation of a few seconds
        reports["2-64-3 (002)"] = compare("2-64-3 (002 start)", *nj.book_setup(seed=args.seed))
    figures = [
        plot.gradient_errors(
            {f"{name}, {precision}": r for precision, r in by_precision.items()},
            args.out / f"gradient_errors_{name.split()[0]}.png",
        )
        for name, by_precision in reports.items()
    ]
    print("\nfigures:", *map(str, figures), sep="\n  ")
    result["reports"] = {
        name: {precision: as_floats(r) for precision, r in by_precision.items()}
        for name, by_precision in reports.items()
    }
    result["figures"] = figures
    return result


if __name__ == "__main__":
    main()
