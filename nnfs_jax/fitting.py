"""`fit`, `evaluate`, `predict`: the book's `Model.train`, `evaluate` and `predict` (chapters 18-19)
for any model, with mini-batches, on the one step and loop.

Per epoch, as the book's loop: every batch (the last one shorter when `batch_size` does not
divide the samples: the book's `train_steps += 1`) is one step, its sample losses and accuracy
comparisons accumulated before its update; then the regularization loss after the epoch's last
update (`calculate_accumulated(include_regularization=True)`) and the validation data in
evaluation mode. Randomness comes from `key` and the absolute epoch (1 for a fresh run's first),
so a run split by a checkpoint equals the run in one piece:

    shuffle_key, dropout_key = jax.random.split(jax.random.fold_in(key, epoch))
    order = jax.random.permutation(shuffle_key, samples)        # shuffle=True
    batch j's masks = network.dropout_masks(params, batch_X, model, fold_in(dropout_key, j))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import checks, logs, loop, network, runs
from nnfs_jax import model as model_lib
from nnfs_jax.checkpoint import Checkpoint
from nnfs_jax.kernels import base
from nnfs_jax.kernels.base import means
from nnfs_jax.layers import Params
from nnfs_jax.logs import FitHistory, FitLogEntry
from nnfs_jax.step import Step, make_step, nan, regularization


def steps_per_epoch(samples: int, batch_size: int | None) -> int:
    """The book's `train_steps`: 1 for the full batch, else `ceil(samples / batch_size)`."""
    return 1 if batch_size is None else -(-samples // batch_size)


@dataclass(frozen=True)
class Program:
    """The loop's unit for `fit`: one epoch (hashable: a static argument)."""

    step: Step
    batch_size: int | None
    shuffle: bool
    diverge_above: float | None = None

    first_epoch = 1  # a fresh run's: the book counts epochs from 1

    def start(self, params, opt_state):
        """The carry of a run: (params, opt_state, first loss, diverged at)."""
        dtype = jax.tree.leaves(params)[0].dtype
        return params, opt_state, np.full((), np.nan, dtype), np.int32(-1)

    @staticmethod
    def diverged_at(carry):
        return carry[3]

    def unit(self, carry, x, data: runs.RunData):
        (epoch,) = x
        (params, opt_state), (loss_sum, correct, learning_rate) = self.epoch(
            carry[:2], epoch, data.train, data.key, data.hyper
        )
        kernel = self.step.kernel
        model = self.step.resolve(data.hyper)[0]
        sums = base.Sums(loss_sum, correct)
        data_loss, accuracy = means(sums, kernel.samples(data.train), model, data.train)
        reg = regularization(params, model)
        dtype = data_loss.dtype
        if data.validation is None:
            val = (nan(dtype), nan(dtype))
        else:
            val_sums = batched_sums(kernel, params, data.validation, model, self.batch_size)
            val = means(val_sums, kernel.samples(data.validation), model, data.validation)
        loss = data_loss + reg
        first_loss = jnp.where(epoch == data.first_epoch, loss, carry[2])
        bad = (carry[3] < 0) & runs.diverged(loss, first_loss, self.diverge_above)
        diverged_at = jnp.where(bad, epoch, carry[3])
        row = (loss, data_loss, reg, accuracy, learning_rate.astype(dtype), *val)
        return (params, opt_state, first_loss, diverged_at), row

    def epoch(self, carry, epoch, data, key, hyper):
        """One epoch of steps; returns the carry and the epoch's summed sample losses, matching
        comparisons and the learning rate of its last update."""
        kernel, samples = self.step.kernel, self.step.kernel.samples(data)
        shuffle_key = dropout_key = None
        if key is not None:
            shuffle_key, dropout_key = jax.random.split(jax.random.fold_in(key, epoch))
        use_masks = network.has_dropout(self.step.model)

        def batch_step(carry, batch):
            indices, j = batch
            batch_data = data if indices is None else kernel.take(data, indices)
            batch_key = jax.random.fold_in(dropout_key, j) if use_masks else None
            params, opt_state, metrics = self.step(*carry, batch_data, batch_key, hyper)
            return (params, opt_state), metrics

        if self.batch_size is None:  # the book's full batch: the data itself, no gather
            carry, metrics = batch_step(carry, (None, 0))
            return carry, metrics
        order = jnp.arange(samples)
        if self.shuffle:
            order = jax.random.permutation(shuffle_key, samples)
        full, rest = divmod(samples, self.batch_size)
        parts = []
        if full:
            batches = order[: full * self.batch_size].reshape(full, self.batch_size)
            carry, per_batch = jax.lax.scan(batch_step, carry, (batches, jnp.arange(full)))
            parts.append(per_batch)
        if rest:  # the book's `train_steps += 1`: the leftover samples, a batch of their own
            carry, last = batch_step(carry, (order[full * self.batch_size :], full))
            parts.append(jax.tree.map(lambda v: v[None], last))
        loss_sum = sum(jnp.sum(p.loss) for p in parts)
        correct = sum(jnp.sum(p.correct) for p in parts)
        return carry, (loss_sum, correct, parts[-1].learning_rate[-1])


def fit(
    params: Params | None,
    X: Any,
    y: Any,
    *,
    optimizer: optax.GradientTransformation,
    epochs: int,
    model: model_lib.Model | None = None,
    key: jax.Array | None = None,
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
    """Train `model` (default: the documents' classifier) on (X, y) for `epochs` epochs of
    mini-batches: the book's `Model.train`.

    key: a `jax.random` key for the shuffling and the dropout masks (required when either is
    used). batch_size: None for the full batch (one update per epoch), else the batch length.
    validation_data: (X_val, y_val), evaluated after every epoch without dropout and without
    the regularization loss, in batches of `batch_size` as the book does. shuffle: reshuffle
    the samples every epoch. precision: the linear heads' tolerance (default `std(y) / 250` of
    the training targets, for the validation data too). grad: "manual" or "autodiff".
    print_every, progress: `progress(FitLogEntry)` for every epoch whose number is a multiple
    of `print_every`, and for the last. initial_state, initial_epoch / resume: continue a run
    (a `Checkpoint` saved with `step=history.step[-1]`). Returns (params, optimizer state,
    FitHistory).
    """
    if resume is not None:
        params, initial_state, step_count = runs.from_checkpoint(
            resume, params, initial_state, initial_epoch
        )
        initial_epoch = _epochs_done(step_count, X, batch_size)
    run = runs.problem(params, X, y, model, "relu", validation_data, precision)
    epochs, initial_epoch = runs.check_epochs(epochs, initial_epoch)
    batch_size = None if batch_size is None else checks.positive_int(batch_size, "batch_size")
    print_every = checks.positive_int(print_every, "print_every")
    runs.check_engine_options(optimizer, progress, shuffle=shuffle)
    needs_key = run.model.has_dropout or (shuffle and batch_size is not None)
    key = _check_key(key, needs_key, run.model)
    step = make_step(run.model, optimizer, grad, whole_batch=batch_size is None)
    opt_state, _ = runs.initial_state(initial_state, optimizer, run.params)
    data, validation = runs.prepare(
        step, run.X, run.y, run.precision, run.validation, run.n_outputs
    )
    epoch = np.arange(initial_epoch + 1, initial_epoch + epochs + 1, dtype=np.int32)
    steps = steps_per_epoch(run.X.shape[0], batch_size)
    last = initial_epoch + epochs

    def report(first: int, rows) -> None:
        for i in range(len(rows[0])):
            number = int(epoch[first + i])
            if number % print_every == 0 or number == last:
                values = [float(r[i]) for r in rows]
                values[4] = runs.exact_learning_rate(optimizer, number * steps - 1, values[4])
                progress(FitLogEntry(number, last, *values))

    program = Program(step, batch_size, shuffle)
    carry, rows = loop.run(
        program,
        program.start(run.params, opt_state),
        (epoch,),
        runs.RunData(data, validation, key, None, np.int32(initial_epoch + 1)),
        report=None if progress is None else report,
    )
    columns = (epoch, epoch * np.int32(steps), *rows)
    params, opt_state = carry[:2]
    diverged_at = int(program.diverged_at(carry))
    logs.warn_if_diverged("fit", diverged_at)
    return params, opt_state, FitHistory(*columns, diverged_at=diverged_at)


def _check_key(key: Any, needed: bool, model: Any) -> jax.Array | None:
    if key is None:
        if needed:
            raise checks.InputError(
                "key: fit needs a jax.random key to shuffle the mini-batches and draw the "
                f"dropout masks (dropout {model.dropout}): pass key=jax.random.key(seed), or "
                "shuffle=False without dropout"
            )
        return None
    return checks.check_key(key)


def _epochs_done(step: int, X: Any, batch_size: Any) -> int:
    """The epochs a checkpoint saved at `step` updates holds (it must be a whole number)."""
    samples = int(np.shape(X)[0]) if np.ndim(X) >= 1 else 0
    if batch_size is not None:
        batch_size = checks.positive_int(batch_size, "batch_size")
    steps = steps_per_epoch(samples, batch_size)
    if step % steps:
        raise checks.InputError(
            f"resume: the checkpoint's step {step} is not a whole number of epochs of "
            f"{steps} steps ({samples} samples, batch_size {batch_size}); save it with "
            "step=history.step[-1]"
        )
    return step // steps


# --- evaluation in batches --------------------------------------------------------------------


def batched_sums(kernel, params, data, model, batch_size) -> base.Sums:
    """The evaluation-mode sums of `data` accumulated over batches of `batch_size` (None: one
    pass); the batches bound the memory and change only round-off."""
    samples = kernel.samples(data)
    if batch_size is None or batch_size >= samples:
        return kernel.evaluate(params, data, model)
    full, rest = divmod(samples, batch_size)
    batches = jnp.arange(full * batch_size).reshape(full, batch_size)
    per_batch = jax.lax.map(lambda i: kernel.evaluate(params, kernel.take(data, i), model), batches)
    loss, correct = jnp.sum(per_batch.loss), jnp.sum(per_batch.correct)
    if rest:
        last = kernel.evaluate(
            params, kernel.take(data, jnp.arange(full * batch_size, samples)), model
        )
        loss, correct = loss + last.loss, correct + last.correct
    return base.Sums(loss, correct)


def evaluate(
    params: Params,
    X: Any,
    y: Any,
    *,
    model: model_lib.Model | None = None,
    batch_size: int | None = None,
    precision: float | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The book's `Model.evaluate`: (loss, accuracy) over (X, y) in evaluation mode, the loss
    without regularization, accumulated batch by batch. precision: the linear heads'
    tolerance, default `std(y) / 250` of the `y` given."""
    run = runs.problem(params, X, y, model, precision=precision)
    batch_size = None if batch_size is None else checks.positive_int(batch_size, "batch_size")
    return _evaluate(
        run.params, run.X, run.y, run.precision, model=run.model, batch_size=batch_size
    )


@partial(jax.jit, static_argnames=("model", "batch_size"))
def _evaluate(params, X, y, precision, *, model, batch_size):
    data = base.Batch(X, y, precision)
    sums = batched_sums(base.REFERENCE["manual"], params, data, model, batch_size)
    return means(sums, X.shape[0], model, data)


def predict(
    params: Params, X: Any, *, model: model_lib.Model | None = None, batch_size: int | None = None
) -> jax.Array:
    """The book's `Model.predict`: the output (samples, n_outputs) in evaluation mode, in
    batches of `batch_size` (None: one pass); `model.head.predictions(output)` turns it into
    classes (softmax), 0/1 (sigmoid) or values (linear heads)."""
    shapes = checks.check_params(params)
    model = model_lib.resolve(model, "relu", len(shapes))
    X = checks.check_X(X, shapes[0][0])
    batch_size = None if batch_size is None else checks.positive_int(batch_size, "batch_size")
    return _predict(params, X, model=model, batch_size=batch_size)


@partial(jax.jit, static_argnames=("model", "batch_size"))
def _predict(params, X, *, model, batch_size):
    if batch_size is None or batch_size >= X.shape[0]:
        return network.output(params, X, model)
    full, rest = divmod(X.shape[0], batch_size)
    batches = X[: full * batch_size].reshape(full, batch_size, X.shape[1])
    outs = jax.lax.map(lambda batch_X: network.output(params, batch_X, model), batches)
    parts = [outs.reshape(-1, outs.shape[-1])]
    if rest:
        parts.append(network.output(params, X[full * batch_size :], model))
    return jnp.concatenate(parts) if len(parts) > 1 else parts[0]
