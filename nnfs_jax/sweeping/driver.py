"""`sweep`: many trainings in one compiled call per shape, every configuration exactly as
`train` (full batch) or `fit` (mini-batches) would train it alone."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks, devices, fitting, optim, runs, training
from nnfs_jax import model as model_lib
from nnfs_jax.kernels import dispatch
from nnfs_jax.logs import FitHistory, History
from nnfs_jax.step import Hyper, Step
from nnfs_jax.sweeping import engine, grammar, plan, sharding
from nnfs_jax.sweeping.results import SweepProgress, SweepResult, gather_params
from nnfs_jax.sweeping.store import Store, fingerprint

DIVERGE_ABOVE = 4.0  # a loss above this many times the first epoch's loss counts as diverged


class Settings(NamedTuple):
    """A sweep's checked arguments, the same for every chunk."""

    configs: list[dict]
    spec: grammar.OptimizerSpec
    model: model_lib.Model | None
    activation: Any
    batch_size: int | None
    mini_batches: bool  # fit's epochs (a batch size given) rather than train's full batch
    swept_model: list[str]  # the model hyperparameters that are axes
    grad: str
    shuffle: bool
    diverge_above: float | None
    epochs: int
    log_every: int
    data: Any
    X: np.ndarray
    y: np.ndarray
    seeds: list[int]
    n_outputs: int
    memory_budget: int
    block: int | None
    mesh: Any


class Chunk(NamedTuple):
    """One compiled call's worth of configurations of one shape."""

    sizes: tuple[int, ...]
    model: model_lib.Model
    batch_size: int | None
    members: list[int]
    size: int  # padded to a multiple of the devices (and block)


