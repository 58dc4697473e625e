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


class Activation_Tanh:
    """Not in the book: tanh(x), its derivative 1 - tanh(x)**2 taken from the output."""

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.tanh(inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output**2)


class Activation_LeakyReLU:
    """Not in the book: x where x > 0, else slope * x; the gradient slope * dvalues where
    x <= 0 (the slope at x == 0)."""

    def __init__(self, slope=0.01):
        self.slope = slope

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.where(inputs > 0, inputs, self.slope * inputs)

    def backward(self, dvalues):
        self.dinputs = np.where(self.inputs > 0, dvalues, self.slope * dvalues)


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


ACTIVATIONS = {
    "relu": Activation_ReLU,
    "sigmoid": Activation_Sigmoid,
    "linear": Activation_Linear,
    "tanh": Activation_Tanh,
    "leaky_relu": Activation_LeakyReLU,
}


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


# --- the book's optimizers (NNFS chapter 10), transcribed as the book writes them -------------
# Stateful: `iterations` and `current_learning_rate` live on the optimizer, momentums and caches
# on each layer (created on first use). A training step is
#     optimizer.pre_update_params(); optimizer.update_params(layer) for each layer;
#     optimizer.post_update_params()


class Optimizer_SGD:
    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.momentum = momentum

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            weight_updates = (
                self.momentum * layer.weight_momentums - self.current_learning_rate * layer.dweights
            )
            layer.weight_momentums = weight_updates
            bias_updates = (
                self.momentum * layer.bias_momentums - self.current_learning_rate * layer.dbiases
            )
            layer.bias_momentums = bias_updates
        else:
            weight_updates = -self.current_learning_rate * layer.dweights
            bias_updates = -self.current_learning_rate * layer.dbiases
        layer.weights += weight_updates
        layer.biases += bias_updates

    def post_update_params(self):
        self.iterations += 1


class Optimizer_Adagrad:
    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache += layer.dweights**2
        layer.bias_cache += layer.dbiases**2
        layer.weights += (
            -self.current_learning_rate
            * layer.dweights
            / (np.sqrt(layer.weight_cache) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        )

    def post_update_params(self):
        self.iterations += 1


class Optimizer_RMSprop:
    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.epsilon = epsilon
        self.rho = rho

    def pre_update_params(self):
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache = self.rho * layer.weight_cache + (1 - self.rho) * layer.dweights**2
        layer.bias_cache = self.rho * layer.bias_cache + (1 - self.rho) * layer.dbiases**2
        layer.weights += (
            -self.current_learning_rate
            * layer.dweights
            / (np.sqrt(layer.weight_cache) + self.epsilon)
        )
        layer.biases += (
            -self.current_learning_rate * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)
        )

    def post_update_params(self):
        self.iterations += 1


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


OPTIMIZERS = {
    "sgd": Optimizer_SGD,
    "adagrad": Optimizer_Adagrad,
    "rmsprop": Optimizer_RMSprop,
    "adam": Optimizer_Adam,
}


# --- the book's chapters 14-17, transcribed as the book writes them ----------------------------
# Layer_Dense with regularizers (chapter 14) under its own name, so that the chapter-2 class above
# stays as it is; Activation_Sigmoid and Activation_Linear are the ones above (the book's are the
# same). Loss_MeanAbsoluteError.backward keeps the book's sign, which is wrong: the tests check
# that nnfs_jax does not follow it.


class Layer_Dense_Regularized:
    def __init__(
        self,
        weights,
        biases,
        weight_regularizer_l1=0,
        weight_regularizer_l2=0,
        bias_regularizer_l1=0,
        bias_regularizer_l2=0,
    ):
        self.weights = np.array(weights)
        self.biases = np.array(biases)
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs):
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


class Layer_Dropout:
    """`rng`: where `binomial` comes from; the book uses `np.random`. The tests pass an object
    whose `binomial` returns a given 0/1 pattern, to share a mask with nnfs_jax."""

    def __init__(self, rate, rng=np.random):
        self.rate = 1 - rate
        self.rng = rng

    def forward(self, inputs, training=True):
        self.inputs = inputs
        if not training:
            self.output = inputs.copy()
            return
        self.binary_mask = self.rng.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask

    def backward(self, dvalues):
        self.dinputs = dvalues * self.binary_mask


