import contextlib

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


def random_network(key, sizes, scale=0.5, dtype=None):
    """A network with random weights *and* biases (so no pre-activation sits at a kink)."""
    import nnfs_jax as nj

    k_init, k_bias = jax.random.split(key)
    params = nj.init_params(k_init, sizes, scale=scale, dtype=dtype)
    keys = jax.random.split(k_bias, len(params))
    return [
        {
            "weights": p["weights"],
            "biases": 0.1 * jax.random.normal(k, p["biases"].shape, dtype or p["weights"].dtype),
        }
        for p, k in zip(params, keys, strict=True)
    ]
