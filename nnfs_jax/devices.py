"""Where computations run: one CPU device per core, and several processes joined for a sweep.

JAX makes one CPU device unless told otherwise, so a sweep (which lays its configurations over
the devices) uses one core. `use_cpu_cores()` asks for one device per core; it must run before
JAX's first computation (JAX fixes its devices then). `join(...)` connects this process to the
others of a multi-process run (`jax.distributed`, CPU collectives through gloo).
"""

from __future__ import annotations

import os
import warnings

import jax

from nnfs_jax import checks

_warned = False  # the hint was given, or devices were chosen (use_cpu_cores): no hint


def cpu_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def use_cpu_cores(count: int | None = None) -> int:
    """Make JAX's CPU backend one device per core (`count` devices; default every core this
    process may use). Call it before any JAX computation, e.g. right after `import nnfs_jax`;
    afterwards JAX has fixed its devices and this raises. Returns the device count asked for.
    Devices chosen here, even one, are never hinted at by `warn_if_one_cpu_device`."""
    global _warned
    count = cpu_cores() if count is None else checks.positive_int(count, "count")
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError as err:  # the backend already started
        raise checks.InputError(
            "use_cpu_cores: JAX has already started its devices; call it before any JAX "
            "computation (right after importing nnfs_jax)"
        ) from err
    _warned = True
    return count


def warn_if_one_cpu_device(engine: str = "sweep") -> None:
    """Once per process: warn when `engine` runs on a single CPU device while this process may
    use several cores (`use_cpu_cores` would give it one device per core), unless the devices
    were chosen with `use_cpu_cores`."""
    global _warned
    if _warned or jax.default_backend() != "cpu" or jax.device_count() > 1:
        return
    cores = cpu_cores()
    if cores > 1:
        _warned = True
        warnings.warn(
            f"{engine}: running on one CPU device while {cores} cores are free; call "
            "nnfs_jax.use_cpu_cores() before any JAX computation to use them all "
            "(nnfs-jax sweep does)",
            RuntimeWarning,
            stacklevel=3,
        )


def join(coordinator: str, num_processes: int, process_id: int, *, heartbeat: int = 10) -> None:
    """Join a run of `num_processes` processes through the coordinator at `coordinator`
    ("host:port", served by process 0), this one being `process_id`: CPU collectives through
    gloo, and a peer that stops answering for `heartbeat` seconds stops the others."""
    num_processes = checks.positive_int(num_processes, "num_processes")
    process_id = checks.non_negative_int(process_id, "process_id")
    if process_id >= num_processes:
        raise checks.InputError(
            f"process_id: expected 0 .. {num_processes - 1} for {num_processes} processes, "
            f"got {process_id}"
        )
    if not isinstance(coordinator, str) or coordinator.rpartition(":")[2].isdigit() is False:
        raise checks.InputError(f"coordinator: expected 'host:port', got {coordinator!r}")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        heartbeat_timeout_seconds=heartbeat,
        initialization_timeout=60,
    )
