"""How a sweep is cut: configurations grouped by shape, chunks that fit the memory budget, and
the block of models each device trains at once (per backend)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from nnfs_jax import checks

BLOCK_CPU = 4  # models trained together on a CPU device, one block after another
DEFAULT_BUDGET = 512 * 2**20  # bytes a chunk of configurations may hold


def default_block(backend: str | None = None) -> int | None:
    """On a CPU, blocks of `BLOCK_CPU` models one after another (`lax.map`): a block small
    enough to stay in cache is faster there than one big `vmap` of small products. Elsewhere
    (a GPU) None: each device's whole share of a chunk is one `vmap`."""
    backend = jax.default_backend() if backend is None else backend
    return BLOCK_CPU if backend == "cpu" else None


def chunk_size(
    sizes: Sequence[int],
    n_samples: int,
    rows: int,
    devices: int,
    block: int,
    memory_budget: int,
    per_seed: bool = False,
    dtype: Any = np.float32,
    configs: int | None = None,
    batch_size: int | None = None,
) -> int:
    """Configurations per compiled call: as many as `memory_budget` bytes hold, a multiple of
    `devices * block`, at most `configs` rounded up to that unit.

    Per configuration: parameters, gradients and optimizer state (at most two buffers: 5
    copies), its history (7 numbers per row), its data when each seed has its own, twice over
    (inputs and outputs). Per device: the activations of the block in flight, about 8 arrays
    of (widths, samples) per model, samples being the batch's with mini-batches.
    """
    item = np.dtype(dtype).itemsize
    n = sum(a * b + b for a, b in itertools.pairwise(sizes))
    data = n_samples * (sizes[0] + 2 * sizes[-1]) if per_seed else 0
    per_config = 2 * item * (5 * n + 7 * rows + data + 8)
    in_flight = n_samples if batch_size is None else min(n_samples, batch_size)
    working = devices * block * 8 * item * in_flight * sum(sizes[1:])
    unit = devices * block
    fits = (memory_budget - working) // (per_config * unit)
    if fits < 1:
        raise checks.InputError(
            f"memory_budget: {memory_budget} bytes is too small for one chunk of {unit} "
            f"configurations ({devices} device(s) x block {block}) of a {'-'.join(map(str, sizes))}"
            f" network; at least {working + per_config * unit} bytes are needed"
        )
    size = int(fits) * unit
    if configs is not None:
        size = min(size, -(-configs // unit) * unit)
    return size