def sweep(
    data: tuple[Any, Any] | Callable[[jax.Array], tuple[Any, Any]],
    axes: Mapping[str, Any] | None = None,
    *,
    model: model_lib.Model | None = None,
    optimizer: Any = "sgd",
    seeds: int | Sequence[int] = 1,
    epochs: int = 1001,
    log_every: int = 100,
    batch_size: int | None = None,
    validation_data: tuple[Any, Any] | None = None,
    samples: int | None = None,
    key: jax.Array | None = None,
    activation: str | Sequence[str] = "relu",
    grad: str = "manual",
    shuffle: bool = True,
    diverge_above: float | None = DIVERGE_ABOVE,
    memory_budget: int = plan.DEFAULT_BUDGET,
    block: int | None = None,
    progress: Callable[[SweepProgress], None] | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
) -> SweepResult:
    """Train every configuration of `axes` x `seeds` (`configurations`) on `data`.

    data: `(X, y)` shared by every configuration, or a key-based generator `data_key -> (X,
    y)` (each seed its own data, e.g. `partial(make_spiral, samples=100, classes=3)`).
    model: any `make_model` network (default: the documents' classifier with `activation`, as
    deep as the `hidden` axis says); its hyperparameters are axes under `make_model`'s names.
    The widths come from the `hidden` axis: 64 per hidden layer unless it is given.
    optimizer: a name ("sgd", "adagrad", "rmsprop", "adam", "optax.<name>") or an object (a
    book optimizer, whose values are the defaults, or an `optax.inject_hyperparams` one).
    Without `batch_size` (and no `batch_size` axis) every configuration is `train`'s full-batch
    run, logged every `log_every` epochs; with it, `fit`'s epochs of mini-batches (`shuffle`).
    validation_data: (X_val, y_val), measured at every logged epoch / after every epoch.
    seeds: how many (0..n-1) or which; seed s gives the (init, data, training) keys
    `seed_keys(s)`. diverge_above: a loss NaN, inf, or above this many times the first epoch's
    counts as diverged (None or inf: only NaN and inf). memory_budget: bytes a chunk may hold;
    larger sweeps run in chunks, with `progress(SweepProgress)` after each. checkpoint_dir: a
    folder where every finished chunk is saved (atomically); the same call again, after a
    crash, loads them and trains only the rest (`sweeping.store`). block: models a
    device trains at once (default: 4 on a CPU, its whole share elsewhere).
    Returns a `SweepResult`; `result.replay(i)` trains configuration i alone.
    """
    spec = grammar.optimizer_spec(optimizer)
    axes = {} if axes is None else axes
    configs = grammar.configurations(
        axes, optimizer=optimizer, seeds=seeds, samples=samples, key=key
    )
    epochs, _ = runs.check_epochs(epochs)
    log_every = checks.positive_int(log_every, "log_every")
    batch_size = None if batch_size is None else checks.positive_int(batch_size, "batch_size")
    block = plan.default_block() if block is None else checks.positive_int(block, "block")
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, np.integer)):
        raise checks.InputTypeError(
            f"memory_budget: expected a number of bytes, got {memory_budget!r}"
        )
    if progress is not None and not callable(progress):
        raise checks.InputTypeError(
            f"progress: expected a callable or None, got {type(progress).__name__}"
        )
    if not isinstance(shuffle, bool):
        raise checks.InputTypeError(f"shuffle: expected True or False, got {shuffle!r}")
    if grad not in ("manual", "autodiff"):
        raise checks.InputError(f"grad: expected one of ('manual', 'autodiff'), got {grad!r}")
    diverge_above = _check_diverge_above(diverge_above)
    if model is not None:
        model = model_lib.check_model(
            model, model.n_layers if isinstance(model, model_lib.Model) else 0
        )
    seed_list = sorted({c["seed"] for c in configs})
    X, y = _check_data(data, seed_list, model)
    run = Settings(
        configs=configs,
        spec=spec,
        model=model,
        activation=activation,
        batch_size=batch_size,
        mini_batches=batch_size is not None or "batch_size" in axes,
        swept_model=[k for k in model_lib.HYPERPARAMETERS if k in axes],
        grad=grad,
        shuffle=shuffle,
        diverge_above=diverge_above,
        epochs=epochs,
        log_every=log_every,
        data=data,
        X=X,
        y=y,
        seeds=seed_list,
        n_outputs=_n_outputs(y, callable(data), model),
        memory_budget=memory_budget,
        block=block,
        mesh=sharding.mesh(),
    )
    chunks = _plan(run)
    for chunk in chunks:
        for i in chunk.members:  # each value through make_model's checks, before any work
            _model_values(configs[i], run.swept_model, chunk.model)
    validation = None
    if validation_data is not None:
        shapes = list(itertools.pairwise(chunks[0].sizes))
        validation = runs.check_validation_data(validation_data, chunks[0].model, shapes, X.dtype)

    n = len(configs)
    params_out: list[Any] = [None] * n
    diverged_at, final = np.full(n, -1, np.int64), np.full((4, n), np.nan)
    columns = None
    devices.warn_if_one_cpu_device("sweep")
    store = None
    if checkpoint_dir is not None:
        store = Store(checkpoint_dir, _fingerprint(run, validation), jax.process_index() == 0)
    for done, chunk in enumerate(chunks, start=1):
        m, members = len(chunk.members), chunk.members
        saved = None if store is None else store.load(done - 1, members)
        if saved is None:
            params, rows, diverged, finals = _run(run, chunk, validation)
            trimmed = jax.tree.map(
                lambda a, m=m: np.asarray(a)[:m], (params, rows, diverged, finals)
            )
            if store is not None:
                store.save(done - 1, members, trimmed)
        else:
            trimmed = saved
        params, rows, diverged, finals = trimmed
        if columns is None:
            columns = [np.full((n, r.shape[1]), np.nan, r.dtype) for r in rows]
        for column, r in zip(columns, rows, strict=True):
            column[members] = r[:m]
        diverged_at[members] = diverged[:m]
        final[:, members] = np.stack([np.asarray(f[:m], np.float64) for f in finals])
        for i, p in zip(members, gather_params(params, m), strict=True):
            params_out[i] = p
        if progress is not None:
            done_configs = sum(len(c.members) for c in chunks[:done])
            progress(SweepProgress(done, len(chunks), done_configs, n))

    # A non-finite loss has no meaningful accuracy (argmax of NaN probabilities).
    final[1, ~np.isfinite(final[0])] = np.nan
    if run.mini_batches:
        epoch = np.arange(1, epochs + 1)
        steps = np.stack(
            [
                epoch * fitting.steps_per_epoch(X.shape[-2], c.get("batch_size", batch_size))
                for c in configs
            ]
        )
        history = FitHistory(epoch, steps, *columns)
    else:
        history = History(np.arange(0, epochs, log_every), *columns)
    has_val = validation_data is not None
    return SweepResult(
        configs,
        final[0],
        final[1],
        diverged_at,
        history,
        params_out,
        spec.name,
        epochs,
        log_every,
        data,
        model=model,
        activation=activation,
        engine="fit" if run.mini_batches else "train",
        batch_size=batch_size,
        validation_data=validation_data,
        final_validation_loss=final[2] if has_val else None,
        final_validation_accuracy=final[3] if has_val else None,
        grad=grad,
        shuffle=shuffle,
        spec=spec,
        chunks=len(chunks),
        chunk_size=max(c.size for c in chunks),
    )


