"""Hyperparameter sweeps: many trainings of the documents' classifier in one compiled call.

`sweep(data, axes, ...)` trains one model per *configuration* — a learning rate, decay,
momentum (or the other hyperparameters of the book optimizer named), an initial weight scale,
hidden widths and a seed — on one data set, every configuration exactly as `train` would train
it alone (`SweepResult.setup(i)` returns the arguments that replay configuration i with
`train`). Configurations are the product of the axes' values (a grid) or random draws from
`uniform` / `log_uniform` ranges, times the seeds.

How it runs:

- Configurations are grouped by architecture (hidden widths): one compilation per distinct
  shape, reused by later calls with the same shapes.
- A group is cut into *chunks* small enough for `memory_budget` (one compiled call each, a
  `progress` report after each). A chunk's configuration axis is laid out over every device
  JAX sees (`jax.sharding.Mesh`, `shard_map`), padded to a multiple of the device count and
  of `block`; the padding is dropped from the result.
- On each device the configurations run `block` models at a time, one block after another
  (`lax.map`): every epoch of a block's models, samples-last, inside the loop. A block small
  enough to stay in cache is faster on a CPU than one big `vmap` (see
  shared/PERFORMANCE_NOTES.md); the models of a block share the input `X`.
- A configuration whose loss becomes NaN or inf is marked diverged at the first such epoch;
  every model is computed apart from the others, so nothing it does reaches them.

Seeds: seed `s` is `jax.random.key(s)` split in two, `(init_key, data_key)`: the initial weights
are `init_params(init_key, sizes, scale)`, and when `data` is a key-based generator (e.g.
`functools.partial(make_spiral, samples=100, classes=3)`) the seed's data are `data(data_key)`.
"""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from nnfs_jax import checks
from nnfs_jax.feature_major import (
    crossentropy_fm,
    manual_gradient_and_loss_fm,
)
from nnfs_jax.layers import Params, init_params
from nnfs_jax.optim import BOOK_OPTIMIZERS, OPTIMIZERS
from nnfs_jax.train import History, interval_schedule, metrics_row, targets, update

AXIS = "configs"  # the mesh axis the configurations are laid out over
MODEL_AXES = ("scale", "hidden")  # the axes that are not optimizer hyperparameters
BLOCK = 4  # models trained together on a device (see `sweep`'s `block`)
DEFAULT_BUDGET = 512 * 2**20  # bytes
DIVERGE_ABOVE = 4.0  # a loss above this many times the epoch-0 loss counts as diverged


# --- axes ------------------------------------------------------------------------------------


class Uniform(NamedTuple):
    """A range to draw from uniformly: `low + (high - low) * u`, u in [0, 1)."""

    low: float
    high: float


class LogUniform(NamedTuple):
    """A range to draw from log-uniformly: `exp(uniform(log(low), log(high)))`, 0 < low."""

    low: float
    high: float


def uniform(low: float, high: float) -> Uniform:
    """An axis drawn uniformly from [low, high) in a random sweep."""
    return Uniform(*_range(low, high, "uniform", positive=False))


def log_uniform(low: float, high: float) -> LogUniform:
    """An axis drawn log-uniformly from [low, high) in a random sweep (0 < low < high)."""
    return LogUniform(*_range(low, high, "log_uniform", positive=True))


def _range(low: Any, high: Any, name: str, positive: bool) -> tuple[float, float]:
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected two numbers, got {low!r}, {high!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high) or (positive and low <= 0):
        need = "0 < low < high" if positive else "low < high"
        raise ValueError(f"{name}: expected finite bounds with {need}, got ({low}, {high})")
    return low, high


def hyperparameter_names(optimizer: str) -> tuple[str, ...]:
    """The hyperparameters of a book optimizer, in its signature's order: the axes it takes
    besides `scale` and `hidden`."""
    return tuple(inspect.signature(OPTIMIZERS[optimizer]).parameters)


def _defaults(optimizer: str) -> dict[str, float]:
    return {
        name: float(p.default)
        for name, p in inspect.signature(OPTIMIZERS[optimizer]).parameters.items()
    }


