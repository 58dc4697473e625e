"""nnfs_jax.model (chapters 14-17): the spec, forward passes, losses, predictions, accuracy and
gradients three ways, against an independent NumPy transcription of the book
(tests/numpy_reference.book_network), jax.grad and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import pytest
from conftest import random_network

import nnfs_jax as nj
from nnfs_jax import model as model_lib
from nnfs_jax import network
from nnfs_jax.model import Model, make_model
from nnfs_jax.regularization import Regularizer

HEADS = ("softmax", "sigmoid", "linear_mse", "linear_mae")
# 1 to 3 dense layers, mixed hidden activations. Every network has the same batch (16 samples)
# and 5-unit hidden layers, so the dropout masks (slow to compile on a CPU) share two shapes.
NETWORKS = {1: ((3, 2), ()), 2: ((3, 5, 2), ("relu",)), 3: ((3, 5, 5, 2), ("sigmoid", "relu"))}
CONFIGS = {
    "plain": {},
    "l1_l2": {
        "weight_regularizer_l1": 1e-2,
        "weight_regularizer_l2": 2e-2,
        "bias_regularizer_l1": 3e-2,
        "bias_regularizer_l2": 4e-2,
    },
    "dropout": {"dropout": 0.3},
}
SAMPLES = 16
KEY = jax.random.key(7)


@pytest.fixture(autouse=True, scope="module")
def quick_compilation():
    """Most XLA optimizations off while this module runs: it compiles some 150 small functions
    (every head x regularization x dropout x depth is a distinct static spec) and runs each
    once or twice, so compiling ~3x faster is what counts. Results change only by round-off."""
    # The flag is not part of jax's compilation-cache keys: clear the in-memory caches on the
    # way in and out and keep the persistent one out of it, so no function compiled under one
    # setting is reused under the other.
    saved = jax.config.values["jax_disable_most_optimizations"]
    persistent = jax.config.values["jax_enable_compilation_cache"]
    jax.clear_caches()
    jax.config.update("jax_enable_compilation_cache", False)
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.clear_caches()
    jax.config.update("jax_disable_most_optimizations", saved)
    jax.config.update("jax_enable_compilation_cache", persistent)


def targets(rng, head, samples, outputs, dtype):
    if head == "softmax":
        return jnp.asarray(rng.integers(0, outputs, samples).astype(np.int32))
    if head == "sigmoid":
        return jnp.asarray(rng.integers(0, 2, (samples, outputs)), dtype)
    return jnp.asarray(rng.standard_normal((samples, outputs)), dtype)


def case(head, n_layers, config="plain", seed=0, dtype=jnp.float64):
    """(params, X, y, model): random weights and biases (no pre-activation or weight at a kink),
    drawn with NumPy (jax.random would compile its sampler for every shape)."""
    sizes, activations = NETWORKS[n_layers]
    rng = np.random.default_rng(seed)
    params = random_network(rng, sizes, dtype=dtype)
    X = jnp.asarray(rng.standard_normal((SAMPLES, sizes[0])), dtype)
    y = targets(rng, head, SAMPLES, sizes[-1], dtype)
    kwargs = {k: v for part in config.split("+") for k, v in CONFIGS[part].items()}
    if n_layers == 3 and "dropout" in kwargs:
        kwargs["dropout"] = (0.3, 0.5)  # per hidden layer
    return params, X, y, make_model(n_layers, activation=activations, head=head, **kwargs)


def numpy_tree(tree):
    return jax.tree.map(np.asarray, tree)


def keeps_of(params, X, y, model, key):
    """The 0/1 keep pattern of each hidden layer's dropout, read back from the masks nnfs_jax
    applies for `key` (model.validate draws them; model_forward and the gradients use them).
    How they are drawn is checked once, in test_dropout_masks_follow_the_documented_scheme;
    here only that each is 0 or exactly 1 / (1 - rate), the book's binary_mask."""
    _, _, _, masks = model_lib.validate(params, X, y, model, key, training=True)
    keeps = []
    for mask, rate in zip(masks, model.dropout, strict=True):
        mask = np.asarray(mask)
        keep = mask != 0
        np.testing.assert_array_equal(mask[keep], 1 / (1 - rate))
        keeps.append(keep)
    return keeps


