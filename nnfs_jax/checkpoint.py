"""Checkpoints: parameters, optimizer state, step and run configuration in one `.npz` file.

    save_checkpoint("run/ckpt.npz", params=params, opt_state=opt_state, step=step, config=cfg)
    header = read_checkpoint_header("run/ckpt.npz")         # config first, to build the model
    ckpt = load_checkpoint("run/ckpt.npz", like={"params": ..., "opt_state": ...})

An ordinary `.npz` (`np.load` reads it): one array per pytree leaf, named by its tree path
(`"params[0]['weights']"`), plus `"__header__"`, strict JSON as uint8: format, version, step,
config, each array's shape and dtype (and a typed key's implementation), the tree structures.
Loading takes a template (`like`, real arrays or `jax.eval_shape` structs) for the structure;
leaves are matched by tree path and checked for shape and dtype, so a checkpoint of another
network or optimizer names the leaf that differs. Dtypes and typed PRNG keys are kept exactly.
Writes are atomic (`files.atomic_write`); unreadable files raise `CheckpointError`.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnfs_jax import checks, files

FORMAT_NAME = "nnfs_jax.checkpoint"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
PARTS = ("params", "opt_state")  # the saved trees, in file order; also the key prefixes
_MAX_LINES = 20  # mismatch lines shown in one error before "... and N more"
_WIDE = ("float64", "int64", "uint64", "complex128")  # dtypes JAX has only with x64 enabled


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, or does not fit the model it is loaded into."""


class Checkpoint(NamedTuple):
    """What `load_checkpoint` returns: everything a training loop needs to continue.

    `step` is the number of updates already applied (a plain int); the optimizer's own
    counters (e.g. adam's `count`) are inside `opt_state`.
    """

    params: Any
    opt_state: Any
    step: int
    config: dict


# --- saving -----------------------------------------------------------------------------------


def save_checkpoint(
    path: str | os.PathLike,
    *,
    params: Any,
    opt_state: Any = None,
    step: int = 0,
    config: Mapping[str, Any] | None = None,
) -> Path:
    """Write params, optimizer state, step and config to `path`, atomically.

    path: the file to write, exactly as given (no ".npz" is appended, unlike `np.savez`); its
        directory must exist. An existing checkpoint there is replaced only once the new one
        is complete on disk. Permissions are those of a new file (0666 less the umask).
    params, opt_state: pytrees of arrays (`opt_state` may be None, e.g. for plain SGD).
    step: the number of updates applied so far, a non-negative integer.
    config: a JSON-serialisable dict describing the run; it comes back as `json.loads` gives
        it (tuples become lists). None is stored as {}.
    Returns the path written, as a `pathlib.Path`.
    """
    target = Path(os.fspath(path))
    step = _check_step(step)
    config_json = _check_config(config)
    arrays, entries, treedefs = {}, [], {}
    for part, tree in zip(PARTS, (params, opt_state), strict=True):
        flat, treedefs[part] = jax.tree_util.tree_flatten_with_path(tree)
        for key_path, leaf in flat:
            key = part + jax.tree_util.keystr(key_path)
            if key in arrays:
                raise checks.InputError(f"{part}: two leaves have the same tree path {key!r}")
            arrays[key], entries_item = _to_storable(key, leaf)
            entries.append(entries_item)
    if not any(key.startswith("params") for key in arrays):
        raise checks.InputError("params: expected a pytree with at least one array, got none")

    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "step": step,
        "config": json.loads(config_json),
        "arrays": entries,
        "treedef": {part: str(treedef) for part, treedef in treedefs.items()},
    }
    header_bytes = json.dumps(header, allow_nan=False).encode("utf-8")
    members = {HEADER_KEY: np.frombuffer(header_bytes, dtype=np.uint8), **arrays}
    files.atomic_write(target, lambda f: _write_npz(f, members))
    return target


def _check_step(step: Any) -> int:
    # Accept a Python int, a NumPy integer or a 0-d integer JAX array (a loop may keep its step
    # on device), but not bools or floats: a step of 2.5 is a bug upstream.
    arr = np.asarray(step) if not isinstance(step, bool) else None
    if arr is None or arr.ndim != 0 or not np.issubdtype(arr.dtype, np.integer):
        raise checks.InputTypeError(f"step: expected a non-negative integer, got {step!r}")
    if int(arr) < 0:
        raise checks.InputError(f"step: expected a non-negative integer, got {int(arr)}")
    return int(arr)


