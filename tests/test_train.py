"""`train`, the book's full-batch loop for any model, against document 002's printed log and the
book's NumPy classes (tests/numpy_reference): chapter 10's loop and chapters 14-17's."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest
from conftest import (
    DOCUMENT_002_VS_FLOAT64,
    book_draw,
    document_002_float64_losses,
    float32_allowance,
)

import nnfs_jax as nj
from nnfs_jax import loop, optim
from nnfs_jax.data import book_setup
from nnfs_jax.logs import History, LogEntry
from nnfs_jax.network import dropout_masks
from nnfs_jax.training import train

# Document 002's printed log, epochs 0-300: (epoch, accuracy, loss).
LOG_002 = [
    (0, 0.3433333333333333, 1.0986183881759644),
    (100, 0.4066666666666667, 1.083395004272461),
    (200, 0.39666666666666667, 1.0709291696548462),
    (300, 0.41, 1.069575548171997),
]


def reference_run(params, X, y, epochs, log_every=100, learning_rate=1.0, decay=0.0, momentum=0.0):
    """The documents' training loop, with the documents' NumPy classes (tests/numpy_reference),
    in the dtype of the arrays given. Returns (epoch, loss, accuracy, printed learning rate)
    rows and final params."""
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
            rows.append((epoch, float(loss), float(accuracy), optimizer.current_learning_rate))
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


def test_book_setup_is_the_nnfs_packages_draw():
    """book_setup(draw=d): the d-th draw after nnfs.init() of the nnfs package itself."""
    for draw in (1, 2):
        params, X, y = book_setup(draw=draw)
        expected_params, expected_X, expected_y = book_draw(draw)
        np.testing.assert_array_equal(X, expected_X)
        np.testing.assert_array_equal(y, expected_y)
        for got, want in zip(params, expected_params, strict=True):
            np.testing.assert_array_equal(got["weights"], want["weights"])
            np.testing.assert_array_equal(got["biases"], want["biases"])


def test_book_setup_replays_document_002_log():
    params, X, y = book_setup()
    _, history = train(params, X, y, optimizer=optim.sgd(1.0), epochs=301)
    assert isinstance(history, History)
    np.testing.assert_array_equal(history.epoch, [0, 100, 200, 300])
    float64 = document_002_float64_losses()
    for (epoch, accuracy, loss), got_acc, got_loss in zip(
        LOG_002, history.accuracy, history.loss, strict=True
    ):
        # Accuracy is a count of 300 samples, the same in every float32 realisation through
        # epoch 300 (conftest): exact. The loss: float32 round-off on any CPU, measured
        # against the float64 run of the same arrays (conftest.float32_allowance), and so
        # against the document's float32 value to that plus the document's own distance.
        assert round(float(got_acc) * 300) == round(accuracy * 300), epoch
        assert abs(float(got_loss) - float64[epoch]) <= float32_allowance(epoch), epoch
        allowed = float32_allowance(epoch) + DOCUMENT_002_VS_FLOAT64
        assert abs(float(got_loss) - loss) <= allowed, epoch


def test_the_float64_run_is_document_002_log_to_its_rounding():
    """The float64 reference the float32 runs are measured against: the documents' loop in
    NumPy float64 on the nnfs package's draw lands within 1 float32 spacing (2**-23) of every
    loss document 002 prints (it printed float32 values)."""
    float64 = document_002_float64_losses()
    for epoch, _, loss in LOG_002:
        assert abs(float64[epoch] - loss) <= DOCUMENT_002_VS_FLOAT64, epoch


def test_first_draw_is_not_the_document_log():
    """book_setup(draw=1), the first draw after nnfs.init(): its loss is the NumPy classes' in
    float64 on the nnfs package's own first draw (1.0985943) to float32 round-off at epoch 0,
    far from document 002's 1.0986184 (the second draw)."""
    params, X, y = book_setup(draw=1)
    book_params, book_X, book_y = book_draw(1)
    in_float64 = [{k: v.astype(np.float64) for k, v in layer.items()} for layer in book_params]
    expected, _, _ = ref.network_loss_and_grads(in_float64, book_X.astype(np.float64), book_y)
    assert abs(float(nj.loss(params, X, y)) - expected) <= float32_allowance(0)
    assert abs(expected - LOG_002[0][2]) > 10 * float32_allowance(0)


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


