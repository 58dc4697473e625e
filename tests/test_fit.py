"""nnfs_jax.fitting.fit against a NumPy transcription of the book's chapter 18-19 `Model`.

`BookModel` below is the book's `Model.train` / `Model.evaluate` / `Model.predict` written over
the book's layer classes in `numpy_reference` (not over nnfs_jax): the batch loop with its
`train_steps += 1` for the leftover samples, the accumulated loss and accuracy
(`accumulated_sum / accumulated_count`), the regularization loss after the epoch's updates,
and the evaluation without dropout and without regularization. It draws nothing itself: the
batches come in the order it is given (the book's own loop takes them in order; to follow a
shuffled run it is given the permutation `fit` documents), and the dropout layers take their
0/1 patterns from the masks `fit` documents (`model.dropout_masks` from the documented keys).
Expected values come from it, from jax.grad or from arithmetic, never from fit itself.
"""

import contextlib
import functools
import itertools
import logging

import jax
import jax.numpy as jnp
import numpy as np
import numpy_reference as ref
import optax
import pytest

import nnfs_jax as nj
from nnfs_jax import fitting, logs, optim
from nnfs_jax.checkpoint import load_checkpoint, save_checkpoint
from nnfs_jax.fitting import evaluate, fit, predict, steps_per_epoch
from nnfs_jax.logs import FitHistory, FitLogEntry, format_epoch
from nnfs_jax.network import dropout_masks

TOL = 1e-10  # float64 against float64 NumPy

# --- the book's Model, transcribed -------------------------------------------------------------


class Accuracy:
    """The book's `Accuracy` with `Accuracy_Categorical` / `Accuracy_Regression` compares."""

    def __init__(self, head, y):
        self.head = head
        self.precision = np.std(y) / 250  # Accuracy_Regression.init(y), used by the linear heads

    def compare(self, predictions, y):
        if self.head == "softmax":
            return predictions == (np.argmax(y, axis=1) if y.ndim == 2 else y)
        if self.head == "sigmoid":
            return predictions == y
        return np.absolute(predictions - y) < self.precision

    def new_pass(self):
        self.accumulated_sum, self.accumulated_count = 0, 0

    def calculate(self, predictions, y):
        comparisons = self.compare(predictions, y)
        self.accumulated_sum += np.sum(comparisons)
        self.accumulated_count += len(comparisons)
        return np.mean(comparisons)

    def calculate_accumulated(self):
        return self.accumulated_sum / self.accumulated_count


class MaskStream:
    """Stands in for `np.random` in `Layer_Dropout`: `binomial` hands out the given 0/1
    patterns in the order the layers ask for them."""

    def __init__(self):
        self.keeps = []

    def binomial(self, n, p, size):
        keep = self.keeps.pop(0)
        assert n == 1 and keep.shape == tuple(size)
        return keep.astype(np.int64)


