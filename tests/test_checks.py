"""Bad input: every public entry point names the argument and says what it expected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnfs_jax as nj

ENTRY_POINTS = [nj.loss, nj.grad_manual, nj.grad_autodiff, nj.grad_numerical, nj.compare_gradients]


@pytest.fixture
def good():
    params = nj.init_params(jax.random.key(0), (2, 4, 3))
    X, y = nj.make_spiral(jax.random.key(1), 5, 3)
    return params, X, y


@pytest.fixture(params=ENTRY_POINTS, ids=lambda f: f.__name__)
def entry(request):
    return request.param


def test_x_not_2d(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match=r"X: expected a 2-D array \(samples, features\)"):
        entry(params, X[:, 0], y)


def test_x_width_not_first_layer_inputs(entry, good):
    params, _, y = good
    with pytest.raises(ValueError, match=r"X: expected 2 features .* got shape \(15, 3\)"):
        entry(params, jnp.ones((15, 3)), y)


def test_x_with_nan_or_inf(entry, good):
    params, X, y = good
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="X: contains NaN or inf"):
            entry(params, X.at[3, 1].set(bad), y)


def test_x_not_numeric(entry, good):
    params, _, y = good
    with pytest.raises(TypeError, match="X: expected a"):
        entry(params, "spiral", y)


def test_layers_do_not_chain(entry, good):
    params, X, y = good
    broken = [params[0], {"weights": jnp.ones((5, 3)), "biases": jnp.zeros((1, 3))}]
    with pytest.raises(ValueError, match=r"params\[1\]\['weights'\]: layer 0 has 4 neurons"):
        entry(broken, X, y)


@pytest.mark.parametrize("shape", [(4,), (4, 1), (2, 4)])
def test_biases_not_row(entry, good, shape):
    params, X, y = good
    broken = [{"weights": params[0]["weights"], "biases": jnp.zeros(shape)}, params[1]]
    with pytest.raises(ValueError, match=r"params\[0\]\['biases'\]: expected shape \(1, 4\)"):
        entry(broken, X, y)


def test_params_not_a_list_of_layers(entry, good):
    _, X, y = good
    with pytest.raises(TypeError, match="params: expected a non-empty list"):
        entry({"weights": jnp.ones((2, 3))}, X, y)
    with pytest.raises(TypeError, match=r"params\[0\]: expected a dict"):
        entry([jnp.ones((2, 3))], X, y)


def test_labels_negative(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match=r"y: labels must lie in \[0, 3\).*\[-1, "):
        entry(params, X, y.at[0].set(-1))


def test_labels_too_large(entry, good):
    params, X, y = good
    with pytest.raises(
        ValueError, match=r"y: labels must lie in \[0, 3\) .* got values in \[0, 3\]"
    ):
        entry(params, X, y.at[0].set(3))


def test_labels_not_integer(entry, good):
    params, X, y = good
    with pytest.raises(TypeError, match="y: sparse labels must be integers"):
        entry(params, X, y.astype(jnp.float32))


def test_labels_wrong_length(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match=r"y: expected one label per sample \(15\), got 14"):
        entry(params, X, y[:-1])


def test_one_hot_wrong_width(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match=r"y: one-hot labels must have shape \(15, 3\)"):
        entry(params, X, jnp.eye(4)[y])


def test_unknown_activation(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match="activation: unknown activation 'tanh'"):
        entry(params, X, y, activation="tanh")


def test_wrong_number_of_activations(good):
    params, X, y = good
    with pytest.raises(ValueError, match="activation: expected one name or 1 names"):
        nj.loss(params, X, y, activation=("relu", "relu"))


def test_bad_finite_difference_step(good):
    params, X, y = good
    with pytest.raises(ValueError, match="h: expected a positive step"):
        nj.grad_numerical(params, X, y, h=0.0)
    with pytest.raises(ValueError, match="batch_size"):
        nj.grad_numerical(params, X, y, batch_size=0)


def test_bad_sizes():
    with pytest.raises(ValueError, match="sizes: expected at least two positive widths"):
        nj.init_params(jax.random.key(0), (2,))
    with pytest.raises(ValueError, match="sizes"):
        nj.init_params(jax.random.key(0), (2, 0, 3))
    with pytest.raises(TypeError, match="sizes"):
        nj.init_params_book("2-64-3")


def test_shape_checks_still_run_under_the_callers_jit(good):
    params, X, y = good
    with pytest.raises(ValueError, match="X: expected 2 features"):
        jax.jit(nj.loss)(params, jnp.ones((15, 3)), y)
    # value checks are skipped on tracers rather than failing to trace
    assert np.isfinite(float(jax.jit(nj.loss)(params, X, y)))
