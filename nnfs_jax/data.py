"""The documents' data sets, two ways.

- *Book* generators (`spiral_data`, `vertical_data`, `sine_data`) return exactly the NumPy
  arrays that `nnfs.datasets` returns after `nnfs.init()` — float32 features, uint8 labels —
  drawing from NumPy's global RNG (or a `np.random.RandomState` you pass) in the same order.
  They do not patch NumPy the way `nnfs.init()` does; `book_seed(0)` sets the RNG as it does.
- *Key-based* generators (`make_spiral`, `make_vertical`, `make_sine`) draw the same
  distributions from a `jax.random` key, so they can be jitted and vmapped over keys.
- `book_setup` draws the documents' data and initial weights in the documents' order.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks
from nnfs_jax.layers import Params, init_params_book


def book_seed(seed: int = 0) -> None:
    """Seed NumPy's global RNG as `nnfs.init()` does (`np.random.seed(0)` by default): an
    integer in [0, 2**32)."""
    seed = checks.non_negative_int(seed, "seed")
    if seed >= 2**32:
        raise checks.InputError(f"seed: expected an integer in [0, 2**32), got {seed}")
    np.random.seed(seed)


def _check_counts(samples: int, classes: int | None = None) -> None:
    for name, value in (("samples", samples), ("classes", classes)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise checks.InputTypeError(f"{name}: expected a positive integer, got {value!r}")
        if value < 1:
            raise checks.InputError(f"{name}: expected a positive integer, got {value}")


def _randn32(rng, n: int) -> np.ndarray:
    # nnfs.init() makes randn return float32: the draws are rounded before they are scaled.
    return rng.randn(n).astype(np.float32)


def spiral_data(samples: int, classes: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """`nnfs.datasets.spiral_data` after `nnfs.init()`: `classes` interleaved spiral arms.

    Returns X: (samples * classes, 2) float32, y: (samples * classes,) uint8.
    """
    _check_counts(samples, classes)
    rng = np.random if rng is None else rng
    X = np.zeros((samples * classes, 2), np.float32)
    y = np.zeros(samples * classes, np.uint8)
    for class_number in range(classes):
        ix = slice(samples * class_number, samples * (class_number + 1))
        r = np.linspace(0.0, 1, samples)
        t = np.linspace(class_number * 4, (class_number + 1) * 4, samples) + _randn32(
            rng, samples
        ) * np.float32(0.2)
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = class_number
    return X, y


def vertical_data(samples: int, classes: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """`nnfs.datasets.vertical_data` after `nnfs.init()`: one Gaussian blob per class, centred
    at (class / 3, 0.5) with standard deviation 0.1.

    Returns X: (samples * classes, 2) float32, y: (samples * classes,) uint8.
    """
    _check_counts(samples, classes)
    rng = np.random if rng is None else rng
    X = np.zeros((samples * classes, 2), np.float32)
    y = np.zeros(samples * classes, np.uint8)
    for class_number in range(classes):
        ix = slice(samples * class_number, samples * (class_number + 1))
        # float32 arithmetic throughout, as NumPy does with nnfs.init()'s float32 draws.
        x0 = _randn32(rng, samples) * np.float32(0.1) + np.float32(class_number / 3)
        x1 = _randn32(rng, samples) * np.float32(0.1) + np.float32(0.5)
        X[ix] = np.c_[x0, x1]
        y[ix] = class_number
    return X, y


def sine_data(samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """`nnfs.datasets.sine_data`: X = i / samples for i < samples, y = sin(2 pi X).

    Returns X, y: (samples, 1) float64, as nnfs makes them (no RNG involved).
    """
    _check_counts(samples)
    X = np.arange(samples).reshape(-1, 1) / samples
    return X, np.sin(2 * np.pi * X).reshape(-1, 1)


# --- key-based JAX generators -----------------------------------------------------------------


@partial(jax.jit, static_argnames=("samples", "classes", "dtype"))
def _spiral(key, samples, classes, dtype):
    r = jnp.linspace(0.0, 1.0, samples, dtype=dtype)
    start = jnp.arange(classes, dtype=dtype)[:, None] * 4
    t = (
        start
        + jnp.linspace(0.0, 4.0, samples, dtype=dtype)
        + 0.2 * jax.random.normal(key, (classes, samples), dtype)
    )
    X = jnp.stack([r * jnp.sin(t * 2.5), r * jnp.cos(t * 2.5)], axis=-1).reshape(-1, 2)
    return X, jnp.repeat(jnp.arange(classes, dtype=jnp.int32), samples)


def make_spiral(
    key: jax.Array, samples: int, classes: int, dtype=None
) -> tuple[jax.Array, jax.Array]:
    """Spiral data from a key: the distribution of `spiral_data`, jittable and vmappable over
    keys. Returns X: (samples * classes, 2), y: (samples * classes,) int32, class-major."""
    _check_counts(samples, classes)
    key = checks.check_key(key)
    return _spiral(key, samples, classes, jnp.dtype(dtype or checks.default_float()))


@partial(jax.jit, static_argnames=("samples", "classes", "dtype"))
def _vertical(key, samples, classes, dtype):
    centres = jnp.stack(
        [jnp.arange(classes, dtype=dtype) / 3, jnp.full((classes,), 0.5, dtype)], axis=-1
    )
    X = centres[:, None, :] + 0.1 * jax.random.normal(key, (classes, samples, 2), dtype)
    return X.reshape(-1, 2), jnp.repeat(jnp.arange(classes, dtype=jnp.int32), samples)


def make_vertical(
    key: jax.Array, samples: int, classes: int, dtype=None
) -> tuple[jax.Array, jax.Array]:
    """Vertical data from a key: the distribution of `vertical_data`, jittable and vmappable.
    Returns X: (samples * classes, 2), y: (samples * classes,) int32, class-major."""
    _check_counts(samples, classes)
    key = checks.check_key(key)
    return _vertical(key, samples, classes, jnp.dtype(dtype or checks.default_float()))


def make_sine(samples: int = 1000, dtype=None) -> tuple[jax.Array, jax.Array]:
    """`sine_data` as JAX arrays of the default float dtype: X, y: (samples, 1)."""
    _check_counts(samples)
    X = jnp.arange(samples, dtype=dtype or checks.default_float()).reshape(-1, 1) / samples
    return X, jnp.sin(2 * jnp.pi * X)


# --- the documents' starting point ------------------------------------------------------------

BOOK_DATA = {"spiral": spiral_data, "vertical": vertical_data}


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
        raise checks.InputError(f"draw: expected a positive integer, got {draw!r}")
    if dataset not in BOOK_DATA:
        raise checks.InputError(f"dataset: expected one of {tuple(BOOK_DATA)}, got {dataset!r}")
    book_seed(seed)
    for _ in range(draw):
        X, y = BOOK_DATA[dataset](samples, classes)
        params = init_params_book(sizes, scale)
    return params, X, y
