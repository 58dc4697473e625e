"""Dense layers and activations: each forward beside the documents' hand-written backward rule.

The documents' classes keep state (`self.inputs`, `self.output`) between `forward` and
`backward`. Here each forward is a pure function and each backward takes what the class would
have remembered as explicit arguments, named as the documents name them:

    Layer_Dense.forward(inputs)      -> dense(layer, inputs)
    Layer_Dense.backward(dvalues)    -> dense_backward(dvalues, inputs, weights)
    Activation_ReLU.backward(dvalues) -> relu_backward(dvalues, inputs)

Shapes follow the documents: samples first, `inputs: (samples, n_inputs)`,
`weights: (n_inputs, n_neurons)`, `biases: (1, n_neurons)`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks

Layer = dict[str, jax.Array]
Params = list[Layer]


# --- parameters ------------------------------------------------------------------------------


def init_params(key: jax.Array, sizes: Sequence[int], scale: float = 0.01, dtype=None) -> Params:
    """Weights `scale * N(0, 1)` and zero biases for a stack of dense layers.

    sizes: layer widths, inputs first, e.g. `(2, 64, 3)` for the documents' 2-64-3 network.
    Returns one dict per layer, `{"weights": (n_inputs, n_neurons), "biases": (1, n_neurons)}`.
    """
    sizes = _check_sizes(sizes)
    dtype = checks.default_float() if dtype is None else dtype
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {
            "weights": scale * jax.random.normal(k, (n_in, n_out), dtype),
            "biases": jnp.zeros((1, n_out), dtype),
        }
        for k, (n_in, n_out) in zip(keys, itertools.pairwise(sizes), strict=True)
    ]


def init_params_book(sizes: Sequence[int], scale: float = 0.01, rng=None) -> Params:
    """The documents' initialisation: `scale * np.random.randn(n_inputs, n_neurons)` per layer,
    in layer order, from NumPy's global RNG (or `rng`, a `np.random.RandomState`).

    After `nnfs.init()` the documents' `randn` returns float32 and `np.zeros` float32; this
    draws the same numbers without patching NumPy, so after `np.random.seed(0)` (which is what
    `nnfs.init()` does to the RNG) it returns exactly the documents' arrays, as float32.
    """
    sizes = _check_sizes(sizes)
    rng = np.random if rng is None else rng
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        # Cast before scaling, as nnfs.init()'s wrapped randn does, then scale in float32.
        weights = np.float32(scale) * rng.randn(n_in, n_out).astype(np.float32)
        params.append(
            {
                "weights": jnp.asarray(weights),
                "biases": jnp.zeros((1, n_out), jnp.float32),
            }
        )
    return params


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in sizes)
    except (TypeError, ValueError) as err:
        raise TypeError(f"sizes: expected a sequence of layer widths, got {sizes!r}") from err
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            f"sizes: expected at least two positive widths (inputs, ..., outputs), got {sizes}"
        )
    return sizes


# --- dense ------------------------------------------------------------------------------------


class DenseGrads(NamedTuple):
    """What `Layer_Dense.backward` stores: gradients on the parameters and on the inputs."""

    dweights: jax.Array  # (n_inputs, n_neurons)
    dbiases: jax.Array  # (1, n_neurons)
    dinputs: jax.Array  # (samples, n_inputs)


def dense(layer: Layer, inputs: jax.Array) -> jax.Array:
    """`inputs: (samples, n_inputs)` -> `(samples, n_neurons)`: `inputs @ weights + biases`."""
    return jnp.dot(inputs, layer["weights"]) + layer["biases"]


def dense_backward(dvalues: jax.Array, inputs: jax.Array, weights: jax.Array) -> DenseGrads:
    """The documents' `Layer_Dense.backward`.

    dvalues: (samples, n_neurons), the gradient arriving from the next layer.
    """
    return DenseGrads(
        dweights=jnp.dot(inputs.T, dvalues),
        dbiases=jnp.sum(dvalues, axis=0, keepdims=True),
        dinputs=jnp.dot(dvalues, weights.T),
    )


# --- activations ------------------------------------------------------------------------------


def relu(inputs: jax.Array) -> jax.Array:
    """max(0, x). Written with `where`, not `jnp.maximum(0, x)`: JAX differentiates `maximum`
    at a tie as 0.5, while the documents' backward uses 0 at x == 0 (and `spiral_data` has the
    point (0, 0), which with zero biases puts every first-layer input exactly at 0)."""
    return jnp.where(inputs > 0, inputs, jnp.zeros_like(inputs))


def relu_backward(dvalues: jax.Array, inputs: jax.Array) -> jax.Array:
    """The documents' `Activation_ReLU.backward`: zero gradient where `inputs <= 0`."""
    return jnp.where(inputs <= 0, jnp.zeros_like(dvalues), dvalues)


