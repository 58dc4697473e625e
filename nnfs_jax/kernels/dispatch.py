"""Which kernel runs: the fastest that applies to the model, gradient method and backend.

    select(model, grad, whole_batch=...)        -> a `base.Kernel`

The fast layouts are tuned for XLA's CPU backend, where arrays with a tiny minor axis vectorise
poorly; on other backends (a GPU) the reference layout runs.
"""

from __future__ import annotations

from typing import Any

import jax

from nnfs_jax import checks, network
from nnfs_jax.kernels import base, feature_major, relu_block


def select(model: Any, grad: str, *, whole_batch: bool, backend: str | None = None) -> base.Kernel:
    """The samples-last layout (`feature_major`) for a softmax head without dropout, trained on
    the whole batch (its layout is prepared once) on a CPU, with the documents' rules computed
    per block of models in a sweep (`relu_block`); the reference composition otherwise."""
    if grad not in base.GRADS:
        raise checks.InputError(f"grad: expected one of {base.GRADS}, got {grad!r}")
    backend = jax.default_backend() if backend is None else backend
    fast = (
        backend == "cpu"
        and whole_batch
        and model.head.name == "softmax"
        and not network.has_dropout(model)
    )
    if not fast:
        return base.REFERENCE[grad]
    return relu_block.KERNEL if grad == "manual" else feature_major.KERNELS[grad]