@pytest.mark.parametrize("grad", ["manual", "autodiff"])
def test_float32_stays_within_round_off_of_the_float64_run(grad):
    """float32 XLA against the documents' loop in NumPy float64 on the same arrays, every 10th
    epoch through 500: within the spread float32 round-off produces on any CPU, which SGD at
    lr 1.0 amplifies from about epoch 300 on (conftest.float32_allowance)."""
    params, X, y = book_setup()
    _, history = train(params, X, y, optimizer=optim.sgd(1.0), epochs=501, log_every=10, grad=grad)
    float64 = document_002_float64_losses()
    for epoch, loss in zip(history.epoch, history.loss, strict=True):
        assert abs(float(loss) - float64[epoch]) <= float32_allowance(epoch), (epoch, grad)


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
    # what the book prints: the rate the previous update set, 0.5 / (1 + decay * (epoch - 1))
    np.testing.assert_allclose(history.learning_rate, expected_rows[:, 3], rtol=1e-15)
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
    before = loop._chunk._cache_size()
    # new arrays, a freshly built but equal optimizer: the compiled loop is reused
    train(
        nj.init_params(jax.random.key(14), (2, 5, 3)), X + 1, y, optimizer=optim.sgd(0.7), epochs=5
    )
    assert loop._chunk._cache_size() == before
    train(nj.init_params(jax.random.key(14), (2, 5, 3)), X, y, optimizer=optim.sgd(0.6), epochs=5)
    assert loop._chunk._cache_size() == before + 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs: expected a positive integer"),
        ({"epochs": 2.5}, ValueError, "epochs: expected a positive integer"),
        ({"log_every": 0}, ValueError, "log_every: expected a positive integer"),
        ({"grad": "magic"}, ValueError, "grad: expected one of"),
        ({"optimizer": "sgd"}, TypeError, "optimizer: expected an optax.GradientTransformation"),
        ({"progress": 3}, TypeError, "progress: expected a callable"),
        ({"activation": "swish"}, ValueError, "activation: unknown activation 'swish'"),
        ({"model": "relu"}, TypeError, "model: expected a nnfs_jax.model.Model"),
        ({"model": nj.make_model(3)}, ValueError, "model: has 2 hidden activations"),
        ({"model": nj.make_model(2, dropout=0.5)}, ValueError, "key: the model has dropout"),
        ({"validation_data": (1, 2, 3)}, TypeError, "validation_data: expected a pair"),
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
    for field in History._fields[:-1]:  # the last, diverged_at, is one number per run
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


# --- chapters 14-17: any model, the same full-batch loop ----------------------------------------


class Holder:
    """What the book's optimizers update: a layer's weights and biases and their gradients."""

    def __init__(self, layer):
        self.weights = np.array(layer["weights"], np.float64)
        self.biases = np.array(layer["biases"], np.float64)


