"""The searches' random numbers: normal draws from a Threefry-2x32 hash of counters, in `jnp`.

XLA's CPU backend runs JAX's own Threefry as a rolled loop, several times slower and slower to
compile; written out here, a block of candidates is one stream of counters, hashed elementwise.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))  # Threefry-2x32's rotation schedule
SEED_COUNTER = (0x6E6E6673, 0x7365656B)  # "nnfs", "seek": where a key is hashed to a seed


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


def draws(
    seed: jax.Array, stream: jax.Array | int, shape: tuple[int, ...], scale: float, dtype
) -> jax.Array:
    """`scale * normals(...)`: a block of candidates. One function for the search and for its
    replay, so that the product rounds alike (XLA fuses it with the normals' last steps)."""
    return scale * normals(seed, stream, shape, dtype)