def _fingerprint(run: Settings, validation: Any) -> str:
    """Everything a sweep's numbers depend on (not how it is cut into chunks)."""
    spec = run.spec
    return fingerprint(
        configs=run.configs,
        model=repr(run.model),
        activation=repr(run.activation),
        optimizer=[spec.name, spec.defaults, repr(spec.given) if spec.factory is None else None],
        settings=[run.batch_size, run.mini_batches, run.grad, run.shuffle, run.diverge_above],
        epochs=[run.epochs, run.log_every],
        data=[run.X, run.y, repr(run.X.dtype)],
        validation=[] if validation is None else list(validation),
    )


def _check_diverge_above(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise checks.InputTypeError(f"diverge_above: expected a number or None, got {value!r}")
    value = float(value)
    if math.isnan(value) or value <= 1:
        raise checks.InputError(
            f"diverge_above: expected a number > 1 (or inf, or None), got {value!r}"
        )
    return None if math.isinf(value) else value


def _model_for(model: model_lib.Model | None, activation: Any, n_layers: int) -> model_lib.Model:
    """The sweep's model for networks of `n_layers` dense layers."""
    if model is None:
        return model_lib.make_model(n_layers, activation=activation)
    if model.n_layers != n_layers:
        raise checks.InputError(
            f"hidden: the model has {model.n_layers - 1} hidden layers, so every hidden value "
            f"needs {model.n_layers - 1} widths; got {n_layers - 1}"
        )
    return model


def _model_values(config: dict, names: list[str], model: model_lib.Model) -> dict[str, np.ndarray]:
    """Configuration's model hyperparameters, per layer, through `make_model`'s checks."""
    values = {k: config[k] for k in names}
    per_layer = model.replace(**values).hyperparameters() if values else {}
    return {k: np.asarray(per_layer[k], np.float64) for k in names}


def _structure(model: model_lib.Model, swept: list[str]) -> model_lib.Model:
    """`model` as a compiled sweep sees it: every swept value traced (always computed)."""
    values = {k: np.ones(len(model.hyperparameters()[k])) for k in swept}
    return model_lib.with_hyperparameters(model, values) if values else model


def _check_data(data: Any, seeds: Sequence[int], model: Any) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) as NumPy: X (samples, n_inputs) or, for a generator, (seeds, samples, n_inputs),
    each seed's data; y likewise. Checked for shape and NaN (the labels again per model)."""
    if callable(data):
        keys = jnp.stack([grammar.seed_keys(s)[1] for s in seeds])
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
        raise checks.InputTypeError(
            "data: expected (X, y) or a key-based generator data_key -> (X, y), got "
            f"{type(data).__name__}"
        )
    return _check_pair(*data)


