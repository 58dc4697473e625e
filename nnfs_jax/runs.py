"""What `train`, `fit` and `sweep` share before their loop: argument checks and the run's setup.

Each check names the argument and what was expected, before anything is traced.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import checks, optim
from nnfs_jax import model as model_lib
from nnfs_jax.checkpoint import Checkpoint
from nnfs_jax.layers import Params


class RunData(NamedTuple):
    """What a program's unit reads besides its carry: the training data and the validation data
    (None) in the kernel's layout, the run's key (None without randomness), one sweep
    configuration's `step.Hyper` (None outside sweeps) and the run's first epoch."""

    train: Any
    validation: Any
    key: jax.Array | None
    hyper: Any
    first_epoch: jax.Array


def diverged(loss, first_loss, diverge_above: float | None) -> jax.Array:
    """Whether a loss counts as diverged: NaN or infinite, or (with `diverge_above`) above that
    many times the run's first loss."""
    bad = ~jnp.isfinite(loss)
    if diverge_above is not None:
        bad = bad | (loss > diverge_above * first_loss)
    return bad


class Problem(NamedTuple):
    """A run's checked inputs: the model, the data as JAX arrays, the network's shapes and the
    regression accuracy's precision (0 for the classifiers, which do not use it)."""

    model: model_lib.Model
    params: Params
    X: jax.Array
    y: jax.Array
    validation: tuple[jax.Array, jax.Array] | None
    precision: jax.Array
    n_outputs: int


def problem(
    params: Any,
    X: Any,
    y: Any,
    model: Any,
    activation: Any = "relu",
    validation_data: Any = None,
    precision: Any = None,
) -> Problem:
    """Check the network, the data, the model (or the documents' classifier with `activation`),
    the validation data and the precision."""
    shapes = checks.check_params(params)
    model = model_lib.resolve(model, activation, len(shapes))
    X = checks.check_X(X, shapes[0][0])
    n_outputs = shapes[-1][1]
    y = model.head.targets(y, X.shape[0], n_outputs, X.dtype)
    validation = check_validation_data(validation_data, model, shapes, X.dtype)
    precision = default_precision(model_lib.check_precision(precision, model, y), model, y)
    params = jax.tree.map(lambda a: a if isinstance(a, jax.Array) else jnp.asarray(a), params)
    return Problem(model, params, X, y, validation, precision, n_outputs)


def check_validation_data(
    validation_data: Any, model: Any, shapes: list[tuple[int, int]], dtype
) -> tuple[jax.Array, jax.Array] | None:
    """None, or (X_val, y_val) checked against the network like the training data."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        length = (
            f" of length {len(validation_data)}"
            if isinstance(validation_data, (tuple, list))
            else ""
        )
        raise checks.InputTypeError(
            "validation_data: expected a pair (X_val, y_val) or None, got "
            f"{type(validation_data).__name__}{length}"
        )
    X_val = checks.check_X(validation_data[0], shapes[0][0], name="validation_data[0]")
    X_val = X_val.astype(dtype)
    y_val = model.head.targets(
        validation_data[1], X_val.shape[0], shapes[-1][1], dtype, "validation_data[1]"
    )
    return X_val, y_val


def default_precision(precision: Any, model: Any, y: jax.Array) -> jax.Array:
    """The linear heads' accuracy tolerance, `std(y) / 250` of the training targets unless given
    (the book's `accuracy.init(y)`); 0 for the heads that do not use it."""
    if precision is not None:
        return precision
    if model.head.uses_precision:
        return jnp.std(y) / 250
    return np.zeros((), jnp.result_type(y.dtype, checks.default_float()))


def from_checkpoint(
    resume: Any, params: Any, initial_state: Any, initial_epoch: Any
) -> tuple[Params, optax.OptState, int]:
    """(params, optimizer state, step) of a `Checkpoint`, once the arguments it replaces are
    seen to be left out."""
    if not isinstance(resume, Checkpoint):
        raise checks.InputTypeError(
            "resume: expected a nnfs_jax.checkpoint.Checkpoint (from load_checkpoint), got "
            f"{type(resume).__name__}"
        )
    if params is not None:
        raise checks.InputError(
            "params: pass None with resume= (the checkpoint holds the parameters)"
        )
    if initial_state is not None or not (isinstance(initial_epoch, int) and initial_epoch == 0):
        raise checks.InputError(
            "resume: give either resume= or initial_state/initial_epoch, not both"
        )
    return resume.params, resume.opt_state, resume.step


def check_epochs(epochs: Any, initial_epoch: Any = 0) -> tuple[int, int]:
    """(epochs, initial_epoch): a positive and a non-negative integer whose sum stays below
    2**31 (the compiled loops count epochs in int32)."""
    epochs = checks.positive_int(epochs, "epochs")
    initial_epoch = checks.non_negative_int(initial_epoch, "initial_epoch")
    if epochs + initial_epoch >= 2**31:
        raise checks.InputError(
            f"epochs: initial_epoch + epochs must stay below 2**31 (epochs are counted in "
            f"int32), got {initial_epoch} + {epochs}"
        )
    return epochs, initial_epoch


def check_engine_options(optimizer: Any, progress: Any, **flags: Any) -> None:
    """The optimizer, the progress callback and boolean flags."""
    checks.check_optimizer(optimizer)
    if progress is not None and not callable(progress):
        raise checks.InputTypeError(
            f"progress: expected a callable or None, got {type(progress).__name__}"
        )
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise checks.InputTypeError(f"{name}: expected True or False, got {value!r}")


def initial_state(
    initial_state: Any, optimizer: optax.GradientTransformation, params: Params
) -> tuple[optax.OptState, jax.Array]:
    """(`optimizer.init(params)`, or `initial_state` once `optim.check_state` has seen it to
    have that structure, shapes and dtypes; the rate of the update before it,
    `optim.previous_learning_rate`), in one compiled call."""
    if initial_state is not None:
        initial_state = optim.check_state(initial_state, optimizer, params)
    return _state(params, initial_state, optimizer)


@partial(jax.jit, static_argnames="optimizer")
def _state(params, state, optimizer):
    # Op by op, each leaf's zeros and each scalar would be a dispatch of its own.
    state = optimizer.init(params) if state is None else state
    dtype = jax.tree.leaves(params)[0].dtype
    return state, optim.previous_learning_rate(state, optimizer).astype(dtype)


@partial(jax.jit, static_argnames=("step", "n_outputs"))
def prepare(step, X, y, precision, validation, n_outputs):
    """The training and validation data in the step's kernel layout, in one compiled call."""
    data = step.prepare(X, y, precision, n_outputs)
    if validation is not None:
        validation = step.prepare(*validation, precision, n_outputs)
    return data, validation


def exact_learning_rate(optimizer: Any, iterations: int, fallback: float) -> float:
    """The book's float64 rate after `iterations` updates (`optim.learning_rate_at`), or the
    logged value where the optimizer does not say."""
    rate = optim.learning_rate_at(optimizer, iterations)
    return float(fallback) if rate is None else rate


def epoch_key(key: jax.Array | None, epoch: Any) -> jax.Array | None:
    """The key of one epoch: `fold_in(key, epoch)` (the absolute epoch, so a resumed run draws
    what the uninterrupted one drew), or None without a key."""
    return None if key is None else jax.random.fold_in(key, epoch)


def as_numpy_rows(rows: Any) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(r) for r in rows)