def _check_config(config: Mapping[str, Any] | None) -> str:
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise checks.InputTypeError(
            f"config: expected a dict (or None), got {type(config).__name__}"
        )
    try:  # strict JSON: NaN and infinities are stored as null
        return files.strict_json(dict(config))
    except (TypeError, ValueError) as err:
        raise checks.InputTypeError(f"config: must be JSON-serialisable: {err}") from err


def _to_storable(key: str, leaf: Any) -> tuple[np.ndarray, dict]:
    """The NumPy array stored for `leaf`, and its header entry (the leaf's own shape/dtype)."""
    if not checks.is_concrete(leaf):
        raise checks.InputTypeError(
            f"{key}: is a tracer; call save_checkpoint outside jit/grad/vmap, on concrete arrays"
        )
    if _is_prng_key(leaf):
        # A typed key's dtype is not a NumPy dtype: store its raw uint32 words instead.
        entry = {"key": key, "shape": list(leaf.shape), "dtype": str(leaf.dtype)}
        entry["key_impl"] = str(jax.random.key_impl(leaf))
        return np.asarray(jax.random.key_data(leaf)), entry
    arr = np.asarray(leaf)
    entry = {"key": key, "shape": list(arr.shape), "dtype": arr.dtype.name}
    if arr.dtype.kind == "V":
        # ml_dtypes (bfloat16, float8_*, int4) would be saved as opaque void; store the bits
        # as unsigned integers of the same width and view them back on load.
        return arr.view(f"u{arr.dtype.itemsize}"), entry
    if arr.dtype.kind not in "biufc":
        raise checks.InputTypeError(
            f"{key}: cannot store a leaf of type {type(leaf).__name__} (dtype {arr.dtype}); "
            "expected numeric arrays, scalars or PRNG keys"
        )
    return arr, entry


def _is_prng_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _write_npz(f, members: dict[str, np.ndarray]) -> None:
    """What `np.savez` writes (uncompressed, zip64), but to an open file and without pickles."""
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in members.items():
            _write_member(zf, name, array)