class BookModel:
    """The book's chapter-19 `Model` for Dense -> act -> [Dropout] -> ... -> Dense -> head."""

    def __init__(self, params, activations, head, optimizer, dropout=None, regularizers=None):
        n = len(params)
        regularizers = regularizers or [{}] * n
        self.denses = [
            ref.Layer_Dense_Regularized(np.array(p["weights"]), np.array(p["biases"]), **r)
            for p, r in zip(params, regularizers, strict=True)
        ]
        # an activation: a name in ref.ACTIVATIONS, or a function making the layer
        self.acts = [ref.ACTIVATIONS[a]() if isinstance(a, str) else a() for a in activations]
        self.masks = MaskStream()
        rates = dropout or [0] * (n - 1)
        self.dropouts = [ref.Layer_Dropout(r, self.masks) if r > 0 else None for r in rates]
        self.head = head
        if head == "softmax":
            self.last = ref.Activation_Softmax()
            self.loss = ref.Loss_CategoricalCrossentropy_Regularized()
            self.softmax_classifier_output = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
        else:
            self.last = ref.Activation_Sigmoid() if head == "sigmoid" else ref.Activation_Linear()
            self.loss = {
                "sigmoid": ref.Loss_BinaryCrossentropy,
                "linear_mse": ref.Loss_MeanSquaredError,
                "linear_mae": ref.Loss_MeanAbsoluteError,
            }[head]()
        self.optimizer = optimizer

    @property
    def params(self):
        return [{"weights": d.weights, "biases": d.biases} for d in self.denses]

    def forward(self, X, training):
        inputs = X
        for dense, act, drop in zip(self.denses[:-1], self.acts, self.dropouts, strict=True):
            dense.forward(inputs)
            act.forward(dense.output)
            inputs = act.output
            if drop is not None:
                drop.forward(inputs, training)
                inputs = drop.output
        self.denses[-1].forward(inputs)
        self.last.forward(self.denses[-1].output)
        return self.last.output

    def predictions(self, output):
        if self.head == "softmax":
            return np.argmax(output, axis=1)
        if self.head == "sigmoid":
            return (output > 0.5) * 1
        return output

    def regularization_loss(self):
        return sum(self.loss.regularization_loss(d) for d in self.denses)

    def backward(self, output, y):
        if self.head == "softmax":
            self.softmax_classifier_output.backward(output, y)
            dvalues = self.softmax_classifier_output.dinputs
        else:
            self.loss.backward(output, y)
            self.last.backward(self.loss.dinputs)
            dvalues = self.last.dinputs
        for i in reversed(range(len(self.denses))):
            if i < len(self.acts):
                if self.dropouts[i] is not None:
                    self.dropouts[i].backward(dvalues)
                    dvalues = self.dropouts[i].dinputs
                self.acts[i].backward(dvalues)
                dvalues = self.acts[i].dinputs
            self.denses[i].backward(dvalues)
            dvalues = self.denses[i].dinputs

    def train(
        self, X, y, *, epochs, batch_size=None, validation_data=None, orders=None, keeps=None
    ):
        """The book's loop. orders: per epoch, the sample order to take the batches in (None:
        as given). keeps: a function (epoch, step, batch_X) -> the 0/1 patterns of that step's
        dropout layers. Returns the book's printed numbers per epoch."""
        self.accuracy = Accuracy(self.head, y)
        train_steps = 1
        if batch_size is not None:
            train_steps = len(X) // batch_size
            if train_steps * batch_size < len(X):
                train_steps += 1
        rows = []
        for epoch in range(1, epochs + 1):
            order = np.arange(len(X)) if orders is None else orders[epoch - 1]
            X_epoch, y_epoch = X[order], y[order]
            accumulated_sum, accumulated_count = 0, 0
            self.accuracy.new_pass()
            for step in range(train_steps):
                if batch_size is None:
                    batch_X, batch_y = X_epoch, y_epoch
                else:
                    batch_X = X_epoch[step * batch_size : (step + 1) * batch_size]
                    batch_y = y_epoch[step * batch_size : (step + 1) * batch_size]
                if keeps is not None:
                    self.masks.keeps.extend(keeps(epoch, step, batch_X))
                output = self.forward(batch_X, training=True)
                sample_losses = self.loss.forward(output, batch_y)  # Loss.calculate
                accumulated_sum += np.sum(sample_losses)
                accumulated_count += len(sample_losses)
                self.accuracy.calculate(self.predictions(output), batch_y)
                self.backward(output, batch_y)
                self.optimizer.pre_update_params()
                for dense in self.denses:
                    self.optimizer.update_params(dense)
                self.optimizer.post_update_params()
            data_loss = accumulated_sum / accumulated_count
            regularization_loss = self.regularization_loss()
            row = {
                "loss": data_loss + regularization_loss,
                "data_loss": data_loss,
                "regularization_loss": regularization_loss,
                "accuracy": self.accuracy.calculate_accumulated(),
                "learning_rate": self.optimizer.current_learning_rate,
            }
            if validation_data is not None:
                row["validation_loss"], row["validation_accuracy"] = self.evaluate(
                    *validation_data, batch_size=batch_size
                )
            rows.append(row)
        return {name: np.array([r[name] for r in rows]) for name in rows[0]}

    def evaluate(self, X_val, y_val, *, batch_size=None):
        validation_steps = 1
        if batch_size is not None:
            validation_steps = len(X_val) // batch_size
            if validation_steps * batch_size < len(X_val):
                validation_steps += 1
        accumulated_sum, accumulated_count = 0, 0
        self.accuracy.new_pass()
        for step in range(validation_steps):
            if batch_size is None:
                batch_X, batch_y = X_val, y_val
            else:
                batch_X = X_val[step * batch_size : (step + 1) * batch_size]
                batch_y = y_val[step * batch_size : (step + 1) * batch_size]
            output = self.forward(batch_X, training=False)
            sample_losses = self.loss.forward(output, batch_y)
            accumulated_sum += np.sum(sample_losses)
            accumulated_count += len(sample_losses)
            self.accuracy.calculate(self.predictions(output), batch_y)
        return accumulated_sum / accumulated_count, self.accuracy.calculate_accumulated()

    def predict(self, X, *, batch_size=None):
        steps = 1 if batch_size is None else -(-len(X) // batch_size)
        size = len(X) if batch_size is None else batch_size
        return np.vstack(
            [self.forward(X[s * size : (s + 1) * size], training=False) for s in range(steps)]
        )


# --- set-ups ----------------------------------------------------------------------------------


def spiral(samples, classes, seed, dtype=np.float64):
    """The nnfs spiral (radius 0..1, angle with N(0, 0.2) noise) drawn with NumPy: test data
    from NumPy compile nothing (a jitted generator would compile once per size)."""
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, samples), classes)
    c = np.repeat(np.arange(classes), samples)
    t = np.linspace(0.0, 4.0, samples)[None, :].repeat(classes, 0).ravel() + 4.0 * c
    t = t + 0.2 * rng.standard_normal(samples * classes)
    X = np.stack([r * np.sin(2.5 * t), r * np.cos(2.5 * t)], axis=1)
    return X.astype(dtype), c.astype(np.int32)


def network(sizes, seed, dtype=jnp.float64):
    """Random weights (0.5 N(0, 1)) and small random biases (0.1 N(0, 1)), so no
    pre-activation sits exactly at a kink; drawn with NumPy in `dtype` as JAX has it (float32
    without x64)."""
    rng = np.random.default_rng(seed)
    dtype = jax.dtypes.canonicalize_dtype(dtype)
    return [
        {
            "weights": (0.5 * rng.standard_normal((n_in, n_out))).astype(dtype),
            "biases": (0.1 * rng.standard_normal((1, n_out))).astype(dtype),
        }
        for n_in, n_out in itertools.pairwise(sizes)
    ]


def documented_order(key, epoch, samples):
    """The permutation fit documents for `epoch` (1-based)."""
    shuffle_key, _ = jax.random.split(jax.random.fold_in(key, epoch))
    return np.asarray(jax.random.permutation(shuffle_key, samples))


