"""The book's chapter-19 Fashion-MNIST run: its NumPy `Model` against `nnfs_jax.fit`.

Both train the book's 784-128-128-10 network (ReLU, ReLU, softmax + cross-entropy, Adam with
decay 1e-3, batches of 128, the test set evaluated after every epoch) on the 60,000 training
images, shuffled once as the book shuffles them.

- NumPy: the book's classes transcribed below (`Layer_Dense`, `Activation_ReLU`,
  `Activation_Softmax`, `Loss_CategoricalCrossentropy`,
  `Activation_Softmax_Loss_CategoricalCrossentropy`, `Optimizer_Adam`, `Accuracy_Categorical`,
  `Model` with its batch loop, `evaluate` after each epoch), its prints kept as string
  formatting but not written. Two variants: the book as written, after `nnfs.init()` (its
  `np.dot` casts both operands to float64 and the product back to float32), and plain
  float32 NumPy (the same code without `nnfs.init()`: the faster variant). Each takes the
  better of 1 and 2 BLAS threads per repeat (OpenBLAS's two threads can collapse when
  another process holds a core). One epoch is timed and multiplied by the number of epochs
  (the epochs are alike: the same batches and the same arithmetic).
- nnfs_jax: `fit(..., batch_size=128, shuffle=False, validation_data=...)`, the whole run
  timed; compilation is measured apart (a first one-epoch call minus a warm one).

Medians of interleaved repeats. The work is matrix products (about 65 MFLOP per step for
nnfs_jax, 91 for the book, which also computes the first layer's unused `dinputs`), so the
ratio to float32 NumPy is bounded by the two libraries' matmul speed on these shapes.

`--quick` times 40 NumPy steps and a 1-epoch nnfs_jax run on 6,000 images (a smoke test, not
a measurement). Without the data set the script says how to install it and exits with
status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import nnfs_numpy

import nnfs_jax as nj
from nnfs_jax import optim

# --- the book's chapter-19 classes, transcribed ------------------------------------------------


class Layer_Input:
    def forward(self, inputs, training):
        self.output = inputs


class Layer_Dense:
    def __init__(
        self,
        n_inputs,
        n_neurons,
        weight_regularizer_l1=0,
        weight_regularizer_l2=0,
        bias_regularizer_l1=0,
        bias_regularizer_l2=0,
        dtype=np.float32,
    ):
        self.weights = (0.01 * np.random.randn(n_inputs, n_neurons)).astype(dtype)
        self.biases = np.zeros((1, n_neurons), dtype)
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l1 > 0:
            dL1 = np.ones_like(self.weights)
            dL1[self.weights < 0] = -1
            self.dweights += self.weight_regularizer_l1 * dL1
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            dL1 = np.ones_like(self.biases)
            dL1[self.biases < 0] = -1
            self.dbiases += self.bias_regularizer_l1 * dL1
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0

    def predictions(self, outputs):
        return outputs


class Activation_Softmax:
    def forward(self, inputs, training):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def predictions(self, outputs):
        return np.argmax(outputs, axis=1)


class Optimizer_Adam:
    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_momentums = (
            self.beta_1 * layer.weight_momentums + (1 - self.beta_1) * layer.dweights
        )
        layer.bias_momentums = (
            self.beta_1 * layer.bias_momentums + (1 - self.beta_1) * layer.dbiases
        )
        weight_momentums_corrected = layer.weight_momentums / (
            1 - self.beta_1 ** (self.iterations + 1)
        )
        bias_momentums_corrected = layer.bias_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        layer.weight_cache = (
            self.beta_2 * layer.weight_cache + (1 - self.beta_2) * layer.dweights**2
        )
        layer.bias_cache = self.beta_2 * layer.bias_cache + (1 - self.beta_2) * layer.dbiases**2
        weight_cache_corrected = layer.weight_cache / (1 - self.beta_2 ** (self.iterations + 1))
        bias_cache_corrected = layer.bias_cache / (1 - self.beta_2 ** (self.iterations + 1))
        layer.weights += (
            -self.current_learning_rate
            * weight_momentums_corrected
            / (np.sqrt(weight_cache_corrected) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate
            * bias_momentums_corrected
            / (np.sqrt(bias_cache_corrected) + self.epsilon)
        )

    def post_update_params(self):
        self.iterations += 1


class Loss:
    def regularization_loss(self):
        regularization_loss = 0
        for layer in self.trainable_layers:
            if layer.weight_regularizer_l1 > 0:
                regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
            if layer.weight_regularizer_l2 > 0:
                regularization_loss += layer.weight_regularizer_l2 * np.sum(
                    layer.weights * layer.weights
                )
            if layer.bias_regularizer_l1 > 0:
                regularization_loss += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases))
            if layer.bias_regularizer_l2 > 0:
                regularization_loss += layer.bias_regularizer_l2 * np.sum(
                    layer.biases * layer.biases
                )
        return regularization_loss

    def remember_trainable_layers(self, trainable_layers):
        self.trainable_layers = trainable_layers

    def calculate(self, output, y, *, include_regularization=False):
        sample_losses = self.forward(output, y)
        data_loss = np.mean(sample_losses)
        self.accumulated_sum += np.sum(sample_losses)
        self.accumulated_count += len(sample_losses)
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def calculate_accumulated(self, *, include_regularization=False):
        data_loss = self.accumulated_sum / self.accumulated_count
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def new_pass(self):
        self.accumulated_sum = 0
        self.accumulated_count = 0


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        elif len(y_true.shape) == 2:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        return -np.log(correct_confidences)


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class Accuracy:
    def calculate(self, predictions, y):
        comparisons = self.compare(predictions, y)
        accuracy = np.mean(comparisons)
        self.accumulated_sum += np.sum(comparisons)
        self.accumulated_count += len(comparisons)
        return accuracy

    def calculate_accumulated(self):
        return self.accumulated_sum / self.accumulated_count

    def new_pass(self):
        self.accumulated_sum = 0
        self.accumulated_count = 0


class Accuracy_Categorical(Accuracy):
    def __init__(self, *, binary=False):
        self.binary = binary

    def init(self, y):
        pass

    def compare(self, predictions, y):
        if not self.binary and len(y.shape) == 2:
            y = np.argmax(y, axis=1)
        return predictions == y


class Model:
    """The book's chapter-19 Model (softmax classifier path), `print` replaced by `log`."""

    def __init__(self, log=None):
        self.layers = []
        self.softmax_classifier_output = None
        self.log = log if log is not None else (lambda line: None)

    def add(self, layer):
        self.layers.append(layer)

    def set(self, *, loss, optimizer, accuracy):
        self.loss = loss
        self.optimizer = optimizer
        self.accuracy = accuracy

    def finalize(self):
        self.input_layer = Layer_Input()
        layer_count = len(self.layers)
        self.trainable_layers = []
        for i in range(layer_count):
            if i == 0:
                self.layers[i].prev = self.input_layer
                self.layers[i].next = self.layers[i + 1]
            elif i < layer_count - 1:
                self.layers[i].prev = self.layers[i - 1]
                self.layers[i].next = self.layers[i + 1]
            else:
                self.layers[i].prev = self.layers[i - 1]
                self.layers[i].next = self.loss
                self.output_layer_activation = self.layers[i]
            if hasattr(self.layers[i], "weights"):
                self.trainable_layers.append(self.layers[i])
        self.loss.remember_trainable_layers(self.trainable_layers)
        if isinstance(self.layers[-1], Activation_Softmax) and isinstance(
            self.loss, Loss_CategoricalCrossentropy
        ):
            self.softmax_classifier_output = Activation_Softmax_Loss_CategoricalCrossentropy()

    def train(
        self, X, y, *, epochs=1, batch_size=None, print_every=1, validation_data=None, steps=None
    ):
        """The book's loop; `steps` (not in the book) stops each epoch early, for --quick."""
        self.accuracy.init(y)
        train_steps = 1
        if batch_size is not None:
            train_steps = len(X) // batch_size
            if train_steps * batch_size < len(X):
                train_steps += 1
        if steps is not None:
            train_steps = min(train_steps, steps)
        for epoch in range(1, epochs + 1):
            self.log(f"epoch: {epoch}")
            self.loss.new_pass()
            self.accuracy.new_pass()
            for step in range(train_steps):
                if batch_size is None:
                    batch_X, batch_y = X, y
                else:
                    batch_X = X[step * batch_size : (step + 1) * batch_size]
                    batch_y = y[step * batch_size : (step + 1) * batch_size]
                output = self.forward(batch_X, training=True)
                data_loss, regularization_loss = self.loss.calculate(
                    output, batch_y, include_regularization=True
                )
                loss = data_loss + regularization_loss
                predictions = self.output_layer_activation.predictions(output)
                accuracy = self.accuracy.calculate(predictions, batch_y)
                self.backward(output, batch_y)
                self.optimizer.pre_update_params()
                for layer in self.trainable_layers:
                    self.optimizer.update_params(layer)
                self.optimizer.post_update_params()
                if not step % print_every or step == train_steps - 1:
                    self.log(
                        f"step: {step}, acc: {accuracy:.3f}, loss: {loss:.3f} (data_loss: "
                        f"{data_loss:.3f}, reg_loss: {regularization_loss:.3f}), "
                        f"lr: {self.optimizer.current_learning_rate}"
                    )
            epoch_data_loss, epoch_regularization_loss = self.loss.calculate_accumulated(
                include_regularization=True
            )
            epoch_loss = epoch_data_loss + epoch_regularization_loss
            epoch_accuracy = self.accuracy.calculate_accumulated()
            self.log(
                f"training, acc: {epoch_accuracy:.3f}, loss: {epoch_loss:.3f} (data_loss: "
                f"{epoch_data_loss:.3f}, reg_loss: {epoch_regularization_loss:.3f}), "
                f"lr: {self.optimizer.current_learning_rate}"
            )
            self.last_training = (epoch_accuracy, epoch_loss)
            if validation_data is not None:
                self.evaluate(*validation_data, batch_size=batch_size)

    def evaluate(self, X_val, y_val, *, batch_size=None):
        validation_steps = 1
        if batch_size is not None:
            validation_steps = len(X_val) // batch_size
            if validation_steps * batch_size < len(X_val):
                validation_steps += 1
        self.loss.new_pass()
        self.accuracy.new_pass()
        for step in range(validation_steps):
            if batch_size is None:
                batch_X, batch_y = X_val, y_val
            else:
                batch_X = X_val[step * batch_size : (step + 1) * batch_size]
                batch_y = y_val[step * batch_size : (step + 1) * batch_size]
            output = self.forward(batch_X, training=False)
            self.loss.calculate(output, batch_y)
            predictions = self.output_layer_activation.predictions(output)
            self.accuracy.calculate(predictions, batch_y)
        validation_loss = self.loss.calculate_accumulated()
        validation_accuracy = self.accuracy.calculate_accumulated()
        self.log(f"validation, acc: {validation_accuracy:.3f}, loss: {validation_loss:.3f}")
        self.last_validation = (validation_accuracy, validation_loss)

    def forward(self, X, training):
        self.input_layer.forward(X, training)
        for layer in self.layers:
            layer.forward(layer.prev.output, training)
        return layer.output

    def backward(self, output, y):
        if self.softmax_classifier_output is not None:
            self.softmax_classifier_output.backward(output, y)
            self.layers[-1].dinputs = self.softmax_classifier_output.dinputs
            for layer in reversed(self.layers[:-1]):
                layer.backward(layer.next.dinputs)
            return
        self.loss.backward(output, y)
        for layer in reversed(self.layers):
            layer.backward(layer.next.dinputs)


