"""Every fast kernel equals the reference composition it stands in for (float64, 1e-12), and the
dispatcher picks it only where it applies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_network

import nnfs_jax as nj
from nnfs_jax import layers
from nnfs_jax.kernels import base, dispatch, feature_major, relu_block

# (sizes, model keywords): no hidden layer, each activation, regularization, mixed at depth.
CASES = [
    ((2, 3), {}),
    ((2, 8, 3), {}),
    ((2, 8, 3), {"activation": "sigmoid"}),
    ((2, 8, 3), {"activation": "tanh", "weight_regularizer_l2": 1e-2, "bias_regularizer_l1": 1e-2}),
    ((2, 8, 3), {"activation": layers.activation("leaky_relu", slope=0.2)}),
    ((4, 16, 8, 5), {"activation": ("relu", "sigmoid"), "weight_regularizer_l1": 1e-2}),
]
IDS = ["2-3", "2-8-3", "sigmoid", "tanh-l1-l2", "leaky", "4-16-8-5-l1"]


def case(sizes, seed=0, samples=30, one_hot=False):
    """Drawn with NumPy: jax.random would compile its sampler for every shape (seconds)."""
    rng = np.random.default_rng(seed)
    params = random_network(rng, sizes, dtype=jnp.float64)
    X = jnp.asarray(rng.standard_normal((samples, sizes[0])), jnp.float64)
    y = jnp.asarray(rng.integers(0, sizes[-1], samples).astype(np.int32))
    if one_hot:  # soft labels: the loss sees them, the fused rule their argmax
        y = jnp.asarray(0.8 * np.eye(sizes[-1])[y] + 0.2 / sizes[-1])
    return params, X, y


def assert_trees_close(a, b, rtol=1e-12, atol=1e-15):
    for x, z in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(x, z, rtol=rtol, atol=atol)


# sparse labels for every case; soft labels (the loss sees them, the fused rule their argmax)
# on two of them
LABEL_CASES = [(*case_, False) for case_ in CASES] + [(*CASES[1], True), (*CASES[3], True)]
LABEL_IDS = [*IDS, f"{IDS[1]}-soft", f"{IDS[3]}-soft"]


@pytest.mark.parametrize(("sizes", "keywords", "soft"), LABEL_CASES, ids=LABEL_IDS)
@pytest.mark.parametrize("grad", base.GRADS)
def test_feature_major_equals_the_reference(x64, sizes, keywords, grad, soft):
    params, X, y = case(sizes, one_hot=soft)
    model = nj.make_model(len(sizes) - 1, **keywords)
    reference, fast = base.REFERENCE[grad], feature_major.KERNELS[grad]
    precision = jnp.zeros(())
    # Under one jit each: eagerly every primitive would compile on its own.
    want = jax.jit(
        lambda p: reference.value_and_grad(p, reference.prepare(X, y, precision, sizes[-1]), model)
    )(params)
    got = jax.jit(
        lambda p: fast.value_and_grad(p, fast.prepare(X, y, precision, sizes[-1]), model)
    )(params)
    assert_trees_close(got[0], want[0])
    np.testing.assert_allclose(got[1].loss, want[1].loss, rtol=1e-12)
    assert int(got[1].correct) == int(want[1].correct)
    evaluated = jax.jit(lambda p: fast.evaluate(p, fast.prepare(X, y, precision, sizes[-1]), model))
    np.testing.assert_allclose(evaluated(params).loss, want[1].loss, rtol=1e-12)


def test_feature_major_takes_mini_batches(x64):
    params, X, y = case((2, 8, 3))
    model = nj.make_model(2)
    data = feature_major.prepare(X, y, None, 3)
    indices = jnp.asarray([4, 0, 7, 7, 29])
    batch = feature_major.take(data, indices)
    want = base.REFERENCE["manual"].value_and_grad(
        params, base.Batch(X[indices], y[indices], 0), model
    )
    got = feature_major.manual_value_and_grad(params, batch, model)
    assert feature_major.samples(batch) == 5
    assert_trees_close(got[0], want[0])


@pytest.mark.parametrize("per_seed", [False, True], ids=["shared-data", "per-seed-data"])
def test_relu_block_equals_the_vmapped_reference(x64, per_seed):
    """vmapped over a block of models, the ReLU-mask computation replaces the documents' rules
    (`custom_vmap`): the same gradients and sums as each model alone."""
    block = 3
    models = [case((2, 8, 3), seed=s) for s in range(block)]
    params = jax.tree.map(lambda *a: jnp.stack(a), *(m[0] for m in models))
    kernel = dispatch.select(nj.make_model(2), "manual", whole_batch=True, backend="cpu")
    assert kernel is relu_block.KERNEL
    prepare = jax.vmap(lambda X, y: kernel.prepare(X, y, None, 3))
    Xs, ys = jnp.stack([m[1] for m in models]), jnp.stack([m[2] for m in models])
    data = prepare(Xs, ys) if per_seed else kernel.prepare(Xs[0], ys[0], None, 3)
    axis = 0 if per_seed else None
    model = nj.make_model(2)

    def blocked(params, data):
        return jax.vmap(lambda p, d: kernel.value_and_grad(p, d, model), in_axes=(0, axis))(
            params, data
        )

    got = jax.jit(blocked)(params, data)
    for i in range(block):
        X, y = (Xs[i], ys[i]) if per_seed else (Xs[0], ys[0])
        one = jax.tree.map(lambda a, i=i: a[i], params)
        want = base.manual_value_and_grad(one, base.Batch(X, y, 0), model)
        assert_trees_close(jax.tree.map(lambda a, i=i: a[i], got[0]), want[0], rtol=1e-11)
        np.testing.assert_allclose(got[1].loss[i], want[1].loss, rtol=1e-12)
        assert int(got[1].correct[i]) == int(want[1].correct)
    # the block rule itself ran (not a vmap of the per-model code): its own function, same values
    direct = jax.jit(relu_block.block_value_and_grad, static_argnums=2)(params, data, per_seed)
    assert_trees_close(direct[0], got[0], rtol=0, atol=0)


def test_relu_block_only_for_the_documents_network():
    assert relu_block.applies(nj.make_model(2))
    for other in (
        nj.make_model(3),
        nj.make_model(2, activation="tanh"),
        nj.make_model(2, head="sigmoid"),
        nj.make_model(2, weight_regularizer_l2=1e-3),
        nj.make_model(2, dropout=0.1),
    ):
        assert not relu_block.applies(other)


def test_dispatch():
    softmax, dropout, sigmoid = (
        nj.make_model(2),
        nj.make_model(2, dropout=0.1),
        nj.make_model(2, head="sigmoid"),
    )
    assert dispatch.select(softmax, "manual", whole_batch=True, backend="cpu").name == "relu_block"
    assert (
        dispatch.select(softmax, "autodiff", whole_batch=True, backend="cpu").name
        == "feature_major"
    )
    for model, whole, backend in [
        (softmax, False, "cpu"),  # mini-batches: gathered rows, the reference layout
        (dropout, True, "cpu"),
        (sigmoid, True, "cpu"),
        (softmax, True, "gpu"),  # the layouts are tuned for XLA's CPU backend only
    ]:
        assert (
            dispatch.select(model, "manual", whole_batch=whole, backend=backend).name == "reference"
        )
    with pytest.raises(ValueError, match="grad: expected one of"):
        dispatch.select(softmax, "magic", whole_batch=True)
