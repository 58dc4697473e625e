"""nnfs_jax.losses against the documents' numbers and the NumPy reference."""

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import pytest

import nnfs_jax as nj
from nnfs_jax import losses

SOFTMAX_OUTPUTS = [[0.7, 0.1, 0.2], [0.1, 0.5, 0.4], [0.02, 0.9, 0.08]]


@pytest.mark.parametrize("one_hot", [False, True], ids=["sparse", "one-hot"])
def test_cross_entropy_example_004(x64, one_hot):
    y = jnp.asarray([0, 1, 1])
    if one_hot:
        y = jnp.eye(3)[y]
    sample_losses = losses.categorical_crossentropy(jnp.asarray(SOFTMAX_OUTPUTS), y)
    np.testing.assert_allclose(sample_losses, [0.35667494, 0.69314718, 0.10536052], rtol=1e-7)
    assert float(jnp.mean(sample_losses)) == pytest.approx(0.38506088005216804, rel=1e-14)


def test_one_hot_by_hand_004(x64):
    # L = -log(0.7) = 0.3566... for label 0 of prediction [0.7, 0.1, 0.2]
    loss = losses.categorical_crossentropy(jnp.asarray([[0.7, 0.1, 0.2]]), jnp.asarray([[1, 0, 0]]))
    assert float(loss[0]) == pytest.approx(0.3566749439387324, rel=1e-14)


def test_clipping_bounds_the_loss(x64):
    y_pred = jnp.asarray([[0.0, 1.0], [1.0, 0.0]])
    sample_losses = losses.categorical_crossentropy(y_pred, jnp.asarray([0, 0]))
    assert float(sample_losses[0]) == pytest.approx(-np.log(1e-7), rel=1e-12)
    assert float(sample_losses[1]) == pytest.approx(-np.log(1 - 1e-7), rel=1e-9)


def test_spiral_forward_and_loss_004():
    # 004, In [118]: nnfs.init(); spiral_data(100, 3); Dense(2, 3) -> ReLU -> Dense(3, 3)
    # -> softmax with 0.1 * randn weights: printed rows and loss 1.098445 (float32).
    nj.book_seed(0)
    X, y = nj.spiral_data(100, 3)
    params = nj.init_params_book((2, 3, 3), scale=0.1)
    probs = nj.forward(params, X)
    assert probs.dtype == jnp.float32
    np.testing.assert_allclose(
        probs[:5],
        [
            [0.33333334, 0.33333334, 0.33333334],
            [0.33331734, 0.3333183, 0.33336434],
            [0.3332888, 0.33329153, 0.33341965],
            [0.33325943, 0.33326396, 0.33347666],
            [0.33323312, 0.33323926, 0.33352762],
        ],
        rtol=1e-7,
    )
    # NumPy's pairwise float32 mean prints 1.098445; XLA sums in another order (1 ulp away).
    assert float(nj.loss(params, X, y)) == pytest.approx(1.098445, rel=2e-7)


def random_case(seed, samples, classes, dtype):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(samples, classes)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, classes, size=samples)
    return probs.astype(dtype), y


@pytest.mark.parametrize(("samples", "classes"), [(1, 2), (5, 3), (64, 10), (300, 3)])
@pytest.mark.parametrize("one_hot", [False, True], ids=["sparse", "one-hot"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_cross_entropy_forward_backward_against_reference(samples, classes, one_hot, dtype):
    tol = {"rtol": 1e-10} if dtype == np.float64 else {"rtol": 1e-5}
    with jax.enable_x64(dtype == np.float64):
        probs, y = random_case(samples * classes, samples, classes, dtype)
        labels = np.eye(classes)[y] if one_hot else y
        reference = ref.Loss_CategoricalCrossentropy()
        reference.backward(probs.astype(np.float64), labels)
        fused = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
        fused.backward(probs.astype(np.float64), labels)

        sample_losses = jax.jit(losses.categorical_crossentropy)(probs, jnp.asarray(labels))
        np.testing.assert_allclose(
            sample_losses, reference.forward(probs.astype(np.float64), labels), **tol
        )
        np.testing.assert_allclose(
            losses.categorical_crossentropy_backward(probs, jnp.asarray(labels)),
            reference.dinputs,
            **tol,
        )
        np.testing.assert_allclose(
            losses.softmax_crossentropy_backward(probs, jnp.asarray(labels)),
            fused.dinputs,
            **tol,
            atol=1e-12 if dtype == np.float64 else 1e-8,
        )


def test_fused_backward_equals_chain_through_softmax(x64):
    # The documents' "efficiency trick": (p - y) / n equals CCE backward through the Jacobian.
    z = jax.random.normal(jax.random.key(0), (50, 4), jnp.float64)
    y = jax.random.randint(jax.random.key(1), (50,), 0, 4)
    p = nj.layers.softmax(z)
    chained = nj.layers.softmax_backward(losses.categorical_crossentropy_backward(p, y), p)
    np.testing.assert_allclose(losses.softmax_crossentropy_backward(p, y), chained, atol=1e-16)


def test_accuracy_sparse_and_one_hot():
    y_pred = jnp.asarray([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4], [0.02, 0.9, 0.08]])
    assert float(losses.accuracy(y_pred, jnp.asarray([0, 1, 1]))) == pytest.approx(2 / 3)
    assert float(losses.accuracy(y_pred, jnp.eye(3)[jnp.asarray([0, 0, 1])])) == 1.0


def test_loss_is_jittable_and_matches_the_reference(x64):
    params = nj.init_params(jax.random.key(0), (2, 16, 3), scale=0.5)
    X, y = nj.make_spiral(jax.random.key(1), 30, 3)
    expected, _, _ = ref.network_loss_and_grads(
        [jax.tree.map(np.asarray, p) for p in params], np.asarray(X), np.asarray(y)
    )
    assert float(nj.loss(params, X, y)) == pytest.approx(expected, rel=1e-12)
    assert float(jax.jit(nj.loss)(params, X, y)) == pytest.approx(expected, rel=1e-12)