class Loss_Regularized(Loss):
    def regularization_loss(self, layer):
        regularization_loss = 0
        if layer.weight_regularizer_l1 > 0:
            regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
        if layer.weight_regularizer_l2 > 0:
            regularization_loss += layer.weight_regularizer_l2 * np.sum(
                layer.weights * layer.weights
            )
        if layer.bias_regularizer_l1 > 0:
            regularization_loss += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases))
        if layer.bias_regularizer_l2 > 0:
            regularization_loss += layer.bias_regularizer_l2 * np.sum(layer.biases * layer.biases)
        return regularization_loss


class Loss_CategoricalCrossentropy_Regularized(Loss_CategoricalCrossentropy, Loss_Regularized):
    pass


class Loss_BinaryCrossentropy(Loss_Regularized):
    def forward(self, y_pred, y_true):
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        sample_losses = -(
            y_true * np.log(y_pred_clipped) + (1 - y_true) * np.log(1 - y_pred_clipped)
        )
        sample_losses = np.mean(sample_losses, axis=-1)
        return sample_losses

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        outputs = len(dvalues[0])
        clipped_dvalues = np.clip(dvalues, 1e-7, 1 - 1e-7)
        self.dinputs = -(y_true / clipped_dvalues - (1 - y_true) / (1 - clipped_dvalues)) / outputs
        self.dinputs = self.dinputs / samples


class Loss_MeanSquaredError(Loss_Regularized):
    def forward(self, y_pred, y_true):
        sample_losses = np.mean((y_true - y_pred) ** 2, axis=-1)
        return sample_losses

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        outputs = len(dvalues[0])
        self.dinputs = -2 * (y_true - dvalues) / outputs
        self.dinputs = self.dinputs / samples


class Loss_MeanAbsoluteError(Loss_Regularized):
    def forward(self, y_pred, y_true):
        sample_losses = np.mean(np.abs(y_true - y_pred), axis=-1)
        return sample_losses

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        outputs = len(dvalues[0])
        # The book's line, wrong sign included: d|y - p| / dp is sign(p - y).
        self.dinputs = np.sign(y_true - dvalues) / outputs
        self.dinputs = self.dinputs / samples


class FixedBinomial:
    """Stands in for `np.random` in `Layer_Dropout`: `binomial` returns the given 0/1 masks in
    turn (checking the shape and that it was asked for draws of one trial)."""

    def __init__(self, *keeps):
        self.keeps = [np.asarray(k) for k in keeps]

    def binomial(self, n, p, size):
        keep = self.keeps.pop(0)
        assert n == 1 and keep.shape == tuple(size)
        return keep.astype(np.int64)


def book_network(params, X, y, activations, head, dropout=None, regularizers=None, keeps=None):
    """The book's chapters 14-17 training step over any stack of dense layers: forward with
    dropout after each hidden activation, data loss + regularization loss, backward.

    head: "softmax" (the fused softmax + cross-entropy class), "sigmoid", "linear_mse" or
    "linear_mae" (the book's MAE backward, wrong sign and all). dropout: rate per hidden layer;
    keeps: the 0/1 keep pattern per hidden layer (for `FixedBinomial`); regularizers: per layer,
    dicts of Layer_Dense's keyword arguments. Returns (data_loss, regularization_loss, output,
    grads).
    """
    n_hidden = len(params) - 1
    regularizers = regularizers or [{}] * len(params)
    denses = [
        Layer_Dense_Regularized(p["weights"], p["biases"], **r)
        for p, r in zip(params, regularizers, strict=True)
    ]
    # a name, or a class (or partial) for one with options, e.g. partial(Activation_LeakyReLU, 0.2)
    acts = [ACTIVATIONS[a]() if isinstance(a, str) else a() for a in activations]
    dropouts = [None] * n_hidden
    if dropout is not None:
        rng = FixedBinomial(*[k for k, r in zip(keeps, dropout, strict=True) if r > 0])
        dropouts = [Layer_Dropout(r, rng) if r > 0 else None for r in dropout]
    if head == "softmax":
        last, loss_function = None, Activation_Softmax_Loss_CategoricalCrossentropy()
        regularized = Loss_CategoricalCrossentropy_Regularized()
    else:
        last = Activation_Sigmoid() if head == "sigmoid" else Activation_Linear()
        loss_function = {
            "sigmoid": Loss_BinaryCrossentropy,
            "linear_mse": Loss_MeanSquaredError,
            "linear_mae": Loss_MeanAbsoluteError,
        }[head]()
        regularized = loss_function

    inputs = X
    for dense, act, drop in zip(denses[:-1], acts, dropouts, strict=True):
        dense.forward(inputs)
        act.forward(dense.output)
        inputs = act.output
        if drop is not None:
            drop.forward(inputs)
            inputs = drop.output
    denses[-1].forward(inputs)
    if last is None:
        data_loss = loss_function.forward(denses[-1].output, y)
        output = loss_function.output
        loss_function.backward(output, y)
    else:
        last.forward(denses[-1].output)
        output = last.output
        data_loss = loss_function.calculate(output, y)
        loss_function.backward(output, y)
        last.backward(loss_function.dinputs)
    regularization_loss = sum(regularized.regularization_loss(d) for d in denses)

    dvalues = loss_function.dinputs if last is None else last.dinputs
    for i in reversed(range(len(denses))):
        if i < n_hidden:
            if dropouts[i] is not None:
                dropouts[i].backward(dvalues)
                dvalues = dropouts[i].dinputs
            acts[i].backward(dvalues)
            dvalues = acts[i].dinputs
        denses[i].backward(dvalues)
        dvalues = denses[i].dinputs
    grads = [{"weights": d.dweights, "biases": d.dbiases} for d in denses]
    return data_loss, regularization_loss, output, grads


