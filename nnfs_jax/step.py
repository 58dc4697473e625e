"""The one training step, built from (model, optimizer, gradient method), under every engine.

    step = make_step(model, optimizer, grad, whole_batch=True)
    params, opt_state, metrics = step(params, opt_state, data, key)

One batch: the forward pass, the loss and accuracy terms the book measures before `backward`
(`Metrics`, from the same forward pass), the gradient of the data plus regularization loss
(the documents' rules or `jax.grad`, in the kernel `kernels.dispatch.select` picks), then the
optimizer's update. `data` is the kernel's layout (`step.prepare(X, y, ...)`), `key` the
dropout key of this batch (None without dropout). `train`, `fit` and `sweep` feed it batches;
`sweep` vmaps it over configurations, each with its traced `Hyper`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from nnfs_jax import model as model_lib
from nnfs_jax import network, optim
from nnfs_jax.kernels import base, dispatch


class Metrics(NamedTuple):
    """What one step measured before its update."""

    loss: jax.Array  # the batch's summed sample losses
    correct: jax.Array  # its matching accuracy comparisons, int32
    learning_rate: jax.Array  # the rate this update used (the book's current_learning_rate)


class Hyper(NamedTuple):
    """One configuration's traced hyperparameters in a sweep: the model's (`Model.
    hyperparameters` names, per-layer arrays) and the optimizer's (`optim.Factory.build`)."""

    model: dict
    optimizer: dict


@dataclass(frozen=True)
class Step:
    """A pure training step; frozen and hashable, so it is a static argument of the loops.
    optimizer: a GradientTransformation, or in a sweep an `optim.Factory` built per
    configuration from its traced hyperparameters."""

    model: Any
    optimizer: Any
    kernel: base.Kernel

    def __call__(self, params, opt_state, data, key=None, hyper: Hyper | None = None):
        model, optimizer = self.resolve(hyper)
        grads, sums = self.kernel.value_and_grad(params, data, model, key)
        return self.apply(params, opt_state, grads, sums, optimizer)

    def resolve(self, hyper: Hyper | None):
        """(model, optimizer) of one configuration: the step's own, with `hyper`'s values."""
        if hyper is None:
            return self.model, self.optimizer
        model = model_lib.with_hyperparameters(self.model, hyper.model)
        optimizer = self.optimizer
        if isinstance(optimizer, optim.Factory):
            optimizer = optimizer.build(hyper.optimizer)
        return model, optimizer

    def init(self, params, hyper: Hyper | None = None):
        """The optimizer state of one configuration: an `optim.Factory` builds it with the
        configuration's values; an injected optimizer gets them in its state."""
        optimizer = self.resolve(hyper)[1]
        if hyper is None or isinstance(self.optimizer, optim.Factory):
            return optimizer.init(params)
        return optim.init_state(optimizer, params, hyper.optimizer)

    def apply(self, params, opt_state, grads, sums: base.Sums, optimizer=None):
        """The optimizer's part: `optimizer.update`, then `optax.apply_updates`."""
        optimizer = self.optimizer if optimizer is None else optimizer
        dtype = sums.loss.dtype
        learning_rate = optim.current_learning_rate(opt_state).astype(dtype)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, Metrics(sums.loss, sums.correct, learning_rate)

    def prepare(self, X, y, precision, n_outputs: int):
        """The data in this step's kernel layout (call once, outside the loop)."""
        return self.kernel.prepare(X, y, precision, n_outputs)

    def measure(self, params, data, key=None, hyper: Hyper | None = None):
        """(mean data loss, accuracy, regularization loss) of `data` as the book measures them
        in training (dropout from `key`), without a gradient."""
        model = self.resolve(hyper)[0]
        sums = self.kernel.evaluate(params, data, model, key)
        means = base.means(sums, self.kernel.samples(data), model, data)
        return (*means, regularization(params, model))


def make_step(
    model: Any, optimizer: optax.GradientTransformation, grad: str = "manual", *, whole_batch: bool
) -> Step:
    """The step for `model`, `optimizer` and `grad` ("manual": the documents' rules, or
    "autodiff": `jax.grad`); `whole_batch`: whether every step sees the same data (then the
    kernel's layout is prepared once)."""
    return Step(model, optimizer, dispatch.select(model, grad, whole_batch=whole_batch))


def regularization(params, model) -> jax.Array:
    return network.regularization_loss(params, model).astype(jax.tree.leaves(params)[0].dtype)


def nan(dtype) -> jax.Array:
    return jnp.full((), jnp.nan, dtype)
