"""Backpropagation through one ReLU neuron by the chain rule, then the same by `jax.grad`.

Follows 003 ("Backpropagating the ReLU function for a single neuron"): x = [1, -2, 3],
w = [-3, -1, 2], b = 1, z = x0 w0 + x1 w1 + x2 w2 + b = 6, y = max(z, 0). The backward pass
is composed from nnfs_jax's rules, `layers.relu_backward` (1 where z > 0) then
`layers.dense_backward` (dweights = x^T dvalues, dinputs = dvalues w^T), and printed in the
document's order `dx0 dw0 dx1 dw1 dx2 dw2`: -3.0 1.0 -1.0 -2.0 2.0 3.0. `jax.grad` of the
forward function gives the same numbers.

Then the partial derivatives of 000: the sum (1 for each input), the product (the other
input), max(x, y) (1 for the larger), max(x, 0) (1 where x > 0); a chain of functions; the
gradient as the vector of partials. And, beyond the document (the book's next step), one
gradient-descent step of size 0.001 on the neuron's output: 6.0 -> 5.985.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import layers, plot

NAME = Path(__file__).stem

X = [1.0, -2.0, 3.0]  # inputs
W = [-3.0, -1.0, 2.0]  # weights
B = 1.0  # bias


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI); no effect here")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="unused: nothing here is random")
    return parser.parse_args(argv)


def neuron(inputs: jax.Array, weights: jax.Array, bias: jax.Array) -> jax.Array:
    """ReLU(x . w + b) for one sample, as nnfs_jax layers: (3,), (3,), () -> ()."""
    layer = {"weights": weights[:, None], "biases": jnp.reshape(bias, (1, 1))}
    return layers.relu(layers.dense(layer, inputs[None, :]))[0, 0]


def interleave(dx: jax.Array, dw: jax.Array) -> list[float]:
    """The document's print order: dx0, dw0, dx1, dw1, dx2, dw2."""
    return [float(v) for pair in zip(dx, dw, strict=True) for v in pair]


def backward_by_rules(x: jax.Array, w: jax.Array, b: jax.Array) -> dict:
    """The document's backward pass, from nnfs_jax's hand-written rules."""
    inputs, weights = x[None, :], w[:, None]
    z = layers.dense({"weights": weights, "biases": jnp.reshape(b, (1, 1))}, inputs)
    dvalue = jnp.ones_like(z)  # the gradient arriving from the next layer
    drelu_dz = layers.relu_backward(dvalue, z)  # 1. if z > 0 else 0.
    grads = layers.dense_backward(drelu_dz, inputs, weights)
    return {
        "z": float(z[0, 0]),
        "output": float(layers.relu(z)[0, 0]),
        "order": interleave(grads.dinputs[0], grads.dweights[:, 0]),
        "dbias": float(grads.dbiases[0, 0]),
    }


def partial_derivatives() -> dict:
    """000's partial derivatives, each from jax.grad, at x = 2, y = 3 (and x = y = 0)."""
    x, y = 2.0, 3.0
    both = (0, 1)
    results = {
        "sum": jax.grad(lambda a, c: a + c, both)(x, y),
        "product": jax.grad(lambda a, c: a * c, both)(x, y),
        "max": jax.grad(lambda a, c: jnp.maximum(a, c), both)(x, y),
        "relu at -1, 0, 2": tuple(jax.grad(layers.relu)(v) for v in (-1.0, 0.0, 2.0)),
        # jnp.maximum splits the gradient at a tie; the documents' 1(x > 0) does not.
        "jnp.maximum(x, 0) at 0": (jax.grad(lambda a: jnp.maximum(a, 0.0))(0.0),),
        # d/dx f(g(x)) = f'(g(x)) g'(x): sin(x^2) -> cos(x^2) 2x.
        "chain sin(x^2) at 2": (jax.grad(lambda a: jnp.sin(a**2))(x),),
        # The gradient of f(x, y, z) = x y + z is the vector of its partials, [y, x, 1].
        "gradient of xy + z": tuple(jax.grad(lambda v: v[0] * v[1] + v[2])(jnp.array([x, y, 1.0]))),
    }
    results = {k: [float(v) for v in vals] for k, vals in results.items()}
    for name, values in results.items():
        print(f"{name:>24}: {values}")
    print(f"{'cos(4) * 4':>24}: {float(np.cos(4.0) * 4):.7g} (the chain rule by hand)")
    return results


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    x, w, b = jnp.asarray(X), jnp.asarray(W), jnp.asarray(B)

    print("# Forward pass and the backward pass from nnfs_jax's rules")
    manual = backward_by_rules(x, w, b)
    print(f"z = {manual['z']}, y = max(z, 0) = {manual['output']}")
    print(*manual["order"])

    print("\n# The same from jax.grad of the forward function")
    dx, dw, db = jax.grad(neuron, argnums=(0, 1, 2))(x, w, b)
    autodiff = interleave(dx, dw)
    print(*autodiff)
    print(f"dbias: rules {manual['dbias']}, jax.grad {float(db)}")

    print("\n# One step against the gradient, size 0.001 (the book's next step)")
    w_new, b_new = w - 0.001 * dw, b - 0.001 * db
    after = float(neuron(x, w_new, b_new))
    print(f"w = {np.asarray(w_new)}, b = {np.float32(b_new)!s}")
    print(f"output {manual['output']} -> {after:.6g}")

    print("\n# Partial derivatives (000), each by jax.grad")
    partials = partial_derivatives()

    grid = np.linspace(-2, 2, 401)  # includes 0 exactly
    relu_grad = jax.vmap(jax.grad(layers.relu))(jnp.asarray(grid))
    maximum_grad = jax.vmap(jax.grad(lambda a: jnp.maximum(a, 0.0)))(jnp.asarray(grid))
    rule = layers.relu_backward(jnp.ones_like(grid), jnp.asarray(grid))
    figure = plot.lines(
        grid,
        {
            "relu(x)": layers.relu(jnp.asarray(grid)),
            "relu_backward (0 at x <= 0)": rule,
            "jax.grad(layers.relu)": relu_grad,
            "jax.grad(jnp.maximum(x, 0)) (1/2 at 0)": maximum_grad,
        },
        args.out / "relu_derivative.png",
        xlabel="x",
        title="ReLU and its derivative",
    )
    print(f"\nfigure: {figure}")
    return {
        "z": manual["z"],
        "output": manual["output"],
        "manual": manual["order"],
        "autodiff": autodiff,
        "dbias": [manual["dbias"], float(db)],
        "after_step": after,
        "partials": partials,
        "figures": [figure],
    }


if __name__ == "__main__":
    main()
