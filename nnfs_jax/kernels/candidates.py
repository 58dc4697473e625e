"""Scoring many candidate networks at once (the searches' kernel), two ways, one signature.

`scorer(data, sizes, model)` returns `Scorer(loss, metrics)` on candidates `rows: (n_params,
candidates)` (`flatten`'s layout): the model's loss in evaluation mode (data plus regularization)
and `(loss, accuracy)`, each `(candidates,)`.

- The reference: the model's kernel (`kernels.dispatch.select`) `evaluate`, vmapped over the
  candidates, which share the data (so a whole block's first layer is one matrix product).
- `logit_gaps`, for a softmax classifier with class-index labels and no regularization on a CPU:
  samples minor and padded to a multiple of `LANES` so that XLA vectorises with no scalar tail,
  and layers at most `WIDE` units wide unrolled into one array per unit, so that a small
  network's forward pass, loss and sum over samples fuse into one elementwise loop that writes
  nothing to memory. The loss is the documents', rearranged:

      -log(clip(softmax(z)_y, 1e-7, 1 - 1e-7))
          = clip(log(1 + sum_{c != y} exp(z_c - z_y)), -log(1 - 1e-7), -log(1e-7))

  (C - 1 exponentials and one log per sample; equal to the documents' loss to round-off).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import network
from nnfs_jax.kernels import base, dispatch
from nnfs_jax.layers import Params
from nnfs_jax.losses import CLIP

WIDE = 8  # layers at most this wide are unrolled into one array per unit
LANES = 16  # the sample axis is padded to a multiple of this (AVX2 and AVX-512 widths)


def n_params(sizes: Sequence[int]) -> int:
    """How many numbers (weights and biases) a network of these layer widths has."""
    return sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))


def unflatten(rows: jax.Array | np.ndarray, sizes: Sequence[int]) -> Params:
    """`(n_params, *batch)` -> params whose leaves have the batch axes first: weights
    `(*batch, n_inputs, n_neurons)`, biases `(*batch, 1, n_neurons)`; NumPy in, NumPy out.

    Rows are each layer's weights (row-major), then its biases, layer by layer (`flatten`).
    """
    xp = np if isinstance(rows, np.ndarray) else jnp
    params, offset = [], 0
    batch = rows.shape[1:]
    for n_in, n_out in itertools.pairwise(sizes):
        weights = rows[offset : offset + n_in * n_out].reshape(n_in, n_out, *batch)
        biases = rows[offset + n_in * n_out : offset + n_in * n_out + n_out]
        params.append(
            {
                "weights": xp.moveaxis(weights, (0, 1), (-2, -1)),
                "biases": xp.moveaxis(biases.reshape(1, n_out, *batch), (0, 1), (-2, -1)),
            }
        )
        offset += n_in * n_out + n_out
    return params


def flatten(params: Params) -> np.ndarray:
    """Params (leaves with any leading batch axes) -> `(n_params, *batch)`, on the host."""
    parts = []
    for layer in params:
        for leaf in (np.asarray(layer["weights"]), np.asarray(layer["biases"])):
            parts.append(np.moveaxis(leaf, (-2, -1), (0, 1)).reshape(-1, *leaf.shape[:-2]))
    return np.concatenate(parts)


class Samples(NamedTuple):
    """A data set laid out for `logit_gaps`: samples last, padded to a multiple of `LANES`.

    XT: (n_inputs, padded). D: (classes - 1, classes, padded), one-hot(o_k) - one-hot(y) with
    o_k the k-th class other than the label y, so that `sum_c D[k, c] z_c = z_{o_k} - z_y`
    exactly. tie: (classes - 1, padded), o_k > y: argmax breaks a tie towards the lower class.
    valid: (padded,), False on the padding. count: the true number of samples.
    """

    XT: jax.Array
    D: jax.Array
    tie: jax.Array
    valid: jax.Array
    count: int


def samples_fm(X: np.ndarray, y: np.ndarray, classes: int) -> Samples:
    """`X: (samples, n_inputs)` and class indices `y: (samples,)` -> `Samples` (NumPy: built
    once on the host, so that the compiled search has no layout work to compile)."""
    count, dtype = X.shape[0], X.dtype
    padded = -(-count // LANES) * LANES
    XT = np.zeros((X.shape[1], padded), dtype)
    XT[:, :count] = X.T
    y = np.pad(np.asarray(y, np.int64), (0, padded - count))
    others = np.arange(classes - 1)[:, None]
    others = others + (others >= y)  # (classes - 1, padded): each sample's other classes
    eye = np.eye(classes, dtype=dtype)
    D = np.moveaxis(eye[others] - eye[y], -1, 1)
    return Samples(XT, D, others > y, np.arange(padded) < count, count)


def logit_gaps(
    rows: jax.Array, data: Samples, sizes: tuple[int, ...], model: Any
) -> list[jax.Array] | jax.Array:
    """`z_{o_k} - z_y` for every candidate in `rows: (n_params, candidates)` and sample, for
    each class o_k other than the label y: a list of `(candidates, padded)` arrays, or one
    `(classes - 1, candidates, padded)` array for more than `WIDE` classes.

    A layer at most `WIDE` wide is unrolled into one array per unit, each of its weights a
    `(candidates, 1)` column, so that a small network's forward pass and the loss's sum over
    samples fuse into one elementwise loop that writes nothing to memory. Wider layers are kept
    as `(candidates, units, padded)` arrays (a matmul where all candidates share the input).
    """
    h = list(data.XT[:, None, :]) if sizes[0] <= WIDE else data.XT[None]  # shared by all
    offset = 0
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        w = rows[offset : offset + n_in * n_out].reshape(n_in, n_out, -1)  # (n_in, n_out, cands)
        b = rows[offset + n_in * n_out : offset + n_in * n_out + n_out]  # (n_out, candidates)
        h = _dense_units(h, w, b, n_out <= WIDE)
        if i < len(model.activations):
            act = model.activations[i]
            h = [act(u) for u in h] if isinstance(h, list) else act(h)
        offset += n_in * n_out + n_out
    if isinstance(h, list):
        return [sum(Dk[c][None, :] * z for c, z in enumerate(h)) for Dk in data.D]
    return jnp.einsum("kcs,bcs->kbs", data.D, h)


def _dense_units(h, w, b, unrolled: bool):
    """One dense layer for all candidates. h: a list of `n_in` arrays `(candidates or 1,
    padded)`, or `(candidates or 1, n_in, padded)`; w: (n_in, n_out, candidates); b: (n_out,
    candidates). Returns a list of `n_out` arrays when `unrolled`, else one stacked array."""
    if isinstance(h, list):
        if unrolled:
            return [
                b[k][:, None] + sum(w[j, k][:, None] * u for j, u in enumerate(h))
                for k in range(len(b))
            ]
        return b.T[:, :, None] + sum(w[j].T[:, :, None] * u[:, None, :] for j, u in enumerate(h))
    if h.shape[0] == 1:  # the shared input: one matmul for the whole block
        out = jnp.einsum("jkb,js->bks", w, h[0]) + b.T[:, :, None]
        return [out[:, k] for k in range(len(b))] if unrolled else out
    if unrolled:
        return [b[k][:, None] + jnp.sum(w[:, k].T[:, :, None] * h, axis=1) for k in range(len(b))]
    return jnp.einsum("jkb,bjs->bks", w, h) + b.T[:, :, None]


def _loss_bounds(dtype) -> tuple[float, float]:
    # -log of the documents' clip bounds [1e-7, 1 - 1e-7], rounded as NumPy rounds them.
    return float(-np.log(np.asarray(1 - CLIP, dtype))), float(-np.log(np.asarray(CLIP, dtype)))


def gaps_loss(gaps: list[jax.Array] | jax.Array, data: Samples) -> jax.Array:
    """Mean clipped cross-entropy from `logit_gaps`: (candidates,)."""
    lo, hi = _loss_bounds(data.XT.dtype)
    if isinstance(gaps, list):
        total = sum(jnp.exp(d) for d in gaps) if gaps else 0  # one class: p = 1, then clipped
    else:
        total = jnp.sum(jnp.exp(gaps), axis=0)
    sample_losses = jnp.clip(jnp.log(1 + total), lo, hi)
    return jnp.sum(jnp.where(data.valid, sample_losses, 0), axis=-1) / data.count


def gaps_accuracy(gaps: list[jax.Array] | jax.Array, data: Samples) -> jax.Array:
    """Accuracy from `logit_gaps`: a sample is right where z_y is the first largest logit
    (argmax breaks ties towards the lower class)."""
    correct = data.valid
    for d, tie in zip(gaps, data.tie, strict=True):
        correct = correct & ((d < 0) | ((d == 0) & tie))
    return jnp.sum(correct, axis=-1).astype(data.XT.dtype) / data.count


class Scorer(NamedTuple):
    """`loss(rows)` and `metrics(rows) -> (loss, accuracy)` of candidates `(n_params, k)`."""

    loss: Callable[[jax.Array], jax.Array]
    metrics: Callable[[jax.Array], tuple[jax.Array, jax.Array]]


def gaps_apply(model: Any, y: np.ndarray, backend: str | None = None) -> bool:
    """Whether `logit_gaps` scores this model: a softmax head, no regularization, class-index
    labels, on a CPU."""
    backend = jax.default_backend() if backend is None else backend
    return (
        backend == "cpu"
        and model.head.name == "softmax"
        and y.ndim == 1
        and all(not r.active for r in model.regularizers)
    )


def layout(X: np.ndarray, y: np.ndarray, sizes: tuple[int, ...], model: Any, precision) -> Any:
    """The data set as the compiled search wants it, built once: `Samples` where `logit_gaps`
    applies, else the data in the layout of the model's kernel."""
    if gaps_apply(model, y) and sizes[-1] > 1:  # one class: nothing to rearrange
        return samples_fm(np.asarray(X), np.asarray(y), sizes[-1])
    kernel = dispatch.select(model, "manual", whole_batch=True)
    return kernel.prepare(jnp.asarray(X), jnp.asarray(y), precision, sizes[-1])


def scorer(data: Any, sizes: tuple[int, ...], model: Any) -> Scorer:
    """`logit_gaps` on `Samples`, else the model's kernel vmapped over the candidates."""
    if isinstance(data, Samples):

        def metrics(rows):
            gaps = logit_gaps(rows, data, sizes, model)
            return gaps_loss(gaps, data), gaps_accuracy(gaps, data)

        return Scorer(lambda rows: gaps_loss(logit_gaps(rows, data, sizes, model), data), metrics)
    kernel = dispatch.select(model, "manual", whole_batch=True)

    def one(params):
        sums = kernel.evaluate(params, data, model)
        loss, accuracy = base.means(sums, kernel.samples(data), model, data)
        return loss + network.regularization_loss(params, model).astype(loss.dtype), accuracy

    def vmapped(rows):
        return jax.vmap(one)(unflatten(rows, sizes))

    return Scorer(lambda rows: vmapped(rows)[0], vmapped)
