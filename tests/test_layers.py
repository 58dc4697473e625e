"""nnfs_jax.layers against the documents' printed numbers and an independent NumPy reference."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import pytest
from conftest import nnfs_initialised

import nnfs_jax as nj
from nnfs_jax import layers

SHAPES = [(1, 1, 1), (7, 2, 5), (32, 10, 1), (100, 3, 64), (13, 64, 3)]
# (jit, samples, n_in, n_out): compiled on every shape; op by op (eager) on the two small ones
# only: eager runs the same function, but compiles each primitive anew for every shape.
JIT_SHAPES = [
    pytest.param(jit, *shape, id=f"{'jit' if jit else 'eager'}-{'-'.join(map(str, shape))}")
    for jit in (False, True)
    for shape in (SHAPES if jit else SHAPES[:2])
]

# --- the documents' printed numbers (004) -----------------------------------------------------

INPUTS_004 = [[1, 2, 3, 2.5], [2.0, 5.0, -1.0, 2.0], [-1.5, 2.7, 3.3, -0.8]]
WEIGHTS_004 = [[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]]
BIASES_004 = [2, 3, 0.5]


def layer(weights, biases):
    return {"weights": jnp.asarray(weights), "biases": jnp.asarray(biases).reshape(1, -1)}


@pytest.mark.parametrize(
    ("inputs", "weights", "bias", "expected"),
    [([1.2, 5.1, 2.1], [3.1, 2.1, 8.7], 3, 35.7), ([1, 2, 3], [0.2, 0.8, -0.5], 2, 2.3)],
)
def test_single_neuron_004(x64, inputs, weights, bias, expected):
    out = layers.dense(layer(np.array(weights)[:, None], [bias]), jnp.asarray([inputs]))
    assert out.shape == (1, 1)
    assert float(out[0, 0]) == pytest.approx(expected, rel=1e-12)


def test_layer_of_three_neurons_004(x64):
    out = layers.dense(layer(np.array(WEIGHTS_004).T, BIASES_004), jnp.asarray([INPUTS_004[0]]))
    np.testing.assert_allclose(out[0], [4.8, 1.21, 2.385], rtol=1e-12)


def test_batch_and_second_layer_004(x64):
    layer1 = layer(np.array(WEIGHTS_004).T, BIASES_004)
    out1 = layers.dense(layer1, jnp.asarray(INPUTS_004))
    np.testing.assert_allclose(
        out1, [[4.8, 1.21, 2.385], [8.9, -1.81, 0.2], [1.41, 1.051, 0.026]], rtol=1e-12, atol=1e-14
    )
    weights2 = [[0.1, -0.14, 0.5], [-0.5, 0.12, -0.33], [-0.44, 0.73, -0.13]]
    out2 = layers.dense(layer(np.array(weights2).T, [-1, 2, -0.5]), out1)
    expected = [
        [0.5031, -1.04185, -2.03875],
        [0.2434, -2.7332, -5.7633],
        [-0.99314, 1.41254, -0.35655],
    ]
    np.testing.assert_allclose(out2, expected, rtol=1e-12)


def test_seeded_layer_dense_004(x64):
    # 004, In [64]: np.random.seed(0); Layer_Dense(4, 5); Layer_Dense(5, 2) with 0.1 * randn
    # (before nnfs.init(), so float64), printed to 8 significant digits.
    rng = np.random.RandomState(0)
    w1, w2 = 0.1 * rng.randn(4, 5), 0.1 * rng.randn(5, 2)
    out = layers.dense(
        layer(w2, np.zeros(2)), layers.dense(layer(w1, np.zeros(5)), jnp.asarray(INPUTS_004))
    )
    expected = [[0.148296, -0.08397602], [0.14100315, -0.01340469], [0.20124979, -0.07290616]]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_relu_on_spiral_004():
    # 004, In [77]: nnfs.init(); spiral_data(100, 3); Layer_Dense(2, 5); ReLU.
    nj.book_seed(0)
    X, _ = nj.spiral_data(100, 3)
    (dense1,) = nj.init_params_book((2, 5), scale=0.1)
    out = layers.relu(layers.dense(dense1, X))
    assert out.dtype == jnp.float32
    # The documents' dot ran in float64 (nnfs.init) and was rounded to float32; ours is a float32
    # dot, so small outputs that come from cancellation differ by float32 round-off of the terms
    # (|x * w| ~ 1e-2, eps ~ 6e-8): hence the absolute tolerance.
    close = {"rtol": 1e-6, "atol": 1e-9}
    np.testing.assert_array_equal(out[0], np.zeros(5))
    np.testing.assert_allclose(out[1], [0, 0, 0, 4.65504505e-04, 4.56846210e-05], **close)
    np.testing.assert_allclose(
        out[2], [0, 5.93469958e-05, 0, 2.03573116e-04, 6.10024377e-04], **close
    )
    np.testing.assert_allclose(out[-1], [1.07817926e-01, 0, 0, 8.72561932e-02, 0], **close)


def test_softmax_004(x64):
    probs = layers.softmax(jnp.asarray([[4.8, 1.21, 2.385]]))
    np.testing.assert_allclose(
        probs[0], [0.8952826639572619, 0.024708306782099374, 0.0800090292606387], rtol=1e-14
    )
    batch = layers.softmax(
        jnp.asarray([[4.8, 1.21, 2.385], [8.9, -1.81, 0.2], [1.41, 1.051, 0.026]])
    )
    np.testing.assert_allclose(
        batch,
        [
            [8.95282664e-01, 2.47083068e-02, 8.00090293e-02],
            [9.99811129e-01, 2.23163963e-05, 1.66554348e-04],
            [5.13097164e-01, 3.58333899e-01, 1.28568936e-01],
        ],
        rtol=1e-8,
    )
    np.testing.assert_allclose(jnp.sum(batch, axis=1), 1.0, rtol=1e-15)


def test_softmax_does_not_overflow():
    probs = layers.softmax(jnp.asarray([[1000.0, 0.0, -1000.0], [89.0, 89.0, 0.0]], jnp.float32))
    assert bool(jnp.all(jnp.isfinite(probs)))
    np.testing.assert_allclose(probs, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-7)


# --- forward pieces and backward rules against the NumPy reference ----------------------------


def tolerance(dtype):
    return {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}


def draws(seed, samples, n_in, n_out, dtype):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(samples, n_in)).astype(dtype)
    weights = rng.normal(size=(n_in, n_out)).astype(dtype)
    biases = rng.normal(size=(1, n_out)).astype(dtype)
    dvalues = rng.normal(size=(samples, n_out)).astype(dtype)
    return inputs, weights, biases, dvalues


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    with jax.enable_x64(request.param == np.float64):
        yield request.param


@pytest.mark.parametrize(("jit", "samples", "n_in", "n_out"), JIT_SHAPES)
def test_dense_forward_backward(dtype, jit, samples, n_in, n_out):
    inputs, weights, biases, dvalues = draws(samples * n_in + n_out, samples, n_in, n_out, dtype)
    reference = ref.Layer_Dense(weights.astype(np.float64), biases.astype(np.float64))
    reference.forward(inputs.astype(np.float64))
    reference.backward(dvalues.astype(np.float64))
    dense = jax.jit(layers.dense) if jit else layers.dense
    backward = jax.jit(layers.dense_backward) if jit else layers.dense_backward

    out = dense({"weights": weights, "biases": biases}, inputs)
    grads = backward(dvalues, inputs, weights)
    assert out.dtype == dtype and grads.dweights.dtype == dtype
    np.testing.assert_allclose(out, reference.output, **tolerance(dtype))
    np.testing.assert_allclose(grads.dweights, reference.dweights, **tolerance(dtype))
    np.testing.assert_allclose(grads.dbiases, reference.dbiases, **tolerance(dtype))
    np.testing.assert_allclose(grads.dinputs, reference.dinputs, **tolerance(dtype))


ACTIVATION_CASES = {
    "relu": (layers.relu, layers.relu_backward, ref.Activation_ReLU, "inputs"),
    "sigmoid": (layers.sigmoid, layers.sigmoid_backward, ref.Activation_Sigmoid, "output"),
    "softmax": (layers.softmax, layers.softmax_backward, ref.Activation_Softmax, "output"),
}


@pytest.mark.parametrize(("jit", "samples", "n_in", "n_out"), JIT_SHAPES)
@pytest.mark.parametrize("name", ACTIVATION_CASES)
def test_activation_forward_backward(dtype, jit, samples, n_in, n_out, name):
    forward, backward, reference_class, saved = ACTIVATION_CASES[name]
    inputs, _, _, dvalues = draws(samples + 7 * n_out, samples, n_out, n_out, dtype)
    inputs[0, 0] = 0.0  # the kink, where ReLU's backward must give 0
    reference = reference_class()
    reference.forward(inputs.astype(np.float64))
    reference.backward(dvalues.astype(np.float64))
    if jit:
        forward, backward = jax.jit(forward), jax.jit(backward)

    out = forward(inputs)
    dinputs = backward(dvalues, inputs if saved == "inputs" else out)
    assert out.dtype == dtype and dinputs.dtype == dtype
    np.testing.assert_allclose(out, reference.output, **tolerance(dtype))
    np.testing.assert_allclose(dinputs, reference.dinputs, **tolerance(dtype))


# Independent NumPy transcriptions of the activations the documents do not have: the forward
# and its derivative with respect to the input.
NUMPY_ACTIVATIONS = {
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
}


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("name", NUMPY_ACTIVATIONS)
def test_tanh_and_leaky_relu_records(dtype, jit, name):
    record = layers.ACTIVATIONS[name]
    forward, derivative = NUMPY_ACTIVATIONS[name]
    inputs, _, _, dvalues = draws(11, 6, 4, 4, dtype)
    inputs[0, :2] = (0.0, -0.0)  # leaky_relu's kink: the slope there, as jax.grad gives
    apply = jax.jit(record.__call__) if jit else record
    backprop = jax.jit(record.backprop) if jit else record.backprop
    out = apply(inputs)
    dinputs = backprop(dvalues, inputs, out)
    assert out.dtype == dtype and dinputs.dtype == dtype
    x = inputs.astype(np.float64)
    np.testing.assert_allclose(out, forward(x), **tolerance(dtype))
    np.testing.assert_allclose(dinputs, dvalues * derivative(x), **tolerance(dtype))


@pytest.mark.parametrize("name", sorted(layers.ACTIVATIONS))
def test_every_record_backward_equals_vjp(x64, name):
    """Each record's hand-written rule is the vector-Jacobian product of its forward,
    including at the kink x == 0 (where the documents' conventions and jax.grad agree)."""
    record = layers.ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    inputs = jnp.asarray(np.r_[rng.normal(size=9), 0.0].reshape(2, 5))
    dvalues = jnp.asarray(rng.normal(size=(2, 5)))
    out, vjp = jax.vjp(record, inputs)
    np.testing.assert_allclose(record.backprop(dvalues, inputs, out), vjp(dvalues)[0], rtol=1e-12)
    assert record.kink in (None, 0.0)


def test_leaky_relu_slope_is_settable():
    record = layers.activation("leaky_relu", slope=0.2)
    assert repr(record) == "leaky_relu(slope=0.2)" and repr(layers.ACTIVATIONS["tanh"]) == "tanh"
    x = jnp.asarray([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(record(x), [-0.4, 0.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(record.backprop(jnp.ones(3), x, record(x)), [0.2, 0.2, 1.0])
    assert layers.activation("leaky_relu") is layers.ACTIVATIONS["leaky_relu"]
    assert record == layers.activation("leaky_relu", slope=0.2) != layers.ACTIVATIONS["leaky_relu"]
    with pytest.raises(ValueError, match="leaky_relu: unknown option 'alpha'"):
        layers.activation("leaky_relu", alpha=0.2)
    with pytest.raises(ValueError, match="leaky_relu slope: expected a finite number"):
        layers.activation("leaky_relu", slope=float("nan"))
    with pytest.raises(ValueError, match="activation: unknown activation 'swish'"):
        layers.activation("swish")


def test_relu_gradient_is_zero_at_zero():
    # jnp.maximum(0, x) would give 0.5 here; the documents (and jax.nn.relu) give 0.
    assert float(jax.grad(lambda x: layers.relu(x).sum())(jnp.zeros(3))[0]) == 0.0
    assert float(jax.grad(lambda x: jnp.maximum(0.0, x).sum())(jnp.zeros(3))[0]) == 0.5
    np.testing.assert_array_equal(layers.relu_backward(jnp.ones(3), jnp.zeros(3)), 0.0)


def test_sigmoid_has_no_overflow_warning_and_is_exact_in_the_tails():
    x = np.array([-1000.0, -30.0, -20.0, 0.0, 20.0, 1000.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = np.asarray(layers.sigmoid(jnp.asarray(x)))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[1:5], 1 / (1 + np.exp(-x[1:5].astype(np.float64))), rtol=1e-6)
    assert out[0] == 0.0 and out[-1] == 1.0


def test_softmax_jacobian_rows_sum_to_zero(x64):
    output = layers.softmax(jax.random.normal(jax.random.key(0), (5, 4), jnp.float64))
    np.testing.assert_allclose(layers.softmax_jacobian(output).sum(axis=-1), 0.0, atol=1e-15)


def test_softmax_backward_equals_vjp(x64):
    z = jax.random.normal(jax.random.key(1), (6, 4), jnp.float64)
    d = jax.random.normal(jax.random.key(2), (6, 4), jnp.float64)
    _, vjp = jax.vjp(layers.softmax, z)
    np.testing.assert_allclose(layers.softmax_backward(d, layers.softmax(z)), vjp(d)[0], rtol=1e-12)


def test_step_and_linear():
    x = jnp.asarray([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(layers.step(x), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(layers.linear(x), x)
    np.testing.assert_array_equal(layers.step_backward(jnp.ones(3), x), 0.0)
    np.testing.assert_array_equal(layers.linear_backward(x), x)


# --- initialisers ------------------------------------------------------------------------------


def test_init_params_shapes_dtype_and_reproducibility():
    key = jax.random.key(0)
    params = nj.init_params(key, (2, 64, 3))
    assert [(p["weights"].shape, p["biases"].shape) for p in params] == [
        ((2, 64), (1, 64)),
        ((64, 3), (1, 3)),
    ]
    assert all(p["weights"].dtype == jnp.float32 for p in params)
    np.testing.assert_array_equal(params[0]["biases"], 0.0)
    again = nj.init_params(key, (2, 64, 3))
    other = nj.init_params(jax.random.key(1), (2, 64, 3))
    np.testing.assert_array_equal(params[1]["weights"], again[1]["weights"])
    assert not np.array_equal(params[1]["weights"], other[1]["weights"])
    # scale * N(0, 1): the sample standard deviation of 128 draws is near 0.01
    assert 0.007 < float(jnp.std(params[0]["weights"])) < 0.013


def test_init_params_float64_on_request(x64):
    assert nj.init_params(jax.random.key(0), (2, 3))[0]["weights"].dtype == jnp.float64


def test_init_params_book_matches_the_documents_draws():
    with nnfs_initialised():
        import nnfs  # noqa: F401  (the documents' code path, patched randn)

        expected = [0.01 * np.random.randn(2, 64), 0.01 * np.random.randn(64, 3)]
    nj.book_seed(0)
    params = nj.init_params_book((2, 64, 3))
    for p, w in zip(params, expected, strict=True):
        assert w.dtype == np.float32 and p["weights"].dtype == jnp.float32
        np.testing.assert_array_equal(p["weights"], w)
        np.testing.assert_array_equal(p["biases"], 0.0)


def test_forward_is_softmax_of_the_network(x64):
    params = nj.init_params(jax.random.key(3), (2, 8, 8, 3), scale=0.5)
    X = jax.random.normal(jax.random.key(4), (20, 2), jnp.float64)
    probs = nj.forward(params, X)
    _, reference_probs, _ = ref.network_loss_and_grads(
        [jax.tree.map(np.asarray, p) for p in params], np.asarray(X), np.zeros(20, int)
    )
    np.testing.assert_allclose(probs, reference_probs, rtol=1e-12)
    assert probs.shape == (20, 3)
    sig = nj.forward(params, X, activation="sigmoid")
    assert not np.allclose(sig, probs)


# --- dropout (chapter 15) -----------------------------------------------------------------------

# three shapes, as each new shape compiles jax.random's generator anew (slow on a CPU)
DROPOUT_CASES = [((1, 1), 0.5), ((7, 5), 0.1), ((7, 5), 0.0), ((32, 64), 0.3), ((32, 64), 0.9)]


@pytest.mark.parametrize(("shape", "rate"), DROPOUT_CASES)
def test_dropout_forward_backward(dtype, shape, rate):
    """The book's Layer_Dropout on the same keep pattern, read back from nnfs_jax's output (an
    input is nonzero, so its output is 0 exactly where the unit was dropped): the reference
    scales the kept units by 1 / (1 - rate) and back-propagates itself, whatever way the
    pattern was drawn. How it is drawn: test_model.py's documented-scheme test; its
    statistics: test_dropout_statistics."""
    key = jax.random.key(int(100 * rate))
    inputs, _, _, dvalues = draws(shape[0], shape[0], shape[1], shape[1], dtype)
    assert np.all(inputs != 0)
    out = layers.dropout(inputs, key, rate)
    keep = np.asarray(out) != 0
    if rate == 0:
        assert keep.all()
    reference = ref.Layer_Dropout(rate, ref.FixedBinomial(keep))
    reference.forward(inputs.astype(np.float64))
    reference.backward(dvalues.astype(np.float64))

    mask = layers.dropout_mask(key, rate, shape, dtype)
    dinputs = layers.dropout_backward(dvalues, mask)
    assert out.dtype == dtype and mask.dtype == dtype and dinputs.dtype == dtype
    np.testing.assert_allclose(mask, reference.binary_mask, **tolerance(dtype))
    np.testing.assert_allclose(out, reference.output, **tolerance(dtype))
    np.testing.assert_allclose(dinputs, reference.dinputs, **tolerance(dtype))
    assert np.all(np.asarray(dinputs)[~keep] == 0)  # a dropped unit passes no gradient
    # the backward is the vjp of the forward for a fixed key
    _, vjp = jax.vjp(lambda x: layers.dropout(x, key, rate), jnp.asarray(inputs))
    np.testing.assert_allclose(vjp(jnp.asarray(dvalues))[0], dinputs, **tolerance(dtype))


def test_dropout_is_the_identity_at_evaluation():
    x = jax.random.normal(jax.random.key(0), (6, 4))
    out = layers.dropout(x, jax.random.key(1), 0.5, training=False)
    assert out is x
    reference = ref.Layer_Dropout(0.5)
    reference.forward(np.asarray(x), training=False)
    np.testing.assert_array_equal(out, reference.output)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_statistics(rate):
    """Inverted dropout: a fraction `rate` of units is zeroed, the kept ones are scaled by
    1 / (1 - rate), and so the mean is preserved. With n = 10^6 units the standard error of
    the dropped fraction is sqrt(rate (1 - rate) / n) <= 5e-4, of the mean
    sqrt(rate / (1 - rate) / n) <= 2e-3: the bounds below are more than 4 standard errors."""
    n = 1000
    out = layers.dropout(jnp.ones((n, n)), jax.random.key(42), rate)
    dropped = float(jnp.mean(out == 0))
    assert abs(dropped - rate) < 2.5e-3
    assert abs(float(jnp.mean(out)) - 1.0) < 1e-2
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1 / (1 - rate), rtol=1e-6)


def test_dropout_mask_is_a_function_of_the_key():
    a = layers.dropout_mask(jax.random.key(0), 0.5, (50, 50), jnp.float32)
    b = layers.dropout_mask(jax.random.key(0), 0.5, (50, 50), jnp.float32)
    c = layers.dropout_mask(jax.random.key(1), 0.5, (50, 50), jnp.float32)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    x = jnp.arange(2500.0).reshape(50, 50)
    np.testing.assert_array_equal(layers.dropout(x, jax.random.key(0), 0.5), x * a)
    np.testing.assert_array_equal(
        jax.jit(layers.dropout, static_argnums=2)(x, jax.random.key(0), 0.5), x * a
    )