def step(inputs: jax.Array) -> jax.Array:
    """1 where x > 0, else 0 (the perceptron's activation)."""
    return (inputs > 0).astype(inputs.dtype)


def step_backward(dvalues: jax.Array, inputs: jax.Array) -> jax.Array:
    """The step function is flat wherever it is differentiable: its gradient is zero."""
    return jnp.zeros_like(dvalues)


def linear(inputs: jax.Array) -> jax.Array:
    """The identity, the documents' `Activation_Linear`."""
    return inputs


def linear_backward(dvalues: jax.Array) -> jax.Array:
    """Gradient of the identity: unchanged."""
    return dvalues


def sigmoid(inputs: jax.Array) -> jax.Array:
    """1 / (1 + exp(-x)), evaluated without overflow: for x < 0 it uses exp(x) / (1 + exp(x)),
    so no exp of a large positive number is ever formed (the documents' form warns there)."""
    e = jnp.exp(-jnp.abs(inputs))
    return jnp.where(inputs >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dvalues: jax.Array, output: jax.Array) -> jax.Array:
    """The book's `Activation_Sigmoid.backward`: `dvalues * (1 - output) * output`."""
    return dvalues * (1 - output) * output


def softmax(inputs: jax.Array) -> jax.Array:
    """Row-wise softmax with the row maximum subtracted first, as the documents do.

    inputs: (samples, classes) -> probabilities (samples, classes), each row summing to 1.
    """
    exp_values = jnp.exp(inputs - jnp.max(inputs, axis=1, keepdims=True))
    return exp_values / jnp.sum(exp_values, axis=1, keepdims=True)


def softmax_jacobian(output: jax.Array) -> jax.Array:
    """Per-sample Jacobian `diagflat(s) - s s^T` of softmax. output: (samples, classes) ->
    (samples, classes, classes)."""
    eye = jnp.eye(output.shape[-1], dtype=output.dtype)
    return output[:, :, None] * eye - output[:, :, None] * output[:, None, :]


def softmax_backward(dvalues: jax.Array, output: jax.Array) -> jax.Array:
    """The documents' `Activation_Softmax.backward`, vectorised: the per-sample Jacobian times
    that sample's `dvalues`, for all samples at once instead of a Python loop.

    dvalues, output: (samples, classes).
    """
    return jnp.einsum("sij,sj->si", softmax_jacobian(output), dvalues)


class Activation(NamedTuple):
    """An activation's forward and its backward, the latter given (dvalues, inputs, output)."""

    forward: Callable[[jax.Array], jax.Array]
    backward: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(relu, lambda d, inputs, output: relu_backward(d, inputs)),
    "sigmoid": Activation(sigmoid, lambda d, inputs, output: sigmoid_backward(d, output)),
    "linear": Activation(linear, lambda d, inputs, output: linear_backward(d)),
    "step": Activation(step, lambda d, inputs, output: step_backward(d, inputs)),
}
assert tuple(ACTIVATIONS) == checks.ACTIVATION_NAMES


