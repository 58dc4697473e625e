import contextlib
import functools
import itertools
import os
from pathlib import Path

# One persistent compilation cache for the whole run, set before JAX is imported: the two
# pytest-xdist workers and the subprocesses the tests start share it, so a program one test
# compiled is loaded, not compiled again, by the next. It changes compile time only (a cached
# executable is the one compiling the same program gives). `make clean` removes it.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "jax"),
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")

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


# --- float32 round-off in document 002's training run ------------------------------------------
#
# A float32 run differs from CPU to CPU in its last bits: XLA picks other instructions (FMA or
# not, vector widths, the order of a sum's terms, its own exp and log), and SGD at learning rate
# 1.0 on the spiral amplifies the differences, slowly and then, past epoch ~300, chaotically. So
# a float32 loss is compared with the float64 run of the same arrays (the true trajectory: it
# moves by ~1e-12 between CPUs), allowing the spread float32 round-off produces:
#
# Model: every float32 implementation is one realisation of round-off around the float64 run.
# Measured with numpy_reference.spiral_sgd_losses (document 002's draw, seeds 0-99 each): 400
# float32 realisations that sum over samples and hidden units in random orders, with the
# documents' fused gradient or jax.grad's chain through the softmax Jacobian, with NumPy's exp
# and log or with exp and log off by up to 4 ulps; beside them this machine's (AMD EPYC,
# AVX-512) XLA runs and the document's own printed log. max |float32 - float64| over all epochs
# up to E, in units of U = 2**-23 (the float32 spacing in [1, 2), where the loss lies through
# epoch 500). One realisation: spiral_sgd_losses(*book_draw(2), 501, np.float32,
# np.random.default_rng(seed), fused, libm_ulps) for seed in 0-99, fused in (True, False),
# libm_ulps in (0, 4), against document_002_float64_losses():
#
#     through epoch E                   0     100    200    300    400    500
#     fused, NumPy exp/log             1.8    1.8    1.8    3.4   43.7  137.9
#     fused, exp/log +-4 ulps          1.8    1.8    6.4   29.2   45.6  137.9
#     chained                          1.8    1.8    6.4   29.2   59.1  130.3
#     chained, exp/log +-4 ulps        1.8    1.8    6.4   29.2   64.1  159.4
#     XLA, grad="manual"               0.8    2.2    2.2    2.2   32.6   78.9
#     XLA, grad="autodiff"             0.8    1.7    4.0   23.4   51.0   83.4
#     document 002 (printed epochs)    0.2    0.8    0.8    0.8      -      -
#
# Epoch 0 is the loss's own evaluation (300 terms, ~10 roundings each, summed); by epoch 200
# round-off has moved the trajectory by a few U, and a realisation that rounds the other way at
# a sensitive step jumps to the next level (6.4 U, then 29.2 U by epoch 300): the levels recur
# across the variants, so they are the dynamics', not the arithmetic's. The allowance is twice
# the largest value measured (a CPU may take a jump none of these took). The accuracies at
# epochs 100-300 are the same in every realisation (no two logits of a sample are closer than
# 4e-4), at epochs 400 and 500 not. (At epoch 0 two logits are 3e-9 apart: in float32 their
# probabilities are equal and argmax takes the first, as the document's 0.3433 shows.)
ULP = 2.0**-23
FLOAT32_SPREAD = ((0, 4), (100, 5), (200, 13), (300, 60), (500, 320))  # (through epoch, U)
# Document 002's printed losses at epochs 0-300 lie within 0.75 U of the float64 run.
DOCUMENT_002_VS_FLOAT64 = 1 * ULP


def float32_allowance(epoch):
    """|float32 loss - float64 loss| allowed at `epoch` of document 002's run (see above)."""
    for through, units in FLOAT32_SPREAD:
        if epoch <= through:
            return units * ULP
    raise ValueError(f"no float32 allowance measured past epoch {through}")


def book_draw(draw=2):
    """The documents' data and weights from the nnfs package itself: the `draw`-th draw after
    `nnfs.init()` of spiral_data(100, 3) and 0.01 * randn per layer of 2-64-3 (float32, as
    nnfs.init() makes randn), zero biases; document 002's run is the second. Returns (params,
    X, y) as NumPy arrays."""
    from nnfs.datasets import spiral_data

    with nnfs_initialised(0):
        for _ in range(draw):
            X, y = spiral_data(100, 3)
            params = [
                {"weights": 0.01 * np.random.randn(n_in, n_out), "biases": np.zeros((1, n_out))}
                for n_in, n_out in ((2, 64), (64, 3))
            ]
    return params, X, y


@functools.cache
def document_002_float64_losses(epochs=501):
    """The float64 run of document 002's arrays: the loss before each update, epochs 0 to
    `epochs - 1` (the documents' loop in NumPy, numpy_reference.spiral_sgd_losses)."""
    import numpy_reference as ref

    params, X, y = book_draw(2)
    losses = ref.spiral_sgd_losses(params, X, y, epochs, np.float64)
    losses.flags.writeable = False  # shared by every test that asks (cached)
    return losses