def configurations(
    axes: Mapping[str, Any],
    *,
    optimizer: str = "sgd",
    seeds: int | Sequence[int] = 1,
    samples: int | None = None,
    key: jax.Array | None = None,
) -> list[dict[str, Any]]:
    """The configurations a sweep trains, in its order: every combination of the axes' values
    (the last axis varying fastest), each with every seed (seeds fastest).

    axes: `{name: values}`: names are the optimizer's hyperparameters
    (`hyperparameter_names(optimizer)`), `"scale"` (initial weights `scale * N(0, 1)`) and
    `"hidden"` (hidden widths: an int or a tuple of ints per value). A value list is a grid
    axis; a `uniform(...)` / `log_uniform(...)` range is a random axis, drawn `samples` times
    from `key` (then the grid axes' product is taken with those draws).
    Axes not given take the optimizer's defaults, `scale` 0.01 and `hidden` (64,).
    seeds: how many (seeds 0..n-1) or which. Returns dicts with every hyperparameter, `scale`,
    `hidden` (a tuple) and `seed`.
    """
    optimizer = _check_optimizer(optimizer)
    seeds = _check_seeds(seeds)
    if not isinstance(axes, Mapping):
        raise TypeError(f"axes: expected a mapping {{name: values}}, got {type(axes).__name__}")
    known = (*hyperparameter_names(optimizer), *MODEL_AXES)
    for name in axes:
        if name not in known:
            raise ValueError(
                f"axes: unknown axis {name!r} for optimizer {optimizer!r}; expected one of {known}"
            )
    grid, ranges = {}, {}
    for name, values in axes.items():
        if isinstance(values, (Uniform, LogUniform)):
            if name == "hidden":
                raise TypeError("hidden: expected a list of widths, not a range")
            ranges[name] = values
        else:
            grid[name] = _grid_values(name, values)
    draws: list[dict[str, Any]] = [{}]
    if ranges:
        draws = _draw(ranges, samples, key)
    elif samples is not None or key is not None:
        raise ValueError("samples: random sampling needs at least one uniform/log_uniform axis")
    base = {**_defaults(optimizer), "scale": 0.01, "hidden": (64,)}
    configs = []
    for combo in itertools.product(*grid.values()):
        for drawn in draws:
            for seed in seeds:
                configs.append(
                    {**base, **dict(zip(grid, combo, strict=True)), **drawn, "seed": seed}
                )
    _check_values(configs, optimizer)
    return configs


def _grid_values(name: str, values: Any) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"{name}: empty axis; expected at least one value")
    if name == "hidden":
        return [_hidden(v) for v in values]
    out = []
    for v in values:
        if isinstance(v, (bool, str, bytes)) or v is None:
            raise TypeError(f"{name}: expected numbers, got {v!r}")
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            raise TypeError(f"{name}: expected numbers, got {v!r}") from None
    return out


def _hidden(value: Any) -> tuple[int, ...]:
    widths = (value,) if isinstance(value, (int, np.integer)) else value
    try:
        widths = tuple(widths)
    except TypeError:
        raise TypeError(
            f"hidden: expected widths (an int or a tuple of ints), got {value!r}"
        ) from None
    if any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1 for w in widths):
        raise ValueError(f"hidden: expected positive integer widths, got {value!r}")
    return tuple(int(w) for w in widths)


def _draw(ranges: dict, samples: Any, key: Any) -> list[dict[str, float]]:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"samples: expected a positive number of random draws, got {samples!r}")
    if not (isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)):
        raise TypeError(f"key: expected a jax.random key for random sampling, got {key!r}")
    columns = {}
    for i, (name, r) in enumerate(ranges.items()):
        u = np.asarray(jax.random.uniform(jax.random.fold_in(key, i), (samples,), jnp.float32))
        u = u.astype(np.float64)
        if isinstance(r, LogUniform):
            columns[name] = np.exp(np.log(r.low) + u * (np.log(r.high) - np.log(r.low)))
        else:
            columns[name] = r.low + u * (r.high - r.low)
    return [{name: float(col[j]) for name, col in columns.items()} for j in range(samples)]


def _check_optimizer(optimizer: Any) -> str:
    if not isinstance(optimizer, str) or optimizer not in BOOK_OPTIMIZERS:
        raise ValueError(
            f"optimizer: unknown optimizer {optimizer!r}; expected one of {BOOK_OPTIMIZERS}"
        )
    return optimizer


def _check_seeds(seeds: Any) -> tuple[int, ...]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds: expected a positive number of seeds, got {seeds}")
        return tuple(range(int(seeds)))
    if isinstance(seeds, Sequence) and not isinstance(seeds, (str, bytes)):
        if not seeds:
            raise ValueError("seeds: expected at least one seed")
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
            raise ValueError(f"seeds: expected non-negative integers, got {list(seeds)!r}")
        return tuple(int(s) for s in seeds)
    raise TypeError(f"seeds: expected a count or a list of integers, got {seeds!r}")


