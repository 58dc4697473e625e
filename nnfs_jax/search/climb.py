"""Document 001's "hacker's method": perturb the best parameters, keep what lowers the loss.

The iterations run in one `lax.scan` (the noise drawn a chunk of `CHUNK` at a time from stream
`c` of `threefry.normals`), vmapped over restarts; every iteration's (loss, accuracy) is kept
to list the improvements, 2 numbers per iteration and restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks
from nnfs_jax.kernels.candidates import flatten, layout, n_params, scorer, unflatten
from nnfs_jax.layers import Params
from nnfs_jax.search.results import (
    Improvements,
    SearchResult,
    check_data,
    check_keys,
    positive_float,
    to_device,
    weight_mask,
)
from nnfs_jax.search.threefry import normals, seed_words

CHUNK = 1024  # hill-climbing iterations whose noise is drawn at once


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
    model: Any = None,
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
    `climb_draws(keys[r], ...)` returns restart r's starting point and noise. model: as for
    `random_search`.
    Returns a `SearchResult`: the best restart's params, loss, accuracy and improvements (its
    accepted iterations), and every restart's in `restart_*`.
    """
    iterations = checks.positive_int(iterations, "iterations")
    scale = positive_float(scale, "scale")
    init_scale = positive_float(init_scale, "init_scale", allow_zero=True)
    restarts = checks.positive_int(restarts, "restarts")
    keys = check_keys(key)
    if keys.ndim == 0:
        keys = keys[None] if restarts == 1 else jax.random.split(keys, restarts)
    elif keys.shape != (restarts,):
        raise checks.InputError(
            f"key: expected one key or a batch of restarts={restarts} keys, got shape {keys.shape}"
        )
    if _is_params(sizes_or_params):
        shapes = checks.check_params(sizes_or_params)
        sizes = (shapes[0][0], *(n_out for _, n_out in shapes))
        start = flatten(sizes_or_params).astype(checks.default_float())
    else:
        sizes, start = checks.check_sizes(sizes_or_params), None
    X, y, model, precision = check_data(X, y, sizes, model, activation)
    rows, loss, accuracy, trace = jax.device_get(
        _hill_climb(
            seed_words(keys),
            layout(X, y, sizes, model, precision),
            start,
            scale,
            init_scale,
            sizes,
            model,
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
        to_device(jax.tree.map(lambda a: a[best], restart_params)),
        jnp.asarray(loss[best]),
        jnp.asarray(accuracy[best]),
        runs[best],
        best,
        to_device(restart_params),
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
    sizes = checks.check_sizes(sizes)
    iterations = checks.positive_int(iterations, "iterations")
    dtype, n = checks.default_float(), n_params(sizes)
    chunk, chunks = _chunking(iterations)
    seed, mask = seed_words(check_keys(key)), weight_mask(sizes, dtype)
    parts = [
        jax.device_get(_chunk_draws_jit(seed, c, n, chunk, scale, init_scale, mask))
        for c in range(chunks)
    ]
    noise = np.concatenate([noise for _, noise in parts])[:iterations]
    return to_device(unflatten(parts[0][0], sizes)), to_device(unflatten(noise.T, sizes))


@partial(jax.jit, static_argnames=("sizes", "model", "iterations"))
def _hill_climb(seeds, data, start, scale, init_scale, sizes, model, iterations):
    score = scorer(data, sizes, model)
    n, dtype = n_params(sizes), jax.tree.leaves(data)[0].dtype
    chunk, chunks = _chunking(iterations)
    mask = weight_mask(sizes, dtype)

    def climb(seed):
        def chunk_step(carry, c):
            first, noise = _chunk_draws(seed, c, n, chunk, scale, init_scale, mask)
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
