"""nnfs_jax.optim against the book's optimizer classes (NumPy float64) and optax's optimizers.

The expected parameters come from `numpy_reference.Optimizer_*`, the book's classes run with
the book's training loop (pre_update_params / update_params(layer) / post_update_params), or
from the formulas written out here in NumPy; never from nnfs_jax.
"""

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest

from nnfs_jax import optim

STEPS = 50

# (optimizer, hyperparameters): the book's defaults, and settings with decay and momentum.
CASES = [
    ("sgd", {}),
    ("sgd", {"decay": 0.1}),
    ("sgd", {"learning_rate": 0.5, "momentum": 0.5}),
    ("sgd", {"decay": 0.05, "momentum": 0.9}),
    ("adagrad", {}),
    ("adagrad", {"learning_rate": 0.5, "decay": 0.05, "epsilon": 1e-5}),
    ("rmsprop", {}),
    ("rmsprop", {"learning_rate": 0.02, "decay": 0.01, "rho": 0.999}),
    ("adam", {}),
    (
        "adam",
        {"learning_rate": 0.05, "decay": 5e-3, "epsilon": 1e-6, "beta_1": 0.8, "beta_2": 0.99},
    ),
]
CASE_IDS = [name + "".join(f"-{k}={v}" for k, v in hp.items()) for name, hp in CASES]


# --- the problem: a 2-8-3 ReLU classifier on a small spiral, gradients from the NumPy reference --


def spiral(samples=20, classes=3):
    """nnfs's spiral_data, drawn from a private generator: (60, 2) float64 points, 3 classes."""
    rng = np.random.default_rng(0)
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype=np.int64)
    for c in range(classes):
        ix = range(samples * c, samples * (c + 1))
        r = np.linspace(0.0, 1, samples)
        t = np.linspace(c * 4, (c + 1) * 4, samples) + 0.2 * rng.standard_normal(samples)
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = c
    return X, y


X_SPIRAL, Y_SPIRAL = spiral()


def initial_params():
    """A 2-8-3 network with random weights *and* biases (no pre-activation starts at a kink)."""
    rng = np.random.default_rng(1)
    return [
        {"weights": 0.5 * rng.standard_normal((2, 8)), "biases": 0.1 * rng.standard_normal((1, 8))},
        {"weights": 0.5 * rng.standard_normal((8, 3)), "biases": 0.1 * rng.standard_normal((1, 3))},
    ]


def reference_grads(params):
    """The book's backward pass (NumPy float64) at `params` (any arrays)."""
    params = [{k: np.asarray(v, np.float64) for k, v in layer.items()} for layer in params]
    return ref.network_loss_and_grads(params, X_SPIRAL, Y_SPIRAL)[2]


def reference_training(name, hyperparameters, steps=STEPS):
    """The book's loop with the book's optimizer classes. Returns, per step, the params after
    it and the learning rate the next pre_update_params will set."""
    layers = [ref.Layer_Dense(p["weights"], p["biases"]) for p in initial_params()]
    optimizer = ref.OPTIMIZERS[name](**hyperparameters)
    history, rates = [], []
    for _ in range(steps):
        grads = reference_grads([{"weights": d.weights, "biases": d.biases} for d in layers])
        for layer, g in zip(layers, grads, strict=True):
            layer.dweights, layer.dbiases = g["weights"], g["biases"]
        optimizer.pre_update_params()
        for layer in layers:
            optimizer.update_params(layer)
        optimizer.post_update_params()
        history.append([{"weights": d.weights.copy(), "biases": d.biases.copy()} for d in layers])
        # The book's formula for the next step's rate (with decay 0 it stays learning_rate).
        rates.append(
            optimizer.learning_rate * (1.0 / (1.0 + optimizer.decay * optimizer.iterations))
        )
    return history, rates


def book_defaults(name):
    """The reference class's keyword defaults (the book's), e.g. {"learning_rate": 1.0, ...}."""
    parameters = inspect.signature(ref.OPTIMIZERS[name]).parameters
    return {k: p.default for k, p in parameters.items()}


