"""A sweep's configurations: its axes, their values, random ranges, and the optimizer's names.

An axis is a name and its values: the optimizer's hyperparameters (`learning_rate`, `decay`,
`momentum`, ... as its constructor names them), the model's hyperparameters under
`make_model`'s names (`dropout`, `weight_regularizer_l1`, `weight_regularizer_l2`,
`bias_regularizer_l1`, `bias_regularizer_l2`: a number for every layer or a tuple per layer),
the initial weight `scale`, the `hidden` widths and the `batch_size`. A list of values is a grid
axis; `uniform(low, high)` / `log_uniform(low, high)` is drawn `samples` times from `key`.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nnfs_jax import checks, optim
from nnfs_jax.model import HYPERPARAMETERS as MODEL_AXES

STATIC_AXES = ("hidden", "batch_size")  # these change shapes: one compilation per value
INIT_AXES = ("scale",)


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
        raise checks.InputTypeError(
            f"{name}: expected two numbers, got {low!r}, {high!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high) or (positive and low <= 0):
        need = "0 < low < high" if positive else "low < high"
        raise checks.InputError(f"{name}: expected finite bounds with {need}, got ({low}, {high})")
    return low, high


# --- the optimizer --------------------------------------------------------------------------


class OptimizerSpec(NamedTuple):
    """What a sweep knows of its optimizer: a name for tables, the factory that builds it per
    configuration (None for an injected or opaque object), the hyperparameters it takes with
    their values where not swept, and the object itself where one was given."""

    name: str
    factory: Callable[..., optax.GradientTransformation] | None
    defaults: dict[str, float]
    given: optax.GradientTransformation | None


def optimizer_spec(optimizer: Any) -> OptimizerSpec:
    """The sweep's view of `optimizer`: a name ("sgd", "adam", ..., "optax.<name>"), one of the
    book's optimizers (its values become the defaults), an `optax.inject_hyperparams(...)`
    object (its hyperparameters are swept through its state), or any other optax object (no
    optimizer axes then)."""
    if isinstance(optimizer, str):
        optim.get_optimizer_factory(optimizer)  # checks the name
        factory = optim.get_optimizer_factory(optimizer)
        return OptimizerSpec(optimizer, factory, _numeric_defaults(factory), None)
    checks.check_optimizer(optimizer)
    book = optim.book_hyperparameters(optimizer)
    if book is not None:
        name = optim.book_name(optimizer)
        return OptimizerSpec(name, optim.OPTIMIZERS[name], book, optimizer)
    state = optimizer.init([{"weights": jnp.zeros((1, 1)), "biases": jnp.zeros((1, 1))}])
    if isinstance(state, (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState)):
        defaults = {k: float(v) for k, v in state.hyperparams.items() if np.ndim(v) == 0}
        return OptimizerSpec("injected", None, defaults, optimizer)
    return OptimizerSpec("custom", None, {}, optimizer)


def _numeric_defaults(factory: Callable) -> dict[str, float | None]:
    """The factory's numeric keyword arguments and defaults (None where it has none)."""
    out = {}
    for name, p in inspect.signature(factory).parameters.items():
        if p.default is inspect.Parameter.empty:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                out[name] = None
        elif isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
            out[name] = float(p.default)
    return out


def hyperparameter_names(optimizer: Any) -> tuple[str, ...]:
    """The optimizer hyperparameters a sweep can vary, in its constructor's order."""
    return tuple(optimizer_spec(optimizer).defaults)


# --- configurations ---------------------------------------------------------------------------


def configurations(
    axes: Mapping[str, Any],
    *,
    optimizer: Any = "sgd",
    seeds: int | Sequence[int] = 1,
    samples: int | None = None,
    key: jax.Array | None = None,
) -> list[dict[str, Any]]:
    """The configurations a sweep trains, in its order: every combination of the grid axes'
    values (the last axis varying fastest), with each random draw, with every seed (seeds
    fastest). Each is a dict of every optimizer hyperparameter (defaults where not swept),
    `scale` (0.01 by default), `hidden` (a tuple; (64,) per hidden layer by default), the
    model and `batch_size` axes given, and `seed`."""
    spec = optimizer_spec(optimizer)
    seeds = check_seeds(seeds)
    if not isinstance(axes, Mapping):
        raise checks.InputTypeError(
            f"axes: expected a mapping {{name: values}}, got {type(axes).__name__}"
        )
    known = (*spec.defaults, *MODEL_AXES, *INIT_AXES, *STATIC_AXES)
    for name in axes:
        if name not in known:
            raise checks.InputError(
                f"axes: unknown axis {name!r} for optimizer {spec.name!r}; expected one of {known}"
            )
    grid, ranges = {}, {}
    for name, values in axes.items():
        if isinstance(values, (Uniform, LogUniform)):
            if name in (*STATIC_AXES, *MODEL_AXES[:0]):
                raise checks.InputTypeError(f"{name}: expected a list of values, not a range")
            ranges[name] = values
        else:
            grid[name] = _grid_values(name, values)
    draws: list[dict[str, Any]] = [{}]
    if ranges:
        draws = _draw(ranges, samples, key)
    elif samples is not None or key is not None:
        raise checks.InputError(
            "samples: random sampling needs at least one uniform/log_uniform axis"
        )
    missing = [n for n, v in spec.defaults.items() if v is None and n not in axes]
    if missing:
        raise checks.InputError(
            f"axes: optimizer {spec.name!r} has no default for {missing}; sweep them"
        )
    base = {**spec.defaults, "scale": 0.01}
    configs = []
    for combo in itertools.product(*grid.values()):
        for drawn in draws:
            for seed in seeds:
                configs.append(
                    {**base, **dict(zip(grid, combo, strict=True)), **drawn, "seed": seed}
                )
    _check_values(configs, spec)
    return configs


