"""Gradients of any model's loss three ways, and their leaf-by-leaf comparison.

`grad_manual` composes the documents' hand-written rules (`network.manual_gradient`),
`grad_autodiff` is `jax.grad` of the same loss, `grad_numerical` takes central differences
(vmapped over parameters in memory-bounded blocks).
Each takes the documents' classifier (`activation=`) or any `model=`, with `key=` for its
dropout masks (one set of masks for all three methods). `nnfs_jax.comparison` sets them side by
side (`compare_gradients`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from nnfs_jax import checks, network
from nnfs_jax import model as model_lib
from nnfs_jax.layers import Params

_manual = jax.jit(network.manual_gradient, static_argnames=("model", "fused"))
_autodiff = jax.jit(jax.grad(network.total_loss), static_argnames="model")


def validate(params, X, y, activation, model, key):
    """The model to differentiate (`model`, or the documents' classifier with `activation`) and
    the checked arguments: (params, X, y, model, masks), the dropout masks drawn from `key`."""
    model = model_lib.resolve(model, activation, model_lib.n_layers_of(params))
    params, X, y, masks = model_lib.validate(params, X, y, model, key, training=True)
    return params, X, y, model, masks


def grad_manual(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    activation: str | Sequence[str] = "relu",
    *,
    fused: bool = True,
    model: model_lib.Model | None = None,
    key: jax.Array | None = None,
) -> Params:
    """Gradient of `loss` from the documents' hand-written backward rules.

    fused: the softmax head's combined rule `(p - y) / samples` (the documents' training code);
    `False` chains the cross-entropy backward `-y / p / samples` through the per-sample softmax
    Jacobian. model, key: any `make_model` network (leave `activation` at its default) and the
    key of its dropout masks (required when it has dropout): then the gradient of its data plus
    regularization loss in training mode.
    """
    params, X, y, model, masks = validate(params, X, y, activation, model, key)
    return _manual(params, X, y, model, masks, bool(fused))


def grad_autodiff(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    activation: str | Sequence[str] = "relu",
    *,
    model: model_lib.Model | None = None,
    key: jax.Array | None = None,
) -> Params:
    """Gradient of `loss` by `jax.grad` (model, key: as for `grad_manual`)."""
    params, X, y, model, masks = validate(params, X, y, activation, model, key)
    return _autodiff(params, X, y, model, masks)


def default_step(dtype) -> float:
    """eps ** (1/3): balances a central difference's truncation and round-off errors."""
    return float(jnp.finfo(dtype).eps) ** (1 / 3)


def grad_numerical(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    h: float | None = None,
    activation: str | Sequence[str] = "relu",
    *,
    batch_size: int = 128,
    model: model_lib.Model | None = None,
    key: jax.Array | None = None,
) -> Params:
    """Central differences `(L(p + h e_i) - L(p - h e_i)) / (2h)` for every parameter p_i.

    h: the step; default `eps ** (1/3)` of the parameters' dtype.
    batch_size: how many parameters are perturbed at once (vmapped); bounds memory at
    about `2 * batch_size` forward passes.
    model, key: as in `grad_manual`; every perturbed loss uses the same dropout masks (the
    same key), so the differences are of one smooth function of the parameters.
    """
    params, X, y, model, masks = validate(params, X, y, activation, model, key)
    h = checked_step(params, h)
    batch_size = checks.positive_int(batch_size, "batch_size")
    return numerical_gradient(params, X, y, h, model, masks, batch_size)


def checked_step(params: Params, h: float | None) -> jax.Array:
    """The finite-difference step in the parameters' dtype: `h`, or `default_step`."""
    flat, _ = ravel_pytree(params)
    h = default_step(flat.dtype) if h is None else float(h)
    if not h > 0:
        raise checks.InputError(f"h: expected a positive step, got {h}")
    return jnp.asarray(h, flat.dtype)


def central_differences(loss_fn, params: Params, h: jax.Array, batch_size: int) -> Params:
    """`(loss_fn(p + h e_i) - loss_fn(p - h e_i)) / step` for every parameter, `batch_size`
    of them at a time (vmapped by `lax.map`)."""
    flat, unravel = ravel_pytree(params)

    def loss_at(theta):
        return loss_fn(unravel(theta))

    def partial_derivative(i):
        plus, minus = flat.at[i].add(h), flat.at[i].add(-h)
        # Divide by the step actually taken after rounding, not by 2h.
        return (loss_at(plus) - loss_at(minus)) / (plus[i] - minus[i])

    return unravel(jax.lax.map(partial_derivative, jnp.arange(flat.size), batch_size=batch_size))


@partial(jax.jit, static_argnames=("model", "batch_size"))
def numerical_gradient(params, X, y, h, model, masks, batch_size):
    """`grad_numerical` without the checks (jitted; model and batch_size static)."""
    return central_differences(
        lambda p: network.total_loss(p, X, y, model, masks), params, h, batch_size
    )
