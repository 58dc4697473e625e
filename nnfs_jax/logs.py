"""What the engines log: `train`'s `History` and `LogEntry`, `fit`'s `FitHistory` and
`FitLogEntry`, and the book's printouts of them (`format_log_line`, `format_epoch`). The
histories hold NumPy arrays (the rows come back to the host once, at the end of a run)."""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import jax


class Curves(NamedTuple):
    """Loss and accuracy per epoch, shaped like `train.History` for `plot.learning_curves`."""

    epoch: jax.Array
    loss: jax.Array
    accuracy: jax.Array


class History(NamedTuple):
    """One row per logged epoch, measured before that epoch's update. Each field: (logs,).

    loss: data_loss + regularization_loss. accuracy: the head's accuracy. learning_rate: the
    rate set by the previous update (the initial rate at epoch 0). validation_loss,
    validation_accuracy: on `validation_data` (no dropout, no regularization), NaN without.
    diverged_at: the first epoch whose loss (before its update) was NaN or infinite, or -1.
    """

    epoch: jax.Array
    loss: jax.Array
    accuracy: jax.Array
    learning_rate: jax.Array
    data_loss: jax.Array
    regularization_loss: jax.Array
    validation_loss: jax.Array
    validation_accuracy: jax.Array
    diverged_at: int = -1

    @property
    def validation(self) -> Curves:
        """The validation curves, shaped like the training ones (`{"training": history,
        "validation": history.validation}` plots both)."""
        return Curves(self.epoch, self.validation_loss, self.validation_accuracy)


class LogEntry(NamedTuple):
    """What a `progress` callback receives at every logged epoch (host-side Python scalars).
    learning_rate: the book's float64 value where the optimizer is one of the book's."""

    epoch: int
    epochs: int
    loss: float
    accuracy: float
    learning_rate: float
    data_loss: float
    regularization_loss: float
    validation_loss: float
    validation_accuracy: float


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
    diverged_at: the first epoch whose loss was NaN or infinite, or -1.
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
    diverged_at: int = -1

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


def format_log_line(entry: LogEntry | FitLogEntry) -> str:
    """The book's chapter 14-17 log line, `epoch: 10000, acc: 0.947, loss: 0.217 (data_loss:
    0.157, reg_loss: 0.060), lr: 0.019900507413187767`, the rate as Python prints the float.
    A `LogEntry` (from `train`) prints its epoch; a `FitLogEntry` counts from 0 as the book's
    `for epoch in range(10001)` loops do, so `fit`'s epoch 10,001 prints as 10000."""
    epoch = entry.epoch if isinstance(entry, LogEntry) else entry.epoch - 1
    return (
        f"epoch: {epoch}, acc: {entry.accuracy:.3f}, loss: {entry.loss:.3f} "
        f"(data_loss: {entry.data_loss:.3f}, reg_loss: {entry.regularization_loss:.3f}), "
        f"lr: {entry.learning_rate}"
    )


class DivergenceWarning(RuntimeWarning):
    """A run's loss became NaN or infinite (its `diverged_at` says when)."""


def warn_if_diverged(engine: str, diverged_at: int) -> None:
    """A `DivergenceWarning` when a run diverged: the parameters after that are meaningless."""
    if diverged_at >= 0:
        warnings.warn(
            f"{engine}: the loss became NaN or infinite at epoch {diverged_at}; the "
            "parameters from there on are not meaningful (a lower learning rate may help)",
            DivergenceWarning,
            stacklevel=3,
        )