@functools.partial(jax.jit, static_argnames="name")
def traced_update(name, hyperparameters, grads, state, params):
    """One update with the optimizer built from *traced* hyperparameters: one compilation per
    optimizer for every setting (and a check that tracers are accepted)."""
    return optim.get_optimizer(name, **hyperparameters).update(grads, state, params)


def assert_tree_close(actual, expected, rtol, what=""):
    """Per leaf: max |actual - expected| <= rtol * max |expected|."""
    actual_leaves, expected_leaves = jax.tree.leaves(actual), jax.tree.leaves(expected)
    assert len(actual_leaves) == len(expected_leaves)
    for a, e in zip(actual_leaves, expected_leaves, strict=True):
        a, e = np.asarray(a, np.float64), np.asarray(e, np.float64)
        assert a.shape == e.shape
        assert np.all(np.isfinite(a))
        err = np.max(np.abs(a - e)) / np.max(np.abs(e))
        assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol:g}"


def relative_difference(a, b):
    """max over leaves of max |a - b| / max |b|."""
    return max(
        float(np.max(np.abs(np.asarray(x) - np.asarray(y))) / np.max(np.abs(np.asarray(y))))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


# --- the book's optimizers against the book's classes ------------------------------------------


@pytest.mark.parametrize(("name", "hyperparameters"), CASES, ids=CASE_IDS)
def test_matches_book_classes(x64, name, hyperparameters):
    # Under jit with traced hyperparameters (one compilation per optimizer for every case);
    # the eager path meets the same classes in the optax tests below.
    expected, expected_rates = reference_training(name, hyperparameters)

    params = jax.tree.map(jnp.asarray, initial_params())
    optimizer = optim.get_optimizer(name, **hyperparameters)
    state = optimizer.init(params)
    all_hyperparameters = {k: float(v) for k, v in (book_defaults(name) | hyperparameters).items()}
    assert float(optim.current_learning_rate(state)) == all_hyperparameters["learning_rate"]
    update = functools.partial(traced_update, name, all_hyperparameters)

    for step in range(STEPS):
        grads = jax.tree.map(jnp.asarray, reference_grads(params))
        updates, state = update(grads, state, params)
        params = optax.apply_updates(params, updates)
        assert_tree_close(params, expected[step], 1e-12, f"step {step}")
        lr = optim.current_learning_rate(state)
        assert lr.dtype == jnp.float64
        assert float(lr) == pytest.approx(expected_rates[step], rel=1e-15, abs=0)
    assert int(state.iterations) == STEPS
    assert all(leaf.dtype == jnp.float64 for leaf in jax.tree.leaves(params))


@pytest.mark.parametrize("name", optim.BOOK_OPTIMIZERS)
def test_defaults_are_the_books(name):
    parameters = inspect.signature(getattr(optim, name)).parameters
    assert {k: p.default for k, p in parameters.items()} == book_defaults(name)


def test_float32_tracks_the_float64_book():
    # Default precision, jit with concrete hyperparameters: the state's rate is float32, updates
    # keep the params' dtype, and the run stays within float32 round-off of the float64 book.
    name, hyperparameters = CASES[-1]
    expected, _ = reference_training(name, hyperparameters)
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), initial_params())
    optimizer = optim.get_optimizer(name, **hyperparameters)
    update = jax.jit(optimizer.update)
    state = optimizer.init(params)
    assert optim.current_learning_rate(state).dtype == jnp.float32
    for _ in range(STEPS):
        updates, state = update(jax.tree.map(jnp.asarray, reference_grads(params)), state, params)
        assert all(u.dtype == jnp.float32 for u in jax.tree.leaves(updates))
        params = optax.apply_updates(params, updates)
    assert_tree_close(params, expected[-1], 1e-4, name)


