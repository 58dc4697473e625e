"""The documents' training loop as one compiled call.

`train` runs every epoch inside `lax.scan` under `jit`: an outer scan over logging intervals
records (epoch, loss, accuracy, learning rate) *before* that epoch's update, as the documents'
`if not epoch % 100: print(...)` does, and an inner scan runs the updates in between. The
gradient is the documents' hand-written backward pass (`grad="manual"`) or `jax.grad`
(`grad="autodiff"`); the optimizer is any `optax.GradientTransformation` (the book's own are in
`nnfs_jax.optim`). Inside, activations are held samples-last (`feature_major`), which is about
twice as fast on a CPU; parameters and results keep the documents' layout.

`book_setup` draws the documents' data and initial weights from NumPy's global RNG in the
documents' order, so `train(*book_setup(), optimizer=optim.sgd(1.0), epochs=10001)` replays
document 002.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import checks, data
from nnfs_jax.checkpoint import Checkpoint
from nnfs_jax.feature_major import GRADIENTS, labels_fm, metrics_fm
from nnfs_jax.layers import Params, init_params_book
from nnfs_jax.losses import sparse_labels, validate_classifier
from nnfs_jax.optim import check_state, current_learning_rate


class History(NamedTuple):
    """One row per logged epoch, measured before that epoch's update. Each field: (logs,)."""

    epoch: jax.Array
    loss: jax.Array
    accuracy: jax.Array
    learning_rate: jax.Array


class LogEntry(NamedTuple):
    """What a `progress` callback receives at every logged epoch (host-side Python scalars)."""

    epoch: int
    epochs: int
    loss: float
    accuracy: float
    learning_rate: float


BOOK_DATA = {"spiral": data.spiral_data, "vertical": data.vertical_data}