def documented_keeps(key, params, model, drawn=None):
    """The 0/1 patterns of each step's dropout layers: read from the masks nnfs_jax draws
    (`network.dropout_masks`) for the keys fit documents for that epoch and step. Only the
    0/1 pattern goes to the book's Layer_Dropout, which scales and back-propagates it itself;
    each mask must be 0 or exactly 1 / (1 - rate). drawn: a list collecting the patterns."""

    def keeps(epoch, step, batch_X):
        _, dropout_key = jax.random.split(jax.random.fold_in(key, epoch))
        masks = dropout_masks(
            params, jnp.asarray(batch_X), model, jax.random.fold_in(dropout_key, step)
        )
        patterns = []
        for mask, rate in zip(masks, model.dropout, strict=True):
            if mask is None:
                continue
            mask = np.asarray(mask)
            np.testing.assert_array_equal(mask[mask != 0], 1 / (1 - rate))
            patterns.append(mask != 0)
        if drawn is not None:
            drawn.extend(patterns)
        return patterns

    return keeps


def assert_history_matches(history, expected, tol=TOL):
    for name, values in expected.items():
        np.testing.assert_allclose(getattr(history, name), values, rtol=tol, atol=tol, err_msg=name)


def assert_params_match(params, expected, tol=TOL):
    for got, want in zip(params, expected, strict=True):
        for leaf in ("weights", "biases"):
            np.testing.assert_allclose(got[leaf], want[leaf], rtol=tol, atol=tol, err_msg=leaf)


REGULARIZED = {"weight_regularizer_l2": 5e-4, "bias_regularizer_l2": 5e-4}


# --- against the book -------------------------------------------------------------------------


def test_full_batch_with_l2_and_validation_matches_the_book(x64):
    X, y = spiral(30, 3, 0)
    X_val, y_val = spiral(20, 3, 1)
    params = network((2, 16, 3), 2)
    model = nj.make_model(2, weight_regularizer_l2=(5e-4, 0), bias_regularizer_l2=(5e-4, 0))
    book = BookModel(
        params, ["relu"], "softmax", ref.Optimizer_Adam(0.02, 5e-7), regularizers=[REGULARIZED, {}]
    )
    expected = book.train(X, y, epochs=6, validation_data=(X_val, y_val))
    final, state, history = fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.02, 5e-7),
        epochs=6,
        key=jax.random.key(3),
        validation_data=(X_val, y_val),
    )
    assert isinstance(history, FitHistory)
    np.testing.assert_array_equal(history.epoch, np.arange(1, 7))
    np.testing.assert_array_equal(history.step, np.arange(1, 7))  # one update per epoch
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)
    assert int(state.iterations) == 6


def test_the_last_partial_batch_is_kept_in_order(x64):
    """50 samples in batches of 16: steps of 16, 16, 16 and 2 (the book's train_steps += 1);
    sigmoid head, samples taken in order (shuffle=False, the book's own loop)."""
    X, _ = spiral(25, 2, 4)
    y = (X[:, 0] > 0).astype(np.float64)[:, None]
    params = network((2, 8, 8, 1), 5)
    model = nj.make_model(
        3, activation=("relu", "sigmoid"), head="sigmoid", weight_regularizer_l1=1e-3
    )
    book = BookModel(
        params,
        ["relu", "sigmoid"],
        "sigmoid",
        ref.Optimizer_Adam(0.01, 1e-3),
        regularizers=[{"weight_regularizer_l1": 1e-3}] * 3,
    )
    expected = book.train(X, y, epochs=3, batch_size=16, validation_data=(X[:13], y[:13]))
    final, _, history = fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.01, 1e-3),
        epochs=3,
        batch_size=16,
        key=jax.random.key(6),
        shuffle=False,
        validation_data=(X[:13], y[:13]),
    )
    np.testing.assert_array_equal(history.step, [4, 8, 12])
    assert steps_per_epoch(50, 16) == 4
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)


def test_a_lone_leftover_sample_gets_a_full_step_and_the_learning_rate_is_the_last_used(x64):
    """17 samples in batches of 16: the second step holds one sample; its loss is that sample's
    loss, not 1/16 of it (the mean is over the batch's own samples). The learning rate logged
    is the one the epoch's last update used: lr / (1 + decay * (iterations - 1))."""
    X, _ = spiral(17, 1, 7)
    y = np.random.default_rng(8).integers(0, 3, 17).astype(np.int32)
    params = network((2, 4, 3), 9)
    model = nj.make_model(2)
    book = BookModel(params, ["relu"], "softmax", ref.Optimizer_SGD(0.5, decay=0.1))
    expected = book.train(X, y, epochs=2, batch_size=16)
    final, _, history = fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.sgd(0.5, decay=0.1),
        epochs=2,
        batch_size=16,
        key=jax.random.key(0),
        shuffle=False,
    )
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)
    np.testing.assert_allclose(history.learning_rate, [0.5 / 1.1, 0.5 / 1.3], rtol=1e-15)
    np.testing.assert_array_equal(history.step, [2, 4])


def test_any_optax_optimizer_and_a_batch_larger_than_the_data(x64):
    """batch_size >= samples is one full batch per epoch (the book's train_steps = 0 + 1);
    optax.sgd is the book's SGD by value, and its state has no learning rate to log (NaN)."""
    X, y = spiral(10, 3, 31)
    params = network((2, 4, 3), 32)
    book = BookModel(params, ["relu"], "softmax", ref.Optimizer_SGD(0.1))
    expected = book.train(X, y, epochs=2)
    final, _, history = fit(
        params,
        X,
        y,
        model=nj.make_model(2),
        optimizer=optax.sgd(0.1),
        epochs=2,
        batch_size=1000,
        key=jax.random.key(0),
        shuffle=False,
    )
    np.testing.assert_array_equal(history.step, [1, 2])
    assert np.isnan(history.learning_rate).all()
    assert np.isnan(history.validation_loss).all() and np.isnan(history.validation_accuracy).all()
    expected.pop("learning_rate")
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)


