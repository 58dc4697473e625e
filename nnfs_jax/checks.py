"""Input validation for the public API.

Every public entry point calls these before it traces anything, so a bad argument fails with
a message that names the argument and says what was expected (an `InputError`, a ValueError),
not with an XLA shape error. Shape and dtype checks work on tracers too. Value checks (NaN,
label range) need the values: under the caller's own `jit` they are `checkify.debug_check`s,
which raise only when the caller wraps the function with
`jax.experimental.checkify.checkify(f, errors=checkify.user_checks)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify


class InputError(ValueError):
    """A bad argument, named in the message, found before any work is done."""


class InputTypeError(TypeError, InputError):
    """A bad argument of the wrong type (a `TypeError` and an `InputError`)."""


def is_concrete(x: Any) -> bool:
    """True when `x` holds values we can look at (not an abstract tracer)."""
    return not isinstance(x, jax.core.Tracer)


def default_float() -> np.dtype:
    """float32, or float64 when the caller has enabled x64."""
    return np.dtype(jax.dtypes.canonicalize_dtype(np.float64))


def as_float_array(x: Any, name: str) -> jax.Array:
    """`x` as a floating JAX array; integers and bools are converted to the default float."""
    return jnp.asarray(host_float_array(x, name))


def host_float_array(x: Any, name: str) -> Any:
    """`x` as a floating array, on the host (NumPy) unless it is a JAX array already: the value
    checks then need no round trip to the device."""
    if isinstance(x, (str, bytes)) or x is None:
        raise InputTypeError(f"{name}: expected a numeric array, got {type(x).__name__}")
    try:
        arr = x if isinstance(x, jax.Array) else np.asarray(x)
    except (TypeError, ValueError) as err:
        raise InputTypeError(f"{name}: expected a numeric array, got {type(x).__name__}") from err
    if jnp.issubdtype(arr.dtype, jnp.complexfloating) or not (
        jnp.issubdtype(arr.dtype, jnp.number) or arr.dtype == jnp.bool_
    ):
        raise InputTypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(default_float())
    elif (
        not isinstance(arr, jax.Array) and arr.dtype == np.float64 and default_float() != np.float64
    ):
        arr = arr.astype(np.float32)  # what jnp.asarray would make of it without x64
    return arr


def check_params(params: Any) -> list[tuple[int, int]]:
    """Check that `params` is the documents' pytree: a list of {"weights", "biases"} dicts.

    Returns the (n_inputs, n_neurons) of each layer.
    """
    if isinstance(params, dict) or not isinstance(params, Sequence) or len(params) == 0:
        raise InputTypeError(
            "params: expected a non-empty list with one dict per dense layer, "
            "{'weights': (n_inputs, n_neurons), 'biases': (1, n_neurons)}; "
            f"got {type(params).__name__}"
        )
    shapes = []
    for i, layer in enumerate(params):
        if not isinstance(layer, dict) or set(layer) != {"weights", "biases"}:
            got = sorted(map(str, layer)) if isinstance(layer, dict) else type(layer).__name__
            raise InputTypeError(
                f"params[{i}]: expected a dict with exactly the keys 'weights' and 'biases', "
                f"got {got}"
            )
        for name in ("weights", "biases"):
            _check_parameter(layer[name], f"params[{i}][{name!r}]")
        w_shape, b_shape = jnp.shape(layer["weights"]), jnp.shape(layer["biases"])
        if len(w_shape) != 2:
            raise InputError(
                f"params[{i}]['weights']: expected shape (n_inputs, n_neurons), got {w_shape}"
            )
        if b_shape != (1, w_shape[1]):
            raise InputError(
                f"params[{i}]['biases']: expected shape (1, {w_shape[1]}) to match weights "
                f"{w_shape}, got {b_shape}"
            )
        if shapes and shapes[-1][1] != w_shape[0]:
            raise InputError(
                f"params[{i}]['weights']: layer {i - 1} has {shapes[-1][1]} neurons, so layer "
                f"{i} needs {shapes[-1][1]} inputs, but its weights have shape {w_shape}"
            )
        shapes.append((int(w_shape[0]), int(w_shape[1])))
    return shapes


def _check_parameter(value: Any, name: str) -> None:
    """A real floating array without NaN or infinities (checked where the values are known)."""
    dtype = getattr(value, "dtype", None)
    if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise InputTypeError(
            f"{name}: expected a floating-point array, got {type(value).__name__}"
            + (f" of dtype {dtype}" if dtype is not None else "")
        )
    if is_concrete(value) and not np.isfinite(np.asarray(value)).all():
        raise InputError(f"{name}: contains NaN or inf")


def check_X(X: Any, n_inputs: int | None = None, name: str = "X") -> jax.Array:
    """Check a batch of inputs `X: (samples, n_inputs)`; return it as a float array."""
    arr = host_float_array(X, name)
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D array (samples, features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InputError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if n_inputs is not None and arr.shape[1] != n_inputs:
        raise InputError(
            f"{name}: expected {n_inputs} features per sample (the first layer's n_inputs), "
            f"got shape {arr.shape}"
        )
    if is_concrete(arr) and not np.isfinite(np.asarray(arr)).all():
        raise InputError(f"{name}: contains NaN or inf")
    if not is_concrete(arr):  # under the caller's jit: only under checkify (see module doc)
        checkify.debug_check(jnp.all(jnp.isfinite(arr)), f"{name}: contains NaN or inf")
    return jnp.asarray(arr)


def check_labels(y: Any, n_samples: int, n_classes: int, name: str = "y") -> jax.Array:
    """Check class labels: sparse `(samples,)` integers in [0, n_classes) or one-hot
    `(samples, n_classes)`. Returns them as a JAX array (sparse labels as int32)."""
    if isinstance(y, (str, bytes)) or y is None:
        raise InputTypeError(f"{name}: expected an array of class labels, got {type(y).__name__}")
    arr = y if isinstance(y, jax.Array) else np.asarray(y)
    if arr.ndim == 1:
        if not jnp.issubdtype(arr.dtype, jnp.integer):
            raise InputTypeError(
                f"{name}: sparse labels must be integers in [0, {n_classes}), got dtype "
                f"{arr.dtype} (one-hot labels must be 2-D)"
            )
        if arr.shape[0] != n_samples:
            raise InputError(
                f"{name}: expected one label per sample ({n_samples}), got {arr.shape[0]}"
            )
        if is_concrete(arr) and arr.size:
            lo, hi = int(np.min(np.asarray(arr))), int(np.max(np.asarray(arr)))
            if lo < 0 or hi >= n_classes:
                raise InputError(
                    f"{name}: labels must lie in [0, {n_classes}) for a {n_classes}-class "
                    f"output layer, got values in [{lo}, {hi}]"
                )
        elif not is_concrete(arr):
            checkify.debug_check(
                jnp.all((arr >= 0) & (arr < n_classes)),
                f"{name}: labels must lie in [0, {n_classes}) for a {n_classes}-class output layer",
            )
        return jnp.asarray(arr, jnp.int32)
    if arr.ndim == 2:
        if arr.shape != (n_samples, n_classes):
            raise InputError(
                f"{name}: one-hot labels must have shape ({n_samples}, {n_classes}) "
                f"(samples, classes), got {arr.shape}"
            )
        if is_concrete(arr):
            rows = np.asarray(arr, np.float64)
            if not np.isfinite(rows).all():
                raise InputError(f"{name}: contains NaN or inf")
            if rows.min() < 0 or rows.max() > 1:
                raise InputError(
                    f"{name}: one-hot (or soft) labels must lie in [0, 1], got values in "
                    f"[{rows.min():g}, {rows.max():g}]"
                )
            sums = rows.sum(axis=1)
            worst = int(np.argmax(np.abs(sums - 1)))
            if abs(sums[worst] - 1) > 1e-5 * n_classes:  # float32 rounding of a row's sum
                raise InputError(
                    f"{name}: each row of one-hot (or soft) labels must sum to 1, row {worst} "
                    f"sums to {sums[worst]:g}"
                )
        if not jnp.issubdtype(arr.dtype, jnp.floating):
            return jnp.asarray(arr, default_float())
        return jnp.asarray(arr)
    raise InputError(
        f"{name}: expected sparse labels (samples,) or one-hot labels (samples, classes), "
        f"got shape {arr.shape}"
    )


# --- chapters 14-17: output heads, dropout, regularization, keys ------------------------------


def _per_layer(value: Any, n: int, name: str, what: str) -> tuple[Any, ...]:
    """One value broadcast to `n` layers, or a sequence of exactly `n`."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return (value,) * n
    values = tuple(value)
    if len(values) != n:
        raise InputError(f"{name}: expected one value or {n} values (one per {what}), got {values}")
    return values


