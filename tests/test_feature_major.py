"""The samples-last twins equal the documents'-layout functions they stand in for."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_network

from nnfs_jax import backprop, feature_major, layers, losses

# (sizes, hidden activations): no hidden layer, each activation on one, both mixed at depth.
CASES = [
    ((2, 3), ()),
    ((2, 8, 3), ("relu",)),
    ((2, 8, 3), ("sigmoid",)),
    ((4, 16, 8, 5), ("relu", "sigmoid")),
]


def case(sizes, seed=0, samples=30):
    """Drawn with NumPy: jax.random would compile its sampler for every shape (seconds)."""
    rng = np.random.default_rng(seed)
    params = random_network(rng, sizes, dtype=jnp.float64)
    X = jnp.asarray(rng.standard_normal((samples, sizes[0])), jnp.float64)
    y = jnp.asarray(rng.integers(0, sizes[-1], samples).astype(np.int32))
    return params, X, y


@pytest.mark.parametrize(
    ("sizes", "activations"), CASES, ids=["-".join(map(str, (*s, *a))) for s, a in CASES]
)
def test_forward_loss_and_gradients_equal_the_book_layout(x64, sizes, activations):
    params, X, y = case(sizes)
    XT, Y = X.T, feature_major.labels_fm(y, sizes[-1], X.dtype)

    # Each function under one jit: eager mode would compile every primitive separately.
    probs = jax.jit(lambda p: feature_major.forward_cache_fm(p, XT, activations)[-1].output)(params)
    np.testing.assert_allclose(probs.T, layers._forward(params, X, activations), rtol=1e-13)
    loss, accuracy = jax.jit(feature_major.metrics_fm, static_argnums=3)(params, XT, Y, activations)
    assert float(loss) == pytest.approx(float(losses._loss(params, X, y, activations)))
    assert float(accuracy) == pytest.approx(float(losses.accuracy(probs.T, y)), abs=0)

    manual = backprop._manual(params, X, y, activations, True)
    for fn in feature_major.GRADIENTS.values():
        fn = jax.jit(fn, static_argnums=3)
        for got, want in zip(
            jax.tree.leaves(fn(params, XT, Y, activations)), jax.tree.leaves(manual), strict=True
        ):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)


def test_dense_backward_fm_is_the_transposed_rule(x64):
    rng = np.random.default_rng(0)
    inputs, weights, dvalues = (
        rng.normal(size=(9, 4)),
        rng.normal(size=(4, 5)),
        rng.normal(size=(9, 5)),
    )
    want = layers.dense_backward(dvalues, inputs, weights)
    dweights, dbiases, dinputs = feature_major.dense_backward_fm(dvalues.T, inputs.T, weights)
    np.testing.assert_allclose(dweights, want.dweights, rtol=1e-13)
    np.testing.assert_allclose(dbiases, want.dbiases, rtol=1e-13)
    np.testing.assert_allclose(dinputs.T, want.dinputs, rtol=1e-13)


def test_one_hot_and_sparse_labels_agree():
    y = jnp.asarray([2, 0, 1, 1])
    np.testing.assert_array_equal(
        feature_major.labels_fm(y, 3, jnp.float32),
        feature_major.labels_fm(jnp.eye(3)[y], 3, jnp.float32),
    )