def test_the_documents_classifier_needs_no_model_and_no_key_without_shuffling(x64):
    """model=None is the documents' classifier (Dense -> ReLU -> Dense -> softmax); a run that
    neither shuffles nor drops out draws nothing, so it needs no key: mini-batches in order
    (shuffle=False), and the full batch (shuffle left at True: one batch has no order)."""
    X, y = spiral(20, 3, 42)
    X_val, y_val = spiral(8, 3, 43)
    params = network((2, 8, 3), 44)
    book = BookModel(params, ["relu"], "softmax", ref.Optimizer_SGD(0.8, decay=0.05, momentum=0.5))
    expected = book.train(X, y, epochs=3, batch_size=16, validation_data=(X_val, y_val))
    final, state, history = fit(
        params,
        X,
        y,
        optimizer=optim.sgd(0.8, decay=0.05, momentum=0.5),
        epochs=3,
        batch_size=16,
        shuffle=False,
        validation_data=(X_val, y_val),
    )
    np.testing.assert_array_equal(history.step, [4, 8, 12])  # 16, 16, 16 and 12 samples
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)
    assert int(state.iterations) == 12
    # evaluate and predict default to the same classifier
    loss, acc = evaluate(final, X_val, y_val, batch_size=5)
    want_loss, want_acc = book.evaluate(X_val, y_val, batch_size=5)
    assert float(loss) == pytest.approx(want_loss, abs=TOL)
    assert float(acc) == pytest.approx(want_acc, abs=TOL)
    np.testing.assert_allclose(predict(final, X_val), book.predict(X_val), rtol=TOL, atol=TOL)

    full_book = BookModel(params, ["relu"], "softmax", ref.Optimizer_Adam(0.02))
    expected = full_book.train(X, y, epochs=2)
    final, _, history = fit(params, X, y, optimizer=optim.adam(0.02), epochs=2)
    np.testing.assert_array_equal(history.step, [1, 2])
    assert_history_matches(history, expected)
    assert_params_match(final, full_book.params)


@pytest.mark.parametrize("grad", ["manual", "autodiff"])
@pytest.mark.parametrize(
    ("activation", "name", "book_activation"),
    [
        ("tanh", "tanh", "tanh"),
        (
            nj.layers.activation("leaky_relu", slope=0.2),
            "leaky_relu",
            functools.partial(ref.Activation_LeakyReLU, 0.2),
        ),
    ],
    ids=["tanh", "leaky_relu"],
)
def test_tanh_and_leaky_relu_networks_match_the_numpy_reference(
    x64, activation, name, book_activation, grad
):
    """The activations beyond the book's, as records of a model: shuffled mini-batches with a
    leftover batch, L2 on the hidden layer and validation data, against `BookModel` with the
    NumPy transcriptions of tanh (backward: dvalues * (1 - output**2)) and leaky ReLU with
    slope 0.2 (the random biases put no pre-activation at its kink)."""
    X, y = spiral(15, 3, 45)
    X_val, y_val = spiral(6, 3, 46)
    params = network((2, 8, 3), 47)
    model = nj.make_model(2, activation=activation, weight_regularizer_l2=(1e-3, 0))
    assert [a.name for a in model.activations] == [name]
    key = jax.random.key(48)
    orders = [documented_order(key, epoch, 45) for epoch in range(1, 4)]
    book = BookModel(
        params,
        [book_activation],
        "softmax",
        ref.Optimizer_Adam(0.03, 1e-2),
        regularizers=[{"weight_regularizer_l2": 1e-3}, {}],
    )
    expected = book.train(
        X, y, epochs=3, batch_size=20, validation_data=(X_val, y_val), orders=orders
    )
    final, _, history = fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.03, 1e-2),
        epochs=3,
        batch_size=20,
        key=key,
        grad=grad,
        validation_data=(X_val, y_val),
    )
    np.testing.assert_array_equal(history.step, [3, 6, 9])
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)


@pytest.mark.parametrize("grad", ["manual", "autodiff"])
def test_shuffled_batches_follow_the_documented_permutation(x64, grad):
    """Reshuffled every epoch from the key; the gradient from the book's backward pass or from
    jax.grad of the total loss (no probability is clipped here, so they agree)."""
    X, y = spiral(20, 3, 10)
    params = network((2, 8, 3), 11)
    model = nj.make_model(2, weight_regularizer_l2=1e-3)
    key = jax.random.key(12)
    orders = [documented_order(key, epoch, 60) for epoch in range(1, 4)]
    for order in orders:  # a permutation, a different one every epoch
        np.testing.assert_array_equal(np.sort(order), np.arange(60))
    assert not any(np.array_equal(orders[i], orders[j]) for i, j in ((0, 1), (0, 2), (1, 2)))
    book = BookModel(
        params,
        ["relu"],
        "softmax",
        ref.Optimizer_Adam(0.01),
        regularizers=[{"weight_regularizer_l2": 1e-3}] * 2,
    )
    expected = book.train(X, y, epochs=3, batch_size=25, orders=orders)
    final, _, history = fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.01),
        epochs=3,
        batch_size=25,
        key=key,
        grad=grad,
    )
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)


