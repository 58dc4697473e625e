import contextlib
import itertools

import jax
import numpy as np
import pytest


@pytest.fixture
def x64():
    """Run the test with float64 enabled (and restore the default afterwards)."""
    with jax.enable_x64(True):
        yield


@contextlib.contextmanager
def nnfs_initialised(seed=0):
    """`nnfs.init()` for the duration of the block, then NumPy as it was.

    nnfs.init() patches np.dot, np.zeros, np.eye and np.random.randn process-wide; the tests
    that compare against the nnfs package's own output undo that so other tests see plain NumPy.
    """
    import nnfs

    saved = (np.dot, np.zeros, np.eye, np.random.randn)
    try:
        nnfs.init(random_seed=seed)
        yield
    finally:
        np.dot, np.zeros, np.eye, np.random.randn = saved


def random_network(seed, sizes, scale=0.5, dtype=None):
    """A network with random weights *and* biases (so no pre-activation sits at a kink):
    weights scale * N(0, 1), biases 0.1 * N(0, 1), in `dtype` (default: JAX's default float).

    seed: an int or a np.random.Generator (then drawn from it, advancing it). Drawn with NumPy,
    not jax.random: on a CPU jax.random compiles its sampler anew for every shape, seconds per
    network, which was most of the time of the gradient tests."""
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    dtype = jnp.zeros((), dtype).dtype  # float32, or float64 under x64
    return [
        {
            "weights": jnp.asarray(scale * rng.standard_normal((n_in, n_out)), dtype),
            "biases": jnp.asarray(0.1 * rng.standard_normal((1, n_out)), dtype),
        }
        for n_in, n_out in itertools.pairwise(sizes)
    ]