@pytest.mark.parametrize("name", optim.BOOK_OPTIMIZERS)
def test_float32_params_under_x64_keep_their_dtype(x64, name):
    params = {"w": jnp.ones((2, 3), jnp.float32)}
    grads = {"w": jnp.full((2, 3), 0.5, jnp.float32)}
    optimizer = optim.get_optimizer(name, decay=0.1)
    state = optimizer.init(params)
    assert optim.current_learning_rate(state).dtype == jnp.float64
    updates, new_state = optimizer.update(grads, state, params)
    assert updates["w"].dtype == jnp.float32
    # Also with traced float64 hyperparameters (a sweep under x64): updates and buffers keep
    # their dtypes, so the state can be a lax.scan carry.
    hyperparameters = {k: jnp.float64(v) for k, v in book_defaults(name).items() if k != "decay"}
    updates, traced_state = jax.jit(
        lambda h: optim.get_optimizer(name, decay=0.1, **h).update(grads, state, params)
    )(hyperparameters)
    assert updates["w"].dtype == jnp.float32
    assert jax.tree.map(lambda a: a.dtype, traced_state) == jax.tree.map(lambda a: a.dtype, state)
    assert jax.tree.map(lambda a: a.dtype, new_state) == jax.tree.map(lambda a: a.dtype, state)


# --- vmap over hyperparameters: a sweep trains several configurations at once ------------------


def toy_gradient(params):
    """The gradient of sum(p**2 / 2 - cos(3 p) / 3) over every parameter: cheap to compile and
    non-linear, so each configuration's trajectory depends on its hyperparameters."""
    return jax.tree.map(lambda p: p + jnp.sin(3.0 * p), params)


VMAP_CASES = {
    "sgd": {
        "learning_rate": [0.1, 0.5, 1.0],
        "decay": [0.0, 0.01, 0.1],
        "momentum": [0.0, 0.5, 0.9],
    },
    "adagrad": {"learning_rate": [0.1, 0.5, 1.0], "epsilon": [1e-7, 1e-4, 1e-2]},
    "rmsprop": {"learning_rate": [0.001, 0.01, 0.02], "rho": [0.0, 0.9, 0.999]},
    "adam": {
        "learning_rate": [0.001, 0.01, 0.05],
        "beta_1": [0.0, 0.8, 0.9],
        "beta_2": [0.9, 0.99, 0.999],
    },
}


@pytest.mark.parametrize("name", optim.BOOK_OPTIMIZERS)
def test_vmap_over_hyperparameters_equals_separate_runs(x64, name):
    params = jax.tree.map(jnp.asarray, initial_params())
    sweep = {k: jnp.asarray(v) for k, v in VMAP_CASES[name].items()}

    def init(hyperparameters):
        return optim.get_optimizer(name, **hyperparameters).init(params)

    @jax.jit
    def step(hyperparameters, p, state):
        optimizer = optim.get_optimizer(name, **({"decay": 0.01} | hyperparameters))
        updates, state = optimizer.update(toy_gradient(p), state, p)
        return optax.apply_updates(p, updates), state, optim.current_learning_rate(state)

    # All three configurations at once: hyperparameters, params and states batched.
    batched_step = jax.jit(jax.vmap(step))
    p = jax.tree.map(lambda a: jnp.stack([a] * 3), params)
    state = jax.jit(jax.vmap(init))(sweep)
    batched_rates = []
    for _ in range(50):
        p, state, rate = batched_step(sweep, p, state)
        batched_rates.append(rate)
    config = [jax.tree.map(lambda a, i=i: a[i], p) for i in range(3)]

    for i in range(3):
        # A separate run: concrete hyperparameters for init, one compiled step for all three.
        hyperparameters = {k: v[i] for k, v in VMAP_CASES[name].items()}
        p, state, rates = params, init(hyperparameters), []
        for _ in range(50):
            p, state, rate = step(hyperparameters, p, state)
            rates.append(float(rate))
        assert_tree_close(config[i], p, 1e-12, f"config {i}")
        np.testing.assert_array_equal(np.asarray(batched_rates)[:, i], rates)
        lr = VMAP_CASES[name]["learning_rate"][i]
        decay = VMAP_CASES[name]["decay"][i] if "decay" in sweep else 0.01
        np.testing.assert_allclose(rates, lr / (1 + decay * np.arange(1, 51)), rtol=1e-15)
    # The configurations really differ (each got its own hyperparameters).
    assert relative_difference(config[0], config[1]) > 1e-2
    assert relative_difference(config[1], config[2]) > 1e-2


