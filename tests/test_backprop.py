"""Gradients three ways: manual (the documents' rules), jax.grad, and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import pytest
from conftest import random_network
from jax.test_util import check_grads

import nnfs_jax as nj
from nnfs_jax import backprop, layers, network

NETWORKS = [(2, 3), (2, 8, 3), (4, 16, 8, 5), (3, 10, 10, 10, 4)]  # 1 to 4 dense layers
# Every activation alone on one hidden layer, and mixed at depth: each case compiles three
# gradients (seconds), and an activation's rule is the same code at any depth.
GRADIENT_CASES = [
    ((2, 3), "relu"),  # no hidden layer: the activation is unused
    ((2, 8, 3), "relu"),
    ((2, 8, 3), "sigmoid"),
    ((2, 8, 3), "linear"),
    ((2, 8, 3), "tanh"),
    ((2, 8, 3), "leaky_relu"),
    ((2, 8, 3), layers.activation("leaky_relu", slope=0.3)),
    ((4, 16, 8, 5), ("linear", "relu")),
    ((3, 10, 10, 10, 4), ("relu", "sigmoid", "linear")),
]


def case(sizes, seed=0, samples=40, dtype=jnp.float64):
    """Random weights, biases, inputs and labels, drawn with NumPy (see random_network)."""
    rng = np.random.default_rng(seed)
    params = random_network(rng, sizes, dtype=dtype)
    X = jnp.asarray(rng.standard_normal((samples, sizes[0])), dtype)
    y = jnp.asarray(rng.integers(0, sizes[-1], samples).astype(np.int32))
    return params, X, y


def max_rel(a, b):
    """Largest leaf-wise relative error (relative to each leaf's largest entry), NaN when any
    entry of either tree is NaN or inf. NumPy's max propagates NaN; Python's `max` over floats
    would drop it unless it came first (`max(1.0, nan) == 1.0`)."""
    errors = []
    for x, z in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, z = np.asarray(x, np.float64), np.asarray(z, np.float64)
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, as wanted
            diff = np.max(np.abs(x - z))
            scale = np.maximum(np.max(np.abs(x)), np.max(np.abs(z)))  # NaN stays NaN
            errors.append(diff / scale if scale > 0 else diff)  # both all zero: 0
    return float(np.max(np.array(errors)))


def assert_within(value, tolerance, what=""):
    """`value <= tolerance` and finite: a NaN or inf error never passes."""
    assert np.isfinite(value) and value <= tolerance, f"{what}: error {value} > {tolerance}"


def assert_max_rel(a, b, tolerance):
    assert_within(max_rel(a, b), tolerance, "max_rel")


@pytest.mark.parametrize(
    ("sizes", "activation"),
    GRADIENT_CASES,
    ids=[
        "-".join(map(str, (*s, *([a] if isinstance(a, (str, layers.Activation)) else a))))
        for s, a in GRADIENT_CASES
    ],
)
def test_manual_equals_autodiff_and_numerical_float64(x64, sizes, activation):
    params, X, y = case(sizes)
    manual = nj.grad_manual(params, X, y, activation)
    autodiff = nj.grad_autodiff(params, X, y, activation)
    numerical = nj.grad_numerical(params, X, y, activation=activation)
    assert jax.tree.structure(manual) == jax.tree.structure(params)
    assert_max_rel(manual, autodiff, 1e-12)
    assert_max_rel(manual, numerical, 1e-6)
    assert_max_rel(autodiff, numerical, 1e-6)


@pytest.mark.parametrize("sizes", NETWORKS[1:3], ids=lambda s: "-".join(map(str, s)))
def test_manual_matches_the_numpy_reference(x64, sizes):
    params, X, y = case(sizes, seed=5)
    _, _, expected = ref.network_loss_and_grads(
        [jax.tree.map(np.asarray, p) for p in params], np.asarray(X), np.asarray(y)
    )
    for got, want in zip(nj.grad_manual(params, X, y), expected, strict=True):
        np.testing.assert_allclose(got["weights"], want["weights"], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(got["biases"], want["biases"], rtol=1e-10, atol=1e-15)


def test_unfused_jacobian_route_equals_fused(x64):
    params, X, y = case((2, 8, 3), seed=2)
    fused = nj.grad_manual(params, X, y)
    chained = nj.grad_manual(params, X, y, fused=False)
    assert_max_rel(fused, chained, 1e-12)


def test_one_hot_labels_give_the_same_gradients(x64):
    params, X, y = case((2, 8, 3), seed=3)
    one_hot = jnp.eye(3)[y]
    assert_max_rel(nj.grad_manual(params, X, y), nj.grad_manual(params, X, one_hot), 0.0)
    assert_max_rel(nj.grad_autodiff(params, X, y), nj.grad_autodiff(params, X, one_hot), 1e-15)


def test_jax_check_grads_on_the_loss(x64):
    params, X, y = case((2, 8, 3), seed=4)
    # jitted: check_grads evaluates the loss and its linearisations dozens of times, and op by
    # op each evaluation dispatches every primitive separately
    loss = jax.jit(lambda p: network.total_loss(p, X, y, nj.make_model(2)))
    check_grads(loss, (params,), order=1)


def test_all_three_are_jittable(x64):
    params, X, y = case((2, 8, 3), seed=6)
    for fn in (nj.grad_manual, nj.grad_autodiff, nj.grad_numerical):
        assert_max_rel(jax.jit(fn)(params, X, y), fn(params, X, y), 1e-14)
    report = jax.jit(nj.compare_gradients)(params, X, y)
    for leaf, pairs in report.errors.items():
        assert_within(float(pairs["manual_vs_autodiff"]["max_rel"]), 1e-12, leaf)
        assert_within(float(pairs["manual_vs_numerical"]["max_rel"]), 1e-6, leaf)


def test_max_rel_fails_on_a_nan_or_inf_gradient(x64):
    """The helper cannot pass a broken gradient: a NaN or inf in any leaf, first or last (where
    Python's `max` over the leaves' errors would have dropped it), fails the comparison."""
    params, X, y = case((2, 8, 3))
    grads = nj.grad_manual(params, X, y)
    assert_max_rel(grads, grads, 0.0)
    leaves, treedef = jax.tree.flatten(grads)
    for index in (0, len(leaves) - 1):
        for bad_value in (np.nan, np.inf):
            broken = list(leaves)
            broken[index] = broken[index].at[0, 0].set(bad_value)
            bad = jax.tree.unflatten(treedef, broken)
            assert not np.isfinite(max_rel(bad, grads)) and not np.isfinite(max_rel(grads, bad))
            with pytest.raises(AssertionError):
                assert_max_rel(bad, grads, 1e-6)
            with pytest.raises(AssertionError):
                assert_max_rel(grads, bad, 1e-6)


def test_the_report_does_not_hide_nan(x64):
    """Weights of a run that blew up (finite, 1e200) overflow the logits to inf and the
    softmax to NaN, so every gradient is NaN; the report's errors must say so (NaN or inf,
    never 0), or an assertion `max_rel <= tol` on a report would pass on a broken gradient."""
    params, X, y = case((2, 8, 3))
    params = [{k: v * 1e200 if k == "weights" else v for k, v in p.items()} for p in params]
    assert np.isnan(float(nj.loss(params, X, y)))
    report = nj.compare_gradients(params, X, y)
    for leaf, pairs in report.errors.items():
        for pair, errors in pairs.items():
            for name, value in errors.items():
                assert not np.isfinite(float(value)), (
                    f"library bug: compare_gradients reports {name} = {float(value)} for "
                    f"{leaf} {pair} with NaN gradients (expected NaN or inf)"
                )


def test_numerical_is_blocked_and_independent_of_block_size(x64):
    params, X, y = case((2, 8, 3), seed=7)
    a = nj.grad_numerical(params, X, y, batch_size=1)
    b = nj.grad_numerical(params, X, y, batch_size=1000)
    # vmapped and single evaluations may sum in another order: loss round-off (~1e-16) / h
    assert_max_rel(a, b, 1e-8)


def test_float32_is_the_default_dtype():
    params, X, y = case((2, 8, 3), dtype=jnp.float32)
    for fn in (nj.grad_manual, nj.grad_autodiff, nj.grad_numerical):
        assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(fn(params, X, y)))


def documents_setup(dtype=jnp.float32):
    """002's spiral data and 2-64-3 initialisation (biases zero, three samples at (0, 0))."""
    nj.book_seed(0)
    X, y = nj.spiral_data(100, 3)
    params = jax.tree.map(lambda a: a.astype(dtype), nj.init_params_book((2, 64, 3)))
    return params, jnp.asarray(X, dtype), jnp.asarray(y)