def book_setup(
    sizes: Sequence[int] = (2, 64, 3),
    *,
    dataset: str = "spiral",
    samples: int = 100,
    classes: int = 3,
    scale: float = 0.01,
    seed: int = 0,
    draw: int = 2,
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Document 002's starting point: `nnfs.init()` (NumPy seeded with `seed`), then
    `spiral_data(samples, classes)` (or `vertical_data` with `dataset="vertical"`), then each
    layer's `scale * randn` weights, in that order.

    draw: which (data, weights) draw from the seeded stream to return. The log printed in
    document 002 comes from the *second* run of its cell after `nnfs.init()` (epoch 0:
    accuracy 0.3433, loss 1.0986184); the first draw gives accuracy 0.36, loss 1.0985943.
    Returns (params, X (samples * classes, 2) float32, y uint8), NumPy-made, float32.
    """
    if isinstance(draw, bool) or not isinstance(draw, int) or draw < 1:
        raise ValueError(f"draw: expected a positive integer, got {draw!r}")
    if dataset not in BOOK_DATA:
        raise ValueError(f"dataset: expected one of {tuple(BOOK_DATA)}, got {dataset!r}")
    data.book_seed(seed)
    for _ in range(draw):
        X, y = BOOK_DATA[dataset](samples, classes)
        params = init_params_book(sizes, scale)
    return params, X, y


def train(
    params: Params,
    X: Any,
    y: Any,
    *,
    optimizer: optax.GradientTransformation,
    epochs: int,
    log_every: int = 100,
    grad: str = "manual",
    activation: str | Sequence[str] = "relu",
    progress: Callable[[LogEntry], None] | None = None,
    initial_state: optax.OptState | None = None,
    initial_epoch: int = 0,
    resume: Checkpoint | None = None,
    return_state: bool = False,
) -> tuple[Params, History] | tuple[Params, optax.OptState, History]:
    """Train the documents' classifier (Dense -> act -> ... -> Dense -> softmax) full-batch.

    params: the pytree from `init_params`/`init_params_book`; X: (samples, n_inputs);
    y: (samples,) class indices or (samples, classes) one-hot.
    optimizer: any optax GradientTransformation, e.g. `nnfs_jax.optim.sgd(1.0)`.
    epochs: how many updates; epochs 0, log_every, 2 * log_every, ... < epochs are logged.
    grad: "manual" (the documents' backward rules) or "autodiff" (`jax.grad`).
    progress: called with a `LogEntry` at every logged epoch, between compiled chunks.
    initial_state, initial_epoch: continue a run: the optimizer state it ended with
      (`return_state=True`) and the epochs it had done; epochs are then numbered from
      `initial_epoch`, so the logged rows line up with the uninterrupted run's.
    resume: a `Checkpoint` from `load_checkpoint` (saved with `step=` the epochs done): its
      params, optimizer state and step; pass `params=None`. The continued run equals the
      uninterrupted one bit for bit (every update is the same computation on the same values).
    return_state: also return the optimizer state, to save a checkpoint or continue later.
    Returns (params after `epochs` updates, History), or (params, optimizer state, History)
    with `return_state=True`.
    """
    if resume is not None:
        if not isinstance(resume, Checkpoint):
            raise TypeError(
                "resume: expected a nnfs_jax.checkpoint.Checkpoint (from load_checkpoint), "
                f"got {type(resume).__name__}"
            )
        if params is not None:
            raise ValueError("params: pass None with resume= (the checkpoint holds them)")
        if initial_state is not None or initial_epoch:
            raise ValueError("resume: give either resume= or initial_state/initial_epoch")
        params, initial_state, initial_epoch = resume.params, resume.opt_state, resume.step
    params, X, y, activations = validate_classifier(params, X, y, activation)
    initial_epoch = checks.non_negative_int(initial_epoch, "initial_epoch")
    epochs = checks.positive_int(epochs, "epochs")
    log_every = checks.positive_int(log_every, "log_every")
    if grad not in GRADIENTS:
        raise ValueError(f"grad: expected one of {tuple(GRADIENTS)}, got {grad!r}")
    checks.check_optimizer(optimizer)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a callable or None, got {type(progress).__name__}")
    if not isinstance(return_state, bool):
        raise TypeError(f"return_state: expected True or False, got {return_state!r}")
    if initial_state is not None:
        initial_state = check_state(initial_state, optimizer, params)
    XT, Y_loss, Y_grad, opt_state = _prepare(params, X, y, optimizer)
    if initial_state is not None:
        opt_state = initial_state
    params, opt_state, history = _run(
        params,
        opt_state,
        XT,
        Y_loss,
        Y_grad,
        optimizer,
        activations,
        grad,
        epochs,
        log_every,
        progress,
        initial_epoch,
    )
    return (params, opt_state, history) if return_state else (params, history)


def targets(y: jax.Array, classes: int, dtype) -> tuple[jax.Array, jax.Array]:
    """The two target arrays of the loop, `(classes, samples)` each: `Y_loss`, the labels as
    given (sparse, one-hot or soft), which the loss sees; `Y_grad`, the one-hot of their argmax,
    which the documents' fused rule `p - y` subtracts."""
    return labels_fm(y, classes, dtype), labels_fm(sparse_labels(y), classes, dtype)


@partial(jax.jit, static_argnames="optimizer")
def _prepare(params, X, y, optimizer):
    """Samples-last inputs and targets, and the optimizer's initial state, in one compiled
    call (op by op, these small steps would each compile on a first run)."""
    Y_loss, Y_grad = targets(y, params[-1]["weights"].shape[1], X.dtype)
    return X.T, Y_loss, Y_grad, optimizer.init(params)


def update(
    params: Any, opt_state: optax.OptState, grads: Any, optimizer: optax.GradientTransformation
) -> tuple[Any, optax.OptState]:
    """One optimizer step: `optimizer.update`, then `optax.apply_updates`."""
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def metrics_row(
    params: Params,
    opt_state: optax.OptState,
    XT: jax.Array,
    Y_loss: jax.Array,
    activations: Sequence[str],
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """What a logged epoch records, measured before its update: (loss, accuracy, learning
    rate), scalars in the loss's dtype. XT: (n_inputs, samples); Y_loss: (classes, samples)."""
    loss, accuracy = metrics_fm(params, XT, Y_loss, activations)
    dtype = loss.dtype
    return loss, accuracy.astype(dtype), current_learning_rate(opt_state).astype(dtype)


def interval_schedule(
    epochs: int, log_every: int, chunks: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The logging intervals as `(starts, lengths, per_chunk)`: int32 arrays padded with empty
    intervals (start `epochs`, length 0) to a multiple of `per_chunk = ceil(intervals /
    chunks)`, so that cut into pieces of `per_chunk` every piece has the same shape and one
    compilation runs them all."""
    starts = np.arange(0, epochs, log_every, dtype=np.int32)
    lengths = np.minimum(log_every, epochs - starts).astype(np.int32)
    per_chunk = -(-len(starts) // chunks)
    pad = -len(starts) % per_chunk
    starts = np.concatenate([starts, np.full(pad, epochs, np.int32)])
    return starts, np.concatenate([lengths, np.zeros(pad, np.int32)]), per_chunk


CHUNKS = 20  # the loop runs as about this many compiled calls; progress is reported between them


def _run(
    params,
    opt_state,
    XT,
    Y_loss,
    Y_grad,
    optimizer,
    activations,
    grad,
    epochs,
    log_every,
    progress,
    initial_epoch=0,
):
    """Drive `_train_chunk` over all logging intervals, a chunk of intervals per call.

    Progress comes from between the calls (no callback inside the compiled loop, so it costs
    nothing there). Every chunk has the same number of intervals, the last padded with empty
    ones (whose rows are dropped), so one compilation serves the whole run.
    """
    starts, lengths, per_chunk = interval_schedule(epochs, log_every, CHUNKS)
    carry, chunks = (params, opt_state), []
    for i in range(0, len(starts), per_chunk):
        carry, rows = _train_chunk(
            carry,
            starts[i : i + per_chunk],
            lengths[i : i + per_chunk],
            XT,
            Y_loss,
            Y_grad,
            optimizer,
            activations,
            grad,
        )
        chunks.append(rows)
        if progress is not None:
            for row in zip(*(np.asarray(r) for r in rows), strict=True):
                if row[0] < epochs:
                    progress(
                        LogEntry(
                            initial_epoch + int(row[0]),
                            initial_epoch + epochs,
                            *(float(v) for v in row[1:]),
                        )
                    )
    n_logs = -(-epochs // log_every)
    epoch, *rest = (jnp.concatenate(parts)[:n_logs] for parts in zip(*chunks, strict=True))
    return *carry, History(epoch + initial_epoch, *rest)


@partial(jax.jit, static_argnames=("optimizer", "activations", "grad"))
def _train_chunk(carry, starts, lengths, XT, Y_loss, Y_grad, optimizer, activations, grad):
    """Logging intervals `starts, lengths: (intervals,)`: for each, the metrics before its
    first update, then `length` updates (a while loop: the count is data, not shape)."""
    gradient = GRADIENTS[grad]

    def epoch_step(_, carry):
        params, opt_state = carry
        return update(params, opt_state, gradient(params, XT, Y_grad, activations), optimizer)

    def logged_interval(carry, interval):
        start, length = interval
        row = (start, *metrics_row(*carry, XT, Y_loss, activations))
        return jax.lax.fori_loop(0, length, epoch_step, carry), row

    return jax.lax.scan(logged_interval, carry, (starts, lengths))
