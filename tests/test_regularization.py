"""nnfs_jax.regularization (chapter 14) against the book's Layer_Dense and Loss, transcribed."""

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import pytest

from nnfs_jax import regularization
from nnfs_jax.regularization import Regularizer

SHAPES = [(1, 1, 1), (7, 2, 5), (13, 64, 3)]
STRENGTHS = {
    "none": {},
    "l1": {"weight_regularizer_l1": 1e-2, "bias_regularizer_l1": 3e-2},
    "l2": {"weight_regularizer_l2": 5e-4, "bias_regularizer_l2": 5e-4},
    "all": {
        "weight_regularizer_l1": 2e-3,
        "weight_regularizer_l2": 5e-2,
        "bias_regularizer_l1": 1e-1,
        "bias_regularizer_l2": 7e-3,
    },
}


def tolerance(dtype):
    # atol: a gradient summed over samples can cancel to near 0, leaving float32 round-off of
    # its O(1) terms (as in test_layers)
    return {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    with jax.enable_x64(request.param == np.float64):
        yield request.param


@pytest.mark.parametrize(("samples", "n_in", "n_out"), SHAPES)
@pytest.mark.parametrize("strengths", STRENGTHS)
def test_loss_and_backward_against_the_book(dtype, samples, n_in, n_out, strengths):
    rng = np.random.default_rng(samples * n_in + n_out)
    inputs = rng.normal(size=(samples, n_in))
    weights, biases = rng.normal(size=(n_in, n_out)), rng.normal(size=(1, n_out))
    dvalues = rng.normal(size=(samples, n_out))
    kwargs = STRENGTHS[strengths]
    dense = ref.Layer_Dense_Regularized(weights, biases, **kwargs)
    dense.forward(inputs)
    dense.backward(dvalues)
    expected_loss = ref.Loss_Regularized().regularization_loss(dense)

    layer = {"weights": jnp.asarray(weights, dtype), "biases": jnp.asarray(biases, dtype)}
    regularizer = Regularizer(**kwargs)
    loss = regularization.regularization_loss(layer, regularizer)
    grads = regularization.dense_backward_regularized(
        jnp.asarray(dvalues, dtype), jnp.asarray(inputs, dtype), layer, regularizer
    )
    assert loss.dtype == dtype and grads.dweights.dtype == dtype
    np.testing.assert_allclose(loss, expected_loss, **tolerance(dtype))
    np.testing.assert_allclose(grads.dweights, dense.dweights, **tolerance(dtype))
    np.testing.assert_allclose(grads.dbiases, dense.dbiases, **tolerance(dtype))
    np.testing.assert_allclose(grads.dinputs, dense.dinputs, **tolerance(dtype))


@pytest.mark.parametrize("strengths", STRENGTHS)
def test_backward_is_the_gradient_of_the_loss(x64, strengths):
    keys = jax.random.split(jax.random.key(0))
    layer = {
        "weights": jax.random.normal(keys[0], (6, 4), jnp.float64),
        "biases": jax.random.normal(keys[1], (1, 4), jnp.float64),
    }
    regularizer = Regularizer(**STRENGTHS[strengths])
    autodiff = jax.grad(regularization.regularization_loss)(layer, regularizer)
    manual = regularization.regularization_backward(layer, regularizer)
    np.testing.assert_allclose(manual.dweights, autodiff["weights"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(manual.dbiases, autodiff["biases"], rtol=1e-14, atol=0)


def test_l1_at_exactly_zero_is_plus_one_as_in_the_book(x64):
    """The book's dL1 is ones_like(w) with -1 where w < 0: +1 at w == 0 (and at -0.0), where
    sign(w) would give 0. jax.grad of jnp.abs uses the same convention; a central difference
    of |w| at 0 is 0 (the kink)."""
    w = jnp.asarray([[0.0, -0.0, 0.5, -2.0]])
    layer = {"weights": w, "biases": jnp.zeros((1, 4))}  # the book's zero biases
    regularizer = Regularizer(weight_regularizer_l1=0.1, bias_regularizer_l1=0.2)

    dense = ref.Layer_Dense_Regularized(np.asarray(w), np.zeros((1, 4)), 0.1, 0, 0.2, 0)
    dense.forward(np.ones((1, 1)))
    dense.backward(np.zeros((1, 4)))
    manual = regularization.regularization_backward(layer, regularizer)
    np.testing.assert_array_equal(dense.dweights, [[0.1, 0.1, 0.1, -0.1]])
    np.testing.assert_array_equal(manual.dweights, dense.dweights)
    np.testing.assert_array_equal(manual.dbiases, dense.dbiases)
    np.testing.assert_array_equal(manual.dbiases, 0.2)

    autodiff = jax.grad(regularization.regularization_loss)(layer, regularizer)
    np.testing.assert_array_equal(autodiff["weights"], manual.dweights)
    np.testing.assert_array_equal(autodiff["biases"], manual.dbiases)

    # The central difference of the library's loss at each weight: at the two zeros |+h| and
    # |-h| are equal, so the two losses are the same sum and the difference is exactly 0; away
    # from the kink it is the slope, 0.1 * sign(w), to round-off (~1e-17 of a loss of 0.25,
    # over 2h = 2e-6: ~1e-11).
    h = 1e-6
    for index, slope in ((0, 0.0), (1, 0.0), (2, 0.1), (3, -0.1)):
        plus, minus = (
            {"weights": w.at[0, index].add(step), "biases": layer["biases"]} for step in (h, -h)
        )
        central = (
            regularization.regularization_loss(plus, regularizer)
            - regularization.regularization_loss(minus, regularizer)
        ) / (2 * h)
        assert float(central) == pytest.approx(slope, abs=1e-9), index
        if slope == 0.0:
            assert float(central) == 0.0, index


def test_zero_strengths_add_nothing(x64):
    layer = {"weights": jnp.ones((3, 2)), "biases": jnp.ones((1, 2))}
    assert float(regularization.regularization_loss(layer, Regularizer())) == 0.0
    assert not Regularizer().active and Regularizer(bias_regularizer_l2=1e-9).active
    grads = regularization.dense_backward_regularized(
        jnp.ones((4, 2)), jnp.ones((4, 3)), layer, Regularizer()
    )
    np.testing.assert_array_equal(grads.dweights, 4.0)


def test_regularizer_is_hashable_and_normalised():
    a = Regularizer(weight_regularizer_l2=1)
    b = Regularizer(weight_regularizer_l2=1.0)
    assert a == b and hash(a) == hash(b)
    assert isinstance(a.weight_regularizer_l2, float)