def check_number(value: Any, name: str) -> float:
    """A real Python or NumPy number (not a bool) as a Python float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name}: expected a number, got {value!r}")
    return float(value)


def check_dropout(rate: Any, n_hidden: int, name: str = "dropout") -> tuple[float, ...]:
    """Dropout rates (the fraction of units dropped), one for all hidden layers or one per
    hidden layer, each in [0, 1): at 1 every unit is dropped and the rescaling 1 / (1 - rate)
    divides by zero."""
    rates = tuple(
        check_number(r, f"{name}[{i}]")
        for i, r in enumerate(_per_layer(rate, n_hidden, name, "hidden layer"))
    )
    for i, r in enumerate(rates):
        if not 0 <= r < 1:
            raise InputError(
                f"{name}: rate (fraction of units dropped) must lie in [0, 1), got {r} for "
                f"hidden layer {i}"
            )
    return rates


def check_scale(value: Any, name: str = "scale") -> float:
    """An initial weight scale: a finite number >= 0."""
    value = check_number(value, name)
    if not (np.isfinite(value) and value >= 0):
        raise InputError(f"{name}: expected a finite number >= 0, got {value}")
    return value


def check_strength(value: Any, name: str) -> float:
    """A regularization strength: a finite number >= 0."""
    value = check_number(value, name)
    if not (np.isfinite(value) and value >= 0):
        raise InputError(f"{name}: expected a non-negative finite strength, got {value}")
    return value


def check_strengths(value: Any, n_layers: int, name: str) -> tuple[float, ...]:
    """One strength for every dense layer, or one per layer."""
    values = _per_layer(value, n_layers, name, "dense layer")
    return tuple(check_strength(v, f"{name}[{i}]") for i, v in enumerate(values))


def check_key(key: Any, name: str = "key") -> jax.Array:
    """A `jax.random` key: a typed key `jax.random.key(seed)` or a raw `PRNGKey(seed)`."""
    if isinstance(key, (str, bytes)) or key is None or isinstance(key, (int, float)):
        raise InputTypeError(
            f"{name}: expected a jax.random key (jax.random.key(seed)), got {key!r}"
        )
    try:
        arr = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    except (TypeError, ValueError) as err:
        raise InputTypeError(
            f"{name}: expected a jax.random key, got {type(key).__name__}"
        ) from err
    typed = jnp.issubdtype(arr.dtype, jax.dtypes.prng_key)
    if not ((typed and arr.shape == ()) or (arr.dtype == jnp.uint32 and arr.shape == (2,))):
        raise InputTypeError(
            f"{name}: expected a single jax.random key (jax.random.key(seed)), got dtype "
            f"{arr.dtype} and shape {arr.shape}"
        )
    return arr


def check_binary_targets(y: Any, n_samples: int, n_outputs: int, dtype, name: str = "y"):
    """0/1 labels `(samples, outputs)` for a sigmoid head, as float; `(samples,)` is accepted
    for a single output and reshaped to `(samples, 1)`, as the book's `y.reshape(-1, 1)`."""
    arr = as_float_array(y, name).astype(dtype)
    if arr.ndim == 1 and n_outputs == 1:
        arr = arr.reshape(-1, 1)
    _check_target_shape(
        arr, n_samples, n_outputs, name, "sigmoid", " ((samples,) is accepted for a single output)"
    )
    if is_concrete(arr):
        _check_finite(arr, name)
        bad = (arr != 0) & (arr != 1)
        if bool(jnp.any(bad)):
            raise InputError(
                f"{name}: sigmoid (binary) labels must be 0 or 1, got {float(arr[bad][0])}"
            )
    return arr