def test_dropout_in_training_only_and_validation_without_regularization(x64):
    X, y = spiral(20, 3, 13)
    X_val, y_val = spiral(10, 3, 14)
    params = network((2, 16, 3), 15)
    model = nj.make_model(
        2, dropout=0.1, weight_regularizer_l2=(5e-4, 0), bias_regularizer_l2=(5e-4, 0)
    )
    key = jax.random.key(16)
    orders = [documented_order(key, epoch, 60) for epoch in range(1, 4)]
    book = BookModel(
        params,
        ["relu"],
        "softmax",
        ref.Optimizer_Adam(0.05, 5e-5),
        dropout=[0.1],
        regularizers=[REGULARIZED, {}],
    )
    expected = book.train(
        X,
        y,
        epochs=3,
        batch_size=32,
        validation_data=(X_val, y_val),
        orders=orders,
        keeps=documented_keeps(key, params, model, drawn := []),
    )
    assert not book.masks.keeps  # every drawn pattern was used
    # 3 epochs x 60 samples x 16 units = 2880 draws, each kept with probability 0.9: the kept
    # fraction's standard error is sqrt(0.9 * 0.1 / 2880) = 0.0056; 5 of them = 0.028
    kept = np.concatenate([p.ravel() for p in drawn])
    assert kept.size == 2880 and abs(kept.mean() - 0.9) < 0.028
    final, _, history = fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.05, 5e-5),
        epochs=3,
        batch_size=32,
        key=key,
        validation_data=(X_val, y_val),
    )
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)
    # validation: no dropout, no regularization loss (by independent arithmetic on the result)
    ref_val = BookModel(final, ["relu"], "softmax", None)
    ref_val.accuracy = Accuracy("softmax", y)
    val_loss, val_acc = ref_val.evaluate(X_val, y_val)
    assert history.validation_loss[-1] == pytest.approx(val_loss, abs=TOL)
    assert history.validation_accuracy[-1] == pytest.approx(val_acc, abs=TOL)
    assert float(history.regularization_loss[-1]) > 1e-3


def test_regression_precision_comes_from_the_training_targets(x64):
    """Linear head: the accuracy tolerance is std(y_train) / 250 for the validation data too
    (the book's accuracy.init(y) once), so the validation accuracy is not that of its own std."""
    X, y = nj.sine_data(64)
    X_val, y_val = X[::3] + 0.01, 3 * np.sin(2 * np.pi * (X[::3] + 0.01))  # another std
    params = network((1, 16, 1), 17)
    model = nj.make_model(2, head="linear_mse")
    book = BookModel(params, ["relu"], "linear_mse", ref.Optimizer_Adam(0.005, 1e-3))
    expected = book.train(X, y, epochs=4, batch_size=20, validation_data=(X_val, y_val))
    final, _, history = fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(0.005, 1e-3),
        epochs=4,
        batch_size=20,
        key=jax.random.key(0),
        shuffle=False,
        validation_data=(X_val, y_val),
    )
    assert_history_matches(history, expected)
    assert_params_match(final, book.params)
    precision = np.std(y) / 250
    out = BookModel(final, ["relu"], "linear_mse", None).predict(X_val)
    loss, acc = evaluate(final, X_val, y_val, model=model, precision=precision)
    assert float(acc) == pytest.approx(np.mean(np.abs(out - y_val) < precision), abs=TOL)
    assert float(loss) == pytest.approx(np.mean((out - y_val) ** 2), abs=TOL)


def test_evaluate_and_predict_in_batches_match_the_book(x64):
    X, y = spiral(23, 3, 21)
    params = network((2, 8, 3), 22)
    model = nj.make_model(2)
    book = BookModel(params, ["relu"], "softmax", None)
    book.accuracy = Accuracy("softmax", y)
    for batch_size in (None, 7, 23):  # a leftover batch, none
        loss, acc = evaluate(params, X, y, model=model, batch_size=batch_size)
        want_loss, want_acc = book.evaluate(X, y, batch_size=batch_size)
        assert float(loss) == pytest.approx(want_loss, abs=TOL)
        assert float(acc) == pytest.approx(want_acc, abs=TOL)
        out = predict(params, X, model=model, batch_size=batch_size)
        np.testing.assert_allclose(out, book.predict(X, batch_size=batch_size), rtol=TOL, atol=TOL)


def test_binary_accuracy_at_one_half(x64):
    params = [{"weights": np.array([[1.0]]), "biases": np.array([[0.0]])}]
    model = nj.make_model(1, head="sigmoid")
    X = np.array([[-2.0], [-0.1], [0.1], [3.0]])  # sigmoid: 0.12, 0.48, 0.52, 0.95
    y = np.array([[0.0], [1.0], [1.0], [1.0]])
    _, acc = evaluate(params, X, y, model=model)
    assert float(acc) == 0.75


# --- resuming ----------------------------------------------------------------------------------


def resume_setup():
    X, y = spiral(25, 3, 23, np.float32)
    X_val, y_val = spiral(10, 3, 24, np.float32)
    params = network((2, 16, 3), 25, jnp.float32)
    model = nj.make_model(2, dropout=0.2, weight_regularizer_l2=(5e-4, 0))
    options = dict(
        model=model,
        optimizer=optim.adam(0.02, 1e-3),
        batch_size=20,
        key=jax.random.key(26),
        validation_data=(X_val, y_val),
    )
    return params, X, y, options


