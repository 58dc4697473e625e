"""The documents' two random searches for weights, as compiled JAX on any network and data set.

- `random_search` (document 000): every iteration draws *fresh* parameters `scale * N(0, 1)` for
  every weight and bias and keeps the set with the lowest loss.
- `hill_climb` (document 001, "the hacker's method"): every iteration adds `scale * N(0, 1)` to
  the best parameters so far and keeps the result only if the loss went down.

Both report every improvement as the documents print it ('New set of weights found, iteration:
i loss: l acc: a'; see `Improvements.lines`), in iteration order.

How they are fast on a CPU:

- Random search scores its candidates in blocks, one `lax.scan` step per block. A block is one
  `(n_params, block_size)` array of draws, so memory follows `block_size`, not `iterations`.
  A block's improvements (each candidate below every loss before it) are found in order by a
  loop that runs once per improvement (they are rare: about ln(iterations) in all) and are
  copied with their parameters into a small buffer; their accuracies are computed once, at
  the end.
- With class-index labels (or exactly one-hot ones) a block is scored by one kernel on
  `(candidates, samples)` arrays, samples minor and padded to a multiple of `LANES`, so that XLA
  vectorises it with no scalar tail. Layers at most `WIDE` units wide are unrolled into one
  array per unit, so a small network's whole forward pass, loss and sum over samples fuse into
  one elementwise loop that writes nothing to memory. The loss is the documents', rearranged:

      -log(clip(softmax(z)_y, 1e-7, 1 - 1e-7))
          = clip(log(1 + sum_{c != y} exp(z_c - z_y)), -log(1 - 1e-7), -log(1e-7))

  (C - 1 exponentials and one log per sample instead of C exponentials, C divisions and a log;
  equal to the documents' loss to round-off). Soft labels are scored by `feature_major`'s
  samples-last classifier, vmapped over the block.
- The normal draws come from a Threefry-2x32 hash of (stream, index) counters written out in
  `jnp` (`threefry2x32`, `normals`): XLA's CPU backend runs JAX's own Threefry as a rolled loop,
  several times slower and slower to compile. A block of candidates is one stream.
- Hill climbing runs its iterations in one `lax.scan` (the noise drawn a chunk at a time),
  vmapped over restarts.
- The data layout, the seeds and the trimming of the results are done with NumPy on the host:
  on a CPU each small device operation outside the search would compile a kernel of its own.

Memory: random search holds one block of draws and a buffer of `CAPACITY` improvements with
their parameters (a run with more improvements, which iid draws make vanishingly unlikely, is
rerun with a buffer of the exact size); hill climbing keeps the (loss, accuracy) of every
iteration of every restart to list its improvements, 2 numbers per iteration and restart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks
from nnfs_jax.feature_major import labels_fm, loss_fm, metrics_fm
from nnfs_jax.layers import ACTIVATIONS, Params, _check_sizes
from nnfs_jax.losses import CLIP

WIDE = 8  # layers at most this wide are unrolled into one array per unit
LANES = 16  # the sample axis is padded to a multiple of this (AVX2 and AVX-512 widths)
BLOCK_ELEMENTS = 2**20  # the automatic block size: about this many candidate-samples a block
MAX_BLOCK = 4096
CAPACITY = 64  # random search's improvement buffer (about ln(iterations) are expected)
CHUNK = 1024  # hill-climbing iterations whose noise is drawn at once
ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))  # Threefry-2x32's rotation schedule
SEED_COUNTER = (0x6E6E6673, 0x7365656B)  # "nnfs", "seek": where a key is hashed to a seed


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


# --- validation -------------------------------------------------------------------------------


def _positive_float(value: Any, name: str, allow_zero: bool = False) -> float:
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
        raise ValueError(f"{name}: expected {wanted}, got {value!r}")
    return number


def _check_keys(key: Any) -> jax.Array:
    """A typed key array (any shape) from a typed key or raw `uint32` key data `(..., 2)`."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    arr = key if isinstance(key, jax.Array) else np.asarray(key)
    if arr.dtype != np.uint32 or arr.ndim < 1 or arr.shape[-1] != 2:
        raise TypeError(
            "key: expected a jax.random key (jax.random.key(seed)), got "
            f"{type(key).__name__} of dtype {arr.dtype} and shape {arr.shape}"
        )
    return jax.random.wrap_key_data(arr)


