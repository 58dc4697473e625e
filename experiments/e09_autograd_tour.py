"""Document 001's PyTorch autograd tour, done with JAX's function transformations.

Follows 001 ("PyTorch Implementation of backprop"), cell by cell:

- x = [1, 2, 3, 4, 5], y = x ** 2, z = 2y + x, `z.mean().backward()`, `x.grad`:
  `jax.grad` of x -> mean(2x^2 + x) gives (4x + 1) / 5 = [1, 1.8, 2.6, 3.4, 4.2].
- The vector-Jacobian product with v = [0.1, 1.0, 0.001, 0.0001, 0.00001]. The document calls
  `x.backward(j)` where `y.backward(j)` is meant (x is a leaf; its gradient would be v
  itself); the intent is v^T (dy/dx) = 2x * v = [0.2, 4, 0.006, 0.0008, 0.0001]:
  `jax.vjp` of x -> x ** 2, checked against the full Jacobian from `jax.jacrev`.
- `torch.no_grad()`, `requires_grad_(False)` and `detach()`: JAX tracks nothing outside a
  transformation, so plain code is the `no_grad` block; inside one, `lax.stop_gradient` is
  `detach`: the derivative of x * stop_gradient(x) is x, not 2x.
- Accumulation: the document runs `(weights * 3).sum().backward()` three times without
  `weights.grad.zero_()` and prints 3, 6, 9 (PyTorch adds into `.grad`). `jax.grad` returns
  a fresh gradient, 3, 3, 3; summing them yourself gives 3, 6, 9 when that is what you want
  (gradient accumulation over micro-batches).
- The one-weight loss: x = 1, y = 2, w = 1, loss = (w x - y)^2 = 1, dloss/dw = 2 (w x - y) x = -2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import plot

NAME = Path(__file__).stem
V = [0.1, 1.0, 0.001, 0.0001, 0.00001]  # the document's "jacobian" vector j


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI); no effect here")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="unused: nothing here is random")
    return parser.parse_args(argv)


def z_of(x: jax.Array) -> jax.Array:
    """The document's graph: y = x ** 2, z = 2y + x."""
    y = x**2
    return 2 * y + x


def mean_gradient(x: jax.Array) -> jax.Array:
    """`z.mean().backward(); x.grad`."""
    return jax.grad(lambda x: jnp.mean(z_of(x)))(x)


def vector_jacobian(x: jax.Array, v: jax.Array) -> tuple[jax.Array, jax.Array]:
    """v^T J for y = x ** 2, by `jax.vjp`, and the same from the full Jacobian."""
    _, pullback = jax.vjp(lambda x: x**2, x)
    (vjp,) = pullback(v)
    return vjp, v @ jax.jacrev(lambda x: x**2)(x)


def accumulate(weights: jax.Array, epochs: int = 3) -> tuple[list, list]:
    """The training-example cell: fresh gradients per epoch, and their running sum."""
    grad = jax.grad(lambda w: jnp.sum(w * 3))
    fresh, totals, total = [], [], jnp.zeros_like(weights)
    for _ in range(epochs):
        g = grad(weights)
        total = total + g  # what PyTorch's .grad holds when it is never zeroed
        fresh.append(np.asarray(g))
        totals.append(np.asarray(total))
    return fresh, totals


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    x = jnp.asarray([1, 2, 3, 4, 5], jnp.float32)

    print("# z = 2 x ** 2 + x; gradient of z.mean()")
    print(f"x = {np.asarray(x)}\ny = {np.asarray(x**2)}\nz = {np.asarray(z_of(x))}")
    print(f"z.mean() = {float(jnp.mean(z_of(x)))}")
    grad_mean = mean_gradient(x)
    print(f"x.grad = {np.asarray(grad_mean)}   ((4x + 1) / 5 = {np.asarray((4 * x + 1) / 5)})")

    print("\n# Vector-Jacobian product of y = x ** 2 with v (what y.backward(v) computes)")
    v = jnp.asarray(V, jnp.float32)
    vjp, via_jacobian = vector_jacobian(x, v)
    print(f"v = {np.asarray(v)}")
    print(f"jax.vjp:           {np.asarray(vjp)}")
    print(f"v @ jax.jacrev(J): {np.asarray(via_jacobian)}   (2x * v)")

    print("\n# no_grad / detach: lax.stop_gradient")
    print(f"y = x ** 2 outside any transformation: {np.asarray(x**2)} (nothing is tracked)")
    detached = jax.grad(lambda x: jnp.sum(x * jax.lax.stop_gradient(x)))(x)
    print(f"d/dx sum(x * stop_gradient(x)) = {np.asarray(detached)} (x; without it, 2x)")

    print("\n# Three epochs of (weights * 3).sum() and its gradient")
    fresh, accumulated = accumulate(jnp.ones(4, jnp.float32))
    for epoch, (g, total) in enumerate(zip(fresh, accumulated, strict=True)):
        print(f"epoch {epoch}: jax.grad {g}, summed by hand (PyTorch's .grad) {total}")

    print("\n# One weight, squared error: x = 1, y = 2, w = 1")
    x1, y1, w = jnp.float32(1.0), jnp.float32(2.0), jnp.float32(1.0)
    loss, dloss_dw = jax.value_and_grad(lambda w: (w * x1 - y1) ** 2)(w)
    print(f"loss = {float(loss)}, dloss/dw = {float(dloss_dw)}")

    epochs = np.arange(1, 4)
    figures = [
        plot.lines(
            np.asarray(x),
            {
                "jax.grad of mean(2x^2 + x)": grad_mean,
                "(4x + 1) / 5": (4 * x + 1) / 5,
                "jax.vjp of x^2 with v": vjp,
                "2x * v": 2 * x * v,
            },
            args.out / "gradients.png",
            xlabel="x",
            marker="o",
            title="001's autograd cells, by jax.grad and jax.vjp",
        ),
        plot.lines(
            epochs,
            {
                "jax.grad each epoch": [g[0] for g in fresh],
                "summed (PyTorch .grad, never zeroed)": [a[0] for a in accumulated],
            },
            args.out / "accumulation.png",
            xlabel="epoch",
            ylabel="gradient of (weights * 3).sum()",
            marker="o",
        ),
    ]
    print("\nfigures:", *map(str, figures), sep="\n  ")
    return {
        "x": np.asarray(x),
        "mean_gradient": np.asarray(grad_mean),
        "vjp": np.asarray(vjp),
        "vjp_via_jacobian": np.asarray(via_jacobian),
        "detached_gradient": np.asarray(detached),
        "fresh": fresh,
        "accumulated": accumulated,
        "loss": float(loss),
        "dloss_dw": float(dloss_dw),
        "figures": figures,
    }


if __name__ == "__main__":
    main()