def test_resume_from_a_checkpoint_is_bit_exact(tmp_path):
    params, X, y, options = resume_setup()
    whole, whole_state, whole_history = fit(params, X, y, epochs=4, **options)

    half, state, first = fit(params, X, y, epochs=2, **options)
    path = save_checkpoint(
        tmp_path / "run.npz", params=half, opt_state=state, step=int(first.step[-1])
    )
    like = {
        "params": params,
        "opt_state": options["optimizer"].init(jax.tree.map(jnp.asarray, params)),
    }
    checkpoint = load_checkpoint(path, like=like)
    final, final_state, second = fit(None, X, y, epochs=2, resume=checkpoint, **options)

    for a, b in zip(
        jax.tree.leaves((final, final_state)), jax.tree.leaves((whole, whole_state)), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(second.epoch, [3, 4])
    np.testing.assert_array_equal(second.step, whole_history.step[2:])
    for name, values in whole_history._asdict().items():
        if name == "diverged_at":  # one number per run, not per epoch
            continue
        np.testing.assert_array_equal(
            np.concatenate([getattr(first, name), getattr(second, name)]), values, err_msg=name
        )
    # the same without a file: the state and the epoch count handed over directly
    final, final_state, third = fit(
        half, X, y, epochs=2, initial_state=state, initial_epoch=int(first.epoch[-1]), **options
    )
    for a, b in zip(
        jax.tree.leaves((final, final_state)), jax.tree.leaves((whole, whole_state)), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(third.loss, whole_history.loss[2:])


# --- logging, optimizers, compilation ---------------------------------------------------------


@contextlib.contextmanager
def compilations():
    """The names of the functions JAX compiles inside the block (from `jax.log_compiles`)."""

    class Compiled(logging.Handler):
        def emit(self, record):
            message = record.getMessage()
            if message.startswith("Compiling "):
                names.append(message.split(" ")[1])

    names, handler, logger = [], Compiled(), logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles(True):
            yield names
    finally:
        logger.removeHandler(handler)


def test_progress_the_books_printout_and_no_recompilation():
    X, y = spiral(10, 3, 27, np.float32)
    params = network((2, 4, 3), 28, jnp.float32)
    seen = []
    _, _, history = fit(
        params,
        X,
        y,
        model=nj.make_model(2),
        optimizer=optim.adam(0.01),
        epochs=7,
        key=jax.random.key(0),
        validation_data=(X, y),
        print_every=3,
        progress=seen.append,
    )
    assert [e.epoch for e in seen] == [3, 6, 7]
    assert all(isinstance(e, FitLogEntry) and e.epochs == 7 for e in seen)
    np.testing.assert_allclose(
        [e.loss for e in seen], np.asarray(history.loss)[[2, 5, 6]], rtol=1e-6
    )
    text = format_epoch(seen[-1]).splitlines()
    assert text[0] == "epoch: 7"
    assert text[1].startswith(f"training, acc: {seen[-1].accuracy:.3f}, loss: ")
    assert "(data_loss: " in text[1] and ", reg_loss: 0.000), lr: " in text[1]
    last = seen[-1]
    assert (
        text[2]
        == f"validation, acc: {last.validation_accuracy:.3f}, loss: {last.validation_loss:.3f}"
    )
    without = format_epoch(seen[-1]._replace(validation_loss=float("nan")))
    assert len(without.splitlines()) == 2
    # new arrays, key and an equal, freshly built optimizer: the compiled loop is reused, and
    # so is everything else (no compilation at all); other shapes do compile (the count works)
    again = dict(
        model=nj.make_model(2),
        optimizer=optim.adam(0.01),
        epochs=7,
        key=jax.random.key(1),
        validation_data=(X, y),
    )
    with compilations() as compiled:
        fit(network((2, 4, 3), 29, jnp.float32), X + 1, y, **again)
    assert compiled == []
    with compilations() as compiled:
        fit(network((2, 5, 3), 29, jnp.float32), X + 1, y, **again)
    assert compiled


def test_the_logged_learning_rate_is_the_books_float64_value():
    """Without x64: `FitLogEntry.learning_rate` is the book's `current_learning_rate` as its
    Python computes it in float64, `lr * (1. / (1. + decay * iterations))` with `iterations`
    the updates before the epoch's last one (history.step - 1); `history.learning_rate` holds
    the same rate in float32. 30 samples in batches of 8: 4 updates per epoch."""
    X, y = spiral(10, 3, 49, np.float32)
    params = network((2, 4, 3), 50, jnp.float32)
    seen = []
    _, _, history = fit(
        params,
        X,
        y,
        optimizer=optim.adam(0.05, decay=1e-2),
        epochs=3,
        batch_size=8,
        shuffle=False,
        progress=seen.append,
    )
    np.testing.assert_array_equal(history.step, [4, 8, 12])
    want = [0.05 * (1.0 / (1.0 + 1e-2 * (steps - 1))) for steps in (4, 8, 12)]
    # a float32 rate would differ: none of these is a float32 number
    assert all(float(np.float32(w)) != w for w in want)
    assert [e.epoch for e in seen] == [1, 2, 3]
    for entry, rate in zip(seen, want, strict=True):
        assert type(entry.learning_rate) is float and entry.learning_rate == rate
    assert history.learning_rate.dtype == jnp.float32
    # computed in float32: 0.05 and 1e-2 rounded, then a product, a sum, a quotient and a
    # product, each within half an ulp (2**-24 relative): under 6 * 2**-24 = 3.6e-7 in all
    np.testing.assert_allclose(history.learning_rate, want, rtol=4e-7)


# --- bad input, one test per error --------------------------------------------------------------


def bad_setup():
    X, y = spiral(5, 3, 36, np.float32)
    params = network((2, 4, 3), 37, jnp.float32)
    options = dict(model=nj.make_model(2), optimizer=optim.sgd(), epochs=2, key=jax.random.key(0))
    return params, X, y, options


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs: expected a positive integer"),
        ({"epochs": 2.5}, ValueError, "epochs: expected a positive integer"),
        ({"batch_size": 0}, ValueError, "batch_size: expected a positive integer"),
        ({"batch_size": 4.0}, ValueError, "batch_size: expected a positive integer"),
        ({"print_every": 0}, ValueError, "print_every: expected a positive integer"),
        ({"initial_epoch": -1}, ValueError, "initial_epoch: expected a non-negative integer"),
        ({"key": 0}, TypeError, "key: expected a jax.random key"),
        ({"key": "0"}, TypeError, "key: expected a jax.random key"),
        ({"key": None, "batch_size": 5}, ValueError, "key: fit needs a jax.random key"),
        (
            {"key": None, "model": nj.make_model(2, dropout=0.1)},
            ValueError,
            r"key: fit needs a jax.random key .* \(dropout \(0.1,\)\)",
        ),
        ({"key": jax.random.split(jax.random.key(0), 2)}, TypeError, "key: expected a single"),
        ({"grad": "magic"}, ValueError, "grad: expected one of"),
        ({"shuffle": "yes"}, TypeError, "shuffle: expected True or False"),
        ({"optimizer": "adam"}, TypeError, "optimizer: expected an optax.GradientTransformation"),
        ({"progress": 3}, TypeError, "progress: expected a callable"),
        ({"model": "relu"}, TypeError, "model: expected a nnfs_jax.model.Model"),
        ({"model": nj.make_model(3)}, ValueError, "model: has 2 hidden activations"),
        ({"precision": 0.1}, ValueError, "precision: only the linear heads"),
        ({"validation_data": ([[0.0, 0.0]],)}, TypeError, "validation_data: expected a pair"),
        ({"validation_data": np.zeros((2, 2))}, TypeError, "validation_data: expected a pair"),
        (
            {"validation_data": (np.zeros((2, 3)), [0, 1])},
            ValueError,
            r"validation_data\[0\]: expected 2 features",
        ),
        (
            {"validation_data": (np.zeros((2, 2)), [0, 1, 2])},
            ValueError,
            r"validation_data\[1\]: expected one label per sample",
        ),
        (
            {"validation_data": (np.zeros((2, 2)), [0, 5])},
            ValueError,
            r"validation_data\[1\]: labels must lie in \[0, 3\)",
        ),
        (
            {"initial_state": optax.sgd(0.1).init([{"weights": jnp.zeros((1, 1))}])},
            ValueError,
            "initial_state: does not have the structure",
        ),
        (
            {"resume": {"params": None}},
            TypeError,
            "resume: expected a nnfs_jax.checkpoint.Checkpoint",
        ),
    ],
)
def test_bad_options(change, error, match):
    params, X, y, options = bad_setup()
    with pytest.raises(error, match=match):
        fit(params, X, y, **(options | change))