def test_manual_and_autodiff_agree_on_the_documents_data_in_float32():
    params, X, y = documents_setup()
    assert np.all(X[0] == 0) and float(jnp.abs(params[0]["biases"]).max()) == 0.0
    manual = nj.grad_manual(params, X, y)
    autodiff = nj.grad_autodiff(params, X, y)
    # Each gradient entry is a sum over 300 samples of terms whose absolute values add up to
    # at most ~1 (|p - y| / n summed), so float32 round-off is a few ulps of 1.
    eps = float(jnp.finfo(jnp.float32).eps)
    for a, b in zip(jax.tree.leaves(manual), jax.tree.leaves(autodiff), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2 * eps)


def relu_autodiff_with(relu_forward, params, X, y):
    """jax.grad of the classifier's loss with `relu_forward` as its hidden activation."""
    record = layers.Activation("relu", relu_forward, lambda d, inputs, output: d)
    return jax.grad(network.total_loss)(params, X, y, nj.make_model(2, activation=record))


def test_relu_at_zero_on_the_documents_data_float64(x64):
    """At the documents' initialisation the (0, 0) samples sit exactly on ReLU's kink. With
    derivative 0 there (the documents' rule) autodiff equals manual to round-off; with
    jnp.maximum(0, x), whose derivative at a tie is 1/2, it does not.

    On all 300 samples the kink happens not to matter: the three (0, 0) samples (one per
    class) have all-zero logits, p = 1/3 exactly, and their (p - y) sum to 0. So the check
    takes the first samples of class 0 only, the documents' own points."""
    params, X, y = documents_setup(jnp.float64)
    manual = nj.grad_manual(params, X, y)
    # dense2.biases sums 300 terms of size ~1/300 to ~5e-5: cancellation costs ~1e4 x eps.
    assert_max_rel(manual, nj.grad_autodiff(params, X, y), 1e-11)

    X, y = X[:5], y[:5]
    manual = nj.grad_manual(params, X, y)
    assert_max_rel(manual, relu_autodiff_with(layers.relu, params, X, y), 1e-12)
    tie_half = relu_autodiff_with(lambda x: jnp.maximum(0.0, x), params, X, y)
    error = max_rel(manual, tie_half)
    assert np.isfinite(error) and error > 0.01, error


