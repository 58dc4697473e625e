"""An independent NumPy transcription of the documents' classes, for the tests.

Written from the documents (../shared/documents), not from nnfs_jax: stateful classes with
`forward`/`backward`, the softmax Jacobian as the documents' Python loop over samples. It
computes in whatever dtype it is given (the tests give float64 unless they say otherwise).
"""

import numpy as np


class Layer_Dense:
    def __init__(self, weights, biases):
        self.weights = np.array(weights)
        self.biases = np.array(biases)

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Activation_Sigmoid:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output


class Activation_Linear:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()


class Activation_Softmax:
    def forward(self, inputs):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(
            zip(self.output, dvalues, strict=True)
        ):
            single_output = single_output.reshape(-1, 1)
            jacobian_matrix = np.diagflat(single_output) - np.dot(single_output, single_output.T)
            self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)


class Loss:
    def calculate(self, output, y):
        return np.mean(self.forward(output, y))


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        elif len(y_true.shape) == 2:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        return -np.log(correct_confidences)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        labels = len(dvalues[0])
        if len(y_true.shape) == 1:
            y_true = np.eye(labels)[y_true]
        self.dinputs = -y_true / dvalues
        self.dinputs = self.dinputs / samples


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def __init__(self):
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()

    def forward(self, inputs, y_true):
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


ACTIVATIONS = {"relu": Activation_ReLU, "sigmoid": Activation_Sigmoid, "linear": Activation_Linear}


def network_loss_and_grads(params, X, y, activation="relu"):
    """The documents' forward and backward pass over any stack of dense layers.

    params: list of {"weights", "biases"} NumPy arrays. Returns (loss, probabilities, grads)."""
    denses = [Layer_Dense(p["weights"], p["biases"]) for p in params]
    acts = [ACTIVATIONS[activation]() for _ in params[:-1]]
    loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
    inputs = X
    for dense, act in zip(denses[:-1], acts, strict=True):
        dense.forward(inputs)
        act.forward(dense.output)
        inputs = act.output
    denses[-1].forward(inputs)
    loss = loss_activation.forward(denses[-1].output, y)
    loss_activation.backward(loss_activation.output, y)
    dvalues = loss_activation.dinputs
    for i in reversed(range(len(denses))):
        if i < len(acts):
            acts[i].backward(dvalues)
            dvalues = acts[i].dinputs
        denses[i].backward(dvalues)
        dvalues = denses[i].dinputs
    grads = [{"weights": d.dweights, "biases": d.dbiases} for d in denses]
    return loss, loss_activation.output, grads
