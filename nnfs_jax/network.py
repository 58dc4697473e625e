"""A model's forward pass, losses and the documents' backward pass, composed from the records.

The book's network, `Dense -> act -> Dropout -> ... -> Dense -> head`, as pure functions of
`(params, X, y, model, masks)`: no validation, jittable with the `Model` static. `masks` are
the dropout masks (`dropout_masks`), None for evaluation: keeping the random draws out of the
differentiated functions lets finite differences reuse one set of masks. Every gradient method,
engine and kernel starts from these; the checked entry points are in `nnfs_jax.model`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from nnfs_jax import regularization
from nnfs_jax.layers import Params, dense, dropout_backward, dropout_mask

Masks = tuple[jax.Array | None, ...]  # one per hidden layer; None: no dropout there


def has_dropout(model: Any) -> bool:
    """Whether any hidden layer has a dropout layer (a rate that is not a known 0)."""
    return any(regularization.is_on(rate) for rate in model.dropout)


def dropout_masks(params: Params, X: jax.Array, model: Any, key: jax.Array) -> Masks:
    """Every hidden layer's `binary_mask` for a batch `X`, `(samples, n_neurons)` each, drawn by
    `layers.dropout_mask` from `jax.random.fold_in(key, i)` for hidden layer i (so a layer's
    mask does not depend on how many layers there are); None where the rate is a known 0."""
    masks = []
    for i, (layer, rate) in enumerate(zip(params[:-1], model.dropout, strict=True)):
        if not regularization.is_on(rate):
            masks.append(None)
            continue
        shape = (X.shape[0], layer["weights"].shape[1])
        dtype = jnp.result_type(X.dtype, layer["weights"].dtype)
        masks.append(dropout_mask(jax.random.fold_in(key, i), rate, shape, dtype))
    return tuple(masks)


class Cache(NamedTuple):
    """What a layer's classes remember for their backward pass."""

    inputs: jax.Array  # the dense layer's inputs, (samples, n_inputs)
    z: jax.Array  # the dense layer's output, (samples, n_neurons)
    output: jax.Array  # the activation's output (the head's for the last layer)
    binary_mask: jax.Array | None  # the dropout after it, None where there is none


def forward_cache(
    params: Params, X: jax.Array, model: Any, masks: Masks | None = None
) -> list[Cache]:
    """The forward pass, keeping what every layer needs for its backward pass."""
    inputs, cache = X, []
    for i, layer in enumerate(params[:-1]):
        z = dense(layer, inputs)
        out = model.activations[i](z)
        binary_mask = None if masks is None else masks[i]
        cache.append(Cache(inputs, z, out, binary_mask))
        # Layer_Dropout.forward: `out * binary_mask`.
        inputs = out if binary_mask is None else out * binary_mask
    z = dense(params[-1], inputs)
    cache.append(Cache(inputs, z, model.head.forward(z), None))
    return cache


def output(params: Params, X: jax.Array, model: Any, masks: Masks | None = None) -> jax.Array:
    """The head's output (samples, n_outputs): probabilities, sigmoid outputs or values."""
    return forward_cache(params, X, model, masks)[-1].output


def data_loss(
    params: Params, X: jax.Array, y: jax.Array, model: Any, masks: Masks | None = None
) -> jax.Array:
    """The book's `loss_function.calculate(output, y)`: the mean of the head's sample losses."""
    return jnp.mean(model.head.sample_losses(output(params, X, model, masks), y))


def regularization_loss(params: Params, model: Any) -> jax.Array:
    """The sum over layers of the book's `loss_function.regularization_loss(layer)`."""
    total = jnp.zeros((), params[0]["weights"].dtype)
    for layer, regularizer in zip(params, model.regularizers, strict=True):
        total += regularization.regularization_loss(layer, regularizer)
    return total


def total_loss(
    params: Params, X: jax.Array, y: jax.Array, model: Any, masks: Masks | None = None
) -> jax.Array:
    """`data_loss + regularization_loss`, the book's loss in training: the scalar every gradient
    method (the documents' rules, `jax.grad`, finite differences) differentiates."""
    return data_loss(params, X, y, model, masks) + regularization_loss(params, model)


def backward(params: Params, cache: list[Cache], y: jax.Array, model: Any, fused: bool) -> Params:
    """The book's backward pass from a forward cache: the head's rule, then for each layer from
    the last, dropout's, the activation's and the (regularized) dense layer's.
    Returns `[{"weights": dweights, "biases": dbiases}, ...]`."""
    dvalues = model.head.backward(cache[-1].output, y, fused)
    grads: list[dict[str, jax.Array]] = []
    for i in reversed(range(len(params))):
        inputs, z, out, binary_mask = cache[i]
        if i < len(params) - 1:
            if binary_mask is not None:
                dvalues = dropout_backward(dvalues, binary_mask)
            dvalues = model.activations[i].backprop(dvalues, z, out)
        g = regularization.dense_backward_regularized(
            dvalues, inputs, params[i], model.regularizers[i]
        )
        grads.append({"weights": g.dweights, "biases": g.dbiases})
        dvalues = g.dinputs
    return grads[::-1]


def manual_gradient(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    model: Any,
    masks: Masks | None = None,
    fused: bool = True,
) -> Params:
    """The gradient of `total_loss` from the documents' backward rules. fused: the softmax
    head's combined rule `(p - y) / samples`; `False` goes through the softmax Jacobian (the
    other heads always chain their loss's rule through their activation's, as the book does)."""
    return backward(params, forward_cache(params, X, model, masks), y, model, fused)


def accuracy(output: jax.Array, y: jax.Array, model: Any, precision: Any = None) -> jax.Array:
    """The book's accuracy for the model's head (the mean of its comparisons); the linear heads
    count outputs within `precision`, `std(y) / 250` unless given."""
    if model.head.uses_precision and precision is None:
        precision = jnp.std(y) / 250
    return jnp.mean(model.head.comparisons(output, y, precision).astype(output.dtype))


def kinks_and_saturation(
    params: Params, X: jax.Array, y: jax.Array, model: Any, masks: Masks | None, h: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Where finite differences (step h) and the hand-written rules can legitimately disagree.

    kinks: hidden pre-activations within h of their activation's kink, L1-regularized
      parameters within h of 0, and the head's own (MAE: outputs within h of their target).
    saturated: entries the loss's clip makes flat (the head's count).
    """
    cache = forward_cache(params, X, model, masks)
    kinks = jnp.zeros((), jnp.int32)
    for c, act in zip(cache[:-1], model.activations, strict=True):
        if act.kink is not None:
            kinks += jnp.sum(jnp.abs(c.z - act.kink) < h, dtype=jnp.int32)
    for layer, r in zip(params, model.regularizers, strict=True):
        if regularization.is_on(r.weight_regularizer_l1):
            kinks += jnp.sum(jnp.abs(layer["weights"]) < h, dtype=jnp.int32)
        if regularization.is_on(r.bias_regularizer_l1):
            kinks += jnp.sum(jnp.abs(layer["biases"]) < h, dtype=jnp.int32)
    out = cache[-1].output
    if model.head.kinks is not None:
        kinks += model.head.kinks(out, y, h)
    return kinks, model.head.saturated(out, y).astype(jnp.int32)
