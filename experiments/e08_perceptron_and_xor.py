"""The perceptron of document 001 on logic gates, and its sigmoid "network" on XOR.

Follows 001 ("Adeline Perceptron" and the backpropagation example). The perceptron: weights
`zeros(n_inputs + 1)` (bias first), prediction 1 if `inputs . weights[1:] + weights[0] > 0`
else 0 (`layers.step`), then for every sample in order `update = learning_rate * (target -
prediction)`, `weights[1:] += update * inputs`, `weights[0] += update`, counting the samples
with a non-zero update as that epoch's errors. Here it is a pure function: `lax.scan` over the
samples inside `lax.scan` over the epochs, in float64 like the document's `np.zeros`. On AND
and OR (linearly separable) the errors fall to 0; on XOR they never do.

The sigmoid example: `weights = np.random.rand(2, 1)` (seeded here), 10,000 epochs of
`outputs = sigmoid(X @ weights)`, `error = y - outputs`,
`weights += X.T @ (error * sigmoid_derivative(outputs))` with
`sigmoid_derivative(output) = output * (1 - output)` (`layers.sigmoid_backward`). That
network has no hidden layer and no bias, so it cannot represent XOR: the output for (0, 0) is
sigmoid(0) = 0.5 whatever the weights, and the others settle near 0.5 too. A 2-2-1 sigmoid
network with biases, trained by the same rule through `layers.dense_backward` and
`layers.sigmoid_backward`, does learn it, from most initialisations: some get stuck in a
local minimum, so several are trained at once (`vmap`) and the count that solve it printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import nnfs_jax as nj
from nnfs_jax import layers, plot

NAME = Path(__file__).stem

GATES_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
INPUTS = ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]
GATES = {
    "AND": np.array([0, 0, 0, 1], np.float32),
    "OR": np.array([0, 1, 1, 1], np.float32),
    "XOR": np.array([0, 1, 1, 0], np.float32),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer XOR initialisations (CI)")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the XOR initialisations")
    return parser.parse_args(argv)


# --- the perceptron --------------------------------------------------------------------------


def predict(weights: jax.Array, inputs: jax.Array) -> jax.Array:
    """The perceptron's `predict`: step(inputs . weights[1:] + weights[0])."""
    return layers.step(jnp.dot(inputs, weights[1:]) + weights[0])


def fit_perceptron(
    X: jax.Array, y: jax.Array, epochs: int = 10, learning_rate: float = 0.01
) -> tuple[jax.Array, jax.Array]:
    """The perceptron's `fit`, sample by sample and epoch by epoch, as two nested scans.

    Returns (weights (n_inputs + 1,), errors per epoch (epochs,) int32).
    """

    def sample_step(weights, sample):
        inputs, target = sample
        update = learning_rate * (target - predict(weights, inputs))
        weights = weights.at[1:].add(update * inputs).at[0].add(update)
        return weights, (update != 0.0).astype(jnp.int32)

    def epoch_step(weights, _):
        weights, wrong = jax.lax.scan(sample_step, weights, (X, y))
        return weights, jnp.sum(wrong)

    weights = jnp.zeros(X.shape[1] + 1, X.dtype)
    return jax.lax.scan(epoch_step, weights, None, length=epochs)


# --- the sigmoid networks on XOR -------------------------------------------------------------


def train_no_hidden(weights: jax.Array, X: jax.Array, y: jax.Array, epochs: int) -> tuple:
    """001's loop: `weights += X.T @ (error * sigmoid_derivative(outputs))`, no bias.

    Returns (weights, outputs every 100 epochs (epochs // 100, samples))."""

    def step(weights, _):
        outputs = layers.sigmoid(X @ weights)
        adjustments = layers.sigmoid_backward(y - outputs, outputs)  # error * s * (1 - s)
        return weights + X.T @ adjustments, outputs[:, 0]

    weights, outputs = jax.lax.scan(step, weights, None, length=epochs)
    return weights, outputs[::100]