# --- dropout (NNFS chapter 15) -----------------------------------------------------------------


def dropout_mask(key: jax.Array, rate: float, shape: tuple[int, ...], dtype) -> jax.Array:
    """The book's `Layer_Dropout.binary_mask`: 1 / (1 - rate) where a unit is kept (with
    probability 1 - rate), 0 where it is dropped.

    rate: the fraction of units dropped, in [0, 1), as given to `Layer_Dropout(rate)` (the book
    then stores `self.rate = 1 - rate`, the keep probability). Dividing by the keep probability
    ("inverted dropout") keeps the expected output equal to the input, so nothing needs to be
    rescaled at evaluation.
    """
    keep = 1 - rate
    return jax.random.bernoulli(key, keep, shape).astype(dtype) / jnp.asarray(keep, dtype)


def dropout(inputs: jax.Array, key: jax.Array, rate: float, training: bool = True) -> jax.Array:
    """The book's `Layer_Dropout.forward(inputs, training)`: `inputs * binary_mask` when
    training, the inputs unchanged at evaluation (`training=False`, the key is then unused).

    inputs: (samples, n_neurons), usually an activation's output. The mask is a pure function
    of (key, rate, shape, dtype): `dropout_mask` with the same arguments rebuilds it for the
    backward pass.
    """
    if not training:
        return inputs
    return inputs * dropout_mask(key, rate, inputs.shape, inputs.dtype)


def dropout_backward(dvalues: jax.Array, binary_mask: jax.Array) -> jax.Array:
    """The book's `Layer_Dropout.backward`: `dvalues * binary_mask` (the mask already holds the
    1 / (1 - rate) scale, so dropped units pass no gradient and kept ones are scaled)."""
    return dvalues * binary_mask


# --- the documents' classifier ----------------------------------------------------------------


def forward_logits(params: Params, X: jax.Array, activations: Sequence[str]) -> jax.Array:
    """Dense -> act -> ... -> Dense: the last layer's output before softmax.

    X: (samples, n_inputs); activations: one name per hidden layer (len(params) - 1).
    Returns (samples, n_classes).
    """
    inputs = X
    for layer, name in zip(params[:-1], activations, strict=True):
        inputs = ACTIVATIONS[name].forward(dense(layer, inputs))
    return dense(params[-1], inputs)


class LayerCache(NamedTuple):
    """What a layer's classes remember for their backward pass."""

    inputs: jax.Array  # the dense layer's inputs, (samples, n_inputs)
    z: jax.Array  # the dense layer's output, (samples, n_neurons)
    output: jax.Array  # the activation's output (softmax for the last layer)


def forward_cache(params: Params, X: jax.Array, activations: Sequence[str]) -> list[LayerCache]:
    """The classifier's forward pass, keeping every layer's inputs, pre-activation and output.

    The last entry's `output` is the softmax probabilities.
    """
    inputs, cache = X, []
    for i, layer in enumerate(params):
        z = dense(layer, inputs)
        output = ACTIVATIONS[activations[i]].forward(z) if i < len(activations) else softmax(z)
        cache.append(LayerCache(inputs, z, output))
        inputs = output
    return cache


def forward(params: Params, X: jax.Array, activation: str | Sequence[str] = "relu") -> jax.Array:
    """The documents' classifier: Dense -> activation -> ... -> Dense -> softmax.

    X: (samples, n_inputs) -> class probabilities (samples, n_classes).
    activation: the hidden activation, one name for all hidden layers or one per layer.
    """
    shapes = checks.check_params(params)
    X = checks.check_X(X, shapes[0][0])
    return _forward(params, X, checks.check_activations(activation, len(params) - 1))


@jax.jit(static_argnames="activations")
def _forward(params: Params, X: jax.Array, activations: tuple[str, ...]) -> jax.Array:
    return softmax(forward_logits(params, X, activations))