def reference(params, X, y, model, key=None):
    """The book's classes run on the same arrays. With dropout (`key`), their
    np.random.binomial draws are the 0/1 patterns of nnfs_jax's masks (`keeps_of`): the book's
    Layer_Dropout then scales and back-propagates them itself."""
    keeps = None if key is None else keeps_of(params, X, y, model, key)
    regularizers = [{name: getattr(r, name) for name in vars(r)} for r in model.regularizers]
    return ref.book_network(
        numpy_tree(params),
        np.asarray(X),
        np.asarray(y),
        [a.name for a in model.activations],
        model.head.name,
        dropout=model.dropout if key is not None else None,
        regularizers=regularizers,
        keeps=keeps,
    )


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


# --- the spec ---------------------------------------------------------------------------------


def test_make_model_broadcasts_and_is_hashable():
    model = make_model(3, head="sigmoid", dropout=0.1, weight_regularizer_l2=(5e-4, 0, 0))
    assert [a.name for a in model.activations] == ["relu", "relu"]
    assert model.activations == (nj.layers.ACTIVATIONS["relu"],) * 2 and model.dropout == (0.1, 0.1)
    assert model.regularizers == (
        Regularizer(weight_regularizer_l2=5e-4),
        Regularizer(),
        Regularizer(),
    )
    assert model.n_layers == 3 and model.has_dropout
    same = Model(("relu", "relu"), "sigmoid", (0.1, 0.1), model.regularizers)
    assert same == model and hash(same) == hash(model)
    assert {model: 1}[same] == 1


def test_model_defaults_fill_in_no_dropout_and_no_regularization():
    model = Model(activations=("relu",))
    assert model.head.name == "softmax" and model.dropout == (0.0,) and not model.has_dropout
    assert model.regularizers == (Regularizer(), Regularizer())
    assert make_model(1).activations == () and make_model(1).dropout == ()


def test_the_spec_is_a_static_argument_to_jit(x64):
    params, X, y, model = case("sigmoid", 2, "l1_l2")
    jitted = jax.jit(network.total_loss, static_argnames="model")
    expected = nj.loss(params, X, y, model=model)
    assert float(jitted(params, X, y, model)) == pytest.approx(float(expected), rel=1e-14)


# --- forward, losses, predictions and accuracy against the book -------------------------------


@pytest.mark.parametrize("config", ["plain", "l1_l2+dropout"])
@pytest.mark.parametrize("head", HEADS)
def test_loss_and_output_match_the_book(x64, head, config):
    params, X, y, model = case(head, 3, config, seed=1)
    key = KEY if model.has_dropout else None
    data_loss, reg_loss, output, _ = reference(params, X, y, model, key)
    training = {"training": True, "key": key}
    np.testing.assert_allclose(
        model_lib.model_forward(params, X, model, **training), output, rtol=1e-12
    )
    got_data = model_lib.model_data_loss(params, X, y, model, **training)
    got_reg = model_lib.model_regularization_loss(params, model)
    assert float(got_data) == pytest.approx(data_loss, rel=1e-12)
    assert float(got_reg) == pytest.approx(reg_loss, rel=1e-12, abs=0)
    total = data_loss + reg_loss
    assert float(model_lib.model_loss(params, X, y, model, **training)) == pytest.approx(
        total, rel=1e-12
    )
    assert float(nj.loss(params, X, y, model=model, key=key)) == pytest.approx(total, rel=1e-12)
    assert (reg_loss > 0) == (config != "plain")


def test_dropout_only_in_training(x64):
    params, X, _, model = case("linear_mse", 3, "dropout")
    evaluation = model_lib.model_forward(params, X, model)
    plain = model_lib.model_forward(
        params, X, make_model(3, activation=("sigmoid", "relu"), head="linear_mse")
    )
    np.testing.assert_array_equal(evaluation, plain)
    trained = model_lib.model_forward(params, X, model, training=True, key=KEY)
    assert not np.allclose(trained, evaluation)
    again = model_lib.model_forward(params, X, model, training=True, key=KEY)
    np.testing.assert_array_equal(trained, again)
    other = model_lib.model_forward(params, X, model, training=True, key=jax.random.key(8))
    assert not np.allclose(trained, other)


