"""Manual, `jax.grad` and finite-difference gradients side by side, leaf by leaf, with a verdict.

Where the three may legitimately disagree, and why (README, "Where the three gradients
disagree"): finite differences straddle kinks (ReLU or leaky ReLU at 0, L1 at 0, MAE at p = y:
`kinks` counts them), the loss's clip makes it flat where the documents' fused rule still pulls
(`saturated`), and a central difference carries truncation error ~h^2 and round-off
~eps * |loss| / h. `verdicts` turns the table into one line per pair from those facts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from nnfs_jax import model as model_lib
from nnfs_jax import network
from nnfs_jax.backprop import checked_step, numerical_gradient, validate
from nnfs_jax.layers import Params

PAIRS = (("manual", "autodiff"), ("manual", "numerical"), ("autodiff", "numerical"))


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
    h: the finite-difference step used. loss: the loss the gradients are of (it sets the
      finite differences' round-off; None: taken as 1).
    """

    errors: dict
    gradients: dict
    kinks: jax.Array
    saturated: jax.Array
    h: jax.Array
    loss: jax.Array | None = None


def leaf_names(params: Params) -> list[str]:
    return [f"dense{i + 1}.{k}" for i, layer in enumerate(params) for k in sorted(layer)]


def leaf_errors(a: jax.Array, b: jax.Array) -> dict[str, jax.Array]:
    """max_abs: max |a - b|. max_rel: max |a - b| relative to the leaf's largest entry,
    max |a - b| / max(max |a|, max |b|) (0 when both leaves are all zero). Both are NaN when
    either leaf holds a NaN or an infinity: a mismatch, never a match.

    Relative to the leaf's scale rather than entry by entry: an entry whose true value is 0
    (a dead ReLU unit) or tiny (a sum that cancels) has no meaningful relative error of its own.
    """
    finite = jnp.all(jnp.isfinite(a)) & jnp.all(jnp.isfinite(b))
    max_abs = jnp.max(jnp.abs(a - b))
    scale = jnp.maximum(jnp.max(jnp.abs(a)), jnp.max(jnp.abs(b)))
    max_rel = jnp.where(scale > 0, max_abs / jnp.where(scale > 0, scale, 1), 0)
    return {
        "max_abs": jnp.where(finite, max_abs, jnp.nan),
        "max_rel": jnp.where(finite, max_rel, jnp.nan),
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
        "numerical": numerical_gradient(params, X, y, h, model, masks, 128),
    }
    kinks, saturated = network.kinks_and_saturation(params, X, y, model, masks, h)
    loss = network.total_loss(params, X, y, model, masks)
    return GradientReport(pairwise_errors(params, grads), grads, kinks, saturated, h, loss)


class Verdict(NamedTuple):
    """One pair's verdict. status: "ok" (every leaf within the tolerance), "expected" (a leaf
    beyond it, but the report counts what explains it: `reason`), or "fail" (a leaf beyond it
    unexplained, or NaN or infinite). A leaf is within the tolerance when its error relative to
    the leaf's largest entry is at most `relative` or its absolute error at most `absolute`.
    worst_leaf, worst: the leaf with the largest relative error, and that error."""

    pair: str
    status: str
    relative: float
    absolute: float
    worst_leaf: str
    worst: float
    reason: str


def tolerances(report: GradientReport) -> dict[str, tuple[float, float]]:
    """Each pair's (relative, absolute) tolerance, from the precision, the step h and the loss.

    manual vs autodiff, the same function differentiated two ways, differ by the round-off of
    sums over samples: relative sqrt(eps) (1.5e-8 in float64, 3.5e-4 in float32), or where the
    terms cancel (a gradient near 0), absolute 100 * eps * max(|loss|, 1) (the round-off of
    terms of the loss's size). With finite differences, the central difference's own error:
    truncation ~h^2 plus round-off ~eps * max(|loss|, 1) / h, ten times over, absolute.
    """
    eps = float(jnp.finfo(jnp.asarray(report.h).dtype).eps)
    loss = 1.0 if report.loss is None else abs(float(report.loss))
    h, size = float(report.h), max(loss, 1.0) if math.isfinite(loss) else math.inf
    difference = 10 * (h * h + eps * size / h)
    return {
        "manual_vs_autodiff": (math.sqrt(eps), 100 * eps * size),
        "manual_vs_numerical": (math.sqrt(eps), difference),
        "autodiff_vs_numerical": (math.sqrt(eps), difference),
    }


def verdicts(report: GradientReport) -> list[Verdict]:
    """One `Verdict` per pair of gradients (see `tolerances`). Differences beyond the tolerance
    are "expected" where the report counts their cause: finite differences straddling a kink
    (`kinks` > 0) for the pairs with finite differences, and the loss's clip (`saturated` > 0)
    for the pairs with the documents' fused rule, which the clipped loss does not follow."""
    kinks, saturated = int(report.kinks), int(report.saturated)
    out = []
    for pair, (relative, absolute) in tolerances(report).items():
        errors = {leaf: err[pair] for leaf, err in report.errors.items()}
        rel = {leaf: float(e["max_rel"]) for leaf, e in errors.items()}
        bad = [leaf for leaf, r in rel.items() if not math.isfinite(r)]
        if bad:
            reason = "a gradient is NaN or infinite"
            out.append(Verdict(pair, "fail", relative, absolute, bad[0], rel[bad[0]], reason))
            continue
        worst_leaf = max(rel, key=rel.get)
        beyond = [
            leaf
            for leaf, e in errors.items()
            if rel[leaf] > relative and float(e["max_abs"]) > absolute
        ]
        causes = []
        if "numerical" in pair and kinks:
            causes.append(f"{kinks} value(s) within h of a kink")
        if "manual" in pair and saturated:
            causes.append(f"{saturated} clipped sample(s), where the fused rule still pulls")
        if not beyond:
            status, reason = "ok", "within tolerance"
        elif causes:
            status, reason = "expected", "; ".join(causes)
        else:
            status, reason = "fail", f"beyond tolerance: {', '.join(beyond)}"
        out.append(Verdict(pair, status, relative, absolute, worst_leaf, rel[worst_leaf], reason))
    return out


def format_comparison(report: GradientReport) -> str:
    """The report as a plain-text table, one row per leaf and pair, then one verdict line per
    pair (`verdicts`)."""
    lines = [f"{'leaf':<16} {'pair':<24} {'max abs':>11} {'max rel':>11}"]
    for leaf, pairs in report.errors.items():
        for pair, err in pairs.items():
            abs_err, rel_err = float(err["max_abs"]), float(err["max_rel"])
            lines.append(f"{leaf:<16} {pair:<24} {abs_err:>11.3e} {rel_err:>11.3e}")
    lines.append(
        f"h = {float(report.h):.3g}; values within h of a kink: {int(report.kinks)}; "
        f"clipped samples: {int(report.saturated)}; dtype {jnp.asarray(report.h).dtype}"
    )
    for v in verdicts(report):
        lines.append(
            f"verdict {v.pair}: {v.status} (worst {v.worst_leaf} {v.worst:.3e} relative; "
            f"tolerance {v.relative:.1e} relative or {v.absolute:.1e} absolute: {v.reason})"
        )
    return "\n".join(lines)
