"""Input validation for the public API.

Every public entry point calls these before it traces anything, so a bad argument fails with
a message that names the argument and says what was expected, not with an XLA shape error.
Shape and dtype checks work on tracers too; value checks (NaN, label range) run only when
the values are concrete, i.e. when the caller has not wrapped the function in their own `jit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

ACTIVATION_NAMES = ("relu", "sigmoid", "linear", "step")


def is_concrete(x: Any) -> bool:
    """True when `x` holds values we can look at (not an abstract tracer)."""
    return not isinstance(x, jax.core.Tracer)


def default_float() -> np.dtype:
    """float32, or float64 when the caller has enabled x64."""
    return jnp.zeros(()).dtype


def as_float_array(x: Any, name: str) -> jax.Array:
    """`x` as a floating JAX array; integers and bools are converted to the default float."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name}: expected a numeric array, got {type(x).__name__}")
    try:
        arr = jnp.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a numeric array, got {type(x).__name__}") from err
    if jnp.issubdtype(arr.dtype, jnp.complexfloating) or not (
        jnp.issubdtype(arr.dtype, jnp.number) or arr.dtype == jnp.bool_
    ):
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(default_float())
    return arr


def check_params(params: Any) -> list[tuple[int, int]]:
    """Check that `params` is the documents' pytree: a list of {"weights", "biases"} dicts.

    Returns the (n_inputs, n_neurons) of each layer.
    """
    if isinstance(params, dict) or not isinstance(params, Sequence) or len(params) == 0:
        raise TypeError(
            "params: expected a non-empty list with one dict per dense layer, "
            "{'weights': (n_inputs, n_neurons), 'biases': (1, n_neurons)}; "
            f"got {type(params).__name__}"
        )
    shapes = []
    for i, layer in enumerate(params):
        if not isinstance(layer, dict) or "weights" not in layer or "biases" not in layer:
            raise TypeError(
                f"params[{i}]: expected a dict with keys 'weights' and 'biases', got "
                f"{sorted(layer) if isinstance(layer, dict) else type(layer).__name__}"
            )
        w_shape, b_shape = jnp.shape(layer["weights"]), jnp.shape(layer["biases"])
        if len(w_shape) != 2:
            raise ValueError(
                f"params[{i}]['weights']: expected shape (n_inputs, n_neurons), got {w_shape}"
            )
        if b_shape != (1, w_shape[1]):
            raise ValueError(
                f"params[{i}]['biases']: expected shape (1, {w_shape[1]}) to match weights "
                f"{w_shape}, got {b_shape}"
            )
        if shapes and shapes[-1][1] != w_shape[0]:
            raise ValueError(
                f"params[{i}]['weights']: layer {i - 1} has {shapes[-1][1]} neurons, so layer "
                f"{i} needs {shapes[-1][1]} inputs, but its weights have shape {w_shape}"
            )
        shapes.append((int(w_shape[0]), int(w_shape[1])))
    return shapes


def check_X(X: Any, n_inputs: int | None = None, name: str = "X") -> jax.Array:
    """Check a batch of inputs `X: (samples, n_inputs)`; return it as a float array."""
    arr = as_float_array(X, name)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (samples, features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if n_inputs is not None and arr.shape[1] != n_inputs:
        raise ValueError(
            f"{name}: expected {n_inputs} features per sample (the first layer's n_inputs), "
            f"got shape {arr.shape}"
        )
    if is_concrete(arr) and not bool(jnp.all(jnp.isfinite(arr))):
        raise ValueError(f"{name}: contains NaN or inf")
    return arr


def check_labels(y: Any, n_samples: int, n_classes: int, name: str = "y") -> jax.Array:
    """Check class labels: sparse `(samples,)` integers in [0, n_classes) or one-hot
    `(samples, n_classes)`. Returns them as a JAX array (sparse labels as int32)."""
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(f"{name}: expected an array of class labels, got {type(y).__name__}")
    arr = jnp.asarray(y)
    if arr.ndim == 1:
        if not jnp.issubdtype(arr.dtype, jnp.integer):
            raise TypeError(
                f"{name}: sparse labels must be integers in [0, {n_classes}), got dtype "
                f"{arr.dtype} (one-hot labels must be 2-D)"
            )
        if arr.shape[0] != n_samples:
            raise ValueError(
                f"{name}: expected one label per sample ({n_samples}), got {arr.shape[0]}"
            )
        if is_concrete(arr) and arr.size:
            lo, hi = int(jnp.min(arr)), int(jnp.max(arr))
            if lo < 0 or hi >= n_classes:
                raise ValueError(
                    f"{name}: labels must lie in [0, {n_classes}) for a {n_classes}-class "
                    f"output layer, got values in [{lo}, {hi}]"
                )
        return arr.astype(jnp.int32)
    if arr.ndim == 2:
        if arr.shape != (n_samples, n_classes):
            raise ValueError(
                f"{name}: one-hot labels must have shape ({n_samples}, {n_classes}) "
                f"(samples, classes), got {arr.shape}"
            )
        if is_concrete(arr) and not bool(jnp.all(jnp.isfinite(arr.astype(default_float())))):
            raise ValueError(f"{name}: contains NaN or inf")
        return arr.astype(default_float()) if not jnp.issubdtype(arr.dtype, jnp.floating) else arr
    raise ValueError(
        f"{name}: expected sparse labels (samples,) or one-hot labels (samples, classes), "
        f"got shape {arr.shape}"
    )


def check_activations(activation: str | Sequence[str], n_hidden: int) -> tuple[str, ...]:
    """Normalise `activation` (one name, or one per hidden layer) to a tuple of names."""
    names = (activation,) * n_hidden if isinstance(activation, str) else tuple(activation)
    if not isinstance(activation, str) and len(names) != n_hidden:
        raise ValueError(
            f"activation: expected one name or {n_hidden} names (one per hidden layer), "
            f"got {len(names)}"
        )
    for name in names:
        if name not in ACTIVATION_NAMES:
            raise ValueError(
                f"activation: unknown activation {name!r}; expected one of {ACTIVATION_NAMES}"
            )
    return names
