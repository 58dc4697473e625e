"""Document 000's pure random search: fresh draws of every weight and bias, keep the best.

Candidates are scored in blocks, one `lax.scan` step per block: a block is one `(n_params,
block_size)` array of draws (stream `block` of `threefry.normals`), so memory follows
`block_size`, not `iterations`. A block's improvements (each candidate below every loss before
it) are found in order by a loop that runs once per improvement (about ln(iterations) in all)
and copied with their parameters into a buffer of `CAPACITY`; their accuracies are computed
once, at the end. The layout of the data and the trimming of the results happen on the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks
from nnfs_jax.kernels.candidates import LANES, WIDE, layout, n_params, scorer, unflatten
from nnfs_jax.layers import Params
from nnfs_jax.search.results import (
    Improvements,
    SearchResult,
    check_data,
    check_keys,
    positive_float,
    to_device,
)
from nnfs_jax.search.threefry import draws, seed_words

BLOCK_ELEMENTS = 2**20  # the automatic block size: about this many candidate-samples a block
MAX_BLOCK = 4096
CAPACITY = 64  # the improvement buffer (about ln(iterations) are expected)


def default_block_size(n_samples: int, sizes: Sequence[int]) -> int:
    """The automatic `block_size`: about `BLOCK_ELEMENTS` candidate-samples per block, divided
    by the widest layer over `WIDE` units (a block stores those layers' activations), at most
    `MAX_BLOCK`, and a multiple of `LANES` (unaligned blocks ran up to 20% slower)."""
    sizes = checks.check_sizes(sizes)
    padded = -(-n_samples // LANES) * LANES
    stored = max([1, *(width for width in sizes[1:] if width > WIDE)])
    size = min(MAX_BLOCK, BLOCK_ELEMENTS // (padded * stored))
    return max(1, size - size % LANES if size > LANES else size)


def block_candidates(
    key: jax.Array, sizes: Sequence[int], block: int, block_size: int, *, scale: float = 0.05
) -> Params:
    """The candidates `random_search(key, ..., block_size=block_size)` scores in block `block`,
    iterations `block * block_size` to `(block + 1) * block_size - 1`, as params whose leaves
    have a leading `(block_size,)` axis. For replaying a search candidate by candidate."""
    sizes = checks.check_sizes(sizes)
    seed = seed_words(check_keys(key))
    shape = (n_params(sizes), checks.positive_int(block_size, "block_size"))
    rows = _block_draws(seed, block, shape, scale, checks.default_float())
    return to_device(unflatten(np.asarray(rows), sizes))


_block_draws = jax.jit(draws, static_argnames=("shape", "dtype"))


class _Record(NamedTuple):
    """Random search's carry: the improvements so far, in a buffer of `capacity` + 1 slots
    (the last one takes the writes past the end)."""

    count: jax.Array  # () improvements so far, exact even past the buffer's end
    best: jax.Array  # () the lowest loss so far
    iteration: jax.Array  # (capacity + 1,) int32
    table: jax.Array  # (1 + n_params, capacity + 1): each improvement's loss, then its params


def random_search(
    key: jax.Array,
    X: Any,
    y: Any,
    sizes: Sequence[int],
    *,
    iterations: int = 100_000,
    scale: float = 0.05,
    block_size: int | None = None,
    activation: str | Sequence[str] = "relu",
    model: Any = None,
) -> SearchResult:
    """Document 000's search: `iterations` fresh draws of every weight and bias; keep the best.

    Candidate i is `scale * N(0, 1)` in every leaf (the document draws its biases with
    `0.05 * np.random.randn(1, 3)` too). It improves when its loss is strictly below every
    loss before it; NaN never improves. (The document compares with `lower_loss` but assigns
    `lowest_loss`, so its threshold never moves and every candidate below 9999999 would
    "improve"; this implements the intent: the threshold is the lowest loss so far.)

    key: a `jax.random` key; the same key and arguments give the same result.
    X: (samples, n_inputs); y: (samples,) class indices or (samples, classes) one-hot.
    sizes: layer widths, inputs first, e.g. (2, 3, 3). model: any `make_model` network of
    that depth (default: the documents' classifier with `activation`); its loss is scored in
    evaluation mode, data plus regularization.
    block_size: candidates scored at once; memory follows it, not `iterations`. By default
    `default_block_size(samples, sizes)`, at most `iterations`. Candidate i is entry
    `i % block_size` of `block_candidates(key, sizes, i // block_size, block_size)`.
    Returns a `SearchResult` (`restart_*` hold the one run). With no finite loss at all, params
    are zeros, loss inf and accuracy NaN.
    """
    sizes = checks.check_sizes(sizes)
    X, y, model, precision = check_data(X, y, sizes, model, activation)
    iterations = checks.positive_int(iterations, "iterations")
    scale = positive_float(scale, "scale")
    key = check_keys(key)
    if key.ndim:
        raise checks.InputError(f"key: expected a single key, got a batch of shape {key.shape}")
    if block_size is None:
        block_size = min(iterations, default_block_size(X.shape[0], sizes))
    block_size = checks.positive_int(block_size, "block_size")
    data, seed, capacity = layout(X, y, sizes, model, precision), seed_words(key), CAPACITY
    while True:
        record, accuracy = jax.device_get(
            _random_search(seed, data, scale, sizes, model, iterations, block_size, capacity)
        )
        count = int(record.count)
        if count <= capacity:
            break
        capacity = count  # the count is exact even when the buffer overflowed: rerun once
    # On the host from here: slicing device arrays would compile a kernel per slice.
    table = record.table[:, :count]
    improvements = Improvements(record.iteration[:count], table[0], accuracy[:count])
    rows = table[1:, -1] if count else np.zeros(n_params(sizes), table.dtype)  # last is best
    loss = np.asarray(record.best)[None]
    best_accuracy = accuracy[count - 1 : count] if count else np.full(1, np.nan, table.dtype)
    params = unflatten(rows[:, None], sizes)
    return SearchResult(
        to_device(jax.tree.map(lambda a: a[0], params)),
        jnp.asarray(loss[0]),
        jnp.asarray(best_accuracy[0]),
        improvements,
        0,
        to_device(params),
        jnp.asarray(loss),
        jnp.asarray(best_accuracy),
        (improvements,),
    )


@partial(jax.jit, static_argnames=("sizes", "model", "iterations", "block_size", "capacity"))
def _random_search(seed, data, scale, sizes, model, iterations, block_size, capacity):
    score = scorer(data, sizes, model)
    n, dtype = n_params(sizes), data[0].dtype
    columns = jnp.arange(block_size)

    def block_step(record: _Record, block):
        rows = draws(seed, block, (n, block_size), scale, dtype)
        losses = score.loss(rows)
        # Past the last iteration (in a partial final block) and NaN never improve.
        losses = jnp.where(
            (block * block_size + columns < iterations) & ~jnp.isnan(losses), losses, jnp.inf
        )
        return _append_improvements(record, losses, rows, block * block_size), None

    init = _Record(
        jnp.int32(0),
        jnp.array(jnp.inf, dtype),
        jnp.zeros(capacity + 1, jnp.int32),
        jnp.zeros((1 + n, capacity + 1), dtype),
    )
    blocks = jnp.arange(-(-iterations // block_size), dtype=jnp.int32)
    record, _ = jax.lax.scan(block_step, init, blocks)
    # Improvements are rare (about ln(iterations)): score their accuracy once, at the end.
    _, accuracy = score.metrics(record.table[1:, :capacity])
    return record, accuracy


def _append_improvements(record: _Record, losses, rows, first) -> _Record:
    """Add a block's improvements to the buffer in order: the first candidate below the best
    loss, then the first after it below its loss, and so on (a loop that runs once per
    improvement, and once more to find none: improvements are rare after the first blocks)."""
    columns = jnp.arange(losses.shape[0], dtype=jnp.int32)  # int32 indices, even with x64
    capacity = record.iteration.shape[0] - 1

    def improving(state):
        record, last = state
        return (columns > last) & (losses < record.best)

    def add(state):
        record, _ = state
        j = jnp.argmax(improving(state)).astype(jnp.int32)
        slot = jnp.minimum(record.count, capacity)
        entry = jnp.concatenate([losses[j, None], rows[:, j]])[:, None]
        record = _Record(
            record.count + 1,
            losses[j],
            record.iteration.at[slot].set(first + j),
            jax.lax.dynamic_update_slice(record.table, entry, (jnp.int32(0), slot)),
        )
        return record, j

    record, _ = jax.lax.while_loop(
        lambda state: jnp.any(improving(state)), add, (record, jnp.int32(-1))
    )
    return record