def test_dropout_masks_follow_the_documented_scheme(x64):
    """The one test of how the masks are drawn (elsewhere the 0/1 patterns are read back from
    nnfs_jax and checked through the book's classes and by their statistics): hidden layer i
    keeps a unit where jax.random.bernoulli(fold_in(key, i), 1 - rate, (samples, units)) is
    true, as network.dropout_masks documents, and its binary_mask is then 1 / (1 - rate)."""
    params, X, y, model = case("sigmoid", 3, "dropout")
    _, _, _, masks = model_lib.validate(params, X, y, model, KEY, training=True)
    for i, (mask, layer, rate) in enumerate(zip(masks, params[:-1], model.dropout, strict=True)):
        shape = (SAMPLES, layer["weights"].shape[1])
        keep = np.asarray(jax.random.bernoulli(jax.random.fold_in(KEY, i), 1 - rate, shape))
        np.testing.assert_array_equal(mask, keep / (1 - rate))


def test_max_rel_fails_on_a_nan_or_inf_gradient(x64):
    """The helper cannot pass a broken gradient: a NaN or inf in any leaf, first or last (where
    Python's `max` over the leaves' errors would have dropped it), fails the comparison."""
    params, X, y, model = case("sigmoid", 2)
    grads = nj.grad_manual(params, X, y, model=model)
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


def test_predictions_and_accuracy_per_head(x64):
    for head in HEADS:
        params, X, y, model = case(head, 2, seed=2)
        _, _, output, _ = reference(params, X, y, model)
        y_np = np.asarray(y)
        got_predictions = model_lib.model_predictions(params, X, model)
        got_accuracy = float(model_lib.model_accuracy(params, X, y, model))
        if head == "softmax":  # the book's lines for each head
            predictions = np.argmax(output, axis=1)
            accuracy = np.mean(predictions == y_np)
        elif head == "sigmoid":
            predictions = (output > 0.5) * 1
            accuracy = np.mean(predictions == y_np)
        else:
            predictions = output
            accuracy = np.mean(np.absolute(predictions - y_np) < np.std(y_np) / 250)
        np.testing.assert_allclose(got_predictions, predictions, rtol=1e-12)
        assert got_accuracy == pytest.approx(accuracy, rel=1e-12), head


def test_regression_accuracy_on_the_books_sine_data(x64):
    """Chapter 17: sine_data, a linear head, accuracy_precision = np.std(y) / 250. The network
    is fitted well enough (outputs = the targets plus a little noise) that the precision splits
    the samples; the explicit precision= overrides it."""
    nj.book_seed(0)
    X, y = nj.sine_data()
    X, y = X.astype(np.float64), y.astype(np.float64)
    assert y.shape == (1000, 1)
    rng = np.random.default_rng(0)
    noisy = y + rng.normal(size=y.shape) * 5e-3
    # one dense layer (1 -> 1) with the identity weights, fed the noisy targets as inputs
    params = [{"weights": jnp.ones((1, 1)), "biases": jnp.zeros((1, 1))}]
    model = make_model(1, head="linear_mse")
    precision = np.std(y) / 250
    expected = np.mean(np.absolute(noisy - y) < precision)
    assert 0.2 < expected < 0.8
    got = model_lib.model_accuracy(params, noisy, y, model)
    assert float(got) == pytest.approx(expected, rel=1e-12)
    wider = model_lib.model_accuracy(params, noisy, y, model, precision=10 * precision)
    assert float(wider) == pytest.approx(np.mean(np.absolute(noisy - y) < 10 * precision))


def test_sigmoid_accepts_one_dimensional_labels_for_one_output(x64):
    """The book reshapes binary labels to (-1, 1); (samples,) is taken as that."""
    params = random_network(3, (2, 4, 1), dtype=jnp.float64)
    X = jnp.asarray(np.random.default_rng(4).standard_normal((SAMPLES, 2)))
    y = (X[:, 0] > 0).astype(jnp.int32)
    model = make_model(2, head="sigmoid")
    column = y.reshape(-1, 1)
    assert float(nj.loss(params, X, y, model=model)) == float(
        nj.loss(params, X, column, model=model)
    )
    assert_max_rel(
        nj.grad_manual(params, X, y, model=model),
        nj.grad_manual(params, X, column, model=model),
        0.0,
    )
    assert float(model_lib.model_accuracy(params, X, y, model)) == float(
        model_lib.model_accuracy(params, X, column, model)
    )


# --- gradients: the book's backward pass, jax.grad, finite differences -------------------------


GRID = [
    (head, n_layers, config)
    for head in HEADS
    for n_layers in NETWORKS
    for config in CONFIGS
    if not (config == "dropout" and n_layers == 1)  # a single dense layer has no hidden layer
]