def book_model() -> Model:
    """The book's chapter-19 Fashion-MNIST model, initialised from NumPy's global RNG."""
    model = Model()
    model.add(Layer_Dense(784, 128))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(128, 128))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(128, 10))
    model.add(Activation_Softmax())
    model.set(
        loss=Loss_CategoricalCrossentropy(),
        optimizer=Optimizer_Adam(decay=1e-3),
        accuracy=Accuracy_Categorical(),
    )
    model.finalize()
    return model


# --- timing -------------------------------------------------------------------------------------


def blas_threads(n: int):
    """A context limiting NumPy's BLAS to `n` threads (threadpoolctl, if installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def time_numpy_epoch(
    X, y, X_test, y_test, steps: int | None, book_init: bool = False
) -> tuple[float, dict]:
    """Seconds for one epoch of the book's Model (train + evaluate), the better of 1 and 2
    BLAS threads; `book_init`: after `nnfs.init()`, undone afterwards, as the book runs it."""
    times = {}
    for threads in (1, 2):
        np.random.seed(0)
        patched = nnfs_numpy(0) if book_init else contextlib.nullcontext()
        with patched, blas_threads(threads):
            model = book_model()
            start = time.perf_counter()
            model.train(
                X,
                y,
                epochs=1,
                batch_size=128,
                print_every=100,
                validation_data=(X_test, y_test),
                steps=steps,
            )
            times[threads] = time.perf_counter() - start
    return min(times.values()), times


def time_jax(X, y, X_test, y_test, epochs: int) -> float:
    """Seconds for `fit` over `epochs` epochs (compiled already), the result ready."""
    model = nj.make_model(3)
    params = nj.init_params(jax.random.key(0), (784, 128, 128, 10))
    start = time.perf_counter()
    out = nj.fit(
        params,
        X,
        y,
        model=model,
        optimizer=optim.adam(decay=1e-3),
        epochs=epochs,
        key=jax.random.key(0),
        batch_size=128,
        shuffle=False,
        validation_data=(X_test, y_test),
    )
    jax.block_until_ready(out)
    return time.perf_counter() - start


def load(quick: bool):
    try:
        X, y, X_test, y_test = nj.load_fashion_mnist()
    except FileNotFoundError:
        print(
            "Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist "
            "(or set NNFS_JAX_FASHION_MNIST to a folder with its four IDX files)",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    # The book shuffles the training set once, before training.
    keys = np.random.default_rng(0).permutation(len(X))
    X, y = X[keys], y[keys]
    if quick:
        X, y, X_test, y_test = X[:6000], y[:6000], X_test[:1000], y_test[:1000]
    return X, y, X_test, y_test


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: 6,000 images")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats")
    parser.add_argument("--epochs", type=int, default=10, help="the book's 10")
    args = parser.parse_args(argv)
    X, y, X_test, y_test = load(args.quick)
    epochs = 1 if args.quick else args.epochs
    steps = 40 if args.quick else None
    repeats = 1 if args.quick else args.repeats
    numpy_steps = steps or -(-len(X) // 128)
    jax_steps = epochs * -(-len(X) // 128)

    first = time_jax(X, y, X_test, y_test, 1)  # compiles
    variants = {"book": True, "float32": False}  # nnfs.init() or not
    numpy_times = {name: [] for name in variants}
    threads = {name: [] for name in variants}
    jax_times, jax_epoch_times = [], []
    for _ in range(repeats):
        for name, book_init in variants.items():
            seconds, by_threads = time_numpy_epoch(X, y, X_test, y_test, steps, book_init)
            numpy_times[name].append(seconds)
            threads[name].append(by_threads)
        jax_epoch_times.append(time_jax(X, y, X_test, y_test, 1))
        jax_times.append(time_jax(X, y, X_test, y_test, epochs))
    # one epoch (or `steps`) extrapolated to the whole run
    numpy_step = {name: statistics.median(t) / numpy_steps for name, t in numpy_times.items()}
    numpy_run = {name: step * jax_steps for name, step in numpy_step.items()}
    jax_run = statistics.median(jax_times)
    compile_seconds = max(first - statistics.median(jax_epoch_times), 0.0)
    rows = [
        ("NumPy, the book as written", numpy_run["book"], "extrapolated, nnfs.init()"),
        ("NumPy, plain float32", numpy_run["float32"], "extrapolated"),
        ("nnfs_jax.fit (manual gradient)", jax_run, "measured"),
    ]
    print(
        f"Fashion-MNIST, 784-128-128-10, Adam decay 1e-3, batch 128, {len(X)} training images, "
        f"{epochs} epoch(s) with validation on {len(X_test)}; medians of {repeats} "
        "interleaved repeats"
    )
    print(f"{'':34} {'run (s)':>9} {'per step (ms)':>14}  how")
    for name, run, how in rows:
        print(f"{name:34} {run:9.2f} {run / jax_steps * 1e3:14.3f}  {how}")
    print(f"nnfs_jax compilation (apart): {compile_seconds:.2f} s")
    speedup = {name: run / jax_run for name, run in numpy_run.items()}
    print(
        f"speed-up: {speedup['book']:.1f}x over the book as written, "
        f"{speedup['float32']:.1f}x over plain float32 NumPy"
    )
    per_thread = {
        name: {t: statistics.median(r[t] for r in runs) for t in (1, 2)}
        for name, runs in threads.items()
    }
    for name, by_threads in per_thread.items():
        print(
            f"NumPy ({name}) epoch by BLAS threads (median s): "
            + ", ".join(f"{t}: {s:.2f}" for t, s in by_threads.items())
        )
    return {
        "numpy_run": numpy_run,
        "jax_run": jax_run,
        "compile": compile_seconds,
        "speedup": speedup,
        "numpy_by_threads": per_thread,
    }


if __name__ == "__main__":
    main()
