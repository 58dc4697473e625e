"""The book's layers: each forward a pure function beside the documents' hand-written backward.

The documents' classes keep state (`self.inputs`, `self.output`) between `forward` and
`backward`; here each backward takes what the class would have remembered, named as they are:

    Layer_Dense.forward(inputs)       -> dense(layer, inputs)
    Layer_Dense.backward(dvalues)     -> dense_backward(dvalues, inputs, weights)
    Activation_ReLU.backward(dvalues) -> relu_backward(dvalues, inputs)

Shapes: `inputs: (samples, n_inputs)`, `weights: (n_inputs, n_neurons)`, `biases: (1, n_neurons)`.
Every activation is one `Activation` record in `ACTIVATIONS`; a model, its gradients and every
engine use the records only, so a new activation is one record here and its tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

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
    sizes = checks.check_sizes(sizes)
    key = checks.check_key(key)
    scale = checks.check_scale(scale)
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
    in layer order, from NumPy's global RNG (or `rng`, a `np.random.RandomState`), as float32:
    after `np.random.seed(0)` (what `nnfs.init()` does) exactly the documents' arrays."""
    sizes = checks.check_sizes(sizes)
    scale = checks.check_scale(scale)
    rng = np.random if rng is None else rng
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        # Cast before scaling, as nnfs.init()'s wrapped randn does, then scale in float32.
        weights = np.float32(scale) * rng.randn(n_in, n_out).astype(np.float32)
        params.append(
            {"weights": jnp.asarray(weights), "biases": jnp.zeros((1, n_out), jnp.float32)}
        )
    return params


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
    """The documents' `Layer_Dense.backward`; dvalues: (samples, n_neurons)."""
    return DenseGrads(
        dweights=jnp.dot(inputs.T, dvalues),
        dbiases=jnp.sum(dvalues, axis=0, keepdims=True),
        dinputs=jnp.dot(dvalues, weights.T),
    )


# --- activations ------------------------------------------------------------------------------


def relu(inputs: jax.Array) -> jax.Array:
    """max(0, x), written with `where`: JAX differentiates `jnp.maximum(0, x)` at a tie as 0.5,
    the documents' backward uses 0 at x == 0 (and `spiral_data`'s point (0, 0) with zero biases
    puts every first-layer input exactly there)."""
    return jnp.where(inputs > 0, inputs, jnp.zeros_like(inputs))


def relu_backward(dvalues: jax.Array, inputs: jax.Array) -> jax.Array:
    """The documents' `Activation_ReLU.backward`: zero gradient where `inputs <= 0`."""
    return jnp.where(inputs <= 0, jnp.zeros_like(dvalues), dvalues)


def leaky_relu(inputs: jax.Array, slope: float = 0.01) -> jax.Array:
    """x where x > 0, else `slope * x`."""
    return jnp.where(inputs > 0, inputs, slope * inputs)


def leaky_relu_backward(dvalues: jax.Array, inputs: jax.Array, slope: float = 0.01) -> jax.Array:
    """`dvalues` where x > 0, else `slope * dvalues` (at x == 0 the slope, as `jax.grad` of the
    `where` above takes its second branch there)."""
    return jnp.where(inputs > 0, dvalues, slope * dvalues)


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
    """1 / (1 + exp(-x)) without overflow: for x < 0 it is exp(x) / (1 + exp(x)), so no exp of a
    large positive number is formed (the documents' form warns there)."""
    e = jnp.exp(-jnp.abs(inputs))
    return jnp.where(inputs >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dvalues: jax.Array, output: jax.Array) -> jax.Array:
    """The book's `Activation_Sigmoid.backward`: `dvalues * (1 - output) * output`."""
    return dvalues * (1 - output) * output


def tanh(inputs: jax.Array) -> jax.Array:
    """The hyperbolic tangent, (e^x - e^-x) / (e^x + e^-x)."""
    return jnp.tanh(inputs)


def tanh_backward(dvalues: jax.Array, output: jax.Array) -> jax.Array:
    """d tanh(x) / dx = 1 - tanh(x)^2, from the output as the sigmoid's rule is."""
    return dvalues * (1 - output * output)


def softmax(inputs: jax.Array) -> jax.Array:
    """Row-wise softmax, the row maximum subtracted first as the documents do.
    inputs: (samples, classes) -> probabilities, each row summing to 1."""
    exp_values = jnp.exp(inputs - jnp.max(inputs, axis=1, keepdims=True))
    return exp_values / jnp.sum(exp_values, axis=1, keepdims=True)


def softmax_jacobian(output: jax.Array) -> jax.Array:
    """Per-sample Jacobian `diagflat(s) - s s^T`: (samples, classes) -> (samples, c, c)."""
    eye = jnp.eye(output.shape[-1], dtype=output.dtype)
    return output[:, :, None] * eye - output[:, :, None] * output[:, None, :]


def softmax_backward(dvalues: jax.Array, output: jax.Array) -> jax.Array:
    """The documents' `Activation_Softmax.backward`, each sample's Jacobian times its
    `dvalues`, for all samples at once instead of a Python loop. (samples, classes)."""
    return jnp.einsum("sij,sj->si", softmax_jacobian(output), dvalues)