def test_report_counts_kinks_on_the_documents_data():
    params, X, y = documents_setup()
    report = nj.compare_gradients(params, X, y)
    # Sample (0, 0) puts all 64 first-layer pre-activations exactly at 0, inside any step h.
    assert int(report.kinks) >= 64
    assert int(report.saturated) == 0
    text = nj.format_comparison(report)
    assert "dense1.weights" in text and "manual_vs_numerical" in text


def test_saturated_probabilities_split_autodiff_from_fused(x64):
    """Past the 1e-7 clip the loss is flat, so jax.grad gives 0 for that sample while the
    fused rule keeps (p - y) / n; the report counts the saturated samples."""
    params = [
        {"weights": jnp.asarray([[40.0, -40.0]]), "biases": jnp.zeros((1, 2))},
    ]
    X = jnp.asarray([[1.0], [0.01]])
    y = jnp.asarray([1, 0])  # sample 0: p(class 1) = e^-80, far below the clip
    manual = nj.grad_manual(params, X, y)
    autodiff = nj.grad_autodiff(params, X, y)
    # sample 1 alone, since sample 0 contributes nothing to the clipped loss's gradient: by
    # hand in NumPy, logits z = 0.01 * (40, -40), p = softmax(z), dL/dW = x (p - y) / 2
    z = 0.01 * np.array([[40.0, -40.0]])
    probs = np.exp(z) / np.sum(np.exp(z))
    expected = 0.01 * (probs - np.array([[1.0, 0.0]])) / 2
    np.testing.assert_allclose(autodiff[0]["weights"], expected, rtol=1e-12)
    assert float(jnp.max(jnp.abs(manual[0]["weights"] - autodiff[0]["weights"]))) > 0.4
    assert int(nj.compare_gradients(params, X, y).saturated) == 1


def test_single_relu_neuron_003():
    """003's hand backprop through ReLU(x0 w0 + x1 w1 + x2 w2 + b): -3.0 1.0 -1.0 -2.0 2.0 3.0."""
    x = jnp.asarray([[1.0, -2.0, 3.0]])
    neuron = {"weights": jnp.asarray([[-3.0], [-1.0], [2.0]]), "biases": jnp.asarray([[1.0]])}
    z = layers.dense(neuron, x)
    drelu_dz = layers.relu_backward(jnp.ones_like(z), z)
    grads = layers.dense_backward(drelu_dz, x, neuron["weights"])
    dx, dw = grads.dinputs[0], grads.dweights[:, 0]
    printed = [dx[0], dw[0], dx[1], dw[1], dx[2], dw[2]]
    assert [float(v) for v in printed] == [-3.0, 1.0, -1.0, -2.0, 2.0, 3.0]
    # and the same from jax.grad
    dw_auto, dx_auto = jax.grad(lambda w, xx: layers.relu(xx @ w + 1.0).sum(), argnums=(0, 1))(
        neuron["weights"], x
    )
    np.testing.assert_array_equal(dw_auto[:, 0], dw)
    np.testing.assert_array_equal(dx_auto[0], dx)


def test_default_step_follows_dtype():
    assert backprop.default_step(jnp.float32) == pytest.approx(4.92e-3, rel=1e-2)
    assert backprop.default_step(jnp.float64) == pytest.approx(6.06e-6, rel=1e-2)
