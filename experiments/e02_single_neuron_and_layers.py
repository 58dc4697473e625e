"""Document 004 cell by cell: neurons, layers, batches, ReLU, softmax, cross-entropy, forward pass.

Follows 004 from the single neuron to the assembled forward pass on `spiral_data`, each number
computed with nnfs_jax (`layers.dense`, `layers.relu`, `layers.softmax`,
`losses.categorical_crossentropy`, `forward`, `loss`) or with `jax.numpy` where the document
spells the arithmetic out by hand, and printed as the document prints it.

Precision. The by-hand cells are Python floats in the document, so they run here in float64
(`jax.enable_x64`) and match to the last digit. The cells after `nnfs.init()` are float32
(`spiral_data`, `init_params_book`) and match to float32 round-off: `nnfs.init()` makes
`np.dot` compute in float64 and round the result to float32, while XLA's float32 dot rounds as
it goes, so the last printed digit can differ (0.33331832 here, 0.3333183 in the document;
the loss 1.0984449 here, 1.098445 there).

Two things the printout shows beyond the document: a dot product need not give the bit-exact
sum of the by-hand formula (`dense` gives 35.699999999999996 for the first neuron: XLA's dot
adds in its own order), and softmax with the maximum subtracted first, as `layers.softmax`
does, agrees with the document's exponentiate-then-normalise to within 2 ulp.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import nnfs_jax as nj
from nnfs_jax import layers, losses, plot

NAME = Path(__file__).stem

# The document's inputs and weights (cells 29-56).
INPUTS = [[1, 2, 3, 2.5], [2.0, 5.0, -1.0, 2.0], [-1.5, 2.7, 3.3, -0.8]]
WEIGHTS = [[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]]
BIASES = [2, 3, 0.5]
WEIGHTS2 = [[0.1, -0.14, 0.5], [-0.5, 0.12, -0.33], [-0.44, 0.73, -0.13]]
BIASES2 = [-1, 2, -0.5]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI); no effect here")
    parser.add_argument("--out", type=Path, default=Path("out") / NAME, help="figure folder")
    parser.add_argument("--seed", type=int, default=0, help="np.random.seed / nnfs.init() seed")
    return parser.parse_args(argv)


def cell(title: str) -> None:
    print(f"\n# {title}")


def layer(weights, biases) -> dict[str, jax.Array]:
    """A dense layer from the document's neuron-major weight lists: `weights` is transposed to
    nnfs_jax's `(n_inputs, n_neurons)`, as the document's `np.array(weights).T` does."""
    return {"weights": jnp.asarray(weights).T, "biases": jnp.asarray([biases], jnp.float64)}


def by_hand(seed: int) -> dict:
    """Cells 29-64 and 78-111: the by-hand arithmetic, float64 as the document's Python."""
    result = {}
    with jax.enable_x64(True):
        cell("In [30], In [31]: single neurons")
        neurons = []
        for inputs, weights, bias in (
            ([1.2, 5.1, 2.1], [3.1, 2.1, 8.7], 3),
            ([1, 2, 3], [0.2, 0.8, -0.5], 2),
        ):
            x, w = jnp.asarray(inputs, jnp.float64), jnp.asarray(weights, jnp.float64)
            # The document's formula, term by term in its order.
            output = x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + bias
            neurons.append(float(output))
            print(float(output))
        result["single_neurons"] = neurons
        neuron = layers.dense(layer([[3.1, 2.1, 8.7]], [3.0]), jnp.asarray([[1.2, 5.1, 2.1]]))
        result["single_neuron_dense"] = float(neuron[0, 0])
        print(f"(layers.dense gives {float(neuron[0, 0])!r}: a dot product sums in its own order)")

        cell("In [29]: a layer of three neurons")
        x = jnp.asarray(INPUTS[0], jnp.float64)
        w = jnp.asarray(WEIGHTS, jnp.float64)
        outputs = [
            float(x[0] * w[n, 0] + x[1] * w[n, 1] + x[2] * w[n, 2] + x[3] * w[n, 3] + BIASES[n])
            for n in range(3)
        ]
        result["layer"] = outputs
        print(outputs)

        cell("In [44]: dot product of one neuron")
        dot = float(jnp.dot(x, w[0]) + BIASES[0])
        result["dot"] = dot
        print(dot)

        cell("In [45]: dot product of a layer")
        layer_dot = np.asarray(jnp.dot(w, x) + jnp.asarray(BIASES, jnp.float64))
        result["layer_dot"] = layer_dot
        print(repr(layer_dot))

        cell("In [51]: a batch against untransposed weights")
        try:
            jnp.dot(jnp.asarray(INPUTS), w)
        except TypeError as err:  # JAX's counterpart of NumPy's "shapes not aligned"
            print(f"TypeError: {err}".splitlines()[0])

        cell("In [50]: a batch, weights transposed: layers.dense")
        batch = layers.dense(layer(WEIGHTS, BIASES), jnp.asarray(INPUTS, jnp.float64))
        result["batch_outputs"] = np.asarray(batch)
        print(repr(result["batch_outputs"]))

        cell("In [56]: a second layer")
        layer2 = layers.dense(layer(WEIGHTS2, BIASES2), batch)
        result["layer2_outputs"] = np.asarray(layer2)
        print(repr(result["layer2_outputs"]))

        cell("In [64]: Layer_Dense(4, 5), Layer_Dense(5, 2) after np.random.seed(0)")
        # Before nnfs.init(): plain float64 randn, so not init_params_book (float32).
        rng = np.random.RandomState(seed)
        dense1 = {"weights": jnp.asarray(0.1 * rng.randn(4, 5)), "biases": jnp.zeros((1, 5))}
        dense2 = {"weights": jnp.asarray(0.1 * rng.randn(5, 2)), "biases": jnp.zeros((1, 2))}
        seeded = layers.dense(dense2, layers.dense(dense1, jnp.asarray(INPUTS, jnp.float64)))
        result["layer_dense_seeded"] = np.asarray(seeded)
        print(repr(result["layer_dense_seeded"]))

        cell("In [83], In [86]: softmax by hand, e ** x then normalise")
        layer_outputs = jnp.asarray([4.8, 1.21, 2.385], jnp.float64)
        exp_values = jnp.power(math.e, layer_outputs)  # the document's e ** x, not exp(x)
        norm_values = exp_values / jnp.sum(exp_values)
        result["exp_values"] = [float(v) for v in exp_values]
        result["softmax"] = [float(v) for v in norm_values]
        result["softmax_sum"] = float(jnp.sum(norm_values))
        print(result["exp_values"])
        print(result["softmax"])
        print(result["softmax_sum"])
        library = layers.softmax(layer_outputs[None, :])[0]
        result["softmax_layers"] = [float(v) for v in library]
        print(f"layers.softmax (maximum subtracted first): {result['softmax_layers']}")

        cell("In [101], In [103]: softmax of a batch")
        batch_outputs = jnp.asarray(
            [[4.8, 1.21, 2.385], [8.9, -1.81, 0.2], [1.41, 1.051, 0.026]], jnp.float64
        )
        exp_batch = jnp.exp(batch_outputs)
        norm_bases = jnp.sum(exp_batch, axis=1, keepdims=True)
        result["norm_bases"] = np.asarray(norm_bases)
        print(repr(result["norm_bases"]))
        batch_softmax = layers.softmax(batch_outputs)
        result["batch_softmax"] = np.asarray(batch_softmax)
        print(np.asarray(jnp.sum(batch_softmax, axis=1)))
        print(repr(result["batch_softmax"]))

        cell("In [111]: categorical cross-entropy by hand")
        softmax_outputs = jnp.asarray([[0.7, 0.1, 0.2], [0.1, 0.5, 0.4], [0.02, 0.9, 0.08]])
        class_targets = jnp.asarray([0, 1, 1])
        logs = losses.categorical_crossentropy(softmax_outputs, class_targets)
        result["crossentropy_logs"] = np.asarray(logs)
        result["crossentropy_mean"] = float(jnp.mean(logs))
        print(result["crossentropy_logs"][None, :])  # the document's fancy index is (1, 3)
        print(result["crossentropy_mean"])
    return result


