"""The documents' classifier's step for a block of models at once, computed from the ReLU mask.

`KERNEL` is `feature_major`'s manual kernel, except that for the documents' 2-layer network
(Dense -> ReLU -> Dense -> softmax, no dropout, no regularization) its `value_and_grad` is a
`jax.custom_batching.custom_vmap` function: called on one model it is `feature_major`'s code,
unchanged; `vmap`ped over a block of models (as `sweep` runs them) it is the block computation
below, equal to the vmapped reference to round-off. With the
inputs augmented by a row of ones, `x = [XT; 1]` (n_inputs + 1, samples), and `W = [weights_1;
biases_1]`, the hidden layer is `a = m * (W.T @ x)` where `m = (W.T @ x > 0)` is 0 or 1, so
every product with `a` becomes a product with `m`:

    logits[c, n] = sum_i x[i, n] * (V @ m)[(i, c), n],    V[(i, c), j] = W[i, j] W2[j, c]
    M = G @ m.T,   G[(i, c), n] = x[i, n] * dlogits[c, n]        ((n_in + 1) * classes, h)
    dW[i, j]  = sum_c W2[j, c] M[(i, c), j]     (dweights_1 and dbiases_1)
    dW2[j, c] = sum_i W[i, j]  M[(i, c), j]     (the documents' `a @ dlogits.T`)

so the (hidden, samples) arrays of the documents' loop (z, a, dinputs) are never stored: the
block writes its masks once and reads them twice, in two batched matrix products. On a CPU that
is faster than a `vmap` of small products (see the README's benchmarks).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import custom_batching

from nnfs_jax import model as model_lib
from nnfs_jax.kernels import feature_major
from nnfs_jax.kernels.base import Sums
from nnfs_jax.kernels.feature_major import Columns
from nnfs_jax.layers import Params
from nnfs_jax.losses import CLIP

CLASSIFIER = model_lib.make_model(2)  # the only model the block computation is for


def applies(model: Any) -> bool:
    """Dense -> ReLU -> Dense -> softmax, no dropout, no regularization (not even traced)."""
    return (
        len(model.activations) == 1
        and model.activations[0].name == "relu"
        and model.head.name == "softmax"
        and all(not r.active for r in model.regularizers)
        and all(isinstance(rate, float) and rate == 0 for rate in model.dropout)
    )


def value_and_grad(params: Params, data: Columns, model: Any, key: Any = None):
    """`feature_major.manual_value_and_grad`, the block computation when vmapped."""
    if applies(model):
        return _classifier(params, data)
    return feature_major.manual_value_and_grad(params, data, model, key)


@custom_batching.custom_vmap
def _classifier(params: Params, data: Columns) -> tuple[Params, Sums]:
    return feature_major.manual_value_and_grad(params, data, CLASSIFIER)


@_classifier.def_vmap
def _classifier_block(axis_size: int, in_batched: Any, params: Params, data: Columns):
    params_batched, data_batched = in_batched
    params = [
        {
            k: v if params_batched[i][k] else jnp.broadcast_to(v, (axis_size, *v.shape))
            for k, v in layer.items()
        }
        for i, layer in enumerate(params)
    ]
    per_seed = any(jax.tree.leaves(data_batched))
    if per_seed:
        data = Columns(
            *(
                a if b else jnp.broadcast_to(a, (axis_size, *a.shape))
                for a, b in zip(data, data_batched, strict=True)
            )
        )
    out = block_value_and_grad(params, data, per_seed)
    return out, jax.tree.map(lambda _: True, out)


def block_value_and_grad(params: Params, data: Columns, per_seed: bool) -> tuple[Params, Sums]:
    """params: leaves (block, ...); data: `Columns` shared, or with a leading (block,) axis
    when `per_seed`. Returns (gradients (block, ...) in the documents' layout, Sums (block,))."""
    W1, b1 = params[0]["weights"], params[0]["biases"]
    W2, b2 = params[1]["weights"], params[1]["biases"]
    XT, Y_loss, Y_grad = data
    block, hidden, classes = W2.shape
    n_in, samples = XT.shape[-2], XT.shape[-1]
    ones = jnp.ones((*XT.shape[:-2], 1, samples), XT.dtype)
    x = jnp.concatenate([XT, ones], axis=-2)  # (..., n_in + 1, samples)
    xb = x if per_seed else x[None]
    W = jnp.concatenate([W1, b1], axis=1)  # (block, n_in + 1, hidden)
    # The mask, from the pre-activation written out as n_in + 1 products (no matmul: the
    # contraction is tiny and the comparison fuses with it).
    z = sum(W[:, i, :, None] * xb[:, i, None, :] for i in range(n_in + 1))
    m = (z > 0).astype(XT.dtype)  # (block, hidden, samples)
    V = (W[:, :, None, :] * jnp.swapaxes(W2, 1, 2)[:, None, :, :]).reshape(block, -1, hidden)
    T = jnp.einsum("kaj,kjn->kan", V, m).reshape(block, n_in + 1, classes, samples)
    logits = sum(T[:, i] * xb[:, i, None, :] for i in range(n_in + 1)) + b2[:, 0, :, None]
    exp_values = jnp.exp(logits - jnp.max(logits, axis=1, keepdims=True))
    probs = exp_values / jnp.sum(exp_values, axis=1, keepdims=True)
    Yl = Y_loss if per_seed else Y_loss[None]
    loss = jnp.sum(-jnp.log(jnp.sum(jnp.clip(probs, CLIP, 1 - CLIP) * Yl, axis=1)), axis=-1)
    hits = jnp.argmax(probs, axis=1) == jnp.argmax(Yl, axis=1)
    dlogits = (probs - (Y_grad if per_seed else Y_grad[None])) / samples
    G = (xb[:, :, None, :] * dlogits[:, None, :, :]).reshape(block, -1, samples)
    M = jnp.einsum("kan,kjn->kaj", G, m).reshape(block, n_in + 1, classes, hidden)
    # The last two contractions are over 3 classes and n_in + 1 rows: written out as sums
    # of products (a dot_general here would be block * hidden tiny matrix products).
    W2T = jnp.swapaxes(W2, 1, 2)  # (block, classes, hidden)
    dW = sum(W2T[:, None, c, :] * M[:, :, c, :] for c in range(classes))  # (block, n_in+1, h)
    dW2 = jnp.swapaxes(sum(W[:, i, None, :] * M[:, i] for i in range(n_in + 1)), 1, 2)
    db2 = jnp.sum(dlogits, axis=2)[:, None, :]
    grads = [
        {"weights": dW[:, :n_in], "biases": dW[:, n_in:]},
        {"weights": dW2, "biases": db2},
    ]
    return grads, Sums(loss, jnp.sum(hits, axis=-1, dtype=jnp.int32))


KERNEL = feature_major.KERNELS["manual"]._replace(name="relu_block", value_and_grad=value_and_grad)
