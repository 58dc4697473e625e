"""The book's losses, each beside its hand-written backward rule, and their accuracies.

Classifier labels come as the documents allow: sparse class indices `(samples,)` or one-hot
rows `(samples, classes)`; the other losses take `(samples, outputs)` targets. Each loss returns
the per-sample losses `(samples,)`; a head (`nnfs_jax.heads`) pairs one with an output layer.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

CLIP = 1e-7  # the documents clip predictions to [1e-7, 1 - 1e-7] before the log


def one_hot(y_true: jax.Array, classes: int, dtype) -> jax.Array:
    """Sparse labels `(samples,)` -> one-hot `(samples, classes)`, the documents'
    `np.eye(classes)[y_true]`; one-hot labels pass through unchanged."""
    if y_true.ndim == 2:
        return y_true.astype(dtype)
    return jax.nn.one_hot(y_true, classes, dtype=dtype)


def sparse_labels(y_true: jax.Array) -> jax.Array:
    """One-hot `(samples, classes)` -> class indices `(samples,)` by argmax, as the documents
    do; sparse labels pass through unchanged."""
    return jnp.argmax(y_true, axis=1) if y_true.ndim == 2 else y_true


def categorical_crossentropy(y_pred: jax.Array, y_true: jax.Array) -> jax.Array:
    """The documents' `Loss_CategoricalCrossentropy.forward`: per-sample losses.

    y_pred: (samples, classes) probabilities, clipped to [1e-7, 1 - 1e-7] first so that a
    confident wrong prediction costs -log(1e-7) ~ 16.1 instead of infinity.
    y_true: (samples,) class indices or (samples, classes) one-hot rows.
    Returns (samples,).
    """
    y_pred_clipped = jnp.clip(y_pred, CLIP, 1 - CLIP)
    if y_true.ndim == 1:
        correct_confidences = jnp.take_along_axis(y_pred_clipped, y_true[:, None], axis=1)[:, 0]
    else:
        correct_confidences = jnp.sum(y_pred_clipped * y_true, axis=1)
    return -jnp.log(correct_confidences)


def categorical_crossentropy_backward(dvalues: jax.Array, y_true: jax.Array) -> jax.Array:
    """The documents' `Loss_CategoricalCrossentropy.backward`: `-y_true / dvalues / samples`.

    dvalues: (samples, classes), the predictions the loss was given. Like the documents, this
    does not clip: the gradient of the clipped loss would be zero for clipped entries.
    """
    samples = dvalues.shape[0]
    y_true = one_hot(y_true, dvalues.shape[1], dvalues.dtype)
    return -y_true / dvalues / samples


def softmax_crossentropy_backward(dvalues: jax.Array, y_true: jax.Array) -> jax.Array:
    """The documents' fused `Activation_Softmax_Loss_CategoricalCrossentropy.backward`:
    `(softmax_output - y_one_hot) / samples`, the gradient of the mean loss on the logits.

    dvalues: (samples, classes), the softmax output. One-hot labels are turned into indices
    by argmax first, as the documents do. This is the gradient of the *unclipped* loss: where
    a correct-class probability lies outside [1e-7, 1 - 1e-7] the clipped loss is flat and
    `jax.grad` of it gives 0 for that sample, while this keeps pulling (see `backprop`).
    """
    samples, classes = dvalues.shape
    return (dvalues - jax.nn.one_hot(sparse_labels(y_true), classes, dtype=dvalues.dtype)) / samples


def accuracy(y_pred: jax.Array, y_true: jax.Array) -> jax.Array:
    """Fraction of samples whose argmax prediction is the true class.

    y_pred: (samples, classes); y_true: (samples,) indices or (samples, classes) one-hot.
    """
    return jnp.mean((jnp.argmax(y_pred, axis=1) == sparse_labels(y_true)).astype(y_pred.dtype))


# --- binary logistic regression (NNFS chapter 16) ---------------------------------------------


def binary_crossentropy(y_pred: jax.Array, y_true: jax.Array) -> jax.Array:
    """The book's `Loss_BinaryCrossentropy.forward`: per-sample losses, the mean over outputs
    of `-(y log p + (1 - y) log(1 - p))`, with p clipped to [1e-7, 1 - 1e-7] first.

    y_pred: (samples, outputs) sigmoid outputs; y_true: (samples, outputs) of 0/1.
    Returns (samples,).
    """
    y_pred_clipped = jnp.clip(y_pred, CLIP, 1 - CLIP)
    sample_losses = -(y_true * jnp.log(y_pred_clipped) + (1 - y_true) * jnp.log(1 - y_pred_clipped))
    return jnp.mean(sample_losses, axis=-1)


def binary_crossentropy_backward(dvalues: jax.Array, y_true: jax.Array) -> jax.Array:
    """The book's `Loss_BinaryCrossentropy.backward`:
    `-(y / clipped - (1 - y) / (1 - clipped)) / outputs / samples`.

    dvalues: (samples, outputs), the predictions the loss was given, clipped as in the forward
    pass so the division cannot blow up. Where the clip binds the forward loss is flat and
    `jax.grad` gives 0 there, while this formula (like the book's) still pulls.
    """
    samples, outputs = dvalues.shape
    clipped_dvalues = jnp.clip(dvalues, CLIP, 1 - CLIP)
    return -(y_true / clipped_dvalues - (1 - y_true) / (1 - clipped_dvalues)) / outputs / samples


def binary_accuracy(y_pred: jax.Array, y_true: jax.Array) -> jax.Array:
    """The book's binary accuracy: `mean((y_pred > 0.5) == y_true)`, over samples and outputs.

    y_pred, y_true: (samples, outputs).
    """
    predictions = (y_pred > 0.5).astype(y_true.dtype)  # the book's (output > 0.5) * 1
    return jnp.mean((predictions == y_true).astype(y_pred.dtype))


# --- regression (NNFS chapter 17) -------------------------------------------------------------


def mean_squared_error(y_pred: jax.Array, y_true: jax.Array) -> jax.Array:
    """The book's `Loss_MeanSquaredError.forward`: per-sample `mean((y - p) ** 2)` over outputs.

    y_pred, y_true: (samples, outputs). Returns (samples,).
    """
    return jnp.mean((y_true - y_pred) ** 2, axis=-1)


def mean_squared_error_backward(dvalues: jax.Array, y_true: jax.Array) -> jax.Array:
    """The book's `Loss_MeanSquaredError.backward`: `-2 (y - dvalues) / outputs / samples`."""
    samples, outputs = dvalues.shape
    return -2 * (y_true - dvalues) / outputs / samples


def mean_absolute_error(y_pred: jax.Array, y_true: jax.Array) -> jax.Array:
    """The book's `Loss_MeanAbsoluteError.forward`: per-sample `mean(|y - p|)` over outputs.

    y_pred, y_true: (samples, outputs). Returns (samples,).
    |p - y| is written as `sign(p - y) * (p - y)`, the same value exactly, so that `jax.grad`
    at a tie p == y gives sign(0) = 0 as `mean_absolute_error_backward` does (`jnp.abs` would
    give +1 or -1 there depending on the operand order), as `layers.relu` is written with
    `where` for the same reason.
    """
    residual = y_pred - y_true
    return jnp.mean(jnp.sign(residual) * residual, axis=-1)


def mean_absolute_error_backward(dvalues: jax.Array, y_true: jax.Array) -> jax.Array:
    """Gradient of the mean of `mean_absolute_error`: `sign(p - y) / outputs / samples`.

    NOT the book's formula: `Loss_MeanAbsoluteError.backward` has
    `np.sign(y_true - dvalues) / outputs / samples`, the wrong sign (d|y - p|/dp = sign(p - y)),
    which would make gradient descent climb the loss. This is the correct gradient, equal to
    `jax.grad` (the tests check both that this matches and that the book's does not).
    """
    samples, outputs = dvalues.shape
    return jnp.sign(dvalues - y_true) / outputs / samples


def regression_precision(y_true: jax.Array) -> jax.Array:
    """The book's `accuracy_precision = np.std(y) / 250`: the std over all targets."""
    return jnp.std(y_true) / 250


def regression_accuracy(y_pred: jax.Array, y_true: jax.Array, precision: jax.Array) -> jax.Array:
    """The book's regression "accuracy": the fraction of outputs within `precision` of the
    target, `mean(|p - y| < precision)`.

    y_pred, y_true: (samples, outputs); precision: a scalar (`regression_precision(y)`).
    """
    return jnp.mean((jnp.abs(y_pred - y_true) < precision).astype(y_pred.dtype))
