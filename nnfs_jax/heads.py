"""Output heads: an output activation paired with its loss, as the book pairs them (chapters 9-17).

    head          output    loss per sample (mean over outputs)  predictions  accuracy
    "softmax"     softmax   categorical cross-entropy            argmax       argmax == y
    "sigmoid"     sigmoid   binary cross-entropy                 p > 0.5      per output
    "linear_mse"  identity  mean squared error                   the outputs  |p - y| < precision
    "linear_mae"  identity  mean absolute error                  the outputs  |p - y| < precision

Each is one `Head` record in `HEADS`: its forward, the documents' backward rule from the mean
loss to the logits, its predictions and accuracy comparisons, how its targets are checked, and
what a gradient check must know (where the loss's clip saturates, where it has kinks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp

from nnfs_jax import checks, layers, losses


@dataclass(frozen=True)
class Head:
    """One output head.

    forward: logits (samples, outputs) -> output. sample_losses: (output, y) -> (samples,).
    backward: (output, y, fused) -> dlogits of the mean loss, the documents' rules (`fused`:
      the softmax head's combined rule; the others chain the loss's and the activation's rules).
    predictions: output -> the book's predictions. comparisons: (output, y, precision) ->
      booleans whose mean is the book's accuracy ((samples,) or (samples, outputs)).
    targets: (y, n_samples, n_outputs, dtype, name) -> y checked and normalised.
    saturated: (output, y) -> how many entries the loss's clip makes flat (`jax.grad` is 0
      there while the book's rule is not). kinks: (output, y, h) -> entries within h of a kink
      of the loss, or None.
    uses_precision: whether `comparisons` reads `precision` (the regression accuracy's).
    """

    name: str
    forward: Callable[[jax.Array], jax.Array]
    sample_losses: Callable[[jax.Array, jax.Array], jax.Array]
    backward: Callable[[jax.Array, jax.Array, bool], jax.Array]
    predictions: Callable[[jax.Array], jax.Array]
    comparisons: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    targets: Callable[..., jax.Array]
    saturated: Callable[[jax.Array, jax.Array], jax.Array]
    kinks: Callable[[jax.Array, jax.Array, jax.Array], jax.Array] | None = None
    uses_precision: bool = False

    def __repr__(self) -> str:
        return self.name


def _clipped(values: jax.Array) -> jax.Array:
    return jnp.sum((values < losses.CLIP) | (values > 1 - losses.CLIP), dtype=jnp.int32)


def _softmax_backward(output: jax.Array, y: jax.Array, fused: bool) -> jax.Array:
    # The book fuses softmax with cross-entropy ((p - y) / n) in training; fused=False keeps
    # the long way round through the per-sample Jacobian.
    if fused:
        return losses.softmax_crossentropy_backward(output, y)
    return layers.softmax_backward(losses.categorical_crossentropy_backward(output, y), output)


def _correct_probability(output: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.take_along_axis(output, losses.sparse_labels(y)[:, None], axis=1)[:, 0]


def _softmax_targets(y, n_samples, n_outputs, dtype, name="y"):
    return checks.check_labels(y, n_samples, n_outputs, name)


def _within_precision(output: jax.Array, y: jax.Array, precision: jax.Array) -> jax.Array:
    return jnp.abs(output - y) < precision


HEADS: dict[str, Head] = {
    h.name: h
    for h in (
        Head(
            "softmax",
            layers.softmax,
            losses.categorical_crossentropy,
            _softmax_backward,
            lambda output: jnp.argmax(output, axis=1),
            lambda output, y, precision: jnp.argmax(output, axis=1) == losses.sparse_labels(y),
            _softmax_targets,
            lambda output, y: _clipped(_correct_probability(output, y)),
        ),
        # The book does not fuse sigmoid with binary cross-entropy: it chains the backwards.
        Head(
            "sigmoid",
            layers.sigmoid,
            losses.binary_crossentropy,
            lambda output, y, fused: layers.sigmoid_backward(
                losses.binary_crossentropy_backward(output, y), output
            ),
            lambda output: (output > 0.5).astype(jnp.int32),  # the book's (output > 0.5) * 1
            lambda output, y, precision: (output > 0.5).astype(y.dtype) == y,
            checks.check_binary_targets,
            lambda output, y: _clipped(output),
        ),
        Head(
            "linear_mse",
            layers.linear,
            losses.mean_squared_error,
            lambda output, y, fused: layers.linear_backward(
                losses.mean_squared_error_backward(output, y)
            ),
            layers.linear,
            _within_precision,
            partial(checks.check_regression_targets, head="linear_mse"),
            lambda output, y: jnp.zeros((), jnp.int32),
            uses_precision=True,
        ),
        Head(
            "linear_mae",
            layers.linear,
            losses.mean_absolute_error,
            lambda output, y, fused: layers.linear_backward(
                losses.mean_absolute_error_backward(output, y)
            ),
            layers.linear,
            _within_precision,
            partial(checks.check_regression_targets, head="linear_mae"),
            lambda output, y: jnp.zeros((), jnp.int32),
            kinks=lambda output, y, h: jnp.sum(jnp.abs(output - y) < h, dtype=jnp.int32),
            uses_precision=True,
        ),
    )
}


def head(name: str | Head) -> Head:
    """The record of a head by name (`"softmax"`, `"sigmoid"`, `"linear_mse"`, `"linear_mae"`),
    or the record given."""
    if isinstance(name, Head):
        return name
    if isinstance(name, str) and name in HEADS:
        return HEADS[name]
    raise checks.InputError(f"head: unknown head {name!r}; expected one of {tuple(HEADS)}")