# --- the same rules in optax, and where optax differs -----------------------------------------


def gradient_sequence(steps=STEPS, seed=2):
    """A fixed pseudo-random gradient sequence for one {"weights": (3, 4), "biases": (1, 4)}
    layer, magnitudes spread over two decades: (steps, ...) leaves, float64."""
    rng = np.random.default_rng(seed)
    magnitude = 10.0 ** rng.uniform(-1, 1, (1, 3, 4))
    return {
        "weights": magnitude * rng.standard_normal((steps, 3, 4)),
        "biases": rng.standard_normal((steps, 1, 4)),
    }


LAYER = {
    "weights": np.random.default_rng(3).standard_normal((3, 4)),
    "biases": np.random.default_rng(4).standard_normal((1, 4)),
}


def run_on_gradients(optimizer, grads, jit=False):
    """`optimizer` fed `grads` step by step from LAYER; the params after each step. Eager by
    default: the op-by-op kernels are shared by every optimizer here, compilations are not."""
    params = jax.tree.map(jnp.asarray, LAYER)
    state = optimizer.init(params)
    update = jax.jit(optimizer.update) if jit else optimizer.update
    history = []
    for step in range(len(grads["weights"])):
        updates, state = update(jax.tree.map(lambda g, s=step: jnp.asarray(g[s]), grads), state)
        params = optax.apply_updates(params, updates)
        history.append(params)
    return history


def book_on_gradients(name, hyperparameters, grads):
    """The book's class fed the same gradients, through the book's three calls."""
    layer = ref.Layer_Dense(LAYER["weights"], LAYER["biases"])
    optimizer = ref.OPTIMIZERS[name](**hyperparameters)
    history = []
    for dweights, dbiases in zip(grads["weights"], grads["biases"], strict=True):
        layer.dweights, layer.dbiases = dweights, dbiases
        optimizer.pre_update_params()
        optimizer.update_params(layer)
        optimizer.post_update_params()
        history.append({"weights": layer.weights.copy(), "biases": layer.biases.copy()})
    return history


def book_schedule(learning_rate, decay):
    """The book's decay written as an optax schedule (independently of nnfs_jax)."""
    return lambda count: learning_rate * (1.0 / (1.0 + decay * count))


def assert_histories_close(actual, expected, rtol):
    for step, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert_tree_close(a, e, rtol, f"step {step}")


def test_adam_is_optax_adam_with_the_book_schedule(x64):
    grads = gradient_sequence()
    hp = {"learning_rate": 0.05, "decay": 0.01, "epsilon": 1e-6, "beta_1": 0.8, "beta_2": 0.99}
    book = run_on_gradients(optim.adam(**hp), grads, jit=True)  # compiling beats Adam eager
    assert_histories_close(book, book_on_gradients("adam", hp, grads), 1e-12)
    theirs = optax.adam(book_schedule(0.05, 0.01), b1=0.8, b2=0.99, eps=1e-6)
    assert_histories_close(book, run_on_gradients(theirs, grads, jit=True), 1e-12)


def test_rmsprop_is_optax_rmsprop_with_eps_outside_the_root(x64):
    grads = gradient_sequence()
    hp = {"learning_rate": 0.02, "decay": 0.01, "epsilon": 1e-3, "rho": 0.95}
    book = run_on_gradients(optim.rmsprop(**hp), grads)
    assert_histories_close(book, book_on_gradients("rmsprop", hp, grads), 1e-12)
    same = optax.rmsprop(book_schedule(0.02, 0.01), decay=0.95, eps=1e-3, eps_in_sqrt=False)
    assert_histories_close(book, run_on_gradients(same, grads), 1e-12)

    # optax's default eps_in_sqrt=True: update = -lr_t * g / sqrt(cache + eps).
    inside = run_on_gradients(optax.rmsprop(book_schedule(0.02, 0.01), decay=0.95, eps=1e-3), grads)
    params, cache, expected = dict(LAYER), {k: np.zeros_like(v) for k, v in LAYER.items()}, []
    for step in range(STEPS):
        lr = 0.02 / (1 + 0.01 * step)
        for k in params:
            g = grads[k][step]
            cache[k] = 0.95 * cache[k] + 0.05 * g**2
            params[k] = params[k] - lr * g / np.sqrt(cache[k] + 1e-3)
        expected.append(dict(params))
    assert_histories_close(inside, expected, 1e-12)
    assert relative_difference(inside[-1], book[-1]) > 1e-3