def test_bad_initial_state_leaf_shape():
    params, X, y, options = bad_setup()
    other = network((2, 5, 3), 38, jnp.float32)
    with pytest.raises(ValueError, match=r"initial_state: leaf \d+ has shape"):
        fit(params, X, y, initial_state=options["optimizer"].init(other), **options)


def test_bad_training_data():
    params, X, y, options = bad_setup()
    with pytest.raises(ValueError, match="X: expected 2 features"):
        fit(params, np.zeros((15, 3)), y, **options)
    with pytest.raises(ValueError, match="y: expected one label per sample"):
        fit(params, X, y[:-1], **options)
    with pytest.raises(ValueError, match="X: contains NaN"):
        fit(params, np.where(X > 0, np.nan, X), y, **options)
    with pytest.raises(ValueError, match=r"params\[1\]\['weights'\]"):
        fit([params[0], network((3, 3), 39, jnp.float32)[0]], X, y, **options)
    sigmoid = options | {"model": nj.make_model(2, head="sigmoid")}
    with pytest.raises(ValueError, match="y: sigmoid targets must have shape"):
        fit(params, X, y, **sigmoid)


def test_bad_resume_combinations(tmp_path):
    params, X, y, options = bad_setup()
    state = options["optimizer"].init(jax.tree.map(jnp.asarray, params))
    path = save_checkpoint(tmp_path / "c.npz", params=params, opt_state=state, step=3)
    checkpoint = load_checkpoint(path, like={"params": params, "opt_state": state})
    with pytest.raises(ValueError, match="params: pass None with resume="):
        fit(params, X, y, resume=checkpoint, **options)
    with pytest.raises(ValueError, match="resume: give either resume= or initial_state"):
        fit(None, X, y, resume=checkpoint, initial_epoch=1, **options)
    with pytest.raises(ValueError, match="resume: the checkpoint's step 3 is not a whole number"):
        fit(None, X, y, resume=checkpoint, batch_size=10, **options)  # 2 steps per epoch


def test_bad_evaluate_and_predict_arguments():
    params, X, y, options = bad_setup()
    model = options["model"]
    with pytest.raises(ValueError, match="batch_size: expected a positive integer"):
        evaluate(params, X, y, model=model, batch_size=0)
    with pytest.raises(ValueError, match="y: expected one label per sample"):
        evaluate(params, X, y[:3], model=model)
    with pytest.raises(ValueError, match="X: expected 2 features"):
        predict(params, np.zeros((4, 5)), model=model)
    with pytest.raises(TypeError, match=r"model: expected a nnfs_jax\.model\.Model"):
        predict(params, X, model="relu")  # None is the documents' classifier
    with pytest.raises(TypeError, match=r"model: expected a nnfs_jax\.model\.Model"):
        evaluate(params, X, y, model="relu")
    regression = nj.make_model(2, head="linear_mse")
    with pytest.raises(ValueError, match="precision: expected a non-negative finite number"):
        evaluate(
            network((2, 4, 1), 40, jnp.float32),
            X,
            np.zeros((15, 1)),
            model=regression,
            precision=-1.0,
        )