def _check_pair(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = checks.check_X(X, name="data X")
    if y is None:
        raise checks.InputTypeError("data y: expected targets, got None")
    y = np.asarray(y)
    if y.shape[:1] != (X.shape[0],):
        raise checks.InputError(
            f"data y: expected one target per sample ({X.shape[0]}), got shape {y.shape}"
        )
    return np.asarray(X), y


def _n_outputs(y: np.ndarray, per_seed: bool, model: Any) -> int:
    """The output width: the classes of the labels (softmax), else the targets' columns."""
    sample_ndim = y.ndim - (1 if per_seed else 0)
    if sample_ndim == 2:
        return int(y.shape[-1])
    if model is None or model.head.name == "softmax":
        return int(np.max(y, initial=0)) + 1
    return 1


def _plan(run: Settings) -> list[Chunk]:
    """The chunks: configurations grouped by shape (hidden widths, batch size), cut to fit."""
    groups: dict[tuple, list[int]] = {}
    depth = 1 if run.model is None else run.model.n_layers - 1
    for i, c in enumerate(run.configs):
        hidden = c.get("hidden", (64,) * depth)
        groups.setdefault((hidden, c.get("batch_size", run.batch_size)), []).append(i)
    rows = run.epochs if run.mini_batches else -(-run.epochs // run.log_every)
    chunks = []
    for (hidden, group_batch), members in groups.items():
        sizes = (run.X.shape[-1], *hidden, run.n_outputs)
        group_model = _model_for(run.model, run.activation, len(sizes) - 1)
        size = plan.chunk_size(
            sizes, run.X.shape[-2], rows, run.mesh.devices.size, run.block or 1,
            run.memory_budget, callable(run.data), run.X.dtype, len(members), group_batch,
        )  # fmt: skip
        chunks += [
            Chunk(sizes, group_model, group_batch, members[j : j + size], size)
            for j in range(0, len(members), size)
        ]
    return chunks


def _run(run: Settings, chunk: Chunk, validation: Any):
    """One chunk through the compiled engine; its results on the host."""
    configs = run.configs
    structure = _structure(chunk.model, run.swept_model)
    kernel = dispatch.select(structure, run.grad, whole_batch=chunk.batch_size is None)
    optimizer = run.spec.given if run.spec.factory is None else optim.Factory(run.spec.factory)
    step = Step(chunk.model, optimizer, kernel)
    if run.mini_batches:
        program = fitting.Program(step, chunk.batch_size, run.shuffle, run.diverge_above)
        xs = (np.ones(run.epochs, bool), np.arange(1, run.epochs + 1, dtype=np.int32))
    else:
        program = training.Program(step, run.diverge_above, per_epoch=True)
        starts, lengths, _ = training.intervals(0, run.epochs, run.log_every)
        xs = (np.ones(len(starts), bool), starts, lengths)
    pad = chunk.size - len(chunk.members)
    idx = chunk.members + [chunk.members[-1]] * pad  # padding: the last one again, dropped
    keys = [grammar.seed_keys(configs[i]["seed"]) for i in idx]
    needs_key = run.mini_batches or structure.has_dropout
    X, y, n_outputs = run.X, run.y, run.n_outputs
    if callable(run.data):
        rows = np.asarray([run.seeds.index(configs[i]["seed"]) for i in idx])
        per_seed = [
            _prepare(step, X[s], y[s], chunk.model, n_outputs, None)[0]
            for s in range(len(run.seeds))
        ]
        train_data, shared = jax.tree.map(lambda *a: np.stack(a)[rows], *per_seed), None
        val = _prepare(step, X[0], y[0], chunk.model, n_outputs, validation)[1]
    else:
        train_data = None
        shared, val = _prepare(step, X, y, chunk.model, n_outputs, validation)
    chunk_configs = engine.Configs(
        np.stack([np.asarray(jax.random.key_data(k[0])) for k in keys]),
        np.asarray([configs[i]["scale"] for i in idx], checks.default_float()),
        _hyper(configs, idx, run.spec, run.swept_model, chunk.model, X.dtype),
        np.stack([np.asarray(jax.random.key_data(k[2])) for k in keys]) if needs_key else None,
        train_data,
    )
    result = engine.run_chunk(
        sharding.shard(chunk_configs, run.mesh), shared, val, xs, np.int32(run.epochs),
        program=program, sizes=chunk.sizes, mesh=run.mesh, block=run.block,
    )  # fmt: skip
    return sharding.gather(result)


def _hyper(configs, idx, spec, swept_model, model, dtype) -> Hyper:
    """The chunk's traced hyperparameters: the model's swept ones per layer, and every
    hyperparameter the optimizer is built with (or, injected, set in its state)."""
    names = (
        list(spec.defaults)
        if spec.factory is not None
        else [k for k in spec.defaults if k in configs[idx[0]]]
    )
    model_values = [_model_values(configs[i], swept_model, model) for i in idx]
    return Hyper(
        {k: np.stack([v[k] for v in model_values]).astype(dtype) for k in swept_model},
        {k: np.asarray([configs[i][k] for i in idx], checks.default_float()) for k in names},
    )


def _prepare(step, X, y, model, n_outputs, validation):
    """The training (and validation) data in the step's kernel layout."""
    y = model.head.targets(y, X.shape[0], n_outputs, X.dtype, "data y")
    precision = runs.default_precision(None, model, y)
    return runs.prepare(step, jnp.asarray(X), y, precision, validation, n_outputs)
