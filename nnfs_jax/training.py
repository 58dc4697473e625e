"""`train`: the book's full-batch training loop (chapters 10-17) for any model, compiled.

Every epoch is one step on the whole data set; the history logs epoch 0 and every
`log_every`-th epoch (absolute epoch numbers, so a resumed run logs where the uninterrupted one
does) *before* that epoch's update, as the book's `if not epoch % 100: print(...)` does: the
loss (data + regularization, measured where the book measures them), the accuracy, and the
learning rate the book prints, `optimizer.current_learning_rate`, which the previous update set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import checks, logs, loop, optim, runs
from nnfs_jax import model as model_lib
from nnfs_jax.checkpoint import Checkpoint
from nnfs_jax.layers import Params
from nnfs_jax.logs import History, LogEntry
from nnfs_jax.step import Step, make_step, nan, regularization


@dataclass(frozen=True)
class Program:
    """The loop's unit for `train`: one logging interval (hashable: a static argument).

    carry: (params, opt_state, last learning rate, first loss, diverged at). Divergence (a loss
    that is NaN or infinite, or above `diverge_above` times the first epoch's) is looked for at
    every epoch: with `per_epoch`, as each epoch's step measures its loss (what a vmapped
    sweep needs: a branch there runs for every model); otherwise from the loss after the
    interval, the interval being replayed epoch by epoch only when that loss diverged.
    """

    step: Step
    diverge_above: float | None = None
    per_epoch: bool = False

    first_epoch = 0  # a fresh run's

    def start(self, params, opt_state, last_rate=None):
        """The carry of a run from (params, opt_state); `last_rate`: the rate of the update
        before (a fresh run: the initial rate)."""
        dtype = jax.tree.leaves(params)[0].dtype
        if last_rate is None:
            last_rate = optim.current_learning_rate(opt_state).astype(dtype)
        return params, opt_state, last_rate, np.full((), np.nan, dtype), np.int32(-1)

    def final(self, carry, end, data: runs.RunData):
        """(loss, accuracy, validation loss, validation accuracy) after the run's last update,
        as the row of epoch `end` would read."""
        row = self.row(carry[0], carry[2], end, data)
        return row[0], row[1], row[5], row[6]

    @staticmethod
    def diverged_at(carry):
        return carry[4]

    def row(self, params, last_rate, epoch, data: runs.RunData):
        """What a logged epoch records, before its update: (loss, accuracy, learning rate,
        data loss, regularization loss, validation loss, validation accuracy)."""
        key = runs.epoch_key(data.key, epoch)
        data_loss, accuracy, reg = self.step.measure(params, data.train, key, data.hyper)
        dtype = data_loss.dtype
        if data.validation is None:
            val = (nan(dtype), nan(dtype))
        else:
            val = self.step.measure(params, data.validation, None, data.hyper)[:2]
        return (data_loss + reg, accuracy, last_rate.astype(dtype), data_loss, reg, *val)

    def unit(self, carry, x, data: runs.RunData):
        start, length = x
        end = start + length
        row = self.row(carry[0], carry[2], start, data)
        first_loss = jnp.where(start == data.first_epoch, row[0], carry[3])
        diverged_at = self.mark(carry[4], start, row[0], first_loss)
        before = (*carry[:3], first_loss, diverged_at)
        after = jax.lax.fori_loop(start, end, partial(self.epoch, data, self.per_epoch), before)
        end_loss = self.loss(after[0], end, data)
        if self.per_epoch:
            diverged_at = after[4]
        else:  # replay the interval only if it ends diverged
            diverged_at = jax.lax.cond(
                (diverged_at < 0) & runs.diverged(end_loss, first_loss, self.diverge_above),
                lambda c: jax.lax.fori_loop(start, end, partial(self.epoch, data, True), c)[4],
                lambda c: c[4],
                before,
            )
        diverged_at = self.mark(diverged_at, end, end_loss, first_loss)
        return (*after[:4], diverged_at), row

    def epoch(self, data, track, e, carry):
        params, opt_state, _, first_loss, diverged_at = carry
        key = runs.epoch_key(data.key, e)
        params, opt_state, metrics = self.step(params, opt_state, data.train, key, data.hyper)
        if track:
            loss = metrics.loss / self.step.kernel.samples(data.train)
            loss = loss + regularization(carry[0], self.step.resolve(data.hyper)[0])
            diverged_at = self.mark(diverged_at, e, loss, first_loss)
        return params, opt_state, metrics.learning_rate, first_loss, diverged_at

    def loss(self, params, epoch, data):
        """The loss before `epoch`'s update (data plus regularization), for divergence."""
        key = runs.epoch_key(data.key, epoch)
        data_loss, _, reg = self.step.measure(params, data.train, key, data.hyper)
        return data_loss + reg

    def mark(self, diverged_at, epoch, loss, first_loss):
        bad = (diverged_at < 0) & runs.diverged(loss, first_loss, self.diverge_above)
        return jnp.where(bad, epoch, diverged_at)


