"""The classifier's forward, loss and hand-written backward pass with samples on the last axis.

Same parameters (the documents' layout, `weights: (n_inputs, n_neurons)`,
`biases: (1, n_neurons)`), same rules, but activations are held as `(features, samples)`:
`XT: (n_inputs, samples)`, `z = weights.T @ inputs + biases.T`. On XLA's CPU backend arrays
whose minor axis is tiny (2 features, 3 classes) vectorise poorly, and this layout made the
documents' training loop about 2x faster (see shared/PERFORMANCE_NOTES.md). The engines
(`train`, `search`, `sweep`) run on these; tests hold them equal to `layers`/`backprop`.

Labels come as `Y: (classes, samples)` rows of a one-hot (or soft) target, so sparse and
one-hot labels take one code path: `Y = labels_fm(y, classes)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from nnfs_jax.layers import ACTIVATIONS, LayerCache, Params
from nnfs_jax.losses import CLIP, one_hot


def labels_fm(y: jax.Array, classes: int, dtype) -> jax.Array:
    """Sparse `(samples,)` or one-hot `(samples, classes)` labels -> `(classes, samples)`."""
    return one_hot(y, classes, dtype).T


def dense_fm(layer: dict, inputs: jax.Array) -> jax.Array:
    """`inputs: (n_inputs, samples)` -> `(n_neurons, samples)`."""
    return layer["weights"].T @ inputs + layer["biases"].T


def dense_backward_fm(
    dvalues: jax.Array, inputs: jax.Array, weights: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """`Layer_Dense.backward` for `dvalues: (n_neurons, samples)`, `inputs: (n_inputs, samples)`.

    Returns (dweights (n_inputs, n_neurons), dbiases (1, n_neurons), dinputs (n_inputs, samples)):
    the parameter gradients in the documents' layout.
    """
    return inputs @ dvalues.T, jnp.sum(dvalues, axis=1)[None, :], weights @ dvalues


def softmax_fm(inputs: jax.Array) -> jax.Array:
    """Softmax over classes (axis 0), the column maximum subtracted first."""
    exp_values = jnp.exp(inputs - jnp.max(inputs, axis=0, keepdims=True))
    return exp_values / jnp.sum(exp_values, axis=0, keepdims=True)


def forward_cache_fm(params: Params, XT: jax.Array, activations: Sequence[str]) -> list[LayerCache]:
    """Each layer's (inputs, pre-activation, output), all `(features, samples)`; the last
    output is the softmax probabilities `(classes, samples)`."""
    inputs, cache = XT, []
    for i, layer in enumerate(params):
        z = dense_fm(layer, inputs)
        output = ACTIVATIONS[activations[i]].forward(z) if i < len(activations) else softmax_fm(z)
        cache.append(LayerCache(inputs, z, output))
        inputs = output
    return cache


def crossentropy_fm(probs: jax.Array, Y: jax.Array) -> jax.Array:
    """Mean clipped categorical cross-entropy; `probs, Y: (classes, samples)`."""
    return jnp.mean(-jnp.log(jnp.sum(jnp.clip(probs, CLIP, 1 - CLIP) * Y, axis=0)))


def accuracy_fm(probs: jax.Array, Y: jax.Array) -> jax.Array:
    """Fraction of samples whose argmax class is the (argmax of the) target."""
    return jnp.mean((jnp.argmax(probs, axis=0) == jnp.argmax(Y, axis=0)).astype(probs.dtype))


def loss_fm(params: Params, XT: jax.Array, Y: jax.Array, activations: Sequence[str]) -> jax.Array:
    """`losses.loss` in this layout: the quantity `jax.grad` differentiates in the engines."""
    return crossentropy_fm(forward_cache_fm(params, XT, activations)[-1].output, Y)


def metrics_fm(
    params: Params, XT: jax.Array, Y: jax.Array, activations: Sequence[str]
) -> tuple[jax.Array, jax.Array]:
    """(mean loss, accuracy) from one forward pass."""
    probs = forward_cache_fm(params, XT, activations)[-1].output
    return crossentropy_fm(probs, Y), accuracy_fm(probs, Y)


def manual_gradient_fm(
    params: Params, XT: jax.Array, Y: jax.Array, activations: Sequence[str]
) -> Params:
    """The documents' backward pass (fused softmax + cross-entropy, then dense and activation
    rules layer by layer) in this layout; gradients in the documents' layout.

    Y: the one-hot target `(classes, samples)`. (The documents' fused rule subtracts the
    one-hot of the label's argmax; for soft labels pass `labels_fm(sparse_labels(y), ...)`.)
    """
    # The loss is unused here; under jit it is never computed.
    return manual_gradient_and_loss_fm(params, XT, Y, Y, activations)[0]


def manual_gradient_and_loss_fm(
    params: Params, XT: jax.Array, Y_grad: jax.Array, Y_loss: jax.Array, activations
) -> tuple[Params, jax.Array]:
    """`manual_gradient_fm` with target `Y_grad`, and the mean loss against `Y_loss` from the
    same forward pass (the loss measured before the update, as the engines log it)."""
    cache = forward_cache_fm(params, XT, activations)
    probs = cache[-1].output
    dvalues = (probs - Y_grad) / probs.shape[1]
    grads = []
    for i in reversed(range(len(params))):
        if i < len(activations):
            dvalues = ACTIVATIONS[activations[i]].backward(dvalues, cache[i].z, cache[i].output)
        dweights, dbiases, dvalues = dense_backward_fm(
            dvalues, cache[i].inputs, params[i]["weights"]
        )
        grads.append({"weights": dweights, "biases": dbiases})
    return grads[::-1], crossentropy_fm(probs, Y_loss)


def autodiff_gradient_fm(
    params: Params, XT: jax.Array, Y: jax.Array, activations: Sequence[str]
) -> Params:
    """`jax.grad` of `loss_fm`."""
    return jax.grad(loss_fm)(params, XT, Y, activations)


GRADIENTS = {"manual": manual_gradient_fm, "autodiff": autodiff_gradient_fm}
