"""Networks beyond the classifier (NNFS chapters 14-17): any stack of dense layers with a
hidden activation per layer, dropout after it, L1/L2 regularization on every dense layer, and
an output head with its loss.

    head          output activation   loss (per sample, mean over outputs)   predictions
    "softmax"     softmax             categorical cross-entropy              argmax
    "sigmoid"     sigmoid             binary cross-entropy                   p > 0.5
    "linear_mse"  linear              mean squared error                     the outputs
    "linear_mae"  linear              mean absolute error                    the outputs

A `Model` is a frozen, hashable spec (`make_model` builds one, broadcasting single values), so
it can be a static argument to `jit`. The network is the book's

    Dense -> act -> Dropout -> ... -> Dense -> act -> Dropout -> Dense -> head

with the book's layer classes as pure functions (`layers`, `losses`, `regularization`).

Two layers of functions, as in `losses` (`classifier_loss` / `loss`):

- the pure pieces, no validation, jittable with `model` static. They take the dropout masks
  as arrays, `masks=None` meaning evaluation (no dropout): `dropout_masks` draws them from a
  key, hidden layer i's from `jax.random.fold_in(key, i)`. Keeping the random draws out of the
  differentiated functions lets finite differences reuse one set of masks and keeps the
  (slow to compile) RNG out of every gradient's compilation. `forward_cache`, `output`,
  `data_loss`, `regularization_loss`, `total_loss`, `predictions`, `accuracy`,
  `manual_gradient`;
- the checked entry points, which validate before tracing and take `training=` and `key=`:
  `model_forward`, `model_data_loss`, `model_regularization_loss`, `model_loss`,
  `model_predictions`, `model_accuracy`. The gradients are `backprop.grad_manual(...,
  model=...)` and its siblings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from nnfs_jax import checks, losses, regularization
from nnfs_jax.layers import (
    ACTIVATIONS,
    Params,
    dense,
    dropout_backward,
    dropout_mask,
    linear,
    linear_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
)
from nnfs_jax.losses import (
    CLIP,
    binary_accuracy,
    binary_crossentropy,
    binary_crossentropy_backward,
    categorical_crossentropy,
    categorical_crossentropy_backward,
    mean_absolute_error,
    mean_absolute_error_backward,
    mean_squared_error,
    mean_squared_error_backward,
    regression_accuracy,
    regression_precision,
    softmax_crossentropy_backward,
    sparse_labels,
)
from nnfs_jax.regularization import Regularizer, dense_backward_regularized

# --- heads ------------------------------------------------------------------------------------


class Head(NamedTuple):
    """An output activation with its loss, and the backward rule from the loss to the logits."""

    forward: Callable[[jax.Array], jax.Array]  # logits (samples, outputs) -> outputs
    sample_losses: Callable[[jax.Array, jax.Array], jax.Array]  # (outputs, y) -> (samples,)
    backward: Callable[[jax.Array, jax.Array, bool], jax.Array]  # (outputs, y, fused) -> dlogits


def _softmax_head_backward(output: jax.Array, y_true: jax.Array, fused: bool) -> jax.Array:
    # The book fuses softmax with cross-entropy ((p - y) / n) in training; fused=False keeps
    # the long way round through the per-sample Jacobian.
    if fused:
        return softmax_crossentropy_backward(output, y_true)
    return softmax_backward(categorical_crossentropy_backward(output, y_true), output)


HEADS: dict[str, Head] = {
    "softmax": Head(softmax, categorical_crossentropy, _softmax_head_backward),
    # The book does not fuse sigmoid with binary cross-entropy: it chains the two backwards.
    "sigmoid": Head(
        sigmoid,
        binary_crossentropy,
        lambda out, y, fused: sigmoid_backward(binary_crossentropy_backward(out, y), out),
    ),
    "linear_mse": Head(
        linear,
        mean_squared_error,
        lambda out, y, fused: linear_backward(mean_squared_error_backward(out, y)),
    ),
    "linear_mae": Head(
        linear,
        mean_absolute_error,
        lambda out, y, fused: linear_backward(mean_absolute_error_backward(out, y)),
    ),
}
assert tuple(HEADS) == checks.HEAD_NAMES


# --- the spec ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """What a network is made of, apart from its parameters.

    activations: one hidden activation name per hidden layer (`len(params) - 1` of them).
    head: "softmax", "sigmoid", "linear_mse" or "linear_mae".
    dropout: the rate (fraction dropped) of the dropout layer after each hidden activation,
      one per hidden layer; 0 means no dropout layer. `()` means none anywhere.
    regularizers: one `Regularizer` per dense layer (hidden and output); `()` means none.

    Construction checks and normalises every field (tuples of Python floats), so equal specs
    hash equal and `jit` compiles once per distinct spec.
    """

    activations: tuple[str, ...] = ()
    head: str = "softmax"
    dropout: tuple[float, ...] = ()
    regularizers: tuple[Regularizer, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.activations, str) or not isinstance(self.activations, Sequence):
            raise TypeError(
                "activations: expected a tuple of names, one per hidden layer (make_model "
                f"broadcasts a single name), got {self.activations!r}"
            )
        activations = checks.check_activations(tuple(self.activations), len(self.activations))
        n_hidden = len(activations)
        rates = checks.check_dropout(self.dropout if self.dropout != () else 0.0, n_hidden)
        regularizers = self.regularizers
        if isinstance(regularizers, Regularizer):
            regularizers = (regularizers,) * (n_hidden + 1)
        elif regularizers == ():
            regularizers = (Regularizer(),) * (n_hidden + 1)
        regularizers = tuple(regularizers)
        if len(regularizers) != n_hidden + 1 or not all(
            isinstance(r, Regularizer) for r in regularizers
        ):
            raise TypeError(
                f"regularizers: expected {n_hidden + 1} Regularizer objects (one per dense "
                f"layer), got {self.regularizers!r}"
            )
        object.__setattr__(self, "activations", activations)
        object.__setattr__(self, "head", checks.check_head(self.head))
        object.__setattr__(self, "dropout", rates)
        object.__setattr__(self, "regularizers", regularizers)

    @property
    def n_layers(self) -> int:
        """The number of dense layers: hidden layers plus the output layer."""
        return len(self.activations) + 1

    @property
    def has_dropout(self) -> bool:
        return any(rate > 0 for rate in self.dropout)


def make_model(
    n_layers: int,
    *,
    activation: str | Sequence[str] = "relu",
    head: str = "softmax",
    dropout: float | Sequence[float] = 0.0,
    weight_regularizer_l1: float | Sequence[float] = 0.0,
    weight_regularizer_l2: float | Sequence[float] = 0.0,
    bias_regularizer_l1: float | Sequence[float] = 0.0,
    bias_regularizer_l2: float | Sequence[float] = 0.0,
) -> Model:
    """A `Model` of `n_layers` dense layers; each argument is one value for every layer or one
    per layer.

    activation, dropout: per hidden layer (`n_layers - 1` of them).
    weight_regularizer_l1, ...: per dense layer (`n_layers`), the output layer included. The
    book regularizes only its hidden layer (`Layer_Dense(2, 64, weight_regularizer_l2=5e-4,
    bias_regularizer_l2=5e-4)`, then `Layer_Dense(64, 3)`): pass `(5e-4, 0)` for that.
    """
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
        raise ValueError(f"n_layers: expected a positive integer, got {n_layers!r}")
    n_hidden = n_layers - 1
    strengths = {
        name: checks.check_strengths(value, n_layers, name)
        for name, value in (
            ("weight_regularizer_l1", weight_regularizer_l1),
            ("weight_regularizer_l2", weight_regularizer_l2),
            ("bias_regularizer_l1", bias_regularizer_l1),
            ("bias_regularizer_l2", bias_regularizer_l2),
        )
    }
    regularizers = tuple(
        Regularizer(**{name: values[i] for name, values in strengths.items()})
        for i in range(n_layers)
    )
    return Model(
        activations=checks.check_activations(activation, n_hidden),
        head=head,
        dropout=checks.check_dropout(dropout, n_hidden),
        regularizers=regularizers,
    )


# --- the pure pieces --------------------------------------------------------------------------


Masks = tuple[jax.Array | None, ...]  # one per hidden layer; None: no dropout there


def dropout_masks(params: Params, X: jax.Array, model: Model, key: jax.Array) -> Masks:
    """The book's `binary_mask` of every hidden layer's dropout for a batch `X`, each
    `(samples, n_neurons)`, drawn by `layers.dropout_mask` from `jax.random.fold_in(key, i)`
    (so a layer's mask does not depend on how many layers there are); None where the rate is 0.
    """
    masks = []
    for i, (layer, rate) in enumerate(zip(params[:-1], model.dropout, strict=True)):
        if rate == 0:
            masks.append(None)
            continue
        shape = (X.shape[0], layer["weights"].shape[1])
        dtype = jnp.result_type(X.dtype, layer["weights"].dtype)
        masks.append(dropout_mask(jax.random.fold_in(key, i), rate, shape, dtype))
    return tuple(masks)


class ModelCache(NamedTuple):
    """What a layer's classes remember for their backward pass."""

    inputs: jax.Array  # the dense layer's inputs, (samples, n_inputs)
    z: jax.Array  # the dense layer's output, (samples, n_neurons)
    output: jax.Array  # the activation's output (the head's for the last layer)
    binary_mask: jax.Array | None  # the dropout after it, None where there is none


def forward_cache(
    params: Params, X: jax.Array, model: Model, masks: Masks | None = None
) -> list[ModelCache]:
    """The forward pass, keeping what every layer needs for its backward pass.

    X: (samples, n_inputs). masks: None for evaluation (dropout is the identity), else
    training with `dropout_masks(params, X, model, key)`.
    """
    inputs, cache = X, []
    for i, layer in enumerate(params[:-1]):
        z = dense(layer, inputs)
        out = ACTIVATIONS[model.activations[i]].forward(z)
        binary_mask = None if masks is None else masks[i]
        cache.append(ModelCache(inputs, z, out, binary_mask))
        # Layer_Dropout.forward: `layers.dropout(out, k, rate)` is `out * dropout_mask(k, ...)`
        inputs = out if binary_mask is None else out * binary_mask
    z = dense(params[-1], inputs)
    cache.append(ModelCache(inputs, z, HEADS[model.head].forward(z), None))
    return cache


def output(params: Params, X: jax.Array, model: Model, masks: Masks | None = None) -> jax.Array:
    """The head's output (samples, n_outputs): probabilities, sigmoid outputs or values."""
    return forward_cache(params, X, model, masks)[-1].output


def data_loss(
    params: Params, X: jax.Array, y: jax.Array, model: Model, masks: Masks | None = None
) -> jax.Array:
    """The book's `loss_function.calculate(output, y)`: the mean of the head's sample losses."""
    return jnp.mean(HEADS[model.head].sample_losses(output(params, X, model, masks), y))


def regularization_loss(params: Params, model: Model) -> jax.Array:
    """The sum over layers of the book's `loss_function.regularization_loss(layer)`."""
    total = jnp.zeros((), params[0]["weights"].dtype)
    for layer, regularizer in zip(params, model.regularizers, strict=True):
        total += regularization.regularization_loss(layer, regularizer)
    return total


def total_loss(
    params: Params, X: jax.Array, y: jax.Array, model: Model, masks: Masks | None = None
) -> jax.Array:
    """`data_loss + regularization_loss`, the book's `loss` in training; the scalar the
    gradients (`manual_gradient`, `jax.grad`, finite differences) differentiate."""
    return data_loss(params, X, y, model, masks) + regularization_loss(params, model)


def predictions(output: jax.Array, head: str) -> jax.Array:
    """softmax: class indices (samples,) by argmax; sigmoid: 0/1 (samples, outputs) int32 from
    `output > 0.5`, the book's `(output > 0.5) * 1`; linear: the outputs themselves."""
    if head == "softmax":
        return jnp.argmax(output, axis=1)
    if head == "sigmoid":
        return (output > 0.5).astype(jnp.int32)
    return output


def accuracy(
    output: jax.Array, y: jax.Array, head: str, precision: jax.Array | None = None
) -> jax.Array:
    """The book's accuracy for each head: softmax: argmax == class; sigmoid: (p > 0.5) == y
    over every output; linear: `mean(|p - y| < precision)`, precision `std(y) / 250` unless
    given (the book computes it once, from the training targets)."""
    if head == "softmax":
        return losses.accuracy(output, y)
    if head == "sigmoid":
        return binary_accuracy(output, y)
    precision = regression_precision(y) if precision is None else precision
    return regression_accuracy(output, y, precision)


def manual_gradient(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    model: Model,
    masks: Masks | None = None,
    fused: bool = True,
) -> Params:
    """The book's backward pass: the head's rule, then for each layer from the last, dropout's,
    the activation's and the regularized dense layer's.

    fused: for the softmax head, the combined rule `(p - y) / samples`; `False` goes through
    the softmax Jacobian. The other heads always chain the loss's backward through the output
    activation's, as the book does. Returns `[{"weights": dweights, "biases": dbiases}, ...]`.
    """
    cache = forward_cache(params, X, model, masks)
    dvalues = HEADS[model.head].backward(cache[-1].output, y, fused)
    grads: list[dict[str, jax.Array]] = []
    for i in reversed(range(len(params))):
        inputs, z, out, binary_mask = cache[i]
        if i < len(params) - 1:
            if binary_mask is not None:
                dvalues = dropout_backward(dvalues, binary_mask)
            dvalues = ACTIVATIONS[model.activations[i]].backward(dvalues, z, out)
        g = dense_backward_regularized(dvalues, inputs, params[i], model.regularizers[i])
        grads.append({"weights": g.dweights, "biases": g.dbiases})
        dvalues = g.dinputs
    return grads[::-1]


def kinks_and_saturation(
    params: Params, X: jax.Array, y: jax.Array, model: Model, masks: Masks | None, h: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Where finite differences (step h) and the hand-written rules can legitimately disagree.

    kinks: hidden ReLU/step pre-activations within h of 0, L1-regularized parameters within h
      of 0, and (linear_mae) outputs within h of their target.
    saturated: softmax: samples whose correct-class probability lies outside the clip range;
      sigmoid: outputs outside it (the book's backward clips, jax.grad of the clipped loss
      is 0 there); linear heads: 0.
    """
    cache = forward_cache(params, X, model, masks)
    kinks = jnp.zeros((), jnp.int32)
    for c, name in zip(cache[:-1], model.activations, strict=True):
        if name in ("relu", "step"):
            kinks += jnp.sum(jnp.abs(c.z) < h)
    for layer, r in zip(params, model.regularizers, strict=True):
        if r.weight_regularizer_l1 > 0:
            kinks += jnp.sum(jnp.abs(layer["weights"]) < h)
        if r.bias_regularizer_l1 > 0:
            kinks += jnp.sum(jnp.abs(layer["biases"]) < h)
    out = cache[-1].output
    if model.head == "linear_mae":
        kinks += jnp.sum(jnp.abs(out - y) < h)
    if model.head == "softmax":
        p = jnp.take_along_axis(out, sparse_labels(y)[:, None], axis=1)[:, 0]
        saturated = jnp.sum((p < CLIP) | (p > 1 - CLIP))
    elif model.head == "sigmoid":
        saturated = jnp.sum((out < CLIP) | (out > 1 - CLIP))
    else:
        saturated = jnp.zeros((), jnp.int32)
    return kinks, saturated.astype(jnp.int32)


# --- checked entry points ---------------------------------------------------------------------


def check_model(model: Any, n_layers: int) -> Model:
    """`model` is a `Model` with as many dense layers as `params`."""
    if not isinstance(model, Model):
        raise TypeError(
            f"model: expected a nnfs_jax.model.Model (see make_model), got {type(model).__name__}"
        )
    if model.n_layers != n_layers:
        raise ValueError(
            f"model: has {len(model.activations)} hidden activations, so it needs "
            f"{model.n_layers} dense layers, but params has {n_layers}"
        )
    return model


def check_model_key(model: Model, key: Any, training: bool) -> jax.Array | None:
    """The dropout key: required when training a model with dropout, else dropped (after a
    type check)."""
    if key is not None:
        key = checks.check_key(key)
    if not (training and model.has_dropout):
        return None
    if key is None:
        raise ValueError(
            f"key: the model has dropout (rates {model.dropout}), which needs a jax.random key "
            "for its masks in training: pass key=jax.random.key(seed) (or training=False)"
        )
    return key


def check_default_activation(activation: Any) -> None:
    """The classifier API's `activation`, given with `model=`, must stay at its default: the
    model carries the hidden activations."""
    if not (isinstance(activation, str) and activation == "relu"):
        raise ValueError(
            f"activation: leave it at its default when model is given (got {activation!r}); "
            "the hidden activations are the model's (make_model(..., activation=...))"
        )


def validate(
    params: Any, X: Any, y: Any, model: Any, key: Any = None, *, training: bool = True
) -> tuple[Params, jax.Array, jax.Array | None, Masks | None]:
    """Check (params, X, y, model, key); return (params, X, y, masks) normalised, masks drawn
    from the key when training a model with dropout, else None. y=None skips the labels
    (forward passes)."""
    shapes = checks.check_params(params)
    model = check_model(model, len(shapes))
    X = checks.check_X(X, shapes[0][0])
    if y is not None:
        y = checks.check_targets(y, model.head, X.shape[0], shapes[-1][1], X.dtype)
    key = check_model_key(model, key, training)
    masks = None if key is None else dropout_masks(params, X, model, key)
    return params, X, y, masks


_output = jax.jit(output, static_argnames="model")
_data_loss = jax.jit(data_loss, static_argnames="model")
_regularization_loss = jax.jit(regularization_loss, static_argnames="model")
_total_loss = jax.jit(total_loss, static_argnames="model")


def model_forward(
    params: Params, X: jax.Array, model: Model, *, training: bool = False, key=None
) -> jax.Array:
    """The network's output (samples, n_outputs); dropout is applied only with
    `training=True`, and then needs `key` if the model has any."""
    params, X, _, masks = validate(params, X, None, model, key, training=training)
    return _output(params, X, model, masks)


def model_data_loss(
    params: Params, X: jax.Array, y: jax.Array, model: Model, *, training: bool = False, key=None
) -> jax.Array:
    """The mean of the head's sample losses (no regularization), a scalar."""
    params, X, y, masks = validate(params, X, y, model, key, training=training)
    return _data_loss(params, X, y, model, masks)


def model_regularization_loss(params: Params, model: Model) -> jax.Array:
    """The sum of every layer's L1/L2 terms, a scalar."""
    shapes = checks.check_params(params)
    return _regularization_loss(params, check_model(model, len(shapes)))


def model_loss(
    params: Params, X: jax.Array, y: jax.Array, model: Model, *, training: bool = False, key=None
) -> jax.Array:
    """Data loss plus regularization loss, a scalar. `nnfs_jax.loss(params, X, y, model=...,
    key=...)` is this with `training=True`, the loss the gradients are of."""
    params, X, y, masks = validate(params, X, y, model, key, training=training)
    return _total_loss(params, X, y, model, masks)


def model_predictions(params: Params, X: jax.Array, model: Model) -> jax.Array:
    """Evaluation-mode predictions: class indices (softmax), 0/1 (sigmoid), values (linear)."""
    return predictions(model_forward(params, X, model), model.head)


def model_accuracy(
    params: Params, X: jax.Array, y: jax.Array, model: Model, *, precision: float | None = None
) -> jax.Array:
    """Evaluation-mode accuracy, a scalar (see `accuracy`). precision: linear heads only; by
    default `std(y) / 250` of the `y` given, as the book does."""
    params, X, y, _ = validate(params, X, y, model, None, training=False)
    if precision is not None:
        if not model.head.startswith("linear"):
            raise ValueError(f"precision: only the linear heads use it, not {model.head!r}")
        precision = checks.check_number(precision, "precision")
        if not precision >= 0:
            raise ValueError(f"precision: expected a non-negative number, got {precision}")
    return _accuracy(params, X, y, model, precision)


@jax.jit(static_argnames="model")
def _accuracy(params, X, y, model, precision):
    return accuracy(output(params, X, model), y, model.head, precision)
