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


# --- binary cross-entropy, MSE, MAE (chapters 16-17) --------------------------------------------

LOSS_SHAPES = [(1, 1), (5, 3), (64, 1), (300, 4)]
REFERENCE_LOSSES = {
    "bce": (losses.binary_crossentropy, losses.binary_crossentropy_backward, "BinaryCrossentropy"),
    "mse": (losses.mean_squared_error, losses.mean_squared_error_backward, "MeanSquaredError"),
}


def binary_case(seed, samples, outputs, dtype):
    rng = np.random.default_rng(seed)
    probs = 1 / (1 + np.exp(-3 * rng.normal(size=(samples, outputs))))
    probs[0, 0] = 1.0  # clipped: the book's forward and backward both clip
    y = rng.integers(0, 2, size=(samples, outputs)).astype(float)
    return probs.astype(dtype), y.astype(dtype)


def regression_case(seed, samples, outputs, dtype):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, outputs)).astype(dtype), rng.normal(
        size=(samples, outputs)
    ).astype(dtype)


def loss_tolerance(dtype):
    return {"rtol": 1e-10, "atol": 1e-14} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-7}


@pytest.mark.parametrize(("samples", "outputs"), LOSS_SHAPES)
@pytest.mark.parametrize("name", ["bce", "mse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_bce_and_mse_forward_backward_against_reference(samples, outputs, name, dtype):
    forward, backward, class_name = REFERENCE_LOSSES[name]
    make = binary_case if name == "bce" else regression_case
    with jax.enable_x64(dtype == np.float64):
        y_pred, y_true = make(samples * 10 + outputs, samples, outputs, dtype)
        # The reference runs in the test's dtype: in float32 the clip bound 1 - 1e-7 rounds to
        # 1 - 2^-23, so log(1 - clipped) at p = 1 is log(1.19e-7), in NumPy as in JAX.
        reference = getattr(ref, f"Loss_{class_name}")()
        expected = reference.forward(y_pred, y_true)
        reference.backward(y_pred, y_true)
        sample_losses = forward(jnp.asarray(y_pred), jnp.asarray(y_true))
        dinputs = backward(jnp.asarray(y_pred), jnp.asarray(y_true))
        assert sample_losses.shape == (samples,) and sample_losses.dtype == dtype
        assert dinputs.dtype == dtype
        np.testing.assert_allclose(sample_losses, expected, **loss_tolerance(dtype))
        np.testing.assert_allclose(dinputs, reference.dinputs, **loss_tolerance(dtype))


@pytest.mark.parametrize("name", ["bce", "mse", "mae"])
def test_backward_is_the_gradient_of_the_mean_loss(x64, name):
    """Away from the clip (BCE) and from ties (MAE) each backward rule is jax.grad of the mean
    sample loss with respect to the predictions."""
    forward, backward = {
        "bce": (losses.binary_crossentropy, losses.binary_crossentropy_backward),
        "mse": (losses.mean_squared_error, losses.mean_squared_error_backward),
        "mae": (losses.mean_absolute_error, losses.mean_absolute_error_backward),
    }[name]
    make = binary_case if name == "bce" else regression_case
    y_pred, y_true = make(3, 40, 3, np.float64)
    y_pred[0, 0] = 0.5  # undo binary_case's clipped entry
    autodiff = jax.grad(lambda p: jnp.mean(forward(p, jnp.asarray(y_true))))(jnp.asarray(y_pred))
    np.testing.assert_allclose(
        backward(jnp.asarray(y_pred), jnp.asarray(y_true)), autodiff, rtol=1e-12, atol=1e-16
    )


@pytest.mark.parametrize(("samples", "outputs"), LOSS_SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_mae_forward_matches_the_book_and_backward_is_the_book_negated(samples, outputs, dtype):
    with jax.enable_x64(dtype == np.float64):
        y_pred, y_true = regression_case(samples + outputs, samples, outputs, dtype)
        reference = ref.Loss_MeanAbsoluteError()
        expected = reference.forward(y_pred.astype(np.float64), y_true.astype(np.float64))
        reference.backward(y_pred.astype(np.float64), y_true.astype(np.float64))
        sample_losses = losses.mean_absolute_error(jnp.asarray(y_pred), jnp.asarray(y_true))
        dinputs = losses.mean_absolute_error_backward(jnp.asarray(y_pred), jnp.asarray(y_true))
        np.testing.assert_allclose(sample_losses, expected, **loss_tolerance(dtype))
        # The book's backward has sign(y - p); the gradient is sign(p - y): exactly negated.
        np.testing.assert_allclose(dinputs, -reference.dinputs, **loss_tolerance(dtype))


def test_the_books_mae_backward_has_the_wrong_sign(x64):
    y_pred = jnp.asarray([[0.3, -1.0], [2.0, 0.5]])
    y_true = jnp.asarray([[0.0, 0.0], [1.0, 1.0]])
    autodiff = jax.grad(lambda p: jnp.mean(losses.mean_absolute_error(p, y_true)))(y_pred)
    # by hand: d/dp mean |p - y| = sign(p - y) / (outputs * samples) = sign(p - y) / 4
    np.testing.assert_array_equal(autodiff, [[0.25, -0.25], [0.25, -0.25]])
    np.testing.assert_array_equal(losses.mean_absolute_error_backward(y_pred, y_true), autodiff)
    book = ref.Loss_MeanAbsoluteError()
    book.backward(np.asarray(y_pred), np.asarray(y_true))
    np.testing.assert_array_equal(book.dinputs, -np.asarray(autodiff))
    # and a step along the book's "gradient" raises the loss
    loss_now = float(jnp.mean(losses.mean_absolute_error(y_pred, y_true)))
    stepped = y_pred - 0.1 * jnp.asarray(book.dinputs)
    assert float(jnp.mean(losses.mean_absolute_error(stepped, y_true))) > loss_now


def test_mae_at_a_tie_autodiff_equals_the_rule(x64):
    """|p - y| is written sign(p - y) (p - y), so jax.grad at p == y is 0 like sign(0); with
    jnp.abs(y - p) it would be -1 (JAX's abs' is +1 at 0, times d(y - p)/dp = -1)."""
    y = jnp.asarray([[1.0, 2.0]])
    p = jnp.asarray([[1.0, 3.0]])  # a tie in the first output
    autodiff = jax.grad(lambda q: jnp.mean(losses.mean_absolute_error(q, y)))(p)
    np.testing.assert_array_equal(autodiff, [[0.0, 0.5]])
    np.testing.assert_array_equal(losses.mean_absolute_error_backward(p, y), autodiff)
    book_form = jax.grad(lambda q: jnp.mean(jnp.abs(y - q)))(p)
    np.testing.assert_array_equal(book_form, [[-0.5, 0.5]])


def test_bce_clips_like_the_book(x64):
    # p = 0 and p = 1 cost -log(1e-7) when wrong and -log(1 - 1e-7) when right, not inf
    y_pred = jnp.asarray([[0.0], [1.0], [0.0], [1.0]])
    y_true = jnp.asarray([[1.0], [0.0], [0.0], [1.0]])
    sample_losses = losses.binary_crossentropy(y_pred, y_true)
    # 1 - (1 - 1e-7) is 1e-7 only to ~1e-9 relative in float64
    np.testing.assert_allclose(sample_losses[:2], -np.log(1e-7), rtol=1e-8)
    np.testing.assert_allclose(sample_losses[2:], -np.log(1 - 1e-7), rtol=1e-9)
    assert bool(jnp.all(jnp.isfinite(losses.binary_crossentropy_backward(y_pred, y_true))))


def test_binary_accuracy_is_the_books():
    y_pred = np.array([[0.9, 0.2], [0.4, 0.6], [0.5, 0.51]], np.float32)
    y_true = np.array([[1, 0], [1, 1], [0, 1]], np.float32)
    expected = np.mean((y_pred > 0.5) * 1 == y_true)  # the book's two lines
    assert expected == pytest.approx(5 / 6)
    got = losses.binary_accuracy(jnp.asarray(y_pred), jnp.asarray(y_true))
    assert got.dtype == jnp.float32 and float(got) == pytest.approx(expected, rel=1e-7)


def test_regression_accuracy_uses_std_over_250(x64):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(500, 1)) * 3
    p = y + rng.normal(size=(500, 1)) * 0.02
    accuracy_precision = np.std(y) / 250  # the book's lines
    expected = np.mean(np.absolute(p - y) < accuracy_precision)
    assert 0.1 < expected < 0.9  # a test that can tell
    precision = losses.regression_precision(jnp.asarray(y))
    assert float(precision) == pytest.approx(accuracy_precision, rel=1e-14)
    got = losses.regression_accuracy(jnp.asarray(p), jnp.asarray(y), precision)
    assert float(got) == expected
