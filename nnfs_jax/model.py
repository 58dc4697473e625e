"""The one description of a network: `Model`, and the checked entry points that use it.

A `Model` (built by `make_model`) says which activation record each hidden layer uses, the
head, the dropout rate after each hidden layer and the L1/L2 strengths of each dense layer; the
parameters stay a separate pytree. The documents' classifier is the default model,
`make_model(len(params))`: Dense -> ReLU -> ... -> Dense -> softmax + cross-entropy, which
every function and engine uses when `model` is left out. A `Model` is frozen and hashable, so
it is a static argument to `jit`: equal models compile once.

The entry points validate their arguments before anything is traced: `forward`, `loss` (the
classifier API, which takes `activation=` or `model=`), `model_forward`, `model_data_loss`,
`model_regularization_loss`, `model_loss`, `model_predictions`, `model_accuracy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from nnfs_jax import checks, heads, layers, network
from nnfs_jax.layers import Activation, Params
from nnfs_jax.regularization import Regularizer

REGULARIZER_NAMES = (
    "weight_regularizer_l1",
    "weight_regularizer_l2",
    "bias_regularizer_l1",
    "bias_regularizer_l2",
)
HYPERPARAMETERS = ("dropout", *REGULARIZER_NAMES)  # what a sweep may trace


@dataclass(frozen=True)
class Model:
    """What a network is made of, apart from its parameters.

    activations: one `layers.Activation` record (or name) per hidden layer.
    head: a `heads.Head` record or name: "softmax", "sigmoid", "linear_mse", "linear_mae".
    dropout: the rate (fraction dropped) after each hidden activation, 0 for none; `()` none.
    regularizers: one `Regularizer` per dense layer (hidden and output); `()` none.
    Construction checks and normalises every field, so equal specs hash equal.
    """

    activations: tuple[Activation, ...] = ()
    head: heads.Head = heads.HEADS["softmax"]
    dropout: tuple[float, ...] = ()
    regularizers: tuple[Regularizer, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.activations, (str, Activation)) or not isinstance(
            self.activations, Sequence
        ):
            raise checks.InputTypeError(
                "activations: expected a tuple of names, one per hidden layer (make_model "
                f"broadcasts a single name), got {self.activations!r}"
            )
        activations = layers.activations(tuple(self.activations), len(self.activations))
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
            raise checks.InputTypeError(
                f"regularizers: expected {n_hidden + 1} Regularizer objects (one per dense "
                f"layer), got {self.regularizers!r}"
            )
        object.__setattr__(self, "activations", activations)
        object.__setattr__(self, "head", heads.head(self.head))
        object.__setattr__(self, "dropout", rates)
        object.__setattr__(self, "regularizers", regularizers)

    @property
    def n_layers(self) -> int:
        """The number of dense layers: hidden layers plus the output layer."""
        return len(self.activations) + 1

    @property
    def has_dropout(self) -> bool:
        return network.has_dropout(self)

    def replace(self, **values: Any) -> Model:
        """This model with some hyperparameters changed, under `make_model`'s names and
        meanings: `dropout` (one rate or one per hidden layer) and the four regularization
        strengths (one or one per dense layer)."""
        current = self.hyperparameters()
        unknown = set(values) - set(current)
        if unknown:
            raise checks.InputError(
                f"model: no hyperparameter {sorted(unknown)}; it has {HYPERPARAMETERS}"
            )
        merged = {**current, **values}
        return make_model(self.n_layers, activation=self.activations, head=self.head, **merged)

    def hyperparameters(self) -> dict[str, tuple[float, ...]]:
        """The values a sweep may vary, per layer: `dropout` (per hidden layer) and the four
        regularization strengths (per dense layer), under `make_model`'s names."""
        values = {"dropout": self.dropout}
        for name in REGULARIZER_NAMES:
            values[name] = tuple(getattr(r, name) for r in self.regularizers)
        return values