def book_loop(params, X, y, model, optimizer, epochs, log_every, key=None, validation=None):
    """The book's chapter 14-17 loop with its NumPy classes: forward (dropout on), data and
    regularization loss, the printed row before `backward`, then the optimizer's three calls.
    Epoch e's dropout takes the 0/1 patterns of the masks nnfs_jax draws for epoch e's key,
    fold_in(key, e), as train documents (`network.dropout_masks`; how a mask is drawn is
    test_model.py's documented-scheme test); the book's Layer_Dropout scales and
    back-propagates them itself. Returns rows of (epoch, loss, accuracy,
    printed learning rate, data loss, regularization loss, validation loss, validation accuracy)."""
    layers = [Holder(p) for p in params]
    names = [
        functools.partial(ref.ACTIVATIONS[a.name], **dict(a.options)) if a.options else a.name
        for a in model.activations
    ]
    regularizers = [{name: getattr(r, name) for name in vars(r)} for r in model.regularizers]
    head, precision = model.head.name, np.std(y) / 250
    rows = []
    for epoch in range(epochs):
        current = [{"weights": h.weights, "biases": h.biases} for h in layers]
        keeps = None
        if key is not None:
            masks = dropout_masks(current, jnp.asarray(X), model, jax.random.fold_in(key, epoch))
            keeps = []
            for mask, rate in zip(masks, model.dropout, strict=True):
                mask = np.asarray(mask)
                np.testing.assert_array_equal(mask[mask != 0], 1 / (1 - rate))
                keeps.append(mask != 0)
        data_loss, reg_loss, output, grads = ref.book_network(
            current,
            X,
            y,
            names,
            head,
            model.dropout if key is not None else None,
            regularizers,
            keeps,
        )
        if not epoch % log_every:
            val = (np.nan, np.nan)
            if validation is not None:
                v_loss, _, v_out, _ = ref.book_network(current, *validation, names, head)
                val = (v_loss, book_accuracy(v_out, validation[1], head, precision))
            accuracy = book_accuracy(output, y, head, precision)
            lr = optimizer.current_learning_rate
            rows.append((epoch, data_loss + reg_loss, accuracy, lr, data_loss, reg_loss, *val))
        for holder, g in zip(layers, grads, strict=True):
            holder.dweights, holder.dbiases = g["weights"], g["biases"]
        optimizer.pre_update_params()
        for holder in layers:
            optimizer.update_params(holder)
        optimizer.post_update_params()
    return np.array(rows)


def book_accuracy(output, y, head, precision):
    if head == "softmax":
        return np.mean(np.argmax(output, axis=1) == y)
    if head == "sigmoid":
        return np.mean((output > 0.5) * 1 == y)
    return np.mean(np.abs(output - y) < precision)


MODELS = {
    "softmax-l1-l2": ({"weight_regularizer_l2": (5e-3, 0), "bias_regularizer_l1": 1e-3}, "softmax"),
    "softmax-dropout": ({"dropout": 0.3, "weight_regularizer_l2": 1e-3}, "softmax"),
    "tanh": ({"activation": "tanh"}, "softmax"),
    "leaky-relu": ({"activation": nj.layers.activation("leaky_relu", slope=0.1)}, "softmax"),
    "sigmoid": ({"weight_regularizer_l2": 1e-3}, "sigmoid"),
    "linear-mse": ({"bias_regularizer_l2": 1e-3}, "linear_mse"),
}  # linear_mae: the book's MAE backward has the wrong sign (see the next test)


@pytest.mark.parametrize("name", MODELS)
def test_any_model_equals_the_books_loop_float64(x64, name):
    keywords, head = MODELS[name]
    rng = np.random.default_rng(5)
    outputs = {"softmax": 3, "sigmoid": 1}.get(head, 2)
    params = [
        {
            "weights": jnp.asarray(0.5 * rng.standard_normal((n_in, n_out))),
            "biases": jnp.asarray(0.1 * rng.standard_normal((1, n_out))),
        }
        for n_in, n_out in ((2, 6), (6, outputs))
    ]
    X = rng.standard_normal((24, 2))
    if head == "softmax":
        y = rng.integers(0, 3, 24)
    elif head == "sigmoid":
        y = rng.integers(0, 2, (24, 1)).astype(np.float64)
    else:
        y = rng.standard_normal((24, outputs))
    model = nj.make_model(2, head=head, **keywords)
    key = jax.random.key(11) if model.has_dropout else None
    validation = (X[:8] + 0.5, y[:8])
    expected = book_loop(
        params, X, y, model, ref.Optimizer_Adam(0.05, decay=1e-2), 31, 10, key, validation
    )
    _, history = train(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.05, decay=1e-2),
        epochs=31,
        log_every=10,
        key=key,
        validation_data=validation,
    )
    got = np.stack([np.asarray(history[i]) for i in range(len(History._fields) - 1)], axis=1)
    np.testing.assert_array_equal(got[:, 0], expected[:, 0])
    # accuracies are counts (of 24 and 8 comparisons per output): exact; losses and rates to
    # float64 round-off
    np.testing.assert_array_equal(
        np.round(got[:, 2] * 24 * outputs), np.round(expected[:, 2] * 24 * outputs)
    )
    np.testing.assert_array_equal(
        np.round(got[:, 7] * 8 * outputs), np.round(expected[:, 7] * 8 * outputs)
    )
    np.testing.assert_allclose(got[:, [1, 3, 4, 5, 6]], expected[:, [1, 3, 4, 5, 6]], rtol=1e-10)