def _write_member(zf: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    # A fixed timestamp and mode (np.savez stamps the current time): the same state always
    # gives the same bytes, so checkpoints can be compared or deduplicated by hash.
    info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    with zf.open(info, mode="w", force_zip64=True) as member:
        np.lib.format.write_array(member, array, allow_pickle=False)


# --- loading ----------------------------------------------------------------------------------


def read_checkpoint_header(path: str | os.PathLike) -> dict:
    """The checked header of the checkpoint at `path`, without reading its arrays.

    Use it to rebuild the model from `header["config"]` before `load_checkpoint`. Keys: format,
    version, step, config, arrays (key, shape, dtype per leaf), treedef (one string per tree).
    """
    path = Path(os.fspath(path))
    with _open_zip(path) as zf:
        header, _ = _read_header(path, zf)
    return header


def load_checkpoint(path: str | os.PathLike, *, like: Mapping[str, Any]) -> Checkpoint:
    """Read the checkpoint at `path` into the structure of the template `like`.

    like: `{"params": ..., "opt_state": ...}` built the way the run builds them, e.g.
        `params = init_params(key, sizes)` and `optimizer.init(params)`; "opt_state" may be
        left out (or None) when none was saved. Only the template's structure, shapes and
        dtypes are used, never its values.
    Returns `Checkpoint(params, opt_state, step, config)` with every leaf from the file.
    Raises FileNotFoundError if there is no file, CheckpointError (a ValueError) if the file is
    not a readable checkpoint of this format version or does not fit the template.
    """
    path = Path(os.fspath(path))
    templates = _check_like(like)
    expected, keys, treedefs = {}, {}, {}
    for part in PARTS:
        flat, treedefs[part] = jax.tree_util.tree_flatten_with_path(templates[part])
        keys[part] = [part + jax.tree_util.keystr(key_path) for key_path, _ in flat]
        expected.update(zip(keys[part], (leaf for _, leaf in flat), strict=True))

    with _open_zip(path) as zf:
        header, entries = _read_header(path, zf)
        _check_fits(path, header, entries, expected, treedefs)
        restored = {key: _read_leaf(path, zf, entries[key], leaf) for key, leaf in expected.items()}

    params, opt_state = (
        jax.tree_util.tree_unflatten(treedefs[part], [restored[k] for k in keys[part]])
        for part in PARTS
    )
    return Checkpoint(params, opt_state, header["step"], header["config"])


def _check_like(like: Any) -> dict[str, Any]:
    if not isinstance(like, Mapping) or "params" not in like:
        raise checks.InputTypeError(
            "like: expected a dict {'params': ..., 'opt_state': ...} built the way the run "
            f"builds them (opt_state optional), got {type(like).__name__}"
        )
    unknown = sorted(set(like) - set(PARTS))
    if unknown:
        raise checks.InputTypeError(
            f"like: unexpected keys {unknown}; expected 'params' and 'opt_state'"
        )
    return {part: like.get(part) for part in PARTS}


class _ZipReader:
    """`zipfile.ZipFile` on a path, with every failure to parse it reported as a CheckpointError."""

    def __init__(self, path: Path):
        self.path = path
        self.file = open(path, "rb")  # closed in __exit__ (or below, if not a zip)
        try:
            self.zf = zipfile.ZipFile(self.file)
        except Exception as err:
            self.file.close()
            raise CheckpointError(
                f"{path}: not a readable checkpoint (truncated, corrupt or not an .npz file): {err}"
            ) from err

    def __enter__(self) -> _ZipReader:
        return self

    def __exit__(self, *exc) -> None:
        self.zf.close()
        self.file.close()

    def names(self) -> list[str]:
        return self.zf.namelist()

    def read(self, key: str) -> np.ndarray:
        # Any exception from zipfile or np.lib.format here means the bytes are bad (a wrong CRC,
        # a mangled local header, an npy header that does not parse, a short member).
        try:
            with self.zf.open(key + ".npy") as member:
                array = np.lib.format.read_array(member, allow_pickle=False)
                # Reading to the end makes zipfile check the member's CRC-32.
                if member.read():
                    raise ValueError("trailing bytes after the array")
        except Exception as err:
            raise CheckpointError(f"{self.path}: corrupt checkpoint: entry {key!r}: {err}") from err
        return array


def _open_zip(path: Path) -> _ZipReader:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a checkpoint file (a directory or a special file)")
    try:
        return _ZipReader(path)
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read: {err.strerror or err}") from err


def _read_header(path: Path, zf: _ZipReader) -> tuple[dict, dict[str, dict]]:
    """The header, checked for format, version and well-formedness; and its entries by key."""
    names = zf.names()
    if HEADER_KEY + ".npy" not in names:
        raise CheckpointError(
            f"{path}: not an nnfs_jax checkpoint: it has no {HEADER_KEY!r} entry "
            "(a plain .npz file, or one truncated by something other than save_checkpoint)"
        )
    raw = zf.read(HEADER_KEY)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"expected UTF-8 bytes (uint8, 1-D), got {raw.dtype} {raw.shape}")
        header = json.loads(raw.tobytes().decode("utf-8"))
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CheckpointError(f"{path}: corrupt checkpoint: the header is not JSON: {err}") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        found = header.get("format") if isinstance(header, dict) else header
        raise CheckpointError(
            f"{path}: not an nnfs_jax checkpoint: header format is {found!r}, "
            f"expected {FORMAT_NAME!r}"
        )
    version = header.get("version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise CheckpointError(
            f"{path}: written by format version {version!r}; this nnfs_jax reads version "
            f"{FORMAT_VERSION}" + (" (a newer nnfs_jax wrote it)" if newer else "")
        )
    entries = _check_header_fields(path, header)
    stored = {name[: -len(".npy")] for name in names if name.endswith(".npy")} - {HEADER_KEY}
    if stored != set(entries) or len(names) != len(entries) + 1:
        listed_only = sorted(set(entries) - stored)
        unlisted = sorted(set(names) - {k + ".npy" for k in entries} - {HEADER_KEY + ".npy"})
        raise CheckpointError(
            f"{path}: corrupt checkpoint: the header and the stored arrays disagree "
            f"(listed but missing: {listed_only}; stored but not listed: {unlisted})"
        )
    return header, entries


def _check_header_fields(path: Path, header: dict) -> dict[str, dict]:
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: corrupt checkpoint: header {what}")

    step = header.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise bad(f"step is {step!r}, expected a non-negative integer")
    if not isinstance(header.get("config"), dict):
        raise bad(f"config is {header.get('config')!r}, expected a dict")
    if not isinstance(header.get("treedef"), dict):
        raise bad(f"treedef is {header.get('treedef')!r}, expected a dict")
    if not isinstance(header.get("arrays"), list):
        raise bad(f"arrays is {header.get('arrays')!r}, expected a list")
    entries = {}
    for entry in header["arrays"]:
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("key"), str)
            and entry["key"].startswith(PARTS)
            and isinstance(entry.get("dtype"), str)
            and isinstance(entry.get("shape"), list)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in entry["shape"])
            and entry["key"] not in entries
        )
        if not ok:
            raise bad(f"arrays has a malformed or repeated entry {entry!r}")
        entries[entry["key"]] = entry
    return entries