# --- dropout (NNFS chapter 15) ------------------------------------------------------------------


def dropout_mask(key: jax.Array, rate: Any, shape: tuple[int, ...], dtype) -> jax.Array:
    """The book's `Layer_Dropout.binary_mask`: `1 / (1 - rate)` where a unit is kept (with
    probability 1 - rate), 0 where it is dropped. rate: the fraction dropped, in [0, 1) (a
    traced value too: at rate 0 every entry is exactly 1)."""
    keep = 1 - jnp.asarray(rate, dtype)
    return jax.random.bernoulli(key, keep, shape).astype(dtype) / keep


def dropout(inputs: jax.Array, key: jax.Array, rate: float, training: bool = True) -> jax.Array:
    """The book's `Layer_Dropout.forward(inputs, training)`: `inputs * binary_mask` when
    training, the inputs unchanged otherwise (`dropout_mask` rebuilds the mask from the key)."""
    if not training:
        return inputs
    return inputs * dropout_mask(key, rate, inputs.shape, inputs.dtype)


def dropout_backward(dvalues: jax.Array, binary_mask: jax.Array) -> jax.Array:
    """The book's `Layer_Dropout.backward`: `dvalues * binary_mask`."""
    return dvalues * binary_mask


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """One activation layer kind: its forward, the documents' backward rule beside it, and what
    a gradient check needs to know.

    forward(inputs, **options) -> output; backward(dvalues, inputs, output, **options) ->
    dinputs. kink: where the function has a kink or jump (a central difference that straddles
    it sees neither side's slope), None where it is smooth. options: settable constants with
    their defaults, e.g. `(("slope", 0.01),)`; `with_options` changes them.
    """

    name: str
    forward: Callable[..., jax.Array]
    backward: Callable[..., jax.Array]
    kink: float | None = None
    options: tuple[tuple[str, float], ...] = ()

    def __call__(self, inputs: jax.Array) -> jax.Array:
        return self.forward(inputs, **dict(self.options))

    def backprop(self, dvalues: jax.Array, inputs: jax.Array, output: jax.Array) -> jax.Array:
        """The backward rule with this record's options."""
        return self.backward(dvalues, inputs, output, **dict(self.options))

    def with_options(self, **options: float) -> Activation:
        """This activation with some of its options changed, e.g. `with_options(slope=0.2)`."""
        known = dict(self.options)
        for name, value in options.items():
            if name not in known:
                raise checks.InputError(
                    f"{self.name}: unknown option {name!r}; it takes {sorted(known) or 'none'}"
                )
            value = checks.check_number(value, f"{self.name} {name}")
            if not np.isfinite(value):
                raise checks.InputError(
                    f"{self.name} {name}: expected a finite number, got {value}"
                )
            known[name] = value
        return Activation(self.name, self.forward, self.backward, self.kink, tuple(known.items()))

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.options)
        return f"{self.name}({options})" if options else self.name


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", relu, lambda d, inputs, output: relu_backward(d, inputs), kink=0.0),
        Activation("sigmoid", sigmoid, lambda d, inputs, output: sigmoid_backward(d, output)),
        Activation("linear", linear, lambda d, inputs, output: linear_backward(d)),
        Activation("step", step, lambda d, inputs, output: step_backward(d, inputs), kink=0.0),
        Activation("tanh", tanh, lambda d, inputs, output: tanh_backward(d, output)),
        Activation(
            "leaky_relu",
            leaky_relu,
            lambda d, inputs, output, slope: leaky_relu_backward(d, inputs, slope),
            kink=0.0,
            options=(("slope", 0.01),),
        ),
    )
}


def activation(name: str | Activation, **options: float) -> Activation:
    """The record of an activation by name (`"relu"`, `"leaky_relu"`, ...) or the record given,
    with `options` applied: `activation("leaky_relu", slope=0.2)`."""
    if isinstance(name, Activation):
        record = name
    elif isinstance(name, str) and name in ACTIVATIONS:
        record = ACTIVATIONS[name]
    else:
        raise checks.InputError(
            f"activation: unknown activation {name!r}; expected one of {tuple(ACTIVATIONS)} "
            "or a layers.Activation"
        )
    return record.with_options(**options) if options else record


def activations(activation_: Any, n_hidden: int) -> tuple[Activation, ...]:
    """One activation (name or record) for every hidden layer, or a sequence of exactly
    `n_hidden` of them, as records."""
    if isinstance(activation_, (str, Activation)):
        return (activation(activation_),) * n_hidden
    if not isinstance(activation_, Sequence):
        raise checks.InputError(
            f"activation: expected a name, a record or a sequence, got {activation_!r}"
        )
    records = tuple(activation(a) for a in activation_)
    if len(records) != n_hidden:
        raise checks.InputError(
            f"activation: expected one name or {n_hidden} names (one per hidden layer), "
            f"got {len(records)}"
        )
    return records
