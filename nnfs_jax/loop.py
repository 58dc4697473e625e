"""The one compiled loop: a run cut into equal chunks of units, each chunk one `lax.scan`.

A *unit* is what an engine does between two rows of its history (`train`: a logging interval
of epochs; `fit`: an epoch), a pure function `unit(carry, x, data) -> (carry, row)` of a
hashable *program* (`program.unit`); a row is a tuple of scalars of one dtype. `run` scans it
over the units' inputs `xs` in about `CHUNKS` compiled calls of the same length (one
compilation), reports the rows between calls
(so progress costs nothing inside the compiled loop), and returns the final carry and the rows.
The last chunk is padded with inactive units, which leave the carry as it is and whose rows are
dropped. `scan` is the loop itself, which `sweep` also runs per block of models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

CHUNKS = 20  # a run is about this many compiled calls; progress is reported between them


def scan(program: Any, carry: Any, xs: tuple, data: Any) -> tuple[Any, Any]:
    """`lax.scan` of `program.unit` over `xs = (active, *inputs)`, each of (units, ...); an
    inactive unit passes the carry unchanged and gives a row of zeros."""

    first = tuple(x[0] for x in xs[1:])
    _, row_shape = jax.eval_shape(lambda c, x: program.unit(c, x, data), carry, first)
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), row_shape)

    def body(carry, x):
        active, inputs = x[0], x[1:]
        return jax.lax.cond(
            active,
            lambda c: program.unit(c, inputs, data),
            lambda c: (c, zeros),
            carry,
        )

    return jax.lax.scan(body, carry, xs)


@partial(jax.jit, static_argnames="program")
def _chunk(program, carry, xs, data):
    # The rows as one (units, fields) array: one transfer to the host instead of one per field.
    carry, rows = scan(program, carry, xs, data)
    return carry, jnp.stack(rows, axis=-1)


def run(
    program: Any,
    carry: Any,
    xs: tuple[np.ndarray, ...],
    data: Any,
    *,
    chunks: int = CHUNKS,
    report: Callable[[int, tuple[np.ndarray, ...]], None] | None = None,
) -> tuple[Any, tuple[np.ndarray, ...]]:
    """Run `program.unit` over the units whose inputs are `xs` (NumPy arrays, (units, ...)).

    report: called after each chunk with the index of the chunk's first unit and its rows
    (NumPy, one entry per unit of the chunk). Returns the carry after the last unit and every
    unit's row, joined on the host (slicing and joining device arrays would compile an op per
    shape).
    """
    units = len(xs[0])
    per_chunk = max(1, -(-units // chunks))
    pad = -units % per_chunk
    active = np.concatenate([np.ones(units, bool), np.zeros(pad, bool)])
    padded = tuple(np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)]) for x in xs)
    parts = []
    for first in range(0, units, per_chunk):
        piece = slice(first, first + per_chunk)
        carry, rows = _chunk(program, carry, (active[piece], *(x[piece] for x in padded)), data)
        parts.append(rows)
        if report is not None:  # waits for the chunk; without a report the calls queue up
            rows = np.asarray(rows)[: min(per_chunk, units - first)]
            report(first, tuple(rows.T))
    rows = np.concatenate(jax.device_get(parts))[:units]
    return carry, tuple(rows.T)