# --- round-off in document 002's training run --------------------------------------------------


def spiral_sgd_losses(
    params,
    X,
    y,
    epochs,
    dtype=np.float64,
    rng=None,
    fused=True,
    libm_ulps=0,
    learning_rate=1.0,
    decay=0.0,
):
    """Document 002's loop (Dense -> ReLU -> Dense -> softmax + cross-entropy, full-batch SGD
    at `learning_rate`, 1.0 there, with the book's `decay`), written with arrays: the loss
    before each update, as float64.

    Computes in `dtype`. For measuring round-off (see conftest.float32_allowance):
    rng: a np.random.Generator; when given, the hidden units are put in a random order once and
      the samples in a random order every epoch. The mathematics is the same, the sums (over
      samples, over hidden units) are taken in other orders: one realisation of the dtype's
      round-off, as another CPU's instructions or another compiler's order would give.
    fused: the gradient at the logits (p - y) / n (the documents' rule); False chains the loss's
      -y / p / n through the softmax Jacobian, p * (d - sum(d * p)), as jax.grad does.
    libm_ulps: with `rng`, every exp and log result is also off by up to this many units of the
      dtype's eps (uniformly at random), as another maths library's exp and log may be.
    """
    f = np.dtype(dtype).type
    w1, b1, w2, b2 = (np.array(p[k], dtype) for p in params for k in ("weights", "biases"))
    X, y, n = np.asarray(X, dtype), np.asarray(y, np.int64), len(y)
    eps = np.finfo(dtype).eps

    def libm(values):
        if rng is None or not libm_ulps:
            return values
        return (values * (1 + libm_ulps * eps * rng.uniform(-1, 1, values.shape))).astype(dtype)

    if rng is not None:
        hidden = rng.permutation(w1.shape[1])
        w1, b1, w2 = w1[:, hidden], b1[:, hidden], w2[hidden]
    losses = []
    for iteration in range(epochs):
        order = np.arange(n) if rng is None else rng.permutation(n)
        Xe, ye = X[order], y[order]
        z1 = Xe @ w1 + b1
        a1 = np.maximum(0, z1)
        z2 = a1 @ w2 + b2
        exp_values = libm(np.exp(z2 - np.max(z2, axis=1, keepdims=True)))
        p = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        clipped = np.clip(p, f(1e-7), f(1 - 1e-7))
        losses.append(float(np.mean(libm(-np.log(clipped[np.arange(n), ye])))))
        if fused:
            dz2 = p.copy()
            dz2[np.arange(n), ye] -= 1
            dz2 = dz2 / f(n)
        else:
            dp = -np.eye(p.shape[1], dtype=dtype)[ye] / clipped / f(n)
            dz2 = p * (dp - np.sum(dp * p, axis=1, keepdims=True))
        da1 = dz2 @ w2.T
        da1[z1 <= 0] = 0
        rate = f(learning_rate * (1.0 / (1.0 + decay * iteration)))  # the book's float64 rate
        w2 -= rate * (a1.T @ dz2)
        b2 -= rate * np.sum(dz2, axis=0, keepdims=True)
        w1 -= rate * (Xe.T @ da1)
        b1 -= rate * np.sum(da1, axis=0, keepdims=True)
    return np.array(losses)
