"""Laying a chunk's configurations out over every device JAX sees, on one host or several.

The configuration axis of every per-configuration array is sharded over a one-axis `Mesh` of
all devices (`jax.devices()`, every process's); each device (on any host) takes its own rows
from the host array (`jax.make_array_from_callback`), so the same call serves one process or
several, where every process holds the whole (small) array of configurations. Results come
back to every process (`process_allgather`).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "configs"  # the mesh axis the configurations are laid out over


def mesh() -> Mesh:
    """A one-axis mesh of every device of every process."""
    return Mesh(np.asarray(jax.devices()), (AXIS,))


def shard(tree: Any, where: Mesh) -> Any:
    """Host arrays (leaves with a leading configuration axis) laid out over the mesh."""
    sharding = NamedSharding(where, PartitionSpec(AXIS))

    def one(array):
        array = np.asarray(array)
        return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])

    return jax.tree.map(one, tree)


def gather(tree: Any) -> Any:
    """A sharded result on the host of every process."""
    if jax.process_count() > 1:  # several processes: every one gets every result
        from jax.experimental import multihost_utils

        tree = multihost_utils.process_allgather(tree, tiled=True)
    return jax.device_get(tree)