def _check_data(X: Any, y: Any, sizes: tuple[int, ...], activation: Any):
    """(X, y, activations) checked, X in the default float dtype, and exactly one-hot labels
    turned into class indices (which `logit_gaps` scores)."""
    X = checks.check_X(X, sizes[0]).astype(checks.default_float())
    y = checks.check_labels(y, X.shape[0], sizes[-1])
    if y.ndim == 2 and checks.is_concrete(y):
        rows = np.asarray(y)
        if np.all((rows == 0) | (rows == 1)) and np.all(rows.sum(axis=1) == 1):
            y = jnp.asarray(rows.argmax(axis=1), jnp.int32)
    return X, y, checks.check_activations(activation, len(sizes) - 2)


# --- parameters as one flat vector per candidate ----------------------------------------------


def n_params(sizes: Sequence[int]) -> int:
    """How many numbers (weights and biases) a network of these layer widths has."""
    return sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))


def unflatten(rows: jax.Array | np.ndarray, sizes: Sequence[int]) -> Params:
    """`(n_params, *batch)` -> params whose leaves have the batch axes first: weights
    `(*batch, n_inputs, n_neurons)`, biases `(*batch, 1, n_neurons)`; NumPy in, NumPy out.

    Rows are each layer's weights (row-major), then its biases, layer by layer (`flatten`).
    """
    xp = np if isinstance(rows, np.ndarray) else jnp
    params, offset = [], 0
    batch = rows.shape[1:]
    for n_in, n_out in itertools.pairwise(sizes):
        weights = rows[offset : offset + n_in * n_out].reshape(n_in, n_out, *batch)
        biases = rows[offset + n_in * n_out : offset + n_in * n_out + n_out]
        params.append(
            {
                "weights": xp.moveaxis(weights, (0, 1), (-2, -1)),
                "biases": xp.moveaxis(biases.reshape(1, n_out, *batch), (0, 1), (-2, -1)),
            }
        )
        offset += n_in * n_out + n_out
    return params


def flatten(params: Params) -> np.ndarray:
    """Params (leaves with any leading batch axes) -> `(n_params, *batch)`, on the host."""
    parts = []
    for layer in params:
        for leaf in (np.asarray(layer["weights"]), np.asarray(layer["biases"])):
            parts.append(np.moveaxis(leaf, (-2, -1), (0, 1)).reshape(-1, *leaf.shape[:-2]))
    return np.concatenate(parts)


def _to_device(params: Params) -> Params:
    return jax.tree.map(jnp.asarray, params)


def _weight_mask(sizes: Sequence[int], dtype) -> np.ndarray:
    """1 for the weights, 0 for the biases, in `flatten`'s order."""
    return np.concatenate(
        [np.r_[np.ones(n_in * n_out), np.zeros(n_out)] for n_in, n_out in itertools.pairwise(sizes)]
    ).astype(dtype)


# --- random numbers ---------------------------------------------------------------------------


def seed_words(keys: jax.Array) -> np.ndarray:
    """The seed of all of a search's draws, `(*keys.shape, 2)` uint32: each key's data (any
    key type) hashed to two words at a counter of its own, on the host. (Hashed, so that the
    draws do not repeat `jax.random.bits` of the same key.)"""
    data = np.asarray(jax.random.key_data(keys), np.uint32)
    words = data.reshape(-1, data.shape[-1]).T  # (words, keys)
    seed = words[:2]
    for j in range(2, len(words) - 1, 2):  # keys of more than two words: fold the rest in
        seed = np.stack(threefry2x32(seed, words[j], words[j + 1]))
    x0, x1 = (np.full(seed.shape[1], c, np.uint32) for c in SEED_COUNTER)
    return np.stack(threefry2x32(seed, x0, x1), axis=-1).reshape(*data.shape[:-1], 2)


