"""Categorical cross-entropy, its backward rules, accuracy, and the classifier's mean loss.

Labels come as the documents allow: sparse class indices `(samples,)` or one-hot rows
`(samples, classes)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from nnfs_jax import checks
from nnfs_jax.layers import Params, forward_logits, softmax

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
    return jnp.mean(jnp.argmax(y_pred, axis=1) == sparse_labels(y_true))


def classifier_loss(
    params: Params, X: jax.Array, y: jax.Array, activations: Sequence[str]
) -> jax.Array:
    """Mean clipped cross-entropy of the classifier; no validation (use `loss`)."""
    return jnp.mean(categorical_crossentropy(softmax(forward_logits(params, X, activations)), y))


def validate_classifier(params, X, y, activation):
    """Check (params, X, y, activation) for the classifier; return them normalised."""
    shapes = checks.check_params(params)
    X = checks.check_X(X, shapes[0][0])
    y = checks.check_labels(y, X.shape[0], shapes[-1][1])
    return params, X, y, checks.check_activations(activation, len(shapes) - 1)


def loss(
    params: Params, X: jax.Array, y: jax.Array, activation: str | Sequence[str] = "relu"
) -> jax.Array:
    """Mean categorical cross-entropy of the documents' classifier (Dense -> ReLU -> ... ->
    Dense -> softmax) on `X: (samples, n_inputs)` with labels `y`. A scalar."""
    params, X, y, activations = validate_classifier(params, X, y, activation)
    return _loss(params, X, y, activations)


_loss = jax.jit(classifier_loss, static_argnames="activations")
