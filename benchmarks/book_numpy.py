"""The documents' NumPy code as written: the reference users run today.

Document 002's classes (`DenseLayer`, `ReLU`, `Softmax_with_CCE_loss`, `SGD`) and the three
loops the benchmarks time: 002's SGD training loop, 000's pure random search and 001's hill
climbing. Run them after `nnfs.init()` (see `harness.nnfs_numpy`) as the documents do.
"""

import numpy as np


class DenseLayer:
    def __init__(self, n_inputs, n_neurons, weights=None):
        self.weights = 0.01 * np.random.randn(n_inputs, n_neurons) if weights is None else weights
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Softmax:
    def forward(self, inputs):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)


class CategoricalCrossEntropy:
    def calculate(self, output, y):
        return np.mean(self.forward(output, y))

    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, a_min=1e-7, a_max=1 - 1e-7)
        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        elif len(y_true.shape) == 2:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        return -np.log(correct_confidences)


class Softmax_with_CCE_loss:
    def __init__(self):
        self.softmax = Softmax()
        self.cce = CategoricalCrossEntropy()

    def forward(self, inputs, y_true):
        self.softmax.forward(inputs)
        self.output = self.softmax.output
        return self.cce.calculate(self.output, y_true)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class SGD:
    def __init__(self, lr=1.0):
        self.lr = lr

    def update_params(self, layer):
        layer.weights += -self.lr * layer.dweights
        layer.biases += -self.lr * layer.dbiases


def train_002(X, y, W1, W2, epochs, log_every=100):
    """Document 002's loop (In [33]), prints collected instead of printed."""
    dense1, relu = DenseLayer(0, 0, W1.copy()), ReLU()
    dense1.biases = np.zeros((1, W1.shape[1]), W1.dtype)
    dense2 = DenseLayer(0, 0, W2.copy())
    dense2.biases = np.zeros((1, W2.shape[1]), W2.dtype)
    loss_activation, optimizer, log = Softmax_with_CCE_loss(), SGD(), []
    for epoch in range(epochs):
        dense1.forward(X)
        relu.forward(dense1.output)
        dense2.forward(relu.output)
        loss = loss_activation.forward(dense2.output, y)
        predictions = np.argmax(loss_activation.output, axis=1)
        accuracy = np.mean(predictions == y)
        if not epoch % log_every:
            log.append((epoch, accuracy, loss))
        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        relu.backward(dense2.dinputs)
        dense1.backward(relu.dinputs)
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
    return log


def _forward_loss(dense1, activation1, dense2, activation2, loss_function, X, y):
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    activation2.forward(dense2.output)
    loss = loss_function.calculate(activation2.output, y)
    accuracy = np.mean(np.argmax(activation2.output, axis=1) == y)
    return loss, accuracy


def random_search_000(X, y, iterations, hidden=3, classes=3, scale=0.05):
    """Document 000's pure random search (with its `lower_loss` slip fixed: the threshold is
    updated, as the text intends)."""
    dense1, activation1 = DenseLayer(X.shape[1], hidden), ReLU()
    dense2, activation2 = DenseLayer(hidden, classes), Softmax()
    loss_function, lowest_loss, found = CategoricalCrossEntropy(), 9999999, []
    for iteration in range(iterations):
        dense1.weights = scale * np.random.randn(X.shape[1], hidden)
        dense1.biases = scale * np.random.randn(1, hidden)
        dense2.weights = scale * np.random.randn(hidden, classes)
        dense2.biases = scale * np.random.randn(1, classes)
        loss, accuracy = _forward_loss(
            dense1, activation1, dense2, activation2, loss_function, X, y
        )
        if loss < lowest_loss:
            found.append((iteration, loss, accuracy))
            lowest_loss = loss
    return found


def hill_climb_001(X, y, iterations, hidden=3, classes=3, scale=0.05):
    """Document 001's "hacker's method": perturb the best weights, keep them if the loss fell."""
    dense1, activation1 = DenseLayer(X.shape[1], hidden), ReLU()
    dense2, activation2 = DenseLayer(hidden, classes), Softmax()
    loss_function, lowest_loss, found = CategoricalCrossEntropy(), 9999999, []
    best = [
        dense1.weights.copy(),
        dense1.biases.copy(),
        dense2.weights.copy(),
        dense2.biases.copy(),
    ]
    for iteration in range(iterations):
        dense1.weights += scale * np.random.randn(X.shape[1], hidden)
        dense1.biases += scale * np.random.randn(1, hidden)
        dense2.weights += scale * np.random.randn(hidden, classes)
        dense2.biases += scale * np.random.randn(1, classes)
        loss, accuracy = _forward_loss(
            dense1, activation1, dense2, activation2, loss_function, X, y
        )
        if loss < lowest_loss:
            found.append((iteration, loss, accuracy))
            best = [
                a.copy() for a in (dense1.weights, dense1.biases, dense2.weights, dense2.biases)
            ]
            lowest_loss = loss
        else:
            dense1.weights, dense1.biases = best[0].copy(), best[1].copy()
            dense2.weights, dense2.biases = best[2].copy(), best[3].copy()
    return found