def test_sgd_without_momentum_is_optax_sgd_with_the_book_schedule(x64):
    grads = gradient_sequence()
    book = run_on_gradients(optim.sgd(learning_rate=0.5, decay=0.1), grads)
    assert_histories_close(
        book, book_on_gradients("sgd", {"learning_rate": 0.5, "decay": 0.1}, grads), 1e-12
    )
    assert_histories_close(book, run_on_gradients(optax.sgd(book_schedule(0.5, 0.1)), grads), 1e-12)


def test_sgd_with_momentum_is_optax_sgd_only_without_decay(x64):
    grads = gradient_sequence()
    # decay = 0: sum_k m^(t-k) (-lr g_k) == -lr sum_k m^(t-k) g_k, to round-off.
    book = run_on_gradients(optim.sgd(learning_rate=0.1, momentum=0.9), grads)
    assert_histories_close(book, run_on_gradients(optax.sgd(0.1, momentum=0.9), grads), 1e-12)

    # decay > 0: the book's velocity holds each gradient times its own step's rate; optax's
    # trace holds raw gradients, scaled by today's rate: trace = g + m trace; update = -lr_t trace.
    hp = {"learning_rate": 0.1, "decay": 0.1, "momentum": 0.9}
    book = run_on_gradients(optim.sgd(**hp), grads)
    assert_histories_close(book, book_on_gradients("sgd", hp, grads), 1e-12)
    theirs = run_on_gradients(optax.sgd(book_schedule(0.1, 0.1), momentum=0.9), grads)
    params, trace, expected = dict(LAYER), {k: np.zeros_like(v) for k, v in LAYER.items()}, []
    for step in range(STEPS):
        lr = 0.1 / (1 + 0.1 * step)
        for k in params:
            trace[k] = grads[k][step] + 0.9 * trace[k]
            params[k] = params[k] - lr * trace[k]
        expected.append(dict(params))
    assert_histories_close(theirs, expected, 1e-12)
    assert relative_difference(theirs[-1], book[-1]) > 1e-2


def test_optax_adagrad_differs_from_the_books(x64):
    grads = gradient_sequence()
    book = run_on_gradients(optim.adagrad(learning_rate=0.5), grads)
    assert_histories_close(book, book_on_gradients("adagrad", {"learning_rate": 0.5}, grads), 1e-12)

    # optax: the accumulator starts at initial_accumulator_value (default 0.1) and epsilon sits
    # inside the root: update = -lr * g / sqrt(sum g**2 + eps).
    theirs = {}
    for initial in (0.1, 0.0):
        theirs[initial] = run_on_gradients(optax.adagrad(0.5, initial, eps=1e-7), grads)
        params, cache, expected = (
            dict(LAYER),
            {k: np.full_like(v, initial) for k, v in LAYER.items()},
            [],
        )
        for step in range(STEPS):
            for k in params:
                g = grads[k][step]
                cache[k] = cache[k] + g**2
                params[k] = params[k] - 0.5 * g / np.sqrt(cache[k] + 1e-7)
            expected.append(dict(params))
        assert_histories_close(theirs[initial], expected, 1e-12)
    assert relative_difference(theirs[0.1][-1], book[-1]) > 1e-2  # optax's defaults
    assert relative_difference(theirs[0.0][-1], book[-1]) > 1e-9

    # Even from a zero accumulator the first step differs where |g| is near sqrt(eps):
    # book -lr g / (|g| + eps) = -0.5 * 0.999; optax -lr g / sqrt(g**2 + eps) = -0.5 * 0.30.
    small = {"weights": np.full((1, 3, 4), 1e-4), "biases": np.full((1, 1, 4), 1e-4)}
    book_step = run_on_gradients(optim.adagrad(learning_rate=0.5), small)[0]
    optax_step = run_on_gradients(optax.adagrad(0.5, 0.0, eps=1e-7), small)[0]
    for k in LAYER:
        np.testing.assert_allclose(book_step[k] - LAYER[k], -0.5 * 1e-4 / (1e-4 + 1e-7), rtol=1e-9)
        np.testing.assert_allclose(
            optax_step[k] - LAYER[k], -0.5 * 1e-4 / np.sqrt(1e-8 + 1e-7), rtol=1e-9
        )


