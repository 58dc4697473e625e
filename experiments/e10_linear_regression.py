"""Document 001's linear regression three ways: hand-derived gradient, jax.grad, optax.

Follows 001 (its last three cells): X = [1, 2, 3, 4], Y = [2, 4, 6, 8] (float32), w = 0,
learning rate 0.01, 20 iterations, the mean squared error, and the document's printout:
`Prediction before training: f(5) = ...`, `[INFO]: epoch {epoch + 1}: w = ..., loss = ...`
every 2 epochs (w after that epoch's update, the loss before it), and
`Prediction after training: f(5) = ...`. Each loop is one `lax.scan`.

1. The hand-derived gradient. The document writes `np.dot(2*x, y_predicted - y).mean()`: the
   dot product is already a scalar, sum(2x (wx - y)), so `.mean()` does nothing and this
   "gradient" is N = 4 times the MSE gradient mean(2x (wx - y)). With learning rate 0.01 the
   error w - 2 shrinks by 1 - 0.01 * 2 * sum(x^2) = 0.4 per step, so the run reaches
   f(5) = 10.000. Both are run: the document's formula, and the true MSE gradient, whose
   error shrinks by 1 - 0.01 * 2 * mean(x^2) = 0.85 per step (f(5) = 9.612 after 20).
2. `jax.grad` of the MSE (the document's `l.backward()` cell): the true gradient, so it
   follows the second run of 1, not the first: the document's two cells disagree.
3. optax: the document's `nn.Linear(1, 1)` + `nn.MSELoss()` + `torch.optim.SGD(lr=0.01)` as a
   weight-and-bias model with `optax.sgd(0.01)`. nn.Linear draws both from
   U(-1/sqrt(fan_in), 1/sqrt(fan_in)) = U(-1, 1); here from a seeded `jax.random` key.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import plot

NAME = Path(__file__).stem
X = [1, 2, 3, 4]
Y = [2, 4, 6, 8]
LEARNING_RATE = 0.01
N_ITERS = 20


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI); no effect here")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="key for the linear layer's init")
    return parser.parse_args(argv)


def loss(y: jax.Array, y_predicted: jax.Array) -> jax.Array:
    """Mean squared error, `((y_predicted - y) ** 2).mean()`."""
    return jnp.mean((y_predicted - y) ** 2)


def forward(w: jax.Array, x: jax.Array) -> jax.Array:
    """The model prediction, `w * x`."""
    return w * x


def gradient_document(w: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """The document's `np.dot(2*x, y_predicted - y).mean()`: a sum, N times the MSE's."""
    return jnp.dot(2 * x, forward(w, x) - y).mean()


def gradient_mse(w: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """d/dw mean((w x - y)^2) = mean(2x (w x - y)), what the document's comment says."""
    return jnp.mean(2 * x * (forward(w, x) - y))


# `l.backward()`: jax.grad of the loss in w.
gradient_autodiff = jax.grad(lambda w, x, y: loss(y, forward(w, x)))


def fit(gradient: Callable, x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The document's loop for f(x) = w x from w = 0; `gradient(w, x, y)` -> dloss/dw.

    Returns per epoch (w after the update, loss before it)."""

    def epoch(w, _):
        l_value = loss(y, forward(w, x))
        w = w - LEARNING_RATE * gradient(w, x, y)
        return w, (w, l_value)

    _, (ws, losses) = jax.lax.scan(epoch, jnp.zeros((), x.dtype), None, length=N_ITERS)
    return ws, losses


def linear(params: dict, x: jax.Array) -> jax.Array:
    """`nn.Linear(1, 1)`: x (samples, 1) -> x W^T + b (samples, 1)."""
    return x @ params["weight"].T + params["bias"]


def init_linear(key: jax.Array) -> dict:
    """nn.Linear(1, 1)'s initialisation: weight and bias from U(-1, 1) (fan_in = 1)."""
    k_w, k_b = jax.random.split(key)
    return {
        "weight": jax.random.uniform(k_w, (1, 1), jnp.float32, -1.0, 1.0),
        "bias": jax.random.uniform(k_b, (1,), jnp.float32, -1.0, 1.0),
    }


def fit_optax(params: dict, x: jax.Array, y: jax.Array) -> tuple[dict, jax.Array, jax.Array]:
    """`optimizer.step()` with optax.sgd(0.01). Returns (final params, weight after each
    update, loss before it)."""
    optimizer = optax.sgd(LEARNING_RATE)

    def epoch(carry, _):
        params, state = carry
        l_value, grads = jax.value_and_grad(lambda p: loss(y, linear(p, x)))(params)
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), (params["weight"][0, 0], l_value)

    (params, _), (weights, losses) = jax.lax.scan(
        epoch, (params, optimizer.init(params)), None, length=N_ITERS
    )
    return params, weights, losses


def report(title: str, before: float, ws: jax.Array, losses: jax.Array, after: float) -> dict:
    """The document's printout for one run."""
    print(f"\n# {title}")
    print(f"Prediction before training: f(5) = {before:.3f}")
    for epoch in range(N_ITERS):
        if epoch % 2 == 0:
            w, l_value = float(ws[epoch]), float(losses[epoch])
            print(f"[INFO]: epoch {epoch + 1}: w = {w:.3f}, loss = {l_value:.8f}")
    print(f"Prediction after training: f(5) = {after:.3f}")
    return {"before": before, "w": np.asarray(ws), "loss": np.asarray(losses), "after": after}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    x, y = jnp.asarray(X, jnp.float32), jnp.asarray(Y, jnp.float32)

    runs = {}
    for name, title, gradient in (
        ("document", "1a. the document's np.dot(2*x, y_predicted - y).mean()", gradient_document),
        ("mse", "1b. the MSE gradient mean(2x (wx - y))", gradient_mse),
        ("autodiff", "2. jax.grad of the MSE", gradient_autodiff),
    ):
        ws, losses = jax.jit(fit, static_argnums=0)(gradient, x, y)
        runs[name] = report(title, 0.0, ws, losses, float(ws[-1] * 5))

    params0 = init_linear(jax.random.key(args.seed))
    params, weights, losses = jax.jit(fit_optax)(params0, x[:, None], y[:, None])
    test = jnp.asarray([[5.0]], jnp.float32)
    runs["optax"] = report(
        f"3. optax.sgd(0.01) on a linear layer, init from key {args.seed}",
        float(linear(params0, test)[0, 0]),
        weights,
        losses,
        float(linear(params, test)[0, 0]),
    )
    runs["optax"]["params0"] = jax.tree.map(np.asarray, params0)

    figure = plot.lines(
        np.arange(1, N_ITERS + 1),
        {name: run["loss"] for name, run in runs.items()},
        args.out / "loss.png",
        xlabel="epoch",
        ylabel="MSE (before the epoch's update)",
        logy=True,
        marker=".",
        title="001's linear regression, learning rate 0.01",
    )
    print(f"\nfigure: {figure}")
    return runs | {"figures": [figure]}


if __name__ == "__main__":
    main()