@pytest.mark.parametrize(("head", "n_layers", "config"), GRID, ids=str)
def test_three_way_gradients(x64, head, n_layers, config):
    """Manual (the book's rules composed) vs jax.grad to round-off, both vs central
    differences (with the same dropout masks: the same key) to ~1e-9. L1's |w| and MAE's
    |p - y| have kinks at 0; random weights and outputs are never within the step h ~ 6e-6 of
    them (see test_the_report_with_a_model)."""
    params, X, y, model = case(head, n_layers, config, seed=n_layers)
    key = KEY if model.has_dropout else None
    manual = nj.grad_manual(params, X, y, model=model, key=key)
    autodiff = nj.grad_autodiff(params, X, y, model=model, key=key)
    numerical = nj.grad_numerical(params, X, y, model=model, key=key)
    assert jax.tree.structure(manual) == jax.tree.structure(params)
    assert_max_rel(manual, autodiff, 1e-10)
    assert_max_rel(manual, numerical, 1e-6)
    assert_max_rel(autodiff, numerical, 1e-6)


@pytest.mark.parametrize("head", HEADS)
def test_the_report_with_a_model(x64, head):
    """compare_gradients with model= on a network with dropout and L1 + L2 together: its
    three gradients are the entry points' (the same masks from the same key), and no kinks
    (ReLU, L1, MAE) or clipped outputs lie within reach of the finite differences."""
    params, X, y, _ = case(head, 3, seed=4)
    model = make_model(
        3,
        activation=("sigmoid", "sigmoid"),  # no ReLU: any kink counted is L1's or MAE's
        head=head,
        dropout=(0.3, 0.5),
        weight_regularizer_l1=1e-2,
        bias_regularizer_l1=2e-2,
        bias_regularizer_l2=1e-2,
    )
    report = nj.compare_gradients(params, X, y, model=model, key=KEY)
    grads = report.gradients
    assert_max_rel(grads["manual"], grads["autodiff"], 1e-10)
    assert_max_rel(grads["manual"], grads["numerical"], 1e-6)
    # np.max propagates a NaN (Python's max would drop one that is not first)
    errors = [float(e["max_rel"]) for pairs in report.errors.values() for e in pairs.values()]
    assert_within(np.max(np.array(errors)), 1e-6, "the report's worst max_rel")
    assert int(report.kinks) == 0 and int(report.saturated) == 0
    if head == "sigmoid":  # the same masks as the entry points (one head: each compiles)
        manual = nj.grad_manual(params, X, y, model=model, key=KEY)
        assert_max_rel(manual, grads["manual"], 1e-14)
    assert "dense3.biases" in nj.format_comparison(report)