def _check_values(configs: list[dict], optimizer: str) -> None:
    """Each distinct value through the optimizer's own checks (errors name the
    hyperparameter), and `scale` finite and >= 0."""
    factory = OPTIMIZERS[optimizer]
    for name in hyperparameter_names(optimizer):
        for value in {c[name] for c in configs}:
            factory(**{name: value})
    for value in {c["scale"] for c in configs}:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"scale: expected a finite number >= 0, got {value!r}")


# --- results ---------------------------------------------------------------------------------


class SweepProgress(NamedTuple):
    """What a `progress` callback receives after each chunk of configurations."""

    chunk: int  # chunks done so far (1-based)
    chunks: int
    configs_done: int
    configs: int


@dataclass
class SweepResult:
    """Every configuration's outcome, in the sweep's order (`configs[i]` is configuration i).

    final_loss, final_accuracy: (configs,), measured after the last update (NaN where the
    loss is NaN). diverged_at: (configs,) int, the first epoch whose loss (measured before that
    epoch's update, as `History` is) was NaN, inf or above `diverge_above` times the epoch-0
    loss — `epochs` if only the final loss was — or -1. history: a `History` whose fields
    are (configs, logs) (epoch: (logs,)), what `train` would have logged for each.
    params: each configuration's final parameters.
    """

    configs: list[dict[str, Any]]
    final_loss: np.ndarray
    final_accuracy: np.ndarray
    diverged_at: np.ndarray
    history: History
    params: list[Params]
    optimizer: str
    epochs: int
    log_every: int
    activation: str | tuple[str, ...]
    data: Any = field(repr=False)
    chunks: int = 1
    chunk_size: int = 0

    def __len__(self) -> int:
        return len(self.configs)

    @property
    def diverged(self) -> np.ndarray:
        """(configs,) bool: True where the configuration diverged."""
        return self.diverged_at >= 0

    def order(self) -> np.ndarray:
        """Configuration indices by final loss, lowest first; diverged ones last."""
        loss = np.where(self.diverged | np.isnan(self.final_loss), np.inf, self.final_loss)
        return np.argsort(loss, kind="stable")

    def table(self) -> list[dict[str, Any]]:
        """One row per configuration, sorted by final loss: its index, its configuration,
        `final_loss`, `accuracy`, `diverged_at` (None when it did not diverge)."""
        rows = []
        for rank, i in enumerate(self.order()):
            config = dict(self.configs[i])
            config["hidden"] = "-".join(map(str, config["hidden"]))
            rows.append(
                {
                    "rank": rank,
                    "index": int(i),
                    **config,
                    "final_loss": float(self.final_loss[i]),
                    "accuracy": float(self.final_accuracy[i]),
                    "diverged_at": int(self.diverged_at[i]) if self.diverged[i] else None,
                }
            )
        return rows

    def to_csv(self, path: str | Path) -> Path:
        """The table as CSV (header row first), written atomically. Returns the path."""
        rows = self.table()
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return _atomic_write_text(Path(path), text.getvalue())

    def to_jsonl(self, path: str | Path) -> Path:
        """The table as JSON lines (one object per configuration), written atomically."""
        text = "".join(json.dumps(row) + "\n" for row in self.table())
        return _atomic_write_text(Path(path), text)

    def swept_axes(self) -> list[str]:
        """The axes (configuration keys other than `seed`) that take more than one value."""
        keys = [k for k in self.configs[0] if k != "seed"]
        return [k for k in keys if len({c[k] for c in self.configs}) > 1]

    def grid(
        self, x_axis: str, y_axis: str, metric: str = "final_loss"
    ) -> tuple[list, list, np.ndarray, np.ndarray, np.ndarray]:
        """`metric` ("final_loss" or "final_accuracy") over two axes, the other axes and the
        seeds pooled: (x values, y values, mean (ny, nx), standard deviation (ny, nx),
        diverged count (ny, nx)). Diverged configurations are left out of mean and spread
        (NaN where a cell has nothing else). An axis may be "seed"."""
        if metric not in ("final_loss", "final_accuracy"):
            raise ValueError(f"metric: expected 'final_loss' or 'final_accuracy', got {metric!r}")
        for name in (x_axis, y_axis):
            if name not in self.configs[0]:
                raise ValueError(
                    f"axis: unknown axis {name!r}; expected one of {list(self.configs[0])}"
                )
        xs = sorted({c[x_axis] for c in self.configs})
        ys = sorted({c[y_axis] for c in self.configs})
        values = getattr(self, metric)
        mean = np.full((len(ys), len(xs)), np.nan)
        std, count = np.full_like(mean, np.nan), np.zeros(mean.shape, np.int64)
        for iy, vy in enumerate(ys):
            for ix, vx in enumerate(xs):
                cell = [
                    i for i, c in enumerate(self.configs) if c[x_axis] == vx and c[y_axis] == vy
                ]
                ok = [i for i in cell if not self.diverged[i] and np.isfinite(values[i])]
                count[iy, ix] = len(cell) - len(ok)
                if ok:
                    mean[iy, ix], std[iy, ix] = np.mean(values[ok]), np.std(values[ok])
        return xs, ys, mean, std, count

    def history_of(self, i: int) -> History:
        """Configuration i's `History`, as `train` returns it."""
        h = self.history
        return History(h.epoch, h.loss[i], h.accuracy[i], h.learning_rate[i])

    def setup(self, i: int):
        """`(params, X, y, optimizer)` that replay configuration i alone:
        `train(params, X, y, optimizer=optimizer, epochs=result.epochs,
        log_every=result.log_every, activation=result.activation)`."""
        config = self.configs[i]
        init_key, data_key = seed_keys(config["seed"])
        X, y = self.data(data_key) if callable(self.data) else self.data
        sizes = (X.shape[1], *config["hidden"], np.shape(self.params[i][-1]["weights"])[-1])
        params = init_params(init_key, sizes, config["scale"], dtype=X.dtype)
        hyper = {name: config[name] for name in hyperparameter_names(self.optimizer)}
        return params, X, y, OPTIMIZERS[self.optimizer](**hyper)


