"""Bad input: every public entry point names the argument and says what it expected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnfs_jax as nj
from nnfs_jax import model as model_lib
from nnfs_jax.model import Model, make_model
from nnfs_jax.regularization import Regularizer

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
    with pytest.raises(ValueError, match="activation: unknown activation 'swish'"):
        entry(params, X, y, activation="swish")


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


# --- models (chapters 14-17): heads, dropout, regularization, keys ---------------------------


@pytest.fixture
def regression():
    params = nj.init_params(jax.random.key(0), (2, 4, 1))
    X = jax.random.normal(jax.random.key(1), (10, 2))
    y = jnp.sin(X[:, :1])
    return params, X, y


def test_unknown_head():
    with pytest.raises(ValueError, match="head: unknown head 'tanh'; expected one of"):
        make_model(2, head="tanh")
    with pytest.raises(ValueError, match="head: unknown head"):
        Model(("relu",), head="softmax_mse")


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_rate_outside_zero_one(rate):
    with pytest.raises(ValueError, match=r"dropout: rate .* must lie in \[0, 1\), got"):
        make_model(3, dropout=rate)
    with pytest.raises(ValueError, match=r"dropout: rate .* hidden layer 1"):
        make_model(3, dropout=(0.1, rate))


def test_dropout_rates_of_the_wrong_count_or_type():
    with pytest.raises(ValueError, match=r"dropout: expected one value or 2 values"):
        make_model(3, dropout=(0.1, 0.2, 0.3))
    with pytest.raises(TypeError, match=r"dropout\[0\]: expected a number, got 'half'"):
        make_model(2, dropout="half")


def test_negative_regularizer():
    with pytest.raises(ValueError, match=r"weight_regularizer_l1\[1\]: expected a non-negative"):
        make_model(2, weight_regularizer_l1=(0.0, -1e-3))
    with pytest.raises(ValueError, match="bias_regularizer_l2: expected a non-negative"):
        Regularizer(bias_regularizer_l2=-5e-4)
    with pytest.raises(ValueError, match="weight_regularizer_l2: expected a non-negative finite"):
        Regularizer(weight_regularizer_l2=float("inf"))
    with pytest.raises(TypeError, match="bias_regularizer_l1: expected a number"):
        Regularizer(bias_regularizer_l1="small")


def test_regularizers_of_the_wrong_count():
    with pytest.raises(ValueError, match=r"weight_regularizer_l2: expected one value or 3 values"):
        make_model(3, weight_regularizer_l2=(1e-3, 1e-3))
    with pytest.raises(TypeError, match=r"regularizers: expected 2 Regularizer objects"):
        Model(("relu",), regularizers=(Regularizer(),))


def test_bad_model_spec():
    with pytest.raises(TypeError, match="activations: expected a tuple of names"):
        Model(activations="relu")
    with pytest.raises(ValueError, match="activation: unknown activation 'swish'"):
        make_model(2, activation="swish")
    with pytest.raises(ValueError, match=r"activation: expected one name or 2 names"):
        make_model(3, activation=("relu",))
    with pytest.raises(ValueError, match="n_layers: expected a positive integer"):
        make_model(0)


def test_model_not_a_model(entry, good):
    params, X, y = good
    with pytest.raises(TypeError, match=r"model: expected a nnfs_jax\.model\.Model"):
        entry(params, X, y, model={"head": "softmax"})


def test_model_with_the_wrong_number_of_layers(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match="model: has 2 hidden activations, so it needs 3 dense"):
        entry(params, X, y, model=make_model(3))


def test_activation_given_with_a_model(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match="activation: leave it at its default when model is"):
        entry(params, X, y, activation="sigmoid", model=make_model(2))


def test_dropout_without_a_key(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match=r"key: the model has dropout \(rates \(0.5,\)\)"):
        entry(params, X, y, model=make_model(2, dropout=0.5))
    with pytest.raises(ValueError, match="key: the model has dropout"):
        model_lib.model_forward(params, X, make_model(2, dropout=0.5), training=True)


def test_key_not_a_key(entry, good):
    params, X, y = good
    model = make_model(2, dropout=0.5)
    for bad in (0, "key", jnp.zeros(3), jax.random.split(jax.random.key(0))):
        with pytest.raises(TypeError, match=r"key: expected a (single )?jax\.random key"):
            entry(params, X, y, model=model, key=bad)


def test_key_without_dropout_is_checked_then_unused(entry, good):
    # The documents' classifier has no dropout: a key is type-checked, then has no effect.
    params, X, y = good
    with pytest.raises(TypeError, match=r"key: expected a (single )?jax\.random key"):
        entry(params, X, y, key="key")
    with_key = entry(params, X, y, key=jax.random.key(0))
    for a, b in zip(jax.tree.leaves(with_key), jax.tree.leaves(entry(params, X, y)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_softmax_head_labels_are_checked_as_before(entry, good):
    params, X, y = good
    with pytest.raises(ValueError, match=r"y: labels must lie in \[0, 3\)"):
        entry(params, X, y.at[0].set(3), model=make_model(2))


@pytest.mark.parametrize("head", ["sigmoid", "linear_mse", "linear_mae"])
def test_targets_of_the_wrong_shape(entry, head):
    params = nj.init_params(jax.random.key(0), (2, 4, 3))
    X = jnp.ones((10, 2))
    model = make_model(2, head=head)
    with pytest.raises(ValueError, match=rf"y: {head} targets must have shape \(10, 3\)"):
        entry(params, X, jnp.zeros((10, 2)), model=model)
    with pytest.raises(ValueError, match=rf"y: {head} targets must have shape \(10, 3\)"):
        entry(params, X, jnp.zeros((9, 3)), model=model)
    # (samples,) is the book's y before .reshape(-1, 1): only for one sigmoid output
    with pytest.raises(ValueError, match=rf"y: {head} targets must have shape \(10, 3\)"):
        entry(params, X, jnp.zeros(10), model=model)


def test_regression_targets_must_be_two_dimensional(regression):
    params, X, y = regression
    with pytest.raises(ValueError, match=r"y: linear_mse targets must have shape \(10, 1\)"):
        nj.loss(params, X, y[:, 0], model=make_model(2, head="linear_mse"))


def test_sigmoid_labels_not_zero_or_one(entry, regression):
    params, X, _ = regression
    labels = jnp.zeros((10, 1)).at[3, 0].set(0.5)
    with pytest.raises(ValueError, match=r"y: sigmoid \(binary\) labels must be 0 or 1, got 0\.5"):
        entry(params, X, labels, model=make_model(2, head="sigmoid"))


@pytest.mark.parametrize("head", ["sigmoid", "linear_mse"])
def test_targets_not_numeric(entry, regression, head):
    params, X, _ = regression
    with pytest.raises(TypeError, match="y: expected a"):
        entry(params, X, "labels", model=make_model(2, head=head))
    with pytest.raises(TypeError, match="y: expected a real numeric array"):
        entry(params, X, jnp.zeros((10, 1), jnp.complex64), model=make_model(2, head=head))


def test_regression_targets_with_nan(entry, regression):
    params, X, y = regression
    with pytest.raises(ValueError, match="y: contains NaN or inf"):
        entry(params, X, y.at[2, 0].set(jnp.nan), model=make_model(2, head="linear_mae"))


def test_bad_precision(regression):
    params, X, y = regression
    with pytest.raises(ValueError, match="precision: only the linear heads use it"):
        model_lib.model_accuracy(params, X, y > 0, make_model(2, head="sigmoid"), precision=0.1)
    with pytest.raises(ValueError, match="precision: expected a non-negative finite number"):
        model_lib.model_accuracy(params, X, y, make_model(2, head="linear_mse"), precision=-1)


def test_model_shape_checks_run_under_the_callers_jit(regression):
    params, X, y = regression
    model = make_model(2, head="linear_mse")
    with pytest.raises(ValueError, match=r"y: linear_mse targets must have shape"):
        jax.jit(lambda p, x, t: nj.loss(p, x, t, model=model))(params, X, y[:, 0])
    value = jax.jit(lambda p, x, t: nj.loss(p, x, t, model=model))(params, X, y)
    assert np.isfinite(float(value))


# --- bad input, each kind found by trying what a new user would ---------------------------------


def test_int64_labels_out_of_int32_range_are_refused_not_wrapped(good):
    params, X, y = good
    big = np.asarray(y, np.int64).copy()
    big[0] = 2**31  # would wrap to a negative int32 if cast before the range check
    with pytest.raises(nj.InputError, match=r"y: labels must lie in \[0, 3\).*2147483648"):
        nj.loss(params, X, big)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda rows: rows * -1, r"must lie in \[0, 1\]"),
        (lambda rows: rows * 2, r"must lie in \[0, 1\]"),
        (lambda rows: rows * 0.5, "must sum to 1, row 0 sums to 0.5"),
    ],
    ids=["negative", "above-one", "not-summing-to-one"],
)
def test_one_hot_labels_must_be_distributions(good, change, match):
    params, X, y = good
    with pytest.raises(nj.InputError, match=f"y: .*one-hot.*{match}"):
        nj.loss(params, X, change(np.eye(3)[np.asarray(y)]))
    soft = 0.8 * np.eye(3)[np.asarray(y)] + 0.2 / 3  # label smoothing: a distribution, accepted
    assert np.isfinite(float(nj.loss(params, X, soft)))


@pytest.mark.parametrize("sizes", [(2, 2.9, 3), (2, "3", 3), (2, True, 3), "23"])
def test_layer_sizes_must_be_integers(sizes):
    with pytest.raises(nj.InputTypeError, match="sizes: expected"):
        nj.init_params(jax.random.key(0), sizes)


def test_parameters_with_nan_or_an_extra_key_are_refused(good):
    params, X, y = good
    bad = [dict(params[0], weights=params[0]["weights"].at[1, 2].set(jnp.inf)), params[1]]
    with pytest.raises(nj.InputError, match=r"params\[0\]\['weights'\]: contains NaN or inf"):
        nj.grad_manual(bad, X, y)
    extra = [dict(params[0], momentum=0), params[1]]
    with pytest.raises(nj.InputTypeError, match=r"params\[0\]: .* exactly the keys .*momentum"):
        nj.forward(extra, X)
    with pytest.raises(nj.InputError, match="scale: expected a finite number >= 0, got nan"):
        nj.init_params(jax.random.key(0), (2, 3), scale=float("nan"))


@pytest.mark.parametrize(
    "call",
    [
        lambda k: nj.init_params(k, (2, 3)),
        lambda k: nj.make_spiral(k, 10, 3),
        lambda k: nj.make_vertical(k, 10, 3),
    ],
    ids=["init_params", "make_spiral", "make_vertical"],
)
def test_a_non_key_is_named(call):
    for bad in (0, "seed", np.zeros(3)):
        with pytest.raises(nj.InputTypeError, match="key: expected a"):
            call(bad)


def test_searches_on_a_one_class_problem():
    # One output unit: softmax is always 1, every loss is -log(1 - 1e-7), nothing improves
    # after the first candidate; it used to crash with an IndexError.
    nj.book_seed(0)
    X, y = nj.vertical_data(10, 1)
    floor = float(-np.log(np.float32(1 - 1e-7)))
    for search in (nj.random_search, nj.hill_climb):
        result = search(jax.random.key(0), X, y, (2, 3, 1), iterations=50)
        assert float(result.loss) == pytest.approx(floor, rel=1e-6)
        assert float(result.accuracy) == 1.0
        assert list(result.improvements.iteration) == [0]


def test_optax_optimizers_are_range_checked():
    for bad in ({"learning_rate": -5.0}, {"learning_rate": float("nan")}, {"eps": -1e-8}):
        with pytest.raises(nj.InputError, match=next(iter(bad))):
            nj.get_optimizer("optax.adam", **bad)


def test_a_directory_is_not_a_checkpoint(tmp_path):
    with pytest.raises(nj.CheckpointError, match="not a checkpoint file"):
        nj.load_checkpoint(tmp_path, like={"params": [], "opt_state": None})


def test_value_checks_under_the_callers_jit_run_under_checkify(good):
    """Under a plain jax.jit the values are unknown while tracing (a label of -1 is not seen);
    wrapped with checkify, the same checks raise."""
    from jax.experimental import checkify

    params, X, y = good
    bad = np.asarray(y, np.int32).copy()
    bad[0] = -1
    jitted = jax.jit(lambda p, X, y: nj.loss(p, X, y))
    assert np.isfinite(float(jitted(params, X, bad)))  # unchecked: documented
    checked = checkify.checkify(jitted, errors=checkify.user_checks)
    err, _ = checked(params, X, bad)
    with pytest.raises(Exception, match=r"y: labels must lie in \[0, 3\)"):
        err.throw()
    err, _ = checked(params, X.at[0, 0].set(jnp.nan), y)
    with pytest.raises(Exception, match="X: contains NaN or inf"):
        err.throw()
    err, value = checked(params, X, y)
    err.throw()  # clean data: no error
    assert float(value) == pytest.approx(float(nj.loss(params, X, y)), rel=1e-6)
