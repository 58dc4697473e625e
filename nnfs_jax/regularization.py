"""L1 and L2 regularization of a dense layer's weights and biases (NNFS chapter 14).

The book splits this between two classes: the strengths live on `Layer_Dense(n_inputs,
n_neurons, weight_regularizer_l1=0, weight_regularizer_l2=0, bias_regularizer_l1=0,
bias_regularizer_l2=0)`, the loss term is `Loss.regularization_loss(layer)` and its gradient is
added inside `Layer_Dense.backward`. Here the strengths are a frozen `Regularizer` (hashable, so
it can be a static argument to `jit`) and the term and its gradient sit side by side:

    Loss.regularization_loss(layer)     -> regularization_loss(layer, regularizer)
    the additions in Layer_Dense.backward -> regularization_backward(layer, regularizer)
    Layer_Dense.backward(dvalues)        -> dense_backward_regularized(dvalues, inputs, layer,
                                                                       regularizer)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import jax
import jax.numpy as jnp

from nnfs_jax import checks
from nnfs_jax.layers import DenseGrads, Layer, dense_backward


@dataclass(frozen=True)
class Regularizer:
    """One dense layer's regularization strengths, named as the book's `Layer_Dense` names
    them. Each must be a finite number >= 0; 0 switches that term off."""

    weight_regularizer_l1: float = 0.0
    weight_regularizer_l2: float = 0.0
    bias_regularizer_l1: float = 0.0
    bias_regularizer_l2: float = 0.0

    def __post_init__(self) -> None:
        # Stored as Python floats so that equal strengths hash equal (one jit cache entry).
        for field in fields(self):
            value = checks.check_strength(getattr(self, field.name), field.name)
            object.__setattr__(self, field.name, value)

    @property
    def active(self) -> bool:
        """Whether any term is switched on."""
        return any(is_on(getattr(self, field.name)) for field in fields(self))

    def with_values(self, **strengths) -> Regularizer:
        """These strengths replaced by arrays, unchecked: for traced values inside a compiled
        sweep, where the model's structure stays and only the numbers vary."""
        new = object.__new__(Regularizer)
        for field in fields(self):
            object.__setattr__(
                new, field.name, strengths.get(field.name, getattr(self, field.name))
            )
        return new


def is_on(strength) -> bool:
    """Whether a term is computed. As the book's `if ... > 0` tests, a term whose strength is a
    known 0 is left out; a traced strength (a sweep's) is always computed, which changes
    nothing where it is 0 (`0 * x` adds exactly 0)."""
    return not (isinstance(strength, float) and strength == 0)


class RegularizationGrads(NamedTuple):
    """The terms the book's `Layer_Dense.backward` adds to `dweights` and `dbiases`."""

    dweights: jax.Array  # (n_inputs, n_neurons)
    dbiases: jax.Array  # (1, n_neurons)


def regularization_loss(layer: Layer, regularizer: Regularizer) -> jax.Array:
    """The book's `Loss.regularization_loss(layer)`, a scalar:

        l1_w * sum|weights| + l2_w * sum(weights * weights)
      + l1_b * sum|biases|  + l2_b * sum(biases * biases)

    Terms whose strength is 0 are left out, as the book's `if ... > 0` tests do.
    """
    weights, biases = layer["weights"], layer["biases"]
    total = jnp.zeros((), weights.dtype)
    if is_on(regularizer.weight_regularizer_l1):
        total += regularizer.weight_regularizer_l1 * jnp.sum(jnp.abs(weights))
    if is_on(regularizer.weight_regularizer_l2):
        total += regularizer.weight_regularizer_l2 * jnp.sum(weights * weights)
    if is_on(regularizer.bias_regularizer_l1):
        total += regularizer.bias_regularizer_l1 * jnp.sum(jnp.abs(biases))
    if is_on(regularizer.bias_regularizer_l2):
        total += regularizer.bias_regularizer_l2 * jnp.sum(biases * biases)
    return total


def l1_backward(values: jax.Array) -> jax.Array:
    """The book's `dL1`: `ones_like(values)` with -1 where `values < 0`.

    So the derivative of |x| at x == 0 is taken as +1, not 0 (`sign` would give 0). `jax.grad`
    of `jnp.abs` happens to use the same convention (+1 for x >= 0), so manual and autodiff
    agree even at an exact 0; a central finite difference there sees 0.
    """
    return jnp.where(values < 0, -jnp.ones_like(values), jnp.ones_like(values))


def regularization_backward(layer: Layer, regularizer: Regularizer) -> RegularizationGrads:
    """Gradient of `regularization_loss`: `l1 * dL1 + 2 * l2 * values`, for weights and biases,
    each term only where its strength is > 0 (as in the book)."""
    weights, biases = layer["weights"], layer["biases"]
    dweights, dbiases = jnp.zeros_like(weights), jnp.zeros_like(biases)
    if is_on(regularizer.weight_regularizer_l1):
        dweights += regularizer.weight_regularizer_l1 * l1_backward(weights)
    if is_on(regularizer.weight_regularizer_l2):
        dweights += 2 * regularizer.weight_regularizer_l2 * weights
    if is_on(regularizer.bias_regularizer_l1):
        dbiases += regularizer.bias_regularizer_l1 * l1_backward(biases)
    if is_on(regularizer.bias_regularizer_l2):
        dbiases += 2 * regularizer.bias_regularizer_l2 * biases
    return RegularizationGrads(dweights, dbiases)


def dense_backward_regularized(
    dvalues: jax.Array, inputs: jax.Array, layer: Layer, regularizer: Regularizer
) -> DenseGrads:
    """The book's chapter-14 `Layer_Dense.backward`: the data gradient of `dense_backward` plus
    the regularization terms on `dweights` and `dbiases` (`dinputs` is unaffected).

    dvalues: (samples, n_neurons); inputs: (samples, n_inputs).
    """
    grads = dense_backward(dvalues, inputs, layer["weights"])
    if not regularizer.active:
        return grads
    reg = regularization_backward(layer, regularizer)
    return DenseGrads(grads.dweights + reg.dweights, grads.dbiases + reg.dbiases, grads.dinputs)