def intervals(first: int, epochs: int, log_every: int) -> tuple[np.ndarray, ...]:
    """The units of a run of `epochs` epochs from epoch `first`: (starts, lengths, logged),
    each interval ending before the next logged epoch (the multiples of `log_every`)."""
    end = first + epochs
    logged = np.arange(-(-first // log_every) * log_every, end, log_every)
    starts = np.unique(np.concatenate([[first], logged])).astype(np.int32)
    lengths = np.diff(np.append(starts, end)).astype(np.int32)
    return starts, lengths, np.isin(starts, logged)


def train(
    params: Params | None,
    X: Any,
    y: Any,
    *,
    optimizer: optax.GradientTransformation,
    epochs: int,
    model: model_lib.Model | None = None,
    log_every: int = 100,
    grad: str = "manual",
    key: jax.Array | None = None,
    validation_data: tuple[Any, Any] | None = None,
    activation: str | Sequence[str] = "relu",
    precision: float | None = None,
    progress: Callable[[LogEntry], None] | None = None,
    initial_state: optax.OptState | None = None,
    initial_epoch: int = 0,
    resume: Checkpoint | None = None,
    return_state: bool = False,
) -> tuple[Params, History] | tuple[Params, optax.OptState, History]:
    """Train `model` (default: the documents' classifier with `activation`) full-batch.

    params: from `init_params`/`init_params_book` (None with `resume`); X: (samples, n_inputs);
    y: the head's targets. optimizer: any optax GradientTransformation (`nnfs_jax.optim`'s are
    the book's). epochs: how many updates. grad: "manual" (the documents' rules) or "autodiff".
    key: the dropout key (required when the model has dropout); epoch e's masks come from
    `fold_in(key, e)`. validation_data: (X_val, y_val), measured at every logged epoch.
    precision: the linear heads' accuracy tolerance (default `std(y) / 250`).
    progress: called with a `LogEntry` at every logged epoch, between compiled chunks.
    initial_state, initial_epoch / resume: continue a run (its optimizer state and the epochs it
    had done, or a `Checkpoint` saved with `step=` those epochs); the joined run equals the
    uninterrupted one bit for bit. return_state: also return the optimizer state.
    Returns (params, History), or (params, optimizer state, History).
    """
    if resume is not None:
        params, initial_state, initial_epoch = runs.from_checkpoint(
            resume, params, initial_state, initial_epoch
        )
    run = runs.problem(params, X, y, model, activation, validation_data, precision)
    epochs, initial_epoch = runs.check_epochs(epochs, initial_epoch)
    log_every = checks.positive_int(log_every, "log_every")
    key = model_lib.check_model_key(run.model, key, training=True)
    runs.check_engine_options(optimizer, progress, return_state=return_state)
    step = make_step(run.model, optimizer, grad, whole_batch=True)
    opt_state, last_rate = runs.initial_state(initial_state, optimizer, run.params)
    data, validation = runs.prepare(
        step, run.X, run.y, run.precision, run.validation, run.n_outputs
    )
    starts, lengths, logged = intervals(initial_epoch, epochs, log_every)
    last = initial_epoch + epochs

    def report(first: int, rows) -> None:
        for i in range(len(rows[0])):
            if logged[first + i]:
                epoch = int(starts[first + i])
                values = [float(r[i]) for r in rows]
                values[2] = runs.exact_learning_rate(optimizer, max(epoch - 1, 0), values[2])
                progress(LogEntry(epoch, last, *values))

    program = Program(step)
    carry, rows = loop.run(
        program,
        program.start(run.params, opt_state, last_rate),
        (starts, lengths),
        runs.RunData(data, validation, key, None, np.int32(initial_epoch)),
        report=None if progress is None else report,
    )
    params, opt_state = carry[:2]
    diverged_at = int(program.diverged_at(carry))
    history = History(starts[logged], *(r[logged] for r in rows), diverged_at=diverged_at)
    logs.warn_if_diverged("train", diverged_at)
    return (params, opt_state, history) if return_state else (params, history)
