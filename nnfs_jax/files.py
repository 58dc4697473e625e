"""Writing files so that nothing a user saved is lost or half-written.

`atomic_write(path, write)` writes through a temporary file beside the target (created with mode
0666 less the umask, as any new file), flushes and fsyncs it, renames it over the target with
`os.replace` (atomic on POSIX and Windows) and fsyncs the directory, so a crash at any moment
leaves either the old file or the new one. Through a symbolic link it writes the link's target
and keeps the link. A temporary left by a writer that was killed (its name carries the writer's
process id) is removed by the next write to the same target.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write(
    path: str | os.PathLike, write: Callable[[BinaryIO], None], *, make_parents: bool = False
) -> Path:
    """Call `write(file)` on a temporary file, then put it in place of `path`. Returns `path`.

    make_parents: create missing parent folders (else a missing folder is an error).
    Errors name `path` as given, never the temporary file.
    """
    given = Path(os.fspath(path))
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    directory = target.parent
    if make_parents:
        directory.mkdir(parents=True, exist_ok=True)
    if not directory.is_dir():
        raise FileNotFoundError(f"path: directory {str(given.parent)!r} does not exist")
    if target.is_dir():
        raise IsADirectoryError(f"path: {str(given)!r} is a directory")
    remove_stale_temporaries(target)
    fd, tmp = _create_temporary(target, given)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the rename can make it visible
        os.replace(tmp, target)
    except BaseException:  # KeyboardInterrupt too: never leave a half-written file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    return given


def write_text(path: str | os.PathLike, text: str) -> Path:
    """`text` (UTF-8) into `path` atomically, parent folders created."""
    return atomic_write(path, lambda f: f.write(text.encode()), make_parents=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """`data` into `path` atomically, parent folders created."""
    return atomic_write(path, lambda f: f.write(data), make_parents=True)


def strict_json(value: Any, **options: Any) -> str:
    """`json.dumps` that always writes strict JSON: NaN and infinities become `null` (bare
    `NaN` is not JSON) and NumPy or JAX scalars their Python values. `options` go to
    `json.dumps` (e.g. `default=` for other types; what it returns is made strict too)."""
    default = options.pop("default", None)
    if default is not None:
        options["default"] = lambda item: _jsonable(default(item))
    return json.dumps(_jsonable(value), allow_nan=False, **options)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()  # a NumPy or JAX scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def temporary_names(target: Path) -> list[Path]:
    """The temporaries of `target` that exist now: `.NAME.<pid>.<random>.tmp`."""
    return sorted(target.parent.glob(f".{_escape(target.name)}.*.tmp"))


def remove_stale_temporaries(target: Path) -> None:
    """Remove the temporaries of `target` whose writer process no longer runs."""
    for tmp in temporary_names(target):
        parts = tmp.name[len(target.name) + 2 : -len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or _alive(int(parts[0])):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def _create_temporary(target: Path, given: Path) -> tuple[int, Path]:
    # O_EXCL with mode 0666 lets the umask decide, as for any file the user writes
    # (`tempfile.mkstemp` would make it 0600, and the file would keep that).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as err:
            raise OSError(err.errno, f"path: cannot write {str(given)!r}: {err.strerror}") from None
    raise FileExistsError(f"path: could not create a temporary file beside {str(given)!r}")


def _escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX. Best effort: some platforms (Windows) cannot
    # open a directory, and the file's own data was already fsynced.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
