"""The book's `Model.train`, `Model.evaluate` and `Model.predict` (NNFS chapters 18-19) for any
`nnfs_jax.model.Model`, with mini-batches, as compiled loops.

The book's training loop, per epoch:

    for step in range(train_steps):      # ceil(samples / batch_size): the last batch is shorter
        batch_X, batch_y = X[step * batch_size:(step + 1) * batch_size], ...
        output = self.forward(batch_X, training=True)                # dropout on
        data_loss, regularization_loss = self.loss.calculate(output, batch_y,
                                                             include_regularization=True)
        accuracy = self.accuracy.calculate(predictions, batch_y)     # both accumulate sums
        self.backward(output, batch_y)
        optimizer.pre_update_params(); optimizer.update_params(layer) ...; post_update_params()
    epoch_data_loss, epoch_regularization_loss = self.loss.calculate_accumulated(
        include_regularization=True)                 # accumulated_sum / accumulated_count
    epoch_accuracy = self.accuracy.calculate_accumulated()
    if validation_data is not None:
        self.evaluate(*validation_data, batch_size=batch_size)     # no dropout, data loss only

Here each epoch is one `lax.scan` over its full batches followed by one step on the last,
shorter batch. That step has a static shape of its own, so the last partial batch is kept
(the book's `train_steps += 1`) and its loss is the mean over its own samples, exactly as in
the book, with no padding: padded rows would need weights inside every backward rule.

Randomness comes from `key` and the *absolute* epoch number (1 for the first epoch of a fresh
run, as the book prints `epoch: 1`), never from the call, so a run split in two with a
checkpoint in between equals the run in one piece, bit for bit:

    epoch_key = jax.random.fold_in(key, epoch)
    shuffle_key, dropout_key = jax.random.split(epoch_key)
    order = jax.random.permutation(shuffle_key, samples)           # shuffle=True
    masks of batch j = model.dropout_masks(params, batch_X, model, fold_in(dropout_key, j))

The book shuffles Fashion-MNIST once, before training; `shuffle=True` reshuffles every epoch
(`shuffle=False` takes the batches in order, as the book's loop itself does).

The run is cut into about `CHUNKS` compiled calls of equal length (one compilation); the
`progress` callback hears about the epochs of a chunk between calls, so it costs nothing inside
the compiled loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import checks
from nnfs_jax.checkpoint import Checkpoint
from nnfs_jax.layers import Params
from nnfs_jax.losses import regression_precision, sparse_labels
from nnfs_jax.model import (
    HEADS,
    Model,
    check_model,
    dropout_masks,
    manual_gradient,
    output,
    predictions,
    regularization_loss,
    total_loss,
)
from nnfs_jax.optim import check_state, current_learning_rate

GRADS = ("manual", "autodiff")
CHUNKS = 20  # the run is about this many compiled calls; progress is reported between them


class Curves(NamedTuple):
    """Loss and accuracy per epoch, shaped like `train.History` for `plot.learning_curves`."""

    epoch: jax.Array
    loss: jax.Array
    accuracy: jax.Array


class FitHistory(NamedTuple):
    """One row per epoch, as the book prints it at the end of the epoch. Each field: (epochs,).

    epoch: the absolute epoch number, 1-based (`initial_epoch + 1, ...`), int32.
    step: the updates applied by the end of the epoch (the book's `optimizer.iterations`),
      int32; `save_checkpoint(..., step=int(history.step[-1]))` lets `fit(resume=...)` go on.
    loss: `data_loss + regularization_loss`, the book's `epoch_loss`.
    data_loss: the book's accumulated data loss: the sum of every sample loss of the epoch's
      batches (training mode, dropout on, each with the parameters before its update) over
      the number of samples.
    regularization_loss: after the epoch's last update, as the book's `calculate_accumulated`
      computes it.
    accuracy: the accumulated accuracy: matching predictions over all comparisons made.
    learning_rate: the rate the epoch's last update used (the book prints
      `optimizer.current_learning_rate`); NaN for optax states that do not expose it.
    validation_loss, validation_accuracy: the book's `evaluate` on `validation_data` after
      the epoch: no dropout, no regularization loss; NaN without validation data.
    """

    epoch: jax.Array
    step: jax.Array
    loss: jax.Array
    data_loss: jax.Array
    regularization_loss: jax.Array
    accuracy: jax.Array
    learning_rate: jax.Array
    validation_loss: jax.Array
    validation_accuracy: jax.Array

    @property
    def validation(self) -> Curves:
        """The validation curves, shaped like the training ones (`{"training": history,
        "validation": history.validation}` plots both)."""
        return Curves(self.epoch, self.validation_loss, self.validation_accuracy)


class FitLogEntry(NamedTuple):
    """What a `progress` callback receives for a reported epoch (host-side Python scalars)."""

    epoch: int
    epochs: int  # the absolute number of the run's last epoch
    loss: float
    data_loss: float
    regularization_loss: float
    accuracy: float
    learning_rate: float
    validation_loss: float  # NaN without validation data
    validation_accuracy: float


def format_epoch(entry: FitLogEntry) -> str:
    """The book's end-of-epoch printout for one `FitLogEntry`:

        epoch: 10
        training, acc: 0.894, loss: 0.294 (data_loss: 0.294, reg_loss: 0.000), lr: 0.0005
        validation, acc: 0.874, loss: 0.353

    (the validation line only when there is validation data).
    """
    lines = [
        f"epoch: {entry.epoch}",
        f"training, acc: {entry.accuracy:.3f}, loss: {entry.loss:.3f} (data_loss: "
        f"{entry.data_loss:.3f}, reg_loss: {entry.regularization_loss:.3f}), "
        f"lr: {entry.learning_rate}",
    ]
    if not math.isnan(entry.validation_loss):
        lines.append(
            f"validation, acc: {entry.validation_accuracy:.3f}, loss: {entry.validation_loss:.3f}"
        )
    return "\n".join(lines)


def format_log_line(entry: FitLogEntry) -> str:
    """The book's chapter 14-18 one-line log, `epoch: 10000, acc: 0.947, loss: 0.217
    (data_loss: 0.157, reg_loss: 0.060), lr: 0.0199...`, the epoch counted from 0 as their
    `for epoch in range(10001)` loops count it (so `fit`'s epoch 10,001 prints as 10000)."""
    return (
        f"epoch: {entry.epoch - 1}, acc: {entry.accuracy:.3f}, loss: {entry.loss:.3f} "
        f"(data_loss: {entry.data_loss:.3f}, reg_loss: {entry.regularization_loss:.3f}), "
        f"lr: {entry.learning_rate}"
    )


def steps_per_epoch(samples: int, batch_size: int | None) -> int:
    """The book's `train_steps`: 1 for the full batch, else `ceil(samples / batch_size)`."""
    return 1 if batch_size is None else -(-samples // batch_size)


# --- the public entry points ------------------------------------------------------------------


def fit(
    params: Params | None,
    X: Any,
    y: Any,
    *,
    model: Model,
    optimizer: optax.GradientTransformation,
    epochs: int,
    key: jax.Array,
    batch_size: int | None = None,
    validation_data: tuple[Any, Any] | None = None,
    shuffle: bool = True,
    precision: float | None = None,
    grad: str = "manual",
    print_every: int = 1,
    progress: Callable[[FitLogEntry], None] | None = None,
    initial_state: optax.OptState | None = None,
    initial_epoch: int = 0,
    resume: Checkpoint | None = None,
) -> tuple[Params, optax.OptState, FitHistory]:
    """Train `model` on (X, y) for `epochs` epochs of mini-batches: the book's `Model.train`.

    params: the pytree from `init_params` (None with `resume`). X: (samples, n_inputs);
    y: targets for the model's head (see `checks.check_targets`).
    optimizer: any optax GradientTransformation, e.g. `nnfs_jax.optim.adam(0.001, decay=1e-3)`.
    key: a `jax.random` key for the shuffling and the dropout masks (see the module docstring).
    batch_size: None for the full batch (one update per epoch), else the batch length; the
      last batch of an epoch holds the `samples % batch_size` left over, if any.
    validation_data: (X_val, y_val), evaluated after every epoch without dropout and without
      the regularization loss, in batches of `batch_size` as the book does.
    shuffle: reshuffle the samples every epoch (no effect on the full batch).
    precision: the linear heads' accuracy tolerance; default `std(y) / 250` of the training
      targets, used for the validation data too (the book's `accuracy.init(y)`).
    grad: "manual" (the book's backward pass, `model.manual_gradient`) or "autodiff"
      (`jax.grad(model.total_loss)`).
    print_every, progress: `progress(FitLogEntry)` is called for every epoch whose number is
      a multiple of `print_every`, and for the last; `format_epoch` prints it as the book does.
    initial_state, initial_epoch: continue a run: the optimizer state it ended with and how
      many epochs it had done (`history.epoch[-1]`).
    resume: a `Checkpoint` from `load_checkpoint` saved with `step=history.step[-1]`: its
      parameters and optimizer state, and `step / steps_per_epoch` epochs done.
    Returns (params, optimizer state, FitHistory).
    """
    if resume is not None:
        params, initial_state, initial_epoch = _from_checkpoint(
            resume, params, initial_state, initial_epoch, X, batch_size
        )
    shapes = checks.check_params(params)
    model = check_model(model, len(shapes))
    X = checks.check_X(X, shapes[0][0])
    y = checks.check_targets(y, model.head, X.shape[0], shapes[-1][1], X.dtype)
    validation = _check_validation_data(validation_data, model, shapes, X.dtype)
    epochs = checks.positive_int(epochs, "epochs")
    batch_size = None if batch_size is None else checks.positive_int(batch_size, "batch_size")
    print_every = checks.positive_int(print_every, "print_every")
    initial_epoch = checks.non_negative_int(initial_epoch, "initial_epoch")
    key = checks.check_key(key)
    if grad not in GRADS:
        raise ValueError(f"grad: expected one of {GRADS}, got {grad!r}")
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle: expected True or False, got {shuffle!r}")
    checks.check_optimizer(optimizer)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a callable or None, got {type(progress).__name__}")
    params = jax.tree.map(jnp.asarray, params)
    opt_state = _check_initial_state(initial_state, optimizer, params)
    precision = _check_precision(precision, model, y)

    carry, rows = _run(
        (params, opt_state),
        initial_epoch,
        epochs,
        print_every,
        progress,
        key,
        X,
        y,
        validation,
        precision,
        model=model,
        optimizer=optimizer,
        grad=grad,
        batch_size=batch_size,
        shuffle=shuffle,
    )
    epoch = np.arange(initial_epoch + 1, initial_epoch + epochs + 1, dtype=np.int32)
    step = epoch * np.int32(steps_per_epoch(X.shape[0], batch_size))
    history = FitHistory(*(jnp.asarray(column) for column in (epoch, step, *rows)))
    return carry[0], carry[1], history


def evaluate(
    params: Params,
    X: Any,
    y: Any,
    *,
    model: Model,
    batch_size: int | None = None,
    precision: float | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The book's `Model.evaluate`: (loss, accuracy) scalars over (X, y) in evaluation mode
    (no dropout), the loss without regularization: the sum of the sample losses over the
    number of samples, the accuracy matching predictions over comparisons, as the book
    accumulates them batch by batch. batch_size: None for one pass; the batches bound the
    memory and change only round-off. precision: the linear heads' tolerance, default
    `std(y) / 250` of the `y` given (pass the training targets' to do as the book does).
    """
    shapes = checks.check_params(params)
    model = check_model(model, len(shapes))
    X = checks.check_X(X, shapes[0][0])
    y = checks.check_targets(y, model.head, X.shape[0], shapes[-1][1], X.dtype)
    batch_size = None if batch_size is None else checks.positive_int(batch_size, "batch_size")
    precision = _check_precision(precision, model, y)
    return _evaluate(params, X, y, precision, model=model, batch_size=batch_size)


def predict(params: Params, X: Any, *, model: Model, batch_size: int | None = None) -> jax.Array:
    """The book's `Model.predict`: the model's output (samples, n_outputs) in evaluation mode,
    computed in batches of `batch_size` (None: one pass). `model.predictions(output,
    model.head)` turns it into classes (softmax), 0/1 (sigmoid) or values (linear heads).
    """
    shapes = checks.check_params(params)
    model = check_model(model, len(shapes))
    X = checks.check_X(X, shapes[0][0])
    batch_size = None if batch_size is None else checks.positive_int(batch_size, "batch_size")
    return _predict(params, X, model=model, batch_size=batch_size)


# --- validation -------------------------------------------------------------------------------


def _check_validation_data(
    validation_data: Any, model: Model, shapes: list[tuple[int, int]], dtype
) -> tuple[jax.Array, jax.Array] | None:
    """None, or (X_val, y_val) checked against the network like the training data."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError(
            "validation_data: expected a pair (X_val, y_val) or None, got "
            f"{type(validation_data).__name__}"
            + (
                f" of length {len(validation_data)}"
                if isinstance(validation_data, (tuple, list))
                else ""
            )
        )
    X_val = checks.check_X(validation_data[0], shapes[0][0], name="validation_data[0]")
    if X_val.dtype != dtype:
        X_val = X_val.astype(dtype)
    y_val = checks.check_targets(
        validation_data[1], model.head, X_val.shape[0], shapes[-1][1], dtype, "validation_data[1]"
    )
    return X_val, y_val


def _check_initial_state(
    initial_state: Any, optimizer: optax.GradientTransformation, params: Params
) -> optax.OptState:
    """`optimizer.init(params)`, or `initial_state` once `optim.check_state` has seen it to
    have that structure, shapes and dtypes."""
    if initial_state is None:
        return _init_state(params, optimizer)
    return check_state(initial_state, optimizer, params)


def _check_precision(precision: Any, model: Model, y: jax.Array) -> jax.Array:
    """The linear heads' accuracy tolerance as a scalar of y's dtype (0 for the classifiers,
    which do not use it)."""
    if precision is None:
        if model.head.startswith("linear"):
            return regression_precision(y)
        return jnp.zeros((), jnp.result_type(y.dtype, checks.default_float()))
    if not model.head.startswith("linear"):
        raise ValueError(f"precision: only the linear heads use it, not {model.head!r}")
    value = checks.check_number(precision, "precision")
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"precision: expected a non-negative finite number, got {value}")
    return jnp.asarray(value, y.dtype)


def _from_checkpoint(
    resume: Any, params: Any, initial_state: Any, initial_epoch: Any, X: Any, batch_size: Any
) -> tuple[Params, optax.OptState, int]:
    """(params, opt_state, epochs done) from a `Checkpoint` saved at the end of an epoch."""
    if not isinstance(resume, Checkpoint):
        raise TypeError(
            "resume: expected a nnfs_jax.checkpoint.Checkpoint (from load_checkpoint), got "
            f"{type(resume).__name__}"
        )
    if params is not None:
        raise ValueError("params: pass None with resume= (the checkpoint holds the parameters)")
    if initial_state is not None or not (isinstance(initial_epoch, int) and initial_epoch == 0):
        raise ValueError("resume: give either resume= or initial_state/initial_epoch, not both")
    samples = int(np.shape(X)[0]) if np.ndim(X) >= 1 else 0
    if batch_size is not None:
        batch_size = checks.positive_int(batch_size, "batch_size")
    steps = steps_per_epoch(samples, batch_size)
    if resume.step % steps:
        raise ValueError(
            f"resume: the checkpoint's step {resume.step} is not a whole number of epochs of "
            f"{steps} steps ({samples} samples, batch_size {batch_size}); save it with "
            "step=history.step[-1]"
        )
    return resume.params, resume.opt_state, resume.step // steps


# --- the compiled loop ------------------------------------------------------------------------


@partial(jax.jit, static_argnames="optimizer")
def _init_state(params, optimizer):
    """`optimizer.init(params)` as one compiled call (op by op, each leaf's zeros would
    compile on a first run)."""
    return optimizer.init(params)


def _run(
    carry, initial_epoch, epochs, print_every, progress, key, X, y, validation, precision, **static
):
    """Drive `_fit_chunk` over the epochs, `per_chunk` at a time, reporting between calls.

    Every call has room for `per_chunk` epochs and runs `count` of them (a while loop: the
    count is data, not shape), so one compilation serves the whole run.
    """
    per_chunk = -(-epochs // CHUNKS)
    last = initial_epoch + epochs
    parts = []
    for first in range(initial_epoch + 1, last + 1, per_chunk):
        count = min(per_chunk, last - first + 1)
        carry, rows = _fit_chunk(
            carry,
            np.int32(first),
            np.int32(count),
            key,
            X,
            y,
            validation,
            precision,
            per_chunk=per_chunk,
            **static,
        )
        # On the host: slicing and joining device arrays would compile an op per shape.
        rows = tuple(np.asarray(r)[:count] for r in rows)
        parts.append(rows)
        if progress is not None:
            _report(progress, first, last, print_every, rows)
    return carry, tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _report(progress, first: int, last: int, print_every: int, rows) -> None:
    for i in range(len(rows[0])):
        epoch = first + i
        if epoch % print_every == 0 or epoch == last:
            progress(FitLogEntry(epoch, last, *(float(r[i]) for r in rows)))


@partial(
    jax.jit,
    static_argnames=("model", "optimizer", "grad", "batch_size", "shuffle", "per_chunk"),
)
def _fit_chunk(
    carry,
    first,
    count,
    key,
    X,
    y,
    validation,
    precision,
    *,
    model,
    optimizer,
    grad,
    batch_size,
    shuffle,
    per_chunk,
):
    """Epochs `first, ..., first + count - 1` (absolute, 1-based); returns the carry and seven
    (per_chunk,) rows: loss, data loss, regularization loss, accuracy, learning rate,
    validation loss and accuracy (the rows past `count` are left at 0)."""
    dtype = X.dtype
    rows = tuple(jnp.zeros(per_chunk, dtype) for _ in range(7))

    def one_epoch(i, state):
        carry, rows = state
        carry, row = _train_epoch(
            carry, first + i, key, X, y, precision, model, optimizer, grad, batch_size, shuffle
        )
        params = carry[0]
        reg = regularization_loss(params, model).astype(dtype)
        if validation is None:
            val = (jnp.full((), jnp.nan, dtype),) * 2
        else:
            val = _evaluate(params, *validation, precision, model=model, batch_size=batch_size)
        data_loss, accuracy, learning_rate = row
        row = (data_loss + reg, data_loss, reg, accuracy, learning_rate, *val)
        rows = tuple(r.at[i].set(v.astype(dtype)) for r, v in zip(rows, row, strict=True))
        return carry, rows

    return jax.lax.fori_loop(0, count, one_epoch, (carry, rows))


def _train_epoch(carry, epoch, key, X, y, precision, model, optimizer, grad, batch_size, shuffle):
    """One epoch of updates; returns the carry and the epoch's accumulated (data loss,
    accuracy) and the learning rate of its last update."""
    samples = X.shape[0]
    shuffle_key, dropout_key = jax.random.split(jax.random.fold_in(key, epoch))
    step = partial(
        _train_step,
        X=X,
        y=y,
        dropout_key=dropout_key,
        precision=precision,
        model=model,
        optimizer=optimizer,
        grad=grad,
    )
    if batch_size is None:  # the book's full batch: X itself, no gather
        carry, (loss_sum, correct, learning_rate) = step(carry, (None, 0))
    else:
        order = jax.random.permutation(shuffle_key, samples) if shuffle else jnp.arange(samples)
        full, rest = divmod(samples, batch_size)
        sums = []
        if full:
            batches = order[: full * batch_size].reshape(full, batch_size)
            carry, per_batch = jax.lax.scan(step, carry, (batches, jnp.arange(full)))
            sums.append(per_batch)
        if rest:  # the book's `train_steps += 1`: the leftover samples, a batch of their own
            carry, last = step(carry, (order[full * batch_size :], full))
            sums.append(jax.tree.map(lambda v: v[None], last))
        loss_sum = sum(jnp.sum(s[0]) for s in sums)
        correct = sum(jnp.sum(s[1]) for s in sums)
        learning_rate = sums[-1][2][-1]
    comparisons = samples * (1 if model.head == "softmax" else y.shape[1])
    accuracy = correct.astype(X.dtype) / comparisons
    return carry, (loss_sum / samples, accuracy, learning_rate)


def _train_step(carry, batch, *, X, y, dropout_key, precision, model, optimizer, grad):
    """One of the book's training steps on the samples `batch = (indices, j)` (indices None:
    all of X). Returns the carry and (sum of sample losses, matching predictions, learning
    rate of this update)."""
    params, opt_state = carry
    indices, j = batch
    batch_X, batch_y = (X, y) if indices is None else (X[indices], y[indices])
    masks = None
    if model.has_dropout:
        masks = dropout_masks(params, batch_X, model, jax.random.fold_in(dropout_key, j))
    out = output(params, batch_X, model, masks)
    loss_sum = jnp.sum(HEADS[model.head].sample_losses(out, batch_y))
    correct = _n_correct(out, batch_y, model.head, precision)
    learning_rate = current_learning_rate(opt_state).astype(out.dtype)
    if grad == "manual":
        grads = manual_gradient(params, batch_X, batch_y, model, masks)
    else:
        grads = jax.grad(total_loss)(params, batch_X, batch_y, model, masks)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), (loss_sum, correct, learning_rate)


def _n_correct(out: jax.Array, y: jax.Array, head: str, precision: jax.Array) -> jax.Array:
    """The book's `np.sum(comparisons)` for a batch, as int32: softmax: argmax == class;
    sigmoid: (p > 0.5) == y per output; linear: |p - y| < precision per output."""
    if head == "softmax":
        comparisons = predictions(out, head) == sparse_labels(y)
    elif head == "sigmoid":
        comparisons = predictions(out, head).astype(y.dtype) == y
    else:
        comparisons = jnp.abs(out - y) < precision
    return jnp.sum(comparisons, dtype=jnp.int32)


# --- evaluation in batches --------------------------------------------------------------------


def _split_batches(
    X: jax.Array, batch_size: int | None
) -> tuple[jax.Array | None, jax.Array | None]:
    """(full batches (n, batch_size, ...) or None, the leftover rows or None)."""
    if batch_size is None:
        return None, X
    full, rest = divmod(X.shape[0], batch_size)
    batches = X[: full * batch_size].reshape(full, batch_size, *X.shape[1:]) if full else None
    return batches, (X[full * batch_size :] if rest else None)


@partial(jax.jit, static_argnames=("model", "batch_size"))
def _evaluate(params, X, y, precision, *, model, batch_size):
    """(mean sample loss, accuracy) in evaluation mode, accumulated over batches."""

    def sums(batch):
        batch_X, batch_y = batch
        out = output(params, batch_X, model)
        loss_sum = jnp.sum(HEADS[model.head].sample_losses(out, batch_y))
        return loss_sum, _n_correct(out, batch_y, model.head, precision)

    (X_full, X_rest), (y_full, y_rest) = (
        _split_batches(X, batch_size),
        _split_batches(y, batch_size),
    )
    loss_sum, correct = jnp.zeros((), X.dtype), jnp.zeros((), jnp.int32)
    if X_full is not None:
        per_batch = jax.lax.map(sums, (X_full, y_full))
        loss_sum, correct = jnp.sum(per_batch[0]), jnp.sum(per_batch[1])
    if X_rest is not None:
        rest = sums((X_rest, y_rest))
        loss_sum, correct = loss_sum + rest[0], correct + rest[1]
    samples = X.shape[0]
    comparisons = samples * (1 if model.head == "softmax" else y.shape[1])
    return loss_sum / samples, correct.astype(X.dtype) / comparisons


@partial(jax.jit, static_argnames=("model", "batch_size"))
def _predict(params, X, *, model, batch_size):
    full, rest = _split_batches(X, batch_size)
    parts = []
    if full is not None:
        outs = jax.lax.map(lambda batch_X: output(params, batch_X, model), full)
        parts.append(outs.reshape(-1, outs.shape[-1]))
    if rest is not None:
        parts.append(output(params, rest, model))
    return jnp.concatenate(parts) if len(parts) > 1 else parts[0]
