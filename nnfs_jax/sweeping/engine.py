"""The compiled sweep: a chunk of configurations trained in one call, on every device.

The chunk's configuration axis is laid out over the mesh (`shard_map`); each device trains its
configurations in blocks of `block` models one after another (`lax.map`; `block=None`: all of
them as one block), and a block is `loop.scan` of the engine's own unit (`train`'s logging
interval or `fit`'s epoch) `vmap`ped over the block's models: the same step and loop as `train`
and `fit`, each configuration with its own initial weights, hyperparameters (`step.Hyper`,
traced: one compilation for every value) and keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec

from nnfs_jax import loop, runs, training
from nnfs_jax.layers import init_params
from nnfs_jax.step import Hyper
from nnfs_jax.sweeping.sharding import AXIS


class Configs(NamedTuple):
    """A chunk's configurations, each field with a leading (configs,) axis."""

    init_keys: jax.Array  # uint32 key data of each configuration's init key
    scale: jax.Array  # initial weights scale * N(0, 1)
    hyper: Hyper  # traced model and optimizer hyperparameters
    train_keys: jax.Array | None  # uint32 key data of the training key, None when unused
    data: Any  # each configuration's training data (its seed's), None when shared


@dataclass(frozen=True)
class Blocked:
    """A program's unit vmapped over a block of models (hashable: a static argument)."""

    program: Any
    data_axes: runs.RunData

    def unit(self, carry, x, data):
        return jax.vmap(self.program.unit, in_axes=(0, None, self.data_axes))(carry, x, data)


@partial(jax.jit, static_argnames=("program", "sizes", "mesh", "block"))
def run_chunk(configs: Configs, shared, validation, xs, end, *, program, sizes, mesh, block):
    """Train a chunk. Returns, each with a leading (configs,) axis: the final parameters, the
    rows of every unit (configs, units) per field, the epoch each diverged at (-1: none), and
    (full batch) the (loss, accuracy, validation loss, validation accuracy) after the run."""
    spec = jax.tree.map(lambda _: PartitionSpec(AXIS), configs)
    local = partial(_device, program=program, sizes=sizes, block=block)
    return jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(spec, PartitionSpec(), PartitionSpec(), PartitionSpec(), PartitionSpec()),
        out_specs=PartitionSpec(AXIS),
        check_vma=False,
    )(configs, shared, validation, xs, end)


def _device(configs, shared, validation, xs, end, *, program, sizes, block):
    count = configs.scale.shape[0]
    size = count if block is None else block

    def split(a):
        return a.reshape(count // size, size, *a.shape[1:])

    blocks = jax.tree.map(split, configs)
    one = partial(
        _block, shared=shared, validation=validation, xs=xs, end=end, program=program, sizes=sizes
    )
    out = jax.lax.map(one, blocks)
    return jax.tree.map(lambda a: a.reshape(count, *a.shape[2:]), out)


def _block(configs: Configs, *, shared, validation, xs, end, program, sizes):
    dtype = jax.tree.leaves(shared if configs.data is None else configs.data)[0].dtype

    def init(key_data, scale):
        # init_params' draws, then the scale as a scalar of the weights' dtype.
        params = init_params(jax.random.wrap_key_data(key_data), sizes, 1.0, dtype=dtype)
        return [
            {"weights": scale.astype(dtype) * p["weights"], "biases": p["biases"]} for p in params
        ]

    params = jax.vmap(init)(configs.init_keys, configs.scale)
    opt_state = jax.vmap(program.step.init)(params, configs.hyper)
    carry = jax.vmap(program.start)(params, opt_state)
    keys = (
        None
        if configs.train_keys is None
        else jax.vmap(jax.random.wrap_key_data)(configs.train_keys)
    )
    per_seed = configs.data is not None
    data = runs.RunData(
        configs.data if per_seed else shared, validation, keys, configs.hyper, program.first_epoch
    )
    axes = runs.RunData(0 if per_seed else None, None, None if keys is None else 0, 0, None)
    carry, rows = loop.scan(Blocked(program, axes), carry, xs, data)
    rows = jax.tree.map(lambda r: jnp.swapaxes(r, 0, 1), rows)  # (units, block) -> (block, units)
    if isinstance(program, training.Program):
        final = jax.vmap(program.final, in_axes=(0, None, axes))(carry, end, data)
    else:  # fit: the last epoch's row
        final = (rows[0][:, -1], rows[3][:, -1], rows[5][:, -1], rows[6][:, -1])
    return carry[0], rows, program.diverged_at(carry), final