def _atomic_write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- the sweep -------------------------------------------------------------------------------


def seed_keys(seed: int) -> tuple[jax.Array, jax.Array]:
    """Seed `seed`'s `(init_key, data_key)`: `jax.random.split(jax.random.key(seed))`."""
    init_key, data_key = jax.random.split(jax.random.key(seed))
    return init_key, data_key


def sweep(
    data: tuple[Any, Any] | Callable[[jax.Array], tuple[Any, Any]],
    axes: Mapping[str, Any] | None = None,
    *,
    optimizer: str = "sgd",
    seeds: int | Sequence[int] = 1,
    epochs: int = 1001,
    log_every: int = 100,
    samples: int | None = None,
    key: jax.Array | None = None,
    activation: str | Sequence[str] = "relu",
    diverge_above: float | None = DIVERGE_ABOVE,
    memory_budget: int = DEFAULT_BUDGET,
    block: int = BLOCK,
    progress: Callable[[SweepProgress], None] | None = None,
) -> SweepResult:
    """Train every configuration of `axes` x `seeds` (see `configurations`) on `data`.

    data: `(X (samples, n_inputs), y (samples,) class indices or (samples, classes) one-hot)`
    shared by every configuration, or a key-based generator `data_key -> (X, y)` (each seed its
    own data, e.g. `partial(make_spiral, samples=100, classes=3)`).
    optimizer: "sgd", "adagrad", "rmsprop" or "adam" (the book's; `nnfs_jax.optim`).
    epochs, log_every, activation: as for `train`; every configuration's `History` is what
    `train` would return for it.
    diverge_above: a configuration has diverged at the first epoch whose loss (measured before
    that epoch's update, every epoch) is NaN, inf, or above `diverge_above` times its epoch-0
    loss (None: only NaN or inf). The default 4 catches what the documents' spiral does at
    learning rate 1e3: the loss jumps from 1.0986 to 10.75 (most samples at the 1e-7 clip)
    within two epochs and stays there, finite; a NaN needs a rate of about 1e20.
    memory_budget: bytes a chunk of configurations may hold (parameters, optimizer state,
    histories, data, and the activations of the blocks in flight); larger sweeps run in chunks.
    block: models trained together on a device (a multiple of it is the padding unit).
    progress: called with a `SweepProgress` after each chunk.
    Returns a `SweepResult`.
    """
    configs = configurations(
        {} if axes is None else axes, optimizer=optimizer, seeds=seeds, samples=samples, key=key
    )
    epochs = checks.positive_int(epochs, "epochs")
    log_every = checks.positive_int(log_every, "log_every")
    block = checks.positive_int(block, "block")
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, np.integer)):
        raise TypeError(f"memory_budget: expected a number of bytes, got {memory_budget!r}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a callable or None, got {type(progress).__name__}")
    if diverge_above is not None:
        if isinstance(diverge_above, bool) or not isinstance(diverge_above, (int, float)):
            raise TypeError(f"diverge_above: expected a number or None, got {diverge_above!r}")
        if not (math.isfinite(diverge_above) and diverge_above > 1):
            raise ValueError(f"diverge_above: expected a finite number > 1, got {diverge_above!r}")
        diverge_above = float(diverge_above)
    per_seed = callable(data)
    seeds_used = sorted({c["seed"] for c in configs})
    X, y = _check_data(data, seeds_used)
    n_inputs, classes = X.shape[-1], _n_classes(y, data)
    dtype = X.dtype
    activations_by_arch = {
        h: checks.check_activations(activation, len(h)) for h in {c["hidden"] for c in configs}
    }

    devices = jax.devices()
    mesh = Mesh(np.asarray(devices), (AXIS,))
    names = hyperparameter_names(optimizer)
    logs = -(-epochs // log_every)
    n = len(configs)
    final_loss, final_accuracy = np.full(n, np.nan), np.full(n, np.nan)
    diverged_at = np.full(n, -1, np.int64)
    history = np.full((n, 3, logs), np.nan)
    params_out: list[Params | None] = [None] * n

    groups: dict[tuple[int, ...], list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(c["hidden"], []).append(i)
    plans = []
    for hidden, members in groups.items():
        sizes = (n_inputs, *hidden, classes)
        size = chunk_size(
            sizes,
            X.shape[-2],
            logs,
            len(devices),
            block,
            memory_budget,
            optimizer,
            per_seed,
            dtype,
            len(members),
        )
        plans += [(sizes, members[i : i + size], size) for i in range(0, len(members), size)]

    seed_index = {s: j for j, s in enumerate(seeds_used)}
    XT_all, YL_all, YG_all = _layout(X, y, classes, dtype)
    for done, (sizes, members, size) in enumerate(plans, start=1):
        hidden = sizes[1:-1]
        idx = np.asarray(members + [members[-1]] * (size - len(members)))  # pad: repeat the last
        hyper = np.asarray([[configs[i][h] for h in names] for i in idx], np.float64)
        scale = np.asarray([configs[i]["scale"] for i in idx], np.float64)
        seed_rows = np.asarray([seed_index[configs[i]["seed"]] for i in idx])
        key_data = np.stack(
            [np.asarray(jax.random.key_data(seed_keys(configs[i]["seed"])[0])) for i in idx]
        )
        sharding = NamedSharding(mesh, PartitionSpec(AXIS))
        fdt = checks.default_float()
        args = [
            _shard(hyper.astype(fdt), sharding),
            _shard(scale.astype(fdt), sharding),
            _shard(key_data, sharding),
        ]
        if per_seed:
            args += [_shard(a[seed_rows], sharding) for a in (XT_all, YL_all, YG_all)]
        else:
            args += [XT_all, YL_all, YG_all]
        out = _sweep_chunk(
            *args,
            optimizer=optimizer,
            sizes=sizes,
            activations=activations_by_arch[hidden],
            epochs=epochs,
            log_every=log_every,
            block=block,
            mesh=mesh,
            per_seed=per_seed,
            dtype=np.dtype(dtype).name,
            diverge_above=diverge_above,
        )
        if jax.process_count() > 1:  # several hosts: every process gets every result
            from jax.experimental import multihost_utils

            out = multihost_utils.process_allgather(out, tiled=True)
        out = jax.device_get(out)
        params_c, rows, div, fin = out
        m = len(members)
        history[members] = np.asarray(rows[:m], np.float64)
        diverged_at[members] = div[:m]
        final_loss[members] = fin[:m, 0]
        final_accuracy[members] = fin[:m, 1]
        for j, i in enumerate(members):
            params_out[i] = [{k: np.asarray(v[j]) for k, v in layer.items()} for layer in params_c]
        if progress is not None:
            progress(SweepProgress(done, len(plans), sum(len(p[1]) for p in plans[:done]), n))

    # A non-finite loss has no meaningful accuracy (argmax of NaN probabilities).
    final_accuracy[~np.isfinite(final_loss)] = np.nan
    epoch_axis = np.arange(0, epochs, log_every)
    hist = History(
        epoch_axis,
        history[:, 0].astype(dtype),
        history[:, 1].astype(dtype),
        history[:, 2].astype(dtype),
    )
    return SweepResult(
        configs,
        final_loss,
        final_accuracy,
        diverged_at,
        hist,
        params_out,
        optimizer,
        epochs,
        log_every,
        activation if isinstance(activation, str) else tuple(activation),
        data,
        len(plans),
        max(p[2] for p in plans),
    )


def _check_data(data: Any, seeds: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) as NumPy: X (samples, n_inputs) or, for a generator, (seeds, samples, n_inputs)
    with each seed's data; y likewise. Checked for shape, NaN and label range."""
    if callable(data):
        keys = jnp.stack([seed_keys(s)[1] for s in seeds])
        try:
            Xs, ys = jax.vmap(data)(keys)
        except Exception as err:  # a generator that is not vmappable: one call per seed
            if isinstance(err, (ValueError, TypeError)) and "data" in str(err):
                raise
            pairs = [data(k) for k in keys]
            Xs, ys = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
        Xs, ys = np.asarray(Xs), np.asarray(ys)
        for X, y in zip(Xs, ys, strict=True):
            _check_pair(X, y)
        return Xs, ys
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(
            "data: expected (X, y) or a key-based generator data_key -> (X, y), got "
            f"{type(data).__name__}"
        )
    X, y = _check_pair(*data)
    return X, y


def _check_pair(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = checks.check_X(X, name="data X")
    if y is None:
        raise TypeError("data y: expected class labels, got None")
    y_arr = np.asarray(y)
    classes = int(y_arr.shape[1]) if y_arr.ndim == 2 else int(np.max(y_arr, initial=0)) + 1
    y = checks.check_labels(y, X.shape[0], max(classes, 1), name="data y")
    return np.asarray(X), np.asarray(y)


def _shard(array: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A host array laid out over the mesh along its first axis. Each device (on any host)
    takes its own rows, so the same call serves one process or several, where every process
    holds the whole (small) array of configurations."""
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def _n_classes(y: np.ndarray, data: Any) -> int:
    if y.ndim == (3 if callable(data) else 2):
        return int(y.shape[-1])
    return int(np.max(y)) + 1


def _layout(X: np.ndarray, y: np.ndarray, classes: int, dtype) -> tuple:
    """Samples-last inputs and targets: XT (..., n_inputs, samples), Y_loss and Y_grad
    (..., classes, samples), as `train` prepares them."""
    if X.ndim == 3:
        parts = [_layout(Xs, ys, classes, dtype) for Xs, ys in zip(X, y, strict=True)]
        return tuple(np.stack(p) for p in zip(*parts, strict=True))
    Y_loss, Y_grad = targets(jnp.asarray(y), classes, dtype)
    return np.ascontiguousarray(X.T), np.asarray(Y_loss), np.asarray(Y_grad)


def chunk_size(
    sizes: Sequence[int],
    n_samples: int,
    logs: int,
    devices: int,
    block: int,
    memory_budget: int,
    optimizer: str = "sgd",
    per_seed: bool = False,
    dtype: Any = np.float32,
    configs: int | None = None,
) -> int:
    """Configurations per compiled call: as many as `memory_budget` bytes hold, a multiple of
    `devices * block`, at most `configs` rounded up to that unit.

    Per configuration: parameters, gradients and optimizer state (the book's optimizers keep
    at most two buffers: 5 copies), its history (3 numbers per log), its data when each seed
    has its own, twice over (inputs and outputs). Per device: the activations of the block in
    flight, about 8 arrays of (widths, samples) per model.
    """
    item = np.dtype(dtype).itemsize
    n = sum(a * b + b for a, b in itertools.pairwise(sizes))
    data = n_samples * (sizes[0] + 2 * sizes[-1]) if per_seed else 0
    per_config = 2 * item * (5 * n + 3 * logs + data + 8)
    working = devices * block * 8 * item * n_samples * sum(sizes[1:])
    unit = devices * block
    fits = (memory_budget - working) // (per_config * unit)
    if fits < 1:
        raise ValueError(
            f"memory_budget: {memory_budget} bytes is too small for one chunk of {unit} "
            f"configurations ({devices} device(s) x block {block}) of a {'-'.join(map(str, sizes))}"
            f" network; at least {working + per_config * unit} bytes are needed"
        )
    size = int(fits) * unit
    if configs is not None:
        size = min(size, -(-configs // unit) * unit)
    return size


# --- the compiled chunk ----------------------------------------------------------------------


@partial(
    jax.jit,
    static_argnames=(
        "optimizer",
        "sizes",
        "activations",
        "epochs",
        "log_every",
        "block",
        "mesh",
        "per_seed",
        "dtype",
        "diverge_above",
    ),
)
def _sweep_chunk(
    hyper,
    scale,
    key_data,
    XT,
    Y_loss,
    Y_grad,
    *,
    optimizer,
    sizes,
    activations,
    epochs,
    log_every,
    block,
    mesh,
    per_seed,
    dtype,
    diverge_above,
):
    """A chunk of configurations: hyper (C, H), scale (C,), key_data (C, 2) laid out over the
    mesh; XT, Y_loss, Y_grad shared, or (C, ...) with `per_seed`.

    Returns (final params with a leading (C,) axis, history (C, 3, logs) of (loss, accuracy,
    learning rate), diverged_at (C,) int32, final (C, 2) of (loss, accuracy)).
    """
    data_spec = PartitionSpec(AXIS) if per_seed else PartitionSpec()
    local = partial(
        _device_chunk,
        log_every=log_every,
        optimizer=optimizer,
        sizes=sizes,
        activations=activations,
        epochs=epochs,
        block=block,
        per_seed=per_seed,
        dtype=dtype,
        diverge_above=diverge_above,
    )
    spec = PartitionSpec(AXIS)
    return jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(spec, spec, spec, data_spec, data_spec, data_spec),
        out_specs=spec,
        check_vma=False,
    )(hyper, scale, key_data, XT, Y_loss, Y_grad)


def _device_chunk(
    hyper,
    scale,
    key_data,
    XT,
    Y_loss,
    Y_grad,
    *,
    log_every,
    optimizer,
    sizes,
    activations,
    epochs,
    block,
    per_seed,
    dtype,
    diverge_above,
):
    """One device's configurations, `block` models at a time, one block after another."""
    count = hyper.shape[0]
    blocks = count // block

    def split(a):
        return a.reshape(blocks, block, *a.shape[1:])

    xs = (split(hyper), split(scale), split(key_data))
    xs += tuple(split(a) for a in (XT, Y_loss, Y_grad)) if per_seed else ()

    def run_block(args):
        if per_seed:
            h, s, k, xt, yl, yg = args
        else:
            (h, s, k), (xt, yl, yg) = args, (XT, Y_loss, Y_grad)
        return _train_block(
            h,
            s,
            k,
            xt,
            yl,
            yg,
            log_every,
            optimizer,
            sizes,
            activations,
            epochs,
            per_seed,
            dtype,
            diverge_above,
        )

    out = jax.lax.map(run_block, xs)
    return jax.tree.map(lambda a: a.reshape(count, *a.shape[2:]), out)


def _train_block(
    hyper,
    scale,
    key_data,
    XT,
    Y_loss,
    Y_grad,
    log_every,
    optimizer,
    sizes,
    activations,
    epochs,
    per_seed,
    dtype,
    diverge_above,
):
    """`block` models trained together for every epoch: each exactly as `train` would."""
    starts, lengths, _ = interval_schedule(epochs, log_every, 1)
    names = hyperparameter_names(optimizer)
    factory = OPTIMIZERS[optimizer]

    def make(h):
        return factory(**{name: h[j] for j, name in enumerate(names)})

    def init(k, s):
        # init_params' draws, then the scale as a scalar of the weights' dtype.
        params = init_params(jax.random.wrap_key_data(k), sizes, 1.0, dtype=dtype)
        return [
            {"weights": s.astype(dtype) * layer["weights"], "biases": layer["biases"]}
            for layer in params
        ]

    params = jax.vmap(init)(key_data, scale)
    opt_state = jax.vmap(lambda h, p: make(h).init(p))(hyper, params)
    data_axis = 0 if per_seed else None

    def metrics(params, opt_state):
        rows = jax.vmap(metrics_row, in_axes=(0, 0, data_axis, data_axis, None))(
            params, opt_state, XT, Y_loss, activations
        )
        return jnp.stack(rows, axis=1)

    def epoch_step(epoch, carry):
        params, opt_state, initial, diverged_at = carry
        grads, loss = block_gradient(params, XT, Y_grad, Y_loss, activations, per_seed)
        initial = jnp.where(epoch == 0, loss, initial)
        bad = ~jnp.isfinite(loss)
        if diverge_above is not None:
            bad = bad | (loss > diverge_above * initial)
        diverged_at = jnp.where((diverged_at < 0) & bad, epoch, diverged_at)
        params, opt_state = jax.vmap(lambda p, s, g, h: update(p, s, g, make(h)))(
            params, opt_state, grads, hyper
        )
        return params, opt_state, initial, diverged_at

    def logged_interval(carry, interval):
        start, length = interval
        row = metrics(*carry[:2])
        carry = jax.lax.fori_loop(start, start + length, epoch_step, carry)
        return carry, row

    diverged_at = jnp.full(hyper.shape[0], -1, jnp.int32)
    initial = jnp.zeros(hyper.shape[0], XT.dtype)
    (params, opt_state, initial, diverged_at), rows = jax.lax.scan(
        logged_interval, (params, opt_state, initial, diverged_at), (starts, lengths)
    )
    final = metrics(params, opt_state)[:, :2]
    bad = ~jnp.isfinite(final[:, 0])
    if diverge_above is not None:
        bad = bad | (final[:, 0] > diverge_above * initial)
    diverged_at = jnp.where((diverged_at < 0) & bad, epochs, diverged_at)
    # rows: (logs, block, 3) -> (block, 3, logs)
    return params, jnp.transpose(rows, (1, 2, 0)), diverged_at, final


def block_gradient(
    params: Params,
    XT: jax.Array,
    Y_grad: jax.Array,
    Y_loss: jax.Array,
    activations: Sequence[str],
    per_seed: bool,
) -> tuple[Params, jax.Array]:
    """The documents' backward pass for a block of models at once, and each model's loss.

    params: leaves with a leading (block,) axis; XT: (n_inputs, samples) shared by the models,
    or (block, n_inputs, samples) with `per_seed`; Y_grad, Y_loss: the targets `train` uses,
    (classes, samples) or (block, classes, samples). Returns (gradients with leaves
    (block, ...) in the documents' layout, loss (block,)).
    """
    if len(params) == 2 and tuple(activations) == ("relu",):
        return _relu_mask_gradient(params, XT, Y_grad, Y_loss, per_seed)
    axis = 0 if per_seed else None
    return jax.vmap(manual_gradient_and_loss_fm, in_axes=(0, axis, axis, axis, None))(
        params, XT, Y_grad, Y_loss, activations
    )


def _relu_mask_gradient(
    params: Params, XT: jax.Array, Y_grad: jax.Array, Y_loss: jax.Array, per_seed: bool
) -> tuple[Params, jax.Array]:
    """`manual_gradient_and_loss_fm` for a block of Dense -> ReLU -> Dense -> softmax models,
    computed from the ReLU mask alone.

    With the inputs augmented by a row of ones, `x = [XT; 1]` (n_inputs + 1, samples), and
    `W = [weights_1; biases_1]`, the hidden layer is `a = m * (W.T @ x)` where `m = (W.T @ x >
    0)` is 0 or 1. Substituting it, every product with `a` becomes a product with `m`:

        logits[c, n] = sum_i x[i, n] * (V @ m)[(i, c), n],    V[(i, c), j] = W[i, j] W2[j, c]
        M = G @ m.T,   G[(i, c), n] = x[i, n] * dlogits[c, n]        ((n_in + 1) * classes, h)
        dW[i, j]  = sum_c W2[j, c] M[(i, c), j]     (dweights_1 and dbiases_1: the documents'
                                                     `x @ (dlogits.T @ W2.T * m).T`)
        dW2[j, c] = sum_i W[i, j]  M[(i, c), j]     (the documents' `a @ dlogits.T`)

    so the (hidden, samples) arrays of the documents' loop (z, a, dinputs) are never stored:
    the block writes its masks once and reads them twice, in two batched matrix products.
    The sums are regrouped, so results equal `manual_gradient_fm`'s to round-off.
    """
    W1, b1, W2, b2 = (
        params[0]["weights"],
        params[0]["biases"],
        params[1]["weights"],
        params[1]["biases"],
    )
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
    probs = softmax_fm_batched(logits)
    loss = jax.vmap(crossentropy_fm, in_axes=(0, 0 if per_seed else None))(probs, Y_loss)
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
    return grads, loss


def softmax_fm_batched(logits: jax.Array) -> jax.Array:
    """`softmax_fm` for (block, classes, samples): over axis 1, its maximum subtracted first."""
    exp_values = jnp.exp(logits - jnp.max(logits, axis=1, keepdims=True))
    return exp_values / jnp.sum(exp_values, axis=1, keepdims=True)


__all__ = [
    "LogUniform",
    "SweepProgress",
    "SweepResult",
    "Uniform",
    "chunk_size",
    "configurations",
    "hyperparameter_names",
    "log_uniform",
    "seed_keys",
    "sweep",
    "uniform",
]
