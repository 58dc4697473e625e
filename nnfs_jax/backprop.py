"""Gradients of the classifier's loss three ways, and their leaf-by-leaf comparison.

- `grad_manual`: the documents' backward pass, composed from the hand-written rules in
  `layers` and `losses` (fused softmax + cross-entropy by default, or the Jacobian route).
- `grad_autodiff`: `jax.grad` of `loss`.
- `grad_numerical`: central finite differences, one pair of loss evaluations per parameter,
  vectorised over parameters with `vmap` (in memory-bounded blocks via `lax.map`).

All three take `model=` (a `nnfs_jax.model.Model`: any hidden activations, dropout, L1/L2
regularization, and a softmax, sigmoid, linear_mse or linear_mae head) and `key=` (the dropout
masks); they then differentiate `model.total_loss` in training mode, the finite differences
with the same masks. All three return a pytree shaped like `params`. Where they can
legitimately disagree:

- ReLU at exactly 0: the documents (and `layers.relu`) use derivative 0 there, so manual and
  autodiff agree; a finite difference straddles the kink and sees 1/2 of the one-sided slope.
  `compare_gradients` counts such pre-activations (`kinks`: |z| < h).
- Saturated probabilities: the loss clips p to [1e-7, 1 - 1e-7]; where a sample's correct-class
  probability is clipped, `jax.grad` of the clipped loss is 0 for that sample but the fused
  rule (p - y) / n is not. `compare_gradients` counts those samples (`saturated`).
- float32 round-off: a central difference has truncation error ~h^2 and round-off error
  ~eps * |loss| / h; the default h = eps ** (1/3) balances them (about 5e-3 in float32,
  6e-6 in float64), so float32 finite differences are good to ~1e-4 at best.
- With a model: L1's |w| and the MAE's |p - y| have kinks at 0 (the hand-written rules and
  jax.grad agree there, finite differences do not; counted in `kinks`), and the book's binary
  cross-entropy backward clips p like its forward (counted in `saturated`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from nnfs_jax import checks
from nnfs_jax import model as model_lib
from nnfs_jax.layers import (
    ACTIVATIONS,
    Params,
    dense_backward,
    forward_cache,
    softmax_backward,
)
from nnfs_jax.losses import (
    CLIP,
    categorical_crossentropy_backward,
    classifier_loss,
    softmax_crossentropy_backward,
    sparse_labels,
    validate_classifier,
)

PAIRS = (("manual", "autodiff"), ("manual", "numerical"), ("autodiff", "numerical"))


def manual_gradient(
    params: Params, X: jax.Array, y: jax.Array, activations: Sequence[str], fused: bool = True
) -> Params:
    """The documents' backward pass through Dense -> act -> ... -> Dense -> softmax -> loss.

    No validation (see `grad_manual`). Returns `[{"weights": dweights, "biases": dbiases}, ...]`.
    """
    cache = forward_cache(params, X, activations)
    probs = cache[-1].output

    if fused:
        dvalues = softmax_crossentropy_backward(probs, y)
    else:
        dvalues = softmax_backward(categorical_crossentropy_backward(probs, y), probs)

    grads: list[dict[str, jax.Array]] = []
    for i in reversed(range(len(params))):
        inputs, z, out = cache[i]
        if i < len(activations):
            dvalues = ACTIVATIONS[activations[i]].backward(dvalues, z, out)
        g = dense_backward(dvalues, inputs, params[i]["weights"])
        grads.append({"weights": g.dweights, "biases": g.dbiases})
        dvalues = g.dinputs
    return grads[::-1]


_manual = jax.jit(manual_gradient, static_argnames=("activations", "fused"))
_autodiff = jax.jit(jax.grad(classifier_loss), static_argnames="activations")
_model_manual = jax.jit(model_lib.manual_gradient, static_argnames=("model", "fused"))
_model_autodiff = jax.jit(jax.grad(model_lib.total_loss), static_argnames="model")


def validate_model(params, X, y, activation, model, key):
    """Check the arguments of a gradient with `model=`; return (params, X, y, masks), the
    dropout masks drawn from `key` (None without dropout)."""
    model_lib.check_default_activation(activation)
    return model_lib.validate(params, X, y, model, key, training=True)


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

    fused: use the combined softmax + cross-entropy rule `(p - y) / samples` (the documents'
    training code); `False` chains the cross-entropy backward `-y / p / samples` through the
    per-sample softmax Jacobian instead. With a model, only its softmax head has a fused rule.
    model, key: a `nnfs_jax.model.Model` (leave `activation` at its default) and the key of
    its dropout masks (required when it has dropout): the gradient of `loss(..., model=model,
    key=key)`, data loss plus regularization, composed by `model.manual_gradient`.
    """
    if model is not None:
        params, X, y, masks = validate_model(params, X, y, activation, model, key)
        return _model_manual(params, X, y, model, masks, fused)
    checks.check_no_key(key)
    params, X, y, activations = validate_classifier(params, X, y, activation)
    return _manual(params, X, y, activations, fused)