def with_hyperparameters(model: Model, values: Mapping[str, Any]) -> Model:
    """`model` with some of `hyperparameters()` replaced by (traced) per-layer arrays, unchecked:
    the structure stays and only the numbers vary, for a compiled sweep. A traced strength or
    rate is always computed, which at 0 changes nothing (see `regularization.is_on`)."""
    unknown = set(values) - set(HYPERPARAMETERS)
    if unknown:
        raise checks.InputError(
            f"hyperparameters: unknown {sorted(unknown)}; expected {HYPERPARAMETERS}"
        )
    new = object.__new__(Model)
    object.__setattr__(new, "activations", model.activations)
    object.__setattr__(new, "head", model.head)
    rates = values.get("dropout")
    dropout = model.dropout if rates is None else tuple(rates[i] for i in range(len(model.dropout)))
    object.__setattr__(new, "dropout", dropout)
    regularizers = tuple(
        r.with_values(**{k: values[k][i] for k in REGULARIZER_NAMES if k in values})
        for i, r in enumerate(model.regularizers)
    )
    object.__setattr__(new, "regularizers", regularizers)
    return new


def make_model(
    n_layers: int,
    *,
    activation: str | Activation | Sequence[str | Activation] = "relu",
    head: str | heads.Head = "softmax",
    dropout: float | Sequence[float] = 0.0,
    weight_regularizer_l1: float | Sequence[float] = 0.0,
    weight_regularizer_l2: float | Sequence[float] = 0.0,
    bias_regularizer_l1: float | Sequence[float] = 0.0,
    bias_regularizer_l2: float | Sequence[float] = 0.0,
) -> Model:
    """A `Model` of `n_layers` dense layers; each argument one value for every layer or one per
    layer. activation, dropout: per hidden layer (a name, or a record such as
    `layers.activation("leaky_relu", slope=0.2)`). weight_regularizer_l1, ...: per dense
    layer, the output layer included; the book regularizes only its hidden layer
    (`Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4)`, then
    `Layer_Dense(64, 3)`): pass `(5e-4, 0)` for that."""
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
        raise checks.InputError(f"n_layers: expected a positive integer, got {n_layers!r}")
    strengths = {
        name: checks.check_strengths(value, n_layers, name)
        for name, value in zip(
            REGULARIZER_NAMES,
            (
                weight_regularizer_l1,
                weight_regularizer_l2,
                bias_regularizer_l1,
                bias_regularizer_l2,
            ),
            strict=True,
        )
    }
    regularizers = tuple(
        Regularizer(**{name: values[i] for name, values in strengths.items()})
        for i in range(n_layers)
    )
    return Model(
        activations=layers.activations(activation, n_layers - 1),
        head=head,
        dropout=checks.check_dropout(dropout, n_layers - 1),
        regularizers=regularizers,
    )


# --- checks -----------------------------------------------------------------------------------


def check_model(model: Any, n_layers: int) -> Model:
    """`model` is a `Model` with as many dense layers as `params`."""
    if not isinstance(model, Model):
        raise checks.InputTypeError(
            f"model: expected a nnfs_jax.model.Model (see make_model), got {type(model).__name__}"
        )
    if model.n_layers != n_layers:
        raise checks.InputError(
            f"model: has {len(model.activations)} hidden activations, so it needs "
            f"{model.n_layers} dense layers, but params has {n_layers}"
        )
    return model


def resolve(model: Any, activation: Any, n_layers: int) -> Model:
    """The model a function of the classifier API runs: `model`, or with `model=None` the
    documents' classifier with `activation` (one name, or one per hidden layer)."""
    if model is None:
        return make_model(n_layers, activation=activation)
    if not (isinstance(activation, str) and activation == "relu"):
        raise checks.InputError(
            f"activation: leave it at its default when model is given (got {activation!r}); "
            "the hidden activations are the model's (make_model(..., activation=...))"
        )
    return check_model(model, n_layers)


def check_model_key(model: Model, key: Any, training: bool) -> jax.Array | None:
    """The dropout key: required when training a model with dropout, else dropped (after a
    type check)."""
    if key is not None:
        key = checks.check_key(key)
    if not (training and model.has_dropout):
        return None
    if key is None:
        raise checks.InputError(
            f"key: the model has dropout (rates {model.dropout}), which needs a jax.random key "
            "for its masks in training: pass key=jax.random.key(seed) (or training=False)"
        )
    return key


def validate(
    params: Any, X: Any, y: Any, model: Any, key: Any = None, *, training: bool = True
) -> tuple[Params, jax.Array, jax.Array | None, network.Masks | None]:
    """Check (params, X, y, model, key); return (params, X, y, masks) normalised, the masks
    drawn from the key when training a model with dropout, else None. y=None skips the
    targets (forward passes)."""
    shapes = checks.check_params(params)
    model = check_model(model, len(shapes))
    X = checks.check_X(X, shapes[0][0])
    if y is not None:
        y = model.head.targets(y, X.shape[0], shapes[-1][1], X.dtype)
    key = check_model_key(model, key, training)
    masks = None if key is None else network.dropout_masks(params, X, model, key)
    return params, X, y, masks


