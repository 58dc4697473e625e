"""A sweep's finished chunks on disk, so that a sweep that dies can go on where it stopped.

`sweep(..., checkpoint_dir=DIR)` keeps in DIR a `manifest.json` naming the sweep (a fingerprint
of everything its numbers depend on: the configurations, epochs, model, optimizer, data, ...)
and one `chunk-NNNNN.npz` per finished chunk (its configurations' indices and results), each
written atomically. Run the same call again and the chunks found are loaded instead of trained;
a folder holding another sweep is refused, never mixed in.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from nnfs_jax import checks, files

FORMAT = "nnfs_jax.sweep-checkpoint/1"


def fingerprint(**parts: Any) -> str:
    """A SHA-256 of `parts`: JSON-able values, and arrays (hashed by dtype, shape and bytes)."""
    digest = hashlib.sha256(FORMAT.encode())
    for name in sorted(parts):
        digest.update(name.encode())
        _feed(digest, parts[name])
    return digest.hexdigest()


def _feed(digest, value: Any) -> None:
    if isinstance(value, np.ndarray) or (
        hasattr(value, "__array__") and not isinstance(value, str)
    ):
        array = np.ascontiguousarray(np.asarray(value))
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"{{{len(value)}".encode())
        for key in sorted(value, key=str):
            digest.update(str(key).encode())
            _feed(digest, value[key])
    else:
        digest.update(files.strict_json(value, default=repr).encode())


class Store:
    """The chunks of one sweep in a folder (see the module docstring)."""

    def __init__(self, folder: str | Path, sweep_fingerprint: str, write: bool = True):
        """Open `folder` for the sweep named by `sweep_fingerprint`: made if missing; an error
        if it holds another sweep. write: False for processes other than the first of a
        multi-process run (one writer)."""
        self.folder, self.write = Path(folder), write
        manifest = self.folder / "manifest.json"
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text())["fingerprint"]
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise checks.InputError(
                    f"checkpoint_dir: {manifest} is not a sweep checkpoint manifest ({err})"
                ) from err
            if found != sweep_fingerprint:
                raise checks.InputError(
                    f"checkpoint_dir: {self.folder} holds the checkpoints of another sweep "
                    "(other configurations, data or settings); use another folder, or delete "
                    "this one to start afresh"
                )
        elif write:
            if self.folder.exists() and not self.folder.is_dir():
                raise checks.InputError(f"checkpoint_dir: {self.folder} is not a folder")
            text = files.strict_json({"format": FORMAT, "fingerprint": sweep_fingerprint})
            files.write_text(manifest, text + "\n")

    def path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:05d}.npz"

    def load(self, index: int, members: list[int]) -> tuple | None:
        """Chunk `index`'s results if it finished for exactly these configurations, else None:
        (params as a list of {"weights", "biases"} with a leading configuration axis, rows,
        diverged_at, finals)."""
        path = self.path(index)
        if not path.exists():
            return None
        with np.load(path) as saved:
            if saved["members"].tolist() != list(members):
                return None
            layers = int(saved["layers"])
            params = [
                {"weights": saved[f"weights{i}"], "biases": saved[f"biases{i}"]}
                for i in range(layers)
            ]
            rows = tuple(saved[f"row{j}"] for j in range(int(saved["n_rows"])))
            finals = tuple(saved[f"final{j}"] for j in range(4))
            return params, rows, saved["diverged"], finals

    def save(self, index: int, members: list[int], result: tuple) -> None:
        """Chunk `index`'s results (as `load` returns them), atomically."""
        if not self.write:
            return
        params, rows, diverged, finals = result
        arrays = {"members": np.asarray(members), "layers": np.asarray(len(params))}
        for i, layer in enumerate(params):
            arrays[f"weights{i}"], arrays[f"biases{i}"] = layer["weights"], layer["biases"]
        arrays["n_rows"] = np.asarray(len(rows))
        arrays.update({f"row{j}": np.asarray(r) for j, r in enumerate(rows)})
        arrays.update({f"final{j}": np.asarray(f) for j, f in enumerate(finals)})
        arrays["diverged"] = np.asarray(diverged)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        files.atomic_write(self.path(index), lambda f: f.write(buffer.getvalue()))
