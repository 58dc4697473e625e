"""The softmax classifier's step with samples on the last axis: `base.Kernel` in another layout.

Same parameters (the documents' layout), same rules, but activations held as `(features,
samples)`: `XT: (n_inputs, samples)`, `z = weights.T @ inputs + biases.T`. On XLA's CPU backend
arrays whose minor axis is tiny (2 features, 3 classes) vectorise poorly; this layout makes the
documents' training loop about twice as fast. Labels become `(classes, samples)` rows: `Y_loss`
the targets as given (the loss), `Y_grad` the one-hot of their argmax (the documents' fused
rule subtracts it). For softmax heads without dropout; any activation record works unchanged
(they are elementwise). Regularization is added to the data gradient as `Layer_Dense.backward`
adds it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from nnfs_jax import network, regularization
from nnfs_jax.kernels.base import Kernel, Sums
from nnfs_jax.layers import Params
from nnfs_jax.losses import CLIP, one_hot, sparse_labels


class Columns(NamedTuple):
    """The data samples-last: XT (n_inputs, samples), Y_loss and Y_grad (classes, samples)."""

    XT: jax.Array
    Y_loss: jax.Array
    Y_grad: jax.Array


def prepare(X: jax.Array, y: jax.Array, precision: Any, classes: int) -> Columns:
    """The data samples-last, from sparse `(samples,)` or one-hot `(samples, classes)` labels."""
    Y_loss = one_hot(y, classes, X.dtype).T
    return Columns(X.T, Y_loss, one_hot(sparse_labels(y), classes, X.dtype).T)


def take(data: Columns, indices: jax.Array) -> Columns:
    return Columns(*(a[:, indices] for a in data))


def samples(data: Columns) -> int:
    return data.XT.shape[1]


def dense_fm(layer: dict, inputs: jax.Array) -> jax.Array:
    """`inputs: (n_inputs, samples)` -> `(n_neurons, samples)`."""
    return layer["weights"].T @ inputs + layer["biases"].T


def softmax_fm(inputs: jax.Array) -> jax.Array:
    """Softmax over classes (axis 0), the column maximum subtracted first."""
    exp_values = jnp.exp(inputs - jnp.max(inputs, axis=0, keepdims=True))
    return exp_values / jnp.sum(exp_values, axis=0, keepdims=True)


def forward_cache_fm(params: Params, XT: jax.Array, model: Any) -> list[tuple]:
    """Each layer's (inputs, pre-activation, output), all `(features, samples)`; the last
    output is the softmax probabilities `(classes, samples)`."""
    inputs, cache = XT, []
    for i, layer in enumerate(params):
        z = dense_fm(layer, inputs)
        output = model.activations[i](z) if i < len(params) - 1 else softmax_fm(z)
        cache.append((inputs, z, output))
        inputs = output
    return cache


def sums_fm(probs: jax.Array, data: Columns) -> Sums:
    """The summed clipped cross-entropy and the argmax hits."""
    loss = jnp.sum(-jnp.log(jnp.sum(jnp.clip(probs, CLIP, 1 - CLIP) * data.Y_loss, axis=0)))
    hits = jnp.argmax(probs, axis=0) == jnp.argmax(data.Y_loss, axis=0)
    return Sums(loss, jnp.sum(hits, dtype=jnp.int32))


def evaluate(params: Params, data: Columns, model: Any, key: Any = None) -> Sums:
    return sums_fm(forward_cache_fm(params, data.XT, model)[-1][2], data)


def manual_value_and_grad(params: Params, data: Columns, model: Any, key: Any = None):
    """The documents' backward pass in this layout (fused softmax + cross-entropy, then each
    layer's activation and dense rules); gradients in the documents' layout."""
    cache = forward_cache_fm(params, data.XT, model)
    probs = cache[-1][2]
    dvalues = (probs - data.Y_grad) / probs.shape[1]
    grads = []
    for i in reversed(range(len(params))):
        inputs, z, out = cache[i]
        if i < len(params) - 1:
            dvalues = model.activations[i].backprop(dvalues, z, out)
        dweights, dbiases = inputs @ dvalues.T, jnp.sum(dvalues, axis=1)[None, :]
        regularizer = model.regularizers[i]
        if regularizer.active:
            reg = regularization.regularization_backward(params[i], regularizer)
            dweights, dbiases = dweights + reg.dweights, dbiases + reg.dbiases
        grads.append({"weights": dweights, "biases": dbiases})
        dvalues = params[i]["weights"] @ dvalues
    return grads[::-1], sums_fm(probs, data)


def autodiff_value_and_grad(params: Params, data: Columns, model: Any, key: Any = None):
    """`jax.grad` of the mean loss plus regularization, in this layout."""

    def loss(p):
        probs = forward_cache_fm(p, data.XT, model)[-1][2]
        total = sums_fm(probs, data).loss / probs.shape[1]
        return total + network.regularization_loss(p, model), probs

    grads, probs = jax.grad(loss, has_aux=True)(params)
    return grads, sums_fm(probs, data)


KERNELS = {
    "manual": Kernel("feature_major", prepare, take, evaluate, manual_value_and_grad, samples),
    "autodiff": Kernel("feature_major", prepare, take, evaluate, autodiff_value_and_grad, samples),
}