def grad_autodiff(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    activation: str | Sequence[str] = "relu",
    *,
    model: model_lib.Model | None = None,
    key: jax.Array | None = None,
) -> Params:
    """Gradient of `loss` by `jax.grad` (with a model: of its data + regularization loss,
    dropout masks from `key`)."""
    if model is not None:
        params, X, y, masks = validate_model(params, X, y, activation, model, key)
        return _model_autodiff(params, X, y, model, masks)
    checks.check_no_key(key)
    params, X, y, activations = validate_classifier(params, X, y, activation)
    return _autodiff(params, X, y, activations)


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
    if model is not None:
        params, X, y, masks = validate_model(params, X, y, activation, model, key)
    else:
        checks.check_no_key(key)
        params, X, y, activations = validate_classifier(params, X, y, activation)
    h = checked_step(params, h)
    if int(batch_size) < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
    if model is not None:
        return _model_numerical(params, X, y, h, model, masks, int(batch_size))
    return _numerical(params, X, y, h, activations, int(batch_size))


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


@partial(jax.jit, static_argnames=("activations", "batch_size"))
def _numerical(params, X, y, h, activations, batch_size):
    return central_differences(
        lambda p: classifier_loss(p, X, y, activations), params, h, batch_size
    )


@partial(jax.jit, static_argnames=("model", "batch_size"))
def _model_numerical(params, X, y, h, model, masks, batch_size):
    return central_differences(
        lambda p: model_lib.total_loss(p, X, y, model, masks), params, h, batch_size
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
    if model is not None:
        params, X, y, masks = validate_model(params, X, y, activation, model, key)
        return _model_compare(params, X, y, checked_step(params, h), model, masks, fused)
    checks.check_no_key(key)
    params, X, y, activations = validate_classifier(params, X, y, activation)
    return _compare(params, X, y, checked_step(params, h), activations, fused)


def pairwise_errors(params: Params, grads: dict[str, Params]) -> dict:
    """{leaf name: {pair name: leaf_errors}} for the three gradients."""
    flat = {k: jax.tree_util.tree_leaves(g) for k, g in grads.items()}
    return {
        name: {f"{a}_vs_{b}": leaf_errors(flat[a][j], flat[b][j]) for a, b in PAIRS}
        for j, name in enumerate(leaf_names(params))
    }


@partial(jax.jit, static_argnames=("model", "fused"))
def _model_compare(params, X, y, h, model, masks, fused):
    grads = {
        "manual": model_lib.manual_gradient(params, X, y, model, masks, fused),
        "autodiff": jax.grad(model_lib.total_loss)(params, X, y, model, masks),
        "numerical": _model_numerical(params, X, y, h, model, masks, 128),
    }
    kinks, saturated = model_lib.kinks_and_saturation(params, X, y, model, masks, h)
    return GradientReport(pairwise_errors(params, grads), grads, kinks, saturated, h)


@partial(jax.jit, static_argnames=("activations", "fused"))
def _compare(params, X, y, h, activations, fused):
    grads = {
        "manual": manual_gradient(params, X, y, activations, fused),
        "autodiff": jax.grad(classifier_loss)(params, X, y, activations),
        "numerical": _numerical(params, X, y, h, activations, 128),
    }
    errors = pairwise_errors(params, grads)
    cache = forward_cache(params, X, activations)
    kinks = sum(
        jnp.sum(jnp.abs(c.z) < h)
        for c, a in zip(cache[:-1], activations, strict=True)
        if a in ("relu", "step")
    )
    probs = cache[-1].output
    p_true = jnp.take_along_axis(probs, sparse_labels(y)[:, None], axis=1)[:, 0]
    saturated = jnp.sum((p_true < CLIP) | (p_true > 1 - CLIP))
    return GradientReport(errors, grads, jnp.asarray(kinks, jnp.int32), saturated, h)


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
