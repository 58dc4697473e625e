"""What a sweep returns: every configuration's outcome, its table and files, and its replay.

`SweepResult.replay(i)` trains configuration i alone with `train` (full batch) or `fit`
(mini-batches) from `arguments(i)`: the same numbers the sweep computed for it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from nnfs_jax import checks, files, optim
from nnfs_jax.fitting import fit
from nnfs_jax.layers import Params, init_params
from nnfs_jax.logs import FitHistory, History
from nnfs_jax.model import HYPERPARAMETERS, Model, make_model
from nnfs_jax.sweeping.grammar import OptimizerSpec, seed_keys
from nnfs_jax.training import train


class SweepProgress(NamedTuple):
    """What a `progress` callback receives after each chunk of configurations."""

    chunk: int  # chunks done so far (1-based)
    chunks: int
    configs_done: int
    configs: int


@dataclass
class SweepResult:
    """Every configuration's outcome, in the sweep's order (`configs[i]` is configuration i).

    final_loss, final_accuracy: (configs,). Full batch: measured after the last update (as
    `train` would log epoch `epochs`); mini-batches: the last epoch's, as `fit` reports it.
    final_validation_loss, final_validation_accuracy: on `validation_data` (NaN without).
    diverged_at: (configs,) int, the first epoch whose loss was NaN, inf or above
    `diverge_above` times the first epoch's (`epochs` if only the final loss was), or -1.
    history: what `train` (a `History`) or `fit` (a `FitHistory`) would have returned for each
    configuration, every field (configs, logs) but `epoch` (logs,). params: the final parameters.
    """

    configs: list[dict[str, Any]]
    final_loss: np.ndarray
    final_accuracy: np.ndarray
    diverged_at: np.ndarray
    history: History | FitHistory
    params: list[Params]
    optimizer: str
    epochs: int
    log_every: int
    data: Any = field(repr=False)
    model: Model | None = None
    activation: Any = "relu"
    engine: str = "train"
    batch_size: int | None = None
    validation_data: Any = field(default=None, repr=False)
    final_validation_loss: np.ndarray | None = None
    final_validation_accuracy: np.ndarray | None = None
    grad: str = "manual"
    shuffle: bool = True
    spec: OptimizerSpec | None = field(default=None, repr=False)
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
        """One row per configuration, sorted by final loss: rank, index, its configuration,
        `final_loss`, `accuracy`, with validation data `validation_loss` and
        `validation_accuracy`, and `diverged_at` (None when it did not diverge)."""
        rows = []
        for rank, i in enumerate(self.order()):
            config = {k: _cell(k, v) for k, v in self.configs[i].items()}
            row = {"rank": rank, "index": int(i), **config}
            row["final_loss"] = float(self.final_loss[i])
            row["accuracy"] = float(self.final_accuracy[i])
            if self.validation_data is not None:
                row["validation_loss"] = float(self.final_validation_loss[i])
                row["validation_accuracy"] = float(self.final_validation_accuracy[i])
            row["diverged_at"] = int(self.diverged_at[i]) if self.diverged[i] else None
            rows.append(row)
        return rows

    def to_csv(self, path: str | Path) -> Path:
        """The table as CSV (header row first), written atomically. Returns the path."""
        rows = self.table()
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return files.write_text(Path(path), text.getvalue())

    def to_jsonl(self, path: str | Path) -> Path:
        """The table as JSON lines (one object per configuration), written atomically; strict
        JSON (a NaN loss is `null`)."""
        text = "".join(files.strict_json(row) + "\n" for row in self.table())
        return files.write_text(Path(path), text)

    def swept_axes(self) -> list[str]:
        """The axes (configuration keys other than `seed`) that take more than one value."""
        keys = [k for k in self.configs[0] if k != "seed"]
        return [k for k in keys if len({repr(c[k]) for c in self.configs}) > 1]

    def grid(
        self, x_axis: str, y_axis: str, metric: str = "final_loss"
    ) -> tuple[list, list, np.ndarray, np.ndarray, np.ndarray]:
        """`metric` ("final_loss", "final_accuracy", or with validation data
        "final_validation_loss" / "final_validation_accuracy") over two axes, the other axes and
        the seeds pooled: (x values, y values, mean (ny, nx), standard deviation (ny, nx),
        diverged count (ny, nx)). Diverged configurations are left out of mean and spread
        (NaN where a cell has nothing else). An axis may be "seed"."""
        metrics = (
            "final_loss",
            "final_accuracy",
            "final_validation_loss",
            "final_validation_accuracy",
        )
        if metric not in metrics or getattr(self, metric) is None:
            raise checks.InputError(
                f"metric: expected one of {metrics} (with data for it), got {metric!r}"
            )
        for name in (x_axis, y_axis):
            if name not in self.configs[0]:
                raise checks.InputError(
                    f"axis: unknown axis {name!r}; expected one of {list(self.configs[0])}"
                )
        xs = sorted({c[x_axis] for c in self.configs}, key=_sort_key)
        ys = sorted({c[y_axis] for c in self.configs}, key=_sort_key)
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

    def history_of(self, i: int) -> History | FitHistory:
        """Configuration i's history, as `train` or `fit` returns it (its `diverged_at` the
        sweep's, with the sweep's `diverge_above`)."""
        h = self.history
        columns = {
            name: column if name in ("epoch", "step") and np.ndim(column) == 1 else column[i]
            for name, column in zip(h._fields, h, strict=True)
            if name != "diverged_at"
        }
        return type(h)(**columns, diverged_at=int(self.diverged_at[i]))

    def arguments(self, i: int) -> dict[str, Any]:
        """The keyword arguments that train configuration i alone: `train(**arguments(i))`
        (full batch) or `fit(**arguments(i))` (with a batch size)."""
        config = self.configs[i]
        init_key, data_key, train_key = seed_keys(config["seed"])
        X, y = self.data(data_key) if callable(self.data) else self.data
        depth = 1 if self.model is None else self.model.n_layers - 1
        hidden = config.get("hidden", (64,) * depth)
        n_out = np.shape(self.params[i][-1]["weights"])[-1]
        sizes = (np.shape(X)[1], *hidden, n_out)
        params = init_params(init_key, sizes, config["scale"], dtype=np.asarray(X).dtype)
        model = self.model_of(i)
        kwargs = {
            "params": params,
            "X": X,
            "y": y,
            "optimizer": self.optimizer_of(i),
            "epochs": self.epochs,
            "model": model,
            "grad": self.grad,
            "validation_data": self.validation_data,
        }
        if self.engine == "train":
            kwargs.update(log_every=self.log_every, key=train_key if model.has_dropout else None)
        else:
            batch_size = config.get("batch_size", self.batch_size)
            kwargs.update(batch_size=batch_size, key=train_key, shuffle=self.shuffle)
        return kwargs

    def replay(self, i: int):
        """Train configuration i alone: `train(**arguments(i))` (full batch) or
        `fit(**arguments(i))` (mini-batches); returns what that returns."""
        kwargs = self.arguments(i)
        return train(**kwargs) if self.engine == "train" else fit(**kwargs)

    def setup(self, i: int):
        """`(params, X, y, optimizer)` of configuration i, for `train(params, X, y,
        optimizer=optimizer, epochs=result.epochs, log_every=result.log_every)` when the
        sweep's model is the documents' classifier (`arguments(i)` has everything)."""
        kwargs = self.arguments(i)
        return kwargs["params"], kwargs["X"], kwargs["y"], kwargs["optimizer"]

    def model_of(self, i: int) -> Model:
        """The sweep's model with configuration i's model hyperparameters (without a model,
        the documents' classifier as deep as its `hidden` widths)."""
        config = self.configs[i]
        model = self.model
        if model is None:
            model = make_model(len(config.get("hidden", (64,))) + 1, activation=self.activation)
        values = {k: v for k, v in config.items() if k in HYPERPARAMETERS}
        return model.replace(**values) if values else model

    def optimizer_of(self, i: int):
        """Configuration i's optimizer, built with its hyperparameters."""
        spec, config = self.spec, self.configs[i]
        values = {k: config[k] for k in spec.defaults}
        if spec.factory is not None:
            return spec.factory(**values)
        return optim.with_hyperparams(spec.given, values) if values else spec.given


def _cell(name: str, value: Any) -> Any:
    if name == "hidden":
        return "-".join(map(str, value))
    if isinstance(value, tuple):
        return "/".join(f"{v:g}" for v in value)
    return value


def _sort_key(value: Any):
    return (1, value) if isinstance(value, tuple) else (0, (value,) if value is not None else ())


def gather_params(params: Any, count: int) -> list[Params]:
    """A chunk's parameters (leaves (configs, ...)) as one NumPy pytree per configuration."""
    return [jax.tree.map(lambda a, j=j: np.asarray(a[j]), params) for j in range(count)]