def test_decay_schedule_is_the_books(x64):
    schedule = optim.decay_schedule(0.05, 5e-7)
    for count in (0, 1, 10, 10_000):
        assert float(schedule(count)) == 0.05 * (1.0 / (1.0 + 5e-7 * count))
    counts = jnp.arange(5)
    np.testing.assert_array_equal(
        jax.jit(schedule)(counts), 0.05 * (1.0 / (1.0 + 5e-7 * np.arange(5)))
    )
    with pytest.raises(ValueError, match="decay: expected a finite number >= 0"):
        optim.decay_schedule(0.05, -1.0)


# --- current_learning_rate ----------------------------------------------------------------------


@pytest.mark.parametrize("name", optim.BOOK_OPTIMIZERS)
def test_current_learning_rate_of_book_states(x64, name):
    params = {"w": jnp.ones((2, 3))}
    optimizer = optim.get_optimizer(name, learning_rate=0.5, decay=0.1)
    state = optimizer.init(params)
    assert float(optim.current_learning_rate(state)) == 0.5

    def step(state, _):
        _, state = optimizer.update({"w": jnp.full((2, 3), 0.25)}, state, params)
        return state, optim.current_learning_rate(state)

    # Logged inside lax.scan under jit, as a training loop does.
    state, rates = jax.jit(lambda s: jax.lax.scan(step, s, length=5))(state)
    np.testing.assert_allclose(rates, 0.5 * (1.0 / (1.0 + 0.1 * np.arange(1, 6))), rtol=1e-15)
    assert float(jax.jit(optim.current_learning_rate)(state)) == pytest.approx(0.5 / 1.5, rel=1e-15)
    # Without decay the rate stays the learning rate.
    optimizer = optim.get_optimizer(name, learning_rate=0.5)
    _, state = optimizer.update({"w": jnp.ones((2, 3))}, optimizer.init(params), params)
    assert float(optim.current_learning_rate(state)) == 0.5


def test_current_learning_rate_of_inject_hyperparams(x64):
    params = {"w": jnp.ones((2, 3))}
    grads = {"w": jnp.full((2, 3), 0.25)}
    optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=0.003, momentum=0.9)
    state = optimizer.init(params)
    assert float(optim.current_learning_rate(state)) == pytest.approx(0.003, rel=1e-15)
    _, state = optimizer.update(grads, state, params)
    assert float(jax.jit(optim.current_learning_rate)(state)) == pytest.approx(0.003, rel=1e-15)

    # A schedule: optax stores the value the last update used (schedule(0) at init).
    optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=lambda count: 1.0 / (1 + count))
    state = optimizer.init(params)
    rates = [float(optim.current_learning_rate(state))]
    for _ in range(3):
        _, state = optimizer.update(grads, state, params)
        rates.append(float(optim.current_learning_rate(state)))
    assert rates == [1.0, 1.0, 1 / 2, 1 / 3]


def test_current_learning_rate_of_other_states_is_nan():
    params = {"w": jnp.ones((2, 3))}
    for state in (
        optax.adam(1e-3).init(params),
        optax.sgd(0.1).init(params),
        optax.inject_hyperparams(optax.scale)(step_size=2.0).init(params),
        optax.chain(optax.clip(1.0), optim.sgd()).init(params),
        optax.EmptyState(),
    ):
        for rate in (
            optim.current_learning_rate(state),
            jax.jit(optim.current_learning_rate)(state),
        ):
            assert rate.shape == ()
            assert rate.dtype == jnp.float32
            assert np.isnan(rate)