def n_layers_of(params: Any) -> int:
    return len(checks.check_params(params))


# --- entry points -----------------------------------------------------------------------------

_output = jax.jit(network.output, static_argnames="model")
_data_loss = jax.jit(network.data_loss, static_argnames="model")
_regularization_loss = jax.jit(network.regularization_loss, static_argnames="model")
_total_loss = jax.jit(network.total_loss, static_argnames="model")
_accuracy = jax.jit(
    lambda params, X, y, model, precision: network.accuracy(
        network.output(params, X, model), y, model, precision
    ),
    static_argnames="model",
)


def forward(
    params: Params, X: Any, activation: str | Sequence[str] = "relu", *, model: Model | None = None
) -> jax.Array:
    """The documents' classifier, Dense -> activation -> ... -> Dense -> softmax, or `model`:
    X (samples, n_inputs) -> the head's output (samples, n_outputs), evaluation mode."""
    return model_forward(params, X, resolve(model, activation, n_layers_of(params)))


def loss(
    params: Params,
    X: Any,
    y: Any,
    activation: str | Sequence[str] = "relu",
    *,
    model: Model | None = None,
    key: jax.Array | None = None,
) -> jax.Array:
    """The loss every gradient method differentiates, a scalar: the documents' classifier's
    mean clipped cross-entropy, or with `model` its data plus regularization loss in training
    mode (`key` draws the dropout masks, required when it has dropout)."""
    model = resolve(model, activation, n_layers_of(params))
    return model_loss(params, X, y, model, training=True, key=key)


def model_forward(
    params: Params, X: Any, model: Model, *, training: bool = False, key=None
) -> jax.Array:
    """The network's output (samples, n_outputs); dropout only with `training=True` (then with
    `key` if the model has any)."""
    params, X, _, masks = validate(params, X, None, model, key, training=training)
    return _output(params, X, model, masks)


def model_data_loss(
    params: Params, X: Any, y: Any, model: Model, *, training: bool = False, key=None
) -> jax.Array:
    """The mean of the head's sample losses (no regularization), a scalar."""
    params, X, y, masks = validate(params, X, y, model, key, training=training)
    return _data_loss(params, X, y, model, masks)


def model_regularization_loss(params: Params, model: Model) -> jax.Array:
    """The sum of every layer's L1/L2 terms, a scalar."""
    return _regularization_loss(params, check_model(model, n_layers_of(params)))


def model_loss(
    params: Params, X: Any, y: Any, model: Model, *, training: bool = False, key=None
) -> jax.Array:
    """Data loss plus regularization loss, a scalar."""
    params, X, y, masks = validate(params, X, y, model, key, training=training)
    return _total_loss(params, X, y, model, masks)


def model_predictions(params: Params, X: Any, model: Model) -> jax.Array:
    """Evaluation-mode predictions: class indices (softmax), 0/1 (sigmoid), values (linear)."""
    return model.head.predictions(model_forward(params, X, model))


def model_accuracy(
    params: Params, X: Any, y: Any, model: Model, *, precision: float | None = None
) -> jax.Array:
    """Evaluation-mode accuracy, a scalar. precision: linear heads only; by default
    `std(y) / 250` of the `y` given, as the book does."""
    params, X, y, _ = validate(params, X, y, model, None, training=False)
    return _accuracy(params, X, y, model, check_precision(precision, model, y))


def check_precision(precision: Any, model: Model, y: jax.Array) -> jax.Array | None:
    """The linear heads' accuracy tolerance as a scalar of y's dtype, or None for the default
    (`std(y) / 250`); an error for the heads that do not use one."""
    if precision is None:
        return None
    if not model.head.uses_precision:
        raise checks.InputError(f"precision: only the linear heads use it, not {model.head.name!r}")
    value = checks.check_number(precision, "precision")
    if not (jnp.isfinite(value) and value >= 0):
        raise checks.InputError(f"precision: expected a non-negative finite number, got {value}")
    return jnp.asarray(value, y.dtype)