def test_the_gradient_is_of_loss_with_the_same_model_and_key(x64):
    params, X, y, model = case("sigmoid", 3, "dropout", seed=3)
    direct = jax.grad(lambda p: nj.loss(p, X, y, model=model, key=KEY))(params)
    assert_max_rel(direct, nj.grad_autodiff(params, X, y, model=model, key=KEY), 1e-14)
    other_key = nj.grad_autodiff(params, X, y, model=model, key=jax.random.key(8))
    error = max_rel(direct, other_key)
    assert np.isfinite(error) and error > 1e-3, error


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("head", HEADS)
def test_manual_matches_the_books_backward(x64, head, config):
    """The composed rules against the book's classes run step by step. For linear_mae the
    book's backward has the wrong sign, so its data gradient is the negative of ours: compared
    without regularization, where the whole gradient is the data gradient."""
    params, X, y, model = case(head, 3, config, seed=5)
    key = KEY if model.has_dropout else None
    _, _, _, expected = reference(params, X, y, model, key)
    got = nj.grad_manual(params, X, y, model=model, key=key)
    if head == "linear_mae":
        if config == "l1_l2":
            return_data_only = make_model(3, activation=model.activations, head=head)
            _, _, _, expected = reference(params, X, y, return_data_only)
            got = nj.grad_manual(params, X, y, model=return_data_only)
        expected = jax.tree.map(lambda g: -g, expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g["weights"], e["weights"], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(g["biases"], e["biases"], rtol=1e-10, atol=1e-15)


def test_the_books_mae_network_gradient_is_not_the_gradient(x64):
    params, X, y, model = case("linear_mae", 2, seed=6)
    _, _, _, book = reference(params, X, y, model)
    autodiff = nj.grad_autodiff(params, X, y, model=model)
    assert_max_rel(nj.grad_manual(params, X, y, model=model), autodiff, 1e-12)
    assert_max_rel(numpy_tree(book), jax.tree.map(lambda g: -g, autodiff), 1e-12)
    error = max_rel(numpy_tree(book), autodiff)
    assert np.isfinite(error) and error == pytest.approx(2.0)


def test_l1_at_exactly_zero_in_a_network(x64):
    """The book's zero biases with bias L1: the rules' +1 at 0 (and jax.grad's) against finite
    differences, which see the kink as 0; the report counts those parameters as kinks."""
    params, X, y, _ = case("linear_mse", 2, seed=7)
    params = [{"weights": p["weights"], "biases": jnp.zeros_like(p["biases"])} for p in params]
    model = make_model(2, head="linear_mse", bias_regularizer_l1=0.1)
    report = nj.compare_gradients(params, X, y, model=model)
    manual, autodiff, numerical = (report.gradients[k] for k in ("manual", "autodiff", "numerical"))
    assert_max_rel(manual, autodiff, 1e-12)
    for m, n in zip(manual, numerical, strict=True):
        np.testing.assert_allclose(m["weights"], n["weights"], rtol=1e-6, atol=1e-9)
        # every bias sits at the kink: the difference is exactly l1 = 0.1 (to FD accuracy)
        np.testing.assert_allclose(m["biases"] - n["biases"], 0.1, rtol=1e-6)
    assert int(report.kinks) >= 5 + 2  # the 5 + 2 biases (plus any ReLU pre-activations)


def test_sigmoid_saturation_splits_the_books_rule_from_autodiff(x64):
    """The book's binary cross-entropy backward clips p like its forward; where p is clipped
    the clipped loss is flat (jax.grad 0 there) but the rule still pulls. The report counts it."""
    params = [{"weights": jnp.asarray([[17.0]]), "biases": jnp.zeros((1, 1))}]
    # sample 0: p = sigmoid(17) = 1 - 4.1e-8, clipped to 1 - 1e-7 (at 1 - 4e-18 p would round
    # to 1 and p (1 - p) would zero both gradients)
    X = jnp.asarray([[1.0], [0.01]])
    y = jnp.asarray([[0.0], [1.0]])
    model = make_model(1, head="sigmoid")
    report = nj.compare_gradients(params, X, y, model=model)
    assert int(report.saturated) == 1
    manual, autodiff = report.gradients["manual"], report.gradients["autodiff"]
    # by hand, sample 1 alone: d/dw of -log p / 2 = (p - 1) x / 2
    p1 = 1 / (1 + np.exp(-0.17))
    np.testing.assert_allclose(autodiff[0]["weights"], [[(p1 - 1) * 0.01 / 2]], rtol=1e-12)
    # and the book's rule on sample 0: 1 / (1 - clipped) * p (1 - p) * x / 2
    p0 = 1 / (1 + np.exp(-17.0))
    book0 = (1 / 1e-7) * p0 * (1 - p0) / 2
    expected = book0 + (p1 - 1) * 0.01 / 2
    np.testing.assert_allclose(manual[0]["weights"], [[expected]], rtol=1e-6)


def test_softmax_head_fused_and_jacobian_routes_and_the_classifier(x64):
    """The softmax head without regularization or dropout is the classifier: same gradients as
    the existing API; fused=False takes the Jacobian route to the same numbers."""
    params, X, y, model = case("softmax", 3, seed=8)
    activation = model.activations
    classifier = nj.grad_manual(params, X, y, activation)
    assert_max_rel(nj.grad_manual(params, X, y, model=model), classifier, 0.0)
    assert_max_rel(nj.grad_manual(params, X, y, model=model, fused=False), classifier, 1e-12)
    assert_max_rel(
        nj.grad_autodiff(params, X, y, model=model),
        nj.grad_autodiff(params, X, y, activation),
        1e-15,
    )
    assert float(nj.loss(params, X, y, model=model)) == float(nj.loss(params, X, y, activation))


def test_float32_model_gradients():
    params, X, y, model = case("sigmoid", 3, "dropout", dtype=jnp.float32)
    manual = nj.grad_manual(params, X, y, model=model, key=KEY)
    autodiff = nj.grad_autodiff(params, X, y, model=model, key=KEY)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(manual))
    assert_max_rel(manual, autodiff, 1e-5)
