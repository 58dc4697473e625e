"""What the searches return, and the checks of their arguments."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks
from nnfs_jax import model as model_lib
from nnfs_jax.layers import Params


class Improvements(NamedTuple):
    """Every candidate that lowered the best loss, in iteration order. Each field: (k,) NumPy."""

    iteration: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray

    def lines(self) -> list[str]:
        """The documents' printout: 'New set of weights found, iteration: i loss: l acc: a'."""
        return [
            f"New set of weights found, iteration: {i} loss: {loss!s} acc: {acc!s}"
            for i, loss, acc in zip(self.iteration, self.loss, self.accuracy, strict=True)
        ]


class SearchResult(NamedTuple):
    """The best parameters found and how the search got there.

    params, loss, accuracy, improvements: the best run's (for random search, the only run).
    The `restart_*` fields hold every run: params as a pytree whose leaves have a leading
    `(restarts,)` axis, loss and accuracy `(restarts,)`, improvements a tuple of `restarts`.
    best_restart: the run `params` came from (the lowest loss, the first on a tie).
    """

    params: Params
    loss: jax.Array
    accuracy: jax.Array
    improvements: Improvements
    best_restart: int
    restart_params: Params
    restart_loss: jax.Array
    restart_accuracy: jax.Array
    restart_improvements: tuple[Improvements, ...]


def positive_float(value: Any, name: str, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if (
        isinstance(value, bool)
        or not math.isfinite(number)
        or number < 0
        or not (allow_zero or number > 0)
    ):
        wanted = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise checks.InputError(f"{name}: expected {wanted}, got {value!r}")
    return number


def check_keys(key: Any) -> jax.Array:
    """A typed key array (any shape) from a typed key or raw `uint32` key data `(..., 2)`."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    arr = key if isinstance(key, jax.Array) else np.asarray(key)
    if arr.dtype != np.uint32 or arr.ndim < 1 or arr.shape[-1] != 2:
        raise checks.InputTypeError(
            "key: expected a jax.random key (jax.random.key(seed)), got "
            f"{type(key).__name__} of dtype {arr.dtype} and shape {arr.shape}"
        )
    return jax.random.wrap_key_data(arr)


def check_data(X: Any, y: Any, sizes: tuple[int, ...], model: Any, activation: Any):
    """(X, y, model, precision) checked: X in the default float dtype, the model (or the
    documents' classifier with `activation`), exactly one-hot labels turned into class indices
    (which `logit_gaps` scores), and the linear heads' accuracy precision `std(y) / 250`."""
    model = model_lib.resolve(model, activation, len(sizes) - 1)
    X = checks.check_X(X, sizes[0]).astype(checks.default_float())
    y = model.head.targets(y, X.shape[0], sizes[-1], X.dtype)
    if model.head.name == "softmax" and y.ndim == 2 and checks.is_concrete(y):
        rows = np.asarray(y)
        if np.all((rows == 0) | (rows == 1)) and np.all(rows.sum(axis=1) == 1):
            y = jnp.asarray(rows.argmax(axis=1), jnp.int32)
    if model.head.uses_precision:
        precision = jnp.std(y) / 250
    else:
        precision = jnp.zeros((), X.dtype)
    return X, y, model, precision


def to_device(params: Params) -> Params:
    return jax.tree.map(jnp.asarray, params)


def weight_mask(sizes: Sequence[int], dtype) -> np.ndarray:
    """1 for the weights, 0 for the biases, in `flatten`'s order."""
    return np.concatenate(
        [np.r_[np.ones(n_in * n_out), np.zeros(n_out)] for n_in, n_out in itertools.pairwise(sizes)]
    ).astype(dtype)