def test_mean_absolute_error_descends_with_the_corrected_rule(x64):
    """The book's MAE backward climbs the loss (its sign is wrong); nnfs_jax's rule is the true
    gradient, so the manual run is jax.grad's run and the loss goes down."""
    rng = np.random.default_rng(6)
    params = nj.init_params(jax.random.key(0), (1, 8, 1), scale=0.5)
    X, y = rng.uniform(size=(32, 1)), rng.standard_normal((32, 1))
    model = nj.make_model(2, head="linear_mae")
    runs = [
        train(
            params, X, y, model=model, optimizer=optim.adam(0.01), epochs=201, log_every=50, grad=g
        )
        for g in ("manual", "autodiff")
    ]
    np.testing.assert_allclose(runs[0][1].loss, runs[1][1].loss, rtol=1e-12)
    assert float(runs[0][1].loss[-1]) < float(runs[0][1].loss[0])


def test_log_line_prints_the_books_float64_learning_rate():
    params, X, y = book_setup()
    model = nj.make_model(2, weight_regularizer_l2=(5e-4, 0), bias_regularizer_l2=(5e-4, 0))
    entries = []
    _, history = train(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.001, decay=5e-7),
        epochs=101,
        progress=entries.append,
    )
    assert [e.epoch for e in entries] == [0, 100]
    line = nj.format_log_line(entries[1])
    # 0.001 * (1. / (1. + 5e-7 * 99)), the rate the 99th update set, as Python prints it
    assert line.endswith("lr: 0.0009999505024501287"), line
    assert (
        line.startswith("epoch: 100, acc: ") and "(data_loss: " in line and ", reg_loss: " in line
    )
    assert history.learning_rate.dtype == jnp.float32
    assert float(history.learning_rate[1]) == pytest.approx(0.0009999505024501287, rel=1e-7)
    assert float(history.regularization_loss[0]) > 0
    np.testing.assert_allclose(
        history.loss, history.data_loss + history.regularization_loss, rtol=1e-6
    )


def test_resume_at_an_epoch_between_logs_equals_the_uninterrupted_run():
    params, X, y = book_setup(draw=1)
    opt = optim.sgd(0.5, decay=1e-3, momentum=0.5)
    whole, whole_history = train(params, X, y, optimizer=opt, epochs=40, log_every=10)
    half, state, first = train(
        params, X, y, optimizer=opt, epochs=13, log_every=10, return_state=True
    )
    rest, second = train(
        half, X, y, optimizer=opt, epochs=27, log_every=10, initial_state=state, initial_epoch=13
    )
    np.testing.assert_array_equal(first.epoch, [0, 10])
    np.testing.assert_array_equal(second.epoch, [20, 30])  # absolute epochs, as uninterrupted
    for field in History._fields[:-1]:  # the last, diverged_at, is one number per run
        joined = np.concatenate([getattr(first, field), getattr(second, field)])
        np.testing.assert_array_equal(joined, getattr(whole_history, field))
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(rest), strict=True):
        np.testing.assert_array_equal(a, b)
