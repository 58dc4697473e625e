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

from nnfs_jax import data
from nnfs_jax.feature_major import GRADIENTS, labels_fm, metrics_fm
from nnfs_jax.layers import Params, init_params_book
from nnfs_jax.losses import sparse_labels, validate_classifier
from nnfs_jax.optim import current_learning_rate


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


def book_setup(
    sizes: Sequence[int] = (2, 64, 3),
    *,
    samples: int = 100,
    classes: int = 3,
    scale: float = 0.01,
    seed: int = 0,
    draw: int = 2,
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Document 002's starting point: `nnfs.init()` (NumPy seeded with `seed`), then
    `spiral_data(samples, classes)`, then each layer's `scale * randn` weights, in that order.

    draw: which (data, weights) draw from the seeded stream to return. The log printed in
    document 002 comes from the *second* run of its cell after `nnfs.init()` (epoch 0:
    accuracy 0.3433, loss 1.0986184); the first draw gives accuracy 0.36, loss 1.0985943.
    Returns (params, X (samples * classes, 2) float32, y uint8), NumPy-made, float32.
    """
    if isinstance(draw, bool) or not isinstance(draw, int) or draw < 1:
        raise ValueError(f"draw: expected a positive integer, got {draw!r}")
    data.book_seed(seed)
    for _ in range(draw):
        X, y = data.spiral_data(samples, classes)
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
) -> tuple[Params, History]:
    """Train the documents' classifier (Dense -> act -> ... -> Dense -> softmax) full-batch.

    params: the pytree from `init_params`/`init_params_book`; X: (samples, n_inputs);
    y: (samples,) class indices or (samples, classes) one-hot.
    optimizer: any optax GradientTransformation, e.g. `nnfs_jax.optim.sgd(1.0)`.
    epochs: how many updates; epochs 0, log_every, 2 * log_every, ... < epochs are logged.
    grad: "manual" (the documents' backward rules) or "autodiff" (`jax.grad`).
    progress: called with a `LogEntry` at every logged epoch, from inside the compiled loop.
    Returns (params after `epochs` updates, History).
    """
    params, X, y, activations = validate_classifier(params, X, y, activation)
    epochs = _positive_int(epochs, "epochs")
    log_every = _positive_int(log_every, "log_every")
    if grad not in GRADIENTS:
        raise ValueError(f"grad: expected one of {tuple(GRADIENTS)}, got {grad!r}")
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(
            f"optimizer: expected an optax.GradientTransformation, got {type(optimizer).__name__}"
        )
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a callable or None, got {type(progress).__name__}")
    classes = params[-1]["weights"].shape[1]
    XT = X.T
    # The loss sees the labels as given; the fused rule subtracts the one-hot of their argmax.
    Y_loss = labels_fm(y, classes, X.dtype)
    Y_grad = labels_fm(sparse_labels(y), classes, X.dtype)
    opt_state = optimizer.init(params)
    return _train(
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
    )


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


@partial(
    jax.jit,
    static_argnames=("optimizer", "activations", "grad", "epochs", "log_every", "progress"),
)
def _train(
    params, opt_state, XT, Y_loss, Y_grad, optimizer, activations, grad, epochs, log_every, progress
):
    gradient = GRADIENTS[grad]

    def epoch_step(carry, _):
        params, opt_state = carry
        grads = gradient(params, XT, Y_grad, activations)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    def logged_interval(carry, epoch, length):
        loss, accuracy = metrics_fm(carry[0], XT, Y_loss, activations)
        row = (epoch, loss, accuracy, current_learning_rate(carry[1]))
        if progress is not None:
            jax.debug.callback(partial(_report, progress, epochs), *row, ordered=True)
        carry, _ = jax.lax.scan(epoch_step, carry, None, length=length)
        return carry, row

    full, rest = divmod(epochs, log_every)
    starts = jnp.arange(full, dtype=jnp.int32) * log_every
    carry, rows = jax.lax.scan(
        lambda c, e: logged_interval(c, e, log_every), (params, opt_state), starts
    )
    if rest:
        carry, last = logged_interval(carry, jnp.int32(full * log_every), rest)
        rows = jax.tree.map(lambda r, x: jnp.concatenate([r, x[None]]), rows, last)
    rows = (rows[0], *(r.astype(carry[0][0]["weights"].dtype) for r in rows[1:]))
    return carry[0], History(*rows)


def _report(progress, epochs, epoch, loss, accuracy, learning_rate):
    progress(LogEntry(int(epoch), epochs, float(loss), float(accuracy), float(learning_rate)))