def xor_net(params: list, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    """2-2-1 sigmoid network: (hidden activations, outputs)."""
    hidden = layers.sigmoid(layers.dense(params[0], X))
    return hidden, layers.sigmoid(layers.dense(params[1], hidden))


def train_hidden(params: list, X: jax.Array, y: jax.Array, epochs: int) -> tuple:
    """The same rule through a hidden layer with biases: `error * sigmoid_derivative` at the
    output, back through `dense_backward` and `sigmoid_backward`, then `params += gradient`
    (the rule descends 0.5 * sum of squared errors; its sign is folded into `error`).

    Returns (params, outputs every 100 epochs (epochs // 100, samples))."""

    def step(params, _):
        hidden, outputs = xor_net(params, X)
        delta = layers.sigmoid_backward(y - outputs, outputs)
        dense2 = layers.dense_backward(delta, hidden, params[1]["weights"])
        delta_hidden = layers.sigmoid_backward(dense2.dinputs, hidden)
        dense1 = layers.dense_backward(delta_hidden, X, params[0]["weights"])
        updates = [
            {"weights": dense1.dweights, "biases": dense1.dbiases},
            {"weights": dense2.dweights, "biases": dense2.dbiases},
        ]
        return jax.tree.map(jnp.add, params, updates), outputs[:, 0]

    params, outputs = jax.lax.scan(step, params, None, length=epochs)
    return params, outputs[::100]


def solved(outputs: jax.Array, y: jax.Array) -> jax.Array:
    """True where every output is on the right side of 0.5."""
    return jnp.all((outputs > 0.5) == (y > 0.5), axis=-1)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    epochs = 10_000
    inits = 8 if args.quick else 64

    print("# The perceptron (10 epochs, learning rate 0.01), errors per epoch")
    perceptron = {}
    with jax.enable_x64(True):  # the document's np.zeros weights are float64
        fit = jax.jit(fit_perceptron)
        for gate, y in GATES.items():
            X64 = jnp.asarray(GATES_X, jnp.float64)
            weights, errors = fit(X64, jnp.asarray(y, jnp.float64))
            predictions = jax.vmap(predict, (None, 0))(weights, X64)
            result = {
                "weights": np.asarray(weights),
                "errors": [int(e) for e in errors],
                "predictions": [int(p) for p in predictions],
            }
            perceptron[gate] = result
            print(f"{gate:>3}: errors {result['errors']}")
            print(f"     weights {result['weights']}, predictions {result['predictions']}")

    X = jnp.asarray(GATES_X)
    y = jnp.asarray(GATES["XOR"])[:, None]
    print(f"\n# 001's sigmoid network on XOR: rand(2, 1) weights, no bias, {epochs} epochs")
    weights0 = jnp.asarray(np.random.RandomState(args.seed).rand(2, 1), jnp.float32)
    weights, trace_flat = jax.jit(train_no_hidden, static_argnums=3)(weights0, X, y, epochs)
    flat_outputs = layers.sigmoid(X @ weights)[:, 0]
    print(f"weights {np.asarray(weights)[:, 0]}")
    print(f"outputs {np.asarray(flat_outputs)} for targets {GATES['XOR']}")

    print(f"\n# A 2-2-1 sigmoid network with biases, the same rule, {inits} initialisations")
    keys = jax.random.split(jax.random.key(args.seed), inits)
    params0 = jax.jit(jax.vmap(lambda k: nj.init_params(k, (2, 2, 1), scale=1.0)))(keys)
    train = jax.jit(jax.vmap(train_hidden, (0, None, None, None)), static_argnums=3)
    params, traces = train(params0, X, y, epochs)
    outputs = jax.jit(jax.vmap(lambda p: xor_net(p, X)[1][:, 0]))(params)
    ok = np.asarray(solved(outputs, y[:, 0]))
    best = int(np.argmax(ok)) if ok.any() else int(np.argmin(jnp.sum((outputs - y[:, 0]) ** 2, 1)))
    print(f"solved XOR: {int(ok.sum())} of {inits} initialisations")
    print(f"outputs of initialisation {best}: {np.asarray(outputs[best])}")

    checkpoints = np.arange(0, epochs, 100)
    figures = [
        plot.lines(
            np.arange(1, 11),
            {gate: result["errors"] for gate, result in perceptron.items()},
            args.out / "perceptron_errors.png",
            xlabel="epoch",
            ylabel="errors (samples with an update)",
            marker="o",
            title="001's perceptron, learning rate 0.01",
        ),
        plot.lines(
            checkpoints,
            {
                **{f"no hidden layer, input {x}": trace_flat[:, i] for i, x in enumerate(INPUTS)},
                **{f"2-2-1, input {x}": traces[best][:, i] for i, x in enumerate(INPUTS)},
            },
            args.out / "xor_outputs.png",
            xlabel="epoch",
            ylabel="output",
            title="XOR: 001's network stays near 0.5; a hidden layer learns it",
        ),
    ]  # fmt: skip
    print("\nfigures:", *map(str, figures), sep="\n  ")
    return {
        "perceptron": perceptron,
        "no_hidden": {"weights0": np.asarray(weights0), "outputs": np.asarray(flat_outputs)},
        "hidden": {"solved": int(ok.sum()), "inits": inits, "outputs": np.asarray(outputs[best])},
        "figures": figures,
    }


if __name__ == "__main__":
    main()