# --- get_optimizer ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", optim.BOOK_OPTIMIZERS)
def test_get_optimizer_builds_the_book_optimizers(x64, name):
    grads = gradient_sequence(steps=3)
    for hyperparameters in ({}, {"learning_rate": 0.1, "decay": 0.1}):
        assert_histories_close(
            run_on_gradients(optim.get_optimizer(name, **hyperparameters), grads),
            book_on_gradients(name, hyperparameters, grads),
            1e-12,
        )


def test_get_optimizer_passes_optax_names_through(x64):
    grads = gradient_sequence(steps=3)
    for name, hp in (
        ("adam", {"learning_rate": 0.01, "b1": 0.8}),
        ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
        ("adagrad", {"learning_rate": 0.1}),
    ):
        optimizer = optim.get_optimizer(f"optax.{name}", **hp)
        assert isinstance(optimizer, optax.GradientTransformation)
        assert_histories_close(
            run_on_gradients(optimizer, grads),
            run_on_gradients(getattr(optax, name)(**hp), grads),
            0.0,
        )


@pytest.mark.parametrize("name", ["SGD", "momentum", "", "optax.not_an_optimizer", "optax.tree"])
def test_get_optimizer_unknown_name(name):
    with pytest.raises(ValueError, match="optimizer: ") as info:
        optim.get_optimizer(name)
    for valid in ("'sgd'", "'adagrad'", "'rmsprop'", "'adam'", "optax.<name>"):
        assert valid in str(info.value)


def test_get_optimizer_name_not_a_string():
    with pytest.raises(TypeError, match="optimizer: expected a name"):
        optim.get_optimizer(optim.sgd)


def test_get_optimizer_unknown_hyperparameters():
    with pytest.raises(TypeError, match=r"'sgd' takes no 'beta_1', 'lr'; it takes 'learning_rate'"):
        optim.get_optimizer("sgd", lr=0.1, beta_1=0.9)
    with pytest.raises(TypeError, match=r"'optax.adam' takes no 'beta1'"):
        optim.get_optimizer("optax.adam", learning_rate=1e-3, beta1=0.9)
    with pytest.raises(TypeError, match=r"'adagrad' takes no 'momentum'"):
        optim.get_optimizer("adagrad", momentum=0.9)


# --- bad hyperparameters ----------------------------------------------------------------------

BAD = [
    ("learning_rate", -0.1, r"learning_rate: expected a finite number >= 0, got -0.1"),
    ("learning_rate", float("nan"), r"learning_rate: expected a finite number >= 0, got nan"),
    ("learning_rate", jnp.asarray(-1.0), r"learning_rate: expected a finite number >= 0, got -1.0"),
    ("learning_rate", np.float64(-1.0), r"learning_rate: expected a finite number >= 0, got -1.0"),
    (
        "learning_rate",
        jnp.ones(3),
        r"learning_rate: expected a scalar, a finite number >= 0, got shape \(3,\)",
    ),
    ("decay", -1e-3, r"decay: expected a finite number >= 0, got -0.001"),
    ("decay", float("inf"), r"decay: expected a finite number >= 0, got inf"),
    ("learning_rate", -float("inf"), r"learning_rate: expected a finite number >= 0, got -inf"),
]
BAD_BY_OPTIMIZER = {
    "sgd": [
        ("momentum", 1.0, r"momentum: expected a number in \[0, 1\), got 1.0"),
        ("momentum", -0.1, r"momentum: expected a number in \[0, 1\), got -0.1"),
    ],
    "adagrad": [
        ("epsilon", 0.0, r"epsilon: expected a finite number > 0, got 0.0"),
        ("epsilon", -1e-7, r"epsilon: expected a finite number > 0, got -1e-07"),
    ],
    "rmsprop": [
        ("rho", 1.0, r"rho: expected a number in \[0, 1\), got 1.0"),
        ("rho", -0.5, r"rho: expected a number in \[0, 1\), got -0.5"),
        ("epsilon", 0, r"epsilon: expected a finite number > 0, got 0.0"),
    ],
    "adam": [
        ("beta_1", 1.0, r"beta_1: expected a number in \[0, 1\), got 1.0"),
        ("beta_2", 1.5, r"beta_2: expected a number in \[0, 1\), got 1.5"),
        ("beta_2", -0.1, r"beta_2: expected a number in \[0, 1\), got -0.1"),
        ("epsilon", 0.0, r"epsilon: expected a finite number > 0, got 0.0"),
    ],
}
BAD_CASES = [
    pytest.param(name, arg, value, match, id=f"{name}-{arg}={value}")
    for name in optim.BOOK_OPTIMIZERS
    for arg, value, match in BAD + BAD_BY_OPTIMIZER[name]
]