def _grid_values(name: str, values: Any) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        values = [values]
    values = list(values)
    if not values:
        raise checks.InputError(f"{name}: empty axis; expected at least one value")
    if name == "hidden":
        out = [_hidden(v) for v in values]
    elif name == "batch_size":
        out = [None if v is None else checks.positive_int(v, "batch_size") for v in values]
    elif name in MODEL_AXES:
        out = [_per_layer_value(name, v) for v in values]
    else:
        out = [_number(name, v) for v in values]
    duplicates = sorted({repr(v) for v in out if out.count(v) > 1})
    if duplicates:
        raise checks.InputError(
            f"{name}: duplicate values {', '.join(duplicates)} (each would train twice)"
        )
    return out


def _number(name: str, value: Any) -> float:
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise checks.InputTypeError(f"{name}: expected numbers, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise checks.InputTypeError(f"{name}: expected numbers, got {value!r}") from None


def _per_layer_value(name: str, value: Any) -> float | tuple[float, ...]:
    """A model axis' value: one number for every layer, or a tuple of numbers per layer."""
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
        return tuple(_number(name, v) for v in value)
    return _number(name, value)


def _hidden(value: Any) -> tuple[int, ...]:
    widths = (value,) if isinstance(value, (int, np.integer)) else value
    try:
        widths = tuple(widths)
    except TypeError:
        raise checks.InputTypeError(
            f"hidden: expected widths (an int or a tuple of ints), got {value!r}"
        ) from None
    if any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1 for w in widths):
        raise checks.InputError(f"hidden: expected positive integer widths, got {value!r}")
    return tuple(int(w) for w in widths)


def _draw(ranges: dict, samples: Any, key: Any) -> list[dict[str, float]]:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise checks.InputError(
            f"samples: expected a positive number of random draws, got {samples!r}"
        )
    if not (isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)):
        raise checks.InputTypeError(
            f"key: expected a jax.random key for random sampling, got {key!r}"
        )
    columns = {}
    for i, (name, r) in enumerate(ranges.items()):
        u = np.asarray(jax.random.uniform(jax.random.fold_in(key, i), (samples,), jnp.float32))
        u = u.astype(np.float64)
        if isinstance(r, LogUniform):
            columns[name] = np.exp(np.log(r.low) + u * (np.log(r.high) - np.log(r.low)))
        else:
            columns[name] = r.low + u * (r.high - r.low)
    return [{name: float(col[j]) for name, col in columns.items()} for j in range(samples)]


def check_seeds(seeds: Any) -> tuple[int, ...]:
    """A count (seeds 0..n-1) or a list of distinct non-negative integers."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise checks.InputError(f"seeds: expected a positive number of seeds, got {seeds}")
        return tuple(range(int(seeds)))
    if isinstance(seeds, Sequence) and not isinstance(seeds, (str, bytes)):
        if not seeds:
            raise checks.InputError("seeds: expected at least one seed")
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
            raise checks.InputError(f"seeds: expected non-negative integers, got {list(seeds)!r}")
        if len(set(seeds)) != len(seeds):
            raise checks.InputError(
                f"seeds: duplicate seeds in {list(seeds)!r} (each would train twice)"
            )
        return tuple(int(s) for s in seeds)
    raise checks.InputTypeError(f"seeds: expected a count or a list of integers, got {seeds!r}")


def _check_values(configs: list[dict], spec: OptimizerSpec) -> None:
    """Each distinct optimizer value through the optimizer's own checks (errors name the
    hyperparameter), and `scale` finite and >= 0."""
    if spec.name.startswith("optax."):
        for name in spec.defaults:
            for value in {c[name] for c in configs}:
                optim.check_optax_values({name: value})
    if spec.factory is not None:
        for name in spec.defaults:
            for value in {c[name] for c in configs}:
                spec.factory(
                    **{**{k: v for k, v in spec.defaults.items() if v is not None}, name: value}
                )
    for value in {c["scale"] for c in configs}:
        if not (math.isfinite(value) and value >= 0):
            raise checks.InputError(f"scale: expected a finite number >= 0, got {value!r}")


def seed_keys(seed: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Seed `seed`'s `(init_key, data_key, train_key)`: `jax.random.split(jax.random.key(seed),
    3)`: the initial weights, the data of a key-based generator, and the training's dropout
    and shuffling."""
    init_key, data_key, train_key = jax.random.split(jax.random.key(seed), 3)
    return init_key, data_key, train_key
