"""Gradients of the classifier's loss three ways, and their leaf-by-leaf comparison.

- `grad_manual`: the documents' backward pass, composed from the hand-written rules in
  `layers` and `losses` (fused softmax + cross-entropy by default, or the Jacobian route).
- `grad_autodiff`: `jax.grad` of `loss`.
- `grad_numerical`: central finite differences, one pair of loss evaluations per parameter,
  vectorised over parameters with `vmap` (in memory-bounded blocks via `lax.map`).

All three return a pytree shaped like `params`. Where they can legitimately disagree:

- ReLU at exactly 0: the documents (and `layers.relu`) use derivative 0 there, so manual and
  autodiff agree; a finite difference straddles the kink and sees 1/2 of the one-sided slope.
  `compare_gradients` counts such pre-activations (`kinks`: |z| < h).
- Saturated probabilities: the loss clips p to [1e-7, 1 - 1e-7]; where a sample's correct-class
  probability is clipped, `jax.grad` of the clipped loss is 0 for that sample but the fused
  rule (p - y) / n is not. `compare_gradients` counts those samples (`saturated`).
- float32 round-off: a central difference has truncation error ~h^2 and round-off error
  ~eps * |loss| / h; the default h = eps ** (1/3) balances them (about 5e-3 in float32,
  6e-6 in float64), so float32 finite differences are good to ~1e-4 at best.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

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


def grad_manual(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    activation: str | Sequence[str] = "relu",
    *,
    fused: bool = True,
) -> Params:
    """Gradient of `loss` from the documents' hand-written backward rules.

    fused: use the combined softmax + cross-entropy rule `(p - y) / samples` (the documents'
    training code); `False` chains the cross-entropy backward `-y / p / samples` through the
    per-sample softmax Jacobian instead.
    """
    params, X, y, activations = validate_classifier(params, X, y, activation)
    return _manual(params, X, y, activations, fused)


def grad_autodiff(
    params: Params, X: jax.Array, y: jax.Array, activation: str | Sequence[str] = "relu"
) -> Params:
    """Gradient of `loss` by `jax.grad`."""
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
) -> Params:
    """Central differences `(L(p + h e_i) - L(p - h e_i)) / (2h)` for every parameter p_i.

    h: the step; default `eps ** (1/3)` of the parameters' dtype.
    batch_size: how many parameters are perturbed at once (vmapped); bounds memory at
    about `2 * batch_size` forward passes.
    """
    params, X, y, activations = validate_classifier(params, X, y, activation)
    flat, _ = ravel_pytree(params)
    h = default_step(flat.dtype) if h is None else float(h)
    if not h > 0:
        raise ValueError(f"h: expected a positive step, got {h}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
    return _numerical(params, X, y, jnp.asarray(h, flat.dtype), activations, int(batch_size))


@partial(jax.jit, static_argnames=("activations", "batch_size"))
def _numerical(params, X, y, h, activations, batch_size):
    flat, unravel = ravel_pytree(params)

    def loss_at(theta):
        return classifier_loss(unravel(theta), X, y, activations)

    def partial_derivative(i):
        plus, minus = flat.at[i].add(h), flat.at[i].add(-h)
        # Divide by the step actually taken after rounding, not by 2h.
        return (loss_at(plus) - loss_at(minus)) / (plus[i] - minus[i])

    return unravel(jax.lax.map(partial_derivative, jnp.arange(flat.size), batch_size=batch_size))


# --- comparison -------------------------------------------------------------------------------


class GradientReport(NamedTuple):
    """What `compare_gradients` finds.

    errors: {leaf name: {pair name: {"max_abs": ..., "max_rel": ...}}} (see `leaf_errors`),
      leaf names like
      "dense1.weights" (layers counted from 1, as the documents' dense1, dense2), pair names
      "manual_vs_autodiff", "manual_vs_numerical", "autodiff_vs_numerical".
    gradients: {"manual": grads, "autodiff": grads, "numerical": grads}.
    kinks: hidden pre-activations within h of a ReLU/step kink at 0 (finite differences
      straddle those), summed over samples and units.
    saturated: samples whose correct-class probability lies outside the loss's clip range.
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
) -> GradientReport:
    """Manual, autodiff and numerical gradients, compared pair by pair, leaf by leaf."""
    params, X, y, activations = validate_classifier(params, X, y, activation)
    flat, _ = ravel_pytree(params)
    h = default_step(flat.dtype) if h is None else float(h)
    if not h > 0:
        raise ValueError(f"h: expected a positive step, got {h}")
    return _compare(params, X, y, jnp.asarray(h, flat.dtype), activations, fused)


@partial(jax.jit, static_argnames=("activations", "fused"))
def _compare(params, X, y, h, activations, fused):
    grads = {
        "manual": manual_gradient(params, X, y, activations, fused),
        "autodiff": jax.grad(classifier_loss)(params, X, y, activations),
        "numerical": _numerical(params, X, y, h, activations, 128),
    }
    names = leaf_names(params)
    flat = {k: jax.tree_util.tree_leaves(g) for k, g in grads.items()}
    errors = {
        name: {f"{a}_vs_{b}": leaf_errors(flat[a][j], flat[b][j]) for a, b in PAIRS}
        for j, name in enumerate(names)
    }
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