def on_spiral(seed: int) -> dict:
    """Cells 77, 108 and 118: after `nnfs.init()`, float32 as the document's."""
    result = {}
    cell("In [77]: Layer_Dense(2, 5) and ReLU on spiral_data(100, 3)")
    nj.book_seed(seed)  # nnfs.init()
    X, y = nj.spiral_data(100, 3)
    (dense1,) = nj.init_params_book((2, 5), 0.1)
    relu_output = np.asarray(layers.relu(layers.dense(dense1, X)))
    result["relu_output"] = relu_output
    print(repr(relu_output))

    cell("In [108], In [118]: the assembled forward pass and its loss")
    nj.book_seed(seed)  # the document calls nnfs.init() again
    X, y = nj.spiral_data(100, 3)
    params = nj.init_params_book((2, 3, 3), 0.1)
    probabilities = np.asarray(nj.forward(params, X))
    result["forward_first5"] = probabilities[:5]
    result["spiral_loss"] = float(nj.loss(params, X, y))
    print(probabilities[:5])
    print(np.float32(result["spiral_loss"]))  # a float32 scalar, printed as NumPy prints it
    result["spiral"] = (params, X, y)
    return result


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    result = by_hand(args.seed) | on_spiral(args.seed)
    params, X, y = result.pop("spiral")
    figure = plot.decision_boundary(
        params, X, y, args.out / "untrained_boundary.png", title="untrained 2-3-3 (004 In [118])"
    )
    print(f"\nfigure: {figure}")
    result["figures"] = [figure]
    return result


if __name__ == "__main__":
    main()
