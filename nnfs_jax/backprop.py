"""Gradients of any model's loss three ways, and their leaf-by-leaf comparison.

`grad_manual` composes the documents' hand-written rules (`network.manual_gradient`),
`grad_autodiff` is `jax.grad` of the same loss, `grad_numerical` takes central differences
(vmapped over parameters in memory-bounded blocks); `compare_gradients` sets them side by side.
Each takes the documents' classifier (`activation=`) or any `model=`, with `key=` for its
dropout masks (one set of masks for all three methods). Where they may legitimately disagree,
and why, is in the README ("Where the three gradients disagree"): kinks (ReLU at 0, L1 at 0,
MAE at p = y), the loss's clip, and float32 round-off in finite differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from nnfs_jax import checks, network
from nnfs_jax import model as model_lib
from nnfs_jax.layers import Params

PAIRS = (("manual", "autodiff"), ("manual", "numerical"), ("autodiff", "numerical"))

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
    return _numerical(params, X, y, h, model, masks, batch_size)


def checked_step(params: Params, h: float | None) -> jax.Array:
    """The finite-difference step in the parameters' dtype: `h`, or `default_step`."""
    flat, _ = ravel_pytree(params)
    h = default_step(flat.dtype) if h is None else float(h)
    if not h > 0:
        raise ValueError(f"h: expected a positive step, got {h}")
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
def _numerical(params, X, y, h, model, masks, batch_size):
    return central_differences(
        lambda p: network.total_loss(p, X, y, model, masks), params, h, batch_size
    )


# --- comparison -------------------------------------------------------------------------------


class GradientReport(NamedTuple):
    """What `compare_gradients` finds.

    errors: {leaf name: {pair name: {"max_abs": ..., "max_rel": ...}}} (see `leaf_errors`),
      leaf names like
      "dense1.weights" (layers counted from 1, as the documents' dense1, dense2), pair names
      "manual_vs_autodiff", "manual_vs_numerical", "autodiff_vs_numerical".
    gradients: {"manual": grads, "autodiff": grads, "numerical": grads}.
    kinks: hidden pre-activations within h of a ReLU/step kink at 0 (finite differences
      straddle those), summed over samples and units; with a model also L1-regularized
      parameters within h of 0 and (linear_mae) outputs within h of their targets.
    saturated: samples whose correct-class probability lies outside the loss's clip range
      (sigmoid head: outputs outside it; linear heads: 0).
    h: the finite-difference step used.
    """

    errors: dict
    gradients: dict
    kinks: jax.Array
    saturated: jax.Array
    h: jax.Array


def leaf_names(params: Params) -> list[str]:
    return [f"dense{i + 1}.{k}" for i, layer in enumerate(params) for k in sorted(layer)]


def leaf_errors(a: jax.Array, b: jax.Array) -> dict[str, jax.Array]:
    """max_abs: max |a - b|. max_rel: max |a - b| relative to the leaf's largest entry,
    max |a - b| / max(max |a|, max |b|) (0 when both leaves are all zero).

    Relative to the leaf's scale rather than entry by entry: an entry whose true value is 0
    (a dead ReLU unit) or tiny (a sum that cancels) has no meaningful relative error of its own.
    """
    max_abs = jnp.max(jnp.abs(a - b))
    scale = jnp.maximum(jnp.max(jnp.abs(a)), jnp.max(jnp.abs(b)))
    return {
        "max_abs": max_abs,
        "max_rel": jnp.where(scale > 0, max_abs / jnp.where(scale > 0, scale, 1), 0),
    }


def compare_gradients(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    h: float | None = None,
    activation: str | Sequence[str] = "relu",
    *,
    fused: bool = True,
    model: model_lib.Model | None = None,
    key: jax.Array | None = None,
) -> GradientReport:
    """Manual, autodiff and numerical gradients, compared pair by pair, leaf by leaf.

    model, key: as in `grad_manual`; all three gradients then use the same dropout masks."""
    params, X, y, model, masks = validate(params, X, y, activation, model, key)
    return _compare(params, X, y, checked_step(params, h), model, masks, bool(fused))


def pairwise_errors(params: Params, grads: dict[str, Params]) -> dict:
    """{leaf name: {pair name: leaf_errors}} for the three gradients."""
    flat = {k: jax.tree_util.tree_leaves(g) for k, g in grads.items()}
    return {
        name: {f"{a}_vs_{b}": leaf_errors(flat[a][j], flat[b][j]) for a, b in PAIRS}
        for j, name in enumerate(leaf_names(params))
    }


@partial(jax.jit, static_argnames=("model", "fused"))
def _compare(params, X, y, h, model, masks, fused):
    grads = {
        "manual": network.manual_gradient(params, X, y, model, masks, fused),
        "autodiff": jax.grad(network.total_loss)(params, X, y, model, masks),
        "numerical": _numerical(params, X, y, h, model, masks, 128),
    }
    kinks, saturated = network.kinks_and_saturation(params, X, y, model, masks, h)
    return GradientReport(pairwise_errors(params, grads), grads, kinks, saturated, h)


def format_comparison(report: GradientReport) -> str:
    """The report as a plain-text table, one row per leaf and pair."""
    lines = [f"{'leaf':<16} {'pair':<24} {'max abs':>11} {'max rel':>11}"]
    for leaf, pairs in report.errors.items():
        for pair, err in pairs.items():
            abs_err, rel_err = float(err["max_abs"]), float(err["max_rel"])
            lines.append(f"{leaf:<16} {pair:<24} {abs_err:>11.3e} {rel_err:>11.3e}")
    lines.append(
        f"h = {float(report.h):.3g}; pre-activations within h of a kink: {int(report.kinks)}; "
        f"samples with a clipped correct-class probability: {int(report.saturated)}"
    )
    return "\n".join(lines)
