"""The kernel interface, the reference kernel (the records composed by `network`), and dispatch.

A kernel is what one training step computes on a batch, in one data layout:

    data = kernel.prepare(X, y, precision, n_outputs)   # once per run, outside the loop
    batch = kernel.take(data, indices)              # the samples of a mini-batch
    sums = kernel.evaluate(params, data, model, key)             # -> Sums, no gradient
    grads, sums = kernel.value_and_grad(params, data, model, key)

`Sums` are the batch's sum of sample losses and its matching accuracy comparisons, measured
from the same forward pass as the gradient (the book's `loss_function.calculate` and
`accuracy.calculate` before `backward`). The gradient is of the data plus regularization loss.
`key` draws the dropout masks (`network.dropout_masks`); None means evaluation mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from nnfs_jax import network


class Sums(NamedTuple):
    """A batch's summed sample losses and matching comparisons (int32)."""

    loss: jax.Array
    correct: jax.Array


class Kernel(NamedTuple):
    """One layout's step functions (see the module docstring)."""

    name: str
    prepare: Callable[..., Any]
    take: Callable[[Any, jax.Array], Any]
    evaluate: Callable[..., Sums]
    value_and_grad: Callable[..., tuple[Any, Sums]]
    samples: Callable[[Any], int]


class Batch(NamedTuple):
    """The reference layout: the documents' `X: (samples, n_inputs)`, targets as checked, and
    the regression accuracy's precision (unused by the classifiers)."""

    X: jax.Array
    y: jax.Array
    precision: jax.Array


def prepare(X: jax.Array, y: jax.Array, precision: jax.Array, n_outputs: int) -> Batch:
    return Batch(X, y, precision)


def take(data: Batch, indices: jax.Array) -> Batch:
    return Batch(data.X[indices], data.y[indices], data.precision)


def sums(output: jax.Array, data: Batch, model: Any) -> Sums:
    """The book's accumulated loss and accuracy terms of one batch."""
    loss = jnp.sum(model.head.sample_losses(output, data.y))
    correct = jnp.sum(model.head.comparisons(output, data.y, data.precision), dtype=jnp.int32)
    return Sums(loss, correct)


def means(sums: Sums, samples: int, model: Any, data: Any) -> tuple[jax.Array, jax.Array]:
    """(mean sample loss, accuracy) from a batch's sums: the accuracy over `samples` times
    the comparisons per sample (1 for the softmax head, the outputs for the others)."""
    comparisons = samples * comparisons_per_sample(model, data)
    return sums.loss / samples, sums.correct.astype(sums.loss.dtype) / comparisons


def comparisons_per_sample(model: Any, data: Any) -> int:
    if model.head.name == "softmax":
        return 1
    return data.y.shape[-1]


def masks(params, X, model, key) -> network.Masks | None:
    if key is None or not network.has_dropout(model):
        return None
    return network.dropout_masks(params, X, model, key)


def evaluate(params, data: Batch, model, key=None) -> Sums:
    output = network.output(params, data.X, model, masks(params, data.X, model, key))
    return sums(output, data, model)


def manual_value_and_grad(params, data: Batch, model, key=None, fused: bool = True):
    cache = network.forward_cache(params, data.X, model, masks(params, data.X, model, key))
    grads = network.backward(params, cache, data.y, model, fused)
    return grads, sums(cache[-1].output, data, model)


def autodiff_value_and_grad(params, data: Batch, model, key=None):
    batch_masks = masks(params, data.X, model, key)

    def loss(p):
        output = network.output(p, data.X, model, batch_masks)
        data_loss = jnp.mean(model.head.sample_losses(output, data.y))
        return data_loss + network.regularization_loss(p, model), output

    grads, output = jax.grad(loss, has_aux=True)(params)
    return grads, sums(output, data, model)


def samples(data: Batch) -> int:
    return data.X.shape[0]


REFERENCE = {
    "manual": Kernel("reference", prepare, take, evaluate, manual_value_and_grad, samples),
    "autodiff": Kernel("reference", prepare, take, evaluate, autodiff_value_and_grad, samples),
}
GRADS = tuple(REFERENCE)