def threefry2x32(seed: jax.Array, x0: jax.Array, x1: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The Threefry-2x32 hash, 20 rounds (Salmon et al. 2011, the hash behind `jax.random`'s
    default keys), of the counters (x0, x1) under the key `seed: (2, ...)`: uint32, NumPy
    arrays (not scalars: they would warn on overflow) or JAX."""
    ks = (seed[0], seed[1], seed[0] ^ seed[1] ^ np.uint32(0x1BD11BDA))
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for i in range(5):
        for r in ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = x0 ^ ((x1 << np.uint32(r)) | (x1 >> np.uint32(32 - r)))
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def normals(seed: jax.Array, stream: jax.Array | int, shape: tuple[int, ...], dtype) -> jax.Array:
    """`N(0, 1)` draws of `shape` from stream `stream` (a uint32): the i-th draw (row-major)
    is made from the Threefry hash of the counters (stream, stream + i), its first word for
    float32, both for float64. Different streams are independent.

    Why this way: with counters (stream, i), XLA hoisted part of the hash out of the scan over
    blocks and the draws became 4x slower; splitting a hash's two words between two draws
    needed a concatenate, 4-7x slower at some sizes, for no gain (the rounds dominate).
    The bits become a uniform on [nextafter(-1, 0), 1) and then `sqrt(2) * erf_inv` of it, as
    `jax.random.normal` turns its bits into normals.
    """
    dtype = np.dtype(dtype)
    stream = jnp.asarray(stream).astype(jnp.uint32)
    counters = stream + _iota_2d(shape[0], math.prod(shape[1:]))
    words = threefry2x32(seed, stream, counters)
    if dtype.itemsize == 8:
        bits = (words[0].astype(jnp.uint64) << np.uint64(32)) | words[1].astype(jnp.uint64)
        mantissa, one = np.uint64(12), np.uint64(0x3FF0000000000000)
    else:
        bits, mantissa, one = words[0], np.uint32(9), np.uint32(0x3F800000)
    # The top bits as the mantissa under a zero exponent: a float in [1, 2).
    floats = jax.lax.bitcast_convert_type((bits >> mantissa) | one, dtype) - 1
    low = np.nextafter(np.asarray(-1, dtype), np.asarray(0, dtype))
    uniform = jnp.maximum(low, floats * (1 - low) + low)
    return (np.sqrt(2).astype(dtype) * jax.lax.erf_inv(uniform)).reshape(shape)


def _iota_2d(rows: int, cols: int) -> jax.Array:
    """(rows, cols) uint32: the row-major index of each entry."""
    return jax.lax.broadcasted_iota(jnp.uint32, (rows, cols), 0) * np.uint32(cols) + (
        jax.lax.broadcasted_iota(jnp.uint32, (rows, cols), 1)
    )


def block_candidates(
    key: jax.Array, sizes: Sequence[int], block: int, block_size: int, *, scale: float = 0.05
) -> Params:
    """The candidates `random_search(key, ..., block_size=block_size)` scores in block `block`,
    iterations `block * block_size` to `(block + 1) * block_size - 1`, as params whose leaves
    have a leading `(block_size,)` axis. For replaying a search candidate by candidate."""
    sizes = _check_sizes(sizes)
    seed = seed_words(_check_keys(key))
    shape = (n_params(sizes), checks.positive_int(block_size, "block_size"))
    rows = _block_draws(seed, block, shape, scale, checks.default_float())
    return _to_device(unflatten(np.asarray(rows), sizes))


def draws(
    seed: jax.Array, stream: jax.Array | int, shape: tuple[int, ...], scale: float, dtype
) -> jax.Array:
    """`scale * normals(...)`: a block of candidates. One function for the search and for its
    replay, so that the product rounds alike (XLA fuses it with the normals' last steps)."""
    return scale * normals(seed, stream, shape, dtype)


_block_draws = jax.jit(draws, static_argnames=("shape", "dtype"))


# --- scoring candidates -----------------------------------------------------------------------


class Samples(NamedTuple):
    """A data set laid out for `logit_gaps`: samples last, padded to a multiple of `LANES`.

    XT: (n_inputs, padded). D: (classes - 1, classes, padded), one-hot(o_k) - one-hot(y) with
    o_k the k-th class other than the label y, so that `sum_c D[k, c] z_c = z_{o_k} - z_y`
    exactly. tie: (classes - 1, padded), o_k > y: argmax breaks a tie towards the lower class.
    valid: (padded,), False on the padding. count: the true number of samples.
    """

    XT: jax.Array
    D: jax.Array
    tie: jax.Array
    valid: jax.Array
    count: int


def samples_fm(X: np.ndarray, y: np.ndarray, classes: int) -> Samples:
    """`X: (samples, n_inputs)` and class indices `y: (samples,)` -> `Samples` (NumPy: built
    once on the host, so that the compiled search has no layout work to compile)."""
    count, dtype = X.shape[0], X.dtype
    padded = -(-count // LANES) * LANES
    XT = np.zeros((X.shape[1], padded), dtype)
    XT[:, :count] = X.T
    y = np.pad(np.asarray(y, np.int64), (0, padded - count))
    others = np.arange(classes - 1)[:, None]
    others = others + (others >= y)  # (classes - 1, padded): each sample's other classes
    eye = np.eye(classes, dtype=dtype)
    D = np.moveaxis(eye[others] - eye[y], -1, 1)
    return Samples(XT, D, others > y, np.arange(padded) < count, count)


def logit_gaps(
    rows: jax.Array, data: Samples, sizes: tuple[int, ...], activations: tuple[str, ...]
) -> list[jax.Array] | jax.Array:
    """`z_{o_k} - z_y` for every candidate in `rows: (n_params, candidates)` and sample, for
    each class o_k other than the label y: a list of `(candidates, padded)` arrays, or one
    `(classes - 1, candidates, padded)` array for more than `WIDE` classes.

    A layer at most `WIDE` wide is unrolled into one array per unit, each of its weights a
    `(candidates, 1)` column, so that a small network's forward pass and the loss's sum over
    samples fuse into one elementwise loop that writes nothing to memory. Wider layers are kept
    as `(candidates, units, padded)` arrays (a matmul where all candidates share the input).
    """
    h = list(data.XT[:, None, :]) if sizes[0] <= WIDE else data.XT[None]  # shared by all
    offset = 0
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        w = rows[offset : offset + n_in * n_out].reshape(n_in, n_out, -1)  # (n_in, n_out, cands)
        b = rows[offset + n_in * n_out : offset + n_in * n_out + n_out]  # (n_out, candidates)
        h = _dense_units(h, w, b, n_out <= WIDE)
        if i < len(activations):
            act = ACTIVATIONS[activations[i]].forward
            h = [act(u) for u in h] if isinstance(h, list) else act(h)
        offset += n_in * n_out + n_out
    if isinstance(h, list):
        return [sum(Dk[c][None, :] * z for c, z in enumerate(h)) for Dk in data.D]
    return jnp.einsum("kcs,bcs->kbs", data.D, h)


def _dense_units(h, w, b, unrolled: bool):
    """One dense layer for all candidates. h: a list of `n_in` arrays `(candidates or 1,
    padded)`, or `(candidates or 1, n_in, padded)`; w: (n_in, n_out, candidates); b: (n_out,
    candidates). Returns a list of `n_out` arrays when `unrolled`, else one stacked array."""
    if isinstance(h, list):
        if unrolled:
            return [
                b[k][:, None] + sum(w[j, k][:, None] * u for j, u in enumerate(h))
                for k in range(len(b))
            ]
        return b.T[:, :, None] + sum(w[j].T[:, :, None] * u[:, None, :] for j, u in enumerate(h))
    if h.shape[0] == 1:  # the shared input: one matmul for the whole block
        out = jnp.einsum("jkb,js->bks", w, h[0]) + b.T[:, :, None]
        return [out[:, k] for k in range(len(b))] if unrolled else out
    if unrolled:
        return [b[k][:, None] + jnp.sum(w[:, k].T[:, :, None] * h, axis=1) for k in range(len(b))]
    return jnp.einsum("jkb,bjs->bks", w, h) + b.T[:, :, None]


def _loss_bounds(dtype) -> tuple[float, float]:
    # -log of the documents' clip bounds [1e-7, 1 - 1e-7], rounded as NumPy rounds them.
    return float(-np.log(np.asarray(1 - CLIP, dtype))), float(-np.log(np.asarray(CLIP, dtype)))


def gaps_loss(gaps: list[jax.Array] | jax.Array, data: Samples) -> jax.Array:
    """Mean clipped cross-entropy from `logit_gaps`: (candidates,)."""
    lo, hi = _loss_bounds(data.XT.dtype)
    if isinstance(gaps, list):
        total = sum(jnp.exp(d) for d in gaps) if gaps else 0  # one class: p = 1, then clipped
    else:
        total = jnp.sum(jnp.exp(gaps), axis=0)
    sample_losses = jnp.clip(jnp.log(1 + total), lo, hi)
    return jnp.sum(jnp.where(data.valid, sample_losses, 0), axis=-1) / data.count


def gaps_accuracy(gaps: list[jax.Array] | jax.Array, data: Samples) -> jax.Array:
    """Accuracy from `logit_gaps`: a sample is right where z_y is the first largest logit
    (argmax breaks ties towards the lower class)."""
    correct = data.valid
    for d, tie in zip(gaps, data.tie, strict=True):
        correct = correct & ((d < 0) | ((d == 0) & tie))
    return jnp.sum(correct, axis=-1).astype(data.XT.dtype) / data.count


class Scorer(NamedTuple):
    """`loss(rows)` and `metrics(rows) -> (loss, accuracy)` of candidates `(n_params, k)`."""

    loss: Callable[[jax.Array], jax.Array]
    metrics: Callable[[jax.Array], tuple[jax.Array, jax.Array]]


def layout(X: jax.Array, y: jax.Array, sizes: tuple[int, ...]) -> Samples | tuple:
    """The data set as the compiled search wants it, built on the host: `Samples` for class
    indices, else (soft labels) `(XT (n_inputs, samples), Y (classes, samples))`."""
    if y.ndim == 1:
        return samples_fm(np.asarray(X), np.asarray(y), sizes[-1])
    return np.asarray(X).T, np.asarray(labels_fm(y, sizes[-1], X.dtype))


def scorer(data: Samples | tuple, sizes: tuple[int, ...], activations: tuple[str, ...]):
    """`logit_gaps` on `Samples`, else `feature_major`'s classifier vmapped over the
    candidates (which share X, so that the first layer of a whole block is one matmul)."""
    if isinstance(data, Samples):

        def metrics(rows):
            gaps = logit_gaps(rows, data, sizes, activations)
            return gaps_loss(gaps, data), gaps_accuracy(gaps, data)

        return Scorer(
            lambda rows: gaps_loss(logit_gaps(rows, data, sizes, activations), data), metrics
        )
    XT, Y = data
    return Scorer(
        lambda rows: jax.vmap(lambda p: loss_fm(p, XT, Y, activations))(unflatten(rows, sizes)),
        lambda rows: jax.vmap(lambda p: metrics_fm(p, XT, Y, activations))(unflatten(rows, sizes)),
    )


def default_block_size(n_samples: int, sizes: Sequence[int]) -> int:
    """The automatic `block_size`: about `BLOCK_ELEMENTS` candidate-samples per block, divided
    by the widest layer over `WIDE` units (a block stores those layers' activations), at most
    `MAX_BLOCK`, and a multiple of `LANES` (unaligned blocks ran up to 20% slower)."""
    sizes = _check_sizes(sizes)
    padded = -(-n_samples // LANES) * LANES
    stored = max([1, *(width for width in sizes[1:] if width > WIDE)])
    size = min(MAX_BLOCK, BLOCK_ELEMENTS // (padded * stored))
    return max(1, size - size % LANES if size > LANES else size)


# --- random search ----------------------------------------------------------------------------


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
) -> SearchResult:
    """Document 000's search: `iterations` fresh draws of every weight and bias; keep the best.

    Candidate i is `scale * N(0, 1)` in every leaf (the document draws its biases with
    `0.05 * np.random.randn(1, 3)` too). It improves when its loss is strictly below every
    loss before it; NaN never improves. (The document compares with `lower_loss` but assigns
    `lowest_loss`, so its threshold never moves and every candidate below 9999999 would
    "improve"; this implements the intent: the threshold is the lowest loss so far.)

    key: a `jax.random` key; the same key and arguments give the same result.
    X: (samples, n_inputs); y: (samples,) class indices or (samples, classes) one-hot.
    sizes: layer widths, inputs first, e.g. (2, 3, 3).
    block_size: candidates scored at once; memory follows it, not `iterations`. By default
    `default_block_size(samples, sizes)`, at most `iterations`. Candidate i is entry
    `i % block_size` of `block_candidates(key, sizes, i // block_size, block_size)`.
    Returns a `SearchResult` (`restart_*` hold the one run). With no finite loss at all, params
    are zeros, loss inf and accuracy NaN.
    """
    sizes = _check_sizes(sizes)
    X, y, activations = _check_data(X, y, sizes, activation)
    iterations = checks.positive_int(iterations, "iterations")
    scale = _positive_float(scale, "scale")
    key = _check_keys(key)
    if key.ndim:
        raise ValueError(f"key: expected a single key, got a batch of shape {key.shape}")
    if block_size is None:
        block_size = min(iterations, default_block_size(X.shape[0], sizes))
    block_size = checks.positive_int(block_size, "block_size")
    data, seed, capacity = layout(X, y, sizes), seed_words(key), CAPACITY
    while True:
        record, accuracy = jax.device_get(
            _random_search(seed, data, scale, sizes, activations, iterations, block_size, capacity)
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
        _to_device(jax.tree.map(lambda a: a[0], params)),
        jnp.asarray(loss[0]),
        jnp.asarray(best_accuracy[0]),
        improvements,
        0,
        _to_device(params),
        jnp.asarray(loss),
        jnp.asarray(best_accuracy),
        (improvements,),
    )


@partial(jax.jit, static_argnames=("sizes", "activations", "iterations", "block_size", "capacity"))
def _random_search(seed, data, scale, sizes, activations, iterations, block_size, capacity):
    score = scorer(data, sizes, activations)
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


# --- hill climbing ----------------------------------------------------------------------------


def hill_climb(
    key: jax.Array,
    X: Any,
    y: Any,
    sizes_or_params: Sequence[int] | Params,
    *,
    iterations: int = 10_000,
    scale: float = 0.05,
    restarts: int = 1,
    init_scale: float = 0.01,
    activation: str | Sequence[str] = "relu",
) -> SearchResult:
    """Document 001's "hacker's method": perturb the best parameters; keep what lowers the loss.

    Every iteration adds `scale * N(0, 1)` to every weight and bias of the best parameters so
    far and keeps the result only if its loss is strictly below the best loss; otherwise it
    reverts. The starting point is never scored (the document starts from `lowest_loss =
    9999999`), so the first iteration is always kept unless its loss is NaN.

    key: one key, or a batch of `restarts` keys. Restart r runs with `keys[r]` - the batch, or
    `jax.random.split(key, restarts)` for one key and restarts > 1, or the key itself for
    restarts == 1 - so a restart equals a one-restart run with its key.
    sizes_or_params: layer widths, and each restart starts from its own draw of
    `init_params`' distribution (weights `init_scale * N(0, 1)`, zero biases: the document's
    `Dense(2, 3)` uses 0.01); or a params pytree that every restart starts from.
    `climb_draws(keys[r], ...)` returns restart r's starting point and noise.
    Returns a `SearchResult`: the best restart's params, loss, accuracy and improvements (its
    accepted iterations), and every restart's in `restart_*`.
    """
    iterations = checks.positive_int(iterations, "iterations")
    scale = _positive_float(scale, "scale")
    init_scale = _positive_float(init_scale, "init_scale", allow_zero=True)
    restarts = checks.positive_int(restarts, "restarts")
    keys = _check_keys(key)
    if keys.ndim == 0:
        keys = keys[None] if restarts == 1 else jax.random.split(keys, restarts)
    elif keys.shape != (restarts,):
        raise ValueError(
            f"key: expected one key or a batch of restarts={restarts} keys, got shape {keys.shape}"
        )
    if _is_params(sizes_or_params):
        shapes = checks.check_params(sizes_or_params)
        sizes = (shapes[0][0], *(n_out for _, n_out in shapes))
        start = flatten(sizes_or_params).astype(checks.default_float())
    else:
        sizes, start = _check_sizes(sizes_or_params), None
    X, y, activations = _check_data(X, y, sizes, activation)
    rows, loss, accuracy, trace = jax.device_get(
        _hill_climb(
            seed_words(keys),
            layout(X, y, sizes),
            start,
            scale,
            init_scale,
            sizes,
            activations,
            iterations,
        )
    )
    # trace: (restarts, iterations, 2), the (loss, accuracy) of kept iterations, NaN elsewhere.
    runs = tuple(
        Improvements(np.flatnonzero(kept), t[kept, 0], t[kept, 1])
        for t, kept in ((t, ~np.isnan(t[:, 0])) for t in trace)
    )
    best = int(np.argmin(np.where(np.isnan(loss), np.inf, loss)))
    restart_params = unflatten(rows.T, sizes)
    return SearchResult(
        _to_device(jax.tree.map(lambda a: a[best], restart_params)),
        jnp.asarray(loss[best]),
        jnp.asarray(accuracy[best]),
        runs[best],
        best,
        _to_device(restart_params),
        jnp.asarray(loss),
        jnp.asarray(accuracy),
        runs,
    )


def _is_params(x: Any) -> bool:
    return isinstance(x, Sequence) and len(x) > 0 and isinstance(x[0], dict)


def _chunking(iterations: int) -> tuple[int, int]:
    chunk = min(CHUNK, iterations)
    return chunk, -(-iterations // chunk)


def _chunk_draws(
    seed: jax.Array, c, n: int, chunk: int, scale, init_scale, weight_mask: np.ndarray
) -> tuple[jax.Array, jax.Array]:
    """Chunk c of a climb is stream c, `(chunk + 1, n_params)` normals: row 0 (used by chunk 0
    only) gives the starting point, row 1 + t the noise of iteration c * chunk + t. (One call
    site for both: one kernel to compile.) Returns (start (n_params,), noise (chunk, n))."""
    z = normals(seed, c, (chunk + 1, n), weight_mask.dtype)
    return init_scale * z[0] * weight_mask, scale * z[1:]


_chunk_draws_jit = jax.jit(_chunk_draws, static_argnames=("n", "chunk"))


def climb_draws(
    key: jax.Array,
    sizes: Sequence[int],
    iterations: int,
    *,
    scale: float = 0.05,
    init_scale: float = 0.01,
) -> tuple[Params, Params]:
    """The random numbers of a one-restart `hill_climb` with `key`: (its starting params when
    given `sizes`, the noise added at each iteration as params whose leaves have a leading
    `(iterations,)` axis). For replaying a run step by step."""
    sizes = _check_sizes(sizes)
    iterations = checks.positive_int(iterations, "iterations")
    dtype, n = checks.default_float(), n_params(sizes)
    chunk, chunks = _chunking(iterations)
    seed, mask = seed_words(_check_keys(key)), _weight_mask(sizes, dtype)
    parts = [
        jax.device_get(_chunk_draws_jit(seed, c, n, chunk, scale, init_scale, mask))
        for c in range(chunks)
    ]
    noise = np.concatenate([noise for _, noise in parts])[:iterations]
    return _to_device(unflatten(parts[0][0], sizes)), _to_device(unflatten(noise.T, sizes))


@partial(jax.jit, static_argnames=("sizes", "activations", "iterations"))
def _hill_climb(seeds, data, start, scale, init_scale, sizes, activations, iterations):
    score = scorer(data, sizes, activations)
    n, dtype = n_params(sizes), data[0].dtype
    chunk, chunks = _chunking(iterations)
    weight_mask = _weight_mask(sizes, dtype)

    def climb(seed):
        def chunk_step(carry, c):
            first, noise = _chunk_draws(seed, c, n, chunk, scale, init_scale, weight_mask)
            if start is None:  # the starting point, drawn with the first chunk
                carry = (jnp.where(c == 0, first, carry[0]), *carry[1:])

            def step(carry, xs):
                rows, best_loss, best_accuracy = carry
                noise, t = xs
                candidate = rows + noise
                loss, accuracy = (m[0] for m in score.metrics(candidate[:, None]))
                accept = (loss < best_loss) & (c * chunk + t < iterations)
                carry = (
                    jnp.where(accept, candidate, rows),
                    jnp.where(accept, loss, best_loss),
                    jnp.where(accept, accuracy, best_accuracy),
                )
                # The trace keeps (loss, accuracy) of the kept iterations, NaN elsewhere: a
                # NaN loss is never kept.
                return carry, jnp.where(accept, jnp.stack([loss, accuracy]), jnp.nan)

            return jax.lax.scan(step, carry, (noise, jnp.arange(chunk)))

        rows = jnp.zeros(n, dtype) if start is None else start
        init = (rows, jnp.array(jnp.inf, dtype), jnp.array(jnp.nan, dtype))
        (rows, loss, accuracy), trace = jax.lax.scan(chunk_step, init, jnp.arange(chunks))
        return rows, loss, accuracy, trace.reshape(-1, 2)[:iterations]

    return jax.vmap(climb)(seeds)