@pytest.mark.parametrize(("name", "arg", "value", "match"), BAD_CASES)
def test_bad_hyperparameter(name, arg, value, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)(**{arg: value})
    with pytest.raises(ValueError, match=match):
        optim.get_optimizer(name, **{arg: value})


@pytest.mark.parametrize("value", ["0.1", None, True, [0.1, 0.2], [0.1, [0.2]], 1j])
def test_hyperparameter_of_the_wrong_type(value):
    with pytest.raises((TypeError, ValueError), match="learning_rate: expected a"):
        optim.sgd(learning_rate=value)


BOUNDARY_CASES = [
    ("sgd", {"learning_rate": 0.0, "decay": 0.0, "momentum": 0.0}),
    ("sgd", {"learning_rate": 3, "decay": 1e9, "momentum": 0.999}),
    ("rmsprop", {"rho": 0.0, "epsilon": 1e-30}),
    ("adagrad", {"learning_rate": jnp.asarray(0.5), "epsilon": np.float32(1e-7)}),
    ("adam", {"beta_1": 0.0, "beta_2": 0.0}),
]


@pytest.mark.parametrize(
    ("name", "hyperparameters"),
    BOUNDARY_CASES,
    ids=[name + "".join(f"-{k}" for k in hp) for name, hp in BOUNDARY_CASES],
)
def test_boundary_values_are_accepted(x64, name, hyperparameters):
    """Values at the edge of each range (and arrays or NumPy scalars for numbers) build an
    optimizer whose steps are the book's class's with the same values (as Python floats)."""
    optimizer = getattr(optim, name)(**hyperparameters)
    steps = 3
    book = {k: float(v) for k, v in hyperparameters.items()}
    expected, _ = reference_training(name, book, steps=steps)
    params = jax.tree.map(jnp.asarray, initial_params())
    state = optimizer.init(params)
    for step in range(steps):
        grads = jax.tree.map(jnp.asarray, reference_grads(params))
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        assert_tree_close(params, expected[step], 1e-12, f"{name} step {step}")
    if book.get("learning_rate") == 0.0:  # no step moves anything
        start = jax.tree.leaves(initial_params())
        for got, want in zip(jax.tree.leaves(params), start, strict=True):
            np.testing.assert_array_equal(got, want)


def test_traced_hyperparameters_are_not_range_checked():
    # Under jit (or vmap) the value is unknown while tracing, so only the shape is checked:
    # the sweep engine validates its grid before tracing.
    params = {"w": jnp.ones(2)}
    rate = jax.jit(lambda lr: optim.current_learning_rate(optim.sgd(lr).init(params)))(-1.0)
    assert float(rate) == -1.0
    with pytest.raises(
        ValueError, match=r"momentum: expected a scalar, a number in \[0, 1\), got shape"
    ):
        jax.jit(lambda m: optim.sgd(momentum=m))(jnp.ones(3))


def test_equal_hyperparameters_give_equal_optimizers():
    # Value equality lets jit reuse a compiled loop for a freshly built, equal optimizer.
    assert optim.sgd(1.0) == optim.sgd(1.0) and hash(optim.sgd(1.0)) == hash(optim.sgd(1))
    assert optim.adam(0.01, decay=1e-3) == optim.adam(0.01, decay=1e-3)
    assert optim.sgd(1.0) != optim.sgd(0.5)
    assert optim.sgd(1.0, momentum=0.9) != optim.sgd(1.0)
    assert optim.adam() != optim.rmsprop()
    # Arrays (possibly traced in a sweep) keep identity semantics.
    lr = jnp.asarray(1.0)
    assert optim.sgd(lr) != optim.sgd(lr)
    opt = optim.sgd(lr)
    assert opt == opt
