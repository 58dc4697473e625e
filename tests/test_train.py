"""The compiled training loop against document 002's printed log and the NumPy reference."""

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest

import nnfs_jax as nj
from nnfs_jax import optim
from nnfs_jax.train import History, LogEntry, _train_chunk, book_setup, train

# Document 002's printed log, epochs 0-300: (epoch, accuracy, loss).
LOG_002 = [
    (0, 0.3433333333333333, 1.0986183881759644),
    (100, 0.4066666666666667, 1.083395004272461),
    (200, 0.39666666666666667, 1.0709291696548462),
    (300, 0.41, 1.069575548171997),
]


def reference_run(params, X, y, epochs, log_every=100, learning_rate=1.0, decay=0.0, momentum=0.0):
    """The documents' training loop, with the documents' NumPy classes (tests/numpy_reference),
    in the dtype of the arrays given. Returns (epoch, loss, accuracy) rows and final params."""
    dense1 = ref.Layer_Dense(np.array(params[0]["weights"]), np.array(params[0]["biases"]))
    dense2 = ref.Layer_Dense(np.array(params[1]["weights"]), np.array(params[1]["biases"]))
    relu = ref.Activation_ReLU()
    loss_activation = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = ref.Optimizer_SGD(learning_rate=learning_rate, decay=decay, momentum=momentum)
    rows = []
    for epoch in range(epochs):
        dense1.forward(X)
        relu.forward(dense1.output)
        dense2.forward(relu.output)
        loss = loss_activation.forward(dense2.output, y)
        if not epoch % log_every:
            accuracy = np.mean(np.argmax(loss_activation.output, axis=1) == y)
            rows.append((epoch, float(loss), float(accuracy)))
        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        relu.backward(dense2.dinputs)
        dense1.backward(relu.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
    final = [{"weights": d.weights, "biases": d.biases} for d in (dense1, dense2)]
    return np.array(rows), final


def test_book_setup_replays_document_002_log():
    params, X, y = book_setup()
    _, history = train(params, X, y, optimizer=optim.sgd(1.0), epochs=301)
    assert isinstance(history, History)
    np.testing.assert_array_equal(history.epoch, [0, 100, 200, 300])
    for (epoch, accuracy, loss), got_acc, got_loss in zip(
        LOG_002, history.accuracy, history.loss, strict=True
    ):
        # Accuracy is a count of 300 samples: exact. The loss is the document's float32 value
        # to 1 ulp (XLA sums the 300 sample losses in another order than NumPy).
        assert round(float(got_acc) * 300) == round(accuracy * 300), epoch
        assert float(got_loss) == pytest.approx(loss, abs=1.2e-7), epoch


def test_first_draw_is_not_the_document_log():
    params, X, y = book_setup(draw=1)
    assert float(nj.loss(params, X, y)) == pytest.approx(1.0985943, abs=2e-7)


def test_float64_tracks_the_numpy_reference(x64):
    params, X, y = book_setup()
    params = jax.tree.map(lambda a: a.astype(jnp.float64), params)
    X = X.astype(np.float64)
    expected, _ = reference_run(params, X, y.astype(np.int64), 501)
    for grad in ("manual", "autodiff"):
        _, history = train(params, X, y, optimizer=optim.sgd(1.0), epochs=501, grad=grad)
        np.testing.assert_allclose(history.loss, expected[:, 1], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(
            np.round(history.accuracy * 300), np.round(expected[:, 2] * 300)
        )


def test_float32_tracks_the_numpy_reference_until_chaos():
    """float32 XLA and float32 NumPy round differently (exp, division, summation order); the
    lr 1.0 spiral run amplifies those ulps from about epoch 300 on."""
    params, X, y = book_setup()
    expected, _ = reference_run(params, X, y.astype(np.int64), 501)
    _, history = train(params, X, y, optimizer=optim.sgd(1.0), epochs=501)
    diff = np.abs(np.asarray(history.loss, np.float64) - expected[:, 1])
    assert np.all(diff[:4] <= 2.5e-7)  # epochs 0-300: within two float32 ulps of ~1.07
    assert np.all(diff[4:] <= 1e-5)  # epochs 400-500: growing, still small


def test_manual_and_autodiff_trajectories_agree_float64(x64):
    params = nj.init_params(jax.random.key(0), (2, 16, 3), scale=0.1)
    X, y = nj.make_spiral(jax.random.key(1), 50, 3)
    runs = [
        train(params, X, y, optimizer=optim.sgd(1.0), epochs=501, log_every=10, grad=g)
        for g in ("manual", "autodiff")
    ]
    np.testing.assert_allclose(runs[0][1].loss, runs[1][1].loss, rtol=0, atol=1e-10)
    for a, b in zip(jax.tree.leaves(runs[0][0]), jax.tree.leaves(runs[1][0]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    ("decay", "momentum"),
    [(0.0, 0.0), (1e-3, 0.0), (1e-3, 0.9)],
    ids=["plain", "decay", "momentum"],
)
def test_final_params_and_learning_rate_match_the_reference_sgd(x64, decay, momentum):
    params = nj.init_params(jax.random.key(2), (2, 8, 3), scale=0.1)
    X, y = nj.make_spiral(jax.random.key(3), 20, 3)
    expected_rows, expected_params = reference_run(
        params, np.asarray(X), np.asarray(y), 120, 10, 0.5, decay, momentum
    )
    opt = optim.sgd(0.5, decay=decay, momentum=momentum)
    final, history = train(params, X, y, optimizer=opt, epochs=120, log_every=10)
    np.testing.assert_allclose(history.loss, expected_rows[:, 1], rtol=1e-12)
    np.testing.assert_allclose(history.learning_rate, 0.5 / (1 + decay * np.arange(0, 120, 10)))
    for got, want in zip(final, expected_params, strict=True):
        np.testing.assert_allclose(got["weights"], want["weights"], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(got["biases"], want["biases"], rtol=1e-10, atol=1e-13)


def test_history_is_measured_before_each_update():
    params = nj.init_params(jax.random.key(4), (2, 8, 3))
    X, y = nj.make_spiral(jax.random.key(5), 30, 3)
    final, history = train(params, X, y, optimizer=optim.sgd(1.0), epochs=7, log_every=3)
    np.testing.assert_array_equal(history.epoch, [0, 3, 6])
    assert float(history.loss[0]) == pytest.approx(float(nj.loss(params, X, y)), rel=1e-6)
    after_six, _ = train(params, X, y, optimizer=optim.sgd(1.0), epochs=6, log_every=3)
    assert float(history.loss[2]) == pytest.approx(float(nj.loss(after_six, X, y)), rel=1e-6)
    assert not np.allclose(final[0]["weights"], after_six[0]["weights"])


def test_any_optax_optimizer_and_one_hot_labels():
    params = nj.init_params(jax.random.key(6), (2, 16, 3), scale=0.1)
    X, y = nj.make_spiral(jax.random.key(7), 40, 3)
    final, history = train(
        params, X, jnp.eye(3)[y], optimizer=optax.adam(0.05), epochs=300, log_every=100
    )
    assert float(history.loss[-1]) < float(history.loss[0])
    assert np.isnan(float(history.learning_rate[0]))  # optax.adam does not expose its lr
    assert float(nj.loss(final, X, y)) < 0.8
    injected = optax.inject_hyperparams(optax.sgd)(learning_rate=0.3)
    _, history = train(params, X, y, optimizer=injected, epochs=3, log_every=1)
    np.testing.assert_allclose(history.learning_rate, 0.3)


def test_sigmoid_hidden_layers_train():
    params = nj.init_params(jax.random.key(8), (2, 16, 16, 3), scale=0.5)
    X, y = nj.make_vertical(jax.random.key(9), 30, 3)
    _, history = train(
        params, X, y, optimizer=optim.adam(0.05), epochs=200, activation="sigmoid", log_every=50
    )
    assert float(history.accuracy[-1]) > 0.8


def test_progress_receives_every_logged_epoch():
    params = nj.init_params(jax.random.key(10), (2, 4, 3))
    X, y = nj.make_spiral(jax.random.key(11), 10, 3)
    seen = []
    _, history = train(
        params, X, y, optimizer=optim.sgd(1.0), epochs=25, log_every=10, progress=seen.append
    )
    jax.effects_barrier()
    assert [e.epoch for e in seen] == [0, 10, 20]
    assert all(isinstance(e, LogEntry) and e.epochs == 25 for e in seen)
    np.testing.assert_allclose([e.loss for e in seen], history.loss, rtol=1e-6)


def test_no_recompilation_for_the_same_shapes_and_optimizer_settings():
    X, y = nj.make_spiral(jax.random.key(12), 10, 3)
    train(nj.init_params(jax.random.key(13), (2, 5, 3)), X, y, optimizer=optim.sgd(0.7), epochs=5)
    before = _train_chunk._cache_size()
    # new arrays, a freshly built but equal optimizer: the compiled loop is reused
    train(
        nj.init_params(jax.random.key(14), (2, 5, 3)), X + 1, y, optimizer=optim.sgd(0.7), epochs=5
    )
    assert _train_chunk._cache_size() == before
    train(nj.init_params(jax.random.key(14), (2, 5, 3)), X, y, optimizer=optim.sgd(0.6), epochs=5)
    assert _train_chunk._cache_size() == before + 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs: expected a positive integer"),
        ({"epochs": 2.5}, ValueError, "epochs: expected a positive integer"),
        ({"log_every": 0}, ValueError, "log_every: expected a positive integer"),
        ({"grad": "magic"}, ValueError, "grad: expected one of"),
        ({"optimizer": "sgd"}, TypeError, "optimizer: expected an optax.GradientTransformation"),
        ({"progress": 3}, TypeError, "progress: expected a callable"),
        ({"activation": "tanh"}, ValueError, "activation: unknown activation 'tanh'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    params = nj.init_params(jax.random.key(15), (2, 4, 3))
    X, y = nj.make_spiral(jax.random.key(16), 5, 3)
    options = {"optimizer": optim.sgd(1.0), "epochs": 10} | kwargs
    with pytest.raises(error, match=match):
        train(params, X, y, **options)


def test_bad_data_is_caught_before_training():
    params = nj.init_params(jax.random.key(17), (2, 4, 3))
    X, y = nj.make_spiral(jax.random.key(18), 5, 3)
    with pytest.raises(ValueError, match="X: contains NaN"):
        train(params, X.at[0, 0].set(jnp.nan), y, optimizer=optim.sgd(), epochs=3)
    with pytest.raises(ValueError, match=r"y: labels must lie in \[0, 3\)"):
        train(params, X, y.at[0].set(7), optimizer=optim.sgd(), epochs=3)
    with pytest.raises(ValueError, match="draw: expected a positive integer"):
        book_setup(draw=0)


@pytest.mark.parametrize("optimizer", [optim.sgd(0.5, decay=1e-3, momentum=0.9), optim.adam(0.02)])
def test_resume_from_a_checkpoint_equals_the_uninterrupted_run(tmp_path, optimizer):
    params, X, y = book_setup()
    whole, whole_history = train(params, X, y, optimizer=optimizer, epochs=300, log_every=50)
    half, state, first = train(
        params, X, y, optimizer=optimizer, epochs=150, log_every=50, return_state=True
    )
    path = nj.save_checkpoint(tmp_path / "run.npz", params=half, opt_state=state, step=150)
    checkpoint = nj.load_checkpoint(path, like={"params": half, "opt_state": state})
    resumed, second = train(
        None, X, y, optimizer=optimizer, epochs=150, log_every=50, resume=checkpoint
    )
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(resumed), strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit
    for field in History._fields:
        joined = np.concatenate([getattr(first, field), getattr(second, field)])
        np.testing.assert_array_equal(joined, getattr(whole_history, field))
    # initial_state/initial_epoch is the same continuation without a file
    again, _ = train(
        half,
        X,
        y,
        optimizer=optimizer,
        epochs=150,
        log_every=50,
        initial_state=state,
        initial_epoch=150,
    )
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(again), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_resume_arguments(tmp_path):
    params, X, y = book_setup()
    sgd = optim.sgd(1.0, momentum=0.5)
    with pytest.raises(TypeError, match=r"resume: expected a nnfs_jax\.checkpoint\.Checkpoint"):
        train(None, X, y, optimizer=sgd, epochs=2, resume={"params": params})
    _, state, _ = train(params, X, y, optimizer=sgd, epochs=2, return_state=True)
    path = nj.save_checkpoint(tmp_path / "c.npz", params=params, opt_state=state, step=2)
    checkpoint = nj.load_checkpoint(path, like={"params": params, "opt_state": state})
    with pytest.raises(ValueError, match="params: pass None with resume="):
        train(params, X, y, optimizer=sgd, epochs=2, resume=checkpoint)
    with pytest.raises(ValueError, match="initial_state: does not have the structure"):
        train(params, X, y, optimizer=optim.adam(), epochs=2, initial_state=state)
    with pytest.raises(ValueError, match="initial_epoch: expected a non-negative integer"):
        train(params, X, y, optimizer=sgd, epochs=2, initial_state=state, initial_epoch=-1)
    with pytest.raises(TypeError, match="return_state: expected True or False"):
        train(params, X, y, optimizer=sgd, epochs=2, return_state="yes")