def _check_fits(
    path: Path, header: dict, entries: dict[str, dict], expected: dict[str, Any], treedefs: dict
) -> None:
    """Raise one CheckpointError listing every leaf where the file and the template differ."""
    problems, wide = [], False
    for key, leaf in expected.items():
        if key not in entries:
            problems.append(f"{key}: in the model but not in the checkpoint")
            continue
        shape, dtype = _leaf_shape_dtype(leaf)
        saved_shape, saved_dtype = tuple(entries[key]["shape"]), entries[key]["dtype"]
        if saved_shape != shape:
            problems.append(f"{key}: checkpoint has {saved_shape}, model expects {shape}")
        if saved_dtype != dtype:
            problems.append(f"{key}: checkpoint has {saved_dtype}, model expects {dtype}")
            wide = wide or saved_dtype in _WIDE
    extra = [key for key in entries if key not in expected]
    problems += [f"{key}: in the checkpoint but not in the model" for key in extra]
    if not problems:
        return

    shown = problems[:_MAX_LINES]
    if len(problems) > _MAX_LINES:
        shown.append(f"... and {len(problems) - _MAX_LINES} more")
    lines = [f"{path}: checkpoint does not fit the model template (like):"]
    lines += [f"  {line}" for line in shown]
    if extra or any("not in the checkpoint" in p for p in problems):
        # The tree strings show which optimizer / network each side was built for.
        for part in PARTS:
            lines.append(f"  checkpoint {part} tree: {header['treedef'].get(part)}")
            lines.append(f"  model {part} tree:      {treedefs[part]}")
    if wide and checks.default_float() != np.float64:
        lines.append(
            "  (64-bit arrays load only with x64 enabled: `with jax.enable_x64(True):`, and a "
            "template built inside it)"
        )
    raise CheckpointError("\n".join(lines))


def _leaf_shape_dtype(leaf: Any) -> tuple[tuple[int, ...], str]:
    """The shape and dtype name a template leaf asks for (as `_to_storable` would record them)."""
    if _is_prng_key(leaf):
        return tuple(leaf.shape), str(leaf.dtype)
    if isinstance(leaf, (jax.Array, jax.ShapeDtypeStruct)):
        return tuple(leaf.shape), np.dtype(leaf.dtype).name
    arr = np.asarray(leaf)
    return arr.shape, arr.dtype.name


def _read_leaf(path: Path, zf: _ZipReader, entry: dict, template: Any) -> Any:
    """The stored array for `entry`, turned back into the kind of leaf `template` is."""
    stored = zf.read(entry["key"])
    try:
        if "key_impl" in entry:
            value = jax.random.wrap_key_data(stored, impl=entry["key_impl"])
            dtype = str(value.dtype)
        else:
            want = template.dtype if hasattr(template, "dtype") else np.asarray(template).dtype
            if np.dtype(want).kind == "V":  # stored as unsigned ints of the same width
                stored = stored.view(want)
            value, dtype = stored, stored.dtype.name
    except Exception as err:
        raise CheckpointError(f"{path}: corrupt checkpoint: entry {entry['key']!r}: {err}") from err
    if tuple(value.shape) != tuple(entry["shape"]) or dtype != entry["dtype"]:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: entry {entry['key']!r} holds {dtype} "
            f"{tuple(value.shape)}, its header says {entry['dtype']} {tuple(entry['shape'])}"
        )
    if "key_impl" in entry:
        return value
    if isinstance(template, (jax.Array, jax.ShapeDtypeStruct)):
        array = jnp.asarray(value)
        if array.dtype != value.dtype:  # only a 64-bit struct template with x64 off gets here
            raise CheckpointError(
                f"{path}: {entry['key']}: checkpoint has {dtype}, which JAX would turn into "
                f"{array.dtype}: 64-bit arrays load only with x64 enabled "
                "(`with jax.enable_x64(True):`)"
            )
        return array
    if isinstance(template, np.ndarray):
        return value
    if isinstance(template, np.generic):
        return value[()]
    return type(template)(value.item())  # a Python scalar: bool, int, float or complex