@pytest.mark.parametrize(
    ("X", "y", "head", "error", "match"),
    [
        ("1-D", None, "softmax", ValueError, r"X: expected a 2-D array \(samples, features\)"),
        ("empty", None, "softmax", ValueError, "X: expected at least one sample"),
        ("strings", None, "softmax", TypeError, "X: expected a"),
        (None, "too large", "softmax", ValueError, r"y: labels must lie in \[0, 3\)"),
        (None, "negative", "softmax", ValueError, r"y: labels must lie in \[0, 3\)"),
        (None, "float", "softmax", TypeError, "y: sparse labels must be integers"),
        (None, "one-hot 2", "softmax", ValueError, r"y: one-hot labels must have shape \(15, 3\)"),
        (None, "one-hot NaN", "softmax", ValueError, "y: contains NaN or inf"),
        (None, "3-D", "softmax", ValueError, "y: expected sparse labels"),
        (None, "halves", "sigmoid", ValueError, "y: sigmoid .binary. labels must be 0 or 1"),
        (None, "column NaN", "linear_mse", ValueError, "y: contains NaN or inf"),
        (None, "flat", "linear_mae", ValueError, r"y: linear_mae targets must have shape"),
    ],
)
def test_bad_training_data_each_path(X, y, head, error, match):
    params, X0, y0, options = bad_setup()
    outputs = {"softmax": 3}.get(head, 1)
    params = params if outputs == 3 else network((2, 4, 1), 41, jnp.float32)
    X = {
        None: X0,
        "1-D": X0[:, 0],
        "empty": X0[:0],
        "strings": np.full((15, 2), "a"),
    }[X]
    column = np.zeros((15, 1), np.float32)
    y = {
        None: y0,
        "too large": np.where(y0 == 0, 3, y0),
        "negative": np.where(y0 == 0, -1, y0),
        "float": y0.astype(np.float32),
        "one-hot 2": np.eye(2)[np.minimum(y0, 1)],
        "one-hot NaN": np.where(np.eye(3)[y0] == 1, np.nan, 0.0),
        "3-D": np.zeros((15, 3, 1)),
        "halves": np.full(15, 0.5, np.float32),
        "column NaN": np.where(np.arange(15)[:, None] == 4, np.nan, column),
        "flat": column[:, 0],
    }[y]
    model = nj.make_model(2, head=head)
    with pytest.raises(error, match=match):
        fit(params, X, y, **(options | {"model": model}))
    with pytest.raises(error, match=match):
        evaluate(params, X, y, model=model)


@pytest.mark.parametrize(
    ("precision", "error", "match"),
    [
        (-1.0, ValueError, "precision: expected a non-negative finite number"),
        (float("nan"), ValueError, "precision: expected a non-negative finite number"),
        (float("inf"), ValueError, "precision: expected a non-negative finite number"),
        ("0.1", TypeError, "precision: expected a number"),
    ],
)
def test_bad_precision_for_the_linear_heads(precision, error, match):
    _, X, _, options = bad_setup()
    params = network((2, 4, 1), 40, jnp.float32)
    model = nj.make_model(2, head="linear_mse")
    y = np.zeros((15, 1), np.float32)
    with pytest.raises(error, match=match):
        fit(params, X, y, **(options | {"model": model, "precision": precision}))
    with pytest.raises(error, match=match):
        evaluate(params, X, y, model=model, precision=precision)


def test_bad_validation_and_prediction_inputs():
    params, X, y, options = bad_setup()
    model = options["model"]
    nan_X = np.where(X > 0, np.nan, X)
    with pytest.raises(ValueError, match=r"validation_data\[0\]: contains NaN or inf"):
        fit(params, X, y, validation_data=(nan_X, y), **options)
    with pytest.raises(ValueError, match="X: contains NaN or inf"):
        evaluate(params, nan_X, y, model=model)
    with pytest.raises(ValueError, match="X: contains NaN or inf"):
        predict(params, np.where(X > 0, np.inf, X), model=model)
    for batch_size in (0, -3, 2.0, True):
        with pytest.raises(ValueError, match="batch_size: expected a positive integer"):
            predict(params, X, model=model, batch_size=batch_size)
    with pytest.raises(ValueError, match=r"params\[1\]\['weights'\]"):
        predict([params[0], network((3, 3), 39, jnp.float32)[0]], X, model=model)
    adam = optim.adam(0.01)
    state = adam.init(jax.tree.map(lambda a: jnp.asarray(a, jnp.bfloat16), params))
    with pytest.raises(ValueError, match=r"initial_state: leaf \d+ has .* dtype bfloat16"):
        fit(params, X, y, initial_state=state, **(options | {"optimizer": adam}))


def test_fit_is_exported_from_the_package():
    for module, names in (
        (fitting, ("fit", "evaluate", "predict")),
        (logs, ("FitHistory", "FitLogEntry", "format_epoch")),
    ):
        for name in names:
            assert getattr(nj, name) is getattr(module, name)
            assert name in nj.__all__
    assert nj.format_log_line is logs.format_log_line