def check_regression_targets(
    y: Any, n_samples: int, n_outputs: int, dtype, name: str = "y", head: str = "linear"
):
    """Finite float targets `(samples, outputs)` for a linear head, exactly that shape: a
    `(samples,)` target against `(samples, 1)` outputs would broadcast to (samples, samples)."""
    arr = as_float_array(y, name).astype(dtype)
    _check_target_shape(
        arr, n_samples, n_outputs, name, head, " (a single target column as y.reshape(-1, 1))"
    )
    if is_concrete(arr):
        _check_finite(arr, name)
    return arr


def _check_target_shape(arr, n_samples, n_outputs, name, head, hint) -> None:
    if arr.shape != (n_samples, n_outputs):
        raise InputError(
            f"{name}: {head} targets must have shape ({n_samples}, {n_outputs}) (samples, "
            f"outputs of the last layer){hint}, got {arr.shape}"
        )


def _check_finite(arr, name) -> None:
    if not bool(jnp.all(jnp.isfinite(arr))):
        raise InputError(f"{name}: contains NaN or inf")


def check_sizes(sizes: Any) -> tuple[int, ...]:
    """Layer widths, inputs first, e.g. `(2, 64, 3)`: at least two positive integers."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise InputTypeError(f"sizes: expected a sequence of layer widths, got {sizes!r}")
    for width in sizes:
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)):
            raise InputTypeError(
                f"sizes: expected integer layer widths, got {width!r} in {sizes!r}"
            )
    sizes = tuple(int(w) for w in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise InputError(
            f"sizes: expected at least two positive widths (inputs, ..., outputs), got {sizes}"
        )
    return sizes


def check_no_key(key: Any) -> None:
    """The classifier API without `model=` has no dropout, so a key there is a mistake."""
    if key is not None:
        raise InputError(
            "key: only used with model= (it draws the dropout masks); the classifier without "
            "a model has no dropout"
        )


def positive_int(value: Any, name: str) -> int:
    """`value` as an int if it is an integer >= 1 (not a bool); a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value: Any, name: str) -> int:
    """`value` as an int if it is an integer >= 0 (not a bool); a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InputError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(value)


def check_optimizer(optimizer: Any) -> None:
    """A TypeError unless `optimizer` looks like an `optax.GradientTransformation`."""
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise InputTypeError(
            f"optimizer: expected an optax.GradientTransformation, got {type(optimizer).__name__}"
        )
